//! Tests of the graph's shape, which the public API does not show.

use serde_json::Value;

use super::{Context, SideGraph};

/// Reads `plan` (a `terraform show -json` document) and calls `f` with its after side's graph:
/// the graph tests of every linking concern start here.
pub(crate) fn with_after_graph<T>(plan: &Value, f: impl FnOnce(&SideGraph) -> T) -> T {
    let text = plan.to_string();
    let mut inventory = crate::inventory::Inventory::default();
    let parsed = crate::plan::parse(&text, &crate::inventory::projection, &mut |c| {
        inventory.add_change(&c)
    })
    .expect("a plan");
    inventory.finish(&parsed);
    let ctx = Context {
        configuration: &parsed.configuration,
        variables: &parsed.variables,
    };
    f(&SideGraph::build(&inventory.after, &ctx))
}

/// An IAM resource whose target cannot be known links to one candidate set, not to every
/// workload: many such resources on a plan of many services stay linear.
#[test]
fn unknown_targets_link_through_one_candidate_set() {
    const N: usize = 300;
    let mut changes = Vec::new();
    let mut resources = Vec::new();
    for i in 0..N {
        let service = serde_json::json!({"name": format!("svc-{i}"), "location": "europe-west1",
            "project": "acme-prod", "ingress": "INGRESS_TRAFFIC_ALL", "template": []});
        changes.push(
            serde_json::json!({"address": format!("google_cloud_run_v2_service.s{i}"),
            "type": "google_cloud_run_v2_service", "name": format!("s{i}"),
            "change": {"actions": ["no-op"], "before": service, "after": service,
                       "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}}),
        );
        changes.push(
            serde_json::json!({"address": format!("google_cloud_run_v2_service_iam_member.m{i}"),
            "type": "google_cloud_run_v2_service_iam_member", "name": format!("m{i}"),
            "change": {"actions": ["create"], "before": null,
                       "after": {"condition": [], "member": format!("user:u{i}@acme.example"),
                                 "role": "roles/run.invoker", "location": "europe-west1"},
                       "after_unknown": {"name": true, "project": true, "etag": true, "id": true},
                       "before_sensitive": false, "after_sensitive": {"condition": []}}}),
        );
        resources.push(
            serde_json::json!({"address": format!("google_cloud_run_v2_service_iam_member.m{i}"),
            "provider_config_key": "google",
            "expressions": {"name": {"references": ["local.names"]}}}),
        );
    }
    let plan = serde_json::json!({"format_version": "1.2", "resource_changes": changes,
        "configuration": {"provider_config": {"google": {"name": "google",
            "expressions": {"project": {"constant_value": "acme-prod"}}}},
            "root_module": {"resources": resources}}});
    with_after_graph(&plan, |g| {
        assert!(
            g.graph.edge_count() <= 4 * N,
            "{} edges for {N} services and {N} IAM resources",
            g.graph.edge_count()
        );
        // Each service still counts every one of those grants, as uncertain.
        let postures = crate::posture::assess(g, g, Default::default());
        let first = postures.values().next().expect("a workload");
        assert_eq!(first.invokers.len(), N);
        assert!(first.invokers.iter().all(|i| !i.certain()));
    });
}

/// Two services share a name in two regions; IAM whose `location` names one region grants on
/// that one only: the provider addresses the policy by project, location and name.
#[test]
fn an_iam_location_picks_one_of_two_services_with_the_same_name() {
    use crate::posture::Verdict;
    use crate::posture::tests::{after, analyze, change, member, service, unchanged};
    let us = "us-central1";
    let mut grant = member("allUsers", "roles/run.invoker", serde_json::json!([]));
    grant["location"] = us.into();
    let report = analyze(vec![
        unchanged(
            "google_cloud_run_v2_service.api_eu",
            service(serde_json::json!({})),
        ),
        unchanged(
            "google_cloud_run_v2_service.api_us",
            service(serde_json::json!({"location": us,
                "id": format!("projects/acme-prod/locations/{us}/services/api")})),
        ),
        change(
            "google_cloud_run_v2_service_iam_member.public",
            serde_json::Value::Null,
            grant,
        ),
    ]);
    assert_eq!(
        after(&report, "google_cloud_run_v2_service.api_us").public,
        Verdict::Yes
    );
    let eu = after(&report, "google_cloud_run_v2_service.api_eu");
    assert!(eu.invokers.is_empty(), "{:?}", eu.invokers);
    assert_eq!(eu.public, Verdict::No);
    assert!(report.unresolved.is_empty(), "{:?}", report.unresolved);
}

/// IAM on a service of the same name in another region is IAM on a service outside the plan:
/// it never reaches the service the plan manages.
#[test]
fn an_iam_location_that_matches_no_service_is_outside_the_plan() {
    use crate::posture::Verdict;
    use crate::posture::tests::{after, analyze, change, member, service, unchanged};
    let mut grant = member("allUsers", "roles/run.invoker", serde_json::json!([]));
    grant["location"] = "us-central1".into();
    let report = analyze(vec![
        unchanged(
            "google_cloud_run_v2_service.api",
            service(serde_json::json!({})),
        ),
        change(
            "google_cloud_run_v2_service_iam_member.public",
            serde_json::Value::Null,
            grant,
        ),
    ]);
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert!(api.invokers.is_empty(), "{:?}", api.invokers);
    let outside = after(
        &report,
        "projects/acme-prod/locations/us-central1/services/api",
    );
    assert_eq!(outside.public, Verdict::Unknown);
    assert_eq!(outside.anyone_allowed, Verdict::Yes);
}

/// A service created with a name only known at apply, and IAM whose `name` refers to it and
/// whose `location` is its region: the reference and the location together prove the target.
fn iam_by_reference(iam_location: &str) -> crate::report::Report {
    use crate::posture::tests::{analyze_configured, change, member, service, unknown_after};
    use serde_json::{Value, json};
    let mut grant = member("allUsers", "roles/run.invoker", json!([]));
    grant["location"] = iam_location.into();
    analyze_configured(
        vec![
            unknown_after(
                change(
                    "google_cloud_run_v2_service.api",
                    Value::Null,
                    service(json!({})),
                ),
                "name",
            ),
            unknown_after(
                change(
                    "google_cloud_run_v2_service_iam_member.public",
                    Value::Null,
                    grant,
                ),
                "name",
            ),
        ],
        vec![
            json!({"address": "google_cloud_run_v2_service.api", "expressions": {
                "name": {"references": ["random_id.suffix.hex", "random_id.suffix"]},
                "location": {"constant_value": "europe-west1"}}}),
            json!({"address": "google_cloud_run_v2_service_iam_member.public", "expressions": {
                "name": {"references": ["google_cloud_run_v2_service.api.name",
                                        "google_cloud_run_v2_service.api"]},
                "location": {"constant_value": iam_location},
                "role": {"constant_value": "roles/run.invoker"},
                "member": {"constant_value": "allUsers"}}}),
        ],
    )
}

#[test]
fn a_reference_and_a_known_location_prove_the_target() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    let report = iam_by_reference("europe-west1");
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::Yes, "{:?}", report.unresolved);
    assert!(api.invokers.iter().next().expect("an invoker").certain());
}

/// The same reference with IAM in another region: the provider looks for a service of that
/// name in that region, which is not the one in the plan. The grant lands on a service outside
/// the plan, never nowhere.
#[test]
fn a_reference_to_a_service_in_another_region_lands_outside_the_plan() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    let report = iam_by_reference("us-central1");
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert!(api.invokers.is_empty(), "{:?}", api.invokers);
    let outside = report
        .workloads
        .iter()
        .find(|w| w.id.external && w.id.address.contains("/locations/us-central1/"))
        .unwrap_or_else(|| {
            panic!(
                "{:?}",
                report.workloads.iter().map(|w| &w.id).collect::<Vec<_>>()
            )
        });
    assert_ne!(outside.after.as_ref().unwrap().public, Verdict::No);
}

