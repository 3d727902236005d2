//! The versioned snapshot store (SPEC §5): every page ever seen, every
//! version of it, its raw bytes and every fetch, in an embedded sled
//! database. The layout is documented in `docs/STORE.md`; values are JSON
//! (versions inside a zstd frame), versions and raw bytes keyed by
//! monotonic ids so that writes stay in the cached end of their trees.
//!
//! Writing goes through one method per outcome of a fetch:
//! [`Store::put`] (a page was fetched and extracted: new version or
//! unchanged; [`PreparedPage`], [`Batch`] and [`Store::commit`] split it
//! for a writer thread), [`Store::mark_gone`] (404/410) and [`Store::log_failure`].
//! Each writes the page state, its history, its version and raw bytes in
//! **one sled transaction** (the version and raw bytes themselves appended
//! to the packs and synced before it commits), so a crash leaves either all
//! of them or none;
//! its fetch-log entry is queued for the append-only file `fetch_log`
//! (`fetchlog`). Durability is explicit: sled acknowledges a write before it
//! is on disk, so callers [`Store::flush`] at their own durability points
//! (the `ingest` command: every [`FLUSH_EVERY`] pages and at the end), which
//! also appends the queued fetch-log entries and syncs the files beside
//! sled's.
//!
//! # Reading a store
//!
//! ```
//! use govsnap::{ExtractOptions, Store, snapshot};
//! use govsnap::store::{Fetch, PutOutcome};
//!
//! # fn main() -> govsnap::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! let store = Store::open(&dir.path().join("store"))?;
//! let html = "<html><body><div class=\"content\"><h1>关于开展安全检查的通知</h1>\
//!     <p>各街道、各部门：为切实做好安全生产工作，现就开展安全检查有关事项通知如下。</p></div></body></html>";
//! let url = "http://www.example.gov.cn/gk/t20240301_1.html";
//! let fetch = Fetch {
//!     url, site: None, fetched_at: std::time::SystemTime::now(), status: 200,
//!     bytes: html.as_bytes(), content_type: None, duration_ms: 0, etag: None, last_modified: None,
//!     head: None, conditional: None, tls_invalid: None,
//! };
//! assert_eq!(snapshot(&store, &fetch, None, ExtractOptions::default())?, PutOutcome::NewVersion(1));
//! assert_eq!(snapshot(&store, &fetch, None, ExtractOptions::default())?, PutOutcome::Unchanged);
//!
//! let page = store.page(url)?.expect("stored");
//! assert_eq!(page.versions, 1);
//! let history = store.history(url)?;
//! let latest = store.latest(url)?.expect("a version");
//! assert_eq!(latest.record.title.as_deref(), Some("关于开展安全检查的通知"));
//! assert_eq!(store.raw(&latest)?.as_deref(), Some(html.as_bytes()));
//! assert_eq!(store.all_versions().count(), 1);
//! assert_eq!(store.fetch_log().count(), 2);
//! # let _ = history;
//! # Ok(())
//! # }
//! ```
//!
//! # Architecture
//! - [`Store`]: the handle: opening, and the read API (here).
//! - `write`: the write path: [`PreparedPage`], [`Batch`], the transactions.
//! - `trees`: tree names; `keys`: key encoding; `values`: the JSON values;
//!   `frontier`: the crawl frontier kept with the pages.
//! - `changes`: the changes feed; `feed`: what a downstream log reads of
//!   it (each change as one line, the store's id, consumers' cursors).
//! - Files beside sled's: `slots` (rewritten in place), `fetchlog` (the
//!   fetch log, appended), `packs` (raw bytes and version records, appended;
//!   sled keeps pointers), `frames` (the frame both appended files use),
//!   `disk` (sled's file reserved a segment at a time).

mod changes;
mod codec;
mod dicts;
mod disk;
mod feed;
mod fetchlog;
mod frames;
mod frontier;
#[cfg(test)]
mod frontier_tests;
mod imports;
mod keys;
mod open;
mod packs;
mod round;
pub mod schedule;
mod slots;
mod spool;
mod stats;
mod stored;
mod trees;
mod upgrade;
mod values;
mod write;

