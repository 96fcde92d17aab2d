//! A rule's findings reused across workloads (`Rule::memo`) are the findings the rule gives on
//! each of them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Finding, Pair, diff, merge, observe, pair, settle, sort};
use crate::graph::{Context, SideGraph};
use crate::posture::tests::{change, plan_text, service, unchanged, unknown_after};
use crate::posture::{Posture, WorkloadId};
use crate::rules::{Delta, Memo};

use crate::generator;

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

/// Both sides' postures of the plan `bytes`.
fn postures(bytes: &[u8]) -> [BTreeMap<WorkloadId, Posture>; 2] {
    let (plan, inventory) = crate::read_plan(bytes).expect("a plan");
    let ctx = Context {
        configuration: &plan.configuration,
        variables: &plan.variables,
    };
    let before = SideGraph::build(&inventory.before, &ctx);
    let after = SideGraph::build(&inventory.after, &ctx);
    let (before, after) = crate::posture::assess_both(&before, &after, false);
    [before, after]
}

/// The findings of the plan `bytes` (with unchanged ones when `all`) as the diff makes them,
/// and as running every rule on every workload gives them, where nothing is reused; and how
/// many workloads share their list of impersonators with another.
fn with_and_without_reuse(bytes: &[u8], all: bool) -> (Vec<String>, Vec<String>, usize) {
    let [before_postures, after_postures] = postures(bytes);
    let mut lists = std::collections::HashMap::new();
    for p in before_postures.values().chain(after_postures.values()) {
        *lists
            .entry(p.identity.impersonators.as_ptr())
            .or_insert(0usize) += 1;
    }
    let sharing = lists.values().filter(|&&n| n > 1).sum();
    let pairs = pair(before_postures, after_postures);
    let mut alone = settle(merge(observe(&pairs, all, false).into_entries()));
    sort(&mut alone);
    (shown(&diff(&pairs, all)), shown(&alone), sharing)
}

/// How many workloads of `bytes` give `invoker-added` a key for its shared part, and how many
/// distinct keys they give.
fn invoker_keys(bytes: &[u8]) -> (usize, usize) {
    let [before, after] = postures(bytes);
    let pairs: Vec<Pair> = pair(before, after);
    let Some(Memo::Split { key, .. }) =
        &crate::rules::find("invoker-added").expect("the rule").memo
    else {
        panic!("invoker-added splits its findings");
    };
    let keys: Vec<_> = pairs
        .iter()
        .filter_map(|p| {
            key(&Delta {
                workload: &p.id,
                before: p.before.as_ref(),
                after: p.after.as_ref(),
                include_unchanged: false,
            })
        })
        .collect();
    let distinct: std::collections::HashSet<_> = keys.iter().collect();
    (keys.len(), distinct.len())
}

/// The v2 service `name` in `acme-prod`, as the provider reads it back.
fn named_service(name: &str) -> Value {
    let id = format!("projects/acme-prod/locations/europe-west1/services/{name}");
    service(json!({"name": name, "id": id}))
}

/// A `google_cloud_run_v2_service_iam_member` on the service `name`.
fn on_service(name: &str, role: &str, member: &str) -> Value {
    json!({"name": name, "location": "europe-west1", "project": "acme-prod", "role": role,
           "member": member, "condition": [], "etag": "BwYk3xq1Rk0="})
}

/// A `google_project_iam_member` on `acme-prod`.
fn on_project(role: &str, member: &str) -> Value {
    json!({"project": "acme-prod", "role": role, "member": member, "condition": [],
           "etag": "BwYk3xq1Rk0="})
}

