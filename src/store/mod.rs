//! The versioned snapshot store (SPEC §5): every page ever seen, every
//! version of it, its raw bytes and every fetch, in an embedded sled
//! database. The layout is documented in `docs/STORE.md`; values are JSON
//! (versions inside a zstd frame), versions and raw bytes keyed by
//! monotonic ids so that writes stay in the cached end of their trees.
//!
//! Writing goes through one method per outcome of a fetch:
//! [`Store::put`] (a page was fetched and extracted: new version or
//! unchanged; [`PreparedPage`] and [`Store::put_prepared`] split it for a
//! writer thread), [`Store::mark_gone`] (404/410) and [`Store::log_failure`].
//! Each writes the page state, its history, its version and raw bytes and
//! the fetch-log entry in **one sled transaction**, so a crash leaves either
//! all of them or none. Durability is explicit: sled acknowledges a write
//! before it is on disk, so callers [`Store::flush`] at their own durability
//! points (the `ingest` command: every [`FLUSH_EVERY`] pages and at the end).
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
//! - [`Store`]: the handle; read and write API.
//! - `trees`: tree names; `keys`: key encoding; `values`: the JSON values;
//!   `frontier`: the crawl frontier kept with the pages.

mod frontier;
mod keys;
mod trees;
mod values;

pub use frontier::FrontierEntry;
pub(crate) use keys::url_hash;
pub use values::{Event, EventKind, FetchLogEntry, PageState, PageStatus, Version};

use crate::error::{Error, Result};
use crate::record::Record;
use serde::Serialize;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The store's schema version, in tree `meta`. A store written by a newer
/// govsnap is refused rather than misread. Schema 2 keys versions and raw
/// bytes by monotonic ids (indexes `version_ids` and `raw_ids` find them)
/// and stores versions as zstd frames of their JSON. Schema 3 keys the
/// history and version index of a page new to the store by the page's id,
/// not its URL hash. What an older store holds is read as it is, and the
/// store is marked 3 when opened.
pub const STORE_SCHEMA: u32 = 3;
/// How many pages the `ingest` command writes between two flushes.
pub const FLUSH_EVERY: usize = 64;
/// sled's page cache: 16 MiB keeps a 20,000-page crawl under 150 MB peak
/// RSS (64 MiB: 221 MB), at some cost in speed (docs/PERFORMANCE.md).
const CACHE_BYTES: u64 = 16 * 1024 * 1024;
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
}

