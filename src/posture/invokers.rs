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

/// Who holds some access to a workload, with how: every principal once, with all its grants,
/// sorted by display form (see [`Holders::iter`]).
///
/// What a workload inherits from its projects, folders and organizations is the same for every
/// workload of those scopes, and on an IAM-dense plan it is most of the list: it is folded once
/// per set of scopes and shared (`inherited`), so that a thousand workloads of one project hold
/// one list. Only principals with a grant on the workload itself are the workload's own.
#[derive(Debug, Clone)]
pub struct Holders {
    /// Principals with a grant on the workload itself (or one that may be on it), each with
    /// every grant it holds, inherited ones included; sorted by display form.
    own: Vec<Invoker>,
    /// The principals the workload's scopes give access, with those grants; sorted by display
    /// form and shared by every workload of the same scopes.
    inherited: Arc<[Invoker]>,
    /// The positions in `inherited` of the principals that `own` lists (with all their grants),
    /// ascending.
    shadowed: Vec<usize>,
}

impl Default for Holders {
    fn default() -> Holders {
        Holders::from(Vec::new())
    }
}

impl From<Vec<Invoker>> for Holders {
    /// Holders that share nothing: every principal is the workload's own.
    fn from(own: Vec<Invoker>) -> Holders {
        Holders {
            own,
            inherited: Arc::from(Vec::new()),
            shadowed: Vec::new(),
        }
    }
}

impl Holders {
    /// Every principal once, with all its grants, in the order one fold of all the grants
    /// gives: by display form, and among equal display forms (sensitive members) the
    /// principals with a grant on the workload first.
    pub fn iter(&self) -> HoldersIter<'_> {
        HoldersIter {
            holders: self,
            own: 0,
            inherited: 0,
            shadowed: 0,
        }
    }

    /// How many principals.
    pub fn len(&self) -> usize {
        self.own.len() + self.inherited.len() - self.shadowed.len()
    }

    /// No principal holds the access.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The principals with a grant on the workload itself, with all their grants.
    pub fn own(&self) -> &[Invoker] {
        &self.own
    }

    /// The shared inherited list, when its order is the order in which [`Self::iter`] gives
    /// the inherited grants: then two workloads holding the same list (the same `Arc`) inherit
    /// the same grants, in the same order, without comparing them. `None` when a principal of
    /// the workload's own is a sensitive one inherited too, whose place among equal display
    /// forms differs, or when nothing is inherited through a shared list.
    pub fn shared_inherited(&self) -> Option<&Arc<[Invoker]>> {
        let reordered = self.shadowed.iter().any(|&i| {
            self.inherited[i].principal.display() != self.inherited[i].principal.identity_key()
        });
        (!reordered && !self.inherited.is_empty()).then_some(&self.inherited)
    }

    /// What the workload inherits, as one value: the shared list's address and the positions
    /// in it that the workload's own principals shadow. Two workloads with equal values inherit
    /// the same principals with the same grants, while the postures live (the lists are never
    /// changed). `None` when nothing is inherited.
    pub(crate) fn inherited_identity(&self) -> Option<(usize, &[usize])> {
        (!self.inherited.is_empty()).then(|| (self.inherited.as_ptr() as usize, &*self.shadowed))
    }

    /// The inherited principals that are not the workload's own, in list order.
    pub(crate) fn inherited_only(&self) -> impl Iterator<Item = &Invoker> {
        let mut shadowed = self.shadowed.iter().copied().peekable();
        self.inherited.iter().enumerate().filter_map(move |(i, h)| {
            if shadowed.next_if_eq(&i).is_some() {
                None
            } else {
                Some(h)
            }
        })
    }

    /// The principals of the shared inherited list (shadowed or not) whose identity key is
    /// `key`, found by their place in the list's order: those whose display form is the key,
    /// and the sensitive ones, whose display form hides it.
    pub(crate) fn inherited_with_key<'h>(
        &'h self,
        key: &'h str,
    ) -> impl Iterator<Item = &'h Invoker> {
        let list = &*self.inherited;
        let displayed = |display: &str| {
            let start = list.partition_point(|h| h.principal.display() < display);
            let len = list[start..].partition_point(|h| h.principal.display() == display);
            &list[start..start + len]
        };
        let hidden = displayed(Principal::SENSITIVE);
        let shown = if key == Principal::SENSITIVE {
            &[]
        } else {
            displayed(key)
        };
        shown
            .iter()
            .chain(hidden)
            .filter(move |h| h.principal.identity_key() == key)
    }
}

