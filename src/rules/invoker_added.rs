use super::{Delta, Direction, Item, Rule, Severity, Subject, compare, invoker_items};
use crate::graph::Principal;
use crate::iam::MemberKind;

pub static RULE: Rule = Rule {
    id: "invoker-added",
    severity: Severity::Low,
    summary: "A principal gains (or loses) the right to invoke, run or redeploy a workload",
    headline: ("workload gains invokers", "workloads gain invokers"),
    doc: r#"# invoker-added

## What it detects
Any named principal — `user:`, `group:`, `serviceAccount:`, a single federated `principal://`,
or a member unknown at plan time, shown as `(unknown)` — that gains (or loses) the right to invoke
a service, run a job or redeploy a worker pool. Grants on the workload and project, folder and
organization grants of roles that carry `run.routes.invoke` / `run.jobs.run` (including
`roles/editor`, `roles/owner` and custom roles) all count.

## Why it matters
Every new caller widens who can reach the workload's code and data. Project-level grants are the
easy one to miss: `roles/editor` on the project can invoke every service in it.

## Example
```hcl
resource "google_project_iam_member" "bob" {
  project = "acme-prod"
  role    = "roles/run.invoker"
  member  = "user:bob@acme.com"
}
```

## Use instead
Grant invoke rights on the one workload that needs them, to a service account or group.

## Known limits
Principals that can also change the workload's IAM policy are reported by
`iam-admin-granted` instead. Public and broad members have their own rules (`public-invoker`, `all-authenticated-invoker`,
`broad-invoker`, `public-job-or-worker-pool`). Group membership is outside the plan.
"#,
    check,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    // One wording for every kind, so that a project-level grant reaching services and jobs is
    // one finding: invoking a service, running a job and redeploying a worker pool are all
    // the access this rule is about.
    let verb = "invoke, run or redeploy";
    compare(
        d,
        |p| {
            // A principal that can also change the workload's IAM is reported once, at its
            // full weight, by iam-admin-granted.
            let mut items = invoker_items(p, |k| k == MemberKind::Named);
            items.retain(|i| {
                !p.iam_admins
                    .iter()
                    .any(|a| a.principal.identity_key() == i.key)
            });
            // Unknown members are one per grant: two unknown values may differ, so an unknown
            // member of a new grant is a new principal even if another grant has one too.
            let unknown = Principal::Unknown.identity_key();
            let split: Vec<Item> = p
                .invokers
                .iter()
                .filter(|i| i.principal == Principal::Unknown)
                .flat_map(|i| &i.grants)
                .map(|g| Item {
                    key: format!("{unknown} {}", g.address),
                    label: format!("`{unknown}` ({} at {} level)", g.role, g.level),
                    evidence: vec![g.address.to_string()],
                    subject: Subject {
                        principal: Some(unknown.to_owned()),
                        role: Some(g.role.to_string()),
                        level: Some(g.level),
                        account: None,
                    },
                })
                .collect();
            items.retain(|i| i.key != unknown);
            items.extend(split);
            items
        },
        |item, dir| match dir {
            Direction::Worsened => format!("new principal can {verb}: {}", item.label),
            Direction::Improved => format!("principal can no longer {verb}: {}", item.label),
            Direction::Unchanged => format!("principal can {verb}: {}", item.label),
        },
    )
}
