//! The `configuration` section: module calls, resource expressions and their references.
//!
//! When a value is unknown at plan time (a service name taken from a `random_id`, a member from
//! a new service account), its expression's references still say where it comes from.
//! [`Configuration::resolve`] follows those references through `var.` bindings of module calls
//! and through module outputs, to the resources (or constants) they end at.

use foldhash::HashMap;
use serde::Deserialize;
use serde_json::Value;

use super::address::{InstanceKey, ModuleStep, reference_steps};

/// The flattened module tree, keyed by configuration module path (`""` for the root,
/// `module.a.module.b` for nested calls).
#[derive(Debug, Default, PartialEq)]
pub struct Configuration {
    modules: HashMap<String, Module>,
    /// Every provider configuration, by its `provider_config` key (`google`, `google.staging`,
    /// `module.a:google`).
    providers: HashMap<String, Provider>,
}

#[derive(Debug, PartialEq)]
struct Provider {
    name: Option<String>,
    /// The module that holds the `provider` block, where its expressions are evaluated.
    module: Vec<ModuleStep>,
    expressions: Value,
}

#[derive(Debug, Default, PartialEq)]
struct Module {
    /// `type.name` / `data.type.name` → expressions.
    resources: HashMap<String, Value>,
    /// `type.name` / `data.type.name` → the key of the provider configuration it uses.
    provider_keys: HashMap<String, String>,
    calls: HashMap<String, Call>,
    outputs: HashMap<String, Value>,
    variable_defaults: HashMap<String, Value>,
    /// Variables and outputs declared `sensitive`: what flows through them keeps that mark.
    sensitive_variables: foldhash::HashSet<String>,
    sensitive_outputs: foldhash::HashSet<String>,
}

#[derive(Debug, PartialEq)]
struct Call {
    expressions: Value,
    repeated: bool,
    /// The call's `source` as written: `./modules/api`, a registry or git address.
    source: Option<String>,
}

/// The `configuration` section as deserialized, expressions still raw.
#[derive(Deserialize, Default)]
pub struct RawConfiguration<'a> {
    #[serde(default)]
    provider_config: HashMap<String, RawProvider>,
    #[serde(default, borrow)]
    root_module: RawModule<'a>,
}

impl RawConfiguration<'_> {
    /// How deeply it nests in what serde reads one level at a time (expressions of resources
    /// stay raw): the object, then `provider_config` or `root_module`, and below a module its
    /// maps, their entries and the values in them, or three levels (`module_calls`, the call,
    /// `module`) to a called module.
    pub(super) fn nesting(&self) -> usize {
        fn below(module: &RawModule) -> usize {
            let values = module
                .outputs
                .values()
                .map(|o| &o.expression)
                .chain(module.variables.values().map(|v| &v.default))
                .chain(module.module_calls.values().map(|c| &c.expressions));
            let calls = module.module_calls.values().map(|c| 3 + below(&c.module));
            values
                .map(|v| 2 + super::tail::value_nesting(v))
                .chain(calls)
                .max()
                .unwrap_or(0)
                .max(2)
        }
        let providers = self.provider_config.values();
        let provider = providers.map(|p| 2 + super::tail::value_nesting(&p.expressions));
        2 + provider.max().unwrap_or(0).max(below(&self.root_module))
    }
}

#[derive(Deserialize)]
struct RawProvider {
    name: Option<String>,
    module_address: Option<String>,
    #[serde(default)]
    expressions: Value,
}

#[derive(Deserialize, Default)]
struct RawModule<'a> {
    #[serde(default, borrow)]
    resources: Vec<RawResource<'a>>,
    #[serde(default, borrow)]
    module_calls: HashMap<String, RawCall<'a>>,
    #[serde(default)]
    outputs: HashMap<String, RawOutput>,
    #[serde(default)]
    variables: HashMap<String, RawVariable>,
}

