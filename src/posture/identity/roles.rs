//! The roles an account holds: its grants on projects, folders, the organization and other
//! resources, the grants it may hold through principal sets or members the plan cannot know,
//! and which of them are privileged.

use super::*;

/// Roles an account holds through project, folder, organization and resource grants.
pub(super) fn held_roles(
    g: &SideGraph,
    account_node: NodeIndex,
    account: AccountIndex,
) -> Vec<HeldRole> {
    let mut roles = Vec::new();
    for (src, _) in g.incoming(account_node, |e| e == EdgeKind::HeldBy) {
        let Some(i) = g.iam_index(src) else { continue };
        for b in g.grants[i].bindings.iter().flatten() {
            if !b
                .principals
                .iter()
                .any(|p| g.principal_is_account(i, p, account))
            {
                continue;
            }
            roles.push(HeldRole::granted(g, i, &b.role, !b.conditional));
        }
    }
    roles
}

/// The grants that may name any account: a project, folder, organization or resource grant
/// whose member the plan cannot know (and that no configuration reference ties to accounts
/// created in this plan), or whose whole policy is unknown. Each may be a role of any runtime
/// account (grants across projects are allowed), never a certain one.
pub(super) fn grants_to_unknown_members(g: &SideGraph) -> Vec<(IamIndex, RoleRef)> {
    let mut out = Vec::new();
    for (i, iam) in g.iam_resources() {
        if !matches!(iam.target, IamTarget::Scope(_) | IamTarget::Resource(_)) {
            continue;
        }
        let Some(bindings) = &g.grants[i].bindings else {
            out.push((
                i,
                RoleRef {
                    name: Some("(unknown policy)".into()),
                    caps: Tri::Unknown,
                },
            ));
            continue;
        };
        // An unknown member that configuration ties to planned accounts is one of those.
        if !g.planned_members[i].is_empty() {
            continue;
        }
        for b in bindings {
            if b.principals.contains(&Principal::Unknown) {
                out.push((i, b.role.clone()));
            }
        }
    }
    out
}

/// A role is privileged by its name or its capabilities; a role whose name is unknown at plan
/// time may be any role, `roles/owner` included, so it counts as privileged: an unknown only
/// adds uncertainty. On one resource, an owner role of that resource
/// (`roles/storage.legacyBucketOwner`, `roles/bigquery.dataOwner`) controls it as an admin
/// role does, its IAM policy included.
pub(super) fn may_be_privileged(role: &RoleRef, caps: Caps, level: Level) -> bool {
    let name = role.display();
    role.name.is_none()
        || name == "(unknown policy)"
        || is_privileged(name, caps)
        || (level == Level::Resource && name.to_ascii_lowercase().ends_with("owner"))
}

/// The scope (project, folder, organization) grants to service-account principal sets
/// (`principalSet://cloudresourcemanager.googleapis.com/{projects,folders,organizations}/
/// NUMBER/type/ServiceAccount`), by the project node they cover, in edge order. Found once per
/// side: every account looks them up, and scanning every scope grant per account made the
/// identity stage quadratic in plans with many accounts and project grants.
pub(super) struct PrincipalSetGrants(HashMap<NodeIndex, Vec<IamIndex>>);

impl PrincipalSetGrants {
    pub(super) fn new(g: &SideGraph) -> Self {
        let mut by_project: HashMap<NodeIndex, Vec<IamIndex>> = HashMap::default();
        for node in g.project_nodes_for(None) {
            for (src, _) in g.incoming(node, |e| e == EdgeKind::Covers) {
                let Some(i) = g.iam_index(src) else { continue };
                let names_a_set = g.grants[i].bindings.iter().flatten().any(|b| {
                    b.principals.iter().any(|p| match p {
                        Principal::Known { member, .. } => principal_set(member).is_some(),
                        Principal::Unknown => false,
                    })
                });
                if names_a_set {
                    by_project.entry(node).or_default().push(i);
                }
            }
        }
        PrincipalSetGrants(by_project)
    }

    /// Roles an account holds as a member of a principal set granted at project, folder or
    /// organization level, every service account there. A project set names its project by
    /// number; when the account's project number is not in the plan, the set may include it.
    /// Which folder or organization holds a project is outside the plan, so their sets are
    /// taken to include it. An account the plan cannot name (`account` and `project` `None`)
    /// may be in any of them.
    pub(super) fn roles_of(
        &self,
        g: &SideGraph,
        account: Option<AccountIndex>,
        project: Option<&str>,
    ) -> Vec<HeldRole> {
        let grants: Vec<IamIndex> = g
            .project_nodes_for(project)
            .into_iter()
            .filter_map(|node| self.0.get(&node))
            .flatten()
            .copied()
            .collect();
        if grants.is_empty() {
            return Vec::new();
        }
        let email = account.and_then(|a| g.accounts[a].email.as_deref());
        // The number of the account's project: in a default compute account's email, or from a
        // project the plan knows.
        let number = email
            .and_then(|e| e.strip_suffix("-compute@developer.gserviceaccount.com"))
            .map(str::to_owned)
            .or_else(|| {
                g.inventory
                    .default_accounts
                    .iter()
                    .find_map(|d| match (&d.project, &d.email) {
                        (Tri::Known(p), Tri::Known(e)) if Some(p.as_str()) == project => e
                            .strip_suffix("-compute@developer.gserviceaccount.com")
                            .map(str::to_owned),
                        _ => None,
                    })
            });
        let includes = |member: &str| -> bool {
            match principal_set(member).and_then(|set| set.split_once('/')) {
                Some(("projects", n)) => number.as_deref().is_none_or(|own| own == n),
                Some(("folders" | "organizations", _)) => true,
                _ => false,
            }
        };
        let mut roles = Vec::new();
        for i in grants {
            for b in g.grants[i].bindings.iter().flatten() {
                let in_set = b.principals.iter().any(|p| match p {
                    Principal::Known { member, .. } => includes(member),
                    Principal::Unknown => false,
                });
                if in_set {
                    roles.push(HeldRole::granted(g, i, &b.role, !b.conditional));
                }
            }
        }
        roles
    }
}

/// The `KIND/NUMBER` of a service-account principal set member, or `None` for any other member.
fn principal_set(member: &str) -> Option<&str> {
    member
        .strip_prefix("principalSet://cloudresourcemanager.googleapis.com/")
        .and_then(|m| m.strip_suffix("/type/ServiceAccount"))
}

/// Roles sorted, without repeats, and without the "maybe" of a grant proven to be the
/// account's (a binding that names it and also an unknown member).
pub(super) fn settle_roles(roles: Vec<HeldRole>) -> Arc<[HeldRole]> {
    let proven: HashSet<(String, String)> = roles
        .iter()
        .filter(|r| r.certain)
        .map(|r| (r.role.clone(), r.granted_by.clone()))
        .collect();
    sorted(
        roles
            .into_iter()
            .filter(|r| r.certain || !proven.contains(&(r.role.clone(), r.granted_by.clone())))
            .collect(),
    )
}

pub(super) fn target_level(target: &IamTarget) -> Level {
    match target {
        IamTarget::Scope(Scope::Folder(_)) => Level::Folder,
        IamTarget::Scope(Scope::Organization(_)) => Level::Organization,
        IamTarget::Resource(_) => Level::Resource,
        _ => Level::Project,
    }
}
