//! Organization policies set by the plan: the v2 `google_org_policy_policy` and the legacy
//! `google_project_organization_policy`, `google_folder_organization_policy` and
//! `google_organization_policy`. They decide whether some risky changes can apply at all. Also
//! `google_project_default_service_accounts`, which strips, disables or deletes a project's
//! default service accounts.

use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::Reading;

const V2: &str = "google_org_policy_policy";
const PROJECT: &str = "google_project_organization_policy";
const FOLDER: &str = "google_folder_organization_policy";
const ORGANIZATION: &str = "google_organization_policy";
const DEFAULT_ACCOUNTS: &str = "google_project_default_service_accounts";

pub fn handles(rtype: &str) -> bool {
    matches!(rtype, V2 | PROJECT | FOLDER | ORGANIZATION)
}

pub fn handles_default_accounts(rtype: &str) -> bool {
    rtype == DEFAULT_ACCOUNTS
}

/// What `google_project_default_service_accounts` does to a project's default accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAccountsAction {
    /// Removes `roles/editor` from the default compute account (and App Engine's).
    Deprivilege,
    Disable,
    Delete,
}

impl DefaultAccountsAction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DefaultAccountsAction::Deprivilege => "DEPRIVILEGE",
            DefaultAccountsAction::Disable => "DISABLE",
            DefaultAccountsAction::Delete => "DELETE",
        }
    }
}

/// One side of a `google_project_default_service_accounts`.
#[derive(Debug, Clone)]
pub struct DefaultAccounts {
    pub address: Address,
    pub project: Tri<String>,
    /// `None` when the action is unknown or not one the provider accepts.
    pub action: Option<DefaultAccountsAction>,
}

pub fn read_default_accounts(r: &Reading) -> Result<DefaultAccounts, TypeMismatch> {
    let n = &r.node;
    let action = match n.key("action").non_empty_str()? {
        Tri::Known("DEPRIVILEGE") => Some(DefaultAccountsAction::Deprivilege),
        Tri::Known("DISABLE") => Some(DefaultAccountsAction::Disable),
        Tri::Known("DELETE") => Some(DefaultAccountsAction::Delete),
        _ => None,
    };
    Ok(DefaultAccounts {
        address: r.address.clone(),
        project: n.key("project").non_empty_str()?.map(last_segment),
        action,
    })
}

/// Where a policy is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyParent {
    /// A project id (or number, as the configuration wrote it).
    Project(String),
    Folder(String),
    Organization(String),
}

impl PolicyParent {
    /// `projects/P`, `folders/F` or `organizations/O`, as the API names them.
    pub fn display(&self) -> String {
        match self {
            PolicyParent::Project(p) => format!("projects/{p}"),
            PolicyParent::Folder(f) => format!("folders/{f}"),
            PolicyParent::Organization(o) => format!("organizations/{o}"),
        }
    }
}

/// What a policy says, as far as the plan proves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRule {
    /// A boolean or managed constraint: enforced or not. `parameters` is the JSON string of a
    /// managed constraint's parameters, when set.
    Enforce {
        enforced: bool,
        parameters: Option<String>,
    },
    /// A list constraint: the allowed and denied values as written (`is:` prefixes kept).
    Values {
        allowed: Vec<String>,
        denied: Vec<String>,
        allow_all: bool,
        deny_all: bool,
    },
    /// Restores Google's default or the parent's policy, or says nothing this side can prove
    /// (a conditional rule, a value unknown at plan time): it refuses nothing runguard can name.
    Open,
}

impl PolicyRule {
    /// A list rule from its values, in either resource family's spelling: one that allows and
    /// denies nothing restores the default, which refuses nothing.
    fn values(allowed: Vec<String>, denied: Vec<String>, allow_all: bool, deny_all: bool) -> Self {
        if !allow_all && !deny_all && allowed.is_empty() && denied.is_empty() {
            return PolicyRule::Open;
        }
        PolicyRule::Values {
            allowed,
            denied,
            allow_all,
            deny_all,
        }
    }
}

/// One side of one org policy.
#[derive(Debug, Clone)]
pub struct OrgPolicy {
    pub address: Address,
    /// The constraint without its `constraints/` prefix.
    pub constraint: Tri<String>,
    pub parent: Tri<PolicyParent>,
    pub rule: PolicyRule,
}

pub fn read(r: &Reading) -> Result<OrgPolicy, TypeMismatch> {
    let n = &r.node;
    if r.rtype == V2 {
        return read_v2(r.address, n);
    }
    let constraint = n.key("constraint").non_empty_str()?.map(constraint_name);
    let parent = match r.rtype {
        PROJECT => n
            .key("project")
            .non_empty_str()?
            .map(|p| PolicyParent::Project(last_segment(p))),
        FOLDER => n
            .key("folder")
            .non_empty_str()?
            .map(|f| PolicyParent::Folder(last_segment(f))),
        _ => n
            .key("org_id")
            .non_empty_str()?
            .map(|o| PolicyParent::Organization(last_segment(o))),
    };
    Ok(OrgPolicy {
        address: r.address.clone(),
        constraint,
        parent,
        rule: read_legacy_rule(n)?,
    })
}

