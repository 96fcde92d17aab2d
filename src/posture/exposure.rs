//! Whether anyone on the internet can reach and invoke a service: the invoker check, ingress,
//! the default `run.app` URL, load-balancer paths through serverless NEGs, domain mappings, and
//! IAP.

use petgraph::graph::NodeIndex;

use crate::graph::{EdgeKind, LbIndex, NodeKind, Principal, SideGraph};
use crate::iam::{Level, MemberKind, classify};
use crate::inventory::{Ingress, LbKind, Workload, WorkloadKind};
use crate::plan::Tri;

use super::{Holders, Invoker, Verdict, iap_access};

/// An external path to the workload through a load balancer in the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LbPath {
    /// The frontend's forwarding rule address.
    pub forwarding_rule: String,
    /// Every address on the path, frontend first.
    pub chain: Vec<String>,
    /// Whether the frontend is internet-facing; `None` when unknown.
    pub external: Option<bool>,
    /// IAP is enabled on the backend service of this path.
    pub iap: Option<bool>,
    /// The plan proves that the path ends at this workload; `false` when it only may (a URL
    /// mask, a name whose project or region is unknown).
    pub certain: bool,
    /// The backend service of the path (its load-balancer piece index on its side), whose IAP
    /// gate the path passes.
    pub(crate) backend: Option<LbIndex>,
}

/// A Cloud Run domain mapping that serves the workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainPath {
    /// The domain mapping's address.
    pub address: String,
    /// The domain, `None` when unknown at plan time.
    pub domain: Option<String>,
    /// The plan proves the mapping serves this workload.
    pub certain: bool,
}

pub struct Exposure {
    pub public: Verdict,
    /// The invoker check lets anyone in: `allUsers` holds an invoker role or the check is
    /// disabled (`unknown` when either may hold, or when a grant on the workload itself names a
    /// principal unknown at plan time, which may be `allUsers`).
    pub anyone_allowed: Verdict,
    /// A path from the internet reaches the service past IAP, or through IAP that admits
    /// anyone.
    pub reachable: Verdict,
    pub reasons: Vec<String>,
    pub iap: Option<bool>,
    /// Who passes the IAP gates in front of the service (on the service, on the backends of
    /// its load-balancer paths).
    pub iap_accessors: Vec<Invoker>,
    pub paths: Vec<LbPath>,
    pub domains: Vec<DomainPath>,
}

/// Whether the invoker check is open to anyone by `allUsers` or by being disabled: the part of
/// an open invoker check that only a public grant or setting can cause. A principal unknown at
/// plan time on the workload's own IAM may be `allUsers` (project, folder and organization
/// policies cannot hold it), so it makes the answer unknown: an unknown only adds uncertainty.
fn anyone_allowed(check_disabled: &Tri<bool>, invokers: &Holders) -> Verdict {
    let all_users = Verdict::any(invokers.iter().map(|i| match &i.principal {
        Principal::Known { member, .. } if classify(member) == MemberKind::AllUsers => {
            if i.certain() {
                Verdict::Yes
            } else {
                Verdict::Unknown
            }
        }
        Principal::Unknown if i.grants.iter().any(|g| g.level == Level::Resource) => {
            Verdict::Unknown
        }
        _ => Verdict::No,
    }));
    let disabled = match check_disabled {
        Tri::Known(true) => Verdict::Yes,
        Tri::Unknown => Verdict::Unknown,
        _ => Verdict::No,
    };
    Verdict::any([all_users, disabled])
}

/// Whether the workload's invoker check lets unauthenticated callers through.
fn open_to_anyone(
    check_disabled: &Tri<bool>,
    invokers: &Holders,
    reasons: &mut Vec<String>,
) -> Verdict {
    if *check_disabled == Tri::Known(true) {
        reasons.push("the invoker IAM check is disabled".into());
        return Verdict::Yes;
    }
    let all_users = invokers
        .iter()
        .find(|i| matches!(&i.principal, Principal::Known { member, .. } if classify(member) == MemberKind::AllUsers));
    if let Some(i) = all_users {
        if i.certain() {
            reasons.push("allUsers holds an invoker role".into());
            return Verdict::Yes;
        }
        reasons.push("allUsers may hold an invoker role (unknown role, condition or scope)".into());
        return Verdict::Unknown;
    }
    if check_disabled.is_unknown() {
        reasons.push("invoker_iam_disabled is unknown at plan time".into());
        return Verdict::Unknown;
    }
    // Project, folder and organization policies cannot hold allUsers or allAuthenticatedUsers,
    // so an unknown member there is someone, never the public.
    if invokers.iter().any(|i| {
        i.principal == Principal::Unknown && i.grants.iter().any(|g| g.level == Level::Resource)
    }) {
        reasons.push("an invoker is unknown at plan time".into());
        return Verdict::Unknown;
    }
    Verdict::No
}