/// A govsnap store.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    pages: sled::Tree,
    versions: sled::Tree,
    version_ids: sled::Tree,
    history: sled::Tree,
    raw: sled::Tree,
    raw_ids: sled::Tree,
    fetch_log: sled::Tree,
    frontier: sled::Tree,
    /// Whether schema 1 wrote part of the store: its versions and raw bytes
    /// are keyed by hash, without index entries.
    legacy: bool,
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
    /// Open (or create) the store at `path`.
    ///
    /// # Errors
    /// [`Error::StoreLocked`] when another process has it open,
    /// [`Error::StoreSchema`] when a newer govsnap wrote it, [`Error::Store`]
    /// when sled cannot open it.
    pub fn open(path: &Path) -> Result<Self> {
        let db = sled::Config::new()
            .path(path)
            // zstd on sled's pages keeps the many small JSON values (page
            // states, history, the fetch log) and sled's garbage small:
            // without it a store took 55 % more disk and an unchanged
            // re-ingest 570 bytes per page instead of 220. The big values
            // (versions, raw bytes) come compressed already, once each, so
            // sled's leaves stay small: a third less crawl CPU and RSS than
            // with plain JSON versions (docs/PERFORMANCE.md).
            .use_compression(true)
            .compression_factor(ZSTD_LEVEL)
            // sled caches up to 1 GiB by default; a crawler's memory must stay
            // flat as the store grows
            .cache_capacity(CACHE_BYTES)
            .open()
            .map_err(|e| open_error(path, e))?;
        Self::from_db(path, db)
    }

    /// A store in a temporary directory, removed when dropped (for tests).
    ///
    /// # Errors
    /// [`Error::Store`] when sled cannot create it.
    pub fn temporary() -> Result<Self> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(|e| open_error(Path::new("(temporary)"), e))?;
        Self::from_db(Path::new("(temporary)"), db)
    }

    fn from_db(path: &Path, db: sled::Db) -> Result<Self> {
        let err = |e| store_error(path, e);
        let meta = db.open_tree(trees::META).map_err(err)?;
        let mut legacy = false;
        match meta.get(trees::SCHEMA_KEY).map_err(err)? {
            None => {
                meta.insert(trees::SCHEMA_KEY, STORE_SCHEMA.to_string().as_bytes())
                    .map_err(err)?;
            }
            Some(v) => {
                let found: u32 = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u32::MAX);
                if found > STORE_SCHEMA {
                    return Err(Error::StoreSchema {
                        path: path.to_owned(),
                        found,
                        supported: STORE_SCHEMA,
                    });
                }
                if found < 2 {
                    legacy = true;
                    meta.insert(trees::LEGACY_KEY, b"1".as_slice())
                        .map_err(err)?;
                } else {
                    legacy = meta.get(trees::LEGACY_KEY).map_err(err)?.is_some();
                }
                if found < STORE_SCHEMA {
                    // Older values stay readable as they are; the new mark
                    // keeps an older govsnap from misreading the compressed
                    // values written from now on.
                    tracing::info!(store = %path.display(), from = found, to = STORE_SCHEMA, "store schema upgraded");
                    meta.insert(trees::SCHEMA_KEY, STORE_SCHEMA.to_string().as_bytes())
                        .map_err(err)?;
                }
            }
        }
        Ok(Self {
            path: path.to_owned(),
            pages: db.open_tree(trees::PAGES).map_err(err)?,
            versions: db.open_tree(trees::VERSIONS).map_err(err)?,
            version_ids: db.open_tree(trees::VERSION_IDS).map_err(err)?,
            history: db.open_tree(trees::HISTORY).map_err(err)?,
            raw: db.open_tree(trees::RAW).map_err(err)?,
            raw_ids: db.open_tree(trees::RAW_IDS).map_err(err)?,
            fetch_log: db.open_tree(trees::FETCH_LOG).map_err(err)?,
            frontier: db.open_tree(trees::FRONTIER).map_err(err)?,
            legacy,
            db,
        })
    }

    /// Make every write so far durable.
    ///
    /// # Errors
    /// [`Error::Store`] when the disk refuses.
    pub fn flush(&self) -> Result<()> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| store_error(&self.path, e))
    }

    /// Record a fetched page and its record: a new version when its content
    /// differs from the latest version (or the page was gone), else only the
    /// fetch. Raw bytes are stored once per distinct content hash of the bytes.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails; nothing of it is then stored.
    pub fn put(&self, fetch: &Fetch<'_>, record: &Record) -> Result<PutOutcome> {
        let outcomes = self.put_batch(&[(*fetch, record)])?;
        Ok(outcomes[0])
    }

    /// [`Store::put`] for several pages in one transaction: all of them are
    /// stored, or none. A transaction costs more than the writes in it.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails; nothing of the batch is then stored.
    pub fn put_batch(&self, pages: &[(Fetch<'_>, &Record)]) -> Result<Vec<PutOutcome>> {
        let prepared: Vec<PreparedPage> = pages
            .iter()
            .map(|(fetch, record)| PreparedPage::new(fetch, (*record).clone()))
            .collect::<Result<_>>()?;
        self.put_prepared(&prepared)
    }

    /// Store pages prepared with [`PreparedPage::new`], in one transaction:
    /// all of them, or none. A crawler prepares its pages in parallel and
    /// leaves only this to its writer.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails; nothing of the batch is then stored.
    pub fn put_prepared(&self, prepared: &[PreparedPage]) -> Result<Vec<PutOutcome>> {
        // one zstd context for the batch: creating one costs more than
        // compressing a record
        let compressor = std::cell::RefCell::new(zstd::block::Compressor::new());
        (
            &self.pages,
            &self.versions,
            &self.version_ids,
            &self.history,
            &self.raw,
            &self.raw_ids,
            &self.fetch_log,
        )
            .transaction(
                |(pages, versions, version_ids, history, raw, raw_ids, log)| {
                    let trees = TxTrees {
                        pages,
                        versions,
                        version_ids,
                        history,
                        raw,
                        raw_ids,
                        log,
                        legacy: self.legacy,
                    };
                    prepared
                        .iter()
                        .map(|p| put_one(p, &trees, &mut compressor.borrow_mut()))
                        .collect::<TxResult<Vec<_>>>()
                },
            )
            .map_err(|e| tx_error(&self.path, e))
    }

    /// Record that a known page now answers 404/410: a `gone` event, once.
    /// An unknown URL only gets a fetch-log entry. Returns whether a gone
    /// mark was added.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails.
    pub fn mark_gone(&self, fetch: &Fetch<'_>) -> Result<bool> {
        let at = timestamp(fetch.fetched_at);
        (&self.pages, &self.history, &self.fetch_log)
            .transaction(|(pages, history, log)| {
                let Some(mut page): Option<PageState> = get_json(pages, fetch.url.as_bytes())?
                else {
                    log_fetch(log, fetch, &at, "gone")?;
                    return Ok(false);
                };
                let newly = page.state != PageStatus::Gone;
                if newly {
                    page.events += 1;
                    page.state = PageStatus::Gone;
                    let event = Event {
                        kind: EventKind::Gone,
                        version: None,
                        fetched_at: at.clone(),
                        status: fetch.status,
                        content_hash: None,
                        title: None,
                    };
                    let key = keys::event_key(&keys::page_prefix(fetch.url, page.id), page.events);
                    put_json(history, &key, &event)?;
                }
                page.last_fetched.clone_from(&at);
                page.last_status = fetch.status;
                put_json(pages, fetch.url.as_bytes(), &page)?;
                log_fetch(log, fetch, &at, "gone")?;
                Ok(newly)
            })
            .map_err(|e| tx_error(&self.path, e))
    }

    /// Log a fetch that produced nothing to store (an error, a non-page).
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails.
    pub fn log_failure(&self, fetch: &Fetch<'_>) -> Result<()> {
        self.log(fetch, "error")
    }

    /// Log a fetch with its outcome (`listing`, `not_modified`, `redirect` …)
    /// and nothing else.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails.
    pub fn log(&self, fetch: &Fetch<'_>, outcome: &str) -> Result<()> {
        let at = timestamp(fetch.fetched_at);
        self.fetch_log
            .transaction(|log| log_fetch(log, fetch, &at, outcome))
            .map_err(|e| tx_error(&self.path, e))
    }

    /// A page's latest state.
    ///
    /// # Errors
    /// [`Error::Store`] on a read failure, [`Error::StoreValue`] on a value
    /// this version cannot read.
    pub fn page(&self, url: &str) -> Result<Option<PageState>> {
        self.read(&self.pages, url.as_bytes())
    }

    /// Every page, in URL order.
    pub fn pages(&self) -> impl Iterator<Item = Result<PageState>> + '_ {
        self.pages.iter().map(|kv| self.decode_kv(kv))
    }

    /// A page's history, oldest first.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn history(&self, url: &str) -> Result<Vec<Event>> {
        let prefix = keys::page_prefix(url, self.page(url)?.and_then(|p| p.id));
        self.history
            .scan_prefix(&prefix)
            // an 8-byte id can begin another page's 16-byte URL hash
            .filter(|kv| {
                kv.as_ref()
                    .map_or(true, |(k, _)| k.len() == prefix.len() + 4)
            })
            .map(|kv| self.decode_kv(kv))
            .collect()
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
        let key = keys::event_key(&keys::page_prefix(&page.url, page.id), n);
        match self
            .version_ids
            .get(key)
            .map_err(|e| store_error(&self.path, e))?
        {
            Some(id) => self.read(&self.versions, &id),
            None if self.legacy => self.read(&self.versions, &keys::page_key(&page.url, n)),
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
            out.push(decode_value(&v).map_err(|e| self.bad_value(trees::VERSIONS, &e))?);
            last = Some(k.to_vec());
        }
        let next = (out.len() == limit)
            .then_some(last)
            .flatten()
            .map(VersionCursor);
        Ok((out, next))
    }

    /// The raw bytes of a version, decompressed.
    ///
    /// # Errors
    /// As [`Store::page`], and [`Error::StoreValue`] when the bytes do not
    /// decompress.
    pub fn raw(&self, version: &Version) -> Result<Option<Vec<u8>>> {
        let Some(hash) = blake3::Hash::from_hex(&version.raw_hash).ok() else {
            return Err(self.bad_value(trees::VERSIONS, "raw_hash is not a blake3 hash"));
        };
        let get =
            |tree: &sled::Tree, key: &[u8]| tree.get(key).map_err(|e| store_error(&self.path, e));
        let compressed = match get(&self.raw_ids, hash.as_bytes())? {
            Some(id) => get(&self.raw, &id)?,
            None if self.legacy => get(&self.raw, hash.as_bytes())?,
            None => None,
        };
        let Some(compressed) = compressed else {
            return Ok(None);
        };
        zstd::decode_all(&*compressed)
            .map(Some)
            .map_err(|e| self.bad_value(trees::RAW, &e.to_string()))
    }

    /// The fetch log, oldest first.
    pub fn fetch_log(&self) -> impl Iterator<Item = Result<FetchLogEntry>> + '_ {
        self.fetch_log.iter().map(|kv| self.decode_kv(kv))
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
        decode_value(&v)
            .map(Some)
            .map_err(|e| self.bad_value(&tree_name(tree), &e))
    }

    fn decode_kv<T: serde::de::DeserializeOwned>(
        &self,
        kv: sled::Result<(sled::IVec, sled::IVec)>,
    ) -> Result<T> {
        let (_, v) = kv.map_err(|e| store_error(&self.path, e))?;
        decode_value(&v).map_err(|e| self.bad_value("(iteration)", &e))
    }

    fn bad_value(&self, tree: &str, reason: &str) -> Error {
        Error::StoreValue {
            path: self.path.clone(),
            tree: tree.to_owned(),
            reason: reason.to_owned(),
        }
    }
}

