use super::file::workload_matcher;
use super::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/config")
        .join(name)
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

fn parse(source: &str) -> Config {
    Config::parse(Path::new("runguard.toml"), source).unwrap()
}

fn workloads(list: &[&str]) -> Vec<std::sync::Arc<str>> {
    list.iter().map(|s| (*s).into()).collect()
}

#[test]
fn full_fixture_loads_every_setting() {
    let config = Config::load(&fixture("full.toml")).unwrap();
    assert_eq!(config.fail_on, Some(FailOn::At(Severity::Medium)));
    assert_eq!(
        config.severity("default-service-account"),
        Some(Severity::Low)
    );
    assert_eq!(config.severity("ingress-widened"), Some(Severity::High));
    assert_eq!(config.severity("public-invoker"), None);
    let lines: Vec<usize> = config.accept.iter().map(|a| a.line).collect();
    assert_eq!(lines, [8, 14, 18]);
    assert_eq!(config.accept[0].rule.as_deref(), Some("public-invoker"));
    assert_eq!(config.accept[0].expires, Some(date("2027-03-01")));
    assert_eq!(config.accept[1].rule, None);
    assert!(matches!(&config.accept[2].target, Target::Fingerprint(f) if f == "3f9a0c1e5b7d2a64"));
    // A bare TOML date reads as the same day as a string.
    assert_eq!(config.accept[2].expires, Some(date("2026-12-31")));
}

/// Each broken fixture: the line the error names, and what it says.
#[test]
fn every_broken_fixture_names_its_file_line_and_problem() {
    let cases = [
        ("unknown-key.toml", 2, "unknown field `fail_on_unknown`"),
        ("unknown-accept-key.toml", 3, "unknown field `workloads`"),
        ("missing-reason.toml", 7, "has no `reason`"),
        ("empty-reason.toml", 3, "reason is empty"),
        (
            "bad-glob.toml",
            3,
            "`google_cloud_run_v2_service.{site,www` is not a valid glob",
        ),
        (
            "bad-date.toml",
            4,
            "`2027-02-30` is not a day of the calendar",
        ),
        (
            "us-date.toml",
            4,
            "`03/01/2027` is not a date written YYYY-MM-DD",
        ),
        ("unknown-rule.toml", 2, "unknown rule `public-invokers`"),
        ("unknown-severity-rule.toml", 3, "unknown rule `default-sa`"),
        (
            "bad-severity.toml",
            2,
            "`urgent` is not one of info, low, medium, high, critical",
        ),
        (
            "bad-fail-on.toml",
            1,
            "fail_on: `info` is not one of none, low",
        ),
        (
            "both-targets.toml",
            3,
            "names both `workload` and `fingerprint`",
        ),
        ("no-target.toml", 1, "names no findings"),
    ];
    for (name, line, gist) in cases {
        let path = fixture(name);
        let err = Config::load(&path).expect_err(name);
        assert_eq!(err.path, path, "{name}");
        assert_eq!(err.line, Some(line), "{name}: {err}");
        assert!(err.message.contains(gist), "{name}: {err}");
        let shown = err.to_string();
        assert!(
            shown.starts_with(&format!("{}:{line}: ", path.display())),
            "{name}: {shown}"
        );
        assert_eq!(shown.lines().count(), 1, "{name}: {shown}");
    }
}

#[test]
fn a_file_that_cannot_be_read_is_an_error_without_a_line() {
    let err = Config::load(&fixture("absent.toml")).unwrap_err();
    assert_eq!(err.line, None);
    assert!(
        err.to_string().contains("absent.toml: cannot read"),
        "{err}"
    );
}

#[test]
fn toml_syntax_errors_name_their_line() {
    let err = Config::parse(
        Path::new("runguard.toml"),
        "fail_on = \"high\"\n[[accept]\n",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(2), "{err}");
}

#[test]
fn empty_file_is_a_config_without_settings() {
    let config = parse("");
    assert_eq!(config.fail_on, None);
    assert!(config.accept.is_empty());
    assert_eq!(config.fail_on.map(FailOn::threshold), None);
    assert_eq!(parse("fail_on = \"none\"").fail_on, Some(FailOn::Never));
    assert_eq!(FailOn::Never.threshold(), None);
}

const SITE: &str = "google_cloud_run_v2_service.site";
const API: &str = "google_cloud_run_v2_service.api";

