//! A file's record (SPEC §11): what the attachment readers get out of a PDF,
//! a DOCX, an OFD … and the store keeps beside each of its versions. It is
//! a record, like a page's, so that the store, which knows records and
//! nothing of how they are made, can hold it.

use serde::{Deserialize, Serialize};

/// The attachment record's schema.
pub const ATTACHMENT_SCHEMA: u32 = 1;

/// An attachment version's record (SPEC §11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    /// [`ATTACHMENT_SCHEMA`].
    pub schema: u32,
    /// `"attachment"`.
    pub kind: String,
    /// Its URL, when it was fetched.
    pub url: Option<String>,
    /// Its file name: the link's text, `Content-Disposition`, or the URL's
    /// last segment.
    pub name: Option<String>,
    /// The `Content-Type` the server gave.
    pub content_type: Option<String>,
    /// The format read (`pdf`, `docx` …).
    pub format: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// blake3 of its bytes, hex.
    pub hash: String,
    /// The pages that link it.
    pub linked_from: Vec<String>,
    /// The title its metadata gives, else its first line.
    pub title: Option<String>,
    /// The date its metadata gives (`YYYY-MM-DD`), when it gives one.
    pub published: Option<String>,
    /// Its text in reading order, one paragraph per line.
    pub text: String,
    /// Pages (PDF, OFD) or sheets (spreadsheets), when counted.
    pub pages: Option<u32>,
    /// What the reader noticed or could not do.
    pub warnings: Vec<String>,
}

impl AttachmentRecord {
    /// Its text as a page's record (SPEC §4), so that every reader of
    /// versions (diff, search, export) reads a file as it reads a page:
    /// title, date and text; its format, size, hash and pages in `meta`,
    /// so that new bytes, and only they, are a new version (its name and
    /// linking pages are the attachment record's).
    #[must_use]
    pub fn as_record(&self, url: &str) -> super::Record {
        let mut meta = std::collections::BTreeMap::new();
        meta.insert("format".to_owned(), self.format.clone());
        meta.insert("bytes".to_owned(), self.bytes.to_string());
        meta.insert("hash".to_owned(), self.hash.clone());
        if let Some(pages) = self.pages {
            meta.insert("pages".to_owned(), pages.to_string());
        }
        let paragraphs: Vec<String> = self.text.lines().map(str::to_owned).collect();
        super::Record {
            schema: super::SCHEMA_VERSION,
            url: url.to_owned(),
            title: self.title.clone(),
            published: self.published.clone(),
            source: None,
            meta,
            attachments: Vec::new(),
            sections: vec![super::Section {
                number: None,
                heading: None,
                level: 0,
                paragraphs,
                children: Vec::new(),
            }],
            text: self.text.clone(),
            warnings: self.warnings.clone(),
        }
    }
}
