//! A plan file mapped into memory instead of read: the crate's `unsafe` code.
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
//! parsed changes them under the parser, and one that truncates it takes the pages away.
//! Soundness rests on that promise alone. What follows only narrows what a broken promise can
//! do:
//! - a file modified in the last [`RECENT`] is read, not mapped: it may still be being written,
//!   and a second write in the same tick of the file system's clock would leave its
//!   modification time as it was;
//! - the file's size and modification time are taken when it is mapped and again once it is
//!   parsed, and [`analyze_owned`](crate::analyze_owned) refuses a file whose stamp moved
//!   ([`InputError::ChangedWhileRead`](crate::InputError)) rather than report what it parsed.
//!   This misses a writer through a shared mapping of its own whose pages were already dirty
//!   (the kernel stamps only a page's first write);
//! - only a file on a local file system is mapped ([`on_local_file_system`]): a page that a
//!   network or user-space file system fails to read would kill the process with `SIGBUS`,
//!   where reading returns an error that names the file;
//! - a page truncated away kills the process with `SIGBUS` when it is touched: an abnormal
//!   exit, which no gate reads as a pass.
#![allow(unsafe_code)]

use std::fs::File;
use std::path::Path;
use std::time::{Duration, SystemTime};

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

    /// Whether the file still has the size and modification time it had when it was mapped.
    /// Renaming, linking, unlinking it or changing its mode leave both as they were: its bytes
    /// are still the ones mapped.
    pub(super) fn unchanged(&self) -> bool {
        self.file
            .metadata()
            .is_ok_and(|now| Stamp::of(&now) == Some(self.stamp))
    }
}

/// What a write or a truncation changes in a file's metadata.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
struct Stamp {
    len: u64,
    modified: SystemTime,
}

impl Stamp {
    /// `None` where the platform keeps no modification time.
    fn of(metadata: &std::fs::Metadata) -> Option<Stamp> {
        Some(Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok()?,
        })
    }

    /// Modified within [`RECENT`] of `now`, or stamped in the future.
    fn is_recent(&self, now: SystemTime) -> bool {
        now.duration_since(self.modified)
            .map_or(true, |age| age < RECENT)
    }
}

/// How long ago a file must have last been modified to be mapped. File systems stamp times from
/// a clock that moves in ticks: a few milliseconds on Linux before 6.13, two seconds on FAT.
/// Git treats an entry written in the same second as its index as "racily clean" for the same
/// reason.
const RECENT: Duration = Duration::from_secs(2);

/// Whether `file` is on a file system that keeps its pages on this machine's disks or memory,
/// by the kernel's magic number for it (`linux/magic.h`; ZFS's is its own). A network file
/// system (NFS, SMB, Ceph), a user-space one (FUSE, virtiofs) or 9p may fail to read a page;
/// mapped, that failure kills the process with `SIGBUS` instead of returning an error, so such
/// files are read. A file system missing from the list is read too.
fn on_local_file_system(file: &File) -> bool {
    rustix::fs::fstatfs(file).is_ok_and(|fs| is_local(u64::from(fs.f_type as u32)))
}

/// Whether the file system with magic number `magic` is one of the local ones.
fn is_local(magic: u64) -> bool {
    const LOCAL: [u64; 11] = [
        0xEF53,      // ext2, ext3, ext4
        0x5846_5342, // XFS
        0x9123_683E, // Btrfs
        0x0102_1994, // tmpfs
        0x8584_58F6, // ramfs
        0x794C_7630, // overlayfs (containers)
        0x2FC1_2FC1, // ZFS
        0xF2F5_2010, // F2FS
        0xCA45_1A4E, // bcachefs
        0x7371_7368, // squashfs
        0xE0F5_E1E2, // EROFS
    ];
    LOCAL.contains(&magic)
}

