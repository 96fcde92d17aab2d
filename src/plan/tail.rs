//! A large document scanned on two threads: the caller's reads its top-level members from the
//! start, up to a member near the end (Terraform writes `prior_state` and `configuration` after
//! `resource_changes`), and a second thread reads from that member to the end (see
//! [`super::parse`]). The projecting thread takes the entries of `resource_changes` from the
//! first thread as before, so the second thread's work fills the time that the second core has
//! left.
//!
//! Both threads read the top-level map with a [`Cursor`], which follows serde_json's grammar
//! between the members and has serde_json read each value, with the readers of one scan
//! ([`super::document::read_value`]).
//!
//! Where the second thread starts is found by the bytes alone, which cannot tell how deep they
//! are. So it is a guess, and the first thread checks it: it takes the second thread's result
//! only when it reaches that place between two of the document's own members, and only when
//! the second thread read the rest without fault and no key that the first thread read.
//! Otherwise it reads on alone. If the first thread meets what it does not expect, it stops, and
//! the document is read again by one scan (the caller's `scan`), which reads or refuses it
//! exactly as without the threads; so is a document where serde_json's depth limit might apply,
//! because a cursor's reader starts one level below where one scan's does. If the second thread
//! does, its result is not taken.

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::ScopedJoinHandle;

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::document::{BatchSize, Batches, Document, Key, ValueSource, read_value};
use super::entry::EntryHead;

/// The state before the plan, a member of the document and a state document in its own right:
/// its key, and the key its value opens with.
const PRIOR_STATE: &[u8] = b"\"prior_state\"";
const STATE_OPENS: &[u8] = b"\"format_version\"";

/// Where a second thread should start reading `text`: the `,` before `prior_state` as Terraform
/// writes it, when the rest of the document is at least [`WORTH_A_THREAD`] bytes.
pub(super) fn second_part(text: &str) -> Option<usize> {
    prior_state_at(text).filter(|at| text.len() - at >= WORTH_A_THREAD)
}

/// Where the last `"prior_state"` that is a member's key and opens a state document is: at the
/// `,` before it (JSON whitespace may surround each part, as in a plan that was pretty-printed).
///
/// The text is searched from its end back, [`SEARCH_STEP`] bytes at a time. Terraform writes
/// `prior_state` after the planned values and the entries, most of the way through a plan: a
/// search from the start read all of those first, on one thread before either reader starts
/// (5 ms of the IAM-dense plan's 125 MB, 17 ms at 500 MB). Each step is searched forward and
/// gives the last place within it; steps overlap by a key's length less one byte, so a key that
/// straddles two is met once, in the later. Which of two places is taken does not matter to
/// the reading: the first reader checks the place, and reads on alone from one that is not.
pub(super) fn prior_state_at(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let after_space = |from: usize| {
        let rest = bytes.get(from..).unwrap_or_default();
        from + rest.iter().take_while(|&&b| is_json_space(b)).count()
    };
    let byte_at = |at: usize| bytes.get(at).copied();
    let place_of = |key: usize| {
        let colon = after_space(key + PRIOR_STATE.len());
        let brace = after_space(colon + 1);
        let first = after_space(brace + 1);
        let opens = byte_at(colon) == Some(b':')
            && byte_at(brace) == Some(b'{')
            && bytes.get(first..)?.starts_with(STATE_OPENS);
        let space_before = bytes[..key]
            .iter()
            .rev()
            .take_while(|&&b| is_json_space(b))
            .count();
        let comma = (key - space_before).checked_sub(1)?;
        (opens && byte_at(comma) == Some(b',')).then_some(comma)
    };
    let keys = memchr::memmem::Finder::new(PRIOR_STATE);
    let mut end = bytes.len();
    while end > 0 {
        let start = end.saturating_sub(SEARCH_STEP);
        let step = &bytes[start..(end + PRIOR_STATE.len() - 1).min(bytes.len())];
        if let Some(place) = keys
            .find_iter(step)
            .filter_map(|key| place_of(start + key))
            .last()
        {
            return Some(place);
        }
        end = start;
    }
    None
}

/// How much of the text each step of the search for the place reads, from the end back.
const SEARCH_STEP: usize = 1 << 20;

