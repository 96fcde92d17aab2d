//! A rule's findings reused across workloads (`Rule::memo`) are the findings the rule gives on
//! each of them.

use super::{Finding, diff, findings, merge, observe, pair};
use crate::graph::{Context, SideGraph};

#[path = "../../benches/generator.rs"]
mod generator;

/// Each finding, every field the report shows.
fn shown(findings: &[Finding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            format!(
                "{} {:?} {:?} {:?} {:?} {:?} {} {:?} {} {:?}",
                f.rule.id,
                f.severity,
                f.direction,
                f.causes,
                f.subject,
                f.workloads,
                f.message,
                f.evidence,
                f.fingerprint,
                f.accepted
            )
        })
        .collect()
}

/// The findings of the plan `bytes` (with unchanged ones when `all`) as the diff makes them,
/// and as each workload observed alone gives them, where nothing can be reused; and how many
/// workloads share their list of impersonators with another.
fn with_and_without_reuse(bytes: &[u8], all: bool) -> (Vec<String>, Vec<String>, usize) {
    let (plan, inventory) = crate::read_plan(bytes).expect("a plan");
    let ctx = Context {
        configuration: &plan.configuration,
        variables: &plan.variables,
    };
    let before = SideGraph::build(&inventory.before, &ctx);
    let after = SideGraph::build(&inventory.after, &ctx);
    let before_postures = crate::posture::assess(&before, &after);
    let after_postures = crate::posture::assess(&after, &before);
    let mut lists = std::collections::HashMap::new();
    for p in before_postures.values().chain(after_postures.values()) {
        *lists
            .entry(p.identity.impersonators.as_ptr())
            .or_insert(0usize) += 1;
    }
    let sharing = lists.values().filter(|&&n| n > 1).sum();
    let pairs = pair(before_postures, after_postures);
    let alone = findings(merge(pairs.chunks(1).map(|p| observe(p, all))));
    (shown(&diff(&pairs, all)), shown(&alone), sharing)
}

/// The bench's IAM-dense shape, small: a tenth of the runtime accounts hold project-level
/// `roles/editor`, so the other accounts of the project all have the same controllers, and
/// some workloads' accounts are unknown at plan time. Reused or not, the findings are the
/// same, with and without unchanged ones.
#[test]
fn findings_reused_across_workloads_are_each_workloads_own() {
    let mut bytes = Vec::new();
    generator::generate_shape(generator::Shape::IamDense, 3_000_000, 7, &mut bytes);
    for all in [false, true] {
        let (shared, unshared, sharing) = with_and_without_reuse(&bytes, all);
        assert!(sharing > 20, "{sharing} workloads share a list");
        assert!(shared.len() > 10, "{} findings", shared.len());
        assert_eq!(shared, unshared);
    }
}

/// So on every hand-written plan: the scenarios, the adversarial cases and the example.
#[test]
fn findings_reused_on_the_fixtures_are_each_workloads_own() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut plans = vec![root.join("examples/plan.json")];
    for dir in ["testdata/plans", "testdata/adversary"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixtures") {
            let path = entry.expect("an entry").path();
            let name = path.to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.ends_with(".expect.json") {
                plans.push(path);
            }
        }
    }
    plans.sort();
    for path in plans {
        let bytes = std::fs::read(&path).expect("readable");
        if crate::read_plan(&bytes).is_err() {
            continue;
        }
        for all in [false, true] {
            let (shared, unshared, _) = with_and_without_reuse(&bytes, all);
            assert_eq!(shared, unshared, "{}", path.display());
        }
    }
}
