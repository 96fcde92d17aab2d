//! Project scopes: the project of each workload and account (filled from its provider
//! configuration when unset), the project nodes that project, folder and organization grants
//! sit on, and the per-capability index of those grants.

use petgraph::graph::NodeIndex;

use super::*;

/// The project of each provider configuration that workloads on this side reveal: a workload
/// that leaves `project` unset gets its provider's project at plan time, and IAM resources on
/// the same provider configuration (which have no such default at plan time) get the same one.
pub(super) fn learn_provider_projects(
    inventory: &SideInventory,
    ctx: &Context,
) -> HashMap<String, String> {
    let mut out = HashMap::default();
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

impl SideGraph<'_> {
    pub(super) fn project(&mut self, id: Option<String>) -> NodeIndex {
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
    pub(super) fn link_projects(&mut self) {
        let unpinned = self.projects.get(&None).copied();
        let mut pinned: Vec<(&Option<String>, &NodeIndex)> =
            self.projects.iter().filter(|(k, _)| k.is_some()).collect();
        pinned.sort();
        let pinned: Vec<(Option<String>, NodeIndex)> =
            pinned.into_iter().map(|(k, n)| (k.clone(), *n)).collect();
        // Workloads outside the plan are reached by grants on their project like any other.
        let members: Vec<(NodeIndex, Option<String>)> = self
            .workload_nodes
            .iter()
            .zip(self.workload_projects.iter())
            .map(|(n, project)| (*n, project.clone().known()))
            .chain(
                self.externals
                    .iter()
                    .zip(self.external_nodes.iter())
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
    const SCOPE_CAPS: [Caps; 6] = [
        Caps::INVOKE,
        Caps::RUN_JOB,
        Caps::MODIFY,
        Caps::CONTROL_ACCOUNT,
        Caps::IAM_ADMIN,
        Caps::IAP_ACCESS,
    ];

    /// The capabilities a scope grant of a role unknown at plan time is indexed under.
    const UNKNOWN_ROLE_CAPS: Caps = Caps::CONTROL_ACCOUNT.union(Caps::IAM_ADMIN);

    pub(super) fn index_scope_grants(&mut self) {
        let projects: Vec<NodeIndex> = self.projects.values().copied().collect();
        for project in projects {
            let covering: Vec<_> = self.incoming(project, |e| e == EdgeKind::Covers).collect();
            for caps in Self::SCOPE_CAPS {
                let relevant: Vec<IamIndex> = covering
                    .iter()
                    .filter_map(|(n, _)| self.iam_index(*n))
                    .filter(|&i| {
                        self.grants[i].bindings.iter().flatten().any(|b| {
                            match &b.role.caps {
                                Tri::Known(c) => c.intersects(caps),
                                // A role unknown at plan time may be roles/owner: control
                                // of accounts and of IAM, asked about as possible. (As an
                                // invoker grant it is unresolved instead.)
                                _ => {
                                    b.role.name.is_none() && Self::UNKNOWN_ROLE_CAPS.contains(caps)
                                }
                            }
                        })
                    })
                    .collect();
                self.scope_grants.insert((project, caps), relevant);
            }
        }
    }

    /// The project-level (or higher) grants on a project node whose roles carry one of `caps`
    /// (one of [`Self::SCOPE_CAPS`]).
    pub fn scope_grants(&self, project: NodeIndex, caps: Caps) -> &[IamIndex] {
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

    /// Workload `i`'s project, filled from its provider configuration when left unset.
    pub fn workload_project(&self, i: WorkloadIndex) -> &Tri<String> {
        &self.workload_projects[i]
    }

    /// A resource's project, filled from its provider configuration when left unset.
    pub(super) fn project_of(
        &self,
        address: &Address,
        project: &Tri<String>,
        ctx: &Context,
    ) -> Tri<String> {
        ctx.scope(
            address,
            project,
            "project",
            "project",
            &self.provider_projects,
        )
    }
}
