//! Pretty-printed JSON, byte for byte as `serde_json::to_writer_pretty` prints it, with each line
//! break and its indentation written at once.
//!
//! serde_json's `PrettyFormatter` writes a line's indentation one level at a time, each level a
//! call to the writer. A finding lists its workloads four levels deep, so the IAM-dense plan's
//! 26 MB report made about two million calls of two bytes each: a third of the report's time
//! went to copying small slices into the output buffer.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// Writes `value` as `serde_json::to_writer_pretty` does.
pub(crate) fn to_writer<T: Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(out, Pretty::default());
    value.serialize(&mut serializer).map_err(io::Error::other)
}

/// serde_json's `PrettyFormatter` with its default two-space indent.
#[derive(Default)]
struct Pretty {
    depth: usize,
    /// The current array or object has a value already: the next one follows a comma, and its
    /// closing bracket goes on a line of its own.
    has_value: bool,
}

/// A line break followed by enough spaces for most depths; deeper lines add the rest.
const BREAK: &[u8; 65] = b"\n                                                                ";

impl Pretty {
    /// A line break and the indentation of the current depth.
    fn new_line<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        let mut spaces = self.depth * 2;
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
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
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
}
