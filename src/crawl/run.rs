//! One crawl of the configured sites: the loop that takes URLs from the
//! frontier, fetches them politely and concurrently, stores documents,
//! follows links, and stops cleanly when asked.
//!
//! The order for each URL: robots.txt → validators from the store
//! (conditional request) → polite fetch with retries → by status: 304 logged,
//! 404/410 marks a known page gone, 3xx followed hop by hop (each hop checked
//! against scope and robots, loops and long chains refused), 2xx extracted;
//! documents (the site's `documents` patterns, or the TRS `t20210330_…`
//! name, or a page with a real body) are stored, list pages only logged; the
//! links of both are canonicalized, scope-checked and added to the frontier.

use super::client::{Client, Response};
use super::discover;
use super::politeness::{HostPool, fetch_politely};
use super::robots::Robots;
use super::sitemap::{self, Sitemap};
use super::summary::{CrawlReport, Progress, Reported, SiteSummary, Tally};
use super::task::{Analysed, Done, FetchTask, Item, fetch_of};
use crate::config::{Config, SiteRules};
use crate::error::{Error, Result};
use crate::store::FrontierEntry;
use crate::store::schedule::{RANK_NOW, Rank, Visit, unix_now};
use crate::store::{Batch, Fetch, FetchLogEntry, PutOutcome, Store, url_hash};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;
use tokio::task::JoinSet;
use url::Url;

/// How often a site's crawl stores what it fetched, at the least.
const COMMIT_EVERY: Duration = Duration::from_secs(2);
/// Redirect hops followed from one URL.
pub const MAX_REDIRECTS: u8 = 5;
/// Documents stored in one transaction, and flushed to disk together: a
/// kill loses at most one batch (or sled's 500 ms), which the next run
/// fetches again.
const BATCH_DOCUMENTS: usize = 64;
/// Fetches that stored no document (list pages, 304s, errors) logged in
/// one transaction: a recrawl of unchanged pages commits every 256.
const BATCH_LOGGED: usize = 256;

/// Links [`SiteCrawl::discovered`] remembers between two clearings
/// (about 300 KB).
const RECENT_LINKS: usize = 8_192;

/// A URL as the run's sets hold it: its 16-byte hash (2^-64 collision odds
/// at a billion URLs), whatever its length.
type UrlHash = [u8; 16];

/// What the writer hands back for a batch: each document's outcome, and
/// the URLs stored or logged, now done.
type Committed = (Vec<PutOutcome>, Vec<UrlHash>);

/// A URL waiting in the queue: its text only (a parsed `Url` is five times
/// the size), and its place in the crawl's order.
#[derive(Debug, Clone)]
struct Queued {
    rank: Rank,
    /// Arrival order, among URLs of the same rank.
    seq: u64,
    url: Box<str>,
    depth: u32,
    hops: u8,
    fresh: bool,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.rank, self.seq) == (other.rank, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank, self.seq).cmp(&(other.rank, other.seq))
    }
}

/// What a crawl is asked to do beyond the config.
#[derive(Debug, Clone, Copy, Default)]
pub struct CrawlOptions<'a> {
    /// Crawl only this site.
    pub only: Option<&'a str>,
    /// Fetch every known document, due or not (`crawl --full`).
    pub full: bool,
}

/// Crawl every site of the config (or only `only`) once, all side by side.
/// `shutdown` resolving stops the crawl: pages in flight finish, the
/// frontier keeps the rest for the next run.
///
/// # Errors
/// [`Error::UnknownSite`] when `only` names no site, store errors.
pub async fn crawl(
    config: &Config,
    store: &Store,
    only: Option<&str>,
    shutdown: impl Future<Output = ()>,
) -> Result<CrawlReport> {
    let options = CrawlOptions { only, full: false };
    crawl_with_progress(config, store, options, shutdown, &|_| {}).await
}

