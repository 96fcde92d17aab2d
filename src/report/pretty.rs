//! Pretty-printed JSON, byte for byte as `serde_json::to_writer_pretty` prints it, with each line
//! break and its indentation written at once.
//!
//! serde_json's `PrettyFormatter` writes a line's indentation one level at a time, each level a
//! call to the writer. A finding lists its workloads four levels deep, so the IAM-dense plan's
//! 26 MB report made about two million calls of two bytes each: a third of the report's time
//! went to copying small slices into the output buffer.
//!
//! A value that the document repeats word for word is printed as bytes copied from an earlier
//! printing ([`Repeated`]): the 108 findings of the IAM-dense plan that each list the same
//! 1,326 workloads are 9 MB of its report. So is a shared text in a list ([`SharedTexts`]): the
//! other findings of that plan list 135,000 workload addresses, each escaped once.

use std::cell::{Cell, RefCell};
use std::collections::hash_map::Entry;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::Arc;

use foldhash::HashMap;
use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use serde_json::ser::Formatter;
use serde_json::value::RawValue;

/// Writes `value` as `serde_json::to_writer_pretty` does, a [`Repeated`] value within it
/// copied as bytes from its second printing on.
pub(crate) fn to_writer<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let repeats = Rc::new(Repeats::default());
    let _document = Document::begin(Rc::clone(&repeats));
    // serde_json writes a document in millions of pieces of a few bytes: buffered here, where
    // the writer's type is known, each is a copy, not a call through `out`'s vtable (about
    // 5 ms of the IAM-dense plan's 26 MB report).
    let mut buffered = io::BufWriter::with_capacity(64 << 10, out);
    let pretty = Pretty {
        repeats: Rc::clone(&repeats),
        has_value: false,
    };
    let tap = Tap {
        out: &mut buffered,
        repeats,
    };
    let mut serializer = serde_json::Serializer::with_formatter(tap, pretty);
    value.serialize(&mut serializer).map_err(io::Error::other)?;
    serializer.into_inner().flush()
}

/// A value that a document may hold many times over, with the key that tells it apart: a
/// thousand findings that each list the same thousand workloads. Within [`to_writer`], its
/// bytes are recorded as it is printed a second time, and copied where it comes again at the
/// same depth (which the bytes' indentation depends on); elsewhere it is serialized as it is.
pub(crate) struct Repeated<T> {
    pub key: RepeatKey,
    pub value: T,
}

/// What tells repeated values apart: equal keys, equal values.
pub(crate) type RepeatKey = Vec<usize>;

impl<T: Serialize> Serialize for Repeated<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(repeats) = DOCUMENT.with(|d| d.borrow().clone()) else {
            return self.value.serialize(s);
        };
        let depth = repeats.depth.get();
        match repeats.seen(depth, &self.key) {
            Some(Some(raw)) => raw.serialize(s),
            // The second time: printed and recorded. Recording the first time would copy
            // every value that never comes again.
            Some(None) if !repeats.recording.replace(true) => {
                let printed = self.value.serialize(s);
                repeats.recording.set(false);
                let bytes = repeats.bytes.take();
                let raw = String::from_utf8(bytes)
                    .ok()
                    .and_then(|text| RawValue::from_string(text).ok());
                if let (Ok(_), Some(raw)) = (&printed, raw) {
                    repeats.remember(depth, &self.key, Some(Rc::from(raw)));
                }
                printed
            }
            // Within a value being recorded, that recording holds this one's bytes.
            Some(None) => self.value.serialize(s),
            None => {
                let printed = self.value.serialize(s)?;
                repeats.remember(depth, &self.key, None);
                Ok(printed)
            }
        }
    }
}

/// A list of texts that the document holds many times over, each an address shared by pointer:
/// within [`to_writer`], each text is escaped the first time it comes and its bytes copied
/// after; elsewhere the list is serialized as it is.
pub(crate) struct SharedTexts<'a>(pub &'a [Arc<str>]);

