//! How IAM reaches a Cloud Functions gen2 function: through its Cloud Run service, never
//! through the function's own policy.

use serde_json::{Value, json};

use crate::support::{effective_invokers, render};

fn report(changes: Value, resources: Value) -> Value {
    let plan = json!({"format_version": "1.2", "resource_changes": changes,
        "configuration": {"provider_config": {"google": {"name": "google",
            "expressions": {"project": {"constant_value": "acme-prod"},
                            "region": {"constant_value": "europe-west1"}}}},
            "root_module": {"resources": resources}}});
    let bytes = plan.to_string();
    let r = runguard::analyze(
        bytes.as_bytes(),
        &runguard::Options {
            include_unchanged: true,
        },
    )
    .expect("a plan");
    render(&r, true).0
}

fn function(name: &str) -> Value {
    let f = json!({"name": name, "location": "europe-west1", "project": "acme-prod",
        "service_config": [{"ingress_settings": "ALLOW_ALL",
            "service": format!("projects/acme-prod/locations/europe-west1/services/{name}"),
            "service_account_email": format!("{name}@acme-prod.iam.gserviceaccount.com"),
            "secret_environment_variables": [], "vpc_connector": null}]});
    json!({"address": format!("google_cloudfunctions2_function.{name}"),
        "type": "google_cloudfunctions2_function", "name": name,
        "change": {"actions": ["no-op"], "before": f, "after": f, "after_unknown": {},
                   "before_sensitive": {}, "after_sensitive": {}}})
}

fn iam(rtype: &str, name: &str, after: Value, unknown: Value) -> Value {
    json!({"address": format!("{rtype}.{name}"), "type": rtype, "name": name,
        "change": {"actions": ["create"], "before": null, "after": after,
                   "after_unknown": unknown, "before_sensitive": false,
                   "after_sensitive": {"condition": []}}})
}

fn workload<'r>(r: &'r Value, address: &str) -> &'r Value {
    r["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["address"] == address)
        .unwrap_or_else(|| panic!("no workload {address}: {r}"))
}

/// Cloud Run IAM whose service name is unknown at plan time may mean the function's service:
/// its allUsers counts there, never as certain.
#[test]
fn run_iam_with_an_unknown_name_may_reach_a_function() {
    let r = report(
        json!([
            function("hook"),
            iam(
                "google_cloud_run_v2_service_iam_member",
                "maybe",
                json!({"condition": [], "member": "allUsers", "role": "roles/run.invoker",
                       "location": "europe-west1", "project": "acme-prod"}),
                json!({"name": true, "etag": true, "id": true}),
            )
        ]),
        json!([{"address": "google_cloud_run_v2_service_iam_member.maybe",
            "provider_config_key": "google",
            "expressions": {"name": {"references": ["local.target"]}}}]),
    );
    let w = workload(&r, "google_cloudfunctions2_function.hook");
    assert_eq!(w["kind"], "function");
    assert_eq!(w["after"]["public"], "unknown");
    assert_eq!(w["after"]["invokers"][0]["member"], "allUsers");
    assert_eq!(w["after"]["invokers"][0]["certain"], false);
}

/// The function's own policy and its service's IAM are two policies: a policy on one and a
/// member on the other do not overwrite each other, and no role on the function (not even an
/// unknown one) lets anyone call it.
#[test]
fn the_function_policy_is_neither_an_invoker_source_nor_in_conflict_with_run_iam() {
    let r = report(
        json!([
            function("report"),
            iam(
                "google_cloudfunctions2_function_iam_policy",
                "own",
                json!({"cloud_function": "projects/acme-prod/locations/europe-west1/functions/report",
                       "location": "europe-west1", "project": "acme-prod"}),
                json!({"policy_data": true, "etag": true, "id": true}),
            ),
            iam(
                "google_cloud_run_service_iam_member",
                "caller",
                json!({"condition": [], "member": "group:ops@acme.example",
                       "role": "roles/run.invoker", "service": "report",
                       "location": "europe-west1", "project": "acme-prod"}),
                json!({"etag": true, "id": true}),
            )
        ]),
        json!([]),
    );
    let w = workload(&r, "google_cloudfunctions2_function.report");
    assert_eq!(
        effective_invokers(&r, &w["after"]),
        json!(["group:ops@acme.example"])
    );
    assert_eq!(w["after"]["conflicts"], json!([]));
    assert_eq!(w["after"]["iam_admins"], json!([]));
    let externals: Vec<&Value> = r["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["external"] == true)
        .collect();
    assert!(externals.is_empty(), "{externals:?}");
}

/// IAM on a function the plan does not manage is reported on an external function, by its
/// resource id, with no invokers.
#[test]
fn function_iam_on_an_unmanaged_function_names_an_external_function() {
    let r = report(
        json!([iam(
            "google_cloudfunctions2_function_iam_member",
            "elsewhere",
            json!({"condition": [], "cloud_function": "billing", "member": "allUsers",
                   "role": "roles/cloudfunctions.invoker", "location": "europe-west1",
                   "project": "acme-prod"}),
            json!({"etag": true, "id": true}),
        )]),
        json!([]),
    );
    let w = workload(
        &r,
        "projects/acme-prod/locations/europe-west1/functions/billing",
    );
    assert_eq!(w["kind"], "function");
    assert_eq!(w["external"], true);
    assert_eq!(w["after"]["invokers"], json!([]));
    assert_eq!(w["after"]["public"], "no");
}

/// A function is judged as a service by the rules about who may call it.
#[test]
fn all_authenticated_users_on_a_function_service_is_reported_as_for_a_service() {
    let r = report(
        json!([
            function("hook"),
            iam(
                "google_cloud_run_v2_service_iam_member",
                "anyone",
                json!({"condition": [], "member": "allAuthenticatedUsers",
                       "role": "roles/run.invoker", "name": "hook",
                       "location": "europe-west1", "project": "acme-prod"}),
                json!({"etag": true, "id": true}),
            )
        ]),
        json!([]),
    );
    let rules: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["direction"] == "worsened")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"all-authenticated-invoker"), "{rules:?}");
    assert!(!rules.contains(&"public-job-or-worker-pool"), "{rules:?}");
}
