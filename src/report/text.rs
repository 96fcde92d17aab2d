//! `--format text`: a headline, a before → after table for each workload with a change, the
//! changes ranked by severity with their evidence, and what could not be resolved.

use std::collections::HashSet;
use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::Style;

use super::escape::terminal;
use super::{Gate, Report, WorkloadEntry};
use crate::posture::Posture;
use crate::rules::{Direction, Severity};

/// How to render.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Emit ANSI colours (only on a terminal, and never with `NO_COLOR`).
    pub color: bool,
    /// Show every workload, not only those with a change.
    pub all: bool,
    /// The gate whose outcome ends the output; `None` prints none.
    pub gate: Option<Gate>,
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
        let label = format!("{:<8}", s.as_str().to_uppercase());
        let code = match s {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.wrap(code, &label)
    }

    fn direction(&self, d: Direction) -> String {
        let label = format!("{:<9}", d.as_str());
        let code = match d {
            Direction::Worsened => "31",
            Direction::Improved => "32",
            Direction::Unchanged => "2",
        };
        self.wrap(code, &label)
    }
}

pub fn render(r: &Report, o: &TextOptions, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint { on: o.color };
    writeln!(
        out,
        "{} {}",
        paint.wrap("1", "runguard:"),
        terminal(&r.headline())
    )?;

    let changed = r.changed_workloads();
    let shown: Vec<&WorkloadEntry> = r
        .workloads
        .iter()
        .filter(|w| o.all || changed.contains(w.id.address.as_str()))
        .collect();
    for w in &shown {
        writeln!(out)?;
        write_workload(w, out, &paint)?;
    }

    if !r.changes.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.wrap("1", "Changes, most severe first"))?;
        for c in &r.changes {
            writeln!(
                out,
                "  {} {} {}  {}",
                paint.severity(c.severity()),
                paint.direction(c.direction),
                c.rule.id,
                terminal(&c.workload)
            )?;
            writeln!(out, "      {}", terminal(&c.message))?;
            let evidence: Vec<_> = c.evidence.iter().map(|e| terminal(e)).collect();
            writeln!(out, "      evidence: {}", evidence.join(", "))?;
        }
    }

    if !r.policy_diffs.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", paint.wrap("1", "Bindings that change"))?;
        for d in &r.policy_diffs {
            writeln!(out, "  {}:", terminal(&d.address))?;
            let body = d
                .diff
                .lines()
                .filter(|l| !l.starts_with("---") && !l.starts_with("+++"));
            for line in body {
                writeln!(out, "    {}", terminal(line))?;
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
            writeln!(out, "  - {}: {}", terminal(&u.address), terminal(&u.reason))?;
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
            writeln!(out, "  - {}: {}", terminal(&u.address), terminal(&u.reason))?;
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
            writeln!(out, "  - {}", terminal(why))?;
        }
    }
    if !r.notes.is_empty() {
        writeln!(out)?;
        for n in &r.notes {
            writeln!(out, "note: {}", terminal(n))?;
        }
    }
    if let Some(gate) = o.gate {
        write_gate(r, &gate, &paint, out)?;
    }
    Ok(())
}

/// The gate's outcome: the incomplete line first (an incomplete report fails closed unless
/// allowed), then the severity line.
fn write_gate(r: &Report, gate: &Gate, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let incomplete = r.incompleteness();
    if incomplete.is_none() && gate.threshold.is_none() {
        return Ok(());
    }
    writeln!(out)?;
    if let Some(why) = incomplete {
        if gate.incomplete_tripped(r) {
            writeln!(
                out,
                "{}: {} — failing closed (--allow-incomplete to accept)",
                paint.wrap("1;31", "INCOMPLETE"),
                terminal(&why)
            )?;
        } else {
            writeln!(
                out,
                "{}: {} — accepted by --allow-incomplete",
                paint.wrap("33", "INCOMPLETE"),
                terminal(&why)
            )?;
        }
    }
    let Some(threshold) = gate.threshold else {
        return Ok(());
    };
    let n = r.worsened().filter(|c| c.severity() >= threshold).count();
    if gate.severity_tripped(r) {
        writeln!(
            out,
            "{}: {n} worsened change{} at {threshold} or above (--fail-on {threshold})",
            paint.wrap("1;31", "FAILED"),
            if n == 1 { "" } else { "s" }
        )?;
    } else {
        writeln!(
            out,
            "{}: nothing worsened at {threshold} or above (--fail-on {threshold})",
            paint.wrap("32", "passed")
        )?;
    }
    Ok(())
}

