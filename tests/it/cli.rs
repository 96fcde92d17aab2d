//! The binary: exit codes, standard input, gates, formats, subcommands and every bad input.

use assert_cmd::Command;
use predicates::prelude::*;

fn runguard() -> Command {
    let mut c = Command::cargo_bin("runguard").expect("binary built");
    c.current_dir(crate::support::root()).env_remove("NO_COLOR");
    c
}

const PUBLIC: &str = "testdata/plans/a01-v2-member-allusers-create.json";
const MEDIUM_ONLY: &str = "testdata/plans/a07-domain-invoker.json";
const IMPROVED: &str = "testdata/plans/a13-member-deleted.json";

#[test]
fn exit_1_when_the_gate_trips_and_0_when_clean() {
    runguard()
        .arg(PUBLIC)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAILED"));
    runguard()
        .arg(MEDIUM_ONLY)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("passed"));
    runguard().arg(IMPROVED).assert().code(0);
}

#[test]
fn fail_on_moves_the_gate() {
    runguard()
        .args([MEDIUM_ONLY, "--fail-on", "medium"])
        .assert()
        .code(1);
    runguard()
        .args([MEDIUM_ONLY, "--fail-on", "low"])
        .assert()
        .code(1);
    runguard()
        .args([PUBLIC, "--fail-on", "critical"])
        .assert()
        .code(1);
    runguard()
        .args([PUBLIC, "--fail-on", "none"])
        .assert()
        .code(0);
    // Improvements never trip the gate, whatever their severity.
    runguard()
        .args([IMPROVED, "--fail-on", "low"])
        .assert()
        .code(0);
}

#[test]
fn reads_standard_input() {
    let plan = std::fs::read(crate::support::root().join(PUBLIC)).unwrap();
    runguard()
        .args(["-", "--format", "json"])
        .write_stdin(plan)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "\"schema\": \"runguard/report/v2\"",
        ));
}

#[test]
fn bad_input_on_standard_input_names_stdin() {
    runguard()
        .arg("-")
        .write_stdin("Terraform will perform the following actions:")
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "runguard: error: <stdin>: not JSON",
        ));
}

#[test]
fn json_output_is_valid_json_with_the_contract_keys() {
    let out = runguard()
        .args([PUBLIC, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "schema",
        "plan",
        "summary",
        "workloads",
        "findings",
        "grant_sets",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["summary"]["max_severity"], "critical");
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    // Not a terminal: no escape codes by default.
    runguard()
        .arg(PUBLIC)
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
    runguard()
        .args([PUBLIC, "--color", "always"])
        .assert()
        .stdout(predicate::str::contains("\x1b["));
    runguard()
        .args([PUBLIC, "--color", "never"])
        .assert()
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn every_bad_input_is_refused_with_a_one_line_error_naming_the_file() {
    let cases = [
        ("binary-plan.tfplan", "binary plan file"),
        ("state.json", "Terraform state, not a plan"),
        ("ui-stream.jsonl", "`terraform plan -json` log stream"),
        ("not-json.txt", "not JSON"),
        ("truncated.json", "ends early"),
        (
            "future-format.json",
            "unsupported plan format_version \"2.0\"",
        ),
        ("html.html", "HTML/XML document"),
        ("empty.json", "the file is empty"),
        (
            "resource-changes-not-objects.json",
            "`resource_changes[0]` is not an object",
        ),
        (
            "change-not-an-object.json",
            "`resource_changes[0].change` is not an object",
        ),
    ];
    for (file, gist) in cases {
        let path = format!("testdata/not-a-plan/{file}");
        let out = runguard().arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{file}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!("runguard: error: {path}: ")),
            "{file}: {stderr}"
        );
        assert!(stderr.contains(gist), "{file}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{file}: {stderr}");
        assert!(out.stdout.is_empty(), "{file}: printed a report");
    }
}

#[test]
fn missing_path_directory_and_no_argument() {
    runguard()
        .arg("testdata/no-such-plan.json")
        .assert()
        .code(2)
        .stderr("runguard: error: testdata/no-such-plan.json: cannot read: no such file\n");
    runguard()
        .arg("testdata")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("testdata: is a directory"));
    runguard()
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no plan given"));
    runguard()
        .args(["--format", "yaml", PUBLIC])
        .assert()
        .code(2);
}

