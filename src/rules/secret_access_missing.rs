use super::{Delta, Direction, Item, Rule, Severity, Subject, compare};

pub static RULE: Rule = Rule {
    id: "secret-access-missing",
    severity: Severity::Low,
    summary: "A workload references a secret its runtime account has no role in the plan to read",
    headline: (
        "workload references a secret its runtime account cannot read",
        "workloads reference secrets their runtime accounts cannot read",
    ),
    doc: r#"# secret-access-missing

## What it detects
A workload that references a Secret Manager secret (an environment variable's
`value_source[0].secret_key_ref[0].secret`, a secret volume, a gen2 function's
`secret_environment_variables` or `secret_volumes`; on a v1 `google_cloud_run_service`, an
environment variable's `value_from[0].secret_key_ref[0].name` or a volume's
`secret[0].secret_name`, which names a secret of the service's project or an alias declared in
the revision annotation `run.googleapis.com/secrets` as `ALIAS:projects/PROJECT/secrets/SECRET`)
while no IAM resource in the plan gives its
runtime service account a role that reads it: `roles/secretmanager.secretAccessor`,
`roles/secretmanager.admin` or `roles/owner`, on the secret
(`google_secret_manager_secret_iam_*`), its project, a folder or the organization. A grant that
arrives is reported as improved.

## Why it matters
Cloud Run reads the secret with the runtime account when it starts an instance: without access
the revision fails to start (or the job fails), an outage rather than a breach. `roles/editor`
does not carry `secretmanager.versions.access`, so a default compute account does not read
secrets either unless granted.

## Example
```hcl
env {
  name = "DB_PASSWORD"
  value_source {
    secret_key_ref { secret = "db-password" }   # no secretAccessor for the runtime account
  }
}
```

## Use instead
```hcl
resource "google_secret_manager_secret_iam_member" "api_db" {
  secret_id = google_secret_manager_secret.db.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.api.email}"
}
```

## Known limits
Grants outside the plan are not seen, hence the low severity. Only a proven absence is
reported: an unknown runtime account, member, role or target, a custom role, or a secret named
in a project given by number counts as possible access. A reference the plan leaves open is not
reported: an unknown secret name, and on a v1 service any name while the alias annotation (or
the whole revision annotation map) is unknown, since it may be an alias for any secret, or a name
through an alias whose definition cannot be read. A revision annotation map that is unknown only
because the configuration does not set it on create declares no alias.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare(
        d,
        |p| {
            p.secrets_without_access
                .iter()
                .map(|s| Item {
                    key: s.clone(),
                    label: s.clone(),
                    evidence: Vec::new(),
                    subject: Subject {
                        account: Some(p.identity.display()),
                        ..Subject::default()
                    },
                })
                .collect()
        },
        |item, dir| match dir {
            Direction::Worsened => format!(
                "reads secret `{}`, which no grant in the plan lets its runtime account read: \
                 it fails at runtime unless access is granted outside the plan",
                item.label
            ),
            Direction::Improved => format!(
                "its runtime account can now read secret `{}`, or no longer needs to",
                item.label
            ),
            Direction::Unchanged => format!(
                "reads secret `{}`, which no grant in the plan lets its runtime account read",
                item.label
            ),
        },
    )
}
