//! Turns every IAM resource — member, binding or policy — into one uniform list of role
//! bindings with resolved roles and principals. Unknown roles, members and policy documents are
//! resolved through configuration references (custom roles, service accounts, `data
//! "google_iam_policy"`); what stays unknown is kept as unknown, with the reason.

use crate::iam::{self, Caps};
use crate::inventory::{Grant, IamResource, MemberValue, PolicyBinding, SideInventory};
use crate::plan::configuration::Origin;
use crate::plan::{Address, Tri};
use serde_json::Value;

use super::index::Indexes;
use super::link::{Context, Followed};

/// The authority of the resource that made a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authority {
    Member,
    Binding,
    Policy,
}

/// A principal after resolution.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    /// A member string, normalised. `sensitive` members are never printed.
    Known {
        /// The member string (`user:…`, `serviceAccount:…`, `allUsers`…). Shared: a
        /// project-level grant's principal is copied into the posture of every workload it
        /// reaches.
        member: std::sync::Arc<str>,
        /// The plan marks it sensitive.
        sensitive: bool,
    },
    /// Not knowable at plan time.
    Unknown,
}

impl Principal {
    /// The display form of every sensitive principal.
    pub const SENSITIVE: &'static str = "(sensitive)";

    /// The class of the principal, from its real value (also when it is not printed). An
    /// unknown principal is a single named one as far as rules go; exposure treats it apart.
    pub fn kind(&self) -> crate::iam::MemberKind {
        match self {
            Principal::Known { member, .. } => crate::iam::classify(member),
            Principal::Unknown => crate::iam::MemberKind::Named,
        }
    }

    /// A key that tells principals apart, including sensitive ones; never printed.
    pub fn identity_key(&self) -> &str {
        match self {
            Principal::Known { member, .. } => member,
            Principal::Unknown => "(unknown)",
        }
    }

    /// The text used in reports; sensitive and unknown principals have fixed placeholders.
    pub fn display(&self) -> &str {
        match self {
            Principal::Known {
                sensitive: true, ..
            } => Principal::SENSITIVE,
            Principal::Known { member, .. } => member,
            Principal::Unknown => "(unknown)",
        }
    }
}

/// A role after resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    /// The role name, when known (`roles/run.invoker`, `projects/p/roles/x`), or the custom role
    /// resource address when only that is known.
    pub name: Option<String>,
    pub caps: Tri<Caps>,
}

impl RoleRef {
    pub fn display(&self) -> &str {
        self.name.as_deref().unwrap_or("(unknown role)")
    }
}

#[derive(Debug, Clone)]
pub struct ResolvedBinding {
    pub role: RoleRef,
    pub principals: Vec<Principal>,
    pub conditional: bool,
}

/// One IAM resource, resolved.
#[derive(Debug, Clone)]
pub struct ResolvedGrant {
    pub authority: Authority,
    /// `None` when the whole policy document is unknown at plan time.
    pub bindings: Option<Vec<ResolvedBinding>>,
    /// Why something in this grant stays unknown.
    pub unresolved: Vec<String>,
}

pub fn resolve(
    iam: &IamResource,
    side: &SideInventory,
    index: &Indexes,
    ctx: &Context,
) -> ResolvedGrant {
    resolve_grant(&iam.address, &iam.grant, side, index, ctx)
}

/// Resolves the grant of the IAM resource at `address`, whatever it is attached to (a workload,
/// a scope, an account, an IAP resource).
pub fn resolve_grant(
    address: &Address,
    grant: &Grant,
    side: &SideInventory,
    index: &Indexes,
    ctx: &Context,
) -> ResolvedGrant {
    let mut unresolved = Vec::new();
    let r = Resolver {
        address,
        side,
        index,
        ctx,
    };
    let (authority, bindings) = match grant {
        Grant::Member {
            role,
            member,
            conditional,
        } => (
            Authority::Member,
            Some(vec![ResolvedBinding {
                role: r.role(role, &mut unresolved),
                principals: r.members(std::slice::from_ref(member), "member", &mut unresolved),
                conditional: *conditional,
            }]),
        ),
        Grant::Binding {
            role,
            members,
            conditional,
        } => {
            let principals = match members {
                Tri::Known(m) => r.members(m, "members", &mut unresolved),
                _ => r.unknown_members("members", &mut unresolved),
            };
            (
                Authority::Binding,
                Some(vec![ResolvedBinding {
                    role: r.role(role, &mut unresolved),
                    principals,
                    conditional: *conditional,
                }]),
            )
        }
        Grant::Policy { bindings } => (
            Authority::Policy,
            match bindings {
                Tri::Known(b) => Some(r.policy_bindings(b)),
                _ => r.policy_from_data_source(&mut unresolved),
            },
        ),
    };
    // A named role whose permissions are unknown: say so, since project-level grants of it are
    // not counted as invokers.
    for b in bindings.iter().flatten() {
        if let (Some(name), Tri::Unknown) = (&b.role.name, &b.role.caps) {
            let reason = format!(
                "the permissions of role `{name}` are unknown (a custom role defined outside the \
                 plan, or whose permissions are unknown at plan time)"
            );
            if !unresolved.contains(&reason) {
                unresolved.push(reason);
            }
        }
    }
    ResolvedGrant {
        authority,
        bindings,
        unresolved,
    }
}

