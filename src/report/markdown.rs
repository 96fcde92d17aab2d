//! `--format markdown`: the pull-request comment. A marker CI finds the comment by; the verdict
//! at a glance and the headline; the findings table, most severe first; a Mermaid graph of what
//! changed; one collapsible block per changed workload with the posture rows that differ, the
//! evidence and the bindings diffs; then what could not be resolved.
//!
//! Every string from the plan is escaped for its place (see [`super::escape`]), and the comment
//! stays under GitHub's 65,536-character limit on any plan: sections are cut at whole rows and
//! whole blocks, least severe last, and the comment says what was cut.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::{self, Write};

use foldhash::HashSet;

use super::escape::{code_fence, html, markdown, terminal};
use super::rows::{Trend, posture_rows};
use super::{Gate, Report, WorkloadEntry, mermaid};
use crate::diff::Finding;
use crate::rules::{Direction, Severity};

/// The first line of every comment, so that CI can find and update it in place.
pub const MARKER: &str = "<!-- runguard -->";

/// GitHub's limit on a comment, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// What a comment is kept under: GitHub's limit less a margin for text CI adds around it and for
/// characters GitHub may count twice (emoji are two UTF-16 units).
pub const BUDGET: usize = 60_000;
const _: () = assert!(BUDGET < GITHUB_COMMENT_LIMIT);

/// Room kept for the note that says what was cut.
const CUT_NOTE_RESERVE: usize = 600;

/// Affected workloads listed in a table cell before `and N more`.
const WORKLOAD_LIMIT: usize = 3;
/// Causes listed in a table cell before `and N more`.
const CAUSE_LIMIT: usize = 5;
/// Lines of one posture value, evidence addresses and list items shown before `and N more`.
const LINE_LIMIT: usize = 10;
/// Lines of one bindings diff shown.
const DIFF_LINES: usize = 60;
/// One plan string is cut to this many characters: an address can be arbitrarily long.
const CLIP_CHARS: usize = 300;
/// And cut further until its escaped form is at most this long: escaping can multiply a
/// string's length by nine (`@a` becomes `\@&#8203;a`).
const ESCAPED_CHARS: usize = 900;
/// Reasons the report is incomplete listed in the header, which is never cut.
const INCOMPLETE_LIMIT: usize = 5;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct MarkdownOptions {
    /// The gate, for the verdict.
    pub gate: Gate,
    /// Also detail workloads that no finding concerns.
    pub all: bool,
}

/// Whether the plan provably changes no security posture: no finding at all, nothing left
/// unresolved (an unknown could hide a change, and the comment would say ⚠️ review), and a
/// complete report. `--skip-clean` prints nothing then.
pub fn is_clean(r: &Report) -> bool {
    r.findings.is_empty() && r.unresolved.is_empty() && r.complete()
}

pub use super::mermaid::MAX_NODES;

/// Renders one report as a pull-request comment.
pub fn render(r: &Report, o: &MarkdownOptions, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{MARKER}")?;
    out.write_all(document(r, o, BUDGET - MARKER.len() - 1).as_bytes())
}

/// One comment for several plans: a section per plan, each within its share of the budget. A
/// plan whose section cannot fit its share (its header alone is never cut) is summarised in its
/// verdict and headline; plans past the whole budget are counted, not shown.
pub fn render_set(
    results: &[(String, Result<Report, String>)],
    o: &MarkdownOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "{MARKER}")?;
    let mut budget = Budget {
        left: BUDGET - count(MARKER) - 1 - CUT_NOTE_RESERVE,
    };
    let share = budget.left / results.len().max(1);
    for (i, (source, result)) in results.iter().enumerate() {
        let title = format!("### Plan {}\n\n", md(source));
        let room = share.saturating_sub(count(&title));
        let body = match result {
            Ok(report) => {
                let full = document(report, o, room);
                if count(&full) <= room {
                    full
                } else {
                    let (mark, words) = verdict(report, &o.gate);
                    format!(
                        "{mark} **{words}**: {} Details cut to fit; see the JSON report.\n\n",
                        markdown(&report.headline())
                    )
                }
            }
            Err(message) => format!("❌ **not analysed**: {}\n\n", md(message)),
        };
        let section = format!("{title}{body}");
        if !budget.take(&section) {
            writeln!(
                out,
                "> ✂️ **Cut to fit a comment** (GitHub allows 65,536 characters): {} of {} \
                 plans are not shown. The full report is the JSON artifact: run runguard with \
                 `--output json=runguard.json`.",
                results.len() - i,
                results.len()
            )?;
            break;
        }
        out.write_all(section.as_bytes())?;
    }
    Ok(())
}

