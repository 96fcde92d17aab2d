//! Load-balancer pieces that can put a Cloud Run service behind an external URL: forwarding
//! rule → target proxy → URL map → backend service (or bucket) → serverless NEG → service.

use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::{Reading, WorkloadKind, computed_str};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LbKind {
    ForwardingRule,
    Proxy,
    UrlMap,
    Backend,
    /// A backend bucket: a URL map may send traffic to one, and it reaches no workload.
    BackendBucket,
    Neg,
}

impl LbKind {
    pub const ALL: [LbKind; 6] = [
        LbKind::ForwardingRule,
        LbKind::Proxy,
        LbKind::UrlMap,
        LbKind::Backend,
        LbKind::BackendBucket,
        LbKind::Neg,
    ];

    /// The kinds of piece this one sends traffic to.
    pub fn next(self) -> &'static [LbKind] {
        match self {
            LbKind::ForwardingRule => &[LbKind::Proxy],
            LbKind::Proxy => &[LbKind::UrlMap],
            LbKind::UrlMap => &[LbKind::Backend, LbKind::BackendBucket],
            LbKind::Backend => &[LbKind::Neg],
            LbKind::BackendBucket | LbKind::Neg => &[],
        }
    }
}

/// A reference to the next piece of the chain, by value and by configuration path.
#[derive(Debug, Clone)]
pub struct LbLink {
    /// Attribute path in `configuration` expressions (`*` fans out over blocks).
    pub config_path: Vec<&'static str>,
    pub value: Tri<String>,
}

/// The serverless platform a NEG sends traffic to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// `cloud_run[0]`: Cloud Run services.
    CloudRun,
    /// `cloud_function[0]`: Cloud Functions.
    CloudFunction,
}

impl Platform {
    /// The NEG block that targets this platform.
    fn block(self) -> &'static str {
        match self {
            Platform::CloudRun => "cloud_run",
            Platform::CloudFunction => "cloud_function",
        }
    }

    /// The attribute of that block that names one target.
    fn name_key(self) -> &'static str {
        match self {
            Platform::CloudRun => "service",
            Platform::CloudFunction => "function",
        }
    }

    /// Where the target's name is set in the configuration.
    pub fn name_config_path(self) -> &'static [&'static str] {
        match self {
            Platform::CloudRun => &["cloud_run", "*", "service"],
            Platform::CloudFunction => &["cloud_function", "*", "function"],
        }
    }

    /// The placeholder of a URL mask that stands for the target's name.
    pub fn placeholder(self) -> &'static str {
        match self {
            Platform::CloudRun => "<service>",
            Platform::CloudFunction => "<function>",
        }
    }

    /// The workloads this platform's NEGs reach, when runguard reads them as workloads.
    pub fn workload_kind(self) -> Option<WorkloadKind> {
        match self {
            Platform::CloudRun => Some(WorkloadKind::Service),
            Platform::CloudFunction => Some(WorkloadKind::Function),
        }
    }
}

/// What a serverless NEG sends traffic to: one named target, or every target of its project and
/// region whose name a URL mask can parse out of a request URL.
#[derive(Debug, Clone)]
pub struct NegTarget {
    pub platform: Platform,
    /// `cloud_run[0].service` / `cloud_function[0].function`.
    pub name: Tri<String>,
    /// `url_mask`: a template such as `<service>.example.com` or `example.com/<service>`.
    pub url_mask: Tri<String>,
    /// The plan marks the mask sensitive: it is used, never printed.
    pub url_mask_sensitive: bool,
    pub project: Tri<String>,
    pub region: Tri<String>,
}

/// How IAP IAM names a backend service: project, region (regional backends only) and name.
#[derive(Debug, Clone)]
pub struct BackendName {
    pub project: Tri<String>,
    pub region: Tri<String>,
    pub name: Tri<String>,
}

impl Default for BackendName {
    fn default() -> BackendName {
        BackendName {
            project: Tri::Absent,
            region: Tri::Absent,
            name: Tri::Absent,
        }
    }
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
    /// Backend services: the `name`, `project` and, for a regional one, `region` that IAP IAM
    /// resources name it by (`Absent` elsewhere, and `region` for a global backend).
    pub backend_name: BackendName,
    /// Forwarding rules: the rule faces the internet.
    pub external: Tri<bool>,
    pub neg_target: Option<NegTarget>,
}

