//! Cloud Run workloads: v2 services, jobs and worker pools, and the legacy v1 service whose
//! security settings are `run.googleapis.com/*` annotations.

use crate::plan::Projection::{self, All, Keys};
use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::controls::{self, Controls};
use super::{Reading, computed_str};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkloadKind {
    Service,
    Job,
    WorkerPool,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Service => "service",
            WorkloadKind::Job => "job",
            WorkloadKind::WorkerPool => "worker_pool",
        }
    }

    /// The collection segment of the resource name: `projects/P/locations/L/<collection>/N`.
    pub fn collection(self) -> &'static str {
        match self {
            WorkloadKind::Service => "services",
            WorkloadKind::Job => "jobs",
            WorkloadKind::WorkerPool => "workerPools",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    V1,
    V2,
}

impl Api {
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
    Internal,
    InternalAndLoadBalancing,
    All,
}

impl Ingress {
    pub fn as_str(self) -> &'static str {
        match self {
            Ingress::Internal => "internal",
            Ingress::InternalAndLoadBalancing => "internal-and-cloud-load-balancing",
            Ingress::All => "all",
        }
    }

    fn from_v2(s: &str) -> Option<Ingress> {
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
/// ports, resources, images, volumes, scaling, labels) is skipped while parsing.
pub fn projection(rtype: &str) -> &'static Projection {
    const CONTAINER: Projection = Keys(&[("name", All), ("env", All)]);
    const TASK: Projection = Keys(&[
        ("service_account", All),
        ("vpc_access", All),
        ("containers", CONTAINER),
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
                    Keys(&[("service_account_name", All), ("containers", CONTAINER)]),
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
fn short_name(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_owned()
}

fn read_v2(r: &Reading, kind: WorkloadKind) -> Result<Workload, TypeMismatch> {
    let n = &r.node;
    let (ingress, invoker_iam_disabled, default_uri_disabled, iap_enabled) =
        if kind == WorkloadKind::Service {
            let ingress = match n.key("ingress").non_empty_str()? {
                Tri::Known(s) => Ingress::from_v2(s).map_or(Tri::Unknown, Tri::Known),
                // O+C with the API default "all": unset on create means all.
                Tri::Unknown if r.creating => Tri::Known(Ingress::All),
                Tri::Unknown => Tri::Unknown,
                Tri::Absent => Tri::Known(Ingress::All),
            };
            (
                Some(ingress),
                n.key("invoker_iam_disabled").bool()?,
                n.key("default_uri_disabled").bool()?,
                n.key("iap_enabled").bool()?,
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
    Ok(Workload {
        address: r.address.clone(),
        kind,
        api: Api::V2,
        project: Tri::Absent,
        location: Tri::Absent,
        name: Tri::Absent,
        ingress,
        invoker_iam_disabled,
        default_uri_disabled,
        iap_enabled,
        service_account: sa_node.non_empty_str()?.owned(),
        service_account_sensitive: sa_node.is_sensitive(),
        service_account_path: path,
        creating: r.creating,
        controls: controls::read_v2(n, &revision)?,
    })
}

const INGRESS: &str = "run.googleapis.com/ingress";
const INVOKER_IAM_DISABLED: &str = "run.googleapis.com/invoker-iam-disabled";
const IAP_ENABLED: &str = "run.googleapis.com/iap-enabled";

fn read_v1(r: &Reading) -> Result<Workload, TypeMismatch> {
    let n = &r.node;
    let annotations = n.first("metadata").key("annotations");
    // Since provider 5.0 `annotations` holds only configured keys; the full map is
    // `effective_annotations`. Read the configured one first, then the effective one.
    let effective = n.first("metadata").key("effective_annotations");
    let annotation = |key: &str| -> Result<Tri<&str>, TypeMismatch> {
        match annotations.key(key).str()? {
            Tri::Absent => match effective.key(key).str()? {
                // effective_annotations is computed: unknown on create says nothing extra.
                Tri::Unknown if !annotations.is_unknown() => Ok(Tri::Absent),
                other => Ok(other),
            },
            other => Ok(other),
        }
    };
    let ingress = match annotation(INGRESS)? {
        Tri::Known(s) => Ingress::from_v1(s).map_or(Tri::Unknown, Tri::Known),
        Tri::Unknown if r.creating => Tri::Known(Ingress::All),
        Tri::Unknown => Tri::Unknown,
        // The provider strips `ingress: all` from the map: absent means all.
        Tri::Absent => Tri::Known(Ingress::All),
    };
    let flag = |t: Tri<&str>| match t {
        Tri::Known(s) => Tri::Known(s.eq_ignore_ascii_case("true")),
        Tri::Unknown if r.creating => Tri::Known(false),
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Known(false),
    };
    let sa_node = n
        .first("template")
        .first("spec")
        .key("service_account_name");
    let sa = sa_node.non_empty_str()?.owned();
    // An annotation that is unknown only because the whole map is computed on create was not
    // configured.
    let configured = |key: &str| -> Result<Tri<String>, TypeMismatch> {
        Ok(match annotation(key)? {
            Tri::Unknown if r.creating => Tri::Absent,
            other => other.owned(),
        })
    };
    let controls = controls::read_v1(n, &configured)?;
    Ok(Workload {
        address: r.address.clone(),
        kind: WorkloadKind::Service,
        api: Api::V1,
        project: Tri::Absent,
        location: Tri::Absent,
        name: Tri::Absent,
        ingress: Some(ingress),
        invoker_iam_disabled: flag(annotation(INVOKER_IAM_DISABLED)?),
        default_uri_disabled: Tri::Known(false),
        iap_enabled: flag(annotation(IAP_ENABLED)?),
        service_account: sa,
        service_account_sensitive: sa_node.is_sensitive(),
        service_account_path: &["template", "spec", "service_account_name"],
        creating: r.creating,
        controls,
    })
}
