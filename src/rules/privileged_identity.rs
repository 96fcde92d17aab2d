use foldhash::HashMap;

use super::{Delta, Direction, Item, Rule, Severity, Subject, compare};

use crate::iam::Level;

pub static RULE: Rule = Rule {
    id: "privileged-identity",
    severity: Severity::High,
    summary: "A workload's runtime service account holds a privileged role",
    headline: (
        "workload gains a privileged runtime identity",
        "workloads gain a privileged runtime identity",
    ),
    doc: r#"# privileged-identity

## What it detects
The service account a workload runs as holds (or stops holding) a privileged role at project,
folder or organization level: `roles/owner`, `roles/editor`, any `*admin` role, or a role —
predefined or custom — that can act as service accounts (`iam.serviceAccounts.actAs`), mint
their tokens (`getAccessToken`, `signBlob`, `signJwt`), create their keys, or change IAM
(`setIamPolicy`). Grants to principal sets that include the account count (every service account
of its project, folder or organization:
`principalSet://cloudresourcemanager.googleapis.com/projects/NUMBER/type/ServiceAccount`). A
workload switching to an account that already holds such a role counts too, and so does a role
whose name is unknown at plan time (it may be any of them). A grant whose member is unknown at
plan time (and not a reference to an account the plan creates) may be to any account: it is
reported as "may hold" on every runtime identity, never dropped.

The same roles granted on **one resource** — a bucket, a secret, a topic, a dataset, a key, a
repository (any `google_*_iam_{member,binding,policy}` in the plan), plus that resource's owner
roles (`roles/storage.legacyBucketOwner`, `roles/bigquery.dataOwner`) — are reported at
`medium`, as "on `google_storage_bucket acme-uploads` only (resource level)": the code can take
over that resource and re-share it through its IAM policy, but gains nothing beyond it.

## Why it matters
Whoever controls the workload — through a code bug, a compromised dependency or a malicious
deployment — controls its identity. A privileged runtime account turns one vulnerable service
into a project takeover.

## Example
```hcl
resource "google_project_iam_member" "api_editor" {
  project = "acme-prod"
  role    = "roles/editor"
  member  = "serviceAccount:${google_service_account.api.email}"
}
```

## Use instead
Grant narrow roles on the specific resources the code uses (a bucket, a secret, a topic) instead
of project-wide basic or admin roles.

## Known limits
Roles granted outside the plan are not seen; the default compute account's roles are shown as
unknown, since it holds `roles/editor` unless the automatic-grants org policy is enforced.
What a resource-level role reaches inside the resource (objects, versions) is not modelled, and
principal sets are matched only in project, folder and organization grants.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    // What a role that goes away was, by item key: the role, and the resource it was on.
    let held: HashMap<String, String> = [d.before, d.after]
        .into_iter()
        .flatten()
        .flat_map(|p| p.identity.roles.iter())
        .map(|r| {
            let what = match &r.resource {
                Some(on) => format!("`{}` on `{}`", r.role, on.display()),
                None => format!("`{}`", r.role),
            };
            (r.key(), what)
        })
        .collect();
    let mut findings = compare(
        d,
        |p| {
            p.identity
                .roles
                .iter()
                .filter(|r| r.privileged)
                .map(|r| Item {
                    key: r.key(),
                    label: format!(
                        "`{}` {} `{}`{}{}",
                        p.identity.display(),
                        if r.certain { "holds" } else { "may hold" },
                        r.role,
                        match &r.resource {
                            Some(on) => format!(" on `{}` only (resource level)", on.display()),
                            None => format!(" at {} level", r.level),
                        },
                        if r.capabilities.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", r.capabilities.join(", "))
                        }
                    ),
                    evidence: vec![r.granted_by.clone()],
                    subject: Subject {
                        account: Some(p.identity.display()),
                        role: Some(r.role.clone()),
                        level: Some(r.level),
                        principal: None,
                    },
                })
                .collect()
        },
        |item, dir| match dir {
            Direction::Worsened => format!("runtime identity becomes privileged: {}", item.label),
            Direction::Improved => format!("runtime identity no longer holds {}", held[&item.key]),
            Direction::Unchanged => format!("runtime identity is privileged: {}", item.label),
        },
    );
    // Power over one resource is not power over the project: what the workload's code can
    // reach grows by that resource and whatever its IAM policy can be made to grant.
    for f in &mut findings {
        if f.subject.level == Some(Level::Resource) {
            f.severity = Some(Severity::Medium);
        }
    }
    findings
}
