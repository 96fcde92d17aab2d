//! `runguard.toml`: the gate's settings and the findings a team accepts on purpose.
//!
//! ```toml
//! fail_on = "high"                      # default for --fail-on; the flag wins
//!
//! [severity]                            # per-rule overrides
//! "default-service-account" = "low"
//!
//! [[accept]]                            # an intended finding
//! rule = "public-invoker"               # optional: any rule when absent
//! workload = "google_cloud_run_v2_service.site*"   # glob over workload addresses; or:
//! # fingerprint = "…"                   # one exact finding
//! reason = "marketing site is public by design"    # required, non-empty
//! expires = "2027-03-01"                # optional; past it the entry stops accepting
//! ```
//!
//! An `[[accept]]` entry names its findings either by `workload` glob or by `fingerprint`, never
//! both and never neither: an entry naming only a rule would switch the rule off everywhere,
//! which is what `[severity]` is for. A `workload` glob accepts a finding only when it matches
//! **every** workload the finding affects: a cause that also exposes a workload the team did
//! not mean to accept (a project-wide public grant, say) stays a finding. The glob is
//! matched against whole addresses; `*` and `?` also match `.`, `{a,b}` is an alternation, and
//! `[` `]` are literal, because every instance key is written in them
//! (`module.site["eu"].google_cloud_run_v2_service.this`).
//!
//! The first entry in file order that matches a finding accepts it. An entry past its
//! `expires` date accepts nothing and is reported as expired; an entry that matches no finding
//! is reported as stale.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use globset::GlobMatcher;

use crate::diff::Accepted;
use crate::report::{AcceptanceOutcome, EntryNote, Report};
use crate::rules::Severity;

mod date;
mod file;

pub use date::Date;

/// The name looked for in the current directory, then at the git root.
pub const FILE_NAME: &str = "runguard.toml";

/// A loaded and validated `runguard.toml`.
#[derive(Debug)]
pub struct Config {
    /// Where it was read from, for messages that point at an entry.
    pub path: PathBuf,
    /// The default gate; `--fail-on` wins over it.
    pub fail_on: Option<FailOn>,
    /// Rule id → the severity that replaces the rule's own.
    severity: BTreeMap<String, Severity>,
    /// The `[[accept]]` entries in file order.
    pub accept: Vec<Accept>,
}

/// The gate threshold, as `--fail-on` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// `none`: the gate never trips.
    Never,
    /// A worsened finding at or above this severity trips the gate.
    At(Severity),
}

impl FailOn {
    /// The severity threshold this setting stands for (`None` for `never`).
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Never => None,
            FailOn::At(s) => Some(s),
        }
    }
}

/// One `[[accept]]` entry.
#[derive(Debug)]
pub struct Accept {
    /// The line of its `[[accept]]` header.
    pub line: usize,
    /// Only findings of this rule; any rule when `None`.
    pub rule: Option<String>,
    /// Which findings the entry accepts.
    pub target: Target,
    /// Why the finding is accepted, as the report shows it.
    pub reason: String,
    /// The last day the entry accepts findings.
    pub expires: Option<Date>,
}

/// Which findings an entry names.
#[derive(Debug)]
pub enum Target {
    /// Findings all of whose workloads match the glob.
    Workloads {
        /// The glob as written.
        glob: String,
        /// The compiled glob.
        matcher: GlobMatcher,
    },
    /// The one finding with this fingerprint.
    Fingerprint(String),
}

impl Accept {
    fn matches(&self, finding: &FindingRef) -> bool {
        if self.rule.as_deref().is_some_and(|r| r != finding.rule) {
            return false;
        }
        match &self.target {
            Target::Fingerprint(fingerprint) => fingerprint == finding.fingerprint,
            Target::Workloads { matcher, .. } => {
                !finding.workloads.is_empty()
                    && finding.workloads.iter().all(|w| matcher.is_match(&**w))
            }
        }
    }

    fn expired(&self, today: Date) -> bool {
        self.expires.is_some_and(|last| today > last)
    }
}

/// What [`Config::judge`] needs of one finding.
#[derive(Debug, Clone, Copy)]
pub struct FindingRef<'a> {
    /// The rule id.
    pub rule: &'a str,
    /// The finding's fingerprint.
    pub fingerprint: &'a str,
    /// The addresses of the workloads the finding affects.
    pub workloads: &'a [std::sync::Arc<str>],
}

/// The verdict of the `[[accept]]` entries on one run's findings.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Judgement {
    /// Per finding, in the order given: the entry that accepts it, if any.
    pub accepted: Vec<Option<Acceptance>>,
    /// Entries past their date, in file order; they accepted nothing.
    pub expired: Vec<Expired>,
    /// Unexpired entries that matched no finding, by index, in file order.
    pub stale: Vec<usize>,
}

