//! Scale benchmark: runguard against a serde_json skip-parse of the same file.
//!
//! Reproduce with `cargo bench --bench scale` (set `RUNGUARD_BENCH_MAX_MB=100` to leave out the
//! default-shape plans above 100 MB; `RUNGUARD_BENCH_SHAPE=iam-dense`, `default` or `many` to
//! run one part). Plans are generated deterministically by `generator.rs` into
//! `target/bench-plans/` and reused across runs.
//!
//! Two shapes (see `generator::Shape`): the default one at 1, 10, 100 and 500 MB, and the
//! IAM-dense one (over 1,000 services, 100 runtime accounts gaining project-level
//! `roles/editor`, 10,000 unrelated resources) at 125 MB. For each plan it prints:
//! - the median wall time of (a) reading the file and parsing it into `serde::de::IgnoredAny`,
//!   which validates the JSON and builds nothing, (b) what the binary does: mapping the file
//!   with `runguard::map_plan_file`, running `runguard::analyze_owned` and rendering the JSON
//!   report through the binary's 64 KB output buffer (into a sink), and (c) the same
//!   skip-parse over the file mapped as (b) maps it; measured alternately in the same run, and
//!   the ratios of (b) to (a), the baseline, and to (c), which shows what of the
//!   difference is the mapping. Each run is a fresh child process (this binary re-executed)
//!   that times its own work, from before reading the file to after the last byte, as one
//!   invocation of the binary does it. In a loop within one process the allocator hands each
//!   run the pages the previous one freed, already faulted in, which no single invocation gets:
//!   under mimalloc the 125 MB plan's skip-parse took 97 ms that way and 176 ms in a fresh
//!   process (glibc did the same below its 32 MB mmap threshold). Process start-up is in
//!   neither time;
//! - the peak RSS of each (`VmHWM` in `/proc/self/status`, the largest of its runs), and
//!   runguard's against the file size;
//! - the JSON report's size against the plan's, the number of findings, and findings per
//!   causing resource (the mean, and the most for any one resource);
//! - the text report's line count and widest line at 80 columns; the report itself is written
//!   next to the plan (`*.txt`) to be read.
//!
//! Then (`many`) the release binary on 200 plans of 1 MB given at once, against the sum of its
//! single-plan times divided by the cores. Last, the start-up-included wall time of the release
//! `runguard` binary on `examples/plan.json`. The load average is printed first and last: the
//! machine is shared.

mod generator;

/// The binary's allocator (`src/main.rs`), so that what is timed here is what the binary does;
/// the skip-parse runs under it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use generator::Shape;

