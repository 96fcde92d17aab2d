//! Verdicts on small plans, one provider behaviour each: the cases that mutation testing
//! (`docs/mutation-testing.md`) showed no fixture decides. Each plan is the smallest that
//! `terraform show -json` could print for the case: existing objects are `no-op` entries with
//! every value known, as the provider reads them back.

use serde_json::{Value, json};

use crate::graph::Principal;
use crate::iam::Level;
use crate::inventory::controls::BinaryAuthorization;
use crate::posture::{Posture, Setting, Verdict};
use crate::report::Report;

const PROJECT: &str = "acme-prod";
const REGION: &str = "europe-west1";
const API: &str = "google_cloud_run_v2_service.api";

/// One `resource_changes` entry; `Value::Null` is the side where the object does not exist.
pub(crate) fn change(address: &str, before: Value, after: Value) -> Value {
    let (rtype, name) = address.split_once('.').expect("type.name");
    let actions = match (before.is_null(), after.is_null()) {
        (true, _) => json!(["create"]),
        (_, true) => json!(["delete"]),
        _ if before == after => json!(["no-op"]),
        _ => json!(["update"]),
    };
    let sensitive = |v: &Value| if v.is_null() { json!(false) } else { json!({}) };
    // What the API assigns is unknown until the object exists.
    let mut after = after;
    let mut after_unknown = json!({});
    if before.is_null() {
        for computed in ["id", "etag"] {
            if after
                .as_object_mut()
                .and_then(|a| a.remove(computed))
                .is_some()
            {
                after_unknown[computed] = json!(true);
            }
        }
    }
    json!({
        "address": address, "mode": "managed", "type": rtype, "name": name,
        "provider_name": "registry.terraform.io/hashicorp/google",
        "change": {
            "actions": actions, "before": before, "after": after, "after_unknown": after_unknown,
            "before_sensitive": sensitive(&before), "after_sensitive": sensitive(&after),
        },
    })
}

/// `change` with the after side's `key` unknown at plan time.
pub(crate) fn unknown_after(mut change: Value, key: &str) -> Value {
    change["change"]["after"]
        .as_object_mut()
        .expect("an after side")
        .remove(key);
    change["change"]["after_unknown"][key] = json!(true);
    change
}

/// An existing object that the plan leaves as it is.
pub(crate) fn unchanged(address: &str, values: Value) -> Value {
    change(address, values.clone(), values)
}

/// The v2 service `api`'s values as the provider reads them back: ingress `all`, invoker check
/// enforced, run.app URL enabled, no IAP; `settings` overrides any of them.
pub(crate) fn service(settings: Value) -> Value {
    let mut values = json!({
        "name": "api", "location": REGION, "project": PROJECT,
        "id": format!("projects/{PROJECT}/locations/{REGION}/services/api"),
        "ingress": "INGRESS_TRAFFIC_ALL", "invoker_iam_disabled": null,
        "default_uri_disabled": null, "iap_enabled": null, "binary_authorization": [],
        "template": [{"service_account": format!("api-runtime@{PROJECT}.iam.gserviceaccount.com"),
                      "containers": [{"image": "europe-west1-docker.pkg.dev/acme-prod/c/api:1",
                                      "env": []}],
                      "vpc_access": [], "volumes": []}],
    });
    for (key, value) in settings.as_object().expect("settings object") {
        values[key] = value.clone();
    }
    values
}

/// A `google_cloud_run_v2_service_iam_member` on `api` granting `role` to `member`, with
/// `condition` (`[]` when unconditional).
pub(crate) fn member(member: &str, role: &str, condition: Value) -> Value {
    json!({
        "name": "api", "location": REGION, "project": PROJECT, "role": role, "member": member,
        "condition": condition, "etag": "BwYk3xq1Rk0=",
        "id": format!("projects/{PROJECT}/locations/{REGION}/services/api/{role}/{member}"),
    })
}

/// An external HTTPS load balancer whose serverless NEG points at `api`, every piece already in
/// place; `iap` is the backend service's IAP block.
pub(crate) fn load_balancer(iap: Value) -> Vec<Value> {
    let link =
        |path: &str| format!("https://www.googleapis.com/compute/v1/projects/{PROJECT}/{path}");
    let neg = link(&format!("regions/{REGION}/networkEndpointGroups/api-neg"));
    let backend = link("global/backendServices/api-backend");
    let url_map = link("global/urlMaps/api-map");
    let proxy = link("global/targetHttpsProxies/api-proxy");
    let rule = link("global/forwardingRules/api-https");
    vec![
        unchanged(
            "google_compute_region_network_endpoint_group.api",
            json!({"name": "api-neg", "project": PROJECT, "region": link(&format!("regions/{REGION}")),
                   "network_endpoint_type": "SERVERLESS", "self_link": neg,
                   "cloud_run": [{"service": "api", "tag": "", "url_mask": ""}]}),
        ),
        unchanged(
            "google_compute_backend_service.api",
            json!({"name": "api-backend", "project": PROJECT, "self_link": backend,
                   "load_balancing_scheme": "EXTERNAL_MANAGED", "iap": iap,
                   "backend": [{"group": neg}]}),
        ),
        unchanged(
            "google_compute_url_map.api",
            json!({"name": "api-map", "project": PROJECT, "self_link": url_map,
                   "default_service": backend, "host_rule": [], "path_matcher": []}),
        ),
        unchanged(
            "google_compute_target_https_proxy.api",
            json!({"name": "api-proxy", "project": PROJECT, "self_link": proxy,
                   "url_map": url_map}),
        ),
        unchanged(
            "google_compute_global_forwarding_rule.api",
            json!({"name": "api-https", "project": PROJECT, "self_link": rule,
                   "load_balancing_scheme": "EXTERNAL_MANAGED", "target": proxy}),
        ),
    ]
}

/// [`load_balancer`] whose serverless NEG is being updated to a service only known at apply.
pub(crate) fn load_balancer_to_an_unknown_service(iap: Value) -> Vec<Value> {
    let mut changes = load_balancer(iap);
    let neg = changes
        .iter_mut()
        .find(|c| c["type"] == "google_compute_region_network_endpoint_group")
        .expect("the NEG");
    neg["change"]["actions"] = json!(["update"]);
    neg["change"]["after"]["cloud_run"][0]
        .as_object_mut()
        .expect("cloud_run block")
        .remove("service");
    neg["change"]["after_unknown"] = json!({"cloud_run": [{"service": true}]});
    changes
}

/// The rule and direction of each finding of `rules` on a plan of `changes` beside the
/// unchanged service `api`.
pub(crate) fn directions_beside_api(
    rules: &[&str],
    changes: Vec<Value>,
) -> Vec<(&'static str, crate::rules::Direction)> {
    let mut all = vec![unchanged(API, service(json!({})))];
    all.extend(changes);
    analyze(all)
        .findings
        .iter()
        .filter(|f| rules.contains(&f.rule.id))
        .map(|f| (f.rule.id, f.direction))
        .collect()
}

/// The report on a plan of these changes, its default provider in `acme-prod`.
pub(crate) fn analyze(changes: Vec<Value>) -> Report {
    analyze_configured(changes, Vec::new())
}

/// [`analyze`], also reporting the risky posture that the plan leaves unchanged (`--all`).
pub(crate) fn analyze_all(changes: Vec<Value>) -> Report {
    analyze_with(changes, Vec::new(), json!({}), true)
}

/// [`analyze`], with these `configuration.root_module.resources` (address and expressions).
pub(crate) fn analyze_configured(changes: Vec<Value>, configured: Vec<Value>) -> Report {
    analyze_with(changes, configured, json!({}), false)
}

/// [`analyze_configured`], with these root module `variables` (`{"name": {"value": …}}`).
pub(crate) fn analyze_with_variables(
    changes: Vec<Value>,
    configured: Vec<Value>,
    variables: Value,
) -> Report {
    analyze_with(changes, configured, variables, false)
}

fn analyze_with(
    changes: Vec<Value>,
    configured: Vec<Value>,
    variables: Value,
    include_unchanged: bool,
) -> Report {
    let plan = plan_text(changes, configured, variables);
    let options = crate::Options { include_unchanged };
    crate::analyze(plan.as_bytes(), &options).expect("a plan")
}

/// The plan of these changes, `configuration.root_module.resources` and root module
/// `variables`, its default provider in `acme-prod`.
pub(crate) fn plan_text(changes: Vec<Value>, configured: Vec<Value>, variables: Value) -> String {
    let resources: Vec<Value> = configured
        .into_iter()
        .map(|mut r| {
            let address = r["address"].as_str().expect("an address").to_owned();
            let (rtype, name) = address.split_once('.').expect("type.name");
            r["mode"] = "managed".into();
            r["type"] = rtype.into();
            r["name"] = name.into();
            r["provider_config_key"] = "google".into();
            r["schema_version"] = 0.into();
            r
        })
        .collect();
    let plan = json!({
        "format_version": "1.2", "terraform_version": "1.9.8", "resource_changes": changes,
        "variables": variables,
        "configuration": {"provider_config": {"google": {"name": "google",
            "full_name": "registry.terraform.io/hashicorp/google",
            "expressions": {"project": {"constant_value": PROJECT},
                            "region": {"constant_value": REGION}}}},
            "root_module": {"resources": resources}},
    });
    plan.to_string()
}

