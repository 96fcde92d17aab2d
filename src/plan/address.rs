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
        let mut p = Parser { rest: s };
        let mut modules = Vec::new();
        while p.eat("module.") {
            let name = p.ident()?;
            let key = p.key()?;
            p.expect_dot()?;
            modules.push(ModuleStep { name, key });
        }
        let data = p.eat("data.");
        let rtype = p.ident()?;
        p.expect_dot()?;
        let name = p.ident()?;
        let key = p.key()?;
        if !p.rest.is_empty() {
            return None;
        }
        Some(Address {
            text: s.to_owned(),
            modules,
            data,
            rtype,
            name,
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

struct Parser<'a> {
    rest: &'a str,
}

impl Parser<'_> {
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

    fn ident(&mut self) -> Option<String> {
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return None;
        }
        let (id, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(id.to_owned())
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
    fn rejects_garbage() {
        assert!(Address::parse("").is_none());
        assert!(Address::parse("google_x").is_none());
        assert!(Address::parse("google_x.y[").is_none());
        assert!(Address::parse("google_x.y trailing").is_none());
    }
}
