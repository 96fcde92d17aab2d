use super::{Delta, Direction, Finding, Item, Rule, Severity, Subject, item_finding, presence};
use crate::posture::Posture;

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
`roles/iam.workloadIdentityUser`, `roles/iam.serviceAccountOpenIdTokenCreator`), key creation,
or `iam.serviceAccounts.setIamPolicy` (`roles/iam.serviceAccountAdmin`, which can grant itself
any of those). Grants on the account itself (`google_service_account_iam_*`) and project, folder
and organization grants count; an authoritative account policy that is unknown at plan time
counts as an unknown principal. Chains are followed to a fixed point: a principal that can use
account A, where A can use the runtime account, can use the runtime account too; the message
names every account on the way. The account itself is not listed, nor Google-managed service
agents (`service-NNN@gcp-sa-*.iam.gserviceaccount.com`, `NNN@cloudservices.gserviceaccount.com`).

Power is measured before against after. Power that exists on both sides — a new workload or a
new account that inherits an existing project-level grant — is not the plan's doing and is not
reported. When the workload changes identity, who could use the old account is compared with who
can use the new one.

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

fn check(d: &Delta) -> Vec<Finding> {
    compare_power(
        d,
        |p| {
            p.identity
                .impersonators
                .iter()
                .map(|i| {
                    let mut key = i.principal_key();
                    key.push(' ');
                    key.push_str(&i.role);
                    let item = Item {
                        key,
                        label: if i.via.is_empty() {
                            // A direct grant reads the same on every workload it reaches, so
                            // that one grant is one finding; the account is in each posture.
                            format!("`{}` through `{}`", i.principal.display(), i.role)
                        } else {
                            // The account the grant is on, then each account it can act as,
                            // down to the runtime one.
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
                        subject: Subject {
                            principal: Some(i.principal.display().to_owned()),
                            role: Some(i.role.clone()),
                            ..Subject::default()
                        },
                    };
                    let item = if i.certain {
                        item
                    } else {
                        Item {
                            label: format!(
                                "{} (may not apply: the plan cannot name an account of the \
                                 chain, the runtime one or the one the grant is on)",
                                item.label
                            ),
                            ..item
                        }
                    };
                    (item, i.persists)
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

/// Compares power over the runtime identity across the plan. Each item says whether the
/// grants behind it exist on both sides (`persists`).
///
/// - An item on both sides is unchanged.
/// - While the workload keeps its identity (or is created or deleted), an item whose grants
///   persist is power that exists regardless of the plan (a new workload on an account that
///   someone could already use), so it is unchanged too.
/// - When the identity changes, who could use the old account is compared with who can use the
///   new one, grants' age aside. When it becomes unknown, nothing is reported as improved.
pub(super) fn compare_power(
    d: &Delta,
    items: impl Fn(&Posture) -> Vec<(Item, bool)>,
    message: impl Fn(&Item, Direction) -> String,
) -> Vec<Finding> {
    let before = d.before.map(&items).unwrap_or_default();
    let after = d.after.map(&items).unwrap_or_default();
    let same_identity = match (d.before, d.after) {
        (Some(b), Some(a)) => {
            (
                &b.identity.service_account,
                &b.identity.planned_account,
                b.identity.implicit,
            ) == (
                &a.identity.service_account,
                &a.identity.planned_account,
                a.identity.implicit,
            )
        }
        _ => true,
    };
    let (after_in_before, before_in_after) = presence(&before, &after, |(i, _)| &i.key);
    let mut out = Vec::new();
    for ((item, persists), seen) in after.into_iter().zip(after_in_before) {
        let direction = if seen || (same_identity && persists) {
            Direction::Unchanged
        } else {
            Direction::Worsened
        };
        if direction == Direction::Unchanged && !d.include_unchanged {
            continue;
        }
        out.push(item_finding(d, direction, &message, item));
    }
    // An identity that becomes unknown may still be the old one: nobody is known to lose power.
    let after_unknown = d.after.is_some_and(|a| a.identity.default.is_none());
    for ((item, persists), seen) in before.into_iter().zip(before_in_after) {
        if after_unknown || seen || (same_identity && persists) {
            continue;
        }
        out.push(item_finding(d, Direction::Improved, &message, item));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::tests::{analyze, analyze_all, change, service, unchanged};
    use serde_json::json;

    /// What this rule reports on a plan that deploys a new image of `api`, whose runtime
    /// account a user could already impersonate (with `--all` when `all`): the direction and
    /// message of each finding.
    fn on_a_new_image(all: bool) -> Vec<(Direction, String)> {
        let image = |tag: &str| {
            json!({"template": [{
                "service_account": "api-runtime@acme-prod.iam.gserviceaccount.com",
                "containers": [{"image": format!("europe-west1-docker.pkg.dev/acme-prod/c/api:{tag}"),
                                "env": []}],
                "vpc_access": [], "volumes": []}]})
        };
        let account =
            "projects/acme-prod/serviceAccounts/api-runtime@acme-prod.iam.gserviceaccount.com";
        let changes = vec![
            change(
                "google_cloud_run_v2_service.api",
                service(image("1")),
                service(image("2")),
            ),
            unchanged(
                "google_service_account_iam_member.ops",
                json!({"service_account_id": account,
                       "role": "roles/iam.serviceAccountTokenCreator",
                       "member": "user:ops@acme.example", "condition": [],
                       "etag": "BwYk3xq1Rk0=",
                       "id": format!("{account}/roles/iam.serviceAccountTokenCreator/user:ops@acme.example")}),
            ),
        ];
        let report = if all {
            analyze_all(changes)
        } else {
            analyze(changes)
        };
        report
            .findings
            .iter()
            .filter(|f| f.rule.id == RULE.id)
            .map(|f| (f.direction, f.message.clone()))
            .collect()
    }

    #[test]
    fn power_held_before_the_plan_is_listed_as_unchanged_with_all() {
        // `roles/iam.serviceAccountTokenCreator` on the runtime account lets the user mint its
        // tokens, before the plan as after: no regression, but with `--all` the risk that
        // stays is listed.
        assert_eq!(on_a_new_image(false), []);
        assert_eq!(
            on_a_new_image(true),
            [(
                Direction::Unchanged,
                "can act as the runtime identity: `user:ops@acme.example` through \
                 `roles/iam.serviceAccountTokenCreator`"
                    .to_owned()
            )]
        );
    }
}
