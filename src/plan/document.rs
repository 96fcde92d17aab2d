//! The document's single pass: its top-level keys, with each `resource_changes` entry's head
//! handed on as soon as it is read, so that wanted entries are projected and taken in on another
//! thread while this one scans the rest of the document (see [`super::parse`]).

use std::borrow::Cow;
use std::sync::mpsc::SyncSender;

use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use super::configuration::RawConfiguration;
use super::entry::EntryHead;
use super::prior_state::PriorState;

/// The top-level keys that the parser reads. `resource_changes` is not kept: its entries went
/// to the head channel.
#[derive(Default)]
pub(super) struct Document<'a> {
    pub format_version: Option<Value>,
    pub terraform_version: Option<Value>,
    /// `resource_changes` is present and not `null`.
    pub has_resource_changes: bool,
    pub prior_state: Option<PriorState<'a>>,
    pub configuration: Option<RawConfiguration<'a>>,
    pub variables: Option<&'a RawValue>,
    pub planned_values: Option<&'a RawValue>,
    pub errored: Option<bool>,
    pub complete: Option<bool>,
    pub deferred_changes: Option<Vec<&'a RawValue>>,
    /// Present in state documents, absent in plans.
    pub values: Option<&'a RawValue>,
}

/// Reads a [`Document`], sending each `resource_changes` head, in order, to `heads`. When the
/// receiver has stopped (it met an entry that is not a plan's), the rest are still scanned, so
/// that a JSON error later in the document is reported as such.
pub(super) struct DocumentSeed<'s, 'a> {
    pub heads: &'s SyncSender<Vec<EntryHead<'a>>>,
}

/// How many heads go to the other thread at a time: one hand-over per head woke that thread
/// up for every entry, which cost more than the scan gained.
pub(super) const HEADS_PER_BATCH: usize = 64;

impl<'de: 'a, 'a> DeserializeSeed<'de> for DocumentSeed<'_, 'a> {
    type Value = Document<'a>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Document<'a>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for DocumentSeed<'_, 'a> {
    type Value = Document<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a plan document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document<'a>, A::Error> {
        let mut doc = Document::default();
        // A key given twice is refused by name, as serde's derived readers do.
        let mut seen: Vec<&'static str> = Vec::new();
        while let Some(key) = map.next_key::<Cow<'a, str>>()? {
            let name: &'static str = match key.as_ref() {
                "format_version" => "format_version",
                "terraform_version" => "terraform_version",
                "resource_changes" => "resource_changes",
                "prior_state" => "prior_state",
                "configuration" => "configuration",
                "variables" => "variables",
                "planned_values" => "planned_values",
                "errored" => "errored",
                "complete" => "complete",
                "deferred_changes" => "deferred_changes",
                "values" => "values",
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if seen.contains(&name) {
                return Err(A::Error::duplicate_field(name));
            }
            seen.push(name);
            match name {
                "format_version" => doc.format_version = map.next_value()?,
                "terraform_version" => doc.terraform_version = map.next_value()?,
                "resource_changes" => {
                    doc.has_resource_changes = map.next_value_seed(Heads(self.heads))?;
                }
                "prior_state" => doc.prior_state = map.next_value()?,
                "configuration" => doc.configuration = map.next_value()?,
                "variables" => doc.variables = map.next_value()?,
                "planned_values" => doc.planned_values = map.next_value()?,
                "errored" => doc.errored = map.next_value()?,
                "complete" => doc.complete = map.next_value()?,
                "deferred_changes" => doc.deferred_changes = map.next_value()?,
                _ => doc.values = map.next_value()?,
            }
        }
        Ok(doc)
    }
}

/// `resource_changes`: `null`, or an array whose entries' heads are sent on in batches, in
/// order; `true` for an array.
struct Heads<'s, 'a>(&'s SyncSender<Vec<EntryHead<'a>>>);

impl<'de: 'a, 'a> DeserializeSeed<'de> for Heads<'_, 'a> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for Heads<'_, 'a> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_none<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut batch = Vec::with_capacity(HEADS_PER_BATCH);
        while let Some(head) = seq.next_element::<EntryHead<'a>>()? {
            batch.push(head);
            if batch.len() == HEADS_PER_BATCH {
                // A closed receiver wants no more heads; the scan goes on regardless.
                let full = std::mem::replace(&mut batch, Vec::with_capacity(HEADS_PER_BATCH));
                let _ = self.0.send(full);
            }
        }
        if !batch.is_empty() {
            let _ = self.0.send(batch);
        }
        Ok(true)
    }
}
