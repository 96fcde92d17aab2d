//! `--format json`: the `runguard/report/v2` contract that CI users consume.
//!
//! The wire structs here are kept apart from the model so that the model can change without
//! changing the contract. Field names and enum spellings are fixed; fields may be added.
//! `docs/report-v2.md` documents every field.
//!
//! Tri-states are spelled `"yes"`, `"no"`, `"unknown"` everywhere; `null` means only "does not
//! apply" (a job has no ingress). Grant lists that many workloads share, the invokers inherited
//! from projects and above and the principals that can use a runtime account, are written once
//! in `grant_sets` and referenced by id, so the report grows with the plan, not with
//! workloads × grants.

use std::sync::Arc;

use foldhash::HashMap;
use serde::Serialize;

use super::pretty::{Repeated, SharedTexts};
use super::{Report, SCHEMA, WorkloadEntry};
use crate::iam::Level;
use crate::inventory::WorkloadKind;
use crate::posture::identity::Impersonator;
use crate::posture::{Holders, Invoker, Posture};
use crate::rules::Direction;

#[derive(Serialize)]
struct Wire<'a> {
    schema: &'static str,
    plan: PlanInfo<'a>,
    summary: Summary,
    workloads: Vec<WireWorkload<'a>>,
    findings: Vec<WireFinding<'a>>,
    grant_sets: Vec<GrantSet<'a>>,
    policy_diffs: Vec<PolicyDiff<'a>>,
    unresolved: Vec<Reasoned<'a>>,
    unanalysable: Vec<Reasoned<'a>>,
    notes: &'a [String],
    plan_incomplete: &'a [String],
    acceptance: Option<WireAcceptance<'a>>,
}

#[derive(Serialize)]
struct WireAcceptance<'a> {
    path: &'a str,
    expired: Vec<WireEntry<'a>>,
    stale: Vec<WireEntry<'a>>,
}

#[derive(Serialize)]
struct WireEntry<'a> {
    line: usize,
    reason: &'a str,
    expires: Option<&'a str>,
}

fn wire_entry(n: &crate::report::EntryNote) -> WireEntry<'_> {
    WireEntry {
        line: n.line,
        reason: &n.reason,
        expires: n.expires.as_deref(),
    }
}

#[derive(Serialize)]
struct WireAccepted<'a> {
    reason: &'a str,
    line: usize,
}

#[derive(Serialize)]
struct PlanInfo<'a> {
    format_version: &'a str,
    terraform_version: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    workloads: usize,
    findings: usize,
    max_severity: Option<&'static str>,
    worsened: usize,
    accepted: usize,
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
    public_reasons: &'a [String],
    /// Grants on the workload itself.
    invokers: Vec<SetGrant<'a>>,
    /// The id of the grant set inherited from projects, folders and organizations.
    inherited_invokers: Option<String>,
    /// Grants on the workload itself that let principals change its IAM policy.
    iam_admins: Vec<SetGrant<'a>>,
    /// The id of the grant set of IAM administrators inherited from above.
    inherited_iam_admins: Option<String>,
    iam_check_disabled: Option<&'static str>,
    ingress: Option<&'static str>,
    default_uri_disabled: Option<&'static str>,
    iap: Option<&'static str>,
    /// Grants on the IAP resources of the gates in front of the workload.
    iap_accessors: Vec<SetGrant<'a>>,
    /// The id of the grant set of IAP accessors inherited from the project's `iap_web`, the
    /// project, folder and organization.
    inherited_iap_accessors: Option<String>,
    load_balancers: Vec<LoadBalancer<'a>>,
    domain_mappings: Vec<DomainMapping<'a>>,
    identity: WireIdentity<'a>,
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
    default: &'static str,
    implicit: bool,
    planned_account: Option<&'a str>,
    roles: Vec<Role<'a>>,
    /// Why the account's roles cannot be known, when they cannot.
    roles_unknown: Option<&'static str>,
    /// What removes a default compute account's automatic roles/editor.
    roles_mitigated: Option<&'a str>,
    /// The id of the grant set of principals that can act as the account.
    impersonators: Option<String>,
    keys: Vec<&'a str>,
    note: Option<&'a str>,
}

#[derive(Serialize)]
struct Role<'a> {
    role: &'a str,
    level: Level,
    /// The resource a `resource`-level grant is on.
    resource: Option<RoleResource<'a>>,
    privileged: bool,
    certain: bool,
    granted_by: &'a str,
}

