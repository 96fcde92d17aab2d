//! Who passes each Identity-Aware Proxy gate in front of a service: the holders of
//! `iap.webServiceVersions.accessViaIAP` (`roles/iap.httpsResourceAccessor`, or a custom role
//! with it) on the gate's own IAP resource, on the project's `iap_web`, and on the project,
//! folder and organization above it. The same fold as invokers ([`super::invokers::fold`])
//! decides policy, binding and member semantics, conditions and unknowns.
//!
//! IAP accepts `allUsers` and `allAuthenticatedUsers` as accessors: Google's "Controlling
//! access to websites and apps" (cloud.google.com/solutions/authenticating-web-users) lists
//! `allUsers` for "open, public access" and `allAuthenticatedUsers` for any signed-in Google
//! account. A gate whose accessors hold `allUsers` keeps no one out.

use petgraph::graph::NodeIndex;

use crate::graph::{IapIamIndex, LbIndex, NodeKind, Principal, SideGraph, WorkloadIndex};
use crate::iam::{Caps, Level, MemberKind};

use super::Verdict;
use super::invokers::{Invoker, Source, fold, iam_source};

/// The accessors of the IAP that a Cloud Run service enables on itself (workload `w`, at
/// `node`).
pub fn service_gate(g: &SideGraph, w: WorkloadIndex, node: NodeIndex) -> Vec<Invoker> {
    let own = g.iap.on_workload.get(&w).map_or(&[][..], Vec::as_slice);
    let project = g.workload_project(w).clone().known();
    let scope = super::invokers::scope_sources(g, node, Caps::IAP_ACCESS);
    accessors(g, own, Vec::new(), project.as_deref(), scope)
}

/// The accessors of the IAP on backend service `backend` (a load-balancer piece index).
pub fn backend_gate(g: &SideGraph, backend: LbIndex) -> Vec<Invoker> {
    let own = g
        .iap
        .on_backend
        .get(&backend)
        .map_or(&[][..], Vec::as_slice);
    let project = g
        .iap
        .backend_projects
        .get(&backend)
        .and_then(|p| p.clone().known());
    // The project nodes whose grants apply to the backend: its own for certain, the others
    // (unknown project, folder, organization) as the plan allows.
    let scope = g
        .project_nodes_for(project.as_deref())
        .into_iter()
        .flat_map(|n| {
            let exact = project.is_some()
                && matches!(&g.graph[n], NodeKind::Project(Some(p)) if Some(p) == project.as_ref());
            g.scope_grants(n, Caps::IAP_ACCESS)
                .iter()
                .map(move |&i| (g.iam_nodes[i], !exact))
        })
        .collect();
    // `projects/P/iap_web/compute` governs the global backend services of the project.
    let regional = g.load_balancer(backend).address.rtype.contains("_region_");
    let compute = if regional {
        Vec::new()
    } else {
        g.iap.compute_wide(project.as_deref())
    };
    accessors(g, own, compute, project.as_deref(), scope)
}

/// The accessors from a gate's own IAP resources, the resources of its type (`compute`), the
/// project's `iap_web`, and the `scope` grants above it.
fn accessors(
    g: &SideGraph,
    own: &[(IapIamIndex, bool)],
    of_type: Vec<(IapIamIndex, bool)>,
    project: Option<&str>,
    scope: Vec<(NodeIndex, bool)>,
) -> Vec<Invoker> {
    let iap_source = |(i, certain): (IapIamIndex, bool), level: Level| Source {
        grant: &g.iap.grants[i],
        address: &g.iap.addresses[i],
        level,
        // An IAP resource's policy, the project-wide one included, can hold allUsers, and an
        // unknown role there may be the accessor role.
        own_policy: true,
        assumed: !certain,
    };
    let sources = own
        .iter()
        .map(|&r| iap_source(r, Level::Resource))
        .chain(of_type.into_iter().map(|r| iap_source(r, Level::Project)))
        .chain(
            g.iap
                .project_wide(project)
                .into_iter()
                .map(|r| iap_source(r, Level::Project)),
        )
        .chain(
            scope
                .into_iter()
                .filter_map(|(n, assumed)| iam_source(g, n, assumed)),
        );
    fold(sources, Caps::IAP_ACCESS, |_| true)
}

