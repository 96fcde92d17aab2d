//! Load-balancer pieces that can put a Cloud Run service behind an external URL: forwarding
//! rule → target proxy → URL map → backend service → serverless NEG → service.

use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::{Reading, computed_str};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LbKind {
    ForwardingRule,
    Proxy,
    UrlMap,
    Backend,
    Neg,
}

/// A reference to the next piece of the chain, by value and by configuration path.
#[derive(Debug, Clone)]
pub struct LbLink {
    /// Attribute path in `configuration` expressions (`*` fans out over blocks).
    pub config_path: &'static [&'static str],
    pub value: Tri<String>,
}

/// The Cloud Run service a serverless NEG points at.
#[derive(Debug, Clone)]
pub struct NegTarget {
    pub service: Tri<String>,
    pub project: Tri<String>,
    pub region: Tri<String>,
}

#[derive(Debug, Clone)]
pub struct LbResource {
    pub address: Address,
    pub kind: LbKind,
    /// The ways other resources refer to this one (`id`, `self_link`), normalised.
    pub ids: Vec<String>,
    pub links: Vec<LbLink>,
    /// Backend services: IAP is enabled on this backend.
    pub iap: Tri<bool>,
    /// Forwarding rules: the rule faces the internet.
    pub external: Tri<bool>,
    pub neg_target: Option<NegTarget>,
}

const TYPES: [(&str, LbKind); 10] = [
    (
        "google_compute_global_forwarding_rule",
        LbKind::ForwardingRule,
    ),
    ("google_compute_forwarding_rule", LbKind::ForwardingRule),
    ("google_compute_target_http_proxy", LbKind::Proxy),
    ("google_compute_target_https_proxy", LbKind::Proxy),
    ("google_compute_region_target_http_proxy", LbKind::Proxy),
    ("google_compute_region_target_https_proxy", LbKind::Proxy),
    ("google_compute_url_map", LbKind::UrlMap),
    ("google_compute_region_url_map", LbKind::UrlMap),
    ("google_compute_backend_service", LbKind::Backend),
    ("google_compute_region_backend_service", LbKind::Backend),
];
const NEG_TYPE: &str = "google_compute_region_network_endpoint_group";

pub fn handles(rtype: &str) -> bool {
    rtype == NEG_TYPE || TYPES.iter().any(|(t, _)| *t == rtype)
}

/// `https://www.googleapis.com/compute/v1/projects/p/...` and `projects/p/...` name the same
/// resource.
pub fn normalize_ref(s: &str) -> String {
    match s.find("projects/") {
        Some(i) => s[i..].to_owned(),
        None => s.to_owned(),
    }
}

pub fn read(r: &Reading) -> Result<LbResource, TypeMismatch> {
    let n = &r.node;
    let kind = if r.rtype == NEG_TYPE {
        LbKind::Neg
    } else {
        TYPES
            .iter()
            .find(|(t, _)| *t == r.rtype)
            .expect("dispatch checked the type")
            .1
    };
    let mut ids = Vec::new();
    for key in ["id", "self_link"] {
        if let Tri::Known(s) = n.key(key).non_empty_str()? {
            ids.push(normalize_ref(s));
        }
    }
    let mut links = Vec::new();
    let mut iap = Tri::Absent;
    let mut external = Tri::Absent;
    let mut neg_target = None;
    match kind {
        LbKind::ForwardingRule => {
            links.push(link(&["target"], n.key("target"))?);
            external = match n.key("load_balancing_scheme").non_empty_str()? {
                Tri::Known(s) => Tri::Known(s.starts_with("EXTERNAL")),
                Tri::Unknown => Tri::Unknown,
                // The provider default is EXTERNAL.
                Tri::Absent => Tri::Known(true),
            };
        }
        LbKind::Proxy => links.push(link(&["url_map"], n.key("url_map"))?),
        LbKind::UrlMap => {
            links.push(link(&["default_service"], n.key("default_service"))?);
            if let Tri::Known(matchers) = n.key("path_matcher").items()? {
                for m in matchers {
                    links.push(link(
                        &["path_matcher", "*", "default_service"],
                        m.key("default_service"),
                    )?);
                    if let Tri::Known(rules) = m.key("path_rule").items()? {
                        for rule in rules {
                            links.push(link(
                                &["path_matcher", "*", "path_rule", "*", "service"],
                                rule.key("service"),
                            )?);
                        }
                    }
                }
            }
        }
        LbKind::Backend => {
            match n.key("backend").items()? {
                Tri::Known(backends) => {
                    for b in backends {
                        links.push(link(&["backend", "*", "group"], b.key("group"))?);
                    }
                }
                Tri::Unknown => links.push(LbLink {
                    config_path: &["backend", "*", "group"],
                    value: Tri::Unknown,
                }),
                Tri::Absent => {}
            }
            iap = read_iap(n)?;
        }
        LbKind::Neg => {
            let cloud_run = n.first("cloud_run");
            let service = match n.key("cloud_run").items()? {
                Tri::Known(items) if items.is_empty() => None,
                _ => Some(cloud_run.key("service").non_empty_str()?.owned()),
            };
            let project = computed_str(n, "project")?;
            // The provider stores `region` as a self link (`https://…/regions/europe-west1`).
            let region =
                computed_str(n, "region")?.map(|r| r.rsplit('/').next().unwrap_or(&r).to_owned());
            neg_target = service.map(|service| NegTarget {
                service,
                project,
                region,
            });
        }
    }
    links.retain(|l| !matches!(l.value, Tri::Absent));
    Ok(LbResource {
        address: r.address.clone(),
        kind,
        ids,
        links,
        iap,
        external,
        neg_target,
    })
}

fn link(config_path: &'static [&'static str], n: Node) -> Result<LbLink, TypeMismatch> {
    Ok(LbLink {
        config_path,
        value: n.non_empty_str()?.map(normalize_ref),
    })
}

/// `iap[0].enabled`; before provider 5.x the block's presence alone meant enabled.
fn read_iap(n: &Node) -> Result<Tri<bool>, TypeMismatch> {
    Ok(match n.key("iap").items()? {
        Tri::Known(items) => match items.first() {
            None => Tri::Known(false),
            Some(block) => match block.key("enabled").bool()? {
                Tri::Absent => Tri::Known(true),
                other => other,
            },
        },
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Known(false),
    })
}