/// Characters, as GitHub counts them for its limit (not bytes).
fn count(s: &str) -> usize {
    s.chars().count()
}

/// Plan text escaped by `escape`, cut first so that the result is at most [`ESCAPED_CHARS`].
fn clipped(s: &str, escape: fn(&str) -> String) -> String {
    let mut keep = CLIP_CHARS;
    loop {
        let cut = if count(s) <= keep {
            s.to_owned()
        } else {
            let mut c: String = s.chars().take(keep - 1).collect();
            c.push('…');
            c
        };
        let escaped = escape(&cut);
        if count(&escaped) <= ESCAPED_CHARS || keep <= 2 {
            return escaped;
        }
        keep /= 2;
    }
}

/// Plan text for inline Markdown, cut.
fn md(s: &str) -> String {
    clipped(s, markdown)
}

/// Items as lines of a table cell, `and N more` past `limit`.
fn cell_lines(items: &[impl AsRef<str>], limit: usize) -> String {
    let mut lines: Vec<String> = items.iter().take(limit).map(|i| md(i.as_ref())).collect();
    if items.len() > limit {
        lines.push(format!("*and {} more*", items.len() - limit));
    }
    lines.join("<br>")
}

/// The sections in order of importance, each added while it fits.
struct Budget {
    left: usize,
}

impl Budget {
    fn take(&mut self, s: &str) -> bool {
        let n = count(s);
        if n <= self.left {
            self.left -= n;
            true
        } else {
            false
        }
    }
}

/// The comment without its marker, at most `budget` characters.
fn document(r: &Report, o: &MarkdownOptions, budget: usize) -> String {
    let mut doc = header(r, &o.gate);
    let mut budget = Budget {
        left: budget.saturating_sub(count(&doc) + CUT_NOTE_RESERVE),
    };
    let mut cut = Vec::new();

    if !r.findings.is_empty() {
        let head = "| severity | rule | finding | cause | workloads |\n\
                    | --- | --- | --- | --- | --- |\n";
        // The heading and the first row always fit: every plan string in them is clipped. The
        // table gets at most three fifths of the room, so that the graph and the most severe
        // workloads' details still show on a plan with thousands of findings.
        let mut table = format!("### Findings, most severe first\n\n{head}");
        let mut room = Budget {
            left: budget.left * 3 / 5,
        };
        room.take(&table);
        let mut shown = 0;
        for f in &r.findings {
            let row = finding_row(f);
            if shown > 0 && !room.take(&row) {
                break;
            }
            table.push_str(&row);
            shown += 1;
        }
        table.push('\n');
        budget.left = budget.left.saturating_sub(count(&table));
        doc.push_str(&table);
        if shown < r.findings.len() {
            cut.push(format!(
                "{} of {} findings (the least severe)",
                r.findings.len() - shown,
                r.findings.len()
            ));
        }
    }

    let detailed = detailed_workloads(r, o.all);
    if let Some(graph) = mermaid::graph(&detailed) {
        let fence = code_fence(&graph);
        let block = format!(
            "<details open>\n<summary>How the changed workloads are reached, and what they run as</summary>\n\n\
             {fence}mermaid\n{graph}{fence}\n\nThick arrows are what this plan adds.\n\n</details>\n\n"
        );
        if budget.take(&block) {
            doc.push_str(&block);
        } else {
            cut.push("the graph".to_owned());
        }
    }

    if !detailed.is_empty() {
        let title = if o.all {
            "### Workloads, before → after\n\n"
        } else {
            "### Changed workloads, before → after\n\n"
        };
        budget.take(title);
        doc.push_str(title);
        let mut shown = 0;
        for w in &detailed {
            let block = workload_block(r, w);
            if !budget.take(&block) {
                break;
            }
            doc.push_str(&block);
            shown += 1;
        }
        if shown < detailed.len() {
            cut.push(format!(
                "{} of {} workload details",
                detailed.len() - shown,
                detailed.len()
            ));
        }
    }

    for (what, section) in [
        ("the accept entries that accepted nothing", acceptance(r)),
        ("what could not be resolved", unresolved(r)),
        ("the notes", notes(r)),
    ] {
        let Some(section) = section else { continue };
        if budget.take(&section) {
            doc.push_str(&section);
        } else {
            cut.push(what.to_owned());
        }
    }

    if !cut.is_empty() {
        let _ = writeln!(
            doc,
            "> ✂️ **Cut to fit a comment** (GitHub allows 65,536 characters): not shown are {}. \
             The full report is the JSON artifact: run runguard with `--output json=runguard.json`.",
            cut.join(", ")
        );
    }
    doc
}

