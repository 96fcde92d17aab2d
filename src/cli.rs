//! The command line: arguments in, exit code out. `main.rs` only calls [`run`].

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use runguard::config::Config;
use runguard::report::location::{PlanOutput, TfTree};
use runguard::report::text::TextOptions;
use runguard::report::{Gate, Report};
use runguard::rules::{RULES, Severity};
use runguard::{InputError, Options, analyze_owned};

const EXIT_CODES: &str = "\
Exit codes:
  0  no worsened finding at or above the --fail-on severity, and the report is complete
  1  the gate tripped: a worsened finding at or above --fail-on, or an incomplete report
     (without --allow-incomplete)
  2  usage error, or input that is not a readable plan";

/// How a Terraform plan changes the security of Cloud Run workloads.
///
/// Reads `terraform show -json tfplan` output and reports, for each Cloud Run service, job,
/// worker pool and Cloud Functions gen2 function, who can invoke it, which identity it runs as and what that identity can do, and
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
    Rules {
        /// `text`: a table that fits the terminal; `json`: the `runguard/rules/v1` list, each
        /// rule with its documentation.
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Print the documentation of one rule.
    Explain {
        /// A rule id, as `runguard rules` lists them.
        rule: String,
    },
    /// Print a shell completion script, e.g. `runguard completions zsh > _runguard`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `runguard man > runguard.1`.
    Man,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Plan JSON from `terraform show -json tfplan`; `-` reads standard input. Several plans
    /// are analysed in parallel, one per core, and reported in the order given.
    plans: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Exit with code 1 when a worsened change has at least this severity [default: runguard.toml's
    /// `fail_on`, else high].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Also report risky posture the plan leaves unchanged, and every workload.
    #[arg(long)]
    all: bool,
    /// When to colour text output (`auto`: only on a terminal, and never with NO_COLOR set).
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// The runguard.toml to read [default: ./runguard.toml, else runguard.toml at the git root].
    #[arg(long, value_name = "PATH")]
    config: Option<std::path::PathBuf>,
    /// Do not fail when the report is incomplete (a resource could not be analysed, or the
    /// plan errored or deferred changes). By default an incomplete report fails closed.
    #[arg(long)]
    allow_incomplete: bool,
    /// Also write the report in FORMAT to PATH (repeatable), from the same analysis; standard
    /// output still gets --format. Each file is replaced atomically; text files have no colour.
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    outputs: Vec<OutputSpec>,
    /// Markdown output is empty when the plan changes no security posture (no finding, nothing
    /// unresolved, a complete report), so that CI posts no comment.
    #[arg(long)]
    skip_clean: bool,
    /// The Terraform root module the plans were made from: SARIF and GitLab findings then point
    /// at the line of each cause's `resource` block (local modules followed) instead of the plan
    /// file. Paths are written relative to the current directory: run from the repository root.
    #[arg(long, value_name = "DIR")]
    tf_dir: Option<std::path::PathBuf>,
}

/// Every output, standard output's and `--output`'s, is named by one of these; a new format is
/// a variant here and an arm in [`render`].
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// Tables and a ranked list of changes, for people.
    Text,
    /// The `runguard/report/v2` JSON contract, for CI and tools.
    Json,
    /// A pull-request comment (GitHub-flavoured Markdown), under GitHub's size limit.
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning and SARIF viewers.
    Sarif,
    /// A GitLab code quality report, for the merge-request widget.
    Gitlab,
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
        Some(Command::Rules { format }) => list_rules(format, &mut out),
        Some(Command::Explain { rule }) => explain(&rule, &mut out),
        Some(Command::Completions { shell }) => completions(shell, &mut out),
        Some(Command::Man) => man_page(&mut out),
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
    let config = load_config(args.config.as_deref())?;
    let gate = Gate {
        threshold: gate_threshold(args.fail_on, config.as_ref()),
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
    let settings = RenderSettings {
        color,
        all: args.all,
        width: output_width(),
        gate,
        skip_clean: args.skip_clean,
    };
    // Every output file is opened before the analysis, so an unwritable path fails fast.
    let pending = open_outputs(&args.outputs).map_err(Failure::Input)?;

    let today = judgement_day()?;
    let apply = |mut report: Report| {
        if let Some(config) = &config {
            config.apply(&mut report, today);
        }
        report
    };
    let analysis = if let [source] = sources.as_slice() {
        Analysis::One(Box::new(apply(
            load_and_analyze(source, &options).map_err(Failure::Input)?,
        )))
    } else {
        let results = analyze_in_parallel(sources, &options)
            .into_iter()
            .map(|(source, result)| (source, result.map(apply)))
            .collect::<Vec<_>>();
        for (_, result) in &results {
            if let Err(message) = result {
                eprintln!("runguard: error: {message}");
            }
        }
        Analysis::Many(results)
    };

    let trees = tf_trees(args.tf_dir.as_deref(), &analysis)?;
    let files = plan_outputs(sources, &analysis, &trees);
    write_outputs(pending, &analysis, &files, &settings).map_err(Failure::Input)?;
    render(args.format, &analysis, &files, &settings, out)?;
    out.flush()?;
    let code = match &analysis {
        Analysis::One(report) => u8::from(tripped(report)),
        Analysis::Many(results) => {
            let failed = results.iter().any(|(_, r)| r.is_err());
            let any_tripped = results.iter().any(|(_, r)| r.as_ref().is_ok_and(tripped));
            if failed { 2 } else { u8::from(any_tripped) }
        }
    };
    // The process ends here, and the kernel takes its memory back at once: freeing the reports
    // piece by piece first took 9 ms for the 500 MB plan's, 4 ms for the IAM-dense plan's.
    std::mem::forget(analysis);
    Ok(code)
}

/// What one run analysed: a single plan, or several in the order given (each may have been
/// refused). Every output renders from this one value.
enum Analysis {
    One(Box<Report>),
    Many(Vec<(String, Result<Report, String>)>),
}

/// With `--tf-dir`, the Terraform code of every analysed plan, in the analysis' order (`None`
/// for a plan that was refused), each mapped with its own plan's module sources.
fn tf_trees(dir: Option<&Path>, analysis: &Analysis) -> Result<Vec<Option<TfTree>>, Failure> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    let cwd = std::env::current_dir()
        .map_err(|e| Failure::Input(format!("cannot read the current directory: {e}")))?;
    let build = |report: &Report| {
        TfTree::build(dir, report, &cwd).map_err(|e| Failure::Input(e.to_string()))
    };
    match analysis {
        Analysis::One(report) => Ok(vec![Some(build(report)?)]),
        Analysis::Many(results) => results
            .iter()
            .map(|(_, r)| r.as_ref().ok().map(build).transpose())
            .collect(),
    }
}

