//! The JSON API (SPEC §9): `/api/v1/…`, `/healthz`, `/metrics`.
//!
//! Every store read runs in a blocking task, off the runtime's workers
//! that drive the crawls, and reads a bounded slice: a listing scans at most
//! [`SCAN_CAP`] pages per request, an export streams slices through a small
//! channel, so no request holds memory that grows with the store.

use super::Shared;
use super::params::{MAX_LIMIT, Params, page_cursor};
use super::scheduler::Refused;
use crate::RecordDiff;
use crate::record::diff::unified_text;
use crate::record::render;
use crate::store::{CrawlRecord, PageState, PageStatus, Store, Version, timestamp};
use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::{Arc, PoisonError};

/// Pages one listing request looks at, at most, whatever its filter
/// matches: a filter that matches few pages answers with fewer than
/// `limit` and a `next_cursor`, rather than scanning the whole store.
const SCAN_CAP: usize = 20 * MAX_LIMIT;
/// Versions an export reads per slice (one blocking task each).
const EXPORT_SLICE: usize = 256;

/// An error answer: its status and `{"error": message}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        if let crate::Error::Query(_) = e {
            return Self::new(StatusCode::BAD_REQUEST, e.to_string());
        }
        tracing::error!(error = %e, "store read failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

pub(crate) type Answer<T> = Result<T, ApiError>;

/// The API's routes, behind the token check and the request counter.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/sites", get(sites))
        .route("/api/v1/sites/{name}/crawl", post(crawl))
        .route("/api/v1/pages", get(pages))
        .route("/api/v1/history", get(history))
        .route("/api/v1/record", get(record))
        .route("/api/v1/raw", get(raw))
        .route("/api/v1/diff", get(diff))
        .route("/api/v1/changes", get(changes))
        .route("/api/v1/export", get(export))
        .route("/api/v1/search", get(super::search::search))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .merge(super::browse::routes())
        .fallback(|| async {
            ApiError::not_found("no such path: the API is under /api/v1/ (see SPEC §9)")
        })
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            super::access::check,
        ))
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), count))
        .with_state(shared)
}

/// Count every answer by status, refusals included.
async fn count(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    shared.metrics.answered(response.status().as_u16());
    response
}

