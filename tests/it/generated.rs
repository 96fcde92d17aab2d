//! Tests over generated plans: the scale benchmark's generator produces plans that parse, are
//! deterministic, and whose Cloud Run findings runguard reproduces exactly.

#[path = "../../benches/generator.rs"]
pub(crate) mod generator;

use std::collections::BTreeSet;

use runguard::rules::Direction;

const MB: usize = 1 << 20;

fn plan(size: usize, seed: u64) -> (Vec<u8>, generator::Expected) {
    let mut out = Vec::new();
    let expected = generator::generate(size, seed, &mut out);
    (out, expected)
}

fn assert_size(bytes: &[u8], target: usize) {
    let (lo, hi) = (target - target / 10, target + target / 10);
    assert!(
        (lo..=hi).contains(&bytes.len()),
        "{} bytes for a target of {target}",
        bytes.len()
    );
}

#[test]
fn generated_plan_findings_match_expected() {
    for seed in [7, 8] {
        let (bytes, expected) = plan(MB, seed);
        assert_size(&bytes, MB);
        assert_findings_match(&bytes, expected, seed);
    }
}

/// Plans of many units, without padding: every unit's shape (IAM style, actions, identity,
/// job) drawn from the seed.
#[test]
fn many_unit_plan_findings_match_expected() {
    for (units, seed) in [(40, 21), (64, 22)] {
        let mut bytes = Vec::new();
        let expected = generator::generate_units(units, seed, &mut bytes);
        assert!(expected.workloads > units, "some units have a job");
        assert_findings_match(&bytes, expected, seed);
    }
}

/// runguard finds exactly the workloads and the public services the generator made.
fn assert_findings_match(bytes: &[u8], expected: generator::Expected, seed: u64) {
    assert!(expected.public_services > 0 && expected.workloads > expected.public_services);
    let report = runguard::analyze(bytes, &runguard::Options::default()).expect("analysable");
    assert!(report.unanalysable.is_empty(), "{:#?}", report.unanalysable);
    // The generator leaves some service accounts unset through `each.value`, which plan
    // JSON does not record: runguard must say the identity is unknown, and nothing else.
    for u in &report.unresolved {
        assert!(
            u.reason
                .starts_with("runtime service account: it comes from `each.value"),
            "{u:?}"
        );
    }
    assert_eq!(report.workloads.len(), expected.workloads, "seed {seed}");
    let public: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "public-invoker" && f.direction == Direction::Worsened)
        .flat_map(|f| f.workloads.iter().map(|w| &**w))
        .collect();
    assert_eq!(
        public.len(),
        expected.public_services,
        "seed {seed}: {public:#?}"
    );
}

#[test]
fn generated_plan_is_deterministic() {
    let (a, ea) = plan(300_000, 11);
    let (b, eb) = plan(300_000, 11);
    let (c, _) = plan(300_000, 12);
    assert_eq!(ea, eb);
    assert!(a == b, "same seed and size must give identical bytes");
    assert!(a != c, "another seed must give other bytes");
    assert_size(&a, 300_000);
}

#[test]
fn generated_plan_is_json() {
    let (bytes, _) = plan(MB, 3);
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("valid JSON");
    for key in [
        "planned_values",
        "resource_changes",
        "prior_state",
        "configuration",
        "variables",
    ] {
        assert!(v.get(key).is_some(), "no {key}");
    }
    assert_eq!(v["format_version"], "1.2");
    // Terraform's invariants: a no-op changes nothing; an unknown attribute is absent from `after`.
    for rc in v["resource_changes"].as_array().expect("resource_changes") {
        let change = &rc["change"];
        if change["actions"] == serde_json::json!(["no-op"]) {
            assert_eq!(change["before"], change["after"], "{}", rc["address"]);
            assert_eq!(change["after_unknown"], serde_json::json!({}));
        }
        for (key, unknown) in change["after_unknown"].as_object().expect("after_unknown") {
            if unknown == true {
                assert!(
                    change["after"].get(key).is_none(),
                    "{} {key}",
                    rc["address"]
                );
            }
        }
    }
}

#[test]
fn iam_dense_plan_gives_one_finding_per_editor_grant_and_rule() {
    let mut bytes = Vec::new();
    let expected = generator::generate_shape(generator::Shape::IamDense, 3 * MB, 5, &mut bytes);
    assert_size(&bytes, 3 * MB);
    assert!(expected.editor_accounts >= 2, "{expected:?}");
    let report = runguard::analyze(&bytes, &runguard::Options::default()).expect("analysable");
    assert!(report.unanalysable.is_empty(), "{:#?}", report.unanalysable);
    assert_eq!(report.workloads.len(), expected.workloads);
    // Each project-level editor grant lets its account invoke and act as (nearly) every
    // workload: one finding per rule, listing them, never one per workload.
    for rule in ["invoker-added", "identity-impersonation"] {
        let by_grant: Vec<&runguard::Finding> = report
            .findings
            .iter()
            .filter(|f| f.rule.id == rule)
            .filter(|f| {
                f.causes
                    .iter()
                    .any(|c| c.ends_with(".google_project_iam_member.editor[0]"))
            })
            .collect();
        assert_eq!(by_grant.len(), expected.editor_accounts, "{rule}");
        for f in by_grant {
            assert_eq!(f.causes.len(), 1, "{rule}: {:?}", f.causes);
            assert!(
                f.workloads.len() > expected.workloads / 2,
                "{rule}: {} reaches {} of {} workloads",
                f.causes[0],
                f.workloads.len(),
                expected.workloads
            );
        }
    }
}

/// A runtime account that the plan cannot name (the generator leaves some unset through
/// `each.value`) may be any account of its project: its identity lists each role those accounts
/// hold once, not each of their grants, so that it does not grow with the number of accounts
/// (200 units give 200 accounts, each with its own log-writer grant).
#[test]
fn an_unknown_runtime_account_lists_each_possible_role_once() {
    let mut bytes = Vec::new();
    generator::generate_units(200, 23, &mut bytes);
    let report = runguard::analyze(&bytes, &runguard::Options::default()).expect("analysable");
    let unknown: Vec<_> = report
        .workloads
        .iter()
        .filter_map(|w| w.after.as_ref())
        .filter(|p| p.identity.service_account.is_none() && !p.identity.implicit)
        .collect();
    assert!(
        !unknown.is_empty(),
        "the generator leaves some accounts unknown"
    );
    for p in unknown {
        let roles = &p.identity.roles;
        let distinct: BTreeSet<_> = roles
            .iter()
            .map(|r| (r.role.as_str(), r.level, r.certain, r.resource.as_ref()))
            .collect();
        assert_eq!(distinct.len(), roles.len(), "{roles:#?}");
        assert!(roles.len() < 20, "{} roles", roles.len());
    }
}
