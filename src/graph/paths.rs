//! The paths from outside to a workload that the plan builds: load-balancer chains (forwarding
//! rule → proxy → URL map → backend → serverless NEG → workload) and Cloud Run domain mappings.
//!
//! A link the plan proves is a `Fronts` edge; one it cannot prove (a URL mask, a name whose
//! project or location is unknown) is a `MayFront` edge; one it cannot follow at all is listed
//! in `unresolved` and flagged, so that no verdict that depends on it is `no`.

use foldhash::HashMap;
use petgraph::graph::NodeIndex;
use serde_json::Value;

use crate::inventory::load_balancer::{NegTarget, normalize_ref};
use crate::inventory::{WorkloadKind, domain_mapping};
use crate::plan::{Address, Tri};

use super::index::Indexes;
use super::link::{Context, Followed, component_matches};
use super::table::{DomainIndex, LbIndex, WorkloadIndex, indexes};
use super::{EdgeKind, NodeKind, SideGraph};

/// The workloads a reference reaches, each with whether the plan proves it.
type Reached = Vec<(WorkloadIndex, bool)>;

impl SideGraph<'_> {
    pub(super) fn link_load_balancers(&mut self, index: &Indexes, ctx: &Context) {
        for i in indexes(self.inventory.load_balancers.len()) {
            let n = self.graph.add_node(NodeKind::Lb(i));
            self.lb_nodes.push(n);
        }
        for i in indexes(self.inventory.load_balancers.len()) {
            let lb = self.load_balancer(i);
            if let Some(target) = &lb.neg_target {
                self.link_neg(i, target, index, ctx);
                continue;
            }
            let next = lb.kind.next();
            for link in &lb.links {
                let by_id = |v: &str| -> Vec<LbIndex> {
                    let id = normalize_ref(v);
                    next.iter()
                        .filter_map(|&kind| index.lb_by_id.get(&(kind, id.as_str())))
                        .flatten()
                        .copied()
                        .collect()
                };
                // A known link that matches nothing points outside the plan; an unknown one
                // that cannot be followed is reported, never dropped.
                let targets: Vec<LbIndex> = match &link.value {
                    Tri::Known(v) => by_id(v),
                    _ => match ctx.follow(
                        &lb.address,
                        &link.config_path,
                        index.lb_targets_of(lb.kind),
                    ) {
                        Followed::Instances(found) => found,
                        Followed::Constant {
                            value: Value::String(v),
                            ..
                        } => by_id(&v),
                        Followed::Constant { .. } => Vec::new(),
                        Followed::Opaque(reason) => {
                            self.lb_link_unresolved(i, &link.config_path.join("."), reason);
                            Vec::new()
                        }
                    },
                };
                for j in targets {
                    let (a, b) = (self.lb_nodes[i], self.lb_nodes[j]);
                    if !self.graph.contains_edge(a, b) {
                        self.graph.add_edge(a, b, EdgeKind::Fronts);
                    }
                }
            }
        }
    }

    /// A load-balancer link unknown at plan time that cannot be followed: a path to some
    /// service may exist that the analysis cannot see.
    fn lb_link_unresolved(&mut self, lb_index: LbIndex, attribute: &str, reason: String) {
        let address = self.load_balancer(lb_index).address.clone();
        self.unresolve(
            &address,
            format!("{attribute} unknown at plan time: {reason}"),
        );
        self.lb_unresolved = true;
    }

    /// Links a serverless NEG to the workloads it sends traffic to: the one it names, or, with
    /// a URL mask and no name, every workload of its project and region.
    fn link_neg(&mut self, lb_index: LbIndex, target: &NegTarget, index: &Indexes, ctx: &Context) {
        let Some(kind) = target.platform.workload_kind() else {
            return;
        };
        let address = self.load_balancer(lb_index).address.clone();
        let project = self.project_of(&address, &target.project, ctx);
        let region = ctx.scope(
            &address,
            &target.region,
            "region",
            "region",
            &HashMap::default(),
        );
        let config_path = target.platform.name_config_path();
        let reached = match &target.name {
            Tri::Absent => self.masked(&address, kind, target, &project, &region),
            name => self.by_name(
                &address,
                kind,
                name,
                &project,
                &region,
                config_path,
                index,
                ctx,
            ),
        };
        match reached {
            Ok(reached) => self.front(self.lb_nodes[lb_index], reached),
            Err(reason) => {
                self.lb_link_unresolved(lb_index, &config_path.join("."), reason);
                // The NEG still sends traffic to some workload of its project and region: each
                // one may be it, so each gets the path as possible (never proven).
                let possible: Reached = self
                    .workloads()
                    .filter(|(_, w)| w.kind == kind)
                    .filter(|&(w, _)| self.fits_scope(w, &project, &region).is_some())
                    .map(|(w, _)| (w, false))
                    .collect();
                self.front(self.lb_nodes[lb_index], possible);
            }
        }
    }

    /// The workloads a URL mask reaches. A serverless NEG parses the target's name out of each
    /// request's URL with its mask (`<service>.example.com`, `example.com/<service>`), and the
    /// caller chooses that URL (the `Host` header included). Every Cloud Run service name is a
    /// valid host label and path segment, so a mask with the placeholder reaches every workload
    /// of the NEG's project and region: for certain when both are known, possibly otherwise.
    /// A mask without the placeholder, or one unknown at plan time, may reach any of them.
    fn masked(
        &mut self,
        from: &Address,
        kind: WorkloadKind,
        target: &NegTarget,
        project: &Tri<String>,
        region: &Tri<String>,
    ) -> Result<Reached, String> {
        let placeholder = target.platform.placeholder();
        let proven = match &target.url_mask {
            Tri::Known(m) if m.contains(placeholder) => true,
            Tri::Known(m) => {
                let shown = if target.url_mask_sensitive {
                    "(sensitive)"
                } else {
                    m
                };
                self.unresolve(
                    from,
                    format!(
                        "url_mask `{shown}` has no `{placeholder}` and the NEG names no target: \
                         it may reach any workload of its project and region"
                    ),
                );
                false
            }
            Tri::Unknown => {
                self.unresolve(
                    from,
                    "url_mask unknown at plan time: it may reach any workload of its project \
                     and region"
                        .into(),
                );
                false
            }
            Tri::Absent => {
                return Err("the NEG names no target and has no URL mask".into());
            }
        };
        Ok(self
            .workloads()
            .filter(|(_, w)| w.kind == kind)
            .filter_map(|(w, _)| {
                let fits = self.fits_scope(w, project, region)?;
                Some((w, proven && fits))
            })
            .collect())
    }

    /// Whether workload `w` sits in `project` and `location`: `Some(true)` when the plan proves
    /// it, `Some(false)` when it cannot be, `None` when it refutes it.
    fn fits_scope(
        &self,
        w: WorkloadIndex,
        project: &Tri<String>,
        location: &Tri<String>,
    ) -> Option<bool> {
        let components = [
            component_matches(&self.workload_projects[w], project),
            component_matches(&self.workload(w).location, location),
        ];
        if components.contains(&Some(false)) {
            None
        } else {
            Some(components.iter().all(|c| *c == Some(true)))
        }
    }

    /// The workloads of `kind` that a name reaches: by value, else through the configuration
    /// reference at `config_path`. A name shared by workloads whose project or location is not
    /// known reaches each of them, unproven, unless the reference says which one is meant.
    #[allow(clippy::too_many_arguments)]
    fn by_name(
        &self,
        from: &Address,
        kind: WorkloadKind,
        name: &Tri<String>,
        project: &Tri<String>,
        location: &Tri<String>,
        config_path: &[&str],
        index: &Indexes,
        ctx: &Context,
    ) -> Result<Reached, String> {
        let followed = || match ctx.follow(from, config_path, index.workloads_of(kind)) {
            Followed::Instances(found) => Followed::Instances(
                found
                    .into_iter()
                    .filter(|&w| self.fits_scope(w, project, location).is_some())
                    .collect(),
            ),
            other => other,
        };
        let name = match name {
            Tri::Known(n) => n.clone(),
            Tri::Absent => return Err(format!("`{}` is not set", config_path.join("."))),
            Tri::Unknown => match followed() {
                Followed::Instances(found) => {
                    return Ok(found.into_iter().map(|w| (w, true)).collect());
                }
                Followed::Constant {
                    value: Value::String(n),
                    ..
                } => n.rsplit('/').next().unwrap_or(&n).to_owned(),
                Followed::Constant { .. } => return Ok(Vec::new()),
                Followed::Opaque(reason) => return Err(reason),
            },
        };
        let mut candidates: Reached = index
            .workloads_by_name
            .get(&(kind, name.as_str()))
            .into_iter()
            .flatten()
            .filter_map(|&w| Some((w, self.fits_scope(w, project, location)?)))
            .collect();
        // A workload whose own name is unknown at plan time may be the one named: possibly.
        candidates.extend(
            index
                .workloads_unnamed
                .get(&kind)
                .into_iter()
                .flatten()
                .filter(|&&w| self.fits_scope(w, project, location).is_some())
                .map(|&w| (w, false)),
        );
        if candidates.iter().all(|(_, proven)| *proven) {
            return Ok(candidates);
        }
        // The configuration reference says which workload the author meant.
        if let Followed::Instances(found) = followed() {
            let meant: Reached = candidates
                .iter()
                .filter(|(w, _)| found.contains(w))
                .map(|&(w, _)| (w, true))
                .collect();
            if !meant.is_empty() {
                return Ok(meant);
            }
        }
        Ok(candidates)
    }

    /// `Fronts` edges from `from` to the workloads it reaches for certain, `MayFront` to the rest.
    fn front(&mut self, from: NodeIndex, reached: Reached) {
        for (w, proven) in reached {
            let kind = if proven {
                EdgeKind::Fronts
            } else {
                EdgeKind::MayFront
            };
            self.graph.add_edge(from, self.workload_nodes[w], kind);
        }
    }

    /// Links each domain mapping to the service it serves: `spec[0].route_name` in the
    /// mapping's project (its `project`, else its namespace) and location.
    pub(super) fn link_domain_mappings(&mut self, index: &Indexes, ctx: &Context) {
        for i in indexes::<DomainIndex>(self.inventory.domain_mappings.len()) {
            let n = self.graph.add_node(NodeKind::Domain(i));
            self.domain_nodes.push(n);
            let m = self.domain_mapping(i);
            let mut project = self.project_of(&m.address, &m.project, ctx);
            if let (Tri::Unknown, Tri::Known(namespace)) = (&project, &m.namespace) {
                // The namespace is the project id or number; only an id compares with names.
                if !namespace.bytes().all(|b| b.is_ascii_digit()) {
                    project = Tri::Known(namespace.clone());
                }
            }
            let reached = self.by_name(
                &m.address,
                WorkloadKind::Service,
                &m.route_name,
                &project,
                &m.location,
                domain_mapping::ROUTE_NAME_PATH,
                index,
                ctx,
            );
            match reached {
                Ok(reached) => self.front(n, reached),
                Err(reason) => {
                    let address = m.address.clone();
                    self.unresolve(
                        &address,
                        format!("route_name unknown at plan time: {reason}"),
                    );
                    // The mapping still serves some service: each one of its project and
                    // location may be it, so each gets the mapping as a possible path. The
                    // provider maps a domain only to a service of the mapping's own location
                    // and project, so no other service may be it.
                    let (project, location) = (project.clone(), m.location.clone());
                    let possible: Reached = self
                        .workloads()
                        .filter(|(_, w)| w.kind == WorkloadKind::Service)
                        .filter(|&(w, _)| self.fits_scope(w, &project, &location).is_some())
                        .map(|(w, _)| (w, false))
                        .collect();
                    self.front(n, possible);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Creates each `(address, after, after_sensitive)` resource and calls `f` with the
    /// after side's graph.
    fn with_graph<T>(resources: &[(&str, Value, Value)], f: impl FnOnce(&SideGraph) -> T) -> T {
        let changes: Vec<Value> = resources
            .iter()
            .map(|(address, after, sensitive)| {
                let (rtype, name) = address.split_once('.').unwrap();
                json!({"address": address, "mode": "managed", "type": rtype, "name": name,
                       "provider_name": "registry.terraform.io/hashicorp/google",
                       "change": {"actions": ["create"], "before": null, "after": after,
                                  "after_unknown": {}, "before_sensitive": false,
                                  "after_sensitive": sensitive}})
            })
            .collect();
        let plan = json!({"format_version": "1.2", "terraform_version": "1.9.8",
                          "resource_changes": changes});
        crate::graph::tests::with_after_graph(&plan, f)
    }

    /// Creates each `(address, after)` resource, then returns, per NEG or domain mapping
    /// address, the workloads it fronts as `(address, proven)`.
    fn fronted(resources: &[(&str, Value)]) -> Vec<(String, String, bool)> {
        let resources: Vec<(&str, Value, Value)> = resources
            .iter()
            .map(|(a, v)| (*a, v.clone(), json!({})))
            .collect();
        with_graph(&resources, edges)
    }

    fn edges(g: &SideGraph) -> Vec<(String, String, bool)> {
        let mut out = Vec::new();
        for e in g.graph.edge_indices() {
            let (a, b) = g.graph.edge_endpoints(e).unwrap();
            let from = match g.graph[a] {
                NodeKind::Lb(i) => g.load_balancer(i).address.to_string(),
                NodeKind::Domain(i) => g.domain_mapping(i).address.to_string(),
                _ => continue,
            };
            if let NodeKind::Workload(w) = g.graph[b] {
                let to = g.workload(w).address.to_string();
                out.push((from, to, g.graph[e] == EdgeKind::Fronts));
            }
        }
        out.sort();
        out
    }

    fn service(name: &str, location: &str) -> Value {
        json!({"name": name, "project": "p", "location": location})
    }

    fn neg(block: &str, target: Value, region: &str) -> Value {
        json!({"project": "p", "region": region, "cloud_run": [], "cloud_function": [],
               block: [target]})
    }

    #[test]
    fn a_url_mask_reaches_every_workload_of_its_kind_in_its_region() {
        let got = fronted(&[
            (
                "google_cloudfunctions2_function.hook",
                json!({"name": "hook", "project": "p", "location": "eu"}),
            ),
            ("google_cloud_run_v2_service.api", service("api", "eu")),
            ("google_cloud_run_v2_service.web", service("web", "eu")),
            ("google_cloud_run_v2_service.us", service("us", "us")),
            (
                "google_compute_region_network_endpoint_group.masked",
                neg(
                    "cloud_run",
                    json!({"url_mask": "<service>.example.com"}),
                    "eu",
                ),
            ),
            (
                "google_compute_region_network_endpoint_group.no_placeholder",
                neg("cloud_run", json!({"url_mask": "example.com/api"}), "us"),
            ),
            (
                "google_compute_region_network_endpoint_group.functions",
                neg("cloud_function", json!({"url_mask": "/<function>"}), "eu"),
            ),
        ]);
        let masked = "google_compute_region_network_endpoint_group.masked";
        let unproven = "google_compute_region_network_endpoint_group.no_placeholder";
        // A `<function>` mask reaches the region's gen2 functions, and no service; a `<service>`
        // mask reaches its services, and no function.
        let functions = "google_compute_region_network_endpoint_group.functions";
        assert_eq!(
            got,
            [
                (
                    functions.into(),
                    "google_cloudfunctions2_function.hook".into(),
                    true
                ),
                (
                    masked.into(),
                    "google_cloud_run_v2_service.api".into(),
                    true
                ),
                (
                    masked.into(),
                    "google_cloud_run_v2_service.web".into(),
                    true
                ),
                (
                    unproven.into(),
                    "google_cloud_run_v2_service.us".into(),
                    false
                ),
            ]
        );
    }

    #[test]
    fn a_domain_mapping_serves_the_named_service_of_its_project_and_location() {
        let mapping = |route: &str, location: &str| {
            json!({"name": "a.example.com", "project": "p", "location": location,
                   "metadata": [{"namespace": "p"}], "spec": [{"route_name": route}]})
        };
        let got = fronted(&[
            ("google_cloud_run_v2_service.api_eu", service("api", "eu")),
            ("google_cloud_run_v2_service.api_us", service("api", "us")),
            ("google_cloud_run_domain_mapping.eu", mapping("api", "eu")),
            (
                "google_cloud_run_domain_mapping.elsewhere",
                mapping("api", "asia"),
            ),
        ]);
        assert_eq!(
            got,
            [(
                "google_cloud_run_domain_mapping.eu".into(),
                "google_cloud_run_v2_service.api_eu".into(),
                true
            )]
        );
    }

    #[test]
    fn a_sensitive_url_mask_is_used_never_printed() {
        let sensitive = json!({"cloud_run": [{"url_mask": true}]});
        let reasons = with_graph(
            &[
                (
                    "google_cloud_run_v2_service.api",
                    service("api", "eu"),
                    json!({}),
                ),
                (
                    "google_compute_region_network_endpoint_group.masked",
                    neg("cloud_run", json!({"url_mask": "secret.example.com"}), "eu"),
                    sensitive,
                ),
            ],
            |g| {
                assert_eq!(edges(g).len(), 1, "the mask may still reach the service");
                g.unresolved
                    .iter()
                    .map(|u| u.reason.clone())
                    .collect::<Vec<_>>()
            },
        );
        assert!(
            reasons.iter().any(|r| r.contains("(sensitive)")),
            "{reasons:?}"
        );
        assert!(reasons.iter().all(|r| !r.contains("secret")), "{reasons:?}");
    }
}
