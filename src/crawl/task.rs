//! One URL's fetch, as a task beside the others: a conditional request when
//! the store knows the page, the polite fetch with its retries, then the
//! extraction and, for a document, the hashing and compression the writer
//! needs — all off the crawl loop, which only follows links and hands
//! batches to the writer.

use super::client::{Client, FetchError, Response};
use super::discover;
use super::politeness::{Host, HostSlot, fetch_politely};
use crate::config::{ExtractOptions, SiteRules};
use crate::error::Result;
use crate::pipeline::{Page, extract_with_links, is_document};
use crate::store::{Fetch, PreparedPage, Store};
use std::sync::Arc;
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
        let (result, analysed) = match result {
            Ok((response, attempts))
                if (200..300).contains(&response.status) && !response.truncated =>
            {
                let url = item.url.clone();
                let analysed = tokio::task::spawn_blocking(move || {
                    let analysed = self.analyse(&url, &response, at);
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
        Done {
            item,
            result,
            at,
            known,
            analysed,
            error_page,
        }
    }

    fn analyse(&self, url: &Url, response: &Response, at: SystemTime) -> Result<Analysed> {
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
    }
}
