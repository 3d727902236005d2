//! A fetched page or file made ready for the writer, off it: hashed, its
//! raw bytes compressed (a spooled file's from disk to disk, see `spool`),
//! everything owned so that it can cross threads.

use super::compress;
use super::kept::RawValue;
use crate::error::{Error, Result};
use crate::record::Record;
use crate::store::spool::{Packed, Spool};
use crate::store::stored::record_frame;
use crate::store::{Fetch, SiteDicts, ZSTD_LEVEL, content_hash, timestamp};

/// A fetched page and its record, ready to be written: hashed, its raw bytes
/// compressed, everything owned, so that it can cross threads. This is the
/// CPU-heavy half of [`crate::store::Store::put`].
#[derive(Debug, Clone)]
pub struct PreparedPage {
    pub(super) url: String,
    pub(super) site: Option<String>,
    pub(super) at: String,
    pub(super) status: u16,
    pub(super) content_type: Option<String>,
    pub(super) duration_ms: u64,
    pub(super) etag: Option<String>,
    pub(super) last_modified: Option<String>,
    pub(super) bytes: u64,
    pub(super) record: Record,
    pub(super) content: String,
    pub(super) raw_hash: blake3::Hash,
    pub(super) compressed: Vec<u8>,
    /// A spooled file's compressed bytes, on disk (`spool`): then
    /// `compressed` is empty.
    pub(super) packed: Option<Packed>,
    /// The response's head: its hash, and its bytes compressed.
    pub(super) head: Option<(blake3::Hash, Vec<u8>)>,
    /// The site's dictionaries when the page was prepared: the raw bytes
    /// were compressed with the first, the record will be with the second.
    pub(super) dicts: SiteDicts,
    pub(super) conditional: Option<String>,
    /// Why the certificate was not valid (SPEC §7's `tls = "lenient"`).
    pub(super) tls_invalid: Option<String>,
    /// The record as it is kept, compressed against the raw bytes
    /// (`super::super::stored`), when the version keeps one.
    pub(super) record_frame: Option<Vec<u8>>,
    /// For a file (SPEC §11), its attachment record.
    pub(super) attachment: Option<crate::record::AttachmentRecord>,
}

impl PreparedPage {
    /// Hash and compress a fetched page and its record.
    ///
    /// # Errors
    /// [`Error::Io`] when compression fails.
    pub fn new(fetch: &Fetch<'_>, record: Record) -> Result<Self> {
        Self::with_dicts(fetch, record, SiteDicts::default())
    }

    /// Drop what the writer no longer needs of the record, once it is kept
    /// against the page: its text and sections, the bulk of a page held in
    /// a site's batch until it commits.
    pub(super) fn slim(&mut self) {
        if self.record_frame.is_some() {
            self.record.text = String::new();
            self.record.sections = Vec::new();
        }
    }

    /// Bytes of the compressed raw page.
    #[must_use]
    pub fn compressed_len(&self) -> usize {
        self.packed.as_ref().map_or(self.compressed.len(), |p| {
            usize::try_from(p.len).unwrap_or(usize::MAX)
        })
    }

