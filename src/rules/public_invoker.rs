use super::{Delta, Direction, Finding, Rule, Severity, finding};
use crate::graph::Principal;
use crate::iam::{MemberKind, classify};
use crate::posture::{Posture, Verdict};

pub static RULE: Rule = Rule {
    id: "public-invoker",
    severity: Severity::Critical,
    summary: "A service becomes invokable by anyone on the internet, with no credentials",
    headline: (
        "service becomes publicly invokable",
        "services become publicly invokable",
    ),
    doc: r#"# public-invoker

## What it detects
A Cloud Run service, or a Cloud Functions gen2 function (which runs on a Cloud Run service),
whose `public` verdict becomes `yes`: someone on the internet with no credentials at all can
invoke it. That needs both an open invoker check and a reachable path:

- `allUsers` holds a role with `run.routes.invoke` (on the service, by `*_iam_member`,
  `*_iam_binding` or `*_iam_policy`, v2 or v1 IAM), or `invoker_iam_disabled = true`
  (v1: the `run.googleapis.com/invoker-iam-disabled` annotation);
- and ingress `all` with the `run.app` URL enabled, or an external load balancer in the plan that
  reaches the service through a serverless NEG without IAP (by any route of its URL map), or,
  with ingress `all`, a Cloud Run domain mapping in the plan, which serves the service even when
  its `run.app` URL is disabled;
- and IAP does not gate that path (on the service itself, or on the load balancer's backend),
  or every IAP gate on it admits `allUsers` (`roles/iap.httpsResourceAccessor` through
  `google_iap_web_*_iam_*`): IAP then lets anyone through and calls the service as its own
  service agent (`service-NUMBER@gcp-sa-iap.iam.gserviceaccount.com`), so the path is public
  when that agent holds an invoker role (unknown when the plan does not show the grant, which
  every working IAP setup has outside it).

A gen2 function is called through its Cloud Run service (its run.app and cloudfunctions.net
URLs), which checks `run.routes.invoke` on that service: `allUsers` on
`google_cloud_run_service_iam_*` / `google_cloud_run_v2_service_iam_*` naming the function's
service (`service_config.service`, which is the function's name) makes it public, with
`service_config.ingress_settings = "ALLOW_ALL"` (the default). `roles/cloudfunctions.invoker` on
`google_cloudfunctions2_function_iam_*` does not: it carries only
`cloudfunctions.functions.invoke`, which gen2 calls do not check (Google's "Authenticate for
invocation" page for functions created with the Cloud Functions v2 API), and the API refuses
`roles/run.invoker` on a function.

It is reported as improved when a public service stops being public, and, with `--all`, as
unchanged when it stays public.

Every change of the `public` verdict gets exactly one finding, from this rule or from
`public-exposure-unknown`. A move towards `yes` is worse and a move to `no` is better (a service
that does not exist on a side counts as `no`); a move from `yes` to `unknown` is also worse,
because the plan opens a question that it had answered:

| before \ after | no / absent | unknown | yes |
|---|---|---|---|
| **no / absent** | — | `public-exposure-unknown` worsened | `public-invoker` worsened |
| **unknown** | `public-exposure-unknown` improved | `public-exposure-unknown` unchanged | `public-invoker` worsened |
| **yes** | `public-invoker` improved | `public-exposure-unknown` worsened | `public-invoker` unchanged |

A public service whose exposure becomes unknown is no longer proven public, but nor is it proven
closed: after apply it may be public still, through whatever the plan made unknown (a member, a
condition, ingress). Calling that an improvement would let a plan through with a reassuring word
and no answer, so it is an open question the plan introduces, and trips the default gate.

## Why it matters
A public service answers anyone. Every bug in it, every debug endpoint and every cost of a request
flood is open to the internet. Making a service public is sometimes intended (a website), so the
reviewer must see it happen in the pull request, not after apply.

## Example
```hcl
resource "google_cloud_run_v2_service_iam_member" "public" {
  name   = google_cloud_run_v2_service.api.name
  role   = "roles/run.invoker"
  member = "allUsers"
}
```

## Use instead
Grant `roles/run.invoker` to the callers that need it (a group, a service account), put IAP in
front (`iap_enabled = true`), or restrict ingress to `internal` /
`internal-and-cloud-load-balancing` behind an authenticated load balancer. If the service is meant
to be public, accept the finding in review.

## Known limits
A load balancer or domain mapping outside the plan is invisible; with ingress
`internal-and-cloud-load-balancing` and no load balancer in the plan the verdict is `unknown`
(see `public-exposure-unknown`). Invoker grants made outside Terraform are not seen.
"#,
    check,
    memo: None,
};

/// The rule that reports a change of the `public` verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExposureRule {
    PublicInvoker,
    ExposureUnknown,
}

/// Which rule reports the move from `before` to `after` (`None`: the service does not exist on
/// that side, which counts as `no`), and in which direction: towards `yes` is worse, to `no`
/// better, and `yes` to `unknown` worse too, since the plan turns an answer into a question
/// (the rule's doc has the table). Every move gets one finding.
pub(super) fn transition(
    before: Option<Verdict>,
    after: Option<Verdict>,
) -> Option<(ExposureRule, Direction)> {
    use ExposureRule::{ExposureUnknown, PublicInvoker};
    let before = before.unwrap_or(Verdict::No);
    let after = after.unwrap_or(Verdict::No);
    Some(match (before, after) {
        (Verdict::No, Verdict::No) => return None,
        (Verdict::Yes, Verdict::Yes) => (PublicInvoker, Direction::Unchanged),
        (Verdict::Unknown, Verdict::Unknown) => (ExposureUnknown, Direction::Unchanged),
        (_, Verdict::Yes) => (PublicInvoker, Direction::Worsened),
        (Verdict::Yes, Verdict::No) => (PublicInvoker, Direction::Improved),
        (Verdict::No | Verdict::Yes, Verdict::Unknown) => (ExposureUnknown, Direction::Worsened),
        (Verdict::Unknown, Verdict::No) => (ExposureUnknown, Direction::Improved),
    })
}

fn check(d: &Delta) -> Vec<Finding> {
    if !d.workload.kind.serves_requests() {
        return Vec::new();
    }
    let before = d.before.map(|p| p.public);
    let after = d.after.map(|p| p.public);
    let Some((ExposureRule::PublicInvoker, direction)) = transition(before, after) else {
        return Vec::new();
    };
    let reasons = |p: &Posture| p.public_reasons.join("; ");
    let (message, evidence) = match (direction, d.before, d.after) {
        (Direction::Unchanged, _, Some(p)) => (
            format!("stays publicly invokable: {}", reasons(p)),
            evidence(p),
        ),
        (Direction::Worsened, _, Some(p)) => (
            format!("becomes publicly invokable: {}", reasons(p)),
            evidence(p),
        ),
        (Direction::Improved, Some(p), None) => (
            "the publicly invokable service is deleted".to_owned(),
            evidence(p),
        ),
        (Direction::Improved, Some(p), Some(_)) => {
            ("is no longer publicly invokable".to_owned(), evidence(p))
        }
        _ => return Vec::new(),
    };
    vec![finding(d, direction, message, &evidence).caused_by_workload_too(&d.workload.address)]
}

/// The grants that let allUsers in (as invoker or past IAP), and the load balancers and domain mappings that reach the
/// service.
pub(super) fn evidence(p: &Posture) -> Vec<String> {
    // allUsers as invoker, or as IAP accessor: IAP that admits anyone is no barrier.
    let mut out: Vec<String> = p
        .invokers
        .iter()
        .chain(&p.iap_accessors)
        .filter(|i| matches!(&i.principal, Principal::Known { member, .. } if classify(member) == MemberKind::AllUsers))
        .flat_map(|i| i.grants.iter().map(|g| g.address.to_string()))
        .collect();
    out.extend(
        p.load_balancers
            .iter()
            .filter(|l| l.iap != Some(true))
            .map(|l| l.forwarding_rule.clone()),
    );
    out.extend(p.domain_mappings.iter().map(|d| d.address.clone()));
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::RULES;
    use super::*;
    use crate::inventory::{Api, WorkloadKind};
    use crate::posture::{IdentityPosture, WorkloadId};

    /// A service posture with the given verdict; its halves agree with it.
    pub(in crate::rules) fn posture(public: Verdict) -> Posture {
        Posture {
            public,
            public_reasons: vec!["because".into()],
            anyone_allowed: public,
            reachable: public,
            invokers: Default::default(),
            iam_admins: Default::default(),
            iam_check_disabled: Some(false),
            ingress: None,
            default_uri_disabled: Some(false),
            iap: Some(false),
            iap_accessors: Vec::new(),
            load_balancers: Vec::new(),
            domain_mappings: Vec::new(),
            identity: IdentityPosture::outside_plan(),
            conflicts: Vec::new(),
            plaintext_secrets: Vec::new(),
            binary_authorization: None,
            binary_authorization_policy: None,
            vpc_egress: None,
            org_policy: Default::default(),
            shared_identity: Default::default(),
            env_sources: Vec::new(),
            secrets_without_access: Vec::new(),
        }
    }

    /// The findings of both exposure rules, with `--all`, as (rule, direction, message).
    fn exposure_findings(
        before: Option<Verdict>,
        after: Option<Verdict>,
    ) -> Vec<(&'static str, Direction, String)> {
        let id = WorkloadId {
            address: "google_cloud_run_v2_service.api".into(),
            kind: WorkloadKind::Service,
            api: Api::V2,
            external: false,
        };
        let (b, a) = (before.map(posture), after.map(posture));
        let delta = Delta {
            workload: &id,
            before: b.as_ref(),
            after: a.as_ref(),
            include_unchanged: true,
        };
        RULES
            .iter()
            .filter(|r| matches!(r.id, "public-invoker" | "public-exposure-unknown"))
            .flat_map(|r| {
                (r.check)(&delta)
                    .into_iter()
                    .map(move |f| (r.id, f.direction, f.message))
            })
            .collect()
    }

    #[test]
    fn every_exposure_transition_gets_one_finding_in_the_right_direction() {
        use Direction::{Improved, Unchanged, Worsened};
        use Verdict::{No, Unknown, Yes};
        const PI: &str = "public-invoker";
        const PEU: &str = "public-exposure-unknown";
        /// before, after, and the one finding expected.
        type Row = (
            Option<Verdict>,
            Option<Verdict>,
            Option<(&'static str, Direction)>,
        );
        let table: [Row; 16] = [
            (None, None, None),
            (None, Some(No), None),
            (None, Some(Unknown), Some((PEU, Worsened))),
            (None, Some(Yes), Some((PI, Worsened))),
            (Some(No), None, None),
            (Some(No), Some(No), None),
            (Some(No), Some(Unknown), Some((PEU, Worsened))),
            (Some(No), Some(Yes), Some((PI, Worsened))),
            (Some(Unknown), None, Some((PEU, Improved))),
            (Some(Unknown), Some(No), Some((PEU, Improved))),
            (Some(Unknown), Some(Unknown), Some((PEU, Unchanged))),
            (Some(Unknown), Some(Yes), Some((PI, Worsened))),
            (Some(Yes), None, Some((PI, Improved))),
            (Some(Yes), Some(No), Some((PI, Improved))),
            (Some(Yes), Some(Unknown), Some((PEU, Worsened))),
            (Some(Yes), Some(Yes), Some((PI, Unchanged))),
        ];
        for (before, after, want) in table {
            let got = exposure_findings(before, after);
            let got: Vec<(&str, Direction)> = got.iter().map(|(r, d, _)| (*r, *d)).collect();
            assert_eq!(
                got,
                want.into_iter().collect::<Vec<_>>(),
                "{before:?} -> {after:?}"
            );
        }
    }

    #[test]
    fn public_becoming_unknown_says_it_was_public_and_may_still_be() {
        let findings = exposure_findings(Some(Verdict::Yes), Some(Verdict::Unknown));
        assert_eq!(findings.len(), 1);
        assert!(
            findings[0].2.contains("was publicly invokable")
                && findings[0].2.contains("may still be"),
            "{}",
            findings[0].2
        );
        let deleted = exposure_findings(Some(Verdict::Unknown), None);
        assert!(deleted[0].2.contains("deleted"), "{}", deleted[0].2);
    }
}
