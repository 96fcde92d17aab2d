//! Which risky changes the plan's own org policies refuse at apply, for one workload.
//!
//! A policy applies to a workload when it is set on the workload's project (both known and
//! equal) or on a folder or organization (assumed to hold the project, as folder and
//! organization grants are). The most specific level that sets a constraint decides it; a
//! policy that proves nothing (conditional, unknown, reset) decides that nothing is refused.

use crate::inventory::Ingress;
use crate::inventory::org_policy::{
    DefaultAccounts, DefaultAccountsAction, OrgPolicy, PolicyParent, PolicyRule,
};
use crate::inventory::project::DefaultAccount;
use crate::plan::Tri;

use super::Posture;

/// Domain restricted sharing: only principals of the allowed directories can be granted roles.
const MEMBER_DOMAINS: &str = "iam.allowedPolicyMemberDomains";
/// Its managed successor: only the listed principals and principal sets can be granted roles.
const MANAGED_MEMBERS: &str = "iam.managed.allowedPolicyMembers";
const REQUIRE_INVOKER_IAM: &str = "run.managed.requireInvokerIam";
/// Enforced, default service accounts created from then on get no automatic roles/editor.
const AUTOMATIC_GRANTS: &str = "iam.automaticIamGrantsForDefaultServiceAccounts";
const ALLOWED_INGRESS: &str = "run.allowedIngress";

/// The refusals that apply to one workload, each with the policy's address.
#[derive(Debug, Clone, Default)]
pub struct OrgGuards {
    /// A policy that refuses IAM grants to `allUsers` and `allAuthenticatedUsers` (for each,
    /// whether it refuses that member).
    members: Option<(String, MemberRefusal)>,
    /// A policy that refuses `invoker_iam_disabled = true`.
    invoker_iam_required: Option<String>,
    /// A policy that refuses ingress settings outside `allowed`.
    ingress: Option<(String, IngressRule)>,
    /// A `google_project_default_service_accounts` of the workload's project that strips,
    /// disables or deletes its default compute account.
    default_account: Option<(String, DefaultAccountsAction)>,
    /// A policy enforcing `iam.automaticIamGrantsForDefaultServiceAccounts` for the workload's
    /// project, and whether the plan proves that it spares the project's default account.
    automatic_grants: Option<AutomaticGrants>,
}

/// What `iam.automaticIamGrantsForDefaultServiceAccounts` does for a project's default compute
/// account. The constraint only acts when a default account is created: Google grants the new
/// account roles/editor unless the constraint is enforced at that moment, and an account that
/// already holds the grant keeps it. So the plan proves the account has no automatic Editor
/// only when it creates the project (the account appears with the Compute Engine API, after the
/// project exists) under a folder or organization whose policy enforces the constraint both
/// before and after the plan, with no project-level policy deciding otherwise. A policy that
/// the plan itself creates has no proven order with the project's creation, and a policy on an
/// existing project or one whose folder or organization the plan cannot tie to the project
/// only makes it likely.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AutomaticGrants {
    /// The account is created after the policy is in force at the project's parent.
    Prevented {
        policy: String,
        /// `folders/123` or `organizations/456`.
        parent: String,
        /// The `google_project` that creates the project.
        project: String,
    },
    /// The policy is enforced, but the plan does not show the account is created after it.
    Unproven { policy: String },
}

#[derive(Debug, Clone)]
enum MemberRefusal {
    /// Domain restricted sharing: neither public member belongs to a directory.
    Both,
    /// The managed constraint: refused unless its parameters name the member.
    UnlessListed(String),
}

#[derive(Debug, Clone)]
struct IngressRule {
    allowed: Vec<String>,
    denied: Vec<String>,
    allow_all: bool,
    deny_all: bool,
}