/// The after side of the workload at `address`.
pub(crate) fn after<'r>(report: &'r Report, address: &str) -> &'r Posture {
    report
        .workloads
        .iter()
        .find(|w| w.id.address == address)
        .and_then(|w| w.after.as_ref())
        .unwrap_or_else(|| panic!("{address} has no after side"))
}

/// A plan that creates `api` with `settings` and grants `roles/run.invoker` to `invoker` on
/// it, with `extra` objects already in place; the after side of `api`.
fn created(settings: Value, invoker: &str, extra: Vec<Value>) -> Posture {
    let mut changes = vec![
        change(API, Value::Null, service(settings)),
        change(
            "google_cloud_run_v2_service_iam_member.caller",
            Value::Null,
            member(invoker, "roles/run.invoker", json!([])),
        ),
    ];
    changes.extend(extra);
    after(&analyze(changes), API).clone()
}

/// IAP enabled on the load balancer's backend service.
fn iap_on() -> Value {
    json!([{"enabled": true, "oauth2_client_id": "", "oauth2_client_secret": "",
            "oauth2_client_secret_sha256": ""}])
}

#[test]
fn a_named_invoker_lets_no_one_else_in() {
    // A service account holding roles/run.invoker is not `allUsers`: the invoker check still
    // turns every other caller away.
    let p = created(
        json!({}),
        "serviceAccount:frontend@acme-prod.iam.gserviceaccount.com",
        Vec::new(),
    );
    assert_eq!(p.public, Verdict::No);
    assert_eq!(p.anyone_allowed, Verdict::No);
    assert_eq!(p.reachable, Verdict::Yes);
}

#[test]
fn all_users_on_ingress_all_with_the_run_app_url_is_public() {
    let p = created(json!({}), "allUsers", Vec::new());
    assert_eq!(p.public, Verdict::Yes);
    assert_eq!(p.anyone_allowed, Verdict::Yes);
    assert_eq!(p.reachable, Verdict::Yes);
}

#[test]
fn a_disabled_run_app_url_leaves_only_load_balancers() {
    // `default_uri_disabled = true` turns the *.run.app URL off. With no load balancer in the
    // plan, one outside it may still front the service: unknown, not public.
    let p = created(
        json!({"default_uri_disabled": true}),
        "allUsers",
        Vec::new(),
    );
    assert_eq!(p.public, Verdict::Unknown);
    assert_eq!(p.reachable, Verdict::Unknown);
    assert_eq!(p.default_uri_disabled, Some(true));
    // The only load balancer in the plan checks identity with IAP: nothing reaches it.
    let p = created(
        json!({"default_uri_disabled": true}),
        "allUsers",
        load_balancer(iap_on()),
    );
    assert_eq!(p.public, Verdict::No);
    assert_eq!(p.reachable, Verdict::No);
    assert_eq!(p.iap, Some(true));
}

#[test]
fn iap_on_the_service_keeps_all_users_out() {
    // `iap_enabled = true` puts IAP in front of every path to the service, the run.app URL
    // included: callers must sign in, so `allUsers` holding the invoker role is not public.
    let p = created(json!({"iap_enabled": true}), "allUsers", Vec::new());
    assert_eq!(p.public, Verdict::No);
    assert_eq!(p.reachable, Verdict::No);
    assert_eq!(p.iap, Some(true));
}

#[test]
fn internal_ingress_turns_external_load_balancers_away() {
    // INGRESS_TRAFFIC_INTERNAL_ONLY admits only traffic from inside the VPC: an external
    // Application Load Balancer without IAP does not reach the service.
    let p = created(
        json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY"}),
        "allUsers",
        load_balancer(json!([])),
    );
    assert_eq!(p.public, Verdict::No);
    assert_eq!(p.reachable, Verdict::No);
    // Nor does a load balancer outside the plan.
    let p = created(
        json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY"}),
        "allUsers",
        Vec::new(),
    );
    assert_eq!(p.public, Verdict::No);
    assert_eq!(p.reachable, Verdict::No);
    // INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER admits the same load balancer.
    let p = created(
        json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"}),
        "allUsers",
        load_balancer(json!([])),
    );
    assert_eq!(p.public, Verdict::Yes);
    assert_eq!(p.reachable, Verdict::Yes);
}

#[test]
fn a_conditional_all_users_grant_may_not_apply() {
    // An IAM condition limits when the binding applies (a time window, a request path): the
    // plan cannot tell whether it admits a given call, so the service may be public.
    let mut changes = vec![change(API, Value::Null, service(json!({})))];
    changes.push(change(
        "google_cloud_run_v2_service_iam_member.caller",
        Value::Null,
        member(
            "allUsers",
            "roles/run.invoker",
            json!([{"title": "until-launch", "description": "",
                    "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}]),
        ),
    ));
    let report = analyze(changes);
    let p = after(&report, API);
    assert_eq!(p.public, Verdict::Unknown);
    assert_eq!(p.anyone_allowed, Verdict::Unknown);
}

/// A plan that keeps `api` as it is (with `settings`) and creates `iam`; the after side.
fn granted(settings: Value, iam: Value) -> Posture {
    let report = analyze(vec![unchanged(API, service(settings)), iam]);
    after(&report, API).clone()
}

#[test]
fn an_unknown_member_on_the_service_may_be_all_users() {
    // A member only known at apply, in the service's own policy, may be `allUsers`.
    let p = granted(
        json!({}),
        unknown_after(
            change(
                "google_cloud_run_v2_service_iam_member.caller",
                Value::Null,
                member(
                    "user:placeholder@acme.example",
                    "roles/run.invoker",
                    json!([]),
                ),
            ),
            "member",
        ),
    );
    assert_eq!(p.anyone_allowed, Verdict::Unknown);
    assert_eq!(p.public, Verdict::Unknown);
}

#[test]
fn an_unknown_member_of_a_project_policy_is_never_the_public() {
    // Project, folder and organization policies refuse `allUsers` and `allAuthenticatedUsers`:
    // an unknown member there is someone, never anyone on the internet.
    let p = granted(
        json!({}),
        unknown_after(
            change(
                "google_project_iam_member.caller",
                Value::Null,
                json!({"project": PROJECT, "role": "roles/run.invoker",
                       "member": "user:placeholder@acme.example", "condition": []}),
            ),
            "member",
        ),
    );
    assert!(p.invokers.iter().any(|i| i.principal == Principal::Unknown));
    assert_eq!(p.anyone_allowed, Verdict::No);
    assert_eq!(p.public, Verdict::No);
}

#[test]
fn a_disabled_invoker_check_lets_anyone_in() {
    // `invoker_iam_disabled = true`: run.routes.invoke is not checked, whoever holds it.
    let p = granted(
        json!({"invoker_iam_disabled": true}),
        change(
            "google_cloud_run_v2_service_iam_member.caller",
            Value::Null,
            member(
                "serviceAccount:frontend@acme-prod.iam.gserviceaccount.com",
                "roles/run.invoker",
                json!([]),
            ),
        ),
    );
    assert_eq!(p.anyone_allowed, Verdict::Yes);
    assert_eq!(p.public, Verdict::Yes);
}

#[test]
fn an_invoker_check_set_to_an_unknown_value_may_be_off() {
    // An update that sets `invoker_iam_disabled` to a value only known at apply.
    let report = analyze(vec![unknown_after(
        change(
            API,
            service(json!({})),
            service(json!({"invoker_iam_disabled": false})),
        ),
        "invoker_iam_disabled",
    )]);
    let p = after(&report, API);
    assert_eq!(p.anyone_allowed, Verdict::Unknown);
    assert_eq!(p.public, Verdict::Unknown);
}

#[test]
fn an_unknown_role_on_the_service_may_be_the_invoker_role() {
    // A role only known at apply, granted to allUsers on the service itself, may be
    // roles/run.invoker: allUsers may invoke it, not certainly.
    let p = granted(
        json!({}),
        unknown_after(
            change(
                "google_cloud_run_v2_service_iam_member.caller",
                Value::Null,
                member("allUsers", "roles/run.invoker", json!([])),
            ),
            "role",
        ),
    );
    assert_eq!(p.invokers.len(), 1);
    assert!(!p.invokers.iter().next().expect("an invoker").certain());
    assert_eq!(p.public, Verdict::Unknown);
}

#[test]
fn an_unknown_role_in_a_project_policy_is_left_unresolved() {
    // At project level the same grant would reach every workload of the project: it is listed
    // as unresolved instead of as an invoker of each.
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        unknown_after(
            change(
                "google_project_iam_member.caller",
                Value::Null,
                json!({"project": PROJECT, "role": "roles/run.invoker",
                       "member": "user:carol@acme.example", "condition": []}),
            ),
            "role",
        ),
    ]);
    let p = after(&report, API);
    assert!(p.invokers.is_empty(), "{:?}", p.invokers);
    assert!(
        report
            .unresolved
            .iter()
            .any(|u| u.address == "google_project_iam_member.caller"),
        "{:?}",
        report.unresolved
    );
}

#[test]
fn folder_and_organization_grants_count_at_their_level() {
    // The plan does not say which folder or organization holds the project; their grants are
    // counted as applying, at their own level.
    for (address, scope, level) in [
        (
            "google_folder_iam_member.caller",
            json!({"folder": "folders/4711"}),
            Level::Folder,
        ),
        (
            "google_organization_iam_member.caller",
            json!({"org_id": "123456789012"}),
            Level::Organization,
        ),
    ] {
        let mut values = json!({"role": "roles/run.invoker", "member": "user:carol@acme.example",
                                "condition": []});
        for (k, v) in scope.as_object().unwrap() {
            values[k] = v.clone();
        }
        let p = granted(json!({}), change(address, Value::Null, values));
        assert_eq!(p.invokers.len(), 1, "{address}");
        assert_eq!(
            p.invokers.iter().next().expect("an invoker").grants[0].level,
            level,
            "{address}"
        );
        assert!(
            p.invokers.iter().next().expect("an invoker").certain(),
            "{address}"
        );
    }
}

#[test]
fn every_resource_that_grants_a_principal_is_kept() {
    // allUsers holds the invoker role through two IAM resources: removing one leaves the
    // other, so both are evidence.
    let binding = json!({"name": "api", "location": REGION, "project": PROJECT,
                         "role": "roles/run.invoker", "members": ["allUsers"], "condition": []});
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        change(
            "google_cloud_run_v2_service_iam_member.caller",
            Value::Null,
            member("allUsers", "roles/run.invoker", json!([])),
        ),
        change(
            "google_cloud_run_v2_service_iam_binding.callers",
            Value::Null,
            binding,
        ),
    ]);
    let p = after(&report, API);
    assert_eq!(p.invokers.len(), 1);
    let addresses: Vec<&str> = p
        .invokers
        .iter()
        .next()
        .expect("an invoker")
        .grants
        .iter()
        .map(|g| &*g.address)
        .collect();
    assert_eq!(
        addresses,
        [
            "google_cloud_run_v2_service_iam_binding.callers",
            "google_cloud_run_v2_service_iam_member.caller"
        ]
    );
    // The binding owns roles/run.invoker: its next apply removes the member's grant.
    assert_eq!(p.conflicts.len(), 1, "{:?}", p.conflicts);
    assert_eq!(p.conflicts[0].addresses, addresses);
}

