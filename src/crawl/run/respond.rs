//! What a site's crawl does with a fetch's answer: a 304 or a page into the
//! batch, a gone mark or a redirect written at once, a list page's links
//! into the frontier, a failure counted and logged. Each URL is done (its
//! frontier entry marked, its next visit scheduled) when what it wrote is
//! stored.

use super::{Analysed, Done, Item, MAX_REDIRECTS, RECENT_LINKS, SiteCrawl, fetch_of};
use crate::crawl::client::Response;
use crate::crawl::discover;
use crate::error::{Error, Result};
use crate::store::schedule::{RANK_NOW, Visit};
use crate::store::{Fetch, FetchLogEntry, url_hash};
use url::Url;

impl SiteCrawl<'_> {
    pub(super) fn process(&mut self, done: Done) -> Result<()> {
        let Done {
            item,
            result,
            at,
            known,
            mut analysed,
        } = done;
        let url = item.url.as_str();
        let visit = match &result {
            Err(e) => {
                tracing::warn!(%url, error = %e, "fetch failed");
                self.failed_to_reach(url, &e.to_string());
                self.summary.errors += 1;
                self.log(
                    &Fetch {
                        url,
                        site: Some(&self.site.name),
                        fetched_at: at,
                        status: 0,
                        bytes: &[],
                        content_type: None,
                        duration_ms: 0,
                        etag: None,
                        last_modified: None,
                        head: None,
                        conditional: None,
                    },
                    "error",
                );
                None
            }
            Ok((response, _)) => {
                self.summary.fetched += 1;
                if response.status >= 500 {
                    self.failed_to_reach(url, &format!("HTTP {}", response.status));
                } else {
                    self.reached = true;
                }
                if known && matches!(response.status, 304 | 404 | 410) {
                    // a known document checked, whatever it said
                    self.summary.documents += 1;
                }
                if known {
                    self.summary.revisited += 1;
                }
                tracing::debug!(%url, status = response.status, bytes = response.body.len(), "fetched");
                let fetch = fetch_of(url, &self.site.name, at, response);
                self.handle_response(&item, response, &fetch, &mut analysed)?
            }
        };
        if let Some(visit) = visit {
            self.finished(url, visit)?;
        }
        self.processed += 1;
        Ok(())
    }

    /// Returns what the fetch found when the URL is done now (a gone mark
    /// and a redirect are written at once), `None` when it waits for the
    /// batch: a document stored or a fetch logged there is done (its
    /// frontier entry marked) when the batch is stored, never before, so
    /// that a kill fetches it again.
    fn handle_response(
        &mut self,
        item: &Item,
        response: &Response,
        fetch: &Fetch<'_>,
        analysed: &mut Option<Result<Analysed>>,
    ) -> Result<Option<Visit>> {
        match response.status {
            304 => {
                self.summary.not_modified += 1;
                self.batch
                    .add_not_modified(FetchLogEntry::new(fetch, "not_modified"));
            }
            404 | 410 => {
                if self.store.mark_gone(fetch)? {
                    self.summary.gone += 1;
                }
                // a page that never was, too: looked at again after revisit_max
                return Ok(Some(Visit::Gone));
            }
            301 | 302 | 303 | 307 | 308 => {
                self.follow_redirect(item, response, fetch)?;
                return Ok(Some(Visit::Other));
            }
            200..=299 if response.truncated => {
                self.summary.errors += 1;
                self.log(fetch, "too_large");
            }
            200..=299 if let Some(analysed) = analysed.take() => {
                self.handle_page(item, fetch, analysed)?;
            }
            _ => {
                self.summary.errors += 1;
                self.log(fetch, "error");
            }
        }
        Ok(None)
    }

    fn follow_redirect(
        &mut self,
        item: &Item,
        response: &Response,
        fetch: &Fetch<'_>,
    ) -> Result<()> {
        // logged and done at once, not with the batch: a redirect chain
        // back to this URL must find it done to be called a loop
        self.store.log(fetch, "redirect")?;
        let target = response
            .location
            .as_deref()
            .and_then(|l| discover::canonicalize(&item.url, l));
        let Some(target) = target else {
            self.summary.errors += 1;
            return Ok(());
        };
        if !self.site.in_scope(target.as_str()) {
            self.skip_scope(&target);
        } else if item.hops >= MAX_REDIRECTS {
            // a chain too long to be anything but a loop
            self.summary.errors += 1;
        } else if self
            .store
            .frontier_add(target.as_str(), &self.site.name, item.depth)?
        {
            // next in line, whatever the queue holds: a redirect is one
            // fetch that the page it came from is still waiting on
            self.waiting += 1;
            let queued = self.queued(
                target.as_str(),
                item.depth,
                item.hops + 1,
                false,
                (RANK_NOW, 0),
            );
            self.enqueue(queued);
        } else if target == item.url
            || (item.hops > 0
                && self
                    .store
                    .frontier_entry(&self.site.name, target.as_str())?
                    .is_some_and(|e| e.done))
        {
            // back to itself, or a chain back to a page this crawl fetched;
            // a target still waiting is fetched in its turn
            self.summary.errors += 1;
        }
        Ok(())
    }

    /// A document into the batch, a list page or a non-page logged there;
    /// the links of both into the frontier.
    fn handle_page(
        &mut self,
        item: &Item,
        fetch: &Fetch<'_>,
        analysed: Result<Analysed>,
    ) -> Result<()> {
        let links = match analysed {
            Ok(Analysed::Document(prepared, links, content_missed)) => {
                if content_missed {
                    self.content.missed += 1;
                } else {
                    self.content.matched += 1;
                }
                self.batch.add_page(*prepared);
                links
            }
            Ok(Analysed::Listing(links)) => {
                self.summary.listings += 1;
                self.log(fetch, "listing");
                links
            }
            Err(Error::EmptyInput | Error::NotHtml { .. }) => {
                self.log(fetch, "not_html");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        if item.depth < self.site.max_depth {
            for link in links.pages {
                self.discovered(&link, item.depth + 1)?;
            }
            for series in links.series {
                if self.series.insert(series.clone()) {
                    for link in series.pages() {
                        self.discovered(&link, item.depth + 1)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// A link found on a page: out of scope, already known, or new to the
    /// frontier. Attachments are in the record, not crawled.
    pub(super) fn discovered(&mut self, link: &Url, depth: u32) -> Result<()> {
        if crate::clean::selectors::is_file_link(link.as_str()) {
            return Ok(());
        }
        if self.recent.len() >= RECENT_LINKS {
            self.recent.clear();
        }
        if !self.recent.insert(url_hash(link.as_str())) {
            return Ok(());
        }
        if !self.site.in_scope(link.as_str()) {
            self.skip_scope(link);
            return Ok(());
        }
        self.found(link.as_str(), depth)
    }

    fn skip_scope(&mut self, url: &Url) {
        if self.out_of_scope.insert(url_hash(url.as_str())) {
            self.summary.skipped_scope += 1;
        }
    }
}
