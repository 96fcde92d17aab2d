use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use foldhash::HashSet;

use super::{Delta, Direction, Item, Rule, Severity, Subject, compare_each, invoker_item};
use crate::graph::Principal;
use crate::iam::{Level, MemberKind};
use crate::posture::Invoker;
use crate::posture::invokers::Grant;

pub static RULE: Rule = Rule {
    id: "invoker-added",
    severity: Severity::Low,
    summary: "A principal gains (or loses) the right to invoke, run or redeploy a workload",
    headline: ("workload gains invokers", "workloads gain invokers"),
    doc: r#"# invoker-added

## What it detects
Any named principal — `user:`, `group:`, `serviceAccount:`, a single federated `principal://`,
or a member unknown at plan time, shown as `(unknown)` — that gains (or loses) the right to invoke
a service, run a job or redeploy a worker pool. Grants on the workload and project, folder and
organization grants of roles that carry `run.routes.invoke` / `run.jobs.run` (including
`roles/editor`, `roles/owner` and custom roles) all count.

## Why it matters
Every new caller widens who can reach the workload's code and data. Project-level grants are the
easy one to miss: `roles/editor` on the project can invoke every service in it.

## Example
```hcl
resource "google_project_iam_member" "bob" {
  project = "acme-prod"
  role    = "roles/run.invoker"
  member  = "user:bob@acme.com"
}
```

## Use instead
Grant invoke rights on the one workload that needs them, to a service account or group.

## Known limits
Principals that can also change the workload's IAM policy are reported by
`iam-admin-granted` instead. Public and broad members have their own rules (`public-invoker`, `all-authenticated-invoker`,
`broad-invoker`, `public-job-or-worker-pool`). Group membership is outside the plan.
"#,
    check,
    memo: None,
};

/// How many principals a finding about several names before `…and N more`.
const NAMED: usize = 3;

fn check(d: &Delta) -> Vec<super::Finding> {
    let mut by_cause: BTreeMap<(Direction, Vec<String>), Cause> = BTreeMap::new();
    per_principal(d, |mut f| {
        // The causes are the map's key: the first finding of a cause gives them up rather
        // than having them copied, and gets them back in `Cause::finding`.
        let key = (f.direction, std::mem::take(&mut f.causes));
        match by_cause.entry(key) {
            Entry::Vacant(e) => {
                e.insert(Cause::new(f));
            }
            Entry::Occupied(mut e) => e.get_mut().add(f),
        }
    });
    by_cause
        .into_iter()
        .map(|((direction, causes), cause)| cause.finding(d, direction, causes))
        .collect()
}

/// The principals that one IAM resource adds (or removes) together, gathered as the sides are
/// compared: one finding per cause, a binding of a million members included, built from the
/// principals' names without keeping a million findings.
struct Cause {
    /// The finding of the first principal (without its causes, which key the cause), which
    /// stands alone when no other shares its cause.
    first: super::Finding,
    /// What the principals have in common, from the second principal on: most causes (a
    /// grant to one member) have one principal, and need none of it.
    shared: Option<Shared>,
}

/// The principals of a cause that has more than one.
struct Shared {
    /// Every principal's name, the first's included.
    principals: Vec<String>,
    /// The role every principal holds through the cause, if it is one.
    role: Option<String>,
    /// The level every grant is at, if it is one.
    level: Option<Level>,
}

impl Cause {
    fn new(first: super::Finding) -> Cause {
        Cause {
            first,
            shared: None,
        }
    }

    fn add(&mut self, f: super::Finding) {
        let first = &self.first.subject;
        let shared = self.shared.get_or_insert_with(|| Shared {
            principals: first.principal.iter().cloned().collect(),
            role: first.role.clone(),
            level: first.level,
        });
        if f.subject.role != shared.role {
            shared.role = None;
        }
        if f.subject.level != shared.level {
            shared.level = None;
        }
        shared.principals.extend(f.subject.principal);
    }

