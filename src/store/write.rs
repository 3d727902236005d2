//! The store's write path: a fetch and its record become a new version or
//! an unchanged fetch, a gone mark or a logged failure, each in one sled
//! transaction over every tree it touches. [`PreparedPage`] does the
//! CPU-heavy half (hashing, compression) on any thread; [`Batch`] gathers
//! pages and log entries for [`Store::commit`]. Fetch-log entries go to
//! the fetch log's queue after the transaction (see `fetchlog`).

use super::changes::Change;
use super::schedule::Visit;
use super::stored::{VersionRef, record_kept, version_value};
use super::values::{Event, EventKind, FetchLogEntry, LastFetch, PageState, PageStatus};
use super::{DictKind, Fetch, PutOutcome, Store, keys, store_error, timestamp};
use crate::error::{Error, Result};
use crate::record::Record;
use serde::Serialize;
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use std::path::Path;

mod alias;
mod gone;
mod kept;
mod prepared;
use alias::{first_with_content, index_content, put_alias};
pub use kept::KeptResponse;
use kept::{put_kept, put_raw};
pub use prepared::PreparedPage;

/// Fetch-log entries queued before a write flushes the store itself: a
/// crawler flushes after each batch, a long `ingest` every few hundred
/// pages, so this bounds only a writer that never does.
const QUEUED_ENTRIES: usize = 4096;

impl Store {
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
            let dicts = self.site_dicts(fetch.site)?;
            batch.add_page(PreparedPage::with_dicts(fetch, (*record).clone(), dicts)?);
        }
        self.commit(&batch)
    }

    /// Store a [`Batch`] in one transaction: all of it, or none. Returns the
    /// outcome of each of its pages, in order. A crawler prepares its pages
    /// in parallel and leaves only this to its writer. The batch's fetch-log
    /// entries are queued for the fetch log once the transaction has
    /// committed (see `fetchlog`).
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails; nothing of the batch is then stored.
    pub fn commit(&self, batch: &Batch) -> Result<Vec<PutOutcome>> {
        let (prepared, logged) = (&batch.pages, &batch.logged);
        let _order = self.lock_writes();
        let (outcomes, entries) = (
            &self.pages,
            &self.fetched,
            &self.versions,
            &self.history,
            &self.raw,
            &self.raw_ids,
            &self.heads,
            &self.changes,
            &self.aliases,
        )
            .transaction(
                |(pages, fetched, versions, history, raw, raw_ids, heads, changes, aliases)| {
                    let trees = TxTrees {
                        crawled: batch.crawled.as_deref(),
                        packs: &self.packs,
                        pages,
                        fetched,
                        versions,
                        history,
                        raw,
                        raw_ids,
                        heads,
                        changes,
                        aliases,
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
                    for k in &batch.kept {
                        put_kept(k, &trees)?;
                    }
                    for &i in &batch.not_modified {
                        revalidated(pages, fetched, &logged[i], batch.crawled.as_deref())?;
                    }
                    entries.extend_from_slice(logged);
                    // the pointers sled commits next find their bytes
                    self.packs.sync().map_err(pack_error)?;
                    Ok((outcomes, entries))
                },
            )
            .map_err(|e| tx_error(&self.path, e))?;
        self.queue_log(&entries)?;
        if outcomes
            .iter()
            .any(|o| matches!(o, PutOutcome::NewVersion(_)))
        {
            self.announce_latest()?;
        }
        // the samples a site's dictionary is trained on: its new versions'
        // raw bytes, while it has none (a page's record is kept against
        // those bytes, and a version's head is mostly hashes: neither
        // needs a dictionary of its own)
        let mut samples = Vec::new();
        for (p, o) in prepared.iter().zip(&outcomes) {
            let (Some(site), PutOutcome::NewVersion(_)) = (&p.site, o) else {
                continue;
            };
            // a site's dictionary is for its pages, not its files
            if p.is_attachment() {
                continue;
            }
            if p.dicts.raw.is_none() {
                samples.push((DictKind::Raw, site.clone(), p.compressed.clone()));
            }
        }
        if !samples.is_empty() {
            self.learn(samples)?;
        }
        Ok(outcomes)
    }

    /// The lock that orders the transactions adding changes (see
    /// `changes`). A panic while it was held left no partial write (the
    /// transaction aborted), so a poisoned lock is taken as it is.
    fn lock_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        self.write_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Wake the changes feed's subscribers with the newest change.
    fn announce_latest(&self) -> Result<()> {
        if let Some(last) = self.last_change()? {
            self.announce(last.id());
        }
        Ok(())
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
        self.queue_log(&[FetchLogEntry::new(fetch, outcome)])
    }

    /// Queue entries for the fetch log; a writer that does not flush gets
    /// them written every [`QUEUED_ENTRIES`] all the same.
    fn queue_log(&self, entries: &[FetchLogEntry]) -> Result<()> {
        if self.fetch_log.append(entries) >= QUEUED_ENTRIES {
            self.flush()?;
        }
        Ok(())
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
    /// Responses kept with their entry in `logged` (see `kept`).
    kept: Vec<KeptResponse>,
    /// Whether the caller records the last fetch of its unchanged pages in
    /// their frontier slots: the site whose crawl it is ([`Batch::crawled`]).
    crawled: Option<String>,
}

impl Batch {
    /// Add a page to store (a new version, or only its fetch).
    pub fn add_page(&mut self, mut page: PreparedPage) {
        page.slim();
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

    /// For each page, in order, whether it is a file (SPEC §11).
    pub fn attachments(&self) -> impl Iterator<Item = bool> + '_ {
        self.pages.iter().map(PreparedPage::is_attachment)
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

    /// A batch of `site`'s crawl: the crawl passes each page's fetch to
    /// `frontier_done` (see [`Batch::visits`]), which keeps it in the URL's
    /// slot in the site's frontier, so that an unchanged page of the site
    /// (a 200 with the same content and validators, or a 304) writes
    /// nothing to sled but its fetch-log entry. A page another site stored
    /// keeps its last fetch in sled, where its own site's slot is not.
    pub fn crawled(&mut self, site: &str) {
        self.crawled = Some(site.to_owned());
    }

    /// Each URL of the batch with what its fetch found, given the
    /// outcomes [`Store::commit`] returned for its pages, and for pages
    /// and 304s the fetch's time (RFC 3339) and status.
    pub fn visits<'b>(
        &'b self,
        outcomes: &'b [PutOutcome],
    ) -> impl Iterator<Item = (&'b str, Visit, Option<(&'b str, u16)>)> {
        let pages = self.pages.iter().zip(outcomes).map(|(p, o)| {
            let visit = match o {
                PutOutcome::NewVersion(_) => Visit::Changed,
                PutOutcome::Unchanged | PutOutcome::Alias => Visit::Unchanged,
            };
            (p.url(), visit, Some((p.at.as_str(), p.status)))
        });
        let logged = self.logged.iter().map(|e| {
            let (visit, fetched) = match e.outcome.as_str() {
                "listing" => (Visit::Listing, None),
                "not_modified" => (Visit::Unchanged, Some((e.fetched_at.as_str(), e.status))),
                "not_html" => (Visit::Other, None),
                _ => (Visit::Failed, None),
            };
            (e.url.as_str(), visit, fetched)
        });
        pages.chain(logged)
    }
}