/// A serverless NEG whose service name becomes unknown (here taken from a local, which plan
/// JSON does not record) still sends traffic to a Cloud Run service of its project and region:
/// each such service gets the path as possible, never proven, and never one of another kind.
#[test]
fn a_neg_whose_service_is_unknown_may_front_each_service_of_its_region() {
    use crate::posture::tests::{
        after, analyze_configured, load_balancer_to_an_unknown_service, service, unchanged,
    };
    use serde_json::json;
    let mut changes = load_balancer_to_an_unknown_service(json!([]));
    changes.push(unchanged(
        "google_cloud_run_v2_service.api",
        service(json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"})),
    ));
    let report = analyze_configured(
        changes,
        vec![
            json!({"address": "google_compute_region_network_endpoint_group.api",
                    "expressions": {"cloud_run": [{"service": {"references": ["local.api_name"]}}]}}),
        ],
    );
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.load_balancers.len(), 1, "{:?}", report.unresolved);
    assert!(!api.load_balancers[0].certain);
}

/// A serverless NEG that names a service whose location is unknown at plan time cannot prove
/// by name that it is that service; its configuration reference to the service does: the path
/// is proven, as the author wrote it.
#[test]
fn a_neg_reference_proves_a_service_its_name_alone_cannot() {
    use crate::posture::tests::{
        after, analyze_configured, change, load_balancer, service, unknown_after,
    };
    use serde_json::{Value, json};
    let mut changes = load_balancer(json!([]));
    changes.push(unknown_after(
        change(
            "google_cloud_run_v2_service.api",
            Value::Null,
            service(json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"})),
        ),
        "location",
    ));
    let report = analyze_configured(
        changes,
        vec![
            json!({"address": "google_compute_region_network_endpoint_group.api",
                   "expressions": {"cloud_run": [{"service": {"references": [
                       "google_cloud_run_v2_service.api.name",
                       "google_cloud_run_v2_service.api"]}}]}}),
            json!({"address": "google_cloud_run_v2_service.api",
                   "expressions": {"location": {"references": ["local.region"]}}}),
        ],
    );
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.load_balancers.len(), 1, "{:?}", report.unresolved);
    assert!(api.load_balancers[0].certain);
}

/// A domain mapping whose `project` is set to something unknown at plan time is still in the
/// project its `metadata.namespace` names, when that is a project id: the mapping proves its
/// path to the service of that name. (A numeric namespace is a project number, which names
/// cannot be compared with.)
#[test]
fn a_domain_mapping_namespace_that_is_a_project_id_gives_its_project() {
    use crate::posture::tests::{after, analyze_configured, change, service, unchanged};
    use serde_json::{Value, json};
    let mapping = |namespace: &str| {
        let mut c = change(
            "google_cloud_run_domain_mapping.api",
            Value::Null,
            json!({"name": "api.acme.example", "location": "europe-west1",
                   "metadata": [{"namespace": namespace}],
                   "spec": [{"route_name": "api", "certificate_mode": "AUTOMATIC"}]}),
        );
        c["change"]["after_unknown"]["project"] = json!(true);
        c
    };
    let certain_paths = |namespace: &str| {
        let report = analyze_configured(
            vec![
                unchanged("google_cloud_run_v2_service.api", service(json!({}))),
                mapping(namespace),
            ],
            vec![json!({"address": "google_cloud_run_domain_mapping.api",
                        "expressions": {"project": {"references": ["local.project"]}}})],
        );
        let api = after(&report, "google_cloud_run_v2_service.api");
        assert_eq!(api.domain_mappings.len(), 1, "{:?}", report.unresolved);
        api.domain_mappings[0].certain
    };
    assert!(certain_paths("acme-prod"));
    assert!(!certain_paths("123456789012"));
}

