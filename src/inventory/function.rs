//! Cloud Functions gen2 (`google_cloudfunctions2_function`). A gen2 function runs on a Cloud
//! Run service that the Cloud Functions API creates and manages: its URL, ingress, runtime
//! identity and invoker check are those of that service. It is read into the workload shape of
//! [`super::cloud_run`], with kind [`WorkloadKind::Function`]; the settings live in
//! `service_config[0]`.
//!
//! Who may call it is decided by `run.routes.invoke` on the backing service, so Cloud Run IAM
//! naming that service reaches the function ([`Workload::backing_service`]); see
//! `crate::posture::invokers` for why IAM on the function resource itself grants no call.

use crate::plan::Projection::{self, All, Keys};
use crate::plan::{Node, Tri, TypeMismatch};

use super::cloud_run::{
    Api, ApiDefault, Ingress, OpenDefault, Workload, WorkloadKind, note_open, short_name,
};
use super::controls::{BinaryAuthorization, Controls, EnvValue, EnvVar, VpcEgress, env_name};
use super::{Reading, computed_str};

const TYPE: &str = "google_cloudfunctions2_function";

/// What the reports call the function's one container in environment findings.
const CONTAINER: &str = "function";

pub fn handles(rtype: &str) -> bool {
    rtype == TYPE
}

/// The attributes the analysis reads; `build_config` (sources, build-time environment) and
/// `event_trigger` are skipped while parsing.
pub fn projection() -> &'static Projection {
    static FUNCTION: Projection = Keys(&[
        ("name", All),
        ("project", All),
        ("location", All),
        ("service_config", All),
    ]);
    &FUNCTION
}

fn ingress(s: &str) -> Option<Ingress> {
    Some(match s {
        "ALLOW_ALL" => Ingress::All,
        "ALLOW_INTERNAL_ONLY" => Ingress::Internal,
        "ALLOW_INTERNAL_AND_GCLB" => Ingress::InternalAndLoadBalancing,
        _ => return None,
    })
}

pub fn read(r: &Reading) -> Result<Workload, TypeMismatch> {
    let n = &r.node;
    let name = n.key("name").str()?.map(short_name);
    let config = n.first("service_config");
    let mut open = Vec::new();
    let ingress = match config.key("ingress_settings").non_empty_str()? {
        Tri::Known(s) => ingress(s).map_or(Tri::Unknown, Tri::Known),
        // Optional with a server default (ALLOW_ALL): unknown is that default only when the
        // configuration leaves it unset on create (see `Workload::settle_defaults`).
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Known(Ingress::All),
    };
    note_open(
        &mut open,
        ingress.is_unknown(),
        ApiDefault::Ingress(Ingress::All),
        &["service_config", "ingress_settings"],
    );
    let backing_service = match config.key("service").non_empty_str()? {
        Tri::Known(s) => Tri::Known(short_name(s)),
        // Computed on create: the Cloud Functions API names the service after the function,
        // in the lower case that Cloud Run service names require.
        Tri::Unknown | Tri::Absent => name.clone().map(|n| n.to_lowercase()),
    };
    let sa = config.key("service_account_email");
    let controls = read_controls(&config, &mut open)?;
    Ok(Workload {
        address: r.address.clone(),
        kind: WorkloadKind::Function,
        api: Api::V2,
        project: computed_str(n, "project")?,
        location: computed_str(n, "location")?,
        name,
        backing_service,
        ingress: Some(ingress),
        // The Cloud Functions API has no setting for these: the backing service keeps its
        // invoker check and run.app URL, and has no IAP.
        invoker_iam_disabled: Tri::Absent,
        default_uri_disabled: Tri::Absent,
        iap_enabled: Tri::Absent,
        // Optional and computed: unset, the function runs as the default compute account.
        service_account: sa.non_empty_str()?.owned(),
        service_account_sensitive: sa.is_sensitive(),
        service_account_path: &["service_config", "service_account_email"],
        creating: r.creating,
        controls,
        open_defaults: open,
    })
}

fn read_controls(config: &Node, open: &mut Vec<OpenDefault>) -> Result<Controls, TypeMismatch> {
    let binary_authorization = match config.key("binary_authorization_policy").non_empty_str()? {
        Tri::Known(_) => Tri::Known(BinaryAuthorization::Enforced),
        Tri::Unknown => Tri::Unknown,
        Tri::Absent => Tri::Known(BinaryAuthorization::Off),
    };
    note_open(
        open,
        binary_authorization.is_unknown(),
        ApiDefault::BinaryAuthorization(BinaryAuthorization::Off),
        &["service_config", "binary_authorization_policy"],
    );
    let vpc_egress = match config.key("vpc_connector").non_empty_str()? {
        Tri::Known(_) => {
            let e = match config
                .key("vpc_connector_egress_settings")
                .non_empty_str()?
            {
                Tri::Known("ALL_TRAFFIC") => Tri::Known(VpcEgress::AllTraffic),
                Tri::Known(_) => Tri::Known(VpcEgress::PrivateRangesOnly),
                Tri::Unknown => Tri::Unknown,
                // With a connector the API default is private ranges only.
                Tri::Absent => Tri::Known(VpcEgress::PrivateRangesOnly),
            };
            note_open(
                open,
                e.is_unknown(),
                ApiDefault::VpcEgress(VpcEgress::PrivateRangesOnly),
                &["service_config", "vpc_connector_egress_settings"],
            );
            e
        }
        Tri::Unknown => {
            note_open(
                open,
                true,
                ApiDefault::VpcEgress(VpcEgress::None),
                &["service_config", "vpc_connector"],
            );
            Tri::Unknown
        }
        Tri::Absent => Tri::Known(VpcEgress::None),
    };
    Ok(Controls {
        env: read_env(config)?,
        secrets: read_secrets(config)?,
        secrets_without_aliases: None,
        binary_authorization,
        // A function names its policy; it never uses the project's default one implicitly.
        binary_authorization_by_project_policy: false,
        vpc_egress,
    })
}

