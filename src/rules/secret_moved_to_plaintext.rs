use super::{Delta, Direction, Finding, Rule, Severity, finding};
use crate::posture::Posture;

pub static RULE: Rule = Rule {
    id: "secret-moved-to-plaintext",
    severity: Severity::High,
    summary: "An environment variable moves from a Secret Manager reference to a plain value",
    headline: (
        "workload moves a secret into a plain environment value",
        "workloads move secrets into plain environment values",
    ),
    doc: r#"# secret-moved-to-plaintext

## What it detects
An environment variable that read its value from Secret Manager before the plan
(`value_source[0].secret_key_ref`, v1 `value_from[0].secret_key_ref`, a gen2 function's
`secret_environment_variables`) and carries a value in the configuration after it, in the same
container and under the same name. Whatever the name, the variable was a secret: someone chose
to keep it in Secret Manager. The move back is reported as improved. The value is never printed.

## Why it matters
A plain value is stored in the revision, visible to everyone who can view the service
(`run.services.get`), and written to the Terraform state and plan in clear text. Secret Manager's
access control, audit log and rotation no longer apply to it.

## Example
```hcl
env {
  name  = "DB_PASSWORD"
  value = var.db_password   # was value_source { secret_key_ref { secret = "db-password" } }
}
```

## Use instead
Keep the reference: `value_source { secret_key_ref { secret = google_secret_manager_secret.db.secret_id, version = "latest" } }`,
and grant the runtime account `roles/secretmanager.secretAccessor` on that secret.

## Known limits
A variable renamed or moved to another container in the same change is not matched. A value
computed at apply counts as plain: it is not read from Secret Manager either.
"#,
    check,
    memo: None,
};

/// The `(container, name)` of every variable of one side read from Secret Manager or not.
fn named(p: Option<&Posture>, from_secret: bool) -> Vec<(&str, &str)> {
    p.map(|p| {
        p.env_sources
            .iter()
            .filter(|e| e.from_secret == from_secret)
            .map(|e| (e.container.as_str(), e.name.as_str()))
            .collect()
    })
    .unwrap_or_default()
}

fn check(d: &Delta) -> Vec<Finding> {
    let mut out = Vec::new();
    let moves = [
        (
            true,
            Direction::Worsened,
            "from a Secret Manager reference to a plain value",
        ),
        (
            false,
            Direction::Improved,
            "from a plain value to a Secret Manager reference",
        ),
    ];
    for (was_secret, direction, how) in moves {
        let before = named(d.before, was_secret);
        let after = named(d.after, !was_secret);
        for (container, name) in before.into_iter().filter(|v| after.contains(v)) {
            out.push(finding(
                d,
                direction,
                format!("`{name}` (container `{container}`) moves {how}"),
                &[],
            ));
        }
    }
    out
}