/// Whether a gate with these accessors lets anyone on the internet through: `allUsers` holds
/// the accessor role. A grant that only may apply, or a principal unknown at plan time in an IAP
/// resource's own policy (which may be `allUsers`), leaves it unknown; project, folder and
/// organization policies cannot hold `allUsers`, so an unknown member there is someone, never
/// the public.
pub fn admits_anyone(g: &SideGraph, accessors: &[Invoker]) -> Verdict {
    Verdict::any(accessors.iter().map(|a| {
        match &a.principal {
            Principal::Known { .. } if a.principal.kind() == MemberKind::AllUsers => {
                if a.certain() {
                    Verdict::Yes
                } else {
                    Verdict::Unknown
                }
            }
            Principal::Unknown
                if a.grants
                    .iter()
                    .any(|gr| g.iap.addresses.iter().any(|a| *a == gr.address)) =>
            {
                Verdict::Unknown
            }
            _ => Verdict::No,
        }
    }))
}

/// Merges the accessors of several gates into one list, each principal once with every grant.
pub fn merge(gates: impl IntoIterator<Item = Vec<Invoker>>) -> Vec<Invoker> {
    let mut out: Vec<Invoker> = Vec::new();
    for gate in gates {
        for a in gate {
            match out.iter_mut().find(|o| o.principal == a.principal) {
                Some(o) => {
                    for gr in a.grants {
                        if !o.grants.contains(&gr) {
                            o.grants.push(gr);
                        }
                    }
                    o.grants.sort();
                }
                None => out.push(a),
            }
        }
    }
    out.sort_by(|a, b| a.principal.display().cmp(b.principal.display()));
    out
}

/// IAP's own service agent (`service-NUMBER@gcp-sa-iap.iam.gserviceaccount.com`): a request
/// that passes IAP reaches Cloud Run's invoker check with this identity, on the service
/// (Cloud Run's "Configure IAP for Cloud Run": "IAP uses its own service account to
/// authenticate to Cloud Run's IAM check") and through a load balancer (IAP's "Enable IAP for
/// Cloud Run": it authenticates with the `X-Serverless-Authorization` header).
pub fn is_iap_agent(member: &str) -> bool {
    member
        .strip_prefix("serviceAccount:service-")
        .and_then(|rest| rest.split_once('@'))
        .is_some_and(|(number, domain)| {
            !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
                && domain == "gcp-sa-iap.iam.gserviceaccount.com"
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iap_agent_is_recognised_by_its_address() {
        assert!(is_iap_agent(
            "serviceAccount:service-123@gcp-sa-iap.iam.gserviceaccount.com"
        ));
        assert!(!is_iap_agent(
            "serviceAccount:service-123@gcp-sa-run.iam.gserviceaccount.com"
        ));
        assert!(!is_iap_agent(
            "serviceAccount:service-x@gcp-sa-iap.iam.gserviceaccount.com"
        ));
        assert!(!is_iap_agent(
            "user:service-1@gcp-sa-iap.iam.gserviceaccount.com"
        ));
    }

    /// A principal that two gates let through is one accessor with both gates' grants.
    #[test]
    fn merged_gates_keep_every_grant_of_a_principal() {
        use crate::posture::invokers::Grant;
        let dev = || Principal::Known {
            member: "user:dev@acme.com".into(),
            sensitive: false,
        };
        let grant = |address: &str| Grant {
            address: address.into(),
            role: "roles/iap.httpsResourceAccessor".into(),
            level: Level::Resource,
            certain: true,
        };
        let gate = |address: &str| {
            vec![Invoker {
                principal: dev(),
                grants: vec![grant(address)],
            }]
        };
        let merged = merge([
            gate("google_iap_web_backend_service_iam_member.b"),
            gate("google_iap_web_backend_service_iam_member.a"),
        ]);
        assert_eq!(merged.len(), 1);
        let addresses: Vec<&str> = merged[0].grants.iter().map(|g| &*g.address).collect();
        assert_eq!(
            addresses,
            [
                "google_iap_web_backend_service_iam_member.a",
                "google_iap_web_backend_service_iam_member.b"
            ]
        );
    }
}
