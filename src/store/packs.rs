//! The store's large values that never change once written (raw page
//! bytes, version records) in append-only pack files, `STORE/packs/
//! NNNNNN.pack`; sled holds an 18-byte [`Pointer`] to each, in trees `raw`
//! and `versions`.
//!
//! Why: sled is log-structured, and a leaf it rewrites is written whole
//! with every value in it. Kept in sled, the raw bytes and records were
//! half of its data and most of what its cleaner had to move after a
//! crawl: the store was about twice its keys and values, and the next
//! process, moving that, could take a new segment. Appended here, a value
//! is written once.
//!
//! Flow: a transaction that stores a version appends its values to the
//! current pack (a frame each, see `frames`) and syncs the pack before it
//! commits, so a pointer sled keeps always finds its bytes; a transaction
//! that aborts or retries leaves frames nothing points to (a few bytes,
//! never read). A pack grows to [`PACK_BYTES`], then the next is begun.

use super::frames::{Check, FRAME_HEAD, Payload, frame, frame_head, read_frame};
use super::spool::Packed;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The first bytes of a pack: what it is, and its layout's version.
const MAGIC: &[u8; 8] = b"GSPACK1\n";
/// A pack is closed once it holds this much.
const PACK_BYTES: u64 = 1 << 30;
/// How a value in `raw` or `versions` says it is a pointer: no JSON and no
/// zstd frame begins with 0xFF.
const POINTER_TAG: [u8; 2] = [0xFF, b'P'];
/// Bytes of an encoded [`Pointer`].
const POINTER_LEN: usize = 18;

/// Where a value is: its pack, and its frame's offset and payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pointer {
    pub(super) pack: u32,
    pub(super) offset: u64,
    pub(super) len: u32,
}

impl Pointer {
    /// The value sled keeps.
    pub(super) fn encode(self) -> [u8; POINTER_LEN] {
        let mut b = [0; POINTER_LEN];
        b[..2].copy_from_slice(&POINTER_TAG);
        b[2..6].copy_from_slice(&self.pack.to_le_bytes());
        b[6..14].copy_from_slice(&self.offset.to_le_bytes());
        b[14..18].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    /// The pointer a sled value is, if it is one.
    pub(super) fn decode(value: &[u8]) -> Option<Self> {
        let b: &[u8; POINTER_LEN] = value.try_into().ok()?;
        if b[..2] != POINTER_TAG {
            return None;
        }
        Some(Self {
            pack: u32::from_le_bytes(b[2..6].try_into().ok()?),
            offset: u64::from_le_bytes(b[6..14].try_into().ok()?),
            len: u32::from_le_bytes(b[14..18].try_into().ok()?),
        })
    }

    /// The payload's bytes.
    pub(super) fn len(self) -> u64 {
        u64::from(self.len)
    }
}

/// The pack files of one store.
#[derive(Debug)]
pub(super) struct Packs {
    dir: PathBuf,
    /// A temporary store's: removed when dropped.
    temporary: bool,
    writer: Mutex<Writer>,
    readers: Mutex<HashMap<u32, Arc<File>>>,
}

#[derive(Debug)]
struct Writer {
    pack: u32,
    file: File,
    end: u64,
    /// Whether something was appended since the last sync.
    unsynced: bool,
}

impl Packs {
    /// The packs in `dir`, created when missing; appends go to the last.
    pub(super) fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut last = 0;
        for entry in std::fs::read_dir(dir)? {
            let name = entry?.file_name();
            let number = name
                .to_str()
                .and_then(|n| n.strip_suffix(".pack"))
                .and_then(|n| n.parse::<u32>().ok());
            last = last.max(number.unwrap_or(0));
        }
        let writer = Writer::open(dir, last.max(1))?;
        Ok(Self {
            dir: dir.to_owned(),
            temporary: false,
            writer: Mutex::new(writer),
            readers: Mutex::default(),
        })
    }

