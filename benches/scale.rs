//! Scale benchmark: runguard against a serde_json skip-parse of the same file.
//!
//! Reproduce with `cargo bench --bench scale` (set `RUNGUARD_BENCH_MAX_MB=100` to stop at
//! 100 MB). Plans are generated deterministically by `generator.rs` into
//! `target/bench-plans/` and reused across runs.
//!
//! For each size it prints the median wall time of (a) reading the file and parsing it into
//! `serde::de::IgnoredAny`, which validates the JSON and builds nothing, and (b) reading the
//! file, running `runguard::analyze` and rendering the JSON report, measured side by side,
//! alternating, in the same run; their ratio; and the peak RSS of each, measured in a fresh
//! child process (this binary re-executed) from `VmHWM` in `/proc/self/status`. Last, the
//! start-up-included wall time of the release `runguard` binary on `examples/plan.json`.

mod generator;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SEED: u64 = 0x5eed_2026;
const SIZES_MB: [usize; 4] = [1, 10, 100, 500];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child modes, used to measure one run's peak RSS in a clean process.
    if let [_, mode, file] = args.as_slice() {
        match mode.as_str() {
            "--child-baseline" => return child(Path::new(file), baseline),
            "--child-runguard" => return child(Path::new(file), runguard),
            _ => {}
        }
    }
    let max_mb: usize = std::env::var("RUNGUARD_BENCH_MAX_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    println!(
        "runguard scale benchmark: cargo bench --bench scale (RUNGUARD_BENCH_MAX_MB={max_mb})"
    );
    println!(
        "{:>8} {:>9} {:>5} | {:>10} {:>10} {:>6} {:>9} | {:>11} {:>11} {:>9}",
        "size MB",
        "workloads",
        "runs",
        "skip-parse",
        "runguard",
        "ratio",
        "MB/s",
        "RSS skip MB",
        "RSS rg MB",
        "RSS/file"
    );
    for mb in SIZES_MB.into_iter().filter(|&mb| mb <= max_mb) {
        let (path, workloads) = plan(mb);
        let bytes = std::fs::metadata(&path).expect("plan written").len() as f64;
        let runs = if mb <= 10 { 7 } else { 3 };
        let (mut base, mut rg) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            base.push(timed(|| baseline(&path)));
            rg.push(timed(|| runguard(&path)));
        }
        let (b, r) = (median(&mut base), median(&mut rg));
        let rss_base = child_rss(&path, "--child-baseline");
        let rss_rg = child_rss(&path, "--child-runguard");
        let file_mb = bytes / 1e6;
        println!(
            "{:>8.1} {:>9} {:>5} | {:>9.3}s {:>9.3}s {:>6.2} {:>9.0} | {:>11.0} {:>11.0} {:>9.2}",
            file_mb,
            workloads,
            runs,
            b.as_secs_f64(),
            r.as_secs_f64(),
            r.as_secs_f64() / b.as_secs_f64(),
            file_mb / r.as_secs_f64(),
            rss_base,
            rss_rg,
            rss_rg / file_mb,
        );
    }
    small_plan_startup();
}

/// Generates (or reuses) the plan of about `mb` megabytes; returns its path and the number of
/// workloads in it.
fn plan(mb: usize) -> (PathBuf, usize) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-plans");
    std::fs::create_dir_all(&dir).expect("create target/bench-plans");
    let path = dir.join(format!("plan-{mb}mb-{SEED:x}.json"));
    let count = dir.join(format!("plan-{mb}mb-{SEED:x}.workloads"));
    if let (true, Ok(n)) = (path.exists(), std::fs::read_to_string(&count)) {
        if let Ok(n) = n.trim().parse() {
            return (path, n);
        }
    }
    let mut out = Vec::with_capacity(mb * 1_100_000);
    let expected = generator::generate(mb * 1_000_000, SEED, &mut out);
    std::fs::write(&path, &out).expect("write plan");
    std::fs::write(&count, expected.workloads.to_string()).expect("write count");
    (path, expected.workloads)
}

fn baseline(path: &Path) {
    let bytes = std::fs::read(path).expect("read plan");
    let parsed: serde::de::IgnoredAny = serde_json::from_slice(&bytes).expect("valid JSON");
    std::hint::black_box(parsed);
}

fn runguard(path: &Path) {
    let bytes = std::fs::read(path).expect("read plan");
    let report = runguard::analyze(&bytes, &runguard::Options::default()).expect("plan analyses");
    drop(bytes);
    runguard::report::json::render(&report, &mut std::io::sink()).expect("render");
    std::hint::black_box(report);
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

/// Runs one measurement in this process and prints its peak RSS in MB.
fn child(path: &Path, f: fn(&Path)) {
    f(path);
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    println!("{}", kb / 1000.0);
}

fn child_rss(path: &Path, mode: &str) -> f64 {
    let out = Command::new(std::env::current_exe().expect("own path"))
        .args([mode, &path.to_string_lossy()])
        .output()
        .expect("re-execute the benchmark");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(f64::NAN)
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