/// The analysis as the file-annotating formats (SARIF, GitLab) read it: each plan as named on
/// the command line, with its report and its `--tf-dir` map.
fn plan_outputs<'a>(
    sources: &'a [String],
    analysis: &'a Analysis,
    trees: &'a [Option<TfTree>],
) -> Vec<PlanOutput<'a>> {
    let tree = |i: usize| trees.get(i).and_then(Option::as_ref);
    match analysis {
        Analysis::One(report) => vec![PlanOutput {
            plan: &sources[0],
            report: Ok(report),
            tree: tree(0),
        }],
        Analysis::Many(results) => results
            .iter()
            .enumerate()
            .map(|(i, (source, result))| PlanOutput {
                plan: source,
                report: result.as_ref().map_err(String::as_str),
                tree: tree(i),
            })
            .collect(),
    }
}

/// What rendering needs beyond the reports.
#[derive(Clone, Copy)]
struct RenderSettings {
    color: bool,
    all: bool,
    /// The display width text output must fit.
    width: usize,
    gate: Gate,
    /// `--skip-clean`: no Markdown for a plan that changes no security posture.
    skip_clean: bool,
}

/// Renders the analysis in one format.
fn render(
    format: Format,
    analysis: &Analysis,
    files: &[PlanOutput<'_>],
    settings: &RenderSettings,
    out: &mut dyn Write,
) -> io::Result<()> {
    let text_options = TextOptions {
        color: settings.color,
        all: settings.all,
        gate: settings.gate,
        width: settings.width,
    };
    let markdown_options = runguard::report::markdown::MarkdownOptions {
        gate: settings.gate,
        all: settings.all,
    };
    let clean =
        |r: &Result<Report, String>| r.as_ref().is_ok_and(runguard::report::markdown::is_clean);
    match (format, analysis) {
        (Format::Markdown, Analysis::One(report)) => {
            if settings.skip_clean && runguard::report::markdown::is_clean(report) {
                return Ok(());
            }
            runguard::report::markdown::render(report, &markdown_options, out)
        }
        (Format::Markdown, Analysis::Many(results)) => {
            if settings.skip_clean && results.iter().all(|(_, r)| clean(r)) {
                return Ok(());
            }
            runguard::report::markdown::render_set(results, &markdown_options, out)
        }
        (Format::Sarif, _) => runguard::report::sarif::render(files, out),
        (Format::Gitlab, _) => runguard::report::gitlab::render(files, out),
        (Format::Json, Analysis::One(report)) => runguard::report::json::render(report, out),
        (Format::Json, Analysis::Many(results)) => runguard::report::json::render_set(results, out),
        (Format::Text, Analysis::One(report)) => {
            runguard::report::text::render(report, &text_options, out)
        }
        (Format::Text, Analysis::Many(results)) => {
            for (i, (source, result)) in results.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                writeln!(out, "== {} ==", runguard::report::escape::terminal(source))?;
                match result {
                    Ok(report) => runguard::report::text::render(report, &text_options, out)?,
                    Err(message) => writeln!(
                        out,
                        "not analysed: {}",
                        runguard::report::escape::terminal(message)
                    )?,
                }
            }
            let failed = results.iter().filter(|(_, r)| r.is_err()).count();
            let tripped = results
                .iter()
                .filter(|(_, r)| r.as_ref().is_ok_and(|r| settings.gate.tripped(r)))
                .count();
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                runguard::report::text::overall_verdict(
                    results.len(),
                    tripped,
                    failed,
                    settings.gate.threshold
                )
            )
        }
    }
}

