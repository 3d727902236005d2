//! Reading WARC files (ISO 28500, versions 0.17 to 1.1) and ARC files record by record,
//! plain or as gzip members, in one pass and in bounded memory: a record's
//! block is held only when it is a `response`, `revisit` or `resource` small enough to
//! be a page ([`MAX_BLOCK`]); every other block is read past.
//!
//! A record that cannot be read (a bad header, a block cut short, a gzip
//! member that does not inflate) is reported with its offset and the
//! reason, and reading goes on at the next record: in a `.warc.gz`, the
//! next gzip member; in a plain WARC, the next line that starts `WARC/`
//! (or, in an ARC file, a record's URL). ARC records (see `arc`) are read
//! as the WARC records they would be.

use flate2::bufread::GzDecoder;
use std::io::{self, BufRead, BufReader, Read};

/// The largest block kept in memory; larger ones (video, archives) are
/// read past. Pages are far smaller.
pub const MAX_BLOCK: u64 = 64 * 1024 * 1024;

/// One WARC record: its named fields and, when kept, its block.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Where the record starts in the file (for a `.warc.gz`, where its
    /// gzip member starts), as `warcio index` says it.
    pub offset: u64,
    /// The named fields, in order, names as written.
    pub fields: Vec<(String, String)>,
    /// The block, for `response`, `revisit` and `resource` records up to
    /// [`MAX_BLOCK`]; empty otherwise.
    pub block: Vec<u8>,
}

impl Record {
    /// A named field's value (names compare without case).
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&str> {
        super::named(&self.fields, name)
    }

    /// `WARC-Type`, lower-cased.
    #[must_use]
    pub fn kind(&self) -> String {
        self.field("WARC-Type").unwrap_or("").to_ascii_lowercase()
    }

    /// `WARC-Target-URI`, without the angle brackets some writers add.
    #[must_use]
    pub fn target(&self) -> Option<&str> {
        self.field("WARC-Target-URI")
            .map(|u| u.trim().trim_start_matches('<').trim_end_matches('>'))
    }
}

/// What the reader found next.
#[derive(Debug)]
pub enum Item {
    /// A record read whole.
    Record(Record),
    /// A record that could not be read, skipped.
    Bad {
        /// Where it starts.
        offset: u64,
        /// Why it could not be read.
        reason: String,
    },
}

/// A byte source that counts what was consumed.
struct Counted<R> {
    inner: R,
    pos: u64,
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        self.pos += amt as u64;
        self.inner.consume(amt);
    }
}

/// A WARC file's records, in file order.
pub struct Reader<R: BufRead> {
    /// The file, unless a gzip member holds it.
    source: Option<Counted<R>>,
    gzip: bool,
    /// The gzip member being read, and where it started.
    member: Option<(u64, BufReader<GzDecoder<Counted<R>>>)>,
    done: bool,
    /// Whether `response` and `revisit` blocks are kept (not when only
    /// the headers are wanted, see [`Reader::headers_only`]).
    keep_blocks: bool,
}

impl<R: BufRead> std::fmt::Debug for Reader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> Reader<R> {
    /// A reader over `source`, gzip or not as its first bytes say.
    ///
    /// # Errors
    /// When the first bytes cannot be read.
    pub fn new(mut source: R) -> io::Result<Self> {
        let gzip = source.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        Ok(Self {
            source: Some(Counted {
                inner: source,
                pos: 0,
            }),
            gzip,
            member: None,
            done: false,
            keep_blocks: true,
        })
    }

    /// Read past every block: records come with their fields only.
    #[must_use]
    pub fn headers_only(mut self) -> Self {
        self.keep_blocks = false;
        self
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        if self.gzip {
            self.next_gzip()
        } else {
            let source = self.source.as_mut()?;
            let offset = source.pos;
            match read_record(source, offset, self.keep_blocks) {
                Ok(Some(record)) => Some(Item::Record(record)),
                Ok(None) => {
                    self.done = true;
                    None
                }
                Err(reason) => {
                    // on to the next line that starts a record
                    if let Err(e) = skip_to_warc_line(source) {
                        self.done = true;
                        return Some(Item::Bad {
                            offset,
                            reason: format!("{reason}; then {e}"),
                        });
                    }
                    Some(Item::Bad { offset, reason })
                }
            }
        }
    }
}

