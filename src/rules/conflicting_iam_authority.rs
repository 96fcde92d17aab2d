use super::{Delta, Direction, Item, Rule, Severity, compare};

pub static RULE: Rule = Rule {
    id: "conflicting-iam-authority",
    severity: Severity::Medium,
    summary: "IAM resources fight over one workload's policy",
    headline: (
        "workload has conflicting IAM resources",
        "workloads have conflicting IAM resources",
    ),
    doc: r#"# conflicting-iam-authority

## What it detects
Two kinds of IAM resources on the same workload that overwrite each other:

- a `*_iam_policy` (authoritative for the whole policy) together with any `*_iam_binding` or
  `*_iam_member`, or two policies (v1 and v2 IAM resources on one service count together);
- a `*_iam_binding` (authoritative for its role) and a `*_iam_member` for the same role.

## Why it matters
Each apply undoes the other: the effective invoker list flips between applies and differs from
what either resource says. Reviewers read one resource and trust it; the policy in force is
another.

## Example
```hcl
resource "google_cloud_run_v2_service_iam_policy" "p" { … }
resource "google_cloud_run_v2_service_iam_member" "m" { … } # same service
```

## Use instead
Pick one style per workload: `*_iam_member` for additive grants, or one `*_iam_binding` per
role, or a single `*_iam_policy`.

## Known limits
Grants made outside Terraform are not seen. runguard reports the union of the conflicting grants
as the invokers, since the winner depends on apply order.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare(
        d,
        |p| {
            p.conflicts
                .iter()
                .map(|c| Item {
                    key: c.addresses.join(" "),
                    label: format!("{} ({})", c.message, c.addresses.join(", ")),
                    evidence: c.addresses.clone(),
                    subject: Default::default(),
                })
                .collect()
        },
        |item, dir| match dir {
            Direction::Worsened => format!("conflicting IAM authority: {}", item.label),
            Direction::Improved => format!("IAM conflict resolved: {}", item.label),
            Direction::Unchanged => format!("conflicting IAM authority: {}", item.label),
        },
    )
}