impl OrgGuards {
    /// The guards of a workload in `project` among the side's policies.
    pub(crate) fn of(
        policies: &[OrgPolicy],
        default_accounts: &[DefaultAccounts],
        project: &Tri<String>,
    ) -> OrgGuards {
        let mut g = OrgGuards::default();
        let mut on_project = default_accounts
            .iter()
            .filter(|d| matches!((&d.project, project), (Tri::Known(a), Tri::Known(b)) if a == b));
        if let (Some(d), None) = (on_project.next(), on_project.next()) {
            g.default_account = d.action.map(|a| (d.address.to_string(), a));
        }
        if let Some(p) = deciding(policies, project, MEMBER_DOMAINS) {
            if let PolicyRule::Values {
                allow_all: false, ..
            } = &p.rule
            {
                g.members = Some((p.address.to_string(), MemberRefusal::Both));
            }
        }
        if g.members.is_none() {
            if let Some(p) = deciding(policies, project, MANAGED_MEMBERS) {
                if let PolicyRule::Enforce {
                    enforced: true,
                    parameters,
                } = &p.rule
                {
                    g.members = Some((
                        p.address.to_string(),
                        MemberRefusal::UnlessListed(parameters.clone().unwrap_or_default()),
                    ));
                }
            }
        }
        if let Some(p) = deciding(policies, project, REQUIRE_INVOKER_IAM) {
            if let PolicyRule::Enforce { enforced: true, .. } = &p.rule {
                g.invoker_iam_required = Some(p.address.to_string());
            }
        }
        if let Some(p) = deciding(policies, project, ALLOWED_INGRESS) {
            if let PolicyRule::Values {
                allowed,
                denied,
                allow_all,
                deny_all,
            } = &p.rule
            {
                g.ingress = Some((
                    p.address.to_string(),
                    IngressRule {
                        allowed: allowed.iter().map(|v| value(v)).collect(),
                        denied: denied.iter().map(|v| value(v)).collect(),
                        allow_all: *allow_all,
                        deny_all: *deny_all,
                    },
                ));
            }
        }
        g
    }

    /// The same guards, knowing what `iam.automaticIamGrantsForDefaultServiceAccounts` does for
    /// the default account of the workload's `project`: `policies` are this side's, `in_force`
    /// those before the plan applies, and `projects` say which projects the plan creates, under
    /// which parent. Only the after side has projects the plan creates, so on the before side
    /// the constraint is never proven to apply.
    pub(crate) fn with_automatic_grants(
        mut self,
        policies: &[OrgPolicy],
        in_force: &[OrgPolicy],
        projects: &[DefaultAccount],
        project: &Tri<String>,
    ) -> OrgGuards {
        let Some(deciding) = deciding(policies, project, AUTOMATIC_GRANTS) else {
            return self;
        };
        if !matches!(deciding.rule, PolicyRule::Enforce { enforced: true, .. }) {
            return self;
        }
        let policy = deciding.address.to_string();
        let mut created = projects
            .iter()
            .filter_map(|p| match (&p.project, &p.created) {
                (Tri::Known(id), Some(c)) if matches!(project, Tri::Known(w) if w == id) => Some(c),
                _ => None,
            });
        let proven = match (created.next(), created.next()) {
            (Some((address, parent)), None)
                if deciding.parent == Tri::Known(parent.clone())
                    && enforced_at(in_force, &deciding.address, parent) =>
            {
                Some(AutomaticGrants::Prevented {
                    policy: policy.clone(),
                    parent: parent.display(),
                    project: address.to_string(),
                })
            }
            _ => None,
        };
        self.automatic_grants = Some(proven.unwrap_or(AutomaticGrants::Unproven { policy }));
        self
    }

