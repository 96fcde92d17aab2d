//! Who can invoke (or run, or redeploy) a workload, with real IAM semantics.
//!
//! Resource-level grants come from `GrantsOn` edges (and, never as certain, `MayGrantOn` edges
//! to the workload or to a candidate set it belongs to),
//! inherited ones from `Covers` edges. A
//! `*_iam_policy` replaces the whole policy and a `*_iam_binding` owns its role, so what one
//! side shows is the union of the bindings Terraform manages there; when two authorities fight
//! over the same policy (a policy with anything else, a binding and a member on one role) the
//! outcome depends on apply order, so the union is kept and the conflict is reported.

use std::sync::Arc;

use foldhash::HashMap;
use petgraph::graph::NodeIndex;

use crate::graph::{Authority, EdgeKind, IamIndex, Principal, ResolvedGrant, SideGraph};
use crate::iam::{Caps, Level};
use crate::inventory::{IamTarget, Scope, WorkloadKind};
use crate::plan::Tri;

/// How a principal gets access, for evidence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Grant {
    /// The IAM resource address (shared by every principal of the resource).
    pub address: Arc<str>,
    /// The role (or `(unknown role)`), likewise shared.
    pub role: Arc<str>,
    /// `resource`, `project`, `folder` or `organization`.
    pub level: Level,
    /// False when the grant only might give access: unknown role, IAM condition, or a scope
    /// match that the plan cannot prove.
    pub certain: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// A principal that can invoke a workload, with how.
pub struct Invoker {
    /// Who.
    pub principal: Principal,
    /// Every grant that gives it access.
    pub grants: Vec<Grant>,
}

impl Invoker {
    /// Some grant certainly gives access (not only possibly).
    pub fn certain(&self) -> bool {
        self.grants.iter().any(|g| g.certain)
    }
}

/// IAM resources that fight over one policy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Conflict {
    /// What the conflict is.
    pub message: String,
    /// The IAM resources involved.
    pub addresses: Vec<String>,
}

/// Who can invoke (run, redeploy) the workload at `node`, and the IAM resources on it that
/// fight over one policy.
pub fn collect(
    g: &SideGraph,
    node: NodeIndex,
    kind: WorkloadKind,
) -> (Vec<Invoker>, Vec<Conflict>) {
    let invokers = holders(g, node, SideGraph::access_caps(kind), |_| true);
    let direct: Vec<_> = g.incoming(node, |e| e == EdgeKind::GrantsOn).collect();
    (invokers, conflicts(g, &direct))
}

/// The principals that hold any of `wanted` on the workload at `node`, with their grants:
/// grants on the workload itself, grants that may be on it (a target the plan cannot tie to
/// one workload), and grants on the projects, folders and organizations above it. `keep`
/// leaves principals out (service agents, for some questions). One walk for every question
/// asked of a workload's IAM, so that policy, binding and member semantics, uncertainty and
/// levels are decided in one place.
pub(super) fn holders(
    g: &SideGraph,
    node: NodeIndex,
    wanted: Caps,
    keep: impl Fn(&Principal) -> bool,
) -> Vec<Invoker> {
    // Grants on the workload itself, then grants on the projects (and above) it sits in.
    let direct = g.incoming(node, |e| e == EdgeKind::GrantsOn);
    let mut sources: Vec<(NodeIndex, bool)> = direct.map(|(n, _)| (n, false)).collect();
    // Grants that may be on this workload or on another: they count, never as certain.
    let mut maybe: Vec<_> = g.incoming(node, |e| e == EdgeKind::MayGrantOn).collect();
    for (set, _) in g.outgoing(node, |e| e == EdgeKind::Candidate) {
        maybe.extend(g.incoming(set, |e| e == EdgeKind::MayGrantOn));
    }
    sources.extend(maybe.iter().map(|(n, _)| (*n, true)));
    sources.extend(scope_sources(g, node, wanted));
    let sources = sources
        .into_iter()
        .filter_map(|(source, assumed)| iam_source(g, source, assumed));
    fold(sources, wanted, keep)
}

