use super::{Delta, Direction, Rule, Severity, compare_invokers};
use crate::iam::MemberKind;

pub static RULE: Rule = Rule {
    id: "broad-invoker",
    severity: Severity::Medium,
    summary: "A whole domain or identity pool can invoke a workload",
    headline: (
        "workload gains a broad invoker",
        "workloads gain broad invokers",
    ),
    doc: r#"# broad-invoker

## What it detects
A member that stands for many principals gains (or loses) the right to invoke a service, run a
job or redeploy a worker pool: `domain:` (every account of a Workspace or Cloud Identity domain),
`principalSet://…/*` (every identity of a workforce or workload identity pool) and
`principalSet://cloudresourcemanager.googleapis.com/…/type/ServiceAccount` (every service account
of a project, folder or organization). Project, folder and organization grants count.

## Why it matters
A broad member grows without any Terraform change: every new employee, contractor account, CI
identity or service account gets access.

## Example
```hcl
resource "google_cloud_run_v2_service_iam_member" "staff" {
  name   = google_cloud_run_v2_service.api.name
  role   = "roles/run.invoker"
  member = "domain:acme.com"
}
```

## Use instead
Grant access to a group whose membership is reviewed, or to the calling service accounts.

## Known limits
Group membership is outside the plan, so `group:` members are reported by `invoker-added`, not
here.
"#,
    check,
    memo: None,
};

fn check(d: &Delta) -> Vec<super::Finding> {
    compare_invokers(
        d,
        |i| {
            let k = i.principal.kind();
            k == MemberKind::Broad
        },
        |item, dir| match dir {
            Direction::Worsened => format!("broad member can now invoke it: {}", item.label),
            Direction::Improved => format!("broad member can no longer invoke it: {}", item.label),
            Direction::Unchanged => format!("broad member can still invoke it: {}", item.label),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::tests::{change, directions_beside_api, member};
    use serde_json::{Value, json};

    /// The directions of this rule's findings on the service `api` beside these grants.
    fn directions(grants: Vec<Value>) -> Vec<Direction> {
        let found = directions_beside_api(&[RULE.id], grants);
        found.into_iter().map(|(_, direction)| direction).collect()
    }

    #[test]
    fn a_broad_member_whose_grant_loses_its_condition_is_new() {
        // The domain could invoke only until the condition's date; now it can for good. The
        // other way round, access that still may apply is not claimed gone.
        let expiring = json!([{"title": "until 2027", "description": "",
            "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}]);
        let conditional = member("domain:acme.example", "roles/run.invoker", expiring);
        let lasting = member("domain:acme.example", "roles/run.invoker", json!([]));
        let address = "google_cloud_run_v2_service_iam_member.domain";
        assert_eq!(
            directions(vec![change(address, conditional.clone(), lasting.clone())]),
            [Direction::Worsened]
        );
        assert_eq!(directions(vec![change(address, lasting, conditional)]), []);
        assert_eq!(
            directions(vec![change(
                address,
                Value::Null,
                member("domain:acme.example", "roles/run.invoker", json!([]),)
            )]),
            [Direction::Worsened]
        );
    }
}