/// A fetched page and its record, ready to be written: hashed, its raw bytes
/// compressed, everything owned, so that it can cross threads. This is the
/// CPU-heavy half of [`Store::put`].
#[derive(Debug, Clone)]
pub struct PreparedPage {
    url: String,
    site: Option<String>,
    at: String,
    status: u16,
    content_type: Option<String>,
    duration_ms: u64,
    etag: Option<String>,
    last_modified: Option<String>,
    bytes: u64,
    record: Record,
    content: String,
    raw_hash: blake3::Hash,
    compressed: Vec<u8>,
}

impl PreparedPage {
    /// Hash and compress a fetched page and its record.
    ///
    /// # Errors
    /// [`Error::Io`] when compression fails.
    pub fn new(fetch: &Fetch<'_>, record: Record) -> Result<Self> {
        Ok(Self {
            url: fetch.url.to_owned(),
            site: fetch.site.map(str::to_owned),
            at: timestamp(fetch.fetched_at),
            status: fetch.status,
            content_type: fetch.content_type.map(str::to_owned),
            duration_ms: fetch.duration_ms,
            etag: fetch.etag.map(str::to_owned),
            last_modified: fetch.last_modified.map(str::to_owned),
            bytes: fetch.bytes.len() as u64,
            content: content_hash(&record),
            raw_hash: blake3::hash(fetch.bytes),
            compressed: zstd::block::compress(fetch.bytes, ZSTD_LEVEL).map_err(|e| Error::Io {
                what: "compressing a page".to_owned(),
                source: e,
            })?,
            record,
        })
    }

