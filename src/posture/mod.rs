//! For each workload and each side: the verdict, with the evidence (addresses) behind it.

pub mod controls;
pub mod exposure;
pub mod iam_admins;
pub mod iap_access;
pub mod identity;
pub mod invokers;
pub(crate) mod org_policy;
mod secret_access;
mod shared_identity;

use std::collections::BTreeMap;

use crate::graph::SideGraph;
use crate::inventory::controls::{BinaryAuthorization, VpcEgress};
use crate::inventory::{Api, Ingress, WorkloadKind};
use crate::plan::Tri;

pub use controls::{EnvSource, PlaintextSecret};
pub use exposure::{DomainPath, LbPath};
pub use identity::{HeldRole, IdentityPosture};
pub use invokers::{Conflict, Holders, Invoker};
pub use org_policy::OrgGuards;

/// Yes, no, or not knowable at plan time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// The plan proves it is not so.
    No,
    /// The plan leaves it open.
    Unknown,
    /// The plan proves it.
    Yes,
}

impl Verdict {
    /// The spelling the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Yes => "yes",
            Verdict::No => "no",
            Verdict::Unknown => "unknown",
        }
    }

    /// Any of several alternatives: yes if one is yes, unknown if one is unknown.
    pub fn any(items: impl IntoIterator<Item = Verdict>) -> Verdict {
        items.into_iter().max().unwrap_or(Verdict::No)
    }

    /// Both must hold.
    pub fn and(self, other: Verdict) -> Verdict {
        self.min(other)
    }

    /// The verdict of a tri-state boolean.
    pub fn from_tri(t: &Tri<bool>) -> Verdict {
        match t {
            Tri::Known(true) => Verdict::Yes,
            Tri::Known(false) | Tri::Absent => Verdict::No,
            Tri::Unknown => Verdict::Unknown,
        }
    }
}

/// A control's value on one side: known, or left open by the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting<T> {
    /// The plan gives the value.
    Set(T),
    /// The plan leaves it open.
    Unknown,
}

impl<T> Setting<T> {
    fn from_tri(t: Tri<T>) -> Setting<T> {
        match t {
            Tri::Known(v) => Setting::Set(v),
            _ => Setting::Unknown,
        }
    }
}

impl Setting<BinaryAuthorization> {
    /// `enforced`, `breakglass`, `off` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Setting::Set(b) => b.as_str(),
            Setting::Unknown => "unknown",
        }
    }
}

impl Setting<VpcEgress> {
    /// `none`, `private-ranges-only`, `all-traffic` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Setting::Set(e) => e.as_str(),
            Setting::Unknown => "unknown",
        }
    }
}

/// A workload's ingress as reported: a setting, or unknown at plan time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngressValue {
    /// A known ingress setting.
    Set(Ingress),
    /// Not knowable at plan time.
    Unknown,
}

impl IngressValue {
    /// The spelling the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            IngressValue::Set(i) => i.as_str(),
            IngressValue::Unknown => "unknown",
        }
    }
}

/// How a workload is identified across sides.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct WorkloadId {
    /// The Terraform address, or the resource id of a workload outside the plan.
    pub address: String,
    /// Service, job, worker pool or function.
    pub kind: WorkloadKind,
    /// The API family it is declared with.
    pub api: Api,
    /// The workload is not managed by this plan; only IAM on it is.
    pub external: bool,
}

