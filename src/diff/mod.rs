//! Compares the two sides of every workload with every rule, and orders the changes once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use similar::TextDiff;

use crate::graph::{Authority, ResolvedGrant, SideGraph};
use crate::posture::{Posture, WorkloadId};
use crate::rules::{Delta, Direction, RULES, Rule, Severity};

/// One change of posture, attributed to a rule.
#[derive(Debug, Clone)]
pub struct Change {
    pub rule: &'static Rule,
    pub direction: Direction,
    /// The finding's own severity, when it overrides the rule's.
    pub severity_override: Option<Severity>,
    /// The workload address (or, for a workload outside the plan, its resource id).
    pub workload: String,
    pub message: String,
    /// Addresses that cause the change, the workload first.
    pub evidence: Vec<String>,
}

/// How the bindings of an authoritative IAM resource (`*_iam_policy`, `*_iam_binding`) change:
/// a unified diff of its bindings, one `role member` per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDiff {
    pub address: String,
    pub diff: String,
}

impl Change {
    pub fn severity(&self) -> Severity {
        self.severity_override.unwrap_or(self.rule.severity)
    }
}

/// Both sides of one workload.
pub struct Pair {
    pub id: WorkloadId,
    pub before: Option<Posture>,
    pub after: Option<Posture>,
}

/// Pairs the postures of both sides by workload address (moving them, not copying: a posture
/// can list hundreds of thousands of invokers).
pub fn pair(
    before: BTreeMap<WorkloadId, Posture>,
    after: BTreeMap<WorkloadId, Posture>,
) -> Vec<Pair> {
    let mut by_address: BTreeMap<String, Pair> = BTreeMap::new();
    for (id, p) in before {
        by_address.insert(
            id.address.clone(),
            Pair {
                id,
                before: Some(p),
                after: None,
            },
        );
    }
    for (id, p) in after {
        match by_address.get_mut(&id.address) {
            Some(e) => {
                e.after = Some(p);
                // The after side names the kind and API the workload will have.
                e.id = id;
            }
            None => {
                by_address.insert(
                    id.address.clone(),
                    Pair {
                        id,
                        before: None,
                        after: Some(p),
                    },
                );
            }
        }
    }
    by_address.into_values().collect()
}

/// Runs every rule over every workload. Unchanged-but-risky findings are kept only when asked.
pub fn diff(pairs: &[Pair], include_unchanged: bool) -> Vec<Change> {
    let mut changes = Vec::new();
    for p in pairs {
        let delta = Delta {
            workload: &p.id,
            before: p.before.as_ref(),
            after: p.after.as_ref(),
            include_unchanged,
        };
        for rule in RULES {
            for f in (rule.check)(&delta) {
                if f.direction == Direction::Unchanged && !include_unchanged {
                    continue;
                }
                changes.push(Change {
                    rule,
                    direction: f.direction,
                    severity_override: f.severity,
                    workload: p.id.address.clone(),
                    message: f.message,
                    evidence: f.evidence,
                });
            }
        }
    }
    changes.sort_by(|a, b| {
        b.severity()
            .cmp(&a.severity())
            .then(a.direction.cmp(&b.direction))
            .then_with(|| a.workload.cmp(&b.workload))
            .then_with(|| a.rule.id.cmp(b.rule.id))
            .then_with(|| a.message.cmp(&b.message))
    });
    changes
}

/// The bindings diff of every authoritative IAM resource that some change names as evidence
/// and whose bindings differ between the sides, once per resource, sorted by address.
pub fn policy_diffs(changes: &[Change], before: &SideGraph, after: &SideGraph) -> Vec<PolicyDiff> {
    let index = |g: &SideGraph| -> HashMap<String, usize> {
        (0..g.inventory.iam.len())
            .filter(|&i| g.grants[i].authority != Authority::Member)
            .map(|i| (g.inventory.iam[i].address.to_string(), i))
            .collect()
    };
    let (b_index, a_index) = (index(before), index(after));
    let named: BTreeSet<&str> = changes
        .iter()
        .flat_map(|c| c.evidence.iter().map(String::as_str))
        .filter(|a| b_index.contains_key(*a) && a_index.contains_key(*a))
        .collect();
    named
        .into_iter()
        .filter_map(|address| {
            let b = canonical(&before.grants[b_index[address]])?;
            let a = canonical(&after.grants[a_index[address]])?;
            (b != a).then(|| PolicyDiff {
                address: address.to_owned(),
                diff: TextDiff::from_lines(&b, &a)
                    .unified_diff()
                    .context_radius(2)
                    .header("before", "after")
                    .to_string(),
            })
        })
        .collect()
}

/// The bindings of a grant as sorted `role member` lines; `None` when they are unknown.
fn canonical(grant: &ResolvedGrant) -> Option<String> {
    let mut lines: Vec<String> = grant
        .bindings
        .as_ref()?
        .iter()
        .flat_map(|b| {
            let condition = if b.conditional { " (conditional)" } else { "" };
            b.principals
                .iter()
                .map(move |p| format!("{} {}{condition}\n", b.role.display(), p.display()))
        })
        .collect();
    lines.sort();
    Some(lines.concat())
}
