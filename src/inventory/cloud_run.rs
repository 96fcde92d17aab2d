//! Cloud Run workloads: v2 services, jobs and worker pools, and the legacy v1 service whose
//! security settings are `run.googleapis.com/*` annotations. Cloud Functions gen2, which run on
//! a Cloud Run service, are read into the same shape by [`super::function`].

use crate::plan::Projection::{self, All, Keys};
use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::controls::{self, BinaryAuthorization, Controls, VpcEgress};
use super::defaults::{UnknownValue, unknown_value};
use super::{Reading, computed_str};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
/// What kind of workload a resource is.
pub enum WorkloadKind {
    /// A Cloud Run service.
    Service,
    /// A Cloud Run job.
    Job,
    /// A Cloud Run worker pool.
    WorkerPool,
    /// A Cloud Functions gen2 function: a Cloud Run service managed through the Cloud Functions
    /// API, reached at its run.app and cloudfunctions.net URLs.
    Function,
}

impl WorkloadKind {
    /// The name the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Service => "service",
            WorkloadKind::Job => "job",
            WorkloadKind::WorkerPool => "worker_pool",
            WorkloadKind::Function => "function",
        }
    }

    /// Serves requests at a URL, so that invokers, ingress and IAP decide who reaches it:
    /// services and functions, not jobs or worker pools.
    pub fn serves_requests(self) -> bool {
        matches!(self, WorkloadKind::Service | WorkloadKind::Function)
    }

    /// The collection segment of the resource name: `projects/P/locations/L/<collection>/N`.
    pub fn collection(self) -> &'static str {
        match self {
            WorkloadKind::Service => "services",
            WorkloadKind::Job => "jobs",
            WorkloadKind::WorkerPool => "workerPools",
            WorkloadKind::Function => "functions",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
/// The Cloud Run API (resource family) a workload is declared with.
pub enum Api {
    /// `google_cloud_run_service` and its IAM (Knative-style v1).
    V1,
    /// `google_cloud_run_v2_*`.
    V2,
}

impl Api {
    /// The name the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::V1 => "v1",
            Api::V2 => "v2",
        }
    }
}

/// A service's ingress setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ingress {
    /// Only from the VPC and internal sources.
    Internal,
    /// Internal sources and Cloud Load Balancing.
    InternalAndLoadBalancing,
    /// From anywhere.
    All,
}

impl Ingress {
    /// The spelling the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Ingress::Internal => "internal",
            Ingress::InternalAndLoadBalancing => "internal-and-cloud-load-balancing",
            Ingress::All => "all",
        }
    }

    pub(crate) fn from_v2(s: &str) -> Option<Ingress> {
        Some(match s {
            "INGRESS_TRAFFIC_ALL" => Ingress::All,
            "INGRESS_TRAFFIC_INTERNAL_ONLY" => Ingress::Internal,
            "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" => Ingress::InternalAndLoadBalancing,
            _ => return None,
        })
    }

    fn from_v1(s: &str) -> Option<Ingress> {
        Some(match s {
            "all" => Ingress::All,
            "internal" => Ingress::Internal,
            "internal-and-cloud-load-balancing" => Ingress::InternalAndLoadBalancing,
            _ => return None,
        })
    }
}

/// One side of a Cloud Run workload, as the plan states it.
#[derive(Debug, Clone)]
pub struct Workload {
    pub address: Address,
    pub kind: WorkloadKind,
    pub api: Api,
    pub project: Tri<String>,
    pub location: Tri<String>,
    pub name: Tri<String>,
    /// For a function, the name of the Cloud Run service it runs on, which Cloud Run IAM names;
    /// absent for Cloud Run workloads.
    pub backing_service: Tri<String>,
    /// `None` for jobs and worker pools, which have no ingress.
    pub ingress: Option<Tri<Ingress>>,
    pub invoker_iam_disabled: Tri<bool>,
    pub default_uri_disabled: Tri<bool>,
    pub iap_enabled: Tri<bool>,
    /// The runtime service account email as written; unknown or absent means the analysis has
    /// to decide between the implicit default and a reference (see the graph stage).
    pub service_account: Tri<String>,
    /// The plan marks the service account value sensitive: it is used, never printed.
    pub service_account_sensitive: bool,
    /// Where `service_account` lives, for configuration lookups (`template.service_account`).
    pub service_account_path: &'static [&'static str],
    /// This side is being created by the plan.
    pub creating: bool,
    pub controls: Controls,
    /// Attributes with an API default that the plan shows as unknown. Whether each is its
    /// default or truly unknown depends on the configuration, which the plan gives after the
    /// resource changes: [`Workload::settle_defaults`] decides once it is read.
    pub open_defaults: Vec<OpenDefault>,
}

