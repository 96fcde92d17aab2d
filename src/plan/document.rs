//! The document's single pass: its top-level keys, with each `resource_changes` entry's head
//! handed on as soon as it is read, so that wanted entries are projected and taken in on another
//! thread while this one scans the rest of the document (see [`super::parse`]).

use std::borrow::Cow;

use serde::Deserialize;
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

impl<'a> Document<'a> {
    /// This part of a document with the keys of `rest`, the part after it: what a split scan's
    /// two readers read ([`super::tail`]), which never both hold a key.
    pub(super) fn merged(self, rest: Document<'a>) -> Document<'a> {
        Document {
            format_version: self.format_version.or(rest.format_version),
            terraform_version: self.terraform_version.or(rest.terraform_version),
            has_resource_changes: self.has_resource_changes || rest.has_resource_changes,
            prior_state: self.prior_state.or(rest.prior_state),
            configuration: self.configuration.or(rest.configuration),
            variables: self.variables.or(rest.variables),
            planned_values: self.planned_values.or(rest.planned_values),
            errored: self.errored.or(rest.errored),
            complete: self.complete.or(rest.complete),
            deferred_changes: self.deferred_changes.or(rest.deferred_changes),
            values: self.values.or(rest.values),
        }
    }
}

/// A top-level key that the parser reads.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Key {
    FormatVersion,
    TerraformVersion,
    ResourceChanges,
    PriorState,
    Configuration,
    Variables,
    PlannedValues,
    Errored,
    Complete,
    DeferredChanges,
    Values,
}

impl Key {
    /// The key named `name`, or `None` for a key the parser skips.
    pub(super) fn named(name: &str) -> Option<Key> {
        Some(match name {
            "format_version" => Key::FormatVersion,
            "terraform_version" => Key::TerraformVersion,
            "resource_changes" => Key::ResourceChanges,
            "prior_state" => Key::PriorState,
            "configuration" => Key::Configuration,
            "variables" => Key::Variables,
            "planned_values" => Key::PlannedValues,
            "errored" => Key::Errored,
            "complete" => Key::Complete,
            "deferred_changes" => Key::DeferredChanges,
            "values" => Key::Values,
            _ => return None,
        })
    }

    /// The key as the document spells it, for the refusal of a key given twice.
    pub(super) fn name(self) -> &'static str {
        match self {
            Key::FormatVersion => "format_version",
            Key::TerraformVersion => "terraform_version",
            Key::ResourceChanges => "resource_changes",
            Key::PriorState => "prior_state",
            Key::Configuration => "configuration",
            Key::Variables => "variables",
            Key::PlannedValues => "planned_values",
            Key::Errored => "errored",
            Key::Complete => "complete",
            Key::DeferredChanges => "deferred_changes",
            Key::Values => "values",
        }
    }
}

/// Where the values of top-level keys are read from: the map that serde walks, or the cursor
/// with which each reader of a split scan walks the members ([`super::tail`]).
pub(super) trait ValueSource<'a> {
    type Error;

    /// The next value, as `T`.
    fn value<T: Deserialize<'a>>(&mut self) -> Result<T, Self::Error>;

    /// `resource_changes`, its entries' heads handed on; `true` for an array.
    fn resource_changes(&mut self) -> Result<bool, Self::Error>;
}

/// Reads the value of `key` from `source` into `doc`. Both sources read each key as the same
/// type, so that a split scan reads what one scan would.
pub(super) fn read_value<'a, S: ValueSource<'a>>(
    doc: &mut Document<'a>,
    key: Key,
    source: &mut S,
) -> Result<(), S::Error> {
    match key {
        Key::FormatVersion => doc.format_version = source.value()?,
        Key::TerraformVersion => doc.terraform_version = source.value()?,
        Key::ResourceChanges => doc.has_resource_changes = source.resource_changes()?,
        Key::PriorState => doc.prior_state = source.value()?,
        Key::Configuration => doc.configuration = source.value()?,
        Key::Variables => doc.variables = source.value()?,
        Key::PlannedValues => doc.planned_values = source.value()?,
        Key::Errored => doc.errored = source.value()?,
        Key::Complete => doc.complete = source.value()?,
        Key::DeferredChanges => doc.deferred_changes = source.value()?,
        Key::Values => doc.values = source.value()?,
    }
    Ok(())
}

