//! One graph per side: workloads, the IAM resources that grant on them, the projects that
//! scope grants, the service accounts workloads run as, keys, and load-balancer chains, joined
//! by typed edges.
//!
//! Every link is made by parsed value first and through `configuration` references second
//! ([`link`]), using look-up tables built once ([`index`]) so that linking stays linear in the
//! size of the plan. A link that cannot be made becomes an [`Unresolved`] entry with its reason;
//! it is never dropped silently.

pub mod grants;
pub mod index;
pub mod link;
mod paths;

use std::collections::HashMap;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::iam::Caps;
use crate::iam::member::is_default_compute_account;
use crate::inventory::defaults::{UnknownValue, unknown_value};
use crate::inventory::{IamTarget, Scope, SideInventory, Workload, WorkloadKind};
use crate::plan::{Address, Tri};

pub use grants::{Authority, Principal, ResolvedGrant, RoleRef};
use index::Indexes;
pub use link::Context;
use link::{Followed, component_matches};

/// A workload that IAM in the plan grants on, but that the plan does not manage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExternalWorkload {
    /// `projects/P/locations/L/services/N`, with `?` for a component unknown at plan time.
    pub id: String,
    pub kind: WorkloadKind,
    /// The project it sits in, when the plan knows it: grants on that project reach it.
    pub project: Option<String>,
}

/// Who a workload runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A known account (email lower-cased).
    Account { email: String },
    /// A service account created in this plan whose email is not known yet.
    PlannedAccount { address: Address },
    /// `service_account` unset: Cloud Run uses the Compute Engine default service account.
    ImplicitDefault,
    /// Cannot be known at plan time.
    Unknown { reason: String },
}

// The payloads of Workload, External, Project and Candidates nodes are read only through
// Debug: the graph reaches those nodes through its side tables instead.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub enum NodeKind {
    Workload(usize),
    External(usize),
    Iam(usize),
    /// A project that project-level grants are made on; `None` gathers the grants whose scope
    /// cannot be pinned to one project (unknown project id, folder, organization).
    Project(Option<String>),
    Account(usize),
    Key(usize),
    Lb(usize),
    /// A Cloud Run domain mapping.
    Domain(usize),
    /// The workloads an IAM resource may be attached to when the plan cannot tie it to one:
    /// every workload whose name components do not contradict the known ones.
    Candidates(CandidateSet),
}

/// The known name components of an IAM resource's target (`None`: unknown, any value fits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CandidateSet {
    pub kind: WorkloadKind,
    pub name: Option<String>,
    pub project: Option<String>,
    pub location: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// IAM resource → the workload or account it is attached to.
    GrantsOn,
    /// IAM resource → a workload, or a candidate set, it may be attached to, when the plan
    /// cannot tie it to exactly one workload: its grants count on each candidate, never as
    /// certain.
    MayGrantOn,
    /// Workload → a candidate set it belongs to. The sets keep linking linear: an IAM resource
    /// whose target is unknown is one edge, not one edge per workload.
    Candidate,
    /// Project/folder/organization IAM resource → the project node it applies to.
    Covers,
    /// Workload → a project node whose grants apply to it. `assumed` when the plan cannot
    /// prove the workload sits in that scope.
    InProject { assumed: bool },
    /// Project/folder/organization IAM resource → a service account among its members.
    HeldBy,
    /// Workload → the account it runs as.
    RunsAs,
    /// Key → its account.
    KeyFor,
    /// Load-balancer piece → the next piece or the workload it sends traffic to; domain
    /// mapping → the service it serves.
    Fronts,
    /// A serverless NEG or domain mapping → a workload it may send traffic to, when the plan
    /// cannot prove it does (a URL mask or a name whose project or location is unknown).
    MayFront,
}

/// The project of each provider configuration that workloads on this side reveal: a workload
/// that leaves `project` unset gets its provider's project at plan time, and IAM resources on
/// the same provider configuration (which have no such default at plan time) get the same one.
fn learn_provider_projects(inventory: &SideInventory, ctx: &Context) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for w in &inventory.workloads {
        let (module, resource) = (w.address.config_module(), w.address.config_resource());
        if !ctx.configuration.has_resource(&module, &resource) {
            continue;
        }
        let configured = !ctx
            .configuration
            .expressions(&module, &resource, &["project"])
            .is_empty();
        if let (Tri::Known(p), false) = (&w.project, configured) {
            if let Some(key) = ctx.configuration.provider_of(&module, &resource) {
                out.entry(key.to_owned()).or_insert_with(|| p.clone());
            }
        }
    }
    out
}

/// Where a workload IAM resource's grants land.
enum WorkloadLink {
    /// Exactly one workload, in the plan or outside it.
    One(NodeIndex),
    /// Any of these workloads: the plan cannot tell which.
    Candidates(Vec<NodeIndex>),
    /// Any workload that fits these known name components.
    Set(CandidateSet),
}

