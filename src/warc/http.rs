//! The HTTP response inside a WARC `response` record: its status, its
//! headers, and its body as the page's bytes — chunked transfer-encoding
//! undone, gzip, deflate, brotli and zstd content-encoding decoded, since
//! archivers write what the server sent.
//!
//! As the reference readers do (warcio), the bytes are trusted over the
//! headers: several recorders (pywb's, Webrecorder's, node-warc) store the
//! body already de-chunked or decoded and keep the header that says
//! otherwise. A body that does not de-chunk or decode as its headers say
//! is taken as it is, with a warning.

use std::io::Read;

/// A response as a page: status, the headers the store keeps, the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Every header, names as sent.
    pub headers: Vec<(String, String)>,
    /// The status line and header lines as recorded, without the blank
    /// line (what the store keeps as a version's head).
    pub head: String,
    /// The body, decoded.
    pub body: Vec<u8>,
    /// What did not go as the headers said (a body already de-chunked or
    /// decoded, taken as it was stored).
    pub warnings: Vec<String>,
}

impl Response {
    /// A header's value (names compare without case).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        super::named(&self.headers, name)
    }
}

/// The most headers a response may have.
const MAX_HEADERS: usize = 256;
/// The most a decoded body may grow to (a page is far smaller).
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// Parse an HTTP response message.
///
/// # Errors
/// Why the block is not an HTTP response, or its body does not decode.
pub(super) fn parse(block: &[u8]) -> Result<Response, String> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut headers);
    let head = match parsed.parse(block) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Err("the HTTP header is cut short".to_owned()),
        Err(e) => return Err(format!("not an HTTP response: {e}")),
    };
    let status = parsed.code.unwrap_or(0);
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    let head_text = String::from_utf8_lossy(&block[..head]);
    let head_text = head_text
        .strip_suffix("\r\n")
        .unwrap_or(&head_text)
        .to_owned();
    let mut response = Response {
        status,
        headers,
        head: head_text,
        body: Vec::new(),
        warnings: Vec::new(),
    };
    let mut body = block[head..].to_vec();
    if response
        .header("Transfer-Encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
    {
        match dechunk(&body) {
            Ok(dechunked) => body = dechunked,
            Err(e) => response.warnings.push(format!(
                "{e}: the body is taken as stored, already de-chunked"
            )),
        }
    }
    if let Some(encoding) = response.header("Content-Encoding") {
        match decode(&body, &encoding.trim().to_ascii_lowercase()) {
            Ok(decoded) => body = decoded,
            Err(e) => response
                .warnings
                .push(format!("{e}: the body is taken as stored, already decoded")),
        }
    }
    response.body = body;
    Ok(response)
}

/// Undo chunked transfer-encoding. A last chunk missing at the end (a
/// capture cut short) keeps what came before it.
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            if out.is_empty() && !data.is_empty() {
                return Err("no chunk size begins the body".to_owned());
            }
            return Ok(out);
        };
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("a chunk size {size_text:?} is not hexadecimal"))?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let take = size.min(data.len());
        out.extend_from_slice(&data[..take]);
        data = data.get(take + 2..).unwrap_or(&[]);
    }
}

fn decode(body: &[u8], encoding: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let read = match encoding {
        "" | "identity" | "none" => return Ok(body.to_vec()),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(body)
            .take(MAX_BODY)
            .read_to_end(&mut out),
        "deflate" => {
            // "deflate" is zlib-wrapped by the letter of RFC 9110; raw
            // deflate by the habit of some servers
            let zlib = flate2::read::ZlibDecoder::new(body)
                .take(MAX_BODY)
                .read_to_end(&mut out);
            if zlib.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(body)
                    .take(MAX_BODY)
                    .read_to_end(&mut out)
            } else {
                zlib
            }
        }
        "br" => brotli_decompressor::Decompressor::new(body, 4096)
            .take(MAX_BODY)
            .read_to_end(&mut out),
        // wget 1.25 asks for it and records it so
        "zstd" => zstd::stream::read::Decoder::new(body)
            .and_then(|d| d.take(MAX_BODY).read_to_end(&mut out)),
        other => {
            return Err(format!(
                "the body's Content-Encoding {other:?} is not one govsnap decodes"
            ));
        }
    };
    read.map_err(|e| format!("the body does not decode as {encoding}: {e}"))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn chunked_and_compressed_bodies_come_out_as_the_page() {
        let page = "<html><body><p>关于开展安全检查的通知</p></body></html>".as_bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(page).unwrap();
        let gz = gz.finish().unwrap();
        let (a, b) = gz.split_at(10);
        let mut block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
        for chunk in [a, b] {
            block.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
            block.extend_from_slice(chunk);
            block.extend_from_slice(b"\r\n");
        }
        block.extend_from_slice(b"0\r\n\r\n");
        let response = parse(&block).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(response.body, page);
        assert!(
            response
                .head
                .starts_with("HTTP/1.1 200 OK\r\nContent-Type:")
        );
        assert!(response.head.ends_with("Content-Encoding: gzip\r\n"));
    }

    #[test]
    fn what_is_not_a_response_says_why() {
        assert!(
            parse(b"GET / HTTP/1.1\r\n\r\n")
                .unwrap_err()
                .contains("not an HTTP response")
        );
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Ty")
                .unwrap_err()
                .contains("cut short")
        );
    }

    /// A recorder that stored the body de-chunked and decoded but kept the
    /// headers (pywb's, node-warc): the body as stored, and why.
    #[test]
    fn headers_that_overstate_the_encoding_leave_the_body_as_stored() {
        let page = "<html><body><p>关于开展安全检查的通知</p></body></html>";
        let block = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n{page}"
        );
        let response = parse(block.as_bytes()).unwrap();
        assert_eq!(response.body, page.as_bytes());
        assert_eq!(response.warnings.len(), 2, "{:?}", response.warnings);
        assert!(response.warnings[0].contains("already de-chunked"));
        assert!(response.warnings[1].contains("does not decode as gzip"));
    }

    #[test]
    fn a_zstd_body_is_decoded() {
        let page = "<html><body><p>政府信息公开</p></body></html>".as_bytes();
        let mut block = b"HTTP/1.1 200 OK\r\nContent-Encoding: zstd\r\n\r\n".to_vec();
        block.extend(zstd::encode_all(page, 3).unwrap());
        let response = parse(&block).unwrap();
        assert_eq!(response.body, page);
        assert!(response.warnings.is_empty());
    }
}
