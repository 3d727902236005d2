//! robots.txt: what a site allows govsnap to fetch, how long it asks a
//! crawler to wait between requests, and the sitemaps it names. Parsing is
//! `texting_robots` (tested against Google's robots.txt test suite).

use std::time::Duration;

/// A site's robots.txt, for one User-Agent.
#[derive(Debug)]
pub struct Robots {
    /// `None` allows everything (no robots.txt, or a 4xx).
    robot: Option<texting_robots::Robot>,
    /// A 5xx or unreachable robots.txt: nothing is allowed until it can be
    /// read (RFC 9309 §2.3.1.4), and the host is not crawled now.
    unavailable: bool,
}

impl Robots {
    /// The robots.txt fetched with `status` and `body`, read for `agent`.
    #[must_use]
    pub fn from_response(agent: &str, status: u16, body: &[u8]) -> Self {
        match status {
            200..=299 => Self {
                // a file that does not parse is treated as no file
                robot: texting_robots::Robot::new(agent, body).ok(),
                unavailable: false,
            },
            500..=599 => Self::unavailable(),
            // 4xx (and anything else that is an answer): no rules
            _ => Self::allow_all(),
        }
    }

    /// No robots.txt: everything is allowed.
    #[must_use]
    pub fn allow_all() -> Self {
        Self {
            robot: None,
            unavailable: false,
        }
    }

    /// robots.txt could not be read (5xx, or no answer): nothing is allowed
    /// for now.
    #[must_use]
    pub fn unavailable() -> Self {
        Self {
            robot: None,
            unavailable: true,
        }
    }

    /// Whether robots.txt could not be read, so that the host is not to be
    /// crawled now (its URLs are not disallowed: they wait for a later crawl).
    #[must_use]
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }

    /// Whether `url` may be fetched.
    #[must_use]
    pub fn allowed(&self, url: &str) -> bool {
        !self.unavailable && self.robot.as_ref().is_none_or(|r| r.allowed(url))
    }

    /// The `Crawl-delay` the site asks for.
    #[must_use]
    pub fn crawl_delay(&self) -> Option<Duration> {
        let delay = self.robot.as_ref()?.delay?;
        (delay.is_finite() && delay > 0.0).then(|| Duration::from_secs_f32(delay.min(600.0)))
    }

    /// The sitemaps the file names.
    #[must_use]
    pub fn sitemaps(&self) -> &[String] {
        self.robot.as_ref().map_or(&[], |r| r.sitemaps.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TXT: &[u8] = b"User-agent: *\nDisallow: /search/\nDisallow: /gk/tmp/\nCrawl-delay: 2\n\nUser-agent: BadBot\nDisallow: /\n\nSitemap: http://www.example.gov.cn/sitemap.xml\n";

    #[test]
    fn rules_delay_and_sitemaps() {
        let r = Robots::from_response("govsnap/0.1", 200, TXT);
        assert!(r.allowed("http://www.example.gov.cn/gk/t20240101_1.html"));
        assert!(!r.allowed("http://www.example.gov.cn/search/?q=1"));
        assert_eq!(r.crawl_delay(), Some(Duration::from_secs(2)));
        assert_eq!(r.sitemaps(), ["http://www.example.gov.cn/sitemap.xml"]);
        assert!(!Robots::from_response("BadBot", 200, TXT).allowed("http://www.example.gov.cn/"));
    }

    #[test]
    fn missing_and_failing_files() {
        assert!(Robots::from_response("govsnap", 404, b"").allowed("http://x.gov.cn/a"));
        assert!(Robots::from_response("govsnap", 403, b"").allowed("http://x.gov.cn/a"));
        let failing = Robots::from_response("govsnap", 503, b"");
        assert!(!failing.allowed("http://x.gov.cn/a"));
        assert!(failing.is_unavailable());
        assert!(!Robots::from_response("govsnap", 404, b"").is_unavailable());
        assert!(
            Robots::from_response("govsnap", 200, b"\xff\xfe garbage \x00")
                .allowed("http://x.gov.cn/a")
        );
    }
}
