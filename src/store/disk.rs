//! sled's file on disk, taken a whole segment at a time.
//!
//! sled writes its log in segments (512 KiB unless its `conf` says other):
//! it fills one, then takes a free one or adds one at the end of its file.
//! When a process stops in the middle of the last segment, the file ends
//! there, and the next process, writing on in that segment, grows it: an
//! unchanged recrawl of 2,000 pages then added up to 250 bytes a page that
//! the crawl before it had in fact taken. So after each flush the store
//! reserves the rest of that segment on disk (`fallocate`, which never
//! changes bytes already written, whoever writes them meanwhile). sled
//! reads a segment's unwritten end as it reads the end of its file: the
//! first zero byte stops its recovery there (`MessageKind::Corrupted`).
//!
//! The space is the segment's whatever happens: this only charges it to the
//! run that began the segment instead of the next.
//!
//! A flush also reserves the blocks of two segments past sled's tip
//! ([`SPARE_SEGMENTS`]), the file's length kept: on a disk about to fill,
//! it is the store's reservation that meets the full disk (a clear error,
//! nothing lost), not one of sled's own writes, after which sled would
//! refuse every write until the process ends and a service could not crawl
//! again once space is back.
//!
//! sled also leaves work to whoever touches its file next, a reader too:
//! a node that grew past its split size (or shrank under its merge size)
//! is split (or merged) by the next traversal that passes it, its cleaner
//! works off half-dead segments a little every 500 ms from its flusher
//! thread, and recovery queues every segment it counts at most half live
//! (its counts run a little lower than the running ones). The cleaner's
//! moves can take a new segment at the end of the file. Measured on a
//! 2,100-page site, that fell on whatever ran after a first crawl (the
//! recrawl, or `govsnap stats`): 24 bytes a page always, 250 more in one
//! run in eight; under load up to three segments. [`Store::close`] has
//! sled do all of it before the run that left it exits: it has sled split
//! and merge those nodes and run its cleaner through what is queued
//! (`Db::clean_segments`, which govsnap adds to sled,
//! `vendor/sled/GOVSNAP.md`), closes sled, opens it once more so that its
//! recovery queues what it counts half dead, and runs that again. The next
//! process then finds nothing to do, and an unchanged recrawl adds its
//! fetch log alone.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// sled's default segment size, for a `conf` that does not say.
const SLED_SEGMENT: u64 = 512 * 1024;

/// Segments reserved past sled's tip at every flush. sled takes one of them
/// when it fills its last, and writes into space it already has: a disk
/// that fills between two flushes stops the store's own reservation (a
/// clear error, sled intact), never a write of sled's, after which sled
/// refuses every write until the process ends. A batch of a crawl writes
/// far less than two segments to sled (the raw pages and records go to the
/// packs).
const SPARE_SEGMENTS: u64 = 2;

/// sled's log file, opened to reserve space in it.
#[derive(Debug)]
pub(super) struct Reserve {
    file: File,
    segment: u64,
}

impl Reserve {
    /// Open sled's file `db` (sled has opened the store: it exists), with
    /// the segment size of the `conf` beside it.
    pub(super) fn open(db: &Path) -> io::Result<Self> {
        let conf = db.with_file_name("conf");
        let segment = std::fs::read_to_string(conf)
            .ok()
            .and_then(|conf| {
                conf.lines()
                    .find_map(|l| l.strip_prefix("segment_size:"))
                    .and_then(|n| n.trim().parse().ok())
            })
            .filter(|&n: &u64| n > 0)
            .unwrap_or(SLED_SEGMENT);
        let file = OpenOptions::new().write(true).open(db)?;
        Ok(Self { file, segment })
    }

