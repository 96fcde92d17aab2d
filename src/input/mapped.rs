//! A plan file mapped into memory instead of read: the only `unsafe` code in the crate.
//!
//! Reading a large plan is mostly the kernel faulting in fresh zeroed pages, one at a time, and
//! copying the file into them; freeing them afterwards is more of the same. A mapping of the
//! file shares the pages that the kernel already holds in its cache: nothing to zero or copy,
//! and unmapping frees nothing. On the bench's 100 MB plan, reading in two halves took 40–47 ms
//! and unmapping the copy 8–13 ms; mapping the file (populated at once) takes 7–10 ms and
//! unmapping it 5 ms.
//!
//! The price is a promise the compiler cannot check, which is why [`map_plan_file`] is an
//! `unsafe fn`: the bytes are the file's own, so a process that writes to the file while it is
//! parsed changes them under the parser, and one that truncates it takes the pages away. Two
//! guards keep either from turning into a verdict:
//! - the file's size and times are taken when it is mapped and again once it is parsed; if they
//!   differ, the analysis is refused ([`InputError::ChangedWhileRead`](crate::InputError)), not
//!   reported;
//! - a page truncated away kills the process with `SIGBUS` when it is touched: an abnormal exit,
//!   which no gate reads as a pass.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::{PlanBytes, Storage, read_open_file};

/// A plan file's bytes, mapped, with what the file looked like when it was mapped.
pub(super) struct MappedFile {
    map: memmap2::Mmap,
    file: File,
    stamp: Stamp,
}

impl MappedFile {
    pub(super) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Whether the file still has the size and times it had when it was mapped. A write through
    /// any handle sets the modification and change times; the change time cannot be set back by
    /// the writer.
    pub(super) fn unchanged(&self) -> bool {
        self.file
            .metadata()
            .is_ok_and(|now| Stamp::of(&now) == self.stamp)
    }
}

/// What a write or a truncation changes in a file's metadata.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stamp {
    fn of(metadata: &std::fs::Metadata) -> Stamp {
        Stamp {
            len: metadata.len(),
            modified: (metadata.mtime(), metadata.mtime_nsec()),
            changed: (metadata.ctime(), metadata.ctime_nsec()),
        }
    }
}

/// The content of the plan file at `path`, mapped into memory rather than read: what
/// [`read_plan_file`](super::read_plan_file) gives, without copying the file. What cannot be
/// mapped (an empty file, a pipe given as `/dev/fd/N`, a file system that does not map files)
/// is read instead.
///
/// [`analyze_owned`](crate::analyze_owned) refuses a mapped file that was written to while it
/// was parsed ([`InputError::ChangedWhileRead`](crate::InputError)); [`analyze`](crate::analyze)
/// over the bytes cannot tell.
///
/// # Safety
/// No process may write to or truncate the file while the returned bytes are alive: they are the
/// file's own pages. A plan that `terraform show -json` wrote before runguard started keeps
/// this. A truncation kills the process with `SIGBUS`.
pub unsafe fn map_plan_file(path: &Path) -> std::io::Result<PlanBytes> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    let stamp = Stamp::of(&metadata);
    if stamp.len == 0 || !metadata.is_file() {
        return read_open_file(file, path);
    }
    // SAFETY: the caller promises that nothing writes to or truncates the file while the
    // mapping lives; `MappedFile::unchanged` catches a writer that breaks the promise.
    let mapped = unsafe { memmap2::MmapOptions::new().populate().map(&file) };
    match mapped {
        Ok(map) => Ok(PlanBytes(Storage::File(MappedFile { map, file, stamp }))),
        Err(_) => read_open_file(file, path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::tests::patterned;
    use std::io::Write;
    use std::os::unix::fs::FileExt;

    /// Mapped, a file comes back byte for byte, whatever its length; an empty one is read.
    #[test]
    fn a_mapped_file_reads_back_whole() {
        for len in [0, 1, 4_095, 4_096, 4_097, 1 << 20] {
            let (file, content) = patterned(len);
            // SAFETY: nothing else knows of the temporary file.
            let mapped = unsafe { map_plan_file(file.path()) }.expect("readable");
            assert!(*mapped == content[..], "{len} bytes");
            assert_eq!(
                matches!(mapped.0, Storage::File(_)),
                len > 0,
                "{len} bytes: mapped only when not empty"
            );
        }
    }

    /// A pipe has no size to map: what is written into it is read.
    #[test]
    fn a_pipe_is_read() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let fifo = dir.path().join("plan.json");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo");
        let writer = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut pipe = std::fs::OpenOptions::new()
                    .write(true)
                    .open(fifo)
                    .expect("the pipe opens for writing");
                pipe.write_all(br#"{"format_version":"1.2"}"#)
                    .expect("written");
            })
        };
        // SAFETY: the pipe has no pages to map.
        let read = unsafe { map_plan_file(&fifo) }.expect("readable");
        writer.join().expect("the writer finishes");
        assert_eq!(&*read, br#"{"format_version":"1.2"}"#);
        assert!(matches!(read.0, Storage::Heap(_)));
    }

    /// A file that its file system does not map (sysfs, where every file claims a page) is
    /// read.
    #[test]
    fn a_file_that_cannot_be_mapped_is_read() {
        let path = Path::new("/sys/devices/system/cpu/online");
        // SAFETY: sysfs files have no pages to map.
        let read = unsafe { map_plan_file(path) }.expect("readable");
        assert_eq!(*read, std::fs::read(path).expect("readable")[..]);
        assert!(!read.is_empty());
        assert!(matches!(read.0, Storage::Heap(_)));
    }

    /// A file written to after it was mapped, in place or at its end, is no longer the file
    /// that was mapped; one left alone still is.
    #[test]
    fn a_file_written_to_after_mapping_is_noticed() {
        for change in [Change::InPlace, Change::Appended, Change::None] {
            let (file, _) = patterned(8_192);
            // Times from long ago: a write now gives other times even where the clock that
            // stamps files is coarse.
            let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(86_400);
            file.as_file().set_modified(old).expect("times set");
            // SAFETY: the test writes to the file on this one thread, between reads of the
            // mapped bytes, never during one.
            let mapped = unsafe { map_plan_file(file.path()) }.expect("readable");
            match change {
                Change::InPlace => file.as_file().write_at(b"x", 10).map(drop),
                Change::Appended => file.as_file().write_all_at(b"more", 8_192),
                Change::None => Ok(()),
            }
            .expect("written");
            assert_eq!(
                mapped.unchanged_since_read(),
                change == Change::None,
                "{change:?}"
            );
            assert!(PlanBytes::from(Vec::new()).unchanged_since_read());
        }
    }

    #[derive(Debug, PartialEq, Clone, Copy)]
    enum Change {
        InPlace,
        Appended,
        None,
    }
}
