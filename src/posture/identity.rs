//! The runtime identity: which service account a workload runs as, the roles that account
//! holds, who can act as it or mint tokens for it, and the keys created for it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::sync::Arc;

use petgraph::graph::NodeIndex;

use crate::graph::{
    AccountIndex, EdgeKind, IamIndex, Identity, NodeKind, Principal, RoleRef, SideGraph,
    WorkloadIndex,
};

use crate::iam::member::{is_service_agent, service_account_member};
use crate::iam::roles::is_privileged;
use crate::iam::{Caps, Level};
use crate::inventory::resource_iam::ResourceTarget;
use crate::inventory::{IamTarget, Scope, Workload};
use crate::plan::{Address, Tri};
use crate::posture::OrgGuards;

/// A role held by the runtime account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldRole {
    /// The role.
    pub role: String,
    /// The IAM resource that grants it.
    pub granted_by: String,
    /// `project`, `folder`, `organization`, or `resource` for a grant on one resource (a
    /// secret, a bucket…), named in `resource`.
    pub level: Level,
    /// The resource a `resource`-level grant is on.
    pub resource: Option<GrantedOn>,
    /// The role is privileged: owner, editor, an admin role, or one that can act as others;
    /// on a resource, also an owner role of that resource (`roles/storage.legacyBucketOwner`).
    pub privileged: bool,
    /// The plan proves the account holds it. `false` when the grant's member is unknown at
    /// plan time (it may be this account) or an IAM condition restricts it.
    pub certain: bool,
    /// What the role lets the account do, by name.
    pub capabilities: Vec<&'static str>,
}

/// The resource a resource-level grant is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GrantedOn {
    /// Its type: `google_storage_bucket`, `google_secret_manager_secret`…
    pub rtype: String,
    /// Its id as the IAM resource names it (`acme-uploads`, `projects/p/secrets/db`);
    /// `(sensitive)` when the plan marks it so, `None` when unknown at plan time.
    pub id: Option<String>,
    /// What tells resources apart across sides: its type and the last segment of its id (the
    /// provider writes back a longer form than the configuration uses), or the granting IAM
    /// resource when the id is unknown.
    key: String,
}

impl GrantedOn {
    fn of(target: &ResourceTarget, granted_by: &str) -> GrantedOn {
        GrantedOn {
            rtype: target.rtype.clone(),
            id: match &target.id {
                Tri::Known(_) if target.id_sensitive => Some("(sensitive)".into()),
                Tri::Known(id) => Some(id.clone()),
                _ => None,
            },
            key: match target.short_id() {
                Some(short) => format!("{} {short}", target.rtype),
                None => format!("{} of {granted_by}", target.rtype),
            },
        }
    }

    /// `google_storage_bucket acme-uploads`; `(unknown)` for an id unknown at plan time.
    pub fn display(&self) -> String {
        format!(
            "{} {}",
            self.rtype,
            self.id.as_deref().unwrap_or("(unknown)")
        )
    }
}

impl HeldRole {
    /// `role`, granted by IAM resource `i` at its level; a role whose permissions are unknown
    /// has no capabilities and is not counted as privileged by them (its name may still be).
    fn granted(g: &SideGraph, i: IamIndex, role: &RoleRef, certain: bool) -> HeldRole {
        let name = role.display().to_owned();
        let caps = role.caps.clone().known().unwrap_or(Caps::NONE);
        let granted_by = g.iam(i).address.to_string();
        let target = &g.iam(i).target;
        let level = target_level(target);
        HeldRole {
            privileged: may_be_privileged(role, caps, level),
            capabilities: caps.names(),
            role: name,
            resource: match target {
                IamTarget::Resource(t) => Some(GrantedOn::of(t, &granted_by)),
                _ => None,
            },
            granted_by,
            level,
            certain,
        }
    }

    /// What makes two held roles the same power across sides: the role, and for a
    /// resource-level grant the resource it is on.
    pub fn key(&self) -> String {
        match &self.resource {
            Some(r) => format!("{} on {}", self.role, r.key),
            None => self.role.clone(),
        }
    }