    /// Packs in a new directory of their own, removed when dropped.
    pub(super) fn temporary() -> io::Result<Self> {
        let mut packs = Self::open(&super::disk::unnamed_path("packs"))?;
        packs.temporary = true;
        Ok(packs)
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // a panic while it was held left the file as it was: at worst a
        // frame nothing points to
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Append a value; durable after the next [`Packs::sync`].
    pub(super) fn append(&self, payload: &[u8]) -> io::Result<Pointer> {
        let frame = frame(payload)?;
        let mut w = self.writer();
        if w.end + frame.len() as u64 > PACK_BYTES && w.end > MAGIC.len() as u64 {
            w.file.sync_data()?;
            *w = Writer::open(&self.dir, w.pack + 1)?;
        }
        let at = w.end;
        w.file.write_all_at(&frame, at)?;
        w.end += frame.len() as u64;
        w.unsynced = true;
        Ok(Pointer {
            pack: w.pack,
            offset: at,
            len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
        })
    }

    /// Append a spooled file's compressed bytes (see `spool`), copied a
    /// buffer at a time; durable after the next [`Packs::sync`].
    pub(super) fn append_packed(&self, packed: &Packed) -> io::Result<Pointer> {
        let head = frame_head(packed.len, packed.check)?;
        let size = FRAME_HEAD + packed.len;
        let mut w = self.writer();
        if w.end + size > PACK_BYTES && w.end > MAGIC.len() as u64 {
            w.file.sync_data()?;
            *w = Writer::open(&self.dir, w.pack + 1)?;
        }
        let at = w.end;
        w.file.write_all_at(&head, at)?;
        let mut buffer = vec![0; 256 * 1024];
        let mut copied = 0;
        while copied < packed.len {
            let want = usize::try_from(packed.len - copied)
                .unwrap_or(usize::MAX)
                .min(buffer.len());
            packed.file.read_exact_at(&mut buffer[..want], copied)?;
            w.file
                .write_all_at(&buffer[..want], at + FRAME_HEAD + copied)?;
            copied += want as u64;
        }
        w.end += size;
        w.unsynced = true;
        Ok(Pointer {
            pack: w.pack,
            offset: at,
            len: u32::try_from(packed.len).unwrap_or(u32::MAX),
        })
    }

    /// The directory of the packs: where spooled files go too, on the
    /// same file system.
    pub(super) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Make every value appended so far durable.
    pub(super) fn sync(&self) -> io::Result<()> {
        let mut w = self.writer();
        if w.unsynced {
            w.file.sync_data()?;
            w.unsynced = false;
        }
        Ok(())
    }

    /// The pack a pointer points into, opened once.
    fn file(&self, at: Pointer) -> io::Result<Arc<File>> {
        let mut readers = self.readers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = readers.get(&at.pack) {
            return Ok(file.clone());
        }
        let file = Arc::new(File::open(pack_path(&self.dir, at.pack))?);
        readers.insert(at.pack, file.clone());
        Ok(file)
    }

    /// A reader of the value a pointer points to, a buffer at a time (a
    /// large file's raw bytes); its check is verified as its last bytes
    /// are read, and a damaged value is an error then.
    pub(super) fn reader(&self, at: Pointer) -> io::Result<FrameReader> {
        let file = self.file(at)?;
        let mut head = [0; 8];
        file.read_exact_at(&mut head, at.offset)?;
        if u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]])) != at.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "pack {} at byte {}: not the value stored there",
                    at.pack, at.offset
                ),
            ));
        }
        let start = at.offset + FRAME_HEAD;
        Ok(FrameReader {
            file,
            at: start,
            end: start + at.len(),
            check: Check::new(),
            expected: [head[4], head[5], head[6], head[7]],
        })
    }

    /// The value a pointer points to, checked.
    pub(super) fn read(&self, at: Pointer) -> Payload {
        let file = self.file(at)?;
        let payload = read_frame(&file, at.offset, at.offset + FRAME_HEAD + at.len())?;
        if payload.len() as u64 != at.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "pack {} at byte {}: not the value stored there",
                    at.pack, at.offset
                ),
            ));
        }
        Ok(payload)
    }
}

/// A value of a pack, read as it is asked for (see [`Packs::reader`]).
#[derive(Debug)]
pub(super) struct FrameReader {
    file: Arc<File>,
    at: u64,
    end: u64,
    check: Check,
    expected: [u8; 4],
}

impl FrameReader {
    /// Its first `n` bytes, without reading them.
    pub(super) fn peek(&self, n: usize) -> io::Result<Vec<u8>> {
        let n = usize::try_from(self.end - self.at).map_or(n, |left| left.min(n));
        let mut head = vec![0; n];
        self.file.read_exact_at(&mut head, self.at)?;
        Ok(head)
    }
}

impl io::Read for FrameReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end - self.at).unwrap_or(usize::MAX);
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(left);
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        self.check.update(&buf[..n]);
        self.at += n as u64;
        if self.at == self.end && self.check.finish() != self.expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a value in the packs is damaged (its check does not match)",
            ));
        }
        Ok(n)
    }
}

