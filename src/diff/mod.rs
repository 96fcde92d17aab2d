//! Compares the two sides of every workload with every rule, and orders the changes once.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use similar::TextDiff;

use crate::graph::{Authority, ResolvedGrant, SideGraph};
use crate::posture::{Posture, WorkloadId};
use crate::rules::{Delta, Direction, RULES, Rule, Severity, Subject};
use sha2::{Digest, Sha256};

/// One cause and its consequences: a rule, a direction, the resources a reviewer would change,
/// the subject, and every workload it affects. A project-level grant that reaches a thousand
/// workloads is one finding listing them all.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub direction: Direction,
    /// The resources a reviewer would change, sorted.
    pub causes: Vec<String>,
    pub subject: Subject,
    /// The affected workload addresses (resource ids for workloads outside the plan), sorted.
    pub workloads: Vec<String>,
    pub message: String,
    /// Every address behind the finding, causes and workloads included, sorted.
    pub evidence: Vec<String>,
    /// Stable across runs, resource order and unrelated renames: see [`fingerprint`].
    pub fingerprint: String,
    /// Set when a `runguard.toml` entry accepts the finding: it is still shown, and never
    /// counts towards the gate.
    pub accepted: Option<Accepted>,
}

/// Why a finding is accepted: the `[[accept]]` entry's reason and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub reason: String,
    /// The line of the entry's `[[accept]]` header in the configuration file.
    pub line: usize,
}

/// How the bindings of an authoritative IAM resource (`*_iam_policy`, `*_iam_binding`) change:
/// a unified diff of its bindings, one `role member` per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDiff {
    pub address: String,
    pub diff: String,
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

/// What makes two observations one finding: the same rule, direction, severity, causes, subject
/// and message. The message is part of it so that findings are never merged across different
/// statements; rules word messages by cause, never by workload, so that they group.
type GroupKey = (
    &'static str,
    Direction,
    Severity,
    Vec<String>,
    Subject,
    String,
);

/// Runs every rule over every workload and groups what they observe by cause. Unchanged-but-risky
/// findings are kept only when asked.
pub fn diff(pairs: &[Pair], include_unchanged: bool) -> Vec<Finding> {
    let mut groups: HashMap<GroupKey, (&'static Rule, Vec<String>, BTreeSet<String>)> =
        HashMap::new();
    for p in pairs {
        let delta = Delta {
            workload: &p.id,
            before: p.before.as_ref(),
            after: p.after.as_ref(),
            include_unchanged,
        };
        for rule in RULES {
            for mut f in (rule.check)(&delta) {
                if f.direction == Direction::Unchanged && !include_unchanged {
                    continue;
                }
                if f.direction == Direction::Worsened {
                    downgrade_if_refused(rule, &mut f, p);
                }
                let key = (
                    rule.id,
                    f.direction,
                    f.severity.unwrap_or(rule.severity),
                    f.causes,
                    f.subject,
                    f.message,
                );
                let (_, workloads, evidence) = groups
                    .entry(key)
                    .or_insert_with(|| (rule, Vec::new(), BTreeSet::new()));
                workloads.push(p.id.address.clone());
                evidence.extend(f.evidence);
            }
        }
    }
    let mut findings: Vec<Finding> = groups
        .into_iter()
        .map(
            |(
                (_, direction, severity, causes, subject, message),
                (rule, mut workloads, evidence),
            )| {
                workloads.sort();
                workloads.dedup();
                Finding {
                    fingerprint: fingerprint(rule.id, &causes, &subject),
                    rule,
                    severity,
                    direction,
                    causes,
                    subject,
                    workloads,
                    message,
                    evidence: evidence.into_iter().collect(),
                    accepted: None,
                }
            },
        )
        .collect();
    sort(&mut findings);
    findings
}

/// A worsened finding whose change the plan's own org policy refuses at apply cannot happen as
/// planned: it is kept, at severity `info` so that it never trips the gate, and says why, with
/// the policy among its evidence (its causes, and so its fingerprint, stay the same). One whose
/// risk the plan takes away (a default account stripped of Editor) is lowered to `low`.
fn downgrade_if_refused(rule: &Rule, f: &mut crate::rules::Finding, p: &Pair) {
    let Some(after) = p.after.as_ref() else {
        return;
    };
    let Some(refusal) = crate::posture::org_policy::refusal(
        rule.id,
        f.subject.principal.as_deref(),
        p.before.as_ref(),
        after,
    ) else {
        return;
    };
    if refusal.mitigated {
        f.severity = Some(Severity::Low);
        f.message = format!("{}; mitigated: {}", f.message, refusal.message);
    } else {
        f.severity = Some(Severity::Info);
        f.message = format!(
            "{}; will be refused at apply: {}",
            f.message, refusal.message
        );
    }
    f.evidence.extend(refusal.policies);
}

/// Most severe first, then by direction, rule, causes, workloads, subject and message: a total
/// order, so output never depends on hashing.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.direction.cmp(&b.direction))
            .then_with(|| a.rule.id.cmp(b.rule.id))
            .then_with(|| a.causes.cmp(&b.causes))
            .then_with(|| a.workloads.cmp(&b.workloads))
            .then_with(|| a.subject.cmp(&b.subject))
            .then_with(|| a.message.cmp(&b.message))
    });
}

/// A finding's stable identity: SHA-256 over the rule, the causes and the subject, never over
/// message text, ordering or the affected workloads, so that suppressions and sticky comments
/// survive rewording, reordering and a grant reaching one more workload. A cryptographic hash,
/// because cause addresses are chosen by the pull request's author: with a weak hash they could
/// craft an address whose fingerprint collides with an accepted finding's.
pub fn fingerprint(rule: &str, causes: &[String], subject: &Subject) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        // Length-prefixed fields: no choice of strings can make two inputs read the same.
        h.update((s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    field("runguard-finding/1");
    field(rule);
    field(&causes.len().to_string());
    for c in causes {
        field(c);
    }
    for part in [
        subject.principal.as_deref(),
        subject.role.as_deref(),
        subject.level,
        subject.account.as_deref(),
    ] {
        match part {
            Some(value) => {
                field("some");
                field(value);
            }
            None => field("none"),
        }
    }
    let digest = h.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The bindings diff of every authoritative IAM resource that some change names as evidence
/// and whose bindings differ between the sides, once per resource, sorted by address.
pub fn policy_diffs(
    findings: &[Finding],
    before: &SideGraph,
    after: &SideGraph,
) -> Vec<PolicyDiff> {
    let index = |g: &SideGraph| -> HashMap<String, usize> {
        (0..g.inventory.iam.len())
            .filter(|&i| g.grants[i].authority != Authority::Member)
            .map(|i| (g.inventory.iam[i].address.to_string(), i))
            .collect()
    };
    let (b_index, a_index) = (index(before), index(after));
    let named: BTreeSet<&str> = findings
        .iter()
        .flat_map(|f| f.evidence.iter().map(String::as_str))
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
                // A member's own newline would forge diff lines: it is shown as an escape.
                .map(move |p| {
                    let member = crate::report::escape::terminal(p.display());
                    format!("{} {member}{condition}\n", b.role.display())
                })
        })
        .collect();
    lines.sort();
    Some(lines.concat())
}