impl Serialize for SharedTexts<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Some(repeats) = DOCUMENT.with(|d| d.borrow().clone()) else {
            return self.0.serialize(s);
        };
        // Held for the whole list: printing an address writes to the document, which records
        // into `bytes`, never into `texts`.
        let mut texts = repeats.texts.borrow_mut();
        let mut list = s.serialize_seq(Some(self.0.len()))?;
        for text in self.0 {
            match escaped(&mut texts, text) {
                Some(raw) => list.serialize_element(raw)?,
                None => list.serialize_element(&**text)?,
            }
        }
        list.end()
    }
}

thread_local! {
    /// The repeated values of the document being written on this thread, if any.
    static DOCUMENT: RefCell<Option<Rc<Repeats>>> = const { RefCell::new(None) };
}

/// The repeated values printed so far in one document (with their bytes once they have come
/// twice), and the one being recorded.
#[derive(Default)]
struct Repeats {
    /// By the depth they are printed at and their key.
    printed: RefCell<HashMap<usize, HashMap<RepeatKey, Recorded>>>,
    /// The depth the document's printing is at.
    depth: Cell<usize>,
    recording: Cell<bool>,
    bytes: RefCell<Vec<u8>>,
    /// The JSON string of each shared text printed so far, by the text's address. The texts
    /// are borrowed for the whole document, so no address is reused within it.
    texts: RefCell<HashMap<*const u8, Box<RawValue>>>,
}

/// A repeated value's bytes, once recorded.
type Recorded = Option<Rc<RawValue>>;

impl Repeats {
    /// `None` if the value with `key` has not been printed at `depth`; else its bytes, once
    /// recorded.
    fn seen(&self, depth: usize, key: &RepeatKey) -> Option<Recorded> {
        self.printed.borrow().get(&depth)?.get(key).cloned()
    }

    fn remember(&self, depth: usize, key: &RepeatKey, bytes: Recorded) {
        let mut printed = self.printed.borrow_mut();
        printed.entry(depth).or_default().insert(key.clone(), bytes);
    }
}

/// `text` as a JSON string, escaped the first time `texts` is asked for it. `None` only if
/// serde_json cannot print it, which it always can.
fn escaped<'t>(
    texts: &'t mut HashMap<*const u8, Box<RawValue>>,
    text: &Arc<str>,
) -> Option<&'t RawValue> {
    match texts.entry(text.as_ptr()) {
        Entry::Occupied(known) => Some(known.into_mut()),
        Entry::Vacant(new) => {
            let printed = serde_json::to_string(&**text).ok()?;
            Some(new.insert(RawValue::from_string(printed).ok()?))
        }
    }
}

/// This thread's document while it is written: ends with the writing, however it ends.
struct Document;

impl Document {
    fn begin(repeats: Rc<Repeats>) -> Document {
        DOCUMENT.with(|d| *d.borrow_mut() = Some(repeats));
        Document
    }
}

impl Drop for Document {
    fn drop(&mut self) {
        DOCUMENT.with(|d| *d.borrow_mut() = None);
    }
}

/// The document's writer, which also keeps what it writes while a repeated value is recorded.
struct Tap<'w, W> {
    out: &'w mut W,
    repeats: Rc<Repeats>,
}

impl<W> Tap<'_, W> {
    /// Keeps `written` while a repeated value is recorded.
    fn record(&self, written: &[u8]) {
        if self.repeats.recording.get() {
            self.repeats.bytes.borrow_mut().extend_from_slice(written);
        }
    }
}

