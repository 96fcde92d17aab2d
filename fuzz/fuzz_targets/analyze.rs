//! The whole analysis, with and without unchanged posture.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runguard::{Options, analyze};

fuzz_target!(|data: &[u8]| {
    for include_unchanged in [false, true] {
        if let Ok(report) = analyze(data, &Options { include_unchanged }) {
            let _ = report.headline();
            let _ = report.max_severity();
            let _ = report.complete();
        }
    }
});