/// The verdict mark and words: action needed when the gate trips; review when something got
/// worse below the gate, is unknown, or was not analysed; otherwise no change.
fn verdict(r: &Report, gate: &Gate) -> (&'static str, &'static str) {
    if gate.tripped(r) {
        ("❌", "action needed")
    } else if r.worsened().next().is_some() || !r.unresolved.is_empty() || !r.complete() {
        ("⚠️", "review")
    } else if r.findings.is_empty() {
        ("✅", "no security change")
    } else {
        ("✅", "nothing to act on")
    }
}

/// Always shown: the verdict, the headline, the gate, and why the report is incomplete.
fn header(r: &Report, gate: &Gate) -> String {
    let (mark, words) = verdict(r, gate);
    let mut s = format!(
        "## {mark} runguard: {words}\n\n**{}**\n\n{}\n\n",
        markdown(&r.headline()),
        gate_line(r, gate)
    );
    if let Some(why) = r.incompleteness() {
        let fails = if gate.incomplete_tripped(r) {
            "failing closed (`--allow-incomplete` to accept)"
        } else {
            "accepted by `--allow-incomplete`"
        };
        let _ = writeln!(s, "**Incomplete**: {}, {fails}:\n", markdown(&why));
        let items: Vec<String> = r
            .unanalysable
            .iter()
            .map(|u| format!("{}: {}", u.address, u.reason))
            .chain(r.plan_incomplete.iter().cloned())
            .collect();
        s.push_str(&bullets(&items, INCOMPLETE_LIMIT));
    }
    s
}

fn gate_line(r: &Report, gate: &Gate) -> String {
    let Some(threshold) = gate.threshold else {
        let n = r.worsened().count();
        return format!(
            "Not gated (`--fail-on none`): {n} worsened finding{}.",
            plural(n)
        );
    };
    let n = r.worsened().filter(|f| f.severity >= threshold).count();
    if gate.severity_tripped(r) {
        format!(
            "**Gate failed** (`--fail-on {threshold}`): {n} worsened finding{} at {threshold} or above.",
            plural(n)
        )
    } else {
        format!("Gate passed (`--fail-on {threshold}`): nothing worsened at {threshold} or above.")
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A finding's mark: its severity's colour when it got worse, green when it got better.
fn finding_mark(f: &Finding) -> &'static str {
    match f.direction {
        Direction::Worsened => severity_mark(f.severity),
        Direction::Improved => "🟢",
        Direction::Unchanged => "⚪",
    }
}

fn severity_mark(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "🔴",
        Severity::High => "🟠",
        Severity::Medium => "🟡",
        Severity::Low => "🔵",
        Severity::Info => "⚪",
    }
}

/// One table row: every cell one line, its items separated by `<br>`.
fn finding_row(f: &Finding) -> String {
    let direction = match f.direction {
        Direction::Worsened => "worsened",
        Direction::Improved => "improved",
        Direction::Unchanged => "unchanged",
    };
    let mut finding = md(&f.message);
    if let Some(a) = &f.accepted {
        let _ = write!(
            finding,
            "<br>✔️ **accepted**: {} (runguard.toml line {})",
            md(&a.reason),
            a.line
        );
    }
    format!(
        "| {} **{}**<br>{direction} | `{}` | {finding} | {} | {} |\n",
        finding_mark(f),
        f.severity.as_str(),
        f.rule.id,
        cell_lines(&f.causes, CAUSE_LIMIT),
        cell_lines(&f.workloads, WORKLOAD_LIMIT),
    )
}

/// The workloads to detail, most severe finding first; with `all`, then every other workload.
fn detailed_workloads(r: &Report, all: bool) -> Vec<&WorkloadEntry> {
    let mut order: Vec<&str> = Vec::new();
    let mut seen = HashSet::default();
    for f in &r.findings {
        for w in &f.workloads {
            if seen.insert(&**w) {
                order.push(w);
            }
        }
    }
    let by_address: foldhash::HashMap<&str, &WorkloadEntry> = r
        .workloads
        .iter()
        .map(|w| (w.id.address.as_str(), w))
        .collect();
    let mut out: Vec<&WorkloadEntry> = order
        .iter()
        .filter_map(|a| by_address.get(a).copied())
        .collect();
    if all {
        out.extend(
            r.workloads
                .iter()
                .filter(|w| !seen.contains(w.id.address.as_str())),
        );
    }
    out
}

