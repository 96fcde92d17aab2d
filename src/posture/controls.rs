//! Plaintext secrets in environment variables, Binary Authorization and VPC egress.

use super::Setting;
use crate::inventory::Workload;
use crate::inventory::binauthz_policy::BinauthzPolicy;
use crate::inventory::controls::{BinaryAuthorization, EnvValue, VpcEgress};
use crate::inventory::secrets::is_secret_like;
use crate::plan::Tri;

/// An environment variable that carries a credential as plain text instead of a Secret
/// Manager reference. Only where it is and why it was flagged are kept, never the value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PlaintextSecret {
    /// The container that sets it.
    pub container: String,
    /// The environment variable's name (never its value).
    pub name: String,
    /// `sensitive value` (the plan marks the value sensitive) or `secret-like name`.
    pub reason: &'static str,
}

pub fn plaintext_secrets(w: &Workload) -> Vec<PlaintextSecret> {
    let mut out: Vec<PlaintextSecret> = w
        .controls
        .env
        .iter()
        .filter_map(|e| {
            let name = e.name.clone().known().unwrap_or_else(|| "(unknown)".into());
            let reason = match e.value {
                EnvValue::Literal {
                    sensitive: true, ..
                }
                | EnvValue::Unknown { sensitive: true } => "sensitive value",
                // A credential name with a value that reads as a setting (a URL, a number,
                // an identifier) is a setting named after the credential it configures.
                EnvValue::Literal {
                    sensitive: false,
                    setting_shaped: false,
                } if is_secret_like(&name) => "secret-like name",
                // A literal that is unknown at plan time is still a literal: nothing proves it
                // is a setting rather than the credential its name says.
                EnvValue::Unknown { sensitive: false } if is_secret_like(&name) => {
                    "secret-like name"
                }
                _ => return None,
            };
            Some(PlaintextSecret {
                container: e.container.clone(),
                name,
                reason,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Where a named environment variable gets its value: Secret Manager or the configuration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct EnvSource {
    pub container: String,
    pub name: String,
    /// Read from Secret Manager; otherwise a value in the configuration (known or computed at
    /// apply), which lands in the revision and the Terraform state as plain text.
    pub from_secret: bool,
}

/// Every environment variable with a known name that reads a secret or carries a value.
pub fn env_sources(w: &Workload) -> Vec<EnvSource> {
    let mut out: Vec<EnvSource> = w
        .controls
        .env
        .iter()
        .filter_map(|e| {
            let from_secret = match e.value {
                EnvValue::SecretRef => true,
                EnvValue::Literal { .. } | EnvValue::Unknown { .. } => false,
                EnvValue::Empty => return None,
            };
            Some(EnvSource {
                container: e.container.clone(),
                name: e.name.clone().known()?,
                from_secret,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Binary Authorization as deployed, and the project policy in the plan that decides it.
/// Enforcement through the project's default policy is `off` when that policy, in the plan,
/// lets every image through (`ALWAYS_ALLOW`, or dry run only), and `unknown` when a policy that
/// may be the project's cannot be read or may let everything through. A policy outside the
/// plan is taken at its word (enforced): the plan cannot show it.
pub fn binary_authorization(
    w: &Workload,
    project: &Tri<String>,
    policies: &[BinauthzPolicy],
) -> (Setting<BinaryAuthorization>, Option<String>) {
    let set = Setting::from_tri(w.controls.binary_authorization.clone());
    if set != Setting::Set(BinaryAuthorization::Enforced)
        || !w.controls.binary_authorization_by_project_policy
    {
        return (set, None);
    }
    let mut verdict = (set, None);
    for p in policies {
        let same_project = match (&p.project, project) {
            (Tri::Known(a), Tri::Known(b)) => a == b,
            // A policy whose project (or the workload's) is unknown may be this one's.
            _ => true,
        };
        if !same_project {
            continue;
        }
        match (&p.lets_everything_through, &p.project, project) {
            (Tri::Known(true), Tri::Known(_), Tri::Known(_)) => {
                return (
                    Setting::Set(BinaryAuthorization::Off),
                    Some(p.address.to_string()),
                );
            }
            (Tri::Known(false), _, _) => {}
            // Either the rule or whether it is this project's policy is open.
            _ => verdict = (Setting::Unknown, Some(p.address.to_string())),
        }
    }
    verdict
}

pub fn vpc_egress(w: &Workload) -> Setting<VpcEgress> {
    Setting::from_tri(w.controls.vpc_egress.clone())
}
