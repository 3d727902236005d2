//! Every change of the store handed on to NATS JetStream (SPEC §14), so
//! that downstream tools read one stream for all shards instead of polling
//! each one's HTTP feed.
//!
//! Data flows from the store, never from the crawl:
//!
//! ```text
//! store changes feed ──> Store::feed_lines (after the consumer cursor "nats")
//!     ──> batch::send (pipelined, Nats-Msg-Id STORE-ID:CURSOR) ──> JetStream acks
//!     ──> Store::set_consumer_cursor (the last cursor acknowledged)
//! ```
//!
//! Nothing waits in memory: when NATS is down the crawl goes on storing,
//! the publisher retries with a growing pause, and on its return reads the
//! feed from the last acknowledged cursor; a killed process does the same
//! on its next start. A change sent again (a batch cut short, a kill
//! before its cursor was kept) carries the same message id, and the
//! stream's duplicate window stores it once.
//!
//! # Architecture
//! - [`Publisher::follow`]: the loop above, and when it gives up at a stop.
//! - `connect`: the connection, credentials and TLS, the stream.
//! - `batch`: one batch sent in order, and what of it was acknowledged.
//! - [`PublishStatus`]: what the loop knows, for `/api/v1/sites` and
//!   `/metrics`.

mod batch;
mod connect;

pub use connect::{STREAM, SUBJECTS, subject};

use crate::config::PublishSettings;
use crate::store::{ChangeCursor, Store};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// The consumer name under which the store keeps the last acknowledged
/// cursor.
pub const CONSUMER: &str = "nats";
/// Changes read from the feed and sent at a time.
const BATCH: usize = 256;
/// The first pause after a failure; it doubles up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(15);
/// How long a stopping process waits for NATS to take what is left (the
/// rest is published at its next start): `drain` for [`Publisher::follow`].
pub const DRAIN: Duration = Duration::from_secs(10);
/// The niceness of the thread that reads the feed for publishing, as the
/// search index's.
const READ_NICE: i32 = 10;
/// Lag is counted up to this many changes (beyond it, "at least"): after a
/// long outage a count of every change would make each `/api/v1/sites`
/// and `/metrics` request read them all (100,000 take 0.16 s).
pub const LAG_CAP: usize = 100_000;

/// What the publisher knows now; shared with the service's readers.
#[derive(Debug, Default)]
pub struct PublishStatus {
    connected: AtomicBool,
    acknowledged: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl PublishStatus {
    /// Whether a connection to NATS is up (the client may be reconnecting).
    #[must_use]
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// Messages the stream acknowledged since the process started.
    #[must_use]
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged.load(Ordering::Relaxed)
    }

    /// Failed attempts (to connect or to publish a batch) since start.
    #[must_use]
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// The last failure's reason, until a batch goes through.
    #[must_use]
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn set_connected(&self, up: bool) {
        self.connected.store(up, Ordering::Relaxed);
    }

    fn failed(&self, reason: String) {
        let mut last = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.as_deref() != Some(reason.as_str()) {
            tracing::warn!(error = %reason, "publishing waits; the crawl goes on and the changes are published when NATS answers");
        }
        *last = Some(reason);
        self.failures.fetch_add(1, Ordering::Relaxed);
    }

    fn went_through(&self, acknowledged: u64) {
        self.acknowledged.fetch_add(acknowledged, Ordering::Relaxed);
        let mut last = self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if last.take().is_some() {
            tracing::info!("publishing to NATS again");
        }
    }
}

/// The changes the stream does not have yet: all of them after the
/// consumer cursor, counted up to [`LAG_CAP`].
///
/// # Errors
/// Store read errors.
pub fn lag(store: &Store) -> crate::error::Result<usize> {
    store.changes_after(store.consumer_cursor(CONSUMER)?, LAG_CAP)
}

/// [`lag`] site by site.
///
/// # Errors
/// Store read errors.
pub fn lag_by_site(store: &Store) -> crate::error::Result<std::collections::HashMap<String, u64>> {
    store.changes_after_by_site(store.consumer_cursor(CONSUMER)?, LAG_CAP)
}

/// Publishes one store's changes as `[publish]` says.
#[derive(Debug)]
pub struct Publisher {
    settings: PublishSettings,
    /// The connection's name, as the server's monitoring shows it.
    name: String,
    status: Arc<PublishStatus>,
}

impl Publisher {
    /// A publisher under the connection name `name` (say, `govsnap shard 2/4`).
    #[must_use]
    pub fn new(settings: PublishSettings, name: &str) -> Self {
        Self {
            settings,
            name: name.to_owned(),
            status: Arc::default(),
        }
    }

    /// Its status, to show while it runs.
    #[must_use]
    pub fn status(&self) -> Arc<PublishStatus> {
        Arc::clone(&self.status)
    }