#[derive(Serialize)]
struct RoleResource<'a> {
    #[serde(rename = "type")]
    rtype: &'a str,
    id: Option<&'a str>,
}

/// One grant in a set or on a workload.
#[derive(Serialize, Clone, PartialEq, Eq, Hash)]
struct SetGrant<'a> {
    member: &'a str,
    role: &'a str,
    level: Option<Level>,
    granted_by: &'a str,
    certain: bool,
    /// For an impersonator: the accounts between the grant and the runtime account, in order.
    via: &'a [String],
}

#[derive(Serialize)]
struct GrantSet<'a> {
    id: String,
    grants: Vec<SetGrant<'a>>,
}

/// Interns grant lists: identical lists get one id, numbered in order of first use, so the
/// output is deterministic.
#[derive(Default)]
struct GrantSets<'a> {
    ids: HashMap<Vec<SetGrant<'a>>, usize>,
    sets: Vec<Vec<SetGrant<'a>>>,
    /// The set of each shared inherited list already seen, by the list's address: a
    /// project's list is shared by its thousand workloads, and found without reading it.
    shared: HashMap<*const Invoker, Option<String>>,
    /// The set of each list of impersonators already seen, by the list's address: the
    /// accounts that the same principals control share one list.
    shared_impersonators: HashMap<*const Impersonator, Option<String>>,
}

impl<'a> GrantSets<'a> {
    /// The set of grants `holders` inherit from projects, folders and organizations.
    fn inherited(&mut self, holders: &'a Holders) -> Option<String> {
        let Some(list) = holders.shared_inherited() else {
            return self.intern(inherited_grants(holders));
        };
        if let Some(id) = self.shared.get(&list.as_ptr()) {
            return id.clone();
        }
        let id = self.intern(inherited_grants(list.iter()));
        self.shared.insert(list.as_ptr(), id.clone());
        id
    }

    /// The set of the principals that can use a runtime account.
    fn impersonators(&mut self, list: &'a Arc<[Impersonator]>) -> Option<String> {
        if let Some(id) = self.shared_impersonators.get(&list.as_ptr()) {
            return id.clone();
        }
        let grants = list
            .iter()
            .map(|i| SetGrant {
                member: i.principal.display(),
                role: &i.role,
                level: None,
                granted_by: &i.granted_by,
                certain: i.certain,
                via: &i.via,
            })
            .collect();
        let id = self.intern(grants);
        self.shared_impersonators.insert(list.as_ptr(), id.clone());
        id
    }

    fn intern(&mut self, grants: Vec<SetGrant<'a>>) -> Option<String> {
        if grants.is_empty() {
            return None;
        }
        // Most lists are a set seen before (a project's grants, on each of its workloads): look
        // them up without copying, and copy only a new one.
        let id = match self.ids.get(&grants) {
            Some(&id) => id,
            None => {
                let id = self.sets.len();
                self.ids.insert(grants.clone(), id);
                self.sets.push(grants);
                id
            }
        };
        Some(format!("g{}", id + 1))
    }

    fn into_wire(self) -> Vec<GrantSet<'a>> {
        self.sets
            .into_iter()
            .enumerate()
            .map(|(i, grants)| GrantSet {
                id: format!("g{}", i + 1),
                grants,
            })
            .collect()
    }
}

#[derive(Serialize)]
struct LoadBalancer<'a> {
    forwarding_rule: &'a str,
    chain: &'a [String],
    external: &'static str,
    iap: &'static str,
    certain: bool,
}

#[derive(Serialize)]
struct DomainMapping<'a> {
    address: &'a str,
    domain: Option<&'a str>,
    certain: bool,
}

#[derive(Serialize)]
struct Conflict<'a> {
    message: &'a str,
    addresses: &'a [String],
}

#[derive(Serialize)]
struct WireFinding<'a> {
    rule: &'static str,
    severity: &'static str,
    direction: &'static str,
    causes: &'a [String],
    subject: WireSubject<'a>,
    workloads: Repeated<SharedTexts<'a>>,
    message: &'a str,
    evidence: &'a [String],
    fingerprint: &'a str,
    accepted: Option<WireAccepted<'a>>,
}

#[derive(Serialize)]
struct WireSubject<'a> {
    principal: Option<&'a str>,
    role: Option<&'a str>,
    level: Option<Level>,
    account: Option<&'a str>,
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