    /// Reserve the rest of the file's last segment, when it ends inside
    /// one, and with `tip` (where sled would add its next segment) the
    /// [`SPARE_SEGMENTS`] after it.
    pub(super) fn whole_segments(&self, tip: Option<u64>) -> io::Result<()> {
        let len = self.file.metadata()?.len();
        let whole = len.next_multiple_of(self.segment);
        if whole > len {
            reserve(&self.file, len, whole - len, Extend::File)?;
        }
        // past the file's end, its length kept: sled's next open must not
        // see free segments there (it would truncate them, a reader too)
        let ahead = tip.map_or(0, |tip| {
            tip.next_multiple_of(self.segment) + SPARE_SEGMENTS * self.segment
        });
        if ahead > whole {
            reserve(&self.file, whole, ahead - whole, Extend::KeepSize)?;
        }
        Ok(())
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        // after sled's handles (see the order of `Store`'s fields): a
        // process that only read can still have written, sled flushes and
        // cleans on its own
        match self.whole_segments(None) {
            Ok(()) => {}
            // a full disk is said where it stopped a write, if one was
            // stopped; a reader on a full disk has nothing to be told
            Err(e) if crate::error::is_disk_full(&e) => {
                tracing::debug!(error = %e, "could not reserve the rest of sled's segment");
            }
            Err(e) => tracing::warn!(error = %e, "could not reserve the rest of sled's segment"),
        }
    }
}

/// Whether a reservation makes the file longer.
#[derive(Debug, Clone, Copy)]
enum Extend {
    File,
    /// The blocks only (`FALLOC_FL_KEEP_SIZE`).
    KeepSize,
}

#[cfg(target_os = "linux")]
fn reserve(file: &File, from: u64, len: u64, extend: Extend) -> io::Result<()> {
    use rustix::fs::{FallocateFlags, fallocate};
    let flags = match extend {
        Extend::File => FallocateFlags::empty(),
        Extend::KeepSize => FallocateFlags::KEEP_SIZE,
    };
    match fallocate(file, flags, from, len) {
        // a file system without fallocate: the file grows as sled writes
        Err(rustix::io::Errno::OPNOTSUPP) => Ok(()),
        other => other.map_err(io::Error::from),
    }
}

#[cfg(not(target_os = "linux"))]
fn reserve(_file: &File, _from: u64, _len: u64, _extend: Extend) -> io::Result<()> {
    Ok(())
}

impl super::Store {
    /// Flush the store and close it. When this is its last handle, sled
    /// first does the work it would leave to the next process (see the
    /// module's docs), so that the space it takes is this run's and not
    /// the next one's, which may be a reader's. Dropping a store instead
    /// loses nothing: the next process to touch it does that work.
    ///
    /// # Errors
    /// As [`Store::flush`](super::Store::flush); [`Error::Store`](crate::Error::Store)
    /// when sled fails to split or clean.
    pub fn close(self) -> crate::Result<()> {
        // a temporary store goes with its process
        if self.reserve.is_none() || std::sync::Arc::strong_count(&self.write_lock) > 1 {
            return self.flush();
        }
        // durable first: what follows only moves what is there
        self.flush()?;
        let path = self.path.clone();
        match self.clean_up() {
            // the clean-up only saves space: on a full disk it is left to
            // the next process, and nothing stored is at stake
            Err(e) if e.is_disk_full() => {
                tracing::warn!(store = %path.display(), "the disk is full: sled's clean-up is left for the next run");
                Ok(())
            }
            other => other,
        }
    }

    /// sled's split, merge and cleaning work, before closing and after one
    /// more opening.
    fn clean_up(self) -> crate::Result<()> {
        self.db
            .clean_segments()
            .map_err(|e| super::store_error(&self.path, e))?;
        self.flush()?;
        // recovery counts what is live in each segment afresh (a little
        // lower than the running counts) and queues what it finds at most
        // half live: open once more and have that worked off too
        let path = self.path.clone();
        drop(self);
        let store = match open_when_released(&path) {
            // another process took it meanwhile: its recovery does it
            Err(crate::Error::StoreLocked { .. }) => return Ok(()),
            other => other?,
        };
        let rewritten = store
            .db
            .clean_segments()
            .map_err(|e| super::store_error(&path, e))?;
        tracing::debug!(
            pages = rewritten,
            "sled split, merged and cleaned what it had left"
        );
        store.flush()
    }
}