/// A provider block that does not set `project` (it comes from the environment) still gives
/// every resource on it one project. A workload that leaves `project` unset shows it at plan
/// time, while an IAM member on the same provider has its `project` unknown until apply: the
/// project the workload reveals is the member's too, so the grant is proven on the service.
#[test]
fn a_provider_project_revealed_by_a_workload_scopes_iam_on_the_same_provider() {
    use crate::posture::Verdict;
    use crate::posture::tests::{after, change, member, service, unchanged, unknown_after};
    use serde_json::{Value, json};
    let plan_with = |service_project_configured: bool| {
        let grant = unknown_after(
            change(
                "google_cloud_run_v2_service_iam_member.public",
                Value::Null,
                member("allUsers", "roles/run.invoker", json!([])),
            ),
            "project",
        );
        let mut service_expressions = json!({"name": {"constant_value": "api"},
                                             "location": {"constant_value": "europe-west1"}});
        if service_project_configured {
            service_expressions["project"] = json!({"references": ["var.project"]});
        }
        let resource = |address: &str, expressions: Value| {
            let (rtype, name) = address.split_once('.').expect("type.name");
            json!({"address": address, "mode": "managed", "type": rtype, "name": name,
                   "provider_config_key": "google", "schema_version": 0,
                   "expressions": expressions})
        };
        let plan = json!({
            "format_version": "1.2", "terraform_version": "1.9.8",
            "resource_changes": [
                unchanged("google_cloud_run_v2_service.api", service(json!({}))),
                grant,
            ],
            "configuration": {
                "provider_config": {"google": {"name": "google",
                    "full_name": "registry.terraform.io/hashicorp/google"}},
                "root_module": {"resources": [
                    resource("google_cloud_run_v2_service.api", service_expressions),
                    resource("google_cloud_run_v2_service_iam_member.public", json!({
                        "name": {"constant_value": "api"},
                        "location": {"constant_value": "europe-west1"},
                        "role": {"constant_value": "roles/run.invoker"},
                        "member": {"constant_value": "allUsers"}})),
                ]},
            },
        });
        crate::analyze(plan.to_string().as_bytes(), &crate::Options::default()).expect("a plan")
    };
    let report = plan_with(false);
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::Yes, "{:?}", report.unresolved);
    assert!(api.invokers.iter().next().expect("an invoker").certain());
    // A workload whose own configuration sets `project` reveals nothing about its provider's.
    let report = plan_with(true);
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::Unknown, "{:?}", report.unresolved);
}

/// A role taken from one of several instances of a custom role, by a key known only at apply
/// (`google_project_iam_custom_role.caller[data.external.pick.result.key].name`), may be any of
/// them. With one that holds `run.routes.invoke` and one that does not, `allUsers` may invoke
/// the service, and may not: its exposure is unknown, neither public nor closed.
#[test]
fn a_role_picked_among_custom_roles_at_apply_may_be_any_of_them() {
    use crate::posture::Verdict;
    use crate::posture::tests::{
        after, analyze_configured, change, member, service, unchanged, unknown_after,
    };
    use serde_json::{Value, json};
    let custom_role = |key: &str, permission: &str| {
        let mut role = unchanged(
            &format!("google_project_iam_custom_role.caller[\"{key}\"]"),
            json!({"project": "acme-prod", "role_id": format!("caller_{key}"),
                   "name": format!("projects/acme-prod/roles/caller_{key}"),
                   "title": key, "description": "", "stage": "GA", "deleted": false,
                   "permissions": [permission],
                   "id": format!("projects/acme-prod/roles/caller_{key}")}),
        );
        role["name"] = json!("caller");
        role["index"] = json!(key);
        role
    };
    let grant = unknown_after(
        change(
            "google_cloud_run_v2_service_iam_member.public",
            Value::Null,
            member(
                "allUsers",
                "projects/acme-prod/roles/caller_invoke",
                json!([]),
            ),
        ),
        "role",
    );
    let report = analyze_configured(
        vec![
            unchanged("google_cloud_run_v2_service.api", service(json!({}))),
            custom_role("invoke", "run.routes.invoke"),
            custom_role("view", "run.services.get"),
            grant,
        ],
        vec![json!({
            "address": "google_cloud_run_v2_service_iam_member.public",
            "expressions": {
                "name": {"constant_value": "api"},
                "member": {"constant_value": "allUsers"},
                "role": {"references": [
                    "google_project_iam_custom_role.caller",
                    "data.external.pick.result.key", "data.external.pick.result",
                    "data.external.pick"]}}})],
    );
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::Unknown, "{:?}", report.unresolved);
    assert_eq!(api.anyone_allowed, Verdict::Unknown);
}

