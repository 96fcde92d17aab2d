//! `--format sarif`, `--format gitlab` and `--tf-dir`: SARIF that the official schema accepts and
//! that follows GitHub code scanning's rules, GitLab code quality issues, and findings located at
//! the `resource` block of their cause.

use std::path::Path;
use std::sync::OnceLock;

use assert_cmd::Command;
use serde_json::Value;

use runguard::report::location::PlanOutput;
use runguard::{Options, analyze};

use crate::support::{root, scenario_plans};

const EXAMPLE: &str = "examples/plan.json";
const IMPROVED: &str = "testdata/plans/a13-member-deleted.json";
const TF_PLAN: &str = "testdata/tf/plan.json";

fn runguard() -> Command {
    let mut c = Command::cargo_bin("runguard").expect("binary built");
    c.current_dir(root());
    c
}

/// The official SARIF 2.1.0 schema (draft-04), compiled once, with formats (`uri`,
/// `uri-reference`, `date-time`) checked too.
fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let text =
            std::fs::read_to_string(root().join("../shared/schemas/sarif-schema-2.1.0.json"))
                .expect("the SARIF schema is in ../shared/schemas");
        let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles")
    })
}

fn assert_valid_sarif(sarif: &Value, what: &str) {
    let errors: Vec<String> = schema()
        .iter_errors(sarif)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what}: invalid SARIF:\n{}",
        errors.join("\n")
    );
}