/// The trees one page's write touches, inside a transaction.
struct TxTrees<'a> {
    /// See [`Batch::crawled`].
    crawled: Option<&'a str>,
    /// Where the values of `versions` and `raw` go.
    packs: &'a super::packs::Packs,
    pages: &'a sled::transaction::TransactionalTree,
    fetched: &'a sled::transaction::TransactionalTree,
    versions: &'a sled::transaction::TransactionalTree,
    history: &'a sled::transaction::TransactionalTree,
    raw: &'a sled::transaction::TransactionalTree,
    raw_ids: &'a sled::transaction::TransactionalTree,
    heads: &'a sled::transaction::TransactionalTree,
    changes: &'a sled::transaction::TransactionalTree,
    aliases: &'a sled::transaction::TransactionalTree,
}

/// Write one page inside a transaction: a new version, or only its state.
/// Returns its fetch-log entry, for the caller to write with the batch's.
fn put_one(p: &PreparedPage, t: &TxTrees<'_>) -> TxResult<(PutOutcome, FetchLogEntry)> {
    let (stored, previous) = get_page(t.pages, t.fetched, &p.url)?
        .map(|l| (l.stored, l.page))
        .unzip();
    // a URL new to the store whose document another URL of its site has
    if previous.is_none()
        && let Some(first) = first_with_content(t.aliases, p)?
        && first != p.url
    {
        return put_alias(p, t, first);
    }
    let changed = previous.as_ref().is_none_or(|old| {
        old.state == PageStatus::Gone || old.content_hash.as_deref() != Some(p.content.as_str())
    });
    // an unchanged page of the same site changes only its last fetch
    let only_fetched = !changed
        && previous
            .as_ref()
            .is_some_and(|old| old.id.is_some() && (p.site.is_none() || old.site == p.site));
    let same_validators = previous
        .as_ref()
        .is_some_and(|old| old.etag == p.etag && old.last_modified == p.last_modified);
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
        alias_of: None,
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
        put_version(p, t, &mut page)?;
        PutOutcome::NewVersion(page.versions)
    } else {
        PutOutcome::Unchanged
    };
    match stored {
        // the crawl keeps this fetch in the URL's slot
        Some(_)
            if only_fetched
                && t.crawled.is_some()
                && t.crawled == p.site.as_deref()
                && same_validators => {}
        Some(stored) if only_fetched => put_fetch(t.fetched, &page, &stored)?,
        _ => put_page(t.pages, t.fetched, &page)?,
    }
    Ok((outcome, log_entry(p, outcome)))
}

