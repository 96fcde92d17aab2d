//! The runtime identity: which service account a workload runs as, the roles that account
//! holds, who can act as it or mint tokens for it, and the keys created for it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

use petgraph::graph::NodeIndex;

use crate::graph::{
    AccountIndex, EdgeKind, IamIndex, Identity, NodeKind, Principal, RoleRef, SideGraph,
    WorkloadIndex,
};

use crate::iam::member::{is_service_agent, service_account_member};
use crate::iam::roles::is_privileged;
use crate::iam::{Caps, Level};
use crate::inventory::{IamTarget, Scope, Workload};
use crate::plan::Tri;

/// A role held by the runtime account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldRole {
    /// The role.
    pub role: String,
    /// The IAM resource that grants it.
    pub granted_by: String,
    /// `project`, `folder` or `organization`.
    pub level: Level,
    /// The role is privileged (owner, editor, an admin role, or one that can act as others).
    pub privileged: bool,
    /// What the role lets the account do, by name.
    pub capabilities: Vec<&'static str>,
}

impl HeldRole {
    /// `role`, granted by IAM resource `i` at `level`; a role whose permissions are unknown has
    /// no capabilities and is not counted as privileged by them (its name may still be).
    fn granted(g: &SideGraph, i: IamIndex, role: &RoleRef, level: Level) -> HeldRole {
        let name = role.display().to_owned();
        let caps = role.caps.clone().known().unwrap_or(Caps::NONE);
        HeldRole {
            privileged: may_be_privileged(role, caps),
            capabilities: caps.names(),
            role: name,
            granted_by: g.iam(i).address.to_string(),
            level,
        }
    }
}

/// A principal that can use the runtime account's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Impersonator {
    /// Who can impersonate the account.
    pub principal: Principal,
    /// Through which role.
    pub role: String,
    /// The IAM resource that grants it.
    pub granted_by: String,
    /// The service accounts between the principal and the runtime account: the principal can
    /// use the first, which can use the next, and the last can use the runtime account. Empty
    /// when the grant is on the runtime account (or its project) itself.
    pub via: Vec<String>,
    /// Every grant of this chain exists on the other side of the plan too, with the same
    /// principal and role: the power is not the plan's doing.
    pub persists: bool,
}

/// A key for the runtime account, or for an account that can use it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldKey {
    /// The key's address.
    pub address: String,
    /// The account the key is for, as shown in reports.
    pub account: String,
    /// The accounts from that account to the runtime account (see [`Impersonator::via`]);
    /// empty for a key of the runtime account itself.
    pub via: Vec<String>,
    /// The key and every grant of its chain exist on the other side of the plan too.
    pub persists: bool,
}