#[derive(Deserialize)]
struct RawResource<'a> {
    address: String,
    provider_config_key: Option<String>,
    /// Kept raw: only the resource types the analysis reads are turned into values.
    #[serde(borrow)]
    expressions: Option<&'a serde_json::value::RawValue>,
}

#[derive(Deserialize)]
struct RawCall<'a> {
    #[serde(default)]
    expressions: Value,
    count_expression: Option<serde::de::IgnoredAny>,
    for_each_expression: Option<serde::de::IgnoredAny>,
    source: Option<String>,
    #[serde(default, borrow)]
    module: RawModule<'a>,
}

#[derive(Deserialize)]
struct RawOutput {
    #[serde(default)]
    expression: Value,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
struct RawVariable {
    #[serde(default)]
    default: Value,
    #[serde(default)]
    sensitive: bool,
}

/// Where an expression's value comes from; borrows the configuration's expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Origin<'c> {
    /// A constant, possibly reached through variables; `sensitive` when a variable or output
    /// on the way is declared sensitive, so the value must never be printed.
    Constant { value: Value, sensitive: bool },
    /// An attribute of a resource (or data source) instance.
    Resource(ResourceRef<'c>),
    /// A chain that cannot be followed in plan JSON, with the reason.
    Opaque(String),
}

/// A resource reached by resolution, addressed by module instance path where known.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceRef<'c> {
    /// Module steps from the root. A step's `key` is `None` when the instance is not fixed.
    pub modules: Vec<ModuleStep>,
    /// `type.name` or `data.type.name`.
    pub resource: &'c str,
    /// The attribute referenced, if any (`name`, `email`, `id`).
    pub attribute: Option<&'c str>,
    /// An explicit index written in the reference (`svc[0]`).
    pub index: Option<InstanceKey>,
    /// The `count.index` / `each.key` in force where the reference was made, used to pick the
    /// matching instance of a resource with the same repetition.
    pub context_key: Option<InstanceKey>,
}

/// One parsed entry of an expression's `references`, borrowed from it.
#[derive(Debug)]
enum Reference<'a> {
    Resource {
        /// `type.name` or `data.type.name`.
        resource: &'a str,
        index: Option<InstanceKey>,
        attribute: Option<&'a str>,
    },
    Var(&'a str),
    ModuleOutput {
        call: &'a str,
        index: Option<InstanceKey>,
        output: Option<&'a str>,
    },
    Local(&'a str),
    /// `each.*`, `count.*`, `path.*`, `self.*`, `terraform.*`, as written.
    Meta(&'a str),
}

/// What one reference of an expression names, to skip the shorter forms of it that follow.
#[derive(PartialEq)]
enum Named<'a> {
    Resource(&'a str),
    Var(&'a str),
    /// A module call's output, whatever the call's instance key.
    Output(&'a str, &'a str),
}

const MAX_DEPTH: usize = 32;
/// Expressions visited while resolving one attribute, at most: a plan can make references fan
/// out exponentially without a cycle.
const MAX_STEPS: usize = 10_000;

/// The state of one resolution: the steps left, and the plan's root variables.
struct Walk<'a> {
    budget: usize,
    root_variables: &'a std::collections::BTreeMap<String, Value>,
}

/// A module instance where expressions are evaluated.
#[derive(Clone, Copy)]
struct Place<'s> {
    /// Its steps from the root.
    modules: &'s [ModuleStep],
    /// Its configuration path, as [`Configuration`] keys modules (`module.a.module.b`).
    path: &'s str,
}

impl<'s> Place<'s> {
    /// The module instance that calls this one, and the call; `None` at the root.
    fn caller(self) -> Option<(Place<'s>, &'s ModuleStep)> {
        let (call, parent) = self.modules.split_last()?;
        let path = self.path.rsplit_once(".module.").map_or("", |(p, _)| p);
        Some((
            Place {
                modules: parent,
                path,
            },
            call,
        ))
    }
}

/// An expression being followed, linked to the one that led to it: the chain lives on the
/// stack, so following a reference copies nothing.
struct Frame<'s> {
    expression: &'s Value,
    modules: &'s [ModuleStep],
    /// How many frames lead to this one.
    depth: usize,
    previous: Option<&'s Frame<'s>>,
}

