//! IAM on Identity-Aware Proxy web resources: who passes IAP in front of a Cloud Run service or a
//! load balancer's backend. IAP lets a request through when its caller holds
//! `iap.webServiceVersions.accessViaIAP` (`roles/iap.httpsResourceAccessor`) on the IAP resource
//! or above it; the policy of each level is its own, apart from the Cloud Run service's.
//!
//! Resource types, parent attributes and name forms, from the provider's generated updaters
//! (hashicorp/terraform-provider-google `google/services/iap/iam_iap_web*.go`, generated from
//! magic-modules `mmv1/products/iap/{Web,WebTypeCompute,CloudRunService,WebBackendService,
//! WebRegionBackendService}.yaml`):
//!
//! | type prefix | parent attributes | name forms | id |
//! |---|---|---|---|
//! | `google_iap_web_iam_` | `project` | `projects/P/iap_web`, `P` | `projects/P/iap_web` |
//! | `google_iap_web_type_compute_iam_` | `project` | `projects/P/iap_web/compute`, `P` | `projects/P/iap_web/compute` |
//! | `google_iap_web_cloud_run_service_iam_` | `project`, `location`, `cloud_run_service_name` | `projects/P/iap_web/cloud_run-L/services/S`, `P/L/S`, `L/S`, `S` | the first form |
//! | `google_iap_web_backend_service_iam_` | `project`, `web_backend_service` | `projects/P/iap_web/compute/services/B`, `P/B`, `B` | the first form |
//! | `google_iap_web_region_backend_service_iam_` | `project`, `region`, `web_region_backend_service` | `projects/P/iap_web/compute-R/services/B`, `P/R/B`, `R/B`, `B` | the first form |
//!
//! The updaters write the full id back into the name attribute, so the before side of a
//! resource already applied holds the first form.

use crate::plan::{Address, Tri, TypeMismatch};

use super::iam::{Grant, read_grant};
use super::{Reading, computed_str};

/// The IAP resource an IAM resource is attached to, by the name components its attributes give
/// (an unset `project`, `location` or `region` is filled by the provider at apply).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IapTarget {
    /// `projects/P/iap_web`: every IAP-secured web resource of the project.
    Web { project: Tri<String> },
    /// `projects/P/iap_web/compute`: every global backend service of the project (regional
    /// ones sit under `compute-REGION`, which this does not cover).
    WebTypeCompute { project: Tri<String> },
    /// IAP enabled on a Cloud Run service itself (`iap_enabled`).
    CloudRunService {
        project: Tri<String>,
        location: Tri<String>,
        name: Tri<String>,
    },
    /// IAP on a global backend service of a load balancer.
    BackendService {
        project: Tri<String>,
        name: Tri<String>,
    },
    /// IAP on a regional backend service of a load balancer.
    RegionBackendService {
        project: Tri<String>,
        region: Tri<String>,
        name: Tri<String>,
    },
}

impl IapTarget {
    /// The attribute that names the resource, for configuration lookups (`project` for the
    /// project-wide resource).
    pub fn name_attribute(&self) -> &'static str {
        match self {
            IapTarget::Web { .. } | IapTarget::WebTypeCompute { .. } => "project",
            IapTarget::CloudRunService { .. } => "cloud_run_service_name",
            IapTarget::BackendService { .. } => "web_backend_service",
            IapTarget::RegionBackendService { .. } => "web_region_backend_service",
        }
    }
}

/// One side of an IAM resource on an IAP web resource.
#[derive(Debug, Clone)]
pub struct IapIam {
    pub address: Address,
    pub target: IapTarget,
    pub grant: Grant,
}

#[derive(Clone, Copy)]
enum Family {
    Web,
    WebTypeCompute,
    CloudRunService,
    BackendService,
    RegionBackendService,
}

// Longest prefixes first: `google_iap_web_iam_` is a prefix of none of the others, but keep the
// order explicit so that a new family cannot be shadowed.
const FAMILIES: [(&str, Family); 5] = [
    (
        "google_iap_web_region_backend_service_iam_",
        Family::RegionBackendService,
    ),
    (
        "google_iap_web_backend_service_iam_",
        Family::BackendService,
    ),
    (
        "google_iap_web_cloud_run_service_iam_",
        Family::CloudRunService,
    ),
    ("google_iap_web_type_compute_iam_", Family::WebTypeCompute),
    ("google_iap_web_iam_", Family::Web),
];

fn family(rtype: &str) -> Option<(Family, &str)> {
    super::iam::family_of(&FAMILIES, rtype)
}

pub fn handles(rtype: &str) -> bool {
    family(rtype).is_some()
}

