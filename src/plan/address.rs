//! Terraform resource instance addresses: `module.a["eu"].module.b[0].google_x.name[2]`.

use std::fmt;

/// A `count` index or a `for_each` key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    Int(i64),
    Str(String),
}

/// One `module.NAME[KEY]` step of a module instance path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    pub name: String,
    pub key: Option<InstanceKey>,
}

/// A parsed resource instance address. It prints exactly as the plan wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// The address as written in the plan (first, so addresses sort by it).
    text: String,
    pub modules: Vec<ModuleStep>,
    pub data: bool,
    pub rtype: String,
    pub name: String,
    pub key: Option<InstanceKey>,
    /// Which object of the instance this is: the current one, a deposed one, or one that the
    /// plan removes from Terraform's management but leaves in the cloud.
    pub object: ObjectKind,
}

/// Which object of a resource instance an address stands for. Configuration references only
/// ever mean the current object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    Current,
    /// A `deposed` object (left over by a `create_before_destroy` replacement), by its key.
    Deposed(String),
    /// The old object of a replacement with `destroy = false`: it stays in the cloud.
    Forgotten,
}

impl Address {
    /// The same instance's deposed object `key`, printed as Terraform prints it.
    pub fn deposed(&self, key: &str) -> Address {
        Address {
            text: format!("{} (deposed object {key})", self.text),
            object: ObjectKind::Deposed(key.to_owned()),
            ..self.clone()
        }
    }

    /// The same instance's old object, left in the cloud by a replacement with
    /// `destroy = false`.
    pub fn forgotten(&self) -> Address {
        Address {
            text: format!("{} (forgotten object)", self.text),
            object: ObjectKind::Forgotten,
            ..self.clone()
        }
    }

    pub fn is_current(&self) -> bool {
        self.object == ObjectKind::Current
    }

    /// Parses an address as Terraform prints it. Returns `None` for anything else.
    pub fn parse(s: &str) -> Option<Address> {
        let mut p = Parser::new(s);
        let mut modules = Vec::new();
        while p.eat("module.") {
            let (name, key) = p.step()?;
            p.expect_dot()?;
            modules.push(ModuleStep {
                name: name.to_owned(),
                key,
            });
        }
        let data = p.eat("data.");
        let rtype = p.ident()?;
        p.expect_dot()?;
        let (name, key) = p.step()?;
        if !p.rest.is_empty() {
            return None;
        }
        Some(Address {
            text: s.to_owned(),
            modules,
            data,
            rtype: rtype.to_owned(),
            name: name.to_owned(),
            key,
            object: ObjectKind::Current,
        })
    }

    /// The module path of the configuration (no instance keys): `module.a.module.b`.
    pub fn config_module(&self) -> String {
        config_module_of(&self.modules)
    }

    /// `type.name` or `data.type.name`, as `configuration` resources are addressed.
    pub fn config_resource(&self) -> String {
        if self.data {
            format!("data.{}.{}", self.rtype, self.name)
        } else {
            format!("{}.{}", self.rtype, self.name)
        }
    }
}

pub fn config_module_of(modules: &[ModuleStep]) -> String {
    modules
        .iter()
        .map(|m| format!("module.{}", m.name))
        .collect::<Vec<_>>()
        .join(".")
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// One dot-separated step of a configuration reference: `name`, `name[0]`, `name["key"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<'a> {
    pub name: &'a str,
    /// The step's literal index; `None` without one, or when its brackets hold something else
    /// (a splat, several indexes).
    pub key: Option<InstanceKey>,
    /// The reference up to the end of this step's name: `google_x.y` for step `y` of
    /// `google_x.y[0].name`.
    pub through: &'a str,
}

/// Splits a configuration reference (`module.a["x"].out`, `data.google_x.y[0].name`) into its
/// steps, with the same reader of names and keys as [`Address::parse`]. Dots inside quoted
/// keys do not split.
pub fn reference_steps(reference: &str) -> Vec<Step<'_>> {
    let mut p = Parser::new(reference);
    let mut steps = Vec::new();
    loop {
        let name = p.until(|c| c == '.' || c == '[');
        let through = p.consumed();
        let mut key = None;
        let mut indexes = 0;
        while p.rest.starts_with('[') {
            indexes += 1;
            let before = p.rest;
            match p.key() {
                Some(k) => key = k,
                None => {
                    p.rest = before;
                    p.skip_brackets();
                    key = None;
                }
            }
        }
        steps.push(Step {
            name,
            key: if indexes == 1 { key } else { None },
            through,
        });
        if !p.eat(".") {
            break;
        }
    }
    steps
}

