//! IAM resources of every family runguard reads — `*_iam_member`, `*_iam_binding` and
//! `*_iam_policy` on Cloud Run workloads (v2 and v1), on Cloud Functions gen2, on projects, folders and organizations,
//! and on service accounts — in one shape: a target and a grant. IAM on any other resource
//! (a secret, a bucket…) is read by [`super::resource_iam`] into the same shape.

use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::cloud_run::{Api, WorkloadKind};
use super::{Reading, computed_str};

/// A principal as written in the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum MemberValue {
    Known { value: String, sensitive: bool },
    Unknown,
}

/// One role binding inside a policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyBinding {
    pub role: String,
    pub members: Vec<MemberValue>,
    pub conditional: bool,
}

/// What an IAM resource grants, with its authority.
#[derive(Debug, Clone)]
pub enum Grant {
    /// Additive: one principal in one role.
    Member {
        role: Tri<String>,
        member: MemberValue,
        conditional: bool,
    },
    /// Authoritative for one role: its members are exactly these.
    Binding {
        role: Tri<String>,
        members: Tri<Vec<MemberValue>>,
        conditional: bool,
    },
    /// Authoritative for the whole policy.
    Policy { bindings: Tri<Vec<PolicyBinding>> },
}

/// The level of the resource hierarchy a grant is made on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Project(Tri<String>),
    Folder(Tri<String>),
    Organization(Tri<String>),
}

/// What an IAM resource is attached to.
#[derive(Debug, Clone)]
pub enum IamTarget {
    /// A Cloud Run workload, by the name components the parent attribute gives.
    Workload {
        kind: WorkloadKind,
        // Carried for Debug; the target is matched by name components, not by API family.
        #[allow(dead_code)]
        api: Api,
        project: Tri<String>,
        location: Tri<String>,
        name: Tri<String>,
        /// The parent attribute (`name`, `service` or `cloud_function`), for configuration
        /// lookups.
        attribute: &'static str,
    },
    Scope(Scope),
    /// A service account, by email from `service_account_id`.
    Account {
        email: Tri<String>,
    },
    /// Any other resource: a secret, a bucket, a topic… ([`super::resource_iam`]).
    Resource(super::resource_iam::ResourceTarget),
}

impl IamTarget {
    /// IAM on a gen2 function's own resource (`google_cloudfunctions2_function_iam_*`). It
    /// governs the Cloud Functions API on the function, not calls to it: a gen2 function is
    /// called through its Cloud Run service, which checks `run.routes.invoke` on that service.
    /// `roles/cloudfunctions.invoker` carries only `cloudfunctions.functions.invoke`, which
    /// gen2 calls do not check, and the API refuses `roles/run.invoker` on a function.
    pub fn is_function_resource(&self) -> bool {
        matches!(
            self,
            IamTarget::Workload {
                kind: WorkloadKind::Function,
                ..
            }
        )
    }
}

#[derive(Debug, Clone)]
pub struct IamResource {
    pub address: Address,
    pub target: IamTarget,
    pub grant: Grant,
}

#[derive(Clone, Copy)]
enum Family {
    Workload(WorkloadKind, Api, &'static str),
    Project,
    Folder,
    Organization,
    Account,
}

const FAMILIES: [(&str, Family); 9] = [
    (
        "google_cloud_run_v2_service_iam_",
        Family::Workload(WorkloadKind::Service, Api::V2, "name"),
    ),
    (
        "google_cloud_run_v2_job_iam_",
        Family::Workload(WorkloadKind::Job, Api::V2, "name"),
    ),
    (
        "google_cloud_run_v2_worker_pool_iam_",
        Family::Workload(WorkloadKind::WorkerPool, Api::V2, "name"),
    ),
    (
        "google_cloud_run_service_iam_",
        Family::Workload(WorkloadKind::Service, Api::V1, "service"),
    ),
    (
        "google_cloudfunctions2_function_iam_",
        Family::Workload(WorkloadKind::Function, Api::V2, "cloud_function"),
    ),
    ("google_project_iam_", Family::Project),
    ("google_folder_iam_", Family::Folder),
    ("google_organization_iam_", Family::Organization),
    ("google_service_account_iam_", Family::Account),
];

fn family(rtype: &str) -> Option<(Family, &str)> {
    family_of(&FAMILIES, rtype)
}

/// The family of an IAM resource type among `families` (type prefix → family), with its style
/// (`member`, `binding` or `policy`): the three styles every IAM resource family comes in.
pub(super) fn family_of<'t, F: Copy>(
    families: &[(&str, F)],
    rtype: &'t str,
) -> Option<(F, &'t str)> {
    families.iter().find_map(|(prefix, f)| {
        let style = rtype.strip_prefix(prefix)?;
        matches!(style, "member" | "binding" | "policy").then_some((*f, style))
    })
}

