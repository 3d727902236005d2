//! The values the store keeps, as JSON so that any downstream tool can read
//! them without this crate (see `docs/STORE.md`).

use crate::record::Record;
use serde::{Deserialize, Serialize};

/// Whether a page answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageStatus {
    /// The last fetch returned the page.
    Live,
    /// The last fetch answered 404 or 410.
    Gone,
}

/// A page's latest state (tree `pages`, key: the URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageState {
    /// The page's URL.
    pub url: String,
    /// The config site it belongs to, when known.
    pub site: Option<String>,
    /// How many versions the page has.
    pub versions: u32,
    /// How many events (versions and gone marks) its history has.
    pub events: u32,
    /// `live` or `gone`.
    pub state: PageStatus,
    /// When the page was first stored (RFC 3339).
    pub first_seen: String,
    /// When it was last fetched (RFC 3339).
    pub last_fetched: String,
    /// The HTTP status of the last fetch (200 for a saved file).
    pub last_status: u16,
    /// The content hash of the latest version.
    pub content_hash: Option<String>,
    /// `ETag` of the last response, for conditional requests.
    pub etag: Option<String>,
    /// `Last-Modified` of the last response, for conditional requests.
    pub last_modified: Option<String>,
    /// The page's id, in the order pages were first stored: its history
    /// and version index are keyed by it (schema 3). Absent for pages an
    /// older govsnap stored, whose keys start with the URL hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// The URL of the site's page this one is the same document as (same
    /// content hash, same title) when it was first fetched: an alias has
    /// no versions of its own (SPEC §8, "One page, one URL").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_of: Option<String>,
}

/// A page's last fetch (tree `fetched`, key: the page's id; schema 9). It
/// overrides these fields of the page's entry in `pages`, which hold them
/// as of the last write of the whole state: a fetch that finds the page
/// unchanged rewrites only this small value, in place, keyed by an
/// 8-byte id. Every page written since schema 9 has one, so that an
/// unchanged recrawl adds no entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct LastFetch {
    pub last_fetched: String,
    pub last_status: u16,
    /// The last response's validators, present only when they are not the
    /// `pages` entry's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validators: Option<Validators>,
}

/// A response's `ETag` and `Last-Modified`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Validators {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
}

impl LastFetch {
    /// `page`'s last fetch, to store beside `stored`, its `pages` entry.
    pub(super) fn of(page: &PageState, stored: &PageState) -> Self {
        let same = page.etag == stored.etag && page.last_modified == stored.last_modified;
        Self {
            last_fetched: page.last_fetched.clone(),
            last_status: page.last_status,
            validators: (!same).then(|| Validators {
                etag: page.etag.clone(),
                last_modified: page.last_modified.clone(),
            }),
        }
    }

    pub(super) fn apply(self, page: &mut PageState) {
        page.last_fetched = self.last_fetched;
        page.last_status = self.last_status;
        if let Some(v) = self.validators {
            page.etag = v.etag;
            page.last_modified = v.last_modified;
        }
    }
}

/// What happened to a page (tree `history`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A new version was stored.
    Version,
    /// The page answered 404/410.
    Gone,
    /// The page was found to be another URL's document (`alias_of`).
    Alias,
}

/// One event of a page's history (tree `history`, key: url hash ‖ seq).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// `version`, `gone` or `alias`.
    pub kind: EventKind,
    /// The version number, for versions.
    pub version: Option<u32>,
    /// When (RFC 3339).
    pub fetched_at: String,
    /// The HTTP status.
    pub status: u16,
    /// The version's content hash, for versions.
    pub content_hash: Option<String>,
    /// The version's title, for versions.
    pub title: Option<String>,
    /// The version's key in tree `versions`, for versions a schema-4
    /// govsnap stored (older versions are found through `version_ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<u64>,
    /// For an alias, the URL whose document this page is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias_of: Option<String>,
    /// For a gone mark, why when the status does not say it: `soft_404`
    /// (a 200 page that says the document does not exist), `redirect_home`
    /// (the page only sends the browser home or to a list), `moved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a move, the URL the document moved to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    /// For a gone mark made of a 200 page, the blake3 hash of the page's
    /// raw bytes, kept as evidence (read with `Store::raw_by_hash`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
}

/// One stored version (tree `versions`, key: url hash ‖ version); kept
/// without what its record's text gives back (`super::stored`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "super::stored::StoredVersion")]
pub struct Version {
    /// The page's URL.
    pub url: String,
    /// 1, 2, 3 … per page.
    pub version: u32,
    /// When it was fetched (RFC 3339).
    pub fetched_at: String,
    /// blake3 of the record's content fields (title, published, source,
    /// meta, attachments, sections), hex.
    pub content_hash: String,
    /// blake3 of the raw bytes, hex: the key of tree `raw`.
    pub raw_hash: String,
    /// The HTTP `Content-Type`, when there was one.
    pub content_type: Option<String>,
    /// blake3 of the response's head (status line and headers as
    /// received), hex: the key of tree `heads`; absent for a saved file and
    /// for versions stored before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The conditional header lines the request carried, when it carried
    /// any (`If-None-Match: …\r\nIf-Modified-Since: …\r\n`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional: Option<String>,
    /// Why the server's certificate was not valid when this version was
    /// fetched (a site's `tls = "lenient"`, SPEC §7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_invalid: Option<String>,
    /// The record.
    pub record: Record,
    /// For a file a page links (SPEC §11), its attachment record; `record`
    /// then holds its text as a page's, for the readers of every version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::record::AttachmentRecord>,
}

/// One fetch. Tree `fetch_log` is keyed by id; a value holds the entries
/// of one write as a JSON array (in a zstd frame when there are several).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchLogEntry {
    /// The URL fetched.
    pub url: String,
    /// When (RFC 3339).
    pub fetched_at: String,
    /// The HTTP status (200 for a saved file, 0 when no response came).
    pub status: u16,
    /// `new_version`, `unchanged`, `gone`, `error`.
    pub outcome: String,
    /// How long the request took, in milliseconds (0 for saved files).
    pub duration_ms: u64,
    /// The body size in bytes.
    pub bytes: u64,
    /// The request's method when it was not `GET` (`POST`: a list page a
    /// page's script asks for, SPEC §8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The request's body (a form), when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    /// blake3 of the response's raw bytes when the store kept them (read
    /// with `Store::raw_by_hash`): a jpage column's groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept: Option<String>,
    /// blake3 of the response's head when the store kept it (tree `heads`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// Why the server's certificate was not valid, when a site's
    /// `tls = "lenient"` fetched it anyway (SPEC §7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_invalid: Option<String>,
}

impl FetchLogEntry {
    /// The entry for a fetch with its outcome (`new_version`, `unchanged`,
    /// `gone`, `listing`, `not_modified`, `error` …).
    #[must_use]
    pub fn new(fetch: &super::Fetch<'_>, outcome: &str) -> Self {
        Self {
            url: fetch.url.to_owned(),
            fetched_at: super::timestamp(fetch.fetched_at),
            status: fetch.status,
            outcome: outcome.to_owned(),
            duration_ms: fetch.duration_ms,
            bytes: fetch.bytes.len() as u64,
            method: None,
            request_body: None,
            kept: None,
            head_hash: None,
            tls_invalid: fetch.tls_invalid.map(str::to_owned),
        }
    }

    /// The entry of a request made with `method` (`GET` is not written)
    /// and `body`.
    #[must_use]
    pub fn asked(mut self, method: &str, body: Option<&str>) -> Self {
        self.method = (method != "GET").then(|| method.to_owned());
        self.request_body = body.map(str::to_owned);
        self
    }
}