impl<W: Write> Write for Tap<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.record(&buf[..n]);
        Ok(n)
    }

    /// serde_json writes each piece of the document with `write_all`: forwarded whole, each is
    /// a copy into the buffer, where the default would loop over `write`.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)?;
        self.record(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// serde_json's `PrettyFormatter` with its default two-space indent.
struct Pretty {
    /// The document's repeated values, and the depth, which keys them too.
    repeats: Rc<Repeats>,
    /// The current array or object has a value already: the next one follows a comma, and its
    /// closing bracket goes on a line of its own.
    has_value: bool,
}

/// A line break followed by enough spaces for most depths; deeper lines add the rest.
const BREAK: &[u8; 65] = b"\n                                                                ";

impl Pretty {
    /// A line break and the indentation of the current depth.
    fn new_line<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        let mut spaces = self.repeats.depth.get() * 2;
        let now = spaces.min(BREAK.len() - 1);
        w.write_all(&BREAK[..=now])?;
        spaces -= now;
        while spaces > 0 {
            let more = spaces.min(BREAK.len() - 1);
            w.write_all(&BREAK[1..=more])?;
            spaces -= more;
        }
        Ok(())
    }

    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        let depth = &self.repeats.depth;
        depth.set(depth.get() + 1);
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        let depth = &self.repeats.depth;
        depth.set(depth.get() - 1);
        if self.has_value {
            self.new_line(w)?;
        }
        w.write_all(bracket)
    }

    fn next_item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        self.new_line(w)
    }
}

