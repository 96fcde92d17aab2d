//! What names a project's Compute Engine default service account, Cloud Run's default runtime
//! identity: `data "google_project"` and `google_project` give the project number
//! (`NUMBER-compute@developer.gserviceaccount.com`), `data "google_compute_default_service_account"`
//! gives the email itself.

use crate::iam::member::default_compute_account;
use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::Reading;
use super::org_policy::PolicyParent;

/// The default compute account of one project, as far as the plan knows it.
#[derive(Debug, Clone)]
pub struct DefaultAccount {
    /// The project id.
    pub project: Tri<String>,
    /// `NUMBER-compute@developer.gserviceaccount.com`, lower-cased.
    pub email: Tri<String>,
    /// The plan creates the project (a `google_project` created or replaced), and so its
    /// default compute account, which appears once the Compute Engine API is enabled in it:
    /// the project's address and the folder or organization it is created under (`folder_id`,
    /// `org_id`), when known. Org policies in force there before the plan applies decide how
    /// that account is made.
    pub created: Option<(Address, PolicyParent)>,
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
    let mut account = read_node(r.address, &r.node)?;
    if r.creating && !r.address.data && r.address.rtype == "google_project" {
        account.created = parent(&r.node)?.map(|p| (r.address.clone(), p));
    }
    Ok(account)
}

/// `folder_id` (`123` or `folders/123`) or `org_id`; the provider refuses both. `None` when
/// neither is known: the project's parent is the provider's default or unknown.
fn parent(n: &Node) -> Result<Option<PolicyParent>, TypeMismatch> {
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_owned();
    Ok(
        match (
            n.key("folder_id").non_empty_str()?,
            n.key("org_id").non_empty_str()?,
        ) {
            (Tri::Known(f), Tri::Absent) => Some(PolicyParent::Folder(last(f))),
            (Tri::Absent, Tri::Known(o)) => Some(PolicyParent::Organization(last(o))),
            _ => None,
        },
    )
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
        project,
        email,
        created: None,
    })
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
    fn a_project_the_plan_creates_names_its_parent() {
        let address = Address::parse("google_project.sandbox").unwrap();
        let after = serde_json::json!({"project_id": "acme-sandbox", "folder_id": "folders/4471", "org_id": ""});
        let unknown = serde_json::json!({"number": true});
        let reading = |creating| {
            let r = Reading {
                address: &address,
                rtype: "google_project",
                node: Node::root(&after, Some(&unknown), None),
                side: crate::inventory::Side::After,
                creating,
                prior: None,
            };
            read_change(&r).unwrap().created
        };
        assert_eq!(
            reading(true),
            Some((address.clone(), PolicyParent::Folder("4471".into())))
        );
        assert_eq!(reading(false), None);
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