/// [`crawl`], calling `progress` after every URL (for a progress display).
///
/// Every site runs its own loop, all of them in this task; they share the
/// HTTP client, the hosts (so a host shared by several sites keeps one
/// pace), robots.txt, and the crawl's global slots (see
/// [`super::politeness`]).
///
/// # Errors
/// As [`crawl`].
pub async fn crawl_with_progress(
    config: &Config,
    store: &Store,
    options: CrawlOptions<'_>,
    shutdown: impl Future<Output = ()>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<CrawlReport> {
    let sites: Vec<&SiteRules> = match options.only {
        Some(name) => vec![config.site(name)?],
        None => config.sites.iter().collect(),
    };
    let shared = Shared {
        client: Client::new(&config.crawl).map_err(|e| Error::Io {
            what: "setting up HTTP".to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?,
        hosts: HostPool::new(
            config.crawl.per_host_concurrency,
            Duration::from_millis(config.crawl.per_host_delay_ms),
            config.crawl.concurrency,
        ),
        robots: Mutex::default(),
        tally: Tally::new(sites.len()),
        progress,
        full: options.full,
    };
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut running: FuturesUnordered<_> = sites
        .iter()
        .enumerate()
        .map(|(i, site)| {
            let mut crawler = SiteCrawl::new(config, site, store, &shared);
            let stop_rx = stop_rx.clone();
            async move {
                tracing::info!(site = %site.name, "crawl starts");
                let result = crawler.run(stop_rx).await;
                result.map(|stopped| {
                    let summary = crawler.finish(stopped);
                    tracing::info!(site = %site.name, summary = ?summary, "crawl ends");
                    (i, summary)
                })
            }
        })
        .collect();
    tokio::pin!(shutdown);
    let mut summaries = Vec::with_capacity(sites.len());
    let mut interrupted = false;
    loop {
        tokio::select! {
            next = running.next() => match next {
                Some(done) => summaries.push(done?),
                None => break,
            },
            () = shutdown.as_mut(), if !interrupted => {
                // every site finishes what is in flight; frontiers keep the rest
                tracing::warn!("stopping: finishing the pages in flight");
                interrupted = true;
                let _ = stop.send(true);
            }
        }
    }
    drop(running);
    store.flush()?;
    summaries.sort_by_key(|(i, _)| *i);
    Ok(CrawlReport {
        sites: summaries.into_iter().map(|(_, s)| s).collect(),
        interrupted,
    })
}

/// Why a site's crawl ended before its frontier was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// Ctrl-C or SIGTERM.
    Interrupted,
    /// The site's `max_crawl_time` ran out.
    MaxCrawlTime,
}

impl Stopped {
    /// The summary's `stopped` value.
    fn as_str(self) -> &'static str {
        match self {
            Self::Interrupted => "interrupted",
            Self::MaxCrawlTime => "max_crawl_time",
        }
    }
}

/// What the sites of one crawl share.
struct Shared<'p> {
    client: Client,
    hosts: HostPool,
    /// robots.txt per origin, fetched once per crawl whichever site asks
    /// first; the others wait for that answer. std `Mutex`: only the map's
    /// cells are looked up under it.
    robots: Mutex<HashMap<String, Arc<OnceCell<RobotsAnswer>>>>,
    tally: Tally,
    progress: &'p (dyn Fn(Progress) + Sync),
    /// Every known document, due or not.
    full: bool,
}

/// An origin's robots.txt, and why it could not be read (then it allows
/// nothing for now).
type RobotsAnswer = (Arc<Robots>, Option<String>);

struct SiteCrawl<'a> {
    config: &'a Config,
    site: &'a SiteRules,
    store: &'a Store,
    shared: &'a Shared<'a>,
    /// The origins whose robots.txt this site has taken in (its delay and
    /// sitemaps).
    robots: HashMap<String, Arc<Robots>>,
    summary: SiteSummary,
    /// URLs to fetch, shallowest first, at most `queue_in_memory` of them
    /// (`[crawl]`, about 100 bytes each). Past that, new URLs wait in the
    /// store's frontier only: a crawl's memory does not grow with the site.
    queue: BTreeSet<Queued>,
    /// The next [`Queued::seq`].
    seq: u64,
    /// URLs wait in the store's frontier that the queue could not take: it
    /// is refilled from there when it runs dry.
    overflow: bool,
    /// URLs handed out and not yet done (in flight, or in a batch not yet
    /// stored), as 16-byte hashes: a refill must leave them out. Bounded by
    /// the concurrency and two batches.
    taken: HashSet<UrlHash>,
    /// URLs waiting to be handed out (in the queue or only in the
    /// frontier), for the progress display.
    waiting: usize,
    /// Out-of-scope URLs already counted, as 16-byte hashes.
    out_of_scope: HashSet<UrlHash>,
    /// Links judged lately (in the frontier, or out of scope): the links
    /// every page repeats (navigation, list pages) skip the store. Emptied
    /// when full, so it stays small whatever the site.
    recent: HashSet<UrlHash>,
    /// TRS list series already expanded into the frontier.
    series: HashSet<discover::TrsSeries>,
    /// Documents waiting to be stored together, and fetches that stored no
    /// document, to log with them: such a URL is done when its entry is
    /// stored, like a document.
    batch: Batch,
    /// The batch being stored, off the loop: at most one at a time, so
    /// batches commit in order and memory stays bounded.
    committing: Option<tokio::task::JoinHandle<Result<Committed>>>,
    /// The site's rules, shared with the fetch tasks that extract.
    rules: Arc<SiteRules>,
    processed: u64,
    /// Whether any URL of the site answered (a status below 500).
    reached: bool,
    /// The first failure to reach the site (`URL: cause`): the site's
    /// error when nothing of it answered.
    failure: Option<String>,
    /// How the site's `content` selector fared on documents.
    content: ContentHits,
    /// What this site last added to the crawl's progress figures.
    reported: Reported,
}