#[test]
fn utf16_plan_from_powershell_is_decoded() {
    runguard()
        .arg("testdata/plans/b19-utf16-bom.json")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("becomes publicly invokable"));
}

#[test]
fn rules_lists_every_rule_and_explain_prints_one() {
    let out = runguard().arg("rules").output().unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8(out.stdout).unwrap();
    for rule in runguard::rules::RULES {
        assert!(listing.contains(rule.id), "{}", rule.id);
    }
    runguard()
        .args(["explain", "public-invoker"])
        .assert()
        .success()
        .stdout(predicate::str::contains("## Why it matters"));
    runguard()
        .args(["explain", "public"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean"));
}

#[test]
fn help_documents_exit_codes() {
    runguard()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes:"));
}

#[test]
fn no_cloud_run_and_empty_plans_say_so_and_exit_0() {
    for plan in [
        "testdata/plans/b17-no-cloud-run.json",
        "testdata/plans/b18-empty-plan.json",
    ] {
        runguard()
            .arg(plan)
            .assert()
            .code(0)
            .stdout(predicate::str::contains(
                "No Cloud Run workloads in this plan",
            ));
    }
}

#[test]
fn several_plans_are_reported_in_the_order_given() {
    let plans = [MEDIUM_ONLY, PUBLIC, IMPROVED, MEDIUM_ONLY];
    let out = runguard()
        .args(plans)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "one plan trips the gate");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "runguard/report-set/v2");
    let sources: Vec<&str> = v["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, plans);
    for r in v["reports"].as_array().unwrap() {
        assert_eq!(r["report"]["schema"], "runguard/report/v2");
    }
    // The same run twice gives the same bytes, whatever the thread scheduling.
    let again = runguard()
        .args(plans)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn one_refused_plan_among_several_is_reported_and_exits_2() {
    let out = runguard()
        .args([MEDIUM_ONLY, "testdata/not-a-plan/state.json"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["reports"][0]["report"].is_object());
    assert!(
        v["reports"][1]["error"]
            .as_str()
            .unwrap()
            .contains("Terraform state, not a plan")
    );
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("state.json: this is a Terraform state")
    );
    runguard()
        .args([MEDIUM_ONLY, "testdata/not-a-plan/state.json"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "== testdata/not-a-plan/state.json ==\nnot analysed:",
        ));
}

#[test]
fn standard_input_only_once() {
    runguard()
        .args(["-", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only once"));
}

#[test]
fn a_text_run_over_several_plans_ends_with_one_overall_verdict() {
    let out = runguard().args([MEDIUM_ONLY, PUBLIC]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.trim_end().lines().last().unwrap();
    assert_eq!(
        last,
        "overall: FAILED: 2 plans, 1 tripped the gate, 0 not analysed (--fail-on high)"
    );
}

#[test]
fn fail_on_none_still_prints_the_verdict_line() {
    let out = runguard()
        .args([PUBLIC, "--fail-on", "none"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let last = stdout.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("not gated: ") && last.ends_with("(--fail-on none: the gate is off)"),
        "{last}"
    );
}

/// The long flags `runguard --help` lists, so the checks below follow the clap definitions.
fn long_flags_in_help() -> Vec<String> {
    let out = runguard().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut flags: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']')
        .filter(|w| {
            w.starts_with("--")
                && w.len() > 2
                && w[2..].starts_with(|c: char| c.is_ascii_lowercase())
        })
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_owned()
        })
        .collect();
    flags.sort();
    flags.dedup();
    assert!(flags.len() >= 5, "too few flags found in --help: {flags:?}");
    flags
}

#[test]
fn completions_for_bash_zsh_and_fish_know_the_flags_and_subcommands() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef runguard"),
        ("fish", "complete -c runguard"),
    ] {
        let out = runguard().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: no `{marker}`");
        for word in ["fail-on", "explain", "completions"] {
            assert!(script.contains(word), "{shell}: does not complete `{word}`");
        }
    }
    runguard()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'tcsh'"));
}

#[test]
fn man_page_is_roff_and_names_every_flag_and_subcommand() {
    let out = runguard().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(roff.contains(".TH runguard 1"), "no title header");
    // roff writes a hyphen as `\-`.
    let text = roff.replace("\\-", "-");
    for flag in long_flags_in_help() {
        assert!(
            text.contains(&format!("\\fB{flag}\\fR")),
            "man page lacks {flag}"
        );
    }
    for sub in ["rules", "explain", "completions", "man"] {
        assert!(
            text.contains(&format!("runguard {sub}")),
            "man page lacks `{sub}`"
        );
    }
    assert!(text.contains("Exit codes"));
    // One page: no reference to per-subcommand pages that nothing installs.
    assert!(!text.contains("runguard-rules(1)"));
}

/// The files in `dir`, sorted: a failed write must leave no temporary file behind.
fn entries(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn output_writes_each_format_to_its_file_while_text_goes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("runguard.json");
    let text = dir.path().join("runguard.txt");
    let out = runguard()
        .arg(PUBLIC)
        .arg("--output")
        .arg(format!("json={}", json.display()))
        .arg("--output")
        .arg(format!("text={}", text.display()))
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the gate still decides the exit code"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("FAILED") && stdout.contains("\x1b["),
        "stdout keeps --format text"
    );

    let alone_json = runguard()
        .args([PUBLIC, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(std::fs::read(&json).unwrap(), alone_json.stdout);
    // Colour is for terminals: the text file is the uncoloured report.
    let alone_text = runguard()
        .args([PUBLIC, "--color", "never"])
        .output()
        .unwrap();
    assert_eq!(std::fs::read(&text).unwrap(), alone_text.stdout);
    assert_eq!(entries(dir.path()), ["runguard.json", "runguard.txt"]);
}

#[test]
fn one_analysis_feeds_every_output_even_from_standard_input() {
    // Standard input can be read once: both outputs and stdout come from one analysis.
    let plan = std::fs::read(crate::support::root().join(PUBLIC)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.txt");
    let out = runguard()
        .args(["-", "--format", "json"])
        .arg(format!("--output=json={}", a.display()))
        .arg(format!("--output=text={}", b.display()))
        .write_stdin(plan)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&a).unwrap(), out.stdout);
    assert!(std::fs::read_to_string(&b).unwrap().contains("FAILED"));
}

#[test]
fn output_replaces_an_existing_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("runguard.json");
    std::fs::write(&json, "x".repeat(1 << 20)).unwrap();
    runguard()
        .arg(IMPROVED)
        .arg(format!("--output=json={}", json.display()))
        .assert()
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["schema"], "runguard/report/v2");
}