#[test]
fn a_binding_and_a_member_of_other_roles_do_not_fight() {
    // An `*_iam_binding` is authoritative for its own role only.
    let binding = json!({"name": "api", "location": REGION, "project": PROJECT,
                         "role": "roles/run.invoker", "members": ["group:callers@acme.example"],
                         "condition": []});
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        change(
            "google_cloud_run_v2_service_iam_member.viewer",
            Value::Null,
            member("user:carol@acme.example", "roles/run.viewer", json!([])),
        ),
        change(
            "google_cloud_run_v2_service_iam_binding.callers",
            Value::Null,
            binding,
        ),
    ]);
    let p = after(&report, API);
    assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
}

#[test]
fn project_grants_do_not_fight_with_the_service_policy() {
    // A project's policy and a service's policy are two policies: an authoritative
    // `*_iam_policy` on the service overwrites neither the project's bindings nor is
    // overwritten by them.
    let policy = json!({"name": "api", "location": REGION, "project": PROJECT,
        "policy_data": "{\"bindings\":[{\"members\":[\"group:callers@acme.example\"],\"role\":\"roles/run.invoker\"}]}"});
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        change(
            "google_cloud_run_v2_service_iam_policy.api",
            Value::Null,
            policy,
        ),
        change(
            "google_project_iam_member.caller",
            Value::Null,
            json!({"project": PROJECT, "role": "roles/run.invoker",
                   "member": "user:carol@acme.example", "condition": []}),
        ),
    ]);
    let p = after(&report, API);
    assert_eq!(p.invokers.len(), 2, "{:?}", p.invokers);
    assert!(p.conflicts.is_empty(), "{:?}", p.conflicts);
}

#[test]
fn a_run_app_url_set_to_an_unknown_value_may_stay_open() {
    // An update sets `default_uri_disabled` to a value only known at apply, on a service that
    // allUsers may invoke at ingress `all`: the run.app URL may stay open, and the reason says
    // which value decides it.
    let report = analyze(vec![
        unknown_after(
            change(
                API,
                service(json!({})),
                service(json!({"default_uri_disabled": true})),
            ),
            "default_uri_disabled",
        ),
        unchanged(
            "google_cloud_run_v2_service_iam_member.public",
            member("allUsers", "roles/run.invoker", json!([])),
        ),
    ]);
    let p = after(&report, API);
    assert_eq!(p.public, Verdict::Unknown);
    assert_eq!(p.reachable, Verdict::Unknown);
    assert!(
        p.public_reasons
            .iter()
            .any(|r| r.contains("run.app URL is disabled is unknown")),
        "{:?}",
        p.public_reasons
    );
}

/// A Cloud Run domain mapping of `api.acme.example` to the service named `route_name`.
pub(crate) fn domain_mapping(route_name: &str) -> Value {
    json!({
        "name": "api.acme.example", "location": REGION, "project": PROJECT,
        "metadata": [{"namespace": PROJECT, "annotations": null, "labels": null}],
        "spec": [{"route_name": route_name, "certificate_mode": "AUTOMATIC",
                  "force_override": false}],
    })
}

const MAPPING: &str = "google_cloud_run_domain_mapping.api";

#[test]
fn a_domain_mapping_needs_ingress_all() {
    // Traffic to a mapped domain comes from outside any load balancer, like the run.app URL:
    // ingress `internal-and-cloud-load-balancing` turns it away. The only load balancer has
    // IAP, so nothing reaches the service.
    let p = created(
        json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"}),
        "allUsers",
        [
            load_balancer(iap_on()),
            vec![unchanged(MAPPING, domain_mapping("api"))],
        ]
        .concat(),
    );
    assert_eq!(p.domain_mappings.len(), 1);
    assert_eq!(p.public, Verdict::No);
    assert_eq!(p.reachable, Verdict::No);
}

#[test]
fn a_domain_mapping_whose_service_is_unknown_may_serve_it() {
    // A mapping created with a route_name only known at apply may serve any service of its
    // project and location: the run.app URL is off and the load balancer has IAP, so that
    // mapping alone may make the service public, and the reason says so.
    let p = created(
        json!({"default_uri_disabled": true}),
        "allUsers",
        [
            load_balancer(iap_on()),
            vec![unknown_after(
                change(MAPPING, Value::Null, domain_mapping("api")),
                "spec",
            )],
        ]
        .concat(),
    );
    assert_eq!(p.public, Verdict::Unknown);
    assert!(
        p.public_reasons
            .iter()
            .any(|r| r.contains(&format!("domain mapping `{MAPPING}` may serve it"))),
        "{:?}",
        p.public_reasons
    );
}

#[test]
fn a_domain_mapping_whose_service_is_unknown_serves_only_its_own_region() {
    // The provider maps a domain to a service of the mapping's own location and project: a
    // mapping in another region whose route_name is only known at apply cannot serve this
    // service, which stays closed (run.app URL off, the only load balancer behind IAP).
    let mut elsewhere = domain_mapping("api");
    elsewhere["location"] = json!("us-central1");
    let p = created(
        json!({"default_uri_disabled": true}),
        "allUsers",
        [
            load_balancer(iap_on()),
            vec![unknown_after(
                change(MAPPING, Value::Null, elsewhere),
                "spec",
            )],
        ]
        .concat(),
    );
    assert_eq!(p.public, Verdict::No, "{:?}", p.public_reasons);
    assert!(p.domain_mappings.is_empty());
}

