//! Reading one `resource_changes` entry: its head (address, type, deposed key, raw change)
//! taken in the document's single pass, the check that it has a plan's structure, and the
//! projection of a wanted entry's change.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::strip_position;
use super::*;

/// The parts of a `resource_changes` entry needed to decide whether to read it, taken in the
/// same pass that scans the document: `change` stays raw until the type is known to be wanted.
/// An entry that is not an object is kept as such, so that the refusal can name it.
#[derive(Default)]
pub(super) struct EntryHead<'a> {
    address: Option<&'a RawValue>,
    rtype: Option<&'a RawValue>,
    deposed: Option<&'a RawValue>,
    change: Option<&'a RawValue>,
    not_an_object: bool,
    duplicate_key: Option<String>,
}

impl EntryHead<'_> {
    /// The length of the entry's raw `change`: what projecting it costs, roughly.
    pub(super) fn change_len(&self) -> usize {
        self.change.map_or(0, |c| c.get().len())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for EntryHead<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(HeadVisitor(std::marker::PhantomData))
    }
}

pub(super) struct HeadVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'a> HeadVisitor<'a> {
    fn other<E>(self) -> Result<EntryHead<'a>, E> {
        Ok(EntryHead {
            not_an_object: true,
            ..EntryHead::default()
        })
    }
}

impl<'de: 'a, 'a> serde::de::Visitor<'de> for HeadVisitor<'a> {
    type Value = EntryHead<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a resource change")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<EntryHead<'a>, A::Error> {
        let mut head = EntryHead::default();
        while let Some(key) = map.next_key::<Cow<'a, str>>()? {
            let slot = match key.as_ref() {
                "address" => &mut head.address,
                "type" => &mut head.rtype,
                "deposed" => &mut head.deposed,
                "change" => &mut head.change,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                head.duplicate_key = Some(key.into_owned());
            }
            *slot = Some(map.next_value()?);
        }
        Ok(head)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> Result<EntryHead<'a>, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        self.other()
    }

    fn visit_bool<E>(self, _: bool) -> Result<EntryHead<'a>, E> {
        self.other()
    }

    fn visit_i64<E>(self, _: i64) -> Result<EntryHead<'a>, E> {
        self.other()
    }

    fn visit_u64<E>(self, _: u64) -> Result<EntryHead<'a>, E> {
        self.other()
    }

    fn visit_f64<E>(self, _: f64) -> Result<EntryHead<'a>, E> {
        self.other()
    }

    fn visit_str<E>(self, _: &str) -> Result<EntryHead<'a>, E> {
        self.other()
    }

    fn visit_unit<E>(self) -> Result<EntryHead<'a>, E> {
        self.other()
    }
}

/// A wanted entry's `change`, read in one pass: each value part goes straight through its
/// type's projection ([`strict::Projected`], where a duplicate key makes the entry unreadable),
/// without first being scanned as raw JSON.
#[derive(Default)]
struct ChangeBody {
    actions: Option<Vec<String>>,
    before: Option<Value>,
    after: Option<Value>,
    after_unknown: Option<Value>,
    before_sensitive: Option<Value>,
    after_sensitive: Option<Value>,
}

/// Reads a [`ChangeBody`] through `projection`.
struct ChangeSeed<'p>(&'p Projection);

impl<'de> serde::de::DeserializeSeed<'de> for ChangeSeed<'_> {
    type Value = ChangeBody;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<ChangeBody, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ChangeSeed<'_> {
    type Value = ChangeBody;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a resource change's `change` object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ChangeBody, A::Error> {
        use serde::de::Error as _;
        let mut body = ChangeBody::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let (name, part): (&'static str, &mut Option<Value>) = match key.as_ref() {
                "actions" => {
                    if body.actions.is_some() {
                        return Err(A::Error::duplicate_field("actions"));
                    }
                    body.actions = Some(map.next_value()?);
                    continue;
                }
                "before" => ("before", &mut body.before),
                "after" => ("after", &mut body.after),
                "after_unknown" => ("after_unknown", &mut body.after_unknown),
                "before_sensitive" => ("before_sensitive", &mut body.before_sensitive),
                "after_sensitive" => ("after_sensitive", &mut body.after_sensitive),
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    continue;
                }
            };
            if part.is_some() {
                return Err(A::Error::duplicate_field(name));
            }
            *part = Some(map.next_value_seed(strict::Projected(self.0))?);
        }
        if body.actions.is_none() {
            return Err(A::Error::missing_field("actions"));
        }
        Ok(body)
    }
}

