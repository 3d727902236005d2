//! When each site is crawled (SPEC §9): a site never crawled is due at
//! once, and so is one whose last crawl did not end (the process died, or
//! was stopped: its frontier continues); otherwise its `schedule` says when
//! after the last start. Runs missed while the service was down make one
//! crawl at start-up, since "due" is a time already past, not a count.
//! Sites without a schedule are crawled when asked (`POST
//! /api/v1/sites/NAME/crawl`). At most one crawl of a site runs at a time;
//! due sites crawl side by side in one [`Engine`], so a host shared by
//! several sites keeps one pace.
//!
//! The [`Board`] is what the HTTP side sees: which sites crawl now, and
//! when each is next due. A request to crawl marks its site as crawling on
//! the board before the scheduler hears of it, so two requests cannot both
//! get a 202.

use super::Shared;
use crate::config::{Config, Schedule};
use crate::crawl::{CrawlOptions, CrawlReport, Engine, Progress};
use crate::error::Result;
use crate::store::Store;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};
use tokio::sync::{mpsc, watch};

/// How soon a crawl a full disk stopped is tried again.
const DISK_FULL_RETRY: Duration = Duration::from_mins(5);

/// What the service knows of a site between crawls.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteStatus {
    /// A crawl of it runs now (or was asked for and is starting).
    pub crawling: bool,
    /// When its schedule next starts a crawl (`None`: no schedule).
    pub next_crawl: Option<SystemTime>,
    /// Why its last crawl in this service failed, if it did.
    pub last_error: Option<String>,
    /// Crawls in a row that could not reach the site.
    pub unreached: u32,
    /// When a crawl that could not reach the site is tried again (also
    /// `next_crawl`, which is never later than the schedule's next run).
    pub retry_at: Option<SystemTime>,
}

/// Every configured site's [`SiteStatus`], by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Board(Arc<Mutex<BTreeMap<String, SiteStatus>>>);

impl Board {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, SiteStatus>> {
        // a panic under the lock leaves a map that is still whole
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A site's status, if the config has the site.
    pub(crate) fn get(&self, site: &str) -> Option<SiteStatus> {
        self.lock().get(site).cloned()
    }
}

/// Why a crawl cannot start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The config has no such site.
    Unknown,
    /// A crawl of it is running.
    Running,
}

/// The HTTP side's way to ask for a crawl.
#[derive(Debug, Clone)]
pub(crate) struct Triggers {
    board: Board,
    tx: mpsc::UnboundedSender<(String, bool)>,
}

impl Triggers {
    /// Start a crawl of `site` now, unless one runs; `full`: revisit every
    /// known document, due or not (`crawl --full`).
    pub(crate) fn request(&self, site: &str, full: bool) -> std::result::Result<(), Refused> {
        let mut board = self.board.lock();
        let status = board.get_mut(site).ok_or(Refused::Unknown)?;
        if status.crawling {
            return Err(Refused::Running);
        }
        status.crawling = true;
        // the receiver lives as long as the scheduler; once it has gone
        // the service is stopping and the crawl would not start anyway
        let _ = self.tx.send((site.to_owned(), full));
        Ok(())
    }
}

/// The crawls of one service.
pub(crate) struct Scheduler {
    board: Board,
    schedules: BTreeMap<String, Option<Schedule>>,
    /// The first wait before an unreached site is tried again.
    retry_unreached: Duration,
    triggers: mpsc::UnboundedReceiver<(String, bool)>,
}

impl Scheduler {
    /// The scheduler for `config`, each site's first crawl planned from
    /// what the store says of its last one.
    pub(crate) fn new(config: &Config, store: &Store) -> Result<(Self, Triggers)> {
        let now = SystemTime::now();
        let mut statuses = BTreeMap::new();
        let mut schedules = BTreeMap::new();
        for site in &config.sites {
            let last = store.crawl_record(&site.name)?;
            let next_crawl = site.schedule.as_ref().map(|schedule| match &last {
                Some(record) if !record.unfinished() => humantime::parse_rfc3339(&record.started)
                    .map_or(now, |started| schedule.next_after(started)),
                _ => now,
            });
            statuses.insert(
                site.name.clone(),
                SiteStatus {
                    next_crawl,
                    ..SiteStatus::default()
                },
            );
            schedules.insert(site.name.clone(), site.schedule.clone());
        }
        let board = Board(Arc::new(Mutex::new(statuses)));
        let (tx, rx) = mpsc::unbounded_channel();
        let this = Self {
            board: board.clone(),
            schedules,
            retry_unreached: config.crawl.retry_unreached,
            triggers: rx,
        };
        Ok((this, Triggers { board, tx }))
    }

    pub(crate) fn board(&self) -> Board {
        self.board.clone()
    }