/// Documents on which the site's `content` selector matched, and missed.
#[derive(Debug, Default)]
struct ContentHits {
    matched: u64,
    missed: u64,
}

impl<'a> SiteCrawl<'a> {
    fn new(
        config: &'a Config,
        site: &'a SiteRules,
        store: &'a Store,
        shared: &'a Shared<'a>,
    ) -> Self {
        Self {
            config,
            site,
            store,
            shared,
            robots: HashMap::new(),
            summary: SiteSummary {
                site: site.name.clone(),
                ..SiteSummary::default()
            },
            queue: BTreeSet::new(),
            seq: 0,
            overflow: false,
            taken: HashSet::new(),
            waiting: 0,
            out_of_scope: HashSet::new(),
            recent: HashSet::new(),
            series: HashSet::new(),
            batch: Batch::default(),
            committing: None,
            rules: Arc::new(site.clone()),
            processed: 0,
            reached: false,
            failure: None,
            content: ContentHits::default(),
            reported: Reported::default(),
        }
    }

    /// Returns why the crawl stopped before its end, if it did.
    async fn run(
        &mut self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Option<Stopped>> {
        let seeds: Vec<&str> = self.site.seeds.iter().map(Url::as_str).collect();
        let plan =
            self.store
                .frontier_begin(&self.site.name, &seeds, unix_now(), self.shared.full)?;
        (self.summary.due, self.summary.deferred) = (plan.due, plan.deferred);
        // a time-boxed crawl ends in time for the next one
        let time_up = async {
            match self.site.max_crawl_time {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(time_up);
        let mut stopped = None;
        self.overflow = true;
        let mut in_flight: JoinSet<Done> = JoinSet::new();
        if *stop.borrow() {
            stopped = Some(Stopped::Interrupted);
        }
        // what was fetched is stored at least this often, however slowly a
        // polite crawl fills its batches: a kill costs at most this much
        let mut commit_every = tokio::time::interval(COMMIT_EVERY);
        commit_every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            while stopped.is_none() && in_flight.len() < self.config.crawl.concurrency {
                let Some(queued) = self.next_queued()? else {
                    break;
                };
                self.taken.insert(url_hash(&queued.url));
                let Ok(url) = Url::parse(&queued.url) else {
                    self.finished(&queued.url, Visit::Other)?;
                    continue;
                };
                let item = Item {
                    url,
                    depth: queued.depth,
                    hops: queued.hops,
                    fresh: queued.fresh,
                    rank: queued.rank,
                };
                let robots = self.robots_for(&item.url).await?;
                if robots.is_unavailable() {
                    // not crawled now, and not done: it stays taken, so
                    // this run does not hand it out again, and the next
                    // run takes it up
                    continue;
                }
                if !robots.allowed(item.url.as_str()) {
                    self.summary.skipped_robots += 1;
                    self.finished(item.url.as_str(), Visit::Other)?;
                    continue;
                }
                let host = self.shared.hosts.host(&item.url);
                let slot = match host.try_slot() {
                    Some(slot) => slot,
                    // the host is busy with this site's tasks: the URL
                    // waits for one of them to end
                    None if !in_flight.is_empty() => {
                        self.put_back(&item);
                        break;
                    }
                    // … or with another site's: wait for it here, nothing
                    // of this site being in flight
                    None => match host.slot().await {
                        Some(slot) => slot,
                        None => continue,
                    },
                };
                let task = FetchTask {
                    client: self.shared.client.clone(),
                    slot,
                    host,
                    store: self.store.clone(),
                    rules: Arc::clone(&self.rules),
                    options: self.config.extract,
                };
                in_flight.spawn(task.run(item));
            }
            if in_flight.is_empty() {
                self.commit_batch().await?;
                self.finish_commit().await?;
                return Ok(stopped);
            }
            tokio::select! {
                Some(joined) = in_flight.join_next() => {
                    if let Ok(done) = joined {
                        self.process(done)?;
                    }
                    if self.batch.pages() >= BATCH_DOCUMENTS || self.batch.logged() >= BATCH_LOGGED {
                        self.commit_batch().await?;
                    }
                    self.report(false);
                }
                _ = commit_every.tick() => self.commit_batch().await?,
                changed = stop.changed(), if stopped.is_none() => {
                    if changed.is_err() || *stop.borrow() {
                        // finish what is in flight; the frontier keeps the rest
                        stopped = Some(Stopped::Interrupted);
                        self.queue.clear();
                    }
                }
                () = &mut time_up, if stopped.is_none() => {
                    tracing::info!(site = %self.site.name, "max_crawl_time reached: finishing the pages in flight");
                    stopped = Some(Stopped::MaxCrawlTime);
                    self.queue.clear();
                }
            }
        }
    }

    /// The next URL to fetch; a dry queue is refilled from the frontier
    /// when URLs wait there (at the start, after an overflow).
    fn next_queued(&mut self) -> Result<Option<Queued>> {
        if self.queue.is_empty() && self.overflow {
            let (pending, waiting) = self.store.frontier_pending(
                &self.site.name,
                &self.taken,
                self.config.crawl.queue_in_memory,
            )?;
            self.overflow = waiting > pending.len();
            self.waiting = waiting;
            for (url, depth, rank) in pending {
                let queued = self.queued(&url, depth, 0, false, rank);
                self.queue.insert(queued);
            }
        }
        let next = self.queue.pop_first();
        if next.is_some() {
            self.waiting = self.waiting.saturating_sub(1);
        }
        Ok(next)
    }

    fn queued(&mut self, url: &str, depth: u32, hops: u8, fresh: bool, rank: Rank) -> Queued {
        self.seq += 1;
        Queued {
            rank,
            seq: self.seq,
            url: url.into(),
            depth,
            hops,
            fresh,
        }
    }

    /// Into the queue in its order. A full queue keeps the URLs that come
    /// first: the last one waits in the store's frontier only (not done, a
    /// refill brings it back), so everything only there comes after
    /// everything queued.
    fn enqueue(&mut self, queued: Queued) {
        if self.queue.len() >= self.config.crawl.queue_in_memory {
            self.overflow = true;
            match self.queue.last() {
                Some(last) if queued < *last => {
                    self.queue.pop_last();
                }
                _ => return,
            }
        }
        self.queue.insert(queued);
    }

    /// A URL handed out that cannot start now: back in line, in its place.
    fn put_back(&mut self, item: &Item) {
        self.taken.remove(&url_hash(item.url.as_str()));
        self.waiting += 1;
        // first among its rank, where it was
        self.enqueue(Queued {
            rank: item.rank,
            seq: 0,
            url: item.url.as_str().into(),
            depth: item.depth,
            hops: item.hops,
            fresh: item.fresh,
        });
    }

    /// A link in scope: into the frontier unless it is there already, and
    /// then into the queue, ahead of every URL a crawl fetched before: a new
    /// URL is where news is.
    fn found(&mut self, url: &str, depth: u32) -> Result<()> {
        if !self.store.frontier_add(url, &self.site.name, depth)? {
            return Ok(());
        }
        self.waiting += 1;
        let rank = FrontierEntry::new_rank(depth);
        let queued = self.queued(url, depth, 0, true, rank);
        self.enqueue(queued);
        Ok(())
    }

    /// Log a fetch that stores no document, with the next batch.
    fn log(&mut self, fetch: &Fetch<'_>, outcome: &str) {
        self.batch.add_log(FetchLogEntry::new(fetch, outcome));
    }

    /// A URL is done: marked in the frontier with its next visit, then no
    /// longer taken.
    fn finished(&mut self, url: &str, visit: Visit) -> Result<()> {
        self.store
            .frontier_done(&self.site.name, url, visit, unix_now(), self.site.revisit)?;
        self.release(&[url_hash(url)]);
        Ok(())
    }

    fn release(&mut self, hashes: &[UrlHash]) {
        for hash in hashes {
            self.taken.remove(hash);
        }
    }

    /// A failure to reach the site; the first one is its error if nothing
    /// of the site answers.
    fn failed_to_reach(&mut self, url: &str, cause: &str) {
        if self.failure.is_none() {
            self.failure = Some(format!("{url}: {cause}"));
        }
    }

    /// Add this site's figures to the crawl's, and show them.
    fn report(&mut self, finished: bool) {
        let tally = &self.shared.tally;
        tally.report(
            &mut self.reported,
            self.processed,
            self.waiting,
            self.summary.errors,
            finished,
        );
        (self.shared.progress)(tally.snapshot());
    }

    /// The site's summary, its error and warnings filled in.
    fn finish(mut self, stopped: Option<Stopped>) -> SiteSummary {
        self.report(true);
        if !self.reached {
            self.summary.error = self.failure.take();
        }
        self.summary.stopped = stopped.map(|s| s.as_str().to_owned());
        if let Some(css) = &self.site.content_css
            && self.content.matched == 0
            && self.content.missed > 0
        {
            let warning = format!(
                "the content selector {css:?} matched nothing on any of the {} documents fetched; generic content detection was used (check the site's `content`)",
                self.content.missed
            );
            tracing::warn!(site = %self.site.name, "{warning}");
            self.summary.warnings.push(warning);
        }
        self.summary
    }

    /// robots.txt of the URL's origin, fetched once per crawl (whichever
    /// site asks first); when this site first meets it, its Crawl-delay
    /// slows the host, its sitemaps feed this site's frontier, and a
    /// failure to read it is this site's to report.
    async fn robots_for(&mut self, url: &Url) -> Result<Arc<Robots>> {
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
            self.shared.hosts.host(url).at_least(delay);
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
        let host = self.shared.hosts.host(url);
        match fetch_politely(&self.shared.client, &host, None, robots_url, None, None).await {
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
        let host = self.shared.hosts.host(&url);
        let Ok((response, _)) =
            fetch_politely(&self.shared.client, &host, None, &url, None, None).await
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

    fn process(&mut self, done: Done) -> Result<()> {
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

    /// Hand the batched documents to the writer: one transaction, then
    /// their frontier entries marked done and the store flushed, so a crash
    /// before the commit leaves them to fetch again. The loop goes on
    /// fetching meanwhile; it waits only for the previous batch.
    async fn commit_batch(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.finish_commit().await?;
        let batch = std::mem::take(&mut self.batch);
        let store = self.store.clone();
        let site = self.site.name.clone();
        let bounds = self.site.revisit;
        let handle = tokio::task::spawn_blocking(move || {
            let outcomes = store.commit(&batch)?;
            let mut done = Vec::with_capacity(batch.pages() + batch.logged());
            let now = unix_now();
            for (url, visit) in batch.visits(&outcomes) {
                store.frontier_done(&site, url, visit, now, bounds)?;
                done.push(url_hash(url));
            }
            store.flush()?;
            Ok((outcomes, done))
        });
        self.committing = Some(handle);
        Ok(())
    }

    /// Wait for the batch being stored and count what it did.
    async fn finish_commit(&mut self) -> Result<()> {
        let Some(handle) = self.committing.take() else {
            return Ok(());
        };
        let (outcomes, stored) = handle.await.map_err(|e| Error::Io {
            what: "storing a batch of documents".to_owned(),
            source: std::io::Error::other(e.to_string()),
        })??;
        self.release(&stored);
        for outcome in outcomes {
            self.summary.documents += 1;
            match outcome {
                PutOutcome::NewVersion(_) => self.summary.new_versions += 1,
                PutOutcome::Unchanged => self.summary.unchanged += 1,
            }
        }
        Ok(())
    }

    /// A link found on a page: out of scope, already known, or new to the
    /// frontier. Attachments are in the record, not crawled.
    fn discovered(&mut self, link: &Url, depth: u32) -> Result<()> {
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