/// A collapsible block: the posture rows that differ, the evidence, the bindings diffs.
fn workload_block(r: &Report, w: &WorkloadEntry) -> String {
    let findings: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| f.workloads.iter().any(|a| **a == *w.id.address))
        .collect();
    // The mark of its most severe worsened finding, else of its first (findings are sorted,
    // most severe first).
    let mark = findings
        .iter()
        .find(|f| f.direction == Direction::Worsened)
        .or(findings.first())
        .map_or("", |f| finding_mark(f));
    let action = w.action.map_or("outside the plan", |a| a.as_str());
    let rows = posture_rows(w);
    let differ: Vec<_> = rows.iter().filter(|r| r.trend != Trend::Same).collect();
    let mut s = format!(
        "<details>\n<summary>{mark} <b>{}</b> ({}, {}, {action}): {} finding{}</summary>\n\n",
        clipped(&w.id.address, html),
        w.id.kind.as_str(),
        w.id.api.as_str(),
        findings.len(),
        plural(findings.len()),
    );
    if differ.is_empty() {
        s.push_str("No posture row differs.\n\n");
    } else {
        s.push_str("| posture | before | after | |\n| --- | --- | --- | --- |\n");
        for row in differ {
            let trend = match row.trend {
                Trend::Worse => "❗ worse",
                Trend::Better => "✔️ better",
                Trend::Changed | Trend::Same => "changed",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {trend} |",
                row.label,
                value_cell(&row.before),
                value_cell(&row.after)
            );
        }
        s.push('\n');
    }

    // The resources behind this workload's findings; the other workloads a finding reaches are
    // not evidence about this one (unless they are a cause).
    let evidence: BTreeSet<&str> = findings
        .iter()
        .flat_map(|f| f.causes.iter().chain(&f.evidence).map(String::as_str))
        .filter(|a| *a != w.id.address)
        .collect();
    if !evidence.is_empty() {
        s.push_str("Evidence:\n\n");
        let items: Vec<String> = evidence.iter().map(|a| (*a).to_owned()).collect();
        s.push_str(&bullets(&items, LINE_LIMIT));
    }
    for d in r
        .policy_diffs
        .iter()
        .filter(|d| evidence.contains(d.address.as_str()))
    {
        let lines: Vec<String> = d
            .diff
            .lines()
            .filter(|l| !l.starts_with("---") && !l.starts_with("+++"))
            .map(|l| clipped(l, |l| terminal(l).into_owned()))
            .collect();
        let mut body: String = lines
            .iter()
            .take(DIFF_LINES)
            .map(|l| format!("{l}\n"))
            .collect();
        if lines.len() > DIFF_LINES {
            let _ = writeln!(body, "@@ and {} more lines @@", lines.len() - DIFF_LINES);
        }
        let fence = code_fence(&body);
        let _ = write!(
            s,
            "Bindings of {}:\n\n{fence}diff\n{body}{fence}\n\n",
            md(&d.address)
        );
    }
    s.push_str("</details>\n\n");
    s
}

/// A posture value as a cell: one item per line.
fn value_cell(value: &str) -> String {
    let items: Vec<String> = value.lines().map(str::to_owned).collect();
    cell_lines(&items, LINE_LIMIT)
}

/// A bulleted list, `and N more` past `limit`.
fn bullets(items: &[String], limit: usize) -> String {
    let mut s: String = items
        .iter()
        .take(limit)
        .map(|i| format!("- {}\n", md(i)))
        .collect();
    if items.len() > limit {
        let _ = writeln!(s, "- *and {} more*", items.len() - limit);
    }
    s.push('\n');
    s
}

fn acceptance(r: &Report) -> Option<String> {
    let a = r.acceptance.as_ref()?;
    if a.expired.is_empty() && a.stale.is_empty() {
        return None;
    }
    let items: Vec<String> = a
        .expired
        .iter()
        .map(|e| {
            format!(
                "line {}: expired (its last day was {}): {}",
                e.line,
                e.expires.as_deref().unwrap_or("?"),
                e.reason
            )
        })
        .chain(
            a.stale
                .iter()
                .map(|e| format!("line {}: stale, matches no finding: {}", e.line, e.reason)),
        )
        .collect();
    Some(format!(
        "### Accept entries in {} that accepted nothing\n\n{}",
        md(&a.path),
        bullets(&items, LINE_LIMIT)
    ))
}

fn unresolved(r: &Report) -> Option<String> {
    if r.unresolved.is_empty() {
        return None;
    }
    let items: Vec<String> = r
        .unresolved
        .iter()
        .map(|u| format!("{}: {}", u.address, u.reason))
        .collect();
    Some(format!(
        "<details>\n<summary>Not resolvable at plan time ({}), shown as unknown, never as safe</summary>\n\n{}</details>\n\n",
        items.len(),
        bullets(&items, LINE_LIMIT)
    ))
}

fn notes(r: &Report) -> Option<String> {
    if r.notes.is_empty() {
        return None;
    }
    Some(format!("Notes:\n\n{}", bullets(&r.notes, LINE_LIMIT)))
}