/// The API default of an attribute, by attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiDefault {
    Ingress(Ingress),
    InvokerIamDisabled(bool),
    DefaultUriDisabled(bool),
    IapEnabled(bool),
    BinaryAuthorization(BinaryAuthorization),
    VpcEgress(VpcEgress),
    /// The v1 revision declares no secret alias (`run.googleapis.com/secrets`): every
    /// reference names a secret of the service's project.
    NoSecretAliases,
}

/// An attribute that reads unknown, its default, and where the configuration would set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenDefault {
    pub default: ApiDefault,
    /// The attribute's path in the resource's configuration expressions (for a v1 annotation,
    /// the annotation map that is unknown as a whole).
    pub path: &'static [&'static str],
}

impl Workload {
    /// The name by which IAM of `kind` names this workload: its own name, or for a function
    /// the name of its backing service, which `google_cloud_run_*_service_iam_*` name.
    pub fn name_for(&self, kind: WorkloadKind) -> Option<&Tri<String>> {
        match (self.kind, kind) {
            (own, wanted) if own == wanted => Some(&self.name),
            (WorkloadKind::Function, WorkloadKind::Service) => Some(&self.backing_service),
            _ => None,
        }
    }

    /// Every (kind, name) by which workload IAM reaches this workload: its own, and for a
    /// function also Cloud Run service IAM naming its backing service.
    pub fn iam_names(&self) -> impl Iterator<Item = (WorkloadKind, &Tri<String>)> {
        let backing = (self.kind == WorkloadKind::Function)
            .then_some((WorkloadKind::Service, &self.backing_service));
        std::iter::once((self.kind, &self.name)).chain(backing)
    }

    /// Settles every open default by the shared rule ([`unknown_value`]): an attribute that
    /// `is_configured` says has no expression, on a workload being created, takes its API
    /// default; any other stays unknown.
    pub fn settle_defaults(&mut self, is_configured: &dyn Fn(&Address, &[&str]) -> bool) {
        for open in std::mem::take(&mut self.open_defaults) {
            let configured = is_configured(&self.address, open.path);
            if unknown_value(self.creating, configured) != UnknownValue::ApiDefault {
                continue;
            }
            match open.default {
                ApiDefault::Ingress(i) => self.ingress = Some(Tri::Known(i)),
                ApiDefault::InvokerIamDisabled(b) => self.invoker_iam_disabled = Tri::Known(b),
                ApiDefault::DefaultUriDisabled(b) => self.default_uri_disabled = Tri::Known(b),
                ApiDefault::IapEnabled(b) => self.iap_enabled = Tri::Known(b),
                ApiDefault::BinaryAuthorization(b) => {
                    self.controls.binary_authorization = Tri::Known(b)
                }
                ApiDefault::VpcEgress(e) => self.controls.vpc_egress = Tri::Known(e),
                ApiDefault::NoSecretAliases => {
                    if let Some(secrets) = self.controls.secrets_without_aliases.take() {
                        self.controls.secrets = secrets;
                    }
                }
            }
        }
    }
}

/// Records `default` as open when the attribute reads unknown.
pub(crate) fn note_open(
    open: &mut Vec<OpenDefault>,
    unknown: bool,
    default: ApiDefault,
    path: &'static [&'static str],
) {
    if unknown {
        open.push(OpenDefault { default, path });
    }
}

const TYPES: [(&str, WorkloadKind, Api); 4] = [
    (
        "google_cloud_run_v2_service",
        WorkloadKind::Service,
        Api::V2,
    ),
    ("google_cloud_run_v2_job", WorkloadKind::Job, Api::V2),
    (
        "google_cloud_run_v2_worker_pool",
        WorkloadKind::WorkerPool,
        Api::V2,
    ),
    ("google_cloud_run_service", WorkloadKind::Service, Api::V1),
];

pub fn handles(rtype: &str) -> bool {
    TYPES.iter().any(|(t, _, _)| *t == rtype)
}

