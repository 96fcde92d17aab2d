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
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use crate::diff::Accepted;
use crate::report::{AcceptanceOutcome, EntryNote, Report};
use crate::rules::Severity;

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
                    && finding.workloads.iter().all(|w| matcher.is_match(w))
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
    pub workloads: &'a [String],
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

    /// Parses `source`, read from `path`; errors point at the line in `path`.
    pub fn parse(path: &Path, source: &str) -> Result<Config, ConfigError> {
        let at = |span: Option<Range<usize>>, message: String| ConfigError {
            path: path.to_owned(),
            line: span.map(|s| line_of(source, s.start)),
            message,
        };
        let raw: RawConfig =
            toml::from_str(source).map_err(|e| at(e.span(), e.message().trim_end().to_owned()))?;

        let fail_on = raw
            .fail_on
            .map(|f| {
                parse_fail_on(f.get_ref()).ok_or_else(|| {
                    at(
                        Some(f.span()),
                        format!(
                            "fail_on: `{}` is not one of none, low, medium, high, critical",
                            f.get_ref()
                        ),
                    )
                })
            })
            .transpose()?;

        let mut severity = BTreeMap::new();
        for (rule, level) in raw.severity {
            known_rule(rule.get_ref())
                .map_err(|m| at(Some(rule.span()), format!("[severity]: {m}")))?;
            let parsed = parse_severity(level.get_ref()).ok_or_else(|| {
                at(
                    Some(level.span()),
                    format!(
                        "[severity] \"{}\": `{}` is not one of info, low, medium, high, critical",
                        rule.get_ref(),
                        level.get_ref()
                    ),
                )
            })?;
            severity.insert(rule.into_inner(), parsed);
        }

        let mut accept = Vec::with_capacity(raw.accept.len());
        for entry in raw.accept {
            let entry_span = entry.span();
            let line = line_of(source, entry_span.start);
            let entry = entry.into_inner();
            if let Some(rule) = &entry.rule {
                known_rule(rule.get_ref())
                    .map_err(|m| at(Some(rule.span()), format!("[[accept]] rule: {m}")))?;
            }
            let reason = match entry.reason {
                Some(r) if !r.get_ref().trim().is_empty() => r.into_inner(),
                Some(r) => {
                    return Err(at(
                        Some(r.span()),
                        "[[accept]] reason is empty; say why the finding is intended".into(),
                    ));
                }
                None => {
                    return Err(at(
                        Some(entry_span),
                        "[[accept]] has no `reason`; say why the finding is intended".into(),
                    ));
                }
            };
            let target = match (entry.workload, entry.fingerprint) {
                (Some(glob), None) => Target::Workloads {
                    matcher: workload_matcher(glob.get_ref())
                        .map_err(|m| at(Some(glob.span()), format!("[[accept]] workload: {m}")))?,
                    glob: glob.into_inner(),
                },
                (None, Some(fingerprint)) if !fingerprint.get_ref().is_empty() => {
                    Target::Fingerprint(fingerprint.into_inner())
                }
                (None, Some(fingerprint)) => {
                    return Err(at(
                        Some(fingerprint.span()),
                        "[[accept]] fingerprint is empty".into(),
                    ));
                }
                (Some(_), Some(fingerprint)) => {
                    return Err(at(
                        Some(fingerprint.span()),
                        "[[accept]] names both `workload` and `fingerprint`; use one".into(),
                    ));
                }
                (None, None) => {
                    return Err(at(
                        Some(entry_span),
                        "[[accept]] names no findings: give a `workload` glob or a `fingerprint` \
                         (to lower a rule everywhere, use [severity])"
                            .into(),
                    ));
                }
            };
            let expires = entry
                .expires
                .map(|e| {
                    parse_expires(e.get_ref())
                        .map_err(|m| at(Some(e.span()), format!("[[accept]] expires: {m}")))
                })
                .transpose()?;
            accept.push(Accept {
                line,
                rule: entry.rule.map(Spanned::into_inner),
                target,
                reason,
                expires,
            });
        }

        Ok(Config {
            path: path.to_owned(),
            fail_on,
            severity,
            accept,
        })
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

/// A calendar day (proleptic Gregorian), ordered chronologically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// The day, if it exists (`2027-02-29` does not).
    pub fn new(year: u16, month: u8, day: u8) -> Option<Date> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days_in_month)
            .contains(&day)
            .then_some(Date { year, month, day })
    }

    /// Today in UTC, from the system clock: CI runners disagree on time zones, so one zone
    /// for everybody.
    pub fn today_utc() -> Date {
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days_since_epoch(seconds / 86_400)
    }

    /// The civil date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
    fn from_days_since_epoch(days: u64) -> Date {
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z % 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + u64::from(month <= 2);
        Date {
            year: u16::try_from(year).unwrap_or(u16::MAX),
            month: month as u8,
            day: day as u8,
        }
    }
}