pub fn read(r: &Reading) -> Result<IapIam, TypeMismatch> {
    let (family, style) = family(r.rtype).expect("dispatch checked the type");
    let n = &r.node;
    let project = computed_str(n, "project")?;
    let target = match family {
        Family::Web => IapTarget::Web {
            project: project.map(|p| project_id(&p, "/iap_web")),
        },
        Family::WebTypeCompute => IapTarget::WebTypeCompute {
            project: project.map(|p| project_id(&p, "/iap_web/compute")),
        },
        Family::CloudRunService => {
            let location = computed_str(n, "location")?;
            let (p, l, name) = split(n.key("cloud_run_service_name").str()?, "cloud_run-");
            IapTarget::CloudRunService {
                project: p.or(project),
                location: l.or(location),
                name,
            }
        }
        Family::BackendService => {
            let (p, name) = match n.key("web_backend_service").str()? {
                Tri::Known(s) => {
                    let parts: Vec<&str> = s.split('/').collect();
                    match parts.as_slice() {
                        ["projects", p, "iap_web", "compute", "services", b] | [p, b] => {
                            (Tri::Known((*p).to_owned()), Tri::Known((*b).to_owned()))
                        }
                        _ => (Tri::Absent, Tri::Known(last(s))),
                    }
                }
                other => (Tri::Absent, other.owned()),
            };
            IapTarget::BackendService {
                project: p.or(project),
                name,
            }
        }
        Family::RegionBackendService => {
            let region = computed_str(n, "region")?;
            let (p, r, name) = split(n.key("web_region_backend_service").str()?, "compute-");
            IapTarget::RegionBackendService {
                project: p.or(project),
                region: r.or(region),
                name,
            }
        }
    };
    Ok(IapIam {
        address: r.address.clone(),
        target,
        grant: read_grant(n, style)?,
    })
}

/// Splits `projects/P/iap_web/<collection>L/services/N`, `P/L/N`, `L/N` and `N` into project,
/// location (or region) and name; a component the value does not give is absent.
fn split(value: Tri<&str>, collection: &str) -> (Tri<String>, Tri<String>, Tri<String>) {
    let s = match value {
        Tri::Known(s) => s,
        other => return (Tri::Absent, Tri::Absent, other.owned()),
    };
    let known = |v: &str| Tri::Known(v.to_owned());
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        ["projects", p, "iap_web", scope, "services", n] => match scope.strip_prefix(collection) {
            Some(l) => (known(p), known(l), known(n)),
            None => (known(p), Tri::Absent, known(n)),
        },
        [p, l, n] => (known(p), known(l), known(n)),
        [l, n] => (Tri::Absent, known(l), known(n)),
        _ => (Tri::Absent, Tri::Absent, Tri::Known(last(s))),
    }
}

/// `projects/P<suffix>` or `P` → `P`.
fn project_id(s: &str, suffix: &str) -> String {
    let p = s.strip_prefix("projects/").unwrap_or(s);
    p.strip_suffix(suffix).unwrap_or(p).to_owned()
}

fn last(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_owned()
}

trait OrTri {
    /// This component when the name gives it, else `other`.
    fn or(self, other: Tri<String>) -> Tri<String>;
}

impl OrTri for Tri<String> {
    fn or(self, other: Tri<String>) -> Tri<String> {
        match self {
            Tri::Absent => other,
            given => given,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_form_splits() {
        let k = |s: &str| Tri::Known(s.to_owned());
        assert_eq!(
            split(
                Tri::Known("projects/p/iap_web/cloud_run-eu/services/api"),
                "cloud_run-"
            ),
            (k("p"), k("eu"), k("api"))
        );
        assert_eq!(
            split(Tri::Known("p/eu/api"), "cloud_run-"),
            (k("p"), k("eu"), k("api"))
        );
        assert_eq!(
            split(Tri::Known("eu/api"), "cloud_run-"),
            (Tri::Absent, k("eu"), k("api"))
        );
        assert_eq!(
            split(Tri::Known("api"), "cloud_run-"),
            (Tri::Absent, Tri::Absent, k("api"))
        );
        assert_eq!(
            split(
                Tri::Known("projects/p/iap_web/compute-eu/services/bs"),
                "compute-"
            ),
            (k("p"), k("eu"), k("bs"))
        );
        assert_eq!(
            project_id("projects/p/iap_web/compute", "/iap_web/compute"),
            "p"
        );
        assert_eq!(project_id("p", "/iap_web"), "p");
        assert_eq!(
            split(Tri::Unknown, "compute-"),
            (Tri::Absent, Tri::Absent, Tri::Unknown)
        );
    }

    #[test]
    fn families_are_told_apart() {
        assert!(handles("google_iap_web_iam_member"));
        assert!(handles("google_iap_web_cloud_run_service_iam_policy"));
        assert!(handles("google_iap_web_backend_service_iam_binding"));
        assert!(handles("google_iap_web_region_backend_service_iam_member"));
        assert!(handles("google_iap_web_type_compute_iam_member"));
        assert!(!handles("google_iap_web_type_app_engine_iam_member"));
        assert!(!handles("google_iap_brand"));
        assert!(matches!(
            family("google_iap_web_region_backend_service_iam_member"),
            Some((Family::RegionBackendService, "member"))
        ));
    }
}