/// The attributes of a workload that the analysis reads; the rest of a workload (probes,
/// ports, resources, images, scaling, labels) is skipped while parsing.
pub fn projection(rtype: &str) -> &'static Projection {
    const CONTAINER: Projection = Keys(&[("name", All), ("env", All)]);
    // Volumes are kept for the secrets they mount.
    const TASK: Projection = Keys(&[
        ("service_account", All),
        ("vpc_access", All),
        ("containers", CONTAINER),
        ("volumes", All),
    ]);
    static V2: Projection = Keys(&[
        ("name", All),
        ("project", All),
        ("location", All),
        ("ingress", All),
        ("invoker_iam_disabled", All),
        ("default_uri_disabled", All),
        ("iap_enabled", All),
        ("binary_authorization", All),
        // A job's task template sits one level deeper: template[0].template[0].
        (
            "template",
            Keys(&[
                ("service_account", All),
                ("vpc_access", All),
                ("containers", CONTAINER),
                ("volumes", All),
                ("template", TASK),
            ]),
        ),
    ]);
    static V1: Projection = Keys(&[
        ("name", All),
        ("project", All),
        ("location", All),
        ("metadata", All),
        (
            "template",
            Keys(&[
                ("metadata", All),
                (
                    "spec",
                    Keys(&[
                        ("service_account_name", All),
                        ("containers", CONTAINER),
                        // Secret volumes name the secrets the revision reads.
                        ("volumes", All),
                    ]),
                ),
            ]),
        ),
    ]);
    if rtype == "google_cloud_run_service" {
        &V1
    } else {
        &V2
    }
}

pub fn read(r: &Reading) -> Result<Workload, TypeMismatch> {
    let (_, kind, api) = *TYPES
        .iter()
        .find(|(t, _, _)| *t == r.rtype)
        .expect("dispatch checked the type");
    let n = &r.node;
    let name = n.key("name").str()?.map(short_name);
    let project = computed_str(n, "project")?;
    let location = computed_str(n, "location")?;
    let workload = match api {
        Api::V2 => read_v2(r, kind)?,
        Api::V1 => read_v1(r)?,
    };
    Ok(Workload {
        address: r.address.clone(),
        name,
        project,
        location,
        creating: r.creating,
        ..workload
    })
}

/// The provider accepts a full resource path in `name` and compares on the last segment.
pub(crate) fn short_name(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_owned()
}

fn read_v2(r: &Reading, kind: WorkloadKind) -> Result<Workload, TypeMismatch> {
    let n = &r.node;
    let mut open = Vec::new();
    let (ingress, invoker_iam_disabled, default_uri_disabled, iap_enabled) =
        if kind == WorkloadKind::Service {
            let ingress = match n.key("ingress").non_empty_str()? {
                Tri::Known(s) => Ingress::from_v2(s).map_or(Tri::Unknown, Tri::Known),
                // O+C: unknown is the API default "all" only when the configuration leaves it
                // unset on create (see `open`).
                Tri::Unknown => Tri::Unknown,
                Tri::Absent => Tri::Known(Ingress::All),
            };
            let invoker_iam_disabled = n.key("invoker_iam_disabled").bool()?;
            let default_uri_disabled = n.key("default_uri_disabled").bool()?;
            let iap_enabled = n.key("iap_enabled").bool()?;
            note_open(
                &mut open,
                ingress.is_unknown(),
                ApiDefault::Ingress(Ingress::All),
                &["ingress"],
            );
            note_open(
                &mut open,
                invoker_iam_disabled.is_unknown(),
                ApiDefault::InvokerIamDisabled(false),
                &["invoker_iam_disabled"],
            );
            note_open(
                &mut open,
                default_uri_disabled.is_unknown(),
                ApiDefault::DefaultUriDisabled(false),
                &["default_uri_disabled"],
            );
            note_open(
                &mut open,
                iap_enabled.is_unknown(),
                ApiDefault::IapEnabled(false),
                &["iap_enabled"],
            );
            (
                Some(ingress),
                invoker_iam_disabled,
                default_uri_disabled,
                iap_enabled,
            )
        } else {
            (None, Tri::Absent, Tri::Absent, Tri::Absent)
        };
    // A job's task template is one level deeper than a service's revision template.
    let (revision, path): (Node, &'static [&'static str]) = match kind {
        WorkloadKind::Job => (
            n.first("template").first("template"),
            &["template", "template", "service_account"],
        ),
        _ => (n.first("template"), &["template", "service_account"]),
    };
    let sa_node = revision.key("service_account");
    let controls = controls::read_v2(n, &revision, kind == WorkloadKind::Job, &mut open)?;
    Ok(Workload {
        address: r.address.clone(),
        kind,
        api: Api::V2,
        project: Tri::Absent,
        location: Tri::Absent,
        name: Tri::Absent,
        backing_service: Tri::Absent,
        ingress,
        invoker_iam_disabled,
        default_uri_disabled,
        iap_enabled,
        service_account: sa_node.non_empty_str()?.owned(),
        service_account_sensitive: sa_node.is_sensitive(),
        service_account_path: path,
        creating: r.creating,
        controls,
        open_defaults: open,
    })
}