const TYPES: [(&str, LbKind); 11] = [
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
    ("google_compute_backend_bucket", LbKind::BackendBucket),
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
    let mut backend_name = BackendName::default();
    match kind {
        LbKind::ForwardingRule => {
            links.push(link(vec!["target"], n.key("target"))?);
            external = match n.key("load_balancing_scheme").non_empty_str()? {
                Tri::Known(s) => Tri::Known(s.starts_with("EXTERNAL")),
                Tri::Unknown => Tri::Unknown,
                // The provider default is EXTERNAL.
                Tri::Absent => Tri::Known(true),
            };
        }
        LbKind::Proxy => links.push(link(vec!["url_map"], n.key("url_map"))?),
        LbKind::UrlMap => read_url_map(n, &mut links)?,
        LbKind::Backend => {
            blocks(n, &[], "backend", &mut |b, path| {
                links.push(link(extend(path, "group"), b.key("group"))?);
                Ok(())
            })?;
            iap = read_iap(n)?;
            backend_name = BackendName {
                project: computed_str(n, "project")?,
                // The provider may store `region` as a self link.
                region: if r.rtype.contains("_region_") {
                    computed_str(n, "region")?
                        .map(|r| r.rsplit('/').next().unwrap_or(&r).to_owned())
                } else {
                    Tri::Absent
                },
                name: n.key("name").non_empty_str()?.owned(),
            };
        }
        LbKind::BackendBucket => {}
        LbKind::Neg => neg_target = read_neg_target(n)?,
    }
    links.retain(|l| !matches!(l.value, Tri::Absent));
    Ok(LbResource {
        address: r.address.clone(),
        kind,
        ids,
        links,
        iap,
        backend_name,
        external,
        neg_target,
    })
}

/// Every attribute through which a URL map (global or regional) sends traffic to a backend
/// service or bucket: its default service, route action and path matchers, and in each path
/// matcher its default service and route action, its path rules and its route rules, each with
/// its own service and route action. A route action sends traffic to its weighted backend
/// services and mirrors it to its `request_mirror_policy` backend (the mirrored backend
/// receives every request, although its answer is dropped). Redirects send traffic nowhere.
/// A path matcher that no host rule names receives no traffic.
fn read_url_map(n: &Node, links: &mut Vec<LbLink>) -> Result<(), TypeMismatch> {
    read_routes(n, &[], "default_service", "default_route_action", links)?;
    let used = matchers_named_by_host_rules(n)?;
    blocks(n, &[], "path_matcher", &mut |m, path| {
        if !used.may_name(&m.key("name").non_empty_str()?) {
            return Ok(());
        }
        read_routes(&m, path, "default_service", "default_route_action", links)?;
        for rules in ["path_rule", "route_rules"] {
            blocks(&m, path, rules, &mut |rule, path| {
                read_routes(&rule, path, "service", "route_action", links)
            })?;
        }
        Ok(())
    })
}

/// One level of a URL map: the backend its `service` attribute names and the backends of its
/// route action.
fn read_routes(
    n: &Node,
    path: &[&'static str],
    service: &'static str,
    action: &'static str,
    links: &mut Vec<LbLink>,
) -> Result<(), TypeMismatch> {
    links.push(link(extend(path, service), n.key(service))?);
    blocks(n, path, action, &mut |a, path| {
        for targets in ["weighted_backend_services", "request_mirror_policy"] {
            blocks(&a, path, targets, &mut |t, path| {
                links.push(link(
                    extend(path, "backend_service"),
                    t.key("backend_service"),
                )?);
                Ok(())
            })?;
        }
        Ok(())
    })
}

/// Reads one block, given with its configuration path.
type BlockReader<'f> = dyn FnMut(Node, &[&'static str]) -> Result<(), TypeMismatch> + 'f;

