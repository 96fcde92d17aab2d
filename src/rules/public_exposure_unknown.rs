use super::public_invoker::{ExposureRule, evidence as public_invoker_evidence, transition};
use super::{Delta, Direction, Finding, Rule, Severity, finding};
use crate::graph::Principal;
use crate::iam::MemberKind;
use crate::inventory::Ingress;
use crate::posture::{IngressValue, Posture, Verdict};

pub static RULE: Rule = Rule {
    id: "public-exposure-unknown",
    severity: Severity::Medium,
    summary: "Whether a service becomes public cannot be known at plan time",
    headline: (
        "service may become public (unknown at plan time)",
        "services may become public (unknown at plan time)",
    ),
    doc: r#"# public-exposure-unknown

## What it detects
A service whose `public` verdict becomes `unknown`: the answer depends on a value Terraform only
learns at apply, or on something outside the plan. Typical causes:

- an invoker member that is unknown at plan time and whose configuration reference cannot be
  followed (for example it comes from a `local` value);
- `allUsers` granted through a role or IAM condition whose effect is unknown;
- ingress `internal-and-cloud-load-balancing` with `allUsers`, and no load balancer in the plan;
- a load-balancer route or domain mapping whose target cannot be followed (for example a URL-map
  route to a backend named by a `local`), or a serverless NEG whose URL mask may reach the
  service but whose project or region is unknown;
- IAM granted on a service that this plan does not manage.

It is reported as improved when an unknown verdict becomes a proven `no` (or the service is
deleted), and, with `--all`, as unchanged when it stays unknown. A service that was public and
whose exposure becomes unknown is reported here as worsened: the plan turns an answer into a
question, and after apply the service may be public still; see `runguard explain
public-invoker` for every transition.

Its severity is `high` when it worsens, because then this plan is what opens the question: a
service that the plan proved not public (or that did not exist) may now be public, a public
service may still be, or a service whose exposure was already unknown moves towards public
(below). The default gate
(`--fail-on high`) then stops, because a reviewer must look: making a value unknown never lets
a plan through that the known value would stop. A principal unknown at plan time in the
service's own IAM may be `allUsers`, so it is a possible open invoker. The finding is `medium`
when the question stays open (`--all`) or closes.

A service whose exposure is unknown on both sides is reported as worsened when either half of
the exposure grows (a load balancer now reaches a service whose invoker was already unknown), or
when a door that keeps the internet out moves towards open (ingress, the run.app URL, IAP, the
invoker check), or a new path appears that IAP is not proven to gate.

## Why it matters
Other scanners drop unknown values and pass the plan. runguard never takes an unknown as safe: a
reviewer should confirm what the value will be.

## Example
```hcl
resource "google_cloud_run_v2_service_iam_member" "caller" {
  name   = google_cloud_run_v2_service.api.name
  role   = "roles/run.invoker"
  member = local.caller # not visible in plan JSON
}
```

## Use instead
Use values that are known at plan time for IAM members (literal strings, variables, or
`google_service_account.x.member`), or check the apply output and accept the finding.

## Known limits
The rule says only that the answer is open; the report's `unresolved` section says why.
"#,
    check,
    memo: None,
};

