//! The other security controls of a workload: environment variables (secret references or
//! plaintext), Binary Authorization, and VPC egress. Environment values are never kept: only
//! whether each is a Secret Manager reference, a literal (and whether it reads as a setting),
//! sensitive, or unknown.

use crate::plan::{Node, Tri, TypeMismatch};

use super::cloud_run::{ANNOTATIONS_PATH, ApiDefault, OpenDefault, note_open};
use super::secrets::looks_like_setting;

/// How an environment variable gets its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvValue {
    /// `value_source.secret_key_ref` (v1: `value_from.secret_key_ref`): read from Secret Manager.
    SecretRef,
    /// A literal in the configuration. `sensitive` when the plan marks the value sensitive;
    /// `setting_shaped` when the value reads as a setting (a URL, a number, a boolean, a short
    /// identifier: see [`super::secrets::looks_like_setting`]), which is all that is kept of it.
    Literal {
        sensitive: bool,
        setting_shaped: bool,
    },
    /// Unset or empty.
    Empty,
    /// Unknown at plan time. `sensitive` when the plan marks it sensitive.
    Unknown { sensitive: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    /// The container's name, or `#i` when it has none.
    pub container: String,
    pub name: Tri<String>,
    pub value: EnvValue,
}

/// Binary Authorization on the workload. Declared weakest first: the order is the strength
/// that `binary-authorization-weakened` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BinaryAuthorization {
    /// No `binary_authorization` policy: any image deploys.
    Off,
    /// Deployed with a break-glass justification: enforcement was bypassed.
    Breakglass,
    /// A policy (or the project default) is enforced.
    Enforced,
}

impl BinaryAuthorization {
    /// The spelling the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryAuthorization::Off => "off",
            BinaryAuthorization::Breakglass => "breakglass",
            BinaryAuthorization::Enforced => "enforced",
        }
    }
}

/// Where outbound traffic goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VpcEgress {
    /// No VPC access: egress goes straight to the internet.
    None,
    /// Only private ranges go through the VPC; the rest goes to the internet directly.
    PrivateRangesOnly,
    /// All outbound traffic goes through the VPC.
    AllTraffic,
}

impl VpcEgress {
    /// The spelling the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            VpcEgress::None => "none",
            VpcEgress::PrivateRangesOnly => "private-ranges-only",
            VpcEgress::AllTraffic => "all-traffic",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Controls {
    pub env: Vec<EnvVar>,
    /// The Secret Manager secrets the workload reads (env references and secret volumes), as
    /// written: `NAME` (the workload's project) or `projects/P/secrets/NAME`.
    pub secrets: Vec<Tri<String>>,
    /// v1 only, while the whole revision annotation map is unknown: the references resolved as
    /// if the revision declared no secret alias. [`super::Workload::settle_defaults`] takes
    /// them when the configuration does not set that map on create, so no alias can exist.
    pub secrets_without_aliases: Option<Vec<Tri<String>>>,
    pub binary_authorization: Tri<BinaryAuthorization>,
    /// Enforcement is `use_default`: the project's `google_binary_authorization_policy`
    /// decides what it lets through.
    pub binary_authorization_by_project_policy: bool,
    pub vpc_egress: Tri<VpcEgress>,
}

/// v2 services, jobs and worker pools. `revision` is the node holding `containers` and
/// `vpc_access` (`template[0]`, or `template[0].template[0]` for a job). Settings that read
/// unknown are added to `open` with their API default.
pub fn read_v2(
    workload: &Node,
    revision: &Node,
    job: bool,
    open: &mut Vec<OpenDefault>,
) -> Result<Controls, TypeMismatch> {
    let env = read_env(revision, "value_source")?;
    let secrets = read_v2_secrets(revision)?;
    let mut by_project_policy = false;
    let binary_authorization = match workload.key("binary_authorization").items()? {
        Tri::Known(blocks) => match blocks.first() {
            None => Tri::Known(BinaryAuthorization::Off),
            Some(b) => {
                let breakglass = b.key("breakglass_justification").non_empty_str()?;
                let use_default = b.key("use_default").bool()?;
                let policy = b.key("policy").non_empty_str()?;
                match (breakglass, use_default, policy) {
                    (Tri::Known(_), _, _) => Tri::Known(BinaryAuthorization::Breakglass),
                    (Tri::Unknown, _, _) => Tri::Unknown,
                    (_, Tri::Known(true), _) => {
                        by_project_policy = true;
                        Tri::Known(BinaryAuthorization::Enforced)
                    }
                    (_, _, Tri::Known(_)) => Tri::Known(BinaryAuthorization::Enforced),
                    (_, Tri::Unknown, _) | (_, _, Tri::Unknown) => Tri::Unknown,
                    _ => Tri::Known(BinaryAuthorization::Off),
                }
            }
        },
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Known(BinaryAuthorization::Off),
    };
    note_open(
        open,
        binary_authorization.is_unknown(),
        ApiDefault::BinaryAuthorization(BinaryAuthorization::Off),
        &["binary_authorization"],
    );
    let (vpc_path, egress_path): (&'static [&'static str], &'static [&'static str]) = if job {
        (
            &["template", "template", "vpc_access"],
            &["template", "template", "vpc_access", "egress"],
        )
    } else {
        (
            &["template", "vpc_access"],
            &["template", "vpc_access", "egress"],
        )
    };
    let vpc_egress = match revision.key("vpc_access").items()? {
        Tri::Known(blocks) => match blocks.first() {
            None => Tri::Known(VpcEgress::None),
            Some(b) => {
                // `egress` is O+C inside a configured block: its default applies to the block.
                let e = egress(b.key("egress").non_empty_str()?);
                note_open(
                    open,
                    e.is_unknown(),
                    ApiDefault::VpcEgress(VpcEgress::PrivateRangesOnly),
                    egress_path,
                );
                e
            }
        },
        Tri::Unknown => {
            note_open(open, true, ApiDefault::VpcEgress(VpcEgress::None), vpc_path);
            Tri::Unknown
        }
        Tri::Absent => Tri::Known(VpcEgress::None),
    };
    Ok(Controls {
        env,
        secrets,
        secrets_without_aliases: None,
        binary_authorization,
        binary_authorization_by_project_policy: by_project_policy,
        vpc_egress,
    })
}

