//! Opening a store that an older govsnap wrote: one step, in place, that
//! brings every older layout to the current one, so that the read and write
//! paths know one layout only (schema 7).
//!
//! What older schemas left, and what becomes of it:
//! - schema 1: versions keyed `url_hash ‖ n`, raw bytes keyed by their
//!   blake3 hash with no index: each moves to an id key, the raw bytes get
//!   their `raw_ids` entry;
//! - schemas 2–3: a version found through tree `version_ids`: its event gets
//!   the `version_id`, and `version_ids` goes;
//! - schema 1: versions as plain JSON: each is rewritten as the zstd frame
//!   of its JSON, as versions are stored now;
//! - before schema 3: a page without an `id`, its events keyed by its URL
//!   hash: it gets an id and its events are re-keyed under it;
//! - before schema 5: frontier keys without the site (`frontier`);
//! - before schema 6: no changes feed (`changes`);
//! - before schema 9: frontier entries marked `done` (`frontier`), and
//!   last fetches keyed by URL with the validators always (`fetched`);
//! - before schema 10: the fetch log in tree `fetch_log` (before schema 4
//!   with values of one bare entry): it moves to the file `fetch_log`;
//! - before schema 11: the values of `raw` and `versions` in sled: each
//!   moves to the packs, and sled keeps a pointer to it;
//! - before schema 12: no contents index (`aliases`);
//! - before schema 13: pages keyed by the URL as linked, not its canonical
//!   form: each is re-keyed, and copies of one page merged (`rekey`).
//!
//! Crash safety: each page moves in one transaction, and a page that has an
//! id and a `version_id` on every version event is left alone, so a kill
//! leaves pages either moved or not, and the next open moves the rest. The
//! schema mark is written last.

use super::values::{Event, EventKind, LastFetch, PageState};
use super::{Store, keys, store_error, trees};
use crate::error::{Error, Result};
use sled::Transactional;
use std::collections::HashSet;

mod rekey;

/// Pages read per slice of the pages tree.
const SLICE: usize = 1000;

