//! Reading a plan file. A large plan's read is mostly the kernel copying pages into fresh
//! memory, one page fault at a time; two threads each read one half of the file into their
//! half of the buffer, so that work takes two cores instead of one.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Below this size one read is as fast: the second thread would cost more than it saves.
const READ_IN_HALVES_FROM: usize = 8 << 20;

/// The whole content of the file at `path`, as [`std::fs::read`] gives it.
pub fn read_plan_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    #[cfg(unix)]
    if len >= READ_IN_HALVES_FROM {
        return read_in_halves(file, len, path);
    }
    let mut bytes = Vec::with_capacity(len);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads the first `len` bytes of `file` in two halves at once, then whatever follows.
#[cfg(unix)]
fn read_in_halves(mut file: File, len: usize, path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    use std::os::unix::fs::FileExt;
    // Zeroed memory that is not touched yet: each half is faulted in by the thread reading it.
    let mut bytes = vec![0u8; len];
    let (first, second) = bytes.split_at_mut(len / 2);
    let offset = first.len() as u64;
    let (second_read, first_read) = crate::parallel::join(
        || file.read_exact_at(second, offset),
        || file.read_exact_at(first, 0),
    );
    match first_read.and(second_read) {
        Ok(()) => {
            // The file may have grown since its size was taken: read the rest as well.
            file.seek(SeekFrom::Start(len as u64))?;
            file.read_to_end(&mut bytes)?;
            Ok(bytes)
        }
        // It shrank while being read: read it again, whole.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => std::fs::read(path),
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
            let content: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut file = tempfile::NamedTempFile::new().expect("a temporary file");
            file.write_all(&content).expect("written");
            let read = read_plan_file(file.path()).expect("readable");
            assert!(read == content, "{len} bytes");
        }
    }

    #[test]
    fn a_missing_file_is_an_error_of_its_kind() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let err = read_plan_file(&dir.path().join("plan.json")).expect_err("no such file");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