    /// What the plan proves about the default compute account's automatic roles/editor grant,
    /// for a workload that runs as its project's default account (`implicit`: by leaving
    /// `service_account` unset, so the account is the project's own): a text that starts with
    /// "mitigated by", and the resource that mitigates it. An account named by email may be
    /// another project's, which an org policy on this one does not prove anything about.
    pub(crate) fn default_account_mitigation(&self, implicit: bool) -> Option<(String, String)> {
        if let Some((policy, action)) = &self.default_account {
            let what = match action {
                DefaultAccountsAction::Deprivilege => {
                    "its project roles, roles/editor included, are removed"
                }
                DefaultAccountsAction::Disable => "the account is disabled",
                DefaultAccountsAction::Delete => "the account is deleted",
            };
            return Some((
                format!("mitigated by {policy} (action {}): {what}", action.as_str()),
                policy.clone(),
            ));
        }
        match &self.automatic_grants {
            Some(AutomaticGrants::Prevented {
                policy,
                parent,
                project,
            }) if implicit => Some((
                format!(
                    "mitigated by org policy {policy}: {AUTOMATIC_GRANTS} is enforced on {parent} \
                     before {project} creates the project, so its default compute account gets \
                     no automatic roles/editor"
                ),
                policy.clone(),
            )),
            _ => None,
        }
    }

    /// A policy that enforces `iam.automaticIamGrantsForDefaultServiceAccounts` for the
    /// workload's project without the plan proving it spares the default account, to say so.
    pub(crate) fn unproven_automatic_grants(&self, implicit: bool) -> Option<String> {
        match &self.automatic_grants {
            Some(AutomaticGrants::Unproven { policy }) => Some(policy.clone()),
            Some(AutomaticGrants::Prevented { policy, .. }) if !implicit => Some(policy.clone()),
            _ => None,
        }
        .map(|policy| {
            format!(
                "{policy} enforces {AUTOMATIC_GRANTS}, but it spares only default accounts \
                 created while it is in force, and the plan does not show that this one was"
            )
        })
    }

    /// Whether a policy here may refuse an IAM grant to some member ([`Self::refusing_member`]).
    pub(crate) fn may_refuse_members(&self) -> bool {
        self.members.is_some()
    }

    /// The policy that refuses a grant to `member` (`allUsers`, `allAuthenticatedUsers`).
    pub(crate) fn refusing_member(&self, member: &str) -> Option<&str> {
        if !matches!(member, "allUsers" | "allAuthenticatedUsers") {
            return None;
        }
        let (address, refusal) = self.members.as_ref()?;
        match refusal {
            MemberRefusal::Both => Some(address),
            // A parameter naming the member lets it through; anything else refuses it.
            MemberRefusal::UnlessListed(parameters) => {
                (!parameters.contains(&format!("\"{member}\""))).then_some(address.as_str())
            }
        }
    }

    /// The policy that refuses `invoker_iam_disabled = true`.
    pub(crate) fn refusing_disabled_invoker_check(&self) -> Option<&str> {
        self.invoker_iam_required.as_deref()
    }

    /// The policy that refuses `ingress`.
    pub(crate) fn refusing_ingress(&self, ingress: Ingress) -> Option<&str> {
        let (address, rule) = self.ingress.as_ref()?;
        let v = ingress.as_str();
        let refused = if rule.allow_all {
            false
        } else {
            rule.deny_all
                || rule.denied.iter().any(|d| d == v)
                || (!rule.allowed.is_empty() && !rule.allowed.iter().any(|a| a == v))
        };
        refused.then_some(address.as_str())
    }
}

/// `is:internal` and `internal` are the same value.
fn value(v: &str) -> String {
    v.strip_prefix("is:").unwrap_or(v).to_owned()
}

/// The policy at `address` enforces its constraint at `parent` in `policies` (the side before
/// the plan applies).
fn enforced_at(
    policies: &[OrgPolicy],
    address: &crate::plan::Address,
    parent: &PolicyParent,
) -> bool {
    policies.iter().any(|p| {
        p.address == *address
            && matches!(&p.constraint, Tri::Known(c) if c == AUTOMATIC_GRANTS)
            && p.parent == Tri::Known(parent.clone())
            && matches!(p.rule, PolicyRule::Enforce { enforced: true, .. })
    })
}