/// One `--output FORMAT=PATH`.
#[derive(Clone, Debug)]
struct OutputSpec {
    format: Format,
    path: std::path::PathBuf,
}

/// Parses `FORMAT=PATH`; the format names are those of `--format`.
fn parse_output(spec: &str) -> Result<OutputSpec, String> {
    let names = || {
        Format::value_variants()
            .iter()
            .filter_map(|f| f.to_possible_value())
            .map(|v| v.get_name().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some((name, path)) = spec.split_once('=') else {
        return Err(format!(
            "expected FORMAT=PATH, e.g. json=runguard.json (formats: {})",
            names()
        ));
    };
    let format = Format::from_str(name, false)
        .map_err(|_| format!("unknown format `{name}` (formats: {})", names()))?;
    if path.is_empty() {
        return Err(format!("no path after `{name}=`"));
    }
    Ok(OutputSpec {
        format,
        path: path.into(),
    })
}

/// An output file being written: a temporary file beside its destination, renamed over it
/// only once complete, so a reader never sees a partial report and a failure leaves none.
/// Dropping it without [`tempfile::NamedTempFile::persist`] deletes the temporary file.
struct PendingOutput {
    spec: OutputSpec,
    file: tempfile::NamedTempFile,
}

/// Opens a temporary file beside every destination; the error names the path that cannot be
/// written, and nothing is left behind.
fn open_outputs(specs: &[OutputSpec]) -> Result<Vec<PendingOutput>, String> {
    let mut seen = foldhash::HashSet::default();
    let mut pending = Vec::with_capacity(specs.len());
    for spec in specs {
        let shown = spec.path.display();
        if !seen.insert(&spec.path) {
            return Err(format!("--output {shown}: the path is given twice"));
        }
        if spec.path.is_dir() {
            return Err(format!("--output {shown}: is a directory"));
        }
        let dir = match spec.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".runguard-").suffix(".tmp");
        // A report is no secret of the runner: readable as any new file is (the umask still
        // applies), not the owner-only mode temporary files get by default.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let file = builder
            .tempfile_in(dir)
            .map_err(|e| format!("--output {shown}: cannot write: {}", io_reason(&e)))?;
        pending.push(PendingOutput {
            spec: spec.clone(),
            file,
        });
    }
    Ok(pending)
}

/// Renders every output into its temporary file, then renames them all into place: a
/// rendering failure leaves no output at all.
fn write_outputs(
    pending: Vec<PendingOutput>,
    analysis: &Analysis,
    files: &[PlanOutput<'_>],
    settings: &RenderSettings,
) -> Result<(), String> {
    // A file is read in an editor or a CI log, not the terminal that ran the command.
    let files_settings = RenderSettings {
        color: false,
        width: runguard::report::text::DEFAULT_WIDTH,
        ..*settings
    };
    let mut rendered = Vec::with_capacity(pending.len());
    for mut p in pending {
        let shown = p.spec.path.display().to_string();
        let mut writer = io::BufWriter::new(p.file.as_file_mut());
        render(p.spec.format, analysis, files, &files_settings, &mut writer)
            .and_then(|()| writer.flush())
            .map_err(|e| format!("--output {shown}: cannot write: {}", io_reason(&e)))?;
        drop(writer);
        p.file
            .as_file()
            .sync_all()
            .map_err(|e| format!("--output {shown}: cannot write: {}", io_reason(&e)))?;
        rendered.push(p);
    }
    for p in rendered {
        let shown = p.spec.path.display().to_string();
        p.file
            .persist(&p.spec.path)
            .map_err(|e| format!("--output {shown}: cannot write: {}", io_reason(&e.error)))?;
    }
    Ok(())
}

/// An I/O error as a short reason.
fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// The configuration named by `--config`, else the one discovered from the current directory;
/// one that cannot be used is an input error (exit 2).
fn load_config(explicit: Option<&Path>) -> Result<Option<Config>, Failure> {
    let loaded = match explicit {
        Some(path) => Config::load(path).map(Some),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| Failure::Input(format!("cannot read the current directory: {e}")))?;
            Config::discover(&cwd)
        }
    };
    loaded.map_err(|e| Failure::Input(e.to_string()))
}