/// Calls `f` on each block of the list at `key`, with the block's configuration path. A list
/// unknown at plan time (a `dynamic` block over unknown values) may hold any block: `f` is
/// called once on the unknown list itself, so every attribute read below it is unknown and is
/// followed through the configuration, or reported as a link that cannot be followed.
fn blocks(
    n: &Node,
    path: &[&'static str],
    key: &'static str,
    f: &mut BlockReader,
) -> Result<(), TypeMismatch> {
    let list = n.key(key);
    let path = [path, &[key, "*"]].concat();
    match list.items()? {
        Tri::Known(items) => items.into_iter().try_for_each(|item| f(item, &path)),
        Tri::Unknown => f(list, &path),
        Tri::Absent => Ok(()),
    }
}

fn extend(path: &[&'static str], key: &'static str) -> Vec<&'static str> {
    [path, &[key]].concat()
}

/// The path matchers that host rules send hosts to.
enum MatcherUse {
    /// Some host rule's matcher is unknown at plan time: any matcher may be used.
    Any,
    Named(Vec<String>),
}

impl MatcherUse {
    fn may_name(&self, name: &Tri<&str>) -> bool {
        match (self, name) {
            (MatcherUse::Named(names), Tri::Known(n)) => names.iter().any(|m| m == n),
            _ => true,
        }
    }
}

fn matchers_named_by_host_rules(n: &Node) -> Result<MatcherUse, TypeMismatch> {
    let rules = match n.key("host_rule").items()? {
        Tri::Known(rules) => rules,
        Tri::Unknown => return Ok(MatcherUse::Any),
        Tri::Absent => Vec::new(),
    };
    let mut names = Vec::new();
    for rule in rules {
        match rule.key("path_matcher").non_empty_str()? {
            Tri::Known(name) => names.push(name.to_owned()),
            Tri::Unknown => return Ok(MatcherUse::Any),
            Tri::Absent => {}
        }
    }
    Ok(MatcherUse::Named(names))
}

/// The target of a serverless NEG: its `cloud_run` or `cloud_function` block. `None` for a NEG
/// of another kind (App Engine, internet, private service connect).
fn read_neg_target(n: &Node) -> Result<Option<NegTarget>, TypeMismatch> {
    for platform in [Platform::CloudRun, Platform::CloudFunction] {
        let block = match n.key(platform.block()).items()? {
            Tri::Known(items) if items.is_empty() => continue,
            Tri::Absent => continue,
            _ => n.first(platform.block()),
        };
        let project = computed_str(n, "project")?;
        // The provider stores `region` as a self link (`https://…/regions/europe-west1`).
        let region =
            computed_str(n, "region")?.map(|r| r.rsplit('/').next().unwrap_or(&r).to_owned());
        return Ok(Some(NegTarget {
            platform,
            name: block.key(platform.name_key()).non_empty_str()?.owned(),
            url_mask: block.key("url_mask").non_empty_str()?.owned(),
            url_mask_sensitive: block.key("url_mask").is_sensitive(),
            project,
            region,
        }));
    }
    Ok(None)
}

fn link(config_path: Vec<&'static str>, n: Node) -> Result<LbLink, TypeMismatch> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Side;
    use serde_json::{Value, json};

    fn read_as(rtype: &str, after: &Value, unknown: &Value) -> LbResource {
        let address = Address::parse(&format!("{rtype}.x")).expect("address");
        read(&Reading {
            address: &address,
            rtype,
            node: Node::root(after, Some(unknown), None),
            side: Side::After,
            creating: true,
            prior: None,
        })
        .expect("readable")
    }

    /// Each link as `config.path=value`, `?` for unknown.
    fn links(lb: &LbResource) -> Vec<String> {
        lb.links
            .iter()
            .map(|l| {
                let v = match &l.value {
                    Tri::Known(v) => v.rsplit('/').next().unwrap_or(v).to_owned(),
                    _ => "?".into(),
                };
                format!("{}={v}", l.config_path.join("."))
            })
            .collect()
    }

    fn bs(name: &str) -> String {
        format!("projects/p/global/backendServices/{name}")
    }

    #[test]
    fn every_route_of_a_url_map_is_a_link() {
        let action = |weighted: &str, mirror: &str| {
            json!([{
                "weighted_backend_services": [{"backend_service": bs(weighted), "weight": 100}],
                "request_mirror_policy": [{"backend_service": bs(mirror)}]
            }])
        };
        let after = json!({
            "default_route_action": action("top-weighted", "top-mirror"),
            "host_rule": [{"hosts": ["a.example.com"], "path_matcher": "used"}],
            "path_matcher": [
                {
                    "name": "used",
                    "default_service": bs("pm-default"),
                    "default_route_action": action("pm-weighted", "pm-mirror"),
                    "path_rule": [{"paths": ["/p"], "service": bs("path-rule"),
                                   "route_action": action("pr-weighted", "pr-mirror")}],
                    "route_rules": [{"priority": 1, "service": null,
                                     "route_action": action("rr-weighted", "rr-mirror")},
                                    {"priority": 2, "service": null,
                                     "url_redirect": [{"https_redirect": true}]}]
                },
                {"name": "unused", "default_service": bs("never")}
            ]
        });
        let lb = read_as("google_compute_region_url_map", &after, &json!({}));
        let pm = "path_matcher.*";
        let wb = "weighted_backend_services.*.backend_service";
        let mb = "request_mirror_policy.*.backend_service";
        assert_eq!(
            links(&lb),
            [
                format!("default_route_action.*.{wb}=top-weighted"),
                format!("default_route_action.*.{mb}=top-mirror"),
                format!("{pm}.default_service=pm-default"),
                format!("{pm}.default_route_action.*.{wb}=pm-weighted"),
                format!("{pm}.default_route_action.*.{mb}=pm-mirror"),
                format!("{pm}.path_rule.*.service=path-rule"),
                format!("{pm}.path_rule.*.route_action.*.{wb}=pr-weighted"),
                format!("{pm}.path_rule.*.route_action.*.{mb}=pr-mirror"),
                format!("{pm}.route_rules.*.route_action.*.{wb}=rr-weighted"),
                format!("{pm}.route_rules.*.route_action.*.{mb}=rr-mirror"),
            ]
        );
    }

    #[test]
    fn an_unknown_block_or_host_rule_is_followed_at_every_route_below_it() {
        let after = json!({
            "default_service": bs("default"),
            "host_rule": [{"hosts": ["a.example.com"]}],
            "path_matcher": [{"name": "m", "default_service": bs("m-default")}]
        });
        // The host rule's matcher is unknown: every matcher may be used. The matcher's route
        // rules are unknown as a whole (a dynamic block): each of their routes is unknown.
        let unknown = json!({
            "host_rule": [{"path_matcher": true}],
            "path_matcher": [{"route_rules": true}]
        });
        let lb = read_as("google_compute_url_map", &after, &unknown);
        let got = links(&lb);
        assert!(got.contains(&"path_matcher.*.default_service=m-default".to_owned()));
        assert!(got.contains(&"path_matcher.*.route_rules.*.service=?".to_owned()));
        assert!(
            got.contains(
                &"path_matcher.*.route_rules.*.route_action.*.weighted_backend_services.*.\
              backend_service=?"
                    .to_owned()
            )
        );
    }

    #[test]
    fn a_neg_names_its_target_or_masks_it() {
        let after = json!({
            "region": "https://www.googleapis.com/compute/v1/projects/p/regions/europe-west1",
            "project": "p",
            "cloud_run": [],
            "cloud_function": [{"function": "", "url_mask": "/<function>"}]
        });
        let lb = read_as(NEG_TYPE, &after, &json!({}));
        let t = lb.neg_target.expect("a serverless target");
        assert_eq!(t.platform, Platform::CloudFunction);
        assert_eq!(t.name, Tri::Absent);
        assert_eq!(t.url_mask, Tri::Known("/<function>".into()));
        assert_eq!(t.region, Tri::Known("europe-west1".into()));
        let internet = json!({"cloud_run": [], "cloud_function": [], "app_engine": []});
        assert!(
            read_as(NEG_TYPE, &internet, &json!({}))
                .neg_target
                .is_none()
        );
    }
}
