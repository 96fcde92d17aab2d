use super::{Delta, Direction, Item, Rule, Severity, compare};

pub static RULE: Rule = Rule {
    id: "plaintext-secret-env",
    severity: Severity::High,
    summary: "A credential is passed to a workload as a plaintext environment value",
    headline: (
        "workload gets a plaintext secret in its environment",
        "workloads get plaintext secrets in their environment",
    ),
    doc: r#"# plaintext-secret-env

## What it detects
An environment variable of a container that carries a credential as a literal `value` instead of
a Secret Manager reference (`value_source.secret_key_ref`; v1 `value_from.secret_key_ref`):

- its value is marked sensitive in the plan (it comes from a `sensitive` variable or output), or
- its name says it is a credential and its literal value could be one.

A name is judged by its words (split on `_`, `-`, `.` and camelCase), not by substrings: it
holds a credential word (`PASSWORD`, `PASS`, `PWD`, `SECRET`, `TOKEN`, `APIKEY`, `CREDENTIALS`,
or `KEY` after `API`, `PRIVATE`, `ACCESS`, `SIGNING`, `ENCRYPTION`, …) and its last word is not a
setting word (`URL`, `URI`, `PROJECT`, `LENGTH`, `NAME`, `PATH`, `ID`, `FILE`, `HOST`, `PORT`,
`REGION`, `ENDPOINT`, `VERSION`, `TTL`, `TIMEOUT`, `ENABLED`, …). So `DB_PASSWORD` and
`githubToken` are credentials; `OAUTH_TOKEN_URL`, `SECRET_MANAGER_PROJECT` and
`PASSWORD_MIN_LENGTH` are settings. A value that reads as a setting is not a credential either:
a URL without user info or query string, a number (also `30s`, `512Mi`), a boolean, or a short
lower-case identifier with separators (`my-proj`, `projects/p/secrets/db`).

Switching to a secret reference is reported as improved. runguard prints the variable's name and
container, never its value.

## Why it matters
A plaintext env value is stored in the Terraform state, shown in the Cloud Run console and
revision history, readable by anyone with `run.services.get`, and copied into every revision. A
Secret Manager reference keeps the value in one audited place, behind `secretAccessor`.

## Example
```hcl
env {
  name  = "DB_PASSWORD"
  value = var.db_password
}
```

## Use instead
```hcl
env {
  name = "DB_PASSWORD"
  value_source {
    secret_key_ref {
      secret  = google_secret_manager_secret.db_password.secret_id
      version = "latest"
    }
  }
}
```

## Known limits
A credential under an innocent name with a non-sensitive literal value is not recognised, nor
one under a credential name whose value happens to read as a setting (`DB_PASSWORD =
"db-pass-2024"`). Names are matched by convention: a credential word followed by an unlisted
word (`SECRET_KEY_BASE`) is still a credential.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare(
        d,
        |p| {
            p.plaintext_secrets
                .iter()
                .map(|s| Item {
                    key: format!("{}/{}", s.container, s.name),
                    label: format!("`{}` in container `{}` ({})", s.name, s.container, s.reason),
                    evidence: Vec::new(),
                    subject: Default::default(),
                })
                .collect()
        },
        |item, dir| match dir {
            Direction::Worsened => format!("plaintext secret in the environment: {}", item.label),
            Direction::Improved => format!("no longer a plaintext secret: {}", item.label),
            Direction::Unchanged => format!("plaintext secret in the environment: {}", item.label),
        },
    )
}