impl<'h> IntoIterator for &'h Holders {
    type Item = &'h Invoker;
    type IntoIter = HoldersIter<'h>;

    fn into_iter(self) -> HoldersIter<'h> {
        self.iter()
    }
}

/// [`Holders::iter`]: the workload's own principals merged into the inherited ones that it
/// does not shadow.
pub struct HoldersIter<'h> {
    holders: &'h Holders,
    own: usize,
    inherited: usize,
    shadowed: usize,
}

impl<'h> Iterator for HoldersIter<'h> {
    type Item = &'h Invoker;

    fn next(&mut self) -> Option<&'h Invoker> {
        let h = self.holders;
        while self.shadowed < h.shadowed.len() && h.shadowed[self.shadowed] == self.inherited {
            self.shadowed += 1;
            self.inherited += 1;
        }
        let own = h.own.get(self.own);
        let inherited = h.inherited.get(self.inherited);
        match (own, inherited) {
            (Some(o), Some(i)) if i.principal.display() < o.principal.display() => {
                self.inherited += 1;
                Some(i)
            }
            (Some(o), _) => {
                self.own += 1;
                Some(o)
            }
            (None, Some(i)) => {
                self.inherited += 1;
                Some(i)
            }
            (None, None) => None,
        }
    }
}

/// The inherited holders already folded, by the scopes asked about: one per set of project
/// nodes (with whether each is assumed) and capabilities. One cache per question (invokers,
/// IAM admins), since the principals each leaves out differ.
#[derive(Default)]
pub struct Inherited {
    lists: HashMap<(Caps, Vec<(NodeIndex, bool)>), Shared>,
}

/// One inherited list, and where each of its principals is in it.
struct Shared {
    list: Arc<[Invoker]>,
    positions: HashMap<Principal, usize>,
}

/// Who can invoke (run, redeploy) the workload at `node`, and the IAM resources on it that
/// fight over one policy.
pub fn collect(
    g: &SideGraph,
    node: NodeIndex,
    kind: WorkloadKind,
    inherited: &mut Inherited,
) -> (Holders, Vec<Conflict>) {
    let invokers = holders(g, node, SideGraph::access_caps(kind), |_| true, inherited);
    let direct: Vec<_> = g.incoming(node, |e| e == EdgeKind::GrantsOn).collect();
    (invokers, conflicts(g, &direct))
}

/// The principals that hold any of `wanted` on the workload at `node`, with their grants:
/// grants on the workload itself, grants that may be on it (a target the plan cannot tie to
/// one workload), and grants on the projects, folders and organizations above it. `keep`
/// leaves principals out (service agents, for some questions); `inherited` holds what earlier
/// workloads of the same scopes inherit (asked with the same `keep`). One walk for every
/// question asked of a workload's IAM, so that policy, binding and member semantics,
/// uncertainty and levels are decided in one place.
pub(super) fn holders(
    g: &SideGraph,
    node: NodeIndex,
    wanted: Caps,
    keep: impl Fn(&Principal) -> bool,
    inherited: &mut Inherited,
) -> Holders {
    // Grants on the workload itself.
    let direct = g.incoming(node, |e| e == EdgeKind::GrantsOn);
    let mut sources: Vec<(NodeIndex, bool)> = direct.map(|(n, _)| (n, false)).collect();
    // Grants that may be on this workload or on another: they count, never as certain.
    let mut maybe: Vec<_> = g.incoming(node, |e| e == EdgeKind::MayGrantOn).collect();
    for (set, _) in g.outgoing(node, |e| e == EdgeKind::Candidate) {
        maybe.extend(g.incoming(set, |e| e == EdgeKind::MayGrantOn));
    }
    sources.extend(maybe.iter().map(|(n, _)| (*n, true)));
    let sources = sources
        .into_iter()
        .filter_map(|(source, assumed)| iam_source(g, source, assumed));
    let mut own = fold_unsorted(sources, wanted, &keep);
    // Then the grants on the projects (and above) it sits in, folded once per set of scopes.
    let shared = inherited
        .lists
        .entry((wanted, projects(g, node)))
        .or_insert_with_key(|(_, projects)| {
            let sources = scope_sources_of(g, projects, wanted)
                .into_iter()
                .filter_map(|(source, assumed)| iam_source(g, source, assumed));
            let list = sorted(fold_unsorted(sources, wanted, &keep));
            let positions = list
                .iter()
                .enumerate()
                .map(|(i, h)| (h.principal.clone(), i))
                .collect();
            Shared {
                list: list.into(),
                positions,
            }
        });
    // A principal of the workload's own holds its inherited grants too, as one fold of every
    // source would give them.
    let mut shadowed = Vec::new();
    for h in &mut own {
        if let Some(&i) = shared.positions.get(&h.principal) {
            shadowed.push(i);
            for grant in &shared.list[i].grants {
                if !h.grants.contains(grant) {
                    h.grants.push(grant.clone());
                }
            }
        }
    }
    shadowed.sort_unstable();
    Holders {
        own: sorted(own),
        inherited: shared.list.clone(),
        shadowed,
    }
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
    scope_sources_of(g, &projects(g, node), wanted)
}

