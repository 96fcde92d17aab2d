//! `--format sarif`: SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.
//!
//! One run for all the plans given, so that an upload is one analysis. Every rule is listed in
//! `tool.driver.rules` with its documentation as help and a `security-severity` score; each
//! worsened finding (and, with `--all`, each unchanged risky one) is one result: improved
//! findings are not problems to show. A result points at the `resource` block of its first
//! cause that `--tf-dir` locates, else at the plan file with no line, and names its causes as
//! logical locations; the affected workloads are in its message and its related locations.
//! Its `partialFingerprints` carry the finding's fingerprint, so an alert survives rewording,
//! reordering and line moves. An accepted finding keeps its result, with an external
//! suppression that gives the `runguard.toml` reason and line.
//!
//! Text from the plan is hostile: control, bidirectional and zero-width characters are shown
//! as escapes, and square brackets and backslashes are escaped as SARIF requires of message
//! text, so that an address cannot forge an embedded link.

use std::io::{self, Write};

use serde::Serialize;

use super::escape;
use super::location::{FileLine, PlanOutput};
use crate::diff::Finding;
use crate::rules::{Direction, RULES, Rule, Severity};
use crate::tfsource::Skipped;

/// The schema the document declares (OASIS, SARIF 2.1.0 with errata 01).
const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// `uriBaseId` of relative paths: the repository root, as code scanning resolves it.
const SRCROOT: &str = "%SRCROOT%";

/// GitHub code scanning rejects a run with more results than this; the most severe are kept.
const MAX_RESULTS: usize = 25_000;

/// GitHub shows at most this many locations of a result; more are cut and counted.
const MAX_RELATED: usize = 100;

/// Workloads named in a result's message before the rest are counted.
const MESSAGE_WORKLOADS: usize = 10;

/// The `security-severity` score of a severity, on GitHub's 0–10 scale, where 9.0 and above
/// reads as critical, 7.0 high, 4.0 medium and 0.1 low.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// The SARIF level of a severity: critical and high are errors, medium a warning, the rest notes.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    invocations: [Invocation; 1],
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    information_uri: Option<&'static str>,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    #[serde(rename = "security-severity")]
    security_severity: &'static str,
    tags: [&'static str; 3],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: [Location<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location<'a>>,
    partial_fingerprints: PartialFingerprints<'a>,
    baseline_state: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation<'a> {
    fully_qualified_name: &'a str,
    kind: &'static str,
}

#[derive(Serialize)]
struct PartialFingerprints<'a> {
    /// The finding fingerprint ([`crate::diff::fingerprint`]); the key's version changes if
    /// the fingerprint's inputs ever do.
    #[serde(rename = "runguard/v1")]
    finding: &'a str,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<SuppressionLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SuppressionLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
struct ResultProperties {
    /// The finding's own severity, after `runguard.toml` overrides (the level is coarser).
    severity: &'static str,
}

/// Writes one SARIF log for every plan given.
pub fn render(plans: &[PlanOutput<'_>], out: &mut dyn Write) -> io::Result<()> {
    let mut notifications = Vec::new();
    let mut results = Vec::new();
    for plan in plans {
        notifications.extend(plan_notifications(plan));
        let Ok(report) = plan.report else { continue };
        results.extend(
            report
                .findings
                .iter()
                .filter(|f| f.direction != Direction::Improved)
                .map(|f| (f.severity, result(plan, f))),
        );
    }
    let cut = keep_most_severe(&mut results, MAX_RESULTS);
    if cut > 0 {
        notifications.push(Notification {
            level: "warning",
            message: Text {
                text: format!(
                    "{cut} less severe results left out: code scanning accepts at most \
                     {MAX_RESULTS} per run; the JSON report has every finding"
                ),
            },
        });
    }
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool { driver: driver() },
            invocations: [Invocation {
                execution_successful: plans.iter().all(|p| p.report.is_ok()),
                tool_execution_notifications: notifications,
            }],
            results: results.into_iter().map(|(_, r)| r).collect(),
        }],
    };
    super::pretty::to_writer(out, &log)?;
    out.write_all(b"\n")
}

/// Keeps at most `limit` items, the most severe whichever plan they come from, in their order
/// otherwise; returns how many were left out.
fn keep_most_severe<T>(items: &mut Vec<(Severity, T)>, limit: usize) -> usize {
    if items.len() <= limit {
        return 0;
    }
    items.sort_by_key(|(severity, _)| std::cmp::Reverse(*severity));
    let cut = items.len() - limit;
    items.truncate(limit);
    cut
}

