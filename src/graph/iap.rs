//! Who passes Identity-Aware Proxy: each IAM resource on an IAP web resource, resolved like any
//! other IAM resource ([`super::grants`]), and tied to the IAP gate it governs: the
//! service-level IAP of a Cloud Run service, the IAP of a load balancer's backend service, or
//! every IAP gate of a project (`projects/P/iap_web`).
//!
//! A tie is made by name components, then through the configuration reference of the naming
//! attribute. One that the plan cannot prove still counts, as uncertain, on every gate it may
//! be; what cannot be tied to anything is listed as unresolved, never dropped.

use std::sync::Arc;

use foldhash::HashMap;
use serde_json::Value;

use crate::inventory::iap_iam::IapTarget;
use crate::inventory::{LbKind, WorkloadKind};
use crate::plan::Tri;

use super::SideGraph;
use super::grants::{self, ResolvedGrant};
use super::index::Indexes;
use super::link::{Context, Followed, component_matches};
use super::table::{IapIamIndex, LbIndex, Table, TableIndex, WorkloadIndex};

/// The IAP IAM resources of one side and the gates they govern.
#[derive(Debug, Default)]
pub struct IapLinks {
    /// Each IAP IAM resource's grant, resolved, in inventory order.
    pub grants: Table<IapIamIndex, ResolvedGrant>,
    /// Each IAP IAM resource's address, formatted once.
    pub addresses: Table<IapIamIndex, Arc<str>>,
    /// Per workload: the IAP IAM resources on its own IAP, each with whether the plan proves
    /// the tie.
    pub on_workload: HashMap<WorkloadIndex, Vec<(IapIamIndex, bool)>>,
    /// Per backend service (load-balancer piece index): likewise.
    pub on_backend: HashMap<LbIndex, Vec<(IapIamIndex, bool)>>,
    /// The project-wide resources (`projects/P/iap_web`) by project; `None` gathers those whose
    /// project is unknown, which may be any project.
    pub on_project: HashMap<Option<String>, Vec<IapIamIndex>>,
    /// The resources on every global backend service of a project (`projects/P/iap_web/compute`),
    /// likewise.
    pub on_compute: HashMap<Option<String>, Vec<IapIamIndex>>,
    /// Each backend service's project, filled from its provider configuration when unset.
    pub backend_projects: HashMap<LbIndex, Tri<String>>,
}

impl IapLinks {
    /// The project-wide IAP IAM resources that apply to a gate in `project` (`None`: unknown),
    /// each with whether the plan proves it applies.
    pub fn project_wide(&self, project: Option<&str>) -> Vec<(IapIamIndex, bool)> {
        in_project(&self.on_project, project)
    }

    /// The IAP IAM resources on every global backend service of `project`, likewise.
    pub fn compute_wide(&self, project: Option<&str>) -> Vec<(IapIamIndex, bool)> {
        in_project(&self.on_compute, project)
    }
}

/// The resources of `by_project` that apply in `project`: for certain in that very project, as
/// possible where either project is unknown.
fn in_project(
    by_project: &HashMap<Option<String>, Vec<IapIamIndex>>,
    project: Option<&str>,
) -> Vec<(IapIamIndex, bool)> {
    let mut out: Vec<(IapIamIndex, bool)> = Vec::new();
    for (p, resources) in by_project {
        let certain = match (p, project) {
            (Some(a), Some(b)) if a == b => true,
            (Some(_), Some(_)) => continue,
            _ => false,
        };
        out.extend(resources.iter().map(|&i| (i, certain)));
    }
    out.sort_unstable();
    out
}