    fn finding(self, d: &Delta, direction: Direction, causes: Vec<String>) -> super::Finding {
        let Some(Shared {
            mut principals,
            role,
            level,
        }) = self.shared
        else {
            return super::Finding {
                causes,
                ..self.first
            };
        };
        principals.sort();
        let named: Vec<String> = principals
            .iter()
            .take(NAMED)
            .map(|p| format!("`{p}`"))
            .collect();
        let more = principals.len().saturating_sub(NAMED);
        let through = match (&role, level) {
            (Some(r), Some(l)) => format!(" (`{r}` at {l} level)"),
            _ => String::new(),
        };
        let list = if more > 0 {
            format!("{} and {more} more", named.join(", "))
        } else {
            named.join(", ")
        };
        let n = principals.len();
        let message = match direction {
            Direction::Worsened => format!("{n} new principals can {VERB}{through}: {list}"),
            Direction::Improved => {
                format!("{n} principals can no longer {VERB}{through}: {list}")
            }
            Direction::Unchanged => format!("{n} principals can {VERB}{through}: {list}"),
        };
        super::finding(d, direction, message, &causes).about(Subject {
            role,
            level,
            ..Subject::default()
        })
    }
}

/// One wording for every kind, so that a project-level grant reaching services and jobs is
/// one finding: invoking a service, running a job and redeploying a worker pool are all the
/// access this rule is about.
const VERB: &str = "invoke, run or redeploy";

/// What gives access, as compared across sides.
enum Access<'p> {
    /// A known principal, with every grant that gives it access.
    Principal(&'p Invoker),
    /// One grant to a member unknown at plan time, keyed by the grant: two unknown values may
    /// differ, so an unknown member of a new grant is a new principal even if another grant
    /// has one too.
    Unknown(&'p Grant, String),
}

impl Access<'_> {
    fn key(&self) -> &str {
        match self {
            Access::Principal(i) => i.principal.identity_key(),
            Access::Unknown(_, key) => key,
        }
    }

    fn item(self) -> Item {
        match self {
            Access::Principal(i) => invoker_item(i),
            Access::Unknown(g, key) => {
                let unknown = Principal::Unknown.identity_key();
                Item {
                    key,
                    label: format!("`{unknown}` ({} at {} level)", g.role, g.level),
                    evidence: vec![g.address.to_string()],
                    subject: Subject {
                        principal: Some(unknown.to_owned()),
                        role: Some(g.role.to_string()),
                        level: Some(g.level),
                        account: None,
                    },
                }
            }
        }
    }
}

/// One finding per principal that gains or loses access.
fn per_principal(d: &Delta, emit: impl FnMut(super::Finding)) {
    let verb = VERB;
    compare_each(
        d,
        |p| {
            // A principal that can also change the workload's IAM is reported once, at its
            // full weight, by iam-admin-granted.
            let admins: HashSet<&str> = p
                .iam_admins
                .iter()
                .map(|a| a.principal.identity_key())
                .collect();
            let unknown = Principal::Unknown.identity_key();
            let mut access: Vec<Access> = p
                .invokers
                .iter()
                .filter(|i| i.principal.kind() == MemberKind::Named)
                .filter(|i| {
                    let key = i.principal.identity_key();
                    key != unknown && !admins.contains(key)
                })
                .map(Access::Principal)
                .collect();
            access.extend(
                p.invokers
                    .iter()
                    .filter(|i| i.principal == Principal::Unknown)
                    .flat_map(|i| &i.grants)
                    .map(|g| Access::Unknown(g, format!("{unknown} {}", g.address))),
            );
            access
        },
        Access::key,
        Access::item,
        |item, dir| match dir {
            Direction::Worsened => format!("new principal can {verb}: {}", item.label),
            Direction::Improved => format!("principal can no longer {verb}: {}", item.label),
            Direction::Unchanged => format!("principal can {verb}: {}", item.label),
        },
        emit,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::tests::{analyze, change, service, unchanged};
    use serde_json::{Value, json};

    #[test]
    fn a_binding_that_adds_two_invokers_names_both_and_no_more() {
        // A `google_cloud_run_v2_service_iam_binding` is one cause for all its members: one
        // finding names each of them, and says "and N more" only past the first three.
        let binding = json!({"name": "api", "location": "europe-west1", "project": "acme-prod",
            "role": "roles/run.invoker", "condition": [], "etag": "BwYk3xq1Rk0=",
            "members": ["user:bob@acme.example", "user:alice@acme.example"],
            "id": "projects/acme-prod/locations/europe-west1/services/api/roles/run.invoker"});
        let report = analyze(vec![
            unchanged("google_cloud_run_v2_service.api", service(json!({}))),
            change(
                "google_cloud_run_v2_service_iam_binding.callers",
                Value::Null,
                binding,
            ),
        ]);
        let messages: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.rule.id == RULE.id)
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "2 new principals can invoke, run or redeploy (`roles/run.invoker` at resource \
                 level): `user:alice@acme.example`, `user:bob@acme.example`"
            ]
        );
    }
}
