//! What a site's crawl does with a fetch's answer: a 304 or a page into the
//! batch, a gone mark or a redirect written at once, a list page's links
//! into the frontier, a failure counted and logged. Each URL is done (its
//! frontier entry marked, its next visit scheduled) when what it wrote is
//! stored.

use super::{Analysed, Done, GroupFetch, Item, MAX_REDIRECTS, RECENT_LINKS, SiteCrawl, fetch_of};
use crate::crawl::client::Response;
use crate::crawl::discover;
use crate::crawl::gone::{self, Goes};
use crate::error::{Error, Result};
use crate::pipeline::is_document_link;
use crate::store::schedule::{RANK_NOW, UrlKind, Visit};
use crate::store::{Fetch, FetchLogEntry, KeptResponse, url_hash};
use url::Url;

impl SiteCrawl<'_> {
    pub(super) fn process(&mut self, done: Done) -> Result<()> {
        let Done {
            item,
            result,
            at,
            known,
            mut analysed,
            error_page,
            groups,
        } = done;
        if let Some(template) = error_page {
            self.store.add_error_template(&self.site.name, &template)?;
        }
        for group in groups {
            self.group_fetched(&group)?;
        }
        let url = item.url.as_str();
        let visit = match &result {
            Err(e) => {
                tracing::warn!(%url, error = %e, "fetch failed");
                self.failed_to_reach(url, &e.to_string());
                // a file cut short is skipped, and tried again next crawl
                self.count_failure(url);
                self.log(
                    &Fetch::plain(url, Some(&self.site.name), at, 0, &[]),
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
                if known && matches!(response.status, 304 | 404 | 410) && !response.file {
                    // a known document checked, whatever it said
                    self.summary.documents += 1;
                }
                if known {
                    self.summary.revisited += 1;
                }
                if let Some(why) = &response.tls_invalid
                    && self.summary.tls_invalid.as_ref() != Some(why)
                {
                    self.summary.tls_invalid = Some(why.clone());
                }
                tracing::debug!(%url, status = response.status, bytes = response.received, "fetched");
                let fetch = fetch_of(url, &self.site.name, at, response);
                self.handle_response(&item, known, response, &fetch, &mut analysed)?
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
        known: bool,
        response: &Response,
        fetch: &Fetch<'_>,
        analysed: &mut Option<Result<Analysed>>,
    ) -> Result<Option<Visit>> {
        match response.status {
            304 if response.file => {
                // a file the server says is unchanged (SPEC §11)
                self.summary.attachments_unchanged += 1;
                self.batch
                    .add_not_modified(FetchLogEntry::new(fetch, "not_modified"));
            }
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
                let target = self.follow_redirect(item, response, fetch)?;
                // a known document that redirects home is gone; elsewhere,
                // moved (SPEC §5)
                if known
                    && let Some(target) = target
                    && self.known_document(item.url.as_str())?
                {
                    let listing = |u: &Url| self.is_listing(u);
                    let goes = Goes::of_redirect(&item.url, target, &listing);
                    return self.gone(fetch, &goes).map(Some);
                }
                return Ok(Some(Visit::Other));
            }
            200..=299 if response.truncated && response.file => {
                // named, counted, and tried again by the next crawl
                tracing::warn!(url = %item.url, cap = self.config.crawl.max_attachment_bytes, "an attachment over max_attachment_bytes: not stored");
                self.summary.attachments_skipped += 1;
                // its bytes went with its spool: the log says how many came
                let mut entry = FetchLogEntry::new(fetch, "too_large");
                entry.bytes = response.received;
                self.batch.add_log(entry);
            }
            200..=299 if response.truncated => {
                self.summary.errors += 1;
                self.log(fetch, "too_large");
            }
            200..=299 if let Some(analysed) = analysed.take() => {
                return self.handle_page(item, known, fetch, analysed);
            }
            _ => {
                if self.files.contains_key(item.url.as_str()) {
                    tracing::warn!(url = %item.url, status = response.status, "an attachment refused: not stored");
                }
                self.count_failure(item.url.as_str());
                self.log(fetch, "error");
            }
        }
        Ok(None)
    }

    /// A jpage column's group (SPEC §8), which the column page's task asked
    /// for: a list page, logged with its method and form, its answer kept
    /// for the WARC export.
    fn group_fetched(&mut self, group: &GroupFetch) -> Result<()> {
        let url = group.request.url.as_str();
        let form = group.request.body.as_deref();
        let method = if form.is_some() { "POST" } else { "GET" };
        let Ok(response) = &group.result else {
            self.summary.errors += 1;
            let fetch = Fetch::plain(url, Some(&self.site.name), group.at, 0, &[]);
            let entry = FetchLogEntry::new(&fetch, "error").asked(method, form);
            self.batch.add_log(entry);
            return Ok(());
        };
        self.summary.fetched += 1;
        let fetch = fetch_of(url, &self.site.name, group.at, response);
        if (200..300).contains(&response.status) && !response.truncated {
            self.summary.listings += 1;
            let kept = KeptResponse::new(&fetch, "listing", method, form)?;
            self.batch.add_kept(kept);
        } else {
            self.summary.errors += 1;
            let entry = FetchLogEntry::new(&fetch, "error").asked(method, form);
            self.batch.add_log(entry);
        }
        Ok(())
    }

    /// Follow a redirect, within scope and the rules for loops; returns its
    /// target.
    fn follow_redirect(
        &mut self,
        item: &Item,
        response: &Response,
        fetch: &Fetch<'_>,
    ) -> Result<Option<Url>> {
        // logged and done at once, not with the batch: a redirect chain
        // back to this URL must find it done to be called a loop
        self.store.log(fetch, "redirect")?;
        let target = response
            .location
            .as_deref()
            .and_then(|l| discover::canonicalize(&item.url, l))
            .map(|t| crate::canon::canonical(t, &self.site.strip_params));
        let Some(target) = target else {
            self.summary.errors += 1;
            return Ok(None);
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
        Ok(Some(target))
    }

    /// Whether the store has `url` as a document with versions of its own
    /// (an alias has none): only such a page gets a gone mark.
    fn known_document(&self, url: &str) -> Result<bool> {
        Ok(self.store.page(url)?.is_some_and(|p| p.versions > 0))
    }

    /// A seed of the site, or a URL its crawls found to be a list page.
    fn is_listing(&self, url: &Url) -> bool {
        self.site.seeds.iter().any(|s| s == url)
            || self
                .store
                .frontier_entry(&self.site.name, url.as_str())
                .ok()
                .flatten()
                .is_some_and(|e| e.kind == Some(UrlKind::Listing))
    }

    /// A known document gone (or moved) by what its fetch said: a gone
    /// mark with the reason, written at once; a moved one's new URL is
    /// followed.
    fn gone(&mut self, fetch: &Fetch<'_>, goes: &Goes) -> Result<Visit> {
        let (reason, moved_to) = match goes {
            Goes::Gone(reason) => (*reason, None),
            Goes::Moved(to) => ("moved", Some(to.as_str())),
        };
        if self.store.mark_gone_as(fetch, Some(reason), moved_to)? {
            self.summary.gone += 1;
        }
        if let Goes::Moved(to) = goes {
            self.discovered(to, 0)?;
        }
        Ok(Visit::Gone)
    }

    /// A document into the batch, a list page or a non-page logged there;
    /// the links of both into the frontier. A document page that says the
    /// document is gone (a soft 404, a redirect home) is a gone mark if the
    /// store has the document, and never stored: it is done at once.
    fn handle_page(
        &mut self,
        item: &Item,
        known: bool,
        fetch: &Fetch<'_>,
        analysed: Result<Analysed>,
    ) -> Result<Option<Visit>> {
        let links = match analysed {
            Ok(Analysed::Document(prepared, links, content_missed)) => {
                let listing = |u: &Url| self.is_listing(u);
                let goes = if self
                    .store
                    .is_error_template(&self.site.name, prepared.content())?
                {
                    Some(Goes::Gone("error_template"))
                } else {
                    gone::judge(
                        prepared.record(),
                        fetch.bytes,
                        &item.url,
                        &self.site.gone_patterns,
                        &listing,
                    )
                };
                if let Some(goes) = goes {
                    if known && self.known_document(item.url.as_str())? {
                        return self.gone(fetch, &goes).map(Some);
                    }
                    let reason = match goes {
                        Goes::Gone(reason) => reason,
                        Goes::Moved(_) => "moved",
                    };
                    self.log(fetch, reason);
                    return Ok(None);
                }
                if content_missed {
                    self.content.missed += 1;
                } else {
                    self.content.matched += 1;
                }
                for a in &prepared.record().attachments {
                    self.files.entry(a.url.clone()).or_default().0 = Some(a.name.clone());
                }
                self.batch.add_page(*prepared);
                links
            }
            Ok(Analysed::Attachment(mut prepared)) => {
                let (name, linked) = self
                    .files
                    .get(item.url.as_str())
                    .cloned()
                    .unwrap_or_default();
                prepared.linked_from(linked, name);
                self.batch.add_page(*prepared);
                return Ok(None);
            }
            Ok(Analysed::Listing(mut links)) => {
                self.summary.listings += 1;
                self.log(fetch, "listing");
                self.end_of_list(&item.url, &mut links);
                links
            }
            // a file of a format not archived is no page either
            Ok(Analysed::Unarchived) | Err(Error::EmptyInput | Error::NotHtml { .. }) => {
                self.log(fetch, "not_html");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        // a page's files whatever its depth: they are its document
        let (files, pages): (Vec<Url>, Vec<Url>) = links
            .pages
            .into_iter()
            .partition(|l| crate::clean::selectors::is_file_link(l.as_str()));
        for file in files {
            self.file_linked(&file, &item.url, item.depth + 1)?;
        }
        if item.depth < self.site.max_depth {
            for link in pages {
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
        Ok(None)
    }

    /// A list page that shows only documents this crawl has seen listed
    /// already (page 3, 4 … of a list that repeats page 2 for ever) is the
    /// end of its list: its links to other pages of its own directory (its
    /// "next page") and its pagination series are not followed. Links to
    /// other directories (another column) still are.
    fn end_of_list(&mut self, page: &Url, links: &mut discover::Links) {
        let mut documents = 0;
        let mut new = 0;
        for link in &links.pages {
            if is_document_link(self.site, link) {
                documents += 1;
                new += usize::from(self.listed.insert(url_hash(link.as_str())));
            }
        }
        if documents == 0 || new > 0 {
            return;
        }
        let dir = &page.as_str()[..page.as_str().rfind('/').map_or(0, |i| i + 1)];
        let before = links.pages.len() + links.series.len();
        links
            .pages
            .retain(|l| is_document_link(self.site, l) || !l.as_str().starts_with(dir));
        links.series.clear();
        if links.pages.len() + links.series.len() < before {
            tracing::debug!(url = %page, "a list page of documents seen already: its next page is not followed");
            self.summary.skipped_traps += 1;
        }
    }

    /// A file a page links (SPEC §11): archived when its format is, from
    /// any host (a file server, a CDN) unless the site's `deny` says no,
    /// next in line after the page; its linking pages remembered for its
    /// record's `linked_from`.
    fn file_linked(&mut self, file: &Url, page: &Url, depth: u32) -> Result<()> {
        let Some(format) = crate::attach::format::extension(file.path())
            .and_then(crate::attach::Format::from_extension)
        else {
            return Ok(());
        };
        if !self.formats.contains(&format) {
            return Ok(());
        }
        let linked = &mut self.files.entry(file.as_str().to_owned()).or_default().1;
        if !linked.iter().any(|p| p == page.as_str()) && linked.len() < 100 {
            linked.push(page.as_str().to_owned());
        }
        if self.site.deny.iter().any(|r| r.is_match(file.as_str())) {
            self.skip_scope(file);
            return Ok(());
        }
        let new = self
            .store
            .frontier_add(file.as_str(), &self.site.name, depth)?;
        // a known file is looked at again when a page that links it is,
        // once a crawl (with a conditional request)
        let again = !new
            && !self.taken.contains(&url_hash(file.as_str()))
            && self
                .store
                .frontier_entry(&self.site.name, file.as_str())?
                .is_some_and(|e| !e.done);
        if (new || again) && self.files_queued.insert(url_hash(file.as_str())) {
            self.waiting += 1;
            let queued = self.queued(file.as_str(), depth, 0, new, (RANK_NOW, 0));
            self.enqueue(queued);
        }
        Ok(())
    }

    /// A link found on a page: out of scope, a trap, already known, or new
    /// to the frontier. Files are [`SiteCrawl::file_linked`]'s.
    pub(super) fn discovered(&mut self, link: &Url, depth: u32) -> Result<()> {
        if crate::clean::selectors::is_file_link(link.as_str()) {
            return Ok(());
        }
        let site_form;
        let link = if self.site.strip_params.is_empty() {
            link
        } else {
            site_form = crate::canon::canonical(link.clone(), &self.site.strip_params);
            &site_form
        };
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
        if let Some(why) = crate::canon::trap(link, self.site.max_path_depth) {
            if self.traps.insert(url_hash(link.as_str())) {
                tracing::debug!(url = %link, why, "a trap, not crawled");
                self.summary.skipped_traps += 1;
            }
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