pub use spool::{Spool, SpoolWriter};
pub use write::{Batch, KeptResponse, PreparedPage};

pub use changes::{Change, ChangeCursor, CrawlRecord, ExportSlice, Since, VersionsSlice};
pub use dicts::{DictKind, RawDict, SiteDicts, TRAIN_SAMPLES};
pub use feed::{FeedBatch, FeedLine};
pub use frontier::FrontierEntry;
pub(crate) use keys::url_hash;
pub use round::CrawlPlan;
pub use stats::{StoreStats, TreeStats, human_bytes};
use values::LastFetch;
pub use values::{Event, EventKind, FetchLogEntry, PageState, PageStatus, Version};

use crate::error::{Error, Result};
use crate::record::Record;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The store's schema version, in tree `meta`. A store written by a newer
/// govsnap is refused rather than misread. Schema 2 keys versions and raw
/// bytes by monotonic ids (indexes `version_ids` and `raw_ids` find them)
/// and stores versions as zstd frames of their JSON. Schema 3 keys the
/// history and version index of a page new to the store by the page's id,
/// not its URL hash. Schema 4 finds a version through its history event
/// (no `version_ids` entry), writes the fetch log one value per write (a
/// JSON array), and creates stores without sled's page compression. Schema
/// 5 keys the crawl frontier by site and URL. Schema 6 adds the changes
/// feed (tree `changes`). Schema 7 is one layout: every page has an id,
/// every version event its `version_id`, every raw value its `raw_ids`
/// entry (tree `version_ids` is gone). Schema 8 compresses a site's raw
/// bytes with the site's zstd dictionary once it has one (tree `dicts`):
/// a govsnap of schema 7 could not read them. Schema 9 keeps a page's last
/// fetch by its id, written with every page, and a site's crawl as a round
/// number instead of a mark on every frontier entry: an unchanged recrawl
/// rewrites small values in place and adds none. Schema 13 keys every page
/// by its canonical URL (SPEC §8). An older store is brought to
/// the current schema when opened (`upgrade`), once, in place, and then
/// marked.
pub const STORE_SCHEMA: u32 = 13;

/// The file in the store directory that holds the slots (`slots`).
const SLOTS_FILE: &str = "slots";
/// The fetch log's file in the store directory (see `fetchlog`).
const FETCH_LOG_FILE: &str = "fetch_log";
/// The pack files' directory in the store directory (see `packs`).
const PACKS_DIR: &str = "packs";
/// sled's log file in the store directory.
const DB_FILE: &str = "db";
/// The full-text index's directory inside the store: the store holds it,
/// and counts it apart, since it is rebuilt from the versions (`govsnap
/// reindex`), never the archive itself.
pub const SEARCH_INDEX_DIR: &str = "index";
/// How many pages the `ingest` command writes between two flushes.
pub const FLUSH_EVERY: usize = 64;
/// sled's page cache, counted in the bytes its pages take serialized; in
/// memory they take more. With schema 4, 8 MiB crawls as fast as 16 MiB
/// (4 alternating runs of 20,000 and 40,000 articles) at 6–8 MB less peak
/// RSS; 4 MiB saved 1–3 MB more and was slower at 20,000
/// (docs/PERFORMANCE.md).
const CACHE_BYTES: u64 = 8 * 1024 * 1024;
/// zstd level, for raw bytes and version values: level 3 saves 15 % of the
/// disk but halves ingest speed (docs/PERFORMANCE.md).
const ZSTD_LEVEL: i32 = 1;
/// The four bytes every zstd frame starts with. No JSON value can: a value
/// that starts with them is compressed, any other is plain JSON.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xB5, 0x2F, 0xFD];

