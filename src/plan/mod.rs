//! The Terraform JSON plan format, and nothing Google-specific.
//!
//! [`parse`] reads a `terraform show -json` document once. It fully deserializes only the
//! `resource_changes` entries whose type the caller asks for (and the `google_iam_policy`-style
//! data sources of `prior_state` likewise); everything else is skipped as borrowed raw JSON
//! without building trees.

pub mod address;
pub mod configuration;
mod document;
mod entry;
pub mod error;
mod prior_state;
pub mod sniff;
pub mod strict;
mod tail;
pub mod value;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use document::{BatchSize, Document, DocumentSeed};
use entry::{EntryHead, read_entry, structure_error};
use error::{json_error, strip_position};
use prior_state::read_prior_data;

pub use address::Address;
pub use configuration::Configuration;
pub use error::InputError;
pub use strict::Projection;
pub use value::{Node, Tri, TypeMismatch};

/// What a resource change does, as Terraform's `actions` array says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// Nothing changes.
    NoOp,
    /// Created.
    Create,
    /// A data source read during apply.
    Read,
    /// Updated in place.
    Update,
    /// Destroyed and created again, in either order.
    Replace,
    /// A replacement with `destroy = false`: the old object leaves Terraform's management and
    /// stays in the cloud; a new one is created.
    CreateThenForget,
    /// Destroyed.
    Delete,
    /// Removed from state but not destroyed.
    Forget,
}

impl Action {
    fn from_actions(actions: &[String]) -> Option<Action> {
        let a: Vec<&str> = actions.iter().map(String::as_str).collect();
        Some(match a.as_slice() {
            ["no-op"] => Action::NoOp,
            ["create"] => Action::Create,
            ["read"] => Action::Read,
            ["update"] => Action::Update,
            ["delete", "create"] | ["create", "delete"] => Action::Replace,
            // Terraform writes create-then-forget, OpenTofu forget-then-create.
            ["create", "forget"] | ["forget", "create"] => Action::CreateThenForget,
            ["delete"] => Action::Delete,
            ["forget"] => Action::Forget,
            _ => return None,
        })
    }

    /// The spelling used in the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::NoOp => "no-op",
            Action::Create => "create",
            Action::Read => "read",
            Action::Update => "update",
            Action::Replace | Action::CreateThenForget => "replace",
            Action::Delete => "delete",
            Action::Forget => "forget",
        }
    }
}

/// One entry of `resource_changes` whose type the analysis reads.
#[derive(Debug)]
pub struct ResourceChange {
    /// The instance address; for a deposed object, that object's own address.
    pub address: Address,
    pub action: Action,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub after_unknown: Option<Value>,
    pub before_sensitive: Option<Value>,
    pub after_sensitive: Option<Value>,
}

impl ResourceChange {
    /// The state before the plan, or `None` when the object does not exist yet.
    pub fn before_node(&self) -> Option<Node<'_>> {
        match self.action {
            Action::Create | Action::Read => None,
            _ => self
                .before
                .as_ref()
                .filter(|v| !v.is_null())
                .map(|v| Node::root(v, None, self.before_sensitive.as_ref())),
        }
    }

    /// The state after the plan, or `None` when the object is gone. A forgotten object keeps
    /// running outside Terraform, so its after-state is its before-state.
    pub fn after_node(&self) -> Option<Node<'_>> {
        match self.action {
            Action::Delete => None,
            Action::Forget => self.before_node(),
            _ => self.after.as_ref().filter(|v| !v.is_null()).map(|v| {
                Node::root(
                    v,
                    self.after_unknown.as_ref(),
                    self.after_sensitive.as_ref(),
                )
            }),
        }
    }
}

/// A data source read while planning, from `prior_state`.
#[derive(Debug)]
pub struct PriorData {
    pub address: Address,
    pub values: Value,
    pub sensitive_values: Option<Value>,
}