    /// The page's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// The trees one page's write touches, inside a transaction.
struct TxTrees<'a> {
    pages: &'a sled::transaction::TransactionalTree,
    versions: &'a sled::transaction::TransactionalTree,
    version_ids: &'a sled::transaction::TransactionalTree,
    history: &'a sled::transaction::TransactionalTree,
    raw: &'a sled::transaction::TransactionalTree,
    raw_ids: &'a sled::transaction::TransactionalTree,
    log: &'a sled::transaction::TransactionalTree,
    /// Look for schema-1 raw bytes too (keyed by hash, not indexed).
    legacy: bool,
}

/// Write one page inside a transaction: a new version or only its fetch.
fn put_one(
    p: &PreparedPage,
    t: &TxTrees<'_>,
    compressor: &mut zstd::block::Compressor,
) -> TxResult<PutOutcome> {
    let previous: Option<PageState> = get_json(t.pages, p.url.as_bytes())?;
    let changed = previous.as_ref().is_none_or(|old| {
        old.state == PageStatus::Gone || old.content_hash.as_deref() != Some(p.content.as_str())
    });
    let mut page = previous.unwrap_or_else(|| PageState {
        url: p.url.clone(),
        site: p.site.clone(),
        versions: 0,
        events: 0,
        state: PageStatus::Live,
        first_seen: p.at.clone(),
        last_fetched: p.at.clone(),
        last_status: p.status,
        content_hash: None,
        etag: None,
        last_modified: None,
        id: None,
    });
    if page.versions == 0 {
        // new to the store: its keys follow the order pages come in
        page.id = Some(t.pages.generate_id()?);
    }
    page.last_fetched.clone_from(&p.at);
    page.last_status = p.status;
    page.state = PageStatus::Live;
    page.etag.clone_from(&p.etag);
    page.last_modified.clone_from(&p.last_modified);
    if p.site.is_some() {
        page.site.clone_from(&p.site);
    }
    let outcome = if changed {
        page.versions += 1;
        page.events += 1;
        page.content_hash = Some(p.content.clone());
        let raw_hash = p.raw_hash.to_hex();
        let version = VersionRef {
            url: &p.url,
            version: page.versions,
            fetched_at: &p.at,
            content_hash: &p.content,
            raw_hash: raw_hash.as_str(),
            content_type: p.content_type.as_deref(),
            record: &p.record,
        };
        let json = to_json(&version)?;
        let compressed = compressor
            .compress(&json, ZSTD_LEVEL)
            .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
        let id = keys::id_key(t.versions.generate_id()?);
        t.versions.insert(&id, compressed)?;
        let prefix = keys::page_prefix(&p.url, page.id);
        t.version_ids
            .insert(keys::event_key(&prefix, page.versions), &id)?;
        let event = Event {
            kind: EventKind::Version,
            version: Some(page.versions),
            fetched_at: p.at.clone(),
            status: p.status,
            content_hash: Some(p.content.clone()),
            title: p.record.title.clone(),
        };
        put_json(t.history, &keys::event_key(&prefix, page.events), &event)?;
        let hash = p.raw_hash.as_bytes();
        let stored = t.raw_ids.get(hash)?.is_some() || (t.legacy && t.raw.get(hash)?.is_some());
        if !stored {
            let id = keys::id_key(t.raw.generate_id()?);
            t.raw.insert(&id, p.compressed.as_slice())?;
            t.raw_ids.insert(hash, &id)?;
        }
        PutOutcome::NewVersion(page.versions)
    } else {
        PutOutcome::Unchanged
    };
    put_json(t.pages, p.url.as_bytes(), &page)?;
    let entry = FetchLogEntry {
        url: p.url.clone(),
        fetched_at: p.at.clone(),
        status: p.status,
        outcome: match outcome {
            PutOutcome::NewVersion(_) => "new_version",
            PutOutcome::Unchanged => "unchanged",
        }
        .to_owned(),
        duration_ms: p.duration_ms,
        bytes: p.bytes,
    };
    put_log(t.log, &entry)?;
    Ok(outcome)
}

