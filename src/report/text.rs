//! `--format text`: what an engineer reads in a terminal. The headline; the findings, most
//! severe first, each with its causes and the workloads it affects; for each changed workload
//! only the posture rows that differ, the rest summarised in a line; what could not be resolved;
//! the verdict line. Nothing is wider than the width it is given.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::Style;

use super::escape::terminal;
use super::rows::{Row, Trend, posture_rows};
use super::{AcceptanceOutcome, Gate, Report, WorkloadEntry};
use crate::diff::Finding;
use crate::rules::{Direction, Severity};

/// The width used when neither the terminal nor `COLUMNS` gives one.
pub const DEFAULT_WIDTH: usize = 100;

/// The narrowest layout supported: below it lines are still cut at this width.
const MIN_WIDTH: usize = 40;

/// How many affected workloads a finding lists before `…and N more`.
const WORKLOAD_LIMIT: usize = 5;

/// How many lines of one posture value (a set of invokers, roles, impersonators…) are shown
/// before `…and N more`: a project-level grant can put hundreds of principals in every
/// workload's value, and a binding can hold a million.
const VALUE_LIMIT: usize = 12;

/// How to render.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    /// Emit ANSI colours (only on a terminal, and never with `NO_COLOR`).
    pub color: bool,
    /// Show every workload and every affected workload, not only those with a change.
    pub all: bool,
    /// The gate, for the verdict line.
    pub gate: Gate,
    /// The display width no line may exceed.
    pub width: usize,
}

impl Default for TextOptions {
    fn default() -> Self {
        TextOptions {
            color: false,
            all: false,
            gate: Gate {
                threshold: Some(Severity::High),
                allow_incomplete: false,
            },
            width: DEFAULT_WIDTH,
        }
    }
}

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }

    fn severity(&self, s: Severity) -> String {
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, &s.as_str().to_uppercase())
    }

    fn direction(&self, d: Direction) -> String {
        let code = match d {
            Direction::Worsened => "31",
            Direction::Improved => "32",
            Direction::Unchanged => "2",
        };
        self.wrap(code, d.as_str())
    }

    fn trend(&self, t: Trend, s: &str) -> String {
        match t {
            Trend::Worse => self.wrap("31", s),
            Trend::Better => self.wrap("32", s),
            Trend::Changed => self.wrap("33", s),
            Trend::Same => s.to_owned(),
        }
    }
}

/// Writes `text` wrapped to `width` display columns, every line indented by `first` then
/// `rest`. Long words (addresses) are broken rather than allowed to overflow.
fn wrapped(
    out: &mut dyn Write,
    text: &str,
    width: usize,
    first: &str,
    rest: &str,
) -> io::Result<()> {
    let options = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        // Addresses and members are copied from here into code and searches: break lines at
        // spaces only, never at a hyphen or slash inside a name as if it were a word break. A
        // word longer than the line is still cut.
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        // First fit never goes past the width; the default optimal fit may, by a column or
        // two, to balance lines.
        .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
        .break_words(true);
    for line in textwrap::wrap(text, options) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Renders one report for a terminal.
pub fn render(r: &Report, o: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: o.color };
    let width = o.width.max(MIN_WIDTH);
    let label = format!("{} ", paint.wrap("1", "runguard:"));
    let listed = r.listed();
    wrapped(out, &terminal(&r.headline_of(&listed)), width, &label, "  ")?;

    if !r.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.wrap("1", "Findings, most severe first"))?;
        for f in &r.findings {
            write_finding(f, o, width, &paint, out)?;
        }
    }

    if let Some(a) = &r.acceptance {
        write_acceptance(a, width, &paint, out)?;
    }

    let shown: Vec<&WorkloadEntry> = r
        .workloads
        .iter()
        .filter(|w| o.all || listed.workloads.contains(w.id.address.as_str()))
        .collect();
    if !shown.is_empty() {
        writeln!(out)?;
        let title = if o.all {
            "Workloads, before → after"
        } else {
            "Changed workloads, before → after"
        };
        writeln!(out, "{}", paint.wrap("1", title))?;
        for w in &shown {
            write_workload(w, width, o.all, &paint, out)?;
        }
    }

    if !r.policy_diffs.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.wrap("1", "Bindings that change"))?;
        for d in &r.policy_diffs {
            wrapped(
                out,
                &format!("{}:", terminal(&d.address)),
                width,
                "  ",
                "    ",
            )?;
            let body = d
                .diff
                .lines()
                .filter(|l| !l.starts_with("---") && !l.starts_with("+++"));
            for line in body {
                wrapped(out, &terminal(line), width, "    ", "      ")?;
            }
        }
    }
    if !r.unresolved.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint.wrap(
                "1",
                "Not resolvable at plan time (shown as unknown, never as safe)"
            )
        )?;
        for u in &r.unresolved {
            let item = format!("{}: {}", terminal(&u.address), terminal(&u.reason));
            wrapped(out, &item, width, "  - ", "    ")?;
        }
    }
    if !r.unanalysable.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint.wrap("1;31", "Not analysed: the report is incomplete")
        )?;
        for u in &r.unanalysable {
            let item = format!("{}: {}", terminal(&u.address), terminal(&u.reason));
            wrapped(out, &item, width, "  - ", "    ")?;
        }
    }
    if !r.plan_incomplete.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "{}",
            paint.wrap("1;31", "The plan itself is incomplete")
        )?;
        for why in &r.plan_incomplete {
            wrapped(out, &terminal(why), width, "  - ", "    ")?;
        }
    }
    if !r.notes.is_empty() {
        writeln!(out)?;
        for n in &r.notes {
            wrapped(out, &terminal(n), width, "note: ", "      ")?;
        }
    }
    writeln!(out)?;
    if let Some(line) = incomplete_line(r, &o.gate, &paint) {
        wrapped(out, &line, width, "", "  ")?;
    }
    // textwrap measures display width without ANSI escape codes, so painted labels wrap right.
    wrapped(out, &verdict_line(r, &o.gate, &paint), width, "", "  ")
}

