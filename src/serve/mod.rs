//! `govsnap serve` (SPEC §9): one long-running process owns the store,
//! crawls each site on its schedule, and serves the store over HTTP while
//! it crawls, so that downstream readers are never locked out by a crawl.
//!
//! Data flows in two directions through one [`Store`] handle on one tokio
//! runtime: the scheduler's crawls write versions, whose commits wake the
//! changes feed's long polls; the HTTP side reads (off the runtime's
//! workers, in blocking tasks) and asks the scheduler for crawls.
//!
//! # Architecture
//! - [`serve`]: start-up (bind, token, `serve.json`), and the orderly stop.
//! - `scheduler`: when each site is due, its crawls, what the service
//!   knows of them ([`SiteStatus`]).
//! - `api`: the JSON API under `/api/v1/`, `/healthz`; `params`: its
//!   parameters, validated into 400s.
//! - `browse`: the pages for people (`/`, `/site/NAME`, `/page`, `/diff`,
//!   `/changes`), server-rendered.
//! - `counts`: each site's page counts, kept from the changes feed.
//! - `search`: `/api/v1/search` (SPEC §13); the index follows the store
//!   on a task of its own ([`Search::follow`]).
//! - `access`: the token and who needs it.
//! - `listen`: the HTTP listener, its connections capped and slow or idle
//!   clients shed.
//! - `metrics`: `/metrics` in Prometheus text.
//! - With `[publish]`, the store's changes go to NATS on a task of their
//!   own ([`Publisher::follow`]); rows and metrics show its lag.
//! - [`ServeFile`]: `STORE/serve.json`, how the CLI finds a running service.

mod access;
mod api;
mod browse;
mod counts;
mod listen;
mod metrics;
mod params;
mod scheduler;
mod search;

pub use scheduler::SiteStatus;

use crate::config::Config;
use crate::crawl::Engine;
use crate::error::{Error, Result};
use crate::publish::{PublishStatus, Publisher};
use crate::search::Search;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where `serve` listens unless told.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
/// The file in the store directory that names a running service.
pub const SERVE_FILE: &str = "serve.json";
/// The token's file in the store directory unless `--token-file` names one.
pub const TOKEN_FILE: &str = "serve.token";

/// How `serve` runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The token's file (`None`: `STORE/serve.token`).
    pub token_file: Option<PathBuf>,
}

/// `STORE/serve.json`: a running service, for the CLI to find.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServeFile {
    /// The address it listens on (`127.0.0.1:8787`).
    pub address: String,
    /// Its process id.
    pub pid: u32,
    /// Where its token is.
    pub token_file: PathBuf,
}

impl ServeFile {
    /// The service holding the store at `store_dir`, if one runs: a
    /// `serve.json` whose process is alive. A file left by a killed
    /// service is ignored.
    #[must_use]
    pub fn running(store_dir: &Path) -> Option<Self> {
        let text = std::fs::read_to_string(store_dir.join(SERVE_FILE)).ok()?;
        let file: Self = serde_json::from_str(&text).ok()?;
        process_alive(file.pid).then_some(file)
    }

    /// The service's base URL (`http://127.0.0.1:8787`).
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The token, when its file can be read (by the user who runs the
    /// service, or root).
    #[must_use]
    pub fn token(&self) -> Option<String> {
        std::fs::read_to_string(&self.token_file)
            .ok()
            .map(|t| t.trim().to_owned())
    }
}

/// Whether a process is alive: Linux and the BSDs' `/proc`, else a signal
/// 0 through `kill`, which tells without touching the process.
fn process_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return Path::new(&format!("/proc/{pid}")).exists();
    }
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// What the HTTP side and the scheduler share.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) config: Arc<Config>,
    pub(crate) status: scheduler::Board,
    pub(crate) access: access::Access,
    pub(crate) metrics: metrics::Metrics,
    pub(crate) triggers: scheduler::Triggers,
    pub(crate) counts: std::sync::Mutex<counts::SiteCounts>,
    pub(crate) search: Arc<Search>,
    /// The publisher's status, when `[publish]` is configured.
    pub(crate) publish: Option<Arc<PublishStatus>>,
    /// Becomes `true` when the service stops: long polls return at once.
    pub(crate) stopping: tokio::sync::watch::Receiver<bool>,
}