/// Run a store read off the runtime's workers.
pub(crate) async fn read<T: Send + 'static>(
    shared: &Shared,
    f: impl FnOnce(&Store) -> Answer<T> + Send + 'static,
) -> Answer<T> {
    let store = shared.store.clone();
    tokio::task::spawn_blocking(move || f(&store))
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// A configured site as `GET /api/v1/sites` and the browse pages show it.
#[derive(Debug, Serialize)]
pub(crate) struct SiteRow {
    pub(crate) name: String,
    pub(crate) pages: u64,
    pub(crate) documents: u64,
    pub(crate) gone: u64,
    pub(crate) schedule: Option<String>,
    pub(crate) crawling: bool,
    pub(crate) last_crawl: Option<CrawlRecord>,
    pub(crate) next_crawl: Option<String>,
    pub(crate) last_error: Option<String>,
    /// When a crawl that could not reach the site is tried again (then
    /// also `next_crawl`); `null` when the site was reached.
    pub(crate) retry_at: Option<String>,
    /// Crawls in a row that could not reach the site.
    pub(crate) unreached: u32,
    /// The site's `tls`: `"verify"` or `"lenient"`.
    pub(crate) tls: &'static str,
    /// Why the site's certificate was not valid in its last crawl, when
    /// `tls = "lenient"` archived it anyway (SPEC §7).
    pub(crate) tls_invalid: Option<String>,
    /// With `[publish]`: the site's changes NATS has not acknowledged yet
    /// (SPEC §14); absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) publish_lag: Option<u64>,
}

/// Every configured site, in config order.
pub(crate) async fn site_rows(shared: &Arc<Shared>) -> Answer<Vec<SiteRow>> {
    let names: Vec<String> = shared.config.sites.iter().map(|s| s.name.clone()).collect();
    let (records, counts, lag) = {
        let shared = Arc::clone(shared);
        read(&Arc::clone(&shared), move |store| {
            let records = names
                .iter()
                .map(|n| store.crawl_record(n).map_err(ApiError::from))
                .collect::<Answer<Vec<_>>>()?;
            let lag = match shared.publish {
                Some(_) => Some(crate::publish::lag_by_site(store)?),
                None => None,
            };
            let mut counts = shared.counts.lock().unwrap_or_else(PoisonError::into_inner);
            counts.catch_up(store)?;
            let counts: Vec<_> = names.iter().map(|n| counts.get(n)).collect();
            Ok((records, counts, lag))
        })
        .await?
    };
    Ok(shared
        .config
        .sites
        .iter()
        .zip(records.into_iter().zip(counts))
        .map(|(site, (last_crawl, counts))| {
            let status = shared.status.get(&site.name).unwrap_or_default();
            let tls_invalid = last_crawl
                .as_ref()
                .and_then(|c| c.summary.as_ref()?.get("tls_invalid")?.as_str())
                .map(str::to_owned);
            SiteRow {
                publish_lag: lag
                    .as_ref()
                    .map(|lag| lag.get(&site.name).copied().unwrap_or(0)),
                tls: match site.tls {
                    crate::config::Tls::Verify => "verify",
                    crate::config::Tls::Lenient => "lenient",
                },
                tls_invalid,
                name: site.name.clone(),
                pages: counts.pages,
                documents: counts.documents,
                gone: counts.gone,
                schedule: site.schedule.as_ref().map(ToString::to_string),
                crawling: status.crawling,
                last_crawl,
                next_crawl: status.next_crawl.map(timestamp),
                last_error: status.last_error,
                retry_at: status.retry_at.map(timestamp),
                unreached: status.unreached,
            }
        })
        .collect())
}

async fn sites(State(shared): State<Arc<Shared>>) -> Answer<Json<Vec<SiteRow>>> {
    Ok(Json(site_rows(&shared).await?))
}

async fn crawl(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Answer<Response> {
    let params = Params::parse(q.as_deref());
    let full = params.choice("full", &["true", "false"], "false")? == "true";
    start_crawl(&shared, &name, full)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "site": name, "crawling": true, "full": full })),
    )
        .into_response())
}

/// `Ok` when the config has a site `name`, else a 404 that says so.
pub(crate) fn configured(shared: &Shared, name: &str) -> Answer<()> {
    match shared.config.site(name) {
        Ok(_) => Ok(()),
        Err(_) => Err(unknown_site(name)),
    }
}

fn unknown_site(name: &str) -> ApiError {
    ApiError::not_found(format!("the config has no site named {name:?}"))
}

/// Ask the scheduler for a crawl of `name` now (`full`: revisiting every
/// known document); 409 while one runs, 404 for a site the config lacks.
pub(crate) fn start_crawl(shared: &Shared, name: &str, full: bool) -> Answer<()> {
    shared
        .triggers
        .request(name, full)
        .map_err(|refused| match refused {
            Refused::Running => ApiError::new(
                StatusCode::CONFLICT,
                format!("a crawl of {name} is running: it continues; ask again when it has ended"),
            ),
            Refused::Unknown => unknown_site(name),
        })
}

/// A page with when its site's crawl next fetches it, as `govsnap pages
/// --format json` prints it.
fn page_json(store: &Store, page: &PageState) -> Answer<Value> {
    let mut value = serde_json::to_value(page).map_err(|e| crate::Error::Io {
        what: "encoding a page".to_owned(),
        source: std::io::Error::other(e),
    })?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("next_due".to_owned(), store.next_due(page)?.into());
    }
    Ok(value)
}

