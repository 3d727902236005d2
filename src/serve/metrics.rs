//! `/metrics` in Prometheus text: what the crawls did per site (live as
//! they go, and from each crawl's summary when it ends), the queue, and the
//! API's answers per status; with `[publish]`, the publisher's lag.

use crate::crawl::{Progress, SiteSummary};
use crate::publish::PublishStatus;
use crate::store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SiteLabel {
    site: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    site: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: u16,
}

/// The service's metrics, and its registry.
pub(crate) struct Metrics {
    registry: Registry,
    processed: Family<SiteLabel, Counter>,
    errors: Family<SiteLabel, Counter>,
    queued: Family<SiteLabel, Gauge>,
    crawling: Family<SiteLabel, Gauge>,
    outcomes: Family<OutcomeLabels, Counter>,
    crawls: Family<SiteLabel, Counter>,
    requests: Family<StatusLabel, Counter>,
    store_bytes: Gauge,
    free_bytes: Gauge,
    /// What each running crawl last reported, so that counters add only
    /// what is new.
    last: Mutex<HashMap<String, Progress>>,
    store: Store,
    publish: Option<Published>,
}

/// With `[publish]`: the publisher's figures, read at each scrape.
struct Published {
    status: Arc<PublishStatus>,
    lag: Gauge,
    connected: Gauge,
    acknowledged: Counter,
    /// What `acknowledged` has counted so far.
    counted: AtomicU64,
}

impl Metrics {
    pub(crate) fn new(store: &Store, publish: Option<Arc<PublishStatus>>) -> Self {
        let mut registry = Registry::with_prefix("govsnap");
        let processed = Family::<SiteLabel, Counter>::default();
        let errors = Family::<SiteLabel, Counter>::default();
        let queued = Family::<SiteLabel, Gauge>::default();
        let crawling = Family::<SiteLabel, Gauge>::default();
        let outcomes = Family::<OutcomeLabels, Counter>::default();
        let crawls = Family::<SiteLabel, Counter>::default();
        let requests = Family::<StatusLabel, Counter>::default();
        let store_bytes = Gauge::default();
        let free_bytes = Gauge::default();
        registry.register(
            "urls_processed",
            "URLs a crawl has finished with (fetched, skipped or failed)",
            processed.clone(),
        );
        registry.register("crawl_errors", "failed requests of crawls", errors.clone());
        registry.register(
            "queue_length",
            "URLs waiting in a running crawl",
            queued.clone(),
        );
        registry.register(
            "crawling",
            "1 while a crawl of the site runs",
            crawling.clone(),
        );
        registry.register(
            "pages",
            "pages by outcome (the keys of the crawl summary), counted when each crawl ends",
            outcomes.clone(),
        );
        registry.register("crawls", "crawls ended", crawls.clone());
        registry.register(
            "http_requests",
            "API requests answered, by status",
            requests.clone(),
        );
        registry.register(
            "store_bytes",
            "bytes the store takes on disk",
            store_bytes.clone(),
        );
        registry.register(
            "store_free_bytes",
            "bytes free on the store's file system (crawls pause under half of [store] min_free)",
            free_bytes.clone(),
        );
        let publish = publish.map(|status| {
            let published = Published {
                status,
                lag: Gauge::default(),
                connected: Gauge::default(),
                acknowledged: Counter::default(),
                counted: AtomicU64::new(0),
            };
            registry.register(
                "publish_lag",
                "changes of the store NATS has not acknowledged yet ([publish], SPEC §14), counted up to 100,000",
                published.lag.clone(),
            );
            registry.register(
                "publish_connected",
                "1 while the publisher's connection to NATS is up",
                published.connected.clone(),
            );
            registry.register(
                "publish_messages",
                "changes the stream acknowledged (a change sent again is counted again)",
                published.acknowledged.clone(),
            );
            published
        });
        Self {
            publish,
            registry,
            processed,
            errors,
            queued,
            crawling,
            outcomes,
            crawls,
            requests,
            store_bytes,
            free_bytes,
            last: Mutex::default(),
            store: store.clone(),
        }
    }

    /// A running crawl's progress (its own figures: one site per crawl).
    pub(crate) fn progress(&self, site: &str, now: &Progress) {
        let label = SiteLabel {
            site: site.to_owned(),
        };
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let before = last.entry(site.to_owned()).or_default();
        self.processed
            .get_or_create(&label)
            .inc_by(now.done.saturating_sub(before.done));
        self.errors
            .get_or_create(&label)
            .inc_by(now.errors.saturating_sub(before.errors));
        self.queued
            .get_or_create(&label)
            .set(i64::try_from(now.queued).unwrap_or(i64::MAX));
        *before = *now;
    }

    pub(crate) fn crawling(&self, site: &str, running: bool) {
        let label = SiteLabel {
            site: site.to_owned(),
        };
        self.crawling.get_or_create(&label).set(i64::from(running));
        if !running {
            self.queued.get_or_create(&label).set(0);
            self.last
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(site);
        }
    }

    pub(crate) fn crawl_ended(&self, s: &SiteSummary) {
        self.crawls
            .get_or_create(&SiteLabel {
                site: s.site.clone(),
            })
            .inc();
        // a crawl that continued an unfinished one: that one's counts were
        // added when it ended
        for (outcome, n) in s.own_outcomes() {
            self.outcomes
                .get_or_create(&OutcomeLabels {
                    site: s.site.clone(),
                    outcome: outcome.to_owned(),
                })
                .inc_by(n);
        }
    }

    pub(crate) fn answered(&self, status: u16) {
        self.requests.get_or_create(&StatusLabel { status }).inc();
    }

    /// The text exposition, the store's size and its disk's free bytes
    /// read now.
    pub(crate) fn encode(&self) -> String {
        if let Ok(bytes) = self.store.size_on_disk() {
            self.store_bytes
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        if let Some(free) = self.store.free_bytes() {
            self.free_bytes.set(i64::try_from(free).unwrap_or(i64::MAX));
        }
        if let Some(p) = &self.publish {
            if let Ok(lag) = crate::publish::lag(&self.store) {
                p.lag.set(i64::try_from(lag).unwrap_or(i64::MAX));
            }
            p.connected.set(i64::from(p.status.connected()));
            let now = p.status.acknowledged();
            let before = p.counted.swap(now, Ordering::Relaxed);
            p.acknowledged.inc_by(now.saturating_sub(before));
        }
        let mut out = String::new();
        // writing into a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
