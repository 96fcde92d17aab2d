//! The data sources read while planning, from `prior_state`: a deferred `policy_data` is
//! often read from one.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::strip_position;
use super::*;

#[derive(Deserialize)]
pub(super) struct PriorState<'a> {
    #[serde(borrow)]
    values: Option<StateValues<'a>>,
}

#[derive(Deserialize)]
pub(super) struct StateValues<'a> {
    #[serde(borrow)]
    root_module: Option<StateModule<'a>>,
}

#[derive(Deserialize)]
pub(super) struct StateModule<'a> {
    #[serde(default, borrow)]
    resources: Vec<StateResource<'a>>,
    #[serde(default, borrow)]
    child_modules: Vec<StateModule<'a>>,
}

#[derive(Deserialize)]
pub(super) struct StateResource<'a> {
    #[serde(borrow)]
    address: Cow<'a, str>,
    #[serde(borrow)]
    mode: Cow<'a, str>,
    #[serde(rename = "type", borrow)]
    rtype: Cow<'a, str>,
    #[serde(borrow)]
    values: Option<&'a RawValue>,
    #[serde(borrow)]
    sensitive_values: Option<&'a RawValue>,
}

impl PriorState<'_> {
    /// How deeply it nests in what serde reads one level at a time: the object, `values`,
    /// `root_module`, then two levels (`child_modules`, the module) per module below it, and two
    /// (`resources`, the resource) inside the deepest (a resource's values stay raw).
    pub(super) fn nesting(&self) -> usize {
        fn below(module: &StateModule) -> usize {
            2 + module
                .child_modules
                .iter()
                .map(|m| 2 + below(m))
                .max()
                .unwrap_or(0)
        }
        let root = self.values.as_ref().and_then(|v| v.root_module.as_ref());
        3 + root.map_or(0, below)
    }
}

pub(super) fn read_prior_data(
    state: PriorState,
    wanted: &Wanted,
    unreadable: &mut Vec<Unreadable>,
) -> Vec<PriorData> {
    let mut out = Vec::new();
    let mut stack: Vec<StateModule> = state
        .values
        .and_then(|v| v.root_module)
        .into_iter()
        .collect();
    while let Some(module) = stack.pop() {
        for r in module.resources {
            if r.mode != "data" || wanted(&r.rtype).is_none() {
                continue;
            }
            let Some(address) = Address::parse(&r.address) else {
                unreadable.push(Unreadable {
                    address: r.address.into_owned(),
                    reason: "the address cannot be parsed".into(),
                });
                continue;
            };
            let strict = |raw: Option<&RawValue>| -> Result<Option<Value>, String> {
                raw.map(|v| serde_json::from_str::<strict::StrictValue>(v.get()).map(|s| s.0))
                    .transpose()
                    .map_err(|e| strip_position(&e.to_string()))
            };
            let (values, sensitive_values) = match (strict(r.values), strict(r.sensitive_values)) {
                (Ok(v), Ok(s)) => (v.unwrap_or(Value::Null), s),
                (Err(reason), _) | (_, Err(reason)) => {
                    unreadable.push(Unreadable {
                        address: address.to_string(),
                        reason: format!("prior_state values are malformed: {reason}"),
                    });
                    continue;
                }
            };
            out.push(PriorData {
                address,
                values,
                sensitive_values,
            });
        }
        stack.extend(module.child_modules);
    }
    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}