fn egress(value: Tri<&str>) -> Tri<VpcEgress> {
    match value {
        Tri::Known("ALL_TRAFFIC" | "all-traffic") => Tri::Known(VpcEgress::AllTraffic),
        Tri::Known(_) => Tri::Known(VpcEgress::PrivateRangesOnly),
        // The API default with a connector or network interface is private ranges only.
        Tri::Absent => Tri::Known(VpcEgress::PrivateRangesOnly),
        Tri::Unknown => Tri::Unknown,
    }
}

const BINARY_AUTHORIZATION: &str = "run.googleapis.com/binary-authorization";
const BREAKGLASS: &str = "run.googleapis.com/binary-authorization-breakglass";
const VPC_CONNECTOR: &str = "run.googleapis.com/vpc-access-connector";
const VPC_EGRESS: &str = "run.googleapis.com/vpc-access-egress";
const NETWORK_INTERFACES: &str = "run.googleapis.com/network-interfaces";
const SECRET_ALIASES: &str = "run.googleapis.com/secrets";

/// Where the v1 revision annotations are set in the configuration.
const REVISION_ANNOTATIONS_PATH: &[&str] = &["template", "metadata", "annotations"];

/// The legacy v1 service: controls are annotations (service-level for Binary Authorization,
/// revision-level for VPC access). `annotation` reads a service annotation;
/// `service_map_unknown` says the service annotation map is unknown as a whole. Settings that
/// read unknown because a whole (O+C) annotation map is unknown are added to `open`.
pub fn read_v1(
    service: &Node,
    annotation: &dyn Fn(&'static str) -> Result<Tri<String>, TypeMismatch>,
    service_map_unknown: bool,
    open: &mut Vec<OpenDefault>,
) -> Result<Controls, TypeMismatch> {
    let spec = service.first("template").first("spec");
    let env = read_env(&spec, "value_from")?;
    let policy = annotation(BINARY_AUTHORIZATION)?;
    // `default` names the project's policy; any other value names a platform policy.
    let by_project_policy = matches!(&policy, Tri::Known(p) if p == "default");
    let binary_authorization = match (annotation(BREAKGLASS)?, policy) {
        (Tri::Known(_), _) => Tri::Known(BinaryAuthorization::Breakglass),
        (Tri::Unknown, _) | (_, Tri::Unknown) => Tri::Unknown,
        (_, Tri::Known(_)) => Tri::Known(BinaryAuthorization::Enforced),
        _ => Tri::Known(BinaryAuthorization::Off),
    };
    if service_map_unknown {
        note_open(
            open,
            binary_authorization.is_unknown(),
            ApiDefault::BinaryAuthorization(BinaryAuthorization::Off),
            ANNOTATIONS_PATH,
        );
    }
    let revision = service
        .first("template")
        .first("metadata")
        .key("annotations");
    let vpc_egress = match (
        revision.key(VPC_CONNECTOR).non_empty_str()?,
        revision.key(NETWORK_INTERFACES).non_empty_str()?,
    ) {
        (Tri::Absent, Tri::Absent) => Tri::Known(VpcEgress::None),
        // The whole revision map unknown on create: no VPC access unless it is configured.
        (Tri::Unknown, Tri::Unknown) if revision.is_unknown() => {
            note_open(
                open,
                true,
                ApiDefault::VpcEgress(VpcEgress::None),
                REVISION_ANNOTATIONS_PATH,
            );
            Tri::Unknown
        }
        _ => egress(revision.key(VPC_EGRESS).non_empty_str()?),
    };
    let secrets = read_v1_secrets(&spec, &revision)?;
    // The whole revision map unknown on create: no alias unless the map is configured.
    let secrets_without_aliases = if revision.is_unknown() && !secrets.is_empty() {
        note_open(
            open,
            true,
            ApiDefault::NoSecretAliases,
            REVISION_ANNOTATIONS_PATH,
        );
        Some(resolve_v1_secrets(
            &spec,
            &Tri::Known(SecretAliases::default()),
        )?)
    } else {
        None
    };
    Ok(Controls {
        env,
        secrets,
        secrets_without_aliases,
        binary_authorization,
        binary_authorization_by_project_policy: by_project_policy,
        vpc_egress,
    })
}

/// `containers[*].env[*].value_source[0].secret_key_ref[0].secret` and `volumes[*].secret[0].secret`.
fn read_v2_secrets(revision: &Node) -> Result<Vec<Tri<String>>, TypeMismatch> {
    let mut out = Vec::new();
    if let Tri::Known(containers) = revision.key("containers").items()? {
        for c in containers {
            if let Tri::Known(entries) = c.key("env").items()? {
                for e in entries {
                    let secret = e
                        .first("value_source")
                        .first("secret_key_ref")
                        .key("secret");
                    match secret.non_empty_str()? {
                        Tri::Absent => {}
                        t => out.push(t.owned()),
                    }
                }
            }
        }
    }
    if let Tri::Known(volumes) = revision.key("volumes").items()? {
        for v in volumes {
            match v.first("secret").key("secret").non_empty_str()? {
                Tri::Absent => {}
                t => out.push(t.owned()),
            }
        }
    }
    Ok(out)
}

/// `containers[*].env[*].value_from[0].secret_key_ref[0].name` and
/// `volumes[*].secret[0].secret_name` under the v1 revision `spec`, resolved through the alias
/// annotation of the revision (`revision_annotations`). A list or name the plan leaves open is an
/// unknown reference, never dropped: it may name any secret.
fn read_v1_secrets(
    spec: &Node,
    revision_annotations: &Node,
) -> Result<Vec<Tri<String>>, TypeMismatch> {
    resolve_v1_secrets(spec, &read_secret_aliases(revision_annotations)?)
}

/// The aliases the revision declares; unknown when the annotation, or the whole map, is.
fn read_secret_aliases(revision_annotations: &Node) -> Result<Tri<SecretAliases>, TypeMismatch> {
    Ok(if revision_annotations.is_unknown() {
        Tri::Unknown
    } else {
        let value = revision_annotations.key(SECRET_ALIASES);
        match value.str()? {
            Tri::Known(_) if value.is_sensitive() => Tri::Unknown,
            Tri::Known(v) => Tri::Known(SecretAliases::parse(v)),
            Tri::Unknown => Tri::Unknown,
            Tri::Absent => Tri::Known(SecretAliases::default()),
        }
    })
}

/// The references under the v1 revision `spec`, each resolved through `aliases`.
fn resolve_v1_secrets(
    spec: &Node,
    aliases: &Tri<SecretAliases>,
) -> Result<Vec<Tri<String>>, TypeMismatch> {
    let mut names = Vec::new();
    match spec.key("containers").items()? {
        Tri::Known(containers) => {
            for c in containers {
                match c.key("env").items()? {
                    Tri::Known(entries) => names.extend(
                        entries
                            .iter()
                            .map(|e| e.first("value_from").first("secret_key_ref").key("name")),
                    ),
                    Tri::Unknown => names.push(c.key("env")),
                    Tri::Absent => {}
                }
            }
        }
        Tri::Unknown => names.push(spec.key("containers")),
        Tri::Absent => {}
    }
    match spec.key("volumes").items()? {
        Tri::Known(volumes) => {
            names.extend(volumes.iter().map(|v| v.first("secret").key("secret_name")))
        }
        Tri::Unknown => names.push(spec.key("volumes")),
        Tri::Absent => {}
    }
    let mut out = Vec::new();
    for node in names {
        if node.is_unknown() {
            out.push(Tri::Unknown);
            continue;
        }
        match node.non_empty_str()? {
            Tri::Absent => {}
            // A name the plan hides is never printed: it may still name any secret.
            Tri::Known(_) if node.is_sensitive() => out.push(Tri::Unknown),
            Tri::Known(name) => out.push(match aliases {
                Tri::Known(a) => a.resolve(name),
                _ => Tri::Unknown,
            }),
            Tri::Unknown => out.push(Tri::Unknown),
        }
    }
    Ok(out)
}

/// The revision annotation `run.googleapis.com/secrets`: a comma-separated list of
/// `ALIAS:projects/PROJECT/secrets/SECRET`, through which a v1 reference names a secret of
/// another project (`PROJECT` may be an id or a number).
#[derive(Debug, Default, PartialEq, Eq)]
struct SecretAliases {
    /// Each alias, with its secret (`projects/P/secrets/S`), or `None` when the definition
    /// cannot be read: a reference through it may name any secret.
    entries: Vec<(String, Option<String>)>,
}

impl SecretAliases {
    fn parse(value: &str) -> SecretAliases {
        let entries = value
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(|e| match e.split_once(':') {
                Some((alias, target)) => {
                    let target = target.trim();
                    (
                        alias.trim().to_owned(),
                        is_secret_path(target).then(|| target.to_owned()),
                    )
                }
                None => (e.to_owned(), None),
            })
            .collect();
        SecretAliases { entries }
    }

    /// What a reference's `name` or `secret_name` reads: an alias names its secret; otherwise a
    /// secret id names a secret of the service's project, and a full `projects/P/secrets/S` that
    /// secret. Anything else (an alias whose definition is malformed, a name no secret can have)
    /// is unknown.
    fn resolve(&self, name: &str) -> Tri<String> {
        match self.entries.iter().find(|(alias, _)| alias == name) {
            Some((_, Some(target))) => Tri::Known(target.clone()),
            Some((_, None)) => Tri::Unknown,
            None if is_secret_id(name) || is_secret_path(name) => Tri::Known(name.to_owned()),
            None => Tri::Unknown,
        }
    }
}

/// A Secret Manager secret id: letters, digits, `-` and `_`.
fn is_secret_id(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `projects/PROJECT/secrets/SECRET`.
fn is_secret_path(s: &str) -> bool {
    s.strip_prefix("projects/")
        .and_then(|rest| rest.split_once("/secrets/"))
        .is_some_and(|(project, secret)| is_secret_id(project) && is_secret_id(secret))
}

impl EnvValue {
    /// What a literal value node holds, judged by its shape and sensitivity; the value itself
    /// is never kept.
    pub(super) fn read(value: &Node) -> Result<EnvValue, TypeMismatch> {
        Ok(match value.str()? {
            Tri::Known("") | Tri::Absent => EnvValue::Empty,
            Tri::Known(v) => EnvValue::Literal {
                sensitive: value.is_sensitive(),
                setting_shaped: looks_like_setting(v),
            },
            Tri::Unknown => EnvValue::Unknown {
                sensitive: value.is_sensitive(),
            },
        })
    }
}

/// A variable's name; a name under a sensitive mask is as secret as the value: never kept.
pub(super) fn env_name(name: &Node) -> Result<Tri<String>, TypeMismatch> {
    Ok(if name.is_sensitive() {
        Tri::Known("(sensitive)".to_owned())
    } else {
        name.str()?.owned()
    })
}

/// Reads `containers[*].env[*]` under `parent`. An entry with a non-empty `secret_block`
/// (`value_source` in v2, `value_from` in v1) takes its value from Secret Manager.
fn read_env(parent: &Node, secret_block: &str) -> Result<Vec<EnvVar>, TypeMismatch> {
    let Tri::Known(containers) = parent.key("containers").items()? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, c) in containers.iter().enumerate() {
        let container = match c.key("name").non_empty_str()? {
            Tri::Known(n) => n.to_owned(),
            _ => format!("#{i}"),
        };
        let Tri::Known(entries) = c.key("env").items()? else {
            continue;
        };
        for e in entries {
            let value_node = e.key("value");
            let from_secret =
                matches!(e.key(secret_block).items()?, Tri::Known(v) if !v.is_empty());
            let value = if from_secret {
                EnvValue::SecretRef
            } else {
                EnvValue::read(&value_node)?
            };
            let name = env_name(&e.key("name"))?;
            out.push(EnvVar {
                container: container.clone(),
                name,
                value,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn known(s: &str) -> Tri<String> {
        Tri::Known(s.to_owned())
    }

    fn v1_secrets(after: &Value, unknown: &Value) -> Vec<Tri<String>> {
        let root = Node::root(after, Some(unknown), None);
        let template = root.first("template");
        read_v1_secrets(
            &template.first("spec"),
            &template.first("metadata").key("annotations"),
        )
        .expect("readable")
    }

    #[test]
    fn several_aliases_with_spaces_each_name_their_secret() {
        let a = SecretAliases::parse(
            " db:projects/acme-shared/secrets/db-password , tls : projects/123456789012/secrets/tls-key,",
        );
        assert_eq!(
            a.resolve("db"),
            known("projects/acme-shared/secrets/db-password")
        );
        assert_eq!(
            a.resolve("tls"),
            known("projects/123456789012/secrets/tls-key")
        );
        // Not an alias: a secret of the service's project.
        assert_eq!(a.resolve("api-key"), known("api-key"));
    }

    #[test]
    fn a_reference_through_a_malformed_alias_is_unknown() {
        let a = SecretAliases::parse(
            "bare,nosecret:projects/acme-shared,versioned:projects/p/secrets/s/versions/3,:projects/p/secrets/s",
        );
        assert_eq!(a.resolve("bare"), Tri::Unknown);
        assert_eq!(a.resolve("nosecret"), Tri::Unknown);
        assert_eq!(a.resolve("versioned"), Tri::Unknown);
        // An entry without an alias declares nothing another name could match.
        assert_eq!(a.resolve("db"), known("db"));
        // A name no secret can have is no same-project secret.
        assert_eq!(a.resolve("a:b"), Tri::Unknown);
        assert_eq!(
            a.resolve("projects/acme-shared/secrets/db"),
            known("projects/acme-shared/secrets/db")
        );
    }

    #[test]
    fn v1_env_and_volume_references_resolve_through_the_revision_aliases() {
        let after = json!({"template": [{
            "metadata": [{"annotations": {
                "run.googleapis.com/secrets": "shared:projects/acme-shared/secrets/partner-tls"
            }}],
            "spec": [{
                "containers": [{"env": [
                    {"name": "LOG_LEVEL", "value": "info", "value_from": []},
                    {"name": "DB_PASSWORD", "value": "", "value_from": [
                        {"secret_key_ref": [{"key": "latest", "name": "db-password"}]}
                    ]}
                ]}],
                "volumes": [
                    {"name": "tls", "empty_dir": [], "secret": [{"secret_name": "shared", "items": []}]},
                    {"name": "scratch", "empty_dir": [{"medium": "Memory"}], "secret": []}
                ]
            }]
        }]});
        assert_eq!(
            v1_secrets(&after, &json!({})),
            vec![
                known("db-password"),
                known("projects/acme-shared/secrets/partner-tls")
            ]
        );
    }

    #[test]
    fn an_unknown_alias_annotation_makes_every_v1_reference_unknown() {
        let after = json!({"template": [{
            "metadata": [{"annotations": {"autoscaling.knative.dev/maxScale": "5"}}],
            "spec": [{
                "containers": [{"env": [{"name": "DB_PASSWORD", "value": "", "value_from": [
                    {"secret_key_ref": [{"key": "latest", "name": "db-password"}]}
                ]}]}],
                "volumes": []
            }]
        }]});
        let key_unknown = json!({"template": [{"metadata": [{"annotations": {
            "run.googleapis.com/secrets": true
        }}]}]});
        assert_eq!(v1_secrets(&after, &key_unknown), vec![Tri::Unknown]);
        let map_unknown = json!({"template": [{"metadata": [{"annotations": true}]}]});
        assert_eq!(v1_secrets(&after, &map_unknown), vec![Tri::Unknown]);
        // A volume list the plan leaves open may name any secret.
        let volumes_unknown = json!({"template": [{"spec": [{"volumes": true}]}]});
        assert_eq!(
            v1_secrets(&after, &volumes_unknown),
            vec![known("db-password"), Tri::Unknown]
        );
    }
}
