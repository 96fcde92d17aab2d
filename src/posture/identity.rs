//! The runtime identity: which service account a workload runs as, the roles that account
//! holds, who can act as it or mint tokens for it, and the keys created for it.

use crate::graph::{EdgeKind, Identity, NodeKind, Principal, SideGraph};
use std::collections::HashMap;

use crate::iam::Caps;
use crate::iam::member::service_account_member;
use crate::iam::roles::is_privileged;
use crate::inventory::{IamTarget, Scope, Workload};
use crate::plan::Tri;

/// A role held by the runtime account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldRole {
    pub role: String,
    /// The IAM resource that grants it.
    pub granted_by: String,
    /// `project`, `folder` or `organization`.
    pub level: &'static str,
    pub privileged: bool,
    pub capabilities: Vec<&'static str>,
}

/// A principal that can use the runtime account's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Impersonator {
    pub principal: Principal,
    pub role: String,
    pub granted_by: String,
}

impl Impersonator {
    /// What tells principals apart across sides. A sensitive member compares by its value
    /// (never printed); an unknown one is only the same principal as the unknown member of
    /// the same grant, since two unknown values may differ.
    pub fn principal_key(&self) -> String {
        match &self.principal {
            Principal::Known { member, .. } => member.clone(),
            Principal::Unknown => format!("(unknown member of {})", self.granted_by),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPosture {
    /// The account email when known.
    pub service_account: Option<String>,
    /// Runs as the Compute Engine default account. `None` when unknown or not applicable.
    pub default: Option<bool>,
    /// `service_account` is unset and Cloud Run picks the default account.
    pub implicit: bool,
    /// A service account created by this plan whose email is not known yet.
    pub planned_account: Option<String>,
    pub roles: Vec<HeldRole>,
    /// Why the account's roles are not all known, shown wherever its roles are: the roles it
    /// holds outside the plan matter (the default compute account), or the account is unknown.
    pub roles_unknown: Option<&'static str>,
    pub impersonators: Vec<Impersonator>,
    pub keys: Vec<String>,
    /// Why the identity cannot be known, or what about it lies outside the plan.
    pub note: Option<String>,
}

/// The roles of the Compute Engine default account: whatever the plan grants it, plus the
/// automatic project grant that only an org policy outside the plan can prevent.
pub const DEFAULT_ACCOUNT_ROLES: &str =
    "unknown (holds roles/editor unless the automatic-grants org policy is enforced)";

/// The roles of an account the plan cannot name.
pub const UNKNOWN_ACCOUNT_ROLES: &str = "unknown (the runtime account is unknown)";

impl IdentityPosture {
    pub fn outside_plan() -> IdentityPosture {
        IdentityPosture {
            service_account: None,
            default: None,
            implicit: false,
            planned_account: None,
            roles: Vec::new(),
            roles_unknown: None,
            impersonators: Vec::new(),
            keys: Vec::new(),
            note: Some("the workload is not in the plan".into()),
        }
    }

    /// The account as shown in reports.
    pub fn display(&self) -> String {
        match (&self.service_account, &self.planned_account) {
            (Some(e), _) if self.implicit => format!("{e} (implicit default)"),
            (Some(e), _) => e.clone(),
            (None, Some(a)) => format!("(email of {a})"),
            (None, None) if self.implicit => "default compute account (implicit)".into(),
            (None, None) => "(unknown)".into(),
        }
    }
}

/// What an account can do and who can use it: the same for every workload that runs as it.
#[derive(Clone, Default)]
struct AccountFacts {
    roles: Vec<HeldRole>,
    impersonators: Vec<Impersonator>,
    keys: Vec<String>,
}

/// Assesses runtime identities, computing each account's facts once: thousands of workloads
/// can share one account, and an account node has an edge from each of them.
pub struct Identities<'g, 'i> {
    g: &'g SideGraph<'i>,
    accounts: HashMap<usize, AccountFacts>,
    /// Project-level impersonators, by (account project, account member).
    projects: HashMap<(Option<String>, Option<String>), Vec<Impersonator>>,
}

impl<'g, 'i> Identities<'g, 'i> {
    pub fn new(g: &'g SideGraph<'i>) -> Self {
        Identities {
            g,
            accounts: HashMap::new(),
            projects: HashMap::new(),
        }
    }

    pub fn assess(&mut self, index: usize, w: &Workload) -> IdentityPosture {
        let g = self.g;
        let identity = &g.identities[index];
        let account = g
            .outgoing(g.workload_nodes[index], |e| e == EdgeKind::RunsAs)
            .first()
            .map(|(n, _)| *n);
        let account =
            account.map(|n| (n, g.account_index(n).expect("RunsAs points at an account")));
        let default = SideGraph::is_default_identity(identity);
        let mut posture = IdentityPosture {
            service_account: match identity {
                Identity::Account { .. } if w.service_account_sensitive => Some("(sensitive)".into()),
                Identity::Account { email } => Some(email.clone()),
                // The plan names the project's default account (its number is known).
                Identity::ImplicitDefault => account.and_then(|(_, a)| g.accounts[a].email.clone()),
                _ => None,
            },
            default,
            implicit: *identity == Identity::ImplicitDefault,
            planned_account: match identity {
                Identity::PlannedAccount { address } => Some(address.to_string()),
                _ => None,
            },
            roles: Vec::new(),
            roles_unknown: match identity {
                Identity::Unknown { .. } => Some(UNKNOWN_ACCOUNT_ROLES),
                _ if default == Some(true) => Some(DEFAULT_ACCOUNT_ROLES),
                _ => None,
            },
            impersonators: Vec::new(),
            keys: Vec::new(),
            note: match identity {
                Identity::ImplicitDefault => Some(
                    "the default compute account's project roles are outside the plan; it is granted \
                     roles/editor automatically unless iam.automaticIamGrantsForDefaultServiceAccounts is enforced"
                        .into(),
                ),
                Identity::Unknown { reason } => Some(reason.clone()),
                _ => None,
            },
        };
        let member =
            account.and_then(|(_, a)| g.accounts[a].email.as_deref().map(service_account_member));
        // Grants at project level (and above) of roles that can use any account of the project;
        // for the implicit default account, the workload's project is the account's project.
        let account_project = account
            .and_then(|(_, a)| g.accounts[a].project().map(str::to_owned))
            .or_else(|| w.project.clone().known())
            .or_else(|| g.default_project.clone());
        let own = account.map(|(_, a)| a);
        let project_level = self
            .projects
            .entry((account_project.clone(), member.clone()))
            .or_insert_with(|| {
                let mut out = Vec::new();
                for project in g.project_nodes_for(account_project.as_deref()) {
                    for &i in g.scope_grants(project, Caps::IMPERSONATE) {
                        impersonators_of(g, i, own, member.as_deref(), &mut out);
                    }
                }
                out
            });
        posture.impersonators.extend(project_level.iter().cloned());
        if let Some((node, a)) = account {
            let facts = self
                .accounts
                .entry(a)
                .or_insert_with(|| account_facts(g, node, a));
            posture.roles = facts.roles.clone();
            posture
                .impersonators
                .extend(facts.impersonators.iter().cloned());
            posture.keys = facts.keys.clone();
        }
        finish(posture)
    }
}

/// Roles an account holds, who can use it through grants on it, and its keys.
fn account_facts(
    g: &SideGraph,
    account_node: petgraph::graph::NodeIndex,
    account: usize,
) -> AccountFacts {
    let mut facts = AccountFacts::default();
    for (src, edge) in g.incoming(account_node, |e| {
        matches!(e, EdgeKind::HeldBy | EdgeKind::GrantsOn | EdgeKind::KeyFor)
    }) {
        match (edge, &g.graph[src]) {
            (EdgeKind::HeldBy, NodeKind::Iam(i)) => {
                let level = scope_level(&g.inventory.iam[*i].target);
                for b in g.grants[*i].bindings.iter().flatten() {
                    if !b
                        .principals
                        .iter()
                        .any(|p| g.principal_is_account(*i, p, account))
                    {
                        continue;
                    }
                    let role = b.role.display().to_owned();
                    let caps = b.role.caps.clone().known().unwrap_or(Caps::NONE);
                    facts.roles.push(HeldRole {
                        privileged: is_privileged(&role, caps),
                        capabilities: caps.names(),
                        role,
                        granted_by: g.inventory.iam[*i].address.to_string(),
                        level,
                    });
                }
            }
            (EdgeKind::GrantsOn, NodeKind::Iam(i)) => {
                impersonators_of(g, *i, Some(account), None, &mut facts.impersonators);
            }
            (EdgeKind::KeyFor, NodeKind::Key(k)) => {
                facts.keys.push(g.inventory.keys[*k].address.to_string())
            }
            _ => {}
        }
    }
    facts
}

fn finish(mut posture: IdentityPosture) -> IdentityPosture {
    posture.roles.sort();
    posture.roles.dedup();
    posture.impersonators.sort();
    posture.impersonators.dedup();
    posture.keys.sort();
    posture
}

/// Principals of grant `i` whose role lets them act as or impersonate an account. The account
/// itself (its node, or its member when it has none) is left out: acting as oneself adds
/// nothing.
fn impersonators_of(
    g: &SideGraph,
    i: usize,
    own: Option<usize>,
    own_member: Option<&str>,
    out: &mut Vec<Impersonator>,
) {
    for b in g.grants[i].bindings.iter().flatten() {
        let relevant = match &b.role.caps {
            Tri::Known(caps) => caps.intersects(Caps::IMPERSONATE),
            _ => matches!(g.inventory.iam[i].target, IamTarget::Account { .. }),
        };
        if !relevant {
            continue;
        }
        for p in &b.principals {
            if own.is_some_and(|a| g.principal_is_account(i, p, a))
                || matches!(p, Principal::Known { member, .. } if Some(member.as_str()) == own_member)
            {
                continue;
            }
            out.push(Impersonator {
                principal: p.clone(),
                role: b.role.display().to_owned(),
                granted_by: g.inventory.iam[i].address.to_string(),
            });
        }
    }
}

fn scope_level(target: &IamTarget) -> &'static str {
    match target {
        IamTarget::Scope(Scope::Folder(_)) => "folder",
        IamTarget::Scope(Scope::Organization(_)) => "organization",
        _ => "project",
    }
}