/// The least the second thread should read: starting and joining a thread costs about 100 µs,
/// in which one reads about 100 KB.
const WORTH_A_THREAD: usize = 1 << 20;

/// The top-level members that a cursor read.
#[derive(Default)]
pub(super) struct Members<'a> {
    doc: Document<'a>,
    keys: Vec<Key>,
}

/// Why a cursor stopped before the end: the document is not what it expected, its values nest
/// too deeply to be read here, or the first thread told the second to stop.
#[derive(Debug)]
pub(super) struct Stopped;

/// Reads the document's members from the `,` at `at` to the end, as one scan reads them if
/// that `,` is between two of them. Stops early once `stop` is set.
pub(super) fn read_rest<'a>(
    text: &'a str,
    at: usize,
    stop: &AtomicBool,
) -> Result<Members<'a>, Stopped> {
    let mut cursor = Cursor { text, at };
    let mut members = Members::default();
    let mut from = From { heads: None, stop };
    match read_members(&mut cursor, &mut members, false, None, &mut from)? {
        Reached::End => Ok(members),
        Reached::Split => Err(Stopped),
    }
}

/// How the first thread read the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// Up to the second thread's place, and took the rest from it.
    WithTheSecond,
    /// All of it: the second thread's place was not between two members, or its reading could
    /// not be taken.
    Alone,
}

/// The first thread's reading: the document's members from the start, the heads of
/// `resource_changes` handed to `heads`; at the second thread's place, its members if they can
/// be taken. `Err` when the document must be read again by one scan.
pub(super) fn read_first<'a>(
    text: &'a str,
    heads: &mut dyn FnMut(Vec<EntryHead<'a>>),
    second: Second<'_, 'a>,
) -> Result<(Document<'a>, Read), Stopped> {
    let mut cursor = Cursor { text, at: 0 };
    let stop_never = AtomicBool::new(false);
    let mut from = From {
        heads: Some((heads, BatchSize::for_document(text.len()))),
        stop: &stop_never,
    };
    let mut members = Members::default();
    let mut second = Some(second);
    let read = (|| {
        if cursor.next_byte()? != b'{' {
            return Err(Stopped);
        }
        let mut first = true;
        loop {
            let until = second.as_ref().map(|s| s.at);
            match read_members(&mut cursor, &mut members, first, until, &mut from)? {
                Reached::End => return Ok(Read::Alone),
                Reached::Split => {}
            }
            first = false;
            let Some(rest) = second.take().and_then(Second::join) else {
                continue;
            };
            if rest.keys.iter().any(|k| members.keys.contains(k)) {
                continue;
            }
            members.doc = std::mem::take(&mut members.doc).merged(rest.doc);
            return Ok(Read::WithTheSecond);
        }
    })();
    if let Some(second) = second {
        second.decline();
    }
    Ok((members.doc, read?))
}

/// The second thread, from the first thread's side.
pub(super) struct Second<'h, 'a> {
    /// Where it started: the `,` before a member, if the guess was right.
    at: usize,
    thread: ScopedJoinHandle<'h, Result<Members<'a>, Stopped>>,
    stop: &'h AtomicBool,
}

impl<'h, 'a> Second<'h, 'a> {
    pub(super) fn new(
        at: usize,
        thread: ScopedJoinHandle<'h, Result<Members<'a>, Stopped>>,
        stop: &'h AtomicBool,
    ) -> Self {
        Second { at, thread, stop }
    }

    /// Its members, once it has read them all.
    fn join(self) -> Option<Members<'a>> {
        let read = self
            .thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        read.ok()
    }

    /// Tells it to stop: its result will not be taken. The scope that started it waits for it.
    fn decline(self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What [`read_members`] reached.
enum Reached {
    /// The `}` that closes the document, and nothing but whitespace after it.
    End,
    /// The place it was to stop at, between two members.
    Split,
}

/// Where heads are handed on, in batches.
type HandOn<'s, 'a> = &'s mut dyn FnMut(Vec<EntryHead<'a>>);

/// What the members' values need.
struct From<'s, 'a> {
    /// Where the heads of `resource_changes` go, in batches of what size; `None` on the second
    /// thread, which stops there: the entries are the first thread's to hand on, in order.
    heads: Option<(HandOn<'s, 'a>, BatchSize)>,
    stop: &'s AtomicBool,
}

