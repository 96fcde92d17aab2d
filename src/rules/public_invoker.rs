use super::{Delta, Direction, Finding, Rule, Severity, finding};
use crate::graph::Principal;
use crate::iam::{MemberKind, classify};
use crate::inventory::WorkloadKind;
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
A Cloud Run service whose `public` verdict becomes `yes`: someone on the internet with no
credentials at all can invoke it. That needs both an open invoker check and a reachable path:

- `allUsers` holds a role with `run.routes.invoke` (on the service, by `*_iam_member`,
  `*_iam_binding` or `*_iam_policy`, v2 or v1 IAM), or `invoker_iam_disabled = true`
  (v1: the `run.googleapis.com/invoker-iam-disabled` annotation);
- and ingress `all` with the `run.app` URL enabled, or an external load balancer in the plan that
  reaches the service through a serverless NEG without IAP;
- and IAP is not enabled on the service itself.

It is reported as improved when a public service stops being public, and, with `--all`, as
unchanged when it stays public.

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
};

fn check(d: &Delta) -> Vec<Finding> {
    if d.workload.kind != WorkloadKind::Service {
        return Vec::new();
    }
    let before = d.before.map(|p| p.public);
    let after = d.after.map(|p| p.public);
    match (before, d.after) {
        (Some(Verdict::Yes), Some(p)) if p.public == Verdict::Yes => vec![
            finding(
                d,
                Direction::Unchanged,
                format!("stays publicly invokable: {}", p.public_reasons.join("; ")),
                &evidence(p),
            )
            .caused_by_workload_too(&d.workload.address),
        ],
        (_, Some(p)) if p.public == Verdict::Yes => vec![
            finding(
                d,
                Direction::Worsened,
                format!(
                    "becomes publicly invokable: {}",
                    p.public_reasons.join("; ")
                ),
                &evidence(p),
            )
            .caused_by_workload_too(&d.workload.address),
        ],
        (Some(Verdict::Yes), _) if matches!(after, None | Some(Verdict::No)) => {
            let p = d.before.expect("before is yes");
            let message = if after.is_none() {
                "the publicly invokable service is deleted".to_owned()
            } else {
                "is no longer publicly invokable".to_owned()
            };
            vec![
                finding(d, Direction::Improved, message, &evidence(p))
                    .caused_by_workload_too(&d.workload.address),
            ]
        }
        _ => Vec::new(),
    }
}

/// The grants that let allUsers in, and the load balancers that reach the service.
fn evidence(p: &Posture) -> Vec<String> {
    let mut out: Vec<String> = p
        .invokers
        .iter()
        .filter(|i| matches!(&i.principal, Principal::Known { member, .. } if classify(member) == MemberKind::AllUsers))
        .flat_map(|i| i.grants.iter().map(|g| g.address.to_string()))
        .collect();
    out.extend(
        p.load_balancers
            .iter()
            .filter(|l| l.iap != Some(true))
            .map(|l| l.forwarding_rule.clone()),
    );
    out
}
