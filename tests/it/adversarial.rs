//! Hostile and broken input (issue 4): every adversarial case gets a clear error (exit 2, one line
//! on stderr naming the file) or a correct analysis, never a panic, a stack overflow or a hang;
//! plan strings cannot inject terminal control or bidi text; sensitive values never reach output.
//!
//! Every input is built in memory (or in a scratch directory under the system temp dir) and
//! removed afterwards. Cases that could overflow the stack run through the binary, so a crash
//! fails one test instead of aborting the whole suite; in-process analyses run on a thread with
//! a deadline, so a hang fails the test instead of blocking it.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use assert_cmd::Command;
use runguard::InputError;
use runguard::report::Gate;
use runguard::report::text::TextOptions;
use runguard::rules::Severity;
use runguard::{Options, analyze};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------------------------

const CLI_TIMEOUT: Duration = Duration::from_secs(20);

fn runguard() -> Command {
    let mut c = Command::cargo_bin("runguard").expect("binary built");
    c.current_dir(crate::support::root())
        .env_remove("NO_COLOR")
        .timeout(CLI_TIMEOUT);
    c
}

/// Runs `f` on its own thread (8 MiB of stack, like a main thread) and waits at most `secs`:
/// a hang fails the test rather than the suite, a panic fails it with the panic's message.
fn within<T: Send + 'static>(what: &str, secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(what.to_owned())
        .stack_size(8 << 20)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => v,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: no result after {secs} s (hang?)"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: the analysis panicked (see above)"),
    }
}

/// The right to run a case whose input or analysis takes hundreds of megabytes: at most one
/// exists at a time, so the suite's memory peak is the largest such case, not the sum of those
/// that the harness happens to run together. Taken before the case builds its input, and moved
/// into the analysis, so that an analysis still running past its deadline (its thread cannot be
/// stopped) keeps it until it ends.
struct HugeCase;

static HUGE_RUNNING: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

fn one_huge_case_at_a_time() -> HugeCase {
    let (running, freed) = &HUGE_RUNNING;
    let mut running = running.lock().unwrap_or_else(|p| p.into_inner());
    while *running {
        running = freed.wait(running).unwrap_or_else(|p| p.into_inner());
    }
    *running = true;
    HugeCase
}

impl Drop for HugeCase {
    fn drop(&mut self) {
        let (running, freed) = &HUGE_RUNNING;
        *running.lock().unwrap_or_else(|p| p.into_inner()) = false;
        freed.notify_one();
    }
}

/// What every format says about one plan.
struct Outcome {
    json: Value,
    text: String,
}

impl Outcome {
    fn unanalysable(&self) -> Vec<(String, String)> {
        self.json["unanalysable"]
            .as_array()
            .expect("unanalysable is an array")
            .iter()
            .map(|u| {
                (
                    u["address"].as_str().unwrap().to_owned(),
                    u["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    fn workload(&self, address: &str) -> Option<&Value> {
        self.json["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["address"] == address)
    }

    fn has_change(&self, rule: &str, direction: &str, workload: &str) -> bool {
        self.json["findings"].as_array().unwrap().iter().any(|f| {
            f["rule"] == rule
                && f["direction"] == direction
                && f["workloads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|w| w == workload)
        })
    }

    /// The control workload of [`control`] was analysed: the rest of the plan still counts.
    fn assert_control_analysed(&self, case: &str) {
        assert!(
            self.has_change("public-invoker", "worsened", CONTROL),
            "{case}: the rest of the plan was not analysed (no public-invoker on {CONTROL}):\n{}",
            self.text
        );
    }

    /// `address` is listed as not analysable, and the report says it is incomplete.
    fn assert_unanalysable(&self, case: &str, address: &str) {
        let listed = self.unanalysable();
        assert!(
            listed.iter().any(|(a, _)| a == address),
            "{case}: {address} is not listed in `unanalysable` (listed: {listed:?}); text:\n{}",
            self.text
        );
        assert_eq!(self.json["summary"]["complete"], false, "{case}");
        assert!(self.text.contains("Not analysed"), "{case}: {}", self.text);
    }
}

/// Analyses in-process, within a deadline, and renders text (no colour) and JSON.
fn analyse(what: &str, bytes: Vec<u8>, all: bool) -> Result<Outcome, InputError> {
    analyse_holding(what, bytes, all, None)
}

/// [`analyse`], keeping `huge` until the analysis ends.
fn analyse_holding(
    what: &str,
    bytes: Vec<u8>,
    all: bool,
    huge: Option<HugeCase>,
) -> Result<Outcome, InputError> {
    within(what, 60, move || {
        let _huge = huge;
        let report = analyze(
            &bytes,
            &Options {
                include_unchanged: all,
            },
        )?;
        drop(bytes);
        let (json, text, _) = crate::support::render(&report, all);
        Ok(Outcome { json, text })
    })
}

fn analysed(what: &str, bytes: Vec<u8>) -> Outcome {
    analyse(what, bytes, false).unwrap_or_else(|e| panic!("{what}: refused: {e}"))
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "runguard-adversarial-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write scratch file");
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(entries) = std::fs::read_dir(&self.0) {
                for e in entries.flatten() {
                    let _ =
                        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o644));
                }
            }
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary's result on one input file.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run_file(path: &Path, args: &[&str]) -> Run {
    let out = runguard()
        .arg(path)
        .args(args)
        .output()
        .expect("run runguard");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    /// Exit 2, nothing on stdout, one line on stderr naming the file (and containing `gist`).
    fn assert_refused(&self, case: &str, file: &str, gist: &str) {
        assert_eq!(
            self.code,
            Some(2),
            "{case}: expected exit 2 (killed by a signal, a stack overflow or the {CLI_TIMEOUT:?} \
             timeout shows as None); stderr: {}",
            clip(&self.stderr)
        );
        self.assert_one_line_error(case, file);
        assert!(
            self.stderr.contains(gist),
            "{case}: the error does not say {gist:?}: {}",
            clip(&self.stderr)
        );
        assert!(self.stdout.is_empty(), "{case}: printed a report on stdout");
    }

    fn assert_one_line_error(&self, case: &str, file: &str) {
        assert!(
            self.stderr
                .starts_with(&format!("runguard: error: {file}: ")),
            "{case}: the error does not start with `runguard: error: {file}: `: {}",
            clip(&self.stderr)
        );
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "{case}: the error is not one line: {}",
            clip(&self.stderr)
        );
    }

    /// Exit 0/1 with a JSON report, or exit 2 with a clear one-line error: never a crash or hang.
    fn assert_handled(&self, case: &str, file: &str) -> Option<Value> {
        match self.code {
            Some(0 | 1) => Some(serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
                panic!("{case}: exit {:?} but stdout is not JSON: {e}", self.code)
            })),
            Some(2) => {
                self.assert_one_line_error(case, file);
                None
            }
            other => panic!(
                "{case}: exit {other:?} (None = killed by a signal, stack overflow or the \
                 {CLI_TIMEOUT:?} timeout); stderr: {}",
                clip(&self.stderr)
            ),
        }
    }
}

