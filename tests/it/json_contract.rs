//! The consumer's view of `runguard/report/v2`: strict structs that reject unknown fields, read
//! from every scenario report. A field added to the output without being documented in
//! `docs/report-v2.md` and here fails this test.

use serde::Deserialize;

use crate::support::{run, scenario_plans};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Report {
    schema: String,
    plan: Plan,
    summary: Summary,
    workloads: Vec<Workload>,
    findings: Vec<Finding>,
    grant_sets: Vec<GrantSet>,
    policy_diffs: Vec<PolicyDiff>,
    unresolved: Vec<Reasoned>,
    unanalysable: Vec<Reasoned>,
    notes: Vec<String>,
    plan_incomplete: Vec<String>,
    acceptance: Option<Acceptance>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Acceptance {
    path: String,
    expired: Vec<Entry>,
    stale: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Entry {
    line: usize,
    reason: String,
    expires: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Accepted {
    reason: String,
    line: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Plan {
    format_version: String,
    terraform_version: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Summary {
    workloads: usize,
    findings: usize,
    max_severity: Option<Severity>,
    worsened: usize,
    accepted: usize,
    improved: usize,
    unchanged: usize,
    complete: bool,
    headline: String,
}

#[derive(Deserialize, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[serde(rename_all = "lowercase")]
enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Workload {
    address: String,
    kind: Kind,
    api: Api,
    action: Action,
    external: bool,
    changed: bool,
    before: Option<Posture>,
    after: Option<Posture>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Service,
    Job,
    WorkerPool,
    Function,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Api {
    V1,
    V2,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Action {
    Create,
    Update,
    Replace,
    Delete,
    NoOp,
    Read,
    Forget,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum YesNoUnknown {
    Yes,
    No,
    Unknown,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Ingress {
    All,
    Internal,
    InternalAndCloudLoadBalancing,
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Posture {
    public: YesNoUnknown,
    public_reasons: Vec<String>,
    invokers: Vec<Grant>,
    inherited_invokers: Option<String>,
    iam_admins: Vec<Grant>,
    inherited_iam_admins: Option<String>,
    iam_check_disabled: Option<YesNoUnknown>,
    ingress: Option<Ingress>,
    default_uri_disabled: Option<YesNoUnknown>,
    iap: Option<YesNoUnknown>,
    iap_accessors: Vec<Grant>,
    inherited_iap_accessors: Option<String>,
    identity: Identity,
    load_balancers: Vec<LoadBalancer>,
    domain_mappings: Vec<DomainMapping>,
    conflicts: Vec<Conflict>,
    plaintext_secret_env: Vec<Secret>,
    binary_authorization: Option<BinaryAuthorization>,
    vpc_egress: Option<VpcEgress>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Secret {
    container: String,
    name: String,
    reason: SecretReason,
}

#[derive(Deserialize)]
enum SecretReason {
    #[serde(rename = "sensitive value")]
    SensitiveValue,
    #[serde(rename = "secret-like name")]
    SecretLikeName,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum BinaryAuthorization {
    Enforced,
    Breakglass,
    Off,
    Unknown,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
enum VpcEgress {
    None,
    PrivateRangesOnly,
    AllTraffic,
    Unknown,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Identity {
    service_account: Option<String>,
    default: YesNoUnknown,
    implicit: bool,
    planned_account: Option<String>,
    roles: Vec<Role>,
    roles_unknown: Option<String>,
    roles_mitigated: Option<String>,
    impersonators: Option<String>,
    keys: Vec<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Role {
    role: String,
    level: Level,
    resource: Option<RoleResource>,
    privileged: bool,
    certain: bool,
    granted_by: String,
}

/// The resource a `resource`-level role is on.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct RoleResource {
    #[serde(rename = "type")]
    rtype: String,
    id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Resource,
    Project,
    Folder,
    Organization,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Grant {
    member: String,
    role: String,
    level: Option<Level>,
    granted_by: String,
    certain: bool,
    via: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct GrantSet {
    id: String,
    grants: Vec<Grant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct LoadBalancer {
    forwarding_rule: String,
    chain: Vec<String>,
    external: YesNoUnknown,
    iap: YesNoUnknown,
    certain: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DomainMapping {
    address: String,
    domain: Option<String>,
    certain: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Conflict {
    message: String,
    addresses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Finding {
    rule: String,
    severity: Severity,
    direction: Direction,
    causes: Vec<String>,
    subject: Subject,
    workloads: Vec<String>,
    message: String,
    evidence: Vec<String>,
    fingerprint: String,
    accepted: Option<Accepted>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Subject {
    principal: Option<String>,
    role: Option<String>,
    level: Option<Level>,
    account: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct PolicyDiff {
    address: String,
    diff: String,
}

#[derive(Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Direction {
    Worsened,
    Improved,
    Unchanged,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Reasoned {
    address: String,
    reason: String,
}

#[test]
fn every_scenario_report_reads_with_the_consumer_structs() {
    for plan in scenario_plans() {
        for all in [false, true] {
            let (json, _, _) = run(&plan, all);
            let report: Report =
                serde_json::from_value(json).unwrap_or_else(|e| panic!("{}: {e}", plan.display()));
            let name = plan.display();
            assert_eq!(report.schema, "runguard/report/v2");
            assert_eq!(report.summary.workloads, report.workloads.len());
            assert_eq!(report.summary.findings, report.findings.len());
            let worst = report
                .findings
                .iter()
                .filter(|f| f.direction == Direction::Worsened)
                .map(|f| &f.severity)
                .max();
            assert_eq!(report.summary.max_severity.as_ref(), worst, "{name}");
            let addresses: Vec<&str> = report
                .workloads
                .iter()
                .map(|w| w.address.as_str())
                .collect();
            for f in &report.findings {
                assert!(
                    runguard::rules::find(&f.rule).is_some(),
                    "unregistered rule {}",
                    f.rule
                );
                assert!(
                    !f.causes.is_empty() && !f.workloads.is_empty(),
                    "{name}: {}",
                    f.rule
                );
                assert!(
                    f.causes.is_sorted() && f.workloads.is_sorted(),
                    "{name}: {}",
                    f.rule
                );
                // Causes and workloads have their own fields; evidence never repeats them.
                for a in f.causes.iter().chain(&f.workloads) {
                    assert!(
                        !f.evidence.contains(a),
                        "{name}: {a} is repeated in the evidence"
                    );
                }
                assert!(f.evidence.is_sorted(), "{name}: {}", f.rule);
                for w in &f.workloads {
                    assert!(
                        addresses.contains(&w.as_str()),
                        "{name}: {w} is not a workload"
                    );
                }
                assert!(
                    f.fingerprint.len() == 32
                        && f.fingerprint.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{name}: fingerprint {}",
                    f.fingerprint
                );
            }
            // Grants listed on a workload are on its own resources (for IAP accessors, the IAP
            // resource of a gate in front of it); what is inherited sits in a grant set.
            for w in &report.workloads {
                for p in w.before.iter().chain(&w.after) {
                    for g in p.invokers.iter().chain(&p.iap_accessors) {
                        assert!(
                            matches!(g.level, Some(Level::Resource)),
                            "{name}: {} is not a resource-level grant",
                            g.granted_by
                        );
                    }
                }
            }
            // Every referenced grant set exists, and every set is referenced.
            let ids: Vec<&str> = report.grant_sets.iter().map(|s| s.id.as_str()).collect();
            let mut used = std::collections::BTreeSet::new();
            for w in &report.workloads {
                for p in w.before.iter().chain(&w.after) {
                    let referenced = [
                        &p.inherited_invokers,
                        &p.inherited_iam_admins,
                        &p.inherited_iap_accessors,
                        &p.identity.impersonators,
                    ];
                    for id in referenced.into_iter().flatten() {
                        assert!(ids.contains(&id.as_str()), "{name}: no grant set {id}");
                        used.insert(id.as_str());
                    }
                }
            }
            assert_eq!(used.len(), ids.len(), "{name}: an unreferenced grant set");
            // A role names its resource exactly when it is granted on one.
            for w in &report.workloads {
                for p in w.before.iter().chain(&w.after) {
                    for r in &p.identity.roles {
                        assert_eq!(
                            matches!(r.level, Level::Resource),
                            r.resource.is_some(),
                            "{name}: {} from {}",
                            r.role,
                            r.granted_by
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn every_documented_field_name_is_in_the_contract_page() {
    let doc = std::fs::read_to_string(crate::support::root().join("docs/report-v2.md")).unwrap();
    let mut missing = Vec::new();
    for plan in scenario_plans() {
        let (json, _, _) = run(&plan, true);
        let mut stack = vec![json];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(m) => {
                    for (k, v) in m {
                        if !doc.contains(&format!("`{k}`")) && !missing.contains(&k) {
                            missing.push(k);
                        }
                        stack.push(v);
                    }
                }
                serde_json::Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
    }
    assert!(
        missing.is_empty(),
        "fields missing from docs/report-v2.md: {missing:?}"
    );
}

/// A report made with a `runguard.toml` (accepted findings, expired and stale entries) reads
/// with the consumer structs too, and names only documented fields.
#[test]
fn a_report_with_accepted_findings_reads_with_the_consumer_structs() {
    let out = assert_cmd::Command::cargo_bin("runguard")
        .unwrap()
        .current_dir(crate::support::root())
        .args(["examples/plan.json", "--format", "json"])
        .args(["--config", "testdata/config/accept-example/runguard.toml"])
        .env("RUNGUARD_TODAY", "2026-11-29")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let report: Report = serde_json::from_value(json).expect("consumer structs read it");
    assert!(report.acceptance.is_some());
    assert!(report.findings.iter().any(|f| f.accepted.is_some()));
}