#[test]
fn a_workload_glob_accepts_a_finding_only_when_it_matches_every_workload() {
    let config = parse(
        r#"
[[accept]]
rule = "public-invoker"
workload = "google_cloud_run_v2_service.site*"
reason = "public by design"
"#,
    );
    let site = workloads(&[SITE]);
    let sites = workloads(&[SITE, "google_cloud_run_v2_service.site_eu"]);
    let site_and_api = workloads(&[SITE, API]);
    let findings = [
        FindingRef {
            rule: "public-invoker",
            fingerprint: "a",
            workloads: &site,
        },
        FindingRef {
            rule: "public-invoker",
            fingerprint: "b",
            workloads: &sites,
        },
        // A project-wide cause that also exposes the API is not what was accepted.
        FindingRef {
            rule: "public-invoker",
            fingerprint: "c",
            workloads: &site_and_api,
        },
        // Another rule on the same workload.
        FindingRef {
            rule: "ingress-widened",
            fingerprint: "d",
            workloads: &site,
        },
        // No workload at all: nothing for a glob to vouch for.
        FindingRef {
            rule: "public-invoker",
            fingerprint: "e",
            workloads: &[],
        },
    ];
    let judgement = config.judge(findings, date("2026-01-01"));
    let accepted: Vec<bool> = judgement.accepted.iter().map(Option::is_some).collect();
    assert_eq!(accepted, [true, true, false, false, false]);
    assert_eq!(
        judgement.accepted[0],
        Some(Acceptance {
            entry: 0,
            reason: "public by design".into()
        })
    );
    assert!(judgement.stale.is_empty());
    assert!(judgement.expired.is_empty());
}

#[test]
fn an_entry_without_rule_accepts_any_rule() {
    let config = parse(&format!(
        "[[accept]]\nworkload = \"{SITE}\"\nreason = \"r\"\n"
    ));
    let site = workloads(&[SITE]);
    let judgement = config.judge(
        ["public-invoker", "ingress-widened"].map(|rule| FindingRef {
            rule,
            fingerprint: "x",
            workloads: &site,
        }),
        date("2026-01-01"),
    );
    assert!(judgement.accepted.iter().all(Option::is_some));
}