/// A `data "google_iam_policy"` read while planning (in `prior_state`), at `address`, whose
/// one binding grants `roles/run.invoker` to `member`.
fn policy_document(address: &str, member: &str) -> Value {
    use serde_json::json;
    let policy = json!({"bindings": [{"members": [member], "role": "roles/run.invoker"}]});
    let (name, key) = match address.split_once('[') {
        Some((name, key)) => (name, json!(key.trim_end_matches(']').trim_matches('"'))),
        None => (address, Value::Null),
    };
    let mut document = json!({"address": address, "mode": "data", "type": "google_iam_policy",
        "name": name.trim_start_matches("data.google_iam_policy."),
        "provider_name": "registry.terraform.io/hashicorp/google", "schema_version": 0,
        "values": {"audit_config": null, "id": "2847194351",
                   "binding": [{"condition": [], "members": [member],
                                "role": "roles/run.invoker"}],
                   "policy_data": policy.to_string()},
        "sensitive_values": {"binding": [{"condition": [], "members": [false]}]}});
    if !key.is_null() {
        document["index"] = key;
    }
    document
}

/// A plan that keeps `api` and creates a policy on it whose `policy_data` is unknown at plan
/// time and refers to `references`, with `documents` read while planning and `configured`
/// other resources' configuration.
fn service_policy_plan(documents: Vec<Value>, references: Value, configured: Vec<Value>) -> Value {
    use crate::posture::tests::{change, service, unchanged, unknown_after};
    use serde_json::json;
    let policy = unknown_after(
        change(
            "google_cloud_run_v2_service_iam_policy.public",
            Value::Null,
            json!({"location": "europe-west1", "name": "api", "project": "acme-prod",
                   "policy_data": "{}"}),
        ),
        "policy_data",
    );
    let mut resources = vec![json!({
        "address": "google_cloud_run_v2_service_iam_policy.public", "mode": "managed",
        "type": "google_cloud_run_v2_service_iam_policy", "name": "public",
        "provider_config_key": "google", "schema_version": 0,
        "expressions": {"name": {"constant_value": "api"},
                        "location": {"constant_value": "europe-west1"},
                        "policy_data": {"references": references}}})];
    resources.extend(configured);
    json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": [
            unchanged("google_cloud_run_v2_service.api", service(json!({}))),
            policy,
        ],
        "prior_state": {"format_version": "1.0", "terraform_version": "1.9.8",
            "values": {"root_module": {"resources": documents}}},
        "configuration": {
            "provider_config": {"google": {"name": "google",
                "full_name": "registry.terraform.io/hashicorp/google",
                "expressions": {"project": {"constant_value": "acme-prod"}}}},
            "root_module": {"resources": resources},
        },
    })
}

/// The report on `plan`.
fn report_of(plan: &Value) -> crate::report::Report {
    crate::analyze(plan.to_string().as_bytes(), &crate::Options::default()).expect("a plan")
}

/// A service policy whose `policy_data` is one of several instances of a `data
/// "google_iam_policy"`, picked by a key known only at apply
/// (`data.google_iam_policy.p[data.external.pick.result.key].policy_data`), may be any of them.
/// With one that lets `allUsers` invoke and one that does not, the service may be public, and
/// may not: its exposure is unknown.
#[test]
fn a_policy_picked_among_policy_documents_at_apply_may_be_any_of_them() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    let report = report_of(&service_policy_plan(
        vec![
            policy_document(r#"data.google_iam_policy.p["open"]"#, "allUsers"),
            policy_document(
                r#"data.google_iam_policy.p["closed"]"#,
                "serviceAccount:caller@acme-prod.iam.gserviceaccount.com",
            ),
        ],
        serde_json::json!([
            "data.google_iam_policy.p",
            "data.external.pick.result.key",
            "data.external.pick.result",
            "data.external.pick"
        ]),
        Vec::new(),
    ));
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::Unknown, "{:?}", report.unresolved);
}

/// A policy document read while planning holds the members as the provider read them: a
/// service account's `member`, taken from the account in its configuration, is that account
/// in the document, not a value unknown at plan time. The policy lets only it invoke.
#[test]
fn a_policy_document_read_while_planning_gives_its_members() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    use serde_json::json;
    let caller = "serviceAccount:caller@acme-prod.iam.gserviceaccount.com";
    let report = report_of(&service_policy_plan(
        vec![policy_document("data.google_iam_policy.p", caller)],
        json!([
            "data.google_iam_policy.p.policy_data",
            "data.google_iam_policy.p"
        ]),
        vec![json!({
            "address": "data.google_iam_policy.p", "mode": "data", "type": "google_iam_policy",
            "name": "p", "provider_config_key": "google", "schema_version": 0,
            "expressions": {"binding": [{
                "role": {"constant_value": "roles/run.invoker"},
                "members": {"references": ["google_service_account.caller.member",
                                           "google_service_account.caller"]}}]}})],
    ));
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::No, "{:?}", report.unresolved);
    let invokers: Vec<&str> = api.invokers.iter().map(|i| i.principal.display()).collect();
    assert_eq!(invokers, [caller]);
}