/// Something the analysis could not link or know, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unresolved {
    /// The address of the resource that holds the link.
    pub address: String,
    /// Why it could not be resolved.
    pub reason: String,
}

/// A service account known on this side, by email or (when its email is unknown) by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNode {
    pub email: Option<String>,
    pub address: Option<Address>,
    /// The project of an account created in this plan, from its `project` or the provider
    /// configuration it uses: what its email will say once known.
    pub planned_project: Option<String>,
}

impl AccountNode {
    /// The project an account belongs to, from its email or, until the email is known, from
    /// the account resource.
    pub fn project(&self) -> Option<&str> {
        let from_email = self
            .email
            .as_deref()
            .and_then(|e| e.split_once('@'))
            .and_then(|(_, domain)| domain.strip_suffix(".iam.gserviceaccount.com"));
        from_email.or(self.planned_project.as_deref())
    }
}

pub struct SideGraph<'i> {
    pub inventory: &'i SideInventory,
    pub graph: DiGraph<NodeKind, EdgeKind>,
    pub workload_nodes: Vec<NodeIndex>,
    pub externals: Vec<ExternalWorkload>,
    pub external_nodes: Vec<NodeIndex>,
    pub iam_nodes: Vec<NodeIndex>,
    /// Each IAM resource's address, formatted once: postures cite them for every principal.
    pub iam_addresses: Vec<std::sync::Arc<str>>,
    pub grants: Vec<ResolvedGrant>,
    /// Per IAM resource: the service accounts created in this plan, email not yet known, that
    /// its unknown member refers to (`google_service_account.x.member`). Such a member is that
    /// account, although its string is unknown.
    pub planned_members: Vec<Vec<Address>>,
    pub accounts: Vec<AccountNode>,
    pub account_nodes: Vec<NodeIndex>,
    pub identities: Vec<Identity>,
    pub lb_nodes: Vec<NodeIndex>,
    pub domain_nodes: Vec<NodeIndex>,
    pub unresolved: Vec<Unresolved>,
    /// Some load-balancer link of this side could not be resolved (listed in `unresolved`).
    pub lb_unresolved: bool,
    /// Some domain mapping of this side cannot be tied to a service (listed in `unresolved`).
    pub domain_unresolved: bool,
    /// Each workload's project; an unset one filled from the provider configuration it uses.
    workload_projects: Vec<Tri<String>>,
    /// The project of provider configurations whose `project` the configuration does not fix,
    /// learned from workloads that leave `project` unset: the provider fills it at plan time.
    provider_projects: HashMap<String, String>,
    projects: HashMap<Option<String>, NodeIndex>,
    /// For each project node and capability, the scope grants with a binding whose role is
    /// known to carry it, in node order: built once, so a workload does not rescan every grant
    /// of its project.
    scope_grants: HashMap<(NodeIndex, Caps), Vec<usize>>,
    accounts_by_email: HashMap<String, usize>,
    accounts_by_address: HashMap<Address, usize>,
    externals_by_id: HashMap<ExternalWorkload, usize>,
    candidate_sets: HashMap<CandidateSet, NodeIndex>,
}

