//! Browse pages for people (SPEC §9, issue 13), on the service's own
//! address: `/` the sites, `/site/NAME` a site's documents by their latest
//! change, `/page?url=` a document's record and its versions, `/diff` what
//! changed between two versions, `/changes` the latest changes everywhere,
//! `/search?q=` full-text search (SPEC §13), and Atom feeds of the latest
//! changes (`/changes.atom`, `/site/NAME/feed.atom`: `feed`).
//!
//! Server-rendered HTML (the templates are in `views`), no script, one
//! stylesheet from the binary, nothing loaded from elsewhere. Every list
//! walks the changes feed newest first in bounded slices and stops at a page
//! of rows, so a page costs the same with a hundred documents or a hundred
//! thousand. The raw snapshot is only a download link to the API's `raw`
//! (attachment, sandboxed): an archived page never renders on this origin.

mod feed;
mod search_view;
mod views;

use super::Shared;
use super::api::{Answer, ApiError, known, read, site_rows, version_of};
use super::params::Params;
use crate::RecordDiff;
use crate::store::{Change, ChangeCursor, EventKind, PageState, PageStatus, Store};
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::Markup;
use std::sync::Arc;

/// Rows on one page of a list.
const PER_PAGE: usize = 50;
/// Changes a list page reads at most, however few of them it shows (a
/// filter that matches little shows what it found and an "older" link).
const SCAN_CAP: usize = 20_000;
/// Changes read per slice of the feed.
const SLICE: usize = 500;

const STYLE: &str = include_str!("style.css");

/// An error, as a page for people.
struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        Self(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        (
            self.0.status,
            views::error(self.0.status.as_u16(), &self.0.message),
        )
            .into_response()
    }
}

type Shown = Result<Markup, PageError>;

/// The site page's crawl form.
#[derive(serde::Deserialize)]
struct CrawlForm {
    token: String,
    #[serde(default)]
    full: Option<String>,
}

/// `POST /site/NAME/crawl` from the site page's form: the token comes in
/// the form, not a header ([`super::access`] leaves this one to it).
async fn crawl(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    axum::Form(form): axum::Form<CrawlForm>,
) -> Shown {
    if !shared.access.token_is(&form.token) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the token is not the service's: it is in the file serve.json names",
        )
        .into());
    }
    let full = form.full.as_deref() == Some("true");
    super::api::start_crawl(&shared, &name, full)?;
    Ok(views::crawl_started(&name, full))
}

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(home))
        .route("/site/{name}", get(site))
        .route("/site/{name}/crawl", axum::routing::post(crawl))
        .route("/page", get(page))
        .route("/diff", get(diff))
        .route("/changes", get(changes))
        .route("/changes.atom", get(feed::changes))
        .route("/site/{name}/feed.atom", get(feed::site))
        .route("/search", get(search))
        .route("/style.css", get(style))
}

async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

async fn home(State(shared): State<Arc<Shared>>) -> Shown {
    // under `[store] min_free` the archivist is told before crawls pause
    let min_free = shared.config.min_free;
    let low = shared
        .store
        .free_bytes()
        .filter(|free| min_free > 0 && *free < min_free)
        .map(|free| (free, min_free));
    Ok(views::home(&site_rows(&shared).await?, low))
}

/// Whether `change` is its page's latest event: a list by latest change
/// shows each page once, at its newest change.
fn is_latest(page: &PageState, change: &Change) -> bool {
    let latest_version = change.version == Some(page.versions);
    match change.kind {
        EventKind::Version => latest_version && page.state == PageStatus::Live,
        EventKind::Gone => latest_version && page.state == PageStatus::Gone,
        // aliases make no change (they have no versions)
        EventKind::Alias => false,
    }
}

/// Walk the feed newest first from `before`, keeping up to [`PER_PAGE`]
/// changes that `keep` accepts; returns them and where an "older" page
/// starts (`None`: the feed has nothing older).
fn newest(
    store: &Store,
    before: Option<ChangeCursor>,
    mut keep: impl FnMut(&Change) -> Answer<bool>,
) -> Answer<(Vec<Change>, Option<ChangeCursor>)> {
    let (mut rows, mut cursor, mut scanned) = (Vec::new(), before, 0);
    loop {
        let slice = store.changes_before(cursor, SLICE)?;
        let exhausted = slice.len() < SLICE;
        for (c, mut change) in slice {
            scanned += 1;
            cursor = Some(c);
            if keep(&change)? {
                // a gone mark carries no title: a person knows the page by
                // its last one, not by its URL
                if change.kind == EventKind::Gone && change.title.is_none() {
                    change.title = last_title(store, &change)?;
                }
                rows.push(change);
            }
            if rows.len() == PER_PAGE || scanned == SCAN_CAP {
                return Ok((rows, cursor));
            }
        }
        if exhausted {
            return Ok((rows, None));
        }
    }
}