/// A tri-state as the contract spells it.
fn tri(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

/// `tri` for a field that applies only to services (`null` elsewhere).
fn service_tri(kind: WorkloadKind, value: Option<bool>) -> Option<&'static str> {
    (kind == WorkloadKind::Service).then(|| tri(value))
}

/// A posture's grants of one kind, split into those on the workload itself and those inherited
/// from projects, folders and organizations.
fn split_grants(principals: &[Invoker]) -> (Vec<SetGrant<'_>>, Vec<SetGrant<'_>>) {
    set_grants(principals).partition(|g| g.level == Some(Level::Resource))
}

/// The grants of `holders` on the workload itself.
fn own_grants(holders: &Holders) -> Vec<SetGrant<'_>> {
    set_grants(holders.own())
        .filter(|g| g.level == Some(Level::Resource))
        .collect()
}

/// The grants of `holders` from projects, folders and organizations.
fn inherited_grants<'a>(holders: impl IntoIterator<Item = &'a Invoker>) -> Vec<SetGrant<'a>> {
    set_grants(holders)
        .filter(|g| g.level != Some(Level::Resource))
        .collect()
}

fn set_grants<'a>(
    holders: impl IntoIterator<Item = &'a Invoker>,
) -> impl Iterator<Item = SetGrant<'a>> {
    holders.into_iter().flat_map(|i| {
        i.grants.iter().map(move |g| SetGrant {
            member: i.principal.display(),
            role: &g.role,
            level: Some(g.level),
            granted_by: &g.address,
            certain: g.certain,
            via: &[],
        })
    })
}

fn posture<'a>(kind: WorkloadKind, p: &'a Posture, sets: &mut GrantSets<'a>) -> WirePosture<'a> {
    let (iap_accessors, inherited_accessors) = split_grants(&p.iap_accessors);

    WirePosture {
        public: p.public.as_str(),
        public_reasons: &p.public_reasons,
        invokers: own_grants(&p.invokers),
        inherited_invokers: sets.inherited(&p.invokers),
        iam_admins: own_grants(&p.iam_admins),
        inherited_iam_admins: sets.inherited(&p.iam_admins),
        iam_check_disabled: service_tri(kind, p.iam_check_disabled),
        ingress: p.ingress.map(|i| i.as_str()),
        default_uri_disabled: service_tri(kind, p.default_uri_disabled),
        iap: kind.serves_requests().then(|| tri(p.iap)),
        iap_accessors,
        inherited_iap_accessors: sets.intern(inherited_accessors),
        load_balancers: p
            .load_balancers
            .iter()
            .map(|l| LoadBalancer {
                forwarding_rule: &l.forwarding_rule,
                chain: &l.chain,
                external: tri(l.external),
                iap: tri(l.iap),
                certain: l.certain,
            })
            .collect(),
        domain_mappings: p
            .domain_mappings
            .iter()
            .map(|d| DomainMapping {
                address: &d.address,
                domain: d.domain.as_deref(),
                certain: d.certain,
            })
            .collect(),
        identity: WireIdentity {
            service_account: p.identity.service_account.as_deref(),
            default: tri(p.identity.default),
            implicit: p.identity.implicit,
            planned_account: p.identity.planned_account.as_deref(),
            roles: p
                .identity
                .roles
                .iter()
                .map(|r| Role {
                    role: &r.role,
                    level: r.level,
                    resource: r.resource.as_ref().map(|on| RoleResource {
                        rtype: &on.rtype,
                        id: on.id.as_deref(),
                    }),
                    privileged: r.privileged,
                    certain: r.certain,
                    granted_by: &r.granted_by,
                })
                .collect(),
            roles_unknown: p.identity.roles_unknown,
            roles_mitigated: p.identity.roles_mitigated.as_deref(),
            impersonators: sets.impersonators(&p.identity.impersonators),
            keys: p.identity.keys.iter().map(|k| k.address.as_str()).collect(),
            note: p.identity.note.as_deref(),
        },
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
        binary_authorization: p.binary_authorization.map(|b| b.as_str()),
        vpc_egress: p.vpc_egress.map(|e| e.as_str()),
    }
}