/// One side of one workload.
#[derive(Debug, Clone)]
pub struct Posture {
    /// Anyone on the internet can invoke it.
    pub public: Verdict,
    /// Why `public` is what it is, in a few words each.
    pub public_reasons: Vec<String>,
    /// The two halves of `public` that are settings or grants for anyone: `allUsers` or a
    /// disabled invoker check, and a path from the internet past IAP. Rules use them to tell
    /// what a plan newly opens.
    pub anyone_allowed: Verdict,
    /// Its URL can be reached from outside at all (ingress, load balancers, domain mappings).
    pub reachable: Verdict,
    /// Who can invoke it, with the grants behind each.
    pub invokers: Holders,
    /// Principals that can change the workload's IAM policy (and so make it public).
    pub iam_admins: Holders,
    /// Cloud Run's invoker IAM check is disabled.
    pub iam_check_disabled: Option<bool>,
    /// The ingress setting; `None` where the workload kind has none.
    pub ingress: Option<IngressValue>,
    /// The default `run.app` URL is disabled.
    pub default_uri_disabled: Option<bool>,
    /// Identity-Aware Proxy is enabled on the workload.
    pub iap: Option<bool>,
    /// Who passes the IAP gates in front of the workload, with the grants behind each.
    pub iap_accessors: Vec<Invoker>,
    /// The load-balancer frontends that route to it.
    pub load_balancers: Vec<LbPath>,
    /// The Cloud Run domain mappings that serve the workload.
    pub domain_mappings: Vec<DomainPath>,
    /// The runtime identity and what it can do.
    pub identity: IdentityPosture,
    /// IAM resources that fight over the same bindings.
    pub conflicts: Vec<Conflict>,
    /// Environment variables that hold secrets in plain text.
    pub plaintext_secrets: Vec<PlaintextSecret>,
    /// Binary Authorization; `None` for a workload outside the plan.
    pub binary_authorization: Option<Setting<BinaryAuthorization>>,
    /// The project's Binary Authorization policy in the plan that decides the setting above
    /// (it lets every image through, or cannot be read), when one does.
    pub binary_authorization_policy: Option<String>,
    /// Where outbound traffic goes; `None` outside the plan.
    pub vpc_egress: Option<Setting<VpcEgress>>,
    /// The plan's org policies that refuse some risky changes to this workload at apply.
    pub org_policy: OrgGuards,
    /// Every workload of this side that runs as the same user-managed service account, this
    /// one included, sorted; empty when no other workload shares it. One list shared by all
    /// its workloads: ten thousand workloads on one account must not cost ten thousand lists.
    pub shared_identity: std::sync::Arc<Vec<String>>,
    /// Where each named environment variable gets its value.
    pub env_sources: Vec<EnvSource>,
    /// The referenced secrets (`projects/P/secrets/NAME`) that no grant in the plan lets the
    /// runtime account read.
    pub secrets_without_access: Vec<String>,
}

/// The postures of every workload on both sides of the plan, before and after. When `split`,
/// each side is assessed on a thread of its own, after the long walks of each
/// ([`identity::follow_ahead`]) have had both cores.
pub fn assess_both(
    before: &SideGraph,
    after: &SideGraph,
    split: bool,
) -> (BTreeMap<WorkloadId, Posture>, BTreeMap<WorkloadId, Posture>) {
    let (before_ahead, after_ahead) = if split {
        (
            identity::follow_ahead(before, after),
            identity::follow_ahead(after, before),
        )
    } else {
        Default::default()
    };
    crate::parallel::join_if(
        split,
        || assess(before, after, before_ahead),
        || assess(after, before, after_ahead),
    )
}