impl<'i> SideGraph<'i> {
    pub fn build(inventory: &'i SideInventory, ctx: &Context) -> SideGraph<'i> {
        let index = Indexes::new(inventory);
        let mut g = SideGraph {
            inventory,
            graph: DiGraph::new(),
            workload_nodes: Vec::new(),
            externals: Vec::new(),
            external_nodes: Vec::new(),
            iam_nodes: Vec::new(),
            iam_addresses: inventory
                .iam
                .iter()
                .map(|i| i.address.to_string().into())
                .collect(),
            grants: Vec::new(),
            planned_members: Vec::new(),
            accounts: Vec::new(),
            account_nodes: Vec::new(),
            identities: Vec::new(),
            lb_nodes: Vec::new(),
            domain_nodes: Vec::new(),
            unresolved: Vec::new(),
            lb_unresolved: false,
            domain_unresolved: false,
            workload_projects: Vec::new(),
            provider_projects: learn_provider_projects(inventory, ctx),
            projects: HashMap::new(),
            scope_grants: HashMap::new(),
            accounts_by_email: HashMap::new(),
            accounts_by_address: HashMap::new(),
            externals_by_id: HashMap::new(),
            candidate_sets: HashMap::new(),
        };
        for (i, w) in inventory.workloads.iter().enumerate() {
            let n = g.graph.add_node(NodeKind::Workload(i));
            g.workload_nodes.push(n);
            let project = g.project_of(&w.address, &w.project, ctx);
            g.workload_projects.push(project);
        }
        for a in &inventory.service_accounts {
            let n = g.account(a.email.clone().known(), Some(a.address.clone()));
            let project = g.project_of(&a.address, &a.project, ctx).known();
            let i = g.account_index(n).expect("an account node");
            g.accounts[i].planned_project = project;
        }
        for i in 0..inventory.iam.len() {
            let n = g.graph.add_node(NodeKind::Iam(i));
            g.iam_nodes.push(n);
            let grant = grants::resolve(&inventory.iam[i], inventory, &index, ctx);
            for reason in &grant.unresolved {
                g.unresolve(&inventory.iam[i].address, reason.clone());
            }
            let planned = g.planned_members_of(i, &grant, &index, ctx);
            g.grants.push(grant);
            g.planned_members.push(planned);
        }
        g.link_identities(&index, ctx);
        g.link_iam(&index, ctx);
        g.link_candidate_sets();
        g.link_projects();
        g.index_scope_grants();
        g.link_keys(&index, ctx);
        g.link_load_balancers(&index, ctx);
        g.link_domain_mappings(&index, ctx);
        g.unresolved.sort();
        g.unresolved.dedup();
        g
    }

    fn unresolve(&mut self, address: &Address, reason: String) {
        self.unresolved.push(Unresolved {
            address: address.to_string(),
            reason,
        });
    }

    /// The account node for an email or planned account, created on first use.
    fn account(&mut self, email: Option<String>, address: Option<Address>) -> NodeIndex {
        let found = email
            .as_ref()
            .and_then(|e| self.accounts_by_email.get(e))
            .or_else(|| {
                address
                    .as_ref()
                    .and_then(|a| self.accounts_by_address.get(a))
            })
            .copied();
        let i = match found {
            Some(i) => i,
            None => {
                let n = self.graph.add_node(NodeKind::Account(self.accounts.len()));
                self.accounts.push(AccountNode {
                    email: None,
                    address: None,
                    planned_project: None,
                });
                self.account_nodes.push(n);
                self.accounts.len() - 1
            }
        };
        if let (None, Some(e)) = (&self.accounts[i].email, email) {
            self.accounts_by_email.insert(e.clone(), i);
            self.accounts[i].email = Some(e);
        }
        if let (None, Some(a)) = (&self.accounts[i].address, address) {
            self.accounts_by_address.insert(a.clone(), i);
            self.accounts[i].address = Some(a);
        }
        self.account_nodes[i]
    }

    /// The account node a known `service_account_id` names: the email in any of the forms the
    /// provider accepts (`EMAIL`, `projects/P/serviceAccounts/EMAIL`, `projects/-/...`), or
    /// the account's numeric unique id, which only an account in the plan can resolve. An id
    /// that matches no account is unresolved.
    fn account_by_reference(&mut self, from: &Address, reference: &str) -> Option<NodeIndex> {
        let id = crate::inventory::iam::account_email(reference);
        if id.contains('@') {
            return Some(self.account(Some(id), None));
        }
        let found: Vec<&crate::inventory::ServiceAccount> = self
            .inventory
            .service_accounts
            .iter()
            .filter(|a| matches!(&a.unique_id, Tri::Known(u) if *u == id))
            .collect();
        match found.as_slice() {
            [a] => {
                let (email, address) = (a.email.clone().known(), a.address.clone());
                Some(self.account(email, Some(address)))
            }
            _ => {
                let reason = if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                    format!(
                        "service account `{reference}` is named by a unique id that no service \
                         account in the plan has"
                    )
                } else {
                    format!("`{reference}` names no service account by email or unique id")
                };
                self.unresolve(from, reason);
                None
            }
        }
    }

    /// Whether principal `p` of IAM resource `iam_index` is account `a`: by its
    /// `serviceAccount:` member, or, for an unknown member, by the planned account it refers to.
    pub fn principal_is_account(&self, iam_index: usize, p: &Principal, a: usize) -> bool {
        let account = &self.accounts[a];
        match p {
            Principal::Known { member, .. } => account
                .email
                .as_deref()
                .is_some_and(|e| member.strip_prefix("serviceAccount:") == Some(e)),
            Principal::Unknown => account
                .address
                .as_ref()
                .is_some_and(|addr| self.planned_members[iam_index].contains(addr)),
        }
    }

    /// The node of an account known on this side, by lower-cased email.
    pub fn account_node_by_email(&self, email: &str) -> Option<NodeIndex> {
        self.accounts_by_email
            .get(email)
            .map(|&i| self.account_nodes[i])
    }

    /// The node of a service account created in this plan, by address.
    pub fn account_node_by_address(&self, address: &Address) -> Option<NodeIndex> {
        self.accounts_by_address
            .get(address)
            .map(|&i| self.account_nodes[i])
    }

    pub fn account_index(&self, node: NodeIndex) -> Option<usize> {
        match self.graph[node] {
            NodeKind::Account(i) => Some(i),
            _ => None,
        }
    }

