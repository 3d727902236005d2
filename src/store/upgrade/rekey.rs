//! Schema 13: one page, one URL (SPEC §8) in a store written before it.
//! Older govsnaps keyed a page by the URL as linked, so one document could
//! sit under many URLs (session ids, tracking parameters, the query in
//! another order). This step keys every page by its canonical form
//! ([`crate::canon::canonical`] with the built-in rules: a site's own
//! `strip_params` live in the config, which opening a store does not read)
//! and merges the pages that become one:
//!
//! - their events in time order (on a tie, the older page's first), the
//!   versions numbered again 1, 2, 3 …; none is dropped, not even one whose
//!   content equals the one before it (two captures under two URLs are two
//!   captures, each with its raw bytes);
//! - each version's value rewritten with its new URL and number; its id,
//!   by which events and the changes feed name it, stays;
//! - the page keeps the oldest id, the earliest `first_seen`, the latest
//!   last fetch; an `alias` event naming a URL of the same group goes (a page
//!   is no alias of itself), one naming another URL names its canonical form.
//!
//! Then the frontier's keys, the contents index (`aliases`) and the changes
//! feed (URL, and a version's new number) say the canonical URL. The fetch
//! log keeps each URL as it was fetched.
//!
//! Crash safety: a group's rewritten version values are appended to the
//! packs and synced before one transaction writes its pages, events, last
//! fetch and version pointers. A merged group has no URL left to merge, and
//! the passes after it rewrite only what is not canonical yet, so a kill
//! leaves the rest for the next open.

use super::super::values::{Event, EventKind, LastFetch, PageState, PageStatus};
use super::super::{Store, Version, changes::Change, keys, store_error, trees};
use super::{SLICE, entries_after, upgrade_tx_error};
use crate::error::{Error, Result};
use sled::Transactional;
use std::collections::BTreeMap;

/// The canonical form of `url` when it is not that already (`None` for a
/// canonical URL, and for one that does not parse: it stays as stored).
pub(super) fn recanonical(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let canonical = crate::canon::canonical(parsed, &[]).to_string();
    (canonical != url).then_some(canonical)
}

/// One page of a group to merge: its state (last fetch applied) and its
/// events under their keys.
struct Member {
    page: PageState,
    events: Vec<(sled::IVec, Event)>,
}

/// What one group's merge writes.
struct Merged {
    members: Vec<Member>,
    page: PageState,
    events: Vec<Vec<u8>>,
    /// Version keys and their new pointers.
    pointers: Vec<([u8; 8], Vec<u8>)>,
}

impl Store {
    /// Every page under its canonical URL, then the frontier, the contents
    /// index and the changes feed.
    pub(super) fn rekey_pages(&self) -> Result<()> {
        #[derive(serde::Deserialize)]
        struct Alias {
            alias_of: Option<String>,
        }
        let err = |e| store_error(&self.path, e);
        // canonical URL → the stored URLs that are its copies
        let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for kv in &self.pages {
            let (key, value) = kv.map_err(err)?;
            let url = String::from_utf8_lossy(&key);
            if let Some(canonical) = recanonical(&url) {
                groups.entry(canonical).or_default().push(url.into_owned());
            } else if serde_json::from_slice::<Alias>(&value)
                .ok()
                .and_then(|a| a.alias_of)
                .is_some_and(|of| recanonical(&of).is_some())
            {
                // an alias (schema 12) of a URL that is now re-keyed
                groups.entry(url.into_owned()).or_default();
            }
        }
        for (canonical, copies) in &groups {
            self.merge_group(canonical, copies)?;
        }
        self.rekey_frontier()?;
        self.rekey_contents()?;
        self.rekey_changes()
    }

