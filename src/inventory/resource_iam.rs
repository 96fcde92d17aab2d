//! IAM on any other Google resource: `google_*_iam_{member,binding,policy}` whose target is not
//! a Cloud Run workload, a project, folder or organization, or a service account (those are
//! [`super::iam`]'s families). Secret Manager secrets, Cloud Storage buckets, Pub/Sub topics,
//! BigQuery datasets, KMS keys, Artifact Registry repositories… all share the provider's IAM
//! framework (TPG `tpgiamresource`): the grant attributes are the same everywhere, and every
//! other attribute comes from the resource family's parent schema and names the resource
//! (`bucket`, `secret_id`, `topic`, `dataset_id`, `crypto_key_id`, `repository`, plus `project`
//! or `location` where the family has them). So the target is read generically, from whatever
//! parent attributes the object has.

use crate::plan::{Node, Tri, TypeMismatch};

use super::iam::{IamResource, IamTarget, read_grant};
use super::{Reading, computed_str};

/// Attributes every IAM resource has, whatever its family: the grant and computed bookkeeping.
const GRANT_ATTRIBUTES: [&str; 7] = [
    "role",
    "member",
    "members",
    "policy_data",
    "condition",
    "etag",
    "id",
];

/// Parent attributes that place a resource rather than name it.
const SCOPE_ATTRIBUTES: [&str; 4] = ["project", "location", "region", "zone"];

/// The types of the Secret Manager secret family, whose target [`ResourceTarget::secret`] reads.
pub const SECRET: &str = "google_secret_manager_secret";

/// Whether `rtype` is IAM on a resource: `google_X_iam_{member,binding,policy}`, for any `X`
/// that [`super::iam`] does not read as a workload, scope or account family.
pub fn handles(rtype: &str) -> bool {
    !super::iam::handles(rtype) && split(rtype).is_some()
}

/// `google_storage_bucket_iam_member` → (`google_storage_bucket`, `member`).
fn split(rtype: &str) -> Option<(&str, &str)> {
    let (resource, style) = rtype.rsplit_once("_iam_")?;
    (resource.starts_with("google_") && matches!(style, "member" | "binding" | "policy"))
        .then_some((resource, style))
}

/// The resource an IAM resource is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTarget {
    /// The governed resource's type: the IAM type without `_iam_{member,binding,policy}`
    /// (`google_storage_bucket`, `google_secret_manager_secret`).
    pub rtype: String,
    /// The attributes that name the resource, as written (`b/NAME` and `NAME` are the same
    /// bucket, the provider writes the first back), joined with `/` in attribute order when
    /// the family has several (`dataset_id/table_id`). Unknown when any is.
    pub id: Tri<String>,
    /// Some naming attribute is sensitive: the id is never printed.
    pub id_sensitive: bool,
    /// `project`, when the family has it; an unset one is filled by the provider at apply.
    pub project: Tri<String>,
    /// The naming attributes, for configuration look-ups.
    pub attributes: Vec<String>,
}

impl ResourceTarget {
    /// The name of the resource, whatever form the id was written in: the last segment of a
    /// path (`b/acme-uploads` → `acme-uploads`, `projects/p/topics/t` → `t`). Grants on the
    /// same resource compare equal across sides by it although the provider writes back a
    /// longer form than the configuration used.
    pub fn short_id(&self) -> Option<&str> {
        match &self.id {
            Tri::Known(id) => Some(id.rsplit('/').next().unwrap_or(id)),
            _ => None,
        }
    }

    /// A Secret Manager secret's project and name, from `secret_id` as
    /// `projects/P/secrets/N`, `P/N` or `N` (with `project`). `None` for another family, or
    /// when either part is unknown.
    pub fn secret(&self) -> Option<(String, String)> {
        if self.rtype != SECRET {
            return None;
        }
        let id = self.id.clone().known()?;
        if let Some(rest) = id.strip_prefix("projects/") {
            let (p, n) = rest.split_once("/secrets/")?;
            return Some((p.to_owned(), n.to_owned()));
        }
        if let Some((p, n)) = id.split_once('/') {
            return Some((p.to_owned(), n.to_owned()));
        }
        Some((self.project.clone().known()?, id))
    }
}

pub fn read(r: &Reading) -> Result<IamResource, TypeMismatch> {
    let (resource, style) = split(r.rtype).expect("dispatch checked the type");
    let n = &r.node;
    Ok(IamResource {
        address: r.address.clone(),
        target: IamTarget::Resource(read_target(n, resource)?),
        grant: read_grant(n, style)?,
    })
}