/// Reads a [`Document`], handing each `resource_changes` head, in order and in batches, to
/// `heads`. When whoever takes them has stopped (it met an entry that is not a plan's), the
/// rest are still scanned, so that a JSON error later in the document is reported as such.
pub(super) struct DocumentSeed<'s, 'a> {
    pub heads: &'s mut dyn FnMut(Vec<EntryHead<'a>>),
    pub batch: BatchSize,
}

/// When a batch of heads goes to the thread that projects them (on a plan large enough to
/// have one, see `plan::PROJECTED_BESIDE_FROM`): at [`BatchSize::HEADS`] heads, or sooner once
/// its entries' `change` objects reach `bytes`.
///
/// Each hand-over may wake the other thread, which costs a few microseconds here; the last
/// batch is projected after the scan has ended, while this thread waits. Few large batches
/// make that wait long on a smaller plan (a 2 MB plan has about 250 entries: four batches of
/// 64 heads, the last projected entirely after the scan); many small ones pay the wake-up too
/// often on a large plan. The total of the two is least when a batch holds about the square
/// root of (document size × the bytes projected in one wake-up's time); measured on the
/// benchmark's plans, 4 KiB for the latter: batches of 64 KiB at 1 MB, 200 KiB at 10 MB,
/// and the head limit above that.
#[derive(Clone, Copy)]
pub(super) struct BatchSize {
    bytes: usize,
}

impl BatchSize {
    pub(super) const HEADS: usize = 64;

    pub(super) fn for_document(len: usize) -> Self {
        BatchSize {
            bytes: len.saturating_mul(4096).isqrt(),
        }
    }
}

/// Gathers heads into batches of a [`BatchSize`] and hands each on when it is full.
pub(super) struct Batches<'s, 'a> {
    out: &'s mut dyn FnMut(Vec<EntryHead<'a>>),
    size: BatchSize,
    batch: Vec<EntryHead<'a>>,
    bytes: usize,
}

impl<'s, 'a> Batches<'s, 'a> {
    pub(super) fn new(out: &'s mut dyn FnMut(Vec<EntryHead<'a>>), size: BatchSize) -> Self {
        Batches {
            out,
            size,
            batch: Vec::with_capacity(BatchSize::HEADS),
            bytes: 0,
        }
    }

    pub(super) fn push(&mut self, head: EntryHead<'a>) {
        self.bytes += head.change_len();
        self.batch.push(head);
        if self.batch.len() == BatchSize::HEADS || self.bytes >= self.size.bytes {
            let full = std::mem::replace(&mut self.batch, Vec::with_capacity(BatchSize::HEADS));
            (self.out)(full);
            self.bytes = 0;
        }
    }

    /// Hands on the last batch, if it holds any head.
    pub(super) fn finish(self) {
        if !self.batch.is_empty() {
            (self.out)(self.batch);
        }
    }
}

impl<'a> DeserializeSeed<'a> for DocumentSeed<'_, 'a> {
    type Value = Document<'a>;

    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<Document<'a>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'a> Visitor<'a> for DocumentSeed<'_, 'a> {
    type Value = Document<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a plan document")
    }

    fn visit_map<A: MapAccess<'a>>(self, mut map: A) -> Result<Document<'a>, A::Error> {
        let mut doc = Document::default();
        // A key given twice is refused by name, as serde's derived readers do.
        let mut keys: Vec<Key> = Vec::new();
        while let Some(name) = map.next_key::<Cow<'a, str>>()? {
            let Some(key) = Key::named(&name) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if keys.contains(&key) {
                return Err(A::Error::duplicate_field(key.name()));
            }
            keys.push(key);
            let mut source = MapValues {
                map: &mut map,
                heads: &mut *self.heads,
                batch: self.batch,
            };
            read_value(&mut doc, key, &mut source)?;
        }
        Ok(doc)
    }
}

