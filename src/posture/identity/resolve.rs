//! Resolving runtime identities: the account each workload runs as, its roles, and the chains
//! of principals that can act as it, each account's computed once and shared by the workloads
//! that run as it.

use super::roles::{PrincipalSetGrants, grants_to_unknown_members, held_roles, settle_roles};
use super::*;
use std::collections::hash_map::Entry;
use std::hash::Hash;

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
    /// Account `a` of `g`, at `node`, named by its email (or its address when the email is not
    /// known).
    fn of_account(g: &SideGraph, node: NodeIndex, a: AccountIndex) -> Target {
        let account = &g.accounts[a];
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
    /// The IAM resource that grants it.
    iam: IamIndex,
    impersonator: Impersonator,
    /// The account the principal is, when it is one, and its [`Target::key`] interned.
    account: Option<(Target, usize)>,
    /// The principal, role and grant, interned: a chain lists each once.
    grant: usize,
    /// The same grant exists on the other side of the plan.
    on_other_side: bool,
}

/// The one-hop controllers of an account, in the order a walk meets them: those of grants on
/// the account itself, then those of every project, folder and organization grant that covers
/// its project, one shared list per project node (which still holds the account itself: the
/// walk leaves it out, [`is_self`]), then those a grant on an account the plan cannot name may
/// give.
struct AccountControllers {
    own: Vec<Rc<Controller>>,
    scopes: Vec<(NodeIndex, Rc<[Rc<Controller>]>)>,
    unlinked: Vec<Rc<Controller>>,
}

/// What one walk of the chains from a runtime account found.
struct Walk {
    impersonators: Vec<Impersonator>,
    keys: Vec<HeldKey>,
    /// The accounts it reached, by interned [`Target::key`], the runtime account's included.
    reached: Vec<bool>,
    /// Nothing it found depends on the account it started from beyond its [`PlainWalkKey`]:
    /// no chain looped back to that account, and no scope grant it met first was to the
    /// account itself.
    plain: bool,
}

/// See [`Identities::plain_walk_key`].
type PlainWalkKey = (Vec<NodeIndex>, bool);

/// A plain walk ([`Walk::plain`]) as later walks with the same key reuse it.
struct PlainWalk {
    reached: Rc<Vec<bool>>,
    chains: Chains,
}

/// Roles, controllers and keys that an account may have.
type AnyAccount = (Vec<HeldRole>, Vec<Impersonator>, Vec<HeldKey>);

/// Everyone who can use an account, and the keys on the way, as its workloads share them.
type Chains = (Arc<[Impersonator]>, Arc<[HeldKey]>);

/// The fewest controller visits for which the chains of many accounts are followed ahead, on
/// two threads ([`follow_ahead`]). Setting up each thread's assessor reads the whole graph
/// (0.6-0.9 ms on the IAM-dense bench plan, 4 ms on the 500 MB one), and a visit takes about
/// 0.06 µs there (its 104,442 visits took 6.8-7.3 ms on one thread, the assessor's setup
/// included): below this, the walks end sooner on one thread, beside the other side.
const VISITS_WORTH_A_THREAD: usize = 50_000;

/// A runtime account the plan cannot name, as far as what it may be goes: the chains key of
/// its workload's project, the candidates its configuration names, and that project.
type UnknownAccountKey = (String, Option<Vec<Address>>, Option<String>, Option<String>);

/// Roles, controllers and keys, sorted and without repeats, as workloads share them.
type Settled = (Arc<[HeldRole]>, Arc<[Impersonator]>, Arc<[HeldKey]>);

/// The `google_service_account`s of the plan whose unique id is known at plan time, as
/// [`Identities::unique_id_known`] matches an account to them: by email, ignoring case, when
/// both are known, else by address. Indexed once per side, since every runtime account asks.
struct UniqueIdsKnown {
    /// Lowercase emails of such accounts whose email is known.
    emails: HashSet<String>,
    /// Addresses of such accounts whose email is not known.
    addresses_without_email: HashSet<Address>,
    /// Addresses of every such account.
    addresses: HashSet<Address>,
}

impl UniqueIdsKnown {
    fn new(g: &SideGraph) -> Self {
        let mut known = UniqueIdsKnown {
            emails: HashSet::default(),
            addresses_without_email: HashSet::default(),
            addresses: HashSet::default(),
        };
        for s in &g.inventory.service_accounts {
            if !matches!(s.unique_id, Tri::Known(_)) {
                continue;
            }
            match &s.email {
                Tri::Known(e) => {
                    known.emails.insert(e.to_ascii_lowercase());
                }
                _ => {
                    known.addresses_without_email.insert(s.address.clone());
                }
            }
            known.addresses.insert(s.address.clone());
        }
        known
    }
}

