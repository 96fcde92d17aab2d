//! Tri-state access to one side of a resource change.
//!
//! Terraform omits an attribute that is unknown at plan time from `after` and marks it `true` in
//! `after_unknown` (a wholly unknown block is `true` at the block's key, an unknown list element
//! is `null` in `after` and `true` in `after_unknown`). [`Node`] walks `after` and `after_unknown`
//! (and the `*_sensitive` mask) in step, so every read says whether the value is known, unknown
//! or absent, and a value of the wrong JSON type is an error rather than a silent default.

use std::fmt;
use std::rc::Rc;

use serde_json::Value;

/// A value that is known, unknown until apply, or absent (unset / null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tri<T> {
    Known(T),
    Unknown,
    Absent,
}

impl<T> Tri<T> {
    pub fn known(self) -> Option<T> {
        match self {
            Tri::Known(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Tri::Unknown)
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Tri<U> {
        match self {
            Tri::Known(v) => Tri::Known(f(v)),
            Tri::Unknown => Tri::Unknown,
            Tri::Absent => Tri::Absent,
        }
    }
}

impl Tri<&str> {
    pub fn owned(self) -> Tri<String> {
        self.map(str::to_owned)
    }
}

/// An attribute of the wrong JSON type where runguard needs to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeMismatch {
    pub path: String,
    pub expected: &'static str,
    pub found: &'static str,
}

impl fmt::Display for TypeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is {} where {} was expected",
            self.path, self.found, self.expected
        )
    }
}

impl std::error::Error for TypeMismatch {}

pub type Read<T> = Result<Tri<T>, TypeMismatch>;

/// A position inside one side of a change: the value, its unknown mask and its sensitive mask.
#[derive(Clone)]
pub struct Node<'v> {
    value: Option<&'v Value>,
    unknown: Mask<'v>,
    sensitive: Mask<'v>,
    path: Path<'v>,
    /// Set when the path walked through a value of the wrong type (a string where a block
    /// was expected): every read below reports it, instead of reading "absent".
    broken: Option<Box<TypeMismatch>>,
}

/// Where a node sits below its root (`template[0].service_account`), for error messages: a
/// chain of steps shared with the parent, so that walking down the thousands of nodes of a
/// large plan writes no text; the path is spelled out only when a read fails.
#[derive(Clone, Default)]
struct Path<'v>(Option<Rc<Step<'v>>>);

struct Step<'v> {
    parent: Path<'v>,
    segment: Segment<'v>,
}

enum Segment<'v> {
    Key(&'v str),
    Index(usize),
}

impl<'v> Path<'v> {
    fn then(&self, segment: Segment<'v>) -> Self {
        Path(Some(Rc::new(Step {
            parent: self.clone(),
            segment,
        })))
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(step) = &self.0 else {
            return Ok(());
        };
        // Recursion as deep as the path: a handful of levels in any provider schema.
        step.parent.fmt(f)?;
        match step.segment {
            Segment::Key(k) if step.parent.0.is_none() => f.write_str(k),
            Segment::Key(k) => write!(f, ".{k}"),
            Segment::Index(i) => write!(f, "[{i}]"),
        }
    }
}

#[derive(Clone, Copy)]
enum Mask<'v> {
    /// The whole subtree is marked (`true` at an ancestor).
    All,
    /// Nothing below is marked.
    None,
    /// Mirror the structure further down.
    At(&'v Value),
}

impl<'v> Mask<'v> {
    fn of(v: Option<&'v Value>) -> Self {
        match v {
            Some(Value::Bool(true)) => Mask::All,
            Some(v @ (Value::Object(_) | Value::Array(_))) => Mask::At(v),
            None | Some(Value::Null | Value::Bool(false)) => Mask::None,
            // A mask of the wrong type is read the safe way: unknown is never taken as known,
            // sensitive never printed. The plan stage reports a malformed top-level mask.
            Some(Value::String(_) | Value::Number(_)) => Mask::All,
        }
    }

    fn key(self, k: &str) -> Self {
        match self {
            Mask::At(Value::Object(m)) => Mask::of(m.get(k)),
            Mask::At(_) | Mask::None => Mask::None,
            Mask::All => Mask::All,
        }
    }

