//! `data "google_iam_policy"`: the policy documents that `*_iam_policy` resources take as
//! `policy_data`. When a plan cannot know `policy_data` yet, the data source's bindings can.

use crate::plan::{Address, Node, Tri, TypeMismatch};

use super::Reading;
use super::iam::{MemberValue, PolicyBinding, read_policy_data};

#[derive(Debug, Clone)]
pub struct PolicyDataSource {
    pub address: Address,
    pub bindings: Tri<Vec<PolicyBinding>>,
}

pub fn handles(rtype: &str) -> bool {
    rtype == "google_iam_policy"
}

/// A data source read while planning (from `prior_state`).
pub fn read_prior(address: &Address, node: &Node) -> Result<PolicyDataSource, TypeMismatch> {
    read_node(address, node)
}

/// A data source whose read is deferred to apply (`actions: ["read"]`).
pub fn read_change(r: &Reading) -> Result<PolicyDataSource, TypeMismatch> {
    read_node(r.address, &r.node)
}

fn read_node(address: &Address, n: &Node) -> Result<PolicyDataSource, TypeMismatch> {
    // On the data source `policy_data` is computed: absent just means "not read yet".
    let document = match n.key("policy_data").str()? {
        Tri::Known(_) => read_policy_data(&n.key("policy_data"))?,
        other => other.map(|_| Vec::new()),
    };
    let bindings = match document {
        Tri::Known(b) if !b.is_empty() => Tri::Known(b),
        from_document => match read_binding_blocks(n)? {
            Tri::Known(b) => Tri::Known(b),
            blocks => match from_document {
                Tri::Known(b) => Tri::Known(b),
                _ => blocks,
            },
        },
    };
    Ok(PolicyDataSource {
        address: address.clone(),
        bindings,
    })
}

/// The data source's own `binding` blocks: `[{role, members, condition}]`.
fn read_binding_blocks(n: &Node) -> Result<Tri<Vec<PolicyBinding>>, TypeMismatch> {
    let items = match n.key("binding").items()? {
        Tri::Known(items) => items,
        Tri::Unknown => return Ok(Tri::Unknown),
        Tri::Absent => return Ok(Tri::Absent),
    };
    let mut out = Vec::new();
    for b in items {
        let Tri::Known(role) = b.key("role").str()? else {
            return Ok(Tri::Unknown);
        };
        let members = match b.key("members").items()? {
            Tri::Known(m) => m
                .iter()
                .map(|m| {
                    Ok(match m.str()? {
                        Tri::Known(v) => MemberValue::Known {
                            value: v.to_owned(),
                            sensitive: m.is_sensitive(),
                        },
                        _ => MemberValue::Unknown,
                    })
                })
                .collect::<Result<Vec<_>, TypeMismatch>>()?,
            Tri::Unknown => vec![MemberValue::Unknown],
            Tri::Absent => Vec::new(),
        };
        let conditional = matches!(b.key("condition").items()?, Tri::Known(c) if !c.is_empty());
        out.push(PolicyBinding {
            role: role.to_owned(),
            members,
            conditional,
        });
    }
    Ok(Tri::Known(out))
}