/// The project nodes whose grants apply to the workload (or workload-like node) at `node`,
/// each with whether the plan cannot prove the workload sits in that scope.
fn projects(g: &SideGraph, node: NodeIndex) -> Vec<(NodeIndex, bool)> {
    g.outgoing(node, |e| matches!(e, EdgeKind::InProject { .. }))
        .filter_map(|(project, edge)| match edge {
            EdgeKind::InProject { assumed } => Some((project, assumed)),
            _ => None,
        })
        .collect()
}

/// [`scope_sources`], given the node's projects.
fn scope_sources_of(
    g: &SideGraph,
    projects: &[(NodeIndex, bool)],
    wanted: Caps,
) -> Vec<(NodeIndex, bool)> {
    let mut out = Vec::new();
    for &(project, assumed) in projects {
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
    sorted(fold_unsorted(sources, wanted, keep))
}

/// [`fold`], with the principals in the order they were first seen and each one's grants in
/// the order they were found.
fn fold_unsorted<'g>(
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
    holders
}

/// Holders as reported: each one's grants sorted, and the principals by display form (a stable
/// sort, so that equal display forms stay in the order they were first seen).
fn sorted(mut holders: Vec<Invoker>) -> Vec<Invoker> {
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::graph::tests::with_after_graph;

    fn change(ty: &str, name: &str, after: Value, after_sensitive: Value) -> Value {
        json!({"address": format!("{ty}.{name}"), "type": ty, "name": name,
            "change": {"actions": ["create"], "before": null, "after": after,
                       "after_unknown": {}, "before_sensitive": false,
                       "after_sensitive": after_sensitive}})
    }

    /// Three services of one project. s0 has its own grants, to principals that hold
    /// project-level roles too, among them two sensitive members whose display forms tie; s2
    /// has one, to the sensitive member that also holds a project role.
    fn plan() -> Value {
        let mut changes = Vec::new();
        for s in ["s0", "s1", "s2"] {
            let service = json!({"name": s, "location": "europe-west1", "project": "acme-prod",
                "ingress": "INGRESS_TRAFFIC_ALL", "template": []});
            changes.push(change("google_cloud_run_v2_service", s, service, json!({})));
        }
        let project = |name: &str, role: &str, member: &str, sensitive: bool| {
            change(
                "google_project_iam_member",
                name,
                json!({"project": "acme-prod", "role": role, "member": member, "condition": []}),
                json!({"member": sensitive, "condition": []}),
            )
        };
        changes.push(project("b", "roles/editor", "user:b@acme.example", true));
        changes.push(project(
            "c",
            "roles/run.invoker",
            "user:c@acme.example",
            true,
        ));
        changes.push(project(
            "a",
            "roles/editor",
            "serviceAccount:a@acme.example",
            false,
        ));
        changes.push(project("o", "roles/owner", "user:o@acme.example", false));
        for (name, service, member, role) in [
            ("own_c", "s0", "user:c@acme.example", "roles/run.invoker"),
            (
                "own_a",
                "s0",
                "serviceAccount:a@acme.example",
                "roles/run.admin",
            ),
            ("own_z", "s0", "user:z@acme.example", "roles/run.invoker"),
            ("s2_c", "s2", "user:c@acme.example", "roles/run.invoker"),
        ] {
            changes.push(change(
                "google_cloud_run_v2_service_iam_member",
                name,
                json!({"name": service, "location": "europe-west1", "project": "acme-prod",
                       "role": role, "member": member, "condition": []}),
                json!({"member": member == "user:c@acme.example", "condition": []}),
            ));
        }
        json!({"format_version": "1.2", "resource_changes": changes,
            "configuration": {"provider_config": {"google": {"name": "google",
                "expressions": {"project": {"constant_value": "acme-prod"}}}},
                "root_module": {"resources": []}}})
    }

    /// Every source of grants on `node`, in the order one fold of them all would take them.
    fn all_sources<'g>(g: &'g SideGraph, node: NodeIndex, wanted: Caps) -> Vec<Source<'g>> {
        let mut sources: Vec<(NodeIndex, bool)> = g
            .incoming(node, |e| e == EdgeKind::GrantsOn)
            .map(|(n, _)| (n, false))
            .collect();
        sources.extend(scope_sources(g, node, wanted));
        sources
            .into_iter()
            .filter_map(|(n, assumed)| iam_source(g, n, assumed))
            .collect()
    }

    /// Sharing what workloads inherit changes nothing that is reported: each workload's
    /// holders, in order, are those of one fold of every grant on it, sensitive ties included;
    /// and the workloads of one project hold one inherited list.
    #[test]
    fn shared_inherited_holders_are_those_of_one_fold() {
        let lists = with_after_graph(&plan(), |g| {
            let mut invokers = Inherited::default();
            let mut admins = Inherited::default();
            let mut lists = Vec::new();
            for (i, w) in g.workloads() {
                let node = g.workload_nodes[i];
                let wanted = SideGraph::access_caps(w.kind);
                let (shared, _) = collect(g, node, w.kind, &mut invokers);
                let once = fold(all_sources(g, node, wanted), wanted, |_| true);
                assert_eq!(shared.iter().cloned().collect::<Vec<_>>(), once);
                assert_eq!(shared.len(), once.len());
                assert_eq!(shared.is_empty(), once.is_empty());
                let admin = |p: &Principal| {
                    !matches!(p, Principal::Known { member, .. }
                        if crate::iam::member::is_service_agent(member))
                };
                let shared_admins = super::super::iam_admins::collect(g, node, &mut admins);
                let once_admins = fold(
                    all_sources(g, node, Caps::IAM_ADMIN),
                    Caps::IAM_ADMIN,
                    admin,
                );
                assert_eq!(
                    shared_admins.iter().cloned().collect::<Vec<_>>(),
                    once_admins
                );
                lists.push(shared);
            }
            lists
        });
        let [s0, s1, s2] = &lists[..] else {
            panic!("three services, not {}", lists.len());
        };
        // The service with its own grants ties two sensitive members: its inherited grants
        // come in another order than the shared list's, so the list is not offered as theirs.
        let sensitive = s0.iter().filter(|h| h.principal.display() == "(sensitive)");
        assert_eq!(sensitive.count(), 2);
        assert!(s0.shared_inherited().is_none());
        assert_eq!(s0.own().len(), 3);
        assert!(s1.own().is_empty());
        assert!(Arc::ptr_eq(&s0.inherited, &s1.inherited));
        assert!(s1.shared_inherited().is_some());
        assert!(!s1.is_empty());
        // So does a sensitive member of the workload's own that is inherited too, alone.
        assert_eq!(s2.own().len(), 1);
        assert!(s2.shared_inherited().is_none());
    }

    /// Each principal of the shared list is found by its identity key, first and last of the
    /// list and the sensitive ones (whose display form hides the key) included, whether the
    /// workload shadows it or not; a key it does not hold finds none. What the workload
    /// inherits without holding it itself is the rest of the list, in order.
    #[test]
    fn inherited_principals_are_found_by_their_key() {
        with_after_graph(&plan(), |g| {
            let mut invokers = Inherited::default();
            let holders: Vec<Holders> = g
                .workloads()
                .map(|(i, w)| collect(g, g.workload_nodes[i], w.kind, &mut invokers).0)
                .collect();
            let s0 = &holders[0];
            let list = &s0.inherited;
            assert!(list.len() >= 3, "{} inherited", list.len());
            for h in list.iter() {
                let key = h.principal.identity_key();
                let found: Vec<&Invoker> = s0.inherited_with_key(key).collect();
                assert_eq!(found, [h], "{key}");
            }
            for absent in [
                "user:z@acme.example",
                "user:zz@acme.example",
                "(sensitive)",
                "",
            ] {
                assert_eq!(s0.inherited_with_key(absent).count(), 0, "{absent}");
            }
            let only: Vec<&Invoker> = s0.inherited_only().collect();
            let unshadowed: Vec<&Invoker> = list
                .iter()
                .enumerate()
                .filter(|(i, _)| !s0.shadowed.contains(i))
                .map(|(_, h)| h)
                .collect();
            assert!(!s0.shadowed.is_empty());
            assert_eq!(only, unshadowed);
            let (address, shadowed) = s0.inherited_identity().expect("inherits");
            assert_eq!(
                (address, shadowed),
                (list.as_ptr() as usize, &s0.shadowed[..])
            );
        });
    }
}