impl Configuration {
    /// Builds the configuration from its deserialized section; only resources whose type
    /// `wanted` selects keep their expressions.
    pub fn from_raw(
        raw: RawConfiguration,
        wanted: &dyn Fn(&str) -> bool,
    ) -> Result<Configuration, serde_json::Error> {
        let mut config = Configuration::default();
        for (key, p) in raw.provider_config {
            let module = p
                .module_address
                .as_deref()
                .map(module_steps)
                .unwrap_or_default();
            config.providers.insert(
                key,
                Provider {
                    name: p.name,
                    module,
                    expressions: p.expressions,
                },
            );
        }
        flatten(String::new(), raw.root_module, wanted, &mut config.modules)?;
        Ok(config)
    }

    /// The key of the provider configuration a resource uses: its `provider_config_key`; for a
    /// resource the configuration does not describe, the plan's only `google` configuration, if
    /// it has exactly one. `None` when it cannot be known.
    pub fn provider_of(&self, module: &str, resource: &str) -> Option<&str> {
        if let Some(key) = self
            .modules
            .get(module)
            .and_then(|m| m.provider_keys.get(resource))
        {
            return Some(key);
        }
        if self.has_resource(module, resource) {
            return None;
        }
        let mut google = self
            .providers
            .iter()
            .filter(|(_, p)| p.name.as_deref() == Some("google"));
        match (google.next(), google.next()) {
            (Some((key, _)), None) => Some(key),
            _ => None,
        }
    }

    /// An argument (`project`, `region`) of a provider configuration, when the plan fixes it: a
    /// constant, or references that resolve to one string (root variables, module variables).
    /// A key that `provider_config` does not list (Terraform before 1.1 kept the child
    /// module's key for an inherited provider) is looked up in the parent modules.
    pub fn provider_argument(
        &self,
        key: &str,
        argument: &str,
        root_variables: &std::collections::BTreeMap<String, Value>,
    ) -> Option<String> {
        let mut key = key.to_owned();
        let provider = loop {
            if let Some(p) = self.providers.get(&key) {
                break p;
            }
            key = parent_provider_key(&key)?;
        };
        let expression = provider.expressions.get(argument)?;
        let origins = self.resolve(&provider.module, expression, None, root_variables);
        let mut values = origins.iter().map(|o| match o {
            Origin::Constant {
                value: Value::String(s),
                ..
            } if !s.is_empty() => Some(s.as_str()),
            _ => None,
        });
        let first = values.next()??;
        values.all(|v| v == Some(first)).then(|| first.to_owned())
    }

    /// Every expression at `attribute_path`, fanning out over all blocks where a step is `"*"`
    /// (a backend service's `backend` blocks, a URL map's `path_matcher` blocks).
    pub fn expressions(
        &self,
        module: &str,
        resource: &str,
        attribute_path: &[&str],
    ) -> Vec<&Value> {
        let Some(root) = self
            .modules
            .get(module)
            .and_then(|m| m.resources.get(resource))
        else {
            return Vec::new();
        };
        let mut current = vec![root];
        for step in attribute_path {
            current = current
                .into_iter()
                .flat_map(|v| match v {
                    Value::Array(items) if *step == "*" => items.iter().collect::<Vec<_>>(),
                    Value::Array(items) => items.iter().filter_map(|i| i.get(*step)).collect(),
                    other => other.get(*step).into_iter().collect(),
                })
                .collect();
        }
        current
    }

