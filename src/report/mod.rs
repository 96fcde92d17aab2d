//! The report: the model every renderer reads, built once and sorted once. Renderers contain no
//! analysis; each escapes what it prints, because names come from the pull request's author.

pub mod escape;
pub mod gitlab;
pub mod json;
pub mod location;
pub mod markdown;
pub(crate) mod mermaid;
mod pretty;
pub(crate) mod rows;
pub mod sarif;
pub mod text;

use crate::diff::{Finding, PolicyDiff};
use crate::graph::Unresolved;
use crate::inventory::Unanalysable;
use crate::plan::Action;
use crate::posture::{Posture, WorkloadId};
use crate::rules::{Direction, Rule, Severity};

/// The CI gate: what makes a report fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    /// `--fail-on`: a worsened change at or above it fails; `None` never fails on severity.
    pub threshold: Option<Severity>,
    /// `--allow-incomplete`: without it an incomplete report fails (closed).
    pub allow_incomplete: bool,
}

impl Gate {
    /// A worsened change at or above the threshold.
    pub fn severity_tripped(&self, r: &Report) -> bool {
        self.threshold
            .is_some_and(|t| r.max_severity().is_some_and(|m| m >= t))
    }

    /// The report is incomplete and that is not allowed.
    pub fn incomplete_tripped(&self, r: &Report) -> bool {
        !self.allow_incomplete && !r.complete()
    }

    /// The gate fails the report, on severity or on incompleteness.
    pub fn tripped(&self, r: &Report) -> bool {
        self.severity_tripped(r) || self.incomplete_tripped(r)
    }
}

/// The JSON report schema id.
pub const SCHEMA: &str = "runguard/report/v2";

#[derive(Debug, Clone)]
/// One workload and its posture on both sides.
pub struct WorkloadEntry {
    /// Which workload.
    pub id: WorkloadId,
    /// `None` for workloads outside the plan.
    pub action: Option<Action>,
    /// Its posture before the plan; `None` when the plan creates it.
    pub before: Option<Posture>,
    /// Its posture after the plan; `None` when the plan deletes it.
    pub after: Option<Posture>,
}

#[derive(Debug, Clone)]
/// What a plan does to the security of its workloads: the model every renderer reads.
pub struct Report {
    /// The plan's `format_version`.
    pub format_version: String,
    /// The Terraform version that wrote the plan.
    pub terraform_version: Option<String>,
    /// Every workload, with its two sides.
    pub workloads: Vec<WorkloadEntry>,
    /// One per cause, most severe first.
    pub findings: Vec<Finding>,
    /// Bindings diffs of the authoritative IAM resources that findings name as evidence.
    pub policy_diffs: Vec<PolicyDiff>,
    /// Links and values that could not be resolved, with reasons, from both sides.
    pub unresolved: Vec<Unresolved>,
    /// Resources that could not be analysed at all.
    pub unanalysable: Vec<Unanalysable>,
    /// Assumptions the analysis made that the reader should know.
    pub notes: Vec<String>,
    /// Why the plan does not describe every change (errored or deferred planning).
    pub plan_incomplete: Vec<String>,
    /// What the `runguard.toml` accept entries did, when one was read.
    pub acceptance: Option<AcceptanceOutcome>,
    /// Module path → `source` of every module call in the plan's `configuration`, so that
    /// `--tf-dir` can find each module's code (see `tfsource`).
    pub module_sources: std::collections::BTreeMap<String, String>,
}

/// The `runguard.toml` entries that accepted nothing: expired ones, and stale ones (live but
/// matching no finding), so that old exceptions get noticed and cleaned up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AcceptanceOutcome {
    /// The configuration file, as given or found.
    pub path: String,
    /// Entries past their expiry date, which accept nothing.
    pub expired: Vec<EntryNote>,
    /// Entries that accepted nothing in this plan.
    pub stale: Vec<EntryNote>,
}

/// One `[[accept]]` entry, by the line of its header, with its reason and, for an expired
/// entry, its date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryNote {
    /// The entry's line in the file.
    pub line: usize,
    /// The entry's reason.
    pub reason: String,
    /// The entry's expiry date, when it has one.
    pub expires: Option<String>,
}

impl Report {
    /// The highest severity among worsened findings; `None` when nothing got worse.
    pub fn max_severity(&self) -> Option<Severity> {
        self.worsened().map(|f| f.severity).max()
    }