/// Run the service until `shutdown` resolves: crawls on schedule, the HTTP
/// API on `options.listen`. On `shutdown` it stops accepting, lets the
/// pages in flight finish and be stored, flushes, and removes `serve.json`.
///
/// # Errors
/// [`Error::Io`] when the address cannot be bound or the token or
/// `serve.json` cannot be written; store errors of the crawls.
pub async fn serve(
    config: Config,
    store: Store,
    store_dir: &Path,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    // before anything opens a file: the limit the cap is taken from
    let limits = listen::Limits::from_open_files();
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|e| Error::Io {
            what: format!("listening on {}", options.listen),
            source: e,
        })?;
    let address = listener.local_addr().map_err(|e| Error::Io {
        what: "reading the bound address".to_owned(),
        source: e,
    })?;
    let token_file = options
        .token_file
        .clone()
        .unwrap_or_else(|| store_dir.join(TOKEN_FILE));
    let access = access::Access::new(&token_file, address.ip())?;
    let engine = Engine::new(&config)?;
    crate::crawl::priority::yield_to_readers();
    let (stop_tx, stopping) = tokio::sync::watch::channel(false);
    let (scheduler, triggers) = scheduler::Scheduler::new(&config, &store)?;
    // counted before the first crawl writes anything (see `counts`)
    let site_counts = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || counts::SiteCounts::scan(&store))
            .await
            .map_err(|e| Error::Io {
                what: "counting the store's pages".to_owned(),
                source: std::io::Error::other(e.to_string()),
            })??
    };
    let search = open_search(&store).await?;
    let indexing =
        tokio::spawn(Arc::clone(&search).follow(store.clone(), config.min_free, stopping.clone()));
    let publisher = config
        .publish
        .clone()
        .map(|settings| Publisher::new(settings, &format!("govsnap serve {address}")));
    let publish = publisher.as_ref().map(Publisher::status);
    let publishing = publisher
        .map(|p| tokio::spawn(p.follow(store.clone(), stopping.clone(), crate::publish::DRAIN)));
    let shared = Arc::new(Shared {
        store: store.clone(),
        config: Arc::new(config),
        status: scheduler.board(),
        access,
        metrics: metrics::Metrics::new(&store, publish.clone()),
        triggers,
        counts: std::sync::Mutex::new(site_counts),
        search,
        publish,
        stopping: stopping.clone(),
    });
    let serve_file = store_dir.join(SERVE_FILE);
    write_serve_file(
        &serve_file,
        &ServeFile {
            address: address.to_string(),
            pid: std::process::id(),
            token_file,
        },
    )?;
    tracing::info!(%address, open_reads = shared.access.open_reads(), "serving");
    let crawls = tokio::spawn(scheduler.run(Arc::clone(&shared), engine, stopping.clone()));
    let router = api::router(Arc::clone(&shared));
    let http = tokio::spawn(listen::serve(listener, router, limits, stopping.clone()));
    // a store that fails under the crawls stops the service (a supervisor
    // restarts it), rather than serving on with no crawls
    let mut crawls = crawls;
    let ended_early = tokio::select! {
        () = shutdown => None,
        ended = &mut crawls => Some(ended),
    };
    tracing::warn!("stopping: no new requests, finishing the pages in flight");
    let _ = stop_tx.send(true);
    let crawled = match ended_early {
        Some(ended) => ended,
        None => crawls.await,
    }
    .map_err(|e| Error::Io {
        what: "the scheduler".to_owned(),
        source: std::io::Error::other(e.to_string()),
    });
    let served = http.await;
    // the pages stored last are indexed, and published while NATS answers
    // within publish::DRAIN, before the store closes
    let _ = indexing.await;
    if let Some(publishing) = publishing {
        let _ = publishing.await;
    }
    let flushed = store.close();
    let _ = std::fs::remove_file(&serve_file);
    crawled??;
    flushed?;
    if let Ok(Err(e)) = served {
        return Err(Error::Io {
            what: "serving HTTP".to_owned(),
            source: e,
        });
    }
    tracing::info!("stopped");
    Ok(())
}

/// The store's search index, opened off the runtime's workers (a layout
/// from another build is rebuilt: that can take a while).
async fn open_search(store: &Store) -> Result<Arc<Search>> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || Search::open(&store))
        .await
        .map_err(|e| Error::Io {
            what: "opening the search index".to_owned(),
            source: std::io::Error::other(e.to_string()),
        })?
        .map(Arc::new)
}

/// `serve.json`, written whole or not at all (a reader never sees half).
fn write_serve_file(path: &Path, file: &ServeFile) -> Result<()> {
    let io = |e| Error::Io {
        what: format!("writing {}", path.display()),
        source: e,
    };
    let tmp = path.with_extension("json.tmp");
    let json = serde_json::to_vec_pretty(file).map_err(|e| io(std::io::Error::other(e)))?;
    std::fs::write(&tmp, json).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}
