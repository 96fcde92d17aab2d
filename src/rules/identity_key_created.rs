use super::identity_impersonation::compare_power;
use super::{Delta, Direction, Item, Rule, Severity, Subject};

pub static RULE: Rule = Rule {
    id: "identity-key-created",
    severity: Severity::High,
    summary: "A long-lived key is created for a workload's runtime service account",
    headline: (
        "workload's runtime identity gets a new key",
        "workloads' runtime identities get new keys",
    ),
    doc: r#"# identity-key-created

## What it detects
A `google_service_account_key` for the service account a workload runs as, or for any account
that can act as it, directly or through a chain of accounts (a key for A, where A can mint
tokens for the runtime account B, is a long-lived credential for B). Removing one is reported
as improved.

## Why it matters
A key is a long-lived, exportable credential: anyone who copies it holds the workload's identity
from anywhere, with no expiry and no trace of who used it. Its private key also lands in the
Terraform state in clear text.

## Example
```hcl
resource "google_service_account_key" "api" {
  service_account_id = google_service_account.api.name
}
```

## Use instead
Use workload identity federation or short-lived tokens (`roles/iam.serviceAccountTokenCreator` for
the one caller that needs it); enforce `iam.disableServiceAccountKeyCreation`.

## Known limits
Keys created outside Terraform are not seen. The key's value is never printed.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare_power(
        d,
        |p| {
            p.identity
                .keys
                .iter()
                .map(|k| {
                    let item = Item {
                        key: k.address.clone(),
                        label: {
                            // The key's account, then each account it can act as, down to the runtime one.
                            let mut chain: Vec<String> =
                                k.via.iter().map(|a| format!("`{a}`")).collect();
                            chain.push(format!("`{}`", p.identity.display()));
                            let chain = chain.join(", which can act as ");
                            if k.certain {
                                format!("`{}` for {chain}", k.address)
                            } else {
                                format!("`{}` for {chain}, which may not apply: the plan cannot name the account", k.address)
                            }
                        },
                        evidence: vec![k.address.clone()],
                        subject: Subject {
                            account: Some(p.identity.display()),
                            ..Subject::default()
                        },
                    };
                    (item, k.persists)
                })
                .collect()
        },
        |item, dir| match dir {
            Direction::Worsened => {
                format!("a key is created for the runtime identity: {}", item.label)
            }
            Direction::Improved => {
                format!("a key of the runtime identity is deleted: {}", item.label)
            }
            Direction::Unchanged => format!("the runtime identity has a key: {}", item.label),
        },
    )
}
