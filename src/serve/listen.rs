//! The service's HTTP listener, bounded: slow and idle clients cannot take
//! the service down (issue 33).
//!
//! `axum::serve` reads a request head for as long as a client takes and
//! keeps every connection it accepts: 1,135 connections that sent half a
//! head and then nothing held every descriptor under the usual limit of
//! 1,024, `/healthz` went unanswered and the crawl could open nothing. So:
//!
//! - the open-files limit is raised to its hard limit at start-up;
//! - at most [`Limits::connections`] connections at once, well under that
//!   limit, leaving a reserve for the crawl and the store;
//! - a connection waiting for a request head (a new one, or one kept alive
//!   between requests) is closed after [`HEAD_TIMEOUT`];
//! - at the cap, a new connection closes the oldest one that is waiting for
//!   a head (a slow client, or an idle one), so a real request always gets
//!   in; connections in the middle of a request (a long poll, an export)
//!   are never the ones closed.
//!
//! Data flows: accept → [`Registry`] (a slot, shedding the oldest waiting
//! connection when full) → hyper (HTTP/1 and 2) → the router, the
//! connection marked busy while a request runs.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tower::ServiceExt;

/// How long a connection may take to send a request head, and stay open
/// between requests.
pub(crate) const HEAD_TIMEOUT: Duration = Duration::from_secs(20);
/// Descriptors kept for the crawl (its connections, files being read) and
/// the store (sled, packs, the index), at least.
const RESERVE: u64 = 512;
/// Connections at most, whatever the limit.
const MOST_CONNECTIONS: u64 = 8_192;

/// How many connections the service holds at once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub(crate) connections: usize,
}

impl Limits {
    /// Raise the soft open-files limit to the hard one, and take the cap
    /// from it: a quarter for the crawl and the store (at least
    /// [`RESERVE`]), the rest for connections.
    pub(crate) fn from_open_files() -> Self {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            let raised = rustix::process::Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            };
            if setrlimit(Resource::Nofile, raised).is_ok() {
                limit = raised;
            }
        }
        let files = limit.current.unwrap_or(MOST_CONNECTIONS * 2);
        let reserve = (files / 4).max(RESERVE);
        let connections = files.saturating_sub(reserve).clamp(16, MOST_CONNECTIONS);
        tracing::debug!(files, connections, "connection cap");
        Self {
            connections: usize::try_from(connections).unwrap_or(16),
        }
    }
}

/// One open connection.
struct Slot {
    /// Requests running on it.
    busy: Arc<AtomicUsize>,
    /// Closes it.
    close: Arc<Notify>,
}

/// The open connections, by the order they were accepted.
#[derive(Default)]
struct Registry {
    slots: Mutex<(u64, BTreeMap<u64, Slot>)>,
}

impl Registry {
    /// A slot for a new connection; at `cap`, the oldest connection that
    /// waits for a head is closed first. `None`: every slot is in the
    /// middle of a request, and the new connection is refused.
    fn admit(&self, cap: usize) -> Option<(u64, Arc<AtomicUsize>, Arc<Notify>)> {
        let mut guard = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, slots) = &mut *guard;
        if slots.len() >= cap {
            let oldest_waiting = slots
                .iter()
                .find(|(_, s)| s.busy.load(Ordering::Relaxed) == 0)
                .map(|(&id, _)| id)?;
            if let Some(shed) = slots.remove(&oldest_waiting) {
                shed.close.notify_one();
            }
        }
        *next += 1;
        let (busy, close) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        slots.insert(
            *next,
            Slot {
                busy: Arc::clone(&busy),
                close: Arc::clone(&close),
            },
        );
        Some((*next, busy, close))
    }

    fn leave(&self, id: u64) {
        let mut guard = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        guard.1.remove(&id);
    }
}

/// Serve `router` on `listener` until `stopping` turns true; then stop
/// accepting, let each connection finish its request, and return.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    mut stopping: watch::Receiver<bool>,
) -> std::io::Result<()> {
    let registry = Arc::new(Registry::default());
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT);
    let builder = Arc::new(builder);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|s| *s) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            // out of descriptors (or a connection reset before accept):
            // wait for some to close rather than spin
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some((id, busy, close)) = registry.admit(limits.connections) else {
            drop(stream);
            continue;
        };
        let (router, builder, registry) =
            (router.clone(), Arc::clone(&builder), Arc::clone(&registry));
        let mut stop = stopping.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (router, busy) = (router.clone(), Arc::clone(&busy));
                busy.fetch_add(1, Ordering::Relaxed);
                async move {
                    let response = router.oneshot(request.map(axum::body::Body::new)).await;
                    busy.fetch_sub(1, Ordering::Relaxed);
                    response
                }
            });
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            tokio::select! {
                _ = connection.as_mut() => {}
                () = close.notified() => {}
                () = stopped => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            registry.leave(id);
        });
        // finished connections' tasks are reaped as they go
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}
