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
//! - a file changed in the last [`RECENT`] is read, not mapped: it may still be being written,
//!   and a second write in the same tick of the file system's clock would leave its times as
//!   they were;
//! - the file's size and modification and change times are taken when it is mapped and again
//!   once it is parsed, and [`analyze_owned`](crate::analyze_owned) refuses a file whose stamp
//!   moved ([`InputError::ChangedWhileRead`](crate::InputError)) rather than report what it
//!   parsed. A writer that puts the modification time back still moves the change time, which
//!   no program can set. This misses a writer through a shared mapping of its own whose pages
//!   were already dirty (the kernel stamps only a page's first write), and, where the clock
//!   that stamps files ticks coarsely (Linux before 6.13), a writer done within the tick of the
//!   stamp taken at mapping;
//! - only a file on a local file system is mapped ([`on_local_file_system`]): a page that a
//!   network or user-space file system fails to read would kill the process with `SIGBUS`,
//!   where reading returns an error that names the file. This narrows that risk, it does not
//!   remove it: a local disk's I/O error raises `SIGBUS` too, and overlayfs maps the file of the
//!   file system beneath it;
//! - a page truncated away kills the process with `SIGBUS` when it is touched: an abnormal
//!   exit, which no gate reads as a pass.
#![allow(unsafe_code)]

use std::fs::File;
use std::os::unix::fs::MetadataExt;
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

    /// Whether the file still has the size and times it had when it was mapped. Renaming,
    /// linking, unlinking it or changing its mode moves its change time too: the bytes are the
    /// ones mapped, and the caller reads them again for nothing, which is rare and safe.
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
    /// Set by every write and every change of the other times, and never by a program; never
    /// earlier than the modification time.
    changed: SystemTime,
}

impl Stamp {
    /// `None` where the file system keeps no modification time, or a change time before 1970.
    fn of(metadata: &std::fs::Metadata) -> Option<Stamp> {
        let since_epoch = Duration::new(
            u64::try_from(metadata.ctime()).ok()?,
            u32::try_from(metadata.ctime_nsec()).ok()?,
        );
        Some(Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok()?,
            changed: SystemTime::UNIX_EPOCH.checked_add(since_epoch)?,
        })
    }

    /// Changed within [`RECENT`] of `now`, or stamped in the future. The change time, which a
    /// file being written, or one just copied with its modification time kept (`cp -p`), has
    /// fresh whatever its modification time says.
    fn is_recent(&self, now: SystemTime) -> bool {
        now.duration_since(self.changed)
            .map_or(true, |age| age < RECENT)
    }
}

/// How long ago a file must have last been changed to be mapped. File systems stamp times from
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
    // A magic number is 32 bits; `f_type` is a C long on some targets, zero-extended.
    rustix::fs::fstatfs(file).is_ok_and(|fs| is_local(fs.f_type as u32))
}

