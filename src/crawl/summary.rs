//! What a crawl reports: one summary per site (the keys of `govsnap crawl
//! --format json`, SPEC §6), the progress figures a display shows while it
//! runs, and the report of the whole crawl.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// What one crawl did on one site (SPEC §6: the keys of `--format json`).
/// A crawl that continues an unfinished one counts what that one did too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
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
    /// New URLs whose document another URL of the site has: stored as
    /// that page's aliases, without versions.
    pub aliases: u64,
    /// Attachment versions stored (SPEC §11): files new, or with new bytes.
    pub attachments: u64,
    /// Attachments fetched again and found the same.
    pub attachments_unchanged: u64,
    /// Attachments not stored: cut short, over `max_attachment_bytes`, or
    /// refused; tried again by the next crawl.
    pub attachments_skipped: u64,
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
    /// URLs not crawled as traps: too long, too deep, a path segment
    /// repeated three times, and list pages whose "next page" was not
    /// followed because every document they list was seen already.
    pub skipped_traps: u64,
    /// Known documents due for a revisit when the crawl began (all of them
    /// with `crawl --full`).
    pub due: u64,
    /// Known documents fetched again (whatever they answered).
    pub revisited: u64,
    /// Known documents not yet due, left for a later crawl.
    pub deferred: u64,
    /// Why the site could not be crawled at all (no URL of it answered:
    /// DNS, refused, TLS, timeouts, 5xx, or a robots.txt that could not be
    /// read), naming the URL; `None` when the site was reached.
    pub error: Option<String>,
    /// `None` when the crawl ran to its end, else why it stopped
    /// (`"interrupted"`, `"max_crawl_time"`); what it left is taken up
    /// first by the next crawl.
    pub stopped: Option<String>,
    /// Why the site's certificate was not valid, when `tls = "lenient"`
    /// fetched it anyway: the latest reason this crawl saw (SPEC §7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_invalid: Option<String>,
    /// What this crawl took over from the unfinished one it continues (see
    /// [`SiteSummary::own_outcomes`]). Not part of the JSON summary.
    #[serde(skip)]
    pub carried: Option<Box<SiteSummary>>,
    /// What a person should know about the site's rules, found over the
    /// whole crawl (a `content` selector that matched no document). Not
    /// part of the JSON summary: the CLI prints them on stderr.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl SiteSummary {
    /// The counts of what the crawl did to pages, by their summary key
    /// (the rest: its plan, `revisited`, and how it ended).
    fn outcomes_mut(&mut self) -> [(&'static str, &mut u64); 15] {
        [
            ("fetched", &mut self.fetched),
            ("documents", &mut self.documents),
            ("listings", &mut self.listings),
            ("new_versions", &mut self.new_versions),
            ("unchanged", &mut self.unchanged),
            ("aliases", &mut self.aliases),
            ("attachments", &mut self.attachments),
            ("attachments_unchanged", &mut self.attachments_unchanged),
            ("attachments_skipped", &mut self.attachments_skipped),
            ("not_modified", &mut self.not_modified),
            ("gone", &mut self.gone),
            ("errors", &mut self.errors),
            ("skipped_scope", &mut self.skipped_scope),
            ("skipped_robots", &mut self.skipped_robots),
            ("skipped_traps", &mut self.skipped_traps),
        ]
    }

    /// The counts of what this process's crawl did, by summary key: the
    /// summary's less what it carried on from an unfinished crawl (counted
    /// when that one ended).
    #[must_use]
    pub fn own_outcomes(&self) -> Vec<(&'static str, u64)> {
        let mut own = self.clone();
        let mut carried = self.carried.as_deref().cloned().unwrap_or_default();
        own.outcomes_mut()
            .into_iter()
            .zip(carried.outcomes_mut())
            .map(|((key, n), (_, before))| (key, n.saturating_sub(*before)))
            .collect()
    }

    /// Add the counts of the unfinished crawl this one continues (as its
    /// last stored batch left them). `credited`: the documents that crawl's
    /// `--full` plan fetched, when this one carries the plan on: they are
    /// its revisits, new ones included, as one uninterrupted crawl counts
    /// every known document it fetched.
    pub(super) fn carry(&mut self, before: &Self, credited: Option<u64>) {
        let mut theirs = before.clone();
        for ((_, mine), (_, n)) in self.outcomes_mut().into_iter().zip(theirs.outcomes_mut()) {
            *mine += *n;
        }
        self.revisited += credited.unwrap_or(before.revisited);
        theirs.carried = None;
        self.carried = Some(Box::new(theirs));
    }
}