const SEED: u64 = 0x5eed_2026;
const CASES: [(Shape, usize); 5] = [
    (Shape::Default, 1),
    (Shape::Default, 10),
    (Shape::Default, 100),
    (Shape::Default, 500),
    (Shape::IamDense, 125),
];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child modes, used to measure one run's peak RSS in a clean process.
    if let [_, mode, file] = args.as_slice() {
        match mode.as_str() {
            "--child-baseline" => return child(Path::new(file), baseline),
            "--child-runguard" => return child(Path::new(file), runguard),
            "--child-mapped-baseline" => return child(Path::new(file), mapped_baseline),
            _ => {}
        }
    }
    let max_mb: usize = std::env::var("RUNGUARD_BENCH_MAX_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let only_shape = std::env::var("RUNGUARD_BENCH_SHAPE").ok();
    println!(
        "runguard scale benchmark: cargo bench --bench scale (RUNGUARD_BENCH_MAX_MB={max_mb})"
    );
    println!("load average at start: {}", load());
    println!(
        "{:>9} {:>7} {:>6} {:>4} | {:>8} {:>8} {:>5} | {:>8} {:>5} | {:>7} {:>7} {:>8} | {:>7} {:>8} {:>8} {:>6} {:>5} | {:>5} {:>5}",
        "shape",
        "MB",
        "wkld",
        "runs",
        "skip s",
        "rg s",
        "ratio",
        "map sk s",
        "ratio",
        "RSS sk",
        "RSS rg",
        "RSS/file",
        "JSON MB",
        "JSON/pl",
        "findings",
        "f/cause",
        "max",
        "lines",
        "width",
    );
    for (shape, mb) in CASES {
        if shape == Shape::Default && mb > max_mb
            || only_shape.as_deref().is_some_and(|s| s != shape.name())
        {
            continue;
        }
        let (path, workloads) = plan(shape, mb);
        let bytes = std::fs::metadata(&path).expect("plan written").len() as f64;
        // A median of a few runs of a millisecond is the noise of the machine (a run now and
        // then takes twice as long): small plans get many runs, large ones fewer. Three runs of
        // the 500 MB plan gave medians of 0.705 and 1.018 s in two benches in a row: five. Five
        // runs of the IAM-dense plan gave 1.05 and 1.28 times the skip-parse in two benches in a
        // row on one commit: eleven for the plans of about 100 MB. Single runs of the 10 MB plan
        // took 12.7-26.0 ms within one minute: sixty-one.
        let runs = match mb {
            0..=1 => 101,
            2..=10 => 61,
            11..=200 => 11,
            _ => 5,
        };
        let (mut base, mut rg, mut mapped) = (Vec::new(), Vec::new(), Vec::new());
        let (mut rss_base, mut rss_rg) = (0f64, 0f64);
        for _ in 0..runs {
            let (time, rss) = in_child(&path, "--child-baseline");
            base.push(time);
            rss_base = rss_base.max(rss);
            let (time, rss) = in_child(&path, "--child-runguard");
            rg.push(time);
            rss_rg = rss_rg.max(rss);
            mapped.push(in_child(&path, "--child-mapped-baseline").0);
        }
        let (b, r, m) = (median(&mut base), median(&mut rg), median(&mut mapped));
        let out = outputs(&path);
        let file_mb = bytes / 1e6;
        println!(
            "{:>9} {:>7.1} {:>6} {:>4} | {:>8.3} {:>8.3} {:>5.2} | {:>8.3} {:>5.2} | {:>7.0} {:>7.0} {:>8.2} | {:>7.2} {:>8.3} {:>8} {:>7.2} {:>5} | {:>5} {:>5}",
            shape.name(),
            file_mb,
            workloads,
            runs,
            b.as_secs_f64(),
            r.as_secs_f64(),
            r.as_secs_f64() / b.as_secs_f64(),
            m.as_secs_f64(),
            r.as_secs_f64() / m.as_secs_f64(),
            rss_base,
            rss_rg,
            rss_rg / file_mb,
            out.json_bytes as f64 / 1e6,
            out.json_bytes as f64 / bytes,
            out.findings,
            out.findings as f64 / out.causes.max(1) as f64,
            out.max_per_cause,
            out.text_lines,
            out.text_width,
        );
    }
    if only_shape.as_deref().is_none_or(|s| s == "many") {
        many_plans();
    }
    small_plan_startup();
    println!("load average at end: {}", load());
}

/// Generates (or reuses) the plan of `shape` of about `mb` megabytes; returns its path and the
/// number of workloads in it.
fn plan(shape: Shape, mb: usize) -> (PathBuf, usize) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-plans");
    std::fs::create_dir_all(&dir).expect("create target/bench-plans");
    let stem = match shape {
        Shape::Default => format!("plan-{mb}mb-{SEED:x}"),
        other => format!("plan-{}-{mb}mb-{SEED:x}", other.name()),
    };
    let path = dir.join(format!("{stem}.json"));
    let count = dir.join(format!("{stem}.workloads"));
    if let (true, Ok(n)) = (path.exists(), std::fs::read_to_string(&count)) {
        if let Ok(n) = n.trim().parse() {
            return (path, n);
        }
    }
    let mut out = Vec::with_capacity(mb * 1_100_000);
    let expected = generator::generate_shape(shape, mb * 1_000_000, SEED, &mut out);
    if shape == Shape::IamDense {
        // The plan of issue 8: at least 1,000 services and 100 accounts with editor.
        assert!(
            expected.services >= 1_000 && expected.editor_accounts >= 100,
            "{expected:?}"
        );
    }
    std::fs::write(&path, &out).expect("write plan");
    std::fs::write(&count, expected.workloads.to_string()).expect("write count");
    settle();
    (path, expected.workloads)
}

