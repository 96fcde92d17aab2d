//! Resolving what a value or a configuration reference points at.
//!
//! A link is made by value first (a parsed resource name, an email, a self link). When the value
//! is unknown at plan time, the resource's `configuration` expression is followed instead
//! ([`crate::plan::configuration::Configuration::resolve`]) and the resource it ends at is
//! matched to a concrete instance, using the `count`/`for_each` key in force.

use crate::plan::address::ModuleStep;
use crate::plan::configuration::{Origin, ResourceRef};
use crate::plan::{Address, Configuration, Tri};

use std::collections::BTreeMap;

use foldhash::HashMap;
use serde_json::Value;

/// Everything linking needs from the plan besides the inventory.
pub struct Context<'p> {
    pub configuration: &'p Configuration,
    pub variables: &'p BTreeMap<String, Value>,
}

/// Resource instances of one kind, indexed by configuration resource (`type.name`), so a
/// reference finds its instances without scanning them all, and without building a key. `I` is
/// the position of an instance in its table.
pub struct Candidates<'a, I = usize> {
    by_resource: HashMap<String, Instances<'a, I>>,
}

/// The instances of one configuration resource, in table order; and the same grouped by module
/// instance path. A reference made inside a module instance fixes every key of its path, so it
/// finds that path's instances at once: comparing its path with every instance's was quadratic
/// for a resource that a `for_each` module repeats thousands of times, each instance referring
/// to its own module's resources.
struct Instances<'a, I> {
    all: Vec<(&'a Address, I)>,
    by_module_path: HashMap<&'a [ModuleStep], Vec<(&'a Address, I)>>,
}

impl<I> Default for Candidates<'_, I> {
    fn default() -> Self {
        Candidates {
            by_resource: HashMap::default(),
        }
    }
}

impl<'a, I: Copy> Candidates<'a, I> {
    /// Indexes `(address, position)` pairs; the position is what [`Followed::Instances`] returns.
    /// A reference means the current object of an instance, never a deposed or forgotten one.
    pub fn new(items: impl IntoIterator<Item = (&'a Address, I)>) -> Self {
        let mut by_resource: HashMap<String, Instances<'a, I>> = HashMap::default();
        for (address, i) in items.into_iter().filter(|(a, _)| a.is_current()) {
            let instances = by_resource
                .entry(address.config_resource())
                .or_insert_with(|| Instances {
                    all: Vec::new(),
                    by_module_path: HashMap::default(),
                });
            instances.all.push((address, i));
            instances
                .by_module_path
                .entry(&address.modules)
                .or_default()
                .push((address, i));
        }
        Candidates { by_resource }
    }
}

/// What an attribute's configuration expression refers to.
pub struct Origins<I = usize> {
    /// The resource sets the attribute at all.
    pub configured: bool,
    pub instances: Vec<I>,
    pub constants: Vec<Value>,
    /// Some constant was reached through a variable or output declared sensitive.
    pub sensitive: bool,
    /// References that cannot be followed, with the reason.
    pub opaque: Vec<String>,
}

/// The result of following an attribute's configuration expression.
pub enum Followed<I = usize> {
    /// Positions of the instances the expression refers to (possibly several candidates).
    Instances(Vec<I>),
    /// The one constant reached through variables, when the expression refers to nothing
    /// else; `sensitive` when it must never be printed. A value unknown at plan time whose
    /// expression also refers to something that cannot be followed, or to two constants, may be
    /// any of them (`var.x` is one branch of a condition, or one piece of a template): that is
    /// `Opaque`, never a guess.
    Constant { value: Value, sensitive: bool },
    /// Nothing could be followed, with the reason.
    Opaque(String),
}

impl Context<'_> {
    /// Follows `attribute_path` of the resource at `from` and matches the referenced resources
    /// among `candidates`.
    pub fn follow<I: Copy + PartialEq>(
        &self,
        from: &Address,
        attribute_path: &[&str],
        candidates: &Candidates<I>,
    ) -> Followed<I> {
        let o = self.origins(from, attribute_path, candidates);
        if !o.instances.is_empty() {
            Followed::Instances(o.instances)
        } else if let ([value], true) = (o.constants.as_slice(), o.opaque.is_empty()) {
            Followed::Constant {
                value: value.clone(),
                sensitive: o.sensitive,
            }
        } else {
            Followed::Opaque(o.opaque.into_iter().next().unwrap_or_else(|| {
                "its references lead to no resource of the expected type in the plan".into()
            }))
        }
    }

