//! Properties of the analysis over generated plans (`benches/generator.rs`) and over every
//! scenario fixture.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Value, json};

use runguard::rules::Direction;
use runguard::{Options, analyze};

use crate::generated::generator;

/// Each change as (rule, direction, workload): the verdicts, without the wording.
fn verdicts(bytes: &[u8]) -> Vec<(String, Direction, String)> {
    let report = analyze(bytes, &Options::default()).expect("generated plans analyse");
    let mut v: Vec<_> = report
        .findings
        .iter()
        .flat_map(|f| {
            f.workloads
                .iter()
                .map(|w| (f.rule.id.to_owned(), f.direction, w.clone()))
        })
        .collect();
    v.sort();
    v
}

fn json_report(bytes: &[u8]) -> Vec<u8> {
    let report = analyze(
        bytes,
        &Options {
            include_unchanged: true,
        },
    )
    .expect("analyses");
    let mut out = Vec::new();
    runguard::report::json::render(&report, &mut out).expect("render");
    out
}

/// Unrelated resources, in every action, appended to a plan's `resource_changes`.
fn with_unrelated(bytes: &[u8], count: usize, seed: u64) -> Vec<u8> {
    let mut plan: Value = serde_json::from_slice(bytes).expect("generated plans are JSON");
    let changes = plan["resource_changes"]
        .as_array_mut()
        .expect("resource_changes");
    for i in 0..count {
        let name = format!("extra_{seed}_{i}");
        let actions = [["create"], ["update"], ["no-op"], ["delete"]][(seed as usize + i) % 4];
        let values = json!({"name": name, "location": "EU", "labels": {"team": "data"}});
        let (before, after) = match actions[0] {
            "create" => (Value::Null, values.clone()),
            "delete" => (values.clone(), Value::Null),
            _ => (values.clone(), values.clone()),
        };
        changes.push(json!({
            "address": format!("google_storage_bucket.{name}"),
            "mode": "managed", "type": "google_storage_bucket", "name": name,
            "provider_name": "registry.terraform.io/hashicorp/google",
            "change": {"actions": actions, "before": before, "after": after,
                       "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}
        }));
    }
    serde_json::to_vec(&plan).expect("serialise")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Any generated plan analyses without panicking, and twice gives the same bytes.
    #[test]
    fn generated_plans_analyse_deterministically(seed in any::<u64>()) {
        let mut bytes = Vec::new();
        generator::generate(150_000, seed, &mut bytes);
        prop_assert_eq!(json_report(&bytes), json_report(&bytes));
    }

    /// Adding unrelated resources never changes any verdict.
    #[test]
    fn unrelated_resources_never_change_a_verdict(seed in any::<u64>(), extra in 1usize..40) {
        let mut bytes = Vec::new();
        generator::generate(150_000, seed, &mut bytes);
        prop_assert_eq!(verdicts(&bytes), verdicts(&with_unrelated(&bytes, extra, seed)));
    }
}

/// The plan with before and after swapped, when that is a well-defined plan: no unknowns and no
/// data sources (which describe only the after side). `None` otherwise.
fn swapped(plan: &Value) -> Option<Value> {
    let mut plan = plan.clone();
    let has_data = plan["prior_state"]
        .to_string()
        .contains("\"mode\":\"data\"");
    for rc in plan["resource_changes"].as_array_mut()? {
        let is_data = rc["mode"] == "data";
        let change = rc["change"].as_object_mut()?;
        let unknown = change.get("after_unknown").cloned().unwrap_or(Value::Null);
        if unknown.to_string().contains("true") || is_data || has_data {
            return None;
        }
        let actions: Vec<&str> = change["actions"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let swapped_actions = match actions.as_slice() {
            ["create"] => json!(["delete"]),
            ["delete"] => json!(["create"]),
            ["update"] | ["no-op"] | ["delete", "create"] | ["create", "delete"] => {
                change["actions"].clone()
            }
            _ => return None,
        };
        let (before, after) = (change["before"].clone(), change["after"].clone());
        let (bs, as_) = (
            change["before_sensitive"].clone(),
            change["after_sensitive"].clone(),
        );
        change.insert("actions".into(), swapped_actions);
        change.insert("before".into(), after);
        change.insert("after".into(), before);
        change.insert("before_sensitive".into(), as_);
        change.insert("after_sensitive".into(), bs);
        change.insert("after_unknown".into(), json!({}));
    }
    Some(plan)
}

/// Swapping before and after turns every worsened change into an improved one and back, for
/// every scenario where the swap is a plan and no verdict is `unknown` (an unknown has no
/// mirror: `yes` → `unknown` is not an improvement).
#[test]
fn swapping_before_and_after_mirrors_every_change() {
    let mut checked = 0;
    for path in crate::support::scenario_plans() {
        let bytes = std::fs::read(&path).unwrap();
        let Ok(plan) = serde_json::from_slice::<Value>(&bytes) else {
            continue;
        };
        let Some(mirror) = swapped(&plan) else {
            continue;
        };
        let report = analyze(&bytes, &Options::default()).unwrap();
        let any_unknown = report.workloads.iter().any(|w| {
            [&w.before, &w.after]
                .into_iter()
                .flatten()
                .any(|p| p.public == runguard::Verdict::Unknown || p.identity.default.is_none())
        });
        if any_unknown {
            continue;
        }
        let flip = |d: Direction| match d {
            Direction::Worsened => Direction::Improved,
            Direction::Improved => Direction::Worsened,
            Direction::Unchanged => Direction::Unchanged,
        };
        let forward: BTreeSet<_> = verdicts(&bytes)
            .into_iter()
            .map(|(r, d, w)| (r, flip(d), w))
            .collect();
        let backward: BTreeSet<_> = verdicts(&serde_json::to_vec(&mirror).unwrap())
            .into_iter()
            .collect();
        assert_eq!(forward, backward, "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} scenarios could be mirrored");
}
