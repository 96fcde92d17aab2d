//! Compares the two sides of every workload with every rule, and orders the changes once.

use std::collections::BTreeMap;

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