    /// A scope attribute (`project`, `location`, `region`) of the resource at `from`, as the
    /// provider will use it: its own value when the plan knows it; when the configuration leaves
    /// it unset, `provider_argument` of the provider configuration the resource uses, or what
    /// `learned` says of that configuration. Unknown otherwise: never another provider's value.
    pub fn scope(
        &self,
        from: &Address,
        value: &Tri<String>,
        attribute: &str,
        provider_argument: &str,
        learned: &HashMap<String, String>,
    ) -> Tri<String> {
        if let Tri::Known(v) = value {
            return Tri::Known(v.clone());
        }
        let (module, resource) = (from.config_module(), from.config_resource());
        if !self
            .configuration
            .expressions(&module, &resource, &[attribute])
            .is_empty()
        {
            // Set in the configuration to something unknown at plan time.
            return Tri::Unknown;
        }
        let Some(key) = self.configuration.provider_of(&module, &resource) else {
            return Tri::Unknown;
        };
        self.configuration
            .provider_argument(key, provider_argument, self.variables)
            .or_else(|| learned.get(key).cloned())
            .map_or(Tri::Unknown, Tri::Known)
    }

    /// Everything an attribute's expression refers to: matching instances, constants reached
    /// through variables, and what cannot be followed. `configuration` keeps references, not
    /// operators, so `var.x ? null : google_service_account.a.email` gives both a constant and
    /// an instance; callers that must not guess use all three.
    pub fn origins<I: Copy + PartialEq>(
        &self,
        from: &Address,
        attribute_path: &[&str],
        candidates: &Candidates<I>,
    ) -> Origins<I> {
        let module = from.config_module();
        let resource = from.config_resource();
        let expressions = self
            .configuration
            .expressions(&module, &resource, attribute_path);
        let mut out = Origins {
            configured: !expressions.is_empty(),
            instances: Vec::new(),
            constants: Vec::new(),
            sensitive: false,
            opaque: Vec::new(),
        };
        if expressions.is_empty() {
            out.opaque
                .push(if self.configuration.has_resource(&module, &resource) {
                    format!(
                        "`{}` is not set in the configuration",
                        attribute_path.join(".")
                    )
                } else {
                    "the plan has no configuration for this resource".into()
                });
        }
        for expr in expressions {
            for origin in
                self.configuration
                    .resolve(&from.modules, expr, from.key.as_ref(), self.variables)
            {
                match origin {
                    Origin::Resource(r) => {
                        let found = match_instances(&r, candidates);
                        // A reference to something that is not a candidate proves nothing
                        // about the value: it is not "no candidate", it is unknown.
                        if found.is_empty() {
                            out.opaque.push(format!(
                                "it refers to `{}`, of which no instance in the plan can be linked",
                                r.resource
                            ));
                        }
                        for i in found {
                            if !out.instances.contains(&i) {
                                out.instances.push(i);
                            }
                        }
                    }
                    Origin::Constant { value, sensitive } => {
                        out.sensitive |= sensitive;
                        out.constants.push(value);
                    }
                    Origin::Opaque(reason) => out.opaque.push(reason),
                }
            }
        }
        out
    }
}