#[test]
fn brackets_in_a_glob_are_the_instance_key_not_a_character_class() {
    let config = parse(
        r#"
[[accept]]
workload = 'module.site["eu"].google_cloud_run_v2_service.*'
reason = "r"
"#,
    );
    let eu = workloads(&[r#"module.site["eu"].google_cloud_run_v2_service.this"#]);
    let us = workloads(&[r#"module.site["us"].google_cloud_run_v2_service.this"#]);
    let judgement = config.judge(
        [&eu, &us].map(|w| FindingRef {
            rule: "public-invoker",
            fingerprint: "x",
            workloads: w,
        }),
        date("2026-01-01"),
    );
    let accepted: Vec<bool> = judgement.accepted.iter().map(Option::is_some).collect();
    assert_eq!(accepted, [true, false]);
}

#[test]
fn a_glob_matches_whole_addresses_with_alternation() {
    let matcher = workload_matcher("google_cloud_run_v2_service.{site,www}").unwrap();
    assert!(matcher.is_match(SITE));
    assert!(matcher.is_match("google_cloud_run_v2_service.www"));
    assert!(!matcher.is_match("google_cloud_run_v2_service.site2"));
    assert!(!matcher.is_match(format!("module.x.{SITE}")));
    // `*` crosses the dots of module paths.
    assert!(
        workload_matcher("*.site")
            .unwrap()
            .is_match(format!("module.a.module.b.{SITE}"))
    );
    assert!(workload_matcher("").is_err());
}

#[test]
fn a_fingerprint_accepts_exactly_its_finding_and_the_rule_must_agree() {
    let config = parse(
        r#"
[[accept]]
fingerprint = "f1"
reason = "one finding"

[[accept]]
rule = "ingress-widened"
fingerprint = "f2"
reason = "rule-pinned"
"#,
    );
    let site = workloads(&[SITE]);
    let judgement = config.judge(
        [
            FindingRef {
                rule: "public-invoker",
                fingerprint: "f1",
                workloads: &site,
            },
            FindingRef {
                rule: "public-invoker",
                fingerprint: "f1x",
                workloads: &site,
            },
            FindingRef {
                rule: "public-invoker",
                fingerprint: "f2",
                workloads: &site,
            },
        ],
        date("2026-01-01"),
    );
    let by: Vec<Option<usize>> = judgement
        .accepted
        .iter()
        .map(|a| a.as_ref().map(|a| a.entry))
        .collect();
    assert_eq!(by, [Some(0), None, None]);
    assert_eq!(judgement.stale, [1]);
}

#[test]
fn the_first_matching_entry_accepts_and_a_shadowed_match_is_not_stale() {
    let config = parse(&format!(
        "[[accept]]\nworkload = \"{SITE}\"\nreason = \"first\"\n\n\
         [[accept]]\nworkload = \"*\"\nreason = \"second\"\n"
    ));
    let site = workloads(&[SITE]);
    let judgement = config.judge(
        [FindingRef {
            rule: "public-invoker",
            fingerprint: "x",
            workloads: &site,
        }],
        date("2026-01-01"),
    );
    assert_eq!(judgement.accepted[0].as_ref().unwrap().reason, "first");
    assert!(judgement.stale.is_empty(), "{judgement:?}");
}

#[test]
fn an_entry_accepts_up_to_its_expiry_day_and_nothing_after() {
    let config = parse(&format!(
        "[[accept]]\nworkload = \"{SITE}\"\nreason = \"until March\"\nexpires = \"2027-03-01\"\n"
    ));
    let site = workloads(&[SITE]);
    let finding = [FindingRef {
        rule: "public-invoker",
        fingerprint: "x",
        workloads: &site,
    }];
    let on_the_day = config.judge(finding, date("2027-03-01"));
    assert!(on_the_day.accepted[0].is_some());
    assert!(on_the_day.expired.is_empty());

    let day_after = config.judge(finding, date("2027-03-02"));
    assert_eq!(day_after.accepted, [None]);
    assert_eq!(
        day_after.expired,
        [Expired {
            entry: 0,
            expires: date("2027-03-01")
        }]
    );
    // Expired, not also stale.
    assert!(day_after.stale.is_empty());
}

#[test]
fn an_expired_entry_is_reported_even_when_it_would_match_nothing() {
    let config =
        parse("[[accept]]\nfingerprint = \"gone\"\nreason = \"r\"\nexpires = \"2020-01-01\"\n");
    let judgement = config.judge([], date("2026-01-01"));
    assert_eq!(judgement.expired.len(), 1);
    assert!(judgement.stale.is_empty());
}

#[test]
fn an_entry_that_matches_nothing_is_stale() {
    let config = parse(&format!(
        "[[accept]]\nworkload = \"{SITE}\"\nreason = \"used\"\n\n\
         [[accept]]\nworkload = \"google_cloud_run_v2_service.old\"\nreason = \"removed long ago\"\n"
    ));
    let site = workloads(&[SITE]);
    let judgement = config.judge(
        [FindingRef {
            rule: "public-invoker",
            fingerprint: "x",
            workloads: &site,
        }],
        date("2026-01-01"),
    );
    assert_eq!(judgement.stale, [1]);
    assert_eq!(config.accept[judgement.stale[0]].line, 5);
}

#[test]
fn dates_parse_strictly_and_order_chronologically() {
    assert_eq!(date("2024-02-29").to_string(), "2024-02-29");
    for bad in [
        "2023-02-29",
        "1900-02-29",
        "2027-13-01",
        "2027-00-10",
        "2027-04-31",
        "2027-3-1",
        "2027-03-01T00:00",
        "+027-03-01",
        "２０２７-03-01",
    ] {
        assert!(bad.parse::<Date>().is_err(), "{bad}");
    }
    assert!(date("2000-02-29") < date("2000-03-01"));
    assert!(date("2026-12-31") < date("2027-01-01"));
}

#[test]
fn a_bare_toml_datetime_with_a_time_is_refused() {
    let err = Config::parse(
        Path::new("runguard.toml"),
        "[[accept]]\nfingerprint = \"f\"\nreason = \"r\"\nexpires = 2027-03-01T10:00:00Z\n",
    )
    .unwrap_err();
    assert_eq!(err.line, Some(4));
    assert!(err.message.contains("no time of day"), "{err}");
}

#[test]
fn days_since_the_epoch_become_civil_dates() {
    assert_eq!(Date::from_days_since_epoch(0), date("1970-01-01"));
    assert_eq!(Date::from_days_since_epoch(11_016), date("2000-02-29"));
    assert_eq!(Date::from_days_since_epoch(20_513), date("2026-03-01"));
    assert_eq!(Date::from_days_since_epoch(20_818), date("2026-12-31"));
    assert!(Date::today_utc() > date("2025-01-01"));
}

#[test]
fn discovery_prefers_the_current_directory_then_the_git_root() {
    let root = tempfile::tempdir().unwrap();
    let nested = root.path().join("stacks/prod");
    std::fs::create_dir_all(&nested).unwrap();
    // No git root and no file: no configuration.
    assert!(Config::discover(&nested).unwrap().is_none());

    // A worktree's `.git` is a file; either marks the root.
    std::fs::write(root.path().join(".git"), "gitdir: elsewhere\n").unwrap();
    assert!(Config::discover(&nested).unwrap().is_none());
    std::fs::write(root.path().join(FILE_NAME), "fail_on = \"low\"\n").unwrap();
    let found = Config::discover(&nested).unwrap().unwrap();
    assert_eq!(found.path, root.path().join(FILE_NAME));
    assert_eq!(found.fail_on, Some(FailOn::At(Severity::Low)));

    std::fs::write(nested.join(FILE_NAME), "fail_on = \"critical\"\n").unwrap();
    let found = Config::discover(&nested).unwrap().unwrap();
    assert_eq!(found.path, nested.join(FILE_NAME));
    assert_eq!(found.fail_on, Some(FailOn::At(Severity::Critical)));

    // A broken file is an error, not a reason to run without it.
    std::fs::write(nested.join(FILE_NAME), "fail_on = 3\n").unwrap();
    assert!(Config::discover(&nested).is_err());
}