/// One fetched (or saved) page, as the store records it.
#[derive(Debug, Clone, Copy)]
pub struct Fetch<'a> {
    /// The page's URL.
    pub url: &'a str,
    /// The config site it belongs to, when known.
    pub site: Option<&'a str>,
    /// When it was fetched (or read from disk).
    pub fetched_at: SystemTime,
    /// The HTTP status (200 for a saved file).
    pub status: u16,
    /// The body.
    pub bytes: &'a [u8],
    /// The HTTP `Content-Type`.
    pub content_type: Option<&'a str>,
    /// How long the request took.
    pub duration_ms: u64,
    /// `ETag` of the response.
    pub etag: Option<&'a str>,
    /// `Last-Modified` of the response.
    pub last_modified: Option<&'a str>,
    /// The status line and the header lines as received
    /// (`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n…`), without the
    /// blank line; `None` for a saved file.
    pub head: Option<&'a str>,
    /// The conditional header lines the request carried
    /// (`If-None-Match: …\r\n`), kept for the WARC `request` record.
    pub conditional: Option<&'a str>,
    /// Why the server's certificate was not valid, when a site's
    /// `tls = "lenient"` fetched it anyway (SPEC §7).
    pub tls_invalid: Option<&'a str>,
}

impl<'a> Fetch<'a> {
    /// A fetch of `bytes` with `status` and nothing else known of its
    /// response: a saved file, or (status 0, no bytes) a request that got no
    /// answer.
    #[must_use]
    pub fn plain(
        url: &'a str,
        site: Option<&'a str>,
        fetched_at: SystemTime,
        status: u16,
        bytes: &'a [u8],
    ) -> Self {
        Self {
            url,
            site,
            fetched_at,
            status,
            bytes,
            content_type: None,
            duration_ms: 0,
            etag: None,
            last_modified: None,
            head: None,
            conditional: None,
            tls_invalid: None,
        }
    }
}

/// Where [`Store::versions_from`] continues: an opaque key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionCursor(Vec<u8>);

/// What [`Store::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// A new version was stored, with its number.
    NewVersion(u32),
    /// The content is the same as the latest version's; only the fetch was logged.
    Unchanged,
    /// A URL new to the store whose content another URL of its site has:
    /// stored as that page's alias, without a version.
    Alias,
}

/// A govsnap store.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    pages: sled::Tree,
    fetched: sled::Tree,
    versions: sled::Tree,
    history: sled::Tree,
    raw: sled::Tree,
    raw_ids: sled::Tree,
    heads: sled::Tree,
    dicts_tree: sled::Tree,
    /// The raw-byte dictionaries in use, and samples for the next ones.
    dicts: std::sync::Arc<dicts::Dicts>,
    /// Tree `fetch_log`, where the fetch log was before schema 10: empty
    /// once the upgrade has moved it to [`FETCH_LOG_FILE`].
    fetch_log_tree: sled::Tree,
    /// Where the values of `raw` and `versions` are.
    packs: std::sync::Arc<packs::Packs>,
    frontier: sled::Tree,
    meta: sled::Tree,
    changes: sled::Tree,
    /// Which URL of a site first had a content (see `trees::ALIASES`).
    aliases: sled::Tree,
    /// What changes on every fetch of a known URL, rewritten in place.
    slots: std::sync::Arc<slots::Slots>,
    /// The slot numbers this process may give out next: `start..end`.
    slot_range: std::sync::Arc<std::sync::Mutex<(u64, u64)>>,
    /// Wakes readers of the changes feed after each commit that adds to it.
    changed: std::sync::Arc<tokio::sync::watch::Sender<u64>>,
    /// Held around each transaction that adds changes, so that their ids
    /// commit in order (see `changes`).
    write_lock: std::sync::Arc<std::sync::Mutex<()>>,
    /// Last, so that it is dropped after the sled handles above (which
    /// flush when dropped): what it still has queued is then durable.
    fetch_log: std::sync::Arc<fetchlog::FetchLog>,
    /// Keeps sled's file a whole number of its segments (`None`: a
    /// temporary store); last for the same reason.
    reserve: Option<std::sync::Arc<disk::Reserve>>,
}