/// Assesses runtime identities. Each account's one-hop controllers are computed once:
/// thousands of workloads can share one account, and chains revisit the same accounts.
pub struct Identities<'g, 'i> {
    g: &'g SideGraph<'i>,
    /// The other side of the plan, to tell power that the plan creates or removes from power
    /// that exists on both sides.
    other: OtherSide<'g, 'i>,
    /// One-hop controllers by account.
    controllers: HashMap<String, Rc<AccountControllers>>,
    /// The controllers a project, folder or organization grant gives over every account it
    /// covers (the account itself not left out yet), built once per grant: a project-level
    /// grant is met from every account of its project.
    scope_controllers: HashMap<IamIndex, Rc<[Rc<Controller>]>>,
    /// The scope grants' controllers of every grant that applies at a project node, in order,
    /// built once per node: every account of the project meets all of them.
    project_controllers: HashMap<NodeIndex, Rc<[Rc<Controller>]>>,
    /// Interned [`Target::key`]s of accounts, and (principal, role, grant) of controllers.
    account_ids: HashMap<String, usize>,
    grant_ids: HashMap<(String, String, String), usize>,
    roles: HashMap<AccountIndex, Arc<[HeldRole]>>,
    /// The roles of an identity that is no account of the graph: the grants to unknown
    /// members only.
    no_account_roles: Arc<[HeldRole]>,
    /// The grants that may be to any account ([`grants_to_unknown_members`]), found once.
    to_unknown_members: Vec<HeldRole>,
    /// The scope grants to principal sets of service accounts, found once.
    set_grants: PrincipalSetGrants,
    /// The accounts of the plan whose unique id is known, found once.
    ids_known: UniqueIdsKnown,
    /// Service account IAM resources that name no account of the plan although they may name
    /// any ([`unnamed`]), and whether they name it by unique id.
    unlinked_account_grants: Vec<(IamIndex, bool)>,
    /// Keys that name no account of the plan although they may name any ([`unnamed`]), by
    /// address, and whether they name it by unique id.
    unlinked_keys: Vec<(String, bool)>,
    /// What a runtime account the plan cannot name may have, with what its workload's project
    /// gives any identity, settled: by the chains key of that project and the candidates.
    /// Every workload whose account is unknown in the same way shares one copy; settling the
    /// union of a project's accounts per workload was most of the time on IAM-dense plans.
    unknown_account: HashMap<UnknownAccountKey, Settled>,
    /// Key addresses by account.
    keys: HashMap<String, Vec<String>>,
    /// Impersonators and keys by runtime account.
    chains: HashMap<String, Chains>,
    /// The first plain walk of each key, which the walks of later accounts with that key may
    /// be ([`Identities::walk_serves`]).
    plain_walks: HashMap<PlainWalkKey, PlainWalk>,
    /// Every list of impersonators settled so far, once: accounts that the same principals
    /// control share one list, which the rules and the report then compare by address.
    impersonator_lists: HashSet<Arc<[Impersonator]>>,
    /// The email of the account each workload runs as on the other side, by the workload's
    /// address, found when a workload's account is first unknown.
    other_runtime: Option<HashMap<String, String>>,
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
            controllers: HashMap::default(),
            scope_controllers: HashMap::default(),
            project_controllers: HashMap::default(),
            account_ids: HashMap::default(),
            grant_ids: HashMap::default(),
            roles: HashMap::default(),
            to_unknown_members: to_unknown_members.clone(),
            set_grants: PrincipalSetGrants::new(g),
            ids_known: UniqueIdsKnown::new(g),
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
            unknown_account: HashMap::default(),
            keys: HashMap::default(),
            chains: HashMap::default(),
            plain_walks: HashMap::default(),
            impersonator_lists: HashSet::default(),
            other_runtime: None,
        }
    }

    /// Takes the chains followed ahead ([`follow_ahead`]) of this assessor's side: an account's
    /// workloads read them as if this assessor had followed them, its lists of impersonators
    /// shared with its own. So with the other side's runtime emails, looked up once.
    pub fn adopt(&mut self, ahead: FollowedAhead) {
        // A thousand accounts of a project share about a hundred lists: each list is hashed
        // whole once, then known by its address (kept alive with it, so that no other list
        // can take that address).
        type Adopted = (Arc<[Impersonator]>, Arc<[Impersonator]>);
        let mut adopted: HashMap<*const Impersonator, Adopted> = HashMap::default();
        for (memo, (impersonators, keys)) in ahead.chains {
            let shared = match adopted.entry(impersonators.as_ptr()) {
                Entry::Occupied(known) => Arc::clone(&known.get().1),
                Entry::Vacant(new) => {
                    let shared = self.shared(Arc::clone(&impersonators));
                    Arc::clone(&new.insert((impersonators, shared)).1)
                }
            };
            self.chains.insert(memo, (shared, keys));
        }
        if ahead.other_runtime.is_some() {
            self.other_runtime = ahead.other_runtime;
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
                let mut t = Target::of_account(g, node, a);
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
        let chains_key = Self::chains_key(&target);
        (posture.impersonators, posture.keys) = self.chains_of(target);
        // An account the plan cannot name may be one of several: what each holds, who can use
        // it and its keys are possible, never dropped.
        if let Identity::Unknown { candidates, .. } = identity {
            let project = g.workload_project(index).clone().known();
            // It may still be the account it runs as on the other side, in whatever project.
            let other = self.other_runtime_email(&w.address.to_string());
            let memo = (chains_key, candidates.clone(), project, other);
            if !self.unknown_account.contains_key(&memo) {
                let (roles, impersonators, keys) =
                    self.any_account(candidates.as_deref(), memo.2.clone(), memo.3.as_deref());
                let settled = (
                    settle_roles(posture.roles.iter().cloned().chain(roles).collect()),
                    self.shared(settle_impersonators(
                        posture
                            .impersonators
                            .iter()
                            .cloned()
                            .chain(impersonators)
                            .collect(),
                    )),
                    settle_keys(posture.keys.iter().cloned().chain(keys).collect()),
                );
                self.unknown_account.insert(memo.clone(), settled);
            }
            (posture.roles, posture.impersonators, posture.keys) =
                self.unknown_account[&memo].clone();
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
        let set_grants = &self.set_grants;
        Arc::clone(self.roles.entry(a).or_insert_with(|| {
            let node = target.node.expect("an account has a node");
            let mut roles = held_roles(g, node, a);
            roles.extend(set_grants.roles_of(g, Some(a), target.project.as_deref()));
            roles.extend(to_unknown_members.iter().cloned());
            settle_roles(roles)
        }))
    }

    /// What identifies an account's chains: the account, and how the workload names it.
    fn chains_key(target: &Target) -> String {
        format!("{}|{}", target.key(), target.label)
    }

    /// The one list of impersonators equal to `list`.
    fn shared(&mut self, list: Arc<[Impersonator]>) -> Arc<[Impersonator]> {
        if let Some(known) = self.impersonator_lists.get(&list) {
            return Arc::clone(known);
        }
        self.impersonator_lists.insert(Arc::clone(&list));
        list
    }

    /// Who can use an account and its keys: every workload that runs as the same account
    /// (named the same way) has the same chains, so they are followed once.
    fn chains_of(&mut self, target: Target) -> Chains {
        let memo = Self::chains_key(&target);
        if let Some(known) = self.chains.get(&memo) {
            return known.clone();
        }
        let plain = self.plain_walk_key(&target);
        let walked = plain
            .as_ref()
            .and_then(|key| self.plain_walks.get(key))
            .map(|walk| (walk.reached.clone(), walk.chains.clone()));
        let chains = match walked {
            Some((reached, chains)) if self.walk_serves(&reached, &target) => chains,
            _ => {
                let walk = self.follow_chains(target);
                let chains = (
                    self.shared(settle_impersonators(walk.impersonators)),
                    settle_keys(walk.keys),
                );
                if let (Some(key), true) = (plain, walk.plain) {
                    self.plain_walks.entry(key).or_insert(PlainWalk {
                        reached: Rc::new(walk.reached),
                        chains: chains.clone(),
                    });
                }
                chains
            }
        };
        self.chains.insert(memo, chains.clone());
        chains
    }

    /// What a walk from `target` depends on when the account holds no grant, key or grant
    /// the plan cannot tie to an account of its own (`None` otherwise): the project nodes
    /// whose scope grants it meets first, and whether the plan knows the account's unique id
    /// (keys the plan cannot tie to an account may be its). On a project whose hundred editors
    /// can use every account, a thousand runtime accounts walk the same chains.
    fn plain_walk_key(&mut self, target: &Target) -> Option<PlainWalkKey> {
        let controllers = self.controllers_of(target);
        if !controllers.own.is_empty() || !controllers.unlinked.is_empty() {
            return None;
        }
        if !account_keys(&mut self.keys, self.g, target).is_empty() {
            return None;
        }
        let projects = controllers.scopes.iter().map(|(p, _)| *p).collect();
        Some((projects, self.unique_id_known(target)))
    }

    /// Whether a plain walk that `reached` these accounts, from another account with the same
    /// [`PlainWalkKey`], is the walk from `target` too: the walk never reached `target`, so no
    /// chain from it would loop back, and none of the scope grants it meets first is to
    /// `target` itself, which its own walk would leave out.
    fn walk_serves(&mut self, reached: &[bool], target: &Target) -> bool {
        let id = self.account_id(target.key());
        if reached.get(id).copied().unwrap_or(false) {
            return false;
        }
        let g = self.g;
        let controllers = self.controllers_of(target);
        !controllers
            .scopes
            .iter()
            .flat_map(|(_, list)| list.iter())
            .any(|c| is_self(g, c, target))
    }

    /// The roles, controllers and keys of the accounts a runtime account the plan cannot name
    /// may be, as uncertain: the `candidates` its configuration names, or (`None`) any account
    /// of the workload's `project` in the graph (every account when the project is unknown),
    /// or one outside the plan in a principal set it grants to; and the account it runs as on
    /// the `other` side, which it may still be, in any project. Another account of another
    /// project is possible too, but listing every account of every project on every such
    /// workload would bury the report: that is a known limit. Its caller keeps the settled
    /// result.
    fn any_account(
        &mut self,
        candidates: Option<&[Address]>,
        project: Option<String>,
        other: Option<&str>,
    ) -> AnyAccount {
        let g = self.g;
        let mut accounts = possible_accounts(g, candidates, project.as_deref());
        // An account outside the plan may be in any principal set the plan grants to.
        let mut roles = match candidates {
            Some(_) => Vec::new(),
            None => self.set_grants.roles_of(g, None, None),
        };
        let (mut impersonators_of, mut keys_of) = (Vec::new(), Vec::new());
        // The account of the other side: one of this side's graph is walked with the others;
        // one it does not know (no grant of this side names it, so it holds no role here) is
        // still reached by its project's controllers.
        if let Some(email) = other {
            let target = self.email_target(email, service_account_member(email));
            match (target.account, target.node) {
                (Some(a), Some(node)) => {
                    if !accounts.contains(&(a, node)) {
                        accounts.push((a, node));
                    }
                }
                _ => {
                    let (i, k) = self.chains_of(target);
                    impersonators_of.push(i);
                    keys_of.push(k);
                }
            }
        }
        for (a, node) in accounts {
            let target = Target::of_account(g, node, a);
            roles.extend(self.account_roles(&target).iter().cloned());
            let (i, k) = self.chains_of(target);
            impersonators_of.push(i);
            keys_of.push(k);
        }
        // All are made uncertain below, so what tells two apart is the rest of each.
        let mut impersonators = each_once(&impersonators_of, |i| {
            (&i.principal, &i.role, &i.granted_by, &i.via, i.persists)
        });
        let mut keys = each_once(&keys_of, |k| (&k.address, &k.account, &k.via, k.persists));
        for r in &mut roles {
            r.certain = false;
        }
        if candidates.is_none() {
            // Any account of the project: what it may hold is each role the project's accounts
            // hold, not each of their grants. Keeping one grant per role, level and resource
            // (the first in order, for a stable report) bounds the list by the project's
            // distinct roles; listing every grant made each such identity as long as the
            // project, and the report quadratic in it.
            roles.sort();
            let mut seen = HashSet::default();
            roles.retain(|r| {
                let on = r.resource.as_ref().map(|g| g.key.clone());
                seen.insert((r.role.clone(), r.level, on))
            });
        }
        for i in &mut impersonators {
            i.certain = false;
        }
        for k in &mut keys {
            k.certain = false;
        }
        (roles, impersonators, keys)
    }

    /// Everyone who can use the runtime account, directly or through other accounts, to a
    /// fixed point, and the keys of every account on the way.
    fn follow_chains(&mut self, runtime: Target) -> Walk {
        let g = self.g;
        let (mut impersonators, mut held_keys) = (Vec::new(), Vec::new());
        // Whether what the walk finds depends on the account it started from (see
        // `Walk::plain`): a chain looped back to it, or a first scope grant was to itself.
        let (mut looped_back, mut met_itself) = (false, false);
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
        // The entries of each project node's controller list that this walk has yet to visit.
        let mut scanned: HashMap<NodeIndex, Vec<usize>> = HashMap::default();
        // Each account with the accounts between it and the runtime account, whether every
        // grant linking them exists on the other side, and whether each is proven.
        let mut queue: VecDeque<(Target, Vec<String>, bool, bool)> =
            VecDeque::from([(runtime, Vec::new(), true, true)]);
        while let Some((target, via, path_persists, path_certain)) = queue.pop_front() {
            let other = &self.other;
            let keys = account_keys(&mut self.keys, g, &target);
            held_keys.extend(keys.iter().map(|address| HeldKey {
                persists: path_persists && other.has_key(address),
                address: address.clone(),
                account: target.label.clone(),
                via: via.clone(),
                certain: path_certain,
            }));
            let at_runtime = via.is_empty();
            let controllers = self.controllers_of(&target);
            let mut visit = |c: &Controller| {
                let persists = path_persists && c.on_other_side;
                let certain = path_certain && c.impersonator.certain;
                if let Some((next, next_key)) = &c.account {
                    // A loop back to the runtime account adds nobody.
                    if *next_key == runtime_key {
                        looped_back = true;
                        return;
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
            };
            controllers.own.iter().for_each(|c| visit(c));
            for (project, list) in &controllers.scopes {
                // Visiting a controller again adds nothing: its account is seen and its grant
                // emitted (or it loops back). So a project's list is walked whole once; after
                // that only its entries left out as the account walked from are still to
                // visit. The list is met from every account of the project: a hundred
                // accounts with a hundred editors were ten thousand visits per runtime
                // account, a million per plan.
                let pending = scanned
                    .entry(*project)
                    .or_insert_with(|| (0..list.len()).collect());
                pending.retain(|&n| {
                    let c = &list[n];
                    if is_self(g, c, &target) {
                        met_itself |= at_runtime;
                        return true;
                    }
                    visit(c);
                    false
                });
            }
            controllers.unlinked.iter().for_each(|c| visit(c));
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
        Walk {
            impersonators,
            keys: held_keys,
            reached: seen,
            plain: !looped_back && !met_itself,
        }
    }

    /// The plan knows the account's unique id (a `google_service_account` of the plan with
    /// its email or address): a reference by another unique id is not to it.
    fn unique_id_known(&self, target: &Target) -> bool {
        let Some(a) = target.account else {
            return false;
        };
        let account = &self.g.accounts[a];
        let by_address = |addresses: &HashSet<Address>| {
            account
                .address
                .as_ref()
                .is_some_and(|a| addresses.contains(a))
        };
        match &account.email {
            Some(email) => {
                self.ids_known.emails.contains(&email.to_ascii_lowercase())
                    || by_address(&self.ids_known.addresses_without_email)
            }
            None => by_address(&self.ids_known.addresses),
        }
    }

    /// The account with `email`: this side's, or one the plan does not manage, named by
    /// `member`, whose project is the one its email names.
    fn email_target(&self, email: &str, member: String) -> Target {
        let g = self.g;
        match g.account_node_by_email(email) {
            Some(node) => Target::of_account(g, node, g.account_index(node).expect("an account")),
            None => Target {
                node: None,
                account: None,
                member: Some(member),
                project: email
                    .split_once('@')
                    .and_then(|(_, d)| d.strip_suffix(".iam.gserviceaccount.com"))
                    .map(str::to_owned),
                label: email.to_owned(),
            },
        }
    }

    /// The email of the account that the workload at `address` runs as on the other side.
    fn other_runtime_email(&mut self, address: &str) -> Option<String> {
        let other = self.other.g;
        let by_address = self
            .other_runtime
            .get_or_insert_with(|| runtime_emails(other));
        by_address.get(address).cloned()
    }

    /// The service account principal `p` of grant `i` is, when it is one.
    fn principal_account(&self, i: IamIndex, p: &Principal) -> Option<Target> {
        let g = self.g;
        match p {
            Principal::Known { member, sensitive } => {
                let email = member.strip_prefix("serviceAccount:")?;
                let target = Some(self.email_target(email, member.to_string()));
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
                Some(Target::of_account(
                    g,
                    node,
                    g.account_index(node).expect("an account"),
                ))
            }
        }
    }

    fn account_id(&mut self, key: String) -> usize {
        let next = self.account_ids.len();
        *self.account_ids.entry(key).or_insert(next)
    }

    /// One hop: who can use an account through grants on it or on its project (and above).
    fn controllers_of(&mut self, target: &Target) -> Rc<AccountControllers> {
        let g = self.g;
        let key = target.key();
        if let Some(found) = self.controllers.get(&key) {
            return Rc::clone(found);
        }
        let mut own = Vec::new();
        if let (Some(node), Some(a)) = (target.node, target.account) {
            let mut on_account = Vec::new();
            for (src, _) in g.incoming(node, |e| e == EdgeKind::GrantsOn) {
                if let Some(i) = g.iam_index(src) {
                    impersonators_of(g, i, Some(a), None, &mut on_account);
                }
            }
            own.extend(
                on_account
                    .into_iter()
                    .map(|(i, c)| Rc::new(self.controller(i, c))),
            );
        }
        let scopes = g
            .project_nodes_for(target.project.as_deref())
            .into_iter()
            .map(|project| (project, self.project_controllers_of(project)))
            .collect();
        // A grant on an account the plan cannot name may be on this one.
        let mut unlinked = Vec::new();
        for &(i, by_id) in &self.unlinked_account_grants {
            if by_id && self.unique_id_known(target) {
                continue;
            }
            impersonators_of(
                g,
                i,
                target.account,
                target.member.as_deref(),
                &mut unlinked,
            );
        }
        let unlinked = unlinked
            .into_iter()
            .map(|(i, mut c)| {
                c.certain = false;
                Rc::new(self.controller(i, c))
            })
            .collect();
        let controllers = Rc::new(AccountControllers {
            own,
            scopes,
            unlinked,
        });
        self.controllers.insert(key, Rc::clone(&controllers));
        controllers
    }

    /// Every principal that the scope grants applying at `project` let control its accounts,
    /// in the order of the grants, with the accounts themselves.
    fn project_controllers_of(&mut self, project: NodeIndex) -> Rc<[Rc<Controller>]> {
        if let Some(found) = self.project_controllers.get(&project) {
            return Rc::clone(found);
        }
        let mut all = Vec::new();
        for &i in self.g.scope_grants(project, Caps::CONTROL_ACCOUNT) {
            all.extend(self.scope_controllers_of(i).iter().cloned());
        }
        let all: Rc<[Rc<Controller>]> = all.into();
        self.project_controllers.insert(project, Rc::clone(&all));
        all
    }

    /// Every principal that scope grant `i` lets control an account, the account aside.
    fn scope_controllers_of(&mut self, i: IamIndex) -> Rc<[Rc<Controller>]> {
        if let Some(found) = self.scope_controllers.get(&i) {
            return Rc::clone(found);
        }
        let mut all = Vec::new();
        impersonators_of(self.g, i, None, None, &mut all);
        let all: Rc<[Rc<Controller>]> = all
            .into_iter()
            .map(|(i, c)| Rc::new(self.controller(i, c)))
            .collect();
        self.scope_controllers.insert(i, Rc::clone(&all));
        all
    }

    /// What the walk needs of grant `i`'s impersonator `c`, computed once.
    fn controller(&mut self, i: IamIndex, c: Impersonator) -> Controller {
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
            iam: i,
            on_other_side: self.other.has_grant(&c),
            impersonator: c,
            account,
            grant,
        }
    }
}

/// The addresses of the keys of `target`'s account, scanned once into `scanned`: an account
/// node has an edge from every workload that runs as it.
fn account_keys<'k>(
    scanned: &'k mut HashMap<String, Vec<String>>,
    g: &SideGraph,
    target: &Target,
) -> &'k [String] {
    let Some(node) = target.node else {
        return &[];
    };
    scanned.entry(target.key()).or_insert_with(|| {
        g.incoming(node, |e| e == EdgeKind::KeyFor)
            .filter_map(|(src, _)| match g.graph[src] {
                NodeKind::Key(k) => Some(g.key(k).address.to_string()),
                _ => None,
            })
            .collect()
    })
}

/// Whether controller `c` is the account `target` itself (its node, or its member when it has
/// none), which `impersonators_of` would have left out for it.
fn is_self(g: &SideGraph, c: &Controller, target: &Target) -> bool {
    let p = &c.impersonator.principal;
    let own_member = match p {
        Principal::Known { member, .. } => target.member.as_deref() == Some(&**member),
        Principal::Unknown => false,
    };
    own_member
        || target
            .account
            .is_some_and(|a| g.principal_is_account(c.iam, p, a))
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
            members: HashMap::default(),
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

/// Impersonators sorted, without repeats, and without the possible one a proven one repeats.
fn settle_impersonators(impersonators: Vec<Impersonator>) -> Arc<[Impersonator]> {
    if impersonators.iter().all(|i| i.certain) {
        return sorted(impersonators);
    }
    // The principal (an unknown one is told apart by its grant, which is in the key), role and
    // grant, borrowed: this runs for every runtime account, over every controller it has.
    fn key(i: &Impersonator) -> (Option<&str>, &str, &str) {
        let principal = match &i.principal {
            Principal::Known { member, .. } => Some(&**member),
            Principal::Unknown => None,
        };
        (principal, &i.role, &i.granted_by)
    }
    let keep: Vec<bool> = {
        let proven: HashSet<_> = impersonators
            .iter()
            .filter(|i| i.certain)
            .map(key)
            .collect();
        impersonators
            .iter()
            .map(|i| i.certain || !proven.contains(&key(i)))
            .collect()
    };
    sorted(
        impersonators
            .into_iter()
            .zip(keep)
            .filter_map(|(i, keep)| keep.then_some(i))
            .collect(),
    )
}

/// About how many controllers the walks from `accounts` visit: each walk meets its account's
/// own controllers (counted as one: they are few) and those of every scope grant over its
/// project.
fn walk_visits(g: &SideGraph, accounts: &[Target]) -> usize {
    accounts
        .iter()
        .map(|t| {
            let scopes = g.project_nodes_for(t.project.as_deref());
            1 + scopes
                .into_iter()
                .map(|p| g.scope_grants(p, Caps::CONTROL_ACCOUNT).len())
                .sum::<usize>()
        })
        .sum()
}

/// The email of the account each workload of `g` runs as, by the workload's address.
fn runtime_emails(g: &SideGraph) -> HashMap<String, String> {
    g.workloads()
        .filter_map(|(i, w)| {
            let (node, _) = g
                .outgoing(g.workload_nodes[i], |e| e == EdgeKind::RunsAs)
                .next()?;
            let account = &g.accounts[g.account_index(node)?];
            Some((w.address.to_string(), account.email.clone()?))
        })
        .collect()
}

/// The accounts of `g` that a runtime account the plan cannot name may be: the `candidates`
/// its configuration names, or (`None`) every account of `project`, or of any project when
/// that is unknown (see [`Identities::any_account`]).
fn possible_accounts(
    g: &SideGraph,
    candidates: Option<&[Address]>,
    project: Option<&str>,
) -> Vec<(AccountIndex, NodeIndex)> {
    match candidates {
        Some(addresses) => addresses
            .iter()
            .filter_map(|address| g.account_node_by_address(address))
            .map(|node| (g.account_index(node).expect("an account"), node))
            .collect(),
        None => g
            .account_nodes
            .enumerate()
            .filter(|(a, _)| {
                project.is_none() || g.accounts[*a].project().is_none_or(|p| Some(p) == project)
            })
            .map(|(a, &n)| (a, n))
            .collect(),
    }
}

/// What [`follow_ahead`] found before a side's postures, for that side's [`Identities`] to
/// take.
#[derive(Default)]
pub struct FollowedAhead {
    /// The chains of accounts, by chains key.
    chains: Vec<(String, Chains)>,
    /// The email each workload runs as on the other side, by address, once looked up.
    other_runtime: Option<HashMap<String, String>>,
}

/// Follows, on two threads, the chains of every account that this side's runtime accounts the
/// plan cannot name may be, when those walks are long ([`VISITS_WORTH_A_THREAD`]); otherwise
/// nothing, and they are followed as the workloads meet them.
///
/// On an IAM-dense plan they are most of a side's postures: one such workload may be any of a
/// project's thousand accounts, each met by its hundred editors. Followed on two threads while
/// the other side's postures took the other core, three threads shared two cores, and the
/// side with the walks finished long after the other. Followed first, they have both cores.
pub fn follow_ahead(g: &SideGraph, other: &SideGraph) -> FollowedAhead {
    follow_ahead_from(g, other, VISITS_WORTH_A_THREAD)
}

/// [`follow_ahead`], with the visits that make the walks worth two threads.
fn follow_ahead_from(
    g: &SideGraph,
    other: &SideGraph,
    visits_worth_a_thread: usize,
) -> FollowedAhead {
    let unknown = |i: WorkloadIndex| match &g.identities[i] {
        Identity::Unknown { candidates, .. } => Some(candidates),
        _ => None,
    };
    if !g.workloads().any(|(i, _)| unknown(i).is_some()) {
        return FollowedAhead::default();
    }
    let other_emails = runtime_emails(other);
    let mut ahead = FollowedAhead::default();
    let mut asked = HashSet::default();
    let mut met = HashSet::default();
    let mut pending = Vec::new();
    for (i, w) in g.workloads() {
        let Some(candidates) = unknown(i) else {
            continue;
        };
        let other_email = other_emails.get(&w.address.to_string());
        let project = g.workload_project(i).clone().known();
        // Workloads that may be the same accounts: their walks are the first one's.
        if !asked.insert((candidates, project.clone(), other_email)) {
            continue;
        }
        let mut accounts = possible_accounts(g, candidates.as_deref(), project.as_deref());
        // The account it runs as on the other side, when this side's graph has it.
        if let Some(node) = other_email.and_then(|email| g.account_node_by_email(email)) {
            accounts.push((g.account_index(node).expect("an account"), node));
        }
        for (a, node) in accounts {
            if met.insert(a) {
                pending.push(Target::of_account(g, node, a));
            }
        }
    }
    if walk_visits(g, &pending) >= visits_worth_a_thread {
        ahead.chains = follow_in_halves(g, other, &pending);
    }
    // The side's assessor looks the same emails up for those workloads.
    ahead.other_runtime = Some(other_emails);
    ahead
}

/// The chains of `pending`, half followed on each of two threads.
fn follow_in_halves(g: &SideGraph, other: &SideGraph, pending: &[Target]) -> Vec<(String, Chains)> {
    // A chain depends on the graph alone, not on the assessor that follows it.
    let follow = |targets: &[Target]| {
        let mut identities = Identities::new(g, other);
        targets
            .iter()
            .map(|t| (Identities::chains_key(t), identities.chains_of(t.clone())))
            .collect::<Vec<_>>()
    };
    let (first, second) = pending.split_at(pending.len() / 2);
    let (mut followed, rest) = crate::parallel::join(|| follow(second), || follow(first));
    followed.extend(rest);
    followed
}

/// Each distinct element of `lists` once, as told apart by `key`, in order of first appearance.
/// The accounts of a project share most of their controllers and keys (a project-level grant
/// covers every one of them): each is copied once, not once per account, which was a hundred
/// thousand copies for a hundred editors of a thousand accounts.
fn each_once<'a, T: Clone, K: Hash + Eq>(
    lists: &'a [Arc<[T]>],
    key: impl Fn(&'a T) -> K,
) -> Vec<T> {
    // A list that comes again (by address: accounts with the same controllers share one) has
    // nothing left to give, and is passed over without hashing its entries: a project's
    // thousand accounts share about a hundred lists of a hundred impersonators.
    let mut lists_seen = HashSet::default();
    let mut seen = HashSet::default();
    lists
        .iter()
        .filter(|list| lists_seen.insert(list.as_ptr()))
        .flat_map(|list| list.iter())
        .filter(|e| seen.insert(key(e)))
        .cloned()
        .collect()
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
                    is_service_agent(member) || Some(&**member) == own_member
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::with_after_graph;
    use serde_json::{Value, json};

    /// A `resource_changes` entry creating `address` (`type.name` or `type.name[N]`) with
    /// `after`, and `unknown` as its `after_unknown`.
    fn created(address: &str, after: Value, unknown: Value) -> Value {
        let (ty, rest) = address.split_once('.').expect("type.name");
        let (name, index) = match rest.split_once('[') {
            Some((name, index)) => {
                let index: u64 = index.trim_end_matches(']').parse().expect("an index");
                (name, json!(index))
            }
            None => (rest, Value::Null),
        };
        json!({"address": address, "type": ty, "name": name, "index": index,
            "change": {"actions": ["create"], "before": null, "after": after,
                       "after_unknown": unknown, "before_sensitive": false,
                       "after_sensitive": {}}})
    }

    /// A plan of `changes`, its provider in `acme-prod`, with these configured `resources`.
    fn plan_of(changes: Vec<Value>, resources: Value) -> Value {
        json!({"format_version": "1.2", "resource_changes": changes,
            "configuration": {"provider_config": {"google": {"name": "google",
                "expressions": {"project": {"constant_value": "acme-prod"}}}},
                "root_module": {"resources": resources}}})
    }

    /// The account `google_service_account.{name}` of `g`.
    fn account_named(g: &SideGraph, name: &str) -> (AccountIndex, NodeIndex) {
        let address = Address::parse(&format!("google_service_account.{name}"));
        let node = g
            .account_node_by_address(&address.expect("an address"))
            .expect("an account of the plan");
        (g.account_index(node).expect("an account"), node)
    }

    /// Four accounts of one project, two users with `roles/editor` on it (which acts as every
    /// account of the project), one of the accounts with it too, and a user who can mint tokens
    /// for one account only.
    fn four_accounts() -> Value {
        let mut changes = Vec::new();
        let create = |address: &str, after: Value| created(address, after, json!({}));
        for name in ["a", "b", "c", "d"] {
            let email = format!("{name}@acme-prod.iam.gserviceaccount.com");
            let id = format!("projects/acme-prod/serviceAccounts/{email}");
            changes.push(create(
                &format!("google_service_account.{name}"),
                json!({"account_id": name, "project": "acme-prod", "email": email,
                       "member": format!("serviceAccount:{email}"), "name": id, "id": id}),
            ));
        }
        for (name, member) in [
            ("ops", "user:ops@acme.example"),
            ("dev", "user:dev@acme.example"),
            ("a", "serviceAccount:a@acme-prod.iam.gserviceaccount.com"),
        ] {
            changes.push(create(
                &format!("google_project_iam_member.{name}"),
                json!({"project": "acme-prod", "role": "roles/editor", "member": member,
                       "condition": []}),
            ));
        }
        changes.push(create(
            "google_service_account_iam_member.minter",
            json!({"service_account_id":
                       "projects/acme-prod/serviceAccounts/c@acme-prod.iam.gserviceaccount.com",
                   "role": "roles/iam.serviceAccountTokenCreator",
                   "member": "user:minter@acme.example", "condition": []}),
        ));
        plan_of(changes, json!([]))
    }

    /// [`four_accounts`], and a service of `acme-prod` whose runtime account is known only at
    /// apply: it may be any of the four.
    fn four_accounts_and_an_unnamed_runtime_account() -> Value {
        let mut plan = four_accounts();
        let changes = plan["resource_changes"].as_array_mut().expect("entries");
        changes.push(created(
            "google_cloud_run_v2_service.api",
            json!({"name": "api", "location": "europe-west1", "project": "acme-prod",
                   "template": [{"service_account": null, "containers": []}]}),
            json!({"template": [{"service_account": true}]}),
        ));
        plan["configuration"]["root_module"]["resources"] = json!([
            {"address": "google_cloud_run_v2_service.api", "mode": "managed",
             "type": "google_cloud_run_v2_service", "name": "api",
             "provider_config_key": "google",
             "expressions": {"template": [
                 {"service_account": {"references": ["var.runtime_account"]}}]}}]);
        plan
    }

    /// The chains followed ahead, on two threads, are those one assessor following each
    /// account in turn finds, once taken in; and they are followed only when there are visits
    /// enough for two threads.
    #[test]
    fn chains_followed_ahead_are_those_followed_in_turn() {
        with_after_graph(&four_accounts_and_an_unnamed_runtime_account(), |g| {
            let accounts: Vec<(AccountIndex, NodeIndex)> =
                g.account_nodes.enumerate().map(|(a, &n)| (a, n)).collect();
            assert_eq!(accounts.len(), 4);
            let mut in_turn = Identities::new(g, g);
            for &(a, node) in &accounts {
                in_turn.chains_of(Target::of_account(g, node, a));
            }
            let mut adopted = Identities::new(g, g);
            adopted.adopt(follow_ahead_from(g, g, 0));
            assert_eq!(adopted.chains, in_turn.chains);
            // Every account is met by the editors; `c` by the minter too.
            assert!(adopted.chains.values().all(|(i, _)| i.len() >= 2));
            assert!(adopted.chains.values().any(|(i, _)| {
                i.iter()
                    .any(|i| i.principal.display() == "user:minter@acme.example")
            }));
            // Each of the four walks meets its account and the three editors' grants: as many
            // visits as make two threads worth it, every chain is followed ahead; one fewer,
            // none is.
            let targets: Vec<Target> = accounts
                .iter()
                .map(|&(a, node)| Target::of_account(g, node, a))
                .collect();
            assert_eq!(walk_visits(g, &targets), 16);
            assert_eq!(follow_ahead_from(g, g, 16).chains.len(), 4);
            let short = follow_ahead_from(g, g, 17);
            assert!(short.chains.is_empty());
            // The emails the service's assessor asks for are taken along all the same.
            assert!(short.other_runtime.is_some());
        });
        // Without a workload whose account is unnamed, no walk is followed ahead.
        with_after_graph(&four_accounts(), |g| {
            let none = follow_ahead_from(g, g, 0);
            assert!(none.chains.is_empty() && none.other_runtime.is_none());
        });
    }

    /// The service's identity is the same whether the chains of the accounts it may be were
    /// followed ahead or as it met them.
    #[test]
    fn an_unnamed_runtime_account_reads_the_same_from_chains_followed_ahead() {
        with_after_graph(&four_accounts_and_an_unnamed_runtime_account(), |g| {
            let identity_of = |ahead: FollowedAhead| {
                let postures = crate::posture::assess(g, g, ahead);
                let (_, posture) = postures.into_iter().next().expect("the service");
                posture.identity
            };
            let met = identity_of(FollowedAhead::default());
            assert_eq!(met.impersonators.len(), 4, "{:?}", met.impersonators);
            assert_eq!(identity_of(follow_ahead_from(g, g, 0)), met);
        });
    }

    /// Accounts that the same principals control share one list of impersonators, which the
    /// rules and the report compare by address; an account with other controllers has its own.
    #[test]
    fn accounts_with_the_same_controllers_share_one_list() {
        with_after_graph(&four_accounts(), |g| {
            let mut identities = Identities::new(g, g);
            let lists: Vec<Arc<[Impersonator]>> = g
                .account_nodes
                .enumerate()
                .map(|(a, &node)| {
                    let target = Target::of_account(g, node, a);
                    identities.chains_of(target).0
                })
                .collect();
            let [a, b, c, d] = &lists[..] else {
                panic!("four accounts");
            };
            // b and d: the three editors; a: two of them (it is the third); c: the three and
            // the minter.
            assert!(Arc::ptr_eq(b, d));
            assert!(!Arc::ptr_eq(a, b) && *a != *b);
            assert!(!Arc::ptr_eq(c, b) && *c != *b);
        });
        // Followed ahead on two threads, the lists are shared all the same.
        with_after_graph(&four_accounts_and_an_unnamed_runtime_account(), |g| {
            let mut split = Identities::new(g, g);
            split.adopt(follow_ahead_from(g, g, 0));
            let accounts: Vec<(AccountIndex, NodeIndex)> =
                g.account_nodes.enumerate().map(|(a, &n)| (a, n)).collect();
            let shared: Vec<Arc<[Impersonator]>> = accounts
                .iter()
                .map(|&(a, node)| {
                    let target = Target::of_account(g, node, a);
                    split.chains_of(target).0
                })
                .collect();
            assert!(Arc::ptr_eq(&shared[1], &shared[3]));
        });
    }

    /// Accounts of two projects: `e1` and `e2` hold `roles/editor` on `acme-prod` (so they can
    /// use each of its accounts), and `z` on `acme-dev`; `r` can mint tokens for `e1`; `k` has
    /// a key; `x0`, `x1`, `r` and `k` hold nothing, and neither do `z` and `y` of `acme-dev`.
    fn editors_and_plain_accounts() -> Value {
        let mut changes = Vec::new();
        let create = |address: &str, after: Value| created(address, after, json!({}));
        let email = |name: &str, project: &str| format!("{name}@{project}.iam.gserviceaccount.com");
        for (name, project) in [
            ("e1", "acme-prod"),
            ("e2", "acme-prod"),
            ("r", "acme-prod"),
            ("k", "acme-prod"),
            ("x0", "acme-prod"),
            ("x1", "acme-prod"),
            ("z", "acme-dev"),
            ("y", "acme-dev"),
        ] {
            let email = email(name, project);
            let id = format!("projects/{project}/serviceAccounts/{email}");
            changes.push(create(
                &format!("google_service_account.{name}"),
                json!({"account_id": name, "project": project, "email": email,
                       "member": format!("serviceAccount:{email}"), "name": id, "id": id}),
            ));
        }
        for (name, project) in [("e1", "acme-prod"), ("e2", "acme-prod"), ("z", "acme-dev")] {
            changes.push(create(
                &format!("google_project_iam_member.{name}"),
                json!({"project": project, "role": "roles/editor",
                       "member": format!("serviceAccount:{}", email(name, project)),
                       "condition": []}),
            ));
        }
        changes.push(create(
            "google_service_account_iam_member.r_mints_e1",
            json!({"service_account_id":
                       format!("projects/acme-prod/serviceAccounts/{}", email("e1", "acme-prod")),
                   "role": "roles/iam.serviceAccountTokenCreator",
                   "member": format!("serviceAccount:{}", email("r", "acme-prod")),
                   "condition": []}),
        ));
        changes.push(create(
            "google_service_account_key.k",
            json!({"service_account_id":
                       format!("projects/acme-prod/serviceAccounts/{}", email("k", "acme-prod"))}),
        ));
        plan_of(changes, json!([]))
    }

    /// An account that holds nothing of its own reuses the walk of the first such account of
    /// its projects, when that walk found nothing that depends on the account it started from
    /// and never reached the account that reuses it. In turn, in two orders: `r`'s walk loops
    /// back to it (through `e1`), so `x0` does not take it; `x1` takes `x0`'s; `r` (second
    /// order), reached by `x0`'s walk through `e1`, and `e2`, which the project's grants name,
    /// do not; `k` has a key; `z`'s walk leaves out its own editor grant, so `y` does not take
    /// it. Each account's chains are those it walks alone.
    #[test]
    fn walks_reused_across_accounts_are_each_accounts_own() {
        with_after_graph(&editors_and_plain_accounts(), |g| {
            let account = |name: &str| account_named(g, name);
            for order in [
                &["r", "x0", "x1", "e2", "k", "z", "y"][..],
                &["x0", "r", "x1"],
            ] {
                let mut in_turn = Identities::new(g, g);
                for name in order {
                    let (a, node) = account(name);
                    let target = Target::of_account(g, node, a);
                    let reused = in_turn.chains_of(target.clone());
                    let alone = Identities::new(g, g).chains_of(target);
                    assert_eq!(reused, alone, "{name} after {order:?}");
                }
                // `x0`'s walk is kept, and in the first order `y`'s.
                let kept = if order.len() > 3 { 2 } else { 1 };
                assert_eq!(in_turn.plain_walks.len(), kept);
            }
        });
    }

    /// A project-level editor grant to a member unknown at plan time that the configuration
    /// takes from either of two accounts the plan creates with ids unknown until apply
    /// (`pa[0]`, `pa[1]`), and `x0`, which
    /// holds nothing (`member = google_service_account.pa[var.which].member`). The grant is met
    /// first by every walk; it may be `pa[1]` itself, which its own walk leaves out, although
    /// `x0`'s walk reaches only `pa[0]` through it.
    fn unknown_editor_of_two_accounts() -> Value {
        let x0 = "x0@acme-prod.iam.gserviceaccount.com";
        let id = format!("projects/acme-prod/serviceAccounts/{x0}");
        let mut changes = vec![created(
            "google_service_account.x0",
            json!({"account_id": "x0", "project": "acme-prod", "email": x0,
                   "member": format!("serviceAccount:{x0}"), "name": id, "id": id}),
            json!({}),
        )];
        for n in 0..2 {
            changes.push(created(
                &format!("google_service_account.pa[{n}]"),
                json!({"project": "acme-prod"}),
                json!({"account_id": true, "email": true, "member": true, "name": true,
                       "id": true}),
            ));
        }
        changes.push(created(
            "google_project_iam_member.u",
            json!({"project": "acme-prod", "role": "roles/editor", "condition": []}),
            json!({"member": true}),
        ));
        let configured = json!([
            {"address": "google_project_iam_member.u", "mode": "managed",
             "type": "google_project_iam_member", "name": "u", "provider_config_key": "google",
             "expressions": {"member": {"references": ["google_service_account.pa",
                                                       "var.which"]}}},
            {"address": "google_service_account.pa", "mode": "managed",
             "type": "google_service_account", "name": "pa", "provider_config_key": "google",
             "count_expression": {"constant_value": 2},
             "expressions": {"account_id": {"references": ["random_id.suffix.hex",
                                                           "random_id.suffix"]}}}]);
        plan_of(changes, configured)
    }

    /// A walk is not reused for an account that its first scope grants name, although the
    /// walk did not reach that account (the unknown member is `pa[1]` too).
    #[test]
    fn a_walk_is_not_reused_for_an_account_its_first_grants_may_be() {
        with_after_graph(&unknown_editor_of_two_accounts(), |g| {
            let mut in_turn = Identities::new(g, g);
            for name in ["x0", "pa[1]"] {
                let (a, node) = account_named(g, name);
                let target = Target::of_account(g, node, a);
                let reused = in_turn.chains_of(target.clone());
                let alone = Identities::new(g, g).chains_of(target);
                assert_eq!(reused, alone, "{name}");
            }
            assert_eq!(in_turn.plain_walks.len(), 1);
        });
    }

    /// The elements of many lists, each once as `key` tells them apart, in order of first
    /// appearance: a repeat in a later list is dropped, an element that differs in the key is
    /// kept, and one that differs only outside the key is a repeat.
    #[test]
    fn each_once_keeps_the_first_of_each_key_across_lists() {
        let lists: Vec<Arc<[(&str, u8)]>> = vec![
            Arc::from([("editor", 1), ("owner", 1)]),
            Arc::from([("owner", 2), ("editor", 1), ("viewer", 1)]),
            Arc::from([("viewer", 3)]),
        ];
        assert_eq!(
            each_once(&lists, |e| e),
            [
                ("editor", 1),
                ("owner", 1),
                ("owner", 2),
                ("viewer", 1),
                ("viewer", 3)
            ]
        );
        assert_eq!(
            each_once(&lists, |e| e.0),
            [("editor", 1), ("owner", 1), ("viewer", 1)]
        );
    }

    /// A list that comes again, by address, adds nothing; an equal list of its own, or an empty
    /// one before it, changes nothing either.
    #[test]
    fn each_once_passes_over_a_list_it_has_seen() {
        let shared: Arc<[(&str, u8)]> = Arc::from([("editor", 1), ("owner", 1)]);
        let lists: Vec<Arc<[(&str, u8)]>> = vec![
            Arc::from([]),
            Arc::clone(&shared),
            Arc::from([("viewer", 1)]),
            Arc::clone(&shared),
            Arc::from([("owner", 1), ("editor", 2)]),
            Arc::clone(&shared),
        ];
        assert_eq!(
            each_once(&lists, |e| e),
            [("editor", 1), ("owner", 1), ("viewer", 1), ("editor", 2)]
        );
    }
}
