//! Analysis, then the JSON renderer: the output is always one valid JSON document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runguard::{Options, analyze};

fuzz_target!(|data: &[u8]| {
    // One analysis per input (the `analyze` target runs both modes): the input's length parity
    // picks `--all`, so the corpus covers both renderings at half the cost.
    let include_unchanged = data.len() % 2 == 1;
    {
        let Ok(report) = analyze(data, &Options { include_unchanged }) else {
            return;
        };
        let mut out = Vec::new();
        runguard::report::json::render(&report, &mut out).expect("rendering to a Vec cannot fail");
        let doc: serde_json::Value = match serde_json::from_slice(&out) {
            Ok(v) => v,
            Err(e) => panic!(
                "JSON output does not parse: {e}\n{}",
                String::from_utf8_lossy(&out)
            ),
        };
        assert_eq!(doc["schema"], "runguard/report/v1");
    }
});