/// Reads members from the cursor, which is after the `{` that opens the document (`first`) or
/// at the `,` before a member, until the document ends or, with `until`, the cursor is at that
/// offset between two members.
fn read_members<'a>(
    cursor: &mut Cursor<'a>,
    members: &mut Members<'a>,
    mut first: bool,
    until: Option<usize>,
    from: &mut From<'_, 'a>,
) -> Result<Reached, Stopped> {
    loop {
        let next = cursor.peek();
        if !first && until == Some(cursor.at) {
            return Ok(Reached::Split);
        }
        match next {
            Some(b'}') => {
                cursor.at += 1;
                break;
            }
            Some(b',') if !first => cursor.at += 1,
            Some(b'"') if first => {}
            _ => return Err(Stopped),
        }
        first = false;
        if cursor.peek() != Some(b'"') {
            return Err(Stopped);
        }
        let name: Cow<'a, str> = cursor.value()?;
        if cursor.next_byte()? != b':' {
            return Err(Stopped);
        }
        match Key::named(&name) {
            None => {
                cursor.value::<IgnoredAny>()?;
            }
            // Given twice: one scan refuses it by name.
            Some(key) if members.keys.contains(&key) => return Err(Stopped),
            Some(key) => {
                members.keys.push(key);
                let mut values = Values { cursor, from };
                read_value(&mut members.doc, key, &mut values)?;
                if nesting(&members.doc, key) >= NESTING_LEFT_TO_ONE_SCAN {
                    return Err(Stopped);
                }
            }
        }
        if from.stop.load(Ordering::Relaxed) {
            return Err(Stopped);
        }
    }
    if cursor.peek().is_some() {
        return Err(Stopped);
    }
    Ok(Reached::End)
}

/// serde_json refuses a value nested 128 deep or more, counting from where its reader starts,
/// and a cursor's reader starts one level below the document, where one scan's starts. A value
/// this deep is left to one scan, so that the limit applies exactly as it does there; far below
/// the limit, neither meets it.
const NESTING_LEFT_TO_ONE_SCAN: usize = 100;

/// At least how deeply the value of the member `key`, just read into `doc`, nests in JSON
/// objects and arrays that were read one by one (a raw or skipped value is not: serde_json
/// skips it without counting). The other members are raw, scalars, or lists of raw values and
/// entries, one level deep. Checked after each member, so that a reader stops before it hands
/// on the entries after a deep member, and each member's structure is walked once.
fn nesting(doc: &Document, key: Key) -> usize {
    let version = |v: &Option<serde_json::Value>| v.as_ref().map_or(0, value_nesting);
    match key {
        Key::FormatVersion => version(&doc.format_version),
        Key::TerraformVersion => version(&doc.terraform_version),
        Key::PriorState => doc.prior_state.as_ref().map_or(0, |s| s.nesting()),
        Key::Configuration => doc.configuration.as_ref().map_or(0, |c| c.nesting()),
        Key::ResourceChanges
        | Key::Variables
        | Key::PlannedValues
        | Key::Errored
        | Key::Complete
        | Key::DeferredChanges
        | Key::Values => 0,
    }
}

/// How deeply `value` nests: 0 for a string, number, boolean or null, one more than its
/// deepest element for an array or object.
pub(super) fn value_nesting(value: &serde_json::Value) -> usize {
    use serde_json::Value;
    match value {
        Value::Array(items) => 1 + items.iter().map(value_nesting).max().unwrap_or(0),
        Value::Object(members) => 1 + members.values().map(value_nesting).max().unwrap_or(0),
        _ => 0,
    }
}

/// One of JSON's four whitespace bytes (`u8::is_ascii_whitespace` also takes a form feed,
/// which JSON does not).
fn is_json_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\t' | b'\r')
}

/// A reading thread's place in the document.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    /// The next byte that is not JSON whitespace, without moving past it.
    fn peek(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while bytes.get(self.at).is_some_and(|&b| is_json_space(b)) {
            self.at += 1;
        }
        bytes.get(self.at).copied()
    }

    /// The next byte that is not JSON whitespace, moving past it.
    fn next_byte(&mut self) -> Result<u8, Stopped> {
        let byte = self.peek().ok_or(Stopped)?;
        self.at += 1;
        Ok(byte)
    }

    /// One JSON value, read by serde_json as one scan reads it.
    fn value<T: Deserialize<'a>>(&mut self) -> Result<T, Stopped> {
        let rest = self.text.get(self.at..).ok_or(Stopped)?;
        let mut values = serde_json::Deserializer::from_str(rest).into_iter::<T>();
        match values.next() {
            Some(Ok(value)) => {
                self.at += values.byte_offset();
                Ok(value)
            }
            _ => Err(Stopped),
        }
    }
}

