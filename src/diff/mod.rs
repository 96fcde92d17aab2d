//! Compares the two sides of every workload with every rule, and orders the changes once.

use std::collections::{BTreeMap, HashMap};

use similar::TextDiff;

use crate::graph::{Authority, ResolvedGrant, SideGraph};
use crate::posture::{Posture, WorkloadId};
use crate::rules::{Delta, Direction, RULES, Rule, Severity};

/// One change of posture, attributed to a rule.
#[derive(Debug, Clone)]
pub struct Change {
    pub rule: &'static Rule,
    pub direction: Direction,
    /// The workload address (or, for a workload outside the plan, its resource id).
    pub workload: String,
    pub message: String,
    /// Addresses that cause the change, the workload first.
    pub evidence: Vec<String>,
    /// For authoritative IAM resources among the evidence (`*_iam_policy`, `*_iam_binding`)
    /// whose bindings change: a unified diff of their bindings, one member per line.
    pub policy_diffs: Vec<PolicyDiff>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDiff {
    pub address: String,
    pub diff: String,
}

impl Change {
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }
}

/// Both sides of one workload.
pub struct Pair<'a> {
    pub id: &'a WorkloadId,
    pub before: Option<&'a Posture>,
    pub after: Option<&'a Posture>,
}

/// Pairs the postures of both sides by workload address.
pub fn pair<'a>(
    before: &'a BTreeMap<WorkloadId, Posture>,
    after: &'a BTreeMap<WorkloadId, Posture>,
) -> Vec<Pair<'a>> {
    let mut by_address: BTreeMap<&str, Pair<'a>> = BTreeMap::new();
    for (id, p) in before {
        by_address.insert(
            &id.address,
            Pair {
                id,
                before: Some(p),
                after: None,
            },
        );
    }
    for (id, p) in after {
        by_address
            .entry(&id.address)
            .and_modify(|e| {
                e.after = Some(p);
                // The after side names the kind and API the workload will have.
                e.id = id;
            })
            .or_insert(Pair {
                id,
                before: None,
                after: Some(p),
            });
    }
    by_address.into_values().collect()
}

/// Runs every rule over every workload. Unchanged-but-risky findings are kept only when asked.
pub fn diff(pairs: &[Pair], include_unchanged: bool) -> Vec<Change> {
    let mut changes = Vec::new();
    for p in pairs {
        let delta = Delta {
            workload: p.id,
            before: p.before,
            after: p.after,
        };
        for rule in RULES {
            for f in (rule.check)(&delta) {
                if f.direction == Direction::Unchanged && !include_unchanged {
                    continue;
                }
                changes.push(Change {
                    rule,
                    direction: f.direction,
                    workload: p.id.address.clone(),
                    message: f.message,
                    evidence: f.evidence,
                    policy_diffs: Vec::new(),
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

/// Attaches the bindings diff of every authoritative IAM resource that a change names as
/// evidence and whose bindings differ between the sides.
pub fn attach_policy_diffs(changes: &mut [Change], before: &SideGraph, after: &SideGraph) {
    let index = |g: &SideGraph| -> HashMap<String, usize> {
        (0..g.inventory.iam.len())
            .filter(|&i| g.grants[i].authority != Authority::Member)
            .map(|i| (g.inventory.iam[i].address.to_string(), i))
            .collect()
    };
    let (b_index, a_index) = (index(before), index(after));
    let mut cache: HashMap<&str, Option<String>> = HashMap::new();
    for change in changes.iter_mut() {
        for address in &change.evidence {
            let diff = cache.entry(address).or_insert_with(|| {
                let (b, a) = (
                    b_index.get(address.as_str())?,
                    a_index.get(address.as_str())?,
                );
                let (b, a) = (
                    canonical(&before.grants[*b])?,
                    canonical(&after.grants[*a])?,
                );
                (b != a).then(|| {
                    TextDiff::from_lines(&b, &a)
                        .unified_diff()
                        .context_radius(2)
                        .header("before", "after")
                        .to_string()
                })
            });
            if let Some(diff) = diff {
                change.policy_diffs.push(PolicyDiff {
                    address: address.clone(),
                    diff: diff.clone(),
                });
            }
        }
    }
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
