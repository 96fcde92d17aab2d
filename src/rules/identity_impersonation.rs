use super::{Delta, Direction, Item, Rule, Severity, compare};

pub static RULE: Rule = Rule {
    id: "identity-impersonation",
    severity: Severity::High,
    summary: "A new principal can act as or impersonate a workload's runtime identity",
    headline: (
        "workload's runtime identity gains impersonators",
        "workloads' runtime identities gain impersonators",
    ),
    doc: r#"# identity-impersonation

## What it detects
A principal that gains (or loses) the power to use the runtime service account of a workload:
`iam.serviceAccounts.actAs` (deploy code that runs as it — `roles/iam.serviceAccountUser`,
`roles/editor`, `roles/owner`), token minting (`roles/iam.serviceAccountTokenCreator`,
`roles/iam.workloadIdentityUser`, `roles/iam.serviceAccountOpenIdTokenCreator`) or key creation.
Grants on the account itself (`google_service_account_iam_*`) and project, folder and
organization grants count. Chains are followed to a fixed point: a principal that can use
account A, where A can use the runtime account, can use the runtime account too; the message
names every account on the way. The account itself is not listed.

## Why it matters
Whoever can act as the runtime account has every permission the workload has, without touching
the workload. It is a quiet path to its data and its privileges.

## Example
```hcl
resource "google_service_account_iam_member" "ci" {
  service_account_id = google_service_account.api.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = "user:dave@acme.com"
}
```

## Use instead
Let only the deployment pipeline's service account hold `roles/iam.serviceAccountUser` on the
runtime account, on that account only, and avoid token-creator grants to people.

## Known limits
When the plan does not know the project number, grants to the implicit default account by
email cannot be matched. Chains through accounts whose grants are outside the plan are not seen.
"#,
    check,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare(
        d,
        |p| {
            p.identity
                .impersonators
                .iter()
                .map(|i| Item {
                    key: format!("{} {}", i.principal_key(), i.role),
                    label: {
                        // The account the grant is on, then each account it can act as, down
                        // to the runtime one.
                        let mut chain: Vec<String> =
                            i.via.iter().map(|a| format!("`{a}`")).collect();
                        chain.push(format!("`{}`", p.identity.display()));
                        format!(
                            "`{}` through `{}` on {}",
                            i.principal.display(),
                            i.role,
                            chain.join(", which can act as ")
                        )
                    },
                    evidence: vec![i.granted_by.clone()],
                })
                .collect()
        },
        |item, dir| match dir {
            Direction::Worsened => format!("can now act as the runtime identity: {}", item.label),
            Direction::Improved => {
                format!("can no longer act as the runtime identity: {}", item.label)
            }
            Direction::Unchanged => format!("can act as the runtime identity: {}", item.label),
        },
    )
}