#[test]
fn proven_paths_are_not_called_possible() {
    // Ingress becomes unknown at apply: the load balancer and the domain mapping that the plan
    // proves to reach the service may let the public in, but they certainly point at it.
    let report = analyze(
        [
            vec![
                unknown_after(
                    change(
                        API,
                        service(json!({})),
                        service(json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_ONLY"})),
                    ),
                    "ingress",
                ),
                unchanged(
                    "google_cloud_run_v2_service_iam_member.public",
                    member("allUsers", "roles/run.invoker", json!([])),
                ),
                unchanged(MAPPING, domain_mapping("api")),
            ],
            load_balancer(json!([])),
        ]
        .concat(),
    );
    let p = after(&report, API);
    assert_eq!(p.public, Verdict::Unknown);
    assert!(
        !p.public_reasons
            .iter()
            .any(|r| r.contains("may serve it") || r.contains("cannot be tied")),
        "{:?}",
        p.public_reasons
    );
}

#[test]
fn a_role_whose_permissions_are_unknown_in_a_project_policy_is_left_unresolved() {
    // A project policy grants roles/run.invoker to alice and a custom role defined outside the
    // plan to bob. What bob's role allows cannot be known; at project level it would reach
    // every workload, so bob is left unresolved rather than listed everywhere as an invoker.
    let policy_data = json!({"bindings": [
        {"role": "roles/run.invoker", "members": ["user:alice@acme.example"]},
        {"role": format!("projects/{PROJECT}/roles/legacyCaller"),
         "members": ["user:bob@acme.example"]},
    ]})
    .to_string();
    let p = granted(
        json!({}),
        change(
            "google_project_iam_policy.acme",
            Value::Null,
            json!({"project": PROJECT, "policy_data": policy_data}),
        ),
    );
    let members: Vec<&str> = p.invokers.iter().map(|i| i.principal.display()).collect();
    assert_eq!(members, ["user:alice@acme.example"]);
}

/// The v2 service `api` whose one container sets `env`.
fn service_with_env(env: Value) -> Value {
    service(json!({"template": [{
        "service_account": format!("api-runtime@{PROJECT}.iam.gserviceaccount.com"),
        "containers": [{"image": "europe-west1-docker.pkg.dev/acme-prod/c/api:1", "env": env}],
        "vpc_access": [], "volumes": []}]}))
}

#[test]
fn an_env_value_known_only_at_apply_is_still_plain_text() {
    // An env `value` computed at apply (from another resource's attribute, say) lands in the
    // revision as plain text all the same: under a credential's name it is flagged; under a
    // setting's name it is not.
    let env = json!([
        {"name": "API_TOKEN", "value": null, "value_source": []},
        {"name": "LOG_LEVEL", "value": null, "value_source": []},
    ]);
    let mut created = change(API, Value::Null, service_with_env(env));
    created["change"]["after_unknown"]["template"] =
        json!([{"containers": [{"env": [{"value": true}, {"value": true}]}]}]);
    let report = analyze(vec![created]);
    let names: Vec<(&str, &str)> = after(&report, API)
        .plaintext_secrets
        .iter()
        .map(|s| (s.name.as_str(), s.reason))
        .collect();
    assert_eq!(names, [("API_TOKEN", "secret-like name")]);
}

#[test]
fn a_named_binary_authorization_policy_is_not_the_project_default() {
    // `binary_authorization[0].policy` names a platform policy; the project's default policy
    // decides only for `use_default = true`. A default policy in the plan that lets every image
    // through does not turn the named policy off, and does for the service that uses the
    // default.
    let allow_all = change(
        "google_binary_authorization_policy.project",
        Value::Null,
        json!({"project": PROJECT, "default_admission_rule": [
            {"evaluation_mode": "ALWAYS_ALLOW", "enforcement_mode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
             "require_attestations_by": []}]}),
    );
    let with = |binary_authorization: Value| {
        let report = analyze(vec![
            change(
                API,
                Value::Null,
                service(json!({"binary_authorization": binary_authorization})),
            ),
            allow_all.clone(),
        ]);
        after(&report, API).binary_authorization
    };
    let named = with(
        json!([{"use_default": false, "breakglass_justification": null,
        "policy": format!("projects/{PROJECT}/platforms/cloudRun/policies/strict")}]),
    );
    assert_eq!(named, Some(Setting::Set(BinaryAuthorization::Enforced)));
    let default = with(
        json!([{"use_default": true, "breakglass_justification": null,
        "policy": null}]),
    );
    assert_eq!(default, Some(Setting::Set(BinaryAuthorization::Off)));
}

#[test]
fn another_projects_default_binary_authorization_policy_does_not_decide() {
    // The default policy is per project: one in another project that lets every image through
    // leaves this service, which uses its own project's default, enforced.
    let report = analyze(vec![
        change(
            API,
            Value::Null,
            service(json!({"binary_authorization": [{"use_default": true,
                "breakglass_justification": null, "policy": null}]})),
        ),
        change(
            "google_binary_authorization_policy.other",
            Value::Null,
            json!({"project": "acme-sandbox", "default_admission_rule": [
                {"evaluation_mode": "ALWAYS_ALLOW",
                 "enforcement_mode": "ENFORCED_BLOCK_AND_AUDIT_LOG",
                 "require_attestations_by": []}]}),
        ),
    ]);
    assert_eq!(
        after(&report, API).binary_authorization,
        Some(Setting::Set(BinaryAuthorization::Enforced))
    );
}

#[test]
fn a_grant_proven_over_an_unknown_runtime_account_is_listed_once_as_proven() {
    // The runtime account is only known at apply, so it may be any account of its project; a
    // project-level grant of roles/iam.serviceAccountUser reaches whichever it is. That grant
    // is proven power over the runtime identity, and is listed once, as proven, not again as
    // the possible power over each account it may be.
    let mut created = change(API, Value::Null, service(json!({})));
    created["change"]["after"]["template"][0]["service_account"] = Value::Null;
    created["change"]["after_unknown"]["template"] = json!([{"service_account": true}]);
    let configured = json!({"address": API, "expressions": {"template": [
        {"service_account": {"references": ["var.runtime_account"]}}]}});
    let report = analyze_configured(
        vec![
            created,
            unchanged(
                "google_service_account.worker",
                json!({"account_id": "worker", "project": PROJECT, "name":
                format!("projects/{PROJECT}/serviceAccounts/worker@{PROJECT}.iam.gserviceaccount.com"),
                "email": format!("worker@{PROJECT}.iam.gserviceaccount.com"),
                "unique_id": "104000000000000000001"}),
            ),
            change(
                "google_project_iam_member.dev",
                Value::Null,
                json!({"project": PROJECT, "role": "roles/iam.serviceAccountUser",
                   "member": "user:dev@acme.com", "condition": []}),
            ),
        ],
        vec![configured],
    );
    let dev: Vec<bool> = after(&report, API)
        .identity
        .impersonators
        .iter()
        .filter(|i| i.principal.identity_key() == "user:dev@acme.com")
        .map(|i| i.certain)
        .collect();
    assert_eq!(dev, [true]);
}

/// A plan that creates `api` reading the secret `db-password` of its project from an env var,
/// with `grants` (IAM changes); the secrets its runtime account provably cannot read.
fn secrets_without_access(grants: Vec<Value>) -> Vec<String> {
    let env = json!([{"name": "DB_PASSWORD", "value": null, "value_source": [
        {"secret_key_ref": [{"secret": "db-password", "version": "latest"}]}]}]);
    let mut changes = vec![change(API, Value::Null, service_with_env(env))];
    changes.extend(grants);
    after(&analyze(changes), API).secrets_without_access.clone()
}

/// A new `*_iam_member` at `address` granting `role` to `member` on `target` (`{"project": …}`,
/// `{"folder": …}`, `{"bucket": …}`…), without a condition.
fn iam_member(address: &str, target: Value, role: &str, member: &str) -> Value {
    let mut values = target;
    values["role"] = role.into();
    values["member"] = member.into();
    values["condition"] = json!([]);
    change(address, Value::Null, values)
}

/// `role` granted to the runtime account by a `google_{scope}_iam_member` with `target`.
fn grant_to_runtime(scope: &str, target: Value, role: &str) -> Value {
    iam_member(
        &format!("google_{scope}_iam_member.grant"),
        target,
        role,
        &format!("serviceAccount:api-runtime@{PROJECT}.iam.gserviceaccount.com"),
    )
}

#[test]
fn a_secret_is_read_through_a_grant_on_its_project_or_above() {
    const ACCESSOR: &str = "roles/secretmanager.secretAccessor";
    let missing = vec![format!("projects/{PROJECT}/secrets/db-password")];
    assert_eq!(secrets_without_access(Vec::new()), missing);
    // The secret's own project, or a folder above it (which folder holds the project is outside
    // the plan, so any may), gives access.
    assert!(
        secrets_without_access(vec![grant_to_runtime(
            "project",
            json!({"project": PROJECT}),
            ACCESSOR
        )])
        .is_empty()
    );
    assert!(
        secrets_without_access(vec![grant_to_runtime(
            "folder",
            json!({"folder": "folders/1234567"}),
            ACCESSOR
        )])
        .is_empty()
    );
    // Another project's grant does not.
    assert_eq!(
        secrets_without_access(vec![grant_to_runtime(
            "project",
            json!({"project": "acme-sandbox"}),
            ACCESSOR
        )]),
        missing
    );
    // A project known only at apply may be the secret's.
    let mut unknown_project = grant_to_runtime("project", json!({"project": PROJECT}), ACCESSOR);
    unknown_project = unknown_after(unknown_project, "project");
    assert!(secrets_without_access(vec![unknown_project]).is_empty());
    // A grant on a bucket, even of a custom role, reads no secret.
    assert_eq!(
        secrets_without_access(vec![grant_to_runtime(
            "storage_bucket",
            json!({"bucket": "acme-prod-assets"}),
            &format!("projects/{PROJECT}/roles/assetReader")
        )]),
        missing
    );
}

#[test]
fn a_secret_grant_counts_only_for_the_runtime_account_unless_its_role_may_carry_access() {
    let missing = vec![format!("projects/{PROJECT}/secrets/db-password")];
    // A binding or a policy whose members the plan knows, none of them the runtime account,
    // gives it nothing.
    let binding = change(
        "google_project_iam_binding.accessors",
        Value::Null,
        json!({"project": PROJECT, "role": "roles/secretmanager.secretAccessor",
               "members": ["user:dev@acme.com"], "condition": []}),
    );
    assert_eq!(secrets_without_access(vec![binding]), missing);
    let policy_data = json!({"bindings": [{"role": "roles/secretmanager.secretAccessor",
                                           "members": ["user:dev@acme.com"]}]});
    let policy = change(
        "google_project_iam_policy.project",
        Value::Null,
        json!({"project": PROJECT, "policy_data": policy_data.to_string()}),
    );
    assert_eq!(secrets_without_access(vec![policy]), missing);
    // A custom role granted to it may carry secretmanager.versions.access.
    assert!(
        secrets_without_access(vec![grant_to_runtime(
            "project",
            json!({"project": PROJECT}),
            &format!("projects/{PROJECT}/roles/secretReader")
        )])
        .is_empty()
    );
}

#[test]
fn an_account_in_a_chain_is_not_its_own_impersonator() {
    // ci@acme-tools can mint tokens for the runtime account (a grant on that account), and
    // holds a role over every account of its own project, itself included. Acting as itself
    // adds nothing: ci is listed once, through its grant on the runtime account, never as
    // acting as ci "which can act as" the runtime account. Whether the plan manages ci or
    // only names it.
    let ci = "ci@acme-tools.iam.gserviceaccount.com";
    let runtime = format!("api-runtime@{PROJECT}.iam.gserviceaccount.com");
    for managed in [true, false] {
        let mut changes = vec![
            change(API, Value::Null, service(json!({}))),
            change(
                "google_service_account_iam_member.ci_mints",
                Value::Null,
                json!({"service_account_id":
                           format!("projects/{PROJECT}/serviceAccounts/{runtime}"),
                       "role": "roles/iam.serviceAccountTokenCreator",
                       "member": format!("serviceAccount:{ci}"), "condition": []}),
            ),
            change(
                "google_project_iam_member.ci_tools",
                Value::Null,
                json!({"project": "acme-tools", "role": "roles/iam.serviceAccountUser",
                       "member": format!("serviceAccount:{ci}"), "condition": []}),
            ),
        ];
        if managed {
            changes.push(unchanged(
                "google_service_account.ci",
                json!({"account_id": "ci", "project": "acme-tools",
                       "name": format!("projects/acme-tools/serviceAccounts/{ci}"),
                       "email": ci, "unique_id": "104000000000000000003"}),
            ));
        }
        let report = analyze(changes);
        let chains: Vec<(&str, &str)> = after(&report, API)
            .identity
            .impersonators
            .iter()
            .map(|i| (i.principal.display(), i.granted_by.as_str()))
            .collect();
        assert_eq!(
            chains,
            [(
                format!("serviceAccount:{ci}").as_str(),
                "google_service_account_iam_member.ci_mints"
            )],
            "managed: {managed}"
        );
    }
}

#[test]
fn a_member_unknown_at_plan_time_is_not_taken_to_be_a_constant_it_may_come_from() {
    // `member = local.open ? "allUsers" : var.partner`, with `local.open` computed from a
    // data source read at apply: the plan shows the member unknown, and `configuration` lists
    // the variable (a constant) and the data source among its references, not the literal or
    // the operator. The member may be `allUsers`: the service may be public, never `no`.
    let mut grant = change(
        "google_cloud_run_v2_service_iam_member.partner",
        Value::Null,
        member(
            "user:partner@partner.example",
            "roles/run.invoker",
            json!([]),
        ),
    );
    grant = unknown_after(grant, "member");
    let configured = json!({"address": "google_cloud_run_v2_service_iam_member.partner",
        "expressions": {"member": {"references": [
            "data.external.flags.result", "data.external.flags", "var.partner"]}}});
    let report = analyze_with_variables(
        vec![change(API, Value::Null, service(json!({}))), grant],
        vec![configured],
        json!({"partner": {"value": "user:partner@partner.example"}}),
    );
    let p = after(&report, API);
    assert_eq!(p.public, Verdict::Unknown, "{:?}", p.public_reasons);
    let members: Vec<&str> = p.invokers.iter().map(|i| i.principal.display()).collect();
    assert_eq!(members, ["(unknown)"]);
}

#[test]
fn a_resource_grant_on_a_sensitive_id_never_shows_the_id() {
    // A bucket IAM grant to the runtime account whose bucket name the plan marks sensitive: the
    // role is listed on the bucket as `(sensitive)`, never by its name, in any output.
    let mut grant = change(
        "google_storage_bucket_iam_member.uploads",
        Value::Null,
        json!({"bucket": "PLANTED-uploads", "role": "roles/storage.objectAdmin",
               "member": format!("serviceAccount:api-runtime@{PROJECT}.iam.gserviceaccount.com"),
               "condition": []}),
    );
    grant["change"]["after_sensitive"] = json!({"bucket": true});
    let report = analyze(vec![change(API, Value::Null, service(json!({}))), grant]);
    let on: Vec<String> = after(&report, API)
        .identity
        .roles
        .iter()
        .filter_map(|r| r.resource.as_ref().map(|g| g.display()))
        .collect();
    assert_eq!(on, ["google_storage_bucket (sensitive)"]);
    let mut json = Vec::new();
    crate::report::json::render(&report, &mut json).expect("render");
    assert!(!String::from_utf8_lossy(&json).contains("PLANTED"));
}

#[test]
fn a_principal_set_of_service_accounts_reaches_the_accounts_it_names() {
    // `principalSet://cloudresourcemanager.googleapis.com/{projects,folders,organizations}/ID/
    // type/ServiceAccount` is every service account there. A project's set is named by its
    // number: the runtime account of acme-prod (number 111111111111) is not in acme-other's
    // (222222222222) set. Which folder or organization holds the project is outside the plan,
    // so their sets may hold it: their roles are the account's, at their level.
    let set = |kind: &str, id: &str| {
        format!(
            "principalSet://cloudresourcemanager.googleapis.com/{kind}/{id}/type/ServiceAccount"
        )
    };
    let project = |name: &str, id: &str, number: &str| {
        unchanged(
            &format!("google_project.{name}"),
            json!({"project_id": id, "number": number, "name": id, "folder_id": null,
                   "org_id": "456"}),
        )
    };
    let grant = |address: &str, target: Value, role: &str, member: String| {
        iam_member(address, target, role, &member)
    };
    let report = analyze(vec![
        // Listed first: a project whose number must not be taken for acme-prod's.
        project("other", "acme-other", "222222222222"),
        project("prod", PROJECT, "111111111111"),
        change(API, Value::Null, service(json!({}))),
        grant(
            "google_project_iam_member.other_accounts",
            json!({"project": PROJECT}),
            "roles/storage.admin",
            set("projects", "222222222222"),
        ),
        grant(
            "google_folder_iam_member.folder_accounts",
            json!({"folder": "folders/123"}),
            "roles/pubsub.editor",
            set("folders", "123"),
        ),
        grant(
            "google_organization_iam_member.org_accounts",
            json!({"org_id": "456"}),
            "roles/logging.viewer",
            set("organizations", "456"),
        ),
    ]);
    let roles: Vec<(&str, Level)> = after(&report, API)
        .identity
        .roles
        .iter()
        .map(|r| (r.role.as_str(), r.level))
        .collect();
    assert_eq!(
        roles,
        [
            ("roles/logging.viewer", Level::Organization),
            ("roles/pubsub.editor", Level::Folder),
        ]
    );
}

#[test]
fn who_passes_a_backends_iap_from_project_folder_and_unknown_grants() {
    // The only path is an external load balancer whose backend has IAP; allUsers may invoke the
    // service behind it. IAP's accessor role granted on the backend's project proves access; on
    // a folder it counts, as every folder grant does (the report says folders are assumed to
    // hold the plan's projects); an unknown member
    // of a project grant is someone, never allUsers (project policies refuse it): IAP still
    // keeps the public out.
    let accessor = |address: &str, target: Value, member: &str| {
        iam_member(address, target, "roles/iap.httpsResourceAccessor", member)
    };
    let unknown = unknown_after(
        accessor(
            "google_project_iam_member.iap_someone",
            json!({"project": PROJECT}),
            "user:someone@acme.com",
        ),
        "member",
    );
    let p = created(
        json!({"default_uri_disabled": true}),
        "allUsers",
        [
            load_balancer(iap_on()),
            vec![
                accessor(
                    "google_project_iam_member.iap_dev",
                    json!({"project": PROJECT}),
                    "user:dev@acme.com",
                ),
                accessor(
                    "google_folder_iam_member.iap_ops",
                    json!({"folder": "folders/123"}),
                    "group:ops@acme.com",
                ),
                unknown,
            ],
        ]
        .concat(),
    );
    assert_eq!(p.public, Verdict::No, "{:?}", p.public_reasons);
    let accessors: Vec<(&str, bool)> = p
        .iap_accessors
        .iter()
        .map(|a| (a.principal.display(), a.certain()))
        .collect();
    assert_eq!(
        accessors,
        [
            ("(unknown)", true),
            ("group:ops@acme.com", true),
            ("user:dev@acme.com", true)
        ]
    );
}

#[test]
fn an_iap_grant_on_a_project_known_only_at_apply_may_not_be_the_backends() {
    // IAP's accessor role granted on a project the configuration sets to a value read at
    // apply: that project may be the backend's, or not, so its member only may pass.
    let mut grant = change(
        "google_project_iam_member.iap_maybe",
        Value::Null,
        json!({"project": PROJECT, "role": "roles/iap.httpsResourceAccessor",
               "member": "user:maybe@acme.com", "condition": []}),
    );
    grant = unknown_after(grant, "project");
    let configured = json!({"address": "google_project_iam_member.iap_maybe",
        "expressions": {"project": {"references": ["data.google_project.other.project_id",
                                                   "data.google_project.other"]}}});
    let report = analyze_configured(
        [
            vec![
                change(
                    API,
                    Value::Null,
                    service(json!({"default_uri_disabled": true})),
                ),
                grant,
            ],
            load_balancer(iap_on()),
        ]
        .concat(),
        vec![configured],
    );
    let accessors: Vec<(&str, bool)> = after(&report, API)
        .iap_accessors
        .iter()
        .map(|a| (a.principal.display(), a.certain()))
        .collect();
    assert_eq!(accessors, [("user:maybe@acme.com", false)]);
}

// Round four (branch mut-resolve): survivors of `src/posture/identity/resolve.rs`.

#[test]
fn a_runtime_account_the_plan_marks_sensitive_is_never_shown() {
    // `service_account` set from a sensitive variable: the plan marks it sensitive, and the
    // report names the runtime account `(sensitive)`, never by its email, in any output.
    let mut created = change(API, Value::Null, service(json!({})));
    created["change"]["after_sensitive"] = json!({"template": [{"service_account": true}]});
    let report = analyze(vec![created]);
    assert_eq!(
        after(&report, API).identity.service_account.as_deref(),
        Some("(sensitive)")
    );
    let mut json = Vec::new();
    crate::report::json::render(&report, &mut json).expect("render");
    assert!(!String::from_utf8_lossy(&json).contains("api-runtime"));
}

/// The direction of each of `report`'s findings of `rule`.
fn directions_of(report: &Report, rule: &str) -> Vec<crate::rules::Direction> {
    report
        .findings
        .iter()
        .filter(|f| f.rule.id == rule)
        .map(|f| f.direction)
        .collect()
}

/// An existing `google_service_account` `name` of acme-prod, as the provider reads it back.
fn existing_account(name: &str, unique_id: &str) -> Value {
    let email = format!("{name}@{PROJECT}.iam.gserviceaccount.com");
    unchanged(
        &format!("google_service_account.{}", name.replace('-', "_")),
        json!({"account_id": name, "project": PROJECT, "email": email,
               "name": format!("projects/{PROJECT}/serviceAccounts/{email}"),
               "unique_id": unique_id}),
    )
}

/// A new `google_service_account_iam_member` at `address` granting `role` on the acme-prod
/// account `on` to `member`.
fn account_grant(address: &str, on: &str, role: &str, member: &str) -> Value {
    change(address, Value::Null, account_grant_values(on, role, member))
}

/// [`account_grant`], in place before the plan.
fn unchanged_grant(address: &str, on: &str, role: &str, member: &str) -> Value {
    unchanged(address, account_grant_values(on, role, member))
}

fn account_grant_values(on: &str, role: &str, member: &str) -> Value {
    json!({"service_account_id":
               format!("projects/{PROJECT}/serviceAccounts/{on}@{PROJECT}.iam.gserviceaccount.com"),
           "role": role, "member": member, "condition": []})
}

#[test]
fn an_old_key_of_an_account_newly_able_to_act_as_the_runtime_account_is_a_new_credential() {
    // builder has had a key for long, and dave has long been able to mint builder's tokens;
    // the plan lets builder act as the runtime account. The key and dave now hold the
    // service's identity: that is the plan's doing, though the key and dave's grant are old.
    let key = unchanged(
        "google_service_account_key.builder",
        json!({"service_account_id": format!(
                   "projects/{PROJECT}/serviceAccounts/builder@{PROJECT}.iam.gserviceaccount.com"),
               "key_algorithm": "KEY_ALG_RSA_2048",
               "private_key_type": "TYPE_GOOGLE_CREDENTIALS_FILE",
               "public_key_type": "TYPE_X509_PEM_FILE", "keepers": null}),
    );
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        existing_account("api-runtime", "104000000000000000001"),
        existing_account("builder", "104000000000000000002"),
        key,
        unchanged_grant(
            "google_service_account_iam_member.dave_mints_builder",
            "builder",
            "roles/iam.serviceAccountTokenCreator",
            "user:dave@acme.com",
        ),
        account_grant(
            "google_service_account_iam_member.builder_acts",
            "api-runtime",
            "roles/iam.serviceAccountUser",
            &format!("serviceAccount:builder@{PROJECT}.iam.gserviceaccount.com"),
        ),
    ]);
    use crate::rules::Direction::Worsened;
    assert_eq!(directions_of(&report, "identity-key-created"), [Worsened]);
    assert_eq!(
        directions_of(&report, "identity-impersonation"),
        [Worsened, Worsened]
    );
}