/// A member's value at the cursor.
struct Values<'c, 's, 'a> {
    cursor: &'c mut Cursor<'a>,
    from: &'c mut From<'s, 'a>,
}

impl<'a> ValueSource<'a> for Values<'_, '_, 'a> {
    type Error = Stopped;

    fn value<T: Deserialize<'a>>(&mut self) -> Result<T, Stopped> {
        self.cursor.value()
    }

    /// `null`, or an array of entries, read as one scan reads them (`deserialize_option`, then
    /// a sequence), each entry's head handed on.
    fn resource_changes(&mut self) -> Result<bool, Stopped> {
        let Some((heads, batch)) = &mut self.from.heads else {
            return Err(Stopped);
        };
        let cursor = &mut *self.cursor;
        if cursor.peek() != Some(b'[') {
            cursor.value::<()>()?;
            return Ok(false);
        }
        cursor.at += 1;
        let mut batches = Batches::new(&mut **heads, *batch);
        if cursor.peek() == Some(b']') {
            cursor.at += 1;
        } else {
            loop {
                batches.push(cursor.value::<EntryHead<'a>>()?);
                match cursor.next_byte()? {
                    b',' => {}
                    b']' => break,
                    _ => return Err(Stopped),
                }
            }
        }
        batches.finish();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{all, parse_all, parse_split};
    use super::super::{InputError, SplitRead, Threads, assert_same_reading, parse_with};
    use super::*;

    /// A plan as Terraform lays it out, with `entries` changes, and `before` and `after`
    /// inserted before and after `prior_state`.
    fn laid_out(entries: usize, before: &str, after: &str) -> String {
        let changes: Vec<String> = (0..entries)
            .map(|i| {
                format!(
                    r#"{{"address":"google_x.r{i}","mode":"managed","type":"google_x","name":"r{i}","change":{{"actions":["create"],"before":null,"after":{{"k":{i}}},"after_unknown":{{}}}}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"format_version":"1.2","planned_values":{{"root_module":{{"resources":[{{"address":"google_x.r0"}}]}}}},"resource_changes":[{}]{before},"prior_state":{{"format_version":"1.0","values":{{"root_module":{{"resources":[{{"address":"data.google_x.d","mode":"data","type":"google_x","values":{{"k":1}}}}],"child_modules":[{{"resources":[]}}]}}}}}}{after},"configuration":{{"root_module":{{"resources":[{{"address":"google_x.r0","expressions":{{"k":{{"constant_value":1}}}}}}],"variables":{{"v":{{"default":[1,{{"a":2}}]}}}}}}}},"timestamp":"2026-11-30T00:00:00Z","errored":false}}"#,
            changes.join(",")
        )
    }

    /// The place a large plan's second thread would start at.
    fn guessed(text: &str) -> usize {
        prior_state_at(text).expect("a prior_state")
    }

    #[test]
    fn a_plan_is_read_by_two_threads_that_meet_at_prior_state() {
        let none = laid_out(0, "", "");
        assert!(none.contains(r#""resource_changes":[],"#));
        let (_, read) = parse_split(&none, guessed(&none));
        assert_eq!(read, SplitRead::Threads(Read::WithTheSecond));
        let text = laid_out(300, "", "");
        let (split, read) = parse_split(&text, guessed(&text));
        assert_eq!(read, SplitRead::Threads(Read::WithTheSecond));
        let (plan, changes) = split.unwrap();
        assert_eq!(changes.len(), 300);
        assert_eq!(plan.prior_data.len(), 1);
        assert_eq!(plan.configuration.module_sources(), Default::default());
        assert_eq!(plan.format_version, "1.2");
        parse_all(&text).unwrap();
    }

    /// The bytes the guess looks for, inside a value after the real place: the first thread
    /// never meets them between two members, reads on alone, and stops the second.
    #[test]
    fn a_guess_inside_a_value_is_read_past() {
        let inner = r#","checks":{"x":{"after":{"a":1,"prior_state":{"format_version":"1.0"}}}}"#;
        let text = laid_out(20, "", inner);
        let at = guessed(&text);
        assert!(at > text.find("],\"prior_state\"").unwrap());
        let (_, read) = parse_split(&text, at);
        assert_eq!(read, SplitRead::Threads(Read::Alone));
        parse_all(&text).unwrap();
    }

    /// Whatever a thread cannot take as one scan would is read again by one scan: a key given
    /// on both sides of the place, broken JSON after it, and values nested near serde_json's
    /// depth limit (which a cursor's reader counts from one level lower).
    #[test]
    fn what_the_threads_cannot_read_as_one_scan_is_read_again() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for (before, after, error) in [
            ("", r#","configuration":{}"#, true),
            (r#","errored":true"#, r#","errored":false"#, true),
            ("", r#","x":tru"#, true),
            (
                "",
                &format!(r#","terraform_version":{}"#, nested(110)),
                false,
            ),
            (
                "",
                &format!(r#","terraform_version":{}"#, nested(127)),
                true,
            ),
            (
                &format!(r#","terraform_version":{}"#, nested(126)),
                "",
                false,
            ),
        ] {
            let text = laid_out(20, before, after);
            let (split, read) = parse_split(&text, guessed(&text));
            assert_eq!(read, SplitRead::Again, "{before} {after}");
            assert_eq!(split.is_err(), error, "{before} {after}");
            parse_all(&text).ok();
        }
        // Between members, as serde_json refuses it: a comma first, none between two members,
        // a comma last.
        let plain = laid_out(20, "", "");
        for text in [
            plain.replacen('{', "{,", 1),
            plain.replacen(r#","prior_state""#, r#" "prior_state""#, 1),
            plain.replacen(r#","timestamp""#, r#" "timestamp""#, 1),
            format!("{},}}", &plain[..plain.len() - 1]),
        ] {
            let at = prior_state_at(&text).or_else(|| text.find(r#" "prior_state""#));
            let (split, _) = parse_split(&text, at.unwrap());
            assert!(
                matches!(split, Err(InputError::MalformedJson { .. })),
                "{split:?}"
            );
            parse_all(&text).ok();
        }
        let trailing = format!("{} {{}}", laid_out(20, "", ""));
        let (split, read) = parse_split(&trailing, guessed(&trailing));
        assert_eq!(read, SplitRead::Again);
        assert!(matches!(split, Err(InputError::MalformedJson { .. })));
    }

    /// Documents written to read one way split and another whole: each reads as one scan reads
    /// it, whichever way the threads go.
    #[test]
    fn hostile_documents_read_as_one_scan_reads_them() {
        let entry = r#"{"address":"google_x.hidden","type":"google_x","change":{"actions":["create"],"after":{}}}"#;
        let decoy = r#""prior_state":{"format_version":"1.0"}"#;
        for (before, after) in [
            // A second `resource_changes` after the place, plainly or with an escaped key.
            (String::new(), format!(r#","resource_changes":[{entry}]"#)),
            (
                String::new(),
                format!(r#","resource\u005fchanges":[{entry}]"#),
            ),
            // `prior_state` given twice, the second with an escaped key.
            (String::new(), r#","prior\u005fstate":{}"#.to_owned()),
            // A decoy of the place inside a string, and inside an object before it.
            (
                r#","x":"\",\"prior_state\":{\"format_version\":1""#.to_owned(),
                String::new(),
            ),
            (
                format!(r#","output_changes":{{"o":{{{decoy}}}}}"#),
                String::new(),
            ),
            // Members the first thread reads, given again after the place.
            (String::new(), r#","format_version":"9.9""#.to_owned()),
            (String::new(), r#","planned_values":{}"#.to_owned()),
        ] {
            let text = laid_out(5, &before, &after);
            let mut changes = Vec::new();
            let one = parse_with(&text, &all, &mut |c| changes.push(c), Threads::One)
                .map(|plan| (plan, changes));
            for at in prior_state_at(&text)
                .into_iter()
                .chain(text.match_indices(",\"").map(|m| m.0))
            {
                let (split, _) = parse_split(&text, at);
                assert_same_reading(&one, &split, &format!("{before} {after} at {at}"));
            }
        }
    }

    /// Where a structure is read one level at a time, the readers leave a value to one scan
    /// before they could meet the depth limit where one scan does not: the depth at which one
    /// scan refuses it (a cursor's reader would accept it, one level higher), and a level less,
    /// where one scan reads it. Before `resource_changes`, the entries are then handed on by
    /// one scan alone; after it, the first reader has handed them all on.
    #[test]
    fn values_near_the_depth_limit_are_left_to_one_scan() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let modules = |depth: usize| {
            let mut module = r#"{"resources":[]}"#.to_owned();
            for _ in 0..depth {
                module = format!(r#"{{"child_modules":[{module}]}}"#);
            }
            module
        };
        let plain = laid_out(150, "", "");
        // Depths counted from the document: the document, `configuration`, `root_module`,
        // `variables` and `v` open five levels, the document alone one; the document,
        // `prior_state`, `values` and `root_module` four, and each child module two.
        let objects = |depth: usize| format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
        for (depth, refused) in [(127, true), (126, false)] {
            let text = plain.replacen(
                r#""planned_values""#,
                &format!(r#""terraform_version":{},"planned_values""#, objects(depth)),
                1,
            );
            let (split, read) = parse_split(&text, guessed(&text));
            assert_eq!(read, SplitRead::Again);
            assert_eq!(split.is_err(), refused, "{depth} objects");
        }
        for (depth, refused) in [(123, true), (122, false)] {
            let deep_default = plain.replacen(
                r#""default":[1,{"a":2}]"#,
                &format!(r#""default":{}"#, nested(depth)),
                1,
            );
            let deep_version = plain.replacen(
                r#""planned_values""#,
                &format!(
                    r#""terraform_version":{},"planned_values""#,
                    nested(depth + 4)
                ),
                1,
            );
            for text in [deep_default, deep_version] {
                let (split, read) = parse_split(&text, guessed(&text));
                assert_eq!(read, SplitRead::Again);
                assert_eq!(split.is_err(), refused);
                parse_all(&text).ok();
            }
        }
        for (depth, refused) in [(62, true), (61, false)] {
            let text = plain.replacen(
                r#""child_modules":[{"resources":[]}]"#,
                &format!(r#""child_modules":[{}]"#, modules(depth - 1)),
                1,
            );
            let (split, read) = parse_split(&text, guessed(&text));
            assert_eq!(read, SplitRead::Again);
            assert_eq!(split.is_err(), refused, "{depth} modules");
            parse_all(&text).ok();
        }
    }

    /// Values that serde_json skips nest as deeply as they like, and a value read one level at a
    /// time well below the depth limit is read by the threads.
    #[test]
    fn the_threads_read_values_nested_well_below_the_depth_limit() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let text = laid_out(20, "", &format!(r#","checks":{}"#, nested(500)));
        let (_, read) = parse_split(&text, guessed(&text));
        assert_eq!(read, SplitRead::Threads(Read::WithTheSecond));
        let text = laid_out(20, "", &format!(r#","terraform_version":{}"#, nested(90)));
        let (_, read) = parse_split(&text, guessed(&text));
        assert_eq!(read, SplitRead::Threads(Read::WithTheSecond));
        parse_all(&text).unwrap();
    }

    /// The threads meet between members whatever whitespace lies around them.
    #[test]
    fn the_threads_meet_in_pretty_printed_json() {
        let value: serde_json::Value = serde_json::from_str(&laid_out(30, "", "")).unwrap();
        let text = serde_json::to_string_pretty(&value).unwrap();
        // A `Value` prints its keys in order: `timestamp` is the one after `resource_changes`.
        let at = text.find("\"timestamp\"").unwrap();
        let at = text[..at].rfind(',').unwrap();
        let (split, read) = parse_split(&text, at);
        assert_eq!(read, SplitRead::Threads(Read::WithTheSecond));
        let mut changes = Vec::new();
        let one = parse_with(&text, &all, &mut |c| changes.push(c), Threads::One);
        assert_same_reading(&one.map(|p| (p, changes)), &split, "pretty");
    }

    /// Only a `"prior_state"` key after a member, opening a state, is the place; any other is
    /// passed over, wherever in the text it lies.
    #[test]
    fn the_place_is_the_comma_before_a_prior_state_key() {
        let state = r#""prior_state" : { "format_version":"1.0"}"#;
        assert_eq!(prior_state_at(&format!("{{\"a\":1 ,\n {state}}}")), Some(7));
        for text in [
            state.to_owned(),
            format!("{{{state}}}"),
            r#"{"a":"prior_state"}"#.to_owned(),
            r#"{"a":1,"prior_state""#.to_owned(),
            r#"{"a":1,"prior_state":"#.to_owned(),
            r#"{"a":1,"prior_state":{"#.to_owned(),
            r#"{"a":1,"prior_state":{"values":{}}}"#.to_owned(),
            r#"{"a":1,"prior_state":[{"format_version":"1.0"}]}"#.to_owned(),
        ] {
            assert_eq!(prior_state_at(&text), None, "{text}");
        }
    }

    /// The search goes back from the end a step at a time: it finds a place more than a step
    /// from the end, one whose key straddles the boundary of two steps at any byte, and of two
    /// places the later.
    #[test]
    fn the_place_is_searched_for_from_the_end() {
        let state = r#","prior_state":{"format_version":"1.0"}"#;
        let head = r#"{"a":1"#;
        let filled = |n: usize| format!(r#"{head}{state},"z":"{}"}}"#, "x".repeat(n));
        assert_eq!(prior_state_at(&filled(3 * SEARCH_STEP)), Some(head.len()));
        let key = head.len() + 1;
        let fixed = filled(0).len();
        for back in SEARCH_STEP - PRIOR_STATE.len() - 2..SEARCH_STEP + 3 {
            // The key starts `back` bytes before the end.
            let text = filled(key + back - fixed);
            assert_eq!(text.len() - key, back);
            assert_eq!(
                prior_state_at(&text),
                Some(head.len()),
                "{back} bytes from the end"
            );
        }
        let two = format!(r#"{head}{state},"b":2{state}}}"#);
        assert_eq!(prior_state_at(&two), two.rfind(",\"prior_state\""));
    }

    #[test]
    fn a_second_thread_is_started_only_for_a_megabyte_or_more() {
        let small = laid_out(10, "", "");
        assert_eq!(second_part(&small), None);
        let padding = format!(r#","checks":"{}""#, "x".repeat(WORTH_A_THREAD));
        // Large, but with little after the place.
        let head_heavy = laid_out(10, &padding, "");
        assert!(head_heavy.len() > WORTH_A_THREAD);
        assert_eq!(second_part(&head_heavy), None);
        let large = laid_out(10, "", &padding);
        assert_eq!(second_part(&large), prior_state_at(&large));
        assert!(second_part(&large).is_some());
    }

    /// Every plan among the fixtures and the corpus reads the same with two threads, met at the
    /// place a large plan's would meet and at places spread over it, as with one.
    #[test]
    fn every_fixture_and_corpus_plan_reads_the_same_split() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        let mut dirs = vec![root.join("testdata"), root.join("../shared/corpus")];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    files.push(path);
                }
            }
        }
        let (mut plans, mut met) = (0, 0);
        for path in files {
            let bytes = std::fs::read(&path).unwrap();
            let Ok(text) = super::super::sniff::decode(&bytes) else {
                continue;
            };
            let mut changes = Vec::new();
            let one = parse_with(&text, &all, &mut |c| changes.push(c), Threads::One)
                .map(|plan| (plan, changes));
            let mut places: Vec<usize> = text.match_indices(",\"").map(|(at, _)| at).collect();
            let step = places.len().div_ceil(4).max(1);
            places = places.into_iter().step_by(step).collect();
            places.extend(prior_state_at(&text));
            plans += 1;
            for at in places {
                let (split, read) = parse_split(&text, at);
                assert_same_reading(&one, &split, &format!("{} split at {at}", path.display()));
                if Some(at) == prior_state_at(&text) {
                    met += usize::from(read == SplitRead::Threads(Read::WithTheSecond));
                }
            }
        }
        assert!(plans > 400, "{plans} plans");
        // The plans with a `prior_state`: 179 of the 446 when this was written.
        assert!(met > 150, "the threads met in {met} plans of {plans}");
    }
}
