//! Shared helpers: running the analysis the way the binary does, into strings.

use std::path::{Path, PathBuf};

use serde_json::Value;

use runguard::report::text::TextOptions;
use runguard::report::{Gate, Report};
use runguard::rules::Severity;
use runguard::{Options, analyze};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The scenario plans in `testdata/plans`, sorted (expectation files excluded).
pub fn scenario_plans() -> Vec<PathBuf> {
    plans_in("testdata/plans")
}

/// The independent tester's plans in `testdata/adversary`, sorted.
pub fn adversary_plans() -> Vec<PathBuf> {
    plans_in("testdata/adversary")
}

/// The plans of a fixture directory, sorted, without their `.expect.json` expectations.
fn plans_in(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
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
    // The JSON text is dropped once parsed, before the text report is rendered: with a 200 MB
    // name in the plan, each copy is another 200 MB at the test suite's peak.
    let json: serde_json::Value = {
        let mut bytes = Vec::new();
        runguard::report::json::render(report, &mut bytes).expect("render json");
        serde_json::from_slice(&bytes).expect("JSON output is valid JSON")
    };
    let gate = Gate {
        threshold: Some(Severity::High),
        allow_incomplete: false,
    };
    let tripped = gate.tripped(report);
    let mut text = Vec::new();
    let options = TextOptions {
        color: false,
        all,
        gate,
        width: 100,
    };
    runguard::report::text::render(report, &options, &mut text).expect("render text");
    (
        json,
        String::from_utf8(text).expect("text output is UTF-8"),
        u8::from(tripped),
    )
}

/// Every principal that can invoke a workload on one side of a `runguard/report/v2` document:
/// its own grants and those of its inherited grant set, sorted and unique, as a JSON array.
pub fn effective_invokers(report: &Value, posture: &Value) -> Value {
    effective_members(report, posture, "invokers", "inherited_invokers")
}

/// The members of a posture's own grants (`own`) and of its inherited grant set (`inherited`),
/// sorted and unique, as a JSON array.
pub fn effective_members(report: &Value, posture: &Value, own: &str, inherited: &str) -> Value {
    let mut members: Vec<String> = posture[own]
        .as_array()
        .into_iter()
        .flatten()
        .chain(grant_set(report, &posture[inherited]))
        .map(|g| g["member"].as_str().expect("member").to_owned())
        .collect();
    members.sort();
    members.dedup();
    members.into_iter().map(Value::String).collect()
}

/// The grants of the set a field refers to (`null`: none).
pub fn grant_set<'r>(report: &'r Value, id: &Value) -> &'r [Value] {
    let Some(id) = id.as_str() else {
        return &[];
    };
    report["grant_sets"]
        .as_array()
        .expect("grant_sets")
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("grant set {id} is listed"))["grants"]
        .as_array()
        .expect("grants")
}