/// A plan whose service policy takes `policy_data` from `data.google_iam_policy.p`, read only
/// at apply (it waits for a dependency), configured with the `binding` blocks `bindings`, with
/// these root `variables`.
fn policy_read_at_apply(bindings: Value, variables: Value) -> Value {
    use serde_json::json;
    let mut plan = service_policy_plan(
        Vec::new(),
        json!([
            "data.google_iam_policy.p.policy_data",
            "data.google_iam_policy.p"
        ]),
        vec![json!({
            "address": "data.google_iam_policy.p", "mode": "data", "type": "google_iam_policy",
            "name": "p", "provider_config_key": "google", "schema_version": 0,
            "expressions": {"binding": bindings}})],
    );
    let read = json!({"address": "data.google_iam_policy.p", "mode": "data",
        "type": "google_iam_policy", "name": "p",
        "provider_name": "registry.terraform.io/hashicorp/google",
        "change": {"actions": ["read"], "before": null, "after": {"audit_config": []},
                   "after_unknown": {"audit_config": [], "binding": true, "id": true,
                                     "policy_data": true},
                   "before_sensitive": false, "after_sensitive": {"audit_config": []}},
        "action_reason": "read_because_dependency_pending"});
    plan["resource_changes"]
        .as_array_mut()
        .expect("resource changes")
        .push(read);
    plan["variables"] = variables;
    plan
}

/// A policy document read only at apply is taken from its configuration: a member given by a
/// root variable is that variable's value. The policy lets only that user invoke.
#[test]
fn a_member_of_a_policy_document_read_at_apply_comes_from_its_variable() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    use serde_json::json;
    let report = report_of(&policy_read_at_apply(
        json!([{"role": {"constant_value": "roles/run.invoker"},
                "members": {"references": ["var.partner"]}}]),
        json!({"partner": {"value": "user:alice@partner.example"}}),
    ));
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::No, "{:?}", report.unresolved);
    let invokers: Vec<&str> = api.invokers.iter().map(|i| i.principal.display()).collect();
    assert_eq!(invokers, ["user:alice@partner.example"]);
}

