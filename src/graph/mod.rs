//! One graph per side: workloads, the IAM resources that grant on them, the projects that
//! scope grants, the service accounts workloads run as, keys, and load-balancer chains, joined
//! by typed edges.
//!
//! Every link is made by parsed value first and through `configuration` references second
//! ([`link`]), using look-up tables built once ([`index`]) so that linking stays linear in the
//! size of the plan. A link that cannot be made becomes an [`Unresolved`] entry with its reason;
//! it is never dropped silently.

pub mod grants;
pub mod iap;
mod identity;
pub mod index;
pub mod link;
mod paths;
mod scopes;
pub mod table;
mod targets;

use foldhash::HashMap;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::iam::Caps;
use crate::iam::member::is_default_compute_account;
use crate::inventory::defaults::{UnknownValue, unknown_value};
use crate::inventory::iap_iam::IapIam;
use crate::inventory::{
    AccountKey, DomainMapping, IamResource, IamTarget, LbResource, Scope, SideInventory, Workload,
    WorkloadKind,
};
use crate::plan::{Address, Tri};

pub use grants::{Authority, Principal, ResolvedGrant, RoleRef};
use index::Indexes;
pub use link::Context;
use link::{Followed, component_matches};
pub use table::{
    AccountIndex, DomainIndex, ExternalIndex, IamIndex, IapIamIndex, KeyIndex, LbIndex, Table,
    TableIndex, WorkloadIndex,
};

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
    /// Cannot be known at plan time. `candidates`: the accounts of the plan that the
    /// configuration says it is one of (it may also be the default account); `None` when it
    /// may be any account.
    Unknown {
        reason: String,
        candidates: Option<Vec<Address>>,
    },
}

// The payloads of Workload, External, Project and Candidates nodes are read only through
// Debug: the graph reaches those nodes through its side tables instead.
#[allow(dead_code)]
#[derive(Debug, Clone)]
pub enum NodeKind {
    Workload(WorkloadIndex),
    External(ExternalIndex),
    Iam(IamIndex),
    /// A project that project-level grants are made on; `None` gathers the grants whose scope
    /// cannot be pinned to one project (unknown project id, folder, organization).
    Project(Option<String>),
    Account(AccountIndex),
    Key(KeyIndex),
    Lb(LbIndex),
    /// A Cloud Run domain mapping.
    Domain(DomainIndex),
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
    /// Project/folder/organization or resource (bucket, secret…) IAM resource → a service
    /// account among its members.
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
    pub workload_nodes: Table<WorkloadIndex, NodeIndex>,
    pub externals: Table<ExternalIndex, ExternalWorkload>,
    pub external_nodes: Table<ExternalIndex, NodeIndex>,
    pub iam_nodes: Table<IamIndex, NodeIndex>,
    /// Each IAM resource's address, formatted once: postures cite them for every principal.
    pub iam_addresses: Table<IamIndex, std::sync::Arc<str>>,
    pub grants: Table<IamIndex, ResolvedGrant>,
    /// Per IAM resource: the service accounts created in this plan, email not yet known, that
    /// its unknown member refers to (`google_service_account.x.member`). Such a member is that
    /// account, although its string is unknown.
    pub planned_members: Table<IamIndex, Vec<Address>>,
    pub accounts: Table<AccountIndex, AccountNode>,
    pub account_nodes: Table<AccountIndex, NodeIndex>,
    pub identities: Table<WorkloadIndex, Identity>,
    pub lb_nodes: Table<LbIndex, NodeIndex>,
    pub domain_nodes: Table<DomainIndex, NodeIndex>,
    pub unresolved: Vec<Unresolved>,
    /// Some load-balancer link of this side could not be resolved (listed in `unresolved`).
    pub lb_unresolved: bool,
    /// Who passes IAP: IAM on IAP web resources and the gates it governs.
    pub iap: iap::IapLinks,
    /// Each workload's project; an unset one filled from the provider configuration it uses.
    workload_projects: Table<WorkloadIndex, Tri<String>>,
    /// The project of provider configurations whose `project` the configuration does not fix,
    /// learned from workloads that leave `project` unset: the provider fills it at plan time.
    provider_projects: HashMap<String, String>,
    projects: HashMap<Option<String>, NodeIndex>,
    /// For each project node and capability, the scope grants with a binding whose role is
    /// known to carry it, in node order: built once, so a workload does not rescan every grant
    /// of its project.
    scope_grants: HashMap<(NodeIndex, Caps), Vec<IamIndex>>,
    accounts_by_email: HashMap<String, AccountIndex>,
    accounts_by_address: HashMap<Address, AccountIndex>,
    externals_by_id: HashMap<ExternalWorkload, ExternalIndex>,
    candidate_sets: HashMap<CandidateSet, NodeIndex>,
    /// Each node's edges by direction, frozen once the graph is built.
    incoming_edges: Adjacency,
    outgoing_edges: Adjacency,
}

