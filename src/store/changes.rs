//! The changes feed (SPEC §9): every new version and gone mark, in the
//! order the store stored them, so that a downstream tool follows the
//! archive from a cursor instead of rescanning it; and each site's last
//! crawl, so that a scheduler knows what is due after a restart.
//!
//! Tree `changes` is keyed by an id from sled's generator, written in the
//! same transaction as the version or gone mark it announces. The store's
//! writes that make changes hold one lock around their transaction (see
//! `Store::write_lock`): an id is taken and committed before the next one is
//! taken, so a reader that has seen id N never later finds an id below N
//! appear. Each commit that adds changes wakes [`Store::subscribe`]rs: the
//! service's long poll waits on that, never on a loop over the store.

use super::values::{Event, EventKind, PageState};
use super::{Store, Version, keys, store_error, trees};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One entry of the changes feed (tree `changes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// `version` or `gone`.
    pub kind: EventKind,
    /// The page's URL.
    pub url: String,
    /// The config site the page belongs to, when known.
    pub site: Option<String>,
    /// The version number, for versions; for a gone mark, the page's last
    /// version.
    pub version: Option<u32>,
    /// When it was fetched (RFC 3339).
    pub fetched_at: String,
    /// The version's title, for versions.
    pub title: Option<String>,
    /// The version's key in tree `versions`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<u64>,
    /// Whether the version is a file's (SPEC §11): the feed says
    /// `kind: "attachment"` for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attachment: bool,
}

impl Change {
    /// The change a new history event of `page` makes.
    pub(super) fn of(page: &PageState, event: &Event) -> Self {
        Self {
            kind: event.kind,
            url: page.url.clone(),
            site: page.site.clone(),
            version: event
                .version
                .or((page.versions > 0).then_some(page.versions)),
            fetched_at: event.fetched_at.clone(),
            title: event.title.clone(),
            version_id: event.version_id,
            attachment: false,
        }
    }

    /// What the feed calls it (SPEC §9, §11): `version`, `attachment` (a
    /// file's version) or `gone`.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            EventKind::Version if self.attachment => "attachment",
            EventKind::Version => "version",
            EventKind::Gone => "gone",
            EventKind::Alias => "alias",
        }
    }
}

/// A place in the changes feed: after the change it names. Written as `c`
/// and 16 hex digits; opaque to clients, and never mistaken for a time, so
/// that `export --since` takes either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChangeCursor(pub(super) u64);

impl ChangeCursor {
    pub(super) fn key(self) -> [u8; 8] {
        keys::id_key(self.0)
    }

    pub(super) fn id(self) -> u64 {
        self.0
    }

    pub(super) fn from_key(key: &[u8]) -> Option<Self> {
        key.try_into().ok().map(|k| Self(u64::from_be_bytes(k)))
    }
}

impl fmt::Display for ChangeCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "c{:016x}", self.0)
    }
}

impl FromStr for ChangeCursor {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        s.strip_prefix('c')
            .filter(|hex| hex.len() == 16)
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())
            .map(Self)
            .ok_or_else(|| {
                format!("{s:?} is not a cursor: use a `cursor` or `next_cursor` the service gave")
            })
    }
}

/// A site's last crawl, as the service shows it (tree `meta`, key
/// `crawl:` ‖ site name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrawlRecord {
    /// When it started (RFC 3339).
    pub started: String,
    /// When it ended; `None` while it runs, or when the process died in it.
    pub finished: Option<String>,
    /// The crawl's summary (the keys of `govsnap crawl --format json`): once
    /// it ended, and while it runs the counts of what it has stored so far.
    pub summary: Option<serde_json::Value>,
}

impl CrawlRecord {
    /// Whether the crawl did not run to its end (killed, or stopped by a
    /// signal or its time limit): its frontier holds the rest.
    #[must_use]
    pub fn unfinished(&self) -> bool {
        self.finished.is_none()
            || self
                .summary
                .as_ref()
                .and_then(|s| s.get("stopped"))
                .and_then(serde_json::Value::as_str)
                == Some("interrupted")
    }
}

/// Changes a backfill holds before writing them: their order is known only
/// once all are read.
type Backfill = Vec<(String, u64, Change)>;

impl Store {
    /// Up to `limit` changes after `after` (`None`: from the first), in
    /// store order, each with its cursor.
    ///
    /// # Errors
    /// [`Error::Store`] on a read failure, [`Error::StoreValue`] on a value
    /// this version cannot read.
    pub fn changes(
        &self,
        after: Option<ChangeCursor>,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Change)>> {
        let mut out = Vec::with_capacity(limit.min(1024));
        for kv in self.changes_since(after).take(limit) {
            out.push(self.decode_change(kv)?);
        }
        Ok(out)
    }

    /// The changes after `after` (all of them for `None`), in store order.
    pub(super) fn changes_since(&self, after: Option<ChangeCursor>) -> sled::Iter {
        match after {
            Some(c) => self.changes.range::<&[u8], _>((
                std::ops::Bound::Excluded(c.key().as_slice()),
                std::ops::Bound::Unbounded,
            )),
            None => self.changes.iter(),
        }
    }

    /// Up to `limit` changes before `before` (`None`: from the newest),
    /// newest first: for people, who look at what changed last.
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn changes_before(
        &self,
        before: Option<ChangeCursor>,
        limit: usize,
    ) -> Result<Vec<(ChangeCursor, Change)>> {
        let key = before.map(ChangeCursor::key);
        let range = match &key {
            Some(k) => self.changes.range::<&[u8], _>(..k.as_slice()),
            None => self.changes.iter(),
        };
        let mut out = Vec::with_capacity(limit.min(1024));
        for kv in range.rev().take(limit) {
            out.push(self.decode_change(kv)?);
        }
        Ok(out)
    }

    pub(super) fn decode_change(
        &self,
        kv: sled::Result<(sled::IVec, sled::IVec)>,
    ) -> Result<(ChangeCursor, Change)> {
        let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
        let cursor = ChangeCursor::from_key(&k)
            .ok_or_else(|| self.bad_value(trees::CHANGES, "a key is not 8 bytes"))?;
        let change = self
            .decode_value(&v)
            .map_err(|e| self.bad_value(trees::CHANGES, &e))?;
        Ok((cursor, change))
    }

    /// The change a cursor names, if the feed has it.
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn change_at(&self, cursor: ChangeCursor) -> Result<Option<Change>> {
        self.read(&self.changes, &cursor.key())
    }

    /// The cursor of the newest change, if there is any.
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn last_change(&self) -> Result<Option<ChangeCursor>> {
        let last = self
            .changes
            .last()
            .map_err(|e| store_error(&self.path, e))?;
        Ok(last.and_then(|(k, _)| ChangeCursor::from_key(&k)))
    }

    /// The version a `version` change announces.
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn version_of_change(&self, change: &Change) -> Result<Option<Version>> {
        match (change.kind, change.version_id, change.version) {
            (EventKind::Version, Some(id), _) => self.read(&self.versions, &keys::id_key(id)),
            (EventKind::Version, None, Some(n)) => self.version(&change.url, n),
            _ => Ok(None),
        }
    }

    /// A receiver woken whenever a commit adds changes; its value is the
    /// newest change's id. For a long poll: subscribe, read, and wait only
    /// if the read found nothing new.
    #[must_use]
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Tell subscribers that changes up to `id` are committed.
    pub(super) fn announce(&self, id: u64) {
        self.changed.send_if_modified(|last| {
            let newer = id > *last;
            *last = (*last).max(id);
            newer
        });
    }

    /// A site's last crawl, if it was ever crawled (by `govsnap crawl` or
    /// `serve`).
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn crawl_record(&self, site: &str) -> Result<Option<CrawlRecord>> {
        self.read(&self.meta, &crawl_key(site))
    }

    /// Remember a page a site answered 404/410 with (its content hash):
    /// the site's error template, which a deleted document of the site may
    /// answer with 200 too (tree `meta`, `errtpl:SITE ‖ 0x00 ‖ hash`).
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails.
    pub fn add_error_template(&self, site: &str, content_hash: &str) -> Result<()> {
        let key = error_template_key(site, content_hash);
        if !self
            .meta
            .contains_key(&key)
            .map_err(|e| store_error(&self.path, e))?
        {
            self.meta
                .insert(key, &[])
                .map_err(|e| store_error(&self.path, e))?;
        }
        Ok(())
    }

    /// Whether a site answered 404/410 with a page of this content hash.
    ///
    /// # Errors
    /// [`Error::Store`] when the read fails.
    pub fn is_error_template(&self, site: &str, content_hash: &str) -> Result<bool> {
        self.meta
            .contains_key(error_template_key(site, content_hash))
            .map_err(|e| store_error(&self.path, e))
    }

    /// Write a site's crawl record (at its start, as it goes, and at its
    /// end).
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails.
    pub fn put_crawl_record(&self, site: &str, record: &CrawlRecord) -> Result<()> {
        let json = serde_json::to_vec(record).map_err(|e| Error::StoreValue {
            path: self.path.clone(),
            tree: trees::META.to_owned(),
            reason: e.to_string(),
        })?;
        self.meta
            .insert(crawl_key(site), json)
            .map(|_| ())
            .map_err(|e| store_error(&self.path, e))
    }

    /// Schema 6: build the changes feed from every page's history, in
    /// fetch-time order (the order the versions were stored is not known
    /// for gone marks; for versions of one fetch time, their ids decide).
    /// The tree is emptied first, so a kill during this leaves the old
    /// schema mark and the next open starts over. Holds one small entry per
    /// event in memory while it sorts them: once per store.
    pub(super) fn backfill_changes(&self) -> Result<()> {
        let err = |e| store_error(&self.path, e);
        self.changes.clear().map_err(err)?;
        let mut all: Backfill = Vec::new();
        for page in self.pages() {
            let page = page?;
            // an alias's history holds no version and no gone mark
            for event in self
                .history(&page.url)?
                .into_iter()
                .filter(|e| e.kind != EventKind::Alias)
            {
                let mut change = Change::of(&page, &event);
                if change.kind == EventKind::Gone {
                    change.version = None;
                }
                let order = event.version_id.unwrap_or(0);
                all.push((event.fetched_at, order, change));
            }
        }
        all.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        // gone marks name the version before them, as new ones do
        let mut last_version = std::collections::HashMap::<String, u32>::new();
        for (_, _, mut change) in all {
            match change.kind {
                EventKind::Version => {
                    last_version.insert(change.url.clone(), change.version.unwrap_or(0));
                }
                EventKind::Gone => change.version = last_version.get(&change.url).copied(),
                EventKind::Alias => {}
            }
            let id = self.db.generate_id().map_err(err)?;
            let json = serde_json::to_vec(&change)
                .map_err(|e| self.bad_value(trees::CHANGES, &e.to_string()))?;
            self.changes.insert(keys::id_key(id), json).map_err(err)?;
        }
        self.changes.flush().map_err(err)?;
        Ok(())
    }
}

fn crawl_key(site: &str) -> Vec<u8> {
    [trees::CRAWL_KEY_PREFIX, site.as_bytes()].concat()
}

/// Where an export starts (`export --since`, `GET /api/v1/export?since=`):
/// a time, or a cursor of the changes feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// Versions fetched at or after this time (RFC 3339, as stored).
    Time(String),
    /// Versions stored after this change.
    Cursor(ChangeCursor),
}

impl Since {
    /// Where an export of `since` starts, and the time it filters by.
    #[must_use]
    pub fn start(since: Option<&Self>) -> (Option<ChangeCursor>, Option<&str>) {
        match since {
            Some(Self::Cursor(c)) => (Some(*c), None),
            Some(Self::Time(t)) => (None, Some(t.as_str())),
            None => (None, None),
        }
    }
}

impl FromStr for Since {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.starts_with('c') {
            return s.parse().map(Self::Cursor);
        }
        let full = if s.len() == 10 {
            format!("{s}T00:00:00Z")
        } else {
            s.to_owned()
        };
        humantime::parse_rfc3339_weak(&full)
            .map(|t| Self::Time(super::timestamp(t)))
            .map_err(|_| {
                format!(
                    "{s:?} is neither a time (2024-03-01, 2024-03-01T08:00:00Z) nor a cursor of the changes feed"
                )
            })
    }
}

/// Versions with their changes' cursors, and where the next slice starts.
pub type VersionsSlice = (Vec<(ChangeCursor, Version)>, Option<ChangeCursor>);

/// One slice of an export: its lines, and where the next slice starts
/// (`None` at the end of the feed).
#[derive(Debug, Clone, Default)]
pub struct ExportSlice {
    /// JSON lines (without the newline): each version's record with its
    /// page `url`, `version`, `fetched_at`, and the `cursor` of its change.
    pub lines: Vec<String>,
    /// The cursor after the last change this slice read.
    pub next: Option<ChangeCursor>,
}

impl Store {
    /// Up to `limit` changes of the feed after `after` (or from the start),
    /// as export lines, leaving out versions fetched before `from_time` (as
    /// stored, RFC 3339); gone marks are read and skipped. Callers loop on
    /// [`ExportSlice::next`]; each slice is a short read, so a process that
    /// holds the store can serve other readers and writers between them.
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn export_slice(
        &self,
        after: Option<ChangeCursor>,
        from_time: Option<&str>,
        limit: usize,
    ) -> Result<ExportSlice> {
        let (versions, next) = self.versions_slice(after, from_time, limit)?;
        let lines = versions
            .into_iter()
            .map(|(cursor, version)| {
                export_line(cursor, version).map_err(|e| self.bad_value(trees::VERSIONS, &e))
            })
            .collect::<Result<_>>()?;
        Ok(ExportSlice { lines, next })
    }

    /// [`Store::export_slice`]'s versions themselves, each with its
    /// change's cursor, and where the next slice starts.
    ///
    /// # Errors
    /// As [`Store::changes`].
    pub fn versions_slice(
        &self,
        after: Option<ChangeCursor>,
        from_time: Option<&str>,
        limit: usize,
    ) -> Result<VersionsSlice> {
        let changes = self.changes(after, limit)?;
        let next = (changes.len() == limit)
            .then(|| changes.last().map(|(c, _)| *c))
            .flatten();
        let mut versions = Vec::with_capacity(changes.len());
        for (cursor, change) in changes {
            if change.kind != EventKind::Version
                || from_time.is_some_and(|t| change.fetched_at.as_str() < t)
            {
                continue;
            }
            if let Some(version) = self.version_of_change(&change)? {
                versions.push((cursor, version));
            }
        }
        Ok((versions, next))
    }
}

/// A version as `export` writes it: the record (a file's, its attachment
/// record, SPEC §11), its `kind` (`document` or `attachment`), and where it
/// came from.
pub(super) fn export_line(
    cursor: ChangeCursor,
    version: Version,
) -> std::result::Result<String, String> {
    export_value(cursor, version).map(|line| line.to_string())
}

/// [`export_line`] before it is written out, for a caller that adds keys.
pub(super) fn export_value(
    cursor: ChangeCursor,
    version: Version,
) -> std::result::Result<serde_json::Value, String> {
    let mut line = match &version.attachment {
        Some(attachment) => serde_json::to_value(attachment),
        None => serde_json::to_value(&version.record),
    }
    .map_err(|e| e.to_string())?;
    if let Some(obj) = line.as_object_mut() {
        obj.entry("kind").or_insert_with(|| "document".into());
        obj.insert("url".to_owned(), version.url.into());
        obj.insert("version".to_owned(), version.version.into());
        obj.insert("fetched_at".to_owned(), version.fetched_at.into());
        obj.insert("cursor".to_owned(), cursor.to_string().into());
    }
    Ok(line)
}

/// `errtpl:SITE ‖ 0x00 ‖ hash`: a key of an error template in tree `meta`.
fn error_template_key(site: &str, content_hash: &str) -> Vec<u8> {
    [
        b"errtpl:".as_slice(),
        site.as_bytes(),
        &[0],
        content_hash.as_bytes(),
    ]
    .concat()
}