/// The values of the map that serde walks, with where `resource_changes` hands its heads.
struct MapValues<'m, 'a, A> {
    map: &'m mut A,
    heads: &'m mut dyn FnMut(Vec<EntryHead<'a>>),
    batch: BatchSize,
}

impl<'a, A: MapAccess<'a>> ValueSource<'a> for MapValues<'_, 'a, A> {
    type Error = A::Error;

    fn value<T: Deserialize<'a>>(&mut self) -> Result<T, A::Error> {
        self.map.next_value()
    }

    fn resource_changes(&mut self) -> Result<bool, A::Error> {
        self.map.next_value_seed(Heads {
            out: Batches::new(&mut *self.heads, self.batch),
        })
    }
}

/// `resource_changes`: `null`, or an array whose entries' heads are sent on in batches, in
/// order; `true` for an array.
struct Heads<'m, 'a> {
    out: Batches<'m, 'a>,
}

impl<'a> DeserializeSeed<'a> for Heads<'_, 'a> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'a>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'a> Visitor<'a> for Heads<'_, 'a> {
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

    fn visit_some<D: serde::Deserializer<'a>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: SeqAccess<'a>>(mut self, mut seq: A) -> Result<bool, A::Error> {
        while let Some(head) = seq.next_element::<EntryHead<'a>>()? {
            self.out.push(head);
        }
        self.out.finish();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The batches that `resource_changes` of `entries` heads, each with a `change` of about
    /// `change_bytes`, is handed on in, for a document of `document_len` bytes.
    fn batches(entries: usize, change_bytes: usize, document_len: usize) -> Vec<(usize, usize)> {
        let change = format!("{{\"pad\":\"{}\"}}", "x".repeat(change_bytes - 10));
        let items: Vec<String> = (0..entries)
            .map(|i| format!("{{\"address\":\"a.r{i}\",\"type\":\"t\",\"change\":{change}}}"))
            .collect();
        let text = format!("{{\"resource_changes\":[{}]}}", items.join(","));
        let mut batches = Vec::new();
        let seed = DocumentSeed {
            heads: &mut |batch: Vec<EntryHead>| {
                batches.push((batch.len(), batch.iter().map(EntryHead::change_len).sum()))
            },
            batch: BatchSize::for_document(document_len),
        };
        let doc = seed
            .deserialize(&mut serde_json::Deserializer::from_str(&text))
            .expect("a document");
        assert!(doc.has_resource_changes);
        batches
    }

    #[test]
    fn a_small_plan_hands_its_heads_on_in_batches_of_a_few_kilobytes_of_changes() {
        // 1 MB: batches of 64 KiB of changes, so the other thread starts early and the last
        // batch, projected after the scan, is small.
        let limit = BatchSize::for_document(1 << 20).bytes;
        assert_eq!(limit, 64 << 10);
        let sent = batches(125, 4_000, 1 << 20);
        assert_eq!(sent.iter().map(|b| b.0).sum::<usize>(), 125);
        let (last, full) = sent.split_last().unwrap();
        for (heads, bytes) in full {
            assert!(
                *bytes >= limit && *bytes < limit + 4_000,
                "{heads} heads, {bytes} B"
            );
        }
        assert!(last.1 < limit + 4_000);
        assert_eq!(sent.len(), 125 * 4_000 / limit + 1);
    }

    #[test]
    fn a_large_plan_hands_its_heads_on_at_most_64_at_a_time() {
        let sent = batches(200, 100, 1 << 30);
        let sizes: Vec<usize> = sent.iter().map(|b| b.0).collect();
        assert_eq!(sizes, [64, 64, 64, 8]);
    }
}