    /// Resolves each workload's runtime identity and adds `RunsAs` edges.
    fn link_identities(&mut self, index: &Indexes, ctx: &Context) {
        for (i, w) in self.inventory.workloads.iter().enumerate() {
            let identity = self.identity_of(w, index, ctx);
            let target = match &identity {
                Identity::Account { email } => Some(self.account(Some(email.clone()), None)),
                Identity::PlannedAccount { address } => {
                    Some(self.account(None, Some(address.clone())))
                }
                Identity::ImplicitDefault => self
                    .default_account_of(&self.project_of(&w.address, &w.project, ctx))
                    .map(|email| self.account(Some(email), None)),
                Identity::Unknown { reason } => {
                    let reason = format!("runtime service account: {reason}");
                    self.unresolve(&w.address, reason);
                    None
                }
            };
            if let Some(t) = target {
                self.graph
                    .add_edge(self.workload_nodes[i], t, EdgeKind::RunsAs);
            }
            self.identities.push(identity);
        }
    }

    /// The default compute account of a workload's project, when the plan names exactly one
    /// (from the project number of a `google_project` or the email of
    /// `data "google_compute_default_service_account"`).
    fn default_account_of(&self, project: &Tri<String>) -> Option<String> {
        let Tri::Known(project) = project else {
            return None;
        };
        let mut emails =
            self.inventory
                .default_accounts
                .iter()
                .filter_map(|d| match (&d.project, &d.email) {
                    (Tri::Known(p), Tri::Known(e)) if p == project => Some(e.as_str()),
                    _ => None,
                });
        let first = emails.next()?;
        emails.all(|e| e == first).then(|| first.to_owned())
    }

    fn identity_of(&self, w: &Workload, index: &Indexes, ctx: &Context) -> Identity {
        match &w.service_account {
            Tri::Known(email) => Identity::Account {
                email: email.to_lowercase(),
            },
            Tri::Absent => Identity::ImplicitDefault,
            Tri::Unknown => self.unknown_identity(w, index, ctx),
        }
    }

    /// `service_account` is unknown at plan time. It is optional and computed: left null, it is
    /// unknown on create and Cloud Run picks the default account. `configuration` keeps the
    /// expression's references but not its operators, so the answer is reasoned from them:
    ///
    /// - not configured at all: the implicit default (on create);
    /// - a plain reference to one service account: that account;
    /// - a mix (`var.x ? null : google_service_account.a.email`) whose inputs are all known at
    ///   plan time: the value would be known if it were one of them, so it is null, the
    ///   implicit default (on create);
    /// - anything else: unknown, with the reason. It is never guessed.
    fn unknown_identity(&self, w: &Workload, index: &Indexes, ctx: &Context) -> Identity {
        let o = ctx.origins(&w.address, w.service_account_path, &index.accounts);
        if unknown_value(w.creating, o.configured) == UnknownValue::ApiDefault {
            return Identity::ImplicitDefault;
        }
        if !o.configured {
            return Identity::Unknown {
                reason: o.opaque.into_iter().next().unwrap_or_default(),
            };
        }
        if let Some(reason) = o.opaque.into_iter().next() {
            return Identity::Unknown { reason };
        }
        let accounts: Vec<&crate::inventory::ServiceAccount> = o
            .instances
            .iter()
            .map(|&i| &self.inventory.service_accounts[i])
            .collect();
        match (accounts.as_slice(), o.constants.is_empty()) {
            ([account], true) => match &account.email {
                Tri::Known(email) => Identity::Account {
                    email: email.clone(),
                },
                _ => Identity::PlannedAccount {
                    address: account.address.clone(),
                },
            },
            // An empty set of accounts proves nothing: it is not "all known".
            _ if w.creating && !accounts.is_empty() && accounts.iter().all(|a| a.email_in_plan) => {
                Identity::ImplicitDefault
            }
            ([], _) => Identity::Unknown {
                reason: "it is computed from values that are known, yet it is unknown".into(),
            },
            _ => Identity::Unknown {
                reason: "it depends on a condition over service accounts whose emails are not \
                         known at plan time"
                    .into(),
            },
        }
    }

    fn link_iam(&mut self, index: &Indexes, ctx: &Context) {
        for i in 0..self.inventory.iam.len() {
            let iam = &self.inventory.iam[i];
            let node = self.iam_nodes[i];
            match &iam.target {
                IamTarget::Workload { .. } => match self.workload_target(i, index, ctx) {
                    WorkloadLink::One(target) => {
                        self.graph.add_edge(node, target, EdgeKind::GrantsOn);
                    }
                    WorkloadLink::Candidates(candidates) => {
                        for target in candidates {
                            self.graph.add_edge(node, target, EdgeKind::MayGrantOn);
                        }
                    }
                    WorkloadLink::Set(set) => {
                        let target = self.candidate_set(set);
                        self.graph.add_edge(node, target, EdgeKind::MayGrantOn);
                    }
                },
                IamTarget::Account { email } => {
                    let target = match email {
                        Tri::Known(e) => {
                            let address = iam.address.clone();
                            self.account_by_reference(&address, &e.clone())
                        }
                        _ => self.planned_account_target(&iam.address, index, ctx),
                    };
                    if let Some(t) = target {
                        self.graph.add_edge(node, t, EdgeKind::GrantsOn);
                    }
                }
                IamTarget::Scope(scope) => {
                    let project = match scope {
                        Scope::Project(p) => self.project_of(&iam.address, p, ctx).known(),
                        // Which folder or organization holds a project is outside the plan.
                        Scope::Folder(_) | Scope::Organization(_) => None,
                    };
                    let p = self.project(project);
                    self.graph.add_edge(node, p, EdgeKind::Covers);
                    self.link_holders(i);
                }
            }
        }
    }

