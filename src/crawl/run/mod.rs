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

use super::client::Client;
use super::discover;
use super::politeness::HostPool;
use super::robots::Robots;
use super::summary::{CrawlReport, Progress, Reported, SiteSummary, Tally};
use super::task::{Analysed, Done, FetchTask, FileReaders, GroupFetch, Item, fetch_of};
use crate::config::{Config, SiteRules};
use crate::error::{Error, Result};
use crate::store::schedule::{Visit, unix_now};
use crate::store::{
    Batch, CrawlRecord, Fetch, FetchLogEntry, PutOutcome, Store, timestamp, url_hash,
};
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::OnceCell;
use tokio::task::JoinSet;
use url::Url;

mod plan;
mod queue;
mod respond;
mod robots;

use plan::count;
use queue::Queued;

/// How often a site's crawl stores what it fetched, at the least.
const COMMIT_EVERY: Duration = Duration::from_secs(2);
/// How often a crawl stores its counts so far with a batch that stored
/// nothing new: after a kill, the crawl that continues it counts what it
/// did up to then.
const RECORD_EVERY: Duration = Duration::from_secs(5);
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

/// What the writer hands back for a batch: each document's outcome and
/// whether it was a file (SPEC §11), and the URLs stored or logged, now
/// done.
type Committed = (Vec<(PutOutcome, bool)>, Vec<UrlHash>);

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
/// # Errors
/// As [`crawl`].
pub async fn crawl_with_progress(
    config: &Config,
    store: &Store,
    options: CrawlOptions<'_>,
    shutdown: impl Future<Output = ()>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<CrawlReport> {
    let engine = Engine::new(config)?;
    engine
        .crawl(config, store, options, shutdown, progress)
        .await
}

/// What every crawl of a process shares: the HTTP client, and the hosts
/// (so that a host keeps one pace whichever crawls ask it, and the
/// config's global concurrency holds over all of them). `govsnap serve`
/// keeps one for its life and runs each site's crawl in it.
#[derive(Debug)]
pub struct Engine {
    client: Client,
    /// The client of the sites with `tls = "lenient"`, made when the
    /// first such site is crawled.
    lenient: std::sync::OnceLock<std::result::Result<Client, String>>,
    /// What the lenient client is made with.
    settings: crate::config::CrawlSettings,
    hosts: HostPool,
    /// Who may read a file's text now.
    files: Arc<FileReaders>,
}

impl Engine {
    /// The engine for the config's `[crawl]` settings.
    ///
    /// # Errors
    /// [`Error::Io`] when the HTTP client cannot be set up.
    pub fn new(config: &Config) -> Result<Self> {
        Ok(Self {
            client: Client::new(&config.crawl).map_err(|e| Error::Io {
                what: "setting up HTTP".to_owned(),
                source: std::io::Error::other(e.to_string()),
            })?,
            lenient: std::sync::OnceLock::new(),
            settings: config.crawl.clone(),
            hosts: HostPool::new(
                config.crawl.per_host_concurrency,
                Duration::from_millis(config.crawl.per_host_delay_ms),
                config.crawl.concurrency,
            ),
            files: Arc::new(FileReaders::new()),
        })
    }

    /// Crawl every site of the config (or only `options.only`) once, all
    /// side by side, calling `progress` after every URL. Every site runs its
    /// own loop, all of them in this task; they share this engine and, for
    /// this crawl, robots.txt (see [`super::politeness`]). Each site's
    /// start and end are written to the store ([`Store::crawl_record`]).
    ///
    /// # Errors
    /// As [`crawl`].
    pub async fn crawl(
        &self,
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
            engine: self,
            robots: Mutex::default(),
            tally: Tally::new(sites.len()),
            progress,
            full: options.full,
        };
        run_sites(config, store, &sites, &shared, shutdown).await
    }

    /// The client for a site's `tls`.
    ///
    /// # Errors
    /// [`Error::Io`] when the lenient client cannot be set up.
    fn client(&self, tls: crate::config::Tls) -> Result<&Client> {
        match tls {
            crate::config::Tls::Verify => Ok(&self.client),
            crate::config::Tls::Lenient => self
                .lenient
                .get_or_init(|| Client::lenient(&self.settings).map_err(|e| e.to_string()))
                .as_ref()
                .map_err(|e| Error::Io {
                    what: "setting up HTTP for tls = \"lenient\"".to_owned(),
                    source: std::io::Error::other(e.clone()),
                }),
        }
    }
}