/// The runtime account's impersonators as (principal, via, proven).
fn impersonators(report: &Report) -> Vec<(String, Vec<String>, bool)> {
    after(report, API)
        .identity
        .impersonators
        .iter()
        .map(|i| (i.principal.display().to_owned(), i.via.clone(), i.certain))
        .collect()
}

#[test]
fn whoever_acts_through_an_account_that_may_use_the_runtime_one_only_may_use_it() {
    // A grant on an account the plan cannot name (its `service_account_id` is only known at
    // apply) lets builder act as it: that account may be the runtime one, or not. dave can
    // mint builder's tokens, proven, but reaches the runtime account only through that possible
    // hop: dave's power over it is possible too, never proven.
    let maybe_runtime = unknown_after(
        account_grant(
            "google_service_account_iam_member.builder_acts",
            "api-runtime",
            "roles/iam.serviceAccountUser",
            &format!("serviceAccount:builder@{PROJECT}.iam.gserviceaccount.com"),
        ),
        "service_account_id",
    );
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        existing_account("builder", "104000000000000000002"),
        maybe_runtime,
        account_grant(
            "google_service_account_iam_member.dave_mints_builder",
            "builder",
            "roles/iam.serviceAccountTokenCreator",
            "user:dave@acme.com",
        ),
    ]);
    let builder = format!("builder@{PROJECT}.iam.gserviceaccount.com");
    assert_eq!(
        impersonators(&report),
        [
            (format!("serviceAccount:{builder}"), Vec::new(), false),
            (
                "user:dave@acme.com".to_owned(),
                vec![builder.clone()],
                false
            ),
        ]
    );
}