impl<R: BufRead> Reader<R> {
    fn next_gzip(&mut self) -> Option<Item> {
        loop {
            if self.member.is_none() {
                let source = self.source.as_mut()?;
                match source.fill_buf() {
                    Ok([]) => {
                        self.done = true;
                        return None;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        self.done = true;
                        return Some(Item::Bad {
                            offset: source.pos,
                            reason: e.to_string(),
                        });
                    }
                }
                // the member holds the file until it ends (`end_member`)
                let source = self.source.take()?;
                let start = source.pos;
                self.member = Some((start, BufReader::new(GzDecoder::new(source))));
            }
            let (start, member) = self.member.as_mut()?;
            let start = *start;
            match read_record(member, start, self.keep_blocks) {
                Ok(Some(record)) => return Some(Item::Record(record)),
                Ok(None) => {
                    // the member is over: the next one starts where it ended
                    self.end_member();
                }
                Err(reason) => {
                    self.end_member();
                    if let Err(e) = self.skip_to_member() {
                        self.done = true;
                        return Some(Item::Bad {
                            offset: start,
                            reason: format!("{reason}; then {e}"),
                        });
                    }
                    return Some(Item::Bad {
                        offset: start,
                        reason,
                    });
                }
            }
        }
    }

    /// Give the source back from the member that ended, at the member's end.
    fn end_member(&mut self) {
        if let Some((_, member)) = self.member.take() {
            self.source = Some(member.into_inner().into_inner());
        }
    }

    /// After a bad member: on to the next gzip header.
    fn skip_to_member(&mut self) -> io::Result<()> {
        let Some(source) = self.source.as_mut() else {
            return Ok(());
        };
        loop {
            let buf = source.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            // a member starts 1f 8b 08; the byte under the cursor may be the
            // start of the one that failed, so look from the next
            let from = usize::from(buf.starts_with(&[0x1f, 0x8b]));
            if let Some(i) = buf[from..].windows(3).position(|w| w == [0x1f, 0x8b, 0x08]) {
                source.consume(from + i);
                return Ok(());
            }
            let n = buf.len().saturating_sub(2).max(1);
            source.consume(n);
        }
    }
}

/// Read one record: `Ok(None)` at the end of the stream.
fn read_record(
    r: &mut impl BufRead,
    offset: u64,
    keep_block: bool,
) -> Result<Option<Record>, String> {
    let mut first = Vec::new();
    // blank lines between records
    loop {
        first.clear();
        let n = read_line_bytes(r, &mut first)?;
        if n == 0 {
            return Ok(None);
        }
        if !first.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    if !first.starts_with(b"WARC/") {
        // an ARC record: its header line, then its block
        let header = super::arc::header(&first)
            .map_err(|e| format!("{e} ({:?})", truncate(&String::from_utf8_lossy(&first))))?;
        let record = header.record(offset);
        return read_block(r, record, header.length, keep_block).map(Some);
    }
    let mut line = String::new();
    let mut fields = Vec::new();
    loop {
        line.clear();
        if read_line(r, &mut line)? == 0 {
            return Err("the record's header ends before its blank line".to_owned());
        }
        let text = line.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            break;
        }
        match text.split_once(':') {
            Some((name, value)) => fields.push((name.trim().to_owned(), value.trim().to_owned())),
            None => {
                return Err(format!(
                    "a header line without a colon: {:?}",
                    truncate(text)
                ));
            }
        }
    }
    let record = Record {
        offset,
        fields,
        block: Vec::new(),
    };
    let length: u64 = record
        .field("Content-Length")
        .and_then(|v| v.parse().ok())
        .ok_or("the record has no valid Content-Length")?;
    read_block(r, record, length, keep_block).map(Some)
}

/// A record's block of `length` bytes (kept when it may be a page, else
/// read past), and the blank lines that end the record.
fn read_block(
    r: &mut impl BufRead,
    mut record: Record,
    length: u64,
    keep_block: bool,
) -> Result<Record, String> {
    let kind = record.kind();
    let mut block = r.take(length);
    if keep_block
        && matches!(kind.as_str(), "response" | "revisit" | "resource")
        && length <= MAX_BLOCK
    {
        let capacity = usize::try_from(length).unwrap_or(0);
        record.block.reserve_exact(capacity);
        block
            .read_to_end(&mut record.block)
            .map_err(|e| e.to_string())?;
        if (record.block.len() as u64) < length {
            return Err(format!(
                "the block is cut short: {} of {length} bytes",
                record.block.len()
            ));
        }
    } else {
        let copied = io::copy(&mut block, &mut io::sink()).map_err(|e| e.to_string())?;
        if copied < length {
            return Err(format!(
                "the block is cut short: {copied} of {length} bytes"
            ));
        }
    }
    // the CRLF CRLF that ends the record, so that the next one's offset is
    // where its version line starts
    let mut ending = 0;
    while ending < 4 {
        match r.fill_buf() {
            Ok([b'\r' | b'\n', ..]) => {
                r.consume(1);
                ending += 1;
            }
            _ => break,
        }
    }
    Ok(record)
}