/// The sites of one crawl, side by side, until all end or `shutdown`.
async fn run_sites(
    config: &Config,
    store: &Store,
    sites: &[&SiteRules],
    shared: &Shared<'_>,
    shutdown: impl Future<Output = ()>,
) -> Result<CrawlReport> {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut running: FuturesUnordered<_> = sites
        .iter()
        .enumerate()
        .map(|(i, site)| {
            let stop_rx = stop_rx.clone();
            async move {
                let client = shared.engine.client(site.tls)?;
                let mut crawler = SiteCrawl::new(config, site, store, shared, client);
                tracing::info!(site = %site.name, "crawl starts");
                let stopped = crawler.run(stop_rx).await?;
                let started = crawler.started.clone();
                let summary = crawler.finish(stopped);
                tracing::info!(site = %site.name, summary = %summary, "crawl ends");
                let record = CrawlRecord {
                    started,
                    finished: Some(timestamp(SystemTime::now())),
                    summary: serde_json::to_value(&summary).ok(),
                };
                store.put_crawl_record(&site.name, &record)?;
                Ok::<_, Error>((i, summary))
            }
        })
        .collect();
    tokio::pin!(shutdown);
    let mut summaries = Vec::with_capacity(sites.len());
    let mut interrupted = false;
    loop {
        tokio::select! {
            next = running.next() => match next {
                Some(Ok(done)) => summaries.push(done),
                // a full disk stops every site: what they stored is kept,
                // the rest waits in their frontiers for the next run
                Some(Err(e)) => return Err(e.stored(shared.tally.stored_so_far(), "crawl")),
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
    store
        .flush()
        .map_err(|e| e.stored(shared.tally.stored_so_far(), "crawl"))?;
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
    /// The crawl fetched the site's `max_pages`.
    MaxPages,
}

impl Stopped {
    /// The summary's `stopped` value.
    fn as_str(self) -> &'static str {
        match self {
            Self::Interrupted => "interrupted",
            Self::MaxCrawlTime => "max_crawl_time",
            Self::MaxPages => "max_pages",
        }
    }
}

/// What the sites of one crawl share.
struct Shared<'p> {
    engine: &'p Engine,
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
    /// When this crawl began (RFC 3339): its [`CrawlRecord`]'s `started`.
    started: String,
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
    /// Trap URLs already counted, as 16-byte hashes.
    traps: HashSet<UrlHash>,
    /// Document links list pages of this crawl showed, as 16-byte hashes:
    /// a list page that shows none but these is the end of its list.
    listed: HashSet<UrlHash>,
    /// Links judged lately (in the frontier, or out of scope): the links
    /// every page repeats (navigation, list pages) skip the store. Emptied
    /// when full, so it stays small whatever the site.
    recent: HashSet<UrlHash>,
    /// TRS list series already expanded into the frontier.
    series: HashSet<discover::TrsSeries>,
    /// jpage columns already paged (see `FetchTask::columns`).
    columns: Arc<Mutex<HashSet<String>>>,
    /// The file formats archived (`attachment_types`; none without
    /// `attachments`).
    formats: Arc<Vec<crate::attach::Format>>,
    /// Files linked in this crawl: the pages that link each, and the name
    /// a document's record gives it (SPEC §11's `linked_from`, `name`).
    files: HashMap<String, (Option<String>, Vec<String>)>,
    /// Files put in the queue by the pages that link them, once a crawl.
    files_queued: HashSet<UrlHash>,
    /// The engine's client for the site's `tls`, spooling files to the
    /// store's disk …
    client: Client,
    /// … and as it is, for robots.txt and sitemaps, read in memory.
    plain: Client,
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
    /// Whether this crawl has warned that the disk is under `min_free`.
    warned_space: bool,
    /// When this crawl last stored its counts (see [`RECORD_EVERY`]).
    recorded: std::time::Instant,
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
        client: &Client,
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
            started: timestamp(SystemTime::now()),
            queue: BTreeSet::new(),
            seq: 0,
            overflow: false,
            taken: HashSet::new(),
            waiting: 0,
            out_of_scope: HashSet::new(),
            traps: HashSet::new(),
            listed: HashSet::new(),
            recent: HashSet::new(),
            series: HashSet::new(),
            columns: Arc::default(),
            formats: Arc::new(if config.crawl.attachments {
                config.crawl.attachment_types.clone()
            } else {
                Vec::new()
            }),
            files: HashMap::new(),
            files_queued: HashSet::new(),
            client: match store.spool_dir() {
                Ok(dir) => client.clone().spooling_files_in(dir),
                Err(e) => {
                    tracing::warn!(error = %e, "files will be downloaded to memory: the store has no directory to spool them to");
                    client.clone()
                }
            },
            plain: client.clone(),
            batch: Batch::default(),
            committing: None,
            rules: Arc::new(site.clone()),
            processed: 0,
            reached: false,
            failure: None,
            content: ContentHits::default(),
            reported: Reported::default(),
            warned_space: false,
            recorded: std::time::Instant::now(),
        }
    }

    /// Returns why the crawl stopped before its end, if it did.
    async fn run(
        &mut self,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) -> Result<Option<Stopped>> {
        self.begin()?;
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
            if stopped.is_none() && self.processed >= self.site.max_pages {
                // the last backstop against a URL space no rule caught
                tracing::warn!(site = %self.site.name, max_pages = self.site.max_pages, "max_pages reached: finishing the pages in flight");
                stopped = Some(Stopped::MaxPages);
                self.queue.clear();
            }
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
                let host = self.shared.engine.hosts.host(&item.url);
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
                in_flight.spawn(self.task(host, slot, robots, &stop).run(item));
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

    /// A fetch task for a URL of `host`, holding `slot`; `robots` are its
    /// origin's.
    fn task(
        &self,
        host: Arc<super::politeness::Host>,
        slot: super::politeness::HostSlot,
        robots: Arc<Robots>,
        stop: &tokio::sync::watch::Receiver<bool>,
    ) -> FetchTask {
        FetchTask {
            client: self.client.clone(),
            slot,
            host,
            store: self.store.clone(),
            rules: Arc::clone(&self.rules),
            options: self.config.extract,
            columns: Arc::clone(&self.columns),
            robots,
            stop: stop.clone(),
            formats: Arc::clone(&self.formats),
            files: Arc::clone(&self.shared.engine.files),
        }
    }

    /// Log a fetch that stores no document, with the next batch.
    fn log(&mut self, fetch: &Fetch<'_>, outcome: &str) {
        self.batch.add_log(FetchLogEntry::new(fetch, outcome));
    }

    /// A URL is done: marked in the frontier with its next visit, then no
    /// longer taken.
    fn finished(&mut self, url: &str, visit: Visit) -> Result<()> {
        self.store.frontier_done(
            &self.site.name,
            url,
            visit,
            unix_now(),
            self.site.revisit,
            None,
        )?;
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
    /// A fetch that stored nothing: an error, or for a file a page links
    /// (cut short, refused) an attachment skipped (SPEC §11).
    fn count_failure(&mut self, url: &str) {
        if self.files.contains_key(url) {
            self.summary.attachments_skipped += 1;
        } else {
            self.summary.errors += 1;
        }
    }

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

    /// Hand the batched documents to the writer: one transaction, then
    /// their frontier entries marked done and the store flushed, so a crash
    /// before the commit leaves them to fetch again. The loop goes on
    /// fetching meanwhile; it waits only for the previous batch.
    async fn commit_batch(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.check_space()?;
        self.finish_commit().await?;
        let mut batch = std::mem::take(&mut self.batch);
        batch.crawled(&self.site.name);
        let store = self.store.clone();
        let site = self.site.name.clone();
        let bounds = self.site.revisit;
        // the counts so far, stored with the batch that makes them true (a
        // crawl that continues this one after a kill adds them to its own):
        // with a batch that stored something, else every RECORD_EVERY, so
        // that an unchanged recrawl adds little more than its fetch log
        let mut so_far = self.summary.clone();
        let started = self.started.clone();
        let timely = self.recorded.elapsed() >= RECORD_EVERY;
        if timely {
            self.recorded = std::time::Instant::now();
        }
        let handle = tokio::task::spawn_blocking(move || {
            let outcomes = store.commit(&batch)?;
            let kinds: Vec<(PutOutcome, bool)> =
                outcomes.iter().copied().zip(batch.attachments()).collect();
            let mut done = Vec::with_capacity(batch.pages() + batch.logged());
            let now = unix_now();
            for (url, visit, fetched) in batch.visits(&outcomes) {
                store.frontier_done(&site, url, visit, now, bounds, fetched)?;
                done.push(url_hash(url));
            }
            let stored = outcomes
                .iter()
                .any(|o| matches!(o, PutOutcome::NewVersion(_) | PutOutcome::Alias));
            if timely || stored {
                for (outcome, attachment) in &kinds {
                    count(&mut so_far, *outcome, *attachment);
                }
                let record = CrawlRecord {
                    started,
                    finished: None,
                    summary: serde_json::to_value(&so_far).ok(),
                };
                store.put_crawl_record(&site, &record)?;
            }
            store.flush()?;
            Ok((kinds, done))
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
        for (outcome, attachment) in outcomes {
            count(&mut self.summary, outcome, attachment);
            if matches!(outcome, PutOutcome::NewVersion(_)) {
                self.shared.tally.stored(1);
            }
        }
        Ok(())
    }
}
