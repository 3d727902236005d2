//! The past from a Wayback server (SPEC §12): `govsnap ingest --cdx
//! URL_PREFIX` lists a site's captures through the CDX server API and
//! fetches each capture's original bytes from the replay prefix
//! (`REPLAY/TIMESTAMPid_/URL`), politely, so that the store holds the
//! versions the Internet Archive (or any pywb) saw before govsnap did.
//!
//! Flow: [`Wayback::list`] asks `SERVER?url=PREFIX&matchType=prefix&
//! output=json` and reads either answer ([`parse_cdx`]: the Internet
//! Archive's JSON array of arrays, pywb's one JSON object per line), oldest
//! first; [`Wayback::fetch`] gets one capture. Every request waits its turn
//! (`[wayback] delay_ms` after the last one) and a 429 or 503 waits as its
//! `Retry-After` says before it is tried again. The caller (the CLI's
//! ingest) stores each capture at its capture time and marks it imported
//! (`Store::mark_imported`), so a second run fetches nothing already
//! stored and a killed run continues where it stopped.

use std::time::{Duration, Instant};

/// The Internet Archive's CDX server.
pub const DEFAULT_CDX_SERVER: &str = "https://web.archive.org/cdx/search/cdx";
/// The Internet Archive's replay prefix.
pub const DEFAULT_REPLAY: &str = "https://web.archive.org/web/";
/// Tries of one request that a server answers 429/503 or not at all.
const TRIES: u32 = 5;
/// The longest `Retry-After` honoured as given; longer ones wait this long.
const MAX_RETRY_AFTER: Duration = Duration::from_mins(5);

/// One capture a CDX server lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The URL captured.
    pub url: String,
    /// When, as the 14 digits `YYYYMMDDhhmmss`.
    pub timestamp: String,
    /// The payload's digest (SHA-1, base32), when the server gives one.
    pub digest: Option<String>,
    /// The HTTP status captured, when given (`-` for revisits on some
    /// servers).
    pub status: Option<u16>,
}

impl Capture {
    /// The capture time.
    ///
    /// # Errors
    /// When the timestamp is not 14 (or fewer, padded) digits of a date.
    pub fn time(&self) -> Result<std::time::SystemTime, String> {
        humantime::parse_rfc3339(&crate::warc::arc::warc_date(&self.timestamp))
            .map_err(|e| format!("the capture time {:?}: {e}", self.timestamp))
    }
}

/// Why a Wayback request failed.
#[derive(Debug, thiserror::Error)]
pub enum WaybackError {
    /// No answer, or not one that can be read.
    #[error("{url}: {reason}")]
    Request {
        /// What was asked for.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The CDX answer is not one of the two forms.
    #[error("the CDX server's answer is not a CDX listing: {0}")]
    Listing(String),
}

/// A capture's answer from the replay prefix.
#[derive(Debug)]
pub struct Replayed {
    /// The status the server gave for the capture.
    pub status: u16,
    /// Its `Content-Type`.
    pub content_type: Option<String>,
    /// The original bytes.
    pub body: Vec<u8>,
}

/// A polite client of one Wayback server.
#[derive(Debug)]
pub struct Wayback {
    http: reqwest::Client,
    delay: Duration,
    last: Option<Instant>,
    /// Requests sent (retries included).
    pub requests: u64,
}

impl Wayback {
    /// A client that sends a request at most every `delay`.
    ///
    /// # Errors
    /// When the TLS stack cannot be set up.
    pub fn new(user_agent: &str, delay: Duration) -> Result<Self, WaybackError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .timeout(Duration::from_mins(2))
            .gzip(true)
            .build()
            .map_err(|e| WaybackError::Request {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            http,
            delay,
            last: None,
            requests: 0,
        })
    }

    /// Every capture under `prefix` (a URL prefix), oldest first, from the
    /// CDX server at `server`, between `from` and `to` (`YYYYMMDD…`) when
    /// given.
    ///
    /// # Errors
    /// When the server does not answer or its answer is no listing.
    pub async fn list(
        &mut self,
        server: &str,
        prefix: &str,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Vec<Capture>, WaybackError> {
        let mut url = url::Url::parse(server).map_err(|e| WaybackError::Request {
            url: server.to_owned(),
            reason: e.to_string(),
        })?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("url", prefix)
                .append_pair("matchType", "prefix")
                .append_pair("output", "json");
            if let Some(from) = from {
                q.append_pair("from", from);
            }
            if let Some(to) = to {
                q.append_pair("to", to);
            }
        }
        let (status, _, body) = self.get(url.as_str()).await?;
        if !(200..300).contains(&status) {
            return Err(WaybackError::Request {
                url: url.to_string(),
                reason: format!("HTTP {status}"),
            });
        }
        let mut captures = parse_cdx(&String::from_utf8_lossy(&body))?;
        // oldest first, whatever order the server keeps (by key, then time)
        captures.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
        Ok(captures)
    }