/// A new version of the page, its history event, its change, its response
/// head and raw bytes (once per content), inside the transaction.
fn put_version(p: &PreparedPage, t: &TxTrees<'_>, page: &mut PageState) -> TxResult<()> {
    page.versions += 1;
    page.events += 1;
    page.content_hash = Some(p.content.clone());
    // an alias whose content went its own way is a document of its own
    page.alias_of = None;
    index_content(t.aliases, p)?;
    let raw_hash = p.raw_hash.to_hex();
    let version = VersionRef {
        url: &p.url,
        version: page.versions,
        fetched_at: &p.at,
        content_hash: &p.content,
        raw_hash: raw_hash.as_str(),
        content_type: p.content_type.as_deref(),
        head_hash: p.head.as_ref().map(|(hash, _)| hash.to_hex().to_string()),
        conditional: p.conditional.as_deref(),
        tls_invalid: p.tls_invalid.as_deref(),
        // a page's record goes after the head, against its raw bytes
        record: match p.record_frame {
            Some(_) => None,
            None => record_kept(&p.url, &p.record, p.attachment.as_ref()),
        },
        attachment: p.attachment.as_ref(),
    };
    // heads are mostly hashes: no site dictionary (docs/PERFORMANCE.md)
    let head = compress_tx(&to_json(&version)?)?;
    let compressed = version_value(head, p.record_frame.as_deref());
    let id = t.versions.generate_id()?;
    let at = t.packs.append(&compressed).map_err(pack_error)?;
    t.versions.insert(&keys::id_key(id), &at.encode())?;
    let prefix = keys::page_prefix(&p.url, page.id);
    let event = Event {
        kind: EventKind::Version,
        version: Some(page.versions),
        fetched_at: p.at.clone(),
        status: p.status,
        content_hash: Some(p.content.clone()),
        title: p.record.title.clone(),
        version_id: Some(id),
        alias_of: None,
        reason: None,
        moved_to: None,
        evidence: None,
    };
    put_json(t.history, &keys::event_key(&prefix, page.events), &event)?;
    let change = Change {
        attachment: p.is_attachment(),
        ..Change::of(page, &event)
    };
    put_change(t.changes, &change)?;
    if let Some((hash, compressed)) = &p.head
        && t.heads.get(hash.as_bytes())?.is_none()
    {
        t.heads.insert(hash.as_bytes(), compressed.as_slice())?;
    }
    put_raw(t, &p.raw_hash, p.raw_value())
}

/// A page's fetch-log entry.
fn log_entry(p: &PreparedPage, outcome: PutOutcome) -> FetchLogEntry {
    FetchLogEntry {
        url: p.url.clone(),
        fetched_at: p.at.clone(),
        status: p.status,
        outcome: match outcome {
            PutOutcome::NewVersion(_) => "new_version",
            PutOutcome::Unchanged => "unchanged",
            PutOutcome::Alias => "alias",
        }
        .to_owned(),
        duration_ms: p.duration_ms,
        bytes: p.bytes,
        method: None,
        request_body: None,
        kept: None,
        head_hash: None,
        tls_invalid: p.tls_invalid.clone(),
    }
}

/// Why a transaction gave up: a value it could not make, or a pack it
/// could not write (a full disk among them).
#[derive(Debug)]
enum Abort {
    Value(String),
    Pack(std::io::Error),
}

type TxResult<T> = std::result::Result<T, ConflictableTransactionError<Abort>>;