/// Whether a load-balancer link of this side that cannot be resolved may lead through a
/// backend's IAP that lets anyone in: some backend of the plan with IAP on, or possibly on,
/// whose accessors may include `allUsers`. It does not depend on the workload, so it is asked
/// once per side.
pub fn unresolved_link_iap_admits(g: &SideGraph) -> Verdict {
    if !g.lb_unresolved {
        return Verdict::No;
    }
    Verdict::any(g.lb_nodes.enumerate().map(|(j, _)| {
        let backend = g.load_balancer(j);
        if backend.kind != LbKind::Backend {
            return Verdict::No;
        }
        let on = verdict(backend.iap.clone().known());
        if on == Verdict::No {
            return Verdict::No;
        }
        on.and(iap_access::admits_anyone(
            g,
            &iap_access::backend_gate(g, j),
        ))
    }))
}

/// `unresolved_iap`: [`unresolved_link_iap_admits`] of this side.
pub fn assess(
    g: &SideGraph,
    node: NodeIndex,
    w: &Workload,
    invokers: &Holders,
    unresolved_iap: Verdict,
) -> Exposure {
    if !w.kind.serves_requests() {
        // Jobs and worker pools have no URL.
        return Exposure {
            public: Verdict::No,
            anyone_allowed: Verdict::No,
            reachable: Verdict::No,
            reasons: Vec::new(),
            iap: None,
            iap_accessors: Vec::new(),
            paths: Vec::new(),
            domains: Vec::new(),
        };
    }
    let mut reasons = Vec::new();
    let paths = lb_paths(g, node);
    let domains = domain_paths(g, node);
    let open = open_to_anyone(&w.invoker_iam_disabled, invokers, &mut reasons);
    let ingress = w.ingress.clone().unwrap_or(Tri::Unknown);

    // The default run.app URL is reachable when ingress is `all` and the URL is not disabled.
    let direct = match &ingress {
        Tri::Known(Ingress::All) => match &w.default_uri_disabled {
            Tri::Known(true) => Verdict::No,
            Tri::Unknown => Verdict::Unknown,
            _ => Verdict::Yes,
        },
        Tri::Known(_) => Verdict::No,
        _ => Verdict::Unknown,
    };
    match (&ingress, direct) {
        (_, Verdict::Yes) => {
            reasons.push("ingress is `all` and the run.app URL is enabled".into());
        }
        (Tri::Known(_), Verdict::Unknown) => {
            reasons.push("whether the run.app URL is disabled is unknown at plan time".into());
        }
        (Tri::Unknown | Tri::Absent, _) => {
            reasons.push("ingress is unknown at plan time".into());
        }
        _ => {}
    }
    let lb_allowed = match &ingress {
        Tri::Known(Ingress::All | Ingress::InternalAndLoadBalancing) => Verdict::Yes,
        Tri::Known(Ingress::Internal) => Verdict::No,
        _ => Verdict::Unknown,
    };
    let mut via_lb = Vec::new();
    // Paths whose backend's IAP is on and lets anyone through.
    let mut through_backend_iap = Vec::new();
    let mut gates = Vec::new();
    for p in &paths {
        let reach = lb_allowed.and(verdict(p.external)).and(proven(p.certain));
        let v = reach.and(ungated(p.iap));
        if let (Some(backend), Some(true) | None) = (p.backend, p.iap) {
            let accessors = iap_access::backend_gate(g, backend);
            let admits = iap_access::admits_anyone(g, &accessors);
            let through = reach.and(verdict(p.iap)).and(admits);
            match through {
                Verdict::Yes => reasons.push(format!(
                    "external load balancer `{}` reaches it through IAP that admits allUsers",
                    p.forwarding_rule
                )),
                Verdict::Unknown if admits == Verdict::Yes => reasons.push(format!(
                    "load balancer `{}` may reach it through IAP that admits allUsers",
                    p.forwarding_rule
                )),
                Verdict::Unknown if admits == Verdict::Unknown => reasons.push(format!(
                    "load balancer `{}` reaches it through IAP that may admit allUsers",
                    p.forwarding_rule
                )),
                _ => {}
            }
            through_backend_iap.push(through);
            gates.push(accessors);
        }
        match v {
            Verdict::Yes => reasons.push(format!(
                "external load balancer `{}` reaches it without IAP",
                p.forwarding_rule
            )),
            Verdict::Unknown if !p.certain => reasons.push(format!(
                "load balancer `{}` may reach it: its serverless NEG cannot be tied to this \
                 service alone",
                p.forwarding_rule
            )),
            _ => {}
        }
        via_lb.push(v);
    }
    // A domain mapping serves the service on its own domain whether or not the run.app URL
    // is disabled; like that URL, it is outside any load balancer, so only ingress `all` lets
    // its traffic in.
    let domain_allowed = match &ingress {
        Tri::Known(Ingress::All) => Verdict::Yes,
        Tri::Known(_) => Verdict::No,
        _ => Verdict::Unknown,
    };
    let via_domain: Vec<Verdict> = domains
        .iter()
        .map(|d| {
            let v = domain_allowed.and(proven(d.certain));
            let domain = d.domain.as_deref().unwrap_or("(unknown)");
            match v {
                Verdict::Yes => reasons.push(format!(
                    "domain mapping `{}` serves it at `{domain}`",
                    d.address
                )),
                Verdict::Unknown if !d.certain => reasons.push(format!(
                    "domain mapping `{}` may serve it at `{domain}`",
                    d.address
                )),
                _ => {}
            }
            v
        })
        .collect();
    via_lb.extend(via_domain.iter().copied());
    // With no load balancer in the plan, one outside it may still front the service; with a
    // load-balancer link in the plan that cannot be resolved, one in the plan may. Neither
    // matters once a path outside any load balancer is proven.
    let outside_lb = Verdict::any(std::iter::once(direct).chain(via_domain.iter().copied()));
    if outside_lb != Verdict::Yes && lb_allowed != Verdict::No {
        // An unknown link in the plan is the more specific reason, when there is one.
        if g.lb_unresolved {
            reasons.push("a load-balancer link in the plan is unknown at plan time".into());
            via_lb.push(Verdict::Unknown);
        } else if paths.is_empty() {
            reasons.push("a load balancer outside the plan could reach it".into());
            via_lb.push(Verdict::Unknown);
        }
        if unresolved_iap != Verdict::No {
            // Through a backend whose IAP may let anyone in, the invoker check sees IAP's
            // agent, not the caller: the unknown link may be open even to a service that only
            // that agent may invoke.
            reasons.push(
                "an unknown load-balancer link may lead through a backend's IAP that may admit \
                 allUsers"
                    .into(),
            );
            through_backend_iap.push(Verdict::Unknown);
        }
    }
    // Paths that no backend IAP gates, and those whose backend IAP lets anyone through.
    let unprotected = Verdict::any(std::iter::once(direct).chain(via_lb));
    let through_backend_iap = Verdict::any(through_backend_iap);
    let service_iap = Verdict::from_tri(&w.iap_enabled);
    let not_service_iap = match service_iap {
        Verdict::Yes => {
            reasons.push("IAP is enabled on the service".into());
            Verdict::No
        }
        Verdict::Unknown => {
            reasons.push("whether IAP is enabled on the service is unknown at plan time".into());
            Verdict::Unknown
        }
        Verdict::No => Verdict::Yes,
    };
    let service_admits = if service_iap == Verdict::No {
        Verdict::No
    } else {
        let w_index = match g.graph[node] {
            NodeKind::Workload(i) => i,
            _ => unreachable!("assess is called on workload nodes"),
        };
        let accessors = iap_access::service_gate(g, w_index, node);
        let admits = iap_access::admits_anyone(g, &accessors);
        gates.push(accessors);
        admits
    };
    // Callers reach the service past no IAP: the invoker check sees them.
    let no_iap = unprotected.and(not_service_iap);
    // Callers pass IAP gates that let anyone through: the invoker check sees IAP's service
    // agent, which a working IAP setup lets invoke the service.
    let through_iap = Verdict::any([
        Verdict::any([unprotected, through_backend_iap])
            .and(service_iap)
            .and(service_admits),
        through_backend_iap.and(not_service_iap),
    ]);
    match service_iap.and(service_admits) {
        Verdict::Yes => reasons.push("IAP on the service admits allUsers".into()),
        Verdict::Unknown if service_admits != Verdict::No => {
            reasons.push("IAP on the service may admit allUsers".into());
        }
        _ => {}
    }
    let behind_iap = if through_iap == Verdict::No {
        Verdict::No
    } else {
        past_iap(open, invokers, &mut reasons)
    };
    let reachable = Verdict::any([no_iap, through_iap]);
    let public = Verdict::any([open.and(no_iap), behind_iap.and(through_iap)]);
    let unprotected_domain = Verdict::any(via_domain);
    let iap = match iap_verdict(service_iap, direct, unprotected_domain, &paths) {
        // IAP on every load balancer cannot be proven while one link is unknown.
        Some(true) if service_iap != Verdict::Yes && g.lb_unresolved => None,
        other => other,
    };
    Exposure {
        public,
        anyone_allowed: anyone_allowed(&w.invoker_iam_disabled, invokers),
        reachable,
        reasons: if public == Verdict::No && open == Verdict::No {
            Vec::new()
        } else {
            reasons
        },
        iap,
        iap_accessors: iap_access::merge(gates),
        paths,
        domains,
    }
}

