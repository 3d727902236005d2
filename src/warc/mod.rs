//! WARC (ISO 28500), the web archive's exchange format (SPEC §10): what
//! Heritrix, `wget --warc-file`, Browsertrix and pywb write and read.
//!
//! Writing: [`write::Writer`] writes records, one gzip member each, and
//! [`write_version`] a stored version as its `response`, `request` and
//! `metadata` records (`govsnap export --format warc`).
//!
//! Reading: [`Reader`] walks a WARC file's records in one pass, plain
//! or gzip per record, skipping (and reporting) a record that is cut short
//! or corrupt; [`capture`] turns a `response` or `revisit` record into what
//! the pipeline takes — the URL, the capture time (`WARC-Date`), the HTTP
//! status, the headers and the decoded body. `govsnap ingest FILE.warc.gz`
//! puts them into the store through the same pipeline as a crawl.
//!
//! No WARC crate is used: the ones on crates.io are unmaintained or read
//! whole files; the framing is a header block and a length, written here,
//! while gzip (flate2), HTTP (httparse) and brotli come from kept crates.

pub mod arc;
mod http;
mod order;
mod read;
pub mod wacz;
pub mod write;

pub use http::Response;
pub use order::{Plan, plan, record_at};
pub use read::{Item, MAX_BLOCK, Reader, Record};

use std::fmt::Write as _;
use std::time::SystemTime;

/// The value of a named field (WARC) or header (HTTP): names compare
/// without case, the first one wins.
fn named<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A record's `WARC-Date`, or why there is none to read.
fn warc_date(record: &Record) -> Result<SystemTime, String> {
    let date = record
        .field("WARC-Date")
        .ok_or("the record has no WARC-Date")?;
    humantime::parse_rfc3339_weak(date.trim_end_matches('Z'))
        .or_else(|_| humantime::parse_rfc3339(date))
        .map_err(|e| format!("WARC-Date {date:?}: {e}"))
}

/// When a capture was made: its `WARC-Date`; when that is malformed (a
/// known `ClueWeb09` quirk: `2008-10-294T05:21:46-0700`) the HTTP `Date`,
/// then the file's own date, with a warning; never no date.
fn capture_date(
    record: &Record,
    http_date: Option<&str>,
    file_date: impl FnOnce() -> Option<SystemTime>,
    warnings: &mut Vec<String>,
) -> Result<SystemTime, String> {
    let why = match warc_date(record) {
        Ok(date) => return Ok(date),
        Err(why) => why,
    };
    let from_http = http_date
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d.trim()).ok())
        .and_then(|d| u64::try_from(d.timestamp()).ok())
        .map(|secs| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    if let Some(date) = from_http {
        warnings.push(format!("{why}: the HTTP Date is taken instead"));
        return Ok(date);
    }
    match file_date() {
        Some(date) => {
            warnings.push(format!("{why}: the file's date is taken instead"));
            Ok(date)
        }
        None => Err(why),
    }
}

/// Whether a record may hold a capture: a `response`, `revisit` or
/// `resource` of an HTTP(S) URL.
fn may_capture(record: &Record) -> bool {
    matches!(record.kind().as_str(), "response" | "revisit" | "resource")
        && record
            .target()
            .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"))
}

/// A capture of a page, from a `response` or `revisit` record.
#[derive(Debug, Clone)]
pub struct Capture {
    /// `WARC-Target-URI`.
    pub url: String,
    /// `WARC-Date`.
    pub fetched_at: SystemTime,
    /// `revisit`: the page was found unchanged (its body is not in the
    /// record); `response`: the body is here.
    pub revisit: bool,
    /// The HTTP response (for a revisit, its status and headers only).
    pub response: Response,
    /// What did not go as the record said: a body taken as stored, a date
    /// taken from elsewhere.
    pub warnings: Vec<String>,
}