/// An entry that could not be read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub address: String,
    pub reason: String,
}

/// The parts of a plan that the analysis reads.
#[derive(Debug)]
pub struct Plan {
    /// Empty when the plan omits it (see `notes`).
    pub format_version: String,
    pub terraform_version: Option<String>,
    pub prior_data: Vec<PriorData>,
    pub configuration: Configuration,
    /// Root module input variables (`variables.NAME.value`).
    pub variables: BTreeMap<String, Value>,
    /// Wanted entries that are malformed where the analysis must read them.
    pub unreadable: Vec<Unreadable>,
    /// Why the plan itself does not describe every change (planning errored, changes were
    /// deferred); empty for a complete plan.
    pub incomplete: Vec<String>,
    /// What the reader should know about how the document was read.
    pub notes: Vec<String>,
}

/// Which resource types to read, and which of their attributes: `None` skips the type.
pub type Wanted = dyn Fn(&str) -> Option<&'static Projection> + Sync;

/// Parses a decoded plan. `wanted` selects the resource types to deserialize; each wanted
/// entry is handed to `sink` as soon as it is read and not kept, so its JSON trees are freed
/// before the next one is built.
///
/// The document is scanned once. On a large document each `resource_changes` entry's head
/// goes, as it is scanned, through a bounded channel to a second thread, which projects the
/// wanted ones and hands them to `sink` in the document's order: the projections and the sink's
/// work overlap the scan of the rest of the document instead of following it. Below
/// [`PROJECTED_BESIDE_FROM`] bytes the heads are kept and projected after the scan. From
/// [`SPLIT_FROM`] bytes a third thread reads the members after `resource_changes` while this one
/// reads those before ([`tail`]).
pub fn parse(
    text: &str,
    wanted: &Wanted,
    sink: &mut (dyn FnMut(ResourceChange) + Send),
) -> Result<Plan, InputError> {
    let threads = if text.len() >= SPLIT_FROM {
        tail::second_part(text).map_or(Threads::Beside, |at| Threads::Split { at })
    } else if text.len() >= PROJECTED_BESIDE_FROM {
        Threads::Beside
    } else {
        Threads::One
    };
    parse_with(text, wanted, sink, threads)
}

/// How a document is scanned and its entries projected.
#[derive(Clone, Copy, Debug)]
enum Threads {
    /// Scanned, then projected, on this thread.
    One,
    /// Projected on a second thread beside the scan.
    Beside,
    /// As [`Threads::Beside`], with a third thread reading the document from the `,` at byte
    /// `at`, if it is between two members.
    Split { at: usize },
}

/// [`parse`], with the threads given.
fn parse_with(
    text: &str,
    wanted: &Wanted,
    sink: &mut (dyn FnMut(ResourceChange) + Send),
    threads: Threads,
) -> Result<Plan, InputError> {
    let (entries, doc) = match threads {
        Threads::One => {
            let mut batches = Vec::new();
            let doc = scan(text, &mut |batch| batches.push(batch));
            (take_entries(batches, wanted, sink), doc)
        }
        Threads::Beside => {
            let (heads, entries) =
                std::sync::mpsc::sync_channel::<Vec<EntryHead>>(HEADS_IN_FLIGHT / BatchSize::HEADS);
            crate::parallel::join(
                move || take_entries(entries, wanted, sink),
                // A closed receiver wants no more heads; the scan goes on regardless. The
                // channel closes when the scan ends, so the other thread ends with the last
                // entry.
                move || scan(text, &mut |batch| drop(heads.send(batch))),
            )
        }
        Threads::Split { at } => {
            let (entries, doc, _) = scan_split(text, at, wanted, sink);
            (entries, doc)
        }
    };
    plan_of(text, entries, doc, wanted)
}

