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

/// Run a search in a blocking task.
pub(super) async fn run(shared: &Arc<Shared>, request: SearchRequest) -> Answer<SearchAnswer> {
    let shared = Arc::clone(shared);
    tokio::task::spawn_blocking(move || {
        shared
            .search
            .search(&shared.store, &request)
            .map_err(ApiError::from)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

pub(super) async fn search(
    State(shared): State<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Answer<Json<SearchAnswer>> {
    let request = request(&Params::parse(q.as_deref()))?;
    Ok(Json(run(&shared, request).await?))
}
