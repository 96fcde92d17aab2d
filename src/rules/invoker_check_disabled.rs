use super::{Delta, Direction, Item, Rule, Severity, compare};
use crate::inventory::WorkloadKind;

pub static RULE: Rule = Rule {
    id: "invoker-check-disabled",
    severity: Severity::High,
    summary: "A service turns off its invoker IAM check",
    headline: (
        "service disables its invoker IAM check",
        "services disable their invoker IAM check",
    ),
    doc: r#"# invoker-check-disabled

## What it detects
`invoker_iam_disabled = true` on a `google_cloud_run_v2_service`, or the
`run.googleapis.com/invoker-iam-disabled: "true"` annotation on a v1 `google_cloud_run_service`.
Cloud Run then stops checking `run.routes.invoke`: every request that reaches the service is
served, whatever IAM says.

## Why it matters
With the check off, invoker IAM no longer protects the service; only ingress, IAP and the load
balancer path do. It also hides the exposure from tools that only look at IAM bindings.

## Example
```hcl
resource "google_cloud_run_v2_service" "api" {
  invoker_iam_disabled = true
  ingress              = "INGRESS_TRAFFIC_ALL"
}
```

## Use instead
Keep the check and grant `roles/run.invoker` to the callers; for a deliberately public service,
keep ingress and IAP decisions explicit and accept the finding.

## Known limits
A Cloud Functions gen2 function has no such setting in the Cloud Functions API; the check of its
Cloud Run service can only be turned off outside the plan, which runguard does not see.
When the plan sets `run.managed.requireInvokerIam` (enforced) on the service's project, a folder
or the organization, the change will be refused at apply: the finding is kept at `info`, never
trips the gate, and names the policy. An org policy outside the plan is not seen.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    if d.workload.kind != WorkloadKind::Service {
        return Vec::new();
    }
    compare(
        d,
        |p| {
            (p.iam_check_disabled == Some(true))
                .then(|| Item {
                    key: "disabled".into(),
                    label: String::new(),
                    evidence: Vec::new(),
                    subject: Default::default(),
                })
                .into_iter()
                .collect()
        },
        |_, dir| {
            match dir {
            Direction::Worsened => "the invoker IAM check is disabled: every request that reaches the service is served".into(),
            Direction::Improved => "the invoker IAM check is enforced again".into(),
            Direction::Unchanged => "the invoker IAM check stays disabled".into(),
        }
        },
    )
}
