//! Embedding runguard: analyse a plan's bytes, walk the findings by cause, and render the JSON
//! contract. `cargo run --example embed -- examples/plan.json`
//!
//! A CI bot or a policy service does the same: it needs only `analyze`, the report model and
//! a renderer.

use std::process::ExitCode;

use runguard::{Direction, Gate, Options, Severity, analyze};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: embed PLAN.json");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    // Input that is not a plan is an error that says what it is and what to run instead.
    let report = match analyze(&bytes, &Options::default()) {
        Ok(report) => report,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };

    // One finding per cause: the resources to change, and every workload they affect.
    for f in report
        .findings
        .iter()
        .filter(|f| f.direction == Direction::Worsened)
    {
        println!(
            "{:<8} {:<28} {} -> {} workload(s) [{}]",
            f.severity.as_str(),
            f.rule.id,
            f.causes.join(", "),
            f.workloads.len(),
            f.fingerprint
        );
    }

    // The same gate as the command line's default.
    let gate = Gate {
        threshold: Some(Severity::High),
        allow_incomplete: false,
    };
    let mut json = Vec::new();
    runguard::report::json::render(&report, &mut json).expect("rendering to memory");
    println!("report: {} bytes of runguard/report/v2", json.len());
    ExitCode::from(u8::from(gate.tripped(&report)))
}