/// The day `[[accept]]` expiry dates are judged against: `RUNGUARD_TODAY` (YYYY-MM-DD) when
/// set, so that a CI run can be replayed exactly, else today in UTC.
fn judgement_day() -> Result<runguard::config::Date, Failure> {
    match std::env::var("RUNGUARD_TODAY") {
        Ok(day) => day
            .parse()
            .map_err(|e| Failure::Input(format!("RUNGUARD_TODAY: {e}"))),
        Err(_) => Ok(runguard::config::Date::today_utc()),
    }
}

/// `--fail-on` wins over the configuration's `fail_on`; high when neither says.
fn gate_threshold(flag: Option<FailOn>, config: Option<&Config>) -> Option<Severity> {
    match (flag, config.and_then(|c| c.fail_on)) {
        (Some(flag), _) => flag.threshold(),
        (None, Some(configured)) => configured.threshold(),
        (None, None) => Some(Severity::High),
    }
}

/// Reads and analyses one plan; the error names the source.
fn load_and_analyze(source: &str, options: &Options) -> Result<Report, String> {
    analyze_taken(|take| read_input(source, take), options)
}

/// Analyses the plan that `take` gives, mapped; if the mapped file was written to while it was
/// parsed, what was parsed may be neither version, and a copy of the file as it is now is
/// analysed instead, as reading it would have been.
fn analyze_taken(
    mut take: impl FnMut(Take) -> Result<(String, runguard::PlanBytes), String>,
    options: &Options,
) -> Result<Report, String> {
    let (name, bytes) = take(Take::Map)?;
    match analyze_owned(bytes, options) {
        Err(InputError::ChangedWhileRead) => {
            let (name, bytes) = take(Take::Read)?;
            analyze_owned(bytes, options).map_err(|e| format!("{name}: {e}"))
        }
        analysed => analysed.map_err(|e| format!("{name}: {e}")),
    }
}

