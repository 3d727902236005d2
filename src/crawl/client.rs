//! HTTP for the crawler: one reqwest client (rustls, gzip and brotli, an
//! identifying User-Agent, a total timeout per request) that never follows
//! redirects itself — the crawler follows them hop by hop, checking each hop
//! against scope and robots — and reads bodies in chunks up to a cap, so a
//! huge body or a decompression bomb stops at `max_body_bytes` of
//! decompressed data.

use crate::config::CrawlSettings;
use std::time::{Duration, Instant};
use url::Url;

/// The `Content-Type` of a form a page's script posts.
pub const FORM_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

/// A response, its body read (up to the cap).
#[derive(Debug)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `ETag`.
    pub etag: Option<String>,
    /// `Last-Modified`.
    pub last_modified: Option<String>,
    /// `Location`, for redirects.
    pub location: Option<String>,
    /// `Retry-After` in seconds, for 429/503.
    pub retry_after: Option<Duration>,
    /// The status line and the header lines as received (names as the
    /// HTTP library gives them: lower case), without the blank line.
    pub head: String,
    /// The conditional header lines the request carried
    /// (`If-None-Match: …\r\nIf-Modified-Since: …\r\n`), when it carried any.
    pub conditional: Option<String>,
    /// The body, decompressed, at most the cap; empty when it was
    /// spooled.
    pub body: Vec<u8>,
    /// A file's body, written to disk as it came (SPEC §11), when the
    /// client spools files ([`Client::spooling_files_in`]) and the
    /// response is a file with a 2xx status.
    pub spool: Option<crate::store::Spool>,
    /// Bytes of the body read, in memory or spooled.
    pub received: u64,
    /// Whether the body was cut at the cap.
    pub truncated: bool,
    /// Whether the response is a file (SPEC §11: a document type by its
    /// `Content-Type`, a `Content-Disposition`, or its URL's extension),
    /// read up to `max_attachment_bytes` rather than `max_body_bytes`.
    pub file: bool,
    /// The file name `Content-Disposition` gives.
    pub filename: Option<String>,
    /// How long the request took.
    pub elapsed: Duration,
    /// Why the certificate of the response's connection was not valid,
    /// when a lenient client fetched it anyway (SPEC §7).
    pub tls_invalid: Option<String>,
}

/// The per-host delay from which a connection is closed after each
/// response, as Heritrix closes every one. A host asked every second or
/// more slowly gains little from keeping its connection, and a thousand
/// hosts kept open hold a thousand descriptors and 25 KB of buffers each
/// for the whole crawl; a host asked faster keeps its connection.
const KEEP_ALIVE_UNDER_MS: u64 = 1000;

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The request took longer than the timeout.
    #[error("timed out")]
    Timeout,
    /// No connection, a reset, a body cut short: worth another try.
    #[error("{0}")]
    Transient(String),
    /// A request that cannot succeed (bad URL, TLS setup).
    #[error("{0}")]
    Permanent(String),
}

/// The crawler's HTTP client.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    max_body: u64,
    /// The cap of a file's body (`max_attachment_bytes` when attachments
    /// are archived).
    max_file: u64,
    /// Where files' bodies are spooled, when they are.
    spool: Option<std::path::PathBuf>,
    /// A lenient client's notes of invalid certificates (`super::tls`).
    tls_notes: Option<std::sync::Arc<super::tls::Notes>>,
}

impl Client {
    /// A client with the crawl settings' User-Agent, timeout and body cap.
    ///
    /// # Errors
    /// [`FetchError::Permanent`] when the TLS stack cannot be set up.
    pub fn new(settings: &CrawlSettings) -> Result<Self, FetchError> {
        Self::build(settings, None)
    }

    /// A client for the sites with `tls = "lenient"`: as [`Client::new`],
    /// but a certificate that is not valid is noted, not refused, and
    /// every response over that connection says why
    /// ([`Response::tls_invalid`]).
    ///
    /// # Errors
    /// [`FetchError::Permanent`] when the TLS stack cannot be set up.
    pub fn lenient(settings: &CrawlSettings) -> Result<Self, FetchError> {
        let (config, notes) = super::tls::lenient_config().map_err(FetchError::Permanent)?;
        Self::build(settings, Some((config, notes)))
    }

