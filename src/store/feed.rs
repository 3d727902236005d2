//! What a downstream log needs of the changes feed (SPEC §14): each change
//! as one self-contained line, the store's own id (so that a message id
//! `STORE-ID:CURSOR` is unique across shards and stores), and a consumer's
//! last acknowledged cursor, kept in the store so that a process killed
//! mid-way goes on from there. A publisher reads [`Store::feed_lines`]
//! after its cursor, hands them on, and records the cursor once they are
//! acknowledged ([`Store::set_consumer_cursor`]); it holds nothing in
//! memory that the store does not hold too.

use super::changes::{Change, ChangeCursor};
use super::values::EventKind;
use super::{Store, store_error, trees};
use crate::error::Result;

/// In tree `meta`: the store's id (32 hex digits), made at first use.
const STORE_ID_KEY: &[u8] = b"store-id";
/// In tree `meta`, followed by a consumer's name: its last acknowledged
/// cursor (8 bytes, big-endian).
const CONSUMER_PREFIX: &[u8] = b"consumer:";

impl Store {
    /// The store's id: 128 random bits in hex, made once and kept, so that
    /// two stores' cursors never make the same message id.
    ///
    /// # Errors
    /// [`Error::Store`] when the id cannot be read or written.
    pub fn id(&self) -> Result<String> {
        let fresh = format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
        // a racing first use keeps whichever id was written first
        let _ = self
            .meta
            .compare_and_swap(STORE_ID_KEY, None as Option<&[u8]>, Some(fresh.as_bytes()))
            .map_err(|e| store_error(&self.path, e))?;
        let id = self
            .meta
            .get(STORE_ID_KEY)
            .map_err(|e| store_error(&self.path, e))?
            .ok_or_else(|| self.bad_value(trees::META, "the store id vanished"))?;
        String::from_utf8(id.to_vec())
            .map_err(|_| self.bad_value(trees::META, "store id not UTF-8"))
    }

    /// The last cursor `consumer` acknowledged, if it ever did.
    ///
    /// # Errors
    /// [`Error::Store`] on a read failure.
    pub fn consumer_cursor(&self, consumer: &str) -> Result<Option<ChangeCursor>> {
        let value = self
            .meta
            .get(consumer_key(consumer))
            .map_err(|e| store_error(&self.path, e))?;
        Ok(value.and_then(|v| ChangeCursor::from_key(&v)))
    }

    /// Record that `consumer` has everything up to `cursor`, durably.
    ///
    /// # Errors
    /// [`Error::Store`] when the write or the flush fails.
    pub fn set_consumer_cursor(&self, consumer: &str, cursor: ChangeCursor) -> Result<()> {
        self.meta
            .insert(consumer_key(consumer), cursor.key().as_slice())
            .map_err(|e| store_error(&self.path, e))?;
        self.meta.flush().map_err(|e| store_error(&self.path, e))?;
        Ok(())
    }

    /// How many changes come after `cursor` (all of them for `None`): a
    /// consumer's lag, counted up to `cap`.
    ///
    /// # Errors
    /// [`Error::Store`] on a read failure.
    pub fn changes_after(&self, cursor: Option<ChangeCursor>, cap: usize) -> Result<usize> {
        let mut n = 0;
        for kv in self.changes_since(cursor).keys().take(cap) {
            kv.map_err(|e| store_error(&self.path, e))?;
            n += 1;
        }
        Ok(n)
    }

    /// The changes after `cursor` of each site (pages of no site under
    /// `""`), counted up to `cap` changes in all: a consumer's lag, site by
    /// site.
    ///
    /// # Errors
    /// [`Error::Store`] on a read failure.
    pub fn changes_after_by_site(
        &self,
        cursor: Option<ChangeCursor>,
        cap: usize,
    ) -> Result<std::collections::HashMap<String, u64>> {
        let mut by_site = std::collections::HashMap::new();
        for kv in self.changes_since(cursor).take(cap) {
            let (_, change) = self.decode_change(kv)?;
            *by_site.entry(change.site.unwrap_or_default()).or_default() += 1;
        }
        Ok(by_site)
    }

    /// Up to `limit` changes after `after`, each with its line: for a
    /// version or a file, its export line (the record with `url`, `kind`,
    /// `version`, `fetched_at`, `cursor`) and its `site`; for a gone mark,
    /// `kind: "gone"` with the page's `url`, `site`, last `version`,
    /// `fetched_at` and `cursor`. A change with nothing to say (a version
    /// whose record is gone) has no line, but [`FeedBatch::through`] still
    /// passes it, so that a consumer's cursor never sticks behind it.
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn feed_lines(&self, after: Option<ChangeCursor>, limit: usize) -> Result<FeedBatch> {
        let mut batch = FeedBatch {
            lines: Vec::new(),
            through: after,
        };
        for (cursor, change) in self.changes(after, limit)? {
            batch.through = Some(cursor);
            let mut line = match change.kind {
                EventKind::Version => match self.version_of_change(&change)? {
                    Some(version) => super::changes::export_value(cursor, version)
                        .map_err(|e| self.bad_value(trees::VERSIONS, &e))?,
                    None => continue,
                },
                EventKind::Gone => serde_json::json!({
                    "kind": "gone",
                    "url": change.url,
                    "version": change.version,
                    "fetched_at": change.fetched_at,
                    "cursor": cursor.to_string(),
                }),
                EventKind::Alias => continue,
            };
            if let Some(obj) = line.as_object_mut() {
                obj.insert("site".to_owned(), change.site.clone().into());
            }
            batch.lines.push(FeedLine {
                cursor,
                change,
                line: line.to_string(),
            });
        }
        Ok(batch)
    }
}

/// What [`Store::feed_lines`] read.
#[derive(Debug)]
pub struct FeedBatch {
    /// The changes with a line, in store order.
    pub lines: Vec<FeedLine>,
    /// The last change read, with a line or without (`after` when there
    /// was none).
    pub through: Option<ChangeCursor>,
}

/// One change of the feed and its line.
#[derive(Debug)]
pub struct FeedLine {
    /// Its cursor.
    pub cursor: ChangeCursor,
    /// The change.
    pub change: Change,
    /// Its JSON line (no newline).
    pub line: String,
}

fn consumer_key(consumer: &str) -> Vec<u8> {
    [CONSUMER_PREFIX, consumer.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use crate::store::Store;
    use crate::store::changes::ChangeCursor;
    use crate::store::tests::reopen;

    #[test]
    fn the_id_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let id = {
            let store = Store::open(dir.path()).unwrap();
            let id = store.id().unwrap();
            assert_eq!(id.len(), 32);
            assert_eq!(store.id().unwrap(), id, "the same id twice");
            id
        };
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.id().unwrap(), id, "the same id after reopening");
        let other = tempfile::tempdir().unwrap();
        assert_ne!(Store::open(other.path()).unwrap().id().unwrap(), id);
    }

    #[test]
    fn a_consumer_cursor_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.consumer_cursor("nats").unwrap(), None);
            store.set_consumer_cursor("nats", ChangeCursor(41)).unwrap();
            store.set_consumer_cursor("nats", ChangeCursor(42)).unwrap();
        }
        let store = reopen(dir.path()).unwrap();
        assert_eq!(
            store.consumer_cursor("nats").unwrap(),
            Some(ChangeCursor(42))
        );
        assert_eq!(store.consumer_cursor("other").unwrap(), None);
    }
}