/// The capture a record holds, if it is a `response` or `revisit` of an
/// HTTP(S) URL, or a `resource` record of one (a body without an HTTP
/// head, as Webrecorder and warcio write pages); `Ok(None)` for every
/// other record. `file_date` gives the date to fall back on when neither
/// the record nor its response has one that reads (asked only then).
///
/// # Errors
/// Why a record cannot be read as a capture (no date at all, a block that
/// is not HTTP).
pub fn capture(
    record: &Record,
    file_date: impl FnOnce() -> Option<SystemTime>,
) -> Result<Option<Capture>, String> {
    let kind = record.kind();
    let revisit = match kind.as_str() {
        "response" | "resource" => false,
        "revisit" => true,
        _ => return Ok(None),
    };
    let Some(url) = record
        .target()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return Ok(None);
    };
    let content_type = record.field("Content-Type");
    let is_http =
        content_type.is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/http"));
    if url::Url::parse(url).is_ok_and(|u| crate::crawl::jpage::is_proxy(&u)) {
        // a jpage column's group: a list page, never a document
        return Ok(None);
    }
    let declared: u64 = record
        .field("Content-Length")
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    if declared > MAX_BLOCK {
        // its block was read past, never held: named, not stored
        return Err(format!(
            "a record of {declared} bytes, over the {} MiB a capture is read to: skipped",
            MAX_BLOCK >> 20
        ));
    }
    let response = if kind == "resource" {
        // the block is the body; the record's type is its type
        Response {
            status: 200,
            headers: content_type
                .map(|ct| vec![("Content-Type".to_owned(), ct.to_owned())])
                .unwrap_or_default(),
            head: String::new(),
            body: record.block.clone(),
            warnings: Vec::new(),
        }
    } else if !is_http {
        return Ok(None); // e.g. a DNS response
    } else if revisit && record.block.is_empty() {
        Response {
            status: 200,
            headers: Vec::new(),
            head: String::new(),
            body: Vec::new(),
            warnings: Vec::new(),
        }
    } else {
        http::parse(&record.block)?
    };
    let mut warnings = response.warnings.clone();
    let fetched_at = capture_date(record, response.header("Date"), file_date, &mut warnings)?;
    Ok(Some(Capture {
        url: url.to_owned(),
        fetched_at,
        revisit,
        response,
        warnings,
    }))
}

/// The metadata record's field that says why the certificate of the
/// version's fetch was not valid (SPEC §7's `tls = "lenient"`).
pub const TLS_INVALID_FIELD: &str = "Govsnap-TLS-Invalid";

