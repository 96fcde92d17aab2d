//! Every hand-written scenario in `testdata/plans` against its reviewed expectation
//! (`NAME.expect.json`, see `testdata/README.md`), plus snapshots of its text and JSON output.

use serde_json::Value;

use crate::support::{effective_invokers, effective_members, grant_set, run, scenario_plans};

/// Compares one scenario; returns the differences found.
fn check(path: &std::path::Path) -> Vec<String> {
    let expect_path = path.with_extension("expect.json");
    let expect: Value = serde_json::from_str(
        &std::fs::read_to_string(&expect_path)
            .unwrap_or_else(|_| panic!("{} has no expectation", path.display())),
    )
    .expect("expectation is JSON");
    let (report, _, exit) = run(path, false);
    let mut problems = Vec::new();

    let workloads = report["workloads"].as_array().expect("workloads array");
    for (address, sides) in expect["workloads"].as_object().into_iter().flatten() {
        let Some(got) = workloads.iter().find(|w| w["address"] == *address) else {
            problems.push(format!("workload {address} missing from the report"));
            continue;
        };
        for side in ["before", "after"] {
            let want = &sides[side];
            let have = &got[side];
            match (want, have) {
                (Value::Null, Value::Null) => {}
                (Value::Null, _) => {
                    problems.push(format!("{address} {side}: expected absent, got a posture"))
                }
                (Value::Object(fields), _) => {
                    for (field, value) in fields {
                        let got_field = match field.as_str() {
                            "invokers" => Some(effective_invokers(&report, have)),
                            "iam_admins" => Some(effective_members(
                                &report,
                                have,
                                "iam_admins",
                                "inherited_iam_admins",
                            )),
                            "iap_accessors" => Some(effective_members(
                                &report,
                                have,
                                "iap_accessors",
                                "inherited_iap_accessors",
                            )),
                            "identity" => Some(identity_with_impersonators(&report, have)),
                            _ => have.get(field).cloned(),
                        };
                        if got_field.as_ref() != Some(value) {
                            let got_value = got_field.unwrap_or(Value::Null);
                            let want_value = match (field.as_str(), value) {
                                // The contract's identity object, and its roles, may carry
                                // more fields.
                                ("identity", Value::Object(_)) => {
                                    if fits(value, &got_value) {
                                        continue;
                                    }
                                    value.clone()
                                }
                                _ => value.clone(),
                            };
                            problems.push(format!(
                                "{address} {side}.{field}: expected {want_value}, got {got_value}"
                            ));
                        }
                    }
                }
                _ => problems.push(format!("{address} {side}: bad expectation")),
            }
        }
    }

    let mut want: Vec<(String, String, String)> = expect["changes"]
        .as_array()
        .expect("changes array")
        .iter()
        .map(|c| {
            (
                c[0].as_str().unwrap().into(),
                c[1].as_str().unwrap().into(),
                c[2].as_str().unwrap().into(),
            )
        })
        .collect();
    // Findings are per cause; the expectation lists every (rule, direction, workload) they reach.
    let mut have: Vec<(String, String, String)> = report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .flat_map(|f| {
            f["workloads"].as_array().unwrap().iter().map(move |w| {
                (
                    f["rule"].as_str().unwrap().into(),
                    f["direction"].as_str().unwrap().into(),
                    w.as_str().unwrap().into(),
                )
            })
        })
        .collect();
    want.sort();
    have.sort();
    if want != have {
        let missing: Vec<_> = want.iter().filter(|w| !have.contains(w)).collect();
        let extra: Vec<_> = have.iter().filter(|h| !want.contains(h)).collect();
        problems.push(format!(
            "changes differ; missing {missing:?}; unexpected {extra:?}"
        ));
    }
    if expect["exit_code"].as_u64() != Some(u64::from(exit)) {
        problems.push(format!(
            "exit code: expected {}, got {exit}",
            expect["exit_code"]
        ));
    }
    problems
}