pub fn handles(rtype: &str) -> bool {
    family(rtype).is_some()
}

pub fn read(r: &Reading) -> Result<IamResource, TypeMismatch> {
    let (family, style) = family(r.rtype).expect("dispatch checked the type");
    let n = &r.node;
    let target = match family {
        Family::Workload(kind, api, attribute) => read_workload_target(n, kind, api, attribute)?,
        Family::Project => {
            IamTarget::Scope(Scope::Project(n.key("project").str()?.map(project_id)))
        }
        Family::Folder => IamTarget::Scope(Scope::Folder(n.key("folder").str()?.owned())),
        Family::Organization => {
            IamTarget::Scope(Scope::Organization(n.key("org_id").str()?.owned()))
        }
        Family::Account => IamTarget::Account {
            email: n.key("service_account_id").str()?.map(account_email),
        },
    };
    let grant = read_grant(n, style)?;
    Ok(IamResource {
        address: r.address.clone(),
        target,
        grant,
    })
}

/// `projects/acme` and `acme` name the same project.
fn project_id(s: &str) -> String {
    s.strip_prefix("projects/").unwrap_or(s).to_owned()
}

/// `projects/P/serviceAccounts/EMAIL` (or a bare email) → the lower-cased email.
pub fn account_email(s: &str) -> String {
    s.rsplit('/').next().unwrap_or(s).to_lowercase()
}

fn read_workload_target(
    n: &Node,
    kind: WorkloadKind,
    api: Api,
    attribute: &'static str,
) -> Result<IamTarget, TypeMismatch> {
    let own_project = computed_str(n, "project")?;
    let own_location = computed_str(n, "location")?;
    let (project, location, name) = match n.key(attribute).str()? {
        Tri::Known(s) => {
            let (p, l, name) = parse_workload_name(s, kind);
            (
                p.map_or(own_project, |p| Tri::Known(p.to_owned())),
                l.map_or(own_location, |l| Tri::Known(l.to_owned())),
                Tri::Known(name.to_owned()),
            )
        }
        other => (own_project, own_location, other.owned()),
    };
    Ok(IamTarget::Workload {
        kind,
        api,
        project,
        location,
        name,
        attribute,
    })
}

/// Splits every name form the provider accepts: `projects/P/locations/L/<collection>/N`,
/// `P/L/N`, `L/N` and `N`, with or without the `v1/` prefix the v1 IAM resources write back.
pub fn parse_workload_name(s: &str, kind: WorkloadKind) -> (Option<&str>, Option<&str>, &str) {
    let s = s.strip_prefix("v1/").unwrap_or(s);
    let parts: Vec<&str> = s.split('/').collect();
    match parts.as_slice() {
        ["projects", p, "locations", l, collection, n] if *collection == kind.collection() => {
            (Some(p), Some(l), n)
        }
        // v1 services also appear as namespaces/P/services/N.
        ["locations", l, "namespaces", p, "services", n] => (Some(p), Some(l), n),
        [p, l, n] => (Some(p), Some(l), n),
        [l, n] => (None, Some(l), n),
        _ => (None, None, parts.last().copied().unwrap_or(s)),
    }
}

/// The grant of an IAM resource of `style` (`member`, `binding` or `policy`, the suffix of its
/// type), the same for every family of `*_iam_*` resource.
pub(super) fn read_grant(n: &Node, style: &str) -> Result<Grant, TypeMismatch> {
    Ok(match style {
        "member" => Grant::Member {
            role: n.key("role").str()?.owned(),
            member: read_member(&n.key("member"))?,
            conditional: has_condition(n)?,
        },
        "binding" => Grant::Binding {
            role: n.key("role").str()?.owned(),
            members: read_members(&n.key("members"))?,
            conditional: has_condition(n)?,
        },
        _ => Grant::Policy {
            bindings: read_policy_data(&n.key("policy_data"))?,
        },
    })
}

