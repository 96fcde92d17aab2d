//! A plan file's bytes: mapped (`mapped`, what the binary does on Linux with a file on a local
//! file system that has not changed in the last two seconds), or read. A large plan's read is
//! mostly the kernel copying pages into fresh memory, one page fault at a time; two threads each
//! read one half of the file into their half of the buffer, so that work takes two cores
//! instead of one.
//!
//! A large plan that is read lives in a memory mapping of its own, not on the heap: its bytes
//! are freed once parsed (see [`crate::analyze_owned`]), and unmapping gives the pages back to
//! the system at once, whatever the allocator does with freed memory. The binary's allocator
//! keeps freed memory for a second before returning it, longer than a whole analysis: a 125 MB
//! plan held on the heap stayed in the peak memory of everything that followed.

#[cfg(target_os = "linux")]
mod mapped;

use std::fs::File;
use std::io::Read;
use std::ops::Deref;
use std::path::Path;

#[cfg(target_os = "linux")]
pub use mapped::map_plan_file;

/// Below this size one read is as fast: the second thread would cost more than it saves.
/// Elsewhere than on Unix every file is read in one piece (and only the tests use it).
#[cfg_attr(not(unix), allow(dead_code))]
const READ_IN_HALVES_FROM: usize = 8 << 20;

/// The bytes of a plan document, owned: on the heap; for a large file read from disk, in an
/// anonymous memory mapping that is returned to the system when they are dropped; or the file's
/// own pages, mapped ([`map_plan_file`]).
pub struct PlanBytes(Storage);

enum Storage {
    Heap(Vec<u8>),
    /// Only a plan read in halves is in a mapping of its own, and that read is Unix's
    /// (`FileExt::read_exact_at`).
    #[cfg(unix)]
    Anonymous(memmap2::MmapMut),
    #[cfg(target_os = "linux")]
    File(mapped::MappedFile),
}

impl PlanBytes {
    /// Whether these bytes are the plan file's own pages ([`map_plan_file`] mapped it), rather
    /// than a copy read from it: then [`crate::analyze_owned`] checks that the file did not
    /// change while it was parsed ([`crate::InputError::ChangedWhileRead`]).
    pub fn is_mapped(&self) -> bool {
        match &self.0 {
            #[cfg(target_os = "linux")]
            Storage::File(_) => true,
            _ => false,
        }
    }

    /// Whether the bytes are still what the plan's file holds: a mapped file may have been
    /// written to since it was mapped, bytes that were read are a copy.
    pub(crate) fn unchanged_since_read(&self) -> bool {
        match &self.0 {
            #[cfg(target_os = "linux")]
            Storage::File(file) => file.unchanged(),
            _ => true,
        }
    }
}

impl Deref for PlanBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Storage::Heap(bytes) => bytes,
            #[cfg(unix)]
            Storage::Anonymous(map) => map,
            #[cfg(target_os = "linux")]
            Storage::File(file) => file.bytes(),
        }
    }
}

impl From<Vec<u8>> for PlanBytes {
    fn from(bytes: Vec<u8>) -> PlanBytes {
        PlanBytes(Storage::Heap(bytes))
    }
}

impl std::fmt::Debug for PlanBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PlanBytes({} bytes)", self.len())
    }
}

/// The whole content of the file at `path`, as [`std::fs::read`] gives it.
pub fn read_plan_file(path: &Path) -> std::io::Result<PlanBytes> {
    read_open_file(File::open(path)?, path)
}

/// Elsewhere than on Linux a plan file is read: [`read_plan_file`]. (Only Linux says which file
/// systems keep their pages on this machine in a way runguard checks.)
///
/// # Safety
/// None needed here; on Linux, where the file is mapped, no process may write to or truncate it
/// while the returned bytes are alive.
#[cfg(not(target_os = "linux"))]
#[allow(unsafe_code)]
pub unsafe fn map_plan_file(path: &Path) -> std::io::Result<PlanBytes> {
    read_plan_file(path)
}

