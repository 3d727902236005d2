//! Politeness and retries. One [`Host`] per host name: a semaphore for the
//! requests in flight to it, and the earliest time the next one may start
//! (the config's `per_host_delay_ms`, or robots.txt's `Crawl-delay` when it
//! asks for more). Retries back off exponentially with jitter on timeouts,
//! dropped connections and 5xx, and wait as told by `Retry-After` on 429/503,
//! capped by [`MAXIMUM_BACKOFF`].

use super::client::{Client, FetchError, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{Semaphore, SemaphorePermit};
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
    permits: Semaphore,
    /// std `Mutex`: held only to read and move the timestamp, never across an
    /// await.
    next: Mutex<Instant>,
    delay: Mutex<Duration>,
}

impl Host {
    fn new(per_host: usize, delay: Duration) -> Self {
        Self {
            permits: Semaphore::new(per_host.max(1)),
            next: Mutex::new(Instant::now()),
            delay: Mutex::new(delay),
        }
    }

    /// Raise the delay between requests (robots.txt `Crawl-delay`).
    pub fn at_least(&self, delay: Duration) {
        let mut d = self.delay.lock().unwrap_or_else(PoisonError::into_inner);
        *d = (*d).max(delay);
    }

    /// Wait for a slot and for the host's delay; hold the permit while the
    /// request runs. (The semaphore is never closed, so there is always one.)
    pub async fn turn(&self) -> Option<SemaphorePermit<'_>> {
        let permit = self.permits.acquire().await.ok();
        let start = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let start = (*next).max(Instant::now());
            *next = start + *self.delay.lock().unwrap_or_else(PoisonError::into_inner);
            start
        };
        tokio::time::sleep_until(start).await;
        permit
    }
}

/// Every host of a crawl.
#[derive(Debug)]
pub struct HostPool {
    /// std `Mutex`: the map is only looked up, never held across an await.
    hosts: Mutex<HashMap<String, Arc<Host>>>,
    per_host: usize,
    delay: Duration,
}

impl HostPool {
    /// A pool with the config's per-host concurrency and delay.
    #[must_use]
    pub fn new(per_host: usize, delay: Duration) -> Self {
        Self {
            hosts: Mutex::new(HashMap::new()),
            per_host,
            delay,
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
        Arc::clone(
            hosts
                .entry(key)
                .or_insert_with(|| Arc::new(Host::new(self.per_host, self.delay))),
        )
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
    url: &Url,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<(Response, u32), FetchError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let result = {
            let _permit = host.turn().await;
            client.get(url, etag, last_modified).await
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
        let host = Host::new(2, Duration::from_secs(1));
        let t0 = Instant::now();
        drop(host.turn().await);
        drop(host.turn().await);
        drop(host.turn().await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(2));
        host.at_least(Duration::from_secs(5));
        drop(host.turn().await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(3));
        drop(host.turn().await);
        assert_eq!(Instant::now() - t0, Duration::from_secs(8));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(
            backoff(1) >= Duration::from_millis(500) && backoff(1) <= Duration::from_millis(750)
        );
        assert!(backoff(30) <= MAXIMUM_BACKOFF.mul_f64(1.5));
    }
}