impl Formatter for Pretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.next_item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.next_item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whatever the nesting (lines indented by more than two breaks' worth of spaces included),
    /// empty arrays and objects, strings to escape and numbers: the same bytes as serde_json's.
    #[test]
    fn prints_what_serde_json_prints() {
        let mut deep = json!("leaf \"quoted\" \u{7}");
        for level in 0..80 {
            deep = if level % 2 == 0 {
                json!([deep, 1, [], {}])
            } else {
                json!({"k": deep, "n": -1.5, "e": [], "o": {}, "t": true, "z": null})
            };
        }
        for value in [
            json!([]),
            json!({}),
            json!(0),
            json!("s"),
            json!([[]]),
            deep,
        ] {
            let mut ours = Vec::new();
            to_writer(&mut ours, &value).expect("written");
            let theirs = serde_json::to_vec_pretty(&value).expect("written");
            assert_eq!(String::from_utf8(ours), String::from_utf8(theirs));
        }
    }

    /// An object holding a list marked repeated, keyed by its printed content.
    #[derive(Serialize, Clone)]
    struct Holder<T: Serialize> {
        name: &'static str,
        #[serde(serialize_with = "repeated")]
        list: Vec<T>,
    }

    fn repeated<T: Serialize, S: Serializer>(list: &[T], s: S) -> Result<S::Ok, S::Error> {
        let printed = serde_json::to_vec(list).expect("printed");
        let key = printed.into_iter().map(usize::from).collect();
        Repeated { key, value: list }.serialize(s)
    }

    /// A writer that keeps what it is given and counts its flushes.
    #[derive(Default)]
    struct Kept {
        bytes: Vec<u8>,
        flushes: usize,
    }

    impl Write for Kept {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.bytes.write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    /// Everything is written through to the caller's writer, which is flushed at the end, so
    /// that an error on the way is the caller's to see.
    #[test]
    fn the_document_reaches_the_writer_and_is_flushed() {
        let value = json!({"k": ["x".repeat(100_000), "y"]});
        let mut kept = Kept::default();
        to_writer(&mut kept, &value).expect("written");
        assert_eq!(
            kept.bytes,
            serde_json::to_vec_pretty(&value).expect("printed")
        );
        assert_eq!(kept.flushes, 1);
    }

    /// Shared texts print as serde_json prints the strings, escapes included, whether a text
    /// comes once, again by the same pointer, or again as an equal text of its own; in a list
    /// that is itself repeated, and outside a document.
    #[test]
    fn shared_texts_print_as_serde_json_prints_them() {
        let quoted: Arc<str> = Arc::from("module.svc[\"a\"].google_cloud_run_v2_service.this");
        let control: Arc<str> = Arc::from("tab\there \u{1} back\\slash \u{e9}\u{1f600}");
        let equal: Arc<str> = Arc::from(&*quoted);
        let first = [
            Arc::clone(&quoted),
            Arc::clone(&control),
            Arc::clone(&quoted),
        ];
        let second = [equal, Arc::clone(&control)];
        let lists = [&first[..], &second[..], &first[..], &[][..]];
        let document: Vec<Repeated<SharedTexts>> = lists
            .iter()
            .map(|list| Repeated {
                key: list.iter().map(|t| t.as_ptr() as usize).collect(),
                value: SharedTexts(list),
            })
            .collect();
        let plain: Vec<&[Arc<str>]> = lists.to_vec();
        let mut ours = Vec::new();
        to_writer(&mut ours, &document).expect("written");
        let theirs = serde_json::to_vec_pretty(&plain).expect("printed");
        assert_eq!(String::from_utf8(ours), String::from_utf8(theirs.clone()));
        let outside = serde_json::to_vec_pretty(&document).expect("printed");
        assert_eq!(String::from_utf8(outside), String::from_utf8(theirs));
    }

    /// A value that counts the times it is serialized.
    struct Counted<'c>(&'c Cell<usize>);

    impl Serialize for Counted<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            self.0.set(self.0.get() + 1);
            ["a", "b"].serialize(s)
        }
    }

    /// Within a document, a repeated value is serialized twice, the second time recorded,
    /// then copied, however often it comes; outside one, and in the next document, it is
    /// serialized every time.
    #[test]
    fn a_repeated_value_is_serialized_twice_then_copied() {
        let times = Cell::new(0);
        let counted = Counted(&times);
        let repeated = |n: usize| Repeated {
            key: vec![n],
            value: &counted,
        };
        let document = [
            repeated(1),
            repeated(1),
            repeated(1),
            repeated(1),
            repeated(2),
        ];
        let mut out = Vec::new();
        to_writer(&mut out, &document).expect("written");
        assert_eq!(times.get(), 3);
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            String::from_utf8(serde_json::to_vec_pretty(&document).expect("printed"))
                .expect("UTF-8")
        );
        assert!(
            DOCUMENT.with(|d| d.borrow().is_none()),
            "the document has ended"
        );
        times.set(0);
        serde_json::to_vec(&[repeated(1), repeated(1), repeated(1)]).expect("printed");
        assert_eq!(times.get(), 3);
        times.set(0);
        to_writer(&mut Vec::new(), &[repeated(1), repeated(1)]).expect("written");
        assert_eq!(times.get(), 2);
    }

    /// A value that comes again is copied as the bytes it was printed as, whether it comes
    /// twice or five times, is empty, or holds a repeated value of its own: the document reads
    /// as serde_json prints it, where nothing is copied.
    #[test]
    fn repeated_values_print_as_serde_json_prints_them() {
        let shared = vec![json!("a \"b\""), json!(["x", {"y": 1}]), json!(null)];
        let mut holders: Vec<Holder<serde_json::Value>> = Vec::new();
        for name in ["one", "two", "three", "four", "five"] {
            holders.push(Holder {
                name,
                list: shared.clone(),
            });
            holders.push(Holder {
                name,
                list: Vec::new(),
            });
        }
        holders.push(Holder {
            name: "other",
            list: vec![json!("zz")],
        });
        let inner = Holder {
            name: "inner",
            list: shared.clone(),
        };
        let nested: Vec<Holder<Holder<serde_json::Value>>> = (0..3)
            .map(|_| Holder {
                name: "outer",
                list: vec![inner.clone(), inner.clone()],
            })
            .collect();
        let document = (holders, nested);
        let mut ours = Vec::new();
        to_writer(&mut ours, &document).expect("written");
        let theirs = serde_json::to_vec_pretty(&document).expect("written");
        assert_eq!(String::from_utf8(ours), String::from_utf8(theirs));
    }
}