/// The title of the version a gone mark closes.
fn last_title(store: &Store, gone: &Change) -> Answer<Option<String>> {
    let Some(n) = gone.version.filter(|&n| n > 0) else {
        return Ok(None);
    };
    Ok(store.version(&gone.url, n)?.and_then(|v| v.record.title))
}

async fn site(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
) -> Shown {
    super::api::configured(&shared, &name)?;
    let params = Params::parse(query.as_deref());
    let before = params.change_cursor("before")?;
    let filter = params.get("q").unwrap_or("").trim().to_owned();
    let (site_name, needle) = (name.clone(), filter.to_lowercase());
    let (rows, older) = read(&shared, move |store| {
        newest(store, before, |c| {
            if c.site.as_deref() != Some(site_name.as_str()) {
                return Ok(false);
            }
            let matches = needle.is_empty()
                || c.url.to_lowercase().contains(&needle)
                || c.title
                    .as_deref()
                    .is_some_and(|t| t.to_lowercase().contains(&needle));
            Ok(matches && store.page(&c.url)?.is_some_and(|p| is_latest(&p, c)))
        })
    })
    .await?;
    // a page that ends exactly at the end of the feed offers no empty page
    let older = older.filter(|_| rows.len() == PER_PAGE || rows.is_empty());
    Ok(views::site(&name, &filter, &rows, older))
}

async fn changes(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Shown {
    let before = Params::parse(query.as_deref()).change_cursor("before")?;
    let (rows, older) = read(&shared, move |store| newest(store, before, |_| Ok(true))).await?;
    Ok(views::changes(&rows, older))
}

async fn page(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Shown {
    let params = Params::parse(query.as_deref());
    let (url, n) = (params.url()?, params.version("version")?);
    let (page, events, version, files) = read(&shared, move |store| {
        let page = known(store, &url)?;
        let version = version_of(store, &url, n)?;
        let mut files = Vec::new();
        for a in &version.record.attachments {
            files.push(archived_file(store, &a.url)?);
        }
        Ok((page, store.history(&url)?, version, files))
    })
    .await?;
    Ok(views::document(&views::PageView {
        page: &page,
        events: &events,
        version: version.version,
        fetched_at: &version.fetched_at,
        record: &version.record,
        files: &files,
        attachment: version.attachment.as_ref(),
    }))
}

/// What the store holds of a file a page links: its page (an alias's
/// document's), versions, and its latest attachment record.
fn archived_file(store: &crate::Store, url: &str) -> crate::Result<Option<views::ArchivedFile>> {
    let Some(mut page) = store.page(url)? else {
        return Ok(None);
    };
    if let (Some(of), 0) = (page.alias_of.clone(), page.versions) {
        match store.page(&of)? {
            Some(first) => page = first,
            None => return Ok(None),
        }
    }
    let record = store.latest(&page.url)?.and_then(|v| v.attachment);
    Ok(record.map(|record| views::ArchivedFile {
        url: page.url,
        versions: page.versions,
        record,
    }))
}

async fn diff(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Shown {
    let params = Params::parse(query.as_deref());
    let url = params.url()?;
    let (from, to) = (params.version("from")?, params.version("to")?);
    let (page, old, new) = read(&shared, move |store| {
        let page = known(store, &url)?;
        let to = to.unwrap_or(page.versions);
        let from = from.unwrap_or(to.saturating_sub(1));
        if from == 0 || from == to {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("{url} has only version {to}: there is nothing to compare it with"),
            ));
        }
        let (old, new) = (
            version_of(store, &url, Some(from))?,
            version_of(store, &url, Some(to))?,
        );
        Ok((page, old, new))
    })
    .await?;
    let diff = RecordDiff::between(&old.record, &new.record);
    let title = new.record.title.as_deref().unwrap_or(&page.url);
    Ok(views::diff(&views::DiffView {
        page: &page,
        title,
        from: (old.version, &old.fetched_at),
        to: (new.version, &new.fetched_at),
        fields: &diff.fields,
        hunks: &diff.hunks,
    }))
}

/// `/search`: the form alone, or with the hits of `q`. A query that cannot
/// run is said on the page (400), with the form to correct it.
async fn search(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::parse(query.as_deref());
    if params.get("q").is_none() {
        return search_view::results(&crate::search::SearchRequest::default(), None)
            .into_response();
    }
    let request = match super::search::request(&params) {
        Ok(r) => r,
        Err(e) => return PageError(e).into_response(),
    };
    match super::search::run(&shared, request.clone()).await {
        Ok(answer) => search_view::results(&request, Some(&answer)).into_response(),
        Err(e) => PageError(e).into_response(),
    }
}
