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

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// sled's default segment size, for a `conf` that does not say.
const SLED_SEGMENT: u64 = 512 * 1024;

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

    /// Reserve the rest of the file's last segment, when it ends inside one.
    pub(super) fn whole_segments(&self) -> io::Result<()> {
        let len = self.file.metadata()?.len();
        let rest = len.next_multiple_of(self.segment) - len;
        if rest == 0 {
            return Ok(());
        }
        reserve(&self.file, len, rest)
    }
}

impl Drop for Reserve {
    fn drop(&mut self) {
        // after sled's handles (see the order of `Store`'s fields): a
        // process that only read can still have written, sled flushes and
        // cleans on its own
        if let Err(e) = self.whole_segments() {
            tracing::warn!(error = %e, "could not reserve the rest of sled's segment");
        }
    }
}

#[cfg(target_os = "linux")]
fn reserve(file: &File, from: u64, len: u64) -> io::Result<()> {
    use rustix::fs::{FallocateFlags, fallocate};
    match fallocate(file, FallocateFlags::empty(), from, len) {
        // a file system without fallocate: the file grows as sled writes
        Err(rustix::io::Errno::OPNOTSUPP) => Ok(()),
        other => other.map_err(io::Error::from),
    }
}

#[cfg(not(target_os = "linux"))]
fn reserve(_file: &File, _from: u64, _len: u64) -> io::Result<()> {
    Ok(())
}

/// A new path in the temporary directory, for a file that a temporary
/// store opens and then unlinks (it lives on as long as the handle).
pub(super) fn unnamed_path(what: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("govsnap-{what}-{}-{n}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        reserve.whole_segments().unwrap();
        let after = std::fs::read(&db).unwrap();
        assert_eq!(after.len(), 8192);
        assert_eq!(&after[..5000], written.as_slice());
        assert!(
            after[5000..].iter().all(|&b| b == 0),
            "sled reads zeros as the end"
        );
        reserve.whole_segments().unwrap();
        assert_eq!(
            std::fs::metadata(&db).unwrap().len(),
            8192,
            "whole: nothing to do"
        );
    }
}
