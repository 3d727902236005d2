//! A file linked from a document (附件).

use serde::{Deserialize, Serialize};

/// A linked file: PDF, Word, spreadsheet, archive, OFD …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The link text, or the file name when the link has no text.
    pub name: String,
    /// The absolute URL of the file.
    pub url: String,
}
