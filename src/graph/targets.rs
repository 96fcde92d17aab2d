//! IAM targeting: which workload each workload IAM resource is attached to, by name components
//! then by `configuration` reference; workloads outside the plan; candidate sets when the plan
//! cannot tie a resource to exactly one workload.

use petgraph::graph::NodeIndex;

use super::*;

/// Where a workload IAM resource's grants land.
enum WorkloadLink {
    /// Exactly one workload, in the plan or outside it.
    One(NodeIndex),
    /// Any of these workloads: the plan cannot tell which.
    Candidates(Vec<NodeIndex>),
    /// Any workload that fits these known name components.
    Set(CandidateSet),
}

impl SideGraph<'_> {
    pub(super) fn link_iam(&mut self, index: &Indexes, ctx: &Context) {
        for (i, iam) in self.iam_resources() {
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
                // Grants on another resource matter only to the accounts they name.
                IamTarget::Resource(_) => self.link_holders(i),
            }
        }
    }

    /// Finds the workload an IAM resource is attached to: by name components, then by
    /// configuration reference. A known name that matches nothing in the plan is an external
    /// workload. When neither ties the resource to exactly one workload, every workload it may
    /// mean is a candidate (the reason is listed as unresolved): an unknown is never dropped.
    fn workload_target(
        &mut self,
        iam_index: IamIndex,
        index: &Indexes,
        ctx: &Context,
    ) -> WorkloadLink {
        let iam = self.iam(iam_index);
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
        let fits = |g: &Self, w: WorkloadIndex| -> Option<bool> {
            let wl = g.workload(w);
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
        let possible: Vec<WorkloadIndex> = match &name {
            Tri::Known(n) => index
                .workloads_maybe_named(kind, n)
                .filter(|&w| fits(self, w).is_some())
                .collect(),
            _ => Vec::new(),
        };
        // A fully known name names one object, whatever else shares its short name.
        let proven: Vec<WorkloadIndex> = possible
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
                let found: Vec<WorkloadIndex> = found
                    .into_iter()
                    .filter(|&w| fits(self, w).is_some())
                    .collect();
                // The reference proves the name; the location only when it is known or also
                // refers to that workload (the provider never fills it from the workload).
                let location_proven = |w: WorkloadIndex| {
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
                        .map(|&w| format!("`{}`", self.workload(w).address))
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
            (Tri::Known(n), 1) if self.workload(possible[0]).name.is_unknown() => {
                format!(
                    "{attribute} `{n}` may name `{}`, whose name is not known at plan time",
                    self.workload(possible[0]).address
                )
            }
            (Tri::Known(n), 1) => format!(
                "{attribute} `{n}` may name `{}`, but its project or location is not known at \
                 plan time",
                self.workload(possible[0]).address
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
    pub(super) fn link_candidate_sets(&mut self) {
        if self.candidate_sets.is_empty() {
            return;
        }
        for (i, w) in self.workloads() {
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
            .filter(|(_, n)| {
                // The graph is still being built: ask petgraph, order does not matter here.
                !self
                    .graph
                    .edges_directed(**n, Direction::Incoming)
                    .any(|e| *e.weight() == EdgeKind::Candidate)
            })
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

    /// The candidate sets of `kind` that workload `i`, named `name` for that kind, fits.
    fn sets_fitting(
        &self,
        i: WorkloadIndex,
        kind: WorkloadKind,
        name: &Tri<String>,
    ) -> Vec<NodeIndex> {
        let w = self.workload(i);
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

    pub(super) fn external(&mut self, external: ExternalWorkload) -> NodeIndex {
        if let Some(&i) = self.externals_by_id.get(&external) {
            return self.external_nodes[i];
        }
        let i = self.externals.push(external.clone());
        let n = self.graph.add_node(NodeKind::External(i));
        self.externals_by_id.insert(external, i);
        self.external_nodes.push(n);
        n
    }
}
