//! ARC, the Internet Archive's format before WARC (Heritrix 1 and every
//! crawl before 2009 wrote it): a record is one header line, `URL
//! IP-address Archive-date Content-type Archive-length` (version 1; version
//! 2 adds result code, checksum, location, offset and file name before the
//! length), then `Archive-length` bytes (for an HTTP capture, the response
//! as received, head and body), then a newline. The first record,
//! `filedesc://…`, describes the file.
//!
//! An ARC record is read as the WARC record it would be (`response` for an
//! HTTP(S) URL, `warcinfo` for the file's description, `resource`
//! otherwise), so that everything after the reader — capture order,
//! decoding, the pipeline — is the WARC path.

use super::read::Record;
use std::fmt::Write as _;

/// An ARC header line's fields, when `line` is one.
pub(super) struct Header {
    url: String,
    date: String,
    content_type: String,
    /// Bytes of the record after its header line.
    pub(super) length: u64,
}

/// Parse an ARC header line (its bytes, the newline included or not).
///
/// # Errors
/// Why the line is no ARC header.
pub(super) fn header(line: &[u8]) -> Result<Header, String> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let fields: Vec<&[u8]> = line
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty())
        .collect();
    if !(fields.len() == 5 || fields.len() == 10) {
        return Err(format!(
            "a record starts with {} fields, neither a WARC version line nor an ARC header",
            fields.len()
        ));
    }
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let length = text(fields[fields.len() - 1])
        .parse()
        .map_err(|_| "an ARC header whose last field is no length".to_owned())?;
    let date = text(fields[2]);
    if date.len() < 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("an ARC header with the date {date:?}"));
    }
    Ok(Header {
        url: url_of(fields[0]),
        date,
        content_type: text(fields[3]),
        length,
    })
}

impl Header {
    /// The WARC record this ARC record is, its block to be read after.
    pub(super) fn record(&self, offset: u64) -> Record {
        let kind = if self.url.starts_with("filedesc:") {
            "warcinfo"
        } else if self.url.starts_with("http://") || self.url.starts_with("https://") {
            "response"
        } else {
            "resource"
        };
        let content_type = if kind == "response" {
            "application/http; msgtype=response".to_owned()
        } else {
            self.content_type.clone()
        };
        let fields = [
            ("WARC-Type", kind.to_owned()),
            ("WARC-Target-URI", self.url.clone()),
            ("WARC-Date", warc_date(&self.date)),
            ("Content-Type", content_type),
            ("Content-Length", self.length.to_string()),
        ];
        Record {
            offset,
            fields: fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
            block: Vec::new(),
        }
    }
}

/// A URL as the ARC line has it, its raw bytes past ASCII (a GBK path,
/// as old Chinese sites' links were) percent-encoded: the URL the server
/// was asked for.
fn url_of(bytes: &[u8]) -> String {
    let mut url = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii() && !b.is_ascii_control() {
            url.push(char::from(b));
        } else {
            let _ = write!(url, "%{b:02X}");
        }
    }
    url
}

/// `YYYYMMDDhhmmss` (shorter dates pad with zeros) as a WARC date
/// (`YYYY-MM-DDThh:mm:ssZ`): the 14 digits ARC and CDX indexes write.
#[must_use]
pub fn warc_date(date: &str) -> String {
    // digits only: a server's timestamp is expected input, never a panic
    let digits: String = date.chars().filter(char::is_ascii_digit).take(14).collect();
    let d = format!("{digits:0<14}");
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[0..4],
        &d[4..6],
        &d[6..8],
        &d[8..10],
        &d[10..12],
        &d[12..14]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_and_2_lines_read_as_warc_records() {
        let v1 = header(b"http://www.example.gov.cn/gk/\xcd\xa8\xd6\xaa.html 10.0.0.1 20010512083000 text/html 1024\n").unwrap();
        let record = v1.record(77);
        assert_eq!(record.kind(), "response");
        assert_eq!(
            record.target(),
            Some("http://www.example.gov.cn/gk/%CD%A8%D6%AA.html")
        );
        assert_eq!(record.field("WARC-Date"), Some("2001-05-12T08:30:00Z"));
        assert_eq!(record.field("Content-Length"), Some("1024"));
        assert_eq!(record.offset, 77);
        let v2 = header(b"http://www.example.gov.cn/ 10.0.0.1 20080301120000 text/html 200 ABCDEF - 0 IAH-1.arc 2048").unwrap();
        assert_eq!(v2.length, 2048);
        let desc = header(b"filedesc://IA-001.arc 0.0.0.0 19960923142103 text/plain 76").unwrap();
        assert_eq!(desc.record(0).kind(), "warcinfo");
        assert!(header(b"<html><body>").is_err());
        assert!(header(b"a b c d e").is_err());
    }
}