/// The plan from what the scan read and the entries that were taken in.
fn plan_of(
    text: &str,
    entries: Entries,
    doc: Result<Document, serde_json::Error>,
    wanted: &Wanted,
) -> Result<Plan, InputError> {
    let doc = doc.map_err(|e| json_error(text, &e))?;
    let Entries {
        structure_error,
        mut unreadable,
    } = entries;

    if doc.values.is_some() && !doc.has_resource_changes && doc.planned_values.is_none() {
        return Err(InputError::StateFile);
    }
    let format_version = match doc.format_version {
        Some(Value::String(v)) => v,
        Some(_) => {
            return Err(InputError::NotAPlan {
                detail: "`format_version` is not a string".into(),
            });
        }
        // Some tools strip it; `resource_changes` with `planned_values` is still a plan.
        None if doc.has_resource_changes && doc.planned_values.is_some() => String::new(),
        None => {
            return Err(InputError::NotAPlan {
                detail: "there is no `format_version` key".into(),
            });
        }
    };
    let mut notes = Vec::new();
    if format_version.is_empty() {
        notes.push(
            "the plan has no `format_version` (a tool may have removed it); it was read as a \
             `terraform show -json` plan because it has `resource_changes` and `planned_values`"
                .to_owned(),
        );
    }
    let major = format_version.split('.').next().unwrap_or_default();
    if !format_version.is_empty() && major != "0" && major != "1" {
        return Err(InputError::UnsupportedFormat {
            version: format_version,
        });
    }
    if !doc.has_resource_changes && doc.planned_values.is_none() && doc.configuration.is_none() {
        return Err(InputError::NotAPlan {
            detail: "it has no `resource_changes`, `planned_values` or `configuration`".into(),
        });
    }

    if !doc.has_resource_changes && doc.planned_values.is_some_and(has_planned_resources) {
        return Err(InputError::NotAPlan {
            detail: "it lists resources in `planned_values` but has no `resource_changes`, so \
                     before and after cannot be compared (was it cut down by hand?)"
                .into(),
        });
    }
    if let Some(detail) = structure_error {
        return Err(InputError::BadPlanStructure { detail });
    }

    let prior_data = match doc.prior_state {
        Some(state) => read_prior_data(state, wanted, &mut unreadable),
        None => Vec::new(),
    };
    let configuration = match doc.configuration {
        Some(raw) => Configuration::from_raw(raw, &|t| wanted(t).is_some()).map_err(|e| {
            InputError::BadPlanStructure {
                detail: format!("`configuration`: {}", strip_position(&e.to_string())),
            }
        })?,
        None => Configuration::default(),
    };
    let variables = doc
        .variables
        .and_then(|raw| serde_json::from_str::<BTreeMap<String, VariableValue>>(raw.get()).ok())
        .map(|m| m.into_iter().map(|(k, v)| (k, v.value)).collect())
        .unwrap_or_default();
    let terraform_version = match doc.terraform_version {
        Some(Value::String(v)) => Some(v),
        _ => None,
    };

    let mut incomplete = Vec::new();
    if doc.errored == Some(true) {
        incomplete.push("planning errored (`errored: true`): the plan lists only what Terraform planned before the error".to_owned());
    }
    let deferred = doc.deferred_changes.map_or(0, |d| d.len());
    if deferred > 0 {
        incomplete.push(format!("{deferred} change(s) are deferred to a later plan (`deferred_changes`) and are not analysed"));
    } else if doc.complete == Some(false) {
        incomplete.push(
            "the plan is marked `complete: false`: another plan and apply are needed to converge"
                .to_owned(),
        );
    }

    Ok(Plan {
        format_version,
        terraform_version,
        prior_data,
        configuration,
        variables,
        unreadable,
        incomplete,
        notes,
    })
}

/// The document size from which its entries are projected on a second thread beside the scan;
/// below it, one thread scans the document and then projects them. A second thread costs about
/// 100 µs to start and join, and its heap's first pages fault in: at 1 MB that is more than the
/// overlap saves (the bench's 1 MB plan went from 2.17 to 2.03-2.04 times the skip-parse).
const PROJECTED_BESIDE_FROM: usize = 2 << 20;

