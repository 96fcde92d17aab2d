//! The consumer's view of `runguard/report/v1`: strict structs that reject unknown fields, read
//! from every scenario report. A field added to the output without being documented in
//! `docs/report-v1.md` and here fails this test.

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
    changes: Vec<Change>,
    policy_diffs: Vec<PolicyDiff>,
    unresolved: Vec<Reasoned>,
    unanalysable: Vec<Reasoned>,
    notes: Vec<String>,
    plan_incomplete: Vec<String>,
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
    changes: usize,
    max_severity: Option<Severity>,
    worsened: usize,
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
    invokers: Vec<String>,
    iam_check_disabled: Option<bool>,
    ingress: Option<Ingress>,
    iap: Option<bool>,
    identity: Identity,
    default_uri_disabled: Option<bool>,
    public_reasons: Vec<String>,
    invoker_grants: Vec<InvokerGrant>,
    iam_admins: Vec<String>,
    iam_admin_grants: Vec<InvokerGrant>,
    load_balancers: Vec<LoadBalancer>,
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
    default: Option<bool>,
    implicit: bool,
    planned_account: Option<String>,
    roles: Vec<Role>,
    roles_unknown: Option<String>,
    impersonators: Vec<Impersonator>,
    keys: Vec<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Role {
    role: String,
    level: Level,
    privileged: bool,
    granted_by: String,
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
struct Impersonator {
    member: String,
    role: String,
    granted_by: String,
    via: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct InvokerGrant {
    member: String,
    role: String,
    level: Level,
    granted_by: String,
    certain: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct LoadBalancer {
    forwarding_rule: String,
    chain: Vec<String>,
    external: Option<bool>,
    iap: Option<bool>,
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
struct Change {
    rule: String,
    severity: Severity,
    direction: Direction,
    workload: String,
    message: String,
    evidence: Vec<String>,
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
            assert_eq!(report.schema, "runguard/report/v1");
            assert_eq!(report.summary.workloads, report.workloads.len());
            assert_eq!(report.summary.changes, report.changes.len());
            let worst = report
                .changes
                .iter()
                .filter(|c| c.direction == Direction::Worsened)
                .map(|c| &c.severity)
                .max();
            assert_eq!(
                report.summary.max_severity.as_ref(),
                worst,
                "{}",
                plan.display()
            );
            for c in &report.changes {
                assert!(
                    !c.evidence.is_empty() && c.evidence[0] == c.workload,
                    "{}",
                    c.rule
                );
                assert!(
                    runguard::rules::find(&c.rule).is_some(),
                    "unregistered rule {}",
                    c.rule
                );
            }
        }
    }
}

#[test]
fn every_documented_field_name_is_in_the_contract_page() {
    let doc = std::fs::read_to_string(crate::support::root().join("docs/report-v1.md")).unwrap();
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
        "fields missing from docs/report-v1.md: {missing:?}"
    );
}
