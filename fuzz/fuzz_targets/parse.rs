//! Plan stage only: encoding sniffing, then the one-pass plan parser with the inventory's
//! projections, each wanted entry handed to a sink as `analyze` does. Any input must give `Ok`
//! or a typed `InputError`, never a panic or a hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = runguard::plan::sniff::decode(data) else {
        return;
    };
    let mut sides = 0usize;
    let parsed = runguard::plan::parse(&text, &runguard::inventory::projection, &mut |c| {
        // Touch what the inventory reads, so the optimiser keeps it.
        sides += usize::from(c.before_node().is_some()) + usize::from(c.after_node().is_some());
    });
    if let Ok(plan) = parsed {
        let _ = (plan.unreadable.len(), sides);
    }
});