/// `boolean_policy[0].enforced`, or `list_policy[0].allow[0]` / `deny[0]`; `restore_policy`
/// restores the default, which refuses nothing runguard can prove.
fn read_legacy_rule(n: &Node) -> Result<PolicyRule, TypeMismatch> {
    let boolean = n.first("boolean_policy");
    if let Tri::Known(enforced) = boolean.key("enforced").bool()? {
        return Ok(PolicyRule::Enforce {
            enforced,
            parameters: None,
        });
    }
    let list = n.first("list_policy");
    let allow = list.first("allow");
    let deny = list.first("deny");
    let flag = |node: &Node| -> Result<Option<bool>, TypeMismatch> {
        Ok(match node.key("all").bool()? {
            Tri::Known(b) => Some(b),
            Tri::Absent => Some(false),
            Tri::Unknown => None,
        })
    };
    let (Some(allow_all), Some(deny_all)) = (flag(&allow)?, flag(&deny)?) else {
        return Ok(PolicyRule::Open);
    };
    let (Some(allowed), Some(denied)) = (
        strings(&allow.key("values"))?,
        strings(&deny.key("values"))?,
    ) else {
        return Ok(PolicyRule::Open);
    };
    Ok(PolicyRule::values(allowed, denied, allow_all, deny_all))
}

/// `name` is `{parent}/policies/{constraint}` and `parent` is `projects/X`, `folders/X` or
/// `organizations/X`. `spec[0].rules[]` hold `enforce`, `allow_all`, `deny_all` as the strings
/// `"TRUE"`/`"FALSE"` (the provider parses them with Go's `strconv.ParseBool`). `dry_run_spec`
/// only audits and refuses nothing.
fn read_v2(address: &Address, n: &Node) -> Result<OrgPolicy, TypeMismatch> {
    let constraint = n
        .key("name")
        .non_empty_str()?
        .map(|name| constraint_name(name.rsplit('/').next().unwrap_or(name)));
    let parent = match n.key("parent").non_empty_str()? {
        Tri::Known(p) => match p.split_once('/') {
            Some(("projects", id)) => Tri::Known(PolicyParent::Project(id.to_owned())),
            Some(("folders", id)) => Tri::Known(PolicyParent::Folder(id.to_owned())),
            Some(("organizations", id)) => Tri::Known(PolicyParent::Organization(id.to_owned())),
            // Not a parent the API accepts: nothing can be proven of it.
            _ => Tri::Unknown,
        },
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Absent,
    };
    Ok(OrgPolicy {
        address: address.clone(),
        constraint,
        parent,
        rule: read_v2_rule(&n.first("spec"))?,
    })
}

fn read_v2_rule(spec: &Node) -> Result<PolicyRule, TypeMismatch> {
    // `reset` restores Google's default: nothing this policy refuses.
    if matches!(spec.key("reset").bool()?, Tri::Known(true) | Tri::Unknown) {
        return Ok(PolicyRule::Open);
    }
    let rules = match spec.key("rules").items()? {
        Tri::Known(rules) => rules,
        _ => return Ok(PolicyRule::Open),
    };
    // One unconditional rule is what the plan can prove; conditional rules apply to some
    // resources only (by tag), and several rules combine in ways only the API decides.
    let [rule] = rules.as_slice() else {
        return Ok(PolicyRule::Open);
    };
    let unconditional = match rule.key("condition").items()? {
        Tri::Known(c) => c.is_empty(),
        Tri::Absent => true,
        Tri::Unknown => false,
    };
    if !unconditional {
        return Ok(PolicyRule::Open);
    }
    let flag = |key: &str| -> Result<Option<Option<bool>>, TypeMismatch> {
        Ok(match rule.key(key).str()? {
            Tri::Known(s) => Some(parse_bool(s)),
            Tri::Absent => Some(None),
            Tri::Unknown => None,
        })
    };
    let (Some(enforce), Some(allow_all), Some(deny_all)) =
        (flag("enforce")?, flag("allow_all")?, flag("deny_all")?)
    else {
        return Ok(PolicyRule::Open);
    };
    if let Some(enforced) = enforce {
        let parameters = match rule.key("parameters").str()? {
            Tri::Known(p) if !p.is_empty() => Some(p.to_owned()),
            Tri::Known(_) | Tri::Absent => None,
            Tri::Unknown => return Ok(PolicyRule::Open),
        };
        return Ok(PolicyRule::Enforce {
            enforced,
            parameters,
        });
    }
    let values = rule.first("values");
    let (Some(allowed), Some(denied)) = (
        strings(&values.key("allowed_values"))?,
        strings(&values.key("denied_values"))?,
    ) else {
        return Ok(PolicyRule::Open);
    };
    let allow_all = allow_all.unwrap_or(false);
    let deny_all = deny_all.unwrap_or(false);
    Ok(PolicyRule::values(allowed, denied, allow_all, deny_all))
}