/// A `condition` block on a binding of a policy document limits when the binding applies: read
/// only at apply, the document's `allUsers` binding under a condition may not let anyone in.
#[test]
fn a_conditional_binding_of_a_policy_document_read_at_apply_may_not_apply() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    use serde_json::json;
    let report = report_of(&policy_read_at_apply(
        json!([{"role": {"constant_value": "roles/run.invoker"},
                "members": {"constant_value": ["allUsers"]},
                "condition": [{
                    "title": {"constant_value": "until-launch"},
                    "expression": {"constant_value":
                        "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}}]}]),
        json!({}),
    ));
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(api.public, Verdict::Unknown, "{:?}", report.unresolved);
}

/// `change` (of a root resource) moved into module call `module`.
fn in_module(module: &str, mut change: Value) -> Value {
    let address = change["address"].as_str().expect("an address").to_owned();
    change["address"] = format!("module.{module}.{address}").into();
    change["module_address"] = format!("module.{module}").into();
    change
}

/// A v2 service `address` created in `europe-west1` with a name only known at apply (a random
/// suffix), configured so.
fn randomly_named_service(address: &str) -> (Value, Value) {
    use crate::posture::tests::{change, service, unknown_after};
    use serde_json::json;
    let created = unknown_after(change(address, Value::Null, service(json!({}))), "name");
    let (rtype, name) = address.split_once('.').expect("type.name");
    let name = name.split('[').next().expect("a name");
    let configured = json!({"address": format!("{rtype}.{name}"), "mode": "managed",
        "type": rtype, "name": name, "provider_config_key": "google", "schema_version": 0,
        "expressions": {"name": {"references": ["random_id.suffix.hex", "random_id.suffix"]},
                        "location": {"constant_value": "europe-west1"}}});
    (created, configured)
}

/// An `allUsers` invoker grant at `address` (in the root module), its `name` referring to
/// `references`; both as the plan shows them.
fn all_users_by_reference(address: &str, references: Value) -> (Value, Value) {
    use crate::posture::tests::{change, member, unknown_after};
    use serde_json::json;
    let grant = unknown_after(
        change(
            address,
            Value::Null,
            member("allUsers", "roles/run.invoker", json!([])),
        ),
        "name",
    );
    let (rtype, name) = address.split_once('.').expect("type.name");
    let configured = json!({"address": address, "mode": "managed", "type": rtype, "name": name,
        "provider_config_key": "google", "schema_version": 0,
        "expressions": {"name": {"references": references},
                        "location": {"constant_value": "europe-west1"},
                        "role": {"constant_value": "roles/run.invoker"},
                        "member": {"constant_value": "allUsers"}}});
    (grant, configured)
}

/// A reference in a module's configuration means that module's resource: not the root
/// module's resource of the same name, nor the one of another call of a module. Three
/// services, each named at apply, one in the root module and one in each of two module calls;
/// IAM in `module.eu` that refers to `google_cloud_run_v2_service.api` grants on `module.eu`'s.
#[test]
fn a_reference_in_a_module_means_that_modules_resource() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    use serde_json::json;
    let address = "google_cloud_run_v2_service.api";
    let (root, service_config) = randomly_named_service(address);
    let (grant, grant_config) = all_users_by_reference(
        "google_cloud_run_v2_service_iam_member.public",
        json!([
            "google_cloud_run_v2_service.api.name",
            "google_cloud_run_v2_service.api"
        ]),
    );
    let module = |resources: Vec<Value>| json!({"source": "./modules/api", "module": {"resources": resources}});
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": [
            root.clone(),
            in_module("eu", root.clone()),
            in_module("us", root),
            in_module("eu", grant),
        ],
        "configuration": {
            "provider_config": {"google": {"name": "google",
                "full_name": "registry.terraform.io/hashicorp/google",
                "expressions": {"project": {"constant_value": "acme-prod"},
                                "region": {"constant_value": "europe-west1"}}}},
            "root_module": {
                "resources": [service_config.clone()],
                "module_calls": {
                    "eu": module(vec![service_config.clone(), grant_config]),
                    "us": module(vec![service_config]),
                },
            },
        },
    });
    let report = report_of(&plan);
    let public = |address: &str| after(&report, address).public;
    assert_eq!(
        public("module.eu.google_cloud_run_v2_service.api"),
        Verdict::Yes,
        "{:?}",
        report.unresolved
    );
    assert_eq!(public(address), Verdict::No);
    assert_eq!(
        public("module.us.google_cloud_run_v2_service.api"),
        Verdict::No
    );
}

/// A reference with an instance key (`google_cloud_run_v2_service.api["eu"].name`) means
/// that instance of a `for_each` resource, not its siblings.
#[test]
fn a_reference_with_an_instance_key_means_that_instance() {
    use crate::posture::Verdict;
    use crate::posture::tests::after;
    use serde_json::json;
    let keyed = |key: &str| {
        let (mut created, config) =
            randomly_named_service(&format!("google_cloud_run_v2_service.api[\"{key}\"]"));
        created["name"] = "api".into();
        created["index"] = key.into();
        (created, config)
    };
    let ((eu, config), (us, _)) = (keyed("eu"), keyed("us"));
    let (grant, grant_config) = all_users_by_reference(
        "google_cloud_run_v2_service_iam_member.public",
        json!([
            "google_cloud_run_v2_service.api[\"eu\"].name",
            "google_cloud_run_v2_service.api[\"eu\"]",
            "google_cloud_run_v2_service.api"
        ]),
    );
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": [eu, us, grant],
        "configuration": {
            "provider_config": {"google": {"name": "google",
                "full_name": "registry.terraform.io/hashicorp/google",
                "expressions": {"project": {"constant_value": "acme-prod"},
                                "region": {"constant_value": "europe-west1"}}}},
            "root_module": {"resources": [config, grant_config]},
        },
    });
    let report = report_of(&plan);
    let public = |address: &str| after(&report, address).public;
    assert_eq!(
        public(r#"google_cloud_run_v2_service.api["eu"]"#),
        Verdict::Yes,
        "{:?}",
        report.unresolved
    );
    assert_eq!(
        public(r#"google_cloud_run_v2_service.api["us"]"#),
        Verdict::No
    );
}

/// A new service whose runtime account is chosen at apply between two accounts the plan
/// creates (`var.use_a ? google_service_account.a.email : google_service_account.b.email`,
/// which `configuration` keeps as references only) may run as either. A user who may mint
/// tokens for one of them (`roles/iam.serviceAccountTokenCreator`) may act as its runtime
/// identity: listed, as uncertain.
#[test]
fn a_runtime_account_chosen_at_apply_among_planned_accounts_is_any_of_them() {
    use crate::posture::tests::{analyze_with_variables, change, service, unknown_after};
    use serde_json::json;
    let account = |id: &str| {
        unknown_after(
            unknown_after(
                change(
                    &format!("google_service_account.{id}"),
                    Value::Null,
                    json!({"account_id": id, "project": "acme-prod", "display_name": id,
                           "disabled": false, "description": "", "email": "", "member": ""}),
                ),
                "email",
            ),
            "member",
        )
    };
    let mut api = service(json!({}));
    api["template"][0]
        .as_object_mut()
        .expect("a template")
        .remove("service_account");
    let mut api = change("google_cloud_run_v2_service.api", Value::Null, api);
    api["change"]["after_unknown"]["template"] = json!([{"service_account": true}]);
    let grant = unknown_after(
        change(
            "google_service_account_iam_member.ops",
            Value::Null,
            json!({"service_account_id": "", "role": "roles/iam.serviceAccountTokenCreator",
                   "member": "user:ops@acme.example", "condition": []}),
        ),
        "service_account_id",
    );
    let report = analyze_with_variables(
        vec![account("a"), account("b"), api, grant],
        vec![
            json!({"address": "google_cloud_run_v2_service.api", "expressions": {
                "name": {"constant_value": "api"},
                "location": {"constant_value": "europe-west1"},
                "template": [{"service_account": {"references": [
                    "var.use_a", "google_service_account.a.email", "google_service_account.a",
                    "google_service_account.b.email", "google_service_account.b"]}}]}}),
            json!({"address": "google_service_account_iam_member.ops", "expressions": {
                "service_account_id": {"references": [
                    "google_service_account.a.name", "google_service_account.a"]},
                "role": {"constant_value": "roles/iam.serviceAccountTokenCreator"},
                "member": {"constant_value": "user:ops@acme.example"}}}),
        ],
        json!({"use_a": {"value": true}}),
    );
    assert_eq!(
        api_impersonators(&report),
        [("user:ops@acme.example", false)],
        "{:?}",
        report.unresolved
    );
}

/// `api` created with its runtime account unknown at plan time, and not configured: Cloud Run
/// picks the default compute account of its project.
fn created_on_an_unknown_account() -> Value {
    use crate::posture::tests::{change, service};
    use serde_json::json;
    let mut api = service(json!({}));
    api["template"][0]
        .as_object_mut()
        .expect("a template")
        .remove("service_account");
    let mut api = change("google_cloud_run_v2_service.api", Value::Null, api);
    api["change"]["after_unknown"]["template"] = json!([{"service_account": true}]);
    api
}

/// The default compute account of a project is `NUMBER-compute@developer.gserviceaccount.com`:
/// the plan names it for `acme-prod` twice (its `google_project`'s number and `data
/// "google_compute_default_service_account"`), and another project's too. A new service left
/// on the default account runs as its own project's.
#[test]
fn a_new_service_on_the_default_account_runs_as_its_own_projects() {
    use crate::posture::tests::{after, unchanged};
    use serde_json::json;
    let project = |id: &str, number: &str| {
        unchanged(
            &format!("google_project.{}", id.trim_start_matches("acme-")),
            json!({"project_id": id, "name": id, "number": number, "org_id": "123456789",
                   "folder_id": null, "billing_account": "000000-000000-000000",
                   "id": format!("projects/{id}")}),
        )
    };
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": [
            created_on_an_unknown_account(),
            project("acme-prod", "111111111111"),
            project("acme-dev", "222222222222"),
        ],
        "prior_state": {"format_version": "1.0", "terraform_version": "1.9.8",
            "values": {"root_module": {"resources": [{
                "address": "data.google_compute_default_service_account.prod", "mode": "data",
                "type": "google_compute_default_service_account", "name": "prod",
                "provider_name": "registry.terraform.io/hashicorp/google", "schema_version": 0,
                "values": {"project": "acme-prod",
                           "email": "111111111111-compute@developer.gserviceaccount.com",
                           "id": "projects/acme-prod/serviceAccounts/111111111111-compute@developer.gserviceaccount.com"},
                "sensitive_values": {}}]}}},
        "configuration": {
            "provider_config": {"google": {"name": "google",
                "full_name": "registry.terraform.io/hashicorp/google",
                "expressions": {"project": {"constant_value": "acme-prod"}}}},
            "root_module": {"resources": [{
                "address": "google_cloud_run_v2_service.api", "mode": "managed",
                "type": "google_cloud_run_v2_service", "name": "api",
                "provider_config_key": "google", "schema_version": 0,
                "expressions": {"name": {"constant_value": "api"},
                                "location": {"constant_value": "europe-west1"}}}]},
        },
    });
    let report = report_of(&plan);
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert_eq!(
        api.identity.service_account.as_deref(),
        Some("111111111111-compute@developer.gserviceaccount.com"),
        "{:?}",
        report.unresolved
    );
}

