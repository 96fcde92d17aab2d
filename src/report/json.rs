//! `--format json`: the `runguard/report/v1` contract that CI users consume.
//!
//! The wire structs here are kept apart from the model so that the model can change without
//! changing the contract. Field names and enum spellings are fixed; fields may be added.
//! `docs/report-v1.md` documents every field.

use serde::Serialize;

use super::{Report, SCHEMA, WorkloadEntry};
use crate::posture::{Invoker, Posture, Verdict};
use crate::rules::Direction;

#[derive(Serialize)]
struct Wire<'a> {
    schema: &'static str,
    plan: PlanInfo<'a>,
    summary: Summary,
    workloads: Vec<WireWorkload<'a>>,
    changes: Vec<WireChange<'a>>,
    policy_diffs: Vec<PolicyDiff<'a>>,
    unresolved: Vec<Reasoned<'a>>,
    unanalysable: Vec<Reasoned<'a>>,
    notes: &'a [String],
    plan_incomplete: &'a [String],
}

#[derive(Serialize)]
struct PlanInfo<'a> {
    format_version: &'a str,
    terraform_version: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    workloads: usize,
    changes: usize,
    max_severity: Option<&'static str>,
    worsened: usize,
    improved: usize,
    unchanged: usize,
    complete: bool,
    headline: String,
}

#[derive(Serialize)]
struct WireWorkload<'a> {
    address: &'a str,
    kind: &'static str,
    api: &'static str,
    action: &'static str,
    external: bool,
    changed: bool,
    before: Option<WirePosture<'a>>,
    after: Option<WirePosture<'a>>,
}

#[derive(Serialize)]
struct WirePosture<'a> {
    public: &'static str,
    invokers: Vec<&'a str>,
    iam_check_disabled: Option<bool>,
    ingress: Option<&'static str>,
    iap: Option<bool>,
    identity: WireIdentity<'a>,
    default_uri_disabled: Option<bool>,
    public_reasons: &'a [String],
    invoker_grants: Vec<InvokerGrant<'a>>,
    iam_admins: Vec<&'a str>,
    iam_admin_grants: Vec<InvokerGrant<'a>>,
    load_balancers: Vec<LoadBalancer<'a>>,
    conflicts: Vec<Conflict<'a>>,
    plaintext_secret_env: Vec<Secret<'a>>,
    binary_authorization: Option<&'static str>,
    vpc_egress: Option<&'static str>,
}

#[derive(Serialize)]
struct Secret<'a> {
    container: &'a str,
    name: &'a str,
    reason: &'static str,
}

#[derive(Serialize)]
struct WireIdentity<'a> {
    service_account: Option<&'a str>,
    default: Option<bool>,
    implicit: bool,
    planned_account: Option<&'a str>,
    roles: Vec<Role<'a>>,
    roles_unknown: Option<&'static str>,
    impersonators: Vec<Impersonator<'a>>,
    keys: Vec<&'a str>,
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct Role<'a> {
    role: &'a str,
    level: &'static str,
    privileged: bool,
    granted_by: &'a str,
}

#[derive(Serialize)]
struct Impersonator<'a> {
    member: &'a str,
    role: &'a str,
    granted_by: &'a str,
    via: &'a [String],
}

#[derive(Serialize)]
struct InvokerGrant<'a> {
    member: &'a str,
    role: &'a str,
    level: &'static str,
    granted_by: &'a str,
    certain: bool,
}

#[derive(Serialize)]
struct LoadBalancer<'a> {
    forwarding_rule: &'a str,
    chain: &'a [String],
    external: Option<bool>,
    iap: Option<bool>,
}

#[derive(Serialize)]
struct Conflict<'a> {
    message: &'a str,
    addresses: &'a [String],
}

#[derive(Serialize)]
struct WireChange<'a> {
    rule: &'static str,
    severity: &'static str,
    direction: &'static str,
    workload: &'a str,
    message: &'a str,
    evidence: &'a [String],
}

#[derive(Serialize)]
struct PolicyDiff<'a> {
    address: &'a str,
    diff: &'a str,
}

#[derive(Serialize)]
struct Reasoned<'a> {
    address: &'a str,
    reason: &'a str,
}

/// One entry per (principal, grant).
fn grants(principals: &[Invoker]) -> Vec<InvokerGrant<'_>> {
    principals
        .iter()
        .flat_map(|i| {
            i.grants.iter().map(move |g| InvokerGrant {
                member: i.principal.display(),
                role: &g.role,
                level: g.level,
                granted_by: &g.address,
                certain: g.certain,
            })
        })
        .collect()
}