fn write_workload(w: &WorkloadEntry, out: &mut dyn Write, paint: &Paint) -> io::Result<()> {
    let action = w.action.map_or("outside the plan", |a| a.as_str());
    writeln!(
        out,
        "{}  ({}, {}, {action})",
        paint.wrap("1", &terminal(&w.id.address)),
        w.id.kind.as_str(),
        w.id.api.as_str()
    )?;
    let mut b = Builder::default();
    b.push_record(["", "before", "after"]);
    let (before, after) = (w.before.as_ref(), w.after.as_ref());
    let row = |b: &mut Builder, label: &str, f: &dyn Fn(&Posture) -> String| {
        let cell = |p: Option<&Posture>| p.map_or_else(|| "(absent)".to_owned(), f);
        let (x, y) = (cell(before), cell(after));
        b.push_record([label.to_owned(), x, y]);
    };
    row(&mut b, "public", &|p| p.public.as_str().into());
    let (b_inv, a_inv) = invoker_cells(before, after);
    b.push_record(["invokers".to_owned(), b_inv, a_inv]);
    if w.id.kind == crate::inventory::WorkloadKind::Service {
        row(
            &mut b,
            "invoker IAM check",
            &|p| match p.iam_check_disabled {
                Some(true) => "disabled".into(),
                Some(false) => "enforced".into(),
                None => "unknown".into(),
            },
        );
        row(&mut b, "ingress", &|p| {
            p.ingress.map_or("n/a", |i| i.as_str()).into()
        });
        row(&mut b, "run.app URL", &|p| match p.default_uri_disabled {
            Some(true) => "disabled".into(),
            Some(false) => "enabled".into(),
            None => "unknown".into(),
        });
        row(&mut b, "IAP", &|p| optional_bool(p.iap).into());
        if before.is_some_and(|p| !p.load_balancers.is_empty())
            || after.is_some_and(|p| !p.load_balancers.is_empty())
        {
            row(&mut b, "load balancers", &|p| {
                lines(p.load_balancers.iter().map(|l| {
                    format!(
                        "{} (external: {}, IAP: {})",
                        l.forwarding_rule,
                        optional_bool(l.external),
                        optional_bool(l.iap)
                    )
                }))
            });
        }
    }
    row(&mut b, "identity", &|p| {
        terminal(&p.identity.display()).into_owned()
    });
    row(&mut b, "privileged roles", &|p| {
        lines(
            p.identity
                .roles
                .iter()
                .filter(|r| r.privileged)
                .map(|r| format!("{} ({})", r.role, r.level)),
        )
    });
    row(&mut b, "can act as identity", &|p| {
        lines(
            p.identity
                .impersonators
                .iter()
                .map(|i| format!("{} ({})", i.principal.display(), i.role)),
        )
    });
    row(&mut b, "keys", &|p| lines(p.identity.keys.iter().cloned()));
    row(&mut b, "plaintext secrets", &|p| {
        lines(
            p.plaintext_secrets
                .iter()
                .map(|s| format!("{} in {} ({})", s.name, s.container, s.reason)),
        )
    });
    row(&mut b, "Binary Authorization", &|p| {
        p.binary_authorization.unwrap_or("n/a").into()
    });
    row(&mut b, "VPC egress", &|p| {
        p.vpc_egress.unwrap_or("n/a").into()
    });
    let mut table = b.build();
    table.with(Style::rounded());
    for line in table.to_string().lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

/// Invoker lists with `+` on the after side for added principals and `-` on the before side for
/// removed ones.
fn invoker_cells(before: Option<&Posture>, after: Option<&Posture>) -> (String, String) {
    let names = |p: Option<&Posture>| -> Vec<String> {
        p.map(|p| {
            p.invokers
                .iter()
                .map(|i| terminal(i.principal.display()).into_owned())
                .collect()
        })
        .unwrap_or_default()
    };
    let (b, a) = (names(before), names(after));
    let (b_set, a_set): (HashSet<&String>, HashSet<&String>) =
        (b.iter().collect(), a.iter().collect());
    let cell = |p: Option<&Posture>, own: &[String], other: &HashSet<&String>, mark: &str| match p {
        None => "(absent)".to_owned(),
        Some(_) if own.is_empty() => "none".to_owned(),
        Some(_) => own
            .iter()
            .map(|m| {
                if other.contains(m) {
                    format!("  {m}")
                } else {
                    format!("{mark} {m}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
    };
    (cell(before, &b, &a_set, "-"), cell(after, &a, &b_set, "+"))
}

fn optional_bool(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// One escaped item per line, or `none`.
fn lines(items: impl Iterator<Item = String>) -> String {
    let v: Vec<String> = items.map(|i| terminal(&i).into_owned()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join("\n")
    }
}