/// An incomplete report fails closed unless `--allow-incomplete` accepts it; either way it
/// gets its own line before the verdict.
fn incomplete_line(r: &Report, gate: &Gate, paint: &Paint) -> Option<String> {
    let why = r.incompleteness()?;
    Some(if gate.incomplete_tripped(r) {
        format!(
            "{}: {} — failing closed (--allow-incomplete to accept)",
            paint.wrap("1;31", "INCOMPLETE"),
            terminal(&why)
        )
    } else {
        format!(
            "{}: {} — accepted by --allow-incomplete",
            paint.wrap("33", "INCOMPLETE"),
            terminal(&why)
        )
    })
}

/// The last line: whether the gate tripped, and on how many findings.
fn verdict_line(r: &Report, gate: &Gate, paint: &Paint) -> String {
    let Some(threshold) = gate.threshold else {
        let n = r.count(Direction::Worsened);
        return format!(
            "{}: {n} worsened finding{} (--fail-on none: the gate is off)",
            paint.wrap("1", "not gated"),
            if n == 1 { "" } else { "s" }
        );
    };
    let n = r.worsened().filter(|f| f.severity >= threshold).count();
    let plural = if n == 1 { "" } else { "s" };
    if gate.severity_tripped(r) {
        format!(
            "{}: {n} worsened finding{plural} at {threshold} or above (--fail-on {threshold})",
            paint.wrap("1;31", "FAILED")
        )
    } else {
        format!(
            "{}: nothing worsened at {threshold} or above (--fail-on {threshold})",
            paint.wrap("32", "passed")
        )
    }
}

fn write_finding(
    f: &Finding,
    o: &TextOptions,
    width: usize,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out)?;
    // Severity, rule and direction are ASCII from the registry: they never need wrapping
    // below MIN_WIDTH.
    writeln!(
        out,
        "  {}  {}  {}",
        paint.severity(f.severity),
        f.rule.id,
        paint.direction(f.direction)
    )?;
    wrapped(out, &terminal(&f.message), width, "    ", "    ")?;
    let causes: Vec<String> = f.causes.iter().map(|c| terminal(c).into_owned()).collect();
    labelled_list(out, "cause", &causes, usize::MAX, width)?;
    let limit = if o.all { usize::MAX } else { WORKLOAD_LIMIT };
    let workloads: Vec<String> = f
        .workloads
        .iter()
        .map(|w| terminal(w).into_owned())
        .collect();
    labelled_list(out, "affects", &workloads, limit, width)?;
    if let Some(a) = &f.accepted {
        let text = format!("{} (runguard.toml line {})", terminal(&a.reason), a.line);
        labelled_list(out, "accepted", &[text], 1, width)?;
    }
    Ok(())
}

