//! Reading `runguard.toml`: the TOML shape, and the validation that turns it into a
//! [`Config`] or a [`ConfigError`] naming the line.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;

use super::*;

impl Config {
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
pub(super) fn workload_matcher(glob: &str) -> Result<GlobMatcher, String> {
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
