//! `GET /api/v1/search` (SPEC §13): the request's parameters checked into
//! a [`SearchRequest`], run off the runtime's workers. A query that cannot
//! run as written is a 400 that says why; the browse page `/search` reads
//! the same parameters.

use super::Shared;
use super::api::{Answer, ApiError};
use super::params::Params;
use crate::search::{SearchAnswer, SearchRequest};
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use std::sync::Arc;

/// The request a query string asks for.
pub(super) fn request(params: &Params) -> Answer<SearchRequest> {
    let bad = |name: &str, why: String| {
        ApiError::new(StatusCode::BAD_REQUEST, format!("parameter {name}: {why}"))
    };
    let query = params
        .get("q")
        .ok_or_else(|| bad("q", "missing: give the words to search for".to_owned()))?
        .to_owned();
    let limit = match params.get("limit") {
        None => 0,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => n.min(crate::search::MAX_HITS),
            _ => {
                return Err(bad(
                    "limit",
                    format!(
                        "{v:?} is not a number from 1 to {}",
                        crate::search::MAX_HITS
                    ),
                ));
            }
        },
    };
    let cursor = params
        .get("cursor")
        .map(|c| {
            c.parse()
                .map_err(|e: crate::Error| bad("cursor", e.to_string()))
        })
        .transpose()?;
    let all_versions = params.choice("versions", &["latest", "all"], "latest")? == "all";
    Ok(SearchRequest {
        query,
        site: params.get("site").map(str::to_owned),
        from: params.get("from").map(str::to_owned),
        to: params.get("to").map(str::to_owned),
        all_versions,
        limit,
        cursor,
    })
}

/// Searches run at once, at most; more wait their turn.
const SEARCHES_AT_ONCE: usize = 8;
static SEARCHES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(SEARCHES_AT_ONCE);

/// Run a search on a thread of its own. Not in the runtime's blocking
/// pool: a crawl keeps that pool busy extracting pages, and a search queued
/// behind them waited tens of milliseconds before it began (p99 126 ms at
/// 100,000 documents during a full-speed crawl); on its own thread it
/// shares the cores with them from the start.
pub(super) async fn run(shared: &Arc<Shared>, request: SearchRequest) -> Answer<SearchAnswer> {
    let _slot = SEARCHES
        .acquire()
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string()))?;
    let shared = Arc::clone(shared);
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("search".to_owned())
        .spawn(move || {
            let _ = tx.send(shared.search.search(&shared.store, &request));
        })
        .map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot start a search: {e}"),
            )
        })?;
    rx.await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(ApiError::from)
}

pub(super) async fn search(
    State(shared): State<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Answer<Json<SearchAnswer>> {
    let request = request(&Params::parse(q.as_deref()))?;
    Ok(Json(run(&shared, request).await?))
}