struct Resolver<'a> {
    address: &'a Address,
    side: &'a SideInventory,
    index: &'a Indexes<'a>,
    ctx: &'a Context<'a>,
}

impl Resolver<'_> {
    /// Looks a role name up: predefined roles in the table, custom roles among those the plan
    /// defines; any other custom role's permissions are unknown.
    fn role_by_name(&self, name: &str) -> RoleRef {
        let caps = match iam::predefined_caps(name) {
            Some(caps) => Tri::Known(caps),
            None => self
                .index
                .custom_roles_by_name
                .get(name)
                .map_or(Tri::Unknown, |&i| self.side.custom_roles[i].caps.clone()),
        };
        RoleRef {
            name: Some(name.to_owned()),
            caps,
        }
    }

    fn role(&self, role: &Tri<String>, unresolved: &mut Vec<String>) -> RoleRef {
        match role {
            Tri::Known(name) => self.role_by_name(name),
            _ => {
                match self
                    .ctx
                    .follow(self.address, &["role"], &self.index.custom_roles)
                {
                    Followed::Instances(found) if found.len() == 1 => {
                        let custom = &self.side.custom_roles[found[0]];
                        RoleRef {
                            name: Some(
                                custom
                                    .name
                                    .clone()
                                    .known()
                                    .unwrap_or_else(|| custom.address.to_string()),
                            ),
                            caps: custom.caps.clone(),
                        }
                    }
                    // A role from a sensitive value is not printed: it stays unknown.
                    Followed::Constant {
                        value: Value::String(name),
                        sensitive: false,
                    } => self.role_by_name(&name),
                    Followed::Opaque(reason) => {
                        unresolved.push(format!("role unknown at plan time: {reason}"));
                        RoleRef {
                            name: None,
                            caps: Tri::Unknown,
                        }
                    }
                    _ => {
                        unresolved.push("role unknown at plan time".into());
                        RoleRef {
                            name: None,
                            caps: Tri::Unknown,
                        }
                    }
                }
            }
        }
    }

    fn members(
        &self,
        members: &[MemberValue],
        attribute: &str,
        unresolved: &mut Vec<String>,
    ) -> Vec<Principal> {
        let mut out = Vec::new();
        let mut followed_unknown = false;
        for m in members {
            match m {
                MemberValue::Known { value, sensitive } => out.push(Principal::Known {
                    member: iam::normalize(value).into(),
                    sensitive: *sensitive,
                }),
                MemberValue::Unknown if !followed_unknown => {
                    followed_unknown = true;
                    out.extend(self.unknown_members(attribute, unresolved));
                }
                MemberValue::Unknown => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Follows the `member`/`members` expression: a service account reference gives its
    /// `serviceAccount:` member, a constant gives itself.
    fn unknown_members(&self, attribute: &str, unresolved: &mut Vec<String>) -> Vec<Principal> {
        match self
            .ctx
            .follow(self.address, &[attribute], &self.index.accounts)
        {
            Followed::Instances(found) => found
                .iter()
                .map(|&i| {
                    let account = &self.side.service_accounts[i];
                    let addr = &account.address;
                    match &account.email {
                        Tri::Known(email) => Principal::Known {
                            member: iam::member::service_account_member(email).into(),
                            sensitive: false,
                        },
                        _ => {
                            unresolved.push(format!(
                                "{attribute}: the email of `{addr}` is unknown at plan time"
                            ));
                            Principal::Unknown
                        }
                    }
                })
                .collect(),
            Followed::Constant {
                value: Value::String(s),
                sensitive,
            } => vec![Principal::Known {
                member: iam::normalize(&s).into(),
                sensitive,
            }],
            Followed::Constant {
                value: Value::Array(items),
                sensitive,
            } => items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| Principal::Known {
                    member: iam::normalize(s).into(),
                    sensitive,
                })
                .collect(),
            Followed::Constant { .. } => {
                unresolved.push(format!("{attribute} unknown at plan time"));
                vec![Principal::Unknown]
            }
            Followed::Opaque(reason) => {
                unresolved.push(format!("{attribute} unknown at plan time: {reason}"));
                vec![Principal::Unknown]
            }
        }
    }

    fn policy_bindings(&self, bindings: &[PolicyBinding]) -> Vec<ResolvedBinding> {
        bindings
            .iter()
            .map(|b| ResolvedBinding {
                role: self.role_by_name(&b.role),
                principals: {
                    let mut p: Vec<Principal> = b
                        .members
                        .iter()
                        .map(|m| match m {
                            MemberValue::Known { value, sensitive } => Principal::Known {
                                member: iam::normalize(value).into(),
                                sensitive: *sensitive,
                            },
                            MemberValue::Unknown => Principal::Unknown,
                        })
                        .collect();
                    p.sort();
                    p.dedup();
                    p
                },
                conditional: b.conditional,
            })
            .collect()
    }

    /// `policy_data = data.google_iam_policy.X.policy_data`, unknown at plan time: take the
    /// bindings of that data source.
    fn policy_from_data_source(
        &self,
        unresolved: &mut Vec<String>,
    ) -> Option<Vec<ResolvedBinding>> {
        match self
            .ctx
            .follow(self.address, &["policy_data"], &self.index.policy_data)
        {
            Followed::Instances(found) if found.len() == 1 => {
                let source = &self.side.policy_data[found[0]];
                match &source.bindings {
                    Tri::Known(b) => Some(self.policy_bindings(b)),
                    _ => self.configured_bindings(&source.address, unresolved),
                }
            }
            Followed::Opaque(reason) => {
                unresolved.push(format!("policy_data unknown at plan time: {reason}"));
                None
            }
            _ => {
                unresolved.push("policy_data unknown at plan time".into());
                None
            }
        }
    }

    /// The `binding` blocks of a `data "google_iam_policy"` as configured, when even its read
    /// result is unknown: constant roles and members are taken as written, anything else stays
    /// unknown.
    fn configured_bindings(
        &self,
        source: &Address,
        unresolved: &mut Vec<String>,
    ) -> Option<Vec<ResolvedBinding>> {
        let config = self.ctx.configuration;
        let blocks = config.expressions(
            &source.config_module(),
            &source.config_resource(),
            &["binding", "*"],
        );
        if blocks.is_empty() {
            unresolved.push(format!(
                "policy_data unknown at plan time, and so are the bindings of `{source}`"
            ));
            return None;
        }
        let mut bindings = Vec::new();
        for block in blocks {
            let role = block
                .get("role")
                .and_then(|r| r.get("constant_value"))
                .and_then(Value::as_str);
            let Some(role) = role else {
                unresolved.push(format!(
                    "a binding role of `{source}` is unknown at plan time"
                ));
                return None;
            };
            let mut principals = Vec::new();
            for origin in block.get("members").map_or_else(Vec::new, |m| {
                config.resolve(&source.modules, m, source.key.as_ref(), self.ctx.variables)
            }) {
                match origin {
                    Origin::Constant {
                        value: Value::Array(items),
                        sensitive,
                    } => principals.extend(items.iter().filter_map(Value::as_str).map(|m| {
                        Principal::Known {
                            member: iam::normalize(m).into(),
                            sensitive,
                        }
                    })),
                    Origin::Constant {
                        value: Value::String(m),
                        sensitive,
                    } => principals.push(Principal::Known {
                        member: iam::normalize(&m).into(),
                        sensitive,
                    }),
                    _ => {
                        unresolved.push(format!(
                            "members of `{role}` in `{source}` are unknown at plan time"
                        ));
                        principals.push(Principal::Unknown);
                    }
                }
            }
            principals.sort();
            principals.dedup();
            bindings.push(ResolvedBinding {
                role: self.role_by_name(role),
                principals,
                conditional: block
                    .get("condition")
                    .is_some_and(|c| c.as_array().is_none_or(|a| !a.is_empty())),
            });
        }
        Some(bindings)
    }
}
