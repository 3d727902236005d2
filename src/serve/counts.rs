//! Each site's pages, live documents and gone pages, for `/api/v1/sites`
//! and the browse pages' site list, without a scan of every page per
//! request: one scan when the service starts (before its first crawl, so
//! nothing changes under it), then the changes feed applied as it grows. A
//! new version 1 is a new page; a gone mark moves a page from live to gone;
//! a version of a gone page brings it back.

use crate::error::Result;
use crate::store::{ChangeCursor, EventKind, PageStatus, Store};
use std::collections::{HashMap, HashSet};

/// Changes applied per read of the feed.
const SLICE: usize = 1000;

/// Pages, live documents and gone pages of one site.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) pages: u64,
    pub(crate) documents: u64,
    pub(crate) gone: u64,
}

/// The counts of every site, and how far into the feed they are.
#[derive(Debug, Default)]
pub(crate) struct SiteCounts {
    sites: HashMap<String, Counts>,
    /// The pages now gone (usually few), to know a page that comes back.
    gone: HashSet<String>,
    seen: Option<ChangeCursor>,
}

impl SiteCounts {
    /// Count every page of the store. Call it while nothing writes.
    pub(crate) fn scan(store: &Store) -> Result<Self> {
        let mut this = Self {
            seen: store.last_change()?,
            ..Self::default()
        };
        for page in store.pages() {
            let page = page?;
            let c = this.sites.entry(page.site.unwrap_or_default()).or_default();
            c.pages += 1;
            if page.state == PageStatus::Gone {
                c.gone += 1;
                this.gone.insert(page.url);
            } else {
                c.documents += 1;
            }
        }
        Ok(this)
    }

    /// Apply what the feed gained since the last call.
    pub(crate) fn catch_up(&mut self, store: &Store) -> Result<()> {
        loop {
            let changes = store.changes(self.seen, SLICE)?;
            let done = changes.len() < SLICE;
            for (cursor, change) in changes {
                self.seen = Some(cursor);
                let c = self
                    .sites
                    .entry(change.site.unwrap_or_default())
                    .or_default();
                match change.kind {
                    EventKind::Version if change.version == Some(1) => {
                        c.pages += 1;
                        c.documents += 1;
                    }
                    EventKind::Version => {
                        if self.gone.remove(&change.url) {
                            c.gone -= 1;
                            c.documents += 1;
                        }
                    }
                    EventKind::Gone => {
                        if self.gone.insert(change.url) {
                            c.gone += 1;
                            c.documents = c.documents.saturating_sub(1);
                        }
                    }
                    // no change is made for an alias
                    EventKind::Alias => {}
                }
            }
            if done {
                return Ok(());
            }
        }
    }

    pub(crate) fn get(&self, site: &str) -> Counts {
        self.sites.get(site).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Fetch;
    use crate::{ExtractOptions, snapshot};
    use std::time::{Duration, UNIX_EPOCH};

    fn fetch<'a>(url: &'a str, html: &'a str, status: u16) -> Fetch<'a> {
        Fetch {
            url,
            site: Some("swj"),
            fetched_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            status,
            bytes: html.as_bytes(),
            content_type: Some("text/html"),
            duration_ms: 1,
            etag: None,
            last_modified: None,
            head: None,
            conditional: None,
            tls_invalid: None,
        }
    }

    fn page(n: u32, edition: u32) -> String {
        format!(
            "<html><body><div class=\"content\"><h1>关于第{n}项工作的通知</h1>\
             <p>各街道、各部门：现将第{n}项工作按照第{edition}版方案的有关事项通知如下，请认真贯彻落实。</p></div></body></html>"
        )
    }

    /// What a fresh scan says, the truth the running counts must match.
    fn scanned(store: &Store) -> Counts {
        SiteCounts::scan(store).unwrap().get("swj")
    }

    #[test]
    fn the_feed_keeps_the_counts_a_scan_would_give() {
        let store = Store::temporary().unwrap();
        let urls: Vec<String> = (0..3)
            .map(|i| format!("http://www.example.gov.cn/gk/t2024110{i}_1.html"))
            .collect();
        let mut counts = SiteCounts::scan(&store).unwrap();
        let put = |url: &str, html: &str| {
            snapshot(
                &store,
                &fetch(url, html, 200),
                None,
                ExtractOptions::default(),
            )
            .unwrap();
        };
        for (i, url) in urls.iter().enumerate() {
            put(url, &page(u32::try_from(i).unwrap(), 1));
        }
        put(&urls[0], &page(0, 2)); // a second version: no new page
        store.mark_gone(&fetch(&urls[1], "", 404)).unwrap();
        counts.catch_up(&store).unwrap();
        assert_eq!(
            counts.get("swj"),
            Counts {
                pages: 3,
                documents: 2,
                gone: 1
            }
        );
        assert_eq!(counts.get("swj"), scanned(&store));
        put(&urls[1], &page(1, 3)); // back
        counts.catch_up(&store).unwrap();
        assert_eq!(
            counts.get("swj"),
            Counts {
                pages: 3,
                documents: 3,
                gone: 0
            }
        );
        assert_eq!(counts.get("swj"), scanned(&store));
    }
}