impl FromStr for Date {
    type Err = String;

    /// Exactly `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("`{s}` is not a date written YYYY-MM-DD");
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape {
            return Err(bad());
        }
        let year = s[0..4].parse().map_err(|_| bad())?;
        let month = s[5..7].parse().map_err(|_| bad())?;
        let day = s[8..10].parse().map_err(|_| bad())?;
        Date::new(year, month, day).ok_or_else(|| format!("`{s}` is not a day of the calendar"))
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    accept: Vec<Spanned<RawAccept>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccept {
    rule: Option<Spanned<String>>,
    workload: Option<Spanned<String>>,
    fingerprint: Option<Spanned<String>>,
    /// Optional here so that a missing reason gets runguard's message, not serde's.
    reason: Option<Spanned<String>>,
    /// A string, or a bare TOML date (`expires = 2027-03-01`), which reads just as well.
    expires: Option<Spanned<toml::Value>>,
}

/// The 1-based line holding byte `offset`.
fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn known_rule(id: &str) -> Result<(), String> {
    match crate::rules::find(id) {
        Some(_) => Ok(()),
        None => Err(format!("unknown rule `{id}`; `runguard rules` lists them")),
    }
}

const SEVERITIES: [Severity; 5] = [
    Severity::Info,
    Severity::Low,
    Severity::Medium,
    Severity::High,
    Severity::Critical,
];

fn parse_severity(s: &str) -> Option<Severity> {
    SEVERITIES.into_iter().find(|v| v.as_str() == s)
}

/// As `--fail-on` accepts it: `info` is no gate level there, so not here either.
fn parse_fail_on(s: &str) -> Option<FailOn> {
    match s {
        "none" => Some(FailOn::Never),
        "info" => None,
        _ => parse_severity(s).map(FailOn::At),
    }
}

fn parse_expires(value: &toml::Value) -> Result<Date, String> {
    match value {
        toml::Value::String(s) => s.parse(),
        toml::Value::Datetime(d) => match (d.date, d.time, d.offset) {
            (Some(date), None, None) => Date::new(date.year, date.month, date.day)
                .ok_or_else(|| format!("`{d}` is not a day of the calendar")),
            _ => Err(format!(
                "`{d}` is not a date written YYYY-MM-DD (no time of day)"
            )),
        },
        other => Err(format!(
            "expected a date written YYYY-MM-DD, found {}",
            other.type_str()
        )),
    }
}

/// A glob over whole workload addresses. Brackets are escaped so they match themselves: every
/// instance key is written in them, and a character class is never what an address glob
/// means.
fn workload_matcher(glob: &str) -> Result<GlobMatcher, String> {
    if glob.is_empty() {
        return Err("the glob is empty".into());
    }
    let escaped = glob.replace('[', "\\[").replace(']', "\\]");
    GlobBuilder::new(&escaped)
        .literal_separator(false)
        .backslash_escape(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("`{glob}` is not a valid glob: {}", e.kind()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/config")
            .join(name)
    }

    fn date(s: &str) -> Date {
        s.parse().unwrap()
    }

    fn parse(source: &str) -> Config {
        Config::parse(Path::new("runguard.toml"), source).unwrap()
    }

    fn workloads(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn full_fixture_loads_every_setting() {
        let config = Config::load(&fixture("full.toml")).unwrap();
        assert_eq!(config.fail_on, Some(FailOn::At(Severity::Medium)));
        assert_eq!(
            config.severity("default-service-account"),
            Some(Severity::Low)
        );
        assert_eq!(config.severity("ingress-widened"), Some(Severity::High));
        assert_eq!(config.severity("public-invoker"), None);
        let lines: Vec<usize> = config.accept.iter().map(|a| a.line).collect();
        assert_eq!(lines, [8, 14, 18]);
        assert_eq!(config.accept[0].rule.as_deref(), Some("public-invoker"));
        assert_eq!(config.accept[0].expires, Some(date("2027-03-01")));
        assert_eq!(config.accept[1].rule, None);
        assert!(
            matches!(&config.accept[2].target, Target::Fingerprint(f) if f == "3f9a0c1e5b7d2a64")
        );
        // A bare TOML date reads as the same day as a string.
        assert_eq!(config.accept[2].expires, Some(date("2026-12-31")));
    }

    /// Each broken fixture: the line the error names, and what it says.
    #[test]
    fn every_broken_fixture_names_its_file_line_and_problem() {
        let cases = [
            ("unknown-key.toml", 2, "unknown field `fail_on_unknown`"),
            ("unknown-accept-key.toml", 3, "unknown field `workloads`"),
            ("missing-reason.toml", 7, "has no `reason`"),
            ("empty-reason.toml", 3, "reason is empty"),
            (
                "bad-glob.toml",
                3,
                "`google_cloud_run_v2_service.{site,www` is not a valid glob",
            ),
            (
                "bad-date.toml",
                4,
                "`2027-02-30` is not a day of the calendar",
            ),
            (
                "us-date.toml",
                4,
                "`03/01/2027` is not a date written YYYY-MM-DD",
            ),
            ("unknown-rule.toml", 2, "unknown rule `public-invokers`"),
            ("unknown-severity-rule.toml", 3, "unknown rule `default-sa`"),
            (
                "bad-severity.toml",
                2,
                "`urgent` is not one of info, low, medium, high, critical",
            ),
            (
                "bad-fail-on.toml",
                1,
                "fail_on: `info` is not one of none, low",
            ),
            (
                "both-targets.toml",
                3,
                "names both `workload` and `fingerprint`",
            ),
            ("no-target.toml", 1, "names no findings"),
        ];
        for (name, line, gist) in cases {
            let path = fixture(name);
            let err = Config::load(&path).expect_err(name);
            assert_eq!(err.path, path, "{name}");
            assert_eq!(err.line, Some(line), "{name}: {err}");
            assert!(err.message.contains(gist), "{name}: {err}");
            let shown = err.to_string();
            assert!(
                shown.starts_with(&format!("{}:{line}: ", path.display())),
                "{name}: {shown}"
            );
            assert_eq!(shown.lines().count(), 1, "{name}: {shown}");
        }
    }

    #[test]
    fn a_file_that_cannot_be_read_is_an_error_without_a_line() {
        let err = Config::load(&fixture("absent.toml")).unwrap_err();
        assert_eq!(err.line, None);
        assert!(
            err.to_string().contains("absent.toml: cannot read"),
            "{err}"
        );
    }

    #[test]
    fn toml_syntax_errors_name_their_line() {
        let err = Config::parse(
            Path::new("runguard.toml"),
            "fail_on = \"high\"\n[[accept]\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
    }

    #[test]
    fn empty_file_is_a_config_without_settings() {
        let config = parse("");
        assert_eq!(config.fail_on, None);
        assert!(config.accept.is_empty());
        assert_eq!(config.fail_on.map(FailOn::threshold), None);
        assert_eq!(parse("fail_on = \"none\"").fail_on, Some(FailOn::Never));
        assert_eq!(FailOn::Never.threshold(), None);
    }

    const SITE: &str = "google_cloud_run_v2_service.site";
    const API: &str = "google_cloud_run_v2_service.api";

    #[test]
    fn a_workload_glob_accepts_a_finding_only_when_it_matches_every_workload() {
        let config = parse(
            r#"
[[accept]]
rule = "public-invoker"
workload = "google_cloud_run_v2_service.site*"
reason = "public by design"
"#,
        );
        let site = workloads(&[SITE]);
        let sites = workloads(&[SITE, "google_cloud_run_v2_service.site_eu"]);
        let site_and_api = workloads(&[SITE, API]);
        let findings = [
            FindingRef {
                rule: "public-invoker",
                fingerprint: "a",
                workloads: &site,
            },
            FindingRef {
                rule: "public-invoker",
                fingerprint: "b",
                workloads: &sites,
            },
            // A project-wide cause that also exposes the API is not what was accepted.
            FindingRef {
                rule: "public-invoker",
                fingerprint: "c",
                workloads: &site_and_api,
            },
            // Another rule on the same workload.
            FindingRef {
                rule: "ingress-widened",
                fingerprint: "d",
                workloads: &site,
            },
            // No workload at all: nothing for a glob to vouch for.
            FindingRef {
                rule: "public-invoker",
                fingerprint: "e",
                workloads: &[],
            },
        ];
        let judgement = config.judge(findings, date("2026-01-01"));
        let accepted: Vec<bool> = judgement.accepted.iter().map(Option::is_some).collect();
        assert_eq!(accepted, [true, true, false, false, false]);
        assert_eq!(
            judgement.accepted[0],
            Some(Acceptance {
                entry: 0,
                reason: "public by design".into()
            })
        );
        assert!(judgement.stale.is_empty());
        assert!(judgement.expired.is_empty());
    }

    #[test]
    fn an_entry_without_rule_accepts_any_rule() {
        let config = parse(&format!(
            "[[accept]]\nworkload = \"{SITE}\"\nreason = \"r\"\n"
        ));
        let site = workloads(&[SITE]);
        let judgement = config.judge(
            ["public-invoker", "ingress-widened"].map(|rule| FindingRef {
                rule,
                fingerprint: "x",
                workloads: &site,
            }),
            date("2026-01-01"),
        );
        assert!(judgement.accepted.iter().all(Option::is_some));
    }

    #[test]
    fn brackets_in_a_glob_are_the_instance_key_not_a_character_class() {
        let config = parse(
            r#"
[[accept]]
workload = 'module.site["eu"].google_cloud_run_v2_service.*'
reason = "r"
"#,
        );
        let eu = workloads(&[r#"module.site["eu"].google_cloud_run_v2_service.this"#]);
        let us = workloads(&[r#"module.site["us"].google_cloud_run_v2_service.this"#]);
        let judgement = config.judge(
            [&eu, &us].map(|w| FindingRef {
                rule: "public-invoker",
                fingerprint: "x",
                workloads: w,
            }),
            date("2026-01-01"),
        );
        let accepted: Vec<bool> = judgement.accepted.iter().map(Option::is_some).collect();
        assert_eq!(accepted, [true, false]);
    }

    #[test]
    fn a_glob_matches_whole_addresses_with_alternation() {
        let matcher = workload_matcher("google_cloud_run_v2_service.{site,www}").unwrap();
        assert!(matcher.is_match(SITE));
        assert!(matcher.is_match("google_cloud_run_v2_service.www"));
        assert!(!matcher.is_match("google_cloud_run_v2_service.site2"));
        assert!(!matcher.is_match(format!("module.x.{SITE}")));
        // `*` crosses the dots of module paths.
        assert!(
            workload_matcher("*.site")
                .unwrap()
                .is_match(format!("module.a.module.b.{SITE}"))
        );
        assert!(workload_matcher("").is_err());
    }

    #[test]
    fn a_fingerprint_accepts_exactly_its_finding_and_the_rule_must_agree() {
        let config = parse(
            r#"
[[accept]]
fingerprint = "f1"
reason = "one finding"

[[accept]]
rule = "ingress-widened"
fingerprint = "f2"
reason = "rule-pinned"
"#,
        );
        let site = workloads(&[SITE]);
        let judgement = config.judge(
            [
                FindingRef {
                    rule: "public-invoker",
                    fingerprint: "f1",
                    workloads: &site,
                },
                FindingRef {
                    rule: "public-invoker",
                    fingerprint: "f1x",
                    workloads: &site,
                },
                FindingRef {
                    rule: "public-invoker",
                    fingerprint: "f2",
                    workloads: &site,
                },
            ],
            date("2026-01-01"),
        );
        let by: Vec<Option<usize>> = judgement
            .accepted
            .iter()
            .map(|a| a.as_ref().map(|a| a.entry))
            .collect();
        assert_eq!(by, [Some(0), None, None]);
        assert_eq!(judgement.stale, [1]);
    }

    #[test]
    fn the_first_matching_entry_accepts_and_a_shadowed_match_is_not_stale() {
        let config = parse(&format!(
            "[[accept]]\nworkload = \"{SITE}\"\nreason = \"first\"\n\n\
             [[accept]]\nworkload = \"*\"\nreason = \"second\"\n"
        ));
        let site = workloads(&[SITE]);
        let judgement = config.judge(
            [FindingRef {
                rule: "public-invoker",
                fingerprint: "x",
                workloads: &site,
            }],
            date("2026-01-01"),
        );
        assert_eq!(judgement.accepted[0].as_ref().unwrap().reason, "first");
        assert!(judgement.stale.is_empty(), "{judgement:?}");
    }

    #[test]
    fn an_entry_accepts_up_to_its_expiry_day_and_nothing_after() {
        let config = parse(&format!(
            "[[accept]]\nworkload = \"{SITE}\"\nreason = \"until March\"\nexpires = \"2027-03-01\"\n"
        ));
        let site = workloads(&[SITE]);
        let finding = [FindingRef {
            rule: "public-invoker",
            fingerprint: "x",
            workloads: &site,
        }];
        let on_the_day = config.judge(finding, date("2027-03-01"));
        assert!(on_the_day.accepted[0].is_some());
        assert!(on_the_day.expired.is_empty());

        let day_after = config.judge(finding, date("2027-03-02"));
        assert_eq!(day_after.accepted, [None]);
        assert_eq!(
            day_after.expired,
            [Expired {
                entry: 0,
                expires: date("2027-03-01")
            }]
        );
        // Expired, not also stale.
        assert!(day_after.stale.is_empty());
    }

    #[test]
    fn an_expired_entry_is_reported_even_when_it_would_match_nothing() {
        let config =
            parse("[[accept]]\nfingerprint = \"gone\"\nreason = \"r\"\nexpires = \"2020-01-01\"\n");
        let judgement = config.judge([], date("2026-01-01"));
        assert_eq!(judgement.expired.len(), 1);
        assert!(judgement.stale.is_empty());
    }

    #[test]
    fn an_entry_that_matches_nothing_is_stale() {
        let config = parse(&format!(
            "[[accept]]\nworkload = \"{SITE}\"\nreason = \"used\"\n\n\
             [[accept]]\nworkload = \"google_cloud_run_v2_service.old\"\nreason = \"removed long ago\"\n"
        ));
        let site = workloads(&[SITE]);
        let judgement = config.judge(
            [FindingRef {
                rule: "public-invoker",
                fingerprint: "x",
                workloads: &site,
            }],
            date("2026-01-01"),
        );
        assert_eq!(judgement.stale, [1]);
        assert_eq!(config.accept[judgement.stale[0]].line, 5);
    }

    #[test]
    fn dates_parse_strictly_and_order_chronologically() {
        assert_eq!(date("2024-02-29").to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-04-31",
            "2027-3-1",
            "2027-03-01T00:00",
            "+027-03-01",
            "２０２７-03-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        assert!(date("2000-02-29") < date("2000-03-01"));
        assert!(date("2026-12-31") < date("2027-01-01"));
    }

    #[test]
    fn a_bare_toml_datetime_with_a_time_is_refused() {
        let err = Config::parse(
            Path::new("runguard.toml"),
            "[[accept]]\nfingerprint = \"f\"\nreason = \"r\"\nexpires = 2027-03-01T10:00:00Z\n",
        )
        .unwrap_err();
        assert_eq!(err.line, Some(4));
        assert!(err.message.contains("no time of day"), "{err}");
    }

    #[test]
    fn days_since_the_epoch_become_civil_dates() {
        assert_eq!(Date::from_days_since_epoch(0), date("1970-01-01"));
        assert_eq!(Date::from_days_since_epoch(11_016), date("2000-02-29"));
        assert_eq!(Date::from_days_since_epoch(20_513), date("2026-03-01"));
        assert_eq!(Date::from_days_since_epoch(20_818), date("2026-12-31"));
        assert!(Date::today_utc() > date("2025-01-01"));
    }

    #[test]
    fn discovery_prefers_the_current_directory_then_the_git_root() {
        let root = tempfile::tempdir().unwrap();
        let nested = root.path().join("stacks/prod");
        std::fs::create_dir_all(&nested).unwrap();
        // No git root and no file: no configuration.
        assert!(Config::discover(&nested).unwrap().is_none());

        // A worktree's `.git` is a file; either marks the root.
        std::fs::write(root.path().join(".git"), "gitdir: elsewhere\n").unwrap();
        assert!(Config::discover(&nested).unwrap().is_none());
        std::fs::write(root.path().join(FILE_NAME), "fail_on = \"low\"\n").unwrap();
        let found = Config::discover(&nested).unwrap().unwrap();
        assert_eq!(found.path, root.path().join(FILE_NAME));
        assert_eq!(found.fail_on, Some(FailOn::At(Severity::Low)));

        std::fs::write(nested.join(FILE_NAME), "fail_on = \"critical\"\n").unwrap();
        let found = Config::discover(&nested).unwrap().unwrap();
        assert_eq!(found.path, nested.join(FILE_NAME));
        assert_eq!(found.fail_on, Some(FailOn::At(Severity::Critical)));

        // A broken file is an error, not a reason to run without it.
        std::fs::write(nested.join(FILE_NAME), "fail_on = 3\n").unwrap();
        assert!(Config::discover(&nested).is_err());
    }
}