/// The runtime account's keys of a plan that keeps `api` and creates a key for
/// `service_account_id`, as (address, proven).
fn keys_for(service_account_id: &str) -> (Vec<(String, bool)>, Report) {
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        change(
            "google_service_account_key.exported",
            Value::Null,
            json!({"service_account_id": service_account_id,
                   "key_algorithm": "KEY_ALG_RSA_2048",
                   "private_key_type": "TYPE_GOOGLE_CREDENTIALS_FILE",
                   "public_key_type": "TYPE_X509_PEM_FILE", "keepers": null}),
        ),
    ]);
    let keys = after(&report, API)
        .identity
        .keys
        .iter()
        .map(|k| (k.address.clone(), k.certain))
        .collect();
    (keys, report)
}

#[test]
fn a_key_for_a_unique_id_the_plan_does_not_know_may_be_the_runtime_accounts() {
    // A key's `service_account_id` may name the account by its numeric unique id
    // (`projects/P/serviceAccounts/UNIQUE_ID`). No account of the plan has this one, and the
    // runtime account is not managed in the plan, so its unique id is unknown: the key may be
    // its credential. Possible, never dropped.
    let (keys, _) = keys_for(&format!(
        "projects/{PROJECT}/serviceAccounts/109876543210987654321"
    ));
    assert_eq!(
        keys,
        [("google_service_account_key.exported".to_owned(), false)]
    );
}