const INGRESS: &str = "run.googleapis.com/ingress";
const INVOKER_IAM_DISABLED: &str = "run.googleapis.com/invoker-iam-disabled";
const IAP_ENABLED: &str = "run.googleapis.com/iap-enabled";
const DEFAULT_URL_DISABLED: &str = "run.googleapis.com/default-url-disabled";

/// Where the v1 service annotations are set in the configuration.
pub(crate) const ANNOTATIONS_PATH: &[&str] = &["metadata", "annotations"];

/// A v1 service annotation that the configuration does not set, while `effective_annotations`
/// is unknown. A new object has only the configured keys (and Google's own), so it is absent.
/// On an update the provider plans the effective map as the prior one with the configured keys
/// applied: a key the configuration set before and no longer sets is removed, any other keeps
/// its prior effective value (set outside Terraform, it stays). Without the prior map it is
/// unknown, never its default.
fn unconfigured_annotation<'v>(
    r: &Reading<'_, 'v>,
    key: &'static str,
) -> Result<Tri<&'v str>, TypeMismatch> {
    if r.creating {
        return Ok(Tri::Absent);
    }
    let Some(prior) = &r.prior else {
        return Ok(Tri::Unknown);
    };
    let metadata = prior.first("metadata");
    if let Tri::Known(_) = metadata.key("annotations").key(key).str()? {
        return Ok(Tri::Absent);
    }
    metadata.key("effective_annotations").key(key).str()
}