    /// Every module call's `source` as written, keyed by configuration module path
    /// (`module.api`, `module.api.module.db`); a nested source is relative to its caller's.
    pub fn module_sources(&self) -> std::collections::BTreeMap<String, String> {
        self.modules
            .iter()
            .flat_map(|(path, module)| {
                module.calls.iter().filter_map(move |(name, call)| {
                    let child = if path.is_empty() {
                        format!("module.{name}")
                    } else {
                        format!("{path}.module.{name}")
                    };
                    Some((child, call.source.clone()?))
                })
            })
            .collect()
    }

    /// Whether the configuration describes the resource at all (a plan without a
    /// `configuration` section describes nothing).
    pub fn has_resource(&self, module: &str, resource: &str) -> bool {
        self.modules
            .get(module)
            .is_some_and(|m| m.resources.contains_key(resource))
    }

    /// Follows an expression to where its value comes from.
    ///
    /// `modules` is the module instance path where the expression is written, `context_key` the
    /// instance key of the resource that holds it, and `root_variables` the plan's `variables`.
    pub fn resolve<'c>(
        &'c self,
        modules: &[ModuleStep],
        expression: &'c Value,
        context_key: Option<&InstanceKey>,
        root_variables: &std::collections::BTreeMap<String, Value>,
    ) -> Vec<Origin<'c>> {
        let mut out = Vec::new();
        let mut walk = Walk {
            budget: MAX_STEPS,
            root_variables,
        };
        let path = config_path(modules);
        let place = Place {
            modules,
            path: &path,
        };
        self.resolve_into(place, expression, context_key, None, &mut walk, &mut out);
        out
    }

    fn resolve_into<'c>(
        &'c self,
        place: Place<'_>,
        expression: &'c Value,
        context_key: Option<&InstanceKey>,
        previous: Option<&Frame<'_>>,
        walk: &mut Walk<'_>,
        out: &mut Vec<Origin<'c>>,
    ) {
        let depth = previous.map_or(0, |f| f.depth + 1);
        if depth > MAX_DEPTH || walk.budget == 0 {
            out.push(Origin::Opaque("the reference chain is too long".into()));
            return;
        }
        walk.budget -= 1;
        // A plan can make `var`s and module outputs refer to each other in a circle.
        let cycle = std::iter::successors(previous, |f| f.previous)
            .any(|f| std::ptr::eq(f.expression, expression) && f.modules == place.modules);
        if cycle {
            out.push(Origin::Opaque("its references form a cycle".into()));
            return;
        }
        let frame = Frame {
            expression,
            modules: place.modules,
            depth,
            previous,
        };
        self.resolve_step(place, expression, context_key, &frame, walk, out);
    }

    fn resolve_step<'c>(
        &'c self,
        place: Place<'_>,
        expression: &'c Value,
        context_key: Option<&InstanceKey>,
        frame: &Frame<'_>,
        walk: &mut Walk<'_>,
        out: &mut Vec<Origin<'c>>,
    ) {
        let modules = place.modules;
        if let Some(c) = expression.get("constant_value") {
            out.push(Origin::Constant {
                value: c.clone(),
                sensitive: false,
            });
            return;
        }
        let Some(refs) = expression.get("references").and_then(Value::as_array) else {
            out.push(Origin::Opaque(
                "the expression has no constant value or references".into(),
            ));
            return;
        };
        let before = out.len();
        let mut seen: Vec<Named> = Vec::new();
        let mut opaque = None;
        for r in refs.iter().filter_map(Value::as_str) {
            match parse_reference(r) {
                Reference::Resource {
                    resource,
                    index,
                    attribute,
                } => {
                    // References are listed longest first; the shorter ones name the same thing.
                    if seen.contains(&Named::Resource(resource)) {
                        continue;
                    }
                    seen.push(Named::Resource(resource));
                    out.push(Origin::Resource(ResourceRef {
                        modules: modules.to_vec(),
                        resource,
                        attribute,
                        index,
                        context_key: context_key.cloned(),
                    }));
                }
                Reference::Var(name) => {
                    if seen.contains(&Named::Var(name)) {
                        continue;
                    }
                    seen.push(Named::Var(name));
                    self.resolve_var(place, name, context_key, frame, walk, out);
                }
                Reference::ModuleOutput {
                    call,
                    index,
                    output,
                } => {
                    let Some(output) = output else { continue };
                    if seen.contains(&Named::Output(call, output)) {
                        continue;
                    }
                    seen.push(Named::Output(call, output));
                    let repeated = self
                        .modules
                        .get(place.path)
                        .and_then(|m| m.calls.get(call))
                        .is_some_and(|c| c.repeated);
                    let step_key =
                        index.or_else(|| repeated.then(|| context_key.cloned()).flatten());
                    let mut child = modules.to_vec();
                    child.push(ModuleStep {
                        name: call.to_owned(),
                        key: step_key,
                    });
                    let child_path = if place.path.is_empty() {
                        format!("module.{call}")
                    } else {
                        format!("{}.module.{call}", place.path)
                    };
                    let child_module = self.modules.get(&child_path);
                    match child_module.and_then(|m| m.outputs.get(output)) {
                        Some(expr) => {
                            let from = out.len();
                            let child = Place {
                                modules: &child,
                                path: &child_path,
                            };
                            self.resolve_into(child, expr, context_key, Some(frame), walk, out);
                            if child_module.is_some_and(|m| m.sensitive_outputs.contains(output)) {
                                mark_sensitive(&mut out[from..]);
                            }
                        }
                        None => {
                            opaque = Some(format!(
                                "module output `{child_path}.{output}` is not in the configuration"
                            ));
                        }
                    }
                }
                Reference::Local(name) => {
                    opaque = Some(format!(
                        "it comes from `local.{name}`, and local values are not in plan JSON"
                    ));
                }
                // The instance key picks among instances; its value is not in plan JSON.
                Reference::Meta(name) => {
                    if opaque.is_none() && name.starts_with("each.value") {
                        opaque = Some(format!(
                            "it comes from `{name}`, which plan JSON does not record"
                        ));
                    }
                }
            }
        }
        if out.len() == before {
            out.push(Origin::Opaque(opaque.unwrap_or_else(|| {
                "its references lead to no resource or constant".into()
            })));
        }
    }

    fn resolve_var<'c>(
        &'c self,
        place: Place<'_>,
        name: &str,
        context_key: Option<&InstanceKey>,
        frame: &Frame<'_>,
        walk: &mut Walk<'_>,
        out: &mut Vec<Origin<'c>>,
    ) {
        let from = out.len();
        self.resolve_var_value(place, name, context_key, frame, walk, out);
        let declared_sensitive = self
            .modules
            .get(place.path)
            .is_some_and(|m| m.sensitive_variables.contains(name));
        if declared_sensitive {
            mark_sensitive(&mut out[from..]);
        }
    }

    fn resolve_var_value<'c>(
        &'c self,
        place: Place<'_>,
        name: &str,
        context_key: Option<&InstanceKey>,
        frame: &Frame<'_>,
        walk: &mut Walk<'_>,
        out: &mut Vec<Origin<'c>>,
    ) {
        let Some((parent, call)) = place.caller() else {
            match walk.root_variables.get(name) {
                Some(v) => out.push(Origin::Constant {
                    value: v.clone(),
                    sensitive: false,
                }),
                None => out.push(Origin::Opaque(format!(
                    "root variable `{name}` has no value in the plan"
                ))),
            }
            return;
        };
        let bound = self
            .modules
            .get(parent.path)
            .and_then(|m| m.calls.get(&call.name))
            .and_then(|c| c.expressions.get(name));
        match bound {
            // Moving up to the caller: the module instance's key is what `each.key` means there.
            Some(expr) => {
                let key = call.key.as_ref().or(context_key);
                self.resolve_into(parent, expr, key, Some(frame), walk, out)
            }
            None => {
                let default = self
                    .modules
                    .get(place.path)
                    .and_then(|m| m.variable_defaults.get(name));
                match default {
                    Some(v) if !v.is_null() => out.push(Origin::Constant {
                        value: v.clone(),
                        sensitive: false,
                    }),
                    _ => out.push(Origin::Opaque(format!(
                        "variable `{name}` of `{}` is not bound",
                        place.path
                    ))),
                }
            }
        }
    }
}