    fn index(self, i: usize) -> Self {
        match self {
            Mask::At(Value::Array(a)) => Mask::of(a.get(i)),
            Mask::At(_) | Mask::None => Mask::None,
            Mask::All => Mask::All,
        }
    }

    fn is_set(self) -> bool {
        matches!(self, Mask::All)
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'v> Node<'v> {
    /// The root of one side: `value` is `before` or `after`, `unknown` is `after_unknown` (or
    /// nothing for `before`), `sensitive` the matching `*_sensitive` mask.
    pub fn root(
        value: &'v Value,
        unknown: Option<&'v Value>,
        sensitive: Option<&'v Value>,
    ) -> Self {
        Node {
            value: Some(value),
            unknown: Mask::of(unknown),
            sensitive: Mask::of(sensitive),
            path: Path::default(),
            broken: None,
        }
    }

    /// The attribute `k` of this object. Keys are the schema's names, or an object's own keys
    /// ([`Node::entries`]), so they live as long as the plan's values.
    pub fn key(&self, k: &'v str) -> Node<'v> {
        let path = self.path.then(Segment::Key(k));
        let child = match self.value {
            Some(Value::Object(m)) => Ok(m.get(k)),
            other => Err(("an object", other)),
        };
        self.descend(child, self.unknown.key(k), self.sensitive.key(k), path)
    }

    pub fn index(&self, i: usize) -> Node<'v> {
        let child = match self.value {
            Some(Value::Array(a)) => Ok(a.get(i)),
            other => Err(("an array", other)),
        };
        let path = self.path.then(Segment::Index(i));
        self.descend(child, self.unknown.index(i), self.sensitive.index(i), path)
    }

    /// One step down. `child` is the value there, or — when this value is not of the container
    /// type the step needs — what was expected: null is simply absent, anything else breaks
    /// every read below.
    fn descend(
        &self,
        child: Result<Option<&'v Value>, (&'static str, Option<&'v Value>)>,
        unknown: Mask<'v>,
        sensitive: Mask<'v>,
        path: Path<'v>,
    ) -> Node<'v> {
        let (value, broken) = match child {
            Ok(v) => (v, None),
            Err((_, None | Some(Value::Null))) => (None, None),
            Err((expected, Some(found))) => (None, Some(Box::new(self.mismatch(expected, found)))),
        };
        Node {
            value,
            unknown,
            sensitive,
            path,
            broken: self.broken.clone().or(broken),
        }
    }

    /// The first element of a single-item nested block (`template[0]`, `metadata[0]`).
    pub fn first(&self, k: &'v str) -> Node<'v> {
        self.key(k).index(0)
    }

    /// Where this node sits, as `template[0].service_account`.
    pub fn path(&self) -> String {
        self.path.to_string()
    }

    pub fn is_unknown(&self) -> bool {
        self.unknown.is_set()
    }

    pub fn is_sensitive(&self) -> bool {
        self.sensitive.is_set()
    }

    /// The error for a required attribute that is null or missing.
    pub fn required(&self, expected: &'static str) -> TypeMismatch {
        TypeMismatch {
            path: self.path(),
            expected,
            found: "null",
        }
    }

    fn mismatch(&self, expected: &'static str, found: &Value) -> TypeMismatch {
        TypeMismatch {
            path: self.path(),
            expected,
            found: type_name(found),
        }
    }

    /// Known value, unknown, or absent; `f` converts a non-null value or reports its type.
    fn read<T>(&self, expected: &'static str, f: impl FnOnce(&'v Value) -> Option<T>) -> Read<T> {
        if let Some(e) = &self.broken {
            return Err((**e).clone());
        }
        if self.is_unknown() {
            return Ok(Tri::Unknown);
        }
        match self.value {
            None | Some(Value::Null) => Ok(Tri::Absent),
            Some(v) => f(v)
                .map(Tri::Known)
                .ok_or_else(|| self.mismatch(expected, v)),
        }
    }

    pub fn str(&self) -> Read<&'v str> {
        self.read("a string", Value::as_str)
    }

