//! Custom roles defined in the plan: `google_project_iam_custom_role` and
//! `google_organization_iam_custom_role`. They count by their permissions.

use crate::iam::Caps;
use crate::plan::{Address, Tri, TypeMismatch};

use super::Reading;

#[derive(Debug, Clone)]
pub struct CustomRole {
    pub address: Address,
    /// The role name grants use: `projects/P/roles/ID` or `organizations/O/roles/ID`.
    pub name: Tri<String>,
    /// Capabilities from the permission list; unknown when the list is.
    pub caps: Tri<Caps>,
}

pub fn handles(rtype: &str) -> bool {
    matches!(
        rtype,
        "google_project_iam_custom_role" | "google_organization_iam_custom_role"
    )
}

pub fn read(r: &Reading) -> Result<CustomRole, TypeMismatch> {
    let n = &r.node;
    let (parent_key, prefix) = if r.rtype == "google_project_iam_custom_role" {
        ("project", "projects")
    } else {
        ("org_id", "organizations")
    };
    // `name` is computed; the grant-side spelling can be built from the parent and role_id.
    let name = match n.key("name").non_empty_str()? {
        Tri::Known(s) => Tri::Known(s.to_owned()),
        _ => match (n.key(parent_key).str()?, n.key("role_id").str()?) {
            (Tri::Known(p), Tri::Known(id)) => Tri::Known(format!(
                "{prefix}/{}/roles/{id}",
                p.strip_prefix(&format!("{prefix}/")).unwrap_or(p)
            )),
            _ => Tri::Unknown,
        },
    };
    let deleted = n.key("deleted").bool()?.known().unwrap_or(false);
    let caps = match n.key("permissions").items()? {
        _ if deleted => Tri::Known(Caps::NONE),
        Tri::Known(items) => {
            let mut perms = Vec::new();
            let mut unknown = false;
            for item in &items {
                match item.str()? {
                    Tri::Known(p) => perms.push(p),
                    _ => unknown = true,
                }
            }
            if unknown {
                Tri::Unknown
            } else {
                Tri::Known(Caps::from_permissions(perms))
            }
        }
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Known(Caps::NONE),
    };
    Ok(CustomRole {
        address: r.address.clone(),
        name,
        caps,
    })
}