#[test]
fn a_key_for_a_reference_that_is_neither_an_email_nor_a_unique_id_is_for_no_account() {
    // `projects/P/serviceAccounts/builder` names no account: the IAM API takes an email or a
    // unique id there and refuses the key. It is no credential of the runtime account; the
    // report lists it as unresolved.
    let (keys, report) = keys_for(&format!("projects/{PROJECT}/serviceAccounts/builder"));
    assert_eq!(keys, []);
    let unresolved: Vec<&str> = report
        .unresolved
        .iter()
        .filter(|u| u.address == "google_service_account_key.exported")
        .map(|u| u.reason.as_str())
        .collect();
    assert_eq!(
        unresolved,
        ["`builder` names no service account by email or unique id"]
    );
}

#[test]
fn an_account_in_a_chain_named_by_a_sensitive_member_stays_hidden() {
    // The plan marks the member of builder's grant on the runtime account sensitive; dave can
    // mint builder's tokens. dave's chain goes through builder, shown as `(sensitive)`, never
    // by its email.
    let mut builder_acts = account_grant(
        "google_service_account_iam_member.builder_acts",
        "api-runtime",
        "roles/iam.serviceAccountUser",
        &format!("serviceAccount:builder@{PROJECT}.iam.gserviceaccount.com"),
    );
    builder_acts["change"]["after_sensitive"] = json!({"member": true});
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        builder_acts,
        account_grant(
            "google_service_account_iam_member.dave_mints_builder",
            "builder",
            "roles/iam.serviceAccountTokenCreator",
            "user:dave@acme.com",
        ),
    ]);
    assert_eq!(
        impersonators(&report),
        [
            ("(sensitive)".to_owned(), Vec::new(), true),
            (
                "user:dave@acme.com".to_owned(),
                vec!["(sensitive)".to_owned()],
                true
            ),
        ]
    );
}

#[test]
fn a_new_account_whose_email_is_unknown_is_not_its_own_impersonator() {
    // builder is created in acme-tools with an `account_id` taken from a `random_id`, so its
    // email and member are unknown at plan time. The plan lets builder act as the runtime
    // account and grants it roles/iam.serviceAccountUser on acme-tools, over every account
    // there, builder itself included. Acting as itself adds nothing: builder is listed once,
    // through its grant on the runtime account, though no email tells it apart.
    let mut builder = change(
        "google_service_account.builder",
        Value::Null,
        json!({"project": "acme-tools", "display_name": "builder", "disabled": false,
               "description": null}),
    );
    for computed in ["account_id", "email", "member", "name", "unique_id", "id"] {
        builder["change"]["after_unknown"][computed] = json!(true);
    }
    let by_builder = |grant: Value| unknown_after(grant, "member");
    // An attribute reference lists the attribute and its resource.
    let references =
        |to: &str| json!({"references": [to, to.rsplit_once('.').expect("an attribute").0]});
    let mut configured: Vec<Value> = [
        "google_service_account_iam_member.builder_acts",
        "google_project_iam_member.builder_tools",
    ]
    .map(|address| {
        json!({"address": address,
               "expressions": {"member": references("google_service_account.builder.member")}})
    })
    .to_vec();
    configured.push(json!({"address": "google_service_account.builder",
                           "expressions": {"account_id": references("random_id.builder.hex")}}));
    let report = analyze_configured(
        vec![
            unchanged(API, service(json!({}))),
            builder,
            by_builder(account_grant(
                "google_service_account_iam_member.builder_acts",
                "api-runtime",
                "roles/iam.serviceAccountUser",
                "serviceAccount:builder@acme-tools.iam.gserviceaccount.com",
            )),
            by_builder(iam_member(
                "google_project_iam_member.builder_tools",
                json!({"project": "acme-tools"}),
                "roles/iam.serviceAccountUser",
                "serviceAccount:builder@acme-tools.iam.gserviceaccount.com",
            )),
        ],
        configured,
    );
    let chains: Vec<(String, Vec<String>)> = impersonators(&report)
        .into_iter()
        .map(|(principal, via, _)| (principal, via))
        .collect();
    assert_eq!(chains, [("(unknown)".to_owned(), Vec::new())]);
}

#[test]
fn a_proven_impersonator_leaves_the_possible_ones_of_other_grants_listed() {
    // dave can mint the runtime account's tokens, proven; ops can act as an account the plan
    // cannot name (its `service_account_id` is only known at apply), which may be the runtime
    // one. A proven impersonator drops only the possible copy of its own grant: ops stays.
    let maybe_runtime = unknown_after(
        account_grant(
            "google_service_account_iam_member.ops_acts",
            "api-runtime",
            "roles/iam.serviceAccountUser",
            "group:ops@acme.com",
        ),
        "service_account_id",
    );
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        account_grant(
            "google_service_account_iam_member.dave_mints",
            "api-runtime",
            "roles/iam.serviceAccountTokenCreator",
            "user:dave@acme.com",
        ),
        maybe_runtime,
    ]);
    assert_eq!(
        impersonators(&report),
        [
            ("group:ops@acme.com".to_owned(), Vec::new(), false),
            ("user:dave@acme.com".to_owned(), Vec::new(), true),
        ]
    );
}

#[test]
fn a_role_whose_permissions_are_unknown_may_control_the_runtime_account() {
    // A custom role defined outside the plan, granted on the runtime account itself, may carry
    // iam.serviceAccounts.actAs: dev may act as it. A role only known at apply, granted on the
    // project, may be roles/owner: ops may act as every account there.
    let role_at_apply = unknown_after(
        iam_member(
            "google_project_iam_member.ops",
            json!({"project": PROJECT}),
            "roles/owner",
            "group:ops@acme.com",
        ),
        "role",
    );
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        account_grant(
            "google_service_account_iam_member.dev",
            "api-runtime",
            "organizations/456/roles/deployer",
            "user:dev@acme.com",
        ),
        role_at_apply,
    ]);
    let roles: Vec<(&str, &str)> = after(&report, API)
        .identity
        .impersonators
        .iter()
        .map(|i| (i.principal.display(), i.role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("group:ops@acme.com", "(unknown role)"),
            ("user:dev@acme.com", "organizations/456/roles/deployer"),
        ]
    );
}

// Round four (branch mut-resolve): survivors of `src/posture/exposure.rs`, lines changed since
// the first round.

/// `roles/iap.httpsResourceAccessor` for `member` on the load balancer's backend, already in
/// place, with `condition`.
fn backend_accessor(member: &str, condition: Value) -> Value {
    unchanged(
        "google_iap_web_backend_service_iam_member.accessor",
        json!({"project": PROJECT, "web_backend_service": "api-backend",
               "role": "roles/iap.httpsResourceAccessor", "member": member,
               "condition": condition, "etag": "BwYk3xq1Rk0=",
               "id": format!("projects/{PROJECT}/iap_web/compute/services/api-backend/\
                              roles/iap.httpsResourceAccessor/{member}")}),
    )
}

/// The reasons given for `api`'s exposure that name its load balancer.
fn load_balancer_reasons(report: &Report) -> Vec<String> {
    after(report, API)
        .public_reasons
        .iter()
        .filter(|r| r.contains("google_compute_global_forwarding_rule.api"))
        .cloned()
        .collect()
}