    /// The role as reports name it: `roles/storage.admin on google_storage_bucket acme-uploads`
    /// for a resource-level grant, the role alone otherwise.
    pub fn label(&self) -> String {
        match &self.resource {
            Some(r) => format!("{} on {}", self.role, r.display()),
            None => self.role.clone(),
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
    /// The plan proves every grant of the chain is on the account it reaches. `false` when one
    /// is on a service account the plan cannot name (`service_account_id` unknown at plan
    /// time), which may be that account, or when the runtime account itself is unknown and
    /// this is the power over an account it may be.
    pub certain: bool,
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
    /// The plan proves the key is for `account` and every grant of the chain. `false` for a
    /// key whose `service_account_id` is unknown at plan time (`account` then says so), which
    /// may be for this account, or one reached through such a grant.
    pub certain: bool,
}

/// How a key whose account the plan cannot name reads as its account.
const UNNAMED_ACCOUNT: &str = "an account the plan cannot name";

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
    /// The roles the account holds, as far as the plan shows, sorted. Shared by every workload
    /// that runs as the account: twenty thousand services on one account hold one list.
    pub roles: Arc<[HeldRole]>,
    /// Why the account's roles are not all known, shown wherever its roles are: the roles it
    /// holds outside the plan matter (the default compute account), or the account is unknown.
    pub roles_unknown: Option<&'static str>,
    /// For a default compute account whose automatic roles/editor the plan proves absent (its
    /// roles are then what the plan shows), what mitigates it: `mitigated by …`, naming the
    /// resource.
    pub roles_mitigated: Option<String>,
    /// Who can act as the account, sorted; shared like `roles`.
    pub impersonators: Arc<[Impersonator]>,
    /// Keys created for the account, sorted; shared like `roles`.
    pub keys: Arc<[HeldKey]>,
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
            roles: Arc::default(),
            roles_unknown: None,
            roles_mitigated: None,
            impersonators: Arc::default(),
            keys: Arc::default(),
            note: Some("the workload is not in the plan".into()),
        }
    }

    /// What the plan's org policies (and `google_project_default_service_accounts`) say of
    /// a default compute account's automatic roles/editor: mitigated, with the resource that
    /// mitigates it, or an enforced policy that the plan does not prove spares this account.
    pub(crate) fn qualify_default_account(&mut self, guards: &OrgGuards) {
        if self.default != Some(true) {
            return;
        }
        if let Some((mitigation, _)) = guards.default_account_mitigation(self.implicit) {
            // The note says the account holds roles/editor unless…: the plan proves it does not.
            self.roles_unknown = None;
            self.note = None;
            self.roles_mitigated = Some(mitigation);
        } else if let Some(unproven) = guards.unproven_automatic_grants(self.implicit) {
            self.note = Some(match self.note.take() {
                Some(note) => format!("{note}; {unproven}"),
                None => unproven,
            });
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

/// Roles, controllers and keys that an account may have.
type AnyAccount = (Vec<HeldRole>, Vec<Impersonator>, Vec<HeldKey>);

/// Everyone who can use an account, and the keys on the way, as its workloads share them.
type Chains = (Arc<[Impersonator]>, Arc<[HeldKey]>);

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
    roles: HashMap<AccountIndex, Arc<[HeldRole]>>,
    /// The roles of an identity that is no account of the graph: the grants to unknown
    /// members only.
    no_account_roles: Arc<[HeldRole]>,
    /// The grants that may be to any account ([`grants_to_unknown_members`]), found once.
    to_unknown_members: Vec<HeldRole>,
    /// Service account IAM resources that name no account of the plan although they may name
    /// any ([`unnamed`]), and whether they name it by unique id.
    unlinked_account_grants: Vec<(IamIndex, bool)>,
    /// Keys that name no account of the plan although they may name any ([`unnamed`]), by
    /// address, and whether they name it by unique id.
    unlinked_keys: Vec<(String, bool)>,
    /// What a runtime account the plan cannot name may have ([`Self::any_account`]), by its
    /// candidates.
    any_account: HashMap<(Option<Vec<Address>>, Option<String>), AnyAccount>,
    /// Key addresses by account.
    keys: HashMap<String, Vec<String>>,
    /// Impersonators and keys by runtime account.
    chains: HashMap<String, Chains>,
}

impl<'g, 'i> Identities<'g, 'i> {
    pub fn new(g: &'g SideGraph<'i>, other: &'g SideGraph<'i>) -> Self {
        let to_unknown_members: Vec<HeldRole> = grants_to_unknown_members(g)
            .into_iter()
            .map(|(i, role)| HeldRole::granted(g, i, &role, false))
            .collect();
        Identities {
            g,
            other: OtherSide::new(other),
            controllers: HashMap::new(),
            account_ids: HashMap::new(),
            grant_ids: HashMap::new(),
            roles: HashMap::new(),
            to_unknown_members: to_unknown_members.clone(),
            no_account_roles: settle_roles(to_unknown_members),
            unlinked_account_grants: g
                .iam_resources()
                .filter_map(|(i, iam)| match &iam.target {
                    IamTarget::Account { email }
                        if g.outgoing(g.iam_nodes[i], |e| e == EdgeKind::GrantsOn)
                            .next()
                            .is_none() =>
                    {
                        unnamed(email).map(|by_id| (i, by_id))
                    }
                    _ => None,
                })
                .collect(),
            unlinked_keys: g
                .graph
                .node_indices()
                .filter_map(|n| match g.graph[n] {
                    NodeKind::Key(k)
                        if g.outgoing(n, |e| e == EdgeKind::KeyFor).next().is_none() =>
                    {
                        let key = g.key(k);
                        unnamed(&key.email).map(|by_id| (key.address.to_string(), by_id))
                    }
                    _ => None,
                })
                .collect(),
            any_account: HashMap::new(),
            keys: HashMap::new(),
            chains: HashMap::new(),
        }
    }

    pub fn assess(&mut self, index: WorkloadIndex, w: &Workload) -> IdentityPosture {
        let g = self.g;
        let identity = &g.identities[index];
        let account = g
            .outgoing(g.workload_nodes[index], |e| e == EdgeKind::RunsAs)
            .next()
            .map(|(n, _)| n);
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
            roles: Arc::default(),
            roles_unknown: match identity {
                Identity::Unknown { .. } => Some(UNKNOWN_ACCOUNT_ROLES),
                _ if default == Some(true) => Some(DEFAULT_ACCOUNT_ROLES),
                _ => None,
            },
            roles_mitigated: None,
            impersonators: Arc::default(),
            keys: Arc::default(),
            note: match identity {
                Identity::ImplicitDefault => Some(
                    "the default compute account's project roles are outside the plan; it is granted \
                     roles/editor automatically unless iam.automaticIamGrantsForDefaultServiceAccounts is enforced"
                        .into(),
                ),
                Identity::Unknown { reason, .. } => Some(reason.clone()),
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
        posture.roles = self.account_roles(&target);
        (posture.impersonators, posture.keys) = self.chains_of(target);
        // An account the plan cannot name may be one of several: what each holds, who can use
        // it and its keys are possible, never dropped.
        if let Identity::Unknown { candidates, .. } = identity {
            let project = g.workload_project(index).clone().known();
            let (roles, impersonators, keys) = self.any_account(candidates.as_deref(), project);
            posture.roles = settle_roles(posture.roles.iter().cloned().chain(roles).collect());
            posture.impersonators = settle_impersonators(
                posture
                    .impersonators
                    .iter()
                    .cloned()
                    .chain(impersonators)
                    .collect(),
            );
            posture.keys = settle_keys(posture.keys.iter().cloned().chain(keys).collect());
        }
        posture
    }

    /// The roles of an account of the graph, with the grants to members the plan cannot know
    /// (which may be to it), computed once per account.
    fn account_roles(&mut self, target: &Target) -> Arc<[HeldRole]> {
        let Some(a) = target.account else {
            return Arc::clone(&self.no_account_roles);
        };
        let g = self.g;
        let to_unknown_members = &self.to_unknown_members;
        Arc::clone(self.roles.entry(a).or_insert_with(|| {
            let node = target.node.expect("an account has a node");
            let mut roles = held_roles(g, node, a);
            roles.extend(roles_through_sets(g, Some(a), target.project.as_deref()));
            roles.extend(to_unknown_members.iter().cloned());
            settle_roles(roles)
        }))
    }

    /// Who can use an account and its keys: every workload that runs as the same account
    /// (named the same way) has the same chains, so they are followed once.
    fn chains_of(&mut self, target: Target) -> Chains {
        let memo = format!("{}|{}", target.key(), target.label);
        if !self.chains.contains_key(&memo) {
            let (impersonators, keys) = self.follow_chains(target);
            self.chains.insert(
                memo.clone(),
                (settle_impersonators(impersonators), settle_keys(keys)),
            );
        }
        self.chains[&memo].clone()
    }

    /// The roles, controllers and keys of the accounts a runtime account the plan cannot name
    /// may be, as uncertain: the `candidates` its configuration names, or (`None`) any account
    /// of the workload's `project` in the graph (every account when the project is unknown),
    /// or one outside the plan in a principal set it grants to. An account of another project
    /// is possible too, but listing every account of every project on every such workload
    /// would bury the report: that is a known limit. Computed once per candidates and project.
    fn any_account(
        &mut self,
        candidates: Option<&[Address]>,
        project: Option<String>,
    ) -> AnyAccount {
        let memo = (candidates.map(<[Address]>::to_vec), project.clone());
        if let Some(found) = self.any_account.get(&memo) {
            return found.clone();
        }
        let g = self.g;
        let accounts: Vec<(AccountIndex, NodeIndex)> = match candidates {
            Some(addresses) => addresses
                .iter()
                .filter_map(|address| g.account_node_by_address(address))
                .map(|node| (g.account_index(node).expect("an account"), node))
                .collect(),
            None => g
                .account_nodes
                .enumerate()
                .filter(|(a, _)| {
                    project.is_none()
                        || g.accounts[*a]
                            .project()
                            .is_none_or(|p| Some(p) == project.as_deref())
                })
                .map(|(a, &n)| (a, n))
                .collect(),
        };
        // An account outside the plan may be in any principal set the plan grants to.
        let mut roles = match candidates {
            Some(_) => Vec::new(),
            None => roles_through_sets(g, None, None),
        };
        let (mut impersonators, mut keys) = (Vec::new(), Vec::new());
        for (a, node) in accounts {
            let target = self.account_target(node, a);
            roles.extend(self.account_roles(&target).iter().cloned());
            let (i, k) = self.chains_of(target);
            impersonators.extend(i.iter().cloned());
            keys.extend(k.iter().cloned());
        }
        for r in &mut roles {
            r.certain = false;
        }
        for i in &mut impersonators {
            i.certain = false;
        }
        for k in &mut keys {
            k.certain = false;
        }
        let found = (roles, impersonators, keys);
        self.any_account.insert(memo, found.clone());
        found
    }

    /// Everyone who can use the runtime account, directly or through other accounts, to a
    /// fixed point, and the keys of every account on the way.
    fn follow_chains(&mut self, runtime: Target) -> (Vec<Impersonator>, Vec<HeldKey>) {
        let g = self.g;
        let (mut impersonators, mut held_keys) = (Vec::new(), Vec::new());
        let runtime_id_known = self.unique_id_known(&runtime);
        // A principal reached again through a longer chain (the same grant met from another
        // account: a project-level grant covers them all) adds nothing: breadth first, the
        // first path is the shortest.
        // Grant and account ids are dense indices: sets of them are bitmaps, which a chain
        // through a hundred accounts with a hundred grants each fills ten thousand times.
        let mut emitted: Vec<bool> = Vec::new();
        let runtime_key = self.account_id(runtime.key());
        let mut seen: Vec<bool> = Vec::new();
        mark(&mut seen, runtime_key);
        // Each account with the accounts between it and the runtime account, whether every
        // grant linking them exists on the other side, and whether each is proven.
        let mut queue: VecDeque<(Target, Vec<String>, bool, bool)> =
            VecDeque::from([(runtime, Vec::new(), true, true)]);
        while let Some((target, via, path_persists, path_certain)) = queue.pop_front() {
            if let Some(node) = target.node {
                // An account node has an edge from every workload that runs as it: scan it once.
                let keys = self.keys.entry(target.key()).or_insert_with(|| {
                    g.incoming(node, |e| e == EdgeKind::KeyFor)
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
                        certain: path_certain,
                    });
                }
            }
            let controllers = self.controllers_of(&target);
            for c in controllers.iter() {
                let persists = path_persists && c.on_other_side;
                let certain = path_certain && c.impersonator.certain;
                if let Some((next, next_key)) = &c.account {
                    // A loop back to the runtime account adds nobody.
                    if *next_key == runtime_key {
                        continue;
                    }
                    if mark(&mut seen, *next_key) {
                        let mut next_via = vec![next.label.clone()];
                        next_via.extend(via.iter().cloned());
                        queue.push_back((next.clone(), next_via, persists, certain));
                    }
                }
                if mark(&mut emitted, c.grant) {
                    impersonators.push(Impersonator {
                        via: via.clone(),
                        persists,
                        certain,
                        ..c.impersonator.clone()
                    });
                }
            }
        }
        // A key the plan cannot tie to an account may be for this one.
        for (address, by_id) in &self.unlinked_keys {
            if *by_id && runtime_id_known {
                continue;
            }
            held_keys.push(HeldKey {
                persists: self.other.has_key(address),
                address: address.clone(),
                account: UNNAMED_ACCOUNT.into(),
                via: Vec::new(),
                certain: false,
            });
        }
        (impersonators, held_keys)
    }

    /// The plan knows the account's unique id (a `google_service_account` of the plan with
    /// its email or address): a reference by another unique id is not to it.
    fn unique_id_known(&self, target: &Target) -> bool {
        let Some(a) = target.account else {
            return false;
        };
        let account = &self.g.accounts[a];
        self.g.inventory.service_accounts.iter().any(|s| {
            let same = match (&s.email, &account.email) {
                (Tri::Known(e), Some(email)) => e.eq_ignore_ascii_case(email),
                _ => account.address.as_ref() == Some(&s.address),
            };
            same && matches!(s.unique_id, Tri::Known(_))
        })
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
        // A grant on an account the plan cannot name may be on this one.
        let proven = found.len();
        for &(i, by_id) in &self.unlinked_account_grants {
            if by_id && self.unique_id_known(target) {
                continue;
            }
            impersonators_of(g, i, target.account, target.member.as_deref(), &mut found);
        }
        for (_, c) in &mut found[proven..] {
            c.certain = false;
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

/// Whether a `service_account_id` that links to no account of the plan may still name any
/// account: unknown at plan time (`Some(false)`), or a numeric unique id that no account of the
/// plan has (`Some(true)`: any account whose unique id the plan does not know may have it). An
/// email, or a form the provider refuses, names some other account or fails: `None`.
fn unnamed(reference: &Tri<String>) -> Option<bool> {
    match reference {
        Tri::Known(r) => {
            let id = crate::inventory::iam::account_email(r);
            (!id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())).then_some(true)
        }
        _ => Some(false),
    }
}

/// Adds the dense index `i` to `set`; false when it was there already.
fn mark(set: &mut Vec<bool>, i: usize) -> bool {
    if set.len() <= i {
        set.resize(i + 1, false);
    }
    !std::mem::replace(&mut set[i], true)
}

/// Roles an account holds through project, folder, organization and resource grants.
fn held_roles(g: &SideGraph, account_node: NodeIndex, account: AccountIndex) -> Vec<HeldRole> {
    let mut roles = Vec::new();
    for (src, _) in g.incoming(account_node, |e| e == EdgeKind::HeldBy) {
        let Some(i) = g.iam_index(src) else { continue };
        for b in g.grants[i].bindings.iter().flatten() {
            if !b
                .principals
                .iter()
                .any(|p| g.principal_is_account(i, p, account))
            {
                continue;
            }
            roles.push(HeldRole::granted(g, i, &b.role, !b.conditional));
        }
    }
    roles
}

/// The grants that may name any account: a project, folder, organization or resource grant
/// whose member the plan cannot know (and that no configuration reference ties to accounts
/// created in this plan), or whose whole policy is unknown. Each may be a role of any runtime
/// account (grants across projects are allowed), never a certain one.
fn grants_to_unknown_members(g: &SideGraph) -> Vec<(IamIndex, RoleRef)> {
    let mut out = Vec::new();
    for (i, iam) in g.iam_resources() {
        if !matches!(iam.target, IamTarget::Scope(_) | IamTarget::Resource(_)) {
            continue;
        }
        let Some(bindings) = &g.grants[i].bindings else {
            out.push((
                i,
                RoleRef {
                    name: Some("(unknown policy)".into()),
                    caps: Tri::Unknown,
                },
            ));
            continue;
        };
        // An unknown member that configuration ties to planned accounts is one of those.
        if !g.planned_members[i].is_empty() {
            continue;
        }
        for b in bindings {
            if b.principals.contains(&Principal::Unknown) {
                out.push((i, b.role.clone()));
            }
        }
    }
    out
}

/// A role is privileged by its name or its capabilities; a role whose name is unknown at plan
/// time may be any role, `roles/owner` included, so it counts as privileged: an unknown only
/// adds uncertainty. On one resource, an owner role of that resource
/// (`roles/storage.legacyBucketOwner`, `roles/bigquery.dataOwner`) controls it as an admin
/// role does, its IAM policy included.
fn may_be_privileged(role: &RoleRef, caps: Caps, level: Level) -> bool {
    let name = role.display();
    role.name.is_none()
        || name == "(unknown policy)"
        || is_privileged(name, caps)
        || (level == Level::Resource && name.to_ascii_lowercase().ends_with("owner"))
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
/// sets are taken to include it. An account the plan cannot name (`account` and `project`
/// `None`) may be in any of them.
fn roles_through_sets(
    g: &SideGraph,
    account: Option<AccountIndex>,
    project: Option<&str>,
) -> Vec<HeldRole> {
    const PREFIX: &str = "principalSet://cloudresourcemanager.googleapis.com/";
    let email = account.and_then(|a| g.accounts[a].email.as_deref());
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
                roles.push(HeldRole::granted(g, i, &b.role, !b.conditional));
            }
        }
    }
    roles
}

/// Sorted and without repeats: the shared form of an account's roles, impersonators or keys.
fn sorted<T: Ord>(mut items: Vec<T>) -> Arc<[T]> {
    items.sort();
    items.dedup();
    items.into()
}

/// Roles sorted, without repeats, and without the "maybe" of a grant proven to be the
/// account's (a binding that names it and also an unknown member).
fn settle_roles(roles: Vec<HeldRole>) -> Arc<[HeldRole]> {
    let proven: HashSet<(String, String)> = roles
        .iter()
        .filter(|r| r.certain)
        .map(|r| (r.role.clone(), r.granted_by.clone()))
        .collect();
    sorted(
        roles
            .into_iter()
            .filter(|r| r.certain || !proven.contains(&(r.role.clone(), r.granted_by.clone())))
            .collect(),
    )
}

/// Impersonators sorted, without repeats, and without the possible one a proven one repeats.
fn settle_impersonators(impersonators: Vec<Impersonator>) -> Arc<[Impersonator]> {
    let proven: HashSet<(String, String, String)> = impersonators
        .iter()
        .filter(|i| i.certain)
        .map(|i| (i.principal_key(), i.role.clone(), i.granted_by.clone()))
        .collect();
    sorted(
        impersonators
            .into_iter()
            .filter(|i| {
                i.certain
                    || !proven.contains(&(i.principal_key(), i.role.clone(), i.granted_by.clone()))
            })
            .collect(),
    )
}

/// Keys sorted, without repeats, and without the possible one a proven one repeats.
fn settle_keys(keys: Vec<HeldKey>) -> Arc<[HeldKey]> {
    let proven: HashSet<String> = keys
        .iter()
        .filter(|k| k.certain)
        .map(|k| k.address.clone())
        .collect();
    sorted(
        keys.into_iter()
            .filter(|k| k.certain || !proven.contains(&k.address))
            .collect(),
    )
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
                certain: true,
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
            // A role unknown at plan time may be any role; a named one whose permissions are
            // unknown (a custom role outside the plan) counts where it is granted on the
            // account itself.
            _ => on_account || b.role.name.is_none(),
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

fn target_level(target: &IamTarget) -> Level {
    match target {
        IamTarget::Scope(Scope::Folder(_)) => Level::Folder,
        IamTarget::Scope(Scope::Organization(_)) => Level::Organization,
        IamTarget::Resource(_) => Level::Resource,
        _ => Level::Project,
    }
}
