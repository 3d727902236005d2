//! Writing WARC 1.1: each record its own gzip member (so a reader can seek
//! to any record and a damaged member costs one record), digests as
//! `sha1:BASE32`, record ids as `urn:uuid:` — name-based (v5) from what the
//! record is, so that an export of the same store writes the same ids, and
//! a `revisit` can name the `response` it refers to without a table of
//! every id written.

use sha1::{Digest, Sha1};
use std::fmt::Write as _;
use std::io::{self, Read as _, Write};
use uuid::Uuid;

/// The namespace of govsnap's record ids.
const ID_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_7a52_3f0e_4c41_9d2b_6a8e_0b5c_2e71);

/// A record id: `<urn:uuid:…>`, the same for the same `kind` and `what`.
#[must_use]
pub fn record_id(kind: &str, what: &str) -> String {
    format!(
        "<urn:uuid:{}>",
        Uuid::new_v5(&ID_NAMESPACE, format!("{kind}\n{what}").as_bytes())
    )
}

/// `sha1:` and the base32 of the SHA-1 of `bytes`, as WARC digests are written.
#[must_use]
pub fn digest(bytes: &[u8]) -> String {
    format!(
        "sha1:{}",
        data_encoding::BASE32.encode(&Sha1::digest(bytes))
    )
}

/// Writes records to `out`, one gzip member each.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: Counted<W>,
    written: u64,
}

/// A writer that counts what passes: where each record's member starts.
#[derive(Debug)]
struct Counted<W> {
    inner: W,
    count: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Where a record went: its gzip member's offset and length in the file,
/// as a CDX index gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The member's first byte.
    pub offset: u64,
    /// The member's bytes.
    pub length: u64,
}

impl<W: Write> Writer<W> {
    /// A writer over `out`.
    pub fn new(out: W) -> Self {
        Self {
            out: Counted {
                inner: out,
                count: 0,
            },
            written: 0,
        }
    }

    /// Write one record: `fields` (without `WARC-Block-Digest` and
    /// `Content-Length`, which are added) and its block.
    ///
    /// # Errors
    /// When `out` fails.
    pub fn record(&mut self, fields: &[(&str, &str)], block: &[u8]) -> io::Result<Placed> {
        self.record_of(fields, &Block::Bytes(block), &Digested::of(block))
    }

    /// [`Writer::record`] of a block given as bytes or as a stream (see
    /// [`Block`]), its digest and length already known
    /// ([`Block::digests`]): a stream is read once more, to be written.
    ///
    /// # Errors
    /// When `out` fails, or a stream cannot be read or reads otherwise the
    /// second time.
    pub fn record_of(
        &mut self,
        fields: &[(&str, &str)],
        block: &Block<'_>,
        digested: &Digested,
    ) -> io::Result<Placed> {
        let (block_digest, len) = (&digested.block, digested.len);
        let offset = self.out.count;
        let mut head = String::from("WARC/1.1\r\n");
        for (name, value) in fields {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        let _ = write!(
            head,
            "WARC-Block-Digest: {block_digest}\r\nContent-Length: {len}\r\n\r\n"
        );
        let mut member = flate2::write::GzEncoder::new(&mut self.out, flate2::Compression::new(6));
        member.write_all(head.as_bytes())?;
        match block {
            Block::Bytes(bytes) => member.write_all(bytes)?,
            Block::Stream { head, body } => {
                member.write_all(head)?;
                let copied = io::copy(&mut body()?, &mut member)?;
                if head.len() as u64 + copied != len {
                    return Err(io::Error::other(
                        "a stored body read otherwise the second time",
                    ));
                }
            }
        }
        member.write_all(b"\r\n\r\n")?;
        member.finish()?;
        self.written += 1;
        Ok(Placed {
            offset,
            length: self.out.count - offset,
        })
    }

    /// Records written so far.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The underlying writer, flushed.
    ///
    /// # Errors
    /// When the flush fails.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out.inner)
    }
}

