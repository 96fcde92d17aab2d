//! The command line: arguments in, exit code out. `main.rs` only calls [`run`].

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::text::TextOptions;
use crate::report::{Gate, Report};
use crate::rules::{RULES, Severity};
use crate::{Options, analyze};

const EXIT_CODES: &str = "\
Exit codes:
  0  no worsened change at or above the --fail-on severity, and the report is complete
  1  the gate tripped: a worsened change at or above --fail-on, or an incomplete report
     (without --allow-incomplete)
  2  usage error, or input that is not a readable plan";

/// How a Terraform plan changes the security of Cloud Run workloads.
///
/// Reads `terraform show -json tfplan` output and reports, for each Cloud Run service, job and
/// worker pool, who can invoke it, which identity it runs as and what that identity can do, and
/// its ingress and IAP posture, before and after the plan.
#[derive(Parser, Debug)]
#[command(name = "runguard", version, args_conflicts_with_subcommands = true, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    check: CheckArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every rule with its id, severity and summary.
    Rules,
    /// Print the documentation of one rule.
    Explain {
        /// A rule id, as `runguard rules` lists them.
        rule: String,
    },
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Plan JSON from `terraform show -json tfplan`; `-` reads standard input. Several plans
    /// are analysed in parallel, one per core, and reported in the order given.
    plans: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with code 1 when a worsened change has at least this severity.
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    fail_on: FailOn,
    /// Also report risky posture the plan leaves unchanged, and every workload.
    #[arg(long)]
    all: bool,
    /// Do not fail when the report is incomplete (a resource could not be analysed, or the
    /// plan errored or deferred changes). By default an incomplete report fails closed.
    #[arg(long)]
    allow_incomplete: bool,
    /// When to colour text output (`auto`: only on a terminal, and never with NO_COLOR set).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// Tables and a ranked list of changes, for people.
    Text,
    /// The `runguard/report/v1` JSON contract, for CI and tools.
    Json,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum FailOn {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::None => None,
            FailOn::Low => Some(Severity::Low),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::High => Some(Severity::High),
            FailOn::Critical => Some(Severity::Critical),
        }
    }
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Parses the process arguments, runs, and maps the outcome to an exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    // Stdout is line-buffered; reports are written in large blocks instead, or a big JSON
    // report costs one write call per line.
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match cli.command {
        Some(Command::Rules) => list_rules(&mut out),
        Some(Command::Explain { rule }) => explain(&rule, &mut out),
        None => check(&cli.check, &mut out),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        // A closed pipe (`runguard plan.json | head`) is not an error.
        Err(Failure::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Io(e)) => {
            eprintln!("runguard: error: writing output: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Input(msg)) => {
            eprintln!("runguard: error: {msg}");
            ExitCode::from(2)
        }
    }
}

enum Failure {
    Io(io::Error),
    Input(String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn check(args: &CheckArgs, out: &mut dyn Write) -> Result<u8, Failure> {
    let sources = &args.plans;
    if sources.is_empty() {
        return Err(Failure::Input(
            "no plan given; usage: runguard PLAN.json (or `-` for standard input). \
             Produce one with `terraform show -json tfplan > plan.json`"
                .into(),
        ));
    }
    if sources.iter().filter(|s| *s == "-").count() > 1 {
        return Err(Failure::Input(
            "standard input (`-`) can be given only once".into(),
        ));
    }
    let options = Options {
        include_unchanged: args.all,
    };
    let gate = Gate {
        threshold: args.fail_on.threshold(),
        allow_incomplete: args.allow_incomplete,
    };
    let tripped = |r: &Report| gate.tripped(r);
    let color = match args.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let text_options = TextOptions {
        color,
        all: args.all,
        gate: Some(gate),
    };

    if let [source] = sources.as_slice() {
        let report = load_and_analyze(source, &options).map_err(Failure::Input)?;
        match args.format {
            Format::Json => crate::report::json::render(&report, out)?,
            Format::Text => crate::report::text::render(&report, &text_options, out)?,
        }
        out.flush()?;
        return Ok(u8::from(tripped(&report)));
    }

    let results = analyze_in_parallel(sources, &options);
    for (_, result) in &results {
        if let Err(message) = result {
            eprintln!("runguard: error: {message}");
        }
    }
    match args.format {
        Format::Json => crate::report::json::render_set(&results, out)?,
        Format::Text => {
            for (i, (source, result)) in results.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "== {} ==", crate::report::escape::terminal(source))?;
                match result {
                    Ok(report) => crate::report::text::render(report, &text_options, out)?,
                    Err(message) => writeln!(
                        out,
                        "not analysed: {}",
                        crate::report::escape::terminal(message)
                    )?,
                }
            }
        }
    }
    out.flush()?;
    let failed = results.iter().any(|(_, r)| r.is_err());
    let any_tripped = results.iter().any(|(_, r)| r.as_ref().is_ok_and(tripped));
    Ok(if failed { 2 } else { u8::from(any_tripped) })
}