/// Marks the constants resolved through a sensitive variable or output as sensitive.
fn mark_sensitive(origins: &mut [Origin]) {
    for o in origins {
        if let Origin::Constant { sensitive, .. } = o {
            *sensitive = true;
        }
    }
}

/// `module.a.module.b:google.x` → `module.a:google.x` → `google.x`; `None` at the root.
fn parent_provider_key(key: &str) -> Option<String> {
    let (module, local) = key.split_once(':')?;
    Some(match module.rsplit_once(".module.") {
        Some((parent, _)) => format!("{parent}:{local}"),
        None => local.to_owned(),
    })
}

/// `module.a.module.b` → its steps, without instance keys (a module that holds a `provider`
/// block cannot be repeated).
fn module_steps(path: &str) -> Vec<ModuleStep> {
    path.split('.')
        .collect::<Vec<_>>()
        .chunks(2)
        .filter_map(|c| match c {
            ["module", name] => Some(ModuleStep {
                name: (*name).to_owned(),
                key: None,
            }),
            _ => None,
        })
        .collect()
}

fn config_path(modules: &[ModuleStep]) -> String {
    super::address::config_module_of(modules)
}

fn flatten(
    path: String,
    module: RawModule,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut HashMap<String, Module>,
) -> Result<(), serde_json::Error> {
    let mut m = Module::default();
    for r in module.resources {
        let rtype = r.address.strip_prefix("data.").unwrap_or(&r.address);
        let rtype = rtype.split('.').next().unwrap_or_default();
        let expressions = match r.expressions {
            Some(raw) if wanted(rtype) => serde_json::from_str(raw.get())?,
            _ => Value::Null,
        };
        if let Some(key) = r.provider_config_key {
            m.provider_keys.insert(r.address.clone(), key);
        }
        m.resources.insert(r.address, expressions);
    }
    for (name, output) in module.outputs {
        if output.sensitive {
            m.sensitive_outputs.insert(name.clone());
        }
        m.outputs.insert(name, output.expression);
    }
    for (name, var) in module.variables {
        if var.sensitive {
            m.sensitive_variables.insert(name.clone());
        }
        m.variable_defaults.insert(name, var.default);
    }
    for (name, call) in module.module_calls {
        let child_path = if path.is_empty() {
            format!("module.{name}")
        } else {
            format!("{path}.module.{name}")
        };
        m.calls.insert(
            name,
            Call {
                expressions: call.expressions,
                repeated: call.count_expression.is_some() || call.for_each_expression.is_some(),
                source: call.source,
            },
        );
        flatten(child_path, call.module, wanted, out)?;
    }
    out.insert(path, m);
    Ok(())
}

