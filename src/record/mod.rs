//! The record: what govsnap makes of one page (SPEC §4, schema 1).
//!
//! Plain serde types with no I/O. Field order is the output order, so a record
//! printed by `govsnap extract`, kept in the store or written by an export reads
//! the same everywhere.
//!
//! # Architecture
//! - [`Record`]: one page's document, with its metadata, sections and text.
//! - [`Section`]: one node of the section tree; [`build_sections`] nests a
//!   body's paragraphs by their numbering (the store derives a record's
//!   tree from its text with it, rather than keep both).
//! - [`Attachment`]: a linked file.
//! - [`RecordDiff`]: what changed between two records, down to the words.
//! - [`render`]: a record as plain text or Markdown, for people.

mod attachment;
pub mod diff;
mod file;
pub mod render;
mod section;
mod tree;

pub use attachment::Attachment;
pub use diff::RecordDiff;
pub use file::{ATTACHMENT_SCHEMA, AttachmentRecord};
pub use section::Section;
pub use tree::{build_sections, sections_of_text};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The record schema version written in every record's `schema` field.
pub const SCHEMA_VERSION: u32 = 1;

/// One page's document, normalized (SPEC §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Always [`SCHEMA_VERSION`].
    pub schema: u32,
    /// The page's canonical URL.
    pub url: String,
    /// The document's own title, without the site suffix of `<title>`.
    pub title: Option<String>,
    /// Publication date as `YYYY-MM-DD`.
    pub published: Option<String>,
    /// The issuing source (来源, 发布机构 …), never the site's own name.
    pub source: Option<String>,
    /// Every labelled field found on the page, label without its colon.
    pub meta: BTreeMap<String, String>,
    /// Linked files, with absolute URLs.
    pub attachments: Vec<Attachment>,
    /// The body as a section tree, in document order.
    pub sections: Vec<Section>,
    /// The whole normalized body, one paragraph per line.
    pub text: String,
    /// What the pipeline noticed and worked around.
    pub warnings: Vec<String>,
}
