//! What changes on every fetch of a known URL, kept in place (file
//! `STORE/slots`) instead of in sled: a frontier entry's crawl round and
//! schedule, and the time and status of the URL's last fetch.
//!
//! sled is log-structured: rewriting a value appends it, and every tenth
//! update of a leaf appends the whole leaf; the space comes back only when
//! its segment cleaner drains a segment that is at most half live. Per
//! unchanged page that came to about 500 bytes written a recrawl, which
//! the store's file grew by whenever the cleaner had nothing free yet.
//! A slot is 32 bytes at a fixed offset, rewritten where it is: an
//! unchanged recrawl writes each of them and adds nothing.
//!
//! Flow: a frontier entry gets its slot number when it is added (an entry
//! written before slots, the first time a fetch marks it); numbers are
//! given out in blocks of [`SLOT_BLOCK`] from a counter in `meta`, so that
//! a crawl's new URLs do not each rewrite it (a kill loses the rest of a
//! block: a hole in the file, never written). `frontier_done` writes the
//! slot alone: the entry in sled keeps the fields it was added with. A slot carries a check (4 bytes of blake3 over the rest): a slot
//! never written, or torn by a crash, reads as none, and the entry's own
//! fields (as of its last write in sled) stand, which at worst fetches the
//! URL again. Slots are written to the file, and it synced, when the
//! store flushes, after sled: a slot never says more than sled kept.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Bytes per slot.
const SLOT_LEN: usize = 32;
/// [`SLOT_LEN`] as a file offset's type.
const SLOT_BYTES: u64 = 32;

/// How many slot numbers one write of the counter gives out.
const SLOT_BLOCK: u64 = 1024;

impl super::Store {
    /// A slot number no entry has.
    pub(super) fn next_slot(&self) -> crate::error::Result<u64> {
        let mut range = self
            .slot_range
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if range.0 == range.1 {
            let end = self
                .meta
                .update_and_fetch(super::trees::SLOTS_KEY, |n| {
                    let n = n.and_then(|n| <[u8; 8]>::try_from(n).ok());
                    let n = n.map_or(0, u64::from_be_bytes).saturating_add(SLOT_BLOCK);
                    Some(n.to_be_bytes().to_vec())
                })
                .map_err(|e| super::store_error(&self.path, e))?
                .and_then(|n| <[u8; 8]>::try_from(n.as_ref()).ok())
                .map_or(SLOT_BLOCK, u64::from_be_bytes);
            *range = (end - SLOT_BLOCK, end);
        }
        range.0 += 1;
        Ok(range.0 - 1)
    }
}

/// One URL's fast-changing state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Slot {
    /// The last fetch: Unix milliseconds, 0 when none is recorded here.
    pub fetched_ms: u64,
    /// Its HTTP status.
    pub status: u16,
    /// The frontier entry's round, kind (0 none, then listing, document,
    /// other), revisit interval and due time.
    pub round: u32,
    pub kind: u8,
    pub interval_s: Option<u32>,
    pub due: Option<u64>,
}

impl Slot {
    fn encode(&self) -> [u8; SLOT_LEN] {
        let mut b = [0; SLOT_LEN];
        b[0..8].copy_from_slice(&self.fetched_ms.to_le_bytes());
        b[8..16].copy_from_slice(&self.due.unwrap_or(0).to_le_bytes());
        b[16..20].copy_from_slice(&self.interval_s.unwrap_or(0).to_le_bytes());
        b[20..24].copy_from_slice(&self.round.to_le_bytes());
        b[24..26].copy_from_slice(&self.status.to_le_bytes());
        b[26] = self.kind;
        b[27] = u8::from(self.interval_s.is_some()) | u8::from(self.due.is_some()) << 1;
        let check = blake3::hash(&b[..28]);
        b[28..].copy_from_slice(&check.as_bytes()[..4]);
        b
    }

    fn decode(b: &[u8; SLOT_LEN]) -> Option<Self> {
        if blake3::hash(&b[..28]).as_bytes()[..4] != b[28..] {
            return None;
        }
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or_default());
        let u32_at = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap_or_default());
        Some(Self {
            fetched_ms: u64_at(0),
            due: (b[27] & 2 != 0).then(|| u64_at(8)),
            interval_s: (b[27] & 1 != 0).then(|| u32_at(16)),
            round: u32_at(20),
            status: u16::from_le_bytes([b[24], b[25]]),
            kind: b[26],
        })
    }
}