fn workload<'a>(
    w: &'a WorkloadEntry,
    changed: &foldhash::HashSet<&str>,
    sets: &mut GrantSets<'a>,
) -> WireWorkload<'a> {
    WireWorkload {
        address: &w.id.address,
        kind: w.id.kind.as_str(),
        api: w.id.api.as_str(),
        // A workload outside the plan is untouched by it; only IAM on it changes.
        action: w.action.map_or("no-op", |a| a.as_str()),
        external: w.id.external,
        changed: changed.contains(w.id.address.as_str()),
        before: w.before.as_ref().map(|p| posture(w.id.kind, p, sets)),
        after: w.after.as_ref().map(|p| posture(w.id.kind, p, sets)),
    }
}

/// Writes the report as pretty-printed JSON, followed by a newline.
pub fn render(r: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    super::pretty::to_writer(out, &wire(r))?;
    out.write_all(b"\n")
}

/// The schema id of the document printed when several plans are analysed at once.
pub const SET_SCHEMA: &str = "runguard/report-set/v2";

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
/// and either its `report` (a `runguard/report/v2` document) or the `error` that refused it.
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
    super::pretty::to_writer(out, &set)?;
    out.write_all(b"\n")
}

fn wire(r: &Report) -> Wire<'_> {
    let mut sets = GrantSets::default();
    let listed = r.listed();
    let workloads = r
        .workloads
        .iter()
        .map(|w| workload(w, &listed.workloads, &mut sets))
        .collect();
    Wire {
        schema: SCHEMA,
        plan: PlanInfo {
            format_version: &r.format_version,
            terraform_version: r.terraform_version.as_deref(),
        },
        summary: Summary {
            workloads: r.workloads.len(),
            findings: r.findings.len(),
            max_severity: r.max_severity().map(|s| s.as_str()),
            worsened: r.count(Direction::Worsened),
            accepted: r.accepted(),
            improved: r.count(Direction::Improved),
            unchanged: r.count(Direction::Unchanged),
            complete: r.complete(),
            headline: r.headline_of(&listed),
        },
        workloads,
        findings: r
            .findings
            .iter()
            .map(|f| WireFinding {
                rule: f.rule.id,
                severity: f.severity.as_str(),
                direction: f.direction.as_str(),
                causes: &f.causes,
                subject: WireSubject {
                    principal: f.subject.principal.as_deref(),
                    role: f.subject.role.as_deref(),
                    level: f.subject.level,
                    account: f.subject.account.as_deref(),
                },
                // A grant reaching every workload of a project lists them all in each of its
                // findings: the list is printed once and copied after, and so is each address
                // in the lists that differ.
                workloads: Repeated {
                    key: f.workloads.iter().map(|w| w.as_ptr() as usize).collect(),
                    value: SharedTexts(&f.workloads),
                },
                message: &f.message,
                evidence: &f.evidence,
                fingerprint: &f.fingerprint,
                accepted: f.accepted.as_ref().map(|a| WireAccepted {
                    reason: &a.reason,
                    line: a.line,
                }),
            })
            .collect(),
        grant_sets: sets.into_wire(),
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
        acceptance: r.acceptance.as_ref().map(|a| WireAcceptance {
            path: &a.path,
            expired: a.expired.iter().map(wire_entry).collect(),
            stale: a.stale.iter().map(wire_entry).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::{Shape, generate_shape};

    /// The report as runguard prints it, where lists that many findings share are copied
    /// (`pretty::Repeated`), and as serde_json prints the same wire value, where nothing is.
    fn printed_both_ways(plan: &[u8]) -> (String, String) {
        let report = crate::analyze(plan, &crate::Options::default()).expect("a plan");
        let mut ours = Vec::new();
        render(&report, &mut ours).expect("rendered");
        let mut theirs = serde_json::to_vec_pretty(&wire(&report)).expect("printed");
        theirs.push(b'\n');
        let text = |bytes| String::from_utf8(bytes).expect("UTF-8");
        (text(ours), text(theirs))
    }

    /// On a plan where a hundred project grants each reach every workload, and on the example.
    #[test]
    fn copied_workload_lists_print_as_serde_json_prints_them() {
        let mut plan = Vec::new();
        generate_shape(Shape::IamDense, 3_000_000, 11, &mut plan);
        let (ours, theirs) = printed_both_ways(&plan);
        assert!(ours.len() > 100_000);
        assert_eq!(ours, theirs);
        let example = include_bytes!("../../examples/plan.json");
        let (ours, theirs) = printed_both_ways(example);
        assert_eq!(ours, theirs);
    }
}
