//! Whether a workload's runtime account can read the Secret Manager secrets it references, as
//! far as the plan shows: a grant on the secret, its project, a folder or the organization of a
//! role that carries `secretmanager.versions.access`. Only a proven absence is reported: any
//! grant the plan leaves open (an unknown member, role or target, a custom role) counts as
//! possible access.

use crate::graph::SideGraph;
use crate::inventory::Workload;
use crate::inventory::iam::{Grant, IamTarget, MemberValue, Scope};
use crate::inventory::resource_iam::SECRET;
use crate::plan::Tri;

use super::IdentityPosture;

/// The predefined roles with `secretmanager.versions.access` (`roles/editor` has not).
const ACCESS_ROLES: &[&str] = &[
    "roles/secretmanager.secretAccessor",
    "roles/secretmanager.admin",
    "roles/owner",
];

/// What the plan says of one grant for one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Access {
    No,
    Possible,
    Yes,
}

/// The secrets (`projects/P/secrets/NAME`) the workload references and its runtime account
/// provably has no role in the plan to read.
pub(crate) fn missing(g: &SideGraph, w: &Workload, identity: &IdentityPosture) -> Vec<String> {
    let (Some(email), Tri::Known(project)) = (&identity.service_account, &w.project) else {
        return Vec::new();
    };
    let member = format!("serviceAccount:{email}");
    let mut out: Vec<String> = w
        .controls
        .secrets
        .iter()
        .filter_map(|s| {
            let (secret_project, name) = parse_ref(s.clone().known()?.as_str(), project)?;
            let on_secret = g.inventory.iam.iter().filter_map(|r| match &r.target {
                IamTarget::Resource(t) if t.rtype == SECRET => Some(match t.secret() {
                    Some((p, n)) if p == secret_project && n == name => access(&r.grant, &member),
                    Some(_) => Access::No,
                    None => access(&r.grant, &member).min(Access::Possible),
                }),
                _ => None,
            });
            let above = g.inventory.iam.iter().map(|r| match &r.target {
                IamTarget::Scope(Scope::Project(Tri::Known(p))) if *p != secret_project => {
                    Access::No
                }
                IamTarget::Scope(Scope::Project(Tri::Known(_)))
                | IamTarget::Scope(Scope::Folder(_))
                | IamTarget::Scope(Scope::Organization(_)) => access(&r.grant, &member),
                IamTarget::Scope(Scope::Project(_)) => {
                    access(&r.grant, &member).min(Access::Possible)
                }
                _ => Access::No,
            });
            let best = on_secret.chain(above).max().unwrap_or(Access::No);
            (best == Access::No).then(|| format!("projects/{secret_project}/secrets/{name}"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A workload's secret reference: `NAME` in its own project, or `projects/P/secrets/NAME`.
/// A project given by number cannot be matched with grants naming the id: `None`.
fn parse_ref(s: &str, project: &str) -> Option<(String, String)> {
    let (p, n) = match s.strip_prefix("projects/") {
        Some(rest) => {
            let (p, n) = rest.split_once("/secrets/")?;
            (p.to_owned(), n.to_owned())
        }
        None => (project.to_owned(), s.to_owned()),
    };
    (p == project || !p.chars().all(|c| c.is_ascii_digit())).then_some((p, n))
}

/// Whether `grant` gives `member` a role that reads secrets.
fn access(grant: &Grant, member: &str) -> Access {
    let one = |role: &Tri<String>, m: &MemberValue| -> Access {
        let member_matches = match m {
            MemberValue::Known {
                value,
                sensitive: false,
            } => {
                if value.eq_ignore_ascii_case(member) {
                    Access::Yes
                } else {
                    return Access::No;
                }
            }
            _ => Access::Possible,
        };
        match role {
            Tri::Known(r) if ACCESS_ROLES.contains(&r.as_str()) => member_matches,
            // A custom role may carry the permission.
            Tri::Known(r) if !r.starts_with("roles/") => Access::Possible,
            Tri::Known(_) => Access::No,
            _ => Access::Possible,
        }
    };
    match grant {
        Grant::Member { role, member, .. } => one(role, member),
        Grant::Binding { role, members, .. } => match members {
            Tri::Known(ms) => ms.iter().map(|m| one(role, m)).max().unwrap_or(Access::No),
            _ => one(role, &MemberValue::Unknown),
        },
        Grant::Policy { bindings } => match bindings {
            Tri::Known(bs) => bs
                .iter()
                .flat_map(|b| {
                    let role = Tri::Known(b.role.clone());
                    b.members.iter().map(move |m| one(&role, m))
                })
                .max()
                .unwrap_or(Access::No),
            _ => Access::Possible,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reference_names_a_secret_of_its_project_or_another_by_id() {
        assert_eq!(
            parse_ref("db-password", "acme-prod"),
            Some(("acme-prod".into(), "db-password".into()))
        );
        assert_eq!(
            parse_ref("projects/acme-shared/secrets/db", "acme-prod"),
            Some(("acme-shared".into(), "db".into()))
        );
        assert_eq!(parse_ref("projects/123456/secrets/db", "acme-prod"), None);
    }

    #[test]
    fn editor_does_not_read_secrets_and_an_unknown_member_might() {
        let member = "serviceAccount:api@acme-prod.iam.gserviceaccount.com";
        let grant = |role: &str, m: MemberValue| Grant::Member {
            role: Tri::Known(role.into()),
            member: m,
            conditional: false,
        };
        let known = MemberValue::Known {
            value: member.into(),
            sensitive: false,
        };
        assert_eq!(
            access(&grant("roles/editor", known.clone()), member),
            Access::No
        );
        assert_eq!(
            access(&grant("roles/secretmanager.secretAccessor", known), member),
            Access::Yes
        );
        assert_eq!(
            access(
                &grant("roles/secretmanager.secretAccessor", MemberValue::Unknown),
                member
            ),
            Access::Possible
        );
    }
}