/// SARIF for one plan, rendered through the library as the CLI does without `--tf-dir`;
/// `shown` is the plan's name as given on the command line.
fn sarif_of(path: &Path, shown: &str, all: bool) -> Value {
    let report = analyze(
        &std::fs::read(path).expect("plan readable"),
        &Options {
            include_unchanged: all,
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    runguard::report::sarif::render(
        &[PlanOutput {
            plan: shown,
            report: Ok(&report),
            tree: None,
        }],
        &mut out,
    )
    .expect("render SARIF");
    serde_json::from_slice(&out).expect("SARIF is JSON")
}

fn json_report(args: &[&str]) -> Value {
    let out = runguard()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).expect("JSON report")
}

fn cli_json(args: &[&str], envs: &[(&str, &str)]) -> Value {
    let mut cmd = runguard();
    cmd.args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c < 2),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

fn results(sarif: &Value) -> &Vec<Value> {
    sarif["runs"][0]["results"].as_array().expect("results")
}

fn adversary_plans() -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(root().join("testdata/adversary"))
        .expect("testdata/adversary exists")
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && !p.to_string_lossy().ends_with(".expect.json")
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_gives_sarif_that_the_official_schema_accepts() {
    let plans: Vec<_> = scenario_plans()
        .into_iter()
        .chain(adversary_plans())
        .chain([root().join(EXAMPLE), root().join(TF_PLAN)])
        .collect();
    assert!(plans.len() > 100, "{} plans", plans.len());
    for plan in &plans {
        let shown = plan.strip_prefix(root()).unwrap().to_string_lossy();
        for all in [false, true] {
            assert_valid_sarif(&sarif_of(plan, &shown, all), &shown);
        }
    }
}

#[test]
fn the_schema_check_rejects_what_github_would() {
    // The validator really validates: a result without a message, or a level SARIF does not
    // define, is refused.
    let mut sarif = sarif_of(&root().join(EXAMPLE), EXAMPLE, false);
    sarif["runs"][0]["results"][0]["level"] = "critical".into();
    assert!(!schema().is_valid(&sarif));
    let mut sarif = sarif_of(&root().join(EXAMPLE), EXAMPLE, false);
    sarif["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert!(!schema().is_valid(&sarif));
}

#[test]
fn one_result_per_finding_with_its_fingerprint_and_a_level_from_its_severity() {
    let report = json_report(&[EXAMPLE]);
    let sarif = sarif_of(&root().join(EXAMPLE), EXAMPLE, false);
    let findings = report["findings"].as_array().unwrap();
    let results = results(&sarif);
    assert_eq!(
        results.len(),
        findings.len(),
        "every finding is worsened here"
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    for (finding, result) in findings.iter().zip(results) {
        assert_eq!(result["ruleId"], finding["rule"]);
        assert_eq!(
            rules[result["ruleIndex"].as_u64().unwrap() as usize]["id"],
            finding["rule"]
        );
        assert_eq!(
            result["partialFingerprints"]["runguard/v1"],
            finding["fingerprint"]
        );
        let level = match finding["severity"].as_str().unwrap() {
            "critical" | "high" => "error",
            "medium" => "warning",
            _ => "note",
        };
        assert_eq!(result["level"], level, "{}", finding["rule"]);
        assert_eq!(result["properties"]["severity"], finding["severity"]);
        assert_eq!(result["baselineState"], "new");
        // The affected workloads: in the message and as related locations.
        let message = result["message"]["text"].as_str().unwrap();
        let related: Vec<&str> = result["relatedLocations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["message"]["text"] == "an affected workload")
            .map(|l| {
                l["logicalLocations"][0]["fullyQualifiedName"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        let workloads: Vec<&str> = finding["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(related, workloads);
        for w in workloads {
            let escaped = w.replace('[', "\\[").replace(']', "\\]");
            assert!(message.contains(&escaped), "{message} names {w}");
        }
        assert!(result.get("suppressions").is_none());
    }
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert!(levels.contains(&"error") && levels.contains(&"warning") && levels.contains(&"note"));
}

#[test]
fn rules_carry_their_documentation_and_a_security_severity() {
    let sarif = sarif_of(&root().join(EXAMPLE), EXAMPLE, false);
    let driver = &sarif["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "runguard");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), runguard::rules::RULES.len());
    for (rule, descriptor) in runguard::rules::RULES.iter().zip(rules) {
        assert_eq!(descriptor["id"], rule.id);
        assert_eq!(descriptor["shortDescription"]["text"], rule.summary);
        assert!(
            descriptor["fullDescription"]["text"]
                .as_str()
                .is_some_and(|t| t.len() > rule.summary.len() / 2)
        );
        assert_eq!(descriptor["help"]["markdown"], rule.doc);
        assert_eq!(descriptor["help"]["text"], rule.doc);
        let expected = match rule.severity.as_str() {
            "critical" => "9.5",
            "high" => "8.0",
            "medium" => "5.5",
            "low" => "3.0",
            _ => "0.0",
        };
        assert_eq!(descriptor["properties"]["security-severity"], expected);
        assert!(
            descriptor["properties"]["tags"]
                .as_array()
                .unwrap()
                .contains(&"security".into())
        );
    }
}

/// A plan that takes `allUsers` out of one policy: it improves one finding and, with `--all`,
/// keeps another risk as it is.
const MIXED: &str = "testdata/plans/a03-v2-policy-removes-allusers.json";

#[test]
fn improved_findings_are_not_results_and_unchanged_ones_are_marked() {
    let report = json_report(&[MIXED, "--all"]);
    let findings = report["findings"].as_array().unwrap();
    let by_direction =
        |d: &str| -> Vec<&Value> { findings.iter().filter(|f| f["direction"] == d).collect() };
    assert!(!by_direction("improved").is_empty() && !by_direction("unchanged").is_empty());
    let sarif = sarif_of(&root().join(MIXED), MIXED, true);
    let fingerprints: Vec<&Value> = results(&sarif)
        .iter()
        .map(|r| &r["partialFingerprints"]["runguard/v1"])
        .collect();
    assert_eq!(
        results(&sarif).len(),
        findings.len() - by_direction("improved").len()
    );
    for f in by_direction("improved") {
        assert!(
            !fingerprints.contains(&&f["fingerprint"]),
            "improved {} is no result",
            f["rule"]
        );
    }
    for f in by_direction("unchanged") {
        let result = results(&sarif)
            .iter()
            .find(|r| r["partialFingerprints"]["runguard/v1"] == f["fingerprint"])
            .expect("an unchanged risk is a result with --all");
        assert_eq!(result["baselineState"], "unchanged");
    }
    // Without --all, only what got worse: here nothing.
    assert!(results(&sarif_of(&root().join(MIXED), MIXED, false)).is_empty());
    let gitlab = cli_json(&[IMPROVED, "--format", "gitlab"], &[]);
    assert_eq!(gitlab, Value::Array(Vec::new()));
}

#[test]
fn accepted_findings_carry_an_external_suppression_with_the_reason() {
    let args = [
        EXAMPLE,
        "--config",
        "testdata/config/accept-example/runguard.toml",
    ];
    let env = [("RUNGUARD_TODAY", "2026-11-29")];
    let sarif = cli_json(&[&args[..], &["--format", "sarif"]].concat(), &env);
    assert_valid_sarif(&sarif, "accepted");
    let suppressed: Vec<&Value> = results(&sarif)
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1, "only the EU API's public-invoker");
    let result = suppressed[0];
    assert_eq!(result["ruleId"], "public-invoker");
    assert_eq!(
        result["suppressions"],
        serde_json::json!([{
            "kind": "external",
            "status": "accepted",
            "justification": "the EU API is public by design; it checks its own tokens",
            "location": {"physicalLocation": {
                "artifactLocation": {
                    "uri": "testdata/config/accept-example/runguard.toml",
                    "uriBaseId": "%SRCROOT%"
                },
                "region": {"startLine": 7}
            }}
        }])
    );
    // Severity overrides reach the level: privileged-identity is medium there.
    let privileged = results(&sarif)
        .iter()
        .find(|r| r["ruleId"] == "privileged-identity")
        .unwrap();
    assert_eq!(privileged["level"], "warning");

    // GitLab has no suppressions: the accepted finding is left out.
    let gitlab = cli_json(&[&args[..], &["--format", "gitlab"]].concat(), &env);
    let fingerprint = &result["partialFingerprints"]["runguard/v1"];
    let issues = gitlab.as_array().unwrap();
    assert_eq!(issues.len(), results(&sarif).len() - 1);
    assert!(issues.iter().all(|i| &i["fingerprint"] != fingerprint));
}

#[test]
fn without_tf_dir_results_point_at_the_plan_file_and_name_their_causes() {
    let report = json_report(&[EXAMPLE]);
    let sarif = cli_json(&[EXAMPLE, "--format", "sarif"], &[]);
    for (finding, result) in report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .zip(results(&sarif))
    {
        let location = &result["locations"][0];
        assert_eq!(
            location["physicalLocation"],
            serde_json::json!({"artifactLocation": {"uri": EXAMPLE, "uriBaseId": "%SRCROOT%"}}),
            "the plan file, no region"
        );
        assert_eq!(
            location["logicalLocations"][0]["fullyQualifiedName"],
            finding["causes"][0]
        );
        assert_eq!(location["logicalLocations"][0]["kind"], "resource");
    }
}

#[test]
fn a_plan_from_standard_input_has_logical_locations_only() {
    let plan = std::fs::read(root().join(EXAMPLE)).unwrap();
    let out = runguard()
        .args(["-", "--format", "sarif"])
        .write_stdin(plan)
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&sarif, "stdin");
    for r in results(&sarif) {
        assert!(r["locations"][0].get("physicalLocation").is_none());
        assert!(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].is_string());
        assert!(
            r["message"]["text"]
                .as_str()
                .unwrap()
                .ends_with("Plan: <stdin>.")
        );
    }
}

/// The `.tf` tree of testdata/tf, read by hand: where each address of testdata/tf/plan.json is
/// declared, as `--tf-dir testdata/tf` run from the repository root should say.
fn declared_at(address: &str) -> Option<(&'static str, u64)> {
    Some(match address {
        "google_cloud_run_v2_service.site" => ("testdata/tf/main.tf", 13),
        "google_project_iam_member.x[0]" | "google_project_iam_member.x[1]" => {
            ("testdata/tf/main.tf", 29)
        }
        r#"google_cloud_run_v2_service_iam_member.public["site"]"# => ("testdata/tf/iam.tf", 8),
        r#"module.api["eu"].google_cloud_run_v2_service.this"#
        | r#"module.api["us"].google_cloud_run_v2_service.this"# => {
            ("testdata/tf/modules/api/main.tf", 5)
        }
        _ => return None,
    })
}

fn physical_at(location: &Value) -> Option<(&str, u64)> {
    let physical = &location["physicalLocation"];
    Some((
        physical["artifactLocation"]["uri"].as_str()?,
        physical["region"]["startLine"].as_u64()?,
    ))
}

#[test]
fn tf_dir_points_every_location_at_the_resource_block() {
    let sarif = cli_json(
        &[TF_PLAN, "--tf-dir", "testdata/tf", "--format", "sarif"],
        &[],
    );
    assert_valid_sarif(&sarif, "--tf-dir");
    let results = results(&sarif);
    // Three services become public (the count grant reaches both for_each module instances),
    // and the site runs as the default compute account.
    let mut rules: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        [
            "default-service-account",
            "public-invoker",
            "public-invoker",
            "public-invoker"
        ]
    );
    let mut related_seen = Vec::new();
    for r in results {
        let primary = &r["locations"][0];
        let address = primary["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap();
        let expected = declared_at(address).unwrap_or_else(|| panic!("{address} is declared"));
        assert_eq!(physical_at(primary), Some(expected), "{address}");
        assert_eq!(
            primary["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
        for related in r["relatedLocations"].as_array().unwrap() {
            let address = related["logicalLocations"][0]["fullyQualifiedName"]
                .as_str()
                .unwrap();
            assert_eq!(physical_at(related), declared_at(address), "{address}");
            related_seen.push(address.to_owned());
        }
    }
    // Both for_each instances of the module's service map to its one block.
    for address in [
        r#"module.api["eu"].google_cloud_run_v2_service.this"#,
        r#"module.api["us"].google_cloud_run_v2_service.this"#,
        r#"google_cloud_run_v2_service_iam_member.public["site"]"#,
        "google_project_iam_member.x[1]",
    ] {
        assert!(related_seen.iter().any(|a| a == address), "{address}");
    }
    // The registry module's code is not in the tree, and the run says so.
    let notes: Vec<&str> = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["message"]["text"].as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("module.network") && n.contains("not a local path")),
        "{notes:?}"
    );
}

#[test]
fn gitlab_issues_have_the_code_quality_shape() {
    let issues = cli_json(
        &[TF_PLAN, "--tf-dir", "testdata/tf", "--format", "gitlab"],
        &[],
    );
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 4);
    let mut fingerprints = std::collections::HashSet::new();
    for issue in issues {
        let keys: Vec<&String> = issue.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "check_name",
                "description",
                "fingerprint",
                "location",
                "severity"
            ]
        );
        assert!(runguard::rules::find(issue["check_name"].as_str().unwrap()).is_some());
        assert!(issue["description"].as_str().unwrap().len() > 20);
        assert!(fingerprints.insert(issue["fingerprint"].as_str().unwrap().to_owned()));
        let expected = match issue["check_name"].as_str().unwrap() {
            "public-invoker" => "blocker",
            "default-service-account" => "major",
            other => panic!("unexpected {other}"),
        };
        assert_eq!(issue["severity"], expected);
        let path = issue["location"]["path"].as_str().unwrap();
        let line = issue["location"]["lines"]["begin"].as_u64().unwrap();
        assert!(
            [("testdata/tf/main.tf", 13), ("testdata/tf/main.tf", 29)].contains(&(path, line)),
            "{path}:{line}"
        );
    }
    // Without --tf-dir: the plan file, line 1.
    let issues = cli_json(&[EXAMPLE, "--format", "gitlab"], &[]);
    let issues = issues.as_array().unwrap();
    assert_eq!(issues.len(), 6);
    for issue in issues {
        assert_eq!(
            issue["location"],
            serde_json::json!({"path": EXAMPLE, "lines": {"begin": 1}})
        );
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&issue["severity"].as_str().unwrap())
        );
    }
}

