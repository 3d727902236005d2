//! Politeness and retries. One [`Host`] per host and port, whichever sites
//! its URLs belong to: a semaphore for the requests in flight to it, and the
//! earliest time the next one may start (the config's `per_host_delay_ms`,
//! or robots.txt's `Crawl-delay` when it asks for more). Over all hosts, one
//! semaphore bounds the requests in flight (`concurrency`); a request takes
//! a slot of it only once its host's time has come, so a request waiting
//! out a host's delay holds no global slot, and the slots go to hosts that
//! are ready, in the order they asked (tokio's semaphore is fair). Retries
//! back off exponentially with jitter on timeouts, dropped connections and
//! 5xx, and wait as told by `Retry-After` on 429/503, capped by
//! [`MAXIMUM_BACKOFF`].

use super::client::{Client, FetchError, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, SemaphorePermit};
use tokio::time::Instant;
use url::Url;

/// The longest wait between two tries, whatever a server asks.
pub const MAXIMUM_BACKOFF: Duration = Duration::from_mins(1);
/// How many times a request is tried in all.
pub const MAX_ATTEMPTS: u32 = 4;
/// The first backoff; it doubles with each try.
const BASE_BACKOFF: Duration = Duration::from_millis(250);

/// One host's politeness state.
#[derive(Debug)]
pub struct Host {
    permits: Arc<Semaphore>,
    /// std `Mutex`: held only to read and move the timestamp, never across an
    /// await.
    next: Mutex<Instant>,
    delay: Mutex<Duration>,
    /// The crawl's slots over all hosts.
    global: Arc<Semaphore>,
}

/// A request's turn: its host's slot (unless the caller holds a
/// [`HostSlot`]) and a global one, held while it runs.
#[derive(Debug)]
pub struct Turn<'a> {
    host: &'a Host,
    _slot: Option<OwnedSemaphorePermit>,
    _global: Option<SemaphorePermit<'a>>,
}

impl Drop for Turn<'_> {
    /// The delay counts from the end of a request too: a request that left
    /// late (a busy machine) or took long must not arrive at the server
    /// closer than the delay to the next one.
    fn drop(&mut self) {
        let delay = *self
            .host
            .delay
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut next = self
            .host
            .next
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *next = (*next).max(Instant::now() + delay);
    }
}

/// One of a host's `per_host_concurrency` slots, taken before a fetch task
/// is started and held for its whole life: a crawl then starts no more
/// tasks for a host than it may have requests in flight, so its memory
/// does not grow with the number of sites times `concurrency`.
#[derive(Debug)]
pub struct HostSlot {
    _permit: OwnedSemaphorePermit,
}

impl Host {
    fn new(per_host: usize, delay: Duration, global: Arc<Semaphore>) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(per_host.max(1))),
            next: Mutex::new(Instant::now()),
            delay: Mutex::new(delay),
            global,
        }
    }

    /// A slot of this host if one is free now.
    #[must_use]
    pub fn try_slot(&self) -> Option<HostSlot> {
        let permit = Arc::clone(&self.permits).try_acquire_owned().ok()?;
        Some(HostSlot { _permit: permit })
    }

    /// A slot of this host, when one is free.
    pub async fn slot(&self) -> Option<HostSlot> {
        let permit = Arc::clone(&self.permits).acquire_owned().await.ok()?;
        Some(HostSlot { _permit: permit })
    }

    /// Raise the delay between requests (robots.txt `Crawl-delay`). The
    /// next request waits the new delay from the last one too: the
    /// robots.txt fetch that asked for it is a request to this host.
    pub fn at_least(&self, delay: Duration) {
        let mut d = self.delay.lock().unwrap_or_else(PoisonError::into_inner);
        if delay > *d {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            *next += delay.saturating_sub(*d);
            *d = delay;
        }
    }

    /// Wait for a slot of this host, for its delay, then for a global slot;
    /// hold both while the request runs. The delay is counted from the
    /// moment a request really starts (after the global slot) and again
    /// from its end ([`Turn`]'s drop), so two requests to a host never
    /// reach it closer than the delay, however long a global slot or the
    /// request took. (The semaphores are never closed, so there are always
    /// permits.)
    pub async fn turn(&self, slot: Option<&HostSlot>) -> Turn<'_> {
        let host = match slot {
            Some(_) => None,
            None => Arc::clone(&self.permits).acquire_owned().await.ok(),
        };
        loop {
            let next = *self.next.lock().unwrap_or_else(PoisonError::into_inner);
            tokio::time::sleep_until(next).await;
            let global = self.global.acquire().await.ok();
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            if *next <= now {
                *next = now + *self.delay.lock().unwrap_or_else(PoisonError::into_inner);
                return Turn {
                    host: self,
                    _slot: host,
                    _global: global,
                };
            }
            // another request to this host started meanwhile: wait again,
            // without the global slot
        }
    }
}

