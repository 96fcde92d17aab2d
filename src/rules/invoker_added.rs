use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use foldhash::{HashMap, HashSet};

use super::{
    Delta, Direction, Item, Memo, MemoKey, MemoPart, Rule, Severity, Subject, after_direction,
    invoker_item, item_finding,
};
use crate::graph::Principal;
use crate::iam::{Level, MemberKind};
use crate::posture::invokers::Grant;
use crate::posture::{Invoker, Posture};

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
`roles/editor`, `roles/owner` and custom roles) all count. A principal whose access before the
plan only may have applied (under an IAM condition, or through a role unknown at plan time) and
who gains a grant that certainly applies is new; one whose access only may apply after the plan
has not lost it.

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
`iam-admin-granted` instead; one that keeps its access while gaining or losing that right is
not reported here. Public and broad members have their own rules (`public-invoker`, `all-authenticated-invoker`,
`broad-invoker`, `public-job-or-worker-pool`). Group membership is outside the plan.
"#,
    check,
    memo: Some(Memo::Split {
        key: shared_key,
        shared: check_inherited,
        rest: check_own,
    }),
};

/// How many principals a finding about several names before `…and N more`.
const NAMED: usize = 3;

fn check(d: &Delta) -> Vec<super::Finding> {
    by_cause(d, Part::All)
}

/// The findings about principals that the workload inherits and holds no grant on itself.
fn check_inherited(d: &Delta) -> Vec<super::Finding> {
    by_cause(d, Part::Inherited)
}

/// The findings about principals with a grant on the workload itself.
fn check_own(d: &Delta) -> Vec<super::Finding> {
    by_cause(d, Part::Own)
}