/// What leaves the answer open: an unknown principal, a grant that only might apply, and what
/// would make the service public if the open question went the wrong way (the grants to
/// `allUsers`, the load balancers that reach it).
fn open_question_evidence(p: &Posture) -> Vec<String> {
    let mut out: Vec<String> = p
        .invokers
        .iter()
        .flat_map(|i| {
            let unknown = i.principal == Principal::Unknown;
            i.grants
                .iter()
                .filter(move |g| unknown || !g.certain)
                .map(|g| g.address.to_string())
        })
        .collect();
    // An IAP accessor that may be allUsers leaves open whether IAP keeps anyone out.
    out.extend(
        p.iap_accessors
            .iter()
            .flat_map(|a| {
                let unknown = a.principal == Principal::Unknown;
                let all_users = a.principal.kind() == MemberKind::AllUsers && !unknown;
                a.grants
                    .iter()
                    .filter(move |g| unknown || (all_users && !g.certain))
            })
            .map(|g| g.address.to_string()),
    );
    for e in public_invoker_evidence(p) {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// Whether either half of "anyone on the internet can invoke it" becomes more certain, or a
/// path that IAP is not proven to gate appears (a load balancer whose IAP is unknown at plan
/// time: had it been off, the plan would have made the service public).
fn exposure_grows(before: &Posture, after: &Posture) -> bool {
    after.anyone_allowed > before.anyone_allowed
        || after.reachable > before.reachable
        || new_ungated_path(before, after)
        || door_opens(before, after)
}

/// Whether a setting that keeps the internet out moves towards open: proven closed to
/// unknown, or unknown to open. The run.app URL, IAP on the service, ingress and the invoker
/// check each close a door; `reachable` can hide such a move when it was already unknown for
/// another reason (a load balancer outside the plan).
fn door_opens(before: &Posture, after: &Posture) -> bool {
    opens(after.iap, before.iap, true) || own_door_opens(before, after)
}

/// [`door_opens`] for the doors set on the service itself (ingress, the run.app URL, the
/// invoker check), not the IAP that a load balancer in front of it may add.
fn own_door_opens(before: &Posture, after: &Posture) -> bool {
    let ingress = |p: &Posture| match p.ingress {
        Some(IngressValue::Set(Ingress::Internal)) => 0,
        Some(IngressValue::Set(Ingress::InternalAndLoadBalancing)) => 1,
        Some(IngressValue::Unknown) | None => 2,
        Some(IngressValue::Set(Ingress::All)) => 3,
    };
    opens(
        after.default_uri_disabled,
        before.default_uri_disabled,
        true,
    ) || opens(after.iam_check_disabled, before.iam_check_disabled, false)
        || ingress(after) > ingress(before)
}

/// Whether a door that is shut when its setting is `closed` moves towards open from `before`
/// to `after`: shut, then unknown (`None`), then open.
fn opens(after: Option<bool>, before: Option<bool>, closed: bool) -> bool {
    let openness = |value: Option<bool>| match value {
        Some(v) if v == closed => 0,
        None => 1,
        Some(_) => 2,
    };
    openness(after) > openness(before)
}

/// A path from the internet on the after side, not on the before side, that the service's
/// ingress may let in and that IAP is not proven to gate: an external load balancer (ingress
/// other than `internal`) or a domain mapping (ingress `all`).
fn new_ungated_path(before: &Posture, after: &Posture) -> bool {
    let ingress_allows = |wanted: &[Ingress]| match after.ingress {
        Some(IngressValue::Set(i)) => wanted.contains(&i),
        Some(IngressValue::Unknown) | None => true,
    };
    let lb = ingress_allows(&[Ingress::All, Ingress::InternalAndLoadBalancing])
        && after.load_balancers.iter().any(|l| {
            l.iap != Some(true)
                && l.external != Some(false)
                && !before
                    .load_balancers
                    .iter()
                    .any(|b| b.forwarding_rule == l.forwarding_rule && b.iap == l.iap)
        });
    let domain = ingress_allows(&[Ingress::All])
        && after.domain_mappings.iter().any(|m| {
            !before
                .domain_mappings
                .iter()
                .any(|b| b.address == m.address)
        });
    lb || domain
}

fn check(d: &Delta) -> Vec<Finding> {
    if !d.workload.kind.serves_requests() {
        return Vec::new();
    }
    let before = d.before.map(|p| p.public);
    let after = d.after.map(|p| p.public);
    let Some((ExposureRule::ExposureUnknown, direction)) = transition(before, after) else {
        return Vec::new();
    };
    // Unknown on both sides, but a part of the exposure grows: the open invoker or the path
    // becomes more certain (a load balancer now reaches a service whose invoker is unknown).
    // Had the unknown gone the wrong way, the plan would have made the service public.
    let direction = match (direction, d.before, d.after) {
        (Direction::Unchanged, Some(b), Some(a)) if exposure_grows(b, a) => Direction::Worsened,
        _ => direction,
    };
    let reasons = |p: &Posture| p.public_reasons.join("; ");
    let (message, evidence) = match (direction, d.after) {
        (Direction::Unchanged, Some(p)) => (
            format!("public exposure stays unknown at plan time: {}", reasons(p)),
            Vec::new(),
        ),
        (Direction::Worsened, Some(p)) => {
            let was_public = d.before.is_some_and(|b| b.public == Verdict::Yes);
            let message = if was_public {
                format!(
                    "was publicly invokable and may still be; it cannot be known at plan time: \
                     {}",
                    reasons(p)
                )
            } else {
                format!(
                    "may become publicly invokable; it cannot be known at plan time: {}",
                    reasons(p)
                )
            };
            // Worsened means the plan opens the question: the service was proven not public
            // (or did not exist), or its exposure grows. Being public hinges on more than the
            // open invoker and the path (IAP's gates and its agent's grant), so no narrower
            // test of "new in this plan" sees every way a plan opens it.
            let mut f = finding(d, direction, message, &open_question_evidence(p));
            f.severity = Some(Severity::High);
            // A door set on the service itself (ingress, the run.app URL, the invoker check)
            // that moved towards open is a cause the reviewer changes on the service; so is
            // whatever made a public service's exposure a question, as `public-invoker` names
            // the service of a public one.
            if was_public || d.before.is_some_and(|b| own_door_opens(b, p)) {
                f = f.caused_by_workload_too(&d.workload.address);
            }
            return vec![f];
        }
        (Direction::Improved, None) => (
            "the service whose public exposure was unknown is deleted".to_owned(),
            Vec::new(),
        ),
        (Direction::Improved, Some(_)) => (
            "public exposure was unknown and is now known not to be public".to_owned(),
            Vec::new(),
        ),
        _ => return Vec::new(),
    };
    vec![finding(d, direction, message, &evidence)]
}

#[cfg(test)]
mod tests {
    use super::super::public_invoker::tests::posture;
    use super::*;
    use crate::inventory::{Api, WorkloadKind};
    use crate::posture::{Verdict, WorkloadId};
    use crate::rules::Severity;

    /// The severity of the worsened finding for `before` → `after`.
    fn severity(before: Option<Posture>, after: Posture, external: bool) -> Severity {
        let id = WorkloadId {
            address: "google_cloud_run_v2_service.api".into(),
            kind: WorkloadKind::Service,
            api: Api::V2,
            external,
        };
        let delta = Delta {
            workload: &id,
            before: before.as_ref(),
            after: Some(&after),
            include_unchanged: false,
        };
        let findings = check(&delta);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].direction, Direction::Worsened);
        findings[0].severity.unwrap_or(RULE.severity)
    }

    fn unknown(anyone_allowed: Verdict, reachable: Verdict) -> Posture {
        Posture {
            anyone_allowed,
            reachable,
            ..posture(Verdict::Unknown)
        }
    }

    fn no(anyone_allowed: Verdict, reachable: Verdict) -> Posture {
        Posture {
            anyone_allowed,
            reachable,
            ..posture(Verdict::No)
        }
    }

    #[test]
    fn high_when_the_plan_opens_the_invoker_or_the_path() {
        use Verdict::{No, Unknown, Yes};
        // A new service with allUsers, or with the invoker check possibly disabled.
        assert_eq!(severity(None, unknown(Yes, Unknown), false), Severity::High);
        assert_eq!(severity(None, unknown(Unknown, Yes), false), Severity::High);
        // allUsers granted on a service whose path was already unknown.
        assert_eq!(
            severity(Some(no(No, Unknown)), unknown(Yes, Unknown), false),
            Severity::High
        );
        // allUsers was there; the path becomes unknown.
        assert_eq!(
            severity(Some(no(Yes, No)), unknown(Yes, Unknown), false),
            Severity::High
        );
        // allUsers newly granted on a service outside the plan.
        assert_eq!(severity(None, unknown(Yes, Unknown), true), Severity::High);
    }

    #[test]
    fn high_when_an_unknown_member_may_be_all_users() {
        use Verdict::{No, Unknown, Yes};
        // An unknown member in the service's IAM, which may be allUsers, on a service that was
        // already reachable, or on a new one.
        assert_eq!(
            severity(Some(no(No, Yes)), unknown(Unknown, Yes), false),
            Severity::High
        );
        assert_eq!(severity(None, unknown(Unknown, Yes), false), Severity::High);
    }

    #[test]
    fn high_when_the_plan_opens_a_path_to_an_invoker_already_unknown() {
        use Verdict::{No, Unknown, Yes};
        // An unknown member that was already there, on a private service that becomes
        // reachable: had the member been allUsers, this plan would have made it public.
        assert_eq!(
            severity(Some(no(Unknown, No)), unknown(Unknown, Yes), false),
            Severity::High
        );
        // Already unknown, and a load balancer now proves the path.
        assert_eq!(
            severity(Some(unknown(Yes, Unknown)), unknown(Unknown, Yes), false),
            Severity::High
        );
    }

    #[test]
    fn high_when_a_load_balancer_through_iap_open_to_all_users_turns_external() {
        use crate::posture::tests::{analyze, change, load_balancer, service, unchanged};
        use serde_json::json;
        // IAP on the backend admits allUsers (`roles/iap.httpsResourceAccessor`), so behind it
        // the invoker check sees IAP's service agent, whose invoker grant is outside the plan.
        // The forwarding rule's scheme goes from INTERNAL_MANAGED to EXTERNAL_MANAGED (which
        // replaces it): anyone on the internet now reaches the service through that IAP. The
        // run.app URL was already open and allUsers was never an invoker, so neither half of
        // the exposure moves, yet the plan is what makes it possibly public.
        let iap = json!([{"enabled": true, "oauth2_client_id": "", "oauth2_client_secret": "",
                          "oauth2_client_secret_sha256": ""}]);
        let mut changes = load_balancer(iap);
        let external = changes.pop().expect("the forwarding rule")["change"]["after"].clone();
        let mut internal = external.clone();
        internal["load_balancing_scheme"] = json!("INTERNAL_MANAGED");
        let mut rule = change(
            "google_compute_global_forwarding_rule.api",
            internal,
            external,
        );
        rule["change"]["actions"] = json!(["delete", "create"]);
        changes.push(rule);
        changes.push(unchanged(
            "google_cloud_run_v2_service.api",
            service(json!({})),
        ));
        changes.push(unchanged(
            "google_iap_web_backend_service_iam_member.everyone",
            json!({"project": "acme-prod", "web_backend_service": "api-backend",
                   "role": "roles/iap.httpsResourceAccessor", "member": "allUsers",
                   "condition": [], "etag": "BwYk3xq1Rk0=",
                   "id": "projects/acme-prod/iap_web/compute/services/api-backend/\
                          roles/iap.httpsResourceAccessor/allUsers"}),
        ));
        let report = analyze(changes);
        let found: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.rule.id == RULE.id)
            .map(|f| (f.direction, f.severity))
            .collect();
        assert_eq!(found, [(Direction::Worsened, Severity::High)]);
    }

    /// The causes of this rule's one finding on a plan of `changes`, by direction.
    fn causes(changes: Vec<serde_json::Value>) -> Vec<(Direction, Vec<String>)> {
        crate::posture::tests::analyze(changes)
            .findings
            .iter()
            .filter(|f| f.rule.id == RULE.id)
            .map(|f| (f.direction, f.causes.clone()))
            .collect()
    }

    #[test]
    fn a_conditional_iap_grant_to_someone_named_leaves_nothing_open() {
        use crate::posture::tests::{change, service, unchanged, unknown_after};
        use serde_json::{Value, json};
        // IAP on the service admits the holders of `roles/iap.httpsResourceAccessor`. An
        // accessor only known at apply may be `allUsers`: it is what leaves the answer open. A
        // named user whose access holds only under an IAM condition is never the public,
        // whether or not the condition holds, so that grant is no cause of the question.
        let accessor = |who: &str, condition: Value| {
            json!({"project": "acme-prod", "location": "europe-west1",
                   "cloud_run_service_name": "api", "role": "roles/iap.httpsResourceAccessor",
                   "member": who, "condition": condition, "etag": "BwYk3xq1Rk0=",
                   "id": format!("projects/acme-prod/iap_web/cloud_run-europe-west1/services/api/\
                                  roles/iap.httpsResourceAccessor/{who}")})
        };
        let office_hours = json!([{"title": "office hours", "description": "",
            "expression": "request.time.getHours('Europe/Paris') < 18"}]);
        let unknown = "google_iap_web_cloud_run_service_iam_member.unknown";
        let found = causes(vec![
            unchanged(
                "google_cloud_run_v2_service.api",
                service(json!({"iap_enabled": true})),
            ),
            unchanged(
                "google_iap_web_cloud_run_service_iam_member.alice",
                accessor("user:alice@acme.example", office_hours),
            ),
            unknown_after(
                change(
                    unknown,
                    Value::Null,
                    accessor("user:placeholder@acme.example", json!([])),
                ),
                "member",
            ),
        ]);
        assert_eq!(found, [(Direction::Worsened, vec![unknown.to_owned()])]);
    }

    /// `api` goes from `before` to `after` settings (the keys in `unknown` only known at
    /// apply), with `others` in place. Its public verdict on each side, and this rule's
    /// findings on the plan.
    fn outcome(
        before: serde_json::Value,
        after: serde_json::Value,
        unknown: &[&str],
        others: Vec<serde_json::Value>,
    ) -> ((Verdict, Verdict), Vec<(Direction, Severity)>) {
        use crate::posture::tests::{analyze, change, service, unknown_after};
        let api = "google_cloud_run_v2_service.api";
        let mut service = change(api, service(before), service(after));
        for key in unknown {
            service = unknown_after(service, key);
            service["change"]["actions"] = serde_json::json!(["update"]);
        }
        let report = analyze([vec![service], others].concat());
        let w = report.workloads.iter().find(|w| w.id.address == api);
        let public = |p: Option<&Posture>| p.expect("both sides").public;
        let w = w.expect("the service");
        let found = report
            .findings
            .iter()
            .filter(|f| f.rule.id == RULE.id)
            .map(|f| (f.direction, f.severity))
            .collect();
        ((public(w.before.as_ref()), public(w.after.as_ref())), found)
    }

    /// An existing `roles/run.invoker` grant to `allUsers` on `api`, under `condition` (`[]`
    /// for none).
    fn all_users(name: &str, condition: serde_json::Value) -> serde_json::Value {
        use crate::posture::tests::{member, unchanged};
        unchanged(
            &format!("google_cloud_run_v2_service_iam_member.{name}"),
            member("allUsers", "roles/run.invoker", condition),
        )
    }

    /// An IAM condition: the binding applies only before launch day.
    fn until_launch() -> serde_json::Value {
        serde_json::json!([{"title": "until-launch", "description": "",
            "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}])
    }

    const STAYS_UNKNOWN: (Verdict, Verdict) = (Verdict::Unknown, Verdict::Unknown);
    const WORSENED: [(Direction, Severity); 1] = [(Direction::Worsened, Severity::High)];

    #[test]
    fn a_disabled_run_app_url_set_to_an_unknown_value_may_open() {
        use serde_json::json;
        // allUsers may invoke; with the run.app URL disabled, only a load balancer outside the
        // plan could reach the service (ingress `all`). The URL's setting becomes a value only
        // known at apply: the URL may open to anyone.
        let got = outcome(
            json!({"default_uri_disabled": true}),
            json!({}),
            &["default_uri_disabled"],
            vec![all_users("public", json!([]))],
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn a_run_app_url_enabled_beside_a_mapped_domain_is_a_new_way_in() {
        use crate::posture::tests::{domain_mapping, unchanged};
        use serde_json::json;
        // allUsers may invoke under a condition; a domain mapping already serves the service
        // (ingress `all`). Its run.app URL, disabled, is enabled: one more way in from the
        // internet, although the path was already proven.
        let got = outcome(
            json!({"default_uri_disabled": true}),
            json!({"default_uri_disabled": false}),
            &[],
            vec![
                all_users("public", until_launch()),
                unchanged("google_cloud_run_domain_mapping.api", domain_mapping("api")),
            ],
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn iap_on_the_service_set_to_an_unknown_value_may_turn_off() {
        use crate::posture::tests::unchanged;
        use serde_json::json;
        // allUsers may invoke; IAP on the service admits allUsers under a condition, so
        // whether it is public was already open. `iap_enabled` becomes a value only known at
        // apply: IAP may be off, and then nothing stands before the invoker check.
        let accessor = json!({"project": "acme-prod", "location": "europe-west1",
            "cloud_run_service_name": "api", "role": "roles/iap.httpsResourceAccessor",
            "member": "allUsers", "condition": until_launch(), "etag": "BwYk3xq1Rk0=",
            "id": "projects/acme-prod/iap_web/cloud_run-europe-west1/services/api/\
                   roles/iap.httpsResourceAccessor/allUsers"});
        let got = outcome(
            json!({"iap_enabled": true}),
            json!({}),
            &["iap_enabled"],
            vec![
                all_users("public", json!([])),
                unchanged(
                    "google_iap_web_cloud_run_service_iam_member.public",
                    accessor,
                ),
            ],
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn an_invoker_check_set_to_an_unknown_value_may_drop_the_condition() {
        use serde_json::json;
        // allUsers may invoke under a condition, on a service reachable at its run.app URL.
        // `invoker_iam_disabled` becomes a value only known at apply: if it is `true`, the
        // check is skipped and anyone gets in whatever the condition says.
        let got = outcome(
            json!({}),
            json!({}),
            &["invoker_iam_disabled"],
            vec![all_users("public", until_launch())],
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn ingress_set_to_an_unknown_value_may_open_the_run_app_url() {
        use serde_json::json;
        // allUsers may invoke; ingress `internal-and-cloud-load-balancing` admits only load
        // balancers, none in the plan. Ingress becomes a value only known at apply: if it is
        // `all`, the run.app URL lets anyone in.
        let internal_and_lb = json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"});
        let got = outcome(
            internal_and_lb,
            json!({}),
            &["ingress"],
            vec![all_users("public", json!([]))],
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn all_users_granted_without_condition_beside_a_conditional_grant_is_worse() {
        use crate::posture::tests::{change, member};
        use serde_json::{Value, json};
        // allUsers may invoke under a condition; ingress `internal-and-cloud-load-balancing`
        // with no load balancer in the plan leaves the path open. A second grant to allUsers,
        // without condition, makes the invoker check certainly open.
        let internal_and_lb = json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"});
        let got = outcome(
            internal_and_lb.clone(),
            internal_and_lb,
            &[],
            vec![
                all_users("launch", until_launch()),
                change(
                    "google_cloud_run_v2_service_iam_member.public",
                    Value::Null,
                    member("allUsers", "roles/run.invoker", json!([])),
                ),
            ],
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    /// The pieces of the load balancer in front of `api`, created by the plan, the backend's
    /// `iap` blocks only known at apply (a `dynamic "iap"` over a collection unknown at plan
    /// time).
    fn new_load_balancer_whose_iap_is_unknown() -> Vec<serde_json::Value> {
        use crate::posture::tests::{change, load_balancer, unknown_after};
        load_balancer(serde_json::json!([]))
            .into_iter()
            .map(|piece| {
                let address = piece["address"].as_str().expect("an address").to_owned();
                let created = change(
                    &address,
                    serde_json::Value::Null,
                    piece["change"]["after"].clone(),
                );
                if address.starts_with("google_compute_backend_service.") {
                    unknown_after(created, "iap")
                } else {
                    created
                }
            })
            .collect()
    }

    #[test]
    fn a_new_load_balancer_whose_iap_is_unknown_is_a_new_way_in() {
        use serde_json::json;
        // allUsers may invoke; ingress `internal-and-cloud-load-balancing`, and no load
        // balancer in the plan: one outside it may reach the service. The plan adds an external
        // load balancer whose IAP is only known at apply: had IAP been off, this plan would
        // have put the service on the internet.
        let internal_and_lb = json!({"ingress": "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"});
        let got = outcome(
            internal_and_lb.clone(),
            internal_and_lb,
            &[],
            [
                vec![all_users("public", json!([]))],
                new_load_balancer_whose_iap_is_unknown(),
            ]
            .concat(),
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn iap_on_a_load_balancer_set_to_an_unknown_value_may_turn_off() {
        use crate::posture::tests::{load_balancer, unknown_after};
        use serde_json::json;
        // allUsers may invoke under a condition, and the run.app URL is open. The external load
        // balancer's IAP, on, becomes a value only known at apply: one more path may open.
        let iap_on = json!([{"enabled": true, "oauth2_client_id": "", "oauth2_client_secret": "",
                             "oauth2_client_secret_sha256": ""}]);
        let lb = load_balancer(iap_on)
            .into_iter()
            .map(|piece| {
                if piece["address"] == "google_compute_backend_service.api" {
                    let mut changed = unknown_after(piece, "iap");
                    changed["change"]["actions"] = json!(["update"]);
                    changed
                } else {
                    piece
                }
            })
            .collect();
        let got = outcome(
            json!({}),
            json!({}),
            &[],
            [vec![all_users("public", until_launch())], lb].concat(),
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn a_new_domain_mapping_is_a_new_way_in() {
        use crate::posture::tests::{change, domain_mapping};
        use serde_json::{Value, json};
        // allUsers may invoke under a condition, and the run.app URL is open. The plan maps a
        // domain to the service (ingress `all`): one more way in from the internet.
        let got = outcome(
            json!({}),
            json!({}),
            &[],
            vec![
                all_users("public", until_launch()),
                change(
                    "google_cloud_run_domain_mapping.api",
                    Value::Null,
                    domain_mapping("api"),
                ),
            ],
        );
        assert_eq!(got, (STAYS_UNKNOWN, WORSENED.to_vec()));
    }

    #[test]
    fn paths_already_in_place_open_nothing_new() {
        use crate::posture::tests::{domain_mapping, load_balancer, unchanged};
        use serde_json::json;
        // allUsers may invoke under a condition. A load balancer without IAP and a domain
        // mapping already serve the service; the plan only deploys a new image. Nothing opens.
        let image = |tag: &str| {
            json!({"template": [{
                "service_account": "api-runtime@acme-prod.iam.gserviceaccount.com",
                "containers": [{"image": format!("europe-west1-docker.pkg.dev/acme-prod/c/api:{tag}"),
                                "env": []}],
                "vpc_access": [], "volumes": []}]})
        };
        let got = outcome(
            image("1"),
            image("2"),
            &[],
            [
                vec![
                    all_users("public", until_launch()),
                    unchanged("google_cloud_run_domain_mapping.api", domain_mapping("api")),
                ],
                load_balancer(json!([])),
            ]
            .concat(),
        );
        assert_eq!(got, (STAYS_UNKNOWN, Vec::new()));
    }
}
