//! The crate's `unsafe` code is the plan file's mapping (`src/input/mapped.rs`) and the calls to
//! it. The lint is `deny`, not `forbid`, so that those sites may allow it; this test keeps any
//! other site from doing so unnoticed: a new one fails here until it is reviewed and listed.

use std::collections::BTreeMap;
use std::path::Path;

/// Every file that names the `unsafe_code` lint (to allow it: any other level is the crate's
/// already), with how many times. This file is left out.
const ALLOWED: [(&str, usize); 5] = [
    // Two of the bench's functions map the plan as the binary does.
    ("benches/scale.rs", 2),
    // The binary's one call, and its test of the read-again path.
    ("src/cli.rs", 2),
    // The mapping itself, for the whole module.
    ("src/input/mapped.rs", 1),
    // The `unsafe fn` that reads instead, elsewhere than on Linux.
    ("src/input/mod.rs", 1),
    // Mapped fixtures analysed as read ones are; a mapped plan written to.
    ("tests/it/scenarios.rs", 2),
];

#[test]
fn unsafe_code_is_allowed_only_where_the_plan_is_mapped() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = BTreeMap::new();
    for dir in ["src", "tests", "benches", "examples", "fuzz"] {
        count_in(root, &root.join(dir), &mut found);
    }
    let allowed: BTreeMap<String, usize> = ALLOWED
        .iter()
        .map(|(file, n)| ((*file).to_owned(), *n))
        .collect();
    assert_eq!(found, allowed);
}

/// Adds, for every `.rs` file under `dir` but this one, how many times it names `unsafe_code`,
/// however the attribute is written (`allow`, `expect`, with other lints).
fn count_in(root: &Path, dir: &Path, found: &mut BTreeMap<String, usize>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            count_in(root, &path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("under the root");
            let relative = relative.to_string_lossy().into_owned();
            if relative == "tests/it/unsafe_sites.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("a source file");
            let n = text.matches("unsafe_code").count();
            if n > 0 {
                found.insert(relative, n);
            }
        }
    }
}