async fn pages(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Answer<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let limit = params.limit()?;
    let after = params.page_cursor()?;
    let site = params.get("site").map(str::to_owned);
    let state = match params.choice("state", &["live", "gone", "any"], "any")? {
        "live" => Some(PageStatus::Live),
        "gone" => Some(PageStatus::Gone),
        _ => None,
    };
    read(&shared, move |store| {
        let mut out = Vec::new();
        let mut last = None;
        let mut more = false;
        for (scanned, page) in store.pages_after(after.as_deref()).enumerate() {
            if out.len() == limit || scanned == SCAN_CAP {
                more = true;
                break;
            }
            let page = page?;
            if site.as_ref().is_none_or(|s| page.site.as_ref() == Some(s))
                && state.is_none_or(|s| page.state == s)
            {
                out.push(page_json(store, &page)?);
            }
            last = Some(page.url);
        }
        let next_cursor = last.filter(|_| more).map(|u| page_cursor(&u));
        Ok(Json(json!({ "pages": out, "next_cursor": next_cursor })))
    })
    .await
}

/// The page at `url`, or a 404 that says how to find the store's URLs.
pub(crate) fn known(store: &Store, url: &str) -> Answer<PageState> {
    store.page(url)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "the store has no page {url}: /api/v1/pages lists the URLs it has"
        ))
    })
}

/// Version `n` of a page (`None`: the latest).
pub(crate) fn version_of(store: &Store, url: &str, n: Option<u32>) -> Answer<Version> {
    let page = known(store, url)?;
    let n = n.unwrap_or(page.versions);
    store.version(url, n)?.ok_or_else(|| {
        ApiError::not_found(format!(
            "{url} has no version {n} (it has {})",
            page.versions
        ))
    })
}