impl Drop for Packs {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Writer {
    /// Pack `number` in `dir`, opened to append (begun when new, or when a
    /// kill left it shorter than its first bytes).
    fn open(dir: &Path, pack: u32) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(pack_path(dir, pack))?;
        let mut end = file.metadata()?.len();
        if end < MAGIC.len() as u64 {
            file.set_len(0)?;
            file.write_all_at(MAGIC, 0)?;
            file.sync_all()?;
            end = MAGIC.len() as u64;
        }
        Ok(Self {
            pack,
            file,
            end,
            unsynced: false,
        })
    }
}

fn pack_path(dir: &Path, pack: u32) -> PathBuf {
    dir.join(format!("{pack:06}.pack"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_back_through_their_pointers_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::open(dir.path()).unwrap();
        let values: Vec<Vec<u8>> = (0..50u32)
            .map(|i| {
                format!("关于第{i}批政府信息公开目录的通知")
                    .repeat(i as usize + 1)
                    .into_bytes()
            })
            .collect();
        let pointers: Vec<Pointer> = values.iter().map(|v| packs.append(v).unwrap()).collect();
        packs.sync().unwrap();
        drop(packs);
        let packs = Packs::open(dir.path()).unwrap();
        for (value, at) in values.iter().zip(&pointers) {
            assert_eq!(Pointer::decode(&at.encode()), Some(*at));
            assert_eq!(&packs.read(*at).unwrap(), value);
        }
        // appends go on after what is there
        let more = packs.append(b"{\"title\":\"more\"}").unwrap();
        assert!(more.offset > pointers[49].offset);
    }

    /// A schema-10 store kept these values in sled: opening it moves them
    /// to the packs, and a second upgrade (as after a kill before the
    /// schema mark) moves nothing again.
    #[test]
    fn a_schema_10_stores_values_move_to_the_packs_once() {
        use crate::store::tests::{BODY, URL, page, put, reopen};
        use crate::store::{Store, trees};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let (v1, v2) = (page(BODY, 1), page("<p>通知已废止。</p>", 1));
        let as_schema_10 = |store: &Store| {
            for tree in [&store.versions, &store.raw] {
                for kv in tree {
                    let (key, value) = kv.unwrap();
                    let inline = store.unpack(&value).unwrap().into_owned();
                    tree.insert(key, inline).unwrap();
                }
            }
            store
                .meta
                .insert(trees::SCHEMA_KEY, b"10".as_slice())
                .unwrap();
            store.flush().unwrap();
        };
        let store = Store::open(&path).unwrap();
        put(&store, &v1, 0);
        put(&store, &v2, 60);
        as_schema_10(&store);
        assert!(
            store
                .versions
                .iter()
                .values()
                .all(|v| Pointer::decode(&v.unwrap()).is_none())
        );
        drop(store);
        let packs_bytes = || -> u64 {
            std::fs::read_dir(path.join("packs"))
                .unwrap()
                .map(|f| f.unwrap().metadata().unwrap().len())
                .sum()
        };
        let store = reopen(&path).unwrap();
        for tree in [&store.versions, &store.raw] {
            assert!(
                tree.iter()
                    .values()
                    .all(|v| Pointer::decode(&v.unwrap()).is_some())
            );
        }
        let latest = store.latest(URL).unwrap().unwrap();
        assert_eq!(latest.version, 2);
        assert_eq!(store.raw(&latest).unwrap().unwrap(), v2.as_bytes());
        let first = store.version(URL, 1).unwrap().unwrap();
        assert_eq!(store.raw(&first).unwrap().unwrap(), v1.as_bytes());
        store
            .meta
            .insert(trees::SCHEMA_KEY, b"10".as_slice())
            .unwrap();
        store.flush().unwrap();
        let moved = packs_bytes();
        drop(store);
        let store = reopen(&path).unwrap();
        assert_eq!(packs_bytes(), moved, "nothing appended twice");
        assert_eq!(store.all_versions().count(), 2);
    }

    #[test]
    fn a_pointer_is_no_json_and_no_zstd_frame_and_a_wrong_one_is_an_error() {
        assert_eq!(
            Pointer::decode(b"{\"url\":\"http://www.gd.gov.cn/\"}"),
            None
        );
        let frame = zstd::encode_all(&b"<html></html>"[..], 1).unwrap();
        assert_eq!(Pointer::decode(&frame), None);
        let dir = tempfile::tempdir().unwrap();
        let packs = Packs::open(dir.path()).unwrap();
        let at = packs.append(b"<html><body>raw</body></html>").unwrap();
        let wrong = Pointer {
            len: at.len + 1,
            ..at
        };
        assert!(packs.read(wrong).is_err());
        let elsewhere = Pointer { pack: 9, ..at };
        assert!(packs.read(elsewhere).is_err());
    }
}
