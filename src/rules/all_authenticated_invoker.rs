use super::{Delta, Direction, Rule, Severity, compare_invokers};
use crate::iam::MemberKind;

pub static RULE: Rule = Rule {
    id: "all-authenticated-invoker",
    severity: Severity::High,
    summary: "Any Google account can invoke a service (allAuthenticatedUsers)",
    headline: (
        "service becomes invokable by any Google account",
        "services become invokable by any Google account",
    ),
    doc: r#"# all-authenticated-invoker

## What it detects
`allAuthenticatedUsers` gains (or loses) a role with `run.routes.invoke` on a service, through
any IAM resource style.

## Why it matters
`allAuthenticatedUsers` is not "our users": it is every Google account and every service account
in the world. Anyone can create one in a minute, so the service is public in practice.

## Example
```hcl
resource "google_cloud_run_v2_service_iam_binding" "callers" {
  name    = google_cloud_run_v2_service.api.name
  role    = "roles/run.invoker"
  members = ["allAuthenticatedUsers"]
}
```

## Use instead
Grant the role to a `group:` of your callers, to `domain:` of your Workspace domain, or to the
calling service accounts.

## Known limits
Jobs and worker pools are covered by `public-job-or-worker-pool`. For a Cloud Functions gen2
function only grants on its Cloud Run service count; `roles/cloudfunctions.invoker` on the
function does not let anyone call it (see `public-invoker`).
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    if !d.workload.kind.serves_requests() {
        return Vec::new();
    }
    compare_invokers(
        d,
        |i| {
            let k = i.principal.kind();
            k == MemberKind::AllAuthenticatedUsers
        },
        |item, dir| match dir {
            Direction::Worsened => format!("any Google account can invoke it: {}", item.label),
            Direction::Improved => format!(
                "allAuthenticatedUsers can no longer invoke it: {}",
                item.label
            ),
            Direction::Unchanged => {
                format!("any Google account can still invoke it: {}", item.label)
            }
        },
    )
}
