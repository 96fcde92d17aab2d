//! The document's single pass: its top-level keys, with each `resource_changes` entry's head
//! handed on as soon as it is read, so that wanted entries are projected and taken in on another
//! thread while this one scans the rest of the document (see [`super::parse`]).

use std::borrow::Cow;

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
                    doc.has_resource_changes = map.next_value_seed(Heads {
                        out: &mut *self.heads,
                        size: self.batch,
                    })?;
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
struct Heads<'s, 'a> {
    out: &'s mut dyn FnMut(Vec<EntryHead<'a>>),
    size: BatchSize,
}

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
        let mut batch = Vec::with_capacity(BatchSize::HEADS);
        let mut bytes = 0;
        while let Some(head) = seq.next_element::<EntryHead<'a>>()? {
            bytes += head.change_len();
            batch.push(head);
            if batch.len() == BatchSize::HEADS || bytes >= self.size.bytes {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BatchSize::HEADS));
                (self.out)(full);
                bytes = 0;
            }
        }
        if !batch.is_empty() {
            (self.out)(batch);
        }
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