fn read_target(n: &Node, resource: &str) -> Result<ResourceTarget, TypeMismatch> {
    let naming: Vec<(&str, Node)> = match n.entries()? {
        Tri::Known(entries) => entries
            .into_iter()
            .filter(|(k, _)| !GRANT_ATTRIBUTES.contains(k) && !SCOPE_ATTRIBUTES.contains(k))
            .collect(),
        _ => Vec::new(),
    };
    let mut parts = Vec::new();
    let mut id_sensitive = false;
    let mut unknown = naming.is_empty();
    for (_, node) in &naming {
        match node.non_empty_str()? {
            Tri::Known(v) => parts.push(v),
            _ => unknown = true,
        }
        id_sensitive |= node.is_sensitive();
    }
    let id = if unknown {
        Tri::Unknown
    } else {
        let joined = parts.join("/");
        // A bucket is `b/NAME` once the provider has written its resource id back.
        Tri::Known(match joined.strip_prefix("b/") {
            Some(name) if resource == "google_storage_bucket" => name.to_owned(),
            _ => joined,
        })
    };
    Ok(ResourceTarget {
        rtype: resource.to_owned(),
        id,
        id_sensitive,
        project: computed_str(n, "project")?.map(|p| p.rsplit('/').next().unwrap_or(&p).to_owned()),
        attributes: naming.iter().map(|(k, _)| (*k).to_owned()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Side;
    use crate::plan::Address;
    use serde_json::json;

    fn target(rtype: &str, after: serde_json::Value, unknown: serde_json::Value) -> ResourceTarget {
        let address = Address::parse(&format!("{rtype}.x")).unwrap();
        let r = Reading {
            address: &address,
            rtype,
            node: Node::root(&after, Some(&unknown), None),
            side: Side::After,
            creating: true,
            prior: None,
        };
        match read(&r).unwrap().target {
            IamTarget::Resource(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_other_resources_iam_is_read_here() {
        for rtype in [
            "google_storage_bucket_iam_member",
            "google_secret_manager_secret_iam_binding",
            "google_kms_crypto_key_iam_policy",
            "google_bigquery_dataset_iam_member",
        ] {
            assert!(handles(rtype), "{rtype}");
        }
        for rtype in [
            "google_project_iam_member",
            "google_service_account_iam_binding",
            "google_cloud_run_v2_service_iam_policy",
            "google_project_iam_custom_role",
            "google_project_iam_member_remove",
            "google_project_iam_audit_config",
            "google_storage_bucket",
        ] {
            assert!(!handles(rtype), "{rtype}");
        }
    }

    #[test]
    fn a_bucket_is_the_same_in_both_forms_and_a_table_names_its_dataset() {
        let t = target(
            "google_storage_bucket_iam_member",
            json!({"bucket": "b/acme-uploads", "role": "roles/storage.admin", "member": "user:a@acme.com", "condition": []}),
            json!({"etag": true, "id": true}),
        );
        assert_eq!(t.id, Tri::Known("acme-uploads".into()));
        let table = target(
            "google_bigquery_table_iam_member",
            json!({"dataset_id": "sales", "table_id": "orders", "project": "projects/acme-prod", "role": "roles/bigquery.dataViewer", "member": "user:a@acme.com", "condition": []}),
            json!({}),
        );
        assert_eq!(table.id, Tri::Known("sales/orders".into()));
        assert_eq!(table.project, Tri::Known("acme-prod".into()));
        assert_eq!(table.short_id(), Some("orders"));
    }

    #[test]
    fn an_unknown_key_id_is_unknown_and_a_secret_has_a_project() {
        let key = target(
            "google_kms_crypto_key_iam_member",
            json!({"role": "roles/cloudkms.admin", "member": "user:a@acme.com", "condition": []}),
            json!({"crypto_key_id": true, "etag": true, "id": true}),
        );
        assert_eq!(key.id, Tri::Unknown);
        assert_eq!(key.attributes, vec!["crypto_key_id"]);
        let secret = target(
            "google_secret_manager_secret_iam_member",
            json!({"secret_id": "db", "project": "acme-prod", "role": "roles/secretmanager.secretAccessor", "member": "user:a@acme.com", "condition": []}),
            json!({}),
        );
        assert_eq!(secret.secret(), Some(("acme-prod".into(), "db".into())));
        assert_eq!(key.secret(), None);
        let with_id = |id: &str, project: Tri<String>| ResourceTarget {
            id: Tri::Known(id.into()),
            project,
            ..secret.clone()
        };
        let shared = Some(("acme-shared".into(), "db".into()));
        assert_eq!(with_id("acme-shared/db", Tri::Unknown).secret(), shared);
        assert_eq!(
            with_id("projects/acme-shared/secrets/db", Tri::Unknown).secret(),
            shared
        );
        assert_eq!(with_id("db", Tri::Unknown).secret(), None);
    }
}