/// Reads names and `[key]` indexes from the front of an address or a reference.
struct Parser<'a> {
    text: &'a str,
    rest: &'a str,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        Parser { text, rest: text }
    }

    /// The text read so far.
    fn consumed(&self) -> &'a str {
        &self.text[..self.text.len() - self.rest.len()]
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(r) => {
                self.rest = r;
                true
            }
            None => false,
        }
    }

    fn expect_dot(&mut self) -> Option<()> {
        self.eat(".").then_some(())
    }

    /// Everything up to the first character that `stop` accepts, or to the end.
    fn until(&mut self, stop: impl Fn(char) -> bool) -> &'a str {
        let end = self.rest.find(stop).unwrap_or(self.rest.len());
        let (read, rest) = self.rest.split_at(end);
        self.rest = rest;
        read
    }

    fn ident(&mut self) -> Option<&'a str> {
        let id = self.until(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'));
        (!id.is_empty()).then_some(id)
    }

    /// A name and its optional key: `name`, `name[0]`, `name["key"]`.
    fn step(&mut self) -> Option<(&'a str, Option<InstanceKey>)> {
        let name = self.ident()?;
        Some((name, self.key()?))
    }

    /// An optional `[0]` or `["key"]`. `Some(None)` means there was no key.
    fn key(&mut self) -> Option<Option<InstanceKey>> {
        if !self.eat("[") {
            return Some(None);
        }
        let key = if self.rest.starts_with('"') {
            // A JSON string literal; find its end honouring escapes.
            let mut de = serde_json::Deserializer::from_str(self.rest).into_iter::<String>();
            let s = de.next()?.ok()?;
            let used = de.byte_offset();
            self.rest = &self.rest[used..];
            InstanceKey::Str(s)
        } else {
            let end = self.rest.find(']')?;
            let n = self.rest[..end].parse().ok()?;
            self.rest = &self.rest[end..];
            InstanceKey::Int(n)
        };
        self.eat("]").then_some(Some(key))
    }

    /// Skips one `[...]` that holds no literal key (`[*]`), honouring quoted strings.
    fn skip_brackets(&mut self) {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        for (i, c) in self.rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' if in_string => escaped = true,
                '"' => in_string = !in_string,
                '[' if !in_string => depth += 1,
                ']' if !in_string => {
                    depth -= 1;
                    if depth == 0 {
                        self.rest = &self.rest[i + 1..];
                        return;
                    }
                }
                _ => {}
            }
        }
        self.rest = "";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "google_cloud_run_v2_service.api",
            "google_cloud_run_v2_service.api[0]",
            "module.a[\"eu\"].module.b[3].google_x.y[\"k \\\"q\\\"\"]",
            "module.cr.data.google_iam_policy.noauth",
            "module.cronjob-gen2[\"x\"].google_y.z",
        ] {
            let a = Address::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn config_parts() {
        let a = Address::parse("module.a[\"eu\"].module.b[3].data.google_x.y[1]").unwrap();
        assert_eq!(a.config_module(), "module.a.module.b");
        assert_eq!(a.config_resource(), "data.google_x.y");
    }

    #[test]
    fn deposed_and_forgotten_objects_are_other_instances() {
        let a = Address::parse("google_x.y[0]").unwrap();
        let d = a.deposed("1a2b3c4d");
        assert_eq!(d.to_string(), "google_x.y[0] (deposed object 1a2b3c4d)");
        assert_ne!(d, a);
        assert_ne!(a.forgotten(), a);
        assert_eq!(d.config_resource(), a.config_resource());
        assert!(a.is_current() && !d.is_current() && !a.forgotten().is_current());
    }

    #[test]
    fn reference_steps_read_names_and_keys() {
        let steps = reference_steps("module.a[\"x.y\"].data.google_x.y[0].name");
        let names: Vec<&str> = steps.iter().map(|s| s.name).collect();
        assert_eq!(names, ["module", "a", "data", "google_x", "y", "name"]);
        assert_eq!(steps[1].key, Some(InstanceKey::Str("x.y".into())));
        assert_eq!(steps[4].key, Some(InstanceKey::Int(0)));
        assert_eq!(steps[4].through, "module.a[\"x.y\"].data.google_x.y");
        let escaped = reference_steps(r#"google_x.y["a\"].b"].id"#);
        assert_eq!(escaped.len(), 3);
        assert_eq!(escaped[1].key, Some(InstanceKey::Str("a\"].b".into())));
        // A splat or several indexes are no instance key.
        assert_eq!(reference_steps("google_x.y[*].id")[1].key, None);
        assert_eq!(reference_steps("var.m[0][1]")[1].key, None);
        assert_eq!(reference_steps("var.m[0][1]")[1].name, "m");
    }

    #[test]
    fn rejects_garbage() {
        assert!(Address::parse("").is_none());
        assert!(Address::parse("google_x").is_none());
        assert!(Address::parse("google_x.y[").is_none());
        assert!(Address::parse("google_x.y trailing").is_none());
    }
}