/// Every host of a crawl, and the crawl's global slots.
#[derive(Debug)]
pub struct HostPool {
    /// std `Mutex`: the map is only looked up, never held across an await.
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    per_host: usize,
    delay: Duration,
    global: Arc<Semaphore>,
}

impl HostPool {
    /// A pool with the config's per-host concurrency and delay, and
    /// `concurrency` requests in flight over all hosts.
    #[must_use]
    pub fn new(per_host: usize, delay: Duration, concurrency: usize) -> Self {
        Self {
            hosts: Mutex::new(HashMap::new()),
            per_host,
            delay,
            global: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// The host of a URL.
    pub fn host(&self, url: &Url) -> Arc<Host> {
        let key = format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        );
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(hosts.entry(key).or_insert_with(|| {
            Arc::new(Host::new(
                self.per_host,
                self.delay,
                Arc::clone(&self.global),
            ))
        }))
    }
}

/// Fetch politely, with retries. Returns the last response (a 5xx after
/// the last try is a response, not an error) or the last error.
///
/// # Errors
/// The last [`FetchError`] when every try failed without a response.
pub async fn fetch_politely(
    client: &Client,
    host: &Host,
    slot: Option<&HostSlot>,
    url: &Url,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<(Response, u32), FetchError> {
    politely(host, slot, || client.get(url, etag, last_modified)).await
}

/// Send a request politely: each try waits for the host's turn, and a 429,
/// a 5xx, a timeout or a dropped connection is tried again after a backoff
/// (`Retry-After` when the server gives one). `send` makes one try.
///
/// # Errors
/// The last [`FetchError`] when every try failed without a response.
pub async fn politely<F, Fut>(
    host: &Host,
    slot: Option<&HostSlot>,
    send: F,
) -> Result<(Response, u32), FetchError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Response, FetchError>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = {
            let _turn = host.turn(slot).await;
            // boxed: a request's future is kilobytes, and a thousand polite
            // tasks waiting for their hosts' turns would each hold its room
            Box::pin(send()).await
        };
        let wait = match &result {
            Ok(r) if matches!(r.status, 429 | 503) => {
                Some(r.retry_after.unwrap_or_else(|| backoff(attempt)))
            }
            Ok(r) if r.status >= 500 => Some(backoff(attempt)),
            Ok(_) | Err(FetchError::Permanent(_)) => None,
            Err(FetchError::Timeout | FetchError::Transient(_)) => Some(backoff(attempt)),
        };
        match wait {
            Some(wait) if attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(wait.min(MAXIMUM_BACKOFF)).await;
            }
            _ => return result.map(|r| (r, attempt)),
        }
    }
}

/// Exponential backoff with up to 50 % jitter, so that retries from many
/// tasks do not arrive together.
fn backoff(attempt: u32) -> Duration {
    let base = BASE_BACKOFF
        .saturating_mul(1 << attempt.min(16))
        .min(MAXIMUM_BACKOFF);
    base + base.mul_f64(fastrand::f64() * 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_host_waits_its_delay_between_requests() {
        let host = Host::new(2, Duration::from_secs(1), Arc::new(Semaphore::new(4)));
        let t0 = Instant::now();
        drop(host.turn(None).await);
        drop(host.turn(None).await);
        drop(host.turn(None).await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(2));
        // raised after the request at 2 s: the next one waits 5 s from it
        host.at_least(Duration::from_secs(5));
        drop(host.turn(None).await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(7));
        drop(host.turn(None).await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(12));
    }

    /// A host waiting out its delay holds no global slot: with one global
    /// slot and two hosts, the second host's requests go while the first
    /// one waits.
    #[tokio::test(start_paused = true)]
    async fn a_host_waiting_its_delay_holds_no_global_slot() {
        let pool = HostPool::new(1, Duration::from_secs(10), 1);
        let a = pool.host(&Url::parse("http://a.gov.cn/").unwrap());
        let b = pool.host(&Url::parse("http://b.gov.cn/").unwrap());
        let t0 = Instant::now();
        drop(a.turn(None).await);
        // a's next turn is 10 s away; b goes now, twice 10 s apart
        let a_again = tokio::spawn({
            let a = Arc::clone(&a);
            async move {
                drop(a.turn(None).await);
                Instant::now()
            }
        });
        drop(b.turn(None).await);
        assert_eq!(Instant::now() - t0, Duration::ZERO);
        assert_eq!(a_again.await.unwrap() - t0, Duration::from_secs(10));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(1) >= Duration::from_millis(500) && backoff(1) <= Duration::from_millis(750)
        );
        assert!(backoff(30) <= MAXIMUM_BACKOFF.mul_f64(1.5));
    }
}