/// Write a version as WARC records: its `response` (the head as received,
/// made to fit the stored body, see [`write::http_head`]), the `request`
/// govsnap sent for it (`WARC-Concurrent-To` the response), and a
/// `metadata` record with the govsnap record as JSON (`WARC-Refers-To` the
/// response, SPEC §10).
///
/// # Errors
/// When the store cannot be read or `out` fails.
pub fn write_version<W: std::io::Write>(
    out: &mut write::Writer<W>,
    store: &crate::Store,
    version: &crate::store::Version,
    user_agent: &str,
) -> crate::Result<Indexed> {
    let io = |e: std::io::Error| crate::Error::Io {
        what: "writing the WARC".to_owned(),
        source: e,
    };
    let head = store.head(version)?;
    let what = format!("{}\n{}", version.url, version.version);
    let response_id = write::record_id("response", &what);
    // WARC dates are UTC with a Z; the store's have milliseconds, which
    // WARC 1.1 allows
    let date = version.fetched_at.as_str();
    let conditional = version.conditional.as_deref().unwrap_or_default();
    let request = request_block("GET", &version.url, user_agent, conditional, None);
    let content_type = version.content_type.as_deref();
    let (placed, payload) = if let Some(file) = &version.attachment {
        // a file may be hundreds of MB: its body is read as a stream, twice
        let http = write::http_head(head.as_deref(), content_type, to_usize(file.bytes));
        let body = || {
            store
                .raw_reader(version)
                .map_err(std::io::Error::other)?
                .ok_or_else(|| std::io::Error::other("its raw bytes are not stored"))
        };
        let block = write::Block::Stream {
            head: http.as_bytes(),
            body: &body,
        };
        // read once for the digests, once more to be written
        let (digested, payload) = block.digests().map_err(io)?;
        let placed = exchange(
            out,
            &version.url,
            date,
            &what,
            (&block, &digested, &payload),
            &request,
        )
        .map_err(io)?;
        (placed, payload)
    } else {
        let body = store.raw(version)?.unwrap_or_default();
        let mut block = write::http_head(head.as_deref(), content_type, body.len()).into_bytes();
        block.extend_from_slice(&body);
        let payload = write::digest(&body);
        let digested = write::Digested::of(&block);
        let block = write::Block::Bytes(&block);
        let placed = exchange(
            out,
            &version.url,
            date,
            &what,
            (&block, &digested, &payload),
            &request,
        )
        .map_err(io)?;
        (placed, payload)
    };
    // a file's own record (SPEC §11), else the page's
    let record = match &version.attachment {
        Some(attachment) => serde_json::to_vec(attachment),
        None => serde_json::to_vec(&version.record),
    }
    .map_err(|e| io(std::io::Error::other(e)))?;
    // under a URI of its own: a replay tool that indexes metadata records
    // (pywb does) would otherwise find it at the page's URL and time and
    // serve it for the page (SPEC §12); it names its response by id, URI
    // and date
    let record_id = write::record_id("metadata", &what);
    let uri = record_uri(&version.url);
    let mut fields = vec![
        ("WARC-Type", "metadata"),
        ("WARC-Record-ID", record_id.as_str()),
        ("WARC-Date", date),
        ("WARC-Target-URI", uri.as_str()),
        ("WARC-Refers-To", response_id.as_str()),
        ("WARC-Refers-To-Target-URI", version.url.as_str()),
        ("WARC-Refers-To-Date", date),
    ];
    // a fetch whose certificate was not valid (a site's `tls = "lenient"`,
    // SPEC §7) says why beside the record, which stays the record
    if let Some(why) = &version.tls_invalid {
        fields.push((TLS_INVALID_FIELD, why.as_str()));
    }
    fields.push(("Content-Type", "application/json"));
    out.record(&fields, &record).map_err(io)?;
    let status = head
        .as_deref()
        .and_then(|h| h.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(200);
    Ok(Indexed {
        url: version.url.clone(),
        date: date.to_owned(),
        status,
        mime: content_type.map_or_else(|| "unk".to_owned(), crate::decode::media_type),
        digest: payload,
        placed,
        title: version.record.title.clone(),
        attachment: version.attachment.is_some(),
    })
}

/// A version's `response` record as an index lists it (CDXJ, SPEC §12's
/// WACZ): what a replay tool looks it up by, and where it is.
#[derive(Debug, Clone)]
pub struct Indexed {
    /// The page's URL.
    pub url: String,
    /// `WARC-Date`.
    pub date: String,
    /// The HTTP status.
    pub status: u16,
    /// The media type (`unk` when the store has none).
    pub mime: String,
    /// The payload's digest, `sha1:BASE32`.
    pub digest: String,
    /// The record's gzip member.
    pub placed: write::Placed,
    /// The record's title, for a WACZ's page list.
    pub title: Option<String>,
    /// Whether it is a file's (SPEC §11), not a page's.
    pub attachment: bool,
}

/// The request govsnap sent for a URL: its method, the conditional
/// headers it carried (versions stored before they were kept have none),
/// and a form it posted.
fn request_block(
    method: &str,
    url: &str,
    user_agent: &str,
    conditional: &str,
    form: Option<&str>,
) -> String {
    let parsed = url::Url::parse(url).ok();
    let host = parsed
        .as_ref()
        .and_then(|u| {
            u.host_str().map(|h| {
                u.port()
                    .map_or_else(|| h.to_owned(), |p| format!("{h}:{p}"))
            })
        })
        .unwrap_or_default();
    let path = parsed.as_ref().map_or_else(
        || "/".to_owned(),
        |u| match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
    );
    let mut block = format!(
        "{method} {path} HTTP/1.1\r\nhost: {host}\r\nuser-agent: {user_agent}\r\naccept-encoding: gzip, br\r\n{conditional}"
    );
    if let Some(form) = form {
        let _ = write!(
            block,
            "content-type: {}\r\ncontent-length: {}\r\n\r\n{form}",
            crate::crawl::client::FORM_TYPE,
            form.len()
        );
    } else {
        block.push_str("\r\n");
    }
    block
}

/// Write a fetch whose answer the store kept though it is no version (a
/// jpage column's group, SPEC §8) as its `response` and the `request` that
/// asked for it, a POST's form included (`WARC-Concurrent-To` the
/// response). A group is its URL and its form: two groups are two records
/// however alike their URLs. Returns whether the entry was such a fetch.
///
/// # Errors
/// When the store cannot be read or `out` fails.
pub fn write_kept<W: std::io::Write>(
    out: &mut write::Writer<W>,
    store: &crate::Store,
    entry: &crate::store::FetchLogEntry,
    user_agent: &str,
) -> crate::Result<bool> {
    let io = |e: std::io::Error| crate::Error::Io {
        what: "writing the WARC".to_owned(),
        source: e,
    };
    let Some(body) = entry
        .kept
        .as_deref()
        .map(|h| store.raw_by_hash(h))
        .transpose()?
        .flatten()
    else {
        return Ok(false);
    };
    let head = entry
        .head_hash
        .as_deref()
        .map(|h| store.head_by_hash(h))
        .transpose()?
        .flatten();
    let mut block = write::http_head(head.as_deref(), None, body.len()).into_bytes();
    block.extend_from_slice(&body);
    let method = entry.method.as_deref().unwrap_or("GET");
    let form = entry.request_body.as_deref();
    let what = format!(
        "{}\n{}\n{}\n{}",
        entry.url,
        form.unwrap_or_default(),
        entry.fetched_at,
        method
    );
    let request = request_block(method, &entry.url, user_agent, "", form);
    let payload = write::digest(&body);
    let date = entry.fetched_at.as_str();
    let digested = write::Digested::of(&block);
    let block = write::Block::Bytes(&block);
    exchange(
        out,
        &entry.url,
        date,
        &what,
        (&block, &digested, &payload),
        &request,
    )
    .map_err(io)?;
    Ok(true)
}

/// A `response` record (its block: the HTTP head and body; its payload's
/// digest) and the `request` record that asked for it (`WARC-Concurrent-To`
/// the response), their ids made from `what`.
fn exchange<W: std::io::Write>(
    out: &mut write::Writer<W>,
    url: &str,
    date: &str,
    what: &str,
    (block, digested, payload): (&write::Block<'_>, &write::Digested, &str),
    request: &str,
) -> std::io::Result<write::Placed> {
    let response_id = write::record_id("response", what);
    let placed = out.record_of(
        &[
            ("WARC-Type", "response"),
            ("WARC-Record-ID", &response_id),
            ("WARC-Date", date),
            ("WARC-Target-URI", url),
            ("Content-Type", "application/http; msgtype=response"),
            ("WARC-Payload-Digest", payload),
        ],
        block,
        digested,
    )?;
    out.record(
        &[
            ("WARC-Type", "request"),
            ("WARC-Record-ID", &write::record_id("request", what)),
            ("WARC-Date", date),
            ("WARC-Target-URI", url),
            ("WARC-Concurrent-To", &response_id),
            ("Content-Type", "application/http; msgtype=request"),
        ],
        request.as_bytes(),
    )?;
    Ok(placed)
}

/// The `warcinfo` record that opens an export.
///
/// # Errors
/// When `out` fails.
pub fn write_warcinfo<W: std::io::Write>(
    out: &mut write::Writer<W>,
    filename: &str,
    date: &str,
) -> std::io::Result<()> {
    let info = format!(
        "software: govsnap/{}\r\nformat: WARC File Format 1.1\r\nconformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\ndescription: versions of government documents archived by govsnap; each response with its request and a metadata record holding govsnap's record (JSON)\r\n",
        env!("CARGO_PKG_VERSION")
    );
    out.record(
        &[
            ("WARC-Type", "warcinfo"),
            (
                "WARC-Record-ID",
                &write::record_id("warcinfo", &format!("{filename}\n{date}")),
            ),
            ("WARC-Date", date),
            ("WARC-Filename", filename),
            ("Content-Type", "application/warc-fields"),
        ],
        info.as_bytes(),
    )
    .map(|_| ())
}

/// Write a `revisit` record (the identical-payload-digest profile) for a
/// fetch that found its page unchanged (`unchanged`, or a 304), referring
/// to the `response` of the version current at that time. `None` when the
/// log entry is not such a fetch or its page has no version before it.
///
/// # Errors
/// When the store cannot be read or `out` fails.
pub fn write_revisit<W: std::io::Write>(
    out: &mut write::Writer<W>,
    store: &crate::Store,
    entry: &crate::store::FetchLogEntry,
) -> crate::Result<bool> {
    use crate::store::EventKind;
    if !matches!(entry.outcome.as_str(), "unchanged" | "not_modified") {
        return Ok(false);
    }
    let current = store
        .history(&entry.url)?
        .into_iter()
        .filter(|e| e.kind == EventKind::Version && e.fetched_at <= entry.fetched_at)
        .filter_map(|e| e.version)
        .next_back();
    let Some(n) = current else {
        return Ok(false);
    };
    let Some(version) = store.version(&entry.url, n)? else {
        return Ok(false);
    };
    let body = store.raw(&version)?.unwrap_or_default();
    let what = format!("{}\n{}", version.url, version.version);
    let status = if entry.status == 304 {
        "HTTP/1.1 304 Not Modified\r\n\r\n"
    } else {
        "HTTP/1.1 200 OK\r\n\r\n"
    };
    let id = write::record_id("revisit", &format!("{}\n{}", entry.url, entry.fetched_at));
    out.record(
        &[
            ("WARC-Type", "revisit"),
            ("WARC-Record-ID", &id),
            ("WARC-Date", &entry.fetched_at),
            ("WARC-Target-URI", &entry.url),
            (
                "WARC-Profile",
                "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
            ),
            ("WARC-Refers-To", &write::record_id("response", &what)),
            ("WARC-Refers-To-Target-URI", &version.url),
            ("WARC-Refers-To-Date", &version.fetched_at),
            ("WARC-Payload-Digest", &write::digest(&body)),
            ("Content-Type", "application/http; msgtype=response"),
        ],
        status.as_bytes(),
    )
    .map_err(|e| crate::Error::Io {
        what: "writing the WARC".to_owned(),
        source: e,
    })?;
    Ok(true)
}

/// A length as `usize`, saturating (a file's, far below either bound).
fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The `WARC-Target-URI` of a page's govsnap record: `urn:govsnap:record:`
/// and the page's URL (as Browsertrix writes its page records under
/// `urn:pageinfo:`).
#[must_use]
pub fn record_uri(url: &str) -> String {
    format!("urn:govsnap:record:{url}")
}