    fn project(&mut self, id: Option<String>) -> NodeIndex {
        if let Some(n) = self.projects.get(&id) {
            return *n;
        }
        let n = self.graph.add_node(NodeKind::Project(id.clone()));
        self.projects.insert(id, n);
        n
    }

    /// Each workload, in the plan or outside it, is `InProject` of its own project's node, and
    /// (as an assumption) of the node of grants whose project cannot be pinned; a workload whose
    /// project is unknown is assumed to be in every project.
    fn link_projects(&mut self) {
        let unpinned = self.projects.get(&None).copied();
        let mut pinned: Vec<(&Option<String>, &NodeIndex)> =
            self.projects.iter().filter(|(k, _)| k.is_some()).collect();
        pinned.sort();
        let pinned: Vec<(Option<String>, NodeIndex)> =
            pinned.into_iter().map(|(k, n)| (k.clone(), *n)).collect();
        // Workloads outside the plan are reached by grants on their project like any other.
        let members: Vec<(NodeIndex, Option<String>)> = (0..self.inventory.workloads.len())
            .map(|i| {
                (
                    self.workload_nodes[i],
                    self.workload_projects[i].clone().known(),
                )
            })
            .chain(
                self.externals
                    .iter()
                    .zip(&self.external_nodes)
                    .map(|(e, n)| (*n, e.project.clone())),
            )
            .collect();
        for (node, project) in members {
            match project {
                Some(p) => {
                    if let Some(n) = self.projects.get(&Some(p)) {
                        self.graph
                            .add_edge(node, *n, EdgeKind::InProject { assumed: false });
                    }
                }
                None => {
                    for (_, n) in &pinned {
                        self.graph
                            .add_edge(node, *n, EdgeKind::InProject { assumed: true });
                    }
                }
            }
            if let Some(n) = unpinned {
                self.graph
                    .add_edge(node, n, EdgeKind::InProject { assumed: true });
            }
        }
    }

    /// The capabilities that posture asks project-level grants about.
    const SCOPE_CAPS: [Caps; 5] = [
        Caps::INVOKE,
        Caps::RUN_JOB,
        Caps::MODIFY,
        Caps::CONTROL_ACCOUNT,
        Caps::IAM_ADMIN,
    ];

    fn index_scope_grants(&mut self) {
        let projects: Vec<NodeIndex> = self.projects.values().copied().collect();
        for project in projects {
            let covering = self.incoming(project, |e| e == EdgeKind::Covers);
            for caps in Self::SCOPE_CAPS {
                let relevant: Vec<usize> =
                    covering
                        .iter()
                        .filter_map(|(n, _)| self.iam_index(*n))
                        .filter(|&i| {
                            self.grants[i].bindings.iter().flatten().any(
                                |b| matches!(&b.role.caps, Tri::Known(c) if c.intersects(caps)),
                            )
                        })
                        .collect();
                self.scope_grants.insert((project, caps), relevant);
            }
        }
    }

    /// The project-level (or higher) grants on a project node whose roles carry one of `caps`
    /// (one of [`Self::SCOPE_CAPS`]).
    pub fn scope_grants(&self, project: NodeIndex, caps: Caps) -> &[usize] {
        self.scope_grants
            .get(&(project, caps))
            .map_or(&[], Vec::as_slice)
    }

    /// The project nodes whose grants apply to accounts of a project (`None`: unknown project).
    pub fn project_nodes_for(&self, project: Option<&str>) -> Vec<NodeIndex> {
        let mut out: Vec<NodeIndex> = match project {
            Some(p) => self
                .projects
                .get(&Some(p.to_owned()))
                .into_iter()
                .copied()
                .collect(),
            None => self
                .projects
                .iter()
                .filter(|(k, _)| k.is_some())
                .map(|(_, n)| *n)
                .collect(),
        };
        out.extend(self.projects.get(&None));
        out.sort_by_key(|n| n.index());
        out
    }

