//! The fetch log (every fetch, in the order written) in one append-only
//! file, `STORE/fetch_log`, outside sled.
//!
//! It is the one part of the store that grows on every recrawl, by a few
//! bytes a page. In sled that growth came in the steps of its log
//! segments (512 KiB): with the space its cleaner holds back, a store of
//! 2,000 pages grew by a whole segment, 250 bytes a page, every ten or so
//! unchanged recrawls. Appended to a file of its own it grows by what it
//! holds and nothing else.
//!
//! Flow: a write adds its entries to a pending list once its sled
//! transaction has committed; [`FetchLog::write_pending`] appends them as
//! one frame and syncs it when the store flushes, after sled has flushed.
//! So the file never holds a fetch whose page write sled could still lose;
//! a kill can lose the pending entries of writes sled already has, as sled
//! alone lost its unflushed writes before.
//!
//! Layout: [`MAGIC`], then frames: the payload's length (u32,
//! little-endian), 4 bytes of blake3 over the payload, the payload: the
//! entries as a JSON array, in a zstd frame when there are several (what a
//! sled value of tree `fetch_log` held before schema 10). Opening drops a
//! torn last frame (a kill during an append).

use super::frames::{FRAME_HEAD, frame, frame_len, read_frame};
use super::values::FetchLogEntry;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The first bytes of the file: what it is, and its layout's version.
pub(super) const MAGIC: &[u8; 8] = b"GSFLOG1\n";
/// Opening checks the payloads of the frames in this many last bytes: an
/// append that a crash tore can only be there.
const CHECKED_TAIL: u64 = 1 << 20;

/// The open file and what is waiting to be appended to it.
#[derive(Debug)]
pub(super) struct FetchLog {
    inner: Mutex<Inner>,
    /// The store's sled, flushed before the last entries are written when
    /// the log is dropped.
    sled: std::sync::OnceLock<sled::Db>,
}

#[derive(Debug)]
struct Inner {
    file: File,
    /// Where the frames end (the file's length, unless a write failed).
    end: u64,
    pending: Vec<FetchLogEntry>,
}

pub(super) use super::frames::Payload;

