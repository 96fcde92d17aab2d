use super::{Delta, Direction, Item, Rule, Severity, Subject, compare};

pub static RULE: Rule = Rule {
    id: "shared-runtime-identity",
    severity: Severity::Low,
    summary: "A workload starts sharing its user-managed runtime service account with others",
    headline: (
        "workload starts sharing its runtime service account",
        "workloads start sharing their runtime service account",
    ),
    doc: r#"# shared-runtime-identity

## What it detects
A workload whose runtime service account, a user-managed one (not the Compute Engine default),
is also the runtime account of other workloads in the plan after it, when it was not before: a
new workload that reuses another's account, or a workload switched to one already in use. The
finding names every workload that runs as the account. A workload that stops sharing is
reported as improved.

## Why it matters
Google's advice for Cloud Run is a user-managed service account with minimal permissions for
each resource. A shared account holds the union of what every sharer needs, so a flaw in one
workload is access to everything the others can reach, and a grant made for one quietly widens
the others.

## Example
```hcl
resource "google_cloud_run_v2_job" "export" {
  template {
    template {
      service_account = google_service_account.api.email   # the api service's account
    }
  }
}
```

## Use instead
Create one `google_service_account` per workload and grant each only what its code needs.

## Known limits
Only workloads in the plan are compared: a service deployed outside Terraform with the same
account is not seen. The default compute account is reported by `default-service-account`
instead. An account whose email is unknown at plan time is matched by the address of the
`google_service_account` that creates it, when the plan ties them.
"#,
    check,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare(
        d,
        |p| {
            if p.shared_identity.is_empty() {
                return Vec::new();
            }
            let account = p.identity.display();
            vec![Item {
                key: account.clone(),
                label: format!(
                    "`{account}` is the runtime account of {}",
                    p.shared_identity.join(", ")
                ),
                evidence: p.shared_identity.clone(),
                subject: Subject {
                    account: Some(account),
                    ..Subject::default()
                },
            }]
        },
        |item, dir| match dir {
            Direction::Worsened => format!("starts sharing its runtime account: {}", item.label),
            Direction::Improved => "no longer shares its runtime account".into(),
            Direction::Unchanged => format!("shares its runtime account: {}", item.label),
        },
    )
    .into_iter()
    // Every sharer names the same workloads as causes, so one finding lists them all.
    .map(|f| f.caused_by_workload_too(&d.workload.address))
    .collect()
}