/// The postures of every workload on one side; `other` is the other side of the plan, and
/// `ahead` the chains of this side followed before.
pub fn assess(
    g: &SideGraph,
    other: &SideGraph,
    ahead: identity::FollowedAhead,
) -> BTreeMap<WorkloadId, Posture> {
    let mut out = BTreeMap::new();
    let mut identities = identity::Identities::new(g, other);
    identities.adopt(ahead);
    let unresolved_iap = exposure::unresolved_link_iap_admits(g);
    // What workloads inherit, folded once per set of scopes.
    let mut inherited_invokers = invokers::Inherited::default();
    let mut inherited_admins = invokers::Inherited::default();
    for (i, w) in g.workloads() {
        let node = g.workload_nodes[i];
        let (invokers, conflicts) = invokers::collect(g, node, w.kind, &mut inherited_invokers);
        let exposure = exposure::assess(g, node, w, &invokers, unresolved_iap);
        let mut identity = identities.assess(i, w);
        let org_policy = OrgGuards::of(
            &g.inventory.org_policies,
            &g.inventory.default_accounts_actions,
            &w.project,
        )
        .with_automatic_grants(
            &g.inventory.org_policies,
            &other.inventory.org_policies,
            &g.inventory.default_accounts,
            &w.project,
        );
        identity.qualify_default_account(&org_policy);
        let binary_authorization = controls::binary_authorization(
            w,
            g.workload_project(i),
            &g.inventory.binauthz_policies,
        );
        let secrets_without_access = secret_access::missing(g, w, &identity);
        out.insert(
            WorkloadId {
                address: w.address.to_string(),
                kind: w.kind,
                api: w.api,
                external: false,
            },
            Posture {
                public: exposure.public,
                public_reasons: exposure.reasons,
                anyone_allowed: exposure.anyone_allowed,
                reachable: exposure.reachable,
                invokers,
                iam_admins: iam_admins::collect(g, node, &mut inherited_admins),
                iam_check_disabled: match w.kind {
                    WorkloadKind::Service => {
                        w.invoker_iam_disabled
                            .clone()
                            .known()
                            .or(match w.invoker_iam_disabled {
                                Tri::Absent => Some(false),
                                _ => None,
                            })
                    }
                    _ => None,
                },
                ingress: w.ingress.as_ref().map(|t| match t {
                    Tri::Known(i) => IngressValue::Set(*i),
                    _ => IngressValue::Unknown,
                }),
                default_uri_disabled: match w.kind {
                    WorkloadKind::Service => match &w.default_uri_disabled {
                        Tri::Known(b) => Some(*b),
                        Tri::Absent => Some(false),
                        Tri::Unknown => None,
                    },
                    _ => None,
                },
                iap: exposure.iap,
                iap_accessors: exposure.iap_accessors,
                load_balancers: exposure.paths,
                domain_mappings: exposure.domains,
                identity,
                conflicts,
                plaintext_secrets: controls::plaintext_secrets(w),
                binary_authorization: Some(binary_authorization.0),
                binary_authorization_policy: binary_authorization.1,
                vpc_egress: Some(controls::vpc_egress(w)),
                org_policy,
                shared_identity: Default::default(),
                env_sources: controls::env_sources(w),
                secrets_without_access,
            },
        );
    }
    for (i, e) in g.externals.enumerate() {
        let node = g.external_nodes[i];
        let (invokers, conflicts) = invokers::collect(g, node, e.kind, &mut inherited_invokers);
        let exposure = exposure::assess_external(e.kind, &invokers);
        out.insert(
            WorkloadId {
                address: e.id.clone(),
                kind: e.kind,
                api: Api::V2,
                external: true,
            },
            Posture {
                public: exposure.public,
                public_reasons: exposure.reasons,
                anyone_allowed: exposure.anyone_allowed,
                reachable: exposure.reachable,
                invokers,
                iam_admins: iam_admins::collect(g, node, &mut inherited_admins),
                iam_check_disabled: None,
                ingress: e.kind.serves_requests().then_some(IngressValue::Unknown),
                default_uri_disabled: None,
                iap: None,
                iap_accessors: Vec::new(),
                load_balancers: Vec::new(),
                domain_mappings: Vec::new(),
                identity: IdentityPosture::outside_plan(),
                conflicts,
                plaintext_secrets: Vec::new(),
                binary_authorization: None,
                binary_authorization_policy: None,
                vpc_egress: None,
                // Org policies could refuse changes to it, but its project is not known.
                org_policy: OrgGuards::default(),
                shared_identity: Default::default(),
                env_sources: Vec::new(),
                secrets_without_access: Vec::new(),
            },
        );
    }
    shared_identity::link(&mut out);
    out
}

#[cfg(test)]
pub(crate) mod tests;