fn posture(p: &Posture) -> WirePosture<'_> {
    WirePosture {
        public: match p.public {
            Verdict::Yes => "yes",
            Verdict::No => "no",
            Verdict::Unknown => "unknown",
        },
        invokers: p.invokers.iter().map(|i| i.principal.display()).collect(),
        iam_check_disabled: p.iam_check_disabled,
        ingress: p.ingress.map(|i| i.as_str()),
        iap: p.iap,
        identity: WireIdentity {
            service_account: p.identity.service_account.as_deref(),
            default: p.identity.default,
            implicit: p.identity.implicit,
            planned_account: p.identity.planned_account.as_deref(),
            roles: p
                .identity
                .roles
                .iter()
                .map(|r| Role {
                    role: &r.role,
                    level: r.level,
                    privileged: r.privileged,
                    granted_by: &r.granted_by,
                })
                .collect(),
            roles_unknown: p.identity.roles_unknown,
            impersonators: p
                .identity
                .impersonators
                .iter()
                .map(|i| Impersonator {
                    member: i.principal.display(),
                    role: &i.role,
                    granted_by: &i.granted_by,
                    via: &i.via,
                })
                .collect(),
            keys: p.identity.keys.iter().map(|k| k.address.as_str()).collect(),
            note: p.identity.note.as_deref(),
        },
        default_uri_disabled: p.default_uri_disabled,
        public_reasons: &p.public_reasons,
        invoker_grants: grants(&p.invokers),
        iam_admins: p.iam_admins.iter().map(|i| i.principal.display()).collect(),
        iam_admin_grants: grants(&p.iam_admins),
        load_balancers: p
            .load_balancers
            .iter()
            .map(|l| LoadBalancer {
                forwarding_rule: &l.forwarding_rule,
                chain: &l.chain,
                external: l.external,
                iap: l.iap,
            })
            .collect(),
        conflicts: p
            .conflicts
            .iter()
            .map(|c| Conflict {
                message: &c.message,
                addresses: &c.addresses,
            })
            .collect(),
        plaintext_secret_env: p
            .plaintext_secrets
            .iter()
            .map(|s| Secret {
                container: &s.container,
                name: &s.name,
                reason: s.reason,
            })
            .collect(),
        binary_authorization: p.binary_authorization,
        vpc_egress: p.vpc_egress,
    }
}

fn workload<'a>(
    w: &'a WorkloadEntry,
    changed: &std::collections::HashSet<&str>,
) -> WireWorkload<'a> {
    WireWorkload {
        address: &w.id.address,
        kind: w.id.kind.as_str(),
        api: w.id.api.as_str(),
        // A workload outside the plan is untouched by it; only IAM on it changes.
        action: w.action.map_or("no-op", |a| a.as_str()),
        external: w.id.external,
        changed: changed.contains(w.id.address.as_str()),
        before: w.before.as_ref().map(posture),
        after: w.after.as_ref().map(posture),
    }
}

/// Writes the report as pretty-printed JSON, followed by a newline.
pub fn render(r: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &wire(r)).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// The schema id of the document printed when several plans are analysed at once.
pub const SET_SCHEMA: &str = "runguard/report-set/v1";

#[derive(Serialize)]
struct WireSet<'a> {
    schema: &'static str,
    reports: Vec<SetEntry<'a>>,
}

#[derive(Serialize)]
struct SetEntry<'a> {
    source: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<Wire<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

/// Writes the reports of several plans, in the order given: each entry carries its `source`
/// and either its `report` (a `runguard/report/v1` document) or the `error` that refused it.
pub fn render_set(
    results: &[(String, Result<Report, String>)],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let set = WireSet {
        schema: SET_SCHEMA,
        reports: results
            .iter()
            .map(|(source, result)| SetEntry {
                source,
                report: result.as_ref().ok().map(wire),
                error: result.as_ref().err().map(String::as_str),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &set).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

fn wire(r: &Report) -> Wire<'_> {
    Wire {
        schema: SCHEMA,
        plan: PlanInfo {
            format_version: &r.format_version,
            terraform_version: r.terraform_version.as_deref(),
        },
        summary: Summary {
            workloads: r.workloads.len(),
            changes: r.changes.len(),
            max_severity: r.max_severity().map(|s| s.as_str()),
            worsened: r.count(Direction::Worsened),
            improved: r.count(Direction::Improved),
            unchanged: r.count(Direction::Unchanged),
            complete: r.complete(),
            headline: r.headline(),
        },
        workloads: {
            let changed = r.changed_workloads();
            r.workloads.iter().map(|w| workload(w, &changed)).collect()
        },
        changes: r
            .changes
            .iter()
            .map(|c| WireChange {
                rule: c.rule.id,
                severity: c.severity().as_str(),
                direction: c.direction.as_str(),
                workload: &c.workload,
                message: &c.message,
                evidence: &c.evidence,
            })
            .collect(),
        policy_diffs: r
            .policy_diffs
            .iter()
            .map(|d| PolicyDiff {
                address: &d.address,
                diff: &d.diff,
            })
            .collect(),
        unresolved: r
            .unresolved
            .iter()
            .map(|u| Reasoned {
                address: &u.address,
                reason: &u.reason,
            })
            .collect(),
        unanalysable: r
            .unanalysable
            .iter()
            .map(|u| Reasoned {
                address: &u.address,
                reason: &u.reason,
            })
            .collect(),
        notes: &r.notes,
        plan_incomplete: &r.plan_incomplete,
    }
}