#[test]
fn sarif_and_gitlab_are_output_formats_too() {
    let dir = tempfile::tempdir().unwrap();
    let sarif_path = dir.path().join("runguard.sarif");
    let gitlab_path = dir.path().join("gl-code-quality.json");
    let out = runguard()
        .args([TF_PLAN, "--tf-dir", "testdata/tf"])
        .arg(format!("--output=sarif={}", sarif_path.display()))
        .arg(format!("--output=gitlab={}", gitlab_path.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the gate trips");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("FAILED"),
        "text on stdout"
    );
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif_path).unwrap()).unwrap();
    assert_valid_sarif(&sarif, "--output sarif=");
    assert_eq!(results(&sarif).len(), 4);
    let gitlab: Value = serde_json::from_slice(&std::fs::read(&gitlab_path).unwrap()).unwrap();
    assert_eq!(gitlab.as_array().unwrap().len(), 4);
}

#[test]
fn an_unreadable_tf_dir_is_exit_2() {
    runguard()
        .args([
            EXAMPLE,
            "--format",
            "sarif",
            "--tf-dir",
            "testdata/no-such-dir",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--tf-dir testdata/no-such-dir"));
}

#[test]
fn several_plans_make_one_run_and_a_refused_one_is_an_error_notification() {
    let out = runguard()
        .args([
            EXAMPLE,
            TF_PLAN,
            "testdata/not-a-plan/README.md",
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&sarif, "several plans");
    assert_eq!(sarif["runs"].as_array().unwrap().len(), 1);
    assert_eq!(results(&sarif).len(), 6 + 4);
    let invocation = &sarif["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
    assert!(notes.iter().any(|n| {
        n["level"] == "error"
            && n["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("testdata/not-a-plan/README.md: not analysed")
    }));
}

#[test]
fn example_plan_sarif() {
    let mut sarif = sarif_of(&root().join(EXAMPLE), EXAMPLE, false);
    // The rules' documentation and the version change on their own; the snapshot is about the
    // results.
    sarif["runs"][0]["tool"]["driver"]["version"] = "[version]".into();
    sarif["runs"][0]["tool"]["driver"]["semanticVersion"] = "[version]".into();
    for rule in sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array_mut()
        .unwrap()
    {
        rule["help"] = "[the rule's doc]".into();
        rule["fullDescription"] = "[its first paragraph]".into();
    }
    insta::assert_json_snapshot!("sarif-example-plan", sarif);
}