    /// A string that is absent when empty: the provider stores unset optional strings as `""`.
    pub fn non_empty_str(&self) -> Read<&'v str> {
        Ok(match self.str()? {
            Tri::Known("") => Tri::Absent,
            other => other,
        })
    }

    pub fn bool(&self) -> Read<bool> {
        self.read("a boolean", Value::as_bool)
    }

    /// The entries of a map (`environment_variables`), by key, sorted. An entry whose value is
    /// unknown at plan time is left out of the map and marked in `after_unknown`: its key
    /// still names an entry, whose value reads as unknown.
    pub fn entries(&self) -> Read<Vec<(&'v str, Node<'v>)>> {
        let unknown_keys: Vec<&'v str> = match self.unknown {
            Mask::At(Value::Object(u)) => u.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        self.read("an object", Value::as_object).map(|t| {
            t.map(|m| {
                let mut keys: Vec<&'v str> = m.keys().map(String::as_str).collect();
                keys.extend(unknown_keys.iter().filter(|k| !m.contains_key(**k)));
                keys.sort_unstable();
                keys.into_iter().map(|k| (k, self.key(k))).collect()
            })
        })
    }

    /// The elements of a list, set or nested block.
    pub fn items(&self) -> Read<Vec<Node<'v>>> {
        self.read("an array", Value::as_array)
            .map(|t| t.map(|a| (0..a.len()).map(|i| self.index(i)).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_map_entry_unknown_at_plan_time_is_still_an_entry() {
        let after = json!({"env": {"MODE": "fast"}});
        let unknown = json!({"env": {"TOKEN": true}});
        let root = Node::root(&after, Some(&unknown), None);
        let entries = root.key("env").entries().unwrap().known().unwrap();
        let keys: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["MODE", "TOKEN"]);
        assert_eq!(entries[1].1.str(), Ok(Tri::Unknown));
    }

    #[test]
    fn unknown_leaf_is_unknown_even_when_omitted() {
        let after = json!({"template": [{"containers": []}]});
        let unknown = json!({"template": [{"service_account": true}]});
        let root = Node::root(&after, Some(&unknown), None);
        assert_eq!(
            root.first("template").key("service_account").str(),
            Ok(Tri::Unknown)
        );
        assert_eq!(root.key("ingress").str(), Ok(Tri::Absent));
    }

    #[test]
    fn unknown_block_makes_children_unknown() {
        let after = json!({});
        let unknown = json!({"metadata": true});
        let root = Node::root(&after, Some(&unknown), None);
        let ann = root.first("metadata").key("annotations");
        assert_eq!(
            ann.key("run.googleapis.com/ingress").str(),
            Ok(Tri::Unknown)
        );
    }

    #[test]
    fn unknown_list_element() {
        let after = json!({"members": ["allUsers", null]});
        let unknown = json!({"members": [false, true]});
        let root = Node::root(&after, Some(&unknown), None);
        let items = root.key("members").items().unwrap().known().unwrap();
        assert_eq!(items[0].str(), Ok(Tri::Known("allUsers")));
        assert_eq!(items[1].str(), Ok(Tri::Unknown));
    }

    #[test]
    fn wrong_type_is_an_error_with_path() {
        let after = json!({"template": [{"service_account": 7}]});
        let root = Node::root(&after, None, None);
        let err = root
            .first("template")
            .key("service_account")
            .str()
            .unwrap_err();
        assert_eq!(err.path, "template[0].service_account");
        assert_eq!(err.found, "a number");
    }

    #[test]
    fn a_block_of_the_wrong_type_breaks_every_read_below_it() {
        let after = json!({"template": "oops", "labels": {"a": "b"}});
        let root = Node::root(&after, None, None);
        let err = root
            .first("template")
            .key("service_account")
            .str()
            .unwrap_err();
        assert_eq!(err.path, "template");
        assert_eq!(err.expected, "an array");
        assert_eq!(err.found, "a string");
        // Walking into null is still just absent.
        let after = json!({"template": null});
        let root = Node::root(&after, None, None);
        assert_eq!(
            root.first("template").key("service_account").str(),
            Ok(Tri::Absent)
        );
    }

    #[test]
    fn sensitive_mask() {
        let after = json!({"private_key": "secret"});
        let sens = json!({"private_key": true});
        let root = Node::root(&after, None, Some(&sens));
        assert!(root.key("private_key").is_sensitive());
    }
}
