//! The runtime identity: which service account a workload runs as, the roles that account
//! holds, who can act as it or mint tokens for it, and the keys created for it.

use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::Arc;

use foldhash::{HashMap, HashSet};
use petgraph::graph::NodeIndex;

use crate::graph::{
    AccountIndex, EdgeKind, IamIndex, Identity, NodeKind, Principal, RoleRef, SideGraph,
    WorkloadIndex,
};

use crate::iam::member::{is_service_agent, service_account_member};
use crate::iam::roles::is_privileged;
use crate::iam::{Caps, Level};
use crate::inventory::resource_iam::ResourceTarget;
use crate::inventory::{IamTarget, Scope, Workload};
use crate::plan::{Address, Tri};
use crate::posture::OrgGuards;

/// A role held by the runtime account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldRole {
    /// The role.
    pub role: String,
    /// The IAM resource that grants it.
    pub granted_by: String,
    /// `project`, `folder`, `organization`, or `resource` for a grant on one resource (a
    /// secret, a bucket…), named in `resource`.
    pub level: Level,
    /// The resource a `resource`-level grant is on.
    pub resource: Option<GrantedOn>,
    /// The role is privileged: owner, editor, an admin role, or one that can act as others;
    /// on a resource, also an owner role of that resource (`roles/storage.legacyBucketOwner`).
    pub privileged: bool,
    /// The plan proves the account holds it. `false` when the grant's member is unknown at
    /// plan time (it may be this account) or an IAM condition restricts it.
    pub certain: bool,
    /// What the role lets the account do, by name.
    pub capabilities: Vec<&'static str>,
}

/// The resource a resource-level grant is on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GrantedOn {
    /// Its type: `google_storage_bucket`, `google_secret_manager_secret`…
    pub rtype: String,
    /// Its id as the IAM resource names it (`acme-uploads`, `projects/p/secrets/db`);
    /// `(sensitive)` when the plan marks it so, `None` when unknown at plan time.
    pub id: Option<String>,
    /// What tells resources apart across sides: its type and the last segment of its id (the
    /// provider writes back a longer form than the configuration uses), or the granting IAM
    /// resource when the id is unknown.
    key: String,
}

impl GrantedOn {
    fn of(target: &ResourceTarget, granted_by: &str) -> GrantedOn {
        GrantedOn {
            rtype: target.rtype.clone(),
            id: match &target.id {
                Tri::Known(_) if target.id_sensitive => Some("(sensitive)".into()),
                Tri::Known(id) => Some(id.clone()),
                _ => None,
            },
            key: match target.short_id() {
                Some(short) => format!("{} {short}", target.rtype),
                None => format!("{} of {granted_by}", target.rtype),
            },
        }
    }

    /// `google_storage_bucket acme-uploads`; `(unknown)` for an id unknown at plan time.
    pub fn display(&self) -> String {
        format!(
            "{} {}",
            self.rtype,
            self.id.as_deref().unwrap_or("(unknown)")
        )
    }
}

impl HeldRole {
    /// `role`, granted by IAM resource `i` at its level; a role whose permissions are unknown
    /// has no capabilities and is not counted as privileged by them (its name may still be).
    fn granted(g: &SideGraph, i: IamIndex, role: &RoleRef, certain: bool) -> HeldRole {
        let name = role.display().to_owned();
        let caps = role.caps.clone().known().unwrap_or(Caps::NONE);
        let granted_by = g.iam(i).address.to_string();
        let target = &g.iam(i).target;
        let level = target_level(target);
        HeldRole {
            privileged: may_be_privileged(role, caps, level),
            capabilities: caps.names(),
            role: name,
            resource: match target {
                IamTarget::Resource(t) => Some(GrantedOn::of(t, &granted_by)),
                _ => None,
            },
            granted_by,
            level,
            certain,
        }
    }

    /// What makes two held roles the same power across sides: the role, and for a
    /// resource-level grant the resource it is on.
    pub fn key(&self) -> String {
        match &self.resource {
            Some(r) => format!("{} on {}", self.role, r.key),
            None => self.role.clone(),
        }
    }

    /// The role as reports name it: `roles/storage.admin on google_storage_bucket acme-uploads`
    /// for a resource-level grant, the role alone otherwise.
    pub fn label(&self) -> String {
        match &self.resource {
            Some(r) => format!("{} on {}", self.role, r.display()),
            None => self.role.clone(),
        }
    }
}

