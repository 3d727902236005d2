//! One URL's fetch, as a task beside the others: a conditional request when
//! the store knows the page, the polite fetch with its retries, then the
//! extraction and, for a document, the hashing and compression the writer
//! needs — all off the crawl loop, which only follows links and hands
//! batches to the writer.

use super::client::{Client, FetchError, Response};
use super::discover;
use super::jpage::{self, GroupRequest, Pager};
use super::politeness::{Host, HostSlot, fetch_politely, politely};
use crate::config::{ExtractOptions, SiteRules};
use crate::error::Result;
use crate::pipeline::{Page, extract_with_links, is_document};
use crate::store::{Fetch, PreparedPage, Store};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use url::Url;

/// A URL being fetched.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub(super) url: Url,
    pub(super) depth: u32,
    pub(super) hops: u8,
    /// Its place in the crawl's order.
    pub(super) rank: crate::store::schedule::Rank,
    /// New to the frontier in this run: no crawl fetched it before, so there
    /// are no validators to look up for a conditional request.
    pub(super) fresh: bool,
}

/// A page as its fetch task leaves it: extracted, and for a document hashed
/// and compressed, ready for the writer.
pub(super) enum Analysed {
    /// A document, its links, and whether the site's content selector
    /// missed on it.
    Document(Box<PreparedPage>, discover::Links, bool),
    Listing(discover::Links),
    /// A file (SPEC §11), its attachment record made, ready for the writer.
    Attachment(Box<PreparedPage>),
    /// A file of a format the config does not archive.
    Unarchived,
}

/// What a fetch task hands back.
pub(super) struct Done {
    pub(super) item: Item,
    pub(super) result: std::result::Result<(Response, u32), FetchError>,
    pub(super) at: SystemTime,
    /// Whether the store knew the page (a document of an earlier crawl).
    pub(super) known: bool,
    /// Extraction and preparation run in the task, in parallel with other
    /// fetches: the loop only follows links and hands batches to the writer.
    pub(super) analysed: Option<Result<Analysed>>,
    /// For a 404/410 with a page, that page's content hash: the site's
    /// error template, which a deleted document may also answer with 200.
    pub(super) error_page: Option<String>,
    /// For a jpage column, the groups its data proxy was asked for, in order.
    pub(super) groups: Vec<GroupFetch>,
}

/// One group of a jpage column: the request and what came of it.
pub(super) struct GroupFetch {
    pub(super) request: GroupRequest,
    pub(super) at: SystemTime,
    pub(super) result: std::result::Result<Response, FetchError>,
}

/// What a fetch task needs: shared handles, cheap to clone.
pub(super) struct FetchTask {
    pub(super) client: Client,
    pub(super) host: Arc<Host>,
    /// The host slot this task holds from start to end.
    pub(super) slot: HostSlot,
    pub(super) store: Store,
    pub(super) rules: Arc<SiteRules>,
    pub(super) options: ExtractOptions,
    /// The jpage columns this crawl of the site has paged (their
    /// [`jpage::Column::key`]): each once, whichever page names it.
    pub(super) columns: Arc<Mutex<HashSet<String>>>,
    /// What robots.txt allows on the URL's origin: a jpage column's data
    /// proxy is asked only where it allows.
    pub(super) robots: Arc<super::Robots>,
    /// Set when the crawl stops: a column's paging ends at its next group.
    pub(super) stop: tokio::sync::watch::Receiver<bool>,
    /// The file formats archived (none when `attachments = false`).
    pub(super) formats: Arc<Vec<crate::attach::Format>>,
    /// Permits to read a file's text (see `Engine::files`).
    pub(super) files: Arc<FileReaders>,
}

