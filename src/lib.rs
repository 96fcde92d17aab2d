//! runguard: how a Terraform plan changes the security of Cloud Run workloads.
//!
//! The data flows one way, one module per stage:
//!
//! ```text
//! bytes ─▶ plan ─▶ inventory ─▶ graph ─▶ posture ─▶ diff ─▶ report
//! ```
//!
//! - `plan` reads the `terraform show -json` format (nothing Google-specific);
//! - `inventory` types the Google resources of each side, with tri-state values;
//! - `graph` links them per side, by value and through `configuration` references;
//! - `posture` gives each workload's verdict on each side, with evidence;
//! - `diff` runs the [`rules`] over each workload's two sides;
//! - [`report`] renders; it contains no analysis.
//!
//! Only the ends are public: [`analyze`] (or [`analyze_owned`], which frees the bytes once they
//! are read) turns a plan's bytes into a [`Report`], the report model is plain data, [`report`]
//! holds the renderers, [`rules`] the rule registry, and [`config`] the `runguard.toml` accept
//! semantics. The stages in between are internal.

#![warn(missing_docs)]

pub mod config;
pub(crate) mod diff;
pub(crate) mod graph;
pub(crate) mod iam;
mod input;
pub(crate) mod inventory;
mod parallel;
pub(crate) mod plan;
pub(crate) mod posture;
pub mod report;
pub mod rules;
pub(crate) mod tfsource;

/// The bench's plan generator, for unit tests that need a large plan of a given shape.
#[cfg(test)]
#[path = "../benches/generator.rs"]
pub(crate) mod generator;

// The facade: what an embedder reads. The stages above stay inside the crate, so their
// shapes (and petgraph's) are free to change; the report model they produce is public.
pub use diff::{Accepted, Finding, PolicyDiff};
pub use graph::{Principal, Unresolved};
pub use iam::Level;
pub use input::{PlanBytes, map_plan_file, read_plan_file};
pub use inventory::controls::{BinaryAuthorization, VpcEgress};
pub use inventory::{Api, Ingress, Unanalysable, WorkloadKind};
pub use plan::{Action, InputError};
pub use posture::identity::{HeldKey, HeldRole, Impersonator};
pub use posture::invokers::Grant;
pub use posture::invokers::HoldersIter;
pub use posture::{
    Conflict, DomainPath, Holders, IdentityPosture, IngressValue, Invoker, LbPath, PlaintextSecret,
    Posture, Setting, Verdict, WorkloadId,
};
pub use report::{Gate, Report, WorkloadEntry};
pub use rules::{Direction, Rule, Severity, Subject};

use graph::{Context, SideGraph};

/// What the analysis should include.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Also report risky posture that the plan leaves unchanged.
    pub include_unchanged: bool,
}

/// Analyses one plan document (raw bytes, any supported encoding).
pub fn analyze(bytes: &[u8], options: &Options) -> Result<Report, InputError> {
    let (plan, inventory) = read_plan(bytes)?;
    Ok(analyze_read(&plan, &inventory, options, ()))
}

/// Analyses one plan document, as [`analyze`] does, and frees its bytes once they are read
/// (beside the first side's graph): the rest of the analysis works on what was taken from them,
/// a small part of a large plan, so the document's own size is not held while the workloads are
/// assessed. What was taken from a plan of 8 MB or more is freed on a thread of its own once
/// the report is made, so that the caller need not wait for it.
pub fn analyze_owned(bytes: impl Into<PlanBytes>, options: &Options) -> Result<Report, InputError> {
    let bytes = bytes.into();
    let plan_len = bytes.len();
    let read = read_plan(&bytes);
    // A mapped file's bytes are the file's own: one written to while it was parsed is not the
    // plan that was read, whatever the parse made of it.
    if !bytes.unchanged_since_read() {
        return Err(InputError::ChangedWhileRead);
    }
    let (plan, inventory) = read?;
    let report = analyze_read(&plan, &inventory, options, bytes);
    // The caller renders next, on one thread: the plan's model is freed beside it.
    if plan_len >= FREED_BESIDE_FROM {
        parallel::drop_in_background((plan, inventory));
    }
    Ok(report)
}

/// The plan size from which [`analyze_owned`] frees the plan's model on a thread of its own:
/// freeing it took 0.2 ms at 10 MB (starting a thread about 0.1), 4 ms at 100 MB and 25-30 ms
/// at 500 MB, while the report is rendered on one core.
const FREED_BESIDE_FROM: usize = 8 << 20;

