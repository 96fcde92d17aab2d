//! Analysis, then the text renderer without colour: whatever the plan says, no raw escape,
//! bell, C1 CSI or bidi override may reach the output.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runguard::report::text::{TextOptions, render};
use runguard::{Gate, Options, Severity, analyze};

fuzz_target!(|data: &[u8]| {
    // One analysis per input (the `analyze` target runs both modes): the input's length parity
    // picks `--all`, so the corpus covers both renderings at half the cost.
    let all = data.len() % 2 == 1;
    {
        let Ok(report) = analyze(
            data,
            &Options {
                include_unchanged: all,
            },
        ) else {
            return;
        };
        let options = TextOptions {
            color: false,
            all,
            gate: Gate {
                threshold: Some(Severity::High),
                allow_incomplete: false,
            },
            // Odd widths exercise the narrow layouts too.
            width: if all { 80 } else { 100 },
        };
        let mut out = Vec::new();
        render(&report, &options, &mut out).expect("rendering to a Vec cannot fail");
        let text = std::str::from_utf8(&out).expect("text output is UTF-8");
        for c in text.chars() {
            // ESC, BEL, C1 CSI and RLO are the ones the issue names; every other control
            // character but the newline, and the bidi / zero-width set, would be just as bad.
            let control = c.is_control() && c != '\n';
            let invisible = matches!(c,
                '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}');
            assert!(
                !control && !invisible,
                "raw U+{:04X} in text output (color off):\n{text}",
                c as u32
            );
        }
    }
});