/// `var.custom ? google_service_account.a.email : null` on a new service, where the plan states
/// the account's email: had the value been that email it would be known, so it is null, and
/// Cloud Run picks the default account.
#[test]
fn a_runtime_account_that_would_be_known_if_it_were_an_account_is_the_default() {
    use crate::posture::tests::{after, analyze_with_variables, change};
    use serde_json::json;
    let account = change(
        "google_service_account.a",
        Value::Null,
        json!({"account_id": "a", "project": "acme-prod", "display_name": "a",
               "disabled": false, "description": "",
               "email": "a@acme-prod.iam.gserviceaccount.com",
               "member": "serviceAccount:a@acme-prod.iam.gserviceaccount.com"}),
    );
    let report = analyze_with_variables(
        vec![created_on_an_unknown_account(), account],
        vec![
            json!({"address": "google_cloud_run_v2_service.api", "expressions": {
                "name": {"constant_value": "api"},
                "location": {"constant_value": "europe-west1"},
                "template": [{"service_account": {"references": [
                    "var.custom", "google_service_account.a.email",
                    "google_service_account.a"]}}]}}),
        ],
        json!({"custom": {"value": false}}),
    );
    let api = after(&report, "google_cloud_run_v2_service.api");
    assert!(api.identity.implicit, "{:?}", report.unresolved);
}

/// A runtime account built from known values and a function Terraform only evaluates at apply
/// (`"${var.prefix}-${uuid()}@…"`: `configuration` records only `var.prefix`) may be any
/// account of the project: a user who may mint tokens for the project's one account may act as
/// the runtime identity, as uncertain.
#[test]
fn a_runtime_account_unknown_from_known_values_may_be_any_account_of_its_project() {
    use crate::posture::tests::{analyze_with_variables, unchanged};
    use serde_json::json;
    let email = "worker@acme-prod.iam.gserviceaccount.com";
    let account = format!("projects/acme-prod/serviceAccounts/{email}");
    let report = analyze_with_variables(
        vec![
            created_on_an_unknown_account(),
            unchanged(
                "google_service_account.worker",
                json!({"account_id": "worker", "project": "acme-prod", "display_name": "worker",
                       "disabled": false, "description": "", "email": email,
                       "member": format!("serviceAccount:{email}"), "name": account,
                       "unique_id": "104857600000000000001", "id": account}),
            ),
            unchanged(
                "google_service_account_iam_member.ops",
                json!({"service_account_id": account,
                       "role": "roles/iam.serviceAccountTokenCreator",
                       "member": "user:ops@acme.example", "condition": [],
                       "etag": "BwYk3xq1Rk0=",
                       "id": format!("{account}/roles/iam.serviceAccountTokenCreator/user:ops@acme.example")}),
            ),
        ],
        vec![
            json!({"address": "google_cloud_run_v2_service.api", "expressions": {
                "name": {"constant_value": "api"},
                "location": {"constant_value": "europe-west1"},
                "template": [{"service_account": {"references": ["var.prefix"]}}]}}),
        ],
        json!({"prefix": {"value": "api"}}),
    );
    assert_eq!(
        api_impersonators(&report),
        [("user:ops@acme.example", false)],
        "{:?}",
        report.unresolved
    );
}