/// The content of the plan file at `path`, mapped into memory rather than read: what
/// [`read_plan_file`](super::read_plan_file) gives, without copying the file. What cannot be
/// mapped (an empty file, a pipe, a file system that does not map files) is read instead, and so
/// is a file modified in the last two seconds or one that is not on a local file system.
///
/// [`analyze_owned`](crate::analyze_owned) refuses a mapped file whose size or modification time
/// changed while it was parsed ([`InputError::ChangedWhileRead`](crate::InputError)); the caller
/// may read it ([`read_plan_file`](super::read_plan_file)) and analyse that copy.
/// [`analyze`](crate::analyze) over the bytes cannot tell.
///
/// # Safety
/// No process may write to or truncate the file while the returned bytes are alive: they are the
/// file's own pages, and a `&str` over them is parsed. A plan that `terraform show -json` wrote
/// before runguard started keeps this. The check above notices most writers after the fact, not
/// before the parser has read what they wrote; a truncation kills the process with `SIGBUS`.
pub unsafe fn map_plan_file(path: &Path) -> std::io::Result<PlanBytes> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    let stamp = match Stamp::of(&metadata) {
        Some(stamp)
            if metadata.is_file()
                && stamp.len > 0
                && !stamp.is_recent(SystemTime::now())
                && on_local_file_system(&file) =>
        {
            stamp
        }
        _ => return read_open_file(file, path),
    };
    // SAFETY: the caller promises that nothing writes to or truncates the file while the
    // mapping lives. `MappedFile::unchanged` notices most writers that break the promise, once
    // the parse is over.
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
    use std::os::unix::fs::{FileExt, PermissionsExt};

    /// A file of `len` patterned bytes last modified a day after the epoch, long ago enough to
    /// be mapped, and its content.
    fn settled(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let (file, content) = patterned(len);
        file.as_file().set_modified(long_ago()).expect("times set");
        (file, content)
    }

    /// A day after the epoch.
    fn long_ago() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(86_400)
    }

    /// Mapped, a file comes back byte for byte, whatever its length; an empty one is read.
    #[test]
    fn a_mapped_file_reads_back_whole() {
        for len in [0, 1, 4_095, 4_096, 4_097, 1 << 20] {
            let (file, content) = settled(len);
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

    /// A file modified in the last two seconds, or stamped in the future, is read: it may
    /// still be being written.
    #[test]
    fn a_file_modified_just_now_is_read() {
        let (file, content) = patterned(4_096);
        let future = SystemTime::now() + Duration::from_secs(3_600);
        for modified in [None, Some(future)] {
            if let Some(time) = modified {
                file.as_file().set_modified(time).expect("times set");
            }
            // SAFETY: nothing else knows of the temporary file.
            let read = unsafe { map_plan_file(file.path()) }.expect("readable");
            assert!(*read == content[..]);
            assert!(matches!(read.0, Storage::Heap(_)), "modified {modified:?}");
        }
    }

    #[test]
    fn recent_means_within_two_seconds_or_in_the_future() {
        let stamp = Stamp {
            len: 1,
            modified: long_ago(),
        };
        let after = |millis| long_ago() + Duration::from_millis(millis);
        assert!(stamp.is_recent(after(1_999)));
        assert!(!stamp.is_recent(after(2_000)));
        assert!(stamp.is_recent(long_ago() - Duration::from_millis(1)));
    }

    /// Local disks and memory are mapped; network, user-space and pseudo file systems are not.
    #[test]
    fn only_local_file_systems_are_mapped() {
        for local in [0xEF53, 0x0102_1994, 0x794C_7630, 0x5846_5342] {
            assert!(is_local(local), "{local:#x}");
        }
        // NFS, SMB2, CIFS, FUSE, 9p, Ceph, sysfs, procfs.
        for remote in [
            0x6969,
            0xFE53_4D42,
            0xFF53_4D42,
            0x6573_5546,
            0x0102_1997,
            0x00C3_6400,
            0x6265_6572,
            0x9FA0,
        ] {
            assert!(!is_local(remote), "{remote:#x}");
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
    /// that was mapped. One renamed, linked, unlinked or given another mode still is: its bytes
    /// are the ones mapped.
    #[test]
    fn a_file_written_to_after_mapping_is_noticed() {
        for change in [
            Change::InPlace,
            Change::Appended,
            Change::None,
            Change::Renamed,
            Change::Linked,
            Change::Unlinked,
            Change::Mode,
        ] {
            let (file, _) = settled(8_192);
            let dir = tempfile::tempdir().expect("a temporary directory");
            // SAFETY: the test writes to the file on this one thread, between reads of the
            // mapped bytes, never during one.
            let mapped = unsafe { map_plan_file(file.path()) }.expect("readable");
            assert!(matches!(mapped.0, Storage::File(_)));
            let other = dir.path().join("plan.json");
            match change {
                Change::InPlace => file.as_file().write_at(b"x", 10).map(drop),
                Change::Appended => file.as_file().write_all_at(b"more", 8_192),
                Change::None => Ok(()),
                Change::Renamed => std::fs::rename(file.path(), &other),
                Change::Linked => std::fs::hard_link(file.path(), &other),
                Change::Unlinked => std::fs::remove_file(file.path()),
                Change::Mode => {
                    std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o400))
                }
            }
            .expect("changed");
            let written = matches!(change, Change::InPlace | Change::Appended);
            assert_eq!(mapped.unchanged_since_read(), !written, "{change:?}");
        }
        assert!(PlanBytes::from(Vec::new()).unchanged_since_read());
    }

    #[derive(Debug, PartialEq, Clone, Copy)]
    enum Change {
        InPlace,
        Appended,
        None,
        Renamed,
        Linked,
        Unlinked,
        Mode,
    }
}