/// `secret_environment_variables[*]` and `secret_volumes[*]` name a secret by `secret` and its
/// project by `project_id`.
fn read_secrets(config: &Node) -> Result<Vec<Tri<String>>, TypeMismatch> {
    let mut out = Vec::new();
    for block in ["secret_environment_variables", "secret_volumes"] {
        if let Tri::Known(items) = config.key(block).items()? {
            for s in items {
                let secret = s.key("secret").non_empty_str()?;
                let project = s.key("project_id").non_empty_str()?;
                out.push(match (project, secret) {
                    (_, Tri::Absent) => continue,
                    (Tri::Known(p), Tri::Known(name)) => {
                        Tri::Known(format!("projects/{p}/secrets/{name}"))
                    }
                    (Tri::Absent, t) => t.owned(),
                    _ => Tri::Unknown,
                });
            }
        }
    }
    Ok(out)
}

/// `environment_variables` is a map of literals; `secret_environment_variables` lists the
/// variables read from Secret Manager, by `key`. Values are never kept.
fn read_env(config: &Node) -> Result<Vec<EnvVar>, TypeMismatch> {
    let mut out = Vec::new();
    // A map unknown as a whole names no variable the analysis could judge.
    if let Tri::Known(entries) = config.key("environment_variables").entries()? {
        for (key, value) in entries {
            let value = EnvValue::read(&value)?;
            out.push(EnvVar {
                container: CONTAINER.to_owned(),
                name: Tri::Known(key.to_owned()),
                value,
            });
        }
    }
    if let Tri::Known(secrets) = config.key("secret_environment_variables").items()? {
        for s in secrets {
            let name = env_name(&s.key("key"))?;
            out.push(EnvVar {
                container: CONTAINER.to_owned(),
                name,
                value: EnvValue::SecretRef,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Side;
    use crate::plan::Address;
    use serde_json::{Value, json};

    fn function(after: &Value, unknown: &Value, creating: bool) -> Workload {
        let address = Address::parse("google_cloudfunctions2_function.f").expect("address");
        let reading = Reading {
            address: &address,
            rtype: TYPE,
            node: Node::root(after, Some(unknown), None),
            side: Side::After,
            creating,
            prior: None,
        };
        read(&reading).expect("readable")
    }

    fn settled(mut w: Workload, configured: &[&str]) -> Workload {
        w.settle_defaults(&|_, path| configured.iter().any(|c| *c == path.join(".")));
        w
    }

    #[test]
    fn settings_come_from_the_service_config() {
        let after = json!({"name": "hook", "service_config": [{
            "ingress_settings": "ALLOW_INTERNAL_ONLY",
            "service_account_email": "fn@p.iam.gserviceaccount.com",
            "service": "projects/p/locations/l/services/hook-svc",
            "vpc_connector": "projects/p/locations/l/connectors/c",
            "vpc_connector_egress_settings": "ALL_TRAFFIC",
            "environment_variables": {"DB_PASSWORD": "hunter2hunter2", "MODE": "fast"},
            "secret_environment_variables": [{"key": "API_KEY", "secret": "s", "version": "1"}]
        }]});
        let w = function(&after, &json!({}), false);
        assert_eq!(w.kind, WorkloadKind::Function);
        assert_eq!(w.ingress, Some(Tri::Known(Ingress::Internal)));
        assert_eq!(
            w.service_account,
            Tri::Known("fn@p.iam.gserviceaccount.com".into())
        );
        assert_eq!(w.backing_service, Tri::Known("hook-svc".into()));
        assert_eq!(w.controls.vpc_egress, Tri::Known(VpcEgress::AllTraffic));
        let env: Vec<(String, EnvValue)> = w
            .controls
            .env
            .iter()
            .map(|e| (e.name.clone().known().unwrap(), e.value))
            .collect();
        assert!(env.contains(&(
            "DB_PASSWORD".into(),
            EnvValue::Literal {
                sensitive: false,
                setting_shaped: false
            }
        )));
        assert!(env.contains(&("API_KEY".into(), EnvValue::SecretRef)));
    }

    #[test]
    fn unset_settings_on_create_are_the_api_defaults() {
        let after = json!({"name": "Hook", "service_config": [{"vpc_connector": null}]});
        let unknown = json!({"service_config": [{
            "ingress_settings": true,
            "service_account_email": true,
            "service": true
        }]});
        let unset = settled(function(&after, &unknown, true), &[]);
        assert_eq!(unset.ingress, Some(Tri::Known(Ingress::All)));
        assert_eq!(unset.service_account, Tri::Unknown);
        // The backing service is named after the function, in lower case.
        assert_eq!(unset.backing_service, Tri::Known("hook".into()));
        let set = settled(
            function(&after, &unknown, true),
            &["service_config.ingress_settings"],
        );
        assert_eq!(set.ingress, Some(Tri::Unknown));
        let update = settled(function(&after, &unknown, false), &[]);
        assert_eq!(update.ingress, Some(Tri::Unknown));
    }
}