    /// Its raw bytes as the packs will hold them.
    pub(super) fn raw_value(&self) -> RawValue<'_> {
        self.packed
            .as_ref()
            .map_or(RawValue::Memory(&self.compressed), RawValue::Spooled)
    }

    /// [`PreparedPage::new`], with the site's dictionaries
    /// ([`crate::store::Store::site_dicts`]): the raw bytes compressed with the first,
    /// the record to be with the second.
    ///
    /// # Errors
    /// [`Error::Io`] when compression fails.
    pub fn with_dicts(fetch: &Fetch<'_>, record: Record, dicts: SiteDicts) -> Result<Self> {
        Self::build(fetch, record, dicts, None)
    }

    fn build(
        fetch: &Fetch<'_>,
        record: Record,
        dicts: SiteDicts,
        attachment: Option<crate::record::AttachmentRecord>,
    ) -> Result<Self> {
        let compressed = match dicts.raw.as_deref() {
            Some(d) => d.compress(fetch.bytes),
            None => compress(fetch.bytes),
        }
        .map_err(|e| Error::Io {
            what: "compressing a page".to_owned(),
            source: e,
        })?;
        Ok(Self {
            url: fetch.url.to_owned(),
            site: fetch.site.map(str::to_owned),
            at: timestamp(fetch.fetched_at),
            status: fetch.status,
            content_type: fetch.content_type.map(str::to_owned),
            duration_ms: fetch.duration_ms,
            etag: fetch.etag.map(str::to_owned),
            last_modified: fetch.last_modified.map(str::to_owned),
            bytes: fetch.bytes.len() as u64,
            content: content_hash(&record),
            raw_hash: blake3::hash(fetch.bytes),
            compressed,
            packed: None,
            dicts,
            conditional: fetch.conditional.map(str::to_owned),
            tls_invalid: fetch.tls_invalid.map(str::to_owned),
            // a page's record, against its bytes; a file's stays in the
            // version's head (its bytes may be hundreds of MB, and a file's
            // page record is its attachment record's anyway)
            record_frame: match attachment {
                None => {
                    record_frame(fetch.url, &record, None, fetch.bytes).map_err(|e| Error::Io {
                        what: "compressing a record".to_owned(),
                        source: e,
                    })?
                }
                Some(_) => None,
            },
            attachment,
            head: fetch
                .head
                .map(|h| compress(h.as_bytes()).map(|c| (blake3::hash(h.as_bytes()), c)))
                .transpose()
                .map_err(|e| Error::Io {
                    what: "compressing a response head".to_owned(),
                    source: e,
                })?,
            record,
        })
    }

    /// A fetched file (SPEC §11) and its attachment record: its version
    /// keeps the record, and a page's record made of it (title, date,
    /// text; format, name, size and hash in `meta`), which decides, as a
    /// page's does, whether it is a new version.
    ///
    /// # Errors
    /// [`Error::Io`] when compression fails.
    pub fn attachment(
        fetch: &Fetch<'_>,
        attachment: crate::record::AttachmentRecord,
    ) -> Result<Self> {
        let record = attachment.as_record(fetch.url);
        // a file is no page: the site's dictionary of its pages' bytes
        // would not shrink it
        Self::build(fetch, record, SiteDicts::default(), Some(attachment))
    }

    /// [`PreparedPage::attachment`] for a file spooled to disk while it
    /// downloaded (`fetch.bytes` is then empty): its bytes are compressed
    /// from the spool into another file, a buffer at a time, and copied
    /// into the packs when the batch commits.
    ///
    /// # Errors
    /// [`Error::Io`] when the spool cannot be read or compressed.
    pub fn spooled_attachment(
        fetch: &Fetch<'_>,
        spool: &Spool,
        attachment: crate::record::AttachmentRecord,
    ) -> Result<Self> {
        let packed = spool.pack(ZSTD_LEVEL).map_err(|e| Error::Io {
            what: "compressing a downloaded file".to_owned(),
            source: e,
        })?;
        let mut page = Self::attachment(fetch, attachment)?;
        page.bytes = spool.len();
        page.raw_hash = spool.hash();
        page.compressed = Vec::new();
        page.packed = Some(packed);
        Ok(page)
    }

    /// Whether it is a file a page links, not a page.
    #[must_use]
    pub fn is_attachment(&self) -> bool {
        self.attachment.is_some()
    }

    /// Name the pages that link the file (its record's `linked_from`),
    /// and the name a page's link gives it, which wins over the one its
    /// response gave.
    pub fn linked_from(&mut self, pages: Vec<String>, name: Option<String>) {
        if let Some(a) = &mut self.attachment {
            a.linked_from = pages;
            if name.is_some() {
                a.name = name;
            }
        }
    }

    /// The page's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The page's record (whole until the page is added to a batch, which
    /// keeps only what the writer needs of it).
    #[must_use]
    pub fn record(&self) -> &Record {
        &self.record
    }

    /// The record's content hash.
    #[must_use]
    pub fn content(&self) -> &str {
        &self.content
    }
}