/// The positions of the candidates that a configuration reference can mean.
pub fn match_instances<I: Copy>(r: &ResourceRef, candidates: &Candidates<I>) -> Vec<I> {
    let Some(instances) = candidates.by_resource.get(r.resource) else {
        return Vec::new();
    };
    // The same configuration module (module names, not instance keys), and the module
    // instances the reference fixes: when it fixes them all, exactly its own path.
    let same_resource: Vec<&(&Address, I)> = if r.modules.iter().all(|m| m.key.is_some()) {
        instances
            .by_module_path
            .get(r.modules.as_slice())
            .map_or_else(Vec::new, |same_path| same_path.iter().collect())
    } else {
        instances
            .all
            .iter()
            .filter(|(a, _)| {
                a.modules.len() == r.modules.len()
                    && a.modules.iter().zip(&r.modules).all(|(have, want)| {
                        have.name == want.name && (want.key.is_none() || have.key == want.key)
                    })
            })
            .collect()
    };
    if let Some(index) = &r.index {
        return same_resource
            .into_iter()
            .filter(|(a, _)| a.key.as_ref() == Some(index))
            .map(|(_, i)| *i)
            .collect();
    }
    if same_resource.len() > 1 {
        if let Some(key) = &r.context_key {
            let keyed: Vec<I> = same_resource
                .iter()
                .filter(|(a, _)| a.key.as_ref() == Some(key))
                .map(|(_, i)| *i)
                .collect();
            if !keyed.is_empty() {
                return keyed;
            }
        }
    }
    same_resource.into_iter().map(|(_, i)| *i).collect()
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
    use crate::plan::address::InstanceKey;

    #[test]
    fn context_key_picks_the_matching_instance() {
        let a0 = Address::parse("google_cloud_run_v2_service.svc[0]").unwrap();
        let a1 = Address::parse("google_cloud_run_v2_service.svc[1]").unwrap();
        let r = ResourceRef {
            modules: vec![],
            resource: "google_cloud_run_v2_service.svc",
            attribute: Some("name"),
            index: None,
            context_key: Some(InstanceKey::Int(1)),
        };
        let candidates = Candidates::new([(&a0, 0), (&a1, 1)]);
        assert_eq!(match_instances(&r, &candidates), vec![1]);
        let no_ctx = ResourceRef {
            context_key: None,
            ..r
        };
        assert_eq!(match_instances(&no_ctx, &candidates).len(), 2);
    }

    /// A reference's instances are those of its configuration resource whose module path has
    /// its module names, and its keys where it fixes them: found through the module path index
    /// when it fixes every key, by comparing paths otherwise, with the same answer either way.
    #[test]
    fn a_reference_finds_the_instances_of_its_module_path() {
        let addresses: Vec<Address> = [
            "t.r",
            "module.m.t.r",
            "module.m[\"a\"].t.r",
            "module.m[\"b\"].t.r",
            "module.m[0].t.r",
            "module.m[\"a\"].module.n.t.r",
            "module.m[\"a\"].module.n[0].t.r",
            "module.m[\"b\"].module.n[0].t.r",
            "module.o[\"a\"].t.r",
        ]
        .iter()
        .map(|a| Address::parse(a).unwrap())
        .collect();
        let candidates = Candidates::new(addresses.iter().zip(0..));
        let step = |name: &str, key: Option<InstanceKey>| ModuleStep {
            name: name.to_owned(),
            key,
        };
        let (a, b) = (
            || Some(InstanceKey::Str("a".into())),
            || Some(InstanceKey::Str("b".into())),
        );
        let paths = [
            vec![],
            vec![step("m", None)],
            vec![step("m", a())],
            vec![step("m", b())],
            vec![step("m", Some(InstanceKey::Int(0)))],
            vec![step("m", a()), step("n", None)],
            vec![step("m", a()), step("n", Some(InstanceKey::Int(0)))],
            vec![step("m", None), step("n", Some(InstanceKey::Int(0)))],
            vec![step("o", None)],
            vec![step("p", a())],
        ];
        for modules in paths {
            let expected: Vec<usize> = addresses
                .iter()
                .zip(0..)
                .filter(|(address, _)| {
                    address.modules.len() == modules.len()
                        && address.modules.iter().zip(&modules).all(|(have, want)| {
                            have.name == want.name
                                && want
                                    .key
                                    .as_ref()
                                    .is_none_or(|k| have.key.as_ref() == Some(k))
                        })
                })
                .map(|(_, i)| i)
                .collect();
            let r = ResourceRef {
                modules: modules.clone(),
                resource: "t.r",
                attribute: None,
                index: None,
                context_key: None,
            };
            assert_eq!(match_instances(&r, &candidates), expected, "{modules:?}");
        }
    }
}