/// `grant` under an IAM condition.
fn conditional(mut grant: Value) -> Value {
    grant["condition"] = json!([{"title": "until 2027", "description": "",
        "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}]);
    grant
}

/// `change` with its after side's member marked sensitive.
fn sensitive_member(mut change: Value) -> Value {
    change["change"]["after_sensitive"] = json!({"member": true});
    change
}

/// Six services of one project, `a` to `f`, unchanged, and `grants`.
fn six_services(grants: Vec<Value>) -> String {
    let mut changes: Vec<Value> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|n| {
            unchanged(
                &format!("google_cloud_run_v2_service.{n}"),
                named_service(n),
            )
        })
        .collect();
    changes.extend(grants);
    plan_text(changes, Vec::new(), json!({}))
}

/// Plans where workloads of one project inherit the same project grants but differ in what
/// they hold themselves: a principal of the project's grants also granted on one workload, on
/// one side or both, with or without a condition; one that can change one workload's IAM; a
/// sensitive member; members unknown at plan time, on the project and on a workload, and a
/// member that reads as the key of one. Reusing the findings about what a workload inherits must give each workload its own.
#[test]
fn inherited_invokers_reused_across_workloads_are_each_workloads_own() {
    let none = Value::Null;
    let svc =
        |name: &str, tag: &str| format!("google_cloud_run_v2_service_iam_member.{name}_{tag}");
    let editor = "roles/editor";
    let invoker = "roles/run.invoker";
    let security = "roles/iam.securityAdmin";
    let (p1, p2, p3) = (
        "user:p1@acme.example",
        "user:p2@acme.example",
        "user:p3@acme.example",
    );
    let plans = [
        // p1 held on `a` throughout, p2 granted on `b` in the plan and its grant on `e`
        // removed, p3's grant on `c` removed; p1 and p2 gain the project's editor role, p3
        // holds it throughout.
        six_services(vec![
            change(
                "google_project_iam_member.p1",
                none.clone(),
                on_project(editor, p1),
            ),
            change(
                "google_project_iam_member.p2",
                none.clone(),
                on_project(editor, p2),
            ),
            unchanged("google_project_iam_member.p3", on_project(editor, p3)),
            unchanged(&svc("a", "p1"), on_service("a", invoker, p1)),
            change(&svc("b", "p2"), none.clone(), on_service("b", invoker, p2)),
            change(&svc("e", "p2"), on_service("e", invoker, p2), none.clone()),
            change(&svc("c", "p3"), on_service("c", invoker, p3), none.clone()),
        ]),
        // p1 gains the project's invoker role; it can change the IAM of `a` throughout, of `b`
        // from now and of `c` no longer (a role without the right to invoke).
        six_services(vec![
            change(
                "google_project_iam_member.p1",
                none.clone(),
                on_project(invoker, p1),
            ),
            unchanged(&svc("a", "p1"), on_service("a", security, p1)),
            change(&svc("b", "p1"), none.clone(), on_service("b", security, p1)),
            change(&svc("c", "p1"), on_service("c", security, p1), none.clone()),
        ]),
        // The project's member is sensitive; `a` grants the same member in the open, `b` as
        // sensitive too.
        six_services(vec![
            sensitive_member(change(
                "google_project_iam_member.p1",
                none.clone(),
                on_project(editor, p1),
            )),
            change(&svc("a", "p1"), none.clone(), on_service("a", invoker, p1)),
            sensitive_member(change(
                &svc("b", "p1"),
                none.clone(),
                on_service("b", invoker, p1),
            )),
        ]),
        // p1 gains the project's invoker role; `a` held it under a condition, `b` without,
        // and both grants go.
        six_services(vec![
            change(
                "google_project_iam_member.p1",
                none.clone(),
                on_project(invoker, p1),
            ),
            change(
                &svc("a", "p1"),
                conditional(on_service("a", invoker, p1)),
                none.clone(),
            ),
            change(&svc("b", "p1"), on_service("b", invoker, p1), none.clone()),
        ]),
        // Members unknown at plan time on the project and on `a`; `b` granted, before the plan,
        // a member that reads as the unknown project grant's key.
        six_services(vec![
            unknown_after(
                change(
                    "google_project_iam_member.x",
                    none.clone(),
                    on_project(invoker, p1),
                ),
                "member",
            ),
            unknown_after(
                change(&svc("a", "x"), none.clone(), on_service("a", invoker, p2)),
                "member",
            ),
            change(
                &svc("b", "x"),
                on_service("b", invoker, "(unknown) google_project_iam_member.x"),
                none.clone(),
            ),
        ]),
    ];
    for plan in &plans {
        let (with_key, distinct) = invoker_keys(plan.as_bytes());
        assert!(
            with_key >= 2 && distinct < with_key,
            "{with_key} keys, {distinct} distinct"
        );
        for all in [false, true] {
            let (shared, unshared, _) = with_and_without_reuse(plan.as_bytes(), all);
            assert!(shared.iter().any(|f| f.starts_with("invoker-added")));
            assert_eq!(shared, unshared, "{plan}");
        }
    }
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