/// One finding per cause for the principals of `part`.
fn by_cause(d: &Delta, part: Part) -> Vec<super::Finding> {
    let mut by_cause: BTreeMap<(Direction, Vec<String>), Cause> = BTreeMap::new();
    per_principal(d, part, |mut f| {
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

/// What decides [`check_inherited`]: on an IAM-dense plan most of a workload's invokers come
/// from its projects' grants, the same shared list for every workload of the project, while
/// each workload has a few principals of its own.
///
/// A principal inherited and not the workload's own is caused only by grants on scopes, and one
/// of the workload's own only by grants that include one on the workload: the two parts share
/// no cause. What the inherited part finds depends on each side's shared lists (the invokers'
/// with the positions the workload shadows, the IAM admins'), whether unchanged findings are
/// wanted, and which of those lists' principals the workload's own invokers and IAM admins
/// name, on which side, with whether an invoker's grants certainly apply. `None` (the whole
/// rule runs) when nothing is inherited, when a principal of the workload's own is unknown or
/// reads as a key of one (`(unknown) …`), since an unknown member is compared grant by grant,
/// inherited grants included, or when an org policy may refuse a grant to some member.
fn shared_key(d: &Delta) -> Option<MemoKey> {
    // The diff asks the workload's org policies whether they refuse each grant.
    if d.after.is_some_and(|a| a.org_policy.may_refuse_members()) {
        return None;
    }
    let sides = [d.before, d.after];
    let inherits = |p: &&Posture| p.invokers.inherited_identity().is_some();
    if !sides.iter().flatten().any(inherits) {
        return None;
    }
    let unknown = Principal::Unknown.identity_key();
    let mut key = vec![MemoPart::Flag(Some(d.include_unchanged))];
    for side in sides {
        let Some(p) = side else {
            key.push(MemoPart::Absent);
            continue;
        };
        let (invokers, shadowed) = p.invokers.inherited_identity().unwrap_or_default();
        let admins = p
            .iam_admins
            .inherited_identity()
            .map_or(0, |(list, _)| list);
        key.extend([
            MemoPart::List(invokers),
            MemoPart::Positions(shadowed.to_vec()),
            MemoPart::List(admins),
        ]);
        for (holders, role) in [(&p.invokers, "invoker"), (&p.iam_admins, "admin")] {
            for own in holders.own() {
                let name = own.principal.identity_key();
                if name.starts_with(unknown) {
                    return None;
                }
                let inherited_somewhere = sides
                    .iter()
                    .flatten()
                    .any(|q| q.invokers.inherited_with_key(name).next().is_some());
                if inherited_somewhere {
                    let certain = own.certain();
                    key.push(MemoPart::Text(Some(format!("{role} {certain} {name}"))));
                }
            }
        }
    }
    Some(key)
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

    /// It certainly applies (some grant has no condition and a known role).
    fn certain(&self) -> bool {
        match self {
            Access::Principal(i) => i.certain(),
            Access::Unknown(g, _) => g.certain,
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

/// Which of a side's principals a pass reports on (see [`shared_key`]).
#[derive(Clone, Copy)]
enum Part {
    All,
    /// Those with a grant on the workload itself.
    Own,
    /// Those the workload inherits and holds no grant on itself.
    Inherited,
}

/// One side's invokers and IAM admins, asked principal by principal: a principal is looked up
/// among the workload's own and in the shared inherited lists, so that asking about a few
/// principals never walks a project's hundred grants.
struct Side<'p> {
    posture: &'p Posture,
    /// The identity keys of the invokers with a grant on the workload itself, each with
    /// whether one of its grants certainly applies.
    own: HashMap<&'p str, bool>,
    /// Those of the IAM admins with a grant on the workload itself.
    own_admins: HashSet<&'p str>,
    /// The member unknown at plan time, with all its grants, if it can invoke.
    unknown: Option<&'p Invoker>,
}

impl<'p> Side<'p> {
    fn new(posture: &'p Posture) -> Side<'p> {
        let unknown_key = Principal::Unknown.identity_key();
        let own_unknown = posture
            .invokers
            .own()
            .iter()
            .find(|i| i.principal == Principal::Unknown);
        Side {
            posture,
            own: certain_keys(posture.invokers.own()),
            own_admins: posture
                .iam_admins
                .own()
                .iter()
                .map(|h| h.principal.identity_key())
                .collect(),
            unknown: own_unknown.or_else(|| {
                posture
                    .invokers
                    .inherited_with_key(unknown_key)
                    .find(|i| i.principal == Principal::Unknown)
            }),
        }
    }

    /// The principal with identity key `key` can change the workload's IAM.
    fn admin(&self, key: &str) -> bool {
        self.own_admins.contains(key)
            || self
                .posture
                .iam_admins
                .inherited_with_key(key)
                .next()
                .is_some()
    }

    /// What of `part` gives access on this side: each named principal (one that can also
    /// change the workload's IAM is reported once, at its full weight, by iam-admin-granted),
    /// and each grant to the unknown member.
    fn accesses(&self, part: Part) -> Vec<Access<'p>> {
        let invokers = &self.posture.invokers;
        let holders: Box<dyn Iterator<Item = &'p Invoker>> = match part {
            Part::All => Box::new(invokers.iter()),
            Part::Own => Box::new(invokers.own().iter()),
            Part::Inherited => Box::new(invokers.inherited_only()),
        };
        let unknown = Principal::Unknown.identity_key();
        let mut access = Vec::new();
        for i in holders {
            if i.principal == Principal::Unknown {
                access.extend(
                    i.grants
                        .iter()
                        .map(|g| Access::Unknown(g, format!("{unknown} {}", g.address))),
                );
                continue;
            }
            let key = i.principal.identity_key();
            if i.principal.kind() == MemberKind::Named && key != unknown && !self.admin(key) {
                access.push(Access::Principal(i));
            }
        }
        access
    }

    /// Whether some access on this side has this key, as [`Self::accesses`] keys them, IAM
    /// admins included: `None` if none, else whether one certainly applies. A principal that
    /// also gains or loses the right to change the workload's IAM keeps or loses its access
    /// all the same.
    fn holds(&self, key: &str) -> Option<bool> {
        let unknown = Principal::Unknown.identity_key();
        let mut held: Option<bool> = None;
        let mut hold = |certain: bool| held = Some(held.unwrap_or(false) || certain);
        if key != unknown && crate::iam::classify(key) == MemberKind::Named {
            if let Some(&certain) = self.own.get(key) {
                hold(certain);
            }
            let invokers = &self.posture.invokers;
            invokers
                .inherited_with_key(key)
                .for_each(|i| hold(i.certain()));
        }
        let unknown_grant = key.strip_prefix(unknown).and_then(|k| k.strip_prefix(' '));
        if let (Some(address), Some(u)) = (unknown_grant, self.unknown) {
            let grants = u.grants.iter().filter(|g| *g.address == *address);
            grants.for_each(|g| hold(g.certain));
        }
        held
    }
}

/// The identity keys of `holders`, each with whether a grant to it certainly applies.
fn certain_keys(holders: &[Invoker]) -> HashMap<&str, bool> {
    let mut keys: HashMap<&str, bool> = HashMap::default();
    for h in holders {
        *keys.entry(h.principal.identity_key()).or_default() |= h.certain();
    }
    keys
}

/// One finding per principal of `part` that gains or loses access.
fn per_principal(d: &Delta, part: Part, mut emit: impl FnMut(super::Finding)) {
    let message = |item: &Item, direction| match direction {
        Direction::Worsened => format!("new principal can {VERB}: {}", item.label),
        Direction::Improved => format!("principal can no longer {VERB}: {}", item.label),
        Direction::Unchanged => format!("principal can {VERB}: {}", item.label),
    };
    let before = d.before.map(Side::new);
    let after = d.after.map(Side::new);
    let holds = |side: &Option<Side>, key: &str| side.as_ref().and_then(|s| s.holds(key));
    for access in after.iter().flat_map(|s| s.accesses(part)) {
        let held = holds(&before, access.key());
        if let Some(direction) = after_direction(held, access.certain(), d.include_unchanged) {
            emit(item_finding(d, direction, message, access.item()));
        }
    }
    // Access that still may apply is not claimed gone.
    for access in before.iter().flat_map(|s| s.accesses(part)) {
        if holds(&after, access.key()).is_none() {
            emit(item_finding(d, Direction::Improved, message, access.item()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::tests::{
        analyze, change, directions_beside_api, member, service, unchanged,
    };
    use serde_json::{Value, json};

    /// The directions of this rule's findings, and of `iam-admin-granted`'s, on a plan of
    /// `changes` beside the unchanged service `api`.
    fn directions(changes: Vec<Value>) -> Vec<(&'static str, Direction)> {
        directions_beside_api(&[RULE.id, "iam-admin-granted"], changes)
    }

    /// A `google_project_iam_member` on `acme-prod`.
    fn on_project(role: &str, member: &str) -> Value {
        json!({"project": "acme-prod", "role": role, "member": member, "condition": []})
    }

    #[test]
    fn an_invoker_that_gains_the_right_to_change_iam_still_invokes() {
        // Dana invokes through the project, and gains roles/run.admin on the service: she can
        // now change its IAM (iam-admin-granted), and invokes it as before, not "no longer".
        let dana = "user:dana@acme.example";
        assert_eq!(
            directions(vec![
                unchanged(
                    "google_project_iam_member.dana",
                    on_project("roles/run.invoker", dana)
                ),
                change(
                    "google_cloud_run_v2_service_iam_member.dana",
                    Value::Null,
                    member(dana, "roles/run.admin", json!([])),
                ),
            ]),
            [("iam-admin-granted", Direction::Worsened)]
        );
    }

    #[test]
    fn a_grant_that_certainly_applies_is_new_beside_one_that_only_may() {
        // Nora's grant on the service expires (an IAM condition); her new project grant has
        // none: she gains access the plan did not prove she had. The other way round, access
        // that certainly applied and now only may is not claimed gone.
        let nora = "user:nora@acme.example";
        let expiring = json!([{"title": "until 2027", "description": "",
            "expression": "request.time < timestamp(\"2027-01-01T00:00:00Z\")"}]);
        let on_service = member(nora, "roles/run.invoker", expiring);
        let project = on_project("roles/run.invoker", nora);
        assert_eq!(
            directions(vec![
                unchanged(
                    "google_cloud_run_v2_service_iam_member.nora",
                    on_service.clone()
                ),
                change(
                    "google_project_iam_member.nora",
                    Value::Null,
                    project.clone()
                ),
            ]),
            [("invoker-added", Direction::Worsened)]
        );
        assert_eq!(
            directions(vec![
                change(
                    "google_cloud_run_v2_service_iam_member.nora",
                    Value::Null,
                    on_service.clone()
                ),
                change("google_project_iam_member.nora", project, Value::Null),
            ]),
            []
        );
        // Access that only may apply, on both sides, is not new either.
        let mut conditional_project = on_project("roles/run.invoker", nora);
        conditional_project["condition"] = on_service["condition"].clone();
        assert_eq!(
            directions(vec![
                unchanged("google_cloud_run_v2_service_iam_member.nora", on_service),
                change(
                    "google_project_iam_member.nora",
                    Value::Null,
                    conditional_project
                ),
            ]),
            []
        );
    }

    #[test]
    fn a_project_invoker_the_plan_leaves_alone_is_not_new() {
        // Found in the project's shared list on both sides, first or last of it.
        for member in ["user:aaron@acme.example", "user:zoe@acme.example"] {
            let grants = vec![
                unchanged(
                    "google_project_iam_member.kept",
                    on_project("roles/run.invoker", member),
                ),
                unchanged(
                    "google_project_iam_member.other",
                    on_project("roles/run.invoker", "user:mia@acme.example"),
                ),
            ];
            assert_eq!(directions(grants), [], "{member}");
        }
    }

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
