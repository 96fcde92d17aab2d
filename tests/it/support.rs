//! Shared helpers: running the analysis the way the binary does, into strings.

use std::path::{Path, PathBuf};

use runguard::report::Report;
use runguard::report::text::{Gate, TextOptions};
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
    let tripped = report.max_severity().is_some_and(|m| m >= Severity::High);
    let mut text = Vec::new();
    let options = TextOptions {
        color: false,
        all,
        gate: Gate {
            threshold: Some(Severity::High),
            tripped,
        },
        width: 100,
    };
    runguard::report::text::render(report, &options, &mut text).expect("render text");
    (
        serde_json::from_slice(&json).expect("JSON output is valid JSON"),
        String::from_utf8(text).expect("text output is UTF-8"),
        u8::from(tripped),
    )
}

/// Every principal that can invoke a workload on one side of a `runguard/report/v2` document:
/// its own grants and those of its inherited grant set, sorted and unique, as a JSON array.
pub fn effective_invokers(
    report: &serde_json::Value,
    posture: &serde_json::Value,
) -> serde_json::Value {
    let mut members: Vec<String> = posture["invokers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["member"].as_str().expect("member").to_owned())
        .collect();
    if let Some(id) = posture["inherited_invokers"].as_str() {
        let set = report["grant_sets"]
            .as_array()
            .expect("grant_sets")
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("grant set {id} is listed"));
        members.extend(
            set["grants"]
                .as_array()
                .expect("grants")
                .iter()
                .map(|g| g["member"].as_str().expect("member").to_owned()),
        );
    }
    members.sort();
    members.dedup();
    members.into_iter().map(serde_json::Value::String).collect()
}