/// The unresolved entries of a plan that creates `google_service_account_key.k` with its
/// `service_account_id` unknown at plan time and referring to `references`, beside
/// `changes`, with root variables `variables` declared as `declared`.
fn unresolved_of_a_key(
    changes: Vec<Value>,
    references: Value,
    variables: Value,
    declared: Value,
) -> Vec<(String, String)> {
    use crate::posture::tests::{change, unknown_after};
    use serde_json::json;
    let key = unknown_after(
        change(
            "google_service_account_key.k",
            Value::Null,
            json!({"service_account_id": "", "key_algorithm": "KEY_ALG_RSA_2048",
                   "private_key_type": "TYPE_GOOGLE_CREDENTIALS_FILE",
                   "public_key_type": "TYPE_X509_PEM_FILE", "keepers": null}),
        ),
        "service_account_id",
    );
    let changes = [changes, vec![key]].concat();
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.8",
        "resource_changes": changes,
        "variables": variables,
        "configuration": {
            "provider_config": {"google": {"name": "google",
                "full_name": "registry.terraform.io/hashicorp/google",
                "expressions": {"project": {"constant_value": "acme-prod"}}}},
            "root_module": {
                "resources": [{
                    "address": "google_service_account_key.k", "mode": "managed",
                    "type": "google_service_account_key", "name": "k",
                    "provider_config_key": "google", "schema_version": 0,
                    "expressions": {"service_account_id": {"references": references}}}],
                "variables": declared,
            },
        },
    });
    report_of(&plan)
        .unresolved
        .iter()
        .filter(|u| u.address == "google_service_account_key.k")
        .map(|u| (u.address.clone(), u.reason.clone()))
        .collect()
}

/// A key for one of several `for_each` accounts, picked by a key known only at apply, is for
/// one of them, which the plan cannot name: unresolved, never the first.
#[test]
fn a_key_for_an_account_picked_at_apply_is_unresolved() {
    use crate::posture::tests::change;
    use serde_json::json;
    let account = |key: &str| {
        let mut created = change(
            &format!("google_service_account.sa[\"{key}\"]"),
            Value::Null,
            json!({"account_id": key, "project": "acme-prod", "display_name": key,
                   "disabled": false, "description": ""}),
        );
        created["name"] = "sa".into();
        created["index"] = key.into();
        created
    };
    let unresolved = unresolved_of_a_key(
        vec![account("a"), account("b")],
        json!([
            "google_service_account.sa",
            "data.external.pick.result.key",
            "data.external.pick.result",
            "data.external.pick"
        ]),
        json!({}),
        json!({}),
    );
    assert_eq!(
        unresolved,
        [(
            "google_service_account_key.k".to_owned(),
            "service_account_id refers to more than one service account".to_owned()
        )]
    );
}

/// A key whose account comes from a variable declared `sensitive` is not linked through that
/// value, which must never be printed: unresolved. Beside a condition read at apply, the
/// account is unknown at plan time whatever the variable says; alone, the sensitive value is
/// not used.
#[test]
fn a_key_for_an_account_from_a_sensitive_value_is_unresolved() {
    use serde_json::json;
    let sensitive_sa = || {
        (
            json!({"sa": {"value": "projects/-/serviceAccounts/secret-sa@acme-prod.iam.gserviceaccount.com"}}),
            json!({"sa": {"sensitive": true}}),
        )
    };
    let (values, declared) = sensitive_sa();
    let unresolved = unresolved_of_a_key(
        Vec::new(),
        json!(["data.external.flag.result", "data.external.flag", "var.sa"]),
        values,
        declared,
    );
    assert_eq!(
        unresolved,
        [(
            "google_service_account_key.k".to_owned(),
            "service_account_id unknown at plan time: it refers to `data.external.flag`, of which \
             no instance in the plan can be linked"
                .to_owned()
        )]
    );
    let (values, declared) = sensitive_sa();
    let unresolved = unresolved_of_a_key(Vec::new(), json!(["var.sa"]), values, declared);
    assert_eq!(
        unresolved,
        [(
            "google_service_account_key.k".to_owned(),
            "service_account_id comes from a sensitive value".to_owned()
        )]
    );
}

/// A key created for the runtime account named by its id (`projects/P/serviceAccounts/EMAIL`,
/// known at plan time) is a long-lived credential for the service's identity.
#[test]
fn a_key_for_the_runtime_account_named_by_its_id_is_for_the_service() {
    use crate::posture::tests::{analyze, change, service, unchanged};
    use serde_json::json;
    let report = analyze(vec![
        unchanged("google_cloud_run_v2_service.api", service(json!({}))),
        change(
            "google_service_account_key.k",
            Value::Null,
            json!({"service_account_id":
                       "projects/acme-prod/serviceAccounts/api-runtime@acme-prod.iam.gserviceaccount.com",
                   "key_algorithm": "KEY_ALG_RSA_2048",
                   "private_key_type": "TYPE_GOOGLE_CREDENTIALS_FILE",
                   "public_key_type": "TYPE_X509_PEM_FILE", "keepers": null}),
        ),
    ]);
    let keys: Vec<(&str, &[std::sync::Arc<str>])> = report
        .findings
        .iter()
        .filter(|f| f.rule.id == "identity-key-created")
        .map(|f| (f.rule.id, f.workloads.as_slice()))
        .collect();
    assert_eq!(
        keys,
        [(
            "identity-key-created",
            &["google_cloud_run_v2_service.api".into()][..]
        )]
    );
}

/// Who can act as `api`'s runtime account on the after side, and whether each is proven.
fn api_impersonators(report: &crate::Report) -> Vec<(&str, bool)> {
    crate::posture::tests::after(report, "google_cloud_run_v2_service.api")
        .identity
        .impersonators
        .iter()
        .map(|i| (i.principal.display(), i.certain))
        .collect()
}