/// Whether Cloud Run's invoker check lets a request through once it has passed IAP: IAP calls
/// the service as its own service agent, so the check passes when it is open to anyone or the
/// agent holds an invoker role. Every working IAP setup grants the agent that role, here or
/// outside the plan, so without a grant in the plan the answer is unknown, never no.
fn past_iap(open: Verdict, invokers: &Holders, reasons: &mut Vec<String>) -> Verdict {
    if open == Verdict::Yes {
        return Verdict::Yes;
    }
    let agent = invokers.iter().find(|i| {
        matches!(&i.principal, Principal::Known { member, .. } if iap_access::is_iap_agent(member))
    });
    match agent {
        Some(a) if a.certain() => {
            reasons.push("IAP's service agent holds an invoker role".into());
            Verdict::Yes
        }
        _ => {
            reasons
                .push("whether IAP's service agent may invoke it is not proven by the plan".into());
            Verdict::Unknown
        }
    }
}

fn verdict(b: Option<bool>) -> Verdict {
    match b {
        Some(true) => Verdict::Yes,
        Some(false) => Verdict::No,
        None => Verdict::Unknown,
    }
}

/// A path without IAP on its backend.
fn ungated(iap: Option<bool>) -> Verdict {
    match iap {
        Some(true) => Verdict::No,
        Some(false) => Verdict::Yes,
        None => Verdict::Unknown,
    }
}