impl FetchTask {
    /// Fetch one URL (conditionally when the store knows it), then extract
    /// it and, for a document, prepare it for the store, off the loop.
    pub(super) async fn run(self, item: Item) -> Done {
        let at = SystemTime::now();
        // a read error only costs the conditional request
        let page = if item.fresh {
            None
        } else {
            self.store.page(item.url.as_str()).ok().flatten()
        };
        let known = page.is_some();
        let (etag, modified) = page.map_or((None, None), |p| (p.etag, p.last_modified));
        let result = fetch_politely(
            &self.client,
            &self.host,
            Some(&self.slot),
            &item.url,
            etag.as_deref(),
            modified.as_deref(),
        )
        .await;
        let (result, mut analysed) = match result {
            Ok((response, attempts))
                if (200..300).contains(&response.status) && !response.truncated =>
            {
                let url = item.url.clone();
                let task = self.clone_handles();
                // held while the file's text is read
                let _permits = if response.file {
                    Some(self.files.acquire(response.received).await)
                } else {
                    None
                };
                let analysed = super::priority::background(move || {
                    let analysed = task.analyse(&url, &response, at);
                    (response, analysed)
                })
                .await;
                match analysed {
                    Ok((response, analysed)) => (Ok((response, attempts)), Some(analysed)),
                    // extraction panicked: the page is logged as a failure
                    Err(e) => (
                        Err(FetchError::Permanent(format!(
                            "extracting the page failed: {e}"
                        ))),
                        None,
                    ),
                }
            }
            other => (other, None),
        };
        let error_page = match &result {
            Ok((response, _))
                if matches!(response.status, 404 | 410) && !response.body.is_empty() =>
            {
                let page = Page {
                    bytes: &response.body,
                    url: Some(item.url.as_str()),
                    location: None,
                    content_type: response.content_type.as_deref(),
                };
                crate::extract(&page, None, ExtractOptions::default())
                    .ok()
                    .filter(|r| !r.text.trim().is_empty())
                    .map(|r| crate::store::content_hash(&r))
            }
            _ => None,
        };
        let mut groups = Vec::new();
        if let Some(Ok(Analysed::Listing(links))) = &mut analysed
            && let Some(column) = links.jpage.take()
            && self.first_paging(&column)
        {
            groups = self.page_column(column, &item.url, links).await;
        }
        Done {
            item,
            result,
            at,
            known,
            analysed,
            error_page,
            groups,
        }
    }

    /// The handles the blocking analysis needs.
    fn clone_handles(&self) -> Analyser {
        Analyser {
            store: self.store.clone(),
            rules: Arc::clone(&self.rules),
            options: self.options,
            formats: Arc::clone(&self.formats),
        }
    }

    /// Whether this crawl has yet to page `column` (and now has).
    fn first_paging(&self, column: &jpage::Column) -> bool {
        self.columns
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(column.key())
    }

    /// Ask a jpage column's data proxy for its groups, one after another at
    /// the host's pace, until the column ends (see [`Pager`]) or the crawl
    /// stops; the records' links join the page's, in list order.
    async fn page_column(
        &self,
        column: jpage::Column,
        page: &Url,
        links: &mut discover::Links,
    ) -> Vec<GroupFetch> {
        let mut pager = Pager::new(column);
        let mut known: HashSet<Url> = links.pages.iter().cloned().collect();
        let mut groups = Vec::new();
        while let Some(request) = pager.request() {
            if *self.stop.borrow() || !self.robots.allowed(request.url.as_str()) {
                break;
            }
            let at = SystemTime::now();
            let result = politely(&self.host, Some(&self.slot), || {
                self.client.send(&request.url, request.body.as_deref())
            })
            .await
            .map(|(response, _)| response);
            let answer = match &result {
                Ok(r) if (200..300).contains(&r.status) && !r.truncated => {
                    jpage::answer(&r.body, r.content_type.as_deref())
                }
                _ => None,
            };
            groups.push(GroupFetch {
                request,
                at,
                result,
            });
            let Some((store, encoding)) = answer else {
                break;
            };
            for url in discover::record_urls(&store.records, page, encoding) {
                if known.insert(url.clone()) {
                    links.pages.push(url);
                }
            }
            if !pager.answered(&store) {
                break;
            }
        }
        groups
    }
}

/// What the blocking half of a fetch task holds.
struct Analyser {
    store: Store,
    rules: Arc<SiteRules>,
    options: ExtractOptions,
    formats: Arc<Vec<crate::attach::Format>>,
}

impl Analyser {
    fn analyse(&self, url: &Url, response: &Response, at: SystemTime) -> Result<Analysed> {
        if let Some(file) = self.file(url, response, at) {
            return file;
        }
        let page = Page {
            bytes: &response.body,
            url: Some(url.as_str()),
            location: None,
            content_type: response.content_type.as_deref(),
        };
        let (record, links) = extract_with_links(&page, url, Some(&self.rules), self.options)?;
        if !is_document(&self.rules, url, &record) {
            return Ok(Analysed::Listing(links));
        }
        let content_missed = record
            .warnings
            .iter()
            .any(|w| w == crate::clean::CONTENT_SELECTOR_MISSED);
        let fetch = fetch_of(url.as_str(), &self.rules.name, at, response);
        Ok(Analysed::Document(
            Box::new(PreparedPage::with_dicts(
                &fetch,
                record,
                self.store.site_dicts(fetch.site)?,
            )?),
            links,
            content_missed,
        ))
    }
}