/// A line, bounded (a header line is short; a runaway one is not WARC).
fn read_line(r: &mut impl BufRead, line: &mut String) -> Result<usize, String> {
    let mut bytes = Vec::new();
    let n = read_line_bytes(r, &mut bytes)?;
    line.push_str(&String::from_utf8_lossy(&bytes));
    Ok(n)
}

/// [`read_line`] as bytes: an ARC header line's URL may hold raw bytes of
/// the page's encoding.
fn read_line_bytes(r: &mut impl BufRead, bytes: &mut Vec<u8>) -> Result<usize, String> {
    r.take(64 * 1024)
        .read_until(b'\n', bytes)
        .map_err(|e| e.to_string())
}

fn skip_to_warc_line(r: &mut impl BufRead) -> Result<(), String> {
    loop {
        let buf = r.fill_buf().map_err(|e| e.to_string())?;
        if buf.is_empty() {
            return Ok(());
        }
        // a record starts at the beginning of a line: a WARC version line
        // (0.17 to 1.1), or an ARC record's URL
        let starts = [
            &b"\nWARC/"[..],
            b"\nhttp://",
            b"\nhttps://",
            b"\nfiledesc://",
        ];
        let found = (1..buf.len())
            .find(|&i| buf[i - 1] == b'\n' && starts.iter().any(|s| buf[i - 1..].starts_with(s)));
        if let Some(i) = found {
            r.consume(i);
            return Ok(());
        }
        let n = buf.len().saturating_sub(11).max(1);
        r.consume(n);
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: &str, uri: &str, block: &str) -> String {
        format!(
            "WARC/1.1\r\nWARC-Type: {kind}\r\nWARC-Target-URI: <{uri}>\r\nWARC-Date: 2024-03-01T08:00:00Z\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: {}\r\n\r\n{block}\r\n\r\n",
            block.len()
        )
    }

    #[test]
    fn a_plain_warc_reads_past_a_bad_record_to_the_next() {
        let page =
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body>通知</body></html>";
        let first = record("response", "http://www.example.gov.cn/a.html", page);
        let bad = "WARC/1.1\r\nWARC-Type: response\r\nContent-Length: many\r\n\r\nxx\r\n\r\n";
        let last = record("response", "http://www.example.gov.cn/b.html", page);
        let text = format!("{first}{bad}{last}");
        let items: Vec<Item> = Reader::new(text.as_bytes()).unwrap().collect();
        assert_eq!(items.len(), 3, "{items:?}");
        let Item::Record(a) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(
            (a.offset, a.target()),
            (0, Some("http://www.example.gov.cn/a.html"))
        );
        assert_eq!(a.block, page.as_bytes());
        let Item::Bad { offset, reason } = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(*offset, first.len() as u64);
        assert!(reason.contains("Content-Length"), "{reason}");
        let Item::Record(b) = &items[2] else {
            panic!("{items:?}")
        };
        assert_eq!(b.target(), Some("http://www.example.gov.cn/b.html"));
    }

    #[test]
    fn other_records_are_read_past_without_their_block() {
        let text = format!(
            "{}{}",
            record(
                "request",
                "http://www.example.gov.cn/a.html",
                "GET /a.html HTTP/1.1\r\n\r\n"
            ),
            record(
                "response",
                "http://www.example.gov.cn/a.html",
                "HTTP/1.1 200 OK\r\n\r\nx"
            )
        );
        let items: Vec<Item> = Reader::new(text.as_bytes()).unwrap().collect();
        let Item::Record(request) = &items[0] else {
            panic!("{items:?}")
        };
        assert!(request.block.is_empty());
        assert_eq!(request.kind(), "request");
        let Item::Record(response) = &items[1] else {
            panic!("{items:?}")
        };
        assert!(!response.block.is_empty());
    }
}