fn baseline(path: &Path) {
    let bytes = std::fs::read(path).expect("read plan");
    let parsed: serde::de::IgnoredAny = serde_json::from_slice(&bytes).expect("valid JSON");
    std::hint::black_box(parsed);
}

/// The baseline's skip-parse over the file mapped as the binary maps it.
#[allow(unsafe_code)]
fn mapped_baseline(path: &Path) {
    // SAFETY: nothing writes to the bench's plans while it runs.
    let bytes = unsafe { runguard::map_plan_file(path) }.expect("map plan");
    let parsed: serde::de::IgnoredAny = serde_json::from_slice(&bytes).expect("valid JSON");
    std::hint::black_box(parsed);
}

/// What the binary does: map the file, analyse it (the mapping is dropped once it is parsed,
/// the plan's model freed on another thread while the report renders), render JSON.
#[allow(unsafe_code)]
fn runguard(path: &Path) {
    // SAFETY: nothing writes to the bench's plans while it runs.
    let bytes = unsafe { runguard::map_plan_file(path) }.expect("map plan");
    let report =
        runguard::analyze_owned(bytes, &runguard::Options::default()).expect("plan analyses");
    // Through the binary's 64 KB buffer (`src/cli.rs`, `run`), into nothing instead of stdout.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::sink());
    runguard::report::json::render(&report, &mut out).expect("render");
    std::io::Write::flush(&mut out).expect("flush");
    // The binary leaves its report for the process's end to free (`src/cli.rs`, `check`).
    std::mem::forget(std::hint::black_box(report));
}

/// What the reports of one plan look like, untimed.
struct Outputs {
    json_bytes: usize,
    findings: usize,
    /// Distinct causing resources over all findings.
    causes: usize,
    /// The most findings that name any one causing resource.
    max_per_cause: usize,
    text_lines: usize,
    /// The widest line of the text report, in characters.
    text_width: usize,
}

fn outputs(path: &Path) -> Outputs {
    let bytes = std::fs::read(path).expect("read plan");
    let report = runguard::analyze(&bytes, &runguard::Options::default()).expect("plan analyses");
    let mut json = Vec::new();
    runguard::report::json::render(&report, &mut json).expect("render");
    let mut per_cause: HashMap<&str, usize> = HashMap::new();
    for f in &report.findings {
        for c in &f.causes {
            *per_cause.entry(c).or_default() += 1;
        }
    }
    let options = runguard::report::text::TextOptions {
        width: 80,
        ..Default::default()
    };
    let mut text = Vec::new();
    runguard::report::text::render(&report, &options, &mut text).expect("render text");
    std::fs::write(path.with_extension("txt"), &text).expect("write the text report");
    let text = String::from_utf8(text).expect("UTF-8 text");
    Outputs {
        json_bytes: json.len(),
        findings: report.findings.len(),
        causes: per_cause.len(),
        max_per_cause: per_cause.values().copied().max().unwrap_or(0),
        text_lines: text.lines().count(),
        text_width: text.lines().map(|l| l.chars().count()).max().unwrap_or(0),
    }
}

fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The 1, 5 and 15 minute load averages.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Runs one measurement in this process and prints its peak RSS in MB.
/// Runs `f` once in this (fresh) process and prints its wall time in seconds and the process's
/// peak RSS in MB.
fn child(path: &Path, f: fn(&Path)) {
    let time = timed(|| f(path));
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    println!("{} {}", time.as_secs_f64(), kb / 1000.0);
}