#[test]
fn output_of_several_plans_is_the_same_set_document_as_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("set.json");
    let out = runguard()
        .args([PUBLIC, IMPROVED, "--format", "json"])
        .arg(format!("--output=json={}", json.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(std::fs::read(&json).unwrap(), out.stdout);
}

#[test]
fn an_unwritable_output_path_is_exit_2_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    let blocker = dir.path().join("blocker");
    std::fs::write(&blocker, "a file, so nothing can be created under it").unwrap();
    let cases = [
        (dir.path().join("missing/out.json"), "no such directory"),
        (blocker.join("out.json"), "cannot write"),
        (dir.path().to_path_buf(), "is a directory"),
    ];
    for (bad, gist) in cases {
        let out = runguard()
            .arg(PUBLIC)
            .arg(format!("--output=json={}", good.display()))
            .arg(format!("--output=json={}", bad.display()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", bad.display());
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!("runguard: error: --output {}: ", bad.display())),
            "{stderr}"
        );
        assert!(stderr.contains(gist), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "printed a report despite the failure"
        );
        // Neither output exists: not the good one, not a temporary file.
        assert_eq!(entries(dir.path()), ["blocker"], "{}", bad.display());
    }
}

#[test]
fn output_spec_errors_name_the_formats() {
    for (spec, gist) in [
        ("runguard.json", "expected FORMAT=PATH"),
        (
            "yaml=out.yaml",
            // The list goes on with every other format (sarif, gitlab...).
            "unknown format `yaml` (formats: text, json, ",
        ),
        ("json=", "no path after `json=`"),
    ] {
        runguard()
            .args([PUBLIC, "--output", spec])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(gist));
    }
    runguard()
        .args([PUBLIC, "--output", "json=a.json", "--output", "text=a.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the path is given twice"));
}