/// Every node's edges in one direction, as `(node at the other end, kind)`, sorted by that
/// node's index so that every walk over the graph is deterministic: petgraph lists a node's
/// edges newest first, and some edges are added in hash-map order. Built once, when the graph
/// is complete, so that a query reads a slice instead of collecting and sorting on every call.
#[derive(Default)]
struct Adjacency {
    /// Where each node's edges start in `edges`; one more entry than there are nodes.
    starts: Vec<usize>,
    edges: Vec<(NodeIndex, EdgeKind)>,
}

impl Adjacency {
    fn of(graph: &DiGraph<NodeKind, EdgeKind>, direction: Direction) -> Adjacency {
        let mut starts = Vec::with_capacity(graph.node_count() + 1);
        let mut edges = Vec::with_capacity(graph.edge_count());
        for node in graph.node_indices() {
            let start = edges.len();
            starts.push(start);
            edges.extend(graph.edges_directed(node, direction).map(|e| {
                let other = match direction {
                    Direction::Incoming => e.source(),
                    Direction::Outgoing => e.target(),
                };
                (other, *e.weight())
            }));
            // Stable: edges between the same two nodes keep petgraph's order.
            edges[start..].sort_by_key(|(n, _): &(NodeIndex, EdgeKind)| n.index());
        }
        starts.push(edges.len());
        Adjacency { starts, edges }
    }

    fn of_node(&self, node: NodeIndex) -> &[(NodeIndex, EdgeKind)] {
        &self.edges[self.starts[node.index()]..self.starts[node.index() + 1]]
    }
}

