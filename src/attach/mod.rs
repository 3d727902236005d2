//! Attachments (SPEC §11): the files a page links (附件), which are often
//! the document itself: the regulation as PDF, the budget as XLSX, the
//! notice as WPS or OFD. This room turns a file's bytes into its record;
//! the crawl fetches and the store keeps them.
//!
//! The flow: [`format::detect`] names the format from the bytes (then the
//! name, then the `Content-Type`); [`extract`] runs the format's reader
//! within the file's budget (time, and bytes inflated from compressed
//! members) and gives an [`AttachmentRecord`] whose `text` is the file's
//! text in reading order, tables one row per paragraph with cells joined by
//! ` | `. A file a reader cannot read whole still gets a record, with the
//! reason in `warnings`; no file takes the process down.
//!
//! Readers, one module per family: [`pdf`] (the text layer, lines and
//! table cells from the runs' boxes), [`doc`] (DOC and WPS, Word's binary),
//! [`ofd`] (OFD, GB/T 33190), [`rtf`], [`ooxml`] (DOCX, ODT: zipped XML),
//! [`sheet`] (XLSX, XLS, ET, ODS, CSV), [`archive`] (ZIP, RAR, 7Z: member
//! names and the text of members that are documents), [`plain`] (TXT in
//! any Chinese encoding). A file over [`MAX_TEXT_BYTES`] is not read; an
//! encrypted one is named so (`encrypted`).

pub mod archive;
pub mod doc;
pub mod format;
pub mod ofd;
pub mod ooxml;
pub mod pdf;
pub mod plain;
pub mod rtf;
pub mod sheet;

pub use crate::record::{ATTACHMENT_SCHEMA, AttachmentRecord};
pub use format::{Format, detect};
use std::time::{Duration, Instant};

/// How long one file's text may take by default (SPEC §11).
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(30);

/// Bytes a file's compressed members may inflate to, in all: a DOCX whose
/// `document.xml` inflates a thousandfold is a bomb, not a document.
pub const MAX_INFLATED: u64 = 256 * 1024 * 1024;

/// What a format's reader gives.
#[derive(Debug, Default)]
pub struct Read {
    /// Paragraphs in reading order.
    pub paragraphs: Vec<String>,
    /// The metadata's title.
    pub title: Option<String>,
    /// The metadata's date (`YYYY-MM-DD`).
    pub published: Option<String>,
    /// Pages or sheets.
    pub pages: Option<u32>,
    /// What the reader noticed.
    pub warnings: Vec<String>,
}

/// Why a reader stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file is not what its format says, or is cut short.
    #[error("{0}")]
    Corrupt(String),
    /// A member would inflate past [`MAX_INFLATED`].
    #[error("a compressed member inflates over a hundredfold, or past {} MiB in all: a decompression bomb, not read", MAX_INFLATED >> 20)]
    Bomb,
    /// The file is encrypted or protected by a password.
    #[error("encrypted: its text cannot be read without the password")]
    Encrypted,
    /// The budget ran out.
    #[error("the text ran out of its time budget ({0} s)")]
    Timeout(u64),
}

/// The budget a reader checks as it goes.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    deadline: Instant,
    seconds: u64,
}

impl Budget {
    /// A budget of `time` from now.
    #[must_use]
    pub fn new(time: Duration) -> Self {
        Self {
            deadline: Instant::now() + time,
            seconds: time.as_secs(),
        }
    }

    /// The time left.
    #[must_use]
    pub fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// An error once the time is up.
    ///
    /// # Errors
    /// [`ReadError::Timeout`] after the deadline.
    pub fn check(&self) -> Result<(), ReadError> {
        if Instant::now() > self.deadline {
            Err(ReadError::Timeout(self.seconds))
        } else {
            Ok(())
        }
    }
}

/// What is known of a file besides its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileInfo<'a> {
    /// Where it was fetched.
    pub url: Option<&'a str>,
    /// Its file name.
    pub name: Option<&'a str>,
    /// The server's `Content-Type`.
    pub content_type: Option<&'a str>,
}

/// A file's name: the one its `Content-Disposition` gave, else its URL's
/// last path segment, percent-decoded (`%E9%99%84…` is `附…`).
#[must_use]
pub fn file_name(url: &str, disposition: Option<&str>) -> Option<String> {
    let name = match disposition {
        Some(name) => name.to_owned(),
        None => url::Url::parse(url)
            .ok()?
            .path_segments()?
            .next_back()
            .map(str::to_owned)?,
    };
    Some(
        percent_encoding::percent_decode_str(&name)
            .decode_utf8_lossy()
            .into_owned(),
    )
    .filter(|n| !n.is_empty())
}