/// The slots file, and the slots written since the store last flushed.
///
/// A slot says a URL was fetched and what came of it; sled may still lose
/// that fetch's writes (the page, the links a listing found) until it
/// flushes. So slots are kept here and written to the file by
/// [`Slots::sync`], which the store calls after sled's flush: a kill never
/// leaves a slot saying more than sled kept, and at worst a URL is fetched
/// again.
#[derive(Debug)]
pub(crate) struct Slots {
    file: File,
    pending: std::sync::Mutex<std::collections::BTreeMap<u64, [u8; SLOT_LEN]>>,
    /// The store's sled, flushed before the last slots are written when
    /// the store is dropped.
    sled: std::sync::OnceLock<sled::Db>,
}

impl Drop for Slots {
    fn drop(&mut self) {
        // after the store's sled handles (see the order of `Store`'s
        // fields): the last slots only once sled has kept what they say
        if !super::open::flushed_before_drop(&self.sled, "slots") {
            return;
        }
        if let Err(e) = self.sync() {
            tracing::error!(error = %e, "could not write the last slots");
        }
    }
}

impl Slots {
    /// Open (or create) the slots file at `path`.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        Ok(Self {
            file,
            pending: std::sync::Mutex::default(),
            sled: std::sync::OnceLock::new(),
        })
    }

    /// Flush `db` before the last slots are written when this is dropped.
    pub(super) fn flush_first(&self, db: &sled::Db) {
        let _ = self.sled.set(db.clone());
    }

    /// A slots file that goes with the process (for temporary stores).
    pub(crate) fn anonymous() -> io::Result<Self> {
        let path = super::disk::unnamed_path("slots");
        let slots = Self::open(&path)?;
        std::fs::remove_file(&path)?;
        Ok(slots)
    }

    /// Slot `n`; `None` when it was never written or does not check.
    pub(crate) fn get(&self, n: u64) -> io::Result<Option<Slot>> {
        if let Some(b) = self.pending().get(&n) {
            return Ok(Slot::decode(b));
        }
        let mut b = [0; SLOT_LEN];
        match self
            .file
            .read_exact_at(&mut b, n.saturating_mul(SLOT_BYTES))
        {
            Ok(()) => Ok(Slot::decode(&b)),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Set slot `n`; written in place by the next [`Slots::sync`].
    pub(crate) fn put(&self, n: u64, slot: &Slot) {
        self.pending().insert(n, slot.encode());
    }

    /// Write the slots set since the last call, in place, and make them
    /// durable. A slot whose write failed stays to be written.
    pub(crate) fn sync(&self) -> io::Result<()> {
        let mut pending = self.pending();
        if pending.is_empty() {
            return Ok(());
        }
        for (n, b) in pending.iter() {
            self.file.write_all_at(b, n.saturating_mul(SLOT_BYTES))?;
        }
        self.file.sync_data()?;
        pending.clear();
        Ok(())
    }

    fn pending(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<u64, [u8; SLOT_LEN]>> {
        // a panic while it was held left a map of whole slots
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The file's size (what [`Slots::sync`] has written).
    #[cfg(test)]
    pub(crate) fn len(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_read_back_in_place_and_unwritten_or_torn_ones_read_as_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("slots");
        let slots = Slots::open(&path).unwrap();
        let slot = Slot {
            fetched_ms: 1_764_400_000_123,
            status: 304,
            round: 7,
            kind: 2,
            interval_s: Some(172_800),
            due: Some(1_764_572_800),
        };
        slots.put(3, &slot);
        assert_eq!(slots.get(3).unwrap(), Some(slot));
        assert_eq!(slots.get(0).unwrap(), None, "a hole");
        assert_eq!(slots.get(9).unwrap(), None, "past the end");
        let again = Slot { round: 8, ..slot };
        slots.put(3, &again);
        assert_eq!(slots.len().unwrap(), 0, "nothing written before a sync");
        assert_eq!(slots.get(3).unwrap(), Some(again), "read before it");
        slots.sync().unwrap();
        slots.put(3, &again);
        slots.sync().unwrap();
        assert_eq!(slots.len().unwrap(), 4 * SLOT_BYTES, "rewritten in place");
        drop(slots);
        let slots = Slots::open(&path).unwrap();
        assert_eq!(slots.get(3).unwrap(), Some(again));
        // a torn write: half of a new slot over the old one
        let half = &Slot {
            fetched_ms: 1,
            ..again
        }
        .encode()[..16];
        slots.file.write_all_at(half, 3 * SLOT_BYTES).unwrap();
        assert_eq!(slots.get(3).unwrap(), None);
    }
}