impl FetchLog {
    /// Open the log at `path`, creating it when missing. Returns the log
    /// and the bytes of a torn frame it dropped from the end.
    pub(super) fn open(path: &Path) -> io::Result<(Self, u64)> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        let end = if len < MAGIC.len() as u64 {
            // new, or a kill before its first bytes were written
            file.set_len(0)?;
            file.write_all_at(MAGIC, 0)?;
            file.sync_all()?;
            MAGIC.len() as u64
        } else {
            let mut magic = [0; 8];
            file.read_exact_at(&mut magic, 0)?;
            if &magic != MAGIC {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "not a govsnap fetch log (its first bytes are not GSFLOG1)",
                ));
            }
            let end = good_end(&file, len)?;
            if end < len {
                file.set_len(end)?;
                file.sync_all()?;
            }
            end
        };
        let log = Self::with_file(file, end);
        Ok((log, len.saturating_sub(end)))
    }

    /// A log in an unnamed temporary file (a temporary store's).
    pub(super) fn anonymous() -> io::Result<Self> {
        let path = super::disk::unnamed_path("fetch-log");
        let (log, _) = Self::open(&path)?;
        std::fs::remove_file(&path)?;
        Ok(log)
    }

    fn with_file(file: File, end: u64) -> Self {
        Self {
            inner: Mutex::new(Inner {
                file,
                end,
                pending: Vec::new(),
            }),
            sled: std::sync::OnceLock::new(),
        }
    }

    /// Flush `db` before the last entries are written when this is dropped.
    pub(super) fn flush_first(&self, db: &sled::Db) {
        let _ = self.sled.set(db.clone());
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // a panic while it was held left `end` and the file as they were
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queue entries for the next [`FetchLog::write_pending`]. Returns how
    /// many are queued.
    pub(super) fn append(&self, entries: &[FetchLogEntry]) -> usize {
        let mut inner = self.lock();
        inner.pending.extend_from_slice(entries);
        inner.pending.len()
    }

    /// Append the queued entries as one frame and sync the file. A failed
    /// write is cut off again and the entries stay queued.
    pub(super) fn write_pending(&self) -> io::Result<()> {
        let mut inner = self.lock();
        if inner.pending.is_empty() {
            return Ok(());
        }
        let frame = frame(&payload(&inner.pending)?)?;
        let end = inner.end;
        let written = inner
            .file
            .write_all_at(&frame, end)
            .and_then(|()| inner.file.sync_data());
        if let Err(e) = written {
            let _ = inner.file.set_len(end);
            return Err(e);
        }
        inner.end += frame.len() as u64;
        inner.pending.clear();
        Ok(())
    }

    /// Every payload, oldest first: the file's frames, then the queued
    /// entries as one more.
    pub(super) fn payloads(&self) -> io::Result<impl Iterator<Item = Payload> + use<>> {
        let inner = self.lock();
        let file = inner.file.try_clone()?;
        let queued = if inner.pending.is_empty() {
            None
        } else {
            Some(payload(&inner.pending))
        };
        let end = inner.end;
        drop(inner);
        let mut at = MAGIC.len() as u64;
        let frames = std::iter::from_fn(move || {
            (at < end).then(|| {
                let payload = read_frame(&file, at, end);
                // a bad frame ends the reading: nothing after it can be found
                at = match &payload {
                    Ok(p) => at + FRAME_HEAD + p.len() as u64,
                    Err(_) => end,
                };
                payload
            })
        });
        Ok(frames.chain(queued))
    }

    /// Bytes of the file, and how many frames it holds.
    pub(super) fn size(&self) -> io::Result<(u64, u64)> {
        let inner = self.lock();
        let (mut at, mut frames) = (MAGIC.len() as u64, 0);
        while at < inner.end {
            at += FRAME_HEAD + u64::from(frame_len(&inner.file, at)?);
            frames += 1;
        }
        Ok((inner.end, frames))
    }

    /// Whether the file holds no frame.
    pub(super) fn is_empty(&self) -> bool {
        self.lock().end <= MAGIC.len() as u64
    }

    /// Replace the whole file with these payloads, at once: they are
    /// written to a file beside it that is then renamed over it, so a kill
    /// leaves the old file or the new one.
    pub(super) fn replace(
        &self,
        path: &Path,
        payloads: impl Iterator<Item = io::Result<Vec<u8>>>,
    ) -> io::Result<()> {
        let mut inner = self.lock();
        let next = PathBuf::from(format!("{}.new", path.display()));
        let file = File::create(&next)?;
        file.write_all_at(MAGIC, 0)?;
        let mut end = MAGIC.len() as u64;
        for payload in payloads {
            let frame = frame(&payload?)?;
            file.write_all_at(&frame, end)?;
            end += frame.len() as u64;
        }
        file.sync_all()?;
        std::fs::rename(&next, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        inner.file = OpenOptions::new().read(true).write(true).open(path)?;
        inner.end = end;
        Ok(())
    }
}

impl Drop for FetchLog {
    fn drop(&mut self) {
        // The store's sled handles are dropped before this (see the order
        // of `Store`'s fields): what is queued is theirs, and is written
        // only once sled has kept it, so the log never holds a fetch sled
        // lost
        if !super::open::flushed_before_drop(&self.sled, "fetch-log entries") {
            return;
        }
        if let Err(e) = self.write_pending() {
            tracing::error!(error = %e, "could not write the last fetch-log entries");
        }
    }
}

/// Entries as one payload.
fn payload(entries: &[FetchLogEntry]) -> io::Result<Vec<u8>> {
    let json = serde_json::to_vec(entries)?;
    if entries.len() < 2 {
        return Ok(json);
    }
    super::write::compress(&json)
}

/// Where the whole frames of a file of `len` bytes end: frames are walked
/// by their lengths, and those in the last [`CHECKED_TAIL`] bytes also
/// have their payloads checked. A frame never written holds zeros, and no
/// frame is empty, so a zeroed tail ends the walk too.
fn good_end(file: &File, len: u64) -> io::Result<u64> {
    let mut at = MAGIC.len() as u64;
    while at + FRAME_HEAD <= len {
        let n = u64::from(frame_len(file, at)?);
        let next = at + FRAME_HEAD + n;
        if n == 0 || next > len {
            break;
        }
        if len - at <= CHECKED_TAIL && read_frame(file, at, len).is_err() {
            break;
        }
        at = next;
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str, status: u16) -> FetchLogEntry {
        FetchLogEntry {
            url: url.to_owned(),
            fetched_at: "2026-11-28T09:00:00.000Z".to_owned(),
            status,
            outcome: "unchanged".to_owned(),
            duration_ms: 12,
            bytes: 30_000,
            method: None,
            request_body: None,
            kept: None,
            head_hash: None,
            tls_invalid: None,
        }
    }

    fn entries(log: &FetchLog) -> Vec<FetchLogEntry> {
        log.payloads()
            .unwrap()
            .flat_map(|p| {
                let p = p.unwrap();
                let json = if p.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
                    zstd::decode_all(&*p).unwrap()
                } else {
                    p
                };
                serde_json::from_slice::<Vec<FetchLogEntry>>(&json).unwrap()
            })
            .collect()
    }

    #[test]
    fn entries_come_back_in_order_from_the_file_and_the_queue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fetch_log");
        let (log, torn) = FetchLog::open(&path).unwrap();
        assert_eq!(torn, 0);
        let a = [
            entry("http://www.gd.gov.cn/a.html", 200),
            entry("http://www.gd.gov.cn/b.html", 304),
        ];
        log.append(&a);
        log.write_pending().unwrap();
        log.append(&[entry("http://www.gd.gov.cn/c.html", 404)]);
        assert_eq!(entries(&log).len(), 3, "the queued entry is read too");
        drop(log);
        let (log, _) = FetchLog::open(&path).unwrap();
        let urls: Vec<String> = entries(&log).into_iter().map(|e| e.url).collect();
        assert_eq!(
            urls,
            [
                "http://www.gd.gov.cn/a.html",
                "http://www.gd.gov.cn/b.html",
                "http://www.gd.gov.cn/c.html"
            ]
        );
        assert_eq!(log.size().unwrap().1, 2, "one frame per write");
    }

    #[test]
    fn a_torn_last_frame_is_dropped_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fetch_log");
        let (log, _) = FetchLog::open(&path).unwrap();
        log.append(&[entry("http://www.gd.gov.cn/a.html", 200)]);
        log.write_pending().unwrap();
        let whole = log.size().unwrap().0;
        log.append(&[
            entry("http://www.gd.gov.cn/b.html", 200),
            entry("http://www.gd.gov.cn/c.html", 200),
        ]);
        log.write_pending().unwrap();
        let (len, _) = log.size().unwrap();
        drop(log);
        for cut in [whole + 3, whole + 11, len - 1] {
            let file = OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(cut).unwrap();
            drop(file);
            let (log, torn) = FetchLog::open(&path).unwrap();
            assert_eq!(torn, cut - whole, "cut at {cut}");
            assert_eq!(entries(&log).len(), 1);
            drop(log);
            // as a power cut that left the frame's bytes unwritten: zeros
            let file = OpenOptions::new().write(true).open(&path).unwrap();
            file.set_len(len).unwrap();
            drop(file);
            let (log, torn) = FetchLog::open(&path).unwrap();
            assert_eq!(
                (torn, entries(&log).len()),
                (len - whole, 1),
                "zeroed at {cut}"
            );
        }
    }

    #[test]
    fn a_damaged_frame_is_an_error_and_another_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fetch_log");
        let (log, _) = FetchLog::open(&path).unwrap();
        log.append(&[entry("http://www.gd.gov.cn/a.html", 200)]);
        log.write_pending().unwrap();
        // a flipped byte in the payload, read through the open handle
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(b"X", 20).unwrap();
        let read: Vec<Payload> = log.payloads().unwrap().collect();
        assert_eq!(read.len(), 1);
        assert!(
            read[0]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("damaged")
        );
        std::fs::write(&path, b"<html>not a log</html>").unwrap();
        let err = FetchLog::open(&path).unwrap_err();
        assert!(err.to_string().contains("not a govsnap fetch log"), "{err}");
    }
}
