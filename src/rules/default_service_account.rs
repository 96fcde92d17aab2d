use super::{Delta, Direction, Item, Rule, Severity, Subject, compare};

pub static RULE: Rule = Rule {
    id: "default-service-account",
    severity: Severity::Medium,
    summary: "A workload runs as the Compute Engine default service account",
    headline: (
        "workload now runs as the default compute service account",
        "workloads now run as the default compute service account",
    ),
    doc: r#"# default-service-account

## What it detects
A workload whose runtime identity becomes the Compute Engine default service account
(`PROJECT_NUMBER-compute@developer.gserviceaccount.com`), either named explicitly or taken
implicitly because `service_account` (`template[0].service_account`, jobs
`template[0].template[0].service_account`, v1 `template[0].spec[0].service_account_name`) is
unset. A service created without a service account counts. Moving to a dedicated account is
reported as improved.

## Why it matters
The default account is shared by every workload in the project that does not choose another
one, and unless the org policy `iam.automaticIamGrantsForDefaultServiceAccounts` is enforced it
holds `roles/editor` on the project: a bug in the workload becomes project-wide write access.

## Example
```hcl
resource "google_cloud_run_v2_service" "api" {
  template {
    containers { image = "…" }
    # no service_account: runs as PROJECT_NUMBER-compute@developer.gserviceaccount.com
  }
}
```

## Use instead
Create a dedicated `google_service_account` per workload, grant it only what the code needs, and
set `service_account = google_service_account.api.email`.

## Known limits
Whether the default account still holds `roles/editor` is outside the plan, unless the plan
proves it does not; the finding is then lowered to `low` and says "mitigated by …", naming the
resource, which is also its evidence:

- a `google_project_default_service_accounts` for the workload's project with action
  `DEPRIVILEGE`, `DISABLE` or `DELETE`;
- the org policy `iam.automaticIamGrantsForDefaultServiceAccounts`, enforced
  (`google_org_policy_policy` with `spec.rules[].enforce = "TRUE"`, or a legacy
  `google_folder_organization_policy` / `google_organization_policy` with
  `boolean_policy.enforced = true`), **when the plan proves it spares this account**. The
  constraint only acts when a default account is created, and an account created before it
  keeps its Editor grant. So it counts only when the plan creates the workload's project
  (`google_project`) under the folder or organization (`folder_id`, `org_id`) where the policy is
  enforced both before and after the plan, no project-level policy for the constraint decides
  otherwise, and the workload leaves `service_account` unset (so it runs as that new project's
  account).

An enforced policy without that proof — on a project that already exists, on a folder or
organization the plan cannot tie to the project, or created in the same plan as the project
(nothing orders the two) — only makes it likely: the finding stays, the identity's roles stay
"unknown (holds roles/editor unless …)", and its note names the policy.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare(
        d,
        |p| {
            (p.identity.default == Some(true))
                .then(|| Item {
                    key: "default".into(),
                    label: p.identity.display(),
                    evidence: Vec::new(),
                    subject: Subject {
                        account: Some(p.identity.display()),
                        ..Subject::default()
                    },
                })
                .into_iter()
                .collect()
        },
        |item, dir| match dir {
            Direction::Worsened => format!(
                "runs as the default compute service account: {}",
                item.label
            ),
            Direction::Improved => "no longer runs as the default compute service account".into(),
            Direction::Unchanged => format!(
                "runs as the default compute service account: {}",
                item.label
            ),
        },
    )
}