/// How a plan file's bytes are taken: mapped where it can be ([`runguard::map_plan_file`]),
/// or read.
#[derive(Clone, Copy)]
enum Take {
    Map,
    Read,
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

fn read_input(source: &str, take: Take) -> Result<(String, runguard::PlanBytes), String> {
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
        return Ok(("<stdin>".into(), bytes.into()));
    }
    let path = Path::new(source);
    if path.is_dir() {
        return Err(format!("{source}: is a directory; pass the plan JSON file"));
    }
    let bytes = match take {
        // SAFETY: runguard is given a plan that `terraform show -json` wrote before it ran,
        // and nothing writes to it while runguard reads it (README, "Security model"). Most
        // writers that break this are noticed once the plan is parsed, and the file is then
        // read instead; a truncation ends the process with SIGBUS, which exits neither 0 nor 1.
        #[allow(unsafe_code)]
        Take::Map => unsafe { runguard::map_plan_file(path) },
        Take::Read => runguard::read_plan_file(path),
    };
    let bytes = bytes.map_err(|e| {
        let why = match e.kind() {
            io::ErrorKind::NotFound => "no such file".to_owned(),
            io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
            _ => e.to_string(),
        };
        format!("{source}: cannot read: {why}")
    })?;
    Ok((source.to_owned(), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mapped plan that is written to before its analysis ends is read again, and the copy
    /// analysed: the report is the one of the file as it is now, neither a refusal nor what the
    /// mapping held.
    #[test]
    #[allow(unsafe_code)]
    fn a_mapped_plan_written_to_while_read_is_read_again() {
        let plan = std::fs::read("examples/plan.json").expect("the bundled example");
        let file = tempfile::NamedTempFile::new().expect("a temporary file");
        std::fs::write(file.path(), &plan).expect("written");
        // A file changed in the last two seconds is read, not mapped.
        std::thread::sleep(std::time::Duration::from_millis(2_100));
        // SAFETY: nothing writes to the file while this mapping lives.
        if !unsafe { runguard::map_plan_file(file.path()) }
            .expect("readable")
            .is_mapped()
        {
            eprintln!("skipped: the temporary directory is not on a local file system");
            return;
        }
        // The same plan with every ingress narrowed, written over the mapped file (a longer
        // file: the mapped pages all stay within it).
        let changed = String::from_utf8(plan.clone())
            .expect("UTF-8")
            .replace("INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY");
        assert!(changed.len() > plan.len());
        let mut taken = Vec::new();
        let options = Options::default();
        let report = analyze_taken(
            |take| {
                let path = file.path();
                let bytes = match take {
                    // SAFETY: the file is written only below, on this thread, before the
                    // mapped bytes are parsed.
                    Take::Map => unsafe { runguard::map_plan_file(path) },
                    Take::Read => runguard::read_plan_file(path),
                }
                .map_err(|e| e.to_string())?;
                if matches!(take, Take::Map) {
                    std::fs::write(path, &changed).map_err(|e| e.to_string())?;
                }
                taken.push(matches!(take, Take::Map));
                Ok(("plan.json".to_owned(), bytes))
            },
            &options,
        )
        .expect("the copy is analysed");
        assert_eq!(taken, [true, false], "mapped, then read");
        let json = |plan: &[u8]| {
            let report = runguard::analyze(plan, &options).expect("analysed");
            let mut out = Vec::new();
            runguard::report::json::render(&report, &mut out).expect("rendered");
            out
        };
        let mut got = Vec::new();
        runguard::report::json::render(&report, &mut got).expect("rendered");
        assert!(got == json(changed.as_bytes()), "the report is the copy's");
        assert!(got != json(&plan), "the change shows in the report");
    }
}

/// How `runguard rules` prints.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum RulesFormat {
    Text,
    Json,
}

fn list_rules(format: RulesFormat, out: &mut dyn Write) -> Result<u8, Failure> {
    if format == RulesFormat::Json {
        let rules: Vec<serde_json::Value> = RULES
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "severity": r.severity.as_str(),
                    "summary": r.summary,
                    "doc": r.doc,
                })
            })
            .collect();
        let list = serde_json::json!({"schema": "runguard/rules/v1", "rules": rules});
        serde_json::to_writer_pretty(&mut *out, &list).map_err(io::Error::other)?;
        writeln!(out)?;
        return Ok(0);
    }
    let mut b = tabled::builder::Builder::default();
    b.push_record(["rule", "severity", "summary"]);
    for r in RULES {
        b.push_record([r.id, r.severity.as_str(), r.summary]);
    }
    let mut table = b.build();
    // The summary column wraps (at word boundaries) so that the table fits the terminal.
    table.with(tabled::settings::Style::sharp()).with(
        tabled::settings::Width::wrap(output_width())
            .keep_words(true)
            .priority(tabled::settings::peaker::Priority::max(true)),
    );
    writeln!(out, "{table}")?;
    writeln!(
        out,
        "\n`runguard explain RULE` prints a rule's documentation."
    )?;
    Ok(0)
}