pub(super) type EntryError = (Option<String>, String);

/// An entry that is not an object, or whose `change` is not one, is not a malformed resource
/// but a document that is not a plan: refusing it is the only safe answer, since reporting it as
/// an empty plan would pass the gate.
pub(super) fn structure_error(i: usize, head: &EntryHead) -> Option<String> {
    if head.not_an_object {
        return Some(format!("`resource_changes[{i}]` is not an object"));
    }
    match head.change {
        Some(raw) if !raw.get().trim_start().starts_with('{') => {
            Some(format!("`resource_changes[{i}].change` is not an object"))
        }
        _ => None,
    }
}

pub(super) fn read_entry(
    head: &EntryHead,
    wanted: &Wanted,
) -> Result<Option<ResourceChange>, EntryError> {
    let text =
        |raw: Option<&RawValue>| raw.and_then(|r| serde_json::from_str::<Cow<str>>(r.get()).ok());
    let address_text = text(head.address);
    let Some(rtype) = text(head.rtype) else {
        return Err((
            address_text.map(Cow::into_owned),
            "entry has no `type` string".into(),
        ));
    };
    let Some(projection) = wanted(&rtype) else {
        return Ok(None);
    };
    if let Some(key) = &head.duplicate_key {
        return Err((
            address_text.map(Cow::into_owned),
            format!("duplicate key `{key}`"),
        ));
    }
    let address_text =
        address_text.ok_or((None, format!("a `{rtype}` entry has no `address` string")))?;
    let mut address = Address::parse(&address_text).ok_or_else(|| {
        (
            Some(address_text.to_string()),
            "the address cannot be parsed".to_string(),
        )
    })?;
    // A deposed object is an instance of its own, never the current object.
    if let Some(raw) = head.deposed {
        match serde_json::from_str::<Cow<str>>(raw.get()) {
            Ok(key) => address = address.deposed(&key),
            Err(_) => {
                return Err((
                    Some(address_text.to_string()),
                    "`deposed` is not a string".into(),
                ));
            }
        }
    }
    let fail = |reason: String| (Some(address_text.to_string()), reason);
    let change = head
        .change
        .ok_or_else(|| fail("entry has no `change`".into()))?;
    let body = serde::de::DeserializeSeed::deserialize(
        ChangeSeed(projection),
        &mut serde_json::Deserializer::from_str(change.get()),
    )
    .map_err(|e| {
        fail(format!(
            "`change` is malformed: {}",
            strip_position(&e.to_string())
        ))
    })?;
    let actions = body.actions.unwrap_or_default();
    let action = Action::from_actions(&actions)
        .ok_or_else(|| fail(format!("unrecognised actions {actions:?}")))?;
    // Masks mirror the value: an object, or a boolean for the whole of it.
    for (name, mask) in [
        ("after_unknown", &body.after_unknown),
        ("before_sensitive", &body.before_sensitive),
        ("after_sensitive", &body.after_sensitive),
    ] {
        if matches!(mask, Some(Value::Number(_) | Value::String(_))) {
            return Err(fail(format!(
                "`change.{name}` is not an object or a boolean"
            )));
        }
    }
    Ok(Some(ResourceChange {
        address,
        action,
        before: body.before,
        after: body.after,
        after_unknown: body.after_unknown,
        before_sensitive: body.before_sensitive,
        after_sensitive: body.after_sensitive,
    }))
}
