//! The rule registry. Each rule is one file that owns its detection and its documentation;
//! every rule compares one workload's posture before and after the plan.

mod all_authenticated_invoker;
mod binary_authorization_weakened;
mod broad_invoker;
mod conflicting_iam_authority;
mod default_service_account;
mod iam_admin_granted;
mod iap_public_access;
mod iap_removed;
mod identity_impersonation;
mod identity_key_created;
mod ingress_widened;
mod invoker_added;
mod invoker_check_disabled;
mod plaintext_secret_env;
mod privileged_identity;
mod public_exposure_unknown;
mod public_invoker;
mod public_job_or_worker_pool;
mod secret_access_missing;
mod secret_moved_to_plaintext;
mod shared_runtime_identity;

use std::fmt::{self, Write as _};

use foldhash::{HashMap, HashSet};
use serde::Serialize;

use crate::iam::Level;
use crate::posture::{Invoker, Posture, WorkloadId};

/// How bad a change is. Ordered from least to most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational only.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The lower-case name (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which way a change moves the posture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The plan makes the posture worse.
    Worsened,
    /// The plan makes the posture better.
    Improved,
    /// Risky posture that the plan leaves as it is (reported with `--all`).
    Unchanged,
}

impl Direction {
    /// The lower-case name (`worsened`).
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Worsened => "worsened",
            Direction::Improved => "improved",
            Direction::Unchanged => "unchanged",
        }
    }
}

/// One workload's two sides; `None` where the workload does not exist.
pub(crate) struct Delta<'a> {
    pub workload: &'a WorkloadId,
    pub before: Option<&'a Posture>,
    pub after: Option<&'a Posture>,
    /// Unchanged-but-risky findings are wanted (`--all`); rules may skip building them.
    pub include_unchanged: bool,
}

/// What a rule found on one workload. The diff groups these by cause: observations of one
/// rule with the same direction, causes, subject and message become one finding that lists
/// every workload they affect, so the message never names the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finding {
    pub direction: Direction,
    /// Overrides the rule's severity for this finding (`None`: the rule's).
    pub severity: Option<Severity>,
    /// What happens, in terms of the cause: the same text for every workload it affects.
    pub message: String,
    /// The resources a reviewer would change: IAM resources, load-balancer frontends, or the
    /// workload itself when its own attributes are the cause.
    pub causes: Vec<String>,
    /// Who or what the finding is about, where one applies.
    pub subject: Subject,
}

/// What a finding is about: a principal, a role at a level, a runtime account. Part of the
/// finding's identity (grouping and fingerprint), so it holds display forms only: a sensitive
/// principal is `(sensitive)`, never its value.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    /// The principal, as displayed.
    pub principal: Option<String>,
    /// The role.
    pub role: Option<String>,
    /// `resource`, `project`, `folder` or `organization`.
    pub level: Option<Level>,
    /// The runtime service account, as displayed.
    pub account: Option<String>,
}

impl Subject {
    /// Nothing is named.
    pub fn is_empty(&self) -> bool {
        *self == Subject::default()
    }
}

#[derive(Debug)]
/// A rule: its identity, severity, documentation and check.
pub struct Rule {
    /// Stable kebab-case id; a retired id is never reused.
    pub id: &'static str,
    /// The severity of what it finds, unless a finding overrides it.
    pub severity: Severity,
    /// One line: what the rule reports.
    pub summary: &'static str,
    /// Headline phrase after a count of workloads: (one, many).
    pub headline: (&'static str, &'static str),
    /// Markdown documentation: what it detects, why it matters, an example, the fix, limits.
    pub doc: &'static str,
    pub(crate) check: fn(&Delta) -> Vec<Finding>,
    /// How the diff may reuse the rule's findings on one workload for another; `None` when it
    /// never can.
    pub(crate) memo: Option<Memo>,
}