    /// The pages stored under `canonical` and under `copies` as one page.
    pub(in crate::store) fn merge_group(&self, canonical: &str, copies: &[String]) -> Result<()> {
        let mut members = Vec::new();
        for url in std::iter::once(canonical).chain(copies.iter().map(String::as_str)) {
            if let Some(page) = self.page(url)? {
                let events = self.keyed_events(&keys::page_prefix(url, page.id))?;
                members.push(Member { page, events });
            }
        }
        members.sort_by_key(|m| m.page.id.unwrap_or(u64::MAX));
        if members.is_empty() {
            return Ok(());
        }
        let merged = self.merged(canonical, members)?;
        let last = LastFetch::of(&merged.page, &merged.page);
        let id = merged.page.id.unwrap_or_default();
        let page_json = serde_json::to_vec(&merged.page)
            .map_err(|e| self.bad_value(trees::PAGES, &e.to_string()))?;
        let last_json = serde_json::to_vec(&last).unwrap_or_default();
        let prefix = keys::page_prefix(canonical, Some(id));
        (&self.pages, &self.history, &self.fetched, &self.versions)
            .transaction(|(pages, history, fetched, versions)| {
                for m in &merged.members {
                    pages.remove(m.page.url.as_bytes())?;
                    for (key, _) in &m.events {
                        history.remove(key)?;
                    }
                    if let Some(id) = m.page.id {
                        fetched.remove(&keys::id_key(id))?;
                    }
                }
                for (seq, json) in (1..).zip(&merged.events) {
                    history.insert(keys::event_key(&prefix, seq), json.as_slice())?;
                }
                for (key, pointer) in &merged.pointers {
                    versions.insert(key, pointer.as_slice())?;
                }
                pages.insert(canonical.as_bytes(), page_json.as_slice())?;
                fetched.insert(&keys::id_key(id), last_json.as_slice())?;
                Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| upgrade_tx_error(&self.path, &e))
    }

    /// The one page `members` (oldest first) make under `canonical`, and
    /// its versions' values rewritten to the packs (synced).
    fn merged(&self, canonical: &str, members: Vec<Member>) -> Result<Merged> {
        let err = |e| store_error(&self.path, e);
        let mut timeline: Vec<(&str, usize, &[u8], Event)> = Vec::new();
        for (i, m) in members.iter().enumerate() {
            for (key, event) in &m.events {
                timeline.push((&event.fetched_at, i, key.as_ref(), event.clone()));
            }
        }
        timeline.sort_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)));
        let mut events = Vec::with_capacity(timeline.len());
        let mut pointers = Vec::new();
        let mut versions = 0;
        let mut content_hash = None;
        let mut alias_of = None;
        let mut state = PageStatus::Live;
        for (_, i, _, mut event) in timeline {
            match event.kind {
                EventKind::Alias => {
                    let of = event.alias_of.as_deref().unwrap_or_default();
                    let of = recanonical(of).unwrap_or_else(|| of.to_owned());
                    if of == canonical {
                        // the page answered, with a version it has
                        state = PageStatus::Live;
                        continue;
                    }
                    event.alias_of = Some(of);
                    alias_of.clone_from(&event.alias_of);
                    state = PageStatus::Live;
                }
                EventKind::Version => {
                    versions += 1;
                    let before = event.version.replace(versions);
                    if let Some(vid) = event.version_id
                        && (before != Some(versions) || members[i].page.url != canonical)
                    {
                        pointers.push((keys::id_key(vid), self.renamed(vid, canonical, versions)?));
                    }
                    content_hash.clone_from(&event.content_hash);
                    state = PageStatus::Live;
                }
                EventKind::Gone => state = PageStatus::Gone,
            }
            events.push(
                serde_json::to_vec(&event)
                    .map_err(|e| self.bad_value(trees::HISTORY, &e.to_string()))?,
            );
        }
        if !pointers.is_empty() {
            self.packs.sync().map_err(|e| self.packs_error(e))?;
        }
        let first = &members[0].page;
        let latest = members
            .iter()
            .map(|m| &m.page)
            .max_by(|a, b| a.last_fetched.cmp(&b.last_fetched))
            .unwrap_or(first);
        let id = match first.id {
            Some(id) => id,
            None => self.db.generate_id().map_err(err)?,
        };
        let page = PageState {
            url: canonical.to_owned(),
            site: members.iter().find_map(|m| m.page.site.clone()),
            versions,
            events: u32::try_from(events.len()).unwrap_or(u32::MAX),
            state,
            first_seen: members
                .iter()
                .map(|m| m.page.first_seen.clone())
                .min()
                .unwrap_or_default(),
            last_fetched: latest.last_fetched.clone(),
            last_status: latest.last_status,
            content_hash: content_hash.or_else(|| latest.content_hash.clone()),
            etag: latest.etag.clone(),
            last_modified: latest.last_modified.clone(),
            id: Some(id),
            alias_of: alias_of.filter(|_| versions == 0),
        };
        Ok(Merged {
            members,
            page,
            events,
            pointers,
        })
    }

    /// Version `vid`'s value with `url` and number `n`, appended to the
    /// packs: the pointer to it.
    fn renamed(&self, vid: u64, url: &str, n: u32) -> Result<Vec<u8>> {
        let value = self
            .versions
            .get(keys::id_key(vid))
            .map_err(|e| store_error(&self.path, e))?
            .ok_or_else(|| self.bad_value(trees::VERSIONS, &format!("version {vid} is missing")))?;
        let mut version: Version = self
            .decode_value(&value)
            .map_err(|e| self.bad_value(trees::VERSIONS, &e))?;
        url.clone_into(&mut version.url);
        version.version = n;
        let json = serde_json::to_vec(&version)
            .map_err(|e| self.bad_value(trees::VERSIONS, &e.to_string()))?;
        let frame = super::super::write::compress(&json).map_err(|e| self.packs_error(e))?;
        let at = self.packs.append(&frame).map_err(|e| self.packs_error(e))?;
        Ok(at.encode().to_vec())
    }

    fn packs_error(&self, e: std::io::Error) -> Error {
        let what = format!(
            "rewriting versions in {}",
            self.path.join(super::super::PACKS_DIR).display()
        );
        Error::io(&self.path, what, e)
    }

    /// Frontier keys under their canonical URL; where the canonical key is
    /// there already, it stays and the copy goes. A slice at a time.
    fn rekey_frontier(&self) -> Result<()> {
        self.rewrite_slices(&self.frontier, |key, value| {
            let nul = key.iter().position(|&b| b == 0)?;
            let canonical = recanonical(&String::from_utf8_lossy(&key[nul + 1..]))?;
            let new_key = [&key[..=nul], canonical.as_bytes()].concat();
            let keep = !self.frontier.contains_key(&new_key).unwrap_or(true);
            Some(keep.then(|| (new_key, value.to_vec())))
        })
    }

    /// The contents index's URLs in their canonical form.
    fn rekey_contents(&self) -> Result<()> {
        self.rewrite_slices(&self.aliases, |key, value| {
            let canonical = recanonical(&String::from_utf8_lossy(value))?;
            Some(Some((key.to_vec(), canonical.into_bytes())))
        })
    }

    /// The changes feed's URLs in their canonical form, each change's
    /// version as the merged page numbers it (a gone mark: the versions
    /// before it).
    fn rekey_changes(&self) -> Result<()> {
        self.rewrite_slices(&self.changes, |key, value| {
            let mut change: Change = serde_json::from_slice(value).ok()?;
            let canonical = recanonical(&change.url)?;
            let history = self.history(&canonical).unwrap_or_default();
            change.version = match (change.kind, change.version_id) {
                (EventKind::Version, Some(vid)) => history
                    .iter()
                    .find(|e| e.version_id == Some(vid))
                    .and_then(|e| e.version),
                _ => history
                    .iter()
                    .filter(|e| e.kind == EventKind::Version && e.fetched_at <= change.fetched_at)
                    .filter_map(|e| e.version)
                    .max(),
            };
            change.url = canonical;
            Some(Some((key.to_vec(), serde_json::to_vec(&change).ok()?)))
        })
    }

    /// Rewrite the entries of `tree` that `rewrite` changes, a slice at a
    /// time, each one atomic batch: `None` leaves an entry, `Some(None)`
    /// removes it, `Some(Some((key, value)))` removes it and writes that.
    fn rewrite_slices<F>(&self, tree: &sled::Tree, rewrite: F) -> Result<()>
    where
        F: Fn(&[u8], &[u8]) -> Option<Option<(Vec<u8>, Vec<u8>)>>,
    {
        let err = |e| store_error(&self.path, e);
        let mut after: Option<sled::IVec> = None;
        loop {
            let mut batch = sled::Batch::default();
            let mut last = None;
            for kv in entries_after(tree, after.as_ref()).take(SLICE) {
                let (key, value) = kv.map_err(err)?;
                if let Some(new) = rewrite(&key, &value) {
                    batch.remove(key.clone());
                    if let Some((k, v)) = new {
                        batch.insert(k, v);
                    }
                }
                last = Some(key);
            }
            let Some(last) = last else {
                return Ok(());
            };
            tree.apply_batch(batch).map_err(err)?;
            after = Some(last);
        }
    }
}