#[test]
fn scenarios_match_their_expectations() {
    let plans = scenario_plans();
    assert!(
        plans.len() >= 25,
        "at least 25 scenarios, found {}",
        plans.len()
    );
    let mut failures = Vec::new();
    for p in &plans {
        for problem in check(p) {
            failures.push(format!(
                "{}: {problem}",
                p.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The adversarial plans written by a reviewer who had not read the code
/// (`testdata/adversary/README.md`), against their expected verdicts. The cases runguard still
/// gets wrong are listed with the reason; each must still fail, so that fixing one means taking
/// it off the list.
const ADVERSARY_GAPS: &[(&str, &str)] = &[
    (
        "adv17-run-admin-granted",
        "iam-admin-granted replaces invoker-added for the same principal; the tester expects both",
    ),
    (
        "adv54-disguised-dynamic-index",
        "references [this, each.key] are linked to this[each.key] only, but this[f(each.key)] \
         records the same references: the target is not proven, both services are candidates",
    ),
];

#[test]
fn adversary_plans_match_their_expectations() {
    let plans = crate::support::adversary_plans();
    assert!(plans.len() >= 30, "{} adversary plans", plans.len());
    let mut failures = Vec::new();
    for p in &plans {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let problems = check(p);
        let gap = ADVERSARY_GAPS.iter().any(|(g, _)| *g == name);
        match (problems.is_empty(), gap) {
            (false, false) => failures.push(format!("{name}: {}", problems.join("; "))),
            (true, true) => failures.push(format!("{name} passes now: take it off ADVERSARY_GAPS")),
            _ => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn scenario_snapshots() {
    for p in scenario_plans() {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        let (json, text, _) = run(&p, false);
        insta::assert_snapshot!(format!("{name}.text"), text);
        insta::assert_json_snapshot!(format!("{name}.json"), json);
    }
}

#[test]
fn all_flag_snapshots() {
    for name in ["b14-noop-public-stays", "a13-member-deleted"] {
        let p = crate::support::root().join(format!("testdata/plans/{name}.json"));
        let (_, text, _) = run(&p, true);
        insta::assert_snapshot!(format!("{name}.all.text"), text);
    }
}

/// Fixtures plant secret values containing `PLANTED` (sensitive variables, also reached only
/// through `configuration` references; plaintext env values); no output of any scenario, in any
/// format, may contain one. Compared without case: members are printed lower-cased.
#[test]
fn planted_secrets_never_reach_any_output() {
    for p in scenario_plans() {
        for all in [false, true] {
            let (json, text, _) = run(&p, all);
            let json = json.to_string();
            for (format, out) in [("json", &json), ("text", &text)] {
                assert!(
                    !out.to_lowercase().contains("planted"),
                    "{} leaks a planted secret in {format}",
                    p.display()
                );
            }
        }
    }
}

/// A grant whose role's permissions cannot be known is reported, not silently left out.
#[test]
fn a_role_with_unknown_permissions_is_reported_as_unresolved() {
    let p =
        crate::support::root().join("testdata/plans/a21-project-grant-of-outside-custom-role.json");
    let (json, text, _) = run(&p, false);
    let unresolved = json["unresolved"].as_array().expect("unresolved array");
    assert!(
        unresolved
            .iter()
            .any(|u| u["address"] == "google_project_iam_member.bob_invoker"
                && u["reason"]
                    .as_str()
                    .unwrap()
                    .contains("projects/acme-prod/roles/legacyCaller")),
        "{unresolved:?}"
    );
    assert!(text.contains("Not resolvable at plan time"), "{text}");
}

/// An IAM resource that may mean several workloads counts on each of them as uncertain, and
/// the reason stays listed as unresolved.
#[test]
fn an_ambiguous_iam_target_is_kept_as_unresolved() {
    let p = crate::support::root().join("testdata/plans/c01-ambiguous-name-two-regions.json");
    let (json, _, _) = run(&p, false);
    let unresolved = json["unresolved"].as_array().expect("unresolved array");
    assert!(
        unresolved.iter().any(
            |u| u["address"] == "google_cloud_run_v2_service_iam_member.public"
                && u["reason"]
                    .as_str()
                    .unwrap()
                    .contains("matches more than one workload")
        ),
        "{unresolved:?}"
    );
}

/// A runtime account that is unknown at plan time although its expression only refers to
/// known values (a hand-edited or inconsistent plan) stays unknown: no account among the
/// candidates is not "every candidate known".
#[test]
fn an_identity_from_known_values_only_stays_unknown() {
    let p =
        crate::support::root().join("testdata/plans/c11-identity-from-deferred-data-source.json");
    let mut plan: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    let service = &mut plan["configuration"]["root_module"]["resources"][0];
    assert_eq!(service["address"], "google_cloud_run_v2_service.api");
    service["expressions"]["template"][0]["service_account"] =
        serde_json::json!({"references": ["var.runtime_sa"]});
    plan["variables"] = serde_json::json!({"runtime_sa": {"value": "api-runtime@acme-prod.iam.gserviceaccount.com"}});
    let report = runguard::analyze(plan.to_string().as_bytes(), &runguard::Options::default())
        .expect("a plan");
    let (json, _, _) = crate::support::render(&report, false);
    let identity = &json["workloads"][0]["after"]["identity"];
    assert_eq!(identity["default"], "unknown", "{identity}");
    assert_eq!(identity["implicit"], false, "{identity}");
}

/// `want` names a subset of `got`'s fields at every object level, with equal values; arrays
/// match element by element.
fn fits(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => w
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|have| fits(v, have))),
        (Value::Array(w), Value::Array(g)) => {
            w.len() == g.len() && w.iter().zip(g).all(|(a, b)| fits(a, b))
        }
        _ => want == got,
    }
}

/// A posture's identity with its impersonators' grant set expanded to the fields expectations
/// list: member, role, granted_by and via.
fn identity_with_impersonators(report: &Value, posture: &Value) -> Value {
    let mut identity = posture["identity"].clone();
    let impersonators: Vec<Value> = grant_set(report, &identity["impersonators"])
        .iter()
        .map(|g| {
            serde_json::json!({
                "member": g["member"],
                "role": g["role"],
                "granted_by": g["granted_by"],
                "via": g["via"],
            })
        })
        .collect();
    identity["impersonators"] = Value::Array(impersonators);
    identity
}

/// Every scenario's text fits 80 and 100 columns, measured in display columns (a wide
/// character counts two), with `--all` too.
#[test]
fn every_scenario_fits_the_width_it_is_given() {
    for p in scenario_plans() {
        let bytes = std::fs::read(&p).unwrap();
        for all in [false, true] {
            let report = runguard::analyze(
                &bytes,
                &runguard::Options {
                    include_unchanged: all,
                },
            )
            .unwrap();
            for width in [80, 100] {
                let options = runguard::report::text::TextOptions {
                    color: false,
                    all,
                    gate: runguard::report::Gate {
                        threshold: Some(runguard::rules::Severity::High),
                        allow_incomplete: false,
                    },
                    width,
                };
                let mut out = Vec::new();
                runguard::report::text::render(&report, &options, &mut out).unwrap();
                let text = String::from_utf8(out).unwrap();
                for line in text.lines() {
                    let columns = textwrap::core::display_width(line);
                    assert!(
                        columns <= width,
                        "{} at {width} columns: a line of {columns}:\n{line}",
                        p.display()
                    );
                }
            }
        }
    }
}

/// Fingerprints depend on the rule, the causes and the subject only: reversing the order of the
/// plan's resources keeps every one.
#[test]
fn fingerprints_survive_reordering_the_plan() {
    for p in scenario_plans() {
        // The UTF-16 scenario is not JSON to serde_json; its twin fixtures cover the same shapes.
        let Ok(mut plan) = serde_json::from_slice::<Value>(&std::fs::read(&p).unwrap()) else {
            continue;
        };
        let Some(changes) = plan["resource_changes"].as_array_mut() else {
            continue;
        };
        let (before, _, _) = run(&p, true);
        changes.reverse();
        let report = runguard::analyze(
            plan.to_string().as_bytes(),
            &runguard::Options {
                include_unchanged: true,
            },
        )
        .unwrap();
        let (after, _, _) = crate::support::render(&report, true);
        let prints = |r: &Value| -> Vec<String> {
            let mut v: Vec<String> = r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["fingerprint"].as_str().unwrap().to_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(prints(&before), prints(&after), "{}", p.display());
    }
}

/// A grant of IAM-admin power whose target cannot be tied to one workload counts, as uncertain,
/// on every candidate: the same walk as invokers, so `iam-admin-granted` fires on both.
#[test]
fn an_ambiguous_admin_grant_counts_on_every_candidate() {
    let p = crate::support::root().join("testdata/plans/c01-ambiguous-name-two-regions.json");
    let mut plan: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    let member = plan["resource_changes"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["address"] == "google_cloud_run_v2_service_iam_member.public")
        .unwrap();
    member["change"]["after"]["role"] = "roles/run.admin".into();
    member["change"]["after"]["member"] = "user:mallory@example.com".into();
    let report = runguard::analyze(plan.to_string().as_bytes(), &runguard::Options::default())
        .expect("a plan");
    let (json, _, _) = crate::support::render(&report, false);
    for address in [
        "google_cloud_run_v2_service.api_eu",
        "google_cloud_run_v2_service.api_us",
    ] {
        let w = json["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["address"] == address)
            .unwrap();
        let admins = &w["after"]["iam_admins"];
        assert_eq!(admins[0]["member"], "user:mallory@example.com", "{address}");
        assert_eq!(admins[0]["certain"], false, "{address}");
    }
    let admin_finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "iam-admin-granted")
        .expect("iam-admin-granted");
    assert_eq!(admin_finding["workloads"].as_array().unwrap().len(), 2);
}

/// `analyze_owned`, which the binary uses to free a plan's bytes once they are read, reports
/// exactly what `analyze` does, on every fixture and in every error, whether the bytes were read
/// or the file mapped.
#[test]
#[allow(unsafe_code)]
fn analyzing_owned_bytes_reports_the_same() {
    let options = runguard::Options {
        include_unchanged: true,
    };
    for p in scenario_plans()
        .into_iter()
        .chain(crate::support::adversary_plans())
    {
        let bytes = std::fs::read(&p).unwrap();
        let borrowed =
            runguard::analyze(&bytes, &options).map(|r| crate::support::render(&r, true).0);
        let owned =
            runguard::analyze_owned(bytes, &options).map(|r| crate::support::render(&r, true).0);
        assert_eq!(borrowed, owned, "{}", p.display());
        // SAFETY: nothing writes to the fixtures while the tests run.
        let mapped = unsafe { runguard::map_plan_file(&p) }.unwrap();
        let mapped =
            runguard::analyze_owned(mapped, &options).map(|r| crate::support::render(&r, true).0);
        assert_eq!(borrowed, mapped, "{}, mapped", p.display());
    }
    for bad in [
        &b""[..],
        b"PK\x03\x04",
        b"{\"format_version\":\"1.2\",\"resource_changes\":[7]}",
    ] {
        assert_eq!(
            runguard::analyze(bad, &options).map(|_| ()),
            runguard::analyze_owned(bad.to_vec(), &options).map(|_| ())
        );
    }
}

/// A mapped plan that is written to before its analysis ends is refused, not analysed: the
/// bytes parsed may be neither the old plan nor the new one. Here whitespace is appended, so
/// that both are valid plans and only the check can tell.
#[test]
#[allow(unsafe_code)]
fn a_mapped_plan_written_to_while_read_is_refused() {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(&std::fs::read("examples/plan.json").unwrap())
        .unwrap();
    // A file changed in the last two seconds is read, not mapped.
    std::thread::sleep(std::time::Duration::from_millis(2_100));
    // SAFETY: the test appends to the file on this thread before the bytes are read; appending
    // does not change the mapped pages.
    let mapped = unsafe { runguard::map_plan_file(file.path()) }.unwrap();
    if !mapped.is_mapped() {
        eprintln!("skipped: the temporary directory is not on a local file system");
        return;
    }
    file.write_all(b"\n").unwrap();
    let analysed = runguard::analyze_owned(mapped, &runguard::Options::default());
    assert_eq!(
        analysed.map(|_| ()),
        Err(runguard::InputError::ChangedWhileRead)
    );
}