/// Whether the file system with magic number `magic` is one of the local ones.
fn is_local(magic: u32) -> bool {
    const LOCAL: [u32; 11] = [
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
/// is a file changed in the last two seconds or one that is not on a local file system.
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
    // SAFETY: the caller's promise, passed on.
    unsafe { map_settled(path, SystemTime::now()) }
}

/// [`map_plan_file`], judging whether the file changed recently against `now`.
///
/// # Safety
/// As [`map_plan_file`].
unsafe fn map_settled(path: &Path, now: SystemTime) -> std::io::Result<PlanBytes> {
    let file = File::open(path)?;
    let metadata = file.metadata()?;
    let stamp = match Stamp::of(&metadata) {
        Some(stamp)
            if metadata.is_file()
                && stamp.len > 0
                && !stamp.is_recent(now)
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
    use std::os::unix::fs::FileExt;

    /// A file of `len` patterned bytes whose modification time is a day after the epoch, so
    /// that a write moves it even where the clock that stamps files ticks coarsely, and its
    /// content.
    fn settled(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let (file, content) = patterned(len);
        file.as_file().set_modified(long_ago()).expect("times set");
        (file, content)
    }

    /// A day after the epoch.
    fn long_ago() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(86_400)
    }

    /// [`map_plan_file`] an hour from now, when the file has long stopped changing.
    fn map_later(path: &Path) -> std::io::Result<PlanBytes> {
        // SAFETY: the tests write to their temporary files on the thread that maps them,
        // between reads of the mapped bytes, never during one.
        unsafe { map_settled(path, SystemTime::now() + Duration::from_secs(3_600)) }
    }

    /// Mapped, a file comes back byte for byte, whatever its length; an empty one, or one on a
    /// file system that is not local (where the tests' temporary directory may be), is read.
    #[test]
    fn a_mapped_file_reads_back_whole() {
        for len in [0, 1, 4_095, 4_096, 4_097, 1 << 20] {
            let (file, content) = settled(len);
            let mapped = map_later(file.path()).expect("readable");
            assert!(*mapped == content[..], "{len} bytes");
            let mappable = len > 0 && on_local_file_system(file.as_file());
            assert_eq!(mapped.is_mapped(), mappable, "{len} bytes");
        }
    }

    /// A file in memory (tmpfs, which every Linux mounts at `/dev/shm`) is on a local file
    /// system, and is mapped.
    #[test]
    fn a_file_on_tmpfs_is_mapped() {
        let file = tempfile::NamedTempFile::new_in("/dev/shm").expect("a file in /dev/shm");
        std::fs::write(file.path(), b"{}").expect("written");
        assert!(on_local_file_system(file.as_file()));
        let mapped = map_later(file.path()).expect("readable");
        assert!(mapped.is_mapped());
        assert_eq!(&*mapped, b"{}");
    }

    /// A file changed in the last two seconds, or stamped in the future, is read: it may still
    /// be being written.
    #[test]
    fn a_file_changed_just_now_is_read() {
        let (file, content) = settled(4_096);
        let an_hour_ago = SystemTime::now() - Duration::from_secs(3_600);
        // SAFETY: nothing else knows of the temporary file.
        let now = unsafe { map_plan_file(file.path()) }.expect("readable");
        // SAFETY: as above.
        let before_it_was_made =
            unsafe { map_settled(file.path(), an_hour_ago) }.expect("readable");
        for read in [now, before_it_was_made] {
            assert!(*read == content[..]);
            assert!(!read.is_mapped());
        }
    }

    #[test]
    fn recent_means_within_two_seconds_or_in_the_future() {
        let stamp = Stamp {
            len: 1,
            modified: long_ago(),
            changed: long_ago(),
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
        let read = map_later(&fifo).expect("readable");
        writer.join().expect("the writer finishes");
        assert_eq!(&*read, br#"{"format_version":"1.2"}"#);
        assert!(!read.is_mapped());
    }

    /// A file on sysfs (not a local file system by its magic number, and one where every file
    /// claims a page it cannot map) is read, whole.
    #[test]
    fn a_file_on_sysfs_is_read() {
        let path = Path::new("/sys/devices/system/cpu/online");
        let read = map_later(path).expect("readable");
        assert_eq!(*read, std::fs::read(path).expect("readable")[..]);
        assert!(!read.is_empty());
        assert!(!read.is_mapped());
    }

    /// A file written to after it was mapped, in place, at its end, or in place with its
    /// modification time put back, is no longer the file that was mapped; one left alone still
    /// is.
    #[test]
    fn a_file_written_to_after_mapping_is_noticed() {
        for change in [
            Change::InPlace,
            Change::Appended,
            Change::TimeRestored,
            Change::None,
        ] {
            let (file, _) = settled(8_192);
            let mapped = map_later(file.path()).expect("readable");
            if !mapped.is_mapped() {
                // The temporary directory is not on a local file system: nothing is mapped,
                // and a copy is never changed.
                assert!(mapped.unchanged_since_read());
                continue;
            }
            let f = file.as_file();
            match change {
                Change::InPlace => f.write_at(b"x", 10).map(drop),
                Change::Appended => f.write_all_at(b"more", 8_192),
                Change::TimeRestored => {
                    // Past the tick of the clock that stamps files (a few milliseconds), so
                    // that the change time moves from the one the mapping took.
                    std::thread::sleep(Duration::from_millis(30));
                    f.write_at(b"x", 10)
                        .and_then(|_| f.set_modified(long_ago()))
                }
                Change::None => Ok(()),
            }
            .expect("changed");
            assert_eq!(
                mapped.unchanged_since_read(),
                change == Change::None,
                "{change:?}"
            );
        }
        assert!(PlanBytes::from(Vec::new()).unchanged_since_read());
    }

    #[derive(Debug, PartialEq, Clone, Copy)]
    enum Change {
        InPlace,
        Appended,
        TimeRestored,
        None,
    }
}