    /// A capture's original bytes, from `REPLAY/TIMESTAMPid_/URL`.
    ///
    /// # Errors
    /// When the server does not answer after its retries.
    pub async fn fetch(
        &mut self,
        replay: &str,
        capture: &Capture,
    ) -> Result<Replayed, WaybackError> {
        let url = format!(
            "{}/{}id_/{}",
            replay.trim_end_matches('/'),
            capture.timestamp,
            capture.url
        );
        let (status, content_type, body) = self.get(&url).await?;
        Ok(Replayed {
            status,
            content_type,
            body,
        })
    }

    /// GET `url` in its turn, again after a 429/503 (as long as its
    /// `Retry-After` says, else the delay doubled) or a failed connection.
    async fn get(&mut self, url: &str) -> Result<(u16, Option<String>, Vec<u8>), WaybackError> {
        let mut wait = self.delay.max(Duration::from_millis(500));
        let mut last_error = String::new();
        for _ in 0..TRIES {
            if let Some(last) = self.last {
                tokio::time::sleep_until((last + self.delay).into()).await;
            }
            self.last = Some(Instant::now());
            self.requests += 1;
            let response = match self.http.get(url).send().await {
                Ok(r) => r,
                Err(e) => {
                    last_error = e.to_string();
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    continue;
                }
            };
            let status = response.status().as_u16();
            if matches!(status, 429 | 503) {
                let after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(wait, Duration::from_secs)
                    .min(MAX_RETRY_AFTER);
                last_error = format!("HTTP {status}");
                tracing::warn!(%url, status, wait_s = after.as_secs_f64(), "the Wayback server asks to wait");
                tokio::time::sleep(after).await;
                // the wait counts as the pause before the next request
                self.last = Some(
                    Instant::now()
                        .checked_sub(self.delay)
                        .unwrap_or_else(Instant::now),
                );
                wait *= 2;
                continue;
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match response.bytes().await {
                Ok(body) => return Ok((status, content_type, body.to_vec())),
                Err(e) => last_error = e.to_string(),
            }
        }
        Err(WaybackError::Request {
            url: url.to_owned(),
            reason: format!("{last_error} ({TRIES} tries)"),
        })
    }
}

/// A CDX server's JSON answer: the Internet Archive's array of arrays (the
/// first row names the fields), or pywb's one JSON object per line.
///
/// # Errors
/// When it is neither.
pub fn parse_cdx(body: &str) -> Result<Vec<Capture>, WaybackError> {
    let body = body.trim();
    if body.is_empty() {
        return Ok(Vec::new());
    }
    let bad = |e: &dyn std::fmt::Display| WaybackError::Listing(e.to_string());
    if body.starts_with('[') {
        let rows: Vec<Vec<serde_json::Value>> = serde_json::from_str(body).map_err(|e| bad(&e))?;
        let Some((names, rows)) = rows.split_first() else {
            return Ok(Vec::new());
        };
        let column = |name: &str| names.iter().position(|n| n.as_str() == Some(name));
        let (Some(url), Some(timestamp)) = (column("original"), column("timestamp")) else {
            return Err(WaybackError::Listing(
                "its first row names no `original` and `timestamp` fields".to_owned(),
            ));
        };
        let (digest, status) = (column("digest"), column("statuscode"));
        let field = |row: &[serde_json::Value], i: Option<usize>| {
            i.and_then(|i| row.get(i)?.as_str().map(str::to_owned))
        };
        return Ok(rows
            .iter()
            .filter_map(|row| {
                Some(Capture {
                    url: field(row, Some(url))?,
                    timestamp: field(row, Some(timestamp))?,
                    digest: field(row, digest),
                    status: field(row, status).and_then(|s| s.parse().ok()),
                })
            })
            .collect());
    }
    body.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(&e))?;
            let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
            Ok(Capture {
                url: text("url").ok_or_else(|| bad(&"a line without `url`"))?,
                timestamp: text("timestamp").ok_or_else(|| bad(&"a line without `timestamp`"))?,
                digest: text("digest"),
                status: text("status").and_then(|s| s.parse().ok()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_cdx_answers_read() {
        let ia = r#"[["urlkey","timestamp","original","mimetype","statuscode","digest","length"],
            ["cn,gov,example)/","20080301120000","http://www.example.gov.cn/","text/html","200","AAAA","1234"],
            ["cn,gov,example)/gk","20070101000000","http://www.example.gov.cn/gk/","text/html","-","BBBB","99"]]"#;
        let captures = parse_cdx(ia).unwrap();
        assert_eq!(captures.len(), 2);
        assert_eq!(captures[1].status, None);
        assert_eq!(captures[0].digest.as_deref(), Some("AAAA"));
        let pywb = "{\"urlkey\": \"cn,gov,example)/\", \"timestamp\": \"20240305080000\", \"url\": \"http://www.example.gov.cn/\", \"mime\": \"text/html\", \"status\": \"200\", \"digest\": \"CCCC\"}\n";
        let captures = parse_cdx(pywb).unwrap();
        assert_eq!(captures[0].timestamp, "20240305080000");
        assert_eq!(captures[0].status, Some(200));
        assert!(parse_cdx("<html>").is_err());
        assert_eq!(
            captures[0].time().unwrap(),
            humantime::parse_rfc3339("2024-03-05T08:00:00Z").unwrap()
        );
    }
}