/// The document size from which two threads scan it ([`tail`]). Starting one costs about 100
/// µs; at 10 MB the second reader takes about 2.3 MB, some 2 ms of reading, off the first (the
/// bench could not tell 10 MB with and without it apart: 1.05-1.39 and 1.12-1.27 times the
/// skip-parse over four runs); from 100 MB on it saved 7 to 60 ms.
const SPLIT_FROM: usize = 8 << 20;

/// Scans the document, handing the `resource_changes` heads to `heads` in batches.
fn scan<'a>(
    text: &'a str,
    heads: &mut dyn FnMut(Vec<EntryHead<'a>>),
) -> Result<Document<'a>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc = serde::de::DeserializeSeed::deserialize(
        DocumentSeed {
            heads,
            batch: BatchSize::for_document(text.len()),
        },
        &mut de,
    )?;
    de.end()?;
    Ok(doc)
}

/// How a split scan read the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SplitRead {
    /// By the two threads ([`tail::Read`]).
    Threads(tail::Read),
    /// Again by one scan, after a thread stopped.
    Again,
}

/// [`parse_with`]'s scan on three threads: this one reads the document from the start, a
/// second from the `,` at `at` to the end, a third projects the entries this one hands on. Then,
/// how it was read.
fn scan_split<'a>(
    text: &'a str,
    at: usize,
    wanted: &Wanted,
    sink: &mut (dyn FnMut(ResourceChange) + Send),
) -> (Entries, Result<Document<'a>, serde_json::Error>, SplitRead) {
    let (heads, entries) =
        std::sync::mpsc::sync_channel::<Vec<EntryHead>>(HEADS_IN_FLIGHT / BatchSize::HEADS);
    let stop = &std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let second = scope.spawn(move || tail::read_rest(text, at, stop));
        let entries = scope.spawn(move || take_entries(entries, wanted, sink));
        let mut sent = 0;
        let first = tail::read_first(
            text,
            &mut |batch| {
                sent += batch.len();
                drop(heads.send(batch));
            },
            tail::Second::new(at, second, stop),
        );
        let (doc, read) = match first {
            Ok((doc, read)) => (Ok(doc), SplitRead::Threads(read)),
            // One scan reads it again: its document or its error is the answer. The heads
            // already handed on are the first it reads, and are not handed on again.
            Err(tail::Stopped) => {
                let mut handed = sent;
                let doc = scan(text, &mut |mut batch| {
                    let again = handed.min(batch.len());
                    batch.drain(..again);
                    handed -= again;
                    if !batch.is_empty() {
                        drop(heads.send(batch));
                    }
                });
                (doc, SplitRead::Again)
            }
        };
        // The projecting thread ends with the last entry once its channel closes.
        drop(heads);
        let entries = entries
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (entries, doc, read)
    })
}

/// For the `parse` fuzz target: parses `text` on one thread, and split where a large plan's
/// second thread would start (or, in a plan without `prior_state`, at the first `,"` from the
/// middle on), and panics if the two disagree in any way.
#[cfg(feature = "fuzzing")]
pub fn assert_split_agrees(text: &str, wanted: &Wanted) {
    let middle = (text.len() / 2..=text.len()).find(|&i| text.is_char_boundary(i));
    let at = tail::prior_state_at(text).or_else(|| {
        let middle = middle?;
        text[middle..].find(",\"").map(|at| middle + at)
    });
    let Some(at) = at else {
        return;
    };
    let mut one = Vec::new();
    let alone = parse_with(text, wanted, &mut |c| one.push(c), Threads::One);
    let mut two = Vec::new();
    let (entries, doc, _) = scan_split(text, at, wanted, &mut |c| two.push(c));
    let split = plan_of(text, entries, doc, wanted);
    assert_same_reading(&alone.map(|p| (p, one)), &split.map(|p| (p, two)), "split");
}