#[test]
fn config_fail_on_sets_the_gate_and_the_flag_wins() {
    // full.toml says fail_on = "medium"; the domain invoker is a medium finding.
    runguard()
        .args([MEDIUM_ONLY, "--config", "testdata/config/full.toml"])
        .assert()
        .code(1);
    runguard()
        .args([
            MEDIUM_ONLY,
            "--config",
            "testdata/config/full.toml",
            "--fail-on",
            "high",
        ])
        .assert()
        .code(0);
}

#[test]
fn a_severity_override_does_not_revive_a_change_the_org_policy_refuses() {
    // full.toml raises ingress-widened to high with fail_on = "medium": the widening trips the
    // gate, unless the plan's own org policy refuses it at apply.
    runguard()
        .args([
            "testdata/plans/b06-ingress-widened.json",
            "--config",
            "testdata/config/full.toml",
        ])
        .assert()
        .code(1);
    runguard()
        .args([
            "testdata/plans/k02-org-policy-refuses-ingress.json",
            "--config",
            "testdata/config/full.toml",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("INFO  ingress-widened"));
}

#[test]
fn a_broken_config_is_exit_2_naming_file_and_line() {
    runguard()
        .args([PUBLIC, "--config", "testdata/config/missing-reason.toml"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "runguard: error: testdata/config/missing-reason.toml:7: [[accept]] has no `reason`",
        ));
    runguard()
        .args([PUBLIC, "--config", "testdata/config/absent.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("absent.toml: cannot read"));
}

#[test]
fn config_is_found_in_the_current_directory_or_at_the_git_root() {
    let plan = crate::support::root().join(MEDIUM_ONLY);
    let repo = tempfile::tempdir().unwrap();
    let stack = repo.path().join("stacks/prod");
    std::fs::create_dir_all(&stack).unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let run_in = |dir: &std::path::Path| {
        let mut c = runguard();
        c.current_dir(dir).arg(&plan);
        c
    };
    run_in(&stack).assert().code(0);
    std::fs::write(repo.path().join("runguard.toml"), "fail_on = \"medium\"\n").unwrap();
    run_in(&stack).assert().code(1);
    // The current directory's file comes first.
    std::fs::write(stack.join("runguard.toml"), "fail_on = \"critical\"\n").unwrap();
    run_in(&stack).assert().code(0);
    std::fs::write(stack.join("runguard.toml"), "fail_on = \"sometimes\"\n").unwrap();
    run_in(&stack)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "runguard.toml:1: fail_on: `sometimes`",
        ));
}

#[test]
fn a_plan_that_cannot_be_analysed_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("runguard.json");
    runguard()
        .arg("testdata/not-a-plan/state.json")
        .arg(format!("--output=json={}", json.display()))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Terraform state, not a plan"));
    assert!(entries(dir.path()).is_empty(), "{:?}", entries(dir.path()));
}

const INCOMPLETE: &str = "testdata/plans/e06-deferred-member-incomplete.json";

#[test]
fn an_incomplete_report_fails_closed_unless_allowed() {
    runguard()
        .arg(INCOMPLETE)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "INCOMPLETE: the plan does not describe every change — failing closed",
        ));
    // Whatever the severity threshold: an incomplete report says nothing about what it missed.
    runguard()
        .args([INCOMPLETE, "--fail-on", "none"])
        .assert()
        .code(1);
    runguard()
        .args([INCOMPLETE, "--allow-incomplete"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("accepted by --allow-incomplete"));
    // --allow-incomplete does not loosen the severity gate.
    runguard()
        .args([PUBLIC, "--allow-incomplete"])
        .assert()
        .code(1);
    // JSON output trips the same gate.
    runguard()
        .args([INCOMPLETE, "--format", "json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("\"complete\": false"));
}

#[test]
fn a_plan_that_keeps_a_public_service_says_so_in_its_headline() {
    let plan = "testdata/plans/b14-noop-public-stays.json";
    let headline =
        "No security regressions in 1 Cloud Run workload; 1 service stays public — see --all.";
    runguard()
        .arg(plan)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(format!("runguard: {headline}")));
    let out = runguard()
        .args([plan, "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["headline"], headline);
}

#[test]
fn a_plan_without_format_version_is_analysed_with_a_note() {
    let mut plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(crate::support::root().join(PUBLIC)).unwrap())
            .unwrap();
    plan.as_object_mut().unwrap().remove("format_version");
    let out = runguard()
        .args(["-", "--format", "json"])
        .write_stdin(plan.to_string())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "analysed, and the gate trips");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("no `format_version`")
    );
    // Without planned_values as well, nothing says it is a plan: refused.
    plan.as_object_mut().unwrap().remove("planned_values");
    runguard()
        .arg("-")
        .write_stdin(plan.to_string())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no `format_version`"));
}

