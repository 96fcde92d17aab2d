//! Resolving what a value or a configuration reference points at.
//!
//! A link is made by value first (a parsed resource name, an email, a self link). When the value
//! is unknown at plan time, the resource's `configuration` expression is followed instead
//! ([`crate::plan::configuration::Configuration::resolve`]) and the resource it ends at is
//! matched to a concrete instance, using the `count`/`for_each` key in force.

use crate::plan::configuration::{Origin, ResourceRef};
use crate::plan::{Address, Configuration, Tri};

use std::collections::BTreeMap;

use serde_json::Value;

/// Everything linking needs from the plan besides the inventory.
pub struct Context<'p> {
    pub configuration: &'p Configuration,
    pub variables: &'p BTreeMap<String, Value>,
}

/// The result of following an attribute's configuration expression.
pub enum Followed<'a> {
    /// Instances of resources the expression refers to (possibly several candidates).
    Instances(Vec<&'a Address>),
    /// A constant reached through variables.
    Constant(Value),
    /// Nothing could be followed, with the reason.
    Opaque(String),
}

impl Context<'_> {
    /// Follows `attribute_path` of the resource at `from` and matches the referenced resources
    /// among `candidates` (instance addresses of the kind of resource wanted).
    pub fn follow<'a>(
        &self,
        from: &Address,
        attribute_path: &[&str],
        candidates: &[&'a Address],
    ) -> Followed<'a> {
        let module = from.config_module();
        let resource = from.config_resource();
        let expressions = self
            .configuration
            .expressions(&module, &resource, attribute_path);
        if expressions.is_empty() {
            return Followed::Opaque(if self.configuration.has_resource(&module, &resource) {
                format!(
                    "`{}` is not set in the configuration",
                    attribute_path.join(".")
                )
            } else {
                "the plan has no configuration for this resource".into()
            });
        }
        let mut instances: Vec<&'a Address> = Vec::new();
        let mut constant = None;
        let mut opaque = None;
        for expr in expressions {
            for origin in
                self.configuration
                    .resolve(&from.modules, expr, from.key.as_ref(), self.variables)
            {
                match origin {
                    Origin::Resource(r) => {
                        for a in match_instances(&r, candidates) {
                            if !instances.contains(&a) {
                                instances.push(a);
                            }
                        }
                    }
                    Origin::Constant(c) => constant = Some(c),
                    Origin::Opaque(reason) => opaque = Some(reason),
                }
            }
        }
        if !instances.is_empty() {
            Followed::Instances(instances)
        } else if let Some(c) = constant {
            Followed::Constant(c)
        } else {
            Followed::Opaque(opaque.unwrap_or_else(|| {
                "its references lead to no resource of the expected type in the plan".into()
            }))
        }
    }
}

/// The instances among `candidates` that a configuration reference can mean.
pub fn match_instances<'a>(r: &ResourceRef, candidates: &[&'a Address]) -> Vec<&'a Address> {
    let same_resource: Vec<&'a Address> = candidates
        .iter()
        .copied()
        .filter(|a| {
            a.config_resource() == r.resource
                && a.modules.len() == r.modules.len()
                && a.modules.iter().zip(&r.modules).all(|(have, want)| {
                    have.name == want.name && (want.key.is_none() || have.key == want.key)
                })
        })
        .collect();
    if let Some(index) = &r.index {
        return same_resource
            .into_iter()
            .filter(|a| a.key.as_ref() == Some(index))
            .collect();
    }
    if same_resource.len() > 1 {
        if let Some(key) = &r.context_key {
            let keyed: Vec<_> = same_resource
                .iter()
                .copied()
                .filter(|a| a.key.as_ref() == Some(key))
                .collect();
            if !keyed.is_empty() {
                return keyed;
            }
        }
    }
    same_resource
}

/// Compares two optional name components: equal when both are known and equal, undecided when
/// either is unknown.
pub fn component_matches(a: &Tri<String>, b: &Tri<String>) -> Option<bool> {
    match (a, b) {
        (Tri::Known(x), Tri::Known(y)) => Some(x == y),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::InstanceKey;

    #[test]
    fn context_key_picks_the_matching_instance() {
        let a0 = Address::parse("google_cloud_run_v2_service.svc[0]").unwrap();
        let a1 = Address::parse("google_cloud_run_v2_service.svc[1]").unwrap();
        let r = ResourceRef {
            modules: vec![],
            resource: "google_cloud_run_v2_service.svc".into(),
            attribute: Some("name".into()),
            index: None,
            context_key: Some(InstanceKey::Int(1)),
        };
        assert_eq!(match_instances(&r, &[&a0, &a1]), vec![&a1]);
        let no_ctx = ResourceRef {
            context_key: None,
            ..r
        };
        assert_eq!(match_instances(&no_ctx, &[&a0, &a1]).len(), 2);
    }
}
