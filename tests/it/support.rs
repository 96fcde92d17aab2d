//! Shared helpers: running the analysis the way the binary does, into strings.

use std::path::{Path, PathBuf};

use runguard::report::text::TextOptions;
use runguard::report::{Gate, Report};
use runguard::rules::Severity;
use runguard::{Options, analyze};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The scenario plans in `testdata/plans`, sorted (expectation files excluded).
pub fn scenario_plans() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/plans"))
        .expect("testdata/plans exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && !p.to_string_lossy().ends_with(".expect.json")
        })
        .collect();
    v.sort();
    v
}

/// JSON report, text report (no colour, default gate) and exit code, as the CLI would give.
pub fn run(path: &Path, all: bool) -> (serde_json::Value, String, u8) {
    let bytes = std::fs::read(path).expect("fixture readable");
    let report = analyze(
        &bytes,
        &Options {
            include_unchanged: all,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    render(&report, all)
}

/// Renders a report as the CLI does with the default gate: JSON (parsed back, so it must be
/// valid), text without colour, and the exit code.
pub fn render(report: &Report, all: bool) -> (serde_json::Value, String, u8) {
    let mut json = Vec::new();
    runguard::report::json::render(report, &mut json).expect("render json");
    let gate = Gate {
        threshold: Some(Severity::High),
        allow_incomplete: false,
    };
    let tripped = gate.tripped(report);
    let mut text = Vec::new();
    let options = TextOptions {
        color: false,
        all,
        gate: Some(gate),
    };
    runguard::report::text::render(report, &options, &mut text).expect("render text");
    (
        serde_json::from_slice(&json).expect("JSON output is valid JSON"),
        String::from_utf8(text).expect("text output is UTF-8"),
        u8::from(tripped),
    )
}