/// The largest file whose text is read. Readers hold a file whole (a PDF
/// reader twice over) with what they make of it; a crawl reads several
/// files at once. A larger file is stored whole all the same, its record
/// without text and with the warning [`too_large`] gives.
pub const MAX_TEXT_BYTES: u64 = 64 * 1024 * 1024;

/// The record of a file in `format`, its text read within `time`.
///
/// The reader runs on a thread of its own: past `time` the record is made
/// without its text (the reader, which checks the budget as it goes, stops
/// soon after), and a reader that panics on a malformed file costs its
/// thread, never the caller.
#[must_use]
pub fn extract(
    bytes: &[u8],
    format: Format,
    info: FileInfo<'_>,
    time: Duration,
) -> AttachmentRecord {
    extract_owned(bytes.to_vec(), format, info, time)
}

/// [`extract`] of bytes the reader's thread may keep (no copy of them is
/// made).
#[must_use]
pub fn extract_owned(
    bytes: Vec<u8>,
    format: Format,
    info: FileInfo<'_>,
    time: Duration,
) -> AttachmentRecord {
    let (len, hash) = (bytes.len() as u64, blake3::hash(&bytes));
    if len > MAX_TEXT_BYTES {
        return too_large(format, info, len, hash);
    }
    let budget = Budget::new(time);
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("attachment text".to_owned())
        .spawn(move || {
            let _ = tx.send(read(bytes, format, &budget));
        });
    let read = match spawned {
        // a grace second past the budget for the reader's own check
        Ok(_) => match rx.recv_timeout(time + Duration::from_secs(1)) {
            Ok(read) => read,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                Err(ReadError::Timeout(time.as_secs()))
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(ReadError::Corrupt(
                "its reader failed on a malformed file".to_owned(),
            )),
        },
        Err(e) => Err(ReadError::Corrupt(format!("no thread to read it: {e}"))),
    };
    record(format, info, (len, hash), read)
}

/// The record of a file over [`MAX_TEXT_BYTES`]: stored, its text not read.
#[must_use]
pub fn too_large(
    format: Format,
    info: FileInfo<'_>,
    len: u64,
    hash: blake3::Hash,
) -> AttachmentRecord {
    let reason = format!(
        "text not read: the file is over {} MiB",
        MAX_TEXT_BYTES >> 20
    );
    record(
        format,
        info,
        (len, hash),
        Ok(Read {
            warnings: vec![reason],
            ..Read::default()
        }),
    )
}

/// A file's record from what its reader gave.
fn record(
    format: Format,
    info: FileInfo<'_>,
    (len, hash): (u64, blake3::Hash),
    read: Result<Read, ReadError>,
) -> AttachmentRecord {
    let (read, error) = match read {
        Ok(read) => (read, None),
        Err(e) => (Read::default(), Some(e.to_string())),
    };
    let mut warnings = read.warnings;
    warnings.extend(error);
    let paragraphs: Vec<String> = read
        .paragraphs
        .iter()
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect();
    let title = read
        .title
        .filter(|t| !t.trim().is_empty())
        .or_else(|| paragraphs.first().map(|p| p.chars().take(100).collect()));
    AttachmentRecord {
        schema: ATTACHMENT_SCHEMA,
        kind: "attachment".to_owned(),
        url: info.url.map(str::to_owned),
        name: info.name.map(str::to_owned),
        content_type: info.content_type.map(str::to_owned),
        format: format.name().to_owned(),
        bytes: len,
        hash: hash.to_hex().to_string(),
        linked_from: Vec::new(),
        title,
        published: read.published,
        text: paragraphs.join("\n"),
        pages: read.pages,
        warnings,
    }
}

/// The format's reader.
fn read(bytes: Vec<u8>, format: Format, budget: &Budget) -> Result<Read, ReadError> {
    if format != Format::Pdf && format::is_locked_ooxml(&bytes) {
        return Err(ReadError::Encrypted);
    }
    match format {
        // the PDF reader keeps the bytes it is given
        Format::Pdf => pdf::read(bytes, budget),
        Format::Docx | Format::Odt => ooxml::read(&bytes, format, budget),
        Format::Xlsx | Format::Xls | Format::Et | Format::Ods => sheet::read(&bytes, budget),
        Format::Csv => sheet::read_csv(&bytes, budget),
        Format::Txt => Ok(plain::read(&bytes)),
        Format::Zip => archive::read_zip(&bytes, budget),
        Format::Rar => archive::read_rar(&bytes, budget),
        Format::SevenZ => archive::read_7z(&bytes, budget),
        Format::Doc | Format::Wps => doc::read(&bytes),
        Format::Ofd => ofd::read(&bytes, budget),
        Format::Rtf => rtf::read(&bytes, budget),
    }
}