    fn build(
        settings: &CrawlSettings,
        lenient: Option<(rustls::ClientConfig, std::sync::Arc<super::tls::Notes>)>,
    ) -> Result<Self, FetchError> {
        // rustls with the ring provider (aws-lc needs cmake to build); a
        // second install in the same process is harmless
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(Duration::from_secs(settings.timeout_s))
            .connect_timeout(Duration::from_secs(settings.timeout_s.min(10)))
            .redirect(reqwest::redirect::Policy::none())
            .gzip(true)
            .brotli(true);
        if settings.per_host_delay_ms >= KEEP_ALIVE_UNDER_MS {
            builder = builder.pool_max_idle_per_host(0);
        }
        let mut tls_notes = None;
        if let Some((config, notes)) = lenient {
            // each response then names its connection's certificate
            builder = builder.tls_backend_preconfigured(config).tls_info(true);
            tls_notes = Some(notes);
        }
        let http = builder
            .build()
            .map_err(|e| FetchError::Permanent(e.to_string()))?;
        Ok(Self {
            tls_notes,
            http,
            max_body: settings.max_body_bytes,
            max_file: if settings.attachments {
                settings.max_attachment_bytes
            } else {
                settings.max_body_bytes
            },
            spool: None,
        })
    }

    /// Write the bodies of files (2xx responses that are files) to
    /// unnamed files in `dir` as they arrive, instead of memory: a crawl
    /// that archives a 200 MB attachment holds a buffer of it at a time.
    #[must_use]
    pub fn spooling_files_in(mut self, dir: std::path::PathBuf) -> Self {
        self.spool = Some(dir);
        self
    }

    /// GET `url`, conditionally when validators from an earlier fetch are given.
    ///
    /// # Errors
    /// [`FetchError`] when no complete response came.
    pub async fn get(
        &self,
        url: &Url,
        etag: Option<&str>,
        last_modified: Option<&str>,
    ) -> Result<Response, FetchError> {
        let started = Instant::now();
        let mut request = self.http.get(url.clone());
        let mut conditional = String::new();
        if let Some(e) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, e);
            conditional.push_str("If-None-Match: ");
            conditional.push_str(e);
            conditional.push_str("\r\n");
        }
        if let Some(m) = last_modified {
            request = request.header(reqwest::header::IF_MODIFIED_SINCE, m);
            conditional.push_str("If-Modified-Since: ");
            conditional.push_str(m);
            conditional.push_str("\r\n");
        }
        self.read(request, conditional, started).await
    }

    /// POST `body` to `url` as a form (`application/x-www-form-urlencoded`),
    /// as a page's script does: Hanweb's jpage asks for a column's later
    /// records so (`super::jpage`).
    ///
    /// # Errors
    /// [`FetchError`] when no complete response came.
    pub async fn post_form(&self, url: &Url, body: &str) -> Result<Response, FetchError> {
        let started = Instant::now();
        let request = self
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, FORM_TYPE)
            .body(body.to_owned());
        self.read(request, String::new(), started).await
    }

    /// GET `url`, or POST `form` to it when there is one.
    ///
    /// # Errors
    /// [`FetchError`] when no complete response came.
    pub async fn send(&self, url: &Url, form: Option<&str>) -> Result<Response, FetchError> {
        match form {
            Some(form) => self.post_form(url, form).await,
            None => self.get(url, None, None).await,
        }
    }

    /// Send `request` and read its response, the body up to the cap.
    async fn read(
        &self,
        request: reqwest::RequestBuilder,
        conditional: String,
        started: Instant,
    ) -> Result<Response, FetchError> {
        let mut response = request.send().await.map_err(|e| {
            let error = classify(e);
            match error {
                // a strict client's refusal says what would archive the site
                FetchError::Transient(cause)
                    if self.tls_notes.is_none() && cause.contains("certificate") =>
                {
                    FetchError::Permanent(format!(
                        "{cause}; to archive the site anyway, set tls = \"lenient\" for it"
                    ))
                }
                other => other,
            }
        })?;
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let etag = header(reqwest::header::ETAG);
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        let location = header(reqwest::header::LOCATION);
        let retry_after = header(reqwest::header::RETRY_AFTER).and_then(|v| parse_retry_after(&v));
        let status = response.status().as_u16();
        let head = head_of(&response);
        let tls_invalid = self.tls_notes.as_ref().and_then(|notes| {
            let info = response.extensions().get::<reqwest::tls::TlsInfo>()?;
            notes.reason(info.peer_certificate()?)
        });
        let filename = response
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|v| disposition_filename(v.as_bytes()));
        let file = filename.is_some()
            || content_type
                .as_deref()
                .and_then(crate::attach::Format::from_content_type)
                .is_some_and(|f| !matches!(f, crate::attach::Format::Txt))
            || crate::attach::format::extension(response.url().path())
                .and_then(crate::attach::Format::from_extension)
                .is_some();
        let cap = if file { self.max_file } else { self.max_body };
        let spool_dir = self
            .spool
            .as_deref()
            .filter(|_| file && (200..300).contains(&status));
        let mut sink = match spool_dir {
            Some(dir) => Sink::Spool(Box::new(
                crate::store::SpoolWriter::create_in(dir)
                    .map_err(|e| FetchError::Transient(format!("no file to download to: {e}")))?,
            )),
            None => Sink::Memory(Vec::new()),
        };
        let mut received = 0u64;
        let mut truncated = false;
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            let room = usize::try_from(cap.saturating_sub(received)).unwrap_or(usize::MAX);
            let take = &chunk[..chunk.len().min(room)];
            sink.write(take)
                .map_err(|e| FetchError::Transient(format!("writing the download: {e}")))?;
            received += take.len() as u64;
            if chunk.len() > room {
                truncated = true;
                break;
            }
        }
        let (body, spool) = match sink {
            Sink::Memory(body) => (body, None),
            // a file cut at the cap is not stored: its bytes go at once
            Sink::Spool(_) if truncated => (Vec::new(), None),
            Sink::Spool(w) => (
                Vec::new(),
                Some(
                    w.finish()
                        .map_err(|e| FetchError::Transient(format!("writing the download: {e}")))?,
                ),
            ),
        };
        Ok(Response {
            status,
            content_type,
            etag,
            last_modified,
            location,
            retry_after,
            head,
            conditional: Some(conditional).filter(|c| !c.is_empty()),
            body,
            spool,
            received,
            truncated,
            file,
            filename,
            elapsed: started.elapsed(),
            tls_invalid,
        })
    }
}