    /// Publish everything after the consumer cursor, then each change as it
    /// is committed, until `stop`; then go on publishing what is left until
    /// it is all acknowledged, or NATS has taken nothing for `drain` (the
    /// rest goes at the next start).
    pub async fn follow(self, store: Store, mut stop: watch::Receiver<bool>, drain: Duration) {
        let status = &self.status;
        let reader = match Reader::start(&store) {
            Ok(reader) => reader,
            Err(e) => {
                tracing::error!(error = %e, "publishing cannot start: no thread to read the store");
                return;
            }
        };
        let store_id = match reader.run(Store::id).await {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "publishing cannot start: the store has no id");
                return;
            }
        };
        let mut changed = store.subscribe();
        let reconnected = Arc::new(tokio::sync::Notify::new());
        let mut js = None;
        let mut ahead = BTreeSet::new();
        let mut pause = RETRY_MIN;
        let mut deadline: Option<Instant> = None;
        loop {
            let stopping = *stop.borrow_and_update() || stop.has_changed().is_err();
            if stopping && deadline.is_none() {
                deadline = Some(Instant::now() + drain);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                self.left_behind(&reader).await;
                return;
            }
            changed.mark_unchanged();
            let failure = match &js {
                None => {
                    match connect::connect(&self.settings, &self.name, status, &reconnected).await {
                        Ok(context) => {
                            js = Some(context);
                            status.set_connected(true);
                            continue;
                        }
                        Err(e) => Some(e),
                    }
                }
                Some(js) => match self.one_batch(js, &reader, &store_id, &mut ahead).await {
                    Ok(Some(())) => {
                        pause = RETRY_MIN;
                        // a stopping process gives up only when NATS stops
                        // taking what it sends, not while it catches up
                        if stopping {
                            deadline = Some(Instant::now() + drain);
                        }
                        continue;
                    }
                    // caught up
                    Ok(None) if stopping => return,
                    Ok(None) => None,
                    Err(e) => Some(e),
                },
            };
            if let Some(reason) = failure {
                status.failed(reason);
                let wait = deadline.map_or(pause, |d| pause.min(d - Instant::now().min(d)));
                pause = (pause * 2).min(RETRY_MAX);
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = reconnected.notified() => pause = RETRY_MIN,
                    _ = stop.changed(), if !stopping => {}
                }
                continue;
            }
            tokio::select! {
                r = changed.changed() => if r.is_err() { let _ = stop.changed().await; },
                _ = stop.changed(), if !stopping => {}
            }
        }
    }

    /// Read one batch after the store's cursor and send it. `Ok(None)`:
    /// nothing to send.
    async fn one_batch(
        &self,
        js: &async_nats::jetstream::Context,
        reader: &Reader,
        store_id: &str,
        ahead: &mut BTreeSet<ChangeCursor>,
    ) -> Result<Option<()>, String> {
        let read = reader
            .run(|s| {
                let after = s.consumer_cursor(CONSUMER)?;
                Ok((after, s.feed_lines(after, BATCH)?))
            })
            .await
            .map_err(|e| format!("reading the changes feed: {e}"))?;
        let (after, feed) = read;
        if feed.through == after {
            return Ok(None);
        }
        let sent = batch::send(js, store_id, &feed.lines, ahead).await;
        // a batch acknowledged whole also passes the changes with no line
        let through = if sent.failure.is_none() {
            feed.through
        } else {
            sent.through
        };
        if let Some(cursor) = through.filter(|c| Some(*c) != after) {
            reader
                .run(move |s| s.set_consumer_cursor(CONSUMER, cursor))
                .await
                .map_err(|e| format!("keeping the published cursor: {e}"))?;
        }
        match sent.failure {
            None => {
                self.status.went_through(sent.acknowledged);
                Ok(Some(()))
            }
            Some(reason) => {
                self.status
                    .acknowledged
                    .fetch_add(sent.acknowledged, Ordering::Relaxed);
                Err(reason)
            }
        }
    }

    async fn left_behind(&self, reader: &Reader) {
        if let Ok(left) = reader.run(lag).await
            && left > 0
        {
            tracing::warn!(
                changes = left,
                "stopping with changes not yet published to NATS; they are published at the next start"
            );
        }
    }
}

type Job = Box<dyn FnOnce(&Store) + Send>;

/// The publisher's store calls, on a thread of its own at [`READ_NICE`]:
/// reading a change's record costs a decompression, and neither the crawl
/// nor the service's readers should wait for that. The thread ends with
/// its `Reader`.
struct Reader {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Reader {
    fn start(store: &Store) -> std::io::Result<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let store = store.clone();
        std::thread::Builder::new()
            .name("govsnap-publish".to_owned())
            .spawn(move || {
                // `None`: this thread (Linux's nice is per thread)
                let _ = rustix::process::setpriority_process(None, READ_NICE);
                while let Ok(job) = queue.recv() {
                    job(&store);
                }
            })?;
        Ok(Self { jobs })
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> crate::error::Result<T> + Send + 'static,
    ) -> crate::error::Result<T> {
        let gone = || crate::error::Error::Io {
            what: "a store read for publishing".to_owned(),
            source: std::io::Error::other("the publisher's thread is gone"),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |store| {
                let _ = tx.send(f(store));
            }))
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}
