//! The CI examples in `examples/` call runguard only with flags and formats that exist: each
//! YAML file parses, and every runguard command line in it (and in the local script) is checked
//! against `runguard --help`.

use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::root;

/// Every string in a YAML document (the shell steps live in `run:` and `script:` values).
fn strings(doc: &Yaml, out: &mut Vec<String>) {
    match doc {
        Yaml::String(s) => out.push(s.clone()),
        Yaml::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Yaml::Hash(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The arguments of each `runguard` invocation in a shell text, line continuations joined.
fn invocations(shell: &str) -> Vec<Vec<String>> {
    let joined = shell.replace("\\\n", " ").replace("\n  ", " ");
    joined
        .lines()
        .filter_map(|line| {
            let at = line.find("runguard ")?;
            // A call starts a command: at the start of the line or after `;`, `&&`, `||`, `|`.
            // Anything else (`cargo install … runguard`, `<!-- runguard -->` in a script) is
            // not one.
            let before = line[..at].trim_end();
            let starts_command = before.is_empty()
                || ["; ", "&&", "||", "|"]
                    .iter()
                    .any(|sep| before.ends_with(sep.trim()));
            if !starts_command {
                return None;
            }
            Some(
                line[at..]
                    .split_whitespace()
                    .take_while(|w| !matches!(*w, "|" | "||" | "&&" | ">"))
                    .map(str::to_owned)
                    .collect(),
            )
        })
        .collect()
}

fn help() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_runguard"))
        .arg("--help")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Checks one invocation: each `--flag` is in the help, each `--output FORMAT=PATH` and
/// `--format FORMAT` names a format the help lists.
fn check(file: &str, args: &[String], help: &str) {
    let formats_line = help
        .lines()
        .find(|l| l.contains("--format"))
        .expect("--format in help");
    let mut words = args.iter().skip(1).peekable();
    while let Some(word) = words.next() {
        if !word.starts_with("--") {
            continue;
        }
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) => (f, Some(v.to_owned())),
            None => (word.as_str(), None),
        };
        assert!(
            help.contains(&format!("{flag} ")) || help.contains(&format!("{flag}\n")),
            "{file}: runguard has no {flag}"
        );
        if flag == "--output" {
            let spec = inline
                .clone()
                .or_else(|| words.peek().map(|v| v.to_string()))
                .expect("--output has a value");
            let format = spec.split_once('=').expect("FORMAT=PATH").0;
            assert!(
                help.contains(&format!("{format}:")) || formats_line.contains(format),
                "{file}: no format {format}"
            );
        }
    }
}

#[test]
fn ci_examples_parse_and_call_only_existing_flags() {
    let help = help();
    let mut checked = 0;
    for name in ["github-actions.yml", "gitlab-ci.yml"] {
        let text = std::fs::read_to_string(root().join("examples").join(name)).unwrap();
        let docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut all = Vec::new();
        docs.iter().for_each(|d| strings(d, &mut all));
        let calls: Vec<_> = all.iter().flat_map(|s| invocations(s)).collect();
        assert!(!calls.is_empty(), "{name} never runs runguard");
        for call in &calls {
            check(name, call, &help);
            checked += 1;
        }
    }
    let script = std::fs::read_to_string(root().join("examples/local-diff.sh")).unwrap();
    for call in invocations(&script) {
        check("local-diff.sh", &call, &help);
        checked += 1;
    }
    assert!(checked >= 3, "{checked} invocations checked");
    let syntax = Command::new("bash")
        .args(["-n", "examples/local-diff.sh"])
        .current_dir(root())
        .status()
        .unwrap();
    assert!(syntax.success(), "local-diff.sh has a syntax error");
}