/// The README's example excerpt ("The output starts: ...") is what the command prints for
/// `examples/plan.json`: each line is equal, or, ending in `…`, a prefix of the printed line.
#[test]
fn the_readme_example_excerpt_is_what_the_command_prints() {
    let readme = std::fs::read_to_string(crate::support::root().join("README.md")).unwrap();
    let after = readme
        .split_once("output starts:")
        .expect("README has the example excerpt")
        .1;
    let block = after
        .split_once("```text\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .expect("the excerpt is a text block")
        .0;
    let out = runguard()
        .args(["examples/plan.json", "--color", "never"])
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let printed = String::from_utf8(out.stdout).unwrap();
    let mut printed_lines = printed.lines();
    for line in block.lines() {
        let got = printed_lines.next().unwrap_or_default();
        match line.strip_suffix('…') {
            Some(prefix) => assert!(
                got.starts_with(prefix),
                "README excerpt line\n  {line}\nis not a prefix of the printed line\n  {got}"
            ),
            None => assert_eq!(got, line, "README excerpt differs from the output"),
        }
    }
}

/// An accepted finding is still reported, with its reason, and never trips the gate; an
/// expired entry accepts nothing and a stale one is named, both with their lines.
#[test]
fn accepted_findings_are_shown_but_never_gate() {
    let config = "testdata/config/accept-example/runguard.toml";
    let json = runguard()
        .args(["examples/plan.json", "--format", "json", "--config", config])
        .env("RUNGUARD_TODAY", "2026-11-29")
        .output()
        .unwrap();
    assert_eq!(
        json.status.code(),
        Some(0),
        "everything high is accepted or downgraded"
    );
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let public = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "public-invoker")
        .expect("the public finding is still reported");
    assert_eq!(
        public["accepted"],
        serde_json::json!({"reason": "the EU API is public by design; it checks its own tokens", "line": 7})
    );
    assert_eq!(v["summary"]["accepted"], 1);
    assert_eq!(v["summary"]["max_severity"], "medium");
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "identity-impersonation")
            .all(|f| f["severity"] == "medium")
    );
    assert_eq!(v["acceptance"]["expired"][0]["line"], 12);
    assert_eq!(v["acceptance"]["expired"][0]["expires"], "2026-06-30");
    assert_eq!(v["acceptance"]["stale"][0]["line"], 18);

    let text = runguard()
        .args(["examples/plan.json", "--config", config])
        .env("RUNGUARD_TODAY", "2026-11-29")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("accepted  the EU API is public by design"),
        "{text}"
    );
    assert!(
        text.contains("line 12: expired (its last day was 2026-06-30)"),
        "{text}"
    );
    assert!(
        text.contains("line 18: stale, matches no finding"),
        "{text}"
    );

    // Before its last day, the second entry accepts the default-account finding.
    let early = runguard()
        .args(["examples/plan.json", "--format", "json", "--config", config])
        .env("RUNGUARD_TODAY", "2026-06-30")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&early.stdout).unwrap();
    assert_eq!(v["summary"]["accepted"], 2);
    assert_eq!(v["acceptance"]["expired"], serde_json::json!([]));
}

#[test]
fn a_bad_runguard_today_is_a_usage_error() {
    runguard()
        .args([PUBLIC])
        .env("RUNGUARD_TODAY", "tomorrow")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RUNGUARD_TODAY"));
}

#[test]
fn rules_fit_the_width_and_list_as_json() {
    for width in ["80", "100"] {
        let out = runguard()
            .arg("rules")
            .env("COLUMNS", width)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(
            widest <= width.parse().unwrap(),
            "{widest} columns at {width}:\n{text}"
        );
    }
    let out = runguard()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "runguard/rules/v1");
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), runguard::rules::RULES.len());
    assert!(
        rules
            .iter()
            .all(|r| r["doc"].as_str().unwrap().contains("## What it detects"))
    );
}