/// [`Version`] borrowed from a [`PreparedPage`]: the same JSON, no copies.
#[derive(Serialize)]
struct VersionRef<'a> {
    url: &'a str,
    version: u32,
    fetched_at: &'a str,
    content_hash: &'a str,
    raw_hash: &'a str,
    content_type: Option<&'a str>,
    record: &'a Record,
}

/// A stored value: a zstd frame holding JSON (schema 2's versions), or plain
/// JSON (everything else, and schema 1's versions).
fn decode_value<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> std::result::Result<T, String> {
    if bytes.starts_with(&ZSTD_MAGIC) {
        let json = zstd::decode_all(bytes).map_err(|e| format!("zstd: {e}"))?;
        serde_json::from_slice(&json).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(bytes).map_err(|e| e.to_string())
    }
}

fn tree_name(tree: &sled::Tree) -> String {
    String::from_utf8_lossy(&tree.name()).into_owned()
}

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<String>>;

fn get_json<T: serde::de::DeserializeOwned>(
    tree: &sled::transaction::TransactionalTree,
    key: &[u8],
) -> TxResult<Option<T>> {
    match tree.get(key)? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| ConflictableTransactionError::Abort(e.to_string())),
    }
}

fn to_json<T: Serialize>(value: &T) -> TxResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| ConflictableTransactionError::Abort(e.to_string()))
}

fn put_json<T: Serialize>(
    tree: &sled::transaction::TransactionalTree,
    key: &[u8],
    value: &T,
) -> TxResult<()> {
    tree.insert(key, to_json(value)?)?;
    Ok(())
}