/// Panics, saying `what`, unless `one` and `other` are the same reading of a plan. The
/// configuration is compared as a value: it holds hash maps, whose order of printing differs
/// from one map to the next.
#[cfg(any(test, feature = "fuzzing"))]
fn assert_same_reading(
    one: &Result<(Plan, Vec<ResourceChange>), InputError>,
    other: &Result<(Plan, Vec<ResourceChange>), InputError>,
    what: &str,
) {
    let printed = |read: &Result<(Plan, Vec<ResourceChange>), InputError>| match read {
        Ok((p, changes)) => format!(
            "{:?}",
            (
                (
                    &p.format_version,
                    &p.terraform_version,
                    &p.prior_data,
                    &p.variables
                ),
                (&p.unreadable, &p.incomplete, &p.notes, changes),
            )
        ),
        Err(e) => format!("{e:?}"),
    };
    assert_eq!(printed(one), printed(other), "{what}");
    if let (Ok((one, _)), Ok((other, _))) = (one, other) {
        assert!(one.configuration == other.configuration, "{what}");
    }
}

/// How many entry heads the scan may run ahead of the thread that projects them: enough to keep
/// both threads busy, few enough that memory does not grow with the plan.
const HEADS_IN_FLIGHT: usize = 256;

/// What the entry thread found besides the wanted entries it handed on.
struct Entries {
    /// The first entry, in document order, that shows the document is not a plan.
    structure_error: Option<String>,
    unreadable: Vec<Unreadable>,
}

/// Projects each wanted entry whose head arrives and hands it to `sink`, in order, until the
/// channel closes or an entry shows that the document is not a plan.
fn take_entries<'a>(
    heads: impl IntoIterator<Item = Vec<EntryHead<'a>>>,
    wanted: &Wanted,
    sink: &mut (dyn FnMut(ResourceChange) + Send),
) -> Entries {
    let mut unreadable = Vec::new();
    for (i, head) in heads.into_iter().flatten().enumerate() {
        if let Some(detail) = structure_error(i, &head) {
            return Entries {
                structure_error: Some(detail),
                unreadable,
            };
        }
        match read_entry(&head, wanted) {
            Ok(Some(c)) => sink(c),
            Ok(None) => {}
            Err((address, reason)) => unreadable.push(Unreadable {
                address: address.unwrap_or_else(|| format!("resource_changes[{i}]")),
                reason,
            }),
        }
    }
    Entries {
        structure_error: None,
        unreadable,
    }
}

#[derive(Deserialize, Default)]
struct PlannedModule {
    #[serde(default)]
    resources: Vec<serde::de::IgnoredAny>,
    #[serde(default)]
    child_modules: Vec<PlannedModule>,
}

#[derive(Deserialize)]
struct PlannedValues {
    #[serde(default)]
    root_module: PlannedModule,
}

/// Whether `planned_values` describes any resource (Terraform then always writes
/// `resource_changes` too, no-op entries included).
fn has_planned_resources(raw: &RawValue) -> bool {
    fn any(m: &PlannedModule) -> bool {
        !m.resources.is_empty() || m.child_modules.iter().any(any)
    }
    serde_json::from_str::<PlannedValues>(raw.get()).is_ok_and(|p| any(&p.root_module))
}