async fn history(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Answer<Json<Value>> {
    let url = Params::parse(q.as_deref()).url()?;
    read(&shared, move |store| {
        let page = known(store, &url)?;
        let events = store.history(&url)?;
        Ok(Json(
            json!({ "page": page_json(store, &page)?, "events": events }),
        ))
    })
    .await
}

async fn record(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Answer<Response> {
    let params = Params::parse(q.as_deref());
    let (url, n) = (params.url()?, params.version("version")?);
    let format = params
        .choice("format", &["json", "text", "markdown"], "json")?
        .to_owned();
    let version = read(&shared, move |store| version_of(store, &url, n)).await?;
    let r = &version.record;
    let (body, content_type) = match format.as_str() {
        "text" => (render::text(r), "text/plain; charset=utf-8"),
        "markdown" => (render::markdown(r), "text/markdown; charset=utf-8"),
        // a file's own record (SPEC §11)
        _ => (
            match &version.attachment {
                Some(a) => serde_json::to_string_pretty(a),
                None => serde_json::to_string_pretty(r),
            }
            .unwrap_or_default(),
            "application/json",
        ),
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// Bytes of a raw download read at a time.
const RAW_CHUNK: usize = 256 * 1024;

async fn raw(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Answer<Response> {
    let params = Params::parse(q.as_deref());
    let (url, n) = (params.url()?, params.version("version")?);
    let (version, mut reader) = read(&shared, move |store| {
        let version = version_of(store, &url, n)?;
        let reader = store.raw_reader(&version)?.ok_or_else(|| {
            ApiError::not_found(format!(
                "the raw bytes of {url} v{} are not stored",
                version.version
            ))
        })?;
        Ok((version, reader))
    })
    .await?;
    // read a buffer at a time on a blocking thread: a file of hundreds of
    // MB goes out as it is decompressed, never whole in memory
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut chunk = vec![0; RAW_CHUNK];
            match std::io::Read::read(&mut reader, &mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        return; // the client went away
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let bytes = Body::from_stream(tokio_stream(rx));
    let content_type = version
        .content_type
        .as_deref()
        .and_then(|c| HeaderValue::from_str(c).ok())
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // a file downloads under its own name; a page as its version
    let disposition = match version.attachment.as_ref().and_then(|a| a.name.as_deref()) {
        Some(name) => format!(
            "attachment; filename=\"v{}.{}\"; filename*=UTF-8''{}",
            version.version,
            name.rsplit_once('.').map_or("bin", |(_, ext)| ext),
            percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
        ),
        None => format!("attachment; filename=\"v{}.html\"", version.version),
    };
    let mut response = Response::new(bytes);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    // an archived page's scripts must never run on the service's origin
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
    Ok(response)
}

async fn diff(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Answer<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let url = params.url()?;
    let (from, to) = (params.version("from")?, params.version("to")?);
    read(&shared, move |store| {
        let page = known(store, &url)?;
        let to = to.unwrap_or(page.versions);
        let from = from.unwrap_or(to.saturating_sub(1));
        if from == 0 {
            return Err(ApiError::not_found(format!(
                "{url} has only version {to}: there is nothing to compare it with"
            )));
        }
        let (old, new) = (
            version_of(store, &url, Some(from))?,
            version_of(store, &url, Some(to))?,
        );
        let diff = RecordDiff::between(&old.record, &new.record);
        let text = unified_text(
            &old.record.text,
            &new.record.text,
            &format!("{url} v{from} ({})", old.fetched_at),
            &format!("{url} v{to} ({})", new.fetched_at),
        );
        Ok(Json(
            json!({ "from": from, "to": to, "meta": diff.fields, "text": text }),
        ))
    })
    .await
}

async fn changes(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Answer<Json<Value>> {
    let params = Params::parse(q.as_deref());
    let since = params.change_cursor("since")?;
    let limit = params.limit()?;
    let deadline = tokio::time::Instant::now() + params.wait()?;
    // subscribed before the read: a commit between the read and the wait
    // still wakes it
    let mut woken = shared.store.subscribe();
    let mut stopping = shared.stopping.clone();
    loop {
        let found = read(&shared, move |store| Ok(store.changes(since, limit)?)).await?;
        if !found.is_empty() || tokio::time::Instant::now() >= deadline {
            let next_cursor = found.last().map(|(c, _)| *c).or(since);
            let changes: Vec<Value> = found
                .into_iter()
                .map(|(cursor, c)| {
                    json!({
                        "cursor": cursor.to_string(),
                        "kind": c.kind_name(),
                        "url": c.url,
                        "site": c.site,
                        "version": c.version,
                        "fetched_at": c.fetched_at,
                        "title": c.title,
                    })
                })
                .collect();
            return Ok(Json(json!({
                "changes": changes,
                "next_cursor": next_cursor.map(|c| c.to_string()),
            })));
        }
        tokio::select! {
            changed = woken.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            () = tokio::time::sleep_until(deadline) => {}
            _ = stopping.wait_for(|s| *s) => break,
        }
    }
    Ok(Json(
        json!({ "changes": [], "next_cursor": since.map(|c| c.to_string()) }),
    ))
}

async fn export(State(shared): State<Arc<Shared>>, RawQuery(q): RawQuery) -> Answer<Response> {
    let since = Params::parse(q.as_deref()).since()?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(2);
    let store = shared.store.clone();
    // one blocking task per slice would re-check `since` each time; one task
    // that walks the feed and waits on the channel keeps memory at two
    // slices, however large the store
    tokio::task::spawn_blocking(move || {
        let (mut after, from_time) = crate::store::Since::start(since.as_ref());
        loop {
            let slice = match store.export_slice(after, from_time, EXPORT_SLICE) {
                Ok(slice) => slice,
                Err(e) => {
                    let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                    return;
                }
            };
            let mut chunk = Vec::new();
            for line in slice.lines {
                chunk.extend_from_slice(line.as_bytes());
                chunk.push(b'\n');
            }
            if !chunk.is_empty() && tx.blocking_send(Ok(chunk)).is_err() {
                return; // the client went away
            }
            match slice.next {
                Some(next) => after = Some(next),
                None => return,
            }
        }
    });
    let body = Body::from_stream(tokio_stream(rx));
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// A channel's receiver as a stream of body chunks.
fn tokio_stream(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn metrics(State(shared): State<Arc<Shared>>) -> Response {
    let text = read(&shared, {
        let shared = Arc::clone(&shared);
        move |_| Ok(shared.metrics.encode())
    })
    .await
    .unwrap_or_default();
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