fn clip(s: &str) -> String {
    if s.len() <= 600 {
        return s.to_owned();
    }
    let mut end = 600;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

// ---------------------------------------------------------------------------------------------
// Plan builders: `terraform show -json` shapes, as small as the analysis allows
// ---------------------------------------------------------------------------------------------

const CONTROL: &str = "google_cloud_run_v2_service.control";
const PROJECT: &str = "acme-prod";
const REGION: &str = "europe-west1";

/// One `resource_changes` entry; `before`/`after` null means absent on that side.
fn change(address: &str, rtype: &str, actions: &[&str], before: Value, after: Value) -> Value {
    let sensitive = |v: &Value| if v.is_null() { json!(false) } else { json!({}) };
    json!({
        "address": address,
        "mode": if address.contains("data.") { "data" } else { "managed" },
        "type": rtype,
        "name": address.rsplit('.').next().unwrap(),
        "provider_name": "registry.terraform.io/hashicorp/google",
        "change": {
            "actions": actions,
            "before": before,
            "after": after,
            "after_unknown": {},
            "before_sensitive": sensitive(&before),
            "after_sensitive": sensitive(&after),
        }
    })
}

fn create(address: &str, rtype: &str, after: Value) -> Value {
    change(address, rtype, &["create"], Value::Null, after)
}

/// The `after` object of a v2 service.
fn service(name: &str, service_account: &str) -> Value {
    json!({
        "name": name,
        "project": PROJECT,
        "location": REGION,
        "ingress": "INGRESS_TRAFFIC_ALL",
        "invoker_iam_disabled": false,
        "default_uri_disabled": false,
        "iap_enabled": false,
        "deletion_protection": true,
        "labels": null,
        "template": [{
            "service_account": service_account,
            "containers": [{"image": "europe-west1-docker.pkg.dev/acme-prod/apps/api:1.0.0", "env": []}],
        }],
    })
}

/// The `after` object of a `google_cloud_run_v2_service_iam_member`.
fn invoker(service_name: &str, member: &str) -> Value {
    json!({
        "name": service_name,
        "project": PROJECT,
        "location": REGION,
        "role": "roles/run.invoker",
        "member": member,
        "condition": [],
    })
}

/// A service that becomes public: proof that the rest of a plan was still analysed.
fn control() -> Vec<Value> {
    vec![
        create(
            CONTROL,
            "google_cloud_run_v2_service",
            service(
                "control",
                "control-runtime@acme-prod.iam.gserviceaccount.com",
            ),
        ),
        create(
            "google_cloud_run_v2_service_iam_member.control_public",
            "google_cloud_run_v2_service_iam_member",
            invoker("control", "allUsers"),
        ),
    ]
}

fn plan(changes: Vec<Value>) -> Value {
    json!({
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "resource_changes": changes,
    })
}

/// The control plan plus `extra` entries.
fn plan_with(extra: Vec<Value>) -> Value {
    let mut changes = control();
    changes.extend(extra);
    plan(changes)
}

fn bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// Serialises `v`, then replaces the JSON string `"@@SLOT@@"` (which must occur once) with raw
/// JSON text, so that huge or deliberately malformed values never go through a `Value`.
fn splice(v: &Value, raw: &[u8]) -> Vec<u8> {
    splice_slots(
        v,
        raw.len(),
        [("@@SLOT@@", &mut |out| out.extend_from_slice(raw))],
    )
}

/// A writer of raw JSON text into a plan being built.
type Slot<'a> = &'a mut dyn FnMut(&mut Vec<u8>);

/// Serialises `v`, then replaces each JSON string `"MARKER"` of `slots` (each must occur once)
/// with what its writer writes, straight into the plan: a huge value is built once, in place,
/// never as a separate buffer to copy. `extra` is about how many bytes the writers add.
fn splice_slots<const N: usize>(v: &Value, extra: usize, slots: [(&str, Slot); N]) -> Vec<u8> {
    let text = bytes(v);
    let mut at: Vec<(usize, usize, Slot)> = slots
        .into_iter()
        .map(|(marker, write)| {
            let marker = format!("\"{marker}\"");
            let start = text
                .windows(marker.len())
                .position(|w| w == marker.as_bytes())
                .unwrap_or_else(|| panic!("the plan holds the marker {marker}"));
            (start, start + marker.len(), write)
        })
        .collect();
    at.sort_by_key(|(start, _, _)| *start);
    let mut out = Vec::with_capacity(text.len() + extra);
    let mut copied = 0;
    for (start, end, write) in at {
        out.extend_from_slice(&text[copied..start]);
        write(&mut out);
        copied = end;
    }
    out.extend_from_slice(&text[copied..]);
    out
}

fn deep_array(depth: usize) -> Vec<u8> {
    let mut v = vec![b'['; depth];
    v.extend(std::iter::repeat_n(b']', depth));
    v
}

// ---------------------------------------------------------------------------------------------
// Nesting 100,000 levels deep (through the binary: a stack overflow must fail one test only)
// ---------------------------------------------------------------------------------------------

const DEEP: usize = 100_000;

/// Writes `bytes`, runs the binary with `--format json`, and checks the outcome is handled.
fn deep_case(case: &str, bytes: &[u8]) -> (Run, Option<Value>) {
    let dir = Scratch::new(case);
    let path = dir.file("plan.json", bytes);
    let run = run_file(&path, &["--format", "json"]);
    let report = run.assert_handled(case, &path.display().to_string());
    (run, report)
}

fn json_has_change(report: &Value, rule: &str, workload: &str) -> bool {
    report["findings"].as_array().unwrap().iter().any(|f| {
        f["rule"] == rule
            && f["workloads"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w == workload)
    })
}

fn json_unanalysable(report: &Value, address: &str) -> bool {
    report["unanalysable"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["address"] == address)
}

#[test]
fn nesting_100k_deep_as_the_whole_document_is_refused() {
    let dir = Scratch::new("deep-document");
    for (name, doc) in [
        ("arrays.json", deep_array(DEEP)),
        ("objects.json", {
            let mut v = b"{\"a\":".repeat(DEEP);
            v.extend_from_slice(b"1");
            v.extend(std::iter::repeat_n(b'}', DEEP));
            v
        }),
    ] {
        let path = dir.file(name, &doc);
        run_file(&path, &[]).assert_refused(
            &format!("100k-deep document ({name})"),
            &path.display().to_string(),
            "",
        );
    }
}

#[test]
fn nesting_100k_deep_in_an_unrelated_resource_is_analysed() {
    let p = plan_with(vec![create(
        "terraform_data.deep",
        "terraform_data",
        json!({"input": "@@SLOT@@"}),
    )]);
    let (run, report) = deep_case("deep-unrelated", &splice(&p, &deep_array(DEEP)));
    let report = report.unwrap_or_else(|| {
        panic!(
            "a deep value in a resource runguard does not read refused the whole plan: {}",
            run.stderr
        )
    });
    assert!(json_has_change(&report, "public-invoker", CONTROL));
}

#[test]
fn nesting_100k_deep_in_a_cloud_run_attribute_is_reported() {
    let mut svc = service("deep", "deep@acme-prod.iam.gserviceaccount.com");
    svc["labels"] = json!("@@SLOT@@");
    let address = "google_cloud_run_v2_service.deep";
    let p = plan_with(vec![create(address, "google_cloud_run_v2_service", svc)]);
    let (_, report) = deep_case("deep-cloud-run", &splice(&p, &deep_array(DEEP)));
    // Refused with a clear error, or analysed with the service listed as not analysable.
    if let Some(report) = report {
        assert!(
            json_unanalysable(&report, address)
                || report["workloads"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|w| w["address"] == address),
            "{address} is neither analysed nor listed as not analysable: {report:#}"
        );
        assert!(json_has_change(&report, "public-invoker", CONTROL));
    }
}

#[test]
fn nesting_100k_deep_in_masks_configuration_variables_and_state_is_handled() {
    // One plan per section runguard reads beyond `after`: none may crash or hang, and a refusal
    // must be a one-line error naming the file.
    let deep = deep_array(DEEP);
    let svc_address = "google_cloud_run_v2_service.masked";
    let masked = |mask: &str| {
        let mut c = create(
            svc_address,
            "google_cloud_run_v2_service",
            service("masked", "m@acme-prod.iam.gserviceaccount.com"),
        );
        c["change"][mask] = json!({"labels": "@@SLOT@@"});
        plan_with(vec![c])
    };
    let with_top = |key: &str, value: Value| {
        let mut p = plan_with(vec![]);
        p[key] = value;
        p
    };
    let policy = {
        let mut c = create(
            "google_cloud_run_v2_service_iam_policy.deep",
            "google_cloud_run_v2_service_iam_policy",
            json!({"name": "control", "project": PROJECT, "location": REGION}),
        );
        // A JSON document inside a string: 100k `[` escaped as a string value.
        c["change"]["after"]["policy_data"] = json!(String::from_utf8(deep.clone()).unwrap());
        plan_with(vec![c])
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("after_unknown", splice(&masked("after_unknown"), &deep)),
        ("after_sensitive", splice(&masked("after_sensitive"), &deep)),
        (
            "configuration",
            splice(
                &with_top(
                    "configuration",
                    json!({"root_module": {"resources": [{
                        "address": "google_cloud_run_v2_service.control",
                        "mode": "managed", "type": "google_cloud_run_v2_service", "name": "control",
                        "expressions": {"labels": "@@SLOT@@"}
                    }]}}),
                ),
                &deep,
            ),
        ),
        (
            "variables",
            splice(
                &with_top("variables", json!({"deep": {"value": "@@SLOT@@"}})),
                &deep,
            ),
        ),
        (
            "prior_state",
            splice(
                &with_top(
                    "prior_state",
                    json!({"format_version": "1.0", "values": {"root_module": {"resources": [{
                        "address": "data.google_iam_policy.deep", "mode": "data",
                        "type": "google_iam_policy", "name": "deep",
                        "values": {"policy_data": "{}", "binding": "@@SLOT@@"}
                    }]}}}),
                ),
                &deep,
            ),
        ),
        (
            "planned_values",
            splice(
                &with_top(
                    "planned_values",
                    json!({"root_module": {"resources": [], "child_modules": "@@SLOT@@"}}),
                ),
                &deep,
            ),
        ),
        ("policy_data string", bytes(&policy)),
    ];
    for (section, input) in cases {
        let case = format!("deep-{}", section.replace(' ', "-"));
        deep_case(&case, &input);
    }
}

// ---------------------------------------------------------------------------------------------
// A 200 MB string value
// ---------------------------------------------------------------------------------------------

const BIG: usize = 200 << 20;

/// Writes a JSON string of [`BIG`] bytes.
fn big_string(out: &mut Vec<u8>) {
    out.push(b'"');
    out.resize(out.len() + BIG, b'a');
    out.push(b'"');
}

#[test]
fn string_of_200_mb_in_an_unrelated_resource_is_analysed() {
    let p = plan_with(vec![create(
        "terraform_data.big",
        "terraform_data",
        json!({"input": "@@SLOT@@"}),
    )]);
    let huge = one_huge_case_at_a_time();
    let input = splice_slots(&p, BIG + 2, [("@@SLOT@@", &mut big_string)]);
    let out = analyse_holding("200 MB unrelated", input, false, Some(huge))
        .unwrap_or_else(|e| panic!("refused: {e}"));
    out.assert_control_analysed("200 MB string in an unrelated resource");
    assert!(out.unanalysable().is_empty(), "{:?}", out.unanalysable());
}

#[test]
fn string_of_200_mb_as_a_cloud_run_service_name_is_analysed() {
    let address = "google_cloud_run_v2_service.big";
    let p = plan_with(vec![create(
        address,
        "google_cloud_run_v2_service",
        service("@@SLOT@@", "big@acme-prod.iam.gserviceaccount.com"),
    )]);
    let huge = one_huge_case_at_a_time();
    let input = splice_slots(&p, BIG + 2, [("@@SLOT@@", &mut big_string)]);
    let out = analyse_holding("200 MB service name", input, true, Some(huge))
        .unwrap_or_else(|e| panic!("refused: {e}"));
    out.assert_control_analysed("200 MB service name");
    let w = out
        .workload(address)
        .unwrap_or_else(|| panic!("{address} missing from workloads: {}", out.text));
    assert_eq!(
        w["after"]["identity"]["service_account"],
        "big@acme-prod.iam.gserviceaccount.com"
    );
    assert_eq!(w["after"]["public"], "no");
}

// ---------------------------------------------------------------------------------------------
// Invalid UTF-8
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_is_refused_with_its_offset() {
    let mut input = bytes(&plan_with(vec![]));
    let at = input
        .windows(b"control-runtime".len())
        .position(|w| w == b"control-runtime")
        .unwrap();
    input[at + 7] = 0xFF;
    assert_eq!(
        analyze(&input, &Options::default()).unwrap_err(),
        InputError::InvalidText {
            detail: format!("invalid UTF-8 at byte {}", at + 7)
        }
    );
    let dir = Scratch::new("utf8");
    for (name, bad) in [
        ("ff.json", input.clone()),
        ("overlong.json", {
            let mut v = input.clone();
            v[at + 7] = 0xC0;
            v.insert(at + 8, 0xAF);
            v
        }),
        ("surrogate.json", {
            let mut v = input.clone();
            v.splice(at + 7..at + 8, [0xED, 0xA0, 0x80]);
            v
        }),
    ] {
        let path = dir.file(name, &bad);
        run_file(&path, &[]).assert_refused(
            &format!("invalid UTF-8 ({name})"),
            &path.display().to_string(),
            "invalid UTF-8 at byte",
        );
    }
}

#[test]
fn lone_surrogate_escape_is_refused_or_reported() {
    // Valid UTF-8 bytes, but `\ud800` decodes to no character.
    let member = create(
        "google_cloud_run_v2_service_iam_member.lone",
        "google_cloud_run_v2_service_iam_member",
        invoker("control", "@@SLOT@@"),
    );
    let input = splice(&plan_with(vec![member]), br#""user:\ud800@acme.com""#);
    match analyse("lone surrogate", input, false) {
        Err(e) => assert!(
            e.to_string().contains("surrogate"),
            "the error does not say what is wrong: {e}"
        ),
        Ok(out) => {
            out.assert_unanalysable(
                "lone surrogate",
                "google_cloud_run_v2_service_iam_member.lone",
            );
            out.assert_control_analysed("lone surrogate");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Duplicate keys: JSON leaves their meaning open, so runguard must not pick one silently
// ---------------------------------------------------------------------------------------------

#[test]
fn duplicate_top_level_key_is_refused_clearly() {
    // `resource_changes` twice: the first makes a service public, the second is empty. A reader
    // that keeps the last sees nothing to review.
    let text = String::from_utf8(bytes(&plan_with(vec![]))).unwrap();
    let input = format!(
        "{},\"resource_changes\":[]}}",
        text.strip_suffix('}').unwrap()
    );
    let err = analyze(input.as_bytes(), &Options::default())
        .expect_err("a plan with two `resource_changes` keys is refused");
    assert!(
        err.to_string().contains("duplicate"),
        "the error does not name the duplicate key: {err}"
    );
    let dir = Scratch::new("dup-top");
    let path = dir.file("plan.json", input.as_bytes());
    run_file(&path, &[]).assert_refused(
        "duplicate top-level key",
        &path.display().to_string(),
        "duplicate",
    );
}

#[test]
fn duplicate_key_inside_a_resource_is_not_resolved_silently() {
    // `member` twice on one IAM member: `allUsers`, then a named user. Either reading is a guess.
    let address = "google_cloud_run_v2_service_iam_member.twice";
    let m = create(
        address,
        "google_cloud_run_v2_service_iam_member",
        json!({"name": "target", "project": PROJECT, "location": REGION,
               "role": "roles/run.invoker", "member": "@@SLOT@@", "condition": []}),
    );
    let svc = create(
        "google_cloud_run_v2_service.target",
        "google_cloud_run_v2_service",
        service("target", "t@acme-prod.iam.gserviceaccount.com"),
    );
    let input = splice(
        &plan_with(vec![svc, m]),
        br#""allUsers","member":"user:alice@acme.com""#,
    );
    match analyse("duplicate member", input, false) {
        Err(e) => assert!(e.to_string().contains("duplicate"), "unclear error: {e}"),
        Ok(out) => {
            out.assert_unanalysable("duplicate `member` key", address);
            out.assert_control_analysed("duplicate `member` key");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Integers beyond 2^64 and GCP ids beyond 2^53
// ---------------------------------------------------------------------------------------------

#[test]
fn integers_beyond_2_64_where_runguard_does_not_read_them() {
    for (case, number) in [
        ("2^64 + 1", "18446744073709551617".to_owned()),
        ("10^400", format!("1{}", "0".repeat(400))),
        ("-10^400", format!("-1{}", "0".repeat(400))),
    ] {
        // In a resource runguard skips: the plan is analysed as if the number were not there.
        let unrelated = create(
            "terraform_data.n",
            "terraform_data",
            json!({"input": "@@SLOT@@"}),
        );
        let out = analyse(
            case,
            splice(&plan_with(vec![unrelated]), number.as_bytes()),
            false,
        )
        .unwrap_or_else(|e| panic!("{case} in an unrelated resource: refused: {e}"));
        out.assert_control_analysed(case);
        assert!(
            out.unanalysable().is_empty(),
            "{case}: {:?}",
            out.unanalysable()
        );

        // In a Cloud Run attribute runguard does not read (the container port): the service is
        // still analysed.
        let address = "google_cloud_run_v2_service.numbers";
        let mut svc = service("numbers", "n@acme-prod.iam.gserviceaccount.com");
        svc["template"][0]["containers"][0]["ports"] = json!([{"container_port": "@@SLOT@@"}]);
        let p = plan_with(vec![create(address, "google_cloud_run_v2_service", svc)]);
        let out = analyse(case, splice(&p, number.as_bytes()), false)
            .unwrap_or_else(|e| panic!("{case} in a Cloud Run service: refused: {e}"));
        out.assert_control_analysed(case);
        assert!(
            out.workload(address).is_some(),
            "{case}: a number in an attribute runguard does not read made {address} \
             unanalysable: {:?}",
            out.unanalysable()
        );
    }
}

#[test]
fn gcp_ids_beyond_2_53_stay_exact() {
    // 2^53 + 1: a double would print ...992.
    const NUMBER: &str = "9007199254740993";
    let default_sa = format!("{NUMBER}-compute@developer.gserviceaccount.com");
    let svc_address = format!("google_cloud_run_v2_service.numbered[{NUMBER}]");
    let mut svc = create(
        &svc_address,
        "google_cloud_run_v2_service",
        service("numbered", &default_sa),
    );
    svc["index"] = json!(9007199254740993_u64);
    // The default account's project number also appears as a numeric attribute that runguard
    // does not read, and as the project of a grant.
    svc["change"]["after"]["template"][0]["max_instance_request_concurrency"] =
        json!(9007199254740993_u64);
    let grant = create(
        "google_project_iam_member.sa_editor",
        "google_project_iam_member",
        json!({"project": NUMBER, "role": "roles/editor",
               "member": format!("serviceAccount:{default_sa}"), "condition": []}),
    );
    let input = bytes(&plan_with(vec![svc, grant]));
    assert!(
        String::from_utf8_lossy(&input).contains(&format!("\"index\":{NUMBER}")),
        "the fixture keeps the number exact"
    );
    let out = analysed("ids beyond 2^53", input);
    let w = out
        .workload(&svc_address)
        .unwrap_or_else(|| panic!("{svc_address} not among the workloads: {}", out.text));
    assert_eq!(
        w["after"]["identity"]["service_account"],
        default_sa.as_str()
    );
    assert_eq!(w["after"]["identity"]["default"], "yes");
    assert!(
        out.text.contains(&svc_address),
        "text lost the address:\n{}",
        out.text
    );
    assert!(
        out.text.contains(&default_sa),
        "text lost the account:\n{}",
        out.text
    );
    for wrong in [
        "9007199254740992",
        "9.007199254740993e15",
        "9007199254740990",
    ] {
        assert!(!out.text.contains(wrong), "text rounded the id to {wrong}");
        assert!(
            !out.json.to_string().contains(wrong),
            "JSON rounded the id to {wrong}"
        );
    }

    // A count index beyond 2^64: analysed, or listed as not analysable, with its address exact.
    let huge = "google_cloud_run_v2_service.huge[18446744073709551617]";
    let out = analysed(
        "count index beyond 2^64",
        bytes(&plan_with(vec![create(
            huge,
            "google_cloud_run_v2_service",
            service("huge", "h@acme-prod.iam.gserviceaccount.com"),
        )])),
    );
    assert!(
        out.workload(huge).is_some() || out.unanalysable().iter().any(|(a, _)| a == huge),
        "{huge} is neither analysed nor listed exactly: {}",
        out.text
    );
    assert!(out.text.contains(huge), "{}", out.text);
    out.assert_control_analysed("count index beyond 2^64");
}

// ---------------------------------------------------------------------------------------------
// `null` and wrong JSON types where runguard reads: the resource is listed, the rest analysed
// ---------------------------------------------------------------------------------------------

const BROKEN_SERVICE: &str = "google_cloud_run_v2_service.broken";

fn broken_service(edit: impl FnOnce(&mut Value)) -> Value {
    let mut c = create(
        BROKEN_SERVICE,
        "google_cloud_run_v2_service",
        service("broken", "broken@acme-prod.iam.gserviceaccount.com"),
    );
    edit(&mut c["change"]["after"]);
    c
}

fn assert_listed_and_rest_analysed(case: &str, broken: Value, address: &str) {
    let out = analysed(case, bytes(&plan_with(vec![broken])));
    out.assert_unanalysable(case, address);
    out.assert_control_analysed(case);
}

#[test]
fn template_as_a_string_makes_the_service_unanalysable() {
    assert_listed_and_rest_analysed(
        "`template` is a string",
        broken_service(|a| a["template"] = json!("broken@acme-prod.iam.gserviceaccount.com")),
        BROKEN_SERVICE,
    );
}

#[test]
fn members_as_an_object_makes_the_binding_unanalysable() {
    let address = "google_cloud_run_v2_service_iam_binding.broken";
    let b = create(
        address,
        "google_cloud_run_v2_service_iam_binding",
        json!({"name": "control", "project": PROJECT, "location": REGION,
               "role": "roles/run.invoker", "members": {"allUsers": true}, "condition": []}),
    );
    assert_listed_and_rest_analysed("`members` is an object", b, address);
}

#[test]
fn ingress_as_a_number_makes_the_service_unanalysable() {
    assert_listed_and_rest_analysed(
        "`ingress` is a number",
        broken_service(|a| a["ingress"] = json!(1)),
        BROKEN_SERVICE,
    );
}

#[test]
fn policy_data_that_is_not_json_makes_the_policy_unanalysable() {
    let address = "google_cloud_run_v2_service_iam_policy.broken";
    for policy_data in [
        json!("{\"bindings\": [{\"role\": \"roles/run.invoker\", \"members\": [\"allUsers\"]"),
        json!("bindings: allUsers"),
        json!({"bindings": []}),
        json!("{\"bindings\": {\"role\": \"roles/run.invoker\"}}"),
    ] {
        let p = create(
            address,
            "google_cloud_run_v2_service_iam_policy",
            json!({"name": "control", "project": PROJECT, "location": REGION,
                   "policy_data": policy_data, "etag": "BwY="}),
        );
        assert_listed_and_rest_analysed(&format!("`policy_data` is {policy_data}"), p, address);
    }
}

#[test]
fn missing_actions_makes_the_entry_unanalysable() {
    let address = "google_cloud_run_v2_service_iam_member.no_actions";
    let mut m = create(
        address,
        "google_cloud_run_v2_service_iam_member",
        invoker("control", "allUsers"),
    );
    m["change"].as_object_mut().unwrap().remove("actions");
    assert_listed_and_rest_analysed("`actions` is missing", m, address);
}

#[test]
fn wrong_types_at_other_attributes_runguard_reads() {
    let member = |edit: &dyn Fn(&mut Value)| {
        let mut c = create(
            "google_cloud_run_v2_service_iam_member.broken",
            "google_cloud_run_v2_service_iam_member",
            invoker("control", "allUsers"),
        );
        edit(&mut c["change"]["after"]);
        (c, "google_cloud_run_v2_service_iam_member.broken")
    };
    let v1 = |edit: &dyn Fn(&mut Value)| {
        let mut after = json!({
            "name": "legacy", "project": PROJECT, "location": REGION,
            "metadata": [{"annotations": {"run.googleapis.com/ingress": "all"}}],
            "template": [{"spec": [{"service_account_name": "l@acme-prod.iam.gserviceaccount.com"}]}],
        });
        edit(&mut after);
        (
            create(
                "google_cloud_run_service.legacy",
                "google_cloud_run_service",
                after,
            ),
            "google_cloud_run_service.legacy",
        )
    };
    let svc = |edit: &dyn Fn(&mut Value)| (broken_service(edit), BROKEN_SERVICE);
    let entry = |edit: &dyn Fn(&mut Value)| {
        let mut c = create(
            "google_cloud_run_v2_service_iam_member.entry",
            "google_cloud_run_v2_service_iam_member",
            invoker("control", "allUsers"),
        );
        edit(&mut c);
        (c, "google_cloud_run_v2_service_iam_member.entry")
    };
    let cases: Vec<(&str, (Value, &str))> = vec![
        ("member is a number", member(&|a| a["member"] = json!(7))),
        (
            "member is an array",
            member(&|a| a["member"] = json!(["allUsers"])),
        ),
        (
            "role is an array",
            member(&|a| a["role"] = json!(["roles/run.invoker"])),
        ),
        (
            "condition is a string",
            member(&|a| a["condition"] = json!("true")),
        ),
        (
            "name is an object",
            member(&|a| a["name"] = json!({"name": "control"})),
        ),
        (
            "service_account is a number",
            svc(&|a| a["template"][0]["service_account"] = json!(7)),
        ),
        (
            "template is an object",
            svc(&|a| a["template"] = json!({"service_account": "x"})),
        ),
        (
            "template[0] is a string",
            svc(&|a| a["template"] = json!(["x"])),
        ),
        (
            "invoker_iam_disabled is a string",
            svc(&|a| a["invoker_iam_disabled"] = json!("true")),
        ),
        (
            "iap_enabled is a number",
            svc(&|a| a["iap_enabled"] = json!(1)),
        ),
        ("name is a number", svc(&|a| a["name"] = json!(42))),
        ("after is a string", svc(&|a| *a = json!("a service"))),
        ("after is an array", svc(&|a| *a = json!([]))),
        (
            "v1 metadata is an object",
            v1(&|a| a["metadata"] = json!({"annotations": {}})),
        ),
        (
            "v1 annotations is an array",
            v1(&|a| a["metadata"][0]["annotations"] = json!([])),
        ),
        (
            "v1 ingress annotation is a number",
            v1(&|a| a["metadata"][0]["annotations"]["run.googleapis.com/ingress"] = json!(0)),
        ),
        (
            "v1 spec is a string",
            v1(&|a| a["template"][0]["spec"] = json!("x")),
        ),
        (
            "actions is a string",
            entry(&|c| c["change"]["actions"] = json!("create")),
        ),
        (
            "actions is unknown",
            entry(&|c| c["change"]["actions"] = json!(["explode"])),
        ),
        (
            "change is missing",
            entry(&|c| {
                c.as_object_mut().unwrap().remove("change");
            }),
        ),
        (
            "after_unknown is a string",
            entry(&|c| c["change"]["after_unknown"] = json!("yes")),
        ),
    ];
    let mut failures = Vec::new();
    for (case, (broken, address)) in cases {
        let result = std::panic::catch_unwind(|| {
            assert_listed_and_rest_analysed(case, broken, address);
        });
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failures.push(format!("- {}", msg.lines().next().unwrap_or("")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} wrong-type case(s) were not listed as unanalysable:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A `change` that is not an object is not one broken resource but a document that is not a
/// plan: refused, never reported as a plan that lacks the resource.
#[test]
fn a_change_that_is_not_an_object_refuses_the_plan() {
    let mut broken = broken_service(|_| {});
    broken["change"] = json!([]);
    match analyse("change is an array", bytes(&plan_with(vec![broken])), false) {
        Err(InputError::BadPlanStructure { detail }) => {
            assert!(detail.contains(".change` is not an object"), "{detail}")
        }
        Err(e) => panic!("refused with the wrong error: {e}"),
        Ok(out) => panic!("analysed instead of refused:\n{}", out.text),
    }
}

#[test]
fn null_where_a_value_is_required_is_never_read_as_safe() {
    // Terraform writes `null` for unset optional attributes, which are legitimate; a `null` at a
    // required one (the member, the role, the policy) must make the resource unanalysable or
    // leave the workload's exposure unknown — never quietly private.
    let target = "google_cloud_run_v2_service.target";
    let cases: Vec<(&str, &str, &str, Value)> = vec![
        (
            "member is null",
            "google_cloud_run_v2_service_iam_member.null_member",
            "google_cloud_run_v2_service_iam_member",
            json!({"name": "target", "project": PROJECT, "location": REGION,
                   "role": "roles/run.invoker", "member": null, "condition": []}),
        ),
        (
            "role is null",
            "google_cloud_run_v2_service_iam_member.null_role",
            "google_cloud_run_v2_service_iam_member",
            json!({"name": "target", "project": PROJECT, "location": REGION,
                   "role": null, "member": "allUsers", "condition": []}),
        ),
        (
            "policy_data is null",
            "google_cloud_run_v2_service_iam_policy.null_policy",
            "google_cloud_run_v2_service_iam_policy",
            json!({"name": "target", "project": PROJECT, "location": REGION,
                   "policy_data": null}),
        ),
        (
            "name is null",
            "google_cloud_run_v2_service_iam_member.null_name",
            "google_cloud_run_v2_service_iam_member",
            json!({"name": null, "project": PROJECT, "location": REGION,
                   "role": "roles/run.invoker", "member": "allUsers", "condition": []}),
        ),
    ];
    let mut failures = Vec::new();
    for (case, address, rtype, after) in cases {
        // The target is private; the plan adds a broken grant on it. (A `*_iam_policy` whose
        // `policy_data` is null would, read as an empty policy, look like "no invokers".)
        let svc = change(
            target,
            "google_cloud_run_v2_service",
            &["no-op"],
            service("target", "t@acme-prod.iam.gserviceaccount.com"),
            service("target", "t@acme-prod.iam.gserviceaccount.com"),
        );
        let out = analysed(
            case,
            bytes(&plan_with(vec![svc, create(address, rtype, after)])),
        );
        let listed = out.unanalysable().iter().any(|(a, _)| a == address);
        let public = out.workload(target).map(|w| w["after"]["public"].clone());
        let unresolved = out.json["unresolved"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["address"] == address);
        if !(listed
            || public == Some(json!("yes"))
            || public == Some(json!("unknown"))
            || unresolved)
        {
            failures.push(format!(
                "- {case}: {address} is not listed and {target} reads public = {public:?}"
            ));
        }
        out.assert_control_analysed(case);
    }
    assert!(
        failures.is_empty(),
        "null read as safe:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Arrays of a million elements
// ---------------------------------------------------------------------------------------------

const MILLION: usize = 1_000_000;

/// About the bytes of [`million_members`].
const MILLION_MEMBERS_BYTES: usize = MILLION * 24;

/// Writes a JSON array of a million `user:` members (and `extra`) directly into the plan: a
/// million `Value`s would cost more than the analysis in a debug build.
fn million_members(extra: &str) -> impl FnMut(&mut Vec<u8>) {
    move |out| {
        use std::io::Write;
        out.push(b'[');
        for i in 0..MILLION {
            if i > 0 {
                out.push(b',');
            }
            write!(out, "\"user:u{i}@acme.com\"").expect("writes to a Vec");
        }
        if !extra.is_empty() {
            write!(out, ",\"{extra}\"").expect("writes to a Vec");
        }
        out.push(b']');
    }
}

fn binding(members: &str) -> Value {
    json!({"name": "target", "project": PROJECT, "location": REGION,
           "role": "roles/run.invoker", "members": members, "condition": []})
}

fn target_service() -> Value {
    change(
        "google_cloud_run_v2_service.target",
        "google_cloud_run_v2_service",
        &["no-op"],
        service("target", "t@acme-prod.iam.gserviceaccount.com"),
        service("target", "t@acme-prod.iam.gserviceaccount.com"),
    )
}

/// In a debug build the analysis and both renderings of a million principals take tens of
/// seconds; the deadline catches anything worse than linear.
const MILLION_DEADLINE: u64 = 150;

/// The lean path for huge inputs: analyse, render both formats into a sink (they must finish),
/// and return the changes as `(rule, direction, workload)`.
fn changes_of_huge(what: &str, huge: HugeCase, bytes: Vec<u8>) -> Vec<(String, String, String)> {
    within(what, MILLION_DEADLINE, move || {
        let _huge = huge;
        let report =
            analyze(&bytes, &Options::default()).unwrap_or_else(|e| panic!("refused: {e}"));
        drop(bytes);
        runguard::report::json::render(&report, &mut std::io::sink()).expect("render json");
        let options = TextOptions {
            color: false,
            all: false,
            gate: Gate {
                threshold: Some(Severity::High),
                allow_incomplete: false,
            },
            width: 100,
        };
        runguard::report::text::render(&report, &options, &mut std::io::sink())
            .expect("render text");
        report
            .findings
            .iter()
            .flat_map(|f| {
                f.workloads.iter().map(|w| {
                    (
                        f.rule.id.to_owned(),
                        f.direction.as_str().to_owned(),
                        w.to_string(),
                    )
                })
            })
            .collect()
    })
}

fn has(changes: &[(String, String, String)], rule: &str, workload: &str) -> bool {
    changes
        .iter()
        .any(|(r, d, w)| r == rule && d == "worsened" && w == workload)
}

#[test]
fn binding_with_a_million_members_is_analysed() {
    let address = "google_cloud_run_v2_service_iam_binding.crowd";
    let b = create(
        address,
        "google_cloud_run_v2_service_iam_binding",
        binding("@@SLOT@@"),
    );
    let huge = one_huge_case_at_a_time();
    let input = splice_slots(
        &plan_with(vec![target_service(), b]),
        MILLION_MEMBERS_BYTES,
        [("@@SLOT@@", &mut million_members("allUsers"))],
    );
    let changes = changes_of_huge("1M members (create)", huge, input);
    assert!(has(
        &changes,
        "public-invoker",
        "google_cloud_run_v2_service.target"
    ));
    assert!(has(&changes, "public-invoker", CONTROL));
}

#[test]
fn binding_of_a_million_members_that_gains_one_is_analysed() {
    // Both sides hold a million members: any per-member comparison across sides must not be
    // quadratic.
    let address = "google_cloud_run_v2_service_iam_binding.crowd";
    let b = change(
        address,
        "google_cloud_run_v2_service_iam_binding",
        &["update"],
        binding("@@BEFORE@@"),
        binding("@@SLOT@@"),
    );
    let huge = one_huge_case_at_a_time();
    let input = splice_slots(
        &plan_with(vec![target_service(), b]),
        2 * MILLION_MEMBERS_BYTES,
        [
            ("@@BEFORE@@", &mut million_members("")),
            ("@@SLOT@@", &mut million_members("allUsers")),
        ],
    );
    let changes = changes_of_huge("1M members (update)", huge, input);
    assert!(has(
        &changes,
        "public-invoker",
        "google_cloud_run_v2_service.target"
    ));
    assert!(has(&changes, "public-invoker", CONTROL));
}

#[test]
fn a_million_unrelated_resource_changes_are_analysed() {
    let huge = one_huge_case_at_a_time();
    let mut entries = Vec::with_capacity(MILLION * 110);
    for i in 0..MILLION {
        if i > 0 {
            entries.push(b',');
        }
        entries.extend_from_slice(
            format!(
                "{{\"address\":\"terraform_data.r{i}\",\"mode\":\"managed\",\"type\":\"terraform_data\",\
                 \"name\":\"r{i}\",\"change\":{{\"actions\":[\"no-op\"],\"before\":{{}},\"after\":{{}}}}}}"
            )
            .as_bytes(),
        );
    }
    let text = String::from_utf8(bytes(&plan_with(vec![]))).unwrap();
    // Append the entries to the control plan's `resource_changes` (keys are written sorted).
    let at = text
        .find("],\"terraform_version\"")
        .expect("resource_changes closes before terraform_version");
    let mut input = text.as_bytes()[..at].to_vec();
    input.push(b',');
    input.extend_from_slice(&entries);
    input.extend_from_slice(&text.as_bytes()[at..]);
    let changes = changes_of_huge("1M resource changes", huge, input);
    assert!(has(&changes, "public-invoker", CONTROL));
}

#[test]
fn many_cloud_run_services_sharing_one_account_are_analysed() {
    // resource_changes of Cloud Run workloads rather than unrelated resources. A million would
    // take minutes even at linear cost in a debug build, so 20,000 services (each with a public
    // member, all running as one account) with a deadline that only linear work meets: at
    // 2,000 / 4,000 / 8,000 services a debug build took 0.9 / 2.8 / 9.7 s.
    const SERVICES: usize = 20_000;
    // Hundreds of megabytes of `Value`s and postures in a debug build: one huge case at a time.
    let huge = one_huge_case_at_a_time();
    let mut changes = Vec::with_capacity(2 * SERVICES);
    for i in 0..SERVICES {
        let name = format!("s{i}");
        changes.push(create(
            &format!("google_cloud_run_v2_service.{name}"),
            "google_cloud_run_v2_service",
            service(&name, "shared@acme-prod.iam.gserviceaccount.com"),
        ));
        changes.push(create(
            &format!("google_cloud_run_v2_service_iam_member.{name}"),
            "google_cloud_run_v2_service_iam_member",
            invoker(&name, "allUsers"),
        ));
    }
    let input = bytes(&plan(changes));
    let changes = within("20k services", 30, move || {
        let _huge = huge;
        let report = analyze(&input, &Options::default()).expect("analysed");
        runguard::report::json::render(&report, &mut std::io::sink()).expect("render json");
        report
            .findings
            .iter()
            .filter(|f| f.rule.id == "public-invoker")
            .map(|f| f.workloads.len())
            .sum::<usize>()
    });
    assert!(
        changes >= SERVICES,
        "{changes} public services of {SERVICES} reported"
    );
}

#[test]
fn configuration_reference_cycles_do_not_hang() {
    // Hand-made `configuration` in which a module's outputs and the call's arguments refer to
    // each other, two references at every step. Terraform never writes such a plan, but a plan
    // file is input: following the references must stop (a depth limit alone leaves 2^depth
    // paths).
    let two = |a: &str, b: &str| json!({"references": [a, b]});
    let mut svc = create(
        "google_cloud_run_v2_service.api",
        "google_cloud_run_v2_service",
        service("api", "unused@acme-prod.iam.gserviceaccount.com"),
    );
    svc["change"]["after"]["template"][0]
        .as_object_mut()
        .unwrap()
        .remove("service_account");
    svc["change"]["after_unknown"] = json!({"template": [{"service_account": true}]});
    let mut p = plan_with(vec![svc]);
    p["configuration"] = json!({"root_module": {
        "resources": [{
            "address": "google_cloud_run_v2_service.api", "mode": "managed",
            "type": "google_cloud_run_v2_service", "name": "api",
            "expressions": {"template": [{"service_account": two("module.m.a", "module.m.b")}]}
        }],
        "module_calls": {"m": {
            "source": "./m",
            "expressions": {"x": two("module.m.a", "module.m.b"), "y": two("module.m.b", "module.m.a")},
            "module": {
                "outputs": {"a": {"expression": two("var.x", "var.y")},
                            "b": {"expression": two("var.y", "var.x")}},
                "variables": {"x": {}, "y": {}}
            }
        }}
    }});
    let dir = Scratch::new("cycle");
    let path = dir.file("plan.json", &bytes(&p));
    let run = run_file(&path, &["--format", "json"]);
    if let Some(report) = run.assert_handled("reference cycle", &path.display().to_string()) {
        assert!(json_has_change(&report, "public-invoker", CONTROL));
    }
}

// ---------------------------------------------------------------------------------------------
// Files: empty, only a BOM, UTF-16 without a BOM, a directory, a missing or unreadable path
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_file_is_refused() {
    let dir = Scratch::new("empty");
    for (name, content) in [("empty.json", &b""[..]), ("blank.json", &b" \n\t\r\n"[..])] {
        let path = dir.file(name, content);
        run_file(&path, &[]).assert_refused(name, &path.display().to_string(), "the file is empty");
    }
    assert_eq!(
        analyze(b"", &Options::default()).unwrap_err(),
        InputError::Empty
    );
}

#[test]
fn file_that_is_only_a_bom_is_refused() {
    let dir = Scratch::new("bom");
    for (name, content) in [
        ("utf8-bom.json", &b"\xEF\xBB\xBF"[..]),
        ("utf8-bom-newline.json", &b"\xEF\xBB\xBF\n"[..]),
        ("utf16le-bom.json", &b"\xFF\xFE"[..]),
        ("utf16be-bom.json", &b"\xFE\xFF"[..]),
    ] {
        let path = dir.file(name, content);
        run_file(&path, &[]).assert_refused(name, &path.display().to_string(), "the file is empty");
    }
}

#[test]
fn utf16_without_a_bom_is_analysed() {
    let text = String::from_utf8(bytes(&plan_with(vec![]))).unwrap();
    let dir = Scratch::new("utf16");
    for (name, encoded) in [
        (
            "le.json",
            text.encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect::<Vec<u8>>(),
        ),
        (
            "be.json",
            text.encode_utf16()
                .flat_map(u16::to_be_bytes)
                .collect::<Vec<u8>>(),
        ),
    ] {
        let path = dir.file(name, &encoded);
        let run = run_file(&path, &["--format", "json"]);
        assert_eq!(run.code, Some(1), "UTF-16 {name}: {}", clip(&run.stderr));
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert!(
            json_has_change(&report, "public-invoker", CONTROL),
            "UTF-16 {name}"
        );
    }
}

#[test]
fn a_directory_is_refused() {
    let dir = Scratch::new("dir");
    let sub = dir.0.join("plan.json");
    std::fs::create_dir(&sub).unwrap();
    run_file(&sub, &[]).assert_refused("directory", &sub.display().to_string(), "is a directory");
}

#[test]
fn a_missing_path_is_refused() {
    let dir = Scratch::new("missing");
    let path = dir.0.join("no-such-plan.json");
    run_file(&path, &[]).assert_refused(
        "missing path",
        &path.display().to_string(),
        "no such file",
    );
}

#[test]
fn an_unreadable_file_is_refused() {
    let dir = Scratch::new("unreadable");
    let path = dir.file("plan.json", &bytes(&plan_with(vec![])));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    if std::fs::read(&path).is_ok() {
        eprintln!(
            "SKIPPED an_unreadable_file_is_refused: this process can read a mode-000 file (it runs \
             as root or without permission checks); a_file_whose_read_fails_is_refused covers the \
             read error path"
        );
        return;
    }
    run_file(&path, &[]).assert_refused(
        "unreadable",
        &path.display().to_string(),
        "permission denied",
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_file_whose_read_fails_is_refused() {
    // Opening /proc/self/mem succeeds, even as root, but reading at offset 0 fails (EIO).
    let path = Path::new("/proc/self/mem");
    if !path.exists() {
        eprintln!("SKIPPED a_file_whose_read_fails_is_refused: no /proc/self/mem");
        return;
    }
    run_file(path, &[]).assert_refused("read error", "/proc/self/mem", "cannot read");
}

#[test]
fn stdin_from_a_terminal_without_data_does_not_hang() {
    let script = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(script) = script else {
        eprintln!(
            "SKIPPED stdin_from_a_terminal_without_data_does_not_hang: `script` is not installed"
        );
        return;
    };
    let bin = assert_cmd::cargo::cargo_bin("runguard");
    let out = Command::new(script)
        .args(["-qec", &format!("{} -", bin.display()), "/dev/null"])
        .timeout(CLI_TIMEOUT)
        .write_stdin("")
        .output()
        .expect("run script");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "runguard - on a terminal did not exit 2 within {CLI_TIMEOUT:?} (None = timed out): {all}"
    );
    assert!(
        all.contains("standard input is a terminal") && all.contains("runguard -"),
        "no usage hint: {all}"
    );
}

// ---------------------------------------------------------------------------------------------
// Output safety: hostile text from the plan
// ---------------------------------------------------------------------------------------------

const CSI_CLEAR: &str = "\u{1b}[2J";
const OSC8: &str = "\u{1b}]8;;https://evil.example/\u{7}click\u{1b}]8;;\u{7}";
const OSC52: &str = "\u{1b}]52;c;ZXZpbA==\u{7}";
const C1_CSI: &str = "\u{9b}31m";
const CR: &str = "ok\rFAKE";
const RLO: &str = "\u{202e}gnp.exe";
const ZWSP: &str = "all\u{200b}Users";
const HTML: &str = "<img src=x onerror=alert(1)>";
const MARKDOWN: &str = "[x](javascript:alert(1)) @admin";
const MERMAID: &str = "a]-->b[\"x\"";

/// Characters that must never reach text output raw.
fn raw_control(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
                    | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    found.sort();
    found.dedup();
    found
}

const HOSTILE_SERVICE: &str = "google_cloud_run_v2_service.hostile";

/// Every hostile string, as a Cloud Run service address key, a service name on an external
/// target, and IAM members (case-sensitive `principal://` members keep their text exactly).
fn hostile_plan() -> (Value, Vec<String>, Vec<String>) {
    let payloads = [
        CSI_CLEAR, OSC8, OSC52, C1_CSI, CR, RLO, ZWSP, HTML, MARKDOWN, MERMAID,
    ];
    let mut changes = control();
    let mut addresses = Vec::new();
    let mut members = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        // An address whose for_each key carries the payload (as Terraform quotes it).
        let key = serde_json::to_string(p).unwrap();
        let address = format!("{HOSTILE_SERVICE}[{key}]");
        // The service's own name carries the payload too; the IAM member names it the same way.
        let name = format!("hostile-{i}-{p}");
        changes.push(create(
            &address,
            "google_cloud_run_v2_service",
            service(&name, &format!("h{i}@acme-prod.iam.gserviceaccount.com")),
        ));
        let member =
            format!("principal://iam.googleapis.com/locations/global/workforcePools/p/subject/{p}");
        changes.push(create(
            &format!("google_cloud_run_v2_service_iam_member.hostile_{i}"),
            "google_cloud_run_v2_service_iam_member",
            invoker(&name, &member),
        ));
        members.push(member);
        // IAM on a service outside the plan, named by the payload.
        changes.push(create(
            &format!("google_cloud_run_v2_service_iam_member.external_{i}"),
            "google_cloud_run_v2_service_iam_member",
            // (`/` made path-safe: the provider reads a name with slashes as a resource path.)
            invoker(&format!("ext-{}", p.replace('/', "|")), "allUsers"),
        ));
        addresses.push(address);
    }
    // A raw control character inside the address itself: not a valid address, so it is listed
    // as not analysable, and that listing prints it.
    let raw = format!("google_cloud_run_v2_service.raw{CSI_CLEAR}{OSC52}\r");
    changes.push(create(
        &raw,
        "google_cloud_run_v2_service",
        service("raw", "r@acme-prod.iam.gserviceaccount.com"),
    ));
    addresses.push(raw);
    (plan(changes), addresses, members)
}

#[test]
fn hostile_text_is_neutralised_in_text_output() {
    let (p, _, _) = hostile_plan();
    let input = bytes(&p);
    for all in [false, true] {
        let out = analyse("hostile text", input.clone(), all).unwrap_or_else(|e| panic!("{e}"));
        let found = raw_control(&out.text);
        assert!(
            found.is_empty(),
            "text output (--all {all}) carries raw {found:?}:\n{}",
            out.text.escape_debug()
        );
        // Neutralised, not dropped: the escaped form is visible.
        assert!(out.text.contains("\\u{001b}"), "{}", out.text);
        assert!(out.text.contains("\\u{202e}"), "{}", out.text);
    }
    let dir = Scratch::new("hostile-text");
    let path = dir.file("plan.json", &input);
    for args in [
        &["--color", "never"][..],
        &["--color", "never", "--all"],
        &[],
    ] {
        let run = run_file(&path, args);
        assert_eq!(run.code, Some(1), "{args:?}: {}", run.stderr);
        let found = raw_control(&run.stdout);
        assert!(found.is_empty(), "CLI text {args:?} carries raw {found:?}");
    }
    // With colour, runguard's own escapes are fine but nothing from the plan may add more.
    let run = run_file(&path, &["--color", "always"]);
    assert!(
        !run.stdout.contains("\u{1b}[2J"),
        "colour output cleared the screen"
    );
    assert!(
        !run.stdout.contains("\u{1b}]"),
        "colour output carries an OSC sequence"
    );
    assert!(
        !run.stdout.contains('\u{7}')
            && !run.stdout.contains('\r')
            && !run.stdout.contains('\u{202e}')
    );
}

/// Every string value in a JSON document.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

#[test]
fn hostile_text_round_trips_exactly_in_json_output() {
    let (p, addresses, members) = hostile_plan();
    let input = bytes(&p);
    let dir = Scratch::new("hostile-json");
    let path = dir.file("plan.json", &input);
    for all in [false, true] {
        let out = analyse("hostile json", input.clone(), all).unwrap_or_else(|e| panic!("{e}"));
        let args: &[&str] = if all {
            &["--format", "json", "--all"]
        } else {
            &["--format", "json"]
        };
        let run = run_file(&path, args);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let cli: Value = serde_json::from_str(&run.stdout).expect("CLI JSON output is valid JSON");
        assert_eq!(cli, out.json, "library and CLI JSON differ");
        let mut found = Vec::new();
        strings(&out.json, &mut found);
        for a in &addresses {
            assert!(
                found.iter().any(|s| s == a),
                "address {:?} does not appear exactly in the JSON report",
                a
            );
        }
        for m in &members {
            assert!(
                found.iter().any(|s| s == m),
                "member {:?} does not appear exactly in the JSON report",
                m
            );
        }
        // Each hostile service is linked to its hostile member, whose text is kept exactly.
        for (a, m) in addresses.iter().zip(&members) {
            let w = out
                .workload(a)
                .unwrap_or_else(|| panic!("{a:?} is not among the workloads"));
            assert_eq!(
                w["after"]["invokers"][0]["member"],
                json!(m),
                "{a:?}: the hostile member is not its invoker"
            );
            assert_eq!(w["after"]["invokers"].as_array().map(Vec::len), Some(1));
        }
        for p in [
            CSI_CLEAR, OSC8, OSC52, C1_CSI, CR, RLO, ZWSP, HTML, MARKDOWN, MERMAID,
        ] {
            assert!(
                found
                    .iter()
                    .any(|s| s.contains(&format!("ext-{}", p.replace('/', "|")))),
                "external service name {:?} does not appear exactly in the JSON report",
                p
            );
        }
        // The serialised JSON itself carries no raw control character: they are \u escapes.
        let raw = runguard_json_raw_controls(&run.stdout);
        assert!(
            raw.is_empty(),
            "raw control characters in JSON text: {raw:?}"
        );
    }
}

fn runguard_json_raw_controls(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .chars()
        .filter(|&c| c < ' ' && c != '\n')
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    v.dedup();
    v
}

// ---------------------------------------------------------------------------------------------
// Sensitive values never appear in any output
// ---------------------------------------------------------------------------------------------

const PLANTED: [&str; 5] = [
    "planted-member-7f3a",
    "planted-sa-9c1d",
    "planted-old-member-44e0",
    "PLANTED-SECRET-XYZ",
    "PLANTED-ENV-SECRET",
];

fn sensitive_plan() -> Value {
    let sa = "planted-sa-9c1d@acme-prod.iam.gserviceaccount.com";
    // The runtime account comes from a sensitive variable.
    let mut svc = create(
        "google_cloud_run_v2_service.secretive",
        "google_cloud_run_v2_service",
        service("secretive", sa),
    );
    svc["change"]["after"]["template"][0]["containers"][0]["env"] =
        json!([{"name": "API_TOKEN", "value": "PLANTED-ENV-SECRET", "value_source": []}]);
    svc["change"]["after_sensitive"] = json!({"template": [{"service_account": true}]});

    // A new invoker from a sensitive variable.
    let mut m = create(
        "google_cloud_run_v2_service_iam_member.secret_invoker",
        "google_cloud_run_v2_service_iam_member",
        invoker("secretive", "user:planted-member-7f3a@acme.com"),
    );
    m["change"]["after_sensitive"] = json!({"member": true});

    // An invoker that was sensitive before and is removed.
    let mut old = change(
        "google_cloud_run_v2_service_iam_member.old_invoker",
        "google_cloud_run_v2_service_iam_member",
        &["delete"],
        invoker("secretive", "user:planted-old-member-44e0@acme.com"),
        Value::Null,
    );
    old["change"]["before_sensitive"] = json!({"member": true});

    // A binding whose members, one sensitive, hold the runtime account's editor role.
    let mut b = create(
        "google_project_iam_binding.editors",
        "google_project_iam_binding",
        json!({"project": PROJECT, "role": "roles/editor",
               "members": [format!("serviceAccount:{sa}"), "group:ops@acme.com"], "condition": []}),
    );
    b["change"]["after_sensitive"] = json!({"members": [true, false]});

    // Who can act as the runtime account: on the sensitive account, by a sensitive member.
    let mut act = create(
        "google_service_account_iam_member.act_as",
        "google_service_account_iam_member",
        json!({"service_account_id": format!("projects/{PROJECT}/serviceAccounts/{sa}"),
               "role": "roles/iam.serviceAccountUser",
               "member": "user:planted-member-7f3a@acme.com", "condition": []}),
    );
    act["change"]["after_sensitive"] = json!({"service_account_id": true, "member": true});

    // A key for the account, whose private key is sensitive (as the provider marks it).
    let mut key = create(
        "google_service_account_key.runtime",
        "google_service_account_key",
        json!({"service_account_id": sa, "private_key": "PLANTED-SECRET-XYZ",
               "public_key": "PLANTED-SECRET-XYZ", "key_algorithm": "KEY_ALG_RSA_2048"}),
    );
    key["change"]["after_sensitive"] =
        json!({"service_account_id": true, "private_key": true, "public_key": true});

    plan_with(vec![svc, m, old, b, act, key])
}

fn assert_no_planted(format: &str, output: &str) {
    let lower = output.to_lowercase();
    for secret in PLANTED {
        assert!(
            !lower.contains(&secret.to_lowercase()),
            "{format} output reveals the sensitive value {secret:?}:\n{output}"
        );
    }
}

#[test]
fn sensitive_values_never_appear_in_any_output() {
    let input = bytes(&sensitive_plan());
    for all in [false, true] {
        let out = analyse("sensitive", input.clone(), all).unwrap_or_else(|e| panic!("{e}"));
        assert_no_planted(&format!("text (all: {all})"), &out.text);
        assert_no_planted(&format!("JSON (all: {all})"), &out.json.to_string());
        // The report still says something changed about the secretive service, and shows the
        // sensitive values as a placeholder.
        assert!(
            out.text.contains("google_cloud_run_v2_service.secretive"),
            "the secretive service vanished from the report:\n{}",
            out.text
        );
        assert!(
            out.text.contains("(sensitive)"),
            "no `(sensitive)` placeholder in the text report:\n{}",
            out.text
        );
    }
    let dir = Scratch::new("sensitive");
    let path = dir.file("plan.json", &input);
    for args in [
        &["--format", "text", "--color", "never"][..],
        &["--format", "text", "--color", "always", "--all"],
        &["--format", "json"],
        &["--format", "json", "--all"],
    ] {
        let run = run_file(&path, args);
        assert!(matches!(run.code, Some(0 | 1)), "{args:?}: {}", run.stderr);
        assert_no_planted(&format!("CLI {args:?}"), &run.stdout);
        assert_no_planted(&format!("CLI {args:?} stderr"), &run.stderr);
    }
}