/// Where a body goes as it is read.
enum Sink {
    Memory(Vec<u8>),
    // the writes are to the page cache, as quick as the memory copies they
    // replace: no need to leave the runtime's thread for them
    Spool(Box<crate::store::SpoolWriter>),
}

impl Sink {
    fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        match self {
            Self::Memory(body) => {
                body.extend_from_slice(chunk);
                Ok(())
            }
            Self::Spool(w) => w.write(chunk),
        }
    }
}

/// The file name of a `Content-Disposition` (`attachment;
/// filename="附件1.pdf"`, RFC 6266's `filename*=UTF-8''…`, or the raw GBK
/// bytes older Chinese servers send), without its path.
fn disposition_filename(value: &[u8]) -> Option<String> {
    let text = utf8_or_gbk(value);
    let param = |name: &str| {
        text.split(';').find_map(|part| {
            let (key, value) = part.split_once('=')?;
            (key.trim().eq_ignore_ascii_case(name))
                .then(|| value.trim().trim_matches('"').to_owned())
        })
    };
    let name = if let Some(extended) = param("filename*") {
        let encoded = extended.rsplit('\'').next().unwrap_or(&extended);
        utf8_or_gbk(&percent_encoding::percent_decode_str(encoded).collect::<Vec<u8>>())
    } else {
        // many servers percent-encode the UTF-8 name in the plain form
        let plain = param("filename")?;
        utf8_or_gbk(&percent_encoding::percent_decode_str(&plain).collect::<Vec<u8>>())
    };
    let name = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&name)
        .trim()
        .to_owned();
    (!name.is_empty()).then_some(name)
}

/// Bytes as UTF-8 when they are, else as GBK.
fn utf8_or_gbk(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::GBK.decode(bytes).0.into_owned(),
    }
}

/// The status line and headers of a response, in the order received.
fn head_of(response: &reqwest::Response) -> String {
    let status = response.status();
    let mut head = format!(
        "{:?} {} {}\r\n",
        response.version(),
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in response.headers() {
        head.push_str(name.as_str());
        head.push_str(": ");
        head.push_str(&String::from_utf8_lossy(value.as_bytes()));
        head.push_str("\r\n");
    }
    head
}

fn classify(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout
    } else if e.is_builder() {
        FetchError::Permanent(e.to_string())
    } else {
        FetchError::Transient(cause(&e.without_url()))
    }
}

/// The cause of a failed request, its chain on one line without hyper's
/// generic wrappers: `dns error: failed to lookup address information: …`,
/// `tcp connect error: Connection refused (os error 111)`. The caller
/// names the URL.
fn cause(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    let useful: Vec<&str> = parts
        .iter()
        .map(String::as_str)
        .filter(|p| *p != "error sending request" && !p.starts_with("client error ("))
        .collect();
    if useful.is_empty() {
        parts.join(": ")
    } else {
        useful.join(": ")
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate_to_system_time(value.trim())?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// RFC 7231 IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`), via humantime.
fn httpdate_to_system_time(value: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)?
        + 1;
    humantime::parse_rfc3339(&format!("{year}-{month:02}-{day:0>2}T{time}Z")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