/// The plan stage and the inventory it fills.
fn read_plan(bytes: &[u8]) -> Result<(plan::Plan, inventory::Inventory), InputError> {
    let text = plan::sniff::decode(bytes)?;
    let mut inventory = inventory::Inventory::default();
    let plan = plan::parse(&text, &inventory::projection, &mut |change| {
        inventory.add_change(&change)
    })?;
    inventory.finish(&plan);
    Ok((plan, inventory))
}

/// Every stage after the plan's: graphs, postures, the diff and the report. `plan_bytes`, the
/// document the plan was read from (when the caller hands it over), is freed on the graphs'
/// first thread once its graph is built.
fn analyze_read(
    plan: &plan::Plan,
    inventory: &inventory::Inventory,
    options: &Options,
    plan_bytes: impl Send,
) -> Report {
    let ctx = Context {
        configuration: &plan.configuration,
        variables: &plan.variables,
    };
    // The two sides are independent until they are paired: each side's graph, then each side's
    // postures (which read the other side's graph), are built on two threads when the plan is
    // large enough to gain from it.
    let split = inventory
        .before
        .workloads
        .len()
        .max(inventory.after.workloads.len())
        >= parallel::WORKLOADS_WORTH_A_THREAD;
    let (before, after) = parallel::join_if(
        split,
        || {
            let graph = SideGraph::build(&inventory.before, &ctx);
            // Unmapping a plan of 125 MB takes 6 ms. Most plans add more than they remove, so
            // the before side's graph is the smaller one, and its thread has that time to spare
            // while the after side's is built.
            drop(plan_bytes);
            graph
        },
        || SideGraph::build(&inventory.after, &ctx),
    );
    let (before_postures, after_postures) = posture::assess_both(&before, &after, split);
    let pairs = diff::pair(before_postures, after_postures);
    let findings = diff::diff(&pairs, options.include_unchanged);
    let policy_diffs = diff::policy_diffs(&findings, &before, &after);

    let actions: foldhash::HashMap<String, plan::Action> = inventory
        .workload_actions
        .iter()
        .map(|(a, action)| (a.to_string(), *action))
        .collect();
    let workloads = pairs
        .into_iter()
        .map(|p| WorkloadEntry {
            action: actions.get(p.id.address.as_str()).copied(),
            id: p.id,
            before: p.before,
            after: p.after,
        })
        .collect();
    let mut unresolved: Vec<graph::Unresolved> = before
        .unresolved
        .iter()
        .chain(&after.unresolved)
        .cloned()
        .collect();
    unresolved.sort();
    unresolved.dedup();

    let mut notes = plan.notes.clone();
    if inventory
        .after
        .iam
        .iter()
        .chain(&inventory.before.iam)
        .any(|i| {
            matches!(
                i.target,
                inventory::IamTarget::Scope(
                    inventory::Scope::Folder(_) | inventory::Scope::Organization(_)
                )
            )
        })
    {
        notes.push(
            "folder and organization IAM grants are assumed to cover every workload in the plan; \
             the plan does not say which folder or organization holds each project"
                .to_owned(),
        );
    }

    if inventory
        .after
        .iam
        .iter()
        .chain(&inventory.before.iam)
        .any(|i| i.target.is_function_resource())
    {
        notes.push(
            "IAM on a Cloud Functions gen2 function (google_cloudfunctions2_function_iam_*) does \
             not decide who can call it: calls need run.routes.invoke on the function's Cloud Run \
             service (roles/run.invoker through google_cloud_run_v2_service_iam_*), so those \
             grants are not counted as invokers"
                .to_owned(),
        );
    }

    Report {
        format_version: plan.format_version.clone(),
        terraform_version: plan.terraform_version.clone(),
        workloads,
        findings,
        policy_diffs,
        unresolved,
        unanalysable: inventory.unanalysable.clone(),
        notes,
        plan_incomplete: plan.incomplete.clone(),
        acceptance: None,
        module_sources: plan.configuration.module_sources(),
    }
}

/// The plan stage on its own (encoding sniffing, then the one-pass parser with the inventory's
/// projections), for the `parse` fuzz target: the number of sides handed to the sink. Not part
/// of the API; built only with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_parse(bytes: &[u8]) -> Result<usize, InputError> {
    let text = plan::sniff::decode(bytes)?;
    plan::assert_split_agrees(&text, &inventory::projection);
    let mut sides = 0usize;
    let parsed = plan::parse(&text, &inventory::projection, &mut |c| {
        sides += usize::from(c.before_node().is_some()) + usize::from(c.after_node().is_some());
    })?;
    Ok(sides + parsed.unreadable.len())
}