impl SideGraph<'_> {
    /// Resolves and ties every IAP IAM resource of this side.
    pub(super) fn link_iap(&mut self, index: &Indexes, ctx: &Context) {
        let inventory = self.inventory;
        for (j, lb) in inventory.load_balancers.iter().enumerate() {
            let j = LbIndex::from_position(j);
            if lb.kind == LbKind::Backend {
                let project = self.project_of(&lb.address, &lb.backend_name.project, ctx);
                self.iap.backend_projects.insert(j, project);
            }
        }
        for iam in &inventory.iap_iam {
            let grant = grants::resolve_grant(&iam.address, &iam.grant, inventory, index, ctx);
            for reason in &grant.unresolved {
                self.unresolve(&iam.address, reason.clone());
            }
            let i = self.iap.grants.push(grant);
            self.iap.addresses.push(iam.address.to_string().into());
            match &iam.target {
                IapTarget::Web { project } => {
                    let project = self.project_of(&iam.address, project, ctx).known();
                    self.iap.on_project.entry(project).or_default().push(i);
                }
                IapTarget::WebTypeCompute { project } => {
                    let project = self.project_of(&iam.address, project, ctx).known();
                    self.iap.on_compute.entry(project).or_default().push(i);
                }
                IapTarget::CloudRunService {
                    project,
                    location,
                    name,
                } => {
                    let project = self.project_of(&iam.address, project, ctx);
                    let reached = self.iap_services(i, &project, location, name, index, ctx);
                    for (w, certain) in reached {
                        self.iap
                            .on_workload
                            .entry(w)
                            .or_default()
                            .push((i, certain));
                    }
                }
                IapTarget::BackendService { project, name } => {
                    let project = self.project_of(&iam.address, project, ctx);
                    let reached = self.iap_backends(false, &project, &Tri::Absent, name);
                    self.tie_backends(i, reached, index, ctx);
                }
                IapTarget::RegionBackendService {
                    project,
                    region,
                    name,
                } => {
                    let project = self.project_of(&iam.address, project, ctx);
                    let reached = self.iap_backends(true, &project, region, name);
                    self.tie_backends(i, reached, index, ctx);
                }
            }
        }
    }

    /// The Cloud Run services whose own IAP resource `i` governs, each with whether the plan
    /// proves it: by name components, then by configuration reference; when neither ties it,
    /// every service its known components fit, as uncertain.
    fn iap_services(
        &mut self,
        i: IapIamIndex,
        project: &Tri<String>,
        location: &Tri<String>,
        name: &Tri<String>,
        index: &Indexes,
        ctx: &Context,
    ) -> Vec<(WorkloadIndex, bool)> {
        let kind = WorkloadKind::Service;
        let address = self.iap_iam(i).address.clone();
        let attribute = self.iap_iam(i).target.name_attribute();
        let followed = ctx.follow(&address, &[attribute], index.workloads_of(kind));
        // A name unknown at plan time that the configuration sets to a constant is that name
        // (any name form: its last segment).
        let name = match (name, &followed) {
            (
                Tri::Unknown | Tri::Absent,
                Followed::Constant {
                    value: Value::String(n),
                    ..
                },
            ) => Tri::Known(n.rsplit('/').next().unwrap_or(n).to_owned()),
            _ => name.clone(),
        };
        let fits = |g: &Self, w: WorkloadIndex| -> Option<bool> {
            let wl = g.workload(w);
            let components = [
                component_matches(g.workload_project(w), project),
                component_matches(&wl.location, location),
                component_matches(wl.name_for(kind).unwrap_or(&wl.name), &name),
            ];
            if components.contains(&Some(false)) {
                None
            } else {
                Some(components.iter().all(|c| *c == Some(true)))
            }
        };
        let by_name: Vec<(WorkloadIndex, bool)> = match &name {
            Tri::Known(n) => index
                .workloads_maybe_named(kind, n)
                .filter_map(|w| Some((w, fits(self, w)?)))
                .collect(),
            _ => Vec::new(),
        };
        if let [(_, true)] = by_name[..] {
            return by_name;
        }
        match followed {
            Followed::Instances(found) => {
                let found: Vec<WorkloadIndex> = found
                    .into_iter()
                    .filter(|&w| fits(self, w).is_some())
                    .collect();
                if !found.is_empty() {
                    let certain = found.len() == 1;
                    return found.into_iter().map(|w| (w, certain)).collect();
                }
            }
            // Nothing says which service is meant: each one its known components fit may be.
            followed if !matches!(name, Tri::Known(_)) => {
                let reason = match followed {
                    Followed::Opaque(reason) => reason,
                    _ => "its configuration names no service".into(),
                };
                self.unresolve(
                    &address,
                    format!("{attribute} unknown at plan time: {reason}"),
                );
                return self
                    .workloads()
                    .filter(|&(w, wl)| fits(self, w).is_some() && wl.name_for(kind).is_some())
                    .map(|(w, _)| (w, false))
                    .collect();
            }
            _ => {}
        }
        if by_name.len() > 1 || by_name.iter().any(|(_, proven)| !proven) {
            self.unresolve(
                &address,
                format!("{attribute} may name more than one service, or one whose project or location is unknown"),
            );
        }
        by_name.into_iter().map(|(w, _)| (w, false)).collect()
    }

    /// The backend services (global or `regional`) whose IAP resource `i` governs, by name
    /// components: each with whether the plan proves it. `None` when the name is unknown.
    fn iap_backends(
        &self,
        regional: bool,
        project: &Tri<String>,
        region: &Tri<String>,
        name: &Tri<String>,
    ) -> Option<Vec<(LbIndex, bool)>> {
        if !matches!(name, Tri::Known(_)) {
            return None;
        }
        let inventory = self.inventory;
        Some(
            inventory
                .load_balancers
                .iter()
                .enumerate()
                .filter(|(_, lb)| {
                    lb.kind == LbKind::Backend && lb.address.rtype.contains("_region_") == regional
                })
                .filter_map(|(j, lb)| {
                    let j = LbIndex::from_position(j);
                    let own_project = self.iap.backend_projects.get(&j)?;
                    // A global backend has no region to compare.
                    let region = if regional {
                        component_matches(&lb.backend_name.region, region)
                    } else {
                        Some(true)
                    };
                    let components = [
                        component_matches(own_project, project),
                        region,
                        component_matches(&lb.backend_name.name, name),
                    ];
                    if components.contains(&Some(false)) {
                        None
                    } else {
                        Some((j, components.iter().all(|c| *c == Some(true))))
                    }
                })
                .collect(),
        )
    }

    /// Ties IAP resource `i` to the backends its name reaches, or, when the name does not
    /// prove one, to those its configuration reference names; else to every backend it may
    /// be, as uncertain.
    fn tie_backends(
        &mut self,
        i: IapIamIndex,
        by_name: Option<Vec<(LbIndex, bool)>>,
        index: &Indexes,
        ctx: &Context,
    ) {
        let regional = matches!(
            self.iap_iam(i).target,
            IapTarget::RegionBackendService { .. }
        );
        let reached = match by_name {
            Some(found) if matches!(found[..], [(_, true)]) => found,
            by_name => {
                let address = self.iap_iam(i).address.clone();
                let attribute = self.iap_iam(i).target.name_attribute();
                let backends = index.lb_targets_of(LbKind::UrlMap);
                let is_backend = |j: &LbIndex| self.load_balancer(*j).kind == LbKind::Backend;
                match ctx.follow(&address, &[attribute], backends) {
                    Followed::Instances(found) if found.iter().any(is_backend) => {
                        let found: Vec<LbIndex> = found.into_iter().filter(is_backend).collect();
                        let certain = found.len() == 1;
                        found.into_iter().map(|j| (j, certain)).collect()
                    }
                    followed => {
                        if let Some(found) = by_name {
                            if found.len() > 1 || found.iter().any(|(_, proven)| !proven) {
                                self.unresolve(
                                    &address,
                                    format!(
                                        "{attribute} may name more than one backend service, or \
                                         one whose project or region is unknown"
                                    ),
                                );
                            }
                            found.into_iter().map(|(j, _)| (j, false)).collect()
                        } else {
                            let reason = match followed {
                                Followed::Opaque(reason) => reason,
                                _ => "no backend service in the plan".into(),
                            };
                            self.unresolve(
                                &address,
                                format!("{attribute} unknown at plan time: {reason}"),
                            );
                            self.inventory
                                .load_balancers
                                .iter()
                                .enumerate()
                                .filter(|(_, lb)| {
                                    lb.kind == LbKind::Backend
                                        && lb.address.rtype.contains("_region_") == regional
                                })
                                .map(|(j, _)| (LbIndex::from_position(j), false))
                                .collect()
                        }
                    }
                }
            }
        };
        for (j, certain) in reached {
            self.iap.on_backend.entry(j).or_default().push((i, certain));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// Creates each `(address, after, after_unknown, expressions)` resource and calls `f` with
    /// the after side's graph.
    fn with_graph<T>(
        resources: &[(&str, Value, Value, Value)],
        f: impl FnOnce(&SideGraph) -> T,
    ) -> T {
        let mut changes = Vec::new();
        let mut config = Vec::new();
        for (address, after, unknown, expressions) in resources {
            let (rtype, name) = address.split_once('.').unwrap();
            changes.push(json!({"address": address, "mode": "managed", "type": rtype,
                "name": name, "provider_name": "registry.terraform.io/hashicorp/google",
                "change": {"actions": ["create"], "before": null, "after": after,
                           "after_unknown": unknown, "before_sensitive": false,
                           "after_sensitive": {}}}));
            config.push(json!({"address": address, "mode": "managed", "type": rtype,
                "name": name, "provider_config_key": "google", "expressions": expressions,
                "schema_version": 0}));
        }
        let plan = json!({"format_version": "1.2", "terraform_version": "1.9.8",
            "variables": {"target": {"value": "projects/p/iap_web/cloud_run-eu/services/api"}},
            "resource_changes": changes,
            "configuration": {"provider_config": {"google": {"name": "google",
                "full_name": "registry.terraform.io/hashicorp/google",
                "expressions": {"project": {"constant_value": "p"}}}},
                "root_module": {"resources": config}}});
        crate::graph::tests::with_after_graph(&plan, f)
    }

    fn accessor(name_key: &str, name: Value) -> Value {
        let mut v = json!({"role": "roles/iap.httpsResourceAccessor", "member": "allUsers",
                           "condition": []});
        if !name.is_null() {
            v[name_key] = name;
        }
        v
    }

    /// Each IAP IAM resource's ties, as `(IAM address, target address, proven)`.
    fn ties(g: &SideGraph) -> Vec<(String, String, bool)> {
        let mut out: Vec<(String, String, bool)> = Vec::new();
        for (w, list) in &g.iap.on_workload {
            for &(i, certain) in list {
                let from = g.iap_iam(i).address.to_string();
                out.push((from, g.workload(*w).address.to_string(), certain));
            }
        }
        for (b, list) in &g.iap.on_backend {
            for &(i, certain) in list {
                let from = g.iap_iam(i).address.to_string();
                out.push((from, g.load_balancer(*b).address.to_string(), certain));
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_backend_is_named_by_any_name_form_and_a_regional_one_by_its_region() {
        let backend = |region: Option<&str>| {
            let mut v = json!({"name": "bs", "project": "p", "backend": [], "iap": []});
            if let Some(r) = region {
                v["region"] = json!(r);
            }
            v
        };
        let got = with_graph(
            &[
                known("google_compute_backend_service.global", backend(None)),
                known(
                    "google_compute_region_backend_service.eu",
                    backend(Some("eu")),
                ),
                known(
                    "google_compute_region_backend_service.us",
                    backend(Some("us")),
                ),
                (
                    "google_iap_web_backend_service_iam_member.full_id",
                    accessor(
                        "web_backend_service",
                        json!("projects/p/iap_web/compute/services/bs"),
                    ),
                    json!({}),
                    json!({}),
                ),
                known(
                    "google_iap_web_region_backend_service_iam_member.short",
                    accessor("web_region_backend_service", json!("p/eu/bs")),
                ),
            ],
            ties,
        );
        assert_eq!(
            got,
            [
                (
                    "google_iap_web_backend_service_iam_member.full_id".into(),
                    "google_compute_backend_service.global".into(),
                    true
                ),
                (
                    "google_iap_web_region_backend_service_iam_member.short".into(),
                    "google_compute_region_backend_service.eu".into(),
                    true
                ),
            ]
        );
    }

    #[test]
    fn an_unknown_service_name_follows_its_reference_or_may_be_any_service() {
        let service = |name: &str| json!({"name": name, "project": "p", "location": "eu"});
        let (got, unresolved) = with_graph(
            &[
                known("google_cloud_run_v2_service.api", service("api")),
                known("google_cloud_run_v2_service.web", service("web")),
                on_a_target_read_at_apply(
                    "google_iap_web_cloud_run_service_iam_member.referenced",
                    "cloud_run_service_name",
                    &[
                        "google_cloud_run_v2_service.web.name",
                        "google_cloud_run_v2_service.web",
                    ],
                ),
                on_a_target_read_at_apply(
                    "google_iap_web_cloud_run_service_iam_member.from_local",
                    "cloud_run_service_name",
                    &["local.target"],
                ),
                on_a_target_read_at_apply(
                    "google_iap_web_cloud_run_service_iam_member.from_variable",
                    "cloud_run_service_name",
                    &["var.target"],
                ),
            ],
            |g| {
                let unresolved: Vec<String> =
                    g.unresolved.iter().map(|u| u.address.clone()).collect();
                (ties(g), unresolved)
            },
        );
        let local = "google_iap_web_cloud_run_service_iam_member.from_local";
        assert_eq!(
            got,
            [
                (
                    local.into(),
                    "google_cloud_run_v2_service.api".into(),
                    false
                ),
                (
                    local.into(),
                    "google_cloud_run_v2_service.web".into(),
                    false
                ),
                // The variable names the service; its location is left to the provider.
                (
                    "google_iap_web_cloud_run_service_iam_member.from_variable".into(),
                    "google_cloud_run_v2_service.api".into(),
                    false
                ),
                (
                    "google_iap_web_cloud_run_service_iam_member.referenced".into(),
                    "google_cloud_run_v2_service.web".into(),
                    true
                ),
            ]
        );
        assert_eq!(
            unresolved,
            [
                local,
                "google_iap_web_cloud_run_service_iam_member.from_variable"
            ]
        );
    }

    #[test]
    fn the_compute_type_governs_global_backends_only() {
        let backend = |region: Option<&str>| {
            let mut v = json!({"name": "bs", "project": "p", "backend": [],
                               "iap": [{"enabled": true}]});
            if let Some(r) = region {
                v["region"] = json!(r);
            }
            v
        };
        let members = with_graph(
            &[
                known("google_compute_backend_service.global", backend(None)),
                known(
                    "google_compute_region_backend_service.eu",
                    backend(Some("eu")),
                ),
                (
                    "google_iap_web_type_compute_iam_member.everyone",
                    json!({"project": "projects/p/iap_web/compute", "member": "allUsers",
                           "role": "roles/iap.httpsResourceAccessor", "condition": []}),
                    json!({}),
                    json!({}),
                ),
            ],
            |g| {
                [0, 1].map(|b| {
                    crate::posture::iap_access::backend_gate(g, LbIndex::from_position(b))
                        .iter()
                        .map(|a| (a.principal.display().to_owned(), a.certain()))
                        .collect::<Vec<_>>()
                })
            },
        );
        assert_eq!(members[0], [("allUsers".to_owned(), true)]);
        assert!(members[1].is_empty(), "{:?}", members[1]);
    }

    // Mutation testing, fourth round (mut-rest): the survivors of `src/graph/iap.rs`.

    /// `google_iap_web_iam_member` on `project` (`Value::Null`: set to a value read at apply).
    fn project_wide(address: &str, project: Value) -> (&str, Value, Value, Value) {
        let unknown = project.is_null();
        let mut after = json!({"role": "roles/iap.httpsResourceAccessor", "member": "allUsers",
                               "condition": []});
        if !unknown {
            after["project"] = project;
        }
        let (after_unknown, expressions) = if unknown {
            (
                json!({"project": true}),
                json!({"project": {"references": ["data.google_project.other.project_id",
                                                  "data.google_project.other"]}}),
            )
        } else {
            (json!({}), json!({}))
        };
        (address, after, after_unknown, expressions)
    }

    #[test]
    fn a_project_wide_iap_grant_applies_in_its_own_project_and_may_where_unknown() {
        // `projects/P/iap_web` governs every IAP gate of project P and of no other project; one
        // whose project is known only at apply may be any project's.
        let got = with_graph(
            &[
                project_wide("google_iap_web_iam_member.own", json!("projects/p/iap_web")),
                project_wide("google_iap_web_iam_member.other", json!("q")),
                project_wide("google_iap_web_iam_member.later", Value::Null),
            ],
            |g| {
                let named = |list: Vec<(IapIamIndex, bool)>| -> Vec<(String, bool)> {
                    let mut named: Vec<(String, bool)> = list
                        .into_iter()
                        .map(|(i, certain)| (g.iap_iam(i).address.to_string(), certain))
                        .collect();
                    named.sort();
                    named
                };
                (
                    named(g.iap.project_wide(Some("p"))),
                    named(g.iap.project_wide(None)),
                )
            },
        );
        assert_eq!(
            got.0,
            [
                ("google_iap_web_iam_member.later".to_owned(), false),
                ("google_iap_web_iam_member.own".to_owned(), true),
            ]
        );
        // A gate whose own project is unknown may be in any of the three projects.
        assert_eq!(got.1.len(), 3);
        assert!(got.1.iter().all(|(_, certain)| !certain), "{:?}", got.1);
    }

    /// Each tie and each unresolved address of the graph on `resources`.
    /// A resource whose values are all known at plan time and whose configuration says
    /// nothing: no `after_unknown`, no expressions.
    fn known(address: &'static str, values: Value) -> (&'static str, Value, Value, Value) {
        (address, values, json!({}), json!({}))
    }

    /// An `allUsers` IAP grant at `address` whose `attribute` (the resource it is on) is read at
    /// apply, the configuration setting it from `references`.
    fn on_a_target_read_at_apply(
        address: &'static str,
        attribute: &str,
        references: &[&str],
    ) -> (&'static str, Value, Value, Value) {
        (
            address,
            accessor(attribute, Value::Null),
            json!({ attribute: true }),
            json!({ attribute: { "references": references } }),
        )
    }

    /// The backend service `bs`, whose project comes from a data source read at apply: its
    /// name alone cannot prove which backend a grant means.
    fn backend_in_a_project_read_at_apply() -> (&'static str, Value, Value, Value) {
        (
            "google_compute_backend_service.bs",
            json!({"name": "bs", "backend": [], "iap": []}),
            json!({"project": true}),
            json!({"project": {"references": ["data.google_project.app.project_id",
                                              "data.google_project.app"]}}),
        )
    }

    fn ties_and_unresolved(
        resources: &[(&str, Value, Value, Value)],
    ) -> (Vec<(String, String, bool)>, Vec<String>) {
        with_graph(resources, |g| {
            let mut unresolved: Vec<String> =
                g.unresolved.iter().map(|u| u.address.clone()).collect();
            unresolved.sort();
            (ties(g), unresolved)
        })
    }

    #[test]
    fn a_known_service_name_proves_its_service_and_names_no_other() {
        // The full id names project, location and service: the grant is on that service for
        // certain. A name that no service of the plan has is a service outside the plan: the
        // grant governs nothing here, and nothing about it is unresolved.
        let service = |name: &str| json!({"name": name, "project": "p", "location": "eu"});
        let full = |name: &str| json!(format!("projects/p/iap_web/cloud_run-eu/services/{name}"));
        let (got, unresolved) = ties_and_unresolved(&[
            known("google_cloud_run_v2_service.api", service("api")),
            known("google_cloud_run_v2_service.web", service("web")),
            known(
                "google_iap_web_cloud_run_service_iam_member.api",
                accessor("cloud_run_service_name", full("api")),
            ),
            known(
                "google_iap_web_cloud_run_service_iam_member.elsewhere",
                accessor("cloud_run_service_name", full("elsewhere")),
            ),
        ]);
        assert_eq!(
            got,
            [(
                "google_iap_web_cloud_run_service_iam_member.api".into(),
                "google_cloud_run_v2_service.api".into(),
                true
            )]
        );
        assert!(unresolved.is_empty(), "{unresolved:?}");
    }

    #[test]
    fn a_service_name_two_services_share_proves_neither() {
        // Two resources that create the same service (the plan allows it; the second create
        // fails at apply): the grant may be on either, and the report says why it is not tied.
        let service = json!({"name": "api", "project": "p", "location": "eu"});
        let (got, unresolved) = ties_and_unresolved(&[
            known("google_cloud_run_v2_service.api", service.clone()),
            known("google_cloud_run_v2_service.api_again", service),
            (
                "google_iap_web_cloud_run_service_iam_member.api",
                accessor(
                    "cloud_run_service_name",
                    json!("projects/p/iap_web/cloud_run-eu/services/api"),
                ),
                json!({}),
                json!({}),
            ),
        ]);
        let iam = "google_iap_web_cloud_run_service_iam_member.api";
        assert_eq!(
            got,
            [
                (iam.into(), "google_cloud_run_v2_service.api".into(), false),
                (
                    iam.into(),
                    "google_cloud_run_v2_service.api_again".into(),
                    false
                ),
            ]
        );
        assert_eq!(unresolved, [iam]);
    }

    #[test]
    fn an_unknown_service_name_may_be_only_a_service_of_its_project() {
        // A name unknown at plan time, with nothing to follow: any Cloud Run service of the
        // grant's project may be meant, never a service of another project, nor a job (IAP is
        // enabled on services only).
        let workload =
            |project: &str, name: &str| json!({"name": name, "project": project, "location": "eu"});
        let (got, unresolved) = ties_and_unresolved(&[
            known("google_cloud_run_v2_service.api", workload("p", "api")),
            known(
                "google_cloud_run_v2_service.other_project",
                workload("q", "api"),
            ),
            known("google_cloud_run_v2_job.export", workload("p", "export")),
            on_a_target_read_at_apply(
                "google_iap_web_cloud_run_service_iam_member.later",
                "cloud_run_service_name",
                &["local.target"],
            ),
        ]);
        let iam = "google_iap_web_cloud_run_service_iam_member.later";
        assert_eq!(
            got,
            [(iam.into(), "google_cloud_run_v2_service.api".into(), false)]
        );
        assert_eq!(unresolved, [iam]);
    }

    #[test]
    fn a_backend_reference_proves_what_its_name_alone_cannot() {
        // The backend's project is read at apply, so its name alone does not prove the tie;
        // the configuration's reference to that very backend does.
        let (got, unresolved) = ties_and_unresolved(&[
            backend_in_a_project_read_at_apply(),
            (
                "google_iap_web_backend_service_iam_member.bs",
                accessor("web_backend_service", json!("bs")),
                json!({}),
                json!({"web_backend_service": {"references": [
                    "google_compute_backend_service.bs.name",
                    "google_compute_backend_service.bs"]}}),
            ),
        ]);
        assert_eq!(
            got,
            [(
                "google_iap_web_backend_service_iam_member.bs".into(),
                "google_compute_backend_service.bs".into(),
                true
            )]
        );
        assert!(unresolved.is_empty(), "{unresolved:?}");
    }

    #[test]
    fn a_reference_to_a_backend_bucket_names_no_backend_service() {
        // IAP governs backend services, never a backend bucket: a name unknown at plan time
        // that refers to a bucket says nothing of which backend service is meant, so the grant
        // may be on each one, and is listed as unresolved, never dropped.
        let (got, unresolved) = ties_and_unresolved(&[
            known(
                "google_compute_backend_service.bs",
                json!({"name": "bs", "project": "p", "backend": [], "iap": []}),
            ),
            (
                "google_compute_backend_bucket.static",
                json!({"name": "static", "project": "p", "bucket_name": "static-assets"}),
                json!({"id": true}),
                json!({}),
            ),
            on_a_target_read_at_apply(
                "google_iap_web_backend_service_iam_member.bucket",
                "web_backend_service",
                &[
                    "google_compute_backend_bucket.static.id",
                    "google_compute_backend_bucket.static",
                ],
            ),
        ]);
        let iam = "google_iap_web_backend_service_iam_member.bucket";
        assert_eq!(
            got,
            [(
                iam.into(),
                "google_compute_backend_service.bs".into(),
                false
            )]
        );
        assert_eq!(unresolved, [iam]);
    }

    #[test]
    fn a_backend_name_known_only_at_apply_may_be_any_backend_whatever_its_variable() {
        // `web_backend_service = "${var.target}-${uuid()}"`: unknown at plan time (Terraform
        // evaluates `uuid()` at apply), its configuration referring to one variable only. The
        // variable is only part of the name, so each global backend service may be meant, and
        // no regional one (those are named by the regional resource).
        let backend = |name: &str| json!({"name": name, "project": "p", "backend": [], "iap": []});
        let mut regional = backend("a");
        regional["region"] = json!("eu");
        let (got, unresolved) = ties_and_unresolved(&[
            known("google_compute_region_backend_service.a", regional),
            known("google_compute_backend_service.a", backend("a")),
            known("google_compute_backend_service.b", backend("b")),
            on_a_target_read_at_apply(
                "google_iap_web_backend_service_iam_member.later",
                "web_backend_service",
                &["var.target"],
            ),
        ]);
        let iam = "google_iap_web_backend_service_iam_member.later";
        assert_eq!(
            got,
            [
                (iam.into(), "google_compute_backend_service.a".into(), false),
                (iam.into(), "google_compute_backend_service.b".into(), false),
            ]
        );
        assert_eq!(unresolved, [iam]);
    }

    #[test]
    fn a_backend_name_set_by_a_constant_is_uncertain_as_without_configuration() {
        // `web_backend_service = "bs"` in the configuration says no more than the plan's value
        // does. The backend's project is read at apply, so the tie is uncertain, and listed as
        // unresolved, with or without the configuration (as for a Cloud Run service's IAP).
        let resources = |expressions: Value| {
            [
                backend_in_a_project_read_at_apply(),
                (
                    "google_iap_web_backend_service_iam_member.bs",
                    accessor("web_backend_service", json!("bs")),
                    json!({}),
                    expressions,
                ),
            ]
        };
        let iam = "google_iap_web_backend_service_iam_member.bs";
        for expressions in [
            json!({}),
            json!({"web_backend_service": {"constant_value": "bs"}}),
            json!({"web_backend_service": {"references": ["var.target"]}}),
        ] {
            let (got, unresolved) = ties_and_unresolved(&resources(expressions.clone()));
            assert_eq!(
                got,
                [(
                    iam.into(),
                    "google_compute_backend_service.bs".into(),
                    false
                )],
                "{expressions}"
            );
            assert_eq!(unresolved, [iam], "{expressions}");
        }
    }

    #[test]
    fn a_backend_name_two_backends_share_proves_neither_and_an_absent_one_names_none() {
        // Two resources that create the same backend service (the second create fails at
        // apply): the grant may be on either, and is listed as unresolved. A name that no
        // backend of the plan has is a backend outside the plan: nothing here, nothing unresolved.
        let backend = json!({"name": "bs", "project": "p", "backend": [], "iap": []});
        let (got, unresolved) = ties_and_unresolved(&[
            known("google_compute_backend_service.bs", backend.clone()),
            known("google_compute_backend_service.bs_again", backend),
            known(
                "google_iap_web_backend_service_iam_member.shared",
                accessor("web_backend_service", json!("p/bs")),
            ),
            known(
                "google_iap_web_backend_service_iam_member.elsewhere",
                accessor("web_backend_service", json!("p/elsewhere")),
            ),
        ]);
        let iam = "google_iap_web_backend_service_iam_member.shared";
        assert_eq!(
            got,
            [
                (
                    iam.into(),
                    "google_compute_backend_service.bs".into(),
                    false
                ),
                (
                    iam.into(),
                    "google_compute_backend_service.bs_again".into(),
                    false
                ),
            ]
        );
        assert_eq!(unresolved, [iam]);
    }
}
