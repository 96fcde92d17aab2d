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
    pub address: Address,
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
    Ok(DefaultAccount {
        address: address.clone(),
        project,
        email,
    })
}
