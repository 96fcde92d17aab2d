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
            "\"schema\": \"runguard/report/v1\"",
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
    for key in ["schema", "plan", "summary", "workloads", "changes"] {
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
    assert_eq!(v["schema"], "runguard/report-set/v1");
    let sources: Vec<&str> = v["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources, plans);
    for r in v["reports"].as_array().unwrap() {
        assert_eq!(r["report"]["schema"], "runguard/report/v1");
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