fn put_log(log: &sled::transaction::TransactionalTree, entry: &FetchLogEntry) -> TxResult<()> {
    let id = log.generate_id()?;
    put_json(log, &keys::id_key(id), entry)
}

fn log_fetch(
    log: &sled::transaction::TransactionalTree,
    fetch: &Fetch<'_>,
    at: &str,
    outcome: &str,
) -> TxResult<()> {
    put_log(
        log,
        &FetchLogEntry {
            url: fetch.url.to_owned(),
            fetched_at: at.to_owned(),
            status: fetch.status,
            outcome: outcome.to_owned(),
            duration_ms: fetch.duration_ms,
            bytes: fetch.bytes.len() as u64,
        },
    )
}

fn tx_error(path: &Path, e: TransactionError<String>) -> Error {
    match e {
        TransactionError::Abort(reason) => Error::StoreValue {
            path: path.to_owned(),
            tree: "(transaction)".to_owned(),
            reason,
        },
        TransactionError::Storage(e) => store_error(path, e),
    }
}

pub(crate) fn store_error(path: &Path, source: sled::Error) -> Error {
    Error::Store {
        path: path.to_owned(),
        source,
    }
}

/// sled's lock failure is an `Io(Other)` whose text says so; name it.
fn open_error(path: &Path, e: sled::Error) -> Error {
    if e.to_string().contains("could not acquire lock") {
        Error::StoreLocked {
            path: path.to_owned(),
        }
    } else {
        store_error(path, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExtractOptions, Page, extract};
    use std::time::{Duration, UNIX_EPOCH};

    const URL: &str = "http://www.example.gov.cn/gk/t20210330_1.html";
    const BASE_SECS: u64 = 1_700_000_000;

    fn page(body: &str, counter: u32) -> String {
        format!(
            "<html><head><title>关于开展安全检查的通知_某某区人民政府</title></head><body>\
             <div class=\"nav\"><a href=\"/\">首页</a></div><div class=\"article\"><h1>关于开展安全检查的通知</h1>\
             <div class=\"info\">发布时间：2021-03-30 浏览次数：{counter}</div><div class=\"content\">{body}</div></div>\
             <div class=\"footer\">主办单位：某某区人民政府 京ICP备12345678号</div></body></html>"
        )
    }

    const BODY: &str = "<p>各街道、各部门：</p><p>为切实做好安全生产工作，有效防范各类事故发生，现就开展安全检查有关事项通知如下。</p>";

    fn record(html: &str) -> Record {
        extract(
            &Page {
                bytes: html.as_bytes(),
                url: Some(URL),
                ..Page::default()
            },
            None,
            ExtractOptions::default(),
        )
        .unwrap()
    }

    /// A fetch of `html` at `url`, `secs` after the tests' base time.
    fn fetch<'a>(url: &'a str, html: &'a str, secs: u64) -> Fetch<'a> {
        Fetch {
            url,
            site: Some("example"),
            fetched_at: UNIX_EPOCH + Duration::from_secs(BASE_SECS + secs),
            status: 200,
            bytes: html.as_bytes(),
            content_type: Some("text/html"),
            duration_ms: 0,
            etag: None,
            last_modified: None,
        }
    }

    fn put(store: &Store, html: &str, secs: u64) -> PutOutcome {
        store.put(&fetch(URL, html, secs), &record(html)).unwrap()
    }

    #[test]
    fn pages_new_to_the_store_key_history_and_versions_by_id_in_arrival_order() {
        let store = Store::temporary().unwrap();
        // URL order is the reverse of arrival order
        let urls = [
            "http://www.example.gov.cn/gk/t20240302_2.html",
            "http://www.example.gov.cn/gk/t20240301_1.html",
        ];
        let html = page(BODY, 1);
        for url in urls {
            store.put(&fetch(url, &html, 0), &record(&html)).unwrap();
        }
        let ids: Vec<u64> = urls
            .iter()
            .map(|url| store.page(url).unwrap().unwrap().id.unwrap())
            .collect();
        assert!(ids[0] < ids[1]);
        let expected: Vec<Vec<u8>> = ids
            .iter()
            .map(|id| keys::event_key(&id.to_be_bytes(), 1))
            .collect();
        for tree in [&store.history, &store.version_ids] {
            let stored: Vec<Vec<u8>> = tree.iter().keys().map(|k| k.unwrap().to_vec()).collect();
            assert_eq!(stored, expected, "appended in arrival order");
        }
        for url in urls {
            assert_eq!(store.history(url).unwrap().len(), 1);
            assert_eq!(store.latest(url).unwrap().unwrap().url, url);
        }
    }

    #[test]
    fn versions_only_for_content_changes() {
        let store = Store::temporary().unwrap();
        assert_eq!(put(&store, &page(BODY, 1), 0), PutOutcome::NewVersion(1));
        // the visit counter changed: boilerplate only
        assert_eq!(put(&store, &page(BODY, 2), 1), PutOutcome::Unchanged);
        let changed = BODY.replace("安全检查", "安全生产大检查");
        assert_eq!(
            put(&store, &page(&changed, 3), 2),
            PutOutcome::NewVersion(2)
        );
        let state = store.page(URL).unwrap().unwrap();
        assert_eq!(
            (state.versions, state.events, state.state),
            (2, 2, PageStatus::Live)
        );
        assert_eq!(store.fetch_log().count(), 3);
        let v1 = store.version(URL, 1).unwrap().unwrap();
        assert_eq!(store.raw(&v1).unwrap().unwrap(), page(BODY, 1).as_bytes());
        assert!(
            store
                .latest(URL)
                .unwrap()
                .unwrap()
                .record
                .text
                .contains("安全生产大检查")
        );
    }

    #[test]
    fn slices_cover_every_version_once_in_order() {
        let store = Store::temporary().unwrap();
        put(&store, &page(BODY, 1), 0);
        put(&store, &page(&BODY.replace("安全检查", "专项检查"), 1), 1);
        put(&store, &page(&BODY.replace("安全检查", "联合检查"), 1), 2);
        let all: Vec<(String, u32)> = store
            .all_versions()
            .map(|v| v.unwrap())
            .map(|v| (v.url, v.version))
            .collect();
        let mut sliced = Vec::new();
        let mut cursor = None;
        loop {
            let (slice, next) = store.versions_from(cursor.as_ref(), 2).unwrap();
            sliced.extend(slice.into_iter().map(|v| (v.url, v.version)));
            match next {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(all.len(), 3);
        assert_eq!(sliced, all);
    }

    #[test]
    fn gone_and_back() {
        let store = Store::temporary().unwrap();
        put(&store, &page(BODY, 1), 0);
        let gone = Fetch {
            url: URL,
            site: None,
            fetched_at: UNIX_EPOCH + Duration::from_secs(BASE_SECS + 100),
            status: 404,
            bytes: b"",
            content_type: None,
            duration_ms: 3,
            etag: None,
            last_modified: None,
        };
        assert!(store.mark_gone(&gone).unwrap());
        assert!(
            !store.mark_gone(&gone).unwrap(),
            "one gone mark per disappearance"
        );
        assert_eq!(store.page(URL).unwrap().unwrap().state, PageStatus::Gone);
        // back with the same content: a version again
        assert_eq!(put(&store, &page(BODY, 9), 200), PutOutcome::NewVersion(2));
        let kinds: Vec<EventKind> = store.history(URL).unwrap().iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [EventKind::Version, EventKind::Gone, EventKind::Version]
        );
    }

    #[test]
    fn a_newer_schema_is_refused_and_a_second_opener_is_told_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        {
            let store = Store::open(&path).unwrap();
            let err = Store::open(&path).unwrap_err();
            assert!(matches!(err, Error::StoreLocked { .. }), "{err}");
            assert!(
                err.to_string()
                    .contains("in use by another govsnap process")
            );
            store
                .db
                .open_tree(trees::META)
                .unwrap()
                .insert(trees::SCHEMA_KEY, (STORE_SCHEMA + 1).to_string().as_bytes())
                .unwrap();
            store.flush().unwrap();
        }
        let err = Store::open(&path).unwrap_err();
        assert!(
            matches!(err, Error::StoreSchema { found, .. } if found == STORE_SCHEMA + 1),
            "{err}"
        );
    }

    #[test]
    fn versions_are_stored_compressed() {
        let store = Store::temporary().unwrap();
        put(&store, &page(BODY, 1), 0);
        let value = store.versions.iter().next().unwrap().unwrap().1;
        assert!(value.starts_with(&ZSTD_MAGIC));
        let latest = store.latest(URL).unwrap().unwrap();
        assert_eq!(
            latest.record.title.as_deref(),
            Some("关于开展安全检查的通知")
        );
    }

    /// Versions and raw bytes are keyed by monotonic ids, in the order they
    /// were stored, and found through their indexes; the same bytes at two
    /// URLs are stored once.
    #[test]
    fn versions_and_raw_bytes_by_id_in_storage_order() {
        let store = Store::temporary().unwrap();
        let html = page(BODY, 1);
        let record = record(&html);
        let urls: Vec<String> = (0..40)
            .map(|i| format!("http://www.example.gov.cn/gk/t20240101_{i}.html"))
            .collect();
        for url in &urls {
            store.put(&fetch(url, &html, 0), &record).unwrap();
        }
        let keys: Vec<Vec<u8>> = store
            .versions
            .iter()
            .keys()
            .map(|k| k.unwrap().to_vec())
            .collect();
        assert_eq!(keys.len(), 40);
        assert!(keys.iter().all(|k| k.len() == 8));
        let stored: Vec<String> = store.all_versions().map(|v| v.unwrap().url).collect();
        assert_eq!(stored, urls, "storage order");
        assert_eq!(store.version(&urls[7], 1).unwrap().unwrap().url, urls[7]);
        assert!(store.version(&urls[7], 2).unwrap().is_none());
        assert_eq!(store.raw.len(), 1, "the same bytes once");
        let v = store.latest(&urls[39]).unwrap().unwrap();
        assert_eq!(store.raw(&v).unwrap().unwrap(), html.as_bytes());
    }

    /// A store as schema 1 wrote it: versions as plain JSON. It opens,
    /// reads, takes new versions and is marked with the current schema.
    #[test]
    fn a_schema_1_store_is_read_and_upgraded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let html = page(BODY, 1);
        {
            let db = sled::Config::new()
                .path(&path)
                .use_compression(true)
                .open()
                .unwrap();
            let record = record(&html);
            let raw_hash = blake3::hash(html.as_bytes());
            let version = Version {
                url: URL.to_owned(),
                version: 1,
                fetched_at: "2023-11-14T22:13:20.000Z".to_owned(),
                content_hash: content_hash(&record),
                raw_hash: raw_hash.to_hex().to_string(),
                content_type: None,
                record: record.clone(),
            };
            let state = PageState {
                url: URL.to_owned(),
                site: None,
                versions: 1,
                events: 1,
                state: PageStatus::Live,
                first_seen: version.fetched_at.clone(),
                last_fetched: version.fetched_at.clone(),
                last_status: 200,
                content_hash: Some(version.content_hash.clone()),
                etag: None,
                last_modified: None,
                id: None,
            };
            let tree = |name: &str| db.open_tree(name).unwrap();
            tree(trees::META).insert(trees::SCHEMA_KEY, b"1").unwrap();
            tree(trees::PAGES)
                .insert(URL, serde_json::to_vec(&state).unwrap())
                .unwrap();
            tree(trees::VERSIONS)
                .insert(
                    keys::page_key(URL, 1),
                    serde_json::to_vec(&version).unwrap(),
                )
                .unwrap();
            tree(trees::RAW)
                .insert(
                    raw_hash.as_bytes(),
                    zstd::encode_all(html.as_bytes(), 1).unwrap(),
                )
                .unwrap();
            db.flush().unwrap();
        }
        let store = Store::open(&path).unwrap();
        let v1 = store.latest(URL).unwrap().unwrap();
        assert_eq!(v1.version, 1);
        assert_eq!(store.raw(&v1).unwrap().unwrap(), html.as_bytes());
        let meta = store.db.open_tree(trees::META).unwrap();
        assert_eq!(
            meta.get(trees::SCHEMA_KEY).unwrap().unwrap(),
            STORE_SCHEMA.to_string().as_bytes()
        );
        assert_eq!(
            put(&store, &page("<p>通知已废止。</p>", 1), 60),
            PutOutcome::NewVersion(2)
        );
        let (all, _) = store.versions_from(None, 10).unwrap();
        let mut numbers: Vec<u32> = all.iter().map(|v| v.version).collect();
        numbers.sort_unstable();
        assert_eq!(numbers, [1, 2]);
        assert_eq!(store.version(URL, 2).unwrap().unwrap().version, 2);
    }
}