fn explain(id: &str, out: &mut dyn Write) -> Result<u8, Failure> {
    match runguard::rules::find(id) {
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

/// Completions are generated from the same clap definitions that parse the arguments, so they
/// cannot drift from the flags.
fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> Result<u8, Failure> {
    clap_complete::generate(shell, &mut Cli::command(), "runguard", out);
    out.flush()?;
    Ok(0)
}

/// The man page, generated like the completions from the clap definitions. One page: the
/// subcommands are described in it rather than referred to pages (`runguard-rules(1)`) that
/// nothing installs.
fn man_page(out: &mut dyn Write) -> Result<u8, Failure> {
    use clap_mangen::roff::{Roff, bold, italic, roman};

    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;

    let mut commands = Roff::new();
    commands.control("SH", ["COMMANDS"]);
    for sub in cmd.get_subcommands() {
        let mut usage = vec![bold(format!("runguard {}", sub.get_name()))];
        for arg in sub.get_positionals() {
            let name = arg
                .get_value_names()
                .and_then(|names| names.first())
                .map_or_else(|| arg.get_id().as_str().to_uppercase(), ToString::to_string);
            usage.push(roman(" "));
            usage.push(italic(name));
        }
        commands.control("TP", []);
        commands.text(usage);
        let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
        commands.text([roman(about)]);
        for arg in sub.get_positionals() {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .map(|v| v.get_name().to_owned())
                .collect();
            if !values.is_empty() {
                commands.control("br", []);
                commands.text([roman(format!("One of: {}.", values.join(", ")))]);
            }
        }
    }
    commands.to_writer(out)?;

    man.render_extra_section(out)?;
    man.render_version_section(out)?;
    out.flush()?;
    Ok(0)
}

/// The width text output must fit: the terminal's when stdout is one, else `COLUMNS`, else
/// the default.
fn output_width() -> usize {
    if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(io::stdout()) {
        return usize::from(w);
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&w| w > 0)
        .unwrap_or(runguard::report::text::DEFAULT_WIDTH)
}
