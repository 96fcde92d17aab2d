use super::{Delta, Direction, Item, Rule, Severity, Subject, compare};

pub static RULE: Rule = Rule {
    id: "shared-runtime-identity",
    severity: Severity::Low,
    summary: "A workload starts sharing its user-managed runtime service account with others",
    headline: (
        "workload starts sharing its runtime service account",
        "workloads start sharing their runtime service account",
    ),
    doc: r#"# shared-runtime-identity

## What it detects
A workload whose runtime service account, a user-managed one (not the Compute Engine default),
is also the runtime account of other workloads in the plan after it, when it was not before: a
new workload that reuses another's account, or a workload switched to one already in use. The
finding names every workload that runs as the account. A workload that stops sharing is
reported as improved.

## Why it matters
Google's advice for Cloud Run is a user-managed service account with minimal permissions for
each resource. A shared account holds the union of what every sharer needs, so a flaw in one
workload is access to everything the others can reach, and a grant made for one quietly widens
the others.

## Example
```hcl
resource "google_cloud_run_v2_job" "export" {
  template {
    template {
      service_account = google_service_account.api.email   # the api service's account
    }
  }
}
```

## Use instead
Create one `google_service_account` per workload and grant each only what its code needs.

## Known limits
Only workloads in the plan are compared: a service deployed outside Terraform with the same
account is not seen. The default compute account is reported by `default-service-account`
instead. An account whose email is unknown at plan time is matched by the address of the
`google_service_account` that creates it, when the plan ties them.
"#,
    check,
    memo: None,
};

/// The sharers a finding names: a plan can put thousands of workloads on one account, and each
/// of them carries the finding, so the text and causes stay short and the same for all of them.
const NAMED: usize = 10;

/// The first sharers, in order, and how many more there are.
fn named(sharers: &[String]) -> (&[String], usize) {
    let shown = &sharers[..sharers.len().min(NAMED)];
    (shown, sharers.len() - shown.len())
}

fn check(d: &Delta) -> Vec<super::Finding> {
    let mut findings = compare(
        d,
        |p| {
            if p.shared_identity.is_empty() {
                return Vec::new();
            }
            let account = p.identity.display();
            let (shown, more) = named(&p.shared_identity);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            vec![Item {
                key: account.clone(),
                label: format!(
                    "`{account}` is the runtime account of {}{more}",
                    shown.join(", ")
                ),
                evidence: shown.to_vec(),
                subject: Subject {
                    account: Some(account),
                    ..Subject::default()
                },
            }]
        },
        |item, dir| match dir {
            Direction::Worsened => format!("starts sharing its runtime account: {}", item.label),
            Direction::Improved => "no longer shares its runtime account".into(),
            Direction::Unchanged => format!("shares its runtime account: {}", item.label),
        },
    );
    for f in &mut findings {
        // Every sharer names the same workloads as causes, so one finding lists them all.
        let side = if f.direction == Direction::Improved {
            d.before
        } else {
            d.after
        };
        if let Some(p) = side {
            f.causes = named(&p.shared_identity).0.to_vec();
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_names_ten_sharers_and_counts_the_rest() {
        let sharers: Vec<String> = (0..25).map(|i| format!("w{i:02}")).collect();
        let (shown, more) = named(&sharers);
        assert_eq!(shown.len(), NAMED);
        assert_eq!(shown[0], "w00");
        assert_eq!(more, 15);
        let (shown, more) = named(&sharers[..2]);
        assert_eq!((shown.len(), more), (2, 0));
    }

    #[test]
    fn a_finding_on_many_sharers_says_how_many_it_does_not_name() {
        use crate::posture::tests::{analyze, change, service};
        use serde_json::{Value, json};
        // Twelve new services run as one account: the finding names ten and counts two more.
        let changes = (0..12)
            .map(|i| {
                let mut values = service(json!({}));
                values["name"] = format!("svc-{i:02}").into();
                change(
                    &format!("google_cloud_run_v2_service.svc_{i:02}"),
                    Value::Null,
                    values,
                )
            })
            .collect();
        let report = analyze(changes);
        let messages: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.rule.id == "shared-runtime-identity")
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].ends_with(" and 2 more"), "{}", messages[0]);
    }
}
