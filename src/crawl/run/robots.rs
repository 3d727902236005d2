//! robots.txt and sitemaps for a site's crawl: each origin's robots.txt is
//! fetched once per crawl, whichever site asks first (RFC 9309: a 4xx is no
//! rules, a 5xx or no answer means the host is not crawled now, and says
//! so); its Crawl-delay slows the host, and its sitemaps feed the frontier
//! of every site that meets it.

use super::{RobotsAnswer, SiteCrawl};
use crate::crawl::politeness::fetch_politely;
use crate::crawl::robots::Robots;
use crate::crawl::sitemap::{self, Sitemap};
use crate::error::Result;
use std::sync::Arc;
use url::Url;

impl SiteCrawl<'_> {
    /// robots.txt of the URL's origin, fetched once per crawl (whichever
    /// site asks first); when this site first meets it, its Crawl-delay
    /// slows the host, its sitemaps feed this site's frontier, and a
    /// failure to read it is this site's to report.
    pub(super) async fn robots_for(&mut self, url: &Url) -> Result<Arc<Robots>> {
        let origin = url.origin().ascii_serialization();
        if let Some(r) = self.robots.get(&origin) {
            return Ok(Arc::clone(r));
        }
        let cell = {
            let mut cells = self
                .shared
                .robots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(cells.entry(origin.clone()).or_default())
        };
        let robots_url = url.join("/robots.txt").expect("an origin joins a path");
        let (robots, failure) = cell
            .get_or_init(|| self.fetch_robots(url, &robots_url))
            .await
            .clone();
        if let Some(cause) = failure {
            // info, not warn: the crawl's summary says it once, on stderr
            tracing::info!(site = %self.site.name, url = %robots_url, cause, "robots.txt could not be read; the host is not crawled now");
            self.failed_to_reach(
                robots_url.as_str(),
                &format!("robots.txt could not be read ({cause}), so the host is not crawled now"),
            );
        }
        if let Some(delay) = robots.crawl_delay() {
            self.shared.engine.hosts.host(url).at_least(delay);
        }
        self.robots.insert(origin, Arc::clone(&robots));
        for sitemap in robots.sitemaps().to_vec() {
            self.read_sitemap(&sitemap, 0).await?;
        }
        Ok(robots)
    }

    /// Fetch and read an origin's robots.txt (RFC 9309: a 4xx is no rules;
    /// a 5xx or no answer allows nothing for now).
    async fn fetch_robots(&self, url: &Url, robots_url: &Url) -> RobotsAnswer {
        let agent = &self.config.crawl.user_agent;
        if !self.config.crawl.respect_robots {
            return (Arc::new(Robots::allow_all()), None);
        }
        let host = self.shared.engine.hosts.host(url);
        match fetch_politely(&self.plain, &host, None, robots_url, None, None).await {
            Ok((r, _)) => (
                Arc::new(Robots::from_response(agent, r.status, &r.body)),
                (r.status >= 500).then(|| format!("HTTP {}", r.status)),
            ),
            Err(e) => (Arc::new(Robots::unavailable()), Some(e.to_string())),
        }
    }

    /// Add a sitemap's pages to the frontier (one level of index followed).
    async fn read_sitemap(&mut self, url: &str, level: u8) -> Result<()> {
        let Ok(url) = Url::parse(url) else {
            return Ok(());
        };
        let host = self.shared.engine.hosts.host(&url);
        let Ok((response, _)) = fetch_politely(&self.plain, &host, None, &url, None, None).await
        else {
            return Ok(());
        };
        if !(200..300).contains(&response.status) {
            return Ok(());
        }
        match sitemap::parse(&String::from_utf8_lossy(&response.body)) {
            Sitemap::Pages(pages) => {
                for page in pages {
                    if self.site.in_scope(page.as_str()) {
                        self.found(page.as_str(), 1)?;
                    }
                }
            }
            Sitemap::Index(maps) if level == 0 => {
                for map in maps {
                    Box::pin(self.read_sitemap(map.as_str(), 1)).await?;
                }
            }
            Sitemap::Index(_) => {}
        }
        Ok(())
    }
}
