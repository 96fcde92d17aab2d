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

/// Where the v1 revision annotations are set in the configuration.
const REVISION_ANNOTATIONS_PATH: &[&str] = &["template", "metadata", "annotations"];

/// The legacy v1 service: controls are annotations (service-level for Binary Authorization,
/// revision-level for VPC access). `annotation` reads a service annotation;
/// `service_map_unknown` says the service annotation map is unknown as a whole. Settings that
/// read unknown because a whole (O+C) annotation map is unknown are added to `open`.
pub fn read_v1(
    service: &Node,
    annotation: &dyn Fn(&str) -> Result<Tri<String>, TypeMismatch>,
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
    Ok(Controls {
        env,
        // v1 secret references (`value_from`, secret volumes by alias) are not read.
        secrets: Vec::new(),
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