impl<'i> SideGraph<'i> {
    pub fn build(inventory: &'i SideInventory, ctx: &Context) -> SideGraph<'i> {
        let index = Indexes::new(inventory);
        let mut g = SideGraph {
            inventory,
            graph: DiGraph::new(),
            workload_nodes: Table::new(),
            externals: Table::new(),
            external_nodes: Table::new(),
            iam_nodes: Table::new(),
            iam_addresses: inventory
                .iam
                .iter()
                .map(|i| i.address.to_string().into())
                .collect(),
            grants: Table::new(),
            planned_members: Table::new(),
            accounts: Table::new(),
            account_nodes: Table::new(),
            identities: Table::new(),
            lb_nodes: Table::new(),
            domain_nodes: Table::new(),
            unresolved: Vec::new(),
            lb_unresolved: false,
            iap: iap::IapLinks::default(),
            workload_projects: Table::new(),
            provider_projects: scopes::learn_provider_projects(inventory, ctx),
            projects: HashMap::default(),
            scope_grants: HashMap::default(),
            accounts_by_email: HashMap::default(),
            accounts_by_address: HashMap::default(),
            externals_by_id: HashMap::default(),
            candidate_sets: HashMap::default(),
            incoming_edges: Adjacency::default(),
            outgoing_edges: Adjacency::default(),
        };
        for (i, w) in g.workloads() {
            let n = g.graph.add_node(NodeKind::Workload(i));
            g.workload_nodes.push(n);
            let project = g.project_of(&w.address, &w.project, ctx);
            g.workload_projects.push(project);
            // `secret-access-missing` reports only a proven lack of access: a reference it
            // cannot name is said here rather than passed over in silence.
            if w.controls.secrets.iter().any(Tri::is_unknown) {
                g.unresolve(
                    &w.address,
                    "a Secret Manager reference is unknown at plan time: whether the runtime \
                     account can read that secret is not checked"
                        .into(),
                );
            }
        }
        for a in &inventory.service_accounts {
            let n = g.account(a.email.clone().known(), Some(a.address.clone()));
            let project = g.project_of(&a.address, &a.project, ctx).known();
            let i = g.account_index(n).expect("an account node");
            g.accounts[i].planned_project = project;
        }
        for (i, iam) in g.iam_resources() {
            let n = g.graph.add_node(NodeKind::Iam(i));
            g.iam_nodes.push(n);
            let grant = grants::resolve(iam, inventory, &index, ctx);
            for reason in &grant.unresolved {
                g.unresolve(&iam.address, reason.clone());
            }
            let planned = g.planned_members_of(i, &grant, &index, ctx);
            g.grants.push(grant);
            g.planned_members.push(planned);
        }
        g.link_identities(&index, ctx);
        g.link_iam(&index, ctx);
        g.link_candidate_sets();
        g.link_projects();
        g.link_keys(&index, ctx);
        g.link_load_balancers(&index, ctx);
        g.link_domain_mappings(&index, ctx);
        g.link_iap(&index, ctx);
        // Every edge is in: from here on the graph is only queried.
        g.incoming_edges = Adjacency::of(&g.graph, Direction::Incoming);
        g.outgoing_edges = Adjacency::of(&g.graph, Direction::Outgoing);
        g.index_scope_grants();
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

    /// Sources of incoming edges of a kind, in node order. Only once the graph is built.
    pub fn incoming(
        &self,
        node: NodeIndex,
        want: impl Fn(EdgeKind) -> bool,
    ) -> impl Iterator<Item = (NodeIndex, EdgeKind)> {
        Self::of_kind(self.incoming_edges.of_node(node), want)
    }

    /// Targets of outgoing edges of a kind, in node order. Only once the graph is built.
    pub fn outgoing(
        &self,
        node: NodeIndex,
        want: impl Fn(EdgeKind) -> bool,
    ) -> impl Iterator<Item = (NodeIndex, EdgeKind)> {
        Self::of_kind(self.outgoing_edges.of_node(node), want)
    }

    fn of_kind(
        edges: &[(NodeIndex, EdgeKind)],
        want: impl Fn(EdgeKind) -> bool,
    ) -> impl Iterator<Item = (NodeIndex, EdgeKind)> {
        edges.iter().copied().filter(move |(_, e)| want(*e))
    }

    pub fn iam_index(&self, node: NodeIndex) -> Option<IamIndex> {
        match self.graph[node] {
            NodeKind::Iam(i) => Some(i),
            _ => None,
        }
    }

    /// Each workload of the plan with its position.
    pub fn workloads(&self) -> impl Iterator<Item = (WorkloadIndex, &'i Workload)> + use<'i> {
        self.inventory
            .workloads
            .iter()
            .enumerate()
            .map(|(i, w)| (WorkloadIndex::from_position(i), w))
    }

    pub fn workload(&self, w: WorkloadIndex) -> &'i Workload {
        &self.inventory.workloads[w.position()]
    }

    /// Each IAM resource of the plan with its position.
    pub fn iam_resources(&self) -> impl Iterator<Item = (IamIndex, &'i IamResource)> + use<'i> {
        self.inventory
            .iam
            .iter()
            .enumerate()
            .map(|(i, r)| (IamIndex::from_position(i), r))
    }

    pub fn iam(&self, i: IamIndex) -> &'i IamResource {
        &self.inventory.iam[i.position()]
    }

    pub fn key(&self, k: KeyIndex) -> &'i AccountKey {
        &self.inventory.keys[k.position()]
    }

    pub fn load_balancer(&self, lb: LbIndex) -> &'i LbResource {
        &self.inventory.load_balancers[lb.position()]
    }

    pub fn domain_mapping(&self, d: DomainIndex) -> &'i DomainMapping {
        &self.inventory.domain_mappings[d.position()]
    }

    pub fn iap_iam(&self, i: IapIamIndex) -> &'i IapIam {
        &self.inventory.iap_iam[i.position()]
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
pub(crate) mod tests;