/// A path the plan proves, or one it only may be.
fn proven(certain: bool) -> Verdict {
    if certain {
        Verdict::Yes
    } else {
        Verdict::Unknown
    }
}

/// IAP protects every path: on the service itself, or on every load balancer while the
/// run.app URL is closed and no domain mapping serves the service.
fn iap_verdict(
    service_iap: Verdict,
    direct: Verdict,
    domain: Verdict,
    paths: &[LbPath],
) -> Option<bool> {
    match service_iap {
        Verdict::Yes => return Some(true),
        Verdict::Unknown => return None,
        Verdict::No => {}
    }
    if paths.is_empty() {
        return Some(false);
    }
    let lb = Verdict::any(paths.iter().map(|p| ungated(p.iap).and(proven(p.certain))));
    match Verdict::any([direct, domain, lb]) {
        Verdict::No => Some(true),
        Verdict::Yes => Some(false),
        Verdict::Unknown => None,
    }
}

/// A workload outside the plan: only the IAM that the plan manages is known.
pub fn assess_external(kind: WorkloadKind, invokers: &Holders) -> Exposure {
    let mut reasons = Vec::new();
    let public = if kind.serves_requests()
        && open_to_anyone(&Tri::Known(false), invokers, &mut reasons) != Verdict::No
    {
        reasons.push("its ingress and invoker check are outside the plan".into());
        Verdict::Unknown
    } else {
        Verdict::No
    };
    Exposure {
        public,
        anyone_allowed: anyone_allowed(&Tri::Known(false), invokers),
        reachable: Verdict::Unknown,
        reasons,
        iap: None,
        iap_accessors: Vec::new(),
        paths: Vec::new(),
        domains: Vec::new(),
    }
}

