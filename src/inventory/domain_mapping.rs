//! Cloud Run domain mappings (`google_cloud_run_domain_mapping`): a custom domain served by a
//! Cloud Run service directly, without a load balancer and whether or not its `run.app` URL is
//! disabled.

use crate::plan::{Address, Tri, TypeMismatch};

use super::{Reading, computed_str};

const TYPE: &str = "google_cloud_run_domain_mapping";

pub fn handles(rtype: &str) -> bool {
    rtype == TYPE
}

/// Where `spec[0].route_name` is set in the configuration.
pub const ROUTE_NAME_PATH: &[&str] = &["spec", "*", "route_name"];

/// One side of a domain mapping.
#[derive(Debug, Clone)]
pub struct DomainMapping {
    pub address: Address,
    /// The mapped domain (`name`); `(sensitive)` when the plan marks it so.
    pub domain: Tri<String>,
    /// `spec[0].route_name`: the name of the service the domain serves.
    pub route_name: Tri<String>,
    /// `project`, filled from the provider when unset; the API path uses it as the namespace.
    pub project: Tri<String>,
    /// `metadata[0].namespace`: the project id or number (Required).
    pub namespace: Tri<String>,
    pub location: Tri<String>,
}

pub fn read(r: &Reading) -> Result<DomainMapping, TypeMismatch> {
    let n = &r.node;
    let name = n.key("name");
    let domain = if name.is_sensitive() {
        name.non_empty_str()?.map(|_| "(sensitive)".to_owned())
    } else {
        name.non_empty_str()?.owned()
    };
    // The provider accepts a service self link and compares on the last segment.
    let route_name = n
        .first("spec")
        .key("route_name")
        .non_empty_str()?
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_owned());
    Ok(DomainMapping {
        address: r.address.clone(),
        domain,
        route_name,
        project: computed_str(n, "project")?,
        namespace: n
            .first("metadata")
            .key("namespace")
            .non_empty_str()?
            .owned(),
        location: computed_str(n, "location")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Side;
    use crate::plan::Node;
    use serde_json::json;

    #[test]
    fn reads_the_domain_its_service_and_its_scope() {
        let after = json!({
            "name": "portal.acme.com",
            "location": "europe-west1",
            "metadata": [{"namespace": "acme-prod"}],
            "spec": [{"route_name": "projects/acme-prod/locations/europe-west1/services/portal"}]
        });
        let unknown = json!({"project": true});
        let sensitive = json!({});
        let address = Address::parse("google_cloud_run_domain_mapping.portal").unwrap();
        let m = read(&Reading {
            address: &address,
            rtype: TYPE,
            node: Node::root(&after, Some(&unknown), Some(&sensitive)),
            side: Side::After,
            creating: true,
            prior: None,
        })
        .unwrap();
        assert_eq!(m.domain, Tri::Known("portal.acme.com".into()));
        assert_eq!(m.route_name, Tri::Known("portal".into()));
        assert_eq!(m.project, Tri::Unknown);
        assert_eq!(m.namespace, Tri::Known("acme-prod".into()));
        assert_eq!(m.location, Tri::Known("europe-west1".into()));
    }

    #[test]
    fn a_sensitive_domain_is_never_kept() {
        let after = json!({"name": "secret.acme.com", "spec": [{"route_name": "portal"}]});
        let sensitive = json!({"name": true});
        let address = Address::parse("google_cloud_run_domain_mapping.x").unwrap();
        let m = read(&Reading {
            address: &address,
            rtype: TYPE,
            node: Node::root(&after, None, Some(&sensitive)),
            side: Side::After,
            creating: true,
            prior: None,
        })
        .unwrap();
        assert_eq!(m.domain, Tri::Known("(sensitive)".into()));
    }
}