/// The accept entries that accepted nothing, so that they get renewed or removed.
fn write_acceptance(
    a: &AcceptanceOutcome,
    width: usize,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    if a.expired.is_empty() && a.stale.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let title = format!(
        "Accept entries in {} that accepted nothing",
        terminal(&a.path)
    );
    wrapped(out, &paint.wrap("1", &title), width, "", "  ")?;
    for e in &a.expired {
        let item = format!(
            "line {}: expired (its last day was {}): {}",
            e.line,
            e.expires.as_deref().unwrap_or("?"),
            terminal(&e.reason)
        );
        wrapped(out, &item, width, "  - ", "    ")?;
    }
    for e in &a.stale {
        let item = format!(
            "line {}: stale, matches no finding: {}",
            e.line,
            terminal(&e.reason)
        );
        wrapped(out, &item, width, "  - ", "    ")?;
    }
    Ok(())
}

/// `label:` then one item per line, aligned, with `…and N more` past `limit`.
fn labelled_list(
    out: &mut dyn Write,
    label: &str,
    items: &[String],
    limit: usize,
    width: usize,
) -> io::Result<()> {
    let head = format!("    {label:<8}  ");
    let pad = " ".repeat(head.len());
    for (i, item) in items.iter().take(limit).enumerate() {
        wrapped(out, item, width, if i == 0 { &head } else { &pad }, &pad)?;
    }
    if items.len() > limit {
        let more = items.len() - limit;
        writeln!(out, "{pad}…and {more} more (--all lists every one)")?;
    }
    Ok(())
}

fn write_workload(
    w: &WorkloadEntry,
    width: usize,
    all: bool,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out)?;
    let action = w.action.map_or("outside the plan", |a| a.as_str());
    let title = format!(
        "{}  ({}, {}, {action})",
        terminal(&w.id.address),
        w.id.kind.as_str(),
        w.id.api.as_str()
    );
    wrapped(out, &title, width, "  ", "    ")?;
    let mut rows = posture_rows(w);
    if !all {
        for row in &mut rows {
            clip(&mut row.before, VALUE_LIMIT);
            clip(&mut row.after, VALUE_LIMIT);
        }
    }
    if w.before.is_none() || w.after.is_none() {
        // Created or deleted: one side to show. Rows with nothing in them are named in one
        // line, so that what the workload does have stands out.
        let gone = w.after.is_none();
        let mut empty = Vec::new();
        for row in &rows {
            let value = if gone { &row.before } else { &row.after };
            if matches!(value.as_str(), "none" | "n/a") {
                empty.push(row.label);
                continue;
            }
            let head = format!("    {:<20}  ", row.label);
            let pad = " ".repeat(head.len());
            for (i, line) in value.lines().enumerate() {
                wrapped(
                    out,
                    &terminal(line),
                    width,
                    if i == 0 { &head } else { &pad },
                    &pad,
                )?;
            }
        }
        if !empty.is_empty() {
            wrapped(
                out,
                &format!("none: {}", empty.join(", ")),
                width,
                "    ",
                "      ",
            )?;
        }
        return Ok(());
    }
    let (differ, same): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.trend != Trend::Same);
    if !differ.is_empty() {
        let table = posture_table(&differ, paint);
        // A table whose natural width does not fit would break values mid-word in narrow
        // columns; one value per line reads better then.
        if table.total_width() + 4 <= width {
            for line in table.to_string().lines() {
                writeln!(out, "    {line}")?;
            }
        } else {
            for row in &differ {
                writeln!(out, "    {}", row.label)?;
                write_side(out, "before", &row.before, width, |l| {
                    terminal(l).into_owned()
                })?;
                write_side(out, "after", &row.after, width, |l| {
                    paint.trend(row.trend, &terminal(l))
                })?;
            }
        }
    }
    if !same.is_empty() {
        let summary: Vec<String> = same
            .iter()
            .map(|r| format!("{} {}", r.label, terminal(&r.after.replace('\n', ", "))))
            .collect();
        let text = format!("unchanged: {}", summary.join(" · "));
        wrapped(out, &text, width, "    ", "      ")?;
    }
    Ok(())
}