/// One log line's worth: the counts that say how a crawl went.
impl std::fmt::Display for SiteSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fetched={} documents={} listings={} new_versions={} unchanged={} not_modified={} gone={} errors={}",
            self.fetched,
            self.documents,
            self.listings,
            self.new_versions,
            self.unchanged,
            self.not_modified,
            self.gone,
            self.errors
        )?;
        if let Some(stopped) = &self.stopped {
            write!(f, " stopped={stopped}")?;
        }
        if let Some(error) = &self.error {
            write!(f, " error={error:?}")?;
        }
        if let Some(tls) = &self.tls_invalid {
            write!(f, " tls_invalid={tls:?}")?;
        }
        Ok(())
    }
}

/// Where a crawl is, over all its sites, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Sites in the crawl.
    pub sites: usize,
    /// Sites finished (crawled to the end, stopped, or unreachable).
    pub sites_done: usize,
    /// Sites that have had a page fetched and are not finished.
    pub sites_crawling: usize,
    /// Sites that have had nothing fetched yet (robots.txt, or their
    /// host's turn, to come).
    pub sites_waiting: usize,
    /// URLs processed so far, over all sites.
    pub done: u64,
    /// URLs waiting to be fetched (not counting those in flight).
    pub queued: u64,
    /// Failures so far.
    pub errors: u64,
}

/// The crawl-wide figures the sites add to as they go (atomics: the sites'
/// loops run side by side).
#[derive(Debug, Default)]
pub(super) struct Tally {
    sites: usize,
    sites_started: AtomicUsize,
    sites_done: AtomicUsize,
    done: AtomicU64,
    queued: AtomicI64,
    errors: AtomicU64,
    /// Documents stored as new versions, over all sites.
    stored: AtomicU64,
}

/// What one site last added to the [`Tally`], so that it adds only what
/// changed.
#[derive(Debug, Default)]
pub(super) struct Reported {
    started: bool,
    done: u64,
    queued: i64,
    errors: u64,
}

impl Tally {
    pub(super) fn new(sites: usize) -> Self {
        Self {
            sites,
            ..Self::default()
        }
    }

    /// A site's figures now; `finished` when it has ended.
    pub(super) fn report(
        &self,
        last: &mut Reported,
        done: u64,
        queued: usize,
        errors: u64,
        finished: bool,
    ) {
        if !last.started && (done > 0 || finished) {
            last.started = true;
            self.sites_started.fetch_add(1, Ordering::Relaxed);
        }
        let queued = i64::try_from(queued).unwrap_or(i64::MAX);
        self.done.fetch_add(done - last.done, Ordering::Relaxed);
        self.errors
            .fetch_add(errors - last.errors, Ordering::Relaxed);
        self.queued
            .fetch_add(queued - last.queued, Ordering::Relaxed);
        (last.done, last.errors, last.queued) = (done, errors, queued);
        if finished {
            self.sites_done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `n` more documents stored as new versions.
    pub(super) fn stored(&self, n: u64) {
        self.stored.fetch_add(n, Ordering::Relaxed);
    }

    /// Documents this crawl stored as new versions, over all sites.
    pub(super) fn stored_so_far(&self) -> u64 {
        self.stored.load(Ordering::Relaxed)
    }

    pub(super) fn snapshot(&self) -> Progress {
        let started = self.sites_started.load(Ordering::Relaxed);
        let done = self.sites_done.load(Ordering::Relaxed);
        Progress {
            sites: self.sites,
            sites_done: done,
            sites_crawling: started.saturating_sub(done),
            sites_waiting: self.sites.saturating_sub(started),
            done: self.done.load(Ordering::Relaxed),
            queued: u64::try_from(self.queued.load(Ordering::Relaxed)).unwrap_or(0),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }
}

/// The result of a crawl.
#[derive(Debug, Clone, Default)]
pub struct CrawlReport {
    /// One summary per site crawled.
    pub sites: Vec<SiteSummary>,
    /// Whether the crawl was stopped before its frontier was empty.
    pub interrupted: bool,
}