/// Open the store at `path` just after this process dropped it: sled's
/// lock goes with its last file handle, which a thread of its own may hold
/// a moment longer (tried again, doubling from 1 ms, for about 2 s; then
/// [`Error::StoreLocked`](crate::Error::StoreLocked) as `Store::open` says).
pub(super) fn open_when_released(path: &Path) -> crate::Result<super::Store> {
    let mut wait = std::time::Duration::from_millis(1);
    loop {
        match super::Store::open(path) {
            Err(crate::Error::StoreLocked { .. }) if wait < LOCK_WAIT => {
                std::thread::sleep(wait);
                wait *= 2;
            }
            other => return other,
        }
    }
}

const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(2048);

/// A new path in the temporary directory, for a file that a temporary
/// store opens and then unlinks (it lives on as long as the handle).
pub(super) fn unnamed_path(what: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("govsnap-{what}-{}-{n}", std::process::id()))
}

/// Bytes free to a process that is not root on the file system holding
/// `path`.
pub(super) fn free_bytes(path: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::tests::{BODY, fetch, page, record, reopen};

    /// Every file under `dir` with its length, in name order.
    fn files(dir: &Path) -> Vec<(String, u64)> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.metadata().unwrap().is_dir() {
                out.extend(files(&entry.path()));
            } else {
                let name = entry.path().display().to_string();
                out.push((name, entry.metadata().unwrap().len()));
            }
        }
        out.sort();
        out
    }

    /// 3,000 pages stored as a crawl stores them (batches of 64) fill
    /// sled's leaves past their split size and leave segments half dead;
    /// after `close`, a reader that walks every tree changes no file (not
    /// sled's, no new snapshot): sled had nothing left to do.
    #[test]
    fn a_closed_store_leaves_the_next_process_nothing_to_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let store = Store::open(&path).unwrap();
        let html = page(BODY, 1);
        let rec = record(&html);
        let urls: Vec<String> = (0..3000)
            .map(|i| format!("http://www.example.gov.cn/gk/202403/t20240301_{i}.html"))
            .collect();
        for (n, batch) in urls.chunks(64).enumerate() {
            let pages: Vec<_> = batch
                .iter()
                .map(|url| (fetch(url, &html, n as u64), &rec))
                .collect();
            store.put_batch(&pages).unwrap();
            store.flush().unwrap();
        }
        store.close().unwrap();
        let closed = files(&path);
        let reader = reopen(&path).unwrap();
        let stats = reader.stats().unwrap();
        assert!(
            stats
                .trees
                .iter()
                .any(|t| t.tree == "pages" && t.entries == 3000)
        );
        drop(reader);
        assert_eq!(files(&path), closed);
    }

    #[test]
    fn the_last_segment_is_reserved_whole_and_its_bytes_kept() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::write(
            dir.path().join("conf"),
            "segment_size: 4096\nuse_compression: false\n",
        )
        .unwrap();
        let written: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&db, &written).unwrap();
        let reserve = Reserve::open(&db).unwrap();
        assert_eq!(reserve.segment, 4096);
        reserve.whole_segments(None).unwrap();
        let after = std::fs::read(&db).unwrap();
        assert_eq!(after.len(), 8192);
        assert_eq!(&after[..5000], written.as_slice());
        assert!(
            after[5000..].iter().all(|&b| b == 0),
            "sled reads zeros as the end"
        );
        reserve.whole_segments(None).unwrap();
        assert_eq!(
            std::fs::metadata(&db).unwrap().len(),
            8192,
            "whole: nothing to do"
        );
    }
}