/// What one page's move writes.
struct Moved<'a> {
    url: &'a str,
    page_json: Vec<u8>,
    old_prefix: &'a [u8],
    /// Schema-1 versions: old key, new id, value.
    moves: Vec<([u8; keys::URL_HASH_LEN + 4], u64, sled::IVec)>,
    /// The page's events (under their old keys), and as they are written.
    events: &'a [(sled::IVec, Event)],
    event_json: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Store {
    /// Bring a store of schema `found` to the current one; the caller
    /// writes the mark.
    pub(super) fn upgrade(&self, found: u32) -> Result<()> {
        if found < 5 {
            self.upgrade_frontier_keys()?;
        }
        if found < 7 {
            self.upgrade_layout()?;
        }
        if found < 6 {
            self.backfill_changes()?;
        }
        if found < 9 {
            self.upgrade_frontier_rounds()?;
            self.upgrade_last_fetches()?;
        }
        if found < 10 {
            self.move_fetch_log()?;
        }
        if found < 11 {
            self.move_to_packs(&self.versions)?;
            self.move_to_packs(&self.raw)?;
        }
        // before the contents index, so that it names canonical URLs
        if found < 13 {
            self.rekey_pages()?;
        }
        if found < 12 {
            self.index_contents()?;
        }
        Ok(())
    }

    /// Schema 12: tree `aliases`, which URL of each site first had each
    /// content, from the pages stored before, the first stored first (by
    /// id). Writing an entry twice writes the same: a kill leaves the rest
    /// for the next open.
    fn index_contents(&self) -> Result<()> {
        let err = |e| store_error(&self.path, e);
        let mut firsts: Vec<(u64, Vec<u8>, String)> = Vec::new();
        for page in self.pages() {
            let page = page?;
            if let (Some(site), Some(content), true) =
                (&page.site, &page.content_hash, page.versions > 0)
            {
                let key = [site.as_bytes(), &[0], content.as_bytes()].concat();
                firsts.push((page.id.unwrap_or(u64::MAX), key, page.url));
            }
        }
        firsts.sort();
        let mut batch = sled::Batch::default();
        let mut seen = HashSet::new();
        for (_, key, url) in firsts {
            if seen.insert(key.clone()) {
                batch.insert(key, url.as_bytes());
            }
        }
        self.aliases.apply_batch(batch).map_err(err)
    }

    /// Every page and raw value in the current layout (schema 7).
    pub(super) fn upgrade_layout(&self) -> Result<()> {
        let err = |e| store_error(&self.path, e);
        let version_ids = self.db.open_tree(trees::VERSION_IDS).map_err(err)?;
        let mut after: Option<sled::IVec> = None;
        loop {
            let urls: Vec<sled::IVec> = entries_after(&self.pages, after.as_ref())
                .keys()
                .take(SLICE)
                .collect::<sled::Result<_>>()
                .map_err(err)?;
            let Some(last) = urls.last().cloned() else {
                break;
            };
            for url in &urls {
                self.upgrade_page(&String::from_utf8_lossy(url), &version_ids)?;
            }
            after = Some(last);
        }
        self.upgrade_raw_keys()?;
        version_ids.clear().map_err(err)?;
        self.meta.remove(trees::LEGACY_KEY).map_err(err)?;
        Ok(())
    }

    /// Last fetches keyed by URL, as schemas 4–8 wrote them, keyed by the
    /// page's id, their validators kept only when they are not the `pages`
    /// entry's. A slice at a time, each one atomic batch; a URL key is never
    /// 8 bytes (`http://a/` is 9), so an entry moved is recognised by its
    /// key and a kill leaves the rest for the next open.
    fn upgrade_last_fetches(&self) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Before {
            last_fetched: String,
            last_status: u16,
            etag: Option<String>,
            last_modified: Option<String>,
        }
        let err = |e| store_error(&self.path, e);
        let mut after: Option<sled::IVec> = None;
        loop {
            let mut batch = sled::Batch::default();
            let mut moved = 0;
            let slice = entries_after(&self.fetched, after.as_ref())
                .filter(|kv| kv.as_ref().map_or(true, |(k, _)| k.len() != 8))
                .take(SLICE);
            for kv in slice {
                let (url, value) = kv.map_err(err)?;
                after = Some(url.clone());
                let before: Before = serde_json::from_slice(&value)
                    .map_err(|e| self.bad_value(trees::FETCHED, &e.to_string()))?;
                if let Some(stored) = self.read::<PageState>(&self.pages, &url)?
                    && let Some(id) = stored.id
                {
                    let page = PageState {
                        last_fetched: before.last_fetched,
                        last_status: before.last_status,
                        etag: before.etag,
                        last_modified: before.last_modified,
                        ..stored.clone()
                    };
                    let json =
                        serde_json::to_vec(&LastFetch::of(&page, &stored)).unwrap_or_default();
                    batch.insert(&keys::id_key(id), json);
                }
                batch.remove(url);
                moved += 1;
            }
            if moved == 0 {
                return Ok(());
            }
            self.fetched.apply_batch(batch).map_err(err)?;
        }
    }

    /// One page in the current layout: an id, its events keyed under it,
    /// each version event with its `version_id` (schema-1 versions moved to
    /// id keys). A page already so is left alone.
    pub(super) fn upgrade_page(&self, url: &str, version_ids: &sled::Tree) -> Result<()> {
        let err = |e| store_error(&self.path, e);
        let Some(page) = self.read::<PageState>(&self.pages, url.as_bytes())? else {
            return Ok(());
        };
        let old_prefix = keys::page_prefix(url, page.id);
        let mut events = self.keyed_events(&old_prefix)?;
        let missing = |e: &Event| e.kind == EventKind::Version && e.version_id.is_none();
        // versions a schema-1 govsnap stored without an event
        let unlisted: Vec<u32> = (1..=page.versions)
            .filter(|n| !events.iter().any(|(_, e)| e.version == Some(*n)))
            .filter(|n| {
                self.versions
                    .contains_key(keys::page_key(url, *n))
                    .unwrap_or(false)
            })
            .collect();
        if page.id.is_some() && unlisted.is_empty() && !events.iter().any(|(_, e)| missing(e)) {
            return Ok(());
        }
        let id = match page.id {
            Some(id) => id,
            None => self.db.generate_id().map_err(err)?,
        };
        let new_prefix = keys::page_prefix(url, Some(id));
        // where each version is, found before the transaction (it cannot scan)
        let mut moves = Vec::new();
        for (_, event) in &mut events {
            let (true, Some(n)) = (missing(event), event.version) else {
                continue;
            };
            if let Some(vid) = version_ids
                .get(keys::event_key(&old_prefix, n))
                .map_err(err)?
            {
                event.version_id = <[u8; 8]>::try_from(vid.as_ref())
                    .ok()
                    .map(u64::from_be_bytes);
            } else if let Some(value) = self.versions.get(keys::page_key(url, n)).map_err(err)? {
                let vid = self.db.generate_id().map_err(err)?;
                moves.push((keys::page_key(url, n), vid, as_frame(value)?));
                event.version_id = Some(vid);
            }
        }
        let mut page = page;
        let mut seq = events
            .iter()
            .map(|(k, _)| <[u8; 4]>::try_from(&k[k.len() - 4..]).map_or(0, u32::from_be_bytes))
            .max()
            .unwrap_or(0);
        for n in unlisted {
            let Some(value) = self.versions.get(keys::page_key(url, n)).map_err(err)? else {
                continue;
            };
            let version: super::Version = self
                .decode_value(&value)
                .map_err(|e| self.bad_value(trees::VERSIONS, &e))?;
            let vid = self.db.generate_id().map_err(err)?;
            moves.push((keys::page_key(url, n), vid, as_frame(value)?));
            seq += 1;
            let event = Event {
                kind: EventKind::Version,
                version: Some(n),
                fetched_at: version.fetched_at,
                status: 200,
                content_hash: Some(version.content_hash),
                title: version.record.title,
                version_id: Some(vid),
                alias_of: None,
                reason: None,
                moved_to: None,
                evidence: None,
            };
            events.push((
                sled::IVec::from(&keys::event_key(&old_prefix, seq)[..]),
                event,
            ));
        }
        events.sort_by_key(|(k, _)| k.clone());
        page.events = page.events.max(seq);
        page.id = Some(id);
        let page_json =
            serde_json::to_vec(&page).map_err(|e| self.bad_value(trees::PAGES, &e.to_string()))?;
        // an event keeps its sequence number, the key's last four bytes
        let event_json = events
            .iter()
            .map(|(old_key, e)| {
                let seq = <[u8; 4]>::try_from(&old_key[old_key.len() - 4..])
                    .map_or(0, u32::from_be_bytes);
                serde_json::to_vec(e)
                    .map(|v| (keys::event_key(&new_prefix, seq), v))
                    .map_err(|e| self.bad_value(trees::HISTORY, &e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let writes = Moved {
            url,
            page_json,
            old_prefix: &old_prefix,
            moves,
            events: &events,
            event_json,
        };
        self.write_moved_page(&writes, version_ids)
    }

    /// A page's events under `prefix`, with their keys.
    fn keyed_events(&self, prefix: &[u8]) -> Result<Vec<(sled::IVec, Event)>> {
        let len = prefix.len() + 4;
        let mut events = Vec::new();
        for kv in self.history.scan_prefix(prefix) {
            let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
            // an 8-byte id can begin some other page's 16-byte URL hash
            if k.len() == len {
                let event = self
                    .decode_value(&v)
                    .map_err(|e| self.bad_value(trees::HISTORY, &e))?;
                events.push((k, event));
            }
        }
        Ok(events)
    }

    /// One page's move, in one transaction.
    fn write_moved_page(&self, m: &Moved<'_>, version_ids: &sled::Tree) -> Result<()> {
        (&self.pages, &self.history, &self.versions, version_ids)
            .transaction(|(pages, history, versions, ids)| {
                for (old_key, vid, value) in &m.moves {
                    versions.insert(&keys::id_key(*vid), value.as_ref())?;
                    versions.remove(old_key.as_slice())?;
                }
                for ((old_key, event), (new_key, value)) in m.events.iter().zip(&m.event_json) {
                    if old_key.as_ref() != new_key.as_slice() {
                        history.remove(old_key.as_ref())?;
                    }
                    history.insert(new_key.as_slice(), value.as_slice())?;
                    if let Some(n) = event.version {
                        ids.remove(keys::event_key(m.old_prefix, n))?;
                    }
                }
                pages.insert(m.url.as_bytes(), m.page_json.as_slice())?;
                Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| upgrade_tx_error(&self.path, &e))
    }

    /// The fetch log from tree `fetch_log` (before schema 10) to its file,
    /// each value a frame as it was; a bare entry (before schema 4) becomes
    /// the array of one. The file is written beside and renamed whole, and
    /// only then the tree cleared: a kill before the rename leaves the tree
    /// as it was, one after it a file that holds it all, which the next
    /// open keeps.
    fn move_fetch_log(&self) -> Result<()> {
        let err = |e| store_error(&self.path, e);
        if self.fetch_log_tree.is_empty() {
            return Ok(());
        }
        if self.fetch_log.is_empty() {
            let payloads = self.fetch_log_tree.iter().values().map(|value| {
                let value = value.map_err(std::io::Error::other)?;
                if value.first() != Some(&b'{') {
                    return Ok(value.to_vec());
                }
                let entry: super::FetchLogEntry = serde_json::from_slice(&value)?;
                Ok(serde_json::to_vec(&[entry])?)
            });
            let path = self.path.join(super::FETCH_LOG_FILE);
            self.fetch_log.replace(&path, payloads).map_err(|e| {
                Error::io(
                    &self.path,
                    format!("moving the fetch log to {}", path.display()),
                    e,
                )
            })?;
        }
        self.fetch_log_tree.clear().map_err(err)?;
        self.db.flush().map_err(err)?;
        Ok(())
    }

    /// The values of `tree` (`raw`, `versions`) to the packs, a slice at a
    /// time: appended and synced, then their pointers written in one atomic
    /// batch. A pointer is left alone, so a kill leaves the rest for the
    /// next open (and a slice's frames that nothing points to).
    fn move_to_packs(&self, tree: &sled::Tree) -> Result<()> {
        let err = |e| store_error(&self.path, e);
        let packs_error = |e: std::io::Error| {
            let what = format!(
                "moving values to {}",
                self.path.join(super::PACKS_DIR).display()
            );
            Error::io(&self.path, what, e)
        };
        let mut after: Option<sled::IVec> = None;
        loop {
            let mut batch = sled::Batch::default();
            let mut moved = 0;
            let mut last = None;
            for kv in entries_after(tree, after.as_ref()).take(SLICE) {
                let (key, value) = kv.map_err(err)?;
                if super::packs::Pointer::decode(&value).is_none() {
                    let at = self.packs.append(&value).map_err(packs_error)?;
                    batch.insert(key.clone(), at.encode().to_vec());
                    moved += 1;
                }
                last = Some(key);
            }
            let Some(last) = last else {
                return Ok(());
            };
            if moved > 0 {
                self.packs.sync().map_err(packs_error)?;
                tree.apply_batch(batch).map_err(err)?;
            }
            after = Some(last);
        }
    }

    /// Raw bytes a schema-1 govsnap keyed by their hash: to an id key, with
    /// their `raw_ids` entry.
    fn upgrade_raw_keys(&self) -> Result<()> {
        let err = |e| store_error(&self.path, e);
        let hashed: Vec<sled::IVec> = self
            .raw
            .iter()
            .keys()
            .filter(|k| k.as_ref().map_or(true, |k| k.len() == 32))
            .collect::<sled::Result<_>>()
            .map_err(err)?;
        for hash in hashed {
            let id = self.db.generate_id().map_err(err)?;
            (&self.raw, &self.raw_ids)
                .transaction(|(raw, raw_ids)| {
                    let Some(value) = raw.get(hash.as_ref())? else {
                        return Ok(());
                    };
                    if raw_ids.get(hash.as_ref())?.is_none() {
                        raw.insert(&keys::id_key(id), value)?;
                        raw_ids.insert(hash.as_ref(), &keys::id_key(id))?;
                    }
                    raw.remove(hash.as_ref())?;
                    Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
                })
                .map_err(|e| Error::StoreValue {
                    path: self.path.clone(),
                    tree: trees::RAW.to_owned(),
                    reason: format!("{e:?}"),
                })?;
        }
        Ok(())
    }
}

/// The entries of `tree` after the key `after` (all of them for `None`):
/// the upgrade reads a tree a slice at a time, never all of it at once.
fn entries_after(tree: &sled::Tree, after: Option<&sled::IVec>) -> sled::Iter {
    match after {
        Some(k) => tree.range::<&[u8], _>((
            std::ops::Bound::Excluded(k.as_ref()),
            std::ops::Bound::Unbounded,
        )),
        None => tree.iter(),
    }
}

/// An upgrade transaction's failure.
fn upgrade_tx_error(path: &std::path::Path, e: &sled::transaction::TransactionError<()>) -> Error {
    match e {
        sled::transaction::TransactionError::Storage(e) => store_error(path, e.clone()),
        sled::transaction::TransactionError::Abort(()) => Error::StoreValue {
            path: path.to_owned(),
            tree: "(upgrade)".to_owned(),
            reason: "a transaction gave up".to_owned(),
        },
    }
}

/// A version value as it is stored now: the zstd frame of its JSON (a
/// schema-1 value is the plain JSON).
fn as_frame(value: sled::IVec) -> Result<sled::IVec> {
    if value.starts_with(&super::ZSTD_MAGIC) {
        return Ok(value);
    }
    super::write::compress(&value)
        .map(sled::IVec::from)
        .map_err(|e| Error::Io {
            what: "compressing a version in the upgrade".to_owned(),
            source: e,
        })
}