    /// The worsened findings that count: accepted ones are shown but never gate.
    pub fn worsened(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| open_regression(f))
    }

    /// Findings that a `runguard.toml` entry accepts.
    pub fn accepted(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.accepted.is_some())
            .count()
    }

    /// The number of findings in this direction.
    pub fn count(&self, direction: Direction) -> usize {
        self.findings
            .iter()
            .filter(|f| f.direction == direction)
            .count()
    }

    /// Whether every resource could be analysed and the plan describes every change.
    pub fn complete(&self) -> bool {
        self.unanalysable.is_empty() && self.plan_incomplete.is_empty()
    }

    /// The workloads that the findings list (computed once per render: a plan can have
    /// thousands of workloads and findings, and a project-level grant's findings list every
    /// workload of the project).
    pub(crate) fn listed(&self) -> Listed<'_> {
        Listed::of(&self.findings)
    }

    /// Why the report is incomplete, in one phrase; `None` when it is complete.
    pub fn incompleteness(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.unanalysable.is_empty() {
            let n = self.unanalysable.len();
            parts.push(format!(
                "{n} resource{} could not be analysed",
                if n == 1 { "" } else { "s" }
            ));
        }
        if !self.plan_incomplete.is_empty() {
            parts.push("the plan does not describe every change".to_owned());
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// Critical risks that the plan leaves in place, as headline phrases: services and
    /// functions that stay public, jobs and worker pools that anyone can still run or redeploy.
    fn critical_kept(&self) -> Vec<String> {
        use crate::inventory::WorkloadKind;
        let stays = |w: &&WorkloadEntry| {
            let open = |p: &Posture| {
                if w.id.kind.serves_requests() {
                    p.public == crate::posture::Verdict::Yes
                } else {
                    p.invokers.iter().any(|i| {
                        matches!(
                            i.principal.kind(),
                            crate::iam::MemberKind::AllUsers
                                | crate::iam::MemberKind::AllAuthenticatedUsers
                        )
                    })
                }
            };
            w.before.as_ref().is_some_and(open) && w.after.as_ref().is_some_and(open)
        };
        let services = self
            .workloads
            .iter()
            .filter(stays)
            .filter(|w| w.id.kind == WorkloadKind::Service)
            .count();
        let functions = self
            .workloads
            .iter()
            .filter(stays)
            .filter(|w| w.id.kind == WorkloadKind::Function)
            .count();
        let others = self
            .workloads
            .iter()
            .filter(stays)
            .filter(|w| !w.id.kind.serves_requests())
            .count();
        let mut out = Vec::new();
        match services {
            0 => {}
            1 => out.push("1 service stays public".to_owned()),
            n => out.push(format!("{n} services stay public")),
        }
        match functions {
            0 => {}
            1 => out.push("1 function stays public".to_owned()),
            n => out.push(format!("{n} functions stay public")),
        }
        match others {
            0 => {}
            1 => out.push("1 job or worker pool stays open to anyone".to_owned()),
            n => out.push(format!("{n} jobs or worker pools stay open to anyone")),
        }
        out
    }

    /// The verdict in one sentence, worst news first.
    pub fn headline(&self) -> String {
        self.headline_of(&self.listed())
    }

    /// [`Report::headline`], with the workloads the findings list already found.
    pub(crate) fn headline_of(&self, listed: &Listed) -> String {
        // One phrase per rule, counting the distinct workloads its worsened findings reach.
        let parts: Vec<String> = listed
            .worsened
            .iter()
            .map(|&(rule, n)| {
                let (one, many) = rule.headline;
                format!("{n} {}", if n == 1 { one } else { many })
            })
            .collect();
        let mut sentence = if self.workloads.is_empty() {
            "No Cloud Run workloads in this plan".to_owned()
        } else if parts.is_empty() {
            let n = self.workloads.len();
            let mut s = format!(
                "No security regressions in {n} Cloud Run workload{}",
                if n == 1 { "" } else { "s" }
            );
            let kept = self.critical_kept();
            if !kept.is_empty() {
                s.push_str(&format!("; {} — see --all", kept.join("; ")));
            }
            s
        } else {
            parts.join("; ")
        };
        let accepted = self.accepted();
        if accepted > 0 {
            sentence.push_str(&format!("; {accepted} accepted in runguard.toml"));
        }
        let improved = self.count(Direction::Improved);
        if improved > 0 {
            sentence.push_str(&format!(
                "; {improved} improvement{}",
                if improved == 1 { "" } else { "s" }
            ));
        }
        if let Some(why) = self.incompleteness() {
            sentence.push_str(&format!("; INCOMPLETE: {why}"));
        }
        sentence.push('.');
        sentence
    }
}

/// A finding that worsens security and that no `runguard.toml` entry accepts.
fn open_regression(f: &Finding) -> bool {
    f.direction == Direction::Worsened && f.accepted.is_none()
}

/// The distinct workloads that findings list, as their addresses: all of them, and, for each
/// rule, how many its open regressions (worsened, and accepted by no entry) reach.
///
/// A project-level grant's findings list every workload of the project, a hundred grants over:
/// each entry a pointer to an address that many findings share. Both are found in one pass over
/// the entries, which are told apart by pointer; only the distinct pointers' texts are hashed
/// (two copies of one address still count once).
pub(crate) struct Listed<'a> {
    /// The workloads some finding concerns.
    pub(crate) workloads: foldhash::HashSet<&'a str>,
    /// Each rule with open regressions, in the order its first comes, and how many distinct
    /// workloads they reach.
    worsened: Vec<(&'static Rule, usize)>,
}

/// Rules, by their place in [`Listed::of`]'s list of them: one bit each.
type RuleSet = u64;

impl<'a> Listed<'a> {
    fn of(findings: &'a [Finding]) -> Listed<'a> {
        let mut rules: Vec<&'static Rule> = Vec::new();
        // Each entry once, by pointer, with the rules whose counted findings list it.
        let mut entries: foldhash::HashMap<*const u8, (&str, RuleSet)> =
            foldhash::HashMap::default();
        for f in findings {
            let rule: RuleSet = if open_regression(f) {
                let place = match rules.iter().position(|r| r.id == f.rule.id) {
                    Some(place) => place,
                    None => {
                        rules.push(f.rule);
                        rules.len() - 1
                    }
                };
                1 << place
            } else {
                0
            };
            for w in &f.workloads {
                entries.entry(w.as_ptr()).or_insert((w, 0)).1 |= rule;
            }
        }
        let worsened = rules
            .into_iter()
            .enumerate()
            .map(|(place, rule)| {
                let reached: foldhash::HashSet<&str> = entries
                    .values()
                    .filter(|(_, rules)| rules & (1 << place) != 0)
                    .map(|&(text, _)| text)
                    .collect();
                (rule, reached.len())
            })
            .collect();
        Listed {
            workloads: entries.into_values().map(|(text, _)| text).collect(),
            worsened,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use super::*;

    /// A worsened `invoker-added` finding from a project grant, listing `workloads`.
    pub(crate) fn finding(workloads: Vec<Arc<str>>) -> Finding {
        Finding {
            rule: crate::rules::find("invoker-added").expect("a rule"),
            severity: Severity::Low,
            direction: Direction::Worsened,
            causes: vec!["google_project_iam_member.everyone".to_owned()],
            subject: crate::rules::Subject::default(),
            workloads,
            message: "new principal can invoke".to_owned(),
            evidence: Vec::new(),
            fingerprint: "f".repeat(32),
            accepted: None,
        }
    }

    /// A workload counts once however many findings list it, whether they share its address
    /// or each hold a copy of their own. Each rule counts only what its worsened findings that
    /// no entry accepts reach; every finding counts towards the workloads listed.
    #[test]
    fn listed_workloads_are_counted_by_text_and_by_rule() {
        let text =
            |name: &str| -> Arc<str> { Arc::from(format!("google_cloud_run_v2_service.{name}")) };
        let (a, b, c, d) = (text("a"), text("b"), text("c"), text("d"));
        let copy_of_a: Arc<str> = Arc::from(&*a);
        let public = |workloads| Finding {
            rule: crate::rules::find("public-invoker").expect("a rule"),
            ..finding(workloads)
        };
        let findings = [
            finding(vec![Arc::clone(&a), Arc::clone(&b)]),
            public(vec![Arc::clone(&b)]),
            finding(vec![Arc::clone(&a)]),
            finding(vec![copy_of_a]),
            finding(Vec::new()),
            Finding {
                direction: Direction::Improved,
                ..finding(vec![Arc::clone(&c)])
            },
            Finding {
                accepted: Some(crate::diff::Accepted {
                    reason: "known".to_owned(),
                    line: 1,
                }),
                ..public(vec![Arc::clone(&a), Arc::clone(&d)])
            },
        ];
        let listed = Listed::of(&findings);
        let mut workloads: Vec<&str> = listed.workloads.iter().copied().collect();
        workloads.sort_unstable();
        assert_eq!(workloads, [&*a, &*b, &*c, &*d]);
        let counts: Vec<(&str, usize)> = listed
            .worsened
            .iter()
            .map(|(rule, n)| (rule.id, *n))
            .collect();
        assert_eq!(counts, [("invoker-added", 2), ("public-invoker", 1)]);
        let empty = Listed::of(&findings[4..5]);
        assert!(empty.workloads.is_empty());
        assert_eq!(
            empty.worsened.len(),
            1,
            "the rule is named, with no workload"
        );
        assert_eq!(empty.worsened[0].1, 0);
    }

    /// Each rule has a bit of its own in a [`RuleSet`].
    #[test]
    fn every_rule_fits_in_a_rule_set() {
        assert!(crate::rules::RULES.len() <= RuleSet::BITS as usize);
    }
}
