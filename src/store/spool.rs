//! Files on disk while they download and until their batch is stored
//! (SPEC §11: "streamed to disk while it downloads, never held whole in
//! memory"). A crawl writes a file's body to a [`SpoolWriter`] chunk by
//! chunk, hashing as it goes; the finished [`Spool`] is compressed, again
//! a buffer at a time, into a [`Packed`] file whose bytes the store copies
//! into its packs when the batch commits. A 200 MB attachment so costs a
//! few buffers of memory, never its size.
//!
//! Both are unnamed files (`O_TMPFILE`) in the store's packs directory: on
//! the packs' file system, and gone with the process whatever ends it, so a
//! kill in the middle of a download leaves nothing behind.

use super::frames::Check;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes read or written at a time.
const BUFFER: usize = 256 * 1024;

/// A file being written: its bytes so far, their hash and length.
#[derive(Debug)]
pub struct SpoolWriter {
    dir: PathBuf,
    file: BufWriter<File>,
    hasher: blake3::Hasher,
    len: u64,
}

impl SpoolWriter {
    /// A new unnamed file in `dir`.
    ///
    /// # Errors
    /// When the file cannot be made.
    pub fn create_in(dir: &Path) -> io::Result<Self> {
        Ok(Self {
            dir: dir.to_owned(),
            file: BufWriter::with_capacity(BUFFER, tempfile::tempfile_in(dir)?),
            hasher: blake3::Hasher::new(),
            len: 0,
        })
    }

    /// Append `chunk`.
    ///
    /// # Errors
    /// When the disk refuses it (full, gone).
    pub fn write(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.file.write_all(chunk)?;
        self.hasher.update(chunk);
        self.len += chunk.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing was written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The file, whole.
    ///
    /// # Errors
    /// When its last bytes cannot be written.
    pub fn finish(self) -> io::Result<Spool> {
        let file = self
            .file
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        Ok(Spool {
            dir: self.dir,
            file,
            len: self.len,
            hash: self.hasher.finalize(),
        })
    }
}

/// A file's bytes on disk, hashed.
#[derive(Debug)]
pub struct Spool {
    /// Where its packed form goes too.
    dir: PathBuf,
    file: File,
    len: u64,
    hash: blake3::Hash,
}

impl Spool {
    /// Its length in bytes.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The blake3 hash of its bytes.
    #[must_use]
    pub fn hash(&self) -> blake3::Hash {
        self.hash
    }

    /// Its first `n` bytes (fewer when it is shorter).
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn head(&self, n: usize) -> io::Result<Vec<u8>> {
        let mut head = Vec::with_capacity(n.min(BUFFER));
        self.reader()?.take(n as u64).read_to_end(&mut head)?;
        Ok(head)
    }

    /// All its bytes, in memory: for a reader that needs them whole.
    ///
    /// # Errors
    /// When the file cannot be read.
    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut all = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        self.reader()?.read_to_end(&mut all)?;
        Ok(all)
    }

    /// A reader from its first byte, which may seek.
    ///
    /// # Errors
    /// When the file cannot be opened again.
    pub fn reader(&self) -> io::Result<File> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }

    /// Compress it as one zstd frame (at `level`) into a new unnamed file
    /// beside it, a buffer at a time.
    ///
    /// # Errors
    /// When a file cannot be read or written, or zstd fails.
    pub(super) fn pack(&self, level: i32) -> io::Result<Packed> {
        let mut out = CheckedWriter {
            file: BufWriter::with_capacity(BUFFER, tempfile::tempfile_in(&self.dir)?),
            check: Check::new(),
            len: 0,
        };
        let mut encoder = zstd::stream::write::Encoder::new(&mut out, level)?;
        encoder.set_pledged_src_size(Some(self.len))?;
        // the frame names its size, as the store's other frames do
        encoder.include_contentsize(true)?;
        io::copy(&mut self.reader()?, &mut encoder)?;
        encoder.finish()?;
        let CheckedWriter { file, check, len } = out;
        Ok(Packed {
            file: Arc::new(file.into_inner().map_err(io::IntoInnerError::into_error)?),
            len,
            check: check.finish(),
        })
    }
}

/// A spool's compressed bytes, as the packs store them: the frame's
/// payload, its length and check, ready to be copied into a pack.
#[derive(Debug, Clone)]
pub(super) struct Packed {
    pub(super) file: Arc<File>,
    pub(super) len: u64,
    pub(super) check: [u8; 4],
}

/// A writer that keeps a frame check of what passes through.
struct CheckedWriter {
    file: BufWriter<File>,
    check: Check,
    len: u64,
}

impl Write for CheckedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.check.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spooled_file_is_hashed_and_packed_as_one_frame_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut w = SpoolWriter::create_in(dir.path()).unwrap();
        for chunk in bytes.chunks(16_384) {
            w.write(chunk).unwrap();
        }
        let spool = w.finish().unwrap();
        assert_eq!(spool.len(), bytes.len() as u64);
        assert_eq!(spool.hash(), blake3::hash(&bytes));
        assert_eq!(spool.head(4).unwrap(), bytes[..4]);
        assert_eq!(spool.read_all().unwrap(), bytes);
        let packed = spool.pack(3).unwrap();
        let mut frame = Vec::new();
        let mut reader = packed.file.as_ref();
        reader.seek(SeekFrom::Start(0)).unwrap();
        reader.read_to_end(&mut frame).unwrap();
        assert_eq!(frame.len() as u64, packed.len);
        assert_eq!(Check::of(&frame), packed.check);
        assert_eq!(zstd::decode_all(frame.as_slice()).unwrap(), bytes);
        // nothing named was left in the directory
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