/// A record's block: bytes in memory, or an HTTP head and a body read as
/// a stream, twice (once for the digests and length that go before it,
/// once to write it): a file of hundreds of MB costs a buffer.
pub enum Block<'a> {
    /// The whole block.
    Bytes(&'a [u8]),
    /// An HTTP head, and a body that `body` opens anew each time.
    Stream {
        /// The HTTP head, written first.
        head: &'a [u8],
        /// Opens the body from its start.
        body: &'a dyn Fn() -> io::Result<Box<dyn io::Read + Send>>,
    },
}

impl std::fmt::Debug for Block<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Block::Bytes(bytes) => write!(f, "Block::Bytes({} bytes)", bytes.len()),
            Block::Stream { head, .. } => write!(f, "Block::Stream(head of {} bytes)", head.len()),
        }
    }
}

/// A block's digest and length, for the record's head.
#[derive(Debug, Clone)]
pub struct Digested {
    /// `WARC-Block-Digest`.
    pub block: String,
    /// `Content-Length`.
    pub len: u64,
}

impl Digested {
    /// Those of a block in memory.
    #[must_use]
    pub fn of(block: &[u8]) -> Self {
        Self {
            block: digest(block),
            len: block.len() as u64,
        }
    }
}

impl Block<'_> {
    /// The block's digest and length, and its payload's digest (the
    /// body's; the whole block's when it is bytes), from one reading.
    ///
    /// # Errors
    /// When a stream cannot be read.
    pub fn digests(&self) -> io::Result<(Digested, String)> {
        let sha1 = |h: Sha1| format!("sha1:{}", data_encoding::BASE32.encode(&h.finalize()));
        match self {
            Block::Bytes(bytes) => Ok((Digested::of(bytes), digest(bytes))),
            Block::Stream { head, body } => {
                let (mut block, mut payload) = (Sha1::new(), Sha1::new());
                block.update(head);
                let mut reader = body()?;
                let mut buffer = vec![0; 256 * 1024];
                let mut len = head.len() as u64;
                loop {
                    let n = match reader.read(&mut buffer) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    block.update(&buffer[..n]);
                    payload.update(&buffer[..n]);
                    len += n as u64;
                }
                Ok((
                    Digested {
                        block: sha1(block),
                        len,
                    },
                    sha1(payload),
                ))
            }
        }
    }
}

/// An HTTP head to go with a decoded body: the head as received, less the
/// headers that describe an encoding the stored body no longer has
/// (`Content-Encoding`, `Transfer-Encoding`) and its `Content-Length`, which
/// is written again for the body as stored; or, for a version stored
/// without its head, a plain `200` with its `Content-Type`.
#[must_use]
pub fn http_head(head: Option<&str>, content_type: Option<&str>, body_len: usize) -> String {
    let mut out = String::new();
    if let Some(head) = head {
        for line in head.split("\r\n").filter(|l| !l.is_empty()) {
            let name = line.split(':').next().unwrap_or("").trim();
            let stale = ["content-encoding", "transfer-encoding", "content-length"]
                .iter()
                .any(|h| name.eq_ignore_ascii_case(h));
            if !stale {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
    } else {
        out.push_str("HTTP/1.1 200 OK\r\n");
        if let Some(ct) = content_type {
            let _ = write!(out, "Content-Type: {ct}\r\n");
        }
    }
    let _ = write!(out, "Content-Length: {body_len}\r\n\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_ids_are_as_warc_writes_them() {
        // SHA-1 of "abc", base32: a known value
        assert_eq!(digest(b"abc"), "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
        assert_eq!(record_id("response", "x"), record_id("response", "x"));
        assert_ne!(record_id("response", "x"), record_id("request", "x"));
        assert!(record_id("response", "x").starts_with("<urn:uuid:"));
    }

    #[test]
    fn a_head_loses_the_encoding_its_body_no_longer_has() {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\nserver: nginx\r\n";
        assert_eq!(
            http_head(Some(head), None, 42),
            "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\nserver: nginx\r\nContent-Length: 42\r\n\r\n"
        );
        assert_eq!(
            http_head(None, Some("text/html; charset=GBK"), 7),
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=GBK\r\nContent-Length: 7\r\n\r\n"
        );
    }
}