impl Impersonator {
    /// What tells principals apart across sides. A sensitive member compares by its value
    /// (never printed); an unknown one is only the same principal as the unknown member of
    /// the same grant, since two unknown values may differ.
    pub fn principal_key(&self) -> String {
        match &self.principal {
            Principal::Known { member, .. } => member.clone(),
            Principal::Unknown => format!("(unknown member of {})", self.granted_by),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// The runtime identity of a workload on one side.
pub struct IdentityPosture {
    /// The account email when known.
    pub service_account: Option<String>,
    /// Runs as the Compute Engine default account. `None` when unknown or not applicable.
    pub default: Option<bool>,
    /// `service_account` is unset and Cloud Run picks the default account.
    pub implicit: bool,
    /// A service account created by this plan whose email is not known yet.
    pub planned_account: Option<String>,
    /// The roles the account holds, as far as the plan shows.
    pub roles: Vec<HeldRole>,
    /// Why the account's roles are not all known, shown wherever its roles are: the roles it
    /// holds outside the plan matter (the default compute account), or the account is unknown.
    pub roles_unknown: Option<&'static str>,
    /// Who can act as the account.
    pub impersonators: Vec<Impersonator>,
    /// Keys created for the account.
    pub keys: Vec<HeldKey>,
    /// Why the identity cannot be known, or what about it lies outside the plan.
    pub note: Option<String>,
}

/// The roles of the Compute Engine default account: whatever the plan grants it, plus the
/// automatic project grant that only an org policy outside the plan can prevent.
pub const DEFAULT_ACCOUNT_ROLES: &str =
    "unknown (holds roles/editor unless the automatic-grants org policy is enforced)";

/// The roles of an account the plan cannot name.
pub const UNKNOWN_ACCOUNT_ROLES: &str = "unknown (the runtime account is unknown)";

impl IdentityPosture {
    /// The identity of a workload outside the plan: nothing about it is known.
    pub fn outside_plan() -> IdentityPosture {
        IdentityPosture {
            service_account: None,
            default: None,
            implicit: false,
            planned_account: None,
            roles: Vec::new(),
            roles_unknown: None,
            impersonators: Vec::new(),
            keys: Vec::new(),
            note: Some("the workload is not in the plan".into()),
        }
    }

    /// The account as shown in reports.
    pub fn display(&self) -> String {
        match (&self.service_account, &self.planned_account) {
            (Some(e), _) if self.implicit => format!("{e} (implicit default)"),
            (Some(e), _) => e.clone(),
            (None, Some(a)) => format!("(email of {a})"),
            (None, None) if self.implicit => "default compute account (implicit)".into(),
            (None, None) => "(unknown)".into(),
        }
    }
}

/// An account whose controllers are looked up: a node of the graph, or (for an implicit
/// default account whose number is unknown) just the project it belongs to.
#[derive(Clone)]
struct Target {
    node: Option<NodeIndex>,
    account: Option<AccountIndex>,
    /// The `serviceAccount:` member, when the email is known.
    member: Option<String>,
    /// The account's project, for project-level grants; `None` when unknown.
    project: Option<String>,
    /// How the account reads in a chain.
    label: String,
}

impl Target {
    fn key(&self) -> String {
        match (self.account, &self.member) {
            (Some(a), _) => format!("#{a}"),
            (None, Some(m)) => m.clone(),
            (None, None) => format!("project {:?}", self.project),
        }
    }
}

/// One hop of a chain: a grant that lets a principal use an account, with what the walk needs
/// of it computed once rather than at every visit (a project-level grant is met from every
/// account of the project, by every runtime account's walk).
struct Controller {
    impersonator: Impersonator,
    /// The account the principal is, when it is one, and its [`Target::key`] interned.
    account: Option<(Target, usize)>,
    /// The principal, role and grant, interned: a chain lists each once.
    grant: usize,
    /// The same grant exists on the other side of the plan.
    on_other_side: bool,
}

/// Assesses runtime identities. Each account's one-hop controllers are computed once:
/// thousands of workloads can share one account, and chains revisit the same accounts.
pub struct Identities<'g, 'i> {
    g: &'g SideGraph<'i>,
    /// The other side of the plan, to tell power that the plan creates or removes from power
    /// that exists on both sides.
    other: OtherSide<'g, 'i>,
    /// One-hop controllers by account.
    controllers: HashMap<String, Rc<[Controller]>>,
    /// Interned [`Target::key`]s of accounts, and (principal, role, grant) of controllers.
    account_ids: HashMap<String, usize>,
    grant_ids: HashMap<(String, String, String), usize>,
    roles: HashMap<AccountIndex, Vec<HeldRole>>,
    /// Key addresses by account.
    keys: HashMap<String, Vec<String>>,
    /// Impersonators and keys by runtime account.
    chains: HashMap<String, (Vec<Impersonator>, Vec<HeldKey>)>,
}

impl<'g, 'i> Identities<'g, 'i> {
    pub fn new(g: &'g SideGraph<'i>, other: &'g SideGraph<'i>) -> Self {
        Identities {
            g,
            other: OtherSide::new(other),
            controllers: HashMap::new(),
            account_ids: HashMap::new(),
            grant_ids: HashMap::new(),
            roles: HashMap::new(),
            keys: HashMap::new(),
            chains: HashMap::new(),
        }
    }

    pub fn assess(&mut self, index: WorkloadIndex, w: &Workload) -> IdentityPosture {
        let g = self.g;
        let identity = &g.identities[index];
        let account = g
            .outgoing(g.workload_nodes[index], |e| e == EdgeKind::RunsAs)
            .first()
            .map(|(n, _)| *n);
        let account =
            account.map(|n| (n, g.account_index(n).expect("RunsAs points at an account")));
        let default = SideGraph::is_default_identity(identity);
        let mut posture = IdentityPosture {
            service_account: match identity {
                Identity::Account { .. } if w.service_account_sensitive => Some("(sensitive)".into()),
                Identity::Account { email } => Some(email.clone()),
                // The plan names the project's default account (its number is known).
                Identity::ImplicitDefault => account.and_then(|(_, a)| g.accounts[a].email.clone()),
                _ => None,
            },
            default,
            implicit: *identity == Identity::ImplicitDefault,
            planned_account: match identity {
                Identity::PlannedAccount { address } => Some(address.to_string()),
                _ => None,
            },
            roles: Vec::new(),
            roles_unknown: match identity {
                Identity::Unknown { .. } => Some(UNKNOWN_ACCOUNT_ROLES),
                _ if default == Some(true) => Some(DEFAULT_ACCOUNT_ROLES),
                _ => None,
            },
            impersonators: Vec::new(),
            keys: Vec::new(),
            note: match identity {
                Identity::ImplicitDefault => Some(
                    "the default compute account's project roles are outside the plan; it is granted \
                     roles/editor automatically unless iam.automaticIamGrantsForDefaultServiceAccounts is enforced"
                        .into(),
                ),
                Identity::Unknown { reason } => Some(reason.clone()),
                _ => None,
            },
        };
        let target = match account {
            Some((node, a)) => {
                let mut t = self.account_target(node, a);
                // Shown as the workload names it (a sensitive email stays hidden).
                t.label = posture.display();
                // The implicit default account belongs to the workload's project.
                if t.project.is_none() {
                    t.project = g.workload_project(index).clone().known();
                }
                t
            }
            None => Target {
                node: None,
                account: None,
                member: None,
                project: g.workload_project(index).clone().known(),
                label: posture.display(),
            },
        };
        if let Some(a) = target.account {
            posture.roles = self
                .roles
                .entry(a)
                .or_insert_with(|| {
                    let node = target.node.expect("an account has a node");
                    let mut roles = held_roles(g, node, a);
                    roles.extend(roles_through_sets(g, a, target.project.as_deref()));
                    roles
                })
                .clone();
        }
        // Every workload that runs as the same account (named the same way) has the same chains.
        let memo = format!("{}|{}", target.key(), target.label);
        if !self.chains.contains_key(&memo) {
            let chains = self.follow_chains(target);
            self.chains.insert(memo.clone(), chains);
        }
        let (impersonators, keys) = self.chains[&memo].clone();
        posture.impersonators = impersonators;
        posture.keys = keys;
        finish(posture)
    }

    /// Everyone who can use the runtime account, directly or through other accounts, to a
    /// fixed point, and the keys of every account on the way.
    fn follow_chains(&mut self, runtime: Target) -> (Vec<Impersonator>, Vec<HeldKey>) {
        let g = self.g;
        let (mut impersonators, mut held_keys) = (Vec::new(), Vec::new());
        // A principal reached again through a longer chain (the same grant met from another
        // account: a project-level grant covers them all) adds nothing: breadth first, the
        // first path is the shortest.
        let mut emitted: HashSet<usize> = HashSet::new();
        let runtime_key = self.account_id(runtime.key());
        let mut seen: HashSet<usize> = HashSet::from([runtime_key]);
        // Each account with the accounts between it and the runtime account, and whether
        // every grant linking them exists on the other side.
        let mut queue: VecDeque<(Target, Vec<String>, bool)> =
            VecDeque::from([(runtime, Vec::new(), true)]);
        while let Some((target, via, path_persists)) = queue.pop_front() {
            if let Some(node) = target.node {
                // An account node has an edge from every workload that runs as it: scan it once.
                let keys = self.keys.entry(target.key()).or_insert_with(|| {
                    g.incoming(node, |e| e == EdgeKind::KeyFor)
                        .into_iter()
                        .filter_map(|(src, _)| match g.graph[src] {
                            NodeKind::Key(k) => Some(g.key(k).address.to_string()),
                            _ => None,
                        })
                        .collect()
                });
                for address in keys.iter() {
                    held_keys.push(HeldKey {
                        persists: path_persists && self.other.has_key(address),
                        address: address.clone(),
                        account: target.label.clone(),
                        via: via.clone(),
                    });
                }
            }
            let controllers = self.controllers_of(&target);
            for c in controllers.iter() {
                let persists = path_persists && c.on_other_side;
                if let Some((next, next_key)) = &c.account {
                    // A loop back to the runtime account adds nobody.
                    if *next_key == runtime_key {
                        continue;
                    }
                    if seen.insert(*next_key) {
                        let mut next_via = vec![next.label.clone()];
                        next_via.extend(via.iter().cloned());
                        queue.push_back((next.clone(), next_via, persists));
                    }
                }
                if emitted.insert(c.grant) {
                    impersonators.push(Impersonator {
                        via: via.clone(),
                        persists,
                        ..c.impersonator.clone()
                    });
                }
            }
        }
        (impersonators, held_keys)
    }

    fn account_target(&self, node: NodeIndex, a: AccountIndex) -> Target {
        let account = &self.g.accounts[a];
        Target {
            node: Some(node),
            account: Some(a),
            member: account.email.as_deref().map(service_account_member),
            project: account.project().map(str::to_owned),
            label: account
                .email
                .clone()
                .or_else(|| account.address.as_ref().map(|a| format!("(email of {a})")))
                .unwrap_or_else(|| "(unknown)".into()),
        }
    }

    /// The service account principal `p` of grant `i` is, when it is one.
    fn principal_account(&self, i: IamIndex, p: &Principal) -> Option<Target> {
        let g = self.g;
        match p {
            Principal::Known { member, sensitive } => {
                let email = member.strip_prefix("serviceAccount:")?;
                let target = match g.account_node_by_email(email) {
                    Some(node) => {
                        Some(self.account_target(node, g.account_index(node).expect("an account")))
                    }
                    None => Some(Target {
                        node: None,
                        account: None,
                        member: Some(member.clone()),
                        project: email
                            .split_once('@')
                            .and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"))
                            .map(str::to_owned),
                        label: email.to_owned(),
                    }),
                };
                // The account is shown as this grant names it: a sensitive member stays hidden.
                target.map(|t| Target {
                    label: if *sensitive {
                        p.display().to_owned()
                    } else {
                        t.label
                    },
                    ..t
                })
            }
            Principal::Unknown => {
                let planned = g.planned_members[i].first()?;
                let node = g.account_node_by_address(planned)?;
                Some(self.account_target(node, g.account_index(node).expect("an account")))
            }
        }
    }

    fn account_id(&mut self, key: String) -> usize {
        let next = self.account_ids.len();
        *self.account_ids.entry(key).or_insert(next)
    }

    /// One hop: who can use an account through grants on it or on its project (and above).
    fn controllers_of(&mut self, target: &Target) -> Rc<[Controller]> {
        let g = self.g;
        let key = target.key();
        if let Some(found) = self.controllers.get(&key) {
            return Rc::clone(found);
        }
        let mut found = Vec::new();
        if let (Some(node), Some(a)) = (target.node, target.account) {
            for (src, _) in g.incoming(node, |e| e == EdgeKind::GrantsOn) {
                if let Some(i) = g.iam_index(src) {
                    impersonators_of(g, i, Some(a), None, &mut found);
                }
            }
        }
        for project in g.project_nodes_for(target.project.as_deref()) {
            for &i in g.scope_grants(project, Caps::CONTROL_ACCOUNT) {
                impersonators_of(g, i, target.account, target.member.as_deref(), &mut found);
            }
        }
        let controllers: Rc<[Controller]> = found
            .into_iter()
            .map(|(i, c)| {
                let account = self.principal_account(i, &c.principal).map(|t| {
                    let id = self.account_id(t.key());
                    (t, id)
                });
                let next = self.grant_ids.len();
                let grant = *self
                    .grant_ids
                    .entry((c.principal_key(), c.role.clone(), c.granted_by.clone()))
                    .or_insert(next);
                Controller {
                    on_other_side: self.other.has_grant(&c),
                    impersonator: c,
                    account,
                    grant,
                }
            })
            .collect();
        self.controllers.insert(key, Rc::clone(&controllers));
        controllers
    }
}

/// Roles an account holds through project, folder and organization grants.
fn held_roles(g: &SideGraph, account_node: NodeIndex, account: AccountIndex) -> Vec<HeldRole> {
    let mut roles = Vec::new();
    for (src, _) in g.incoming(account_node, |e| e == EdgeKind::HeldBy) {
        let Some(i) = g.iam_index(src) else { continue };
        let level = scope_level(&g.iam(i).target);
        for b in g.grants[i].bindings.iter().flatten() {
            if !b
                .principals
                .iter()
                .any(|p| g.principal_is_account(i, p, account))
            {
                continue;
            }
            roles.push(HeldRole::granted(g, i, &b.role, level));
        }
    }
    roles
}

/// A role is privileged by its name or its capabilities; a role whose name is unknown at plan
/// time may be any role, `roles/owner` included, so it counts as privileged: an unknown only
/// adds uncertainty.
fn may_be_privileged(role: &RoleRef, caps: Caps) -> bool {
    role.name.is_none() || is_privileged(role.display(), caps)
}

/// What the other side of the plan holds, looked up by address.
struct OtherSide<'g, 'i> {
    g: &'g SideGraph<'i>,
    iam: HashMap<&'g str, IamIndex>,
    keys: HashSet<String>,
    /// The known principals of each (IAM resource, role) asked about, built on first use: a
    /// binding can list very many members.
    members: HashMap<(IamIndex, String), HashSet<&'g Principal>>,
}

impl<'g, 'i> OtherSide<'g, 'i> {
    fn new(g: &'g SideGraph<'i>) -> Self {
        OtherSide {
            g,
            iam: g
                .iam_addresses
                .enumerate()
                .map(|(i, a)| (&**a, i))
                .collect(),
            keys: g
                .inventory
                .keys
                .iter()
                .map(|k| k.address.to_string())
                .collect(),
            members: HashMap::new(),
        }
    }

    fn has_key(&self, address: &str) -> bool {
        self.keys.contains(address)
    }

    /// The IAM resource behind `c` grants the same role to the same known principal on the
    /// other side. An unknown principal never matches: two unknown values may differ.
    fn has_grant(&mut self, c: &Impersonator) -> bool {
        let Principal::Known { .. } = c.principal else {
            return false;
        };
        let Some(&i) = self.iam.get(c.granted_by.as_str()) else {
            return false;
        };
        let g = self.g;
        self.members
            .entry((i, c.role.clone()))
            .or_insert_with(|| {
                g.grants[i]
                    .bindings
                    .iter()
                    .flatten()
                    .filter(|b| b.role.display() == c.role)
                    .flat_map(|b| &b.principals)
                    .collect()
            })
            .contains(&c.principal)
    }
}

/// Roles an account holds as a member of a principal set granted at project, folder or
/// organization level: `principalSet://cloudresourcemanager.googleapis.com/{projects,folders,
/// organizations}/NUMBER/type/ServiceAccount`, every service account there. A project set
/// names its project by number; when the account's project number is not in the plan, the set
/// may include it. Which folder or organization holds a project is outside the plan, so their
/// sets are taken to include it.
fn roles_through_sets(
    g: &SideGraph,
    account: AccountIndex,
    project: Option<&str>,
) -> Vec<HeldRole> {
    const PREFIX: &str = "principalSet://cloudresourcemanager.googleapis.com/";
    let email = g.accounts[account].email.as_deref();
    // The number of the account's project: in a default compute account's email, or from a
    // project the plan knows.
    let number = email
        .and_then(|e| e.strip_suffix("-compute@developer.gserviceaccount.com"))
        .map(str::to_owned)
        .or_else(|| {
            g.inventory
                .default_accounts
                .iter()
                .find_map(|d| match (&d.project, &d.email) {
                    (Tri::Known(p), Tri::Known(e)) if Some(p.as_str()) == project => e
                        .strip_suffix("-compute@developer.gserviceaccount.com")
                        .map(str::to_owned),
                    _ => None,
                })
        });
    let includes = |member: &str| -> bool {
        let Some(set) = member
            .strip_prefix(PREFIX)
            .and_then(|m| m.strip_suffix("/type/ServiceAccount"))
        else {
            return false;
        };
        match set.split_once('/') {
            Some(("projects", n)) => number.as_deref().is_none_or(|own| own == n),
            Some(("folders" | "organizations", _)) => true,
            _ => false,
        }
    };
    let mut roles = Vec::new();
    for node in g.project_nodes_for(project) {
        for (src, _) in g.incoming(node, |e| e == EdgeKind::Covers) {
            let Some(i) = g.iam_index(src) else { continue };
            for b in g.grants[i].bindings.iter().flatten() {
                let in_set = b.principals.iter().any(|p| match p {
                    Principal::Known { member, .. } => includes(member),
                    Principal::Unknown => false,
                });
                if !in_set {
                    continue;
                }
                let level = scope_level(&g.iam(i).target);
                roles.push(HeldRole::granted(g, i, &b.role, level));
            }
        }
    }
    roles
}

fn finish(mut posture: IdentityPosture) -> IdentityPosture {
    posture.roles.sort();
    posture.roles.dedup();
    posture.impersonators.sort();
    posture.impersonators.dedup();
    posture.keys.sort();
    posture.keys.dedup();
    posture
}
/// Principals of grant `i` whose role gives control of an account: acting as it, minting its
/// tokens or keys, or changing its IAM policy (which can grant any of those). The account itself
/// (its node, or its member when it has none) is left out, since acting as oneself adds nothing,
/// and so are Google-managed service agents, which hold the grants their service needs.
fn impersonators_of(
    g: &SideGraph,
    i: IamIndex,
    own: Option<AccountIndex>,
    own_member: Option<&str>,
    out: &mut Vec<(IamIndex, Impersonator)>,
) {
    let on_account = matches!(g.iam(i).target, IamTarget::Account { .. });
    let mut push = |principal: Principal, role: &str| {
        out.push((
            i,
            Impersonator {
                principal,
                role: role.to_owned(),
                granted_by: g.iam(i).address.to_string(),
                via: Vec::new(),
                persists: false,
            },
        ))
    };
    let Some(bindings) = &g.grants[i].bindings else {
        // An authoritative account policy unknown as a whole may name anyone.
        if on_account {
            push(Principal::Unknown, "(unknown policy)");
        }
        return;
    };
    for b in bindings {
        let relevant = match &b.role.caps {
            Tri::Known(caps) => caps.intersects(Caps::CONTROL_ACCOUNT),
            _ => on_account,
        };
        if !relevant {
            continue;
        }
        for p in &b.principals {
            let excluded = match p {
                Principal::Known { member, .. } => {
                    is_service_agent(member) || Some(member.as_str()) == own_member
                }
                Principal::Unknown => false,
            };
            if excluded || own.is_some_and(|a| g.principal_is_account(i, p, a)) {
                continue;
            }
            push(p.clone(), b.role.display());
        }
    }
}

fn scope_level(target: &IamTarget) -> Level {
    match target {
        IamTarget::Scope(Scope::Folder(_)) => Level::Folder,
        IamTarget::Scope(Scope::Organization(_)) => Level::Organization,
        _ => Level::Project,
    }
}