#[test]
fn a_load_balancer_that_may_reach_the_service_through_iap_open_to_all_users_says_so() {
    // The serverless NEG's service is only known at apply: the load balancer may front `api`.
    // Its backend's IAP admits allUsers: the reason says the path is possible and IAP open.
    let mut changes = load_balancer_to_an_unknown_service(iap_on());
    changes.push(unchanged(
        API,
        service(json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"})),
    ));
    changes.push(backend_accessor("allUsers", json!([])));
    let report = analyze_configured(
        changes,
        vec![
            json!({"address": "google_compute_region_network_endpoint_group.api",
                    "expressions": {"cloud_run": [{"service": {"references": ["local.api_name"]}}]}}),
        ],
    );
    assert_eq!(
        load_balancer_reasons(&report),
        [
            "load balancer `google_compute_global_forwarding_rule.api` may reach it through IAP \
          that admits allUsers"
        ]
    );
}

#[test]
fn a_load_balancer_through_iap_that_may_admit_all_users_says_so() {
    // The load balancer reaches `api`; its backend's IAP admits allUsers only under an IAM
    // condition, which may or may not hold: the reason says IAP may admit allUsers.
    let until_launch = json!([{"title": "until-launch", "description": "",
        "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}]);
    let mut changes = load_balancer(iap_on());
    changes.push(unchanged(
        API,
        service(json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"})),
    ));
    changes.push(backend_accessor("allUsers", until_launch));
    let report = analyze(changes);
    assert_eq!(
        load_balancer_reasons(&report),
        [
            "load balancer `google_compute_global_forwarding_rule.api` reaches it through IAP \
          that may admit allUsers"
        ]
    );
}

// Mutation testing, fourth round (mut-rest): the survivors of the small rule files.

/// Each finding of `report` as `(rule, direction, message)`.
fn findings_of(report: &Report) -> Vec<(&str, crate::rules::Direction, &str)> {
    report
        .findings
        .iter()
        .map(|f| (f.rule.id, f.direction, f.message.as_str()))
        .collect()
}

#[test]
fn iap_turned_on_for_the_service_is_reported_as_an_improvement_and_off_as_a_worsening() {
    // `iap_enabled = true` puts IAP in front of every path to the service; turning it on is
    // the improvement `iap-removed` reports, turning it off the worsening.
    let on = service(json!({"iap_enabled": true}));
    let off = service(json!({}));
    let iap_findings = |before: Value, after: Value| -> Vec<(crate::rules::Direction, String)> {
        let report = analyze(vec![change(API, before, after)]);
        findings_of(&report)
            .into_iter()
            .filter(|(rule, _, _)| *rule == "iap-removed")
            .map(|(_, direction, message)| (direction, message.to_owned()))
            .collect()
    };
    assert_eq!(
        iap_findings(off.clone(), on.clone()),
        [(
            crate::rules::Direction::Improved,
            "IAP now protects every path to the service".to_owned()
        )]
    );
    assert_eq!(
        iap_findings(on, off),
        [(
            crate::rules::Direction::Worsened,
            "IAP no longer protects every path to the service".to_owned()
        )]
    );
}

/// A `google_service_account` of the acme-tools project, in place before the plan.
fn tools_account(name: &str, unique_id: &str) -> Value {
    let email = format!("{name}@acme-tools.iam.gserviceaccount.com");
    unchanged(
        &format!("google_service_account.{name}"),
        json!({"account_id": name, "project": "acme-tools", "email": email,
               "name": format!("projects/acme-tools/serviceAccounts/{email}"),
               "unique_id": unique_id}),
    )
}

#[test]
fn a_project_grant_held_by_an_account_of_the_chain_counts_from_the_projects_other_accounts() {
    // xacct and yacct (acme-tools) can each act as the runtime account (acme-prod). xacct can
    // also act as every account of acme-tools, yacct included: through yacct, that project
    // grant reaches the runtime account too, whichever of the two accounts the walk meets
    // first (from xacct itself, the grant is xacct acting as itself, which adds nothing).
    let tools = |name: &str| format!("serviceAccount:{name}@acme-tools.iam.gserviceaccount.com");
    let report = analyze(vec![
        unchanged(API, service(json!({}))),
        tools_account("xacct", "104000000000000000011"),
        tools_account("yacct", "104000000000000000012"),
        account_grant(
            "google_service_account_iam_member.x_acts",
            "api-runtime",
            "roles/iam.serviceAccountUser",
            &tools("xacct"),
        ),
        account_grant(
            "google_service_account_iam_member.y_acts",
            "api-runtime",
            "roles/iam.serviceAccountUser",
            &tools("yacct"),
        ),
        iam_member(
            "google_project_iam_member.x_tools",
            json!({"project": "acme-tools"}),
            "roles/iam.serviceAccountUser",
            &tools("xacct"),
        ),
    ]);
    let granted: Vec<(String, Vec<String>, String)> = after(&report, API)
        .identity
        .impersonators
        .iter()
        .map(|i| {
            (
                i.principal.display().to_owned(),
                i.via.clone(),
                i.granted_by.clone(),
            )
        })
        .collect();
    let y = "yacct@acme-tools.iam.gserviceaccount.com".to_owned();
    assert!(
        granted.contains(&(
            tools("xacct"),
            vec![y],
            "google_project_iam_member.x_tools".to_owned()
        )),
        "{granted:#?}"
    );
}

/// `api` running as `email` before the plan and as an account unknown at plan time after it;
/// and `api` created by the plan on an account unknown at plan time.
fn api_whose_account_becomes_unknown(email: &str) -> (Value, Value) {
    let mut before = service(json!({}));
    before["template"][0]["service_account"] = email.into();
    let mut now = before.clone();
    now["template"][0]
        .as_object_mut()
        .expect("a template")
        .remove("service_account");
    let unknown_account = |mut c: Value| {
        c["change"]["after_unknown"]["template"] = json!([{"service_account": true}]);
        c
    };
    (
        unknown_account(change(API, before, now.clone())),
        unknown_account(change(API, Value::Null, now)),
    )
}

/// A runtime account that becomes unknown at plan time may still be the account the workload
/// ran as, even one in another project than the workload's own, which the plan does not manage:
/// whoever the plan lets control that account's project may act as the identity. (The
/// project's accounts alone would miss it, and the gate would pass.)
#[test]
fn an_unknown_runtime_account_may_still_be_the_previous_one_in_another_project() {
    let (api, _) = api_whose_account_becomes_unknown("orders@acme-orders.iam.gserviceaccount.com");
    let report = analyze(vec![
        api,
        iam_member(
            "google_project_iam_member.contractor",
            json!({"project": "acme-orders"}),
            "roles/editor",
            "user:contractor@partner.example",
        ),
    ]);
    let possible: Vec<(&str, bool)> = after(&report, API)
        .identity
        .impersonators
        .iter()
        .map(|i| (i.principal.display(), i.certain))
        .collect();
    assert!(
        possible.contains(&("user:contractor@partner.example", false)),
        "{possible:?}"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.rule.id == "identity-impersonation"
                && f.direction == crate::rules::Direction::Worsened
                && f.message.contains("user:contractor@partner.example")),
        "{:#?}",
        report.findings
    );
}

/// The account the workload ran as, when the plan manages it in another project, brings its
/// roles too (as possible) when the account becomes unknown; a workload that is new, with no
/// other side, is given no other project's controllers.
#[test]
fn an_unknown_runtime_account_brings_the_previous_ones_roles_and_no_other_projects() {
    let email = "orders@acme-orders.iam.gserviceaccount.com";
    let account = format!("projects/acme-orders/serviceAccounts/{email}");
    let (api, new) = api_whose_account_becomes_unknown(email);
    let orders_account = unchanged(
        "google_service_account.orders",
        json!({"account_id": "orders", "project": "acme-orders", "display_name": "orders",
               "disabled": false, "description": "", "email": email,
               "member": format!("serviceAccount:{email}"), "name": account,
               "unique_id": "104857600000000000002", "id": account}),
    );
    let storage_admin = unchanged(
        "google_project_iam_member.orders_storage",
        json!({"project": "acme-orders", "role": "roles/storage.admin",
               "member": format!("serviceAccount:{email}"), "condition": [],
               "etag": "BwYk3xq1Rk0=",
               "id": format!("acme-orders/roles/storage.admin/serviceAccount:{email}")}),
    );
    let report = analyze(vec![api, orders_account.clone(), storage_admin.clone()]);
    let roles: Vec<(&str, bool)> = after(&report, API)
        .identity
        .roles
        .iter()
        .map(|r| (r.role.as_str(), r.certain))
        .collect();
    assert!(roles.contains(&("roles/storage.admin", false)), "{roles:?}");

    // A new service whose account is unknown: acme-orders' token creator is nobody's concern.
    let report = analyze(vec![
        new,
        orders_account,
        storage_admin,
        unchanged(
            "google_project_iam_member.minter",
            json!({"project": "acme-orders", "role": "roles/iam.serviceAccountTokenCreator",
                   "member": "user:minter@acme.example", "condition": [],
                   "etag": "BwYk3xq1Rk0=",
                   "id": "acme-orders/roles/iam.serviceAccountTokenCreator/user:minter@acme.example"}),
        ),
    ]);
    let possible: Vec<&str> = after(&report, API)
        .identity
        .impersonators
        .iter()
        .map(|i| i.principal.display())
        .collect();
    assert!(
        !possible.contains(&"user:minter@acme.example"),
        "{possible:?}"
    );
}