/// How a rule's findings on one workload can serve another. A key is a small part of the
/// delta, never the workload itself: two workloads with equal keys get the same findings, word
/// for word, so the diff groups the second under the first's without running the rule. A key
/// is `None` for a delta it cannot decide, and the rule's `check` runs.
#[derive(Debug)]
pub(crate) enum Memo {
    /// The key decides all the rule's findings.
    Whole(fn(&Delta) -> Option<MemoKey>),
    /// The findings fall in two parts that share no cause: `shared`, which the key decides,
    /// and `rest`, which runs on every workload. Wherever the key is not `None`, the two parts
    /// together are what `check` finds.
    Split {
        key: fn(&Delta) -> Option<MemoKey>,
        shared: fn(&Delta) -> Vec<Finding>,
        rest: fn(&Delta) -> Vec<Finding>,
    },
}

/// What decides a rule's findings on a workload (see [`Rule::memo`]), part by part.
pub(crate) type MemoKey = Vec<MemoPart>;

/// One part of a [`MemoKey`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum MemoPart {
    /// A side of the plan without the workload.
    Absent,
    /// A list shared between postures (an `Arc`), by its address: while the postures live, the
    /// same address is the same list.
    List(usize),
    Text(Option<String>),
    Flag(Option<bool>),
    /// Positions in a shared list (see `List`).
    Positions(Vec<usize>),
}

/// Every rule, sorted by id.
pub static RULES: &[&Rule] = &[
    &all_authenticated_invoker::RULE,
    &binary_authorization_weakened::RULE,
    &broad_invoker::RULE,
    &conflicting_iam_authority::RULE,
    &default_service_account::RULE,
    &iam_admin_granted::RULE,
    &iap_public_access::RULE,
    &iap_removed::RULE,
    &identity_impersonation::RULE,
    &identity_key_created::RULE,
    &ingress_widened::RULE,
    &invoker_added::RULE,
    &invoker_check_disabled::RULE,
    &plaintext_secret_env::RULE,
    &privileged_identity::RULE,
    &public_exposure_unknown::RULE,
    &public_invoker::RULE,
    &public_job_or_worker_pool::RULE,
    &secret_access_missing::RULE,
    &secret_moved_to_plaintext::RULE,
    &shared_runtime_identity::RULE,
];

/// The rule with this id.
pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

/// An element of a rule's risk set on one side.
pub(crate) struct Item {
    /// What makes two items the same risk across sides.
    pub key: String,
    /// How the item reads in a message; it must not depend on the workload.
    pub label: String,
    /// The resources that cause the item; empty when the workload's own attributes do.
    pub evidence: Vec<String>,
    pub subject: Subject,
}

/// Compares the risk sets of both sides: an item that appears is worsened, one that goes is
/// improved, one that stays is unchanged. A missing side has no items.
pub(crate) fn compare(
    d: &Delta,
    items: impl Fn(&Posture) -> Vec<Item>,
    message: impl Fn(&Item, Direction) -> String,
) -> Vec<Finding> {
    compare_by(d, items, |i| &i.key, |_| true, |i| i, message)
}

/// [`compare`] over elements that are cheap to list and to key, such as a posture's own
/// invokers: the item, with its label, evidence and subject, is built only for an element that
/// is reported. A binding of a million members that both sides hold costs a million keys, not
/// a million labels. `certain` tells whether an element certainly applies (see
/// [`after_direction`]).
pub(crate) fn compare_by<'p, T>(
    d: &Delta<'p>,
    elements: impl Fn(&'p Posture) -> Vec<T>,
    key: impl Fn(&T) -> &str,
    certain: impl Fn(&T) -> bool,
    item: impl Fn(T) -> Item,
    message: impl Fn(&Item, Direction) -> String,
) -> Vec<Finding> {
    let before = d.before.map(&elements).unwrap_or_default();
    let after = d.after.map(&elements).unwrap_or_default();
    let (after_directions, before_gone) = {
        let mut held: HashMap<&str, bool> = HashMap::default();
        for b in &before {
            *held.entry(key(b)).or_default() |= certain(b);
        }
        let after_keys: HashSet<&str> = after.iter().map(&key).collect();
        let after_directions: Vec<Option<Direction>> = after
            .iter()
            .map(|a| after_direction(held.get(key(a)).copied(), certain(a), d.include_unchanged))
            .collect();
        let before_gone: Vec<bool> = before
            .iter()
            .map(|b| !after_keys.contains(key(b)))
            .collect();
        (after_directions, before_gone)
    };
    let mut out = Vec::new();
    for (element, direction) in after.into_iter().zip(after_directions) {
        if let Some(direction) = direction {
            out.push(item_finding(d, direction, &message, item(element)));
        }
    }
    // What still may apply on the after side is not claimed gone.
    for (element, gone) in before.into_iter().zip(before_gone) {
        if gone {
            out.push(item_finding(
                d,
                Direction::Improved,
                &message,
                item(element),
            ));
        }
    }
    out
}