/// Go's `strconv.ParseBool`, which the provider uses for `"TRUE"`/`"FALSE"`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A list of strings; `None` when it or an element is unknown.
fn strings(n: &Node) -> Result<Option<Vec<String>>, TypeMismatch> {
    let items = match n.items()? {
        Tri::Known(items) => items,
        Tri::Absent => return Ok(Some(Vec::new())),
        Tri::Unknown => return Ok(None),
    };
    let mut out = Vec::new();
    for item in items {
        match item.str()? {
            Tri::Known(s) => out.push(s.to_owned()),
            Tri::Absent => {}
            Tri::Unknown => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// The provider accepts a constraint with or without `constraints/`.
fn constraint_name(s: &str) -> String {
    s.strip_prefix("constraints/").unwrap_or(s).to_owned()
}

/// `projects/X`, `folders/X`, `organizations/X` or just `X`.
fn last_segment(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Side;

    fn read_values(rtype: &str, values: serde_json::Value) -> OrgPolicy {
        let address = Address::parse(&format!("{rtype}.p")).unwrap();
        let reading = Reading {
            address: &address,
            rtype,
            node: Node::root(&values, None, None),
            side: Side::After,
            creating: true,
            prior: None,
        };
        read(&reading).unwrap()
    }

    #[test]
    fn v2_booleans_are_strings_and_the_name_gives_the_constraint() {
        let p = read_values(
            V2,
            serde_json::json!({
                "name": "projects/acme-prod/policies/run.managed.requireInvokerIam",
                "parent": "projects/acme-prod",
                "spec": [{"reset": null, "rules": [{"enforce": "TRUE", "condition": [], "values": [],
                          "allow_all": null, "deny_all": null, "parameters": null}]}],
                "dry_run_spec": []
            }),
        );
        assert_eq!(
            p.constraint,
            Tri::Known("run.managed.requireInvokerIam".into())
        );
        assert_eq!(
            p.parent,
            Tri::Known(PolicyParent::Project("acme-prod".into()))
        );
        assert_eq!(
            p.rule,
            PolicyRule::Enforce {
                enforced: true,
                parameters: None
            }
        );
    }

    #[test]
    fn a_conditional_or_dry_run_rule_refuses_nothing_provable() {
        let conditional = read_values(
            V2,
            serde_json::json!({
                "name": "organizations/1/policies/run.allowedIngress",
                "parent": "organizations/1",
                "spec": [{"rules": [{"values": [{"allowed_values": ["is:internal"], "denied_values": []}],
                          "condition": [{"expression": "resource.matchTag('env', 'prod')"}]}]}]
            }),
        );
        assert_eq!(conditional.rule, PolicyRule::Open);
        let dry_run = read_values(
            V2,
            serde_json::json!({
                "name": "organizations/1/policies/run.allowedIngress",
                "parent": "organizations/1",
                "spec": [],
                "dry_run_spec": [{"rules": [{"values": [{"allowed_values": ["is:internal"]}]}]}]
            }),
        );
        assert_eq!(dry_run.rule, PolicyRule::Open);
    }

    #[test]
    fn legacy_list_and_boolean_policies() {
        let list = read_values(
            PROJECT,
            serde_json::json!({
                "project": "acme-prod",
                "constraint": "constraints/iam.allowedPolicyMemberDomains",
                "boolean_policy": [],
                "list_policy": [{"allow": [{"all": false, "values": ["C0abc123"]}], "deny": [],
                                 "inherit_from_parent": false, "suggested_value": ""}],
                "restore_policy": []
            }),
        );
        assert_eq!(
            list.constraint,
            Tri::Known("iam.allowedPolicyMemberDomains".into())
        );
        assert_eq!(
            list.rule,
            PolicyRule::Values {
                allowed: vec!["C0abc123".into()],
                denied: vec![],
                allow_all: false,
                deny_all: false
            }
        );
        let boolean = read_values(
            ORGANIZATION,
            serde_json::json!({
                "org_id": "123",
                "constraint": "iam.automaticIamGrantsForDefaultServiceAccounts",
                "boolean_policy": [{"enforced": true}]
            }),
        );
        assert_eq!(
            boolean.parent,
            Tri::Known(PolicyParent::Organization("123".into()))
        );
        assert!(matches!(
            boolean.rule,
            PolicyRule::Enforce { enforced: true, .. }
        ));
    }
}
