use super::{
    Delta, Direction, Finding, Item, Memo, MemoKey, MemoPart, Rule, Severity, Subject,
    item_finding, presence,
};
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
    memo: Some(Memo::Whole(memo_key)),
};

/// What decides this rule's findings on a workload, and [`compare_power`] reads no more: each
/// side's impersonators, a list that the workloads whose accounts the same principals control
/// share; whether the identity stays the same account and whether it becomes unknown; how the
/// runtime identity reads, where a chain's label ends with it. Never the workload. `None` when
/// an org policy may refuse a principal, which the diff checks per workload (`allUsers` can be
/// granted the power to mint an account's tokens).
fn memo_key(d: &Delta) -> Option<MemoKey> {
    if d.after.is_some_and(|a| a.org_policy.may_refuse_members()) {
        return None;
    }
    // Whether unchanged power is wanted is the same for every workload of one diff.
    let mut key = vec![
        MemoPart::Flag(Some(same_identity(d))),
        MemoPart::Flag(Some(becomes_unknown(d))),
    ];
    for side in [d.before, d.after] {
        let Some(p) = side else {
            key.push(MemoPart::Absent);
            continue;
        };
        let impersonators = &p.identity.impersonators;
        let chained = impersonators.iter().any(|i| !i.via.is_empty());
        key.extend([
            MemoPart::List(impersonators.as_ptr() as usize),
            MemoPart::Text(chained.then(|| p.identity.display())),
        ]);
    }
    Some(key)
}

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
    let same_identity = same_identity(d);
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
    let after_unknown = becomes_unknown(d);
    for ((item, persists), seen) in before.into_iter().zip(before_in_after) {
        if after_unknown || seen || (same_identity && persists) {
            continue;
        }
        out.push(item_finding(d, Direction::Improved, &message, item));
    }
    out
}

/// The workload runs as the same account on both sides (as far as the plan names it), or exists
/// on one side only.
fn same_identity(d: &Delta) -> bool {
    match (d.before, d.after) {
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
    }
}

/// The plan cannot tell which account the workload will run as.
fn becomes_unknown(d: &Delta) -> bool {
    d.after.is_some_and(|a| a.identity.default.is_none())
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

    /// The memo key tells apart what `compare_power` tells apart, and only that: the lists (by
    /// address), whether the account stays and whether it becomes unknown, a side's absence,
    /// and how the identity reads only where a chain's label ends with it. An org policy that
    /// may refuse a member leaves the workload to be checked on its own.
    #[test]
    fn the_memo_key_holds_what_decides_the_findings() {
        use crate::posture::identity::Impersonator;
        use crate::posture::tests::after;
        use std::sync::Arc;

        let report = analyze(vec![unchanged(
            "google_cloud_run_v2_service.api",
            service(json!({})),
        )]);
        let base = after(&report, "google_cloud_run_v2_service.api").clone();
        let workload = report.workloads[0].id.clone();
        let key = |before: Option<&Posture>, after: Option<&Posture>| {
            memo_key(&Delta {
                workload: &workload,
                before,
                after,
                include_unchanged: false,
            })
        };
        let ops = |via: Vec<String>| Impersonator {
            principal: crate::graph::Principal::Known {
                member: Arc::from("user:ops@acme.example"),
                sensitive: false,
            },
            role: "roles/iam.serviceAccountTokenCreator".into(),
            granted_by: "google_project_iam_member.ops".into(),
            via,
            persists: true,
            certain: true,
        };
        let mut direct = base.clone();
        direct.identity.impersonators = Arc::from(vec![ops(Vec::new())]);
        let same = key(Some(&direct), Some(&direct));
        assert!(same.is_some());
        assert_eq!(key(Some(&direct), Some(&direct.clone())), same);

        // Another list of the same principals is another list: equal keys need one list.
        let mut copied = direct.clone();
        copied.identity.impersonators = Arc::from(direct.identity.impersonators.to_vec());
        assert_ne!(key(Some(&direct), Some(&copied)), same);
        // The account changes: power that stays is compared account against account.
        let mut moved = direct.clone();
        moved.identity.service_account = Some("other@acme-prod.iam.gserviceaccount.com".into());
        assert_ne!(key(Some(&direct), Some(&moved)), same);
        // The account becomes unknown: nobody is known to lose power.
        let mut unknown = direct.clone();
        unknown.identity.default = None;
        assert_ne!(key(Some(&direct), Some(&unknown)), same);
        // One side is missing.
        assert_ne!(key(None, Some(&direct)), same);
        assert_ne!(key(None, Some(&direct)), key(Some(&direct), None));

        // How the identity reads is in the key only when a chain's label ends with it.
        let mut renamed = direct.clone();
        renamed.identity.service_account = Some("web@acme-prod.iam.gserviceaccount.com".into());
        let mut renamed_too = direct.clone();
        renamed_too.identity.service_account = renamed.identity.service_account.clone();
        renamed_too.identity.impersonators = Arc::clone(&direct.identity.impersonators);
        assert_eq!(
            key(Some(&renamed), Some(&renamed_too)),
            same,
            "a direct grant reads the same on every account"
        );
        let mut chained = direct.clone();
        chained.identity.impersonators = Arc::from(vec![ops(vec![
            "ci@acme-prod.iam.gserviceaccount.com".into(),
        ])]);
        let mut chained_renamed = chained.clone();
        chained_renamed.identity.service_account = renamed.identity.service_account.clone();
        let mut chained_renamed_before = chained.clone();
        chained_renamed_before.identity.service_account = renamed.identity.service_account.clone();
        assert_ne!(
            key(Some(&chained), Some(&chained)),
            key(Some(&chained_renamed_before), Some(&chained_renamed)),
        );

        // An org policy that may refuse `allUsers`: no key.
        let refusing = crate::analyze(
            &std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("testdata/plans/k01-org-policy-refuses-public.json"),
            )
            .expect("the fixture"),
            &crate::Options::default(),
        )
        .expect("a plan");
        let guards = &after(&refusing, "google_cloud_run_v2_service.api").org_policy;
        assert!(guards.may_refuse_members());
        let mut guarded = direct.clone();
        guarded.org_policy = guards.clone();
        assert_eq!(key(Some(&direct), Some(&guarded)), None);
        assert!(key(Some(&guarded), Some(&direct)).is_some());
    }
}
