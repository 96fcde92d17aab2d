//! One graph per side: workloads, the IAM resources that grant on them, the service accounts
//! they run as, keys, and load-balancer chains, joined by typed edges.
//!
//! Every link is made by parsed value first and through `configuration` references second
//! ([`link`]). A link that cannot be made becomes an [`Unresolved`] entry with its reason; it
//! is never dropped silently.

pub mod grants;
pub mod link;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use crate::iam::Caps;
use crate::iam::member::is_default_compute_account;
use crate::inventory::{IamTarget, LbKind, Scope, Side, SideInventory, Workload, WorkloadKind};
use crate::plan::{Address, Tri};

pub use grants::{Authority, Principal, ResolvedGrant, RoleRef};
pub use link::Context;
use link::{Followed, component_matches};

/// A workload that IAM in the plan grants on, but that the plan does not manage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ExternalWorkload {
    /// `projects/P/locations/L/services/N`, with `?` for a component unknown at plan time.
    pub id: String,
    pub kind: WorkloadKind,
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

#[derive(Debug, Clone)]
pub enum NodeKind {
    Workload(usize),
    External(usize),
    Iam(usize),
    Account(usize),
    Key(usize),
    Lb(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// IAM resource → the workload or account it is attached to.
    GrantsOn,
    /// Project/folder/organization IAM resource → a workload in its scope. `assumed` when the
    /// scope match could not be proven from the plan.
    Covers { assumed: bool },
    /// Project/folder/organization IAM resource → a service account among its members.
    HeldBy,
    /// Workload → the account it runs as.
    RunsAs,
    /// Key → its account.
    KeyFor,
    /// Load-balancer piece → the next piece or the workload it sends traffic to.
    Fronts,
}

/// Something the analysis could not link or know, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unresolved {
    pub address: String,
    pub reason: String,
}

/// A service account known on this side, by email or (when its email is unknown) by address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountNode {
    pub email: Option<String>,
    pub address: Option<Address>,
}

impl AccountNode {
    /// The project an account belongs to, from its email.
    pub fn project(&self) -> Option<&str> {
        let domain = self.email.as_deref()?.split_once('@')?.1;
        domain.strip_suffix(".iam.gserviceaccount.com")
    }
}

pub struct SideGraph<'i> {
    pub side: Side,
    pub inventory: &'i SideInventory,
    pub graph: DiGraph<NodeKind, EdgeKind>,
    pub workload_nodes: Vec<NodeIndex>,
    pub externals: Vec<ExternalWorkload>,
    pub external_nodes: Vec<NodeIndex>,
    pub iam_nodes: Vec<NodeIndex>,
    pub grants: Vec<ResolvedGrant>,
    pub accounts: Vec<AccountNode>,
    pub account_nodes: Vec<NodeIndex>,
    pub identities: Vec<Identity>,
    pub lb_nodes: Vec<NodeIndex>,
    pub unresolved: Vec<Unresolved>,
    /// The provider's default project, used where a resource leaves `project` unset.
    pub default_project: Option<String>,
}