/// Reads and analyses one plan; the error names the source.
fn load_and_analyze(source: &str, options: &Options) -> Result<Report, String> {
    let (name, bytes) = read_input(source)?;
    analyze(&bytes, options).map_err(|e| format!("{name}: {e}"))
}

/// Analyses every plan on a pool of one worker per core (at most one per plan). Each worker
/// reads, analyses and drops one plan at a time, so memory holds one plan per core; results
/// come back in the order given, so output does not depend on scheduling.
fn analyze_in_parallel(
    sources: &[String],
    options: &Options,
) -> Vec<(String, Result<Report, String>)> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(sources.len());
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Report, String>>>> =
        sources.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(source) = sources.get(i) else { break };
                    let result = load_and_analyze(source, options);
                    *slots[i].lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                }
            });
        }
    });
    sources
        .iter()
        .zip(slots)
        .map(|(source, slot)| {
            let result = slot
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner)
                .unwrap_or_else(|| Err(format!("{source}: the analysis did not finish")));
            (source.clone(), result)
        })
        .collect()
}

fn read_input(source: &str) -> Result<(String, Vec<u8>), String> {
    if source == "-" {
        let stdin = io::stdin();
        if stdin.is_terminal() {
            return Err("standard input is a terminal; pipe a plan in: \
                        `terraform show -json tfplan | runguard -`"
                .into());
        }
        let mut bytes = Vec::new();
        stdin
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("<stdin>: cannot read: {e}"))?;
        return Ok(("<stdin>".into(), bytes));
    }
    let path = Path::new(source);
    if path.is_dir() {
        return Err(format!("{source}: is a directory; pass the plan JSON file"));
    }
    let bytes = std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            io::ErrorKind::NotFound => "no such file".to_owned(),
            io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        format!("{source}: cannot read: {why}")
    })?;
    Ok((source.to_owned(), bytes))
}

fn list_rules(out: &mut dyn Write) -> Result<u8, Failure> {
    let mut b = tabled::builder::Builder::default();
    b.push_record(["rule", "severity", "summary"]);
    for r in RULES {
        b.push_record([r.id, r.severity.as_str(), r.summary]);
    }
    let mut table = b.build();
    table.with(tabled::settings::Style::sharp());
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "\n`runguard explain RULE` prints a rule's documentation."
    )?;
    Ok(0)
}

fn explain(id: &str, out: &mut dyn Write) -> Result<u8, Failure> {
    match crate::rules::find(id) {
        Some(rule) => {
            write!(out, "{}", rule.doc)?;
            writeln!(out, "\nSeverity: {}", rule.severity)?;
            Ok(0)
        }
        None => {
            let close: Vec<&str> = RULES
                .iter()
                .map(|r| r.id)
                .filter(|r| {
                    r.contains(id)
                        || id.contains(r)
                        || r.split('-').any(|w| id.contains(w) && w.len() > 3)
                })
                .collect();
            let hint = if close.is_empty() {
                "`runguard rules` lists them".to_owned()
            } else {
                format!("did you mean {}?", close.join(", "))
            };
            Err(Failure::Input(format!("no rule named `{id}`; {hint}")))
        }
    }
}
