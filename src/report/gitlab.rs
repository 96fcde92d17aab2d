//! `--format gitlab`: a GitLab code quality report, the JSON array of issues that the
//! merge-request widget compares between the base and the head pipeline.
//!
//! Each worsened finding (and, with `--all`, each unchanged risky one) is one issue, at the
//! `resource` block of its first cause that `--tf-dir` locates, else at the plan file, line 1
//! (GitLab requires a line). Improved findings are not issues, and neither are accepted ones:
//! the format has no way to mark an issue accepted, and an accepted finding must not read as a
//! problem to fix. The fingerprint is the finding's, so that an issue keeps its identity
//! between pipelines.

use std::io::{self, Write};

use serde::Serialize;

use super::escape;
use super::location::PlanOutput;
use crate::diff::Finding;
use crate::rules::{Direction, Severity};

/// Workloads named in an issue's description before the rest are counted.
const DESCRIPTION_WORKLOADS: usize = 10;

/// GitLab's severity for a runguard severity, one step each: info, minor, major, critical,
/// blocker.
fn severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "info",
        Severity::Low => "minor",
        Severity::Medium => "major",
        Severity::High => "critical",
        Severity::Critical => "blocker",
    }
}

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'static str,
    fingerprint: &'a str,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

/// Writes one code quality report for every plan given (plans that were refused add nothing).
pub fn render(plans: &[PlanOutput<'_>], out: &mut dyn Write) -> io::Result<()> {
    let issues: Vec<Issue<'_>> = plans
        .iter()
        .filter_map(|plan| Some((plan, plan.report.ok()?)))
        .flat_map(|(plan, report)| {
            report
                .findings
                .iter()
                .filter(|f| f.direction != Direction::Improved && f.accepted.is_none())
                .map(move |f| issue(plan, f))
        })
        .collect();
    super::pretty::to_writer(out, &issues)?;
    out.write_all(b"\n")
}

fn issue<'a>(plan: &PlanOutput<'_>, f: &'a Finding) -> Issue<'a> {
    // The first cause the tree declares, else the plan file.
    let at = f
        .causes
        .iter()
        .filter_map(|c| plan.locate(c))
        .find(|at| at.line.is_some())
        .or_else(|| plan.plan_file());
    let location = match at {
        Some(at) => Location {
            path: at.slash_path(),
            lines: Lines {
                begin: at.line.unwrap_or(1),
            },
        },
        // A plan read from standard input has no file to point at.
        None => Location {
            path: "-".to_owned(),
            lines: Lines { begin: 1 },
        },
    };
    Issue {
        description: description(plan, f),
        check_name: f.rule.id,
        fingerprint: &f.fingerprint,
        severity: severity(f.severity),
        location,
    }
}

/// The rule, the finding's message and the workloads it affects (the first few named).
fn description(plan: &PlanOutput<'_>, f: &Finding) -> String {
    let n = f.workloads.len();
    let mut names: Vec<String> = f
        .workloads
        .iter()
        .take(DESCRIPTION_WORKLOADS)
        .map(|w| escape::terminal(w).into_owned())
        .collect();
    if n > DESCRIPTION_WORKLOADS {
        names.push(format!("and {} more", n - DESCRIPTION_WORKLOADS));
    }
    format!(
        "{}: {} ({}); affects {}; plan {}",
        f.rule.id,
        escape::terminal(&f.message),
        f.direction.as_str(),
        names.join(", "),
        escape::terminal(plan.name()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_severity_is_one_gitlab_step() {
        let all = [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ];
        let mapped: Vec<&str> = all.into_iter().map(severity).collect();
        assert_eq!(mapped, ["info", "minor", "major", "critical", "blocker"]);
    }
}