pub(super) fn has_condition(n: &Node) -> Result<bool, TypeMismatch> {
    Ok(match n.key("condition").items()? {
        Tri::Known(items) => !items.is_empty(),
        // An unknown condition block still restricts the grant somehow.
        Tri::Unknown => true,
        Tri::Absent => false,
    })
}

pub(super) fn read_member(n: &Node) -> Result<MemberValue, TypeMismatch> {
    Ok(match n.str()? {
        Tri::Known(v) => MemberValue::Known {
            value: v.to_owned(),
            sensitive: n.is_sensitive(),
        },
        _ => MemberValue::Unknown,
    })
}

/// `members` is required: null there is a broken plan, not an empty binding.
pub(super) fn read_members(n: &Node) -> Result<Tri<Vec<MemberValue>>, TypeMismatch> {
    match n.items()? {
        Tri::Known(items) => Ok(Tri::Known(
            items.iter().map(read_member).collect::<Result<_, _>>()?,
        )),
        Tri::Unknown => Ok(Tri::Unknown),
        Tri::Absent => Err(n.required("an array of members")),
    }
}

/// `policy_data` is a JSON string holding `{"bindings": [{role, members, condition}]}`.
pub fn read_policy_data(n: &Node) -> Result<Tri<Vec<PolicyBinding>>, TypeMismatch> {
    let text = match n.str()? {
        Tri::Known(t) => t,
        Tri::Unknown => return Ok(Tri::Unknown),
        // Required on a *_iam_policy: null is a broken plan, not an empty policy.
        Tri::Absent => return Err(n.required("an IAM policy JSON document")),
    };
    let sensitive = n.is_sensitive();
    let invalid = || TypeMismatch {
        path: n.path(),
        expected: "an IAM policy JSON document",
        found: "a string that is not one",
    };
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|_| invalid())?;
    let bindings = match doc.get("bindings") {
        None | Some(serde_json::Value::Null) => return Ok(Tri::Known(Vec::new())),
        Some(serde_json::Value::Array(b)) => b,
        Some(_) => return Err(invalid()),
    };
    let mut out = Vec::new();
    for b in bindings {
        let role = b.get("role").and_then(|r| r.as_str()).ok_or_else(invalid)?;
        let members = match b.get("members") {
            None | Some(serde_json::Value::Null) => Vec::new(),
            Some(serde_json::Value::Array(m)) => m
                .iter()
                .map(|m| {
                    m.as_str().map(|v| MemberValue::Known {
                        value: v.to_owned(),
                        sensitive,
                    })
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(invalid)?,
            Some(_) => return Err(invalid()),
        };
        out.push(PolicyBinding {
            role: role.to_owned(),
            members,
            conditional: b.get("condition").is_some_and(|c| !c.is_null()),
        });
    }
    Ok(Tri::Known(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_forms() {
        let k = WorkloadKind::Service;
        assert_eq!(
            parse_workload_name("projects/p/locations/l/services/api", k),
            (Some("p"), Some("l"), "api")
        );
        assert_eq!(
            parse_workload_name("v1/projects/p/locations/l/services/api", k),
            (Some("p"), Some("l"), "api")
        );
        assert_eq!(
            parse_workload_name("p/l/api", k),
            (Some("p"), Some("l"), "api")
        );
        assert_eq!(parse_workload_name("l/api", k), (None, Some("l"), "api"));
        assert_eq!(parse_workload_name("api", k), (None, None, "api"));
        assert_eq!(
            parse_workload_name(
                "projects/p/locations/l/workerPools/wp",
                WorkloadKind::WorkerPool
            ),
            (Some("p"), Some("l"), "wp")
        );
        assert_eq!(
            parse_workload_name("projects/p/locations/l/functions/f", WorkloadKind::Function),
            (Some("p"), Some("l"), "f")
        );
    }

    #[test]
    fn policy_data_parses_and_rejects() {
        let v = serde_json::json!({"p": "{\"bindings\":[{\"role\":\"roles/run.invoker\",\"members\":[\"allUsers\"]}]}", "bad": "{"});
        let root = Node::root(&v, None, None);
        let got = read_policy_data(&root.key("p")).unwrap().known().unwrap();
        assert_eq!(got[0].role, "roles/run.invoker");
        assert!(read_policy_data(&root.key("bad")).is_err());
    }
}