/// The IAM resource at graph node `node` as a source of grants on the workload (or gate) asked
/// about: its level, and whether it applies only possibly. `None` for a node that is no IAM
/// resource, or for IAM on a gen2 function's own resource, which lets nobody call it.
pub(super) fn iam_source<'g>(
    g: &'g SideGraph,
    node: NodeIndex,
    assumed: bool,
) -> Option<Source<'g>> {
    let i = g.iam_index(node)?;
    let iam = g.iam(i);
    if iam.target.is_function_resource() {
        return None;
    }
    let (level, assumed) = match &iam.target {
        IamTarget::Scope(Scope::Project(_)) => (Level::Project, assumed),
        // Which folder or organization holds the project is outside the plan; such grants are
        // counted as applying (the report says so) rather than dropped.
        IamTarget::Scope(Scope::Folder(_)) => (Level::Folder, false),
        IamTarget::Scope(Scope::Organization(_)) => (Level::Organization, false),
        _ => (Level::Resource, assumed),
    };
    Some(Source {
        grant: &g.grants[i],
        address: &g.iam_addresses[i],
        level,
        own_policy: level == Level::Resource,
        assumed,
    })
}

/// The project, folder and organization IAM resources above the workload (or workload-like
/// node) at `node` whose roles carry one of `wanted` (one of the indexed scope capabilities),
/// each with whether the plan cannot prove the workload sits in that scope.
pub(super) fn scope_sources(
    g: &SideGraph,
    node: NodeIndex,
    wanted: Caps,
) -> Vec<(NodeIndex, bool)> {
    let mut out = Vec::new();
    for (project, edge) in g.outgoing(node, |e| matches!(e, EdgeKind::InProject { .. })) {
        let EdgeKind::InProject { assumed } = edge else {
            continue;
        };
        let covering = g.scope_grants(project, wanted);
        out.extend(covering.iter().map(|&i| (g.iam_nodes[i], assumed)));
    }
    out
}

/// One IAM resource whose bindings may give principals what is asked, and how it applies.
pub(super) struct Source<'g> {
    pub grant: &'g ResolvedGrant,
    pub address: &'g Arc<str>,
    pub level: Level,
    /// The policy of the resource asked about (or one that governs it as directly, and can
    /// hold `allUsers`): an unknown role there may well be the wanted one. An unknown role at
    /// project level is reported as unresolved instead, or every workload in the project would
    /// list the grant.
    pub own_policy: bool,
    /// The plan cannot prove that the grant applies here.
    pub assumed: bool,
}