impl Analyser {
    /// A file's record (SPEC §11), when the response is a file: by its
    /// bytes, then its name (`Content-Disposition`, the URL), then its
    /// `Content-Type`; `None` for a page.
    fn file(&self, url: &Url, response: &Response, at: SystemTime) -> Option<Result<Analysed>> {
        use crate::attach;
        let name = attach::file_name(url.as_str(), response.filename.as_deref());
        let content_type = response.content_type.as_deref();
        let info = attach::FileInfo {
            url: Some(url.as_str()),
            name: name.as_deref(),
            content_type,
        };
        let spool = response.spool.as_ref();
        let readable = spool.is_none_or(|s| s.len() <= attach::MAX_TEXT_BYTES);
        // in memory only to read its text; a file too large to read, only
        // its start, to tell its format
        let bytes = match spool {
            None => Ok(response.body.clone()),
            Some(s) if readable => s.read_all(),
            Some(s) => s.head(SNIFF_BYTES),
        };
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(e) => {
                return Some(Err(crate::error::Error::Io {
                    what: "reading a downloaded file".to_owned(),
                    source: e,
                }));
            }
        };
        let format = attach::detect(&bytes, name.as_deref(), content_type)?;
        if !self.formats.contains(&format) {
            return Some(Ok(Analysed::Unarchived));
        }
        let record = match spool {
            Some(s) if !readable => attach::too_large(format, info, s.len(), s.hash()),
            _ => attach::extract_owned(bytes, format, info, attach::DEFAULT_TIME_BUDGET),
        };
        let fetch = fetch_of(url.as_str(), &self.rules.name, at, response);
        Some((|| {
            let prepared = match spool {
                Some(s) => PreparedPage::spooled_attachment(&fetch, s, record)?,
                None => PreparedPage::attachment(&fetch, record)?,
            };
            Ok(Analysed::Attachment(Box::new(prepared)))
        })())
    }
}

/// Who may read a file's text now: one file per core, and files of at
/// most [`crate::attach::MAX_TEXT_BYTES`] in all. A PDF's reader holds the
/// file (twice) and its objects; a crawl fetching dozens of files at once,
/// or two large ones, would hold them all.
#[derive(Debug)]
pub(super) struct FileReaders {
    cores: Arc<tokio::sync::Semaphore>,
    /// Permits of a MiB each.
    mebibytes: Arc<tokio::sync::Semaphore>,
}

/// A file's leave to be read: given back when dropped.
pub(super) struct FilePermits {
    _core: Option<tokio::sync::OwnedSemaphorePermit>,
    _mebibytes: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl FileReaders {
    pub(super) fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self {
            cores: Arc::new(tokio::sync::Semaphore::new(cores)),
            mebibytes: Arc::new(tokio::sync::Semaphore::new(
                Self::mebibytes(u64::MAX) as usize
            )),
        }
    }

    /// The MiB permits a file of `size` bytes takes (a larger file is not
    /// read whole, and takes them all).
    fn mebibytes(size: u64) -> u32 {
        let cap = crate::attach::MAX_TEXT_BYTES >> 20;
        u32::try_from(size.div_ceil(1 << 20).clamp(1, cap)).unwrap_or(u32::MAX)
    }

    /// Wait for leave to read a file of `size` bytes.
    async fn acquire(&self, size: u64) -> FilePermits {
        FilePermits {
            _core: Arc::clone(&self.cores).acquire_owned().await.ok(),
            _mebibytes: Arc::clone(&self.mebibytes)
                .acquire_many_owned(Self::mebibytes(size))
                .await
                .ok(),
        }
    }
}

/// Bytes of a file too large to read whose format is told from its start.
const SNIFF_BYTES: usize = 64 * 1024;

/// A response as the store records it.
pub(super) fn fetch_of<'a>(
    url: &'a str,
    site: &'a str,
    at: SystemTime,
    response: &'a Response,
) -> Fetch<'a> {
    Fetch {
        url,
        site: Some(site),
        fetched_at: at,
        status: response.status,
        bytes: &response.body,
        content_type: response.content_type.as_deref(),
        duration_ms: u64::try_from(response.elapsed.as_millis()).unwrap_or(u64::MAX),
        etag: response.etag.as_deref(),
        last_modified: response.last_modified.as_deref(),
        head: Some(&response.head),
        conditional: response.conditional.as_deref(),
        tls_invalid: response.tls_invalid.as_deref(),
    }
}