/// How an element of the after side compares with the before side, which holds its key
/// (`Some`, with whether one such element certainly applies) or not (`None`): new, unchanged
/// (reported only when `include_unchanged`), or `None` to leave out. What only may have
/// applied before (an IAM condition, a role unknown at plan time) proves nothing: an element
/// that certainly applies is new beside it.
pub(crate) fn after_direction(
    before: Option<bool>,
    certain: bool,
    include_unchanged: bool,
) -> Option<Direction> {
    match before {
        None => Some(Direction::Worsened),
        Some(false) if certain => Some(Direction::Worsened),
        Some(_) if include_unchanged => Some(Direction::Unchanged),
        Some(_) => None,
    }
}

/// For each item of `after`, whether `before` has its key, and for each of `before`, whether
/// `after` has it: the two sides' keys are compared once, by hash, and the items stay owned.
pub(crate) fn presence<T>(
    before: &[T],
    after: &[T],
    key: impl Fn(&T) -> &str,
) -> (Vec<bool>, Vec<bool>) {
    let before_keys: HashSet<&str> = before.iter().map(&key).collect();
    let after_keys: HashSet<&str> = after.iter().map(&key).collect();
    (
        after.iter().map(|i| before_keys.contains(key(i))).collect(),
        before.iter().map(|i| after_keys.contains(key(i))).collect(),
    )
}

/// The finding of one compared item, which it consumes: its evidence and subject move into the
/// finding rather than being copied.
pub(crate) fn item_finding(
    d: &Delta,
    direction: Direction,
    message: impl Fn(&Item, Direction) -> String,
    item: Item,
) -> Finding {
    let message = message(&item, direction);
    owned_finding(d, direction, message, item.evidence).about(item.subject)
}

/// A finding caused by the resources of `evidence`, or by the workload's own attributes when
/// there are none.
pub(crate) fn finding(
    d: &Delta,
    direction: Direction,
    message: String,
    evidence: &[String],
) -> Finding {
    owned_finding(d, direction, message, evidence.to_vec())
}

/// [`finding`], taking the evidence by value: it becomes the causes without being copied.
fn owned_finding(
    d: &Delta,
    direction: Direction,
    message: String,
    mut evidence: Vec<String>,
) -> Finding {
    evidence.retain(|e| *e != d.workload.address);
    evidence.sort();
    evidence.dedup();
    let causes = if evidence.is_empty() {
        vec![d.workload.address.clone()]
    } else {
        evidence
    };
    Finding {
        direction,
        severity: None,
        message,
        causes,
        subject: Subject::default(),
    }
}

impl Finding {
    /// The same finding about `subject`.
    pub(crate) fn about(mut self, subject: Subject) -> Finding {
        self.subject = subject;
        self
    }

    /// The same finding, also caused by the workload's own attributes.
    pub(crate) fn caused_by_workload_too(mut self, workload: &str) -> Finding {
        if !self.causes.iter().any(|c| c == workload) {
            self.causes.push(workload.to_owned());
            self.causes.sort();
        }
        self
    }
}