    /// The planned accounts (email unknown) that an unknown `member`/`members` refers to.
    fn planned_members_of(
        &self,
        iam_index: usize,
        grant: &ResolvedGrant,
        index: &Indexes,
        ctx: &Context,
    ) -> Vec<Address> {
        let attribute = match grant.authority {
            Authority::Member => "member",
            Authority::Binding => "members",
            Authority::Policy => return Vec::new(),
        };
        let unknown = grant
            .bindings
            .iter()
            .flatten()
            .any(|b| b.principals.contains(&Principal::Unknown));
        if !unknown {
            return Vec::new();
        }
        let iam = &self.inventory.iam[iam_index];
        match ctx.follow(&iam.address, &[attribute], &index.accounts) {
            Followed::Instances(found) => found
                .iter()
                .map(|&a| &self.inventory.service_accounts[a])
                .filter(|a| a.email.is_unknown())
                .map(|a| a.address.clone())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `HeldBy` edges from a scope grant to the service accounts among its members.
    fn link_holders(&mut self, iam_index: usize) {
        let node = self.iam_nodes[iam_index];
        let members: Vec<String> = self.grants[iam_index]
            .bindings
            .iter()
            .flatten()
            .flat_map(|b| &b.principals)
            .filter_map(|p| match p {
                Principal::Known { member, .. } => {
                    member.strip_prefix("serviceAccount:").map(str::to_owned)
                }
                Principal::Unknown => None,
            })
            .collect();
        let planned = self.planned_members[iam_index].clone();
        let mut accounts: Vec<NodeIndex> = members
            .into_iter()
            .map(|email| self.account(Some(email), None))
            .collect();
        for a in planned {
            accounts.push(self.account(None, Some(a)));
        }
        for account in accounts {
            if !self.graph.contains_edge(node, account) {
                self.graph.add_edge(node, account, EdgeKind::HeldBy);
            }
        }
    }

    /// `service_account_id` unknown at plan time: it names a service account created in this
    /// plan (`google_service_account.x.name`).
    fn planned_account_target(
        &mut self,
        from: &Address,
        index: &Indexes,
        ctx: &Context,
    ) -> Option<NodeIndex> {
        match ctx.follow(from, &["service_account_id"], &index.accounts) {
            Followed::Instances(found) if found.len() == 1 => {
                let account = &self.inventory.service_accounts[found[0]];
                Some(self.account(account.email.clone().known(), Some(account.address.clone())))
            }
            Followed::Constant {
                sensitive: true, ..
            } => {
                self.unresolve(
                    from,
                    "service_account_id comes from a sensitive value".into(),
                );
                None
            }
            Followed::Constant {
                value: serde_json::Value::String(s),
                ..
            } => self.account_by_reference(from, &s),
            Followed::Opaque(reason) => {
                self.unresolve(
                    from,
                    format!("service_account_id unknown at plan time: {reason}"),
                );
                None
            }
            _ => {
                self.unresolve(
                    from,
                    "service_account_id refers to more than one service account".into(),
                );
                None
            }
        }
    }

    /// Finds the workload an IAM resource is attached to: by name components, then by
    /// configuration reference. A known name that matches nothing in the plan is an external
    /// workload. When neither ties the resource to exactly one workload, every workload it may
    /// mean is a candidate (the reason is listed as unresolved): an unknown is never dropped.
    fn workload_target(
        &mut self,
        iam_index: usize,
        index: &Indexes,
        ctx: &Context,
    ) -> WorkloadLink {
        let iam = &self.inventory.iam[iam_index];
        let IamTarget::Workload {
            kind,
            project,
            location,
            name,
            attribute,
            ..
        } = &iam.target
        else {
            return WorkloadLink::Candidates(Vec::new());
        };
        let (kind, attribute) = (*kind, *attribute);
        let address = iam.address.clone();
        let project = self.project_of(&address, project, ctx);
        // The provider fills an unset IAM `location` from the resource's `region` or `zone`,
        // then from the provider's *zone*, never its region (tpgresource.GetLocation, called by
        // the Cloud Run IAM updaters). A zone is no Cloud Run location, so an unset location
        // proves nothing: every location stays a candidate.
        let location = match location {
            Tri::Known(l) => Tri::Known(l.clone()),
            _ => Tri::Unknown,
        };
        let name = name.clone();
        // Whether a workload can be the target, and whether every name component proves it.
        let fits = |g: &Self, w: usize| -> Option<bool> {
            let wl = &g.inventory.workloads[w];
            let components = [
                component_matches(&g.workload_projects[w], &project),
                component_matches(&wl.location, &location),
                // Cloud Run service IAM names a function by its backing service.
                component_matches(wl.name_for(kind).unwrap_or(&wl.name), &name),
            ];
            if components.contains(&Some(false)) {
                None
            } else {
                Some(components.iter().all(|c| *c == Some(true)))
            }
        };
        // A workload whose own name is unknown at plan time may be the one a known name means.
        let possible: Vec<usize> = match &name {
            Tri::Known(n) => index
                .workloads_by_name
                .get(&(kind, n.as_str()))
                .into_iter()
                .chain(index.workloads_unnamed.get(&kind))
                .flatten()
                .copied()
                .filter(|&w| fits(self, w).is_some())
                .collect(),
            _ => Vec::new(),
        };
        // A fully known name names one object, whatever else shares its short name.
        let proven: Vec<usize> = possible
            .iter()
            .copied()
            .filter(|&w| fits(self, w) == Some(true))
            .collect();
        if let [w] = proven[..] {
            return WorkloadLink::One(self.workload_nodes[w]);
        }
        // The configuration reference says which workload the author meant.
        let followed = ctx.follow(&address, &[attribute], index.workloads_of(kind));
        let opaque = match followed {
            Followed::Instances(found) => {
                let found: Vec<usize> = found
                    .into_iter()
                    .filter(|&w| fits(self, w).is_some())
                    .collect();
                // The reference proves the name; the location only when it is known or also
                // refers to that workload (the provider never fills it from the workload).
                let location_proven = |w: usize| {
                    matches!(location, Tri::Known(_))
                        || matches!(
                            ctx.follow(&address, &["location"], index.workloads_of(kind)),
                            Followed::Instances(at) if at == [w]
                        )
                };
                if let [w] = found[..]
                    && location_proven(w)
                {
                    return WorkloadLink::One(self.workload_nodes[w]);
                }
                if found.len() > 1 {
                    let list: Vec<String> = found
                        .iter()
                        .map(|&w| format!("`{}`", self.inventory.workloads[w].address))
                        .collect();
                    self.unresolve(
                        &address,
                        format!("{attribute} could mean any of {}", list.join(", ")),
                    );
                    return WorkloadLink::Candidates(
                        found.into_iter().map(|w| self.workload_nodes[w]).collect(),
                    );
                }
                None
            }
            Followed::Opaque(reason) => Some(reason),
            Followed::Constant { .. } => None,
        };
        let reason = match (&name, possible.len()) {
            (Tri::Known(n), 0) => {
                let part = |t: &Tri<String>| t.clone().known().unwrap_or_else(|| "?".into());
                let external = ExternalWorkload {
                    id: format!(
                        "projects/{}/locations/{}/{}/{n}",
                        part(&project),
                        part(&location),
                        kind.collection()
                    ),
                    kind,
                    project: project.clone().known(),
                };
                return WorkloadLink::One(self.external(external));
            }
            (Tri::Known(n), 1) if self.inventory.workloads[possible[0]].name.is_unknown() => {
                format!(
                    "{attribute} `{n}` may name `{}`, whose name is not known at plan time",
                    self.inventory.workloads[possible[0]].address
                )
            }
            (Tri::Known(n), 1) => format!(
                "{attribute} `{n}` may name `{}`, but its project or location is not known at \
                 plan time",
                self.inventory.workloads[possible[0]].address
            ),
            (Tri::Known(n), _) => format!("{attribute} `{n}` matches more than one workload"),
            _ => format!(
                "target workload unknown at plan time: {}",
                opaque.unwrap_or_else(|| "no matching workload".into())
            ),
        };
        self.unresolve(&address, reason);
        WorkloadLink::Set(CandidateSet {
            kind,
            name: name.known(),
            project: project.known(),
            location: location.known(),
        })
    }

    /// The node of a candidate set, created on first use.
    fn candidate_set(&mut self, set: CandidateSet) -> NodeIndex {
        if let Some(&n) = self.candidate_sets.get(&set) {
            return n;
        }
        let n = self.graph.add_node(NodeKind::Candidates(set.clone()));
        self.candidate_sets.insert(set, n);
        n
    }

    /// `Candidate` edges from each workload to the sets it fits. A workload whose components
    /// are all known fits at most eight sets, found by look-up.
    fn link_candidate_sets(&mut self) {
        if self.candidate_sets.is_empty() {
            return;
        }
        for i in 0..self.inventory.workloads.len() {
            let w = &self.inventory.workloads[i];
            let mut sets: Vec<NodeIndex> = Vec::new();
            for (kind, name) in w.iam_names() {
                sets.extend(self.sets_fitting(i, kind, name));
            }
            let node = self.workload_nodes[i];
            for set in sets {
                self.graph.add_edge(node, set, EdgeKind::Candidate);
            }
        }
        self.link_sets_outside_the_plan();
    }

    /// A set that no workload of the plan fits still names some workload: one outside the plan,
    /// with `?` for what is unknown. Its grants stay possible there, never dropped.
    fn link_sets_outside_the_plan(&mut self) {
        let mut empty: Vec<(CandidateSet, NodeIndex)> = self
            .candidate_sets
            .iter()
            .filter(|(_, n)| self.incoming(**n, |e| e == EdgeKind::Candidate).is_empty())
            .map(|(set, &n)| (set.clone(), n))
            .collect();
        empty.sort_by_key(|(_, n)| n.index());
        for (set, node) in empty {
            let part = |c: &Option<String>| c.clone().unwrap_or_else(|| "?".into());
            let external = self.external(ExternalWorkload {
                id: format!(
                    "projects/{}/locations/{}/{}/{}",
                    part(&set.project),
                    part(&set.location),
                    set.kind.collection(),
                    part(&set.name)
                ),
                kind: set.kind,
                project: set.project.clone(),
            });
            self.graph.add_edge(external, node, EdgeKind::Candidate);
        }
    }

    /// Workload `i`'s project, filled from its provider configuration when left unset.
    pub fn workload_project(&self, i: usize) -> &Tri<String> {
        &self.workload_projects[i]
    }

    /// The candidate sets of `kind` that workload `i`, named `name` for that kind, fits.
    fn sets_fitting(&self, i: usize, kind: WorkloadKind, name: &Tri<String>) -> Vec<NodeIndex> {
        let w = &self.inventory.workloads[i];
        let components = (
            name.clone().known(),
            self.workload_projects[i].clone().known(),
            w.location.clone().known(),
        );
        match components {
            (Some(name), Some(project), Some(location)) => {
                let mut found = Vec::new();
                for name in [None, Some(&name)] {
                    for project in [None, Some(&project)] {
                        for location in [None, Some(&location)] {
                            let key = CandidateSet {
                                kind,
                                name: name.cloned(),
                                project: project.cloned(),
                                location: location.cloned(),
                            };
                            found.extend(self.candidate_sets.get(&key));
                        }
                    }
                }
                found
            }
            (name, project, location) => {
                let fits = |want: &Option<String>, have: &Option<String>| match (want, have) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                };
                self.candidate_sets
                    .iter()
                    .filter(|(set, _)| {
                        set.kind == kind
                            && fits(&set.name, &name)
                            && fits(&set.project, &project)
                            && fits(&set.location, &location)
                    })
                    .map(|(_, n)| *n)
                    .collect()
            }
        }
    }

    /// A resource's project, filled from its provider configuration when left unset.
    fn project_of(&self, address: &Address, project: &Tri<String>, ctx: &Context) -> Tri<String> {
        ctx.scope(
            address,
            project,
            "project",
            "project",
            &self.provider_projects,
        )
    }

    fn external(&mut self, external: ExternalWorkload) -> NodeIndex {
        if let Some(&i) = self.externals_by_id.get(&external) {
            return self.external_nodes[i];
        }
        let n = self
            .graph
            .add_node(NodeKind::External(self.externals.len()));
        self.externals_by_id
            .insert(external.clone(), self.externals.len());
        self.externals.push(external);
        self.external_nodes.push(n);
        n
    }

    fn link_keys(&mut self, index: &Indexes, ctx: &Context) {
        for (i, key) in self.inventory.keys.iter().enumerate() {
            let n = self.graph.add_node(NodeKind::Key(i));
            let account = match &key.email {
                Tri::Known(email) => self.account_by_reference(&key.address, email),
                // Usually `google_service_account.x.name`, unknown on create.
                _ => self.planned_account_target(&key.address, index, ctx),
            };
            if let Some(a) = account {
                self.graph.add_edge(n, a, EdgeKind::KeyFor);
            }
        }
    }

    /// Sources of incoming edges of a kind.
    pub fn incoming(
        &self,
        node: NodeIndex,
        want: impl Fn(EdgeKind) -> bool,
    ) -> Vec<(NodeIndex, EdgeKind)> {
        self.neighbours(node, Direction::Incoming, want)
    }

    /// Targets of outgoing edges of a kind.
    pub fn outgoing(
        &self,
        node: NodeIndex,
        want: impl Fn(EdgeKind) -> bool,
    ) -> Vec<(NodeIndex, EdgeKind)> {
        self.neighbours(node, Direction::Outgoing, want)
    }

    /// Nodes at the other end of a node's edges of a kind, in node order so that every walk
    /// over the graph is deterministic.
    fn neighbours(
        &self,
        node: NodeIndex,
        direction: Direction,
        want: impl Fn(EdgeKind) -> bool,
    ) -> Vec<(NodeIndex, EdgeKind)> {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(node, direction)
            .filter(|e| want(*e.weight()))
            .map(|e| {
                let other = if direction == Direction::Incoming {
                    e.source()
                } else {
                    e.target()
                };
                (other, *e.weight())
            })
            .collect();
        v.sort_by_key(|(n, _)| n.index());
        v
    }

    pub fn iam_index(&self, node: NodeIndex) -> Option<usize> {
        match self.graph[node] {
            NodeKind::Iam(i) => Some(i),
            _ => None,
        }
    }

    /// Whether a known runtime email is the Compute Engine default account.
    pub fn is_default_identity(identity: &Identity) -> Option<bool> {
        match identity {
            Identity::Account { email } => Some(is_default_compute_account(email)),
            Identity::PlannedAccount { .. } => Some(false),
            Identity::ImplicitDefault => Some(true),
            Identity::Unknown { .. } => None,
        }
    }

    /// Capabilities of a grant's bindings that matter for a workload kind.
    pub fn access_caps(kind: WorkloadKind) -> Caps {
        match kind {
            WorkloadKind::Service | WorkloadKind::Function => Caps::INVOKE,
            WorkloadKind::Job => Caps::RUN_JOB,
            WorkloadKind::WorkerPool => Caps::MODIFY,
        }
    }
}

#[cfg(test)]
mod tests;