/// One run of `mode` on `path` in a fresh child process: its wall time and peak RSS in MB.
fn in_child(path: &Path, mode: &str) -> (Duration, f64) {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .args([mode, &path.to_string_lossy()])
        .output()
        .expect("re-execute the benchmark");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    match (fields.next().flatten(), fields.next().flatten()) {
        (Some(seconds), Some(mb)) => (Duration::from_secs_f64(seconds), mb),
        _ => panic!("{mode} {}: no time and RSS in {text:?}", path.display()),
    }
}

/// How many plans, of how many megabytes each, [`many_plans`] gives the binary at once.
const MANY: usize = 200;
const MANY_MB: usize = 1;

/// The release binary on [`MANY`] distinct plans of [`MANY_MB`] MB (one seed each) given on one
/// command line, against the sum of its times on each plan alone divided by the cores it may
/// use: how close the pool over plans comes to a perfect split. Both are measured alternately,
/// three times, with `--format json` to a null sink, and the medians compared.
fn many_plans() {
    let bin = env!("CARGO_BIN_EXE_runguard");
    let mut generated = false;
    let plans: Vec<PathBuf> = (0..MANY as u64)
        .map(|i| many_plan(SEED + 1 + i, &mut generated))
        .collect();
    if generated {
        settle();
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let run = |args: &[PathBuf]| {
        let status = Command::new(bin)
            .args(["--format", "json"])
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run runguard");
        // 0 (clean) or 1 (the gate tripped): anything else is a refused plan.
        assert!(matches!(status.code(), Some(0 | 1)), "{status}");
    };
    let (mut singles, mut together) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        singles.push(
            plans
                .iter()
                .map(|p| timed(|| run(std::slice::from_ref(p))))
                .sum::<Duration>(),
        );
        together.push(timed(|| run(&plans)));
    }
    let (sum, all) = (median(&mut singles), median(&mut together));
    let ideal = sum.as_secs_f64() / cores as f64;
    println!(
        "many plans: {MANY} plans of {MANY_MB} MB, release binary: one command line {:.3} s; \
         sum of single runs {:.3} s / {cores} cores = {ideal:.3} s; ratio {:.2} (load {})",
        all.as_secs_f64(),
        sum.as_secs_f64(),
        all.as_secs_f64() / ideal,
        load(),
    );
}

/// Generates (or reuses) one default-shape plan of [`MANY_MB`] MB with its own seed.
/// Sets `generated` when the plan had to be written.
fn many_plan(seed: u64, generated: &mut bool) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-plans/many");
    std::fs::create_dir_all(&dir).expect("create target/bench-plans/many");
    let path = dir.join(format!("plan-{MANY_MB}mb-{seed:x}.json"));
    if !path.exists() {
        let mut out = Vec::with_capacity(MANY_MB * 1_100_000);
        generator::generate_shape(Shape::Default, MANY_MB * 1_000_000, seed, &mut out);
        std::fs::write(&path, &out).expect("write plan");
        *generated = true;
    }
    path
}

/// Waits until a plan just written is one the binary maps: a file changed in the last two
/// seconds is read instead (`src/input/mapped.rs`), and the bench measures a plan at rest, as
/// every later run of the bench finds it.
fn settle() {
    std::thread::sleep(Duration::from_millis(2_100));
}

/// Start-up included: the release binary on the bundled example, as a user runs it.
fn small_plan_startup() {
    let example = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/plan.json");
    let bin = env!("CARGO_BIN_EXE_runguard");
    let mut times: Vec<Duration> = (0..21)
        .map(|_| {
            timed(|| {
                Command::new(bin)
                    .arg(&example)
                    .output()
                    .expect("run runguard");
            })
        })
        .collect();
    let size = std::fs::metadata(&example).map_or(0, |m| m.len());
    println!(
        "small plan: examples/plan.json ({:.1} KB), release binary, start-up included: median {:.1} ms over {} runs",
        size as f64 / 1000.0,
        median(&mut times).as_secs_f64() * 1000.0,
        times.len()
    );
}
