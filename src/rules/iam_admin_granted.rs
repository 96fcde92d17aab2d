use super::{Delta, Direction, Item, Rule, Severity, Subject, compare};
use crate::graph::Principal;

pub static RULE: Rule = Rule {
    id: "iam-admin-granted",
    severity: Severity::High,
    summary: "A principal gains the power to change a workload's IAM policy",
    headline: (
        "workload gains principals who can change its IAM",
        "workloads gain principals who can change their IAM",
    ),
    doc: r#"# iam-admin-granted

## What it detects
A principal that gains (or loses) the power to change who can invoke a workload:
`run.services.setIamPolicy` / `run.jobs.setIamPolicy` / `run.workerpools.setIamPolicy` on the
workload or above it (`roles/run.admin`, `roles/owner`, `roles/iam.securityAdmin`,
`roles/cloudfunctions.admin`, `roles/firebase.admin`), or
`resourcemanager.projects.setIamPolicy` (and the folder and organization forms) above it
(`roles/owner`, `roles/resourcemanager.projectIamAdmin`, `roles/iam.securityAdmin`,
`roles/resourcemanager.folderAdmin`, `roles/resourcemanager.organizationAdmin`), which lets the
holder grant itself the first. Custom roles count by their permissions. Google-managed service
agents are left out.

## Why it matters
Whoever can set the workload's IAM policy can add `allUsers` whenever they like, after this
review and without another pull request: the workload is as public as its least careful admin
wants it to be.

## Example
```hcl
resource "google_project_iam_member" "contractor" {
  project = "acme-prod"
  role    = "roles/run.admin"
  member  = "user:contractor@partner.example"
}
```

## Use instead
Deploy through a pipeline whose account holds `roles/run.developer` (no IAM changes) and keep
`roles/run.admin` and project IAM administration to a small break-glass group.

## Known limits
Grants outside the plan and group membership are not seen. Folder and organization grants are
assumed to cover every workload in the plan.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare(
        d,
        |p| {
            let mut items = Vec::new();
            for a in &p.iam_admins {
                let label = |grants: &[&crate::posture::invokers::Grant]| {
                    format!(
                        "`{}` ({})",
                        a.principal.display(),
                        grants
                            .iter()
                            .map(|g| {
                                format!(
                                    "{} at {} level{}",
                                    g.role,
                                    g.level,
                                    if g.certain { "" } else { ", may not apply" }
                                )
                            })
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                match &a.principal {
                    // Unknown members are one per grant: two unknown values may differ.
                    Principal::Unknown => items.extend(a.grants.iter().map(|g| Item {
                        key: format!("(unknown) {}", g.address),
                        label: label(&[g]),
                        evidence: vec![g.address.to_string()],
                        subject: Subject {
                            principal: Some(a.principal.display().to_owned()),
                            role: Some(g.role.to_string()),
                            level: Some(g.level),
                            account: None,
                        },
                    })),
                    principal => items.push(Item {
                        key: principal.identity_key().to_owned(),
                        label: label(&a.grants.iter().collect::<Vec<_>>()),
                        evidence: a.grants.iter().map(|g| g.address.to_string()).collect(),
                        subject: Subject {
                            principal: Some(principal.display().to_owned()),
                            ..Subject::default()
                        },
                    }),
                }
            }
            items
        },
        |item, dir| match dir {
            Direction::Worsened => format!(
                "can now change its IAM policy, and so make it public: {}",
                item.label
            ),
            Direction::Improved => format!("can no longer change its IAM policy: {}", item.label),
            Direction::Unchanged => format!("can change its IAM policy: {}", item.label),
        },
    )
}