/// Compares the invokers of both sides that `pred` selects, one risk item per principal: a
/// principal that could already invoke the workload through another grant gains nothing new.
pub(crate) fn compare_invokers(
    d: &Delta,
    pred: impl Fn(&Invoker) -> bool,
    message: impl Fn(&Item, Direction) -> String,
) -> Vec<Finding> {
    compare_by(
        d,
        |p| p.invokers.iter().filter(|i| pred(i)).collect(),
        |i| i.principal.identity_key(),
        |i| i.certain(),
        invoker_item,
        message,
    )
}

/// An invoker as a risk item. The label names the grants but never the workload, so that one
/// project-level grant gives the same item on every workload it reaches.
pub(crate) fn invoker_item(i: &Invoker) -> Item {
    let mut label = format!("`{}` (", i.principal.display());
    for (n, g) in i.grants.iter().enumerate() {
        let sep = if n == 0 { "" } else { "; " };
        let may = if g.certain { "" } else { ", may not apply" };
        // Writing to a String cannot fail.
        let _ = write!(label, "{sep}{} at {} level{may}", g.role, g.level);
    }
    label.push(')');
    Item {
        key: i.principal.identity_key().to_owned(),
        label,
        evidence: i.grants.iter().map(|g| g.address.to_string()).collect(),
        subject: Subject {
            principal: Some(i.principal.display().to_owned()),
            role: only(i.grants.iter().map(|g| &*g.role)).map(str::to_owned),
            level: only(i.grants.iter().map(|g| g.level)),
            account: None,
        },
    }
}

/// The principals of a grant list (invokers, IAP accessors) that `pred` selects, as risk
/// items, one per principal, labelled with their grants.
pub(crate) fn principal_items(list: &[Invoker], pred: impl Fn(&Invoker) -> bool) -> Vec<Item> {
    list.iter().filter(|i| pred(i)).map(invoker_item).collect()
}

/// The one distinct value of `values`, if there is exactly one.
fn only<T: PartialEq>(mut values: impl Iterator<Item = T>) -> Option<T> {
    let first = values.next()?;
    values.all(|v| v == first).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_sorted_unique_and_documented() {
        assert!(RULES.windows(2).all(|w| w[0].id < w[1].id));
        for r in RULES {
            assert!(
                r.id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                r.id
            );
            for section in [
                "## What it detects",
                "## Why it matters",
                "## Example",
                "## Use instead",
                "## Known limits",
            ] {
                assert!(r.doc.contains(section), "{} lacks {section}", r.id);
            }
        }
    }

    /// A finding about nothing in particular (its subject names no principal, role, level or
    /// account) says so through `Subject::is_empty`, which embedders use to leave the subject
    /// out; naming any one part makes it non-empty.
    #[test]
    fn a_subject_is_empty_only_when_it_names_nothing() {
        assert!(Subject::default().is_empty());
        let named = [
            Subject {
                principal: Some("allUsers".into()),
                ..Subject::default()
            },
            Subject {
                role: Some("roles/run.invoker".into()),
                ..Subject::default()
            },
            Subject {
                level: Some(Level::Project),
                ..Subject::default()
            },
            Subject {
                account: Some("api@acme-prod.iam.gserviceaccount.com".into()),
                ..Subject::default()
            },
        ];
        for subject in named {
            assert!(!subject.is_empty(), "{subject:?}");
        }
    }

    // Mutation testing, fourth round (mut-rest).

    /// A finding's subject names a principal's role (or level) only when all its grants agree
    /// on it: a principal holding `roles/run.invoker` at project and at resource level is about
    /// that role at no one level; one holding two roles is about neither.
    #[test]
    fn a_subject_names_a_role_or_level_only_when_every_grant_agrees() {
        assert_eq!(
            only(["roles/run.invoker"; 2].into_iter()),
            Some("roles/run.invoker")
        );
        assert_eq!(
            only([Level::Project, Level::Resource].into_iter()),
            None::<Level>
        );
        assert_eq!(
            only(["roles/run.invoker", "roles/run.admin"].into_iter()),
            None
        );
        assert_eq!(only(std::iter::empty::<Level>()), None);
    }
}