/// Why a finding is accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acceptance {
    /// Index into [`Config::accept`].
    pub entry: usize,
    /// The entry's reason.
    pub reason: String,
}

/// An entry that no longer accepts anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expired {
    /// Index into [`Config::accept`].
    pub entry: usize,
    /// The date the entry expired.
    pub expires: Date,
}

impl Config {
    /// Reads and validates one file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let source = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_owned(),
            line: None,
            message: format!("cannot read: {e}"),
        })?;
        Config::parse(path, &source)
    }

    /// `runguard.toml` in `cwd`, else at the root of the git work tree holding `cwd` (the
    /// nearest ancestor with a `.git` entry, a directory or a worktree's file). `cwd` should be
    /// absolute, or the walk up stops at its first component. A file that exists but cannot be
    /// read is an error, not a reason to run without it.
    pub fn discover(cwd: &Path) -> Result<Option<Config>, ConfigError> {
        let here = cwd.join(FILE_NAME);
        if here.exists() {
            return Config::load(&here).map(Some);
        }
        let Some(root) = cwd.ancestors().find(|dir| dir.join(".git").exists()) else {
            return Ok(None);
        };
        let at_root = root.join(FILE_NAME);
        if at_root.exists() {
            Config::load(&at_root).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The severity `[severity]` gives the rule, if it overrides it.
    pub fn severity(&self, rule: &str) -> Option<Severity> {
        self.severity.get(rule).copied()
    }

    /// Applies the configuration to a report: `[severity]` overrides first (so that the gate
    /// and the order see them), then the `[[accept]]` entries judged on `today`. The report
    /// records which entries expired and which matched nothing.
    pub fn apply(&self, report: &mut Report, today: Date) {
        for f in &mut report.findings {
            // No rule reports at `info` by itself: an `info` finding of another rule is one
            // whose change the plan's org policy refuses, and an override must not revive it.
            if f.severity == Severity::Info && f.rule.severity != Severity::Info {
                continue;
            }
            if let Some(severity) = self.severity(f.rule.id) {
                f.severity = severity;
            }
        }
        crate::diff::sort(&mut report.findings);
        let judgement = self.judge(
            report.findings.iter().map(|f| FindingRef {
                rule: f.rule.id,
                fingerprint: &f.fingerprint,
                workloads: &f.workloads,
            }),
            today,
        );
        for (f, acceptance) in report.findings.iter_mut().zip(judgement.accepted) {
            f.accepted = acceptance.map(|a| Accepted {
                line: self.accept[a.entry].line,
                reason: a.reason,
            });
        }
        let note = |entry: usize| {
            let e = &self.accept[entry];
            EntryNote {
                line: e.line,
                reason: e.reason.clone(),
                expires: e.expires.map(|d| d.to_string()),
            }
        };
        report.acceptance = Some(AcceptanceOutcome {
            path: self.path.display().to_string(),
            expired: judgement.expired.iter().map(|x| note(x.entry)).collect(),
            stale: judgement.stale.iter().map(|&i| note(i)).collect(),
        });
    }

    /// Which entry accepts each finding on `today`, and which entries are expired or stale.
    pub fn judge<'f>(
        &self,
        findings: impl IntoIterator<Item = FindingRef<'f>>,
        today: Date,
    ) -> Judgement {
        let live: Vec<bool> = self.accept.iter().map(|e| !e.expired(today)).collect();
        let mut matched = vec![false; self.accept.len()];
        let accepted = findings
            .into_iter()
            .map(|finding| {
                let mut first = None;
                for (i, entry) in self.accept.iter().enumerate() {
                    if live[i] && entry.matches(&finding) {
                        matched[i] = true;
                        first.get_or_insert(i);
                    }
                }
                first.map(|entry| Acceptance {
                    entry,
                    reason: self.accept[entry].reason.clone(),
                })
            })
            .collect();
        let expired = self
            .accept
            .iter()
            .enumerate()
            .filter(|(i, _)| !live[*i])
            .filter_map(|(entry, e)| e.expires.map(|expires| Expired { entry, expires }))
            .collect();
        let stale = (0..self.accept.len())
            .filter(|i| live[*i] && !matched[*i])
            .collect();
        Judgement {
            accepted,
            expired,
            stale,
        }
    }
}

/// A configuration that cannot be used; the CLI exits 2 with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub path: PathBuf,
    /// 1-based, where the problem is known to sit.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests;