fn get_json<T: serde::de::DeserializeOwned>(
    tree: &sled::transaction::TransactionalTree,
    key: &[u8],
) -> TxResult<Option<T>> {
    match tree.get(key)? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| ConflictableTransactionError::Abort(Abort::Value(e.to_string()))),
    }
}

/// A page as its `pages` entry holds it, and with its last fetch applied.
struct Loaded {
    stored: PageState,
    page: PageState,
}

/// A page's state inside a transaction.
fn get_page(
    pages: &sled::transaction::TransactionalTree,
    fetched: &sled::transaction::TransactionalTree,
    url: &str,
) -> TxResult<Option<Loaded>> {
    let Some(stored): Option<PageState> = get_json(pages, url.as_bytes())? else {
        return Ok(None);
    };
    let mut page = stored.clone();
    if let Some(id) = stored.id
        && let Some(last) = get_json::<LastFetch>(fetched, &keys::id_key(id))?
    {
        last.apply(&mut page);
    }
    Ok(Some(Loaded { stored, page }))
}

/// A known page answered 304: its last fetch is this one, its validators
/// stay. A page of `crawled`, the site whose crawl this is, has it kept in
/// its slot instead.
fn revalidated(
    pages: &sled::transaction::TransactionalTree,
    fetched: &sled::transaction::TransactionalTree,
    entry: &FetchLogEntry,
    crawled: Option<&str>,
) -> TxResult<()> {
    if let Some(Loaded { stored, mut page }) = get_page(pages, fetched, &entry.url)?
        && (crawled.is_none() || page.site.as_deref() != crawled)
    {
        page.last_fetched.clone_from(&entry.fetched_at);
        page.last_status = entry.status;
        put_fetch(fetched, &page, &stored)?;
    }
    Ok(())
}

/// Write a page's whole state, and its last fetch beside it: every page
/// has one, so that its next unchanged fetch rewrites a value in place
/// instead of adding one.
fn put_page(
    pages: &sled::transaction::TransactionalTree,
    fetched: &sled::transaction::TransactionalTree,
    page: &PageState,
) -> TxResult<()> {
    put_json(pages, page.url.as_bytes(), page)?;
    put_fetch(fetched, page, page)
}

/// Write `page`'s last fetch (tree `fetched`), beside `stored`, its `pages`
/// entry.
fn put_fetch(
    fetched: &sled::transaction::TransactionalTree,
    page: &PageState,
    stored: &PageState,
) -> TxResult<()> {
    match page.id {
        Some(id) => put_json(fetched, &keys::id_key(id), &LastFetch::of(page, stored)),
        // pages without an id are older than schema 7 and upgraded on open
        None => Ok(()),
    }
}

fn to_json<T: Serialize>(value: &T) -> TxResult<Vec<u8>> {
    serde_json::to_vec(value)
        .map_err(|e| ConflictableTransactionError::Abort(Abort::Value(e.to_string())))
}

fn put_json<T: Serialize>(
    tree: &sled::transaction::TransactionalTree,
    key: &[u8],
    value: &T,
) -> TxResult<()> {
    tree.insert(key, to_json(value)?)?;
    Ok(())
}

/// `bytes` as a zstd frame (level [`ZSTD_LEVEL`]).
pub(super) fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    super::codec::compress(bytes, &super::codec::With::Nothing)
}

/// A pack's failure, to abort a transaction with.
fn pack_error(e: std::io::Error) -> ConflictableTransactionError<Abort> {
    ConflictableTransactionError::Abort(Abort::Pack(e))
}

/// [`compress`] inside a transaction.
fn compress_tx(bytes: &[u8]) -> TxResult<Vec<u8>> {
    compress(bytes).map_err(|e| ConflictableTransactionError::Abort(Abort::Value(e.to_string())))
}

/// Add a change to the feed, under the next id.
fn put_change(changes: &sled::transaction::TransactionalTree, change: &Change) -> TxResult<()> {
    put_json(changes, &keys::id_key(changes.generate_id()?), change)
}

fn tx_error(path: &Path, e: TransactionError<Abort>) -> Error {
    match e {
        TransactionError::Abort(Abort::Value(reason)) => Error::StoreValue {
            path: path.to_owned(),
            tree: "(transaction)".to_owned(),
            reason,
        },
        TransactionError::Abort(Abort::Pack(e)) => {
            Error::io(path, "writing to the store's packs", e)
        }
        TransactionError::Storage(e) => store_error(path, e),
    }
}
