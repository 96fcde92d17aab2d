//! Plan stage only: encoding sniffing, then the one-pass plan parser with the inventory's
//! projections, each wanted entry handed to a sink as `analyze` does. Any input must give `Ok`
//! or a typed `InputError`, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = runguard::fuzz_parse(data);
});