/// The policy that decides `constraint` for a workload in `project`: the project's own, else a
/// folder's, else the organization's. Two policies at the deciding level decide nothing
/// provable, and neither does a project-level policy whose project is unknown.
fn deciding<'a>(
    policies: &'a [OrgPolicy],
    project: &Tri<String>,
    constraint: &str,
) -> Option<&'a OrgPolicy> {
    let of_constraint: Vec<&OrgPolicy> = policies
        .iter()
        .filter(|p| matches!(&p.constraint, Tri::Known(c) if c == constraint))
        .collect();
    // A policy whose project or parent cannot be told apart might be the project's own.
    let undecidable = of_constraint.iter().any(|p| match &p.parent {
        Tri::Known(PolicyParent::Project(_)) => project.is_unknown() || *project == Tri::Absent,
        Tri::Known(_) => false,
        Tri::Unknown | Tri::Absent => true,
    });
    if undecidable {
        return None;
    }
    let level = |p: &&&OrgPolicy| match &p.parent {
        Tri::Known(PolicyParent::Project(id)) => {
            (matches!(project, Tri::Known(w) if w == id)).then_some(0)
        }
        Tri::Known(PolicyParent::Folder(_)) => Some(1),
        Tri::Known(PolicyParent::Organization(_)) => Some(2),
        _ => None,
    };
    let best = of_constraint.iter().filter_map(|p| level(&p)).min()?;
    let mut at_best = of_constraint
        .iter()
        .filter(|p| level(p) == Some(best))
        .copied();
    let first = at_best.next()?;
    at_best.next().is_none().then_some(first)
}

/// Why the plan's own org policy refuses a change, and the policies that do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub message: String,
    pub policies: Vec<String>,
    /// The change applies, but the plan takes the risk out of it: the finding is lowered, not
    /// set aside.
    pub mitigated: bool,
}

impl Refusal {
    fn add(&mut self, what: &str, policy: &str) {
        if !self.message.is_empty() {
            self.message.push_str("; ");
        }
        self.message
            .push_str(&format!("{what} is refused by {policy}"));
        self.policies.push(policy.to_owned());
    }

    fn one(what: &str, policy: &str) -> Refusal {
        let mut r = Refusal {
            message: String::new(),
            policies: Vec::new(),
            mitigated: false,
        };
        r.add(what, policy);
        r
    }
}

/// The refusal, by the plan's org policies, of the change behind a worsened finding of `rule`
/// about `principal`, given the workload's two sides. Only changes the plan makes are refused:
/// a grant or setting that already exists stays.
pub(crate) fn refusal(
    rule: &str,
    principal: Option<&str>,
    before: Option<&Posture>,
    after: &Posture,
) -> Option<Refusal> {
    let guards = &after.org_policy;
    if let Some(member) = principal {
        if let Some(policy) = guards.refusing_member(member) {
            return Some(Refusal::one(&format!("granting `{member}`"), policy));
        }
    }
    match rule {
        "invoker-check-disabled" => guards
            .refusing_disabled_invoker_check()
            .map(|policy| Refusal::one("`invoker_iam_disabled = true`", policy)),
        "ingress-widened" => match after.ingress {
            Some(super::IngressValue::Set(i)) => guards
                .refusing_ingress(i)
                .map(|policy| Refusal::one(&format!("ingress `{}`", i.as_str()), policy)),
            _ => None,
        },
        "public-invoker" => public_refusal(before, after),
        "default-service-account" => {
            let (message, policy) = guards.default_account_mitigation(after.identity.implicit)?;
            Some(Refusal {
                message,
                policies: vec![policy],
                mitigated: true,
            })
        }
        _ => None,
    }
}