    /// Crawl sites as they come due or are asked for, until `stopping`;
    /// then the crawls running finish their pages in flight and end.
    pub(crate) async fn run(
        mut self,
        shared: Arc<Shared>,
        engine: Engine,
        stopping: watch::Receiver<bool>,
    ) -> Result<()> {
        let (config, store) = (Arc::clone(&shared.config), shared.store.clone());
        let crawl = |site: String, full: bool| {
            let (engine, config, store, shared) = (&engine, &config, &store, &shared);
            let mut stop = stopping.clone();
            async move {
                let progress = |p: Progress| shared.metrics.progress(&site, &p);
                let shutdown = async move {
                    let _ = stop.wait_for(|s| *s).await;
                };
                let options = CrawlOptions {
                    only: Some(&site),
                    full,
                };
                let report = engine
                    .crawl(config, store, options, shutdown, &progress)
                    .await;
                (site, report)
            }
        };
        let mut running = FuturesUnordered::new();
        let mut stop = stopping.clone();
        loop {
            for site in self.take_due(SystemTime::now()) {
                shared.metrics.crawling(&site, true);
                running.push(crawl(site, false));
            }
            let wake = self.next_wake();
            tokio::select! {
                () = tokio::time::sleep(wake) => {}
                Some((site, full)) = self.triggers.recv() => {
                    shared.metrics.crawling(&site, true);
                    running.push(crawl(site, full));
                }
                Some((site, report)) = running.next(), if !running.is_empty() => {
                    self.finished(&shared, &site, report)?;
                }
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        // every crawl saw `stopping`: it ends once its pages in flight are stored
        while let Some((site, report)) = running.next().await {
            self.finished(&shared, &site, report)?;
        }
        Ok(())
    }

    /// The sites due at `now` and not crawling, now marked crawling.
    fn take_due(&self, now: SystemTime) -> Vec<String> {
        let mut board = self.board.lock();
        board
            .iter_mut()
            .filter(|(_, s)| !s.crawling && s.next_crawl.is_some_and(|t| t <= now))
            .map(|(name, s)| {
                s.crawling = true;
                name.clone()
            })
            .collect()
    }

    /// How long until the next site comes due (a minute at most, so that a
    /// clock set forward is noticed).
    fn next_wake(&self) -> Duration {
        let now = SystemTime::now();
        self.board
            .lock()
            .values()
            .filter(|s| !s.crawling)
            .filter_map(|s| s.next_crawl)
            .map(|t| t.duration_since(now).unwrap_or(Duration::ZERO))
            .min()
            .unwrap_or(Duration::from_mins(1))
            .min(Duration::from_mins(1))
    }

    /// A crawl ended: plan the site's next one, count what it did. A store
    /// error ends the service (its crawls could store nothing more), except
    /// a full disk, which only pauses the site's crawls.
    fn finished(&self, shared: &Shared, site: &str, report: Result<CrawlReport>) -> Result<()> {
        shared.metrics.crawling(site, false);
        let started = shared
            .store
            .crawl_record(site)?
            .and_then(|r| humantime::parse_rfc3339(&r.started).ok())
            .unwrap_or_else(SystemTime::now);
        let schedule = self.schedules.get(site).and_then(Option::as_ref);
        let mut board = self.board.lock();
        let Some(status) = board.get_mut(site) else {
            return Ok(());
        };
        status.crawling = false;
        status.next_crawl = schedule.map(|s| s.next_after(started));
        status.retry_at = None;
        match report {
            Ok(report) => {
                let summary = report.sites.into_iter().next();
                status.last_error = summary.as_ref().and_then(|s| s.error.clone());
                if status.last_error.is_some() {
                    status.unreached = status.unreached.saturating_add(1);
                    let retry =
                        SystemTime::now() + retry_wait(self.retry_unreached, status.unreached);
                    // a retry due after the schedule's next run is that run
                    if status.next_crawl.is_none_or(|next| retry < next) {
                        status.retry_at = Some(retry);
                        status.next_crawl = Some(retry);
                    }
                } else {
                    status.unreached = 0;
                }
                if let Some(summary) = summary {
                    shared.metrics.crawl_ended(&summary);
                }
                Ok(())
            }
            // a full disk: reads go on, and the crawl is tried again (or
            // asked for again) once space may be back; what it stored is kept
            Err(e) if e.is_disk_full() => {
                tracing::warn!(site, error = %e, "crawl paused: the store's disk is full");
                status.last_error = Some(e.to_string());
                let retry = SystemTime::now() + DISK_FULL_RETRY;
                status.next_crawl = Some(status.next_crawl.map_or(retry, |t| t.min(retry)));
                Ok(())
            }
            Err(e) => {
                tracing::error!(site, error = %e, "crawl failed");
                status.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }
}

/// How long after the `n`th crawl in a row that could not reach a site it
/// is tried again: `first`, doubling (SPEC §9).
fn retry_wait(first: Duration, n: u32) -> Duration {
    // 2^16 times the first wait is past any schedule worth having
    first.saturating_mul(1 << n.saturating_sub(1).min(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_for_an_unreached_site_doubles_and_stops_growing() {
        let ten = Duration::from_mins(10);
        let waits: Vec<u64> = (1..=4).map(|n| retry_wait(ten, n).as_secs() / 60).collect();
        assert_eq!(waits, [10, 20, 40, 80]);
        assert_eq!(retry_wait(ten, 40), retry_wait(ten, 17));
        assert_eq!(retry_wait(Duration::MAX, 3), Duration::MAX);
    }
}