/// The principals whose grants in `sources` carry any of `wanted`, with those grants: the one
/// place where policy, binding and member semantics, unknown roles, members and policies,
/// conditions and uncertain scopes become who holds what.
pub(super) fn fold<'g>(
    sources: impl IntoIterator<Item = Source<'g>>,
    wanted: Caps,
    keep: impl Fn(&Principal) -> bool,
) -> Vec<Invoker> {
    let mut holders: Vec<Invoker> = Vec::new();
    // Bindings can list hundreds of thousands of members: look principals up by hash.
    let mut positions: HashMap<Principal, usize> = HashMap::default();
    let mut add = |principal: Principal, grant: Grant| match positions.get(&principal) {
        Some(&i) => {
            if !holders[i].grants.contains(&grant) {
                holders[i].grants.push(grant);
            }
        }
        None => {
            positions.insert(principal.clone(), holders.len());
            holders.push(Invoker {
                principal,
                grants: vec![grant],
            });
        }
    };
    for source in sources {
        let Source {
            grant,
            address,
            level,
            own_policy,
            assumed,
        } = source;
        let Some(bindings) = &grant.bindings else {
            // The whole policy is unknown: anyone may be in it.
            add(
                Principal::Unknown,
                Grant {
                    address: address.clone(),
                    role: "(unknown policy)".into(),
                    level,
                    certain: false,
                },
            );
            continue;
        };
        for b in bindings {
            let relevant_and_certain = match &b.role.caps {
                Tri::Known(caps) if caps.intersects(wanted) => Some(true),
                Tri::Known(_) => None,
                _ if own_policy => Some(false),
                // Above it, a role unknown at plan time may be roles/owner: a possible IAM admin.
                _ if b.role.name.is_none() && wanted.intersects(Caps::IAM_ADMIN) => Some(false),
                _ => None,
            };
            let Some(role_certain) = relevant_and_certain else {
                continue;
            };
            let role: Arc<str> = b.role.display().into();
            for p in b.principals.iter().filter(|p| keep(p)) {
                add(
                    p.clone(),
                    Grant {
                        address: address.clone(),
                        role: role.clone(),
                        level,
                        certain: role_certain && !b.conditional && !assumed,
                    },
                );
            }
        }
    }
    for h in &mut holders {
        h.grants.sort();
    }
    holders.sort_by(|a, b| a.principal.display().cmp(b.principal.display()));
    holders
}

fn conflicts(g: &SideGraph, edges: &[(NodeIndex, EdgeKind)]) -> Vec<Conflict> {
    let on_workload: Vec<IamIndex> = edges
        .iter()
        .filter(|(_, e)| *e == EdgeKind::GrantsOn)
        .filter_map(|(n, _)| g.iam_index(*n))
        .collect();
    // A gen2 function has two policies: its own and its Cloud Run service's. Resources on one
    // never overwrite the other.
    let (on_function, on_service): (Vec<IamIndex>, Vec<IamIndex>) = on_workload
        .into_iter()
        .partition(|&i| g.iam(i).target.is_function_resource());
    let mut out = policy_conflicts(g, &on_function);
    out.extend(policy_conflicts(g, &on_service));
    out.sort();
    out.dedup();
    out
}

/// Conflicts among the IAM resources on one policy.
fn policy_conflicts(g: &SideGraph, resource_level: &[IamIndex]) -> Vec<Conflict> {
    let mut out = Vec::new();
    let policies: Vec<IamIndex> = resource_level
        .iter()
        .copied()
        .filter(|&i| g.grants[i].authority == Authority::Policy)
        .collect();
    if !policies.is_empty() && resource_level.len() > 1 {
        let mut addresses: Vec<String> = resource_level
            .iter()
            .map(|&i| g.iam(i).address.to_string())
            .collect();
        addresses.sort();
        out.push(Conflict {
            message: "an authoritative *_iam_policy is combined with other IAM resources on the same workload; \
                      each apply overwrites the other"
                .into(),
            addresses,
        });
    }
    let bindings: Vec<IamIndex> = resource_level
        .iter()
        .copied()
        .filter(|&i| g.grants[i].authority == Authority::Binding)
        .collect();
    for &b in &bindings {
        let Some(role) = role_name(g, b) else {
            continue;
        };
        let mut members: Vec<String> = resource_level
            .iter()
            .copied()
            .filter(|&m| {
                g.grants[m].authority == Authority::Member
                    && role_name(g, m).as_deref() == Some(&role)
            })
            .map(|m| g.iam(m).address.to_string())
            .collect();
        if members.is_empty() {
            continue;
        }
        members.push(g.iam(b).address.to_string());
        members.sort();
        out.push(Conflict {
            message: format!(
                "a *_iam_binding owns `{role}` and *_iam_member resources add to the same role; \
                 the binding removes them on its next apply"
            ),
            addresses: members,
        });
    }
    out
}

fn role_name(g: &SideGraph, i: IamIndex) -> Option<String> {
    g.grants[i].bindings.as_ref()?.first()?.role.name.clone()
}