/// A principal that can use the runtime account's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Impersonator {
    /// Who can impersonate the account.
    pub principal: Principal,
    /// Through which role.
    pub role: String,
    /// The IAM resource that grants it.
    pub granted_by: String,
    /// The service accounts between the principal and the runtime account: the principal can
    /// use the first, which can use the next, and the last can use the runtime account. Empty
    /// when the grant is on the runtime account (or its project) itself.
    pub via: Vec<String>,
    /// Every grant of this chain exists on the other side of the plan too, with the same
    /// principal and role: the power is not the plan's doing.
    pub persists: bool,
    /// The plan proves every grant of the chain is on the account it reaches. `false` when one
    /// is on a service account the plan cannot name (`service_account_id` unknown at plan
    /// time), which may be that account, or when the runtime account itself is unknown and
    /// this is the power over an account it may be.
    pub certain: bool,
}

/// A key for the runtime account, or for an account that can use it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HeldKey {
    /// The key's address.
    pub address: String,
    /// The account the key is for, as shown in reports.
    pub account: String,
    /// The accounts from that account to the runtime account (see [`Impersonator::via`]);
    /// empty for a key of the runtime account itself.
    pub via: Vec<String>,
    /// The key and every grant of its chain exist on the other side of the plan too.
    pub persists: bool,
    /// The plan proves the key is for `account` and every grant of the chain. `false` for a
    /// key whose `service_account_id` is unknown at plan time (`account` then says so), which
    /// may be for this account, or one reached through such a grant.
    pub certain: bool,
}

/// How a key whose account the plan cannot name reads as its account.
const UNNAMED_ACCOUNT: &str = "an account the plan cannot name";

impl Impersonator {
    /// What tells principals apart across sides. A sensitive member compares by its value
    /// (never printed); an unknown one is only the same principal as the unknown member of
    /// the same grant, since two unknown values may differ.
    pub fn principal_key(&self) -> String {
        match &self.principal {
            Principal::Known { member, .. } => member.to_string(),
            Principal::Unknown => format!("(unknown member of {})", self.granted_by),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
/// The runtime identity of a workload on one side.
pub struct IdentityPosture {
    /// The account email when known.
    pub service_account: Option<String>,
    /// Runs as the Compute Engine default account. `None` when unknown or not applicable.
    pub default: Option<bool>,
    /// `service_account` is unset and Cloud Run picks the default account.
    pub implicit: bool,
    /// A service account created by this plan whose email is not known yet.
    pub planned_account: Option<String>,
    /// The roles the account holds, as far as the plan shows, sorted. Shared by every workload
    /// that runs as the account: twenty thousand services on one account hold one list.
    pub roles: Arc<[HeldRole]>,
    /// Why the account's roles are not all known, shown wherever its roles are: the roles it
    /// holds outside the plan matter (the default compute account), or the account is unknown.
    pub roles_unknown: Option<&'static str>,
    /// For a default compute account whose automatic roles/editor the plan proves absent (its
    /// roles are then what the plan shows), what mitigates it: `mitigated by …`, naming the
    /// resource.
    pub roles_mitigated: Option<String>,
    /// Who can act as the account, sorted; shared like `roles`.
    pub impersonators: Arc<[Impersonator]>,
    /// Keys created for the account, sorted; shared like `roles`.
    pub keys: Arc<[HeldKey]>,
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
    /// The identity of a workload outside the plan: nothing about it is known.
    pub fn outside_plan() -> IdentityPosture {
        IdentityPosture {
            service_account: None,
            default: None,
            implicit: false,
            planned_account: None,
            roles: Arc::default(),
            roles_unknown: None,
            roles_mitigated: None,
            impersonators: Arc::default(),
            keys: Arc::default(),
            note: Some("the workload is not in the plan".into()),
        }
    }

    /// What the plan's org policies (and `google_project_default_service_accounts`) say of
    /// a default compute account's automatic roles/editor: mitigated, with the resource that
    /// mitigates it, or an enforced policy that the plan does not prove spares this account.
    pub(crate) fn qualify_default_account(&mut self, guards: &OrgGuards) {
        if self.default != Some(true) {
            return;
        }
        if let Some((mitigation, _)) = guards.default_account_mitigation(self.implicit) {
            // The note says the account holds roles/editor unless…: the plan proves it does not.
            self.roles_unknown = None;
            self.note = None;
            self.roles_mitigated = Some(mitigation);
        } else if let Some(unproven) = guards.unproven_automatic_grants(self.implicit) {
            self.note = Some(match self.note.take() {
                Some(note) => format!("{note}; {unproven}"),
                None => unproven,
            });
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

/// Sorted and without repeats: the shared form of an account's roles, impersonators or keys.
fn sorted<T: Ord>(mut items: Vec<T>) -> Arc<[T]> {
    items.sort();
    items.dedup();
    items.into()
}

mod resolve;
mod roles;

pub use resolve::{FollowedAhead, Identities, follow_ahead};
use roles::{may_be_privileged, target_level};