#[derive(Deserialize)]
struct VariableValue {
    #[serde(default)]
    value: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn all(_: &str) -> Option<&'static Projection> {
        Some(&Projection::All)
    }

    pub(super) type Parsed = Result<(Plan, Vec<ResourceChange>), InputError>;

    /// Parses and collects the wanted entries, with the entries projected after the scan and
    /// beside it, and with a second thread reading from places between members, which must all
    /// agree.
    pub(super) fn parse_all(text: &str) -> Parsed {
        let [after, beside] = [Threads::One, Threads::Beside].map(|threads| {
            let mut changes = Vec::new();
            parse_with(text, &all, &mut |c| changes.push(c), threads).map(|plan| (plan, changes))
        });
        assert_same_reading(&after, &beside, "beside");
        for at in places(text) {
            let (split, _) = parse_split(text, at);
            assert_same_reading(&after, &split, &format!("split at {at}"));
        }
        after
    }

    /// Where a second thread may start: each `,` before a string (a member's key, or not), 40
    /// of them spread over a document that has more.
    fn places(text: &str) -> Vec<usize> {
        let all: Vec<usize> = text.match_indices(",\"").map(|(at, _)| at).collect();
        let step = all.len().div_ceil(40).max(1);
        all.into_iter().step_by(step).collect()
    }

    /// Parses with a second thread reading from `at`; how the document was read.
    pub(super) fn parse_split(text: &str, at: usize) -> (Parsed, SplitRead) {
        let mut changes = Vec::new();
        let (entries, doc, read) = scan_split(text, at, &all, &mut |c| changes.push(c));
        (
            plan_of(text, entries, doc, &all).map(|plan| (plan, changes)),
            read,
        )
    }

    /// Each top-level key the parser reads is read, whichever way the document is scanned.
    #[test]
    fn each_plan_key_is_read() {
        let read = |members: &str| {
            let text = format!(r#"{{"format_version":"1.2","resource_changes":[]{members}}}"#);
            parse_all(&text).unwrap().0
        };
        assert_eq!(read("").incomplete, Vec::<String>::new());
        let incomplete = read(r#","complete":false"#).incomplete;
        assert!(
            incomplete[0].contains("`complete: false`"),
            "{incomplete:?}"
        );
        let errored = read(r#","errored":true"#).incomplete;
        assert!(errored[0].contains("`errored: true`"), "{errored:?}");
        let deferred = read(r#","deferred_changes":[{},{}],"complete":false"#).incomplete;
        assert_eq!(deferred.len(), 1);
        assert!(
            deferred[0].starts_with("2 change(s) are deferred"),
            "{deferred:?}"
        );
        let versions = read(r#","terraform_version":"1.9.8","variables":{"v":{"value":3}}"#);
        assert_eq!(versions.terraform_version.as_deref(), Some("1.9.8"));
        assert_eq!(versions.variables["v"], 3);
    }

    #[test]
    fn refuses_state_and_future_formats() {
        let state =
            r#"{"format_version":"1.0","terraform_version":"1.9.8","values":{"root_module":{}}}"#;
        assert_eq!(parse_all(state).unwrap_err(), InputError::StateFile);
        let future = r#"{"format_version":"2.0","resource_changes":[]}"#;
        assert!(matches!(
            parse_all(future).unwrap_err(),
            InputError::UnsupportedFormat { .. }
        ));
    }

    #[test]
    fn classifies_json_errors() {
        assert!(matches!(
            parse_all(r#"{"format_version":"1.2","resource_changes":["#).unwrap_err(),
            InputError::Truncated { .. }
        ));
        assert!(matches!(
            parse_all("Terraform will perform").unwrap_err(),
            InputError::NotJson { .. }
        ));
        assert!(matches!(
            parse_all("[1]").unwrap_err(),
            InputError::NotAPlan { .. }
        ));
    }

    #[test]
    fn duplicate_plan_keys_are_refused_by_name() {
        let text = r#"{"format_version":"1.2","resource_changes":[],"resource_changes":[]}"#;
        assert!(matches!(parse_all(text).unwrap_err(),
            InputError::BadPlanStructure { detail } if detail.contains("duplicate field `resource_changes`")));
    }

    #[test]
    fn every_plan_key_given_twice_is_refused_by_name() {
        for key in [
            "format_version",
            "prior_state",
            "configuration",
            "planned_values",
        ] {
            let text = format!(
                r#"{{"format_version":"1.2","resource_changes":[],"{key}":{{}},"{key}":{{}}}}"#
            );
            match parse_all(&text) {
                Err(InputError::BadPlanStructure { detail }) => {
                    assert!(
                        detail.contains(&format!("duplicate field `{key}`")),
                        "{detail}"
                    )
                }
                other => panic!("{key}: {:?}", other.map(|_| ())),
            }
        }
    }

    /// An entry that is not a plan's stops the taking in of entries (on a large plan, another
    /// thread's, beside the scan), but the scan still reaches the end, so broken JSON after it
    /// is reported as broken JSON (what a reader of the file must fix first), and thousands of
    /// entries after it do not wait for a reader that has stopped.
    #[test]
    fn broken_json_after_a_bad_entry_is_reported_as_broken_json() {
        let many =
            vec![r#"{"address":"google_x.a","type":"google_x","change":{}}"#; 5_000].join(",");
        let bad_entry_first =
            format!(r#"{{"format_version":"1.2","resource_changes":[7,{many}]}}"#);
        assert!(matches!(
            parse_all(&bad_entry_first).unwrap_err(),
            InputError::BadPlanStructure { detail } if detail == "`resource_changes[0]` is not an object"
        ));
        let then_broken =
            format!(r#"{{"format_version":"1.2","resource_changes":[7,{many}],"x":tru}}"#);
        assert!(matches!(
            parse_all(&then_broken).unwrap_err(),
            InputError::MalformedJson { .. }
        ));
        let trailing = r#"{"format_version":"1.2","resource_changes":[]} {}"#;
        assert!(matches!(
            parse_all(trailing).unwrap_err(),
            InputError::MalformedJson { .. }
        ));
    }

    /// The sink sees the wanted entries in the document's order, however far the scan runs
    /// ahead of it.
    #[test]
    fn entries_reach_the_sink_in_document_order() {
        let entries: Vec<String> = (0..2_000)
            .map(|i| {
                format!(
                    r#"{{"address":"google_x.r{i}","type":"google_x","change":{{"actions":["create"],"after":{{}}}}}}"#
                )
            })
            .collect();
        let text = format!(
            r#"{{"format_version":"1.2","resource_changes":[{}]}}"#,
            entries.join(",")
        );
        let (_, changes) = parse_all(&text).unwrap();
        let addresses: Vec<String> = changes.iter().map(|c| c.address.to_string()).collect();
        let expected: Vec<String> = (0..2_000).map(|i| format!("google_x.r{i}")).collect();
        assert_eq!(addresses, expected);
    }

    #[test]
    fn duplicate_keys_inside_an_entry_make_it_unreadable() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"google_x.a","type":"google_x","change":{"actions":["create"],"after":{"member":"user:a","member":"allUsers"}}}
        ]}"#;
        let (plan, changes) = parse_all(text).unwrap();
        assert!(changes.is_empty());
        assert!(plan.unreadable[0].reason.contains("duplicate key `member`"));
    }

    #[test]
    fn malformed_entries_are_reported_not_fatal() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"google_x.a","type":"google_x","change":{"actions":"create"}},
            {"address":"google_x.b","type":"google_x","change":{"actions":["create"],"after":{}}}
        ]}"#;
        let (plan, changes) = parse_all(text).unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(plan.unreadable.len(), 1);
        assert_eq!(plan.unreadable[0].address, "google_x.a");
    }

    /// A wanted entry's `change` is read in one pass; each way it can be malformed still makes
    /// that entry unreadable, with the reason, and leaves the others alone.
    #[test]
    fn a_malformed_change_says_what_is_wrong() {
        for (change, reason) in [
            (
                r#"{"actions":["create"],"after":{},"after":{}}"#,
                "`change` is malformed: duplicate field `after`",
            ),
            (
                r#"{"actions":["create"],"actions":["delete"],"after":{}}"#,
                "`change` is malformed: duplicate field `actions`",
            ),
            (
                r#"{"after":{}}"#,
                "`change` is malformed: missing field `actions`",
            ),
            (
                r#"{"actions":["explode"],"after":{}}"#,
                r#"unrecognised actions ["explode"]"#,
            ),
            (
                r#"{"actions":["create"],"after":{},"after_unknown":"yes"}"#,
                "`change.after_unknown` is not an object or a boolean",
            ),
            (
                r#"{"actions":["update"],"before":{},"after":{},"before_sensitive":7}"#,
                "`change.before_sensitive` is not an object or a boolean",
            ),
            (
                r#"{"actions":["create"],"after":{"member":"user:a","member":"allUsers"}}"#,
                "`change` is malformed: duplicate key `member`",
            ),
        ] {
            let text = format!(
                r#"{{"format_version":"1.2","resource_changes":[
                {{"address":"google_x.a","type":"google_x","change":{change}}},
                {{"address":"google_x.b","type":"google_x","change":{{"actions":["create"],"after":{{}},"after_unknown":true,"after_sensitive":false}}}}]}}"#
            );
            let (plan, changes) = parse_all(&text).unwrap();
            assert_eq!(plan.unreadable.len(), 1, "{change}");
            assert_eq!(plan.unreadable[0].address, "google_x.a");
            assert_eq!(plan.unreadable[0].reason, reason, "{change}");
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].address.to_string(), "google_x.b");
        }
    }

    #[test]
    fn entries_or_changes_that_are_not_objects_are_not_a_plan() {
        for (text, detail) in [
            (
                r#"{"format_version":"1.2","resource_changes":[{"address":"a.b","type":"a","change":{}}, 7]}"#,
                "`resource_changes[1]` is not an object",
            ),
            (
                r#"{"format_version":"1.2","resource_changes":[{"address":"a.b","type":"unread","change":"create"}]}"#,
                "`resource_changes[0].change` is not an object",
            ),
        ] {
            match parse_all(text) {
                Err(InputError::BadPlanStructure { detail: d }) => assert_eq!(d, detail),
                other => panic!("{text}: {:?}", other.map(|_| ())),
            }
        }
    }

    #[test]
    fn a_deposed_object_has_its_own_address() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"google_x.a","type":"google_x","deposed":"1a2b3c4d","change":{"actions":["delete"],"before":{"k":1},"after":null}},
            {"address":"google_x.a","type":"google_x","change":{"actions":["no-op"],"before":{"k":2},"after":{"k":2}}},
            {"address":"google_x.b","type":"google_x","deposed":7,"change":{"actions":["delete"],"before":{"k":1},"after":null}}
        ]}"#;
        let (plan, changes) = parse_all(text).unwrap();
        assert_eq!(
            changes[0].address.to_string(),
            "google_x.a (deposed object 1a2b3c4d)"
        );
        assert!(changes[1].address.is_current());
        assert_eq!(plan.unreadable[0].reason, "`deposed` is not a string");
    }

    #[test]
    fn create_then_forget_is_its_own_action() {
        for actions in [r#"["create","forget"]"#, r#"["forget","create"]"#] {
            let text = format!(
                r#"{{"format_version":"1.2","resource_changes":[
                {{"address":"google_x.a","type":"google_x","change":{{"actions":{actions},"before":{{"k":1}},"after":{{"k":2}}}}}}]}}"#
            );
            let (_, changes) = parse_all(&text).unwrap();
            assert_eq!(changes[0].action, Action::CreateThenForget);
            assert!(changes[0].before_node().is_some() && changes[0].after_node().is_some());
        }
    }

    #[test]
    fn forget_keeps_the_object() {
        let text = r#"{"format_version":"1.2","resource_changes":[
            {"address":"google_x.a","type":"google_x","change":{"actions":["forget"],"before":{"k":1},"after":null}}
        ]}"#;
        let (_, changes) = parse_all(text).unwrap();
        assert!(changes[0].after_node().is_some());
    }
}