/// Walks `Fronts` and `MayFront` edges backwards from the workload to every forwarding rule.
fn lb_paths(g: &SideGraph, node: NodeIndex) -> Vec<LbPath> {
    let mut out = Vec::new();
    let mut stack: Vec<(NodeIndex, Vec<NodeIndex>, bool)> = vec![(node, Vec::new(), true)];
    while let Some((at, chain, certain)) = stack.pop() {
        // A chain has at most five pieces; a longer one is a cycle in malformed input.
        if chain.len() > 5 {
            continue;
        }
        for (src, edge) in g.incoming(at, |e| matches!(e, EdgeKind::Fronts | EdgeKind::MayFront)) {
            let mut next = chain.clone();
            next.push(src);
            let certain = certain && edge == EdgeKind::Fronts;
            let NodeKind::Lb(i) = g.graph[src] else {
                continue;
            };
            let lb = g.load_balancer(i);
            if lb.kind == LbKind::ForwardingRule {
                let pieces: Vec<_> = next
                    .iter()
                    .rev()
                    .filter_map(|n| match g.graph[*n] {
                        NodeKind::Lb(j) => Some(g.load_balancer(j)),
                        _ => None,
                    })
                    .collect();
                let backend = next.iter().rev().find_map(|n| match g.graph[*n] {
                    NodeKind::Lb(j) if g.load_balancer(j).kind == LbKind::Backend => Some(j),
                    _ => None,
                });
                let iap = backend.map_or(Tri::Known(false), |j| g.load_balancer(j).iap.clone());
                out.push(LbPath {
                    forwarding_rule: lb.address.to_string(),
                    chain: pieces.iter().map(|p| p.address.to_string()).collect(),
                    external: lb.external.clone().known(),
                    iap: iap.known(),
                    certain,
                    backend,
                });
            } else {
                stack.push((src, next, certain));
            }
        }
    }
    out.sort_by(|a, b| a.chain.cmp(&b.chain));
    out.dedup();
    out
}

/// The domain mappings that serve the workload.
fn domain_paths(g: &SideGraph, node: NodeIndex) -> Vec<DomainPath> {
    let mut out: Vec<DomainPath> = g
        .incoming(node, |e| matches!(e, EdgeKind::Fronts | EdgeKind::MayFront))
        .filter_map(|(src, edge)| {
            let NodeKind::Domain(i) = g.graph[src] else {
                return None;
            };
            let m = g.domain_mapping(i);
            Some(DomainPath {
                address: m.address.to_string(),
                domain: m.domain.clone().known(),
                certain: edge == EdgeKind::Fronts,
            })
        })
        .collect();
    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::invokers::Grant;

    fn invoker(member: &str, certain: bool) -> Invoker {
        Invoker {
            principal: Principal::Known {
                member: member.into(),
                sensitive: false,
            },
            grants: vec![Grant {
                address: "google_cloud_run_v2_service_iam_member.x".into(),
                role: "roles/run.invoker".into(),
                level: Level::Resource,
                certain,
            }],
        }
    }

    #[test]
    fn past_iap_the_invoker_check_sees_iap_s_agent() {
        let agent = "serviceAccount:service-42@gcp-sa-iap.iam.gserviceaccount.com";
        let mut reasons = Vec::new();
        // The agent certainly may invoke: whoever passes IAP gets in.
        assert_eq!(
            past_iap(
                Verdict::No,
                &Holders::from(vec![invoker(agent, true)]),
                &mut reasons
            ),
            Verdict::Yes
        );
        // No grant to the agent in the plan, or only a possible one: it may exist elsewhere.
        assert_eq!(
            past_iap(Verdict::No, &Holders::default(), &mut reasons),
            Verdict::Unknown
        );
        assert_eq!(
            past_iap(
                Verdict::No,
                &Holders::from(vec![invoker(agent, false)]),
                &mut reasons
            ),
            Verdict::Unknown
        );
        // An invoker check open to anyone lets IAP's agent in too.
        assert_eq!(
            past_iap(Verdict::Yes, &Holders::default(), &mut reasons),
            Verdict::Yes
        );
    }
}
