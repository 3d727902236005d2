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
use values::{LastFetch, LoggedFetches};

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
/// not its URL hash. Schema 4 finds a version through its history event
/// (no `version_ids` entry), writes the fetch log one value per write (a
/// JSON array), and creates stores without sled's page compression. What
/// an older store holds is read as it is, and the store is marked 4 when
/// opened.
pub const STORE_SCHEMA: u32 = 4;
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
    fetched: sled::Tree,
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
        // sled refuses to open a store with another compression setting
        // than it was created with, and says so in this message
        let db = match open_db(path, false) {
            Err(sled::Error::Unsupported(why)) if why.contains("use_compression") => {
                open_db(path, true)
            }
            other => other,
        }
        .map_err(|e| open_error(path, e))?;
        Self::from_db(path, db)
    }

    /// Open the store at `path`, which must exist: for readers, which must
    /// never leave an empty store behind a mistyped path.
    ///
    /// # Errors
    /// [`Error::StoreMissing`] when `path` holds no store; as [`Store::open`].
    pub fn open_existing(path: &Path) -> Result<Self> {
        // sled keeps its config and its data in these two files
        if !(path.join("conf").is_file() && path.join("db").is_file()) {
            return Err(Error::StoreMissing {
                path: path.to_owned(),
            });
        }
        Self::open(path)
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
            fetched: db.open_tree(trees::FETCHED).map_err(err)?,
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
        let mut batch = Batch::default();
        for (fetch, record) in pages {
            batch.add_page(PreparedPage::new(fetch, (*record).clone())?);
        }
        self.commit(&batch)
    }

    /// Store a [`Batch`] in one transaction: all of it, or none. Returns the
    /// outcome of each of its pages, in order. A crawler prepares its pages
    /// in parallel and leaves only this to its writer. The batch's fetch-log
    /// entries make one value: a sled entry costs more than the entry in it,
    /// in CPU, in memory (sled keeps a record of every page of every tree)
    /// and on disk.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails; nothing of the batch is then stored.
    pub fn commit(&self, batch: &Batch) -> Result<Vec<PutOutcome>> {
        let (prepared, logged) = (&batch.pages, &batch.logged);
        (
            &self.pages,
            &self.fetched,
            &self.versions,
            &self.history,
            &self.raw,
            &self.raw_ids,
            &self.fetch_log,
        )
            .transaction(|(pages, fetched, versions, history, raw, raw_ids, log)| {
                let trees = TxTrees {
                    pages,
                    fetched,
                    versions,
                    history,
                    raw,
                    raw_ids,
                    legacy: self.legacy,
                };
                let mut entries = Vec::with_capacity(prepared.len() + logged.len());
                let outcomes = prepared
                    .iter()
                    .map(|p| {
                        let (outcome, entry) = put_one(p, &trees)?;
                        entries.push(entry);
                        Ok(outcome)
                    })
                    .collect::<TxResult<Vec<_>>>()?;
                for &i in &batch.not_modified {
                    revalidated(pages, fetched, &logged[i])?;
                }
                entries.extend_from_slice(logged);
                put_log(log, &entries)?;
                Ok(outcomes)
            })
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
        (&self.pages, &self.fetched, &self.history, &self.fetch_log)
            .transaction(|(pages, fetched, history, log)| {
                let entry = [FetchLogEntry::new(fetch, "gone")];
                let Some((mut page, overlaid)) = get_page(pages, fetched, fetch.url)? else {
                    put_log_one(log, &entry)?;
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
                        version_id: None,
                    };
                    let key = keys::event_key(&keys::page_prefix(fetch.url, page.id), page.events);
                    put_json(history, &key, &event)?;
                }
                page.last_fetched.clone_from(&at);
                page.last_status = fetch.status;
                put_page(pages, fetched, &page, overlaid)?;
                put_log_one(log, &entry)?;
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
        let entry = [FetchLogEntry::new(fetch, outcome)];
        self.fetch_log
            .transaction(|log| put_log_one(log, &entry))
            .map_err(|e| tx_error(&self.path, e))
    }

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
        self.pages.iter().map(|kv| {
            self.decode_kv(kv)
                .and_then(|page| self.with_last_fetch(page))
        })
    }

    /// A page's state with its last fetch, when that is stored apart.
    fn with_last_fetch(&self, mut page: PageState) -> Result<PageState> {
        if let Some(last) = self.read::<LastFetch>(&self.fetched, page.url.as_bytes())? {
            last.apply(&mut page);
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
        if let Some(id) = event.and_then(|e| e.version_id) {
            return self.read(&self.versions, &keys::id_key(id));
        }
        // versions stored before schema 4
        match self
            .version_ids
            .get(keys::event_key(&prefix, n))
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
        self.fetch_log
            .iter()
            .flat_map(|kv| match self.decode_kv::<LoggedFetches>(kv) {
                Ok(entries) => entries.into_vec().into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            })
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
            compressed: compress(fetch.bytes).map_err(|e| Error::Io {
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

/// What one [`Store::commit`] writes: pages prepared with
/// [`PreparedPage::new`], and fetches that stored nothing else (list pages,
/// 304s, errors), to log.
#[derive(Debug, Default)]
pub struct Batch {
    pages: Vec<PreparedPage>,
    logged: Vec<FetchLogEntry>,
    /// Which of `logged` are 304s: their page's last fetch changes too.
    not_modified: Vec<usize>,
}

impl Batch {
    /// Add a page to store (a new version, or only its fetch).
    pub fn add_page(&mut self, page: PreparedPage) {
        self.pages.push(page);
    }

    /// Add a fetch to log.
    pub fn add_log(&mut self, entry: FetchLogEntry) {
        self.logged.push(entry);
    }

    /// Add a 304 answer to a conditional request: logged, and the page's
    /// last fetch (time and status) is this one.
    pub fn add_not_modified(&mut self, entry: FetchLogEntry) {
        self.not_modified.push(self.logged.len());
        self.logged.push(entry);
    }

    /// How many pages it holds.
    #[must_use]
    pub fn pages(&self) -> usize {
        self.pages.len()
    }

    /// How many fetches it logs besides its pages'.
    #[must_use]
    pub fn logged(&self) -> usize {
        self.logged.len()
    }

    /// Whether it holds nothing to write.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.pages.is_empty() && self.logged.is_empty()
    }

    /// The URLs of its pages, then of its logged fetches.
    pub fn urls(&self) -> impl Iterator<Item = &str> {
        self.pages
            .iter()
            .map(PreparedPage::url)
            .chain(self.logged.iter().map(|e| e.url.as_str()))
    }
}

/// The trees one page's write touches, inside a transaction.
struct TxTrees<'a> {
    pages: &'a sled::transaction::TransactionalTree,
    fetched: &'a sled::transaction::TransactionalTree,
    versions: &'a sled::transaction::TransactionalTree,
    history: &'a sled::transaction::TransactionalTree,
    raw: &'a sled::transaction::TransactionalTree,
    raw_ids: &'a sled::transaction::TransactionalTree,
    /// Look for schema-1 raw bytes too (keyed by hash, not indexed).
    legacy: bool,
}

/// Write one page inside a transaction: a new version, or only its state.
/// Returns its fetch-log entry, for the caller to write with the batch's.
fn put_one(p: &PreparedPage, t: &TxTrees<'_>) -> TxResult<(PutOutcome, FetchLogEntry)> {
    let (previous, overlaid) = get_page(t.pages, t.fetched, &p.url)?.unzip();
    let overlaid = overlaid.unwrap_or(false);
    let changed = previous.as_ref().is_none_or(|old| {
        old.state == PageStatus::Gone || old.content_hash.as_deref() != Some(p.content.as_str())
    });
    // an unchanged page of the same site changes only its last fetch
    let only_fetched = !changed
        && previous
            .as_ref()
            .is_some_and(|old| p.site.is_none() || old.site == p.site);
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
        let compressed = compress_tx(&to_json(&version)?)?;
        let id = t.versions.generate_id()?;
        t.versions.insert(&keys::id_key(id), compressed)?;
        let prefix = keys::page_prefix(&p.url, page.id);
        let event = Event {
            kind: EventKind::Version,
            version: Some(page.versions),
            fetched_at: p.at.clone(),
            status: p.status,
            content_hash: Some(p.content.clone()),
            title: p.record.title.clone(),
            version_id: Some(id),
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
    if only_fetched {
        put_json(t.fetched, p.url.as_bytes(), &LastFetch::of(&page))?;
    } else {
        put_page(t.pages, t.fetched, &page, overlaid)?;
    }
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
    Ok((outcome, entry))
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

/// A page's state inside a transaction, with its last fetch applied, and
/// whether tree `fetched` holds that.
fn get_page(
    pages: &sled::transaction::TransactionalTree,
    fetched: &sled::transaction::TransactionalTree,
    url: &str,
) -> TxResult<Option<(PageState, bool)>> {
    let Some(mut page): Option<PageState> = get_json(pages, url.as_bytes())? else {
        return Ok(None);
    };
    let last: Option<LastFetch> = get_json(fetched, url.as_bytes())?;
    let overlaid = last.is_some();
    if let Some(last) = last {
        last.apply(&mut page);
    }
    Ok(Some((page, overlaid)))
}

/// A known page answered 304: its last fetch is this one, its validators
/// stay.
fn revalidated(
    pages: &sled::transaction::TransactionalTree,
    fetched: &sled::transaction::TransactionalTree,
    entry: &FetchLogEntry,
) -> TxResult<()> {
    if let Some((page, _)) = get_page(pages, fetched, &entry.url)? {
        let last = LastFetch {
            last_fetched: entry.fetched_at.clone(),
            last_status: entry.status,
            ..LastFetch::of(&page)
        };
        put_json(fetched, entry.url.as_bytes(), &last)?;
    }
    Ok(())
}

/// Write a page's whole state; a last fetch stored apart is then part of
/// it, and goes.
fn put_page(
    pages: &sled::transaction::TransactionalTree,
    fetched: &sled::transaction::TransactionalTree,
    page: &PageState,
    overlaid: bool,
) -> TxResult<()> {
    put_json(pages, page.url.as_bytes(), page)?;
    if overlaid {
        fetched.remove(page.url.as_bytes())?;
    }
    Ok(())
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

thread_local! {
    /// A zstd context per thread, kept: `zstd::block::compress` creates one
    /// per call, and that call was 6 % of a crawl's CPU.
    static COMPRESSOR: std::cell::RefCell<zstd::block::Compressor> =
        std::cell::RefCell::new(zstd::block::Compressor::new());
}

/// `bytes` as a zstd frame (level [`ZSTD_LEVEL`]).
fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    COMPRESSOR.with(|c| c.borrow_mut().compress(bytes, ZSTD_LEVEL))
}

/// [`compress`] inside a transaction.
fn compress_tx(bytes: &[u8]) -> TxResult<Vec<u8>> {
    compress(bytes).map_err(|e| ConflictableTransactionError::Abort(e.to_string()))
}

/// One fetch-log value for a write's entries: a JSON array, in a zstd frame
/// when it holds more than one entry.
fn put_log(log: &sled::transaction::TransactionalTree, entries: &[FetchLogEntry]) -> TxResult<()> {
    if entries.len() < 2 {
        return put_log_one(log, entries);
    }
    let compressed = compress_tx(&to_json(&entries)?)?;
    log.insert(&keys::id_key(log.generate_id()?), compressed)?;
    Ok(())
}

/// [`put_log`] for at most one entry: plain JSON, no zstd context.
fn put_log_one(
    log: &sled::transaction::TransactionalTree,
    entries: &[FetchLogEntry],
) -> TxResult<()> {
    if entries.is_empty() {
        return Ok(());
    }
    put_json(log, &keys::id_key(log.generate_id()?), &entries)
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
/// sled at `path`, with its page compression or without: without for a new
/// store, with for one created so. sled's zstd compresses every node it
/// writes, and creates a zstd context each time: a quarter of a crawl's CPU.
/// The values that are worth it (versions, raw bytes, the fetch log's
/// batches) come compressed already.
fn open_db(path: &Path, compression: bool) -> sled::Result<sled::Db> {
    sled::Config::new()
        .path(path)
        .use_compression(compression)
        .compression_factor(ZSTD_LEVEL)
        // sled caches up to 1 GiB by default; a crawler's memory must stay
        // flat as the store grows
        .cache_capacity(CACHE_BYTES)
        .open()
}

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

    /// A tree's keys, in order.
    fn keys_of(tree: &sled::Tree) -> Vec<Vec<u8>> {
        tree.iter().keys().map(|k| k.unwrap().to_vec()).collect()
    }

    /// Open a store just dropped: sled's flusher thread can hold the lock
    /// for a moment after the handle is gone.
    fn reopen(path: &Path) -> Result<Store> {
        for _ in 0..100 {
            match Store::open(path) {
                Err(Error::StoreLocked { .. }) => std::thread::sleep(Duration::from_millis(20)),
                other => return other,
            }
        }
        Store::open(path)
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
        assert_eq!(
            keys_of(&store.history),
            expected,
            "appended in arrival order"
        );
        assert!(store.version_ids.is_empty(), "events point to versions");
        for (url, key) in urls.iter().zip(&keys_of(&store.versions)) {
            let history = store.history(url).unwrap();
            assert_eq!(history.len(), 1);
            let id = history[0].version_id.expect("a version event has its id");
            assert_eq!(keys::id_key(id).as_slice(), key.as_slice());
            assert_eq!(store.latest(url).unwrap().unwrap().url, *url);
        }
    }

    /// An unchanged fetch writes only the page's last fetch (tree
    /// `fetched`); the page's state reads it back, and the next write of
    /// the whole state takes it in.
    #[test]
    fn an_unchanged_fetch_stores_only_its_last_fetch() {
        let store = Store::temporary().unwrap();
        put(&store, &page(BODY, 1), 0);
        let stored = store.pages.get(URL).unwrap().unwrap();
        let html = page(BODY, 2);
        let again = Fetch {
            etag: Some("\"5f3a-2\""),
            ..fetch(URL, &html, 60)
        };
        assert_eq!(
            store.put(&again, &record(&html)).unwrap(),
            PutOutcome::Unchanged
        );
        assert_eq!(
            store.pages.get(URL).unwrap().unwrap(),
            stored,
            "state not rewritten"
        );
        assert_eq!(store.fetched.len(), 1);
        let state = store.page(URL).unwrap().unwrap();
        assert_eq!(state.last_fetched, timestamp(again.fetched_at));
        assert_eq!(state.etag.as_deref(), Some("\"5f3a-2\""));
        assert_eq!(store.pages().next().unwrap().unwrap(), state);

        let gone = Fetch {
            status: 404,
            ..fetch(URL, "", 120)
        };
        assert!(store.mark_gone(&gone).unwrap());
        assert!(store.fetched.is_empty(), "taken into the state");
        let state = store.page(URL).unwrap().unwrap();
        assert_eq!(
            (state.state, state.last_status, state.last_fetched),
            (PageStatus::Gone, 404, timestamp(gone.fetched_at))
        );
        assert_eq!(state.etag.as_deref(), Some("\"5f3a-2\""));
    }

    /// A page stored by schema 2 or 3: its history event has no version id,
    /// and `version_ids` says where its version is.
    #[test]
    fn a_version_stored_before_schema_4_is_found_through_its_index() {
        let store = Store::temporary().unwrap();
        put(&store, &page(BODY, 1), 0);
        let state = store.page(URL).unwrap().unwrap();
        let (key, value) = store.history.iter().next().unwrap().unwrap();
        let mut event: Event = serde_json::from_slice(&value).unwrap();
        let id = event.version_id.take().unwrap();
        store
            .history
            .insert(&key, serde_json::to_vec(&event).unwrap())
            .unwrap();
        assert!(store.latest(URL).unwrap().is_none(), "nothing says where");
        let prefix = keys::page_prefix(URL, state.id);
        store
            .version_ids
            .insert(keys::event_key(&prefix, 1), &keys::id_key(id))
            .unwrap();
        assert_eq!(store.latest(URL).unwrap().unwrap().version, 1);
    }

    /// The fetches of one write make one fetch-log value, read back one by
    /// one in order, as are entries an older govsnap wrote one per value.
    #[test]
    fn a_batch_logs_its_fetches_in_one_value() {
        let store = Store::temporary().unwrap();
        let old = FetchLogEntry::new(&fetch(URL, "", 0), "unchanged");
        store
            .fetch_log
            .insert(keys::id_key(0), serde_json::to_vec(&old).unwrap())
            .unwrap();
        let html = page(BODY, 1);
        let urls = [
            "http://www.example.gov.cn/gk/t1.html",
            "http://www.example.gov.cn/gk/t2.html",
        ];
        let mut batch = Batch::default();
        for url in urls {
            batch.add_page(PreparedPage::new(&fetch(url, &html, 1), record(&html)).unwrap());
        }
        let listing = "http://www.example.gov.cn/gk/index.html";
        batch.add_log(FetchLogEntry::new(&fetch(listing, "", 1), "listing"));
        assert_eq!(store.commit(&batch).unwrap().len(), 2);
        store.log(&fetch(URL, "", 2), "not_modified").unwrap();
        assert_eq!(store.fetch_log.len(), 3, "one value per write");
        let log: Vec<(String, String)> = store
            .fetch_log()
            .map(|e| e.unwrap())
            .map(|e| (e.url, e.outcome))
            .collect();
        let expected = [
            (URL, "unchanged"),
            (urls[0], "new_version"),
            (urls[1], "new_version"),
            (listing, "listing"),
            (URL, "not_modified"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(u, o)| ((*u).to_owned(), (*o).to_owned()))
            .collect();
        assert_eq!(log, expected);
    }

    /// A new store is created without sled's page compression; one created
    /// with it (by an older govsnap) still opens (see `a_schema_1_store_is_read_and_upgraded`).
    #[test]
    fn a_new_store_is_created_without_page_compression() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        drop(Store::open(&path).unwrap());
        // sled's settings, as text with a checksum after it
        let conf = String::from_utf8_lossy(&std::fs::read(path.join("conf")).unwrap()).into_owned();
        assert!(conf.contains("use_compression: false"), "{conf}");
        reopen(&path).unwrap();
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
        let err = reopen(&path).unwrap_err();
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
        let keys = keys_of(&store.versions);
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
        let store = reopen(&path).unwrap();
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