/// Cuts a multi-line value to `limit` lines and a last `…and N more` line. Changed items
/// (`+ `, `- `) are kept before unchanged ones, and the kept lines stay in their order.
fn clip(value: &mut String, limit: usize) {
    let total = value.lines().count();
    if total <= limit {
        return;
    }
    let changed = |l: &str| l.starts_with("+ ") || l.starts_with("- ");
    let all_changed = value.lines().filter(|l| changed(l)).count();
    let (mut changed_left, mut unchanged_left) =
        (all_changed.min(limit), limit - all_changed.min(limit));
    let mut kept: Vec<&str> = Vec::with_capacity(limit + 1);
    for line in value.lines() {
        let left = if changed(line) {
            &mut changed_left
        } else {
            &mut unchanged_left
        };
        if *left > 0 {
            *left -= 1;
            kept.push(line);
        }
        if changed_left + unchanged_left == 0 {
            break;
        }
    }
    let hidden_changed = all_changed - all_changed.min(limit);
    let more = if hidden_changed > 0 {
        format!(
            "…and {} more, {hidden_changed} of them changed (--all lists every one)",
            total - limit
        )
    } else {
        format!("…and {} more (--all lists every one)", total - limit)
    };
    kept.push(&more);
    *value = kept.join("\n");
}

/// The one line that ends a run over several plans.
pub fn overall_verdict(
    plans: usize,
    tripped: usize,
    failed: usize,
    threshold: Option<Severity>,
) -> String {
    let gate = threshold.map_or("--fail-on none".to_owned(), |t| format!("--fail-on {t}"));
    let verdict = if failed > 0 {
        "ERROR"
    } else if tripped > 0 {
        "FAILED"
    } else {
        "passed"
    };
    format!(
        "overall: {verdict}: {plans} plans, {tripped} tripped the gate, {failed} not analysed ({gate})"
    )
}

/// The rows that differ as a before/after table; the after side coloured by its trend.
fn posture_table(rows: &[&Row], paint: &Paint) -> tabled::Table {
    let mut b = Builder::default();
    b.push_record(["", "before", "after"]);
    for row in rows {
        let after: Vec<String> = row
            .after
            .lines()
            .map(|l| paint.trend(row.trend, &terminal(l)))
            .collect();
        b.push_record([
            row.label.to_owned(),
            escape_lines(&row.before),
            after.join("\n"),
        ]);
    }
    let mut table = b.build();
    table.with(Style::rounded());
    table
}

/// One side of a row in the vertical layout: `before`/`after`, then each value line wrapped.
fn write_side(
    out: &mut dyn Write,
    side: &str,
    value: &str,
    width: usize,
    show: impl Fn(&str) -> String,
) -> io::Result<()> {
    let head = format!("      {side:<6}  ");
    let pad = " ".repeat(head.len());
    for (i, line) in value.lines().enumerate() {
        // Set markers (`+ `, `- `) stay in front of their item when it wraps.
        wrapped(
            out,
            &show(line),
            width,
            if i == 0 { &head } else { &pad },
            &format!("{pad}  "),
        )?;
    }
    Ok(())
}

/// Escapes each line of a multi-line cell, keeping its line breaks.
fn escape_lines(s: &str) -> String {
    s.lines()
        .map(|l| terminal(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::clip;

    #[test]
    fn a_long_value_keeps_its_changed_lines_first_in_their_order() {
        let lines: Vec<String> = (0..20)
            .map(|i| match i {
                3 => "+ allUsers".to_owned(),
                17 => "- user:gone@acme.com".to_owned(),
                _ => format!("  user:u{i}@acme.com"),
            })
            .collect();
        let mut value = lines.join("\n");
        clip(&mut value, 4);
        assert_eq!(
            value,
            "  user:u0@acme.com\n  user:u1@acme.com\n+ allUsers\n- user:gone@acme.com\n\
             …and 16 more (--all lists every one)"
        );
        let mut changed: String = (0..6).map(|i| format!("+ user:n{i}@acme.com\n")).collect();
        clip(&mut changed, 2);
        assert_eq!(
            changed,
            "+ user:n0@acme.com\n+ user:n1@acme.com\n\
             …and 4 more, 4 of them changed (--all lists every one)"
        );
    }

    #[test]
    fn a_value_within_the_limit_is_left_alone() {
        let mut value = "a\nb\nc".to_owned();
        clip(&mut value, 3);
        assert_eq!(value, "a\nb\nc");
    }
}