impl<'i> SideGraph<'i> {
    pub fn build(side: Side, inventory: &'i SideInventory, ctx: &Context) -> SideGraph<'i> {
        let mut g = SideGraph {
            side,
            inventory,
            graph: DiGraph::new(),
            workload_nodes: Vec::new(),
            externals: Vec::new(),
            external_nodes: Vec::new(),
            iam_nodes: Vec::new(),
            grants: Vec::new(),
            accounts: Vec::new(),
            account_nodes: Vec::new(),
            identities: Vec::new(),
            lb_nodes: Vec::new(),
            unresolved: Vec::new(),
            default_project: ctx.configuration.provider_project.clone(),
        };
        for i in 0..inventory.workloads.len() {
            let n = g.graph.add_node(NodeKind::Workload(i));
            g.workload_nodes.push(n);
        }
        for a in &inventory.service_accounts {
            g.account(a.email.clone().known(), Some(a.address.clone()));
        }
        for i in 0..inventory.iam.len() {
            let n = g.graph.add_node(NodeKind::Iam(i));
            g.iam_nodes.push(n);
            let grant = grants::resolve(&inventory.iam[i], inventory, ctx);
            for reason in &grant.unresolved {
                g.unresolve(&inventory.iam[i].address, reason.clone());
            }
            g.grants.push(grant);
        }
        g.link_identities(ctx);
        g.link_iam(ctx);
        g.link_keys(ctx);
        g.link_load_balancers(ctx);
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
        let found = self.accounts.iter().position(|a| {
            (email.is_some() && a.email == email)
                || (email.is_none() && address.is_some() && a.address == address)
        });
        match found {
            Some(i) => {
                if self.accounts[i].address.is_none() {
                    self.accounts[i].address = address;
                }
                self.account_nodes[i]
            }
            None => {
                let n = self.graph.add_node(NodeKind::Account(self.accounts.len()));
                self.accounts.push(AccountNode { email, address });
                self.account_nodes.push(n);
                n
            }
        }
    }

    pub fn account_index(&self, node: NodeIndex) -> Option<usize> {
        match self.graph[node] {
            NodeKind::Account(i) => Some(i),
            _ => None,
        }
    }

    /// Resolves each workload's runtime identity and adds `RunsAs` edges.
    fn link_identities(&mut self, ctx: &Context) {
        for (i, w) in self.inventory.workloads.iter().enumerate() {
            let identity = self.identity_of(w, ctx);
            let target = match &identity {
                Identity::Account { email } => Some(self.account(Some(email.clone()), None)),
                Identity::PlannedAccount { address } => {
                    Some(self.account(None, Some(address.clone())))
                }
                Identity::ImplicitDefault => None,
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

    fn identity_of(&self, w: &Workload, ctx: &Context) -> Identity {
        match &w.service_account {
            Tri::Known(email) => Identity::Account {
                email: email.to_lowercase(),
            },
            Tri::Absent => Identity::ImplicitDefault,
            Tri::Unknown => {
                let candidates: Vec<&Address> = self
                    .inventory
                    .service_accounts
                    .iter()
                    .map(|a| &a.address)
                    .collect();
                match ctx.follow(&w.address, w.service_account_path, &candidates) {
                    Followed::Instances(found) if found.len() == 1 => {
                        let account = self
                            .inventory
                            .service_accounts
                            .iter()
                            .find(|a| &a.address == found[0])
                            .expect("candidate came from this list");
                        match &account.email {
                            Tri::Known(email) => Identity::Account {
                                email: email.clone(),
                            },
                            _ => Identity::PlannedAccount {
                                address: account.address.clone(),
                            },
                        }
                    }
                    Followed::Constant(serde_json::Value::String(email)) => Identity::Account {
                        email: email.to_lowercase(),
                    },
                    // Not in the configuration: unset, so Cloud Run picks the default account.
                    Followed::Opaque(_) if w.creating && !self.configured(w, ctx) => {
                        Identity::ImplicitDefault
                    }
                    Followed::Opaque(reason) => Identity::Unknown { reason },
                    _ => Identity::Unknown {
                        reason: "it refers to more than one service account".into(),
                    },
                }
            }
        }
    }

    /// The workload's configuration sets its service account.
    fn configured(&self, w: &Workload, ctx: &Context) -> bool {
        !ctx.configuration
            .expressions(
                &w.address.config_module(),
                &w.address.config_resource(),
                w.service_account_path,
            )
            .is_empty()
    }

    fn link_iam(&mut self, ctx: &Context) {
        for i in 0..self.inventory.iam.len() {
            let iam = &self.inventory.iam[i];
            let node = self.iam_nodes[i];
            match &iam.target {
                IamTarget::Workload { .. } => {
                    if let Some(target) = self.workload_target(i, ctx) {
                        self.graph.add_edge(node, target, EdgeKind::GrantsOn);
                    }
                }
                IamTarget::Account { email } => {
                    let target = match email {
                        Tri::Known(e) => Some(self.account(Some(e.clone()), None)),
                        _ => self.planned_account_target(&iam.address, ctx),
                    };
                    if let Some(t) = target {
                        self.graph.add_edge(node, t, EdgeKind::GrantsOn);
                    }
                }
                IamTarget::Scope(scope) => {
                    let scope = scope.clone();
                    self.link_scope(i, &scope);
                }
            }
        }
    }

    /// `service_account_id` unknown at plan time: it names a service account created in this
    /// plan (`google_service_account.x.name`).
    fn planned_account_target(&mut self, from: &Address, ctx: &Context) -> Option<NodeIndex> {
        let candidates: Vec<&Address> = self
            .inventory
            .service_accounts
            .iter()
            .map(|a| &a.address)
            .collect();
        match ctx.follow(from, &["service_account_id"], &candidates) {
            Followed::Instances(found) if found.len() == 1 => {
                let account = self
                    .inventory
                    .service_accounts
                    .iter()
                    .find(|a| &a.address == found[0])
                    .expect("candidate came from this list");
                Some(self.account(account.email.clone().known(), Some(account.address.clone())))
            }
            Followed::Constant(serde_json::Value::String(s)) => {
                Some(self.account(Some(crate::inventory::iam::account_email(&s)), None))
            }
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

    /// Finds the workload an IAM resource is attached to, by name components, then by
    /// configuration reference; a known name that matches nothing in the plan is an external
    /// workload.
    fn workload_target(&mut self, iam_index: usize, ctx: &Context) -> Option<NodeIndex> {
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
            return None;
        };
        let project = self.with_default_project(project);
        let same_kind: Vec<usize> = (0..self.inventory.workloads.len())
            .filter(|&w| self.inventory.workloads[w].kind == *kind)
            .collect();
        if let Tri::Known(n) = name {
            let matches: Vec<usize> = same_kind
                .iter()
                .copied()
                .filter(|&w| {
                    let wl = &self.inventory.workloads[w];
                    component_matches(&wl.name, &Tri::Known(n.clone())) == Some(true)
                        && component_matches(&self.with_default_project(&wl.project), &project)
                            != Some(false)
                        && component_matches(&wl.location, location) != Some(false)
                })
                .collect();
            if matches.len() == 1 {
                return Some(self.workload_nodes[matches[0]]);
            }
            if matches.len() > 1 {
                self.unresolve(
                    &iam.address,
                    format!("{attribute} `{n}` matches more than one workload"),
                );
                return None;
            }
        }
        let candidates: Vec<&Address> = same_kind
            .iter()
            .map(|&w| &self.inventory.workloads[w].address)
            .collect();
        let followed = ctx.follow(&iam.address, &[attribute], &candidates);
        match followed {
            Followed::Instances(found) if found.len() == 1 => {
                let w = same_kind
                    .iter()
                    .copied()
                    .find(|&w| &self.inventory.workloads[w].address == found[0])
                    .expect("candidate came from this list");
                return Some(self.workload_nodes[w]);
            }
            Followed::Instances(found) => {
                let list: Vec<String> = found.iter().map(|a| format!("`{a}`")).collect();
                self.unresolve(
                    &iam.address,
                    format!("{attribute} could mean any of {}", list.join(", ")),
                );
                return None;
            }
            _ => {}
        }
        match name {
            Tri::Known(n) => {
                let part = |t: &Tri<String>| t.clone().known().unwrap_or_else(|| "?".into());
                let external = ExternalWorkload {
                    id: format!(
                        "projects/{}/locations/{}/{}/{n}",
                        part(&project),
                        part(location),
                        kind.collection()
                    ),
                    kind: *kind,
                };
                Some(self.external(external))
            }
            _ => {
                let reason = match followed {
                    Followed::Opaque(reason) => reason,
                    _ => "no matching workload".into(),
                };
                let address = iam.address.clone();
                self.unresolve(
                    &address,
                    format!("target workload unknown at plan time: {reason}"),
                );
                None
            }
        }
    }

    fn with_default_project(&self, project: &Tri<String>) -> Tri<String> {
        match (project, &self.default_project) {
            (Tri::Known(p), _) => Tri::Known(p.clone()),
            (_, Some(d)) => Tri::Known(d.clone()),
            (other, None) => other.clone(),
        }
    }

    fn external(&mut self, external: ExternalWorkload) -> NodeIndex {
        if let Some(i) = self.externals.iter().position(|e| *e == external) {
            return self.external_nodes[i];
        }
        let n = self
            .graph
            .add_node(NodeKind::External(self.externals.len()));
        self.externals.push(external);
        self.external_nodes.push(n);
        n
    }

    /// Project, folder and organization grants: `Covers` the workloads of their scope and is
    /// `HeldBy` the service accounts among their members.
    fn link_scope(&mut self, iam_index: usize, scope: &Scope) {
        let node = self.iam_nodes[iam_index];
        for w in 0..self.inventory.workloads.len() {
            let assumed = match scope {
                Scope::Project(p) => {
                    let wp = self.with_default_project(&self.inventory.workloads[w].project);
                    match component_matches(&wp, &self.with_default_project(p)) {
                        Some(true) => false,
                        Some(false) => continue,
                        None => true,
                    }
                }
                // Which folder or organization a project sits in is outside the plan.
                Scope::Folder(_) | Scope::Organization(_) => true,
            };
            self.graph
                .add_edge(node, self.workload_nodes[w], EdgeKind::Covers { assumed });
        }
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
        for email in members {
            let account = self.account(Some(email), None);
            self.graph.add_edge(node, account, EdgeKind::HeldBy);
        }
    }

    fn link_keys(&mut self, ctx: &Context) {
        for (i, key) in self.inventory.keys.iter().enumerate() {
            let n = self.graph.add_node(NodeKind::Key(i));
            let account = match &key.email {
                Tri::Known(email) => Some(self.account(Some(email.clone()), None)),
                // Usually `google_service_account.x.name`, unknown on create.
                _ => self.planned_account_target(&key.address, ctx),
            };
            if let Some(a) = account {
                self.graph.add_edge(n, a, EdgeKind::KeyFor);
            }
        }
    }

    fn link_load_balancers(&mut self, ctx: &Context) {
        for i in 0..self.inventory.load_balancers.len() {
            let n = self.graph.add_node(NodeKind::Lb(i));
            self.lb_nodes.push(n);
        }
        for i in 0..self.inventory.load_balancers.len() {
            let lb = &self.inventory.load_balancers[i];
            let next_kind = match lb.kind {
                LbKind::ForwardingRule => Some(LbKind::Proxy),
                LbKind::Proxy => Some(LbKind::UrlMap),
                LbKind::UrlMap => Some(LbKind::Backend),
                LbKind::Backend => Some(LbKind::Neg),
                LbKind::Neg => None,
            };
            if let Some(next_kind) = next_kind {
                let candidates: Vec<usize> = (0..self.inventory.load_balancers.len())
                    .filter(|&j| self.inventory.load_balancers[j].kind == next_kind)
                    .collect();
                for link in &lb.links {
                    let targets: Vec<usize> = match &link.value {
                        Tri::Known(v) => candidates
                            .iter()
                            .copied()
                            .filter(|&j| {
                                let ids = &self.inventory.load_balancers[j].ids;
                                ids.iter().any(|id| {
                                    id == v
                                        || (!v.contains('/') && id.rsplit('/').next() == Some(v))
                                })
                            })
                            .collect(),
                        _ => {
                            let addrs: Vec<&Address> = candidates
                                .iter()
                                .map(|&j| &self.inventory.load_balancers[j].address)
                                .collect();
                            match ctx.follow(&lb.address, link.config_path, &addrs) {
                                Followed::Instances(found) => candidates
                                    .iter()
                                    .copied()
                                    .filter(|&j| {
                                        found.contains(&&self.inventory.load_balancers[j].address)
                                    })
                                    .collect(),
                                _ => Vec::new(),
                            }
                        }
                    };
                    for j in targets {
                        let (a, b) = (self.lb_nodes[i], self.lb_nodes[j]);
                        if !self.graph.contains_edge(a, b) {
                            self.graph.add_edge(a, b, EdgeKind::Fronts);
                        }
                    }
                }
            } else if let Some(target) = &lb.neg_target {
                for w in self.neg_services(i, target, ctx) {
                    let (a, b) = (self.lb_nodes[i], self.workload_nodes[w]);
                    self.graph.add_edge(a, b, EdgeKind::Fronts);
                }
            }
        }
    }

    fn neg_services(
        &self,
        lb_index: usize,
        target: &crate::inventory::load_balancer::NegTarget,
        ctx: &Context,
    ) -> Vec<usize> {
        let services: Vec<usize> = (0..self.inventory.workloads.len())
            .filter(|&w| self.inventory.workloads[w].kind == WorkloadKind::Service)
            .collect();
        match &target.service {
            Tri::Known(name) => services
                .into_iter()
                .filter(|&w| {
                    let wl = &self.inventory.workloads[w];
                    component_matches(&wl.name, &Tri::Known(name.clone())) == Some(true)
                        && component_matches(
                            &self.with_default_project(&wl.project),
                            &self.with_default_project(&target.project),
                        ) != Some(false)
                        && component_matches(&wl.location, &target.region) != Some(false)
                })
                .collect(),
            _ => {
                let lb = &self.inventory.load_balancers[lb_index];
                let addrs: Vec<&Address> = services
                    .iter()
                    .map(|&w| &self.inventory.workloads[w].address)
                    .collect();
                match ctx.follow(&lb.address, &["cloud_run", "*", "service"], &addrs) {
                    Followed::Instances(found) => services
                        .into_iter()
                        .filter(|&w| found.contains(&&self.inventory.workloads[w].address))
                        .collect(),
                    _ => Vec::new(),
                }
            }
        }
    }

    /// Sources of incoming edges of a kind.
    pub fn incoming(
        &self,
        node: NodeIndex,
        want: impl Fn(EdgeKind) -> bool,
    ) -> Vec<(NodeIndex, EdgeKind)> {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(node, Direction::Incoming)
            .filter(|e| want(*e.weight()))
            .map(|e| (e.source(), *e.weight()))
            .collect();
        v.sort_by_key(|(n, _)| n.index());
        v
    }

    pub fn outgoing(&self, node: NodeIndex, want: impl Fn(EdgeKind) -> bool) -> Vec<NodeIndex> {
        let mut v: Vec<_> = self
            .graph
            .edges_directed(node, Direction::Outgoing)
            .filter(|e| want(*e.weight()))
            .map(|e| e.target())
            .collect();
        v.sort_by_key(|n| n.index());
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
            WorkloadKind::Service => Caps::INVOKE,
            WorkloadKind::Job => Caps::RUN_JOB,
            WorkloadKind::WorkerPool => Caps::MODIFY,
        }
    }
}