/// The whole content of `file`, opened from `path`, read.
fn read_open_file(mut file: File, path: &Path) -> std::io::Result<PlanBytes> {
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    #[cfg(unix)]
    if len >= READ_IN_HALVES_FROM {
        return read_in_halves(file, len, path);
    }
    let mut bytes = Vec::with_capacity(len);
    file.read_to_end(&mut bytes)?;
    Ok(bytes.into())
}

/// Reads the `len` bytes of `file` in two halves at once into a fresh mapping. A file that
/// changes size while it is read is read again, whole, onto the heap.
#[cfg(unix)]
fn read_in_halves(file: File, len: usize, path: &Path) -> std::io::Result<PlanBytes> {
    use std::os::unix::fs::FileExt;
    // Zeroed pages that are not touched yet: each half is faulted in by the thread reading it.
    let mut map = memmap2::MmapMut::map_anon(len)?;
    let (first, second) = map.split_at_mut(len / 2);
    let offset = first.len() as u64;
    let (second_read, first_read) = crate::parallel::join(
        || file.read_exact_at(second, offset),
        || file.read_exact_at(first, 0),
    );
    match first_read.and(second_read) {
        Ok(()) => {
            // A byte past the `len` read means the file grew since its size was taken.
            if file.read_at(&mut [0u8], len as u64)? == 0 {
                Ok(PlanBytes(Storage::Anonymous(map)))
            } else {
                Ok(std::fs::read(path)?.into())
            }
        }
        // It shrank while being read.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(std::fs::read(path)?.into()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Read in halves or in one piece, a file comes back byte for byte, whatever its length.
    #[test]
    fn a_file_reads_back_whole() {
        for len in [
            0,
            1,
            4_097,
            READ_IN_HALVES_FROM - 1,
            READ_IN_HALVES_FROM,
            READ_IN_HALVES_FROM + 4_099,
        ] {
            let (file, content) = patterned(len);
            let read = read_plan_file(file.path()).expect("readable");
            assert!(*read == content[..], "{len} bytes");
        }
    }

    /// A file of `len` patterned bytes, and its content.
    pub(super) fn patterned(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let content: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
        file.write_all(&content).expect("written");
        (file, content)
    }

    /// A file that changes size between taking its size and reading it comes back whole, as it
    /// is at the second reading: one that grew (read for fewer bytes than it has), one that
    /// shrank (read for more). A large plan that changes while it is read is rare, but a partial
    /// document would be analysed as if it were the plan.
    #[test]
    #[cfg(unix)]
    fn a_file_that_changes_size_while_read_comes_back_whole() {
        let len = READ_IN_HALVES_FROM + 4_099;
        for taken in [len - 1_000, len + 1_000] {
            let (file, content) = patterned(len);
            let opened = File::open(file.path()).expect("readable");
            let read = read_in_halves(opened, taken, file.path()).expect("read again");
            assert!(*read == content[..], "size taken as {taken} of {len}");
        }
    }

    /// Only a file that ended early is read again: any other error of the read is the answer.
    #[test]
    #[cfg(unix)]
    fn a_read_that_fails_is_not_retried() {
        let (file, _) = patterned(READ_IN_HALVES_FROM);
        let write_only = std::fs::OpenOptions::new()
            .write(true)
            .open(file.path())
            .expect("writable");
        let err = read_in_halves(write_only, READ_IN_HALVES_FROM, file.path())
            .expect_err("a write-only file cannot be read");
        assert_ne!(err.kind(), std::io::ErrorKind::UnexpectedEof, "{err}");
    }

    /// A plan's bytes may hold secrets: debugging output shows their length, never them.
    #[test]
    fn plan_bytes_debug_shows_the_length_only() {
        let bytes = PlanBytes::from(br#"{"password":"hunter2"}"#.to_vec());
        assert_eq!(format!("{bytes:?}"), "PlanBytes(22 bytes)");
    }

    #[test]
    fn a_missing_file_is_an_error_of_its_kind() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let err = read_plan_file(&dir.path().join("plan.json")).expect_err("no such file");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