/// Reads one entry of an expression's `references` with the address parser's reader of
/// `name[key]` steps.
fn parse_reference(r: &str) -> Reference<'_> {
    let steps = reference_steps(r);
    match steps.as_slice() {
        [var, name, ..] if var.name == "var" => Reference::Var(name.name),
        [local, name, ..] if local.name == "local" => Reference::Local(name.name),
        [module, call, rest @ ..] if module.name == "module" => Reference::ModuleOutput {
            call: call.name,
            index: call.key.clone(),
            output: rest.first().map(|o| o.name),
        },
        [first, ..] if ["each", "count", "path", "self", "terraform"].contains(&first.name) => {
            Reference::Meta(r)
        }
        [data, _, name, rest @ ..] if data.name == "data" => Reference::Resource {
            resource: name.through,
            index: name.key.clone(),
            attribute: rest.first().map(|a| a.name),
        },
        [_, name, rest @ ..] => Reference::Resource {
            resource: name.through,
            index: name.key.clone(),
            attribute: rest.first().map(|a| a.name),
        },
        _ => Reference::Meta(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn config() -> Configuration {
        let raw = json!({
            "provider_config": {"google": {"name": "google", "full_name": "registry.terraform.io/hashicorp/google",
                "expressions": {"project": {"constant_value": "acme-prod"}}}},
            "root_module": {
                "resources": [
                    {"address": "google_cloud_run_v2_service.api", "mode": "managed",
                     "type": "google_cloud_run_v2_service", "name": "api", "expressions": {}}
                ],
                "module_calls": {
                    "iam": {
                        "source": "./iam",
                        "for_each_expression": {"references": ["local.regions"]},
                        "expressions": {"service_name": {"references": [
                            "google_cloud_run_v2_service.api.name", "google_cloud_run_v2_service.api", "each.key"]}},
                        "module": {
                            "resources": [{"address": "google_cloud_run_v2_service_iam_member.m",
                                "expressions": {"name": {"references": ["var.service_name"]},
                                                "member": {"references": ["local.who"]}}}],
                            "outputs": {"svc": {"expression": {"references": ["var.service_name"]}}}
                        }
                    }
                }
            }
        });
        let text = raw.to_string();
        let parsed: RawConfiguration = serde_json::from_str(&text).unwrap();
        Configuration::from_raw(parsed, &|_| true).unwrap()
    }

    #[test]
    fn follows_var_to_the_caller_with_the_module_key() {
        let c = config();
        let modules = vec![ModuleStep {
            name: "iam".into(),
            key: Some(InstanceKey::Str("eu".into())),
        }];
        let expr = c.expressions(
            "module.iam",
            "google_cloud_run_v2_service_iam_member.m",
            &["name"],
        )[0];
        let got = c.resolve(&modules, expr, None, &BTreeMap::new());
        assert_eq!(
            got,
            vec![Origin::Resource(ResourceRef {
                modules: vec![],
                resource: "google_cloud_run_v2_service.api",
                attribute: Some("name"),
                index: None,
                context_key: Some(InstanceKey::Str("eu".into())),
            })]
        );
        assert_eq!(
            c.provider_argument("google", "project", &BTreeMap::new())
                .as_deref(),
            Some("acme-prod")
        );
    }

    #[test]
    fn locals_are_opaque_with_a_reason() {
        let c = config();
        let expr = c.expressions(
            "module.iam",
            "google_cloud_run_v2_service_iam_member.m",
            &["member"],
        )[0];
        let got = c.resolve(&[], expr, None, &BTreeMap::new());
        assert!(matches!(&got[..], [Origin::Opaque(r)] if r.contains("local.who")));
    }

    #[test]
    fn follows_module_outputs() {
        let c = config();
        let expr = json!({"references": ["module.iam[\"us\"].svc", "module.iam[\"us\"]"]});
        let got = c.resolve(&[], &expr, None, &BTreeMap::new());
        assert!(matches!(&got[..], [Origin::Resource(r)]
            if r.resource == "google_cloud_run_v2_service.api"
            && r.context_key == Some(InstanceKey::Str("us".into()))));
    }

    #[test]
    fn parses_indexed_references() {
        match parse_reference("google_cloud_run_v2_service.api[\"a.b\"].name") {
            Reference::Resource {
                resource,
                index,
                attribute,
            } => {
                assert_eq!(resource, "google_cloud_run_v2_service.api");
                assert_eq!(index, Some(InstanceKey::Str("a.b".into())));
                assert_eq!(attribute, Some("name"));
            }
            _ => panic!("not a resource"),
        }
        match parse_reference(r#"data.google_x.y["k\"]"].id"#) {
            Reference::Resource {
                resource, index, ..
            } => {
                assert_eq!(resource, "data.google_x.y");
                assert_eq!(index, Some(InstanceKey::Str("k\"]".into())));
            }
            other => panic!("{other:?}"),
        }
        match parse_reference(r#"module.iam["eu"].svc"#) {
            Reference::ModuleOutput {
                call,
                index,
                output,
            } => {
                assert_eq!(call, "iam");
                assert_eq!(index, Some(InstanceKey::Str("eu".into())));
                assert_eq!(output, Some("svc"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_reference("var.regions[0]"),
            Reference::Var("regions")
        ));
        assert!(matches!(
            parse_reference("each.value"),
            Reference::Meta("each.value")
        ));
    }

    #[test]
    fn provider_arguments_follow_aliases_variables_and_parent_modules() {
        let raw = json!({
            "provider_config": {
                "google": {"name": "google", "expressions": {"project": {"constant_value": "acme-prod"}}},
                "google.staging": {"name": "google", "alias": "staging",
                    "expressions": {"project": {"references": ["var.staging_project"]},
                                    "region": {"references": ["local.region"]}}}
            },
            "root_module": {
                "resources": [{"address": "google_cloud_run_v2_service_iam_member.m",
                               "provider_config_key": "google.staging", "expressions": {}}],
                "variables": {"staging_project": {}}
            }
        });
        let text = raw.to_string();
        let c = Configuration::from_raw(serde_json::from_str(&text).unwrap(), &|_| true).unwrap();
        let vars = BTreeMap::from([("staging_project".to_owned(), json!("acme-staging"))]);
        let key = c
            .provider_of("", "google_cloud_run_v2_service_iam_member.m")
            .unwrap();
        assert_eq!(key, "google.staging");
        assert_eq!(
            c.provider_argument(key, "project", &vars).as_deref(),
            Some("acme-staging")
        );
        // A local is not in plan JSON: unknown, never the default provider's region.
        assert_eq!(c.provider_argument(key, "region", &vars), None);
        // A child module's inherited key that provider_config does not list.
        assert_eq!(
            c.provider_argument("module.a.module.b:google", "project", &vars)
                .as_deref(),
            Some("acme-prod")
        );
        assert_eq!(c.provider_argument("google.other", "project", &vars), None);
        // A resource the configuration does not describe: two google configurations, no answer.
        assert_eq!(c.provider_of("", "google_project_iam_member.x"), None);
    }

    #[test]
    fn sensitivity_follows_variables_and_outputs() {
        let raw = json!({
            "root_module": {
                "variables": {"secret": {"sensitive": true}, "plain": {}},
                "module_calls": {"m": {
                    "expressions": {"inner": {"references": ["var.plain"]}},
                    "module": {
                        "variables": {"inner": {}, "hidden": {"default": "x", "sensitive": true}},
                        "outputs": {"out": {"expression": {"references": ["var.inner"]}, "sensitive": true},
                                    "open": {"expression": {"references": ["var.inner"]}},
                                    "from_hidden": {"expression": {"references": ["var.hidden"]}}}
                    }
                }}
            }
        });
        let text = raw.to_string();
        let c = Configuration::from_raw(serde_json::from_str(&text).unwrap(), &|_| true).unwrap();
        let vars = BTreeMap::from([
            ("secret".to_owned(), json!("s")),
            ("plain".to_owned(), json!("p")),
        ]);
        let sensitive =
            |refs: &[&str]| match &c.resolve(&[], &json!({"references": refs}), None, &vars)[..] {
                [Origin::Constant { sensitive, .. }] => *sensitive,
                other => panic!("{other:?}"),
            };
        assert!(sensitive(&["var.secret"]));
        assert!(!sensitive(&["var.plain"]));
        assert!(sensitive(&["module.m.out", "module.m"]));
        assert!(!sensitive(&["module.m.open", "module.m"]));
        assert!(sensitive(&["module.m.from_hidden", "module.m"]));
    }
}
