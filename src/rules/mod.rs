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

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::Serialize;

use crate::iam::{Level, MemberKind};
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
    /// Terraform addresses behind the finding (the workload first).
    pub evidence: Vec<String>,
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
    let before = d.before.map(&items).unwrap_or_default();
    let after = d.after.map(&items).unwrap_or_default();
    let before_keys: HashSet<&str> = before.iter().map(|i| i.key.as_str()).collect();
    let after_keys: HashSet<&str> = after.iter().map(|i| i.key.as_str()).collect();
    let mut out = Vec::new();
    for item in &after {
        let direction = if before_keys.contains(item.key.as_str()) {
            if !d.include_unchanged {
                continue;
            }
            Direction::Unchanged
        } else {
            Direction::Worsened
        };
        out.push(
            finding(d, direction, message(item, direction), &item.evidence)
                .about(item.subject.clone()),
        );
    }
    for item in &before {
        if !after_keys.contains(item.key.as_str()) {
            out.push(
                finding(
                    d,
                    Direction::Improved,
                    message(item, Direction::Improved),
                    &item.evidence,
                )
                .about(item.subject.clone()),
            );
        }
    }
    out
}

/// A finding whose evidence starts with the workload itself. Its causes are the evidence
/// resources, or the workload when there are none (its own attributes are the cause).
pub(crate) fn finding(
    d: &Delta,
    direction: Direction,
    message: String,
    evidence: &[String],
) -> Finding {
    let mut all = vec![d.workload.address.clone()];
    for e in evidence {
        if !all.contains(e) {
            all.push(e.clone());
        }
    }
    let mut causes: Vec<String> = if all.len() > 1 {
        all[1..].to_vec()
    } else {
        all.clone()
    };
    causes.sort();
    causes.dedup();
    Finding {
        direction,
        severity: None,
        message,
        causes,
        subject: Subject::default(),
        evidence: all,
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

/// The invokers of one side whose member class satisfies `pred`, as risk items, one per
/// principal: a principal that could already invoke the workload through another grant gains
/// nothing new. The label names the grants but never the workload, so that one project-level
/// grant gives the same item on every workload it reaches.
pub(crate) fn invoker_items(p: &Posture, pred: impl Fn(MemberKind) -> bool) -> Vec<Item> {
    invokers_where(p, |i| pred(i.principal.kind()))
}

/// [`invoker_items`] for the invokers that `pred` selects.
pub(crate) fn invokers_where(p: &Posture, pred: impl Fn(&Invoker) -> bool) -> Vec<Item> {
    principal_items(&p.invokers, pred)
}

/// The principals of a grant list (invokers, IAP accessors) that `pred` selects, as risk
/// items, one per principal, labelled with their grants.
pub(crate) fn principal_items(list: &[Invoker], pred: impl Fn(&Invoker) -> bool) -> Vec<Item> {
    list.iter()
        .filter(|i| pred(i))
        .map(|i| {
            let roles: BTreeSet<&str> = i.grants.iter().map(|g| &*g.role).collect();
            let levels: BTreeSet<Level> = i.grants.iter().map(|g| g.level).collect();
            Item {
                key: i.principal.identity_key().to_owned(),
                label: format!(
                    "`{}` ({})",
                    i.principal.display(),
                    i.grants
                        .iter()
                        .map(|g| format!(
                            "{} at {} level{}",
                            g.role,
                            g.level,
                            if g.certain { "" } else { ", may not apply" }
                        ))
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                evidence: i.grants.iter().map(|g| g.address.to_string()).collect(),
                subject: Subject {
                    principal: Some(i.principal.display().to_owned()),
                    role: only(&roles).map(|r| r.to_string()),
                    level: only(&levels),
                    account: None,
                },
            }
        })
        .collect()
}

/// The one element of a set, if it has exactly one.
fn only<T: Copy + Ord>(set: &BTreeSet<T>) -> Option<T> {
    (set.len() == 1).then(|| *set.first().expect("one element"))
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
}