fn driver() -> Driver {
    let version = env!("CARGO_PKG_VERSION");
    let repository = env!("CARGO_PKG_REPOSITORY");
    Driver {
        name: "runguard",
        version,
        semantic_version: version,
        information_uri: (!repository.is_empty()).then_some(repository),
        rules: RULES.iter().map(|r| descriptor(r)).collect(),
    }
}

fn descriptor(rule: &'static Rule) -> ReportingDescriptor {
    ReportingDescriptor {
        id: rule.id,
        short_description: Text {
            text: rule.summary.to_owned(),
        },
        full_description: Text {
            text: what_it_detects(rule),
        },
        help: Help {
            text: rule.doc,
            markdown: rule.doc,
        },
        default_configuration: Configuration {
            level: level(rule.severity),
        },
        properties: RuleProperties {
            security_severity: security_severity(rule.severity),
            tags: ["security", "terraform", "cloud-run"],
        },
    }
}

/// The first paragraph of the rule's "What it detects" section, on one line.
fn what_it_detects(rule: &Rule) -> String {
    let section = rule
        .doc
        .split_once("## What it detects")
        .map_or(rule.doc, |(_, rest)| rest);
    section
        .trim_start()
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn result<'a>(plan: &PlanOutput<'a>, f: &'a Finding) -> SarifResult<'a> {
    let rule_index = RULES
        .iter()
        .position(|r| r.id == f.rule.id)
        .expect("every finding's rule is registered");
    // The first cause the tree declares, else the first cause (then at the plan file).
    let primary = f
        .causes
        .iter()
        .find(|c| plan.locate(c).is_some_and(|at| at.line.is_some()))
        .or(f.causes.first())
        .map(String::as_str);
    let related_causes = f
        .causes
        .iter()
        .filter(|c| Some(c.as_str()) != primary)
        .map(|c| (c.as_str(), "another cause of this finding"));
    let related_workloads = f.workloads.iter().map(|w| (&**w, "an affected workload"));
    let related_locations = related_causes
        .chain(related_workloads)
        .take(MAX_RELATED)
        .enumerate()
        .map(|(i, (address, role))| Location {
            id: Some(i + 1),
            physical_location: plan.locate(address).map(physical),
            logical_locations: vec![resource(address)],
            message: Some(Text {
                text: role.to_owned(),
            }),
        })
        .collect();
    SarifResult {
        rule_id: f.rule.id,
        rule_index,
        level: level(f.severity),
        message: Text {
            text: message(plan, f),
        },
        locations: [Location {
            id: None,
            physical_location: primary
                .map_or_else(|| plan.plan_file(), |c| plan.locate(c))
                .map(physical),
            logical_locations: primary.into_iter().map(resource).collect(),
            message: None,
        }],
        related_locations,
        partial_fingerprints: PartialFingerprints {
            finding: &f.fingerprint,
        },
        baseline_state: match f.direction {
            Direction::Unchanged => "unchanged",
            Direction::Worsened | Direction::Improved => "new",
        },
        suppressions: suppression(plan, f).into_iter().collect(),
        properties: ResultProperties {
            severity: f.severity.as_str(),
        },
    }
}

/// The finding's message, then the workloads it affects (the first few named, the rest counted)
/// and, when several plans are reported, the plan.
fn message(plan: &PlanOutput<'_>, f: &Finding) -> String {
    let n = f.workloads.len();
    let mut names: Vec<String> = f
        .workloads
        .iter()
        .take(MESSAGE_WORKLOADS)
        .map(|w| message_text(w))
        .collect();
    if n > MESSAGE_WORKLOADS {
        names.push(format!("and {} more", n - MESSAGE_WORKLOADS));
    }
    format!(
        "{} ({}). Affects {n} workload{}: {}. Plan: {}.",
        message_text(&f.message),
        f.direction.as_str(),
        if n == 1 { "" } else { "s" },
        names.join(", "),
        message_text(plan.name()),
    )
}

/// Plan text made safe for a SARIF plain-text message (results' and notifications').
fn message_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in escape::terminal(s).chars() {
        if matches!(c, '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn resource(address: &str) -> LogicalLocation<'_> {
    LogicalLocation {
        fully_qualified_name: address,
        kind: "resource",
    }
}

fn physical(at: FileLine) -> PhysicalLocation {
    PhysicalLocation {
        artifact_location: artifact(&at),
        region: at.line.map(|start_line| Region { start_line }),
    }
}

fn artifact(at: &FileLine) -> ArtifactLocation {
    ArtifactLocation {
        uri: at.uri(),
        uri_base_id: (!at.path.is_absolute()).then_some(SRCROOT),
    }
}

/// An accepted finding's suppression: external (the reason lives in `runguard.toml`, not in
/// the code), accepted, with the reason and the entry's line.
fn suppression(plan: &PlanOutput<'_>, f: &Finding) -> Option<Suppression> {
    let accepted = f.accepted.as_ref()?;
    let config = plan.report.ok()?.acceptance.as_ref().map(|a| FileLine {
        path: crate::tfsource::normalise(std::path::Path::new(&a.path)),
        line: Some(accepted.line),
    });
    Some(Suppression {
        kind: "external",
        status: "accepted",
        justification: escape::terminal(&accepted.reason).into_owned(),
        location: config.map(|at| SuppressionLocation {
            physical_location: physical(at),
        }),
    })
}

/// What the reader of the run should know about one plan: that it was refused, that its
/// report is incomplete, or what `--tf-dir` could not map.
fn plan_notifications(plan: &PlanOutput<'_>) -> Vec<Notification> {
    let name = message_text(plan.name());
    let mut out = Vec::new();
    match plan.report {
        Err(why) => out.push(Notification {
            level: "error",
            message: Text {
                text: format!("{name}: not analysed: {}", message_text(why)),
            },
        }),
        Ok(report) => {
            if let Some(why) = report.incompleteness() {
                out.push(Notification {
                    level: "warning",
                    message: Text {
                        text: format!(
                            "{name}: INCOMPLETE: {}; the JSON report lists what was not seen",
                            message_text(&why)
                        ),
                    },
                });
            }
        }
    }
    for skipped in plan.tree.map_or(&[][..], |t| t.skipped()) {
        let text = match skipped {
            Skipped::File { path, reason } => format!(
                "--tf-dir: {} not read, its resources are not located: {reason}",
                path.display()
            ),
            Skipped::Module {
                module,
                source,
                reason,
            } => format!("--tf-dir: {module} (source {source}) not located: {reason}"),
        };
        out.push(Notification {
            level: "warning",
            message: Text {
                text: format!("{name}: {}", message_text(&text)),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_read_as_the_same_severity_on_githubs_scale() {
        // GitHub: >= 9.0 critical, >= 7.0 high, >= 4.0 medium, > 0 low.
        let band = |s: &str| {
            let x: f64 = s.parse().unwrap();
            match x {
                x if x >= 9.0 => "critical",
                x if x >= 7.0 => "high",
                x if x >= 4.0 => "medium",
                x if x > 0.0 => "low",
                _ => "info",
            }
        };
        for s in [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ] {
            assert_eq!(band(security_severity(s)), s.as_str());
        }
    }

    #[test]
    fn every_rule_has_a_full_description_beyond_its_summary() {
        for r in RULES {
            let full = what_it_detects(r);
            assert!(full.len() > 40, "{}: {full}", r.id);
            assert!(!full.contains('\n') && !full.starts_with('#'), "{}", r.id);
        }
    }

    #[test]
    fn past_the_limit_the_least_severe_results_go() {
        use Severity::*;
        let mut items = vec![
            (Low, 1),
            (Critical, 2),
            (Medium, 3),
            (Critical, 4),
            (Info, 5),
        ];
        assert_eq!(keep_most_severe(&mut items, 3), 2);
        assert_eq!(items, [(Critical, 2), (Critical, 4), (Medium, 3)]);
        let mut few = vec![(Low, 1), (High, 2)];
        assert_eq!(keep_most_severe(&mut few, 3), 0);
        assert_eq!(few, [(Low, 1), (High, 2)], "order kept under the limit");
    }

    #[test]
    fn related_locations_stop_at_what_github_shows_and_the_message_counts_the_rest() {
        let workloads: Vec<std::sync::Arc<str>> = (0..150)
            .map(|i| format!("google_cloud_run_v2_service.s{i:03}").into())
            .collect();
        let finding = crate::report::tests::finding(workloads);
        let plan = PlanOutput {
            plan: "plan.json",
            report: Err("not read here"),
            tree: None,
        };
        let r = result(&plan, &finding);
        assert_eq!(r.related_locations.len(), MAX_RELATED);
        assert_eq!(r.related_locations[0].id, Some(1));
        let text = &r.message.text;
        assert!(text.contains("Affects 150 workloads: "), "{text}");
        assert!(text.contains("s009, and 140 more."), "{text}");
        assert!(!text.contains("s010"), "{text}");
    }

    #[test]
    fn message_text_cannot_forge_links_or_controls() {
        assert_eq!(
            message_text(r#"module.a["x](https://evil)"]"#),
            r#"module.a\["x\](https://evil)"\]"#
        );
        assert_eq!(message_text("a\\b"), "a\\\\b");
        assert_eq!(message_text("x\u{202e}y\x1b"), "x\\\\u{202e}y\\\\u{001b}");
    }
}
