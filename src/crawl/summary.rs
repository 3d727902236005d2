//! What a crawl reports: one summary per site (the keys of `govsnap crawl
//! --format json`, SPEC §6), the progress figures a display shows while it
//! runs, and the report of the whole crawl.

use serde::Serialize;

/// What one crawl did on one site (SPEC §6: the keys of `--format json`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SiteSummary {
    /// The site's name.
    pub site: String,
    /// HTTP responses received.
    pub fetched: u64,
    /// Documents checked, whatever they answered: stored as a new version,
    /// unchanged, not modified (304) or gone (404/410). A recrawl of
    /// unchanged pages counts them all.
    pub documents: u64,
    /// List pages among them.
    pub listings: u64,
    /// Documents stored as a new version.
    pub new_versions: u64,
    /// Documents unchanged since their last version.
    pub unchanged: u64,
    /// 304 answers to conditional requests.
    pub not_modified: u64,
    /// Known pages that now answer 404/410.
    pub gone: u64,
    /// Requests that failed after their retries, bodies over the cap,
    /// redirect loops.
    pub errors: u64,
    /// Distinct links outside the site's scope.
    pub skipped_scope: u64,
    /// URLs robots.txt disallows.
    pub skipped_robots: u64,
    /// Why the site could not be crawled at all (no URL of it answered:
    /// DNS, refused, TLS, timeouts, 5xx, or a robots.txt that could not be
    /// read), naming the URL; `None` when the site was reached.
    pub error: Option<String>,
    /// `None` when the crawl ran to its end, else why it stopped
    /// (`"interrupted"`).
    pub stopped: Option<String>,
    /// What a person should know about the site's rules, found over the
    /// whole crawl (a `content` selector that matched no document). Not
    /// part of the JSON summary: the CLI prints them on stderr.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Where a crawl is, for a progress display.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The site being crawled.
    pub site: &'a str,
    /// URLs processed so far on this site.
    pub done: u64,
    /// URLs waiting to be fetched (not counting those in flight).
    pub queued: usize,
    /// Failures so far.
    pub errors: u64,
}

/// The result of a crawl.
#[derive(Debug, Clone, Default)]
pub struct CrawlReport {
    /// One summary per site crawled.
    pub sites: Vec<SiteSummary>,
    /// Whether the crawl was stopped before its frontier was empty.
    pub interrupted: bool,
}