/// The content fields the content hash covers, in a fixed order.
#[derive(Serialize)]
struct Content<'a> {
    title: &'a Option<String>,
    published: &'a Option<String>,
    source: &'a Option<String>,
    meta: &'a std::collections::BTreeMap<String, String>,
    attachments: &'a [crate::record::Attachment],
    sections: &'a [crate::record::Section],
}

/// blake3 over the record's content (title, published, source, meta,
/// attachments, sections), hex. Text and warnings are derived or incidental
/// and stay out: a change of boilerplate alone makes no version.
#[must_use]
pub fn content_hash(record: &Record) -> String {
    let content = Content {
        title: &record.title,
        published: &record.published,
        source: &record.source,
        meta: &record.meta,
        attachments: &record.attachments,
        sections: &record.sections,
    };
    // Hash the JSON as it is written, without a buffer; a record always
    // serializes (strings, numbers and maps with string keys).
    let mut hasher = blake3::Hasher::new();
    let _ = serde_json::to_writer(&mut hasher, &content);
    hasher.finalize().to_hex().to_string()
}

/// RFC 3339 in UTC with milliseconds: sorts as text in time order.
#[must_use]
pub fn timestamp(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

impl Store {
    /// A page's latest state.
    ///
    /// # Errors
    /// [`Error::Store`] on a read failure, [`Error::StoreValue`] on a value
    /// this version cannot read.
    pub fn page(&self, url: &str) -> Result<Option<PageState>> {
        self.read(&self.pages, url.as_bytes())?
            .map(|page| self.with_last_fetch(page))
            .transpose()
    }

    /// Every page, in URL order.
    pub fn pages(&self) -> impl Iterator<Item = Result<PageState>> + '_ {
        self.pages_after(None)
    }

    /// The pages after `after` (`None`: from the first), in URL order: a
    /// listing in slices.
    pub fn pages_after(&self, after: Option<&str>) -> impl Iterator<Item = Result<PageState>> + '_ {
        let range = match after {
            Some(url) => self.pages.range::<&[u8], _>((
                std::ops::Bound::Excluded(url.as_bytes()),
                std::ops::Bound::Unbounded,
            )),
            None => self.pages.iter(),
        };
        range.map(|kv| {
            self.decode_kv(kv)
                .and_then(|page| self.with_last_fetch(page))
        })
    }

    /// A page's state with its last fetch applied: from tree `fetched`,
    /// or from its URL's slot when its site's crawl recorded a later one
    /// there.
    fn with_last_fetch(&self, mut page: PageState) -> Result<PageState> {
        if let Some(id) = page.id
            && let Some(last) = self.read::<LastFetch>(&self.fetched, &keys::id_key(id))?
        {
            last.apply(&mut page);
        }
        if let Some(site) = &page.site
            && let Some((at, status)) = self.slot_fetch(site, &page.url)?
            && at > page.last_fetched
        {
            (page.last_fetched, page.last_status) = (at, status);
        }
        Ok(page)
    }

    /// A page's history, oldest first.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn history(&self, url: &str) -> Result<Vec<Event>> {
        let prefix = keys::page_prefix(url, self.page(url)?.and_then(|p| p.id));
        self.events(&prefix).collect()
    }

    /// The events under a page's key prefix, oldest first.
    fn events(&self, prefix: &[u8]) -> impl Iterator<Item = Result<Event>> + '_ {
        let len = prefix.len() + 4;
        self.history
            .scan_prefix(prefix)
            // an 8-byte id can begin another page's 16-byte URL hash
            .filter(move |kv| kv.as_ref().map_or(true, |(k, _)| k.len() == len))
            .map(|kv| self.decode_kv(kv))
    }

    /// Version `n` of a page.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn version(&self, url: &str, n: u32) -> Result<Option<Version>> {
        match self.page(url)? {
            Some(page) => self.version_of(&page, n),
            None => Ok(None),
        }
    }

    fn version_of(&self, page: &PageState, n: u32) -> Result<Option<Version>> {
        let prefix = keys::page_prefix(&page.url, page.id);
        let event = self
            .events(&prefix)
            .find(|e| e.as_ref().map_or(true, |e| e.version == Some(n)))
            .transpose()?;
        match event.and_then(|e| e.version_id) {
            Some(id) => self.read(&self.versions, &keys::id_key(id)),
            None => Ok(None),
        }
    }

    /// The latest version of a page.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn latest(&self, url: &str) -> Result<Option<Version>> {
        match self.page(url)? {
            Some(p) if p.versions > 0 => self.version_of(&p, p.versions),
            _ => Ok(None),
        }
    }

    /// Every version of every page, once each, streamed in the order they
    /// were stored (versions a schema-1 govsnap wrote are keyed by page and
    /// come in page order among them). sled 0.34 keeps the pages of one long scan in
    /// memory (about 6.5 KB per version); for a large store, read
    /// [`Store::versions_from`] slices and reopen the store between them.
    pub fn all_versions(&self) -> impl Iterator<Item = Result<Version>> + '_ {
        self.versions.iter().map(|kv| self.decode_kv(kv))
    }

    /// Up to `limit` versions in the order of [`Store::all_versions`],
    /// starting after `cursor` (`None`: from the first), and the cursor for
    /// the next call (`None` at the end). With the store reopened between
    /// calls, a scan of any size keeps sled's memory bounded.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn versions_from(
        &self,
        cursor: Option<&VersionCursor>,
        limit: usize,
    ) -> Result<(Vec<Version>, Option<VersionCursor>)> {
        let range = match cursor {
            Some(c) => self.versions.range::<&[u8], _>((
                std::ops::Bound::Excluded(c.0.as_slice()),
                std::ops::Bound::Unbounded,
            )),
            None => self.versions.iter(),
        };
        let mut out = Vec::with_capacity(limit.min(1024));
        let mut last = None;
        for kv in range.take(limit) {
            let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
            out.push(
                self.decode_value(&v)
                    .map_err(|e| self.bad_value(trees::VERSIONS, &e))?,
            );
            last = Some(k.to_vec());
        }
        let next = (out.len() == limit)
            .then_some(last)
            .flatten()
            .map(VersionCursor);
        Ok((out, next))
    }

    /// A new file to spool a download to (see [`SpoolWriter`]): unnamed,
    /// beside the packs it will be copied into.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be made.
    pub fn spool(&self) -> Result<SpoolWriter> {
        self.spool_dir()
            .and_then(|dir| SpoolWriter::create_in(&dir))
            .map_err(|e| Error::io(&self.path, "making a file to download to", e))
    }

    /// Where [`Store::spool`] makes its files, for a writer that has no
    /// store at hand (the crawl's HTTP client).
    ///
    /// # Errors
    /// When the directory is gone.
    pub fn spool_dir(&self) -> std::io::Result<PathBuf> {
        let dir = self.packs.dir().to_owned();
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// The raw bytes of a version, decompressed.
    ///
    /// # Errors
    /// As [`Store::page`], and [`Error::StoreValue`] when the bytes do not
    /// decompress.
    pub fn raw(&self, version: &Version) -> Result<Option<Vec<u8>>> {
        if blake3::Hash::from_hex(&version.raw_hash).is_err() {
            return Err(self.bad_value(trees::VERSIONS, "raw_hash is not a blake3 hash"));
        }
        self.raw_by_hash(&version.raw_hash)
    }

    /// The raw bytes of a version as a reader, decompressed as they are
    /// read: a file of hundreds of MB costs a buffer, not its size. (A
    /// page's bytes compressed with its site's dictionary are small, and
    /// read whole.)
    ///
    /// # Errors
    /// As [`Store::raw`]; a damaged value is an error of the reader, once
    /// its end is read.
    pub fn raw_reader(&self, version: &Version) -> Result<Option<Box<dyn std::io::Read + Send>>> {
        if blake3::Hash::from_hex(&version.raw_hash).is_err() {
            return Err(self.bad_value(trees::VERSIONS, "raw_hash is not a blake3 hash"));
        }
        let Some(value) = self.raw_value(&version.raw_hash)? else {
            return Ok(None);
        };
        let whole = |store: &Self| -> Result<Option<Box<dyn std::io::Read + Send>>> {
            Ok(store
                .raw(version)?
                .map(|b| Box::new(std::io::Cursor::new(b)) as Box<dyn std::io::Read + Send>))
        };
        let Some(at) = packs::Pointer::decode(&value) else {
            return whole(self);
        };
        let bad = |e: std::io::Error| self.bad_value(trees::RAW, &e.to_string());
        let frame = self.packs.reader(at).map_err(bad)?;
        // a zstd frame's header is at most 18 bytes; it names its dictionary
        if zstd::zstd_safe::get_dict_id_from_frame(&frame.peek(18).map_err(bad)?) != 0 {
            return whole(self);
        }
        let decoder = zstd::stream::read::Decoder::new(frame).map_err(bad)?;
        Ok(Some(Box::new(decoder)))
    }

    /// Raw bytes by the blake3 hash (hex) they were stored under: a
    /// version's `raw_hash`, or a gone mark's `evidence`.
    ///
    /// # Errors
    /// As [`Store::raw`].
    pub fn raw_by_hash(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        let Some(compressed) = self.raw_value(hash)? else {
            return Ok(None);
        };
        let compressed = self
            .unpack(&compressed)
            .map_err(|e| self.bad_value(trees::RAW, &e))?;
        self.decode_frame(&compressed)
            .map(Some)
            .map_err(|e| self.bad_value(trees::RAW, &e))
    }

    /// The value of tree `raw` for bytes of blake3 hash `hash` (hex): a
    /// pointer into the packs, or (before schema 11) the frame itself.
    fn raw_value(&self, hash: &str) -> Result<Option<sled::IVec>> {
        let Some(hash) = blake3::Hash::from_hex(hash).ok() else {
            return Ok(None);
        };
        let get =
            |tree: &sled::Tree, key: &[u8]| tree.get(key).map_err(|e| store_error(&self.path, e));
        let Some(id) = get(&self.raw_ids, hash.as_bytes())? else {
            return Ok(None);
        };
        get(&self.raw, &id)
    }

    /// The status line and headers of the response a version was made
    /// from, as received; `None` for a saved file, or a version stored
    /// before govsnap kept them.
    ///
    /// # Errors
    /// As [`Store::raw`].
    pub fn head(&self, version: &Version) -> Result<Option<String>> {
        match version.head_hash.as_deref() {
            Some(hash) => self.head_by_hash(hash),
            None => Ok(None),
        }
    }

    /// A response head by its hash (a version's `head_hash`, a kept
    /// response's in the fetch log).
    ///
    /// # Errors
    /// As [`Store::raw`], and [`Error::StoreValue`] when `hash` is not a
    /// blake3 hash.
    pub fn head_by_hash(&self, hash: &str) -> Result<Option<String>> {
        let Some(hash) = blake3::Hash::from_hex(hash).ok() else {
            return Err(self.bad_value(trees::HEADS, "head_hash is not a blake3 hash"));
        };
        let Some(compressed) = self
            .heads
            .get(hash.as_bytes())
            .map_err(|e| store_error(&self.path, e))?
        else {
            return Ok(None);
        };
        let bytes = zstd::decode_all(&*compressed)
            .map_err(|e| self.bad_value(trees::HEADS, &e.to_string()))?;
        Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// The fetch log, oldest first.
    pub fn fetch_log(&self) -> impl Iterator<Item = Result<FetchLogEntry>> + '_ {
        let payloads: Box<dyn Iterator<Item = fetchlog::Payload>> = match self.fetch_log.payloads()
        {
            Ok(payloads) => Box::new(payloads),
            Err(e) => Box::new(std::iter::once(Err(e))),
        };
        payloads.flat_map(|payload| {
            match payload
                .map_err(|e| e.to_string())
                .and_then(|p| self.decode_value::<Vec<FetchLogEntry>>(&p))
            {
                Ok(entries) => entries.into_iter().map(Ok).collect(),
                Err(e) => vec![Err(self.bad_value(FETCH_LOG_FILE, &e))],
            }
        })
    }

    /// The store's directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes free on the file system that holds the store (to a process
    /// that is not root); `None` for a temporary store, or when the system
    /// cannot tell.
    #[must_use]
    pub fn free_bytes(&self) -> Option<u64> {
        // a temporary store has no reserve, and no disk of its own to watch
        self.reserve.as_ref()?;
        disk::free_bytes(&self.path).ok()
    }

    /// Bytes the store takes on disk.
    ///
    /// # Errors
    /// [`Error::Store`] when sled cannot tell.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.db
            .size_on_disk()
            .map_err(|e| store_error(&self.path, e))
    }

    fn read<T: serde::de::DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        key: &[u8],
    ) -> Result<Option<T>> {
        let Some(v) = tree.get(key).map_err(|e| store_error(&self.path, e))? else {
            return Ok(None);
        };
        self.decode_value(&v)
            .map(Some)
            .map_err(|e| self.bad_value(&tree_name(tree), &e))
    }

    fn decode_kv<T: serde::de::DeserializeOwned>(
        &self,
        kv: sled::Result<(sled::IVec, sled::IVec)>,
    ) -> Result<T> {
        let (_, v) = kv.map_err(|e| store_error(&self.path, e))?;
        self.decode_value(&v)
            .map_err(|e| self.bad_value("(iteration)", &e))
    }

    /// A stored value: a zstd frame holding JSON (versions, the fetch log's
    /// batches; a version's frame may name its site's record dictionary),
    /// a version in two parts (`stored::COMPOSITE`), or plain JSON
    /// (everything else).
    fn decode_value<T: serde::de::DeserializeOwned>(
        &self,
        bytes: &[u8],
    ) -> std::result::Result<T, String> {
        let bytes = &*self.unpack(bytes)?;
        if bytes.starts_with(&ZSTD_MAGIC) {
            let json = self.decode_frame(bytes)?;
            serde_json::from_slice(&json).map_err(|e| e.to_string())
        } else if bytes.starts_with(&stored::COMPOSITE) {
            let json = self.composite_json(bytes)?;
            serde_json::from_slice(&json).map_err(|e| e.to_string())
        } else {
            serde_json::from_slice(bytes).map_err(|e| e.to_string())
        }
    }

    /// A value of `raw` or `versions` is a pointer into the packs: the
    /// value it points to; any other value as it is.
    fn unpack<'v>(
        &self,
        value: &'v [u8],
    ) -> std::result::Result<std::borrow::Cow<'v, [u8]>, String> {
        match packs::Pointer::decode(value) {
            Some(at) => self
                .packs
                .read(at)
                .map(std::borrow::Cow::Owned)
                .map_err(|e| format!("{} ({e})", self.path.join(PACKS_DIR).display())),
            None => Ok(std::borrow::Cow::Borrowed(value)),
        }
    }

    fn bad_value(&self, tree: &str, reason: &str) -> Error {
        Error::StoreValue {
            path: self.path.clone(),
            tree: tree.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

fn tree_name(tree: &sled::Tree) -> String {
    String::from_utf8_lossy(&tree.name()).into_owned()
}

pub(crate) fn store_error(path: &Path, source: sled::Error) -> Error {
    match source {
        sled::Error::Io(e) if crate::error::is_disk_full(&e) => {
            Error::io(path, "writing the store", e)
        }
        source => Error::Store {
            path: path.to_owned(),
            source,
        },
    }
}

#[cfg(test)]
mod changes_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod upgrade_tests;
