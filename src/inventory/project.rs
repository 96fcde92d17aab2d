//! What names a project's Compute Engine default service account, Cloud Run's default runtime
//! identity: `data "google_project"` and `google_project` give the project number
//! (`NUMBER-compute@developer.gserviceaccount.com`), `data "google_compute_default_service_account"`
//! gives the email itself.

use crate::iam::member::default_compute_account;
use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::Reading;

/// The default compute account of one project, as far as the plan knows it.
#[derive(Debug, Clone)]
pub struct DefaultAccount {
    /// The project id.
    pub project: Tri<String>,
    /// `NUMBER-compute@developer.gserviceaccount.com`, lower-cased.
    pub email: Tri<String>,
}

pub fn handles(rtype: &str) -> bool {
    matches!(
        rtype,
        "google_project" | "google_compute_default_service_account"
    )
}

/// A data source read while planning (from `prior_state`).
pub fn read_prior(address: &Address, node: &Node) -> Result<DefaultAccount, TypeMismatch> {
    read_node(address, node)
}

/// A managed `google_project`, or a data source whose read is deferred.
pub fn read_change(r: &Reading) -> Result<DefaultAccount, TypeMismatch> {
    read_node(r.address, &r.node)
}

fn read_node(address: &Address, n: &Node) -> Result<DefaultAccount, TypeMismatch> {
    let (project, email) = if address.rtype == "google_project" {
        // `number` is computed: unknown until the project exists.
        (
            n.key("project_id").non_empty_str()?.owned(),
            n.key("number")
                .non_empty_str()?
                .map(default_compute_account),
        )
    } else {
        (
            n.key("project").non_empty_str()?.owned(),
            n.key("email").non_empty_str()?.map(str::to_lowercase),
        )
    };
    Ok(DefaultAccount { project, email })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(address: &str, values: serde_json::Value) -> DefaultAccount {
        let address = Address::parse(address).unwrap();
        read_prior(&address, &Node::root(&values, None, None)).unwrap()
    }

    #[test]
    fn the_project_number_names_the_default_account() {
        let d = read(
            "data.google_project.this",
            serde_json::json!({"project_id": "acme-prod", "number": "123456789012"}),
        );
        assert_eq!(d.project, Tri::Known("acme-prod".into()));
        assert_eq!(
            d.email,
            Tri::Known("123456789012-compute@developer.gserviceaccount.com".into())
        );
    }

    #[test]
    fn the_default_account_data_source_gives_the_email() {
        let d = read(
            "data.google_compute_default_service_account.default",
            serde_json::json!({
                "project": "acme-prod",
                "email": "123456789012-Compute@developer.gserviceaccount.com"
            }),
        );
        assert_eq!(d.project, Tri::Known("acme-prod".into()));
        assert_eq!(
            d.email,
            Tri::Known("123456789012-compute@developer.gserviceaccount.com".into())
        );
    }

    #[test]
    fn a_new_project_has_no_number_yet() {
        let address = Address::parse("google_project.sandbox").unwrap();
        let after = serde_json::json!({"project_id": "acme-sandbox"});
        let unknown = serde_json::json!({"number": true});
        let d = read_prior(&address, &Node::root(&after, Some(&unknown), None)).unwrap();
        assert_eq!(d.email, Tri::Unknown);
    }
}