fn read_v1(r: &Reading) -> Result<Workload, TypeMismatch> {
    let n = &r.node;
    let annotations = n.first("metadata").key("annotations");
    // Since provider 5.0 `annotations` holds only configured keys; the full map is
    // `effective_annotations`. Read the configured one first, then the effective one.
    let effective = n.first("metadata").key("effective_annotations");
    let annotation = |key: &'static str| -> Result<Tri<String>, TypeMismatch> {
        Ok(match annotations.key(key).str()? {
            Tri::Absent => match effective.key(key).str()? {
                Tri::Unknown if !annotations.is_unknown() => unconfigured_annotation(r, key)?,
                other => other,
            },
            other => other,
        }
        .owned())
    };
    // An annotation that is unknown in a known map is set to something unknown. When the whole
    // map is unknown (`metadata` is O+C), whether any key is set depends on the configuration:
    // each unknown setting is an open default of the map.
    let mut open = Vec::new();
    let map_unknown = annotations.is_unknown();
    let mut note = |unknown: bool, default| {
        if map_unknown {
            note_open(&mut open, unknown, default, ANNOTATIONS_PATH);
        }
    };
    let ingress = match annotation(INGRESS)? {
        Tri::Known(s) => Ingress::from_v1(&s).map_or(Tri::Unknown, Tri::Known),
        Tri::Unknown => Tri::Unknown,
        // The provider strips `ingress: all` from the map: absent means all.
        Tri::Absent => Tri::Known(Ingress::All),
    };
    note(ingress.is_unknown(), ApiDefault::Ingress(Ingress::All));
    let flag = |t: Tri<String>| match t {
        Tri::Known(s) => Tri::Known(s.eq_ignore_ascii_case("true")),
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Known(false),
    };
    let invoker_iam_disabled = flag(annotation(INVOKER_IAM_DISABLED)?);
    note(
        invoker_iam_disabled.is_unknown(),
        ApiDefault::InvokerIamDisabled(false),
    );
    let iap_enabled = flag(annotation(IAP_ENABLED)?);
    note(iap_enabled.is_unknown(), ApiDefault::IapEnabled(false));
    let default_uri_disabled = flag(annotation(DEFAULT_URL_DISABLED)?);
    note(
        default_uri_disabled.is_unknown(),
        ApiDefault::DefaultUriDisabled(false),
    );
    let controls = controls::read_v1(n, &annotation, map_unknown, &mut open)?;
    let sa_node = n
        .first("template")
        .first("spec")
        .key("service_account_name");
    let sa = sa_node.non_empty_str()?.owned();
    Ok(Workload {
        address: r.address.clone(),
        kind: WorkloadKind::Service,
        api: Api::V1,
        project: Tri::Absent,
        location: Tri::Absent,
        name: Tri::Absent,
        backing_service: Tri::Absent,
        ingress: Some(ingress),
        invoker_iam_disabled,
        default_uri_disabled,
        iap_enabled,
        service_account: sa,
        service_account_sensitive: sa_node.is_sensitive(),
        service_account_path: &["template", "spec", "service_account_name"],
        creating: r.creating,
        controls,
        open_defaults: open,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Side;
    use serde_json::{Value, json};

    fn workload(rtype: &str, after: &Value, unknown: &Value, creating: bool) -> Workload {
        let address = Address::parse(&format!("{rtype}.x")).expect("address");
        let reading = Reading {
            address: &address,
            rtype,
            node: Node::root(after, Some(unknown), None),
            side: Side::After,
            creating,
            prior: None,
        };
        read(&reading).expect("readable")
    }

    fn settled(mut w: Workload, configured: &[&str]) -> Workload {
        w.settle_defaults(&|_, path| configured.iter().any(|c| *c == path.join(".")));
        w
    }

    #[test]
    fn an_unknown_setting_is_the_default_only_when_unset_on_create() {
        let after = json!({"template": [{"vpc_access": [{"connector": "c"}]}]});
        let unknown = json!({
            "ingress": true,
            "invoker_iam_disabled": true,
            "iap_enabled": true,
            "default_uri_disabled": true,
            "binary_authorization": true,
            "template": [{"vpc_access": [{"egress": true}]}]
        });
        let kind = "google_cloud_run_v2_service";
        let unset = settled(workload(kind, &after, &unknown, true), &[]);
        assert_eq!(unset.ingress, Some(Tri::Known(Ingress::All)));
        assert_eq!(unset.invoker_iam_disabled, Tri::Known(false));
        assert_eq!(unset.iap_enabled, Tri::Known(false));
        assert_eq!(unset.default_uri_disabled, Tri::Known(false));
        assert_eq!(
            unset.controls.binary_authorization,
            Tri::Known(BinaryAuthorization::Off)
        );
        assert_eq!(
            unset.controls.vpc_egress,
            Tri::Known(VpcEgress::PrivateRangesOnly)
        );
        let all = [
            "ingress",
            "invoker_iam_disabled",
            "iap_enabled",
            "default_uri_disabled",
            "binary_authorization",
            "template.vpc_access.egress",
        ];
        let set = settled(workload(kind, &after, &unknown, true), &all);
        assert_eq!(set.ingress, Some(Tri::Unknown));
        assert_eq!(set.invoker_iam_disabled, Tri::Unknown);
        assert_eq!(set.iap_enabled, Tri::Unknown);
        assert_eq!(set.default_uri_disabled, Tri::Unknown);
        assert_eq!(set.controls.binary_authorization, Tri::Unknown);
        assert_eq!(set.controls.vpc_egress, Tri::Unknown);
        // On an update an unknown value is being set: never the default.
        let update = settled(workload(kind, &after, &unknown, false), &[]);
        assert_eq!(update.ingress, Some(Tri::Unknown));
        assert_eq!(update.controls.vpc_egress, Tri::Unknown);
    }

    #[test]
    fn v1_secret_names_have_no_alias_only_when_the_revision_annotations_are_unset_on_create() {
        let after = json!({"template": [{"spec": [{"containers": [{"env": [
            {"name": "DB_PASSWORD", "value": "", "value_from": [
                {"secret_key_ref": [{"key": "latest", "name": "db-password"}]}
            ]}
        ]}]}]}]});
        let unknown = json!({"template": [{"metadata": true}]});
        let kind = "google_cloud_run_service";
        let unset = settled(workload(kind, &after, &unknown, true), &[]);
        assert_eq!(
            unset.controls.secrets,
            vec![Tri::Known("db-password".to_owned())]
        );
        let set = settled(
            workload(kind, &after, &unknown, true),
            &["template.metadata.annotations"],
        );
        assert_eq!(set.controls.secrets, vec![Tri::Unknown]);
        let update = settled(workload(kind, &after, &unknown, false), &[]);
        assert_eq!(update.controls.secrets, vec![Tri::Unknown]);
    }

    #[test]
    fn a_v1_annotation_unknown_in_a_known_map_is_set_to_something_unknown() {
        let after = json!({"metadata": [{"annotations": {"run.googleapis.com/ingress": "all"}}]});
        let unknown = json!({"metadata": [{
            "annotations": {"run.googleapis.com/invoker-iam-disabled": true},
            "effective_annotations": true
        }]});
        let w = settled(
            workload("google_cloud_run_service", &after, &unknown, true),
            &[],
        );
        assert_eq!(w.invoker_iam_disabled, Tri::Unknown);
        assert_eq!(w.ingress, Some(Tri::Known(Ingress::All)));
        assert_eq!(w.iap_enabled, Tri::Known(false));
    }

    #[test]
    fn an_unconfigured_v1_annotation_on_update_keeps_its_prior_effective_value() {
        const DISABLED: &str = "run.googleapis.com/invoker-iam-disabled";
        let address = Address::parse("google_cloud_run_service.x").expect("address");
        let after =
            json!({"metadata": [{"annotations": {"run.googleapis.com/launch-stage": "BETA"}}]});
        let unknown = json!({"metadata": [{"effective_annotations": true}]});
        let read_update = |prior: Option<&Value>| {
            let reading = Reading {
                address: &address,
                rtype: "google_cloud_run_service",
                node: Node::root(&after, Some(&unknown), None),
                side: Side::After,
                creating: false,
                prior: prior.map(|p| Node::root(p, None, None)),
            };
            read(&reading).expect("readable").invoker_iam_disabled
        };
        // Set outside Terraform: the provider carries it over.
        let outside = json!({"metadata": [{
            "annotations": {"run.googleapis.com/launch-stage": "BETA"},
            "effective_annotations": {DISABLED: "true", "run.googleapis.com/launch-stage": "BETA"}
        }]});
        assert_eq!(read_update(Some(&outside)), Tri::Known(true));
        // Configured before and no longer: removed, so the default.
        let removed = json!({"metadata": [{
            "annotations": {DISABLED: "true"},
            "effective_annotations": {DISABLED: "true"}
        }]});
        assert_eq!(read_update(Some(&removed)), Tri::Known(false));
        // Never set: still absent.
        let never = json!({"metadata": [{"annotations": {}, "effective_annotations": {}}]});
        assert_eq!(read_update(Some(&never)), Tri::Known(false));
        // Nothing proves the default.
        assert_eq!(read_update(None), Tri::Unknown);
    }

    #[test]
    fn a_wholly_unknown_v1_annotation_map_follows_its_configuration() {
        let after = json!({});
        let unknown = json!({"metadata": true, "template": [{"metadata": true}]});
        let kind = "google_cloud_run_service";
        let unset = settled(workload(kind, &after, &unknown, true), &[]);
        assert_eq!(unset.ingress, Some(Tri::Known(Ingress::All)));
        assert_eq!(unset.invoker_iam_disabled, Tri::Known(false));
        assert_eq!(unset.default_uri_disabled, Tri::Known(false));
        assert_eq!(unset.controls.vpc_egress, Tri::Known(VpcEgress::None));
        let set = settled(
            workload(kind, &after, &unknown, true),
            &["metadata.annotations", "template.metadata.annotations"],
        );
        assert_eq!(set.ingress, Some(Tri::Unknown));
        assert_eq!(set.invoker_iam_disabled, Tri::Unknown);
        assert_eq!(set.default_uri_disabled, Tri::Unknown);
        assert_eq!(set.controls.binary_authorization, Tri::Unknown);
        assert_eq!(set.controls.vpc_egress, Tri::Unknown);
    }

    #[test]
    fn the_v1_default_url_annotation_is_read_from_either_map() {
        let kind = "google_cloud_run_service";
        let read = |metadata: Value, unknown: Value| {
            let after = json!({ "metadata": [metadata] });
            let unknown = json!({ "metadata": [unknown] });
            settled(workload(kind, &after, &unknown, false), &[]).default_uri_disabled
        };
        let key = DEFAULT_URL_DISABLED;
        assert_eq!(
            read(json!({"annotations": {key: "true"}}), json!({})),
            Tri::Known(true)
        );
        // Since provider 5.0 a key set outside the configuration is only in the effective map.
        assert_eq!(
            read(
                json!({"annotations": null, "effective_annotations": {key: "true"}}),
                json!({})
            ),
            Tri::Known(true)
        );
        assert_eq!(
            read(json!({"annotations": {key: "false"}}), json!({})),
            Tri::Known(false)
        );
        assert_eq!(
            read(
                json!({"annotations": null, "effective_annotations": {}}),
                json!({})
            ),
            Tri::Known(false)
        );
        assert_eq!(
            read(
                json!({"annotations": {}}),
                json!({"annotations": {key: true}})
            ),
            Tri::Unknown
        );
    }
}
