//! `google_binary_authorization_policy`: the project's default Binary Authorization policy,
//! which decides what a workload with `binary_authorization[0].use_default = true` (v1: the
//! `run.googleapis.com/binary-authorization: default` annotation) lets deploy. A default rule
//! that allows every image, or that only logs, makes that enforcement no barrier.

use crate::plan::{Address, Tri, TypeMismatch};

use super::{Reading, computed_str};

const TYPE: &str = "google_binary_authorization_policy";

pub fn handles(rtype: &str) -> bool {
    rtype == TYPE
}

/// One side of a project's Binary Authorization policy.
#[derive(Debug, Clone)]
pub struct BinauthzPolicy {
    pub address: Address,
    /// The project, filled from the provider when unset.
    pub project: Tri<String>,
    /// The default admission rule lets every image deploy: `evaluation_mode = ALWAYS_ALLOW`,
    /// or `enforcement_mode = DRYRUN_AUDIT_LOG_ONLY` (violations are only logged).
    pub lets_everything_through: Tri<bool>,
}

pub fn read(r: &Reading) -> Result<BinauthzPolicy, TypeMismatch> {
    let rule = r.node.first("default_admission_rule");
    let evaluation = rule.key("evaluation_mode").non_empty_str()?;
    let enforcement = rule.key("enforcement_mode").non_empty_str()?;
    let lets_everything_through = match (evaluation, enforcement) {
        (Tri::Known("ALWAYS_ALLOW"), _) | (_, Tri::Known("DRYRUN_AUDIT_LOG_ONLY")) => {
            Tri::Known(true)
        }
        (Tri::Known(_), Tri::Known(_)) => Tri::Known(false),
        // A rule the plan cannot read may be either.
        _ => Tri::Unknown,
    };
    Ok(BinauthzPolicy {
        address: r.address.clone(),
        project: computed_str(&r.node, "project")?
            .map(|p| p.rsplit('/').next().unwrap_or(&p).to_owned()),
        lets_everything_through,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Side;
    use crate::plan::Node;
    use serde_json::{Value, json};

    fn policy(after: &Value) -> BinauthzPolicy {
        let address = Address::parse("google_binary_authorization_policy.p").expect("address");
        let unknown = json!({});
        read(&Reading {
            address: &address,
            rtype: TYPE,
            node: Node::root(after, Some(&unknown), None),
            side: Side::After,
            creating: true,
            prior: None,
        })
        .expect("readable")
    }

    fn rule(evaluation: &str, enforcement: &str) -> Value {
        json!({"project": "projects/acme", "default_admission_rule": [
            {"evaluation_mode": evaluation, "enforcement_mode": enforcement}]})
    }

    #[test]
    fn an_allow_all_or_dry_run_default_rule_lets_everything_through() {
        let through = |e: &str, m: &str| policy(&rule(e, m)).lets_everything_through;
        assert_eq!(
            through("ALWAYS_ALLOW", "ENFORCED_BLOCK_AND_AUDIT_LOG"),
            Tri::Known(true)
        );
        assert_eq!(
            through("REQUIRE_ATTESTATION", "DRYRUN_AUDIT_LOG_ONLY"),
            Tri::Known(true)
        );
        assert_eq!(
            through("REQUIRE_ATTESTATION", "ENFORCED_BLOCK_AND_AUDIT_LOG"),
            Tri::Known(false)
        );
        assert_eq!(
            through("ALWAYS_DENY", "ENFORCED_BLOCK_AND_AUDIT_LOG"),
            Tri::Known(false)
        );
        assert_eq!(
            policy(&rule("ALWAYS_ALLOW", "x")).project,
            Tri::Known("acme".into())
        );
        let unread = policy(&json!({"project": "acme", "default_admission_rule": []}));
        assert_eq!(unread.lets_everything_through, Tri::Unknown);
    }
}
