//! WARC (ISO 28500), the web archive's exchange format (SPEC §10): what
//! Heritrix, `wget --warc-file`, Browsertrix and pywb write and read.
//!
//! Reading, so far: [`Reader`] walks a WARC file's records in one pass, plain
//! or gzip per record, skipping (and reporting) a record that is cut short
//! or corrupt; [`capture`] turns a `response` or `revisit` record into what
//! the pipeline takes — the URL, the capture time (`WARC-Date`), the HTTP
//! status, the headers and the decoded body. `govsnap ingest FILE.warc.gz`
//! puts them into the store through the same pipeline as a crawl.
//!
//! No WARC crate is used: the ones on crates.io are unmaintained or read
//! whole files; the framing is a header block and a length, written here,
//! while gzip (flate2), HTTP (httparse) and brotli come from kept crates.

mod http;
mod read;

pub use http::Response;
pub use read::{Item, MAX_BLOCK, Reader, Record};

use std::time::SystemTime;

/// The value of a named field (WARC) or header (HTTP): names compare
/// without case, the first one wins.
fn named<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
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
}

/// The capture a record holds, if it is a `response` or `revisit` of an
/// HTTP(S) URL; `Ok(None)` for every other record.
///
/// # Errors
/// Why a `response` record cannot be read as a capture (no date, a block
/// that is not HTTP, a body that does not decode).
pub fn capture(record: &Record) -> Result<Option<Capture>, String> {
    let kind = record.kind();
    let revisit = match kind.as_str() {
        "response" => false,
        "revisit" => true,
        _ => return Ok(None),
    };
    let Some(url) = record
        .target()
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
    else {
        return Ok(None);
    };
    let is_http = record
        .field("Content-Type")
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/http"));
    if !is_http {
        return Ok(None); // e.g. a DNS response
    }
    let date = record
        .field("WARC-Date")
        .ok_or("the record has no WARC-Date")?;
    let fetched_at = humantime::parse_rfc3339_weak(date.trim_end_matches('Z'))
        .or_else(|_| humantime::parse_rfc3339(date))
        .map_err(|e| format!("WARC-Date {date:?}: {e}"))?;
    let response = if revisit && record.block.is_empty() {
        Response {
            status: 200,
            headers: Vec::new(),
            head: String::new(),
            body: Vec::new(),
        }
    } else {
        http::parse(&record.block)?
    };
    Ok(Some(Capture {
        url: url.to_owned(),
        fetched_at,
        revisit,
        response,
    }))
}