/// A service becomes public only through what lets anyone in: `allUsers` among its invokers or
/// a disabled invoker check. When every one of them is new in this plan and refused, it does not
/// become public.
fn public_refusal(before: Option<&Posture>, after: &Posture) -> Option<Refusal> {
    let guards = &after.org_policy;
    let mut refusal = Refusal {
        message: String::new(),
        policies: Vec::new(),
        mitigated: false,
    };
    let had_all_users = |p: &Posture| {
        p.invokers
            .iter()
            .any(|i| i.principal.display() == "allUsers")
    };
    if had_all_users(after) {
        if before.is_some_and(had_all_users) {
            return None;
        }
        refusal.add("granting `allUsers`", guards.refusing_member("allUsers")?);
    }
    if after.iam_check_disabled == Some(true) {
        if before.is_some_and(|b| b.iam_check_disabled == Some(true)) {
            return None;
        }
        refusal.add(
            "`invoker_iam_disabled = true`",
            guards.refusing_disabled_invoker_check()?,
        );
    }
    (!refusal.policies.is_empty()).then_some(refusal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Address;

    fn policy(
        address: &str,
        constraint: &str,
        parent: PolicyParent,
        rule: PolicyRule,
    ) -> OrgPolicy {
        OrgPolicy {
            address: Address::parse(address).unwrap(),
            constraint: Tri::Known(constraint.into()),
            parent: Tri::Known(parent),
            rule,
        }
    }

    fn enforced(parameters: Option<&str>) -> PolicyRule {
        PolicyRule::Enforce {
            enforced: true,
            parameters: parameters.map(str::to_owned),
        }
    }

    fn allowed(values: &[&str]) -> PolicyRule {
        PolicyRule::Values {
            allowed: values.iter().map(|v| v.to_string()).collect(),
            denied: Vec::new(),
            allow_all: false,
            deny_all: false,
        }
    }

    fn denied(values: &[&str]) -> PolicyRule {
        PolicyRule::Values {
            allowed: Vec::new(),
            denied: values.iter().map(|v| v.to_string()).collect(),
            allow_all: false,
            deny_all: false,
        }
    }

    fn allow_all() -> PolicyRule {
        PolicyRule::Values {
            allowed: Vec::new(),
            denied: Vec::new(),
            allow_all: true,
            deny_all: false,
        }
    }

    fn prod() -> Tri<String> {
        Tri::Known("acme-prod".into())
    }

    /// A project the plan creates under `parent`, at `google_project.new`.
    fn new_project(parent: PolicyParent) -> DefaultAccount {
        DefaultAccount {
            project: prod(),
            email: Tri::Unknown,
            created: Some((Address::parse("google_project.new").unwrap(), parent)),
        }
    }

    #[test]
    fn automatic_grants_are_prevented_only_for_a_new_project_under_a_policy_already_in_force() {
        let folder = PolicyParent::Folder("4471".into());
        let on_folder = [policy(
            "google_org_policy_policy.no_editor",
            AUTOMATIC_GRANTS,
            folder.clone(),
            enforced(None),
        )];
        let guards = |after: &[OrgPolicy], before: &[OrgPolicy], projects: &[DefaultAccount]| {
            OrgGuards::of(after, &[], &prod()).with_automatic_grants(
                after,
                before,
                projects,
                &prod(),
            )
        };
        // In force before the plan, the project created under it: proven, for the implicit
        // account only.
        let proven = guards(&on_folder, &on_folder, &[new_project(folder.clone())]);
        let (text, evidence) = proven.default_account_mitigation(true).unwrap();
        assert!(text.starts_with("mitigated by org policy google_org_policy_policy.no_editor"));
        assert_eq!(evidence, "google_org_policy_policy.no_editor");
        assert_eq!(proven.default_account_mitigation(false), None);
        assert!(proven.unproven_automatic_grants(false).is_some());
        // Proven for the implicit account: nothing is left unproven to say about it.
        assert_eq!(proven.unproven_automatic_grants(true), None);
        // Created in the same plan: nothing orders it before the project.
        let same_plan = guards(&on_folder, &[], &[new_project(folder.clone())]);
        assert_eq!(same_plan.default_account_mitigation(true), None);
        assert!(same_plan.unproven_automatic_grants(true).is_some());
        // Another constraint enforced there before the plan proves nothing about this one.
        let other_before = [policy(
            "google_org_policy_policy.no_keys",
            "constraints/iam.disableServiceAccountKeyCreation",
            folder.clone(),
            enforced(None),
        )];
        let other = guards(&on_folder, &other_before, &[new_project(folder.clone())]);
        assert_eq!(other.default_account_mitigation(true), None);
        // The same policy, not enforced before the plan: the plan enforces it as it creates
        // the project, in no proven order.
        let off_before = [policy(
            "google_org_policy_policy.no_editor",
            AUTOMATIC_GRANTS,
            folder.clone(),
            PolicyRule::Enforce {
                enforced: false,
                parameters: None,
            },
        )];
        let turned_on = guards(&on_folder, &off_before, &[new_project(folder.clone())]);
        assert_eq!(turned_on.default_account_mitigation(true), None);
        // An existing project, or one created under another folder.
        let existing = guards(&on_folder, &on_folder, &[]);
        assert_eq!(existing.default_account_mitigation(true), None);
        assert!(existing.unproven_automatic_grants(true).is_some());
        let elsewhere = guards(
            &on_folder,
            &on_folder,
            &[new_project(PolicyParent::Folder("9".into()))],
        );
        assert_eq!(elsewhere.default_account_mitigation(true), None);
        // Not enforced: nothing to say.
        let off = [policy(
            "google_org_policy_policy.no_editor",
            AUTOMATIC_GRANTS,
            folder.clone(),
            PolicyRule::Enforce {
                enforced: false,
                parameters: None,
            },
        )];
        let open = guards(&off, &off, &[new_project(folder)]);
        assert_eq!(open.default_account_mitigation(true), None);
        assert_eq!(open.unproven_automatic_grants(true), None);
    }

    #[test]
    fn a_project_level_policy_decides_the_constraint_but_never_proves_the_order() {
        let org = PolicyParent::Organization("584920173366".into());
        let policies = [
            policy(
                "google_organization_policy.no_editor",
                AUTOMATIC_GRANTS,
                org.clone(),
                enforced(None),
            ),
            policy(
                "google_project_organization_policy.no_editor",
                AUTOMATIC_GRANTS,
                PolicyParent::Project("acme-prod".into()),
                enforced(None),
            ),
        ];
        let g = OrgGuards::of(&policies, &[], &prod()).with_automatic_grants(
            &policies,
            &policies,
            &[new_project(org)],
            &prod(),
        );
        assert_eq!(g.default_account_mitigation(true), None);
        assert!(
            g.unproven_automatic_grants(true)
                .unwrap()
                .starts_with("google_project_organization_policy.no_editor")
        );
    }

    /// The organization allows only internal ingress; `project`'s own policy allows any.
    fn internal_ingress_except_in(project: &str) -> [OrgPolicy; 2] {
        [
            policy(
                "google_org_policy_policy.org",
                ALLOWED_INGRESS,
                PolicyParent::Organization("1".into()),
                allowed(&["is:internal"]),
            ),
            policy(
                &format!("google_org_policy_policy.{}", project.replace('-', "_")),
                ALLOWED_INGRESS,
                PolicyParent::Project(project.into()),
                allow_all(),
            ),
        ]
    }

    #[test]
    fn the_projects_own_policy_overrides_the_organizations() {
        let policies = internal_ingress_except_in("acme-prod");
        let prod_guards = OrgGuards::of(&policies, &[], &prod());
        assert_eq!(prod_guards.refusing_ingress(Ingress::All), None);
        let other = OrgGuards::of(&policies, &[], &Tri::Known("acme-dev".into()));
        assert_eq!(
            other.refusing_ingress(Ingress::All),
            Some("google_org_policy_policy.org")
        );
        assert_eq!(other.refusing_ingress(Ingress::Internal), None);
    }

    #[test]
    fn a_project_policy_may_decide_for_a_workload_whose_project_is_not_known() {
        // The organization refuses ingress `all`; a project's own policy allows it. For a
        // workload whose project is unknown at plan time (or unset, with no provider project),
        // that project may be its own: the organization's policy is not proven to decide.
        let policies = internal_ingress_except_in("acme-sandbox");
        for project in [Tri::Unknown, Tri::Absent] {
            let guards = OrgGuards::of(&policies, &[], &project);
            assert_eq!(guards.refusing_ingress(Ingress::All), None, "{project:?}");
        }
        // A known project that is not the sandbox is decided by the organization.
        assert_eq!(
            OrgGuards::of(&policies, &[], &prod()).refusing_ingress(Ingress::All),
            Some("google_org_policy_policy.org")
        );
    }

    #[test]
    fn a_denied_ingress_value_is_refused_and_no_other() {
        // `run.allowedIngress` as a deny list: the denied value is refused, the others pass.
        let policies = [policy(
            "google_org_policy_policy.no_public_ingress",
            ALLOWED_INGRESS,
            PolicyParent::Project("acme-prod".into()),
            denied(&["all"]),
        )];
        let guards = OrgGuards::of(&policies, &[], &prod());
        assert_eq!(
            guards.refusing_ingress(Ingress::All),
            Some("google_org_policy_policy.no_public_ingress")
        );
        assert_eq!(guards.refusing_ingress(Ingress::Internal), None);
        assert_eq!(
            guards.refusing_ingress(Ingress::InternalAndLoadBalancing),
            None
        );
    }

    #[test]
    fn a_project_policy_with_an_unknown_workload_project_proves_nothing() {
        let policies = [policy(
            "google_org_policy_policy.prod",
            REQUIRE_INVOKER_IAM,
            PolicyParent::Project("acme-prod".into()),
            enforced(None),
        )];
        assert_eq!(
            OrgGuards::of(&policies, &[], &Tri::Unknown).refusing_disabled_invoker_check(),
            None
        );
        assert_eq!(
            OrgGuards::of(&policies, &[], &prod()).refusing_disabled_invoker_check(),
            Some("google_org_policy_policy.prod")
        );
    }

    #[test]
    fn the_managed_members_constraint_lets_listed_public_members_through() {
        let listing = |parameters: &str| {
            OrgGuards::of(
                &[policy(
                    "google_org_policy_policy.members",
                    MANAGED_MEMBERS,
                    PolicyParent::Organization("1".into()),
                    enforced(Some(parameters)),
                )],
                &[],
                &prod(),
            )
        };
        let g = listing(r#"{"allowedMemberSubjects": ["allUsers"]}"#);
        assert_eq!(g.refusing_member("allUsers"), None);
        assert_eq!(
            g.refusing_member("allAuthenticatedUsers"),
            Some("google_org_policy_policy.members")
        );
        assert_eq!(g.refusing_member("user:alice@acme.com"), None);
    }

    #[test]
    fn domain_restricted_sharing_refuses_both_public_members_unless_it_allows_all() {
        let with = |rule| {
            OrgGuards::of(
                &[policy(
                    "google_project_organization_policy.drs",
                    MEMBER_DOMAINS,
                    PolicyParent::Project("acme-prod".into()),
                    rule,
                )],
                &[],
                &prod(),
            )
        };
        let g = with(allowed(&["C03xk7q2m"]));
        assert!(g.refusing_member("allUsers").is_some());
        assert!(g.refusing_member("allAuthenticatedUsers").is_some());
        let open = with(allow_all());
        assert_eq!(open.refusing_member("allUsers"), None);
    }
}
