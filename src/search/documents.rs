//! The index's schema, and a stored version as its document.
//!
//! One index document per stored version, so that `versions=all` finds
//! what a page once said; `latest` marks each page's newest, so that the
//! default search sees one version a page. When version n arrives, version
//! n − 1 is indexed again without the mark (tantivy documents do not
//! change in place): a page that changes costs one more document write,
//! a page that does not costs nothing.
//!
//! Only what a hit needs to find its version is stored (URL and version
//! number); its title, dates and text are read from the store when the hit
//! is shown, so the index holds terms, not a second copy of the archive.

use super::tokenize;
use crate::store::{Change, EventKind, Store, Version};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{IndexWriter, TantivyDocument, Term};

/// Text indexed per version, at most: a 60 MB attachment's text would hold
/// the writer's memory many times over; its first 8 MiB are searched.
pub(super) const MAX_INDEXED_TEXT: usize = 8 << 20;

/// Why indexing or searching failed: the store, or the index.
#[derive(Debug)]
pub(super) enum Failed {
    Store(crate::Error),
    Index(tantivy::TantivyError),
}

impl From<crate::Error> for Failed {
    fn from(e: crate::Error) -> Self {
        Self::Store(e)
    }
}

impl From<tantivy::TantivyError> for Failed {
    fn from(e: tantivy::TantivyError) -> Self {
        Self::Index(e)
    }
}

/// The schema's fields.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fields {
    /// URL ‖ NUL ‖ version: one version's document, to replace it.
    pub(super) key: Field,
    pub(super) url: Field,
    pub(super) version: Field,
    /// 1 on each page's newest version.
    pub(super) latest: Field,
    pub(super) site: Field,
    /// `YYYYMMDD`: published, else the day it was fetched.
    pub(super) date: Field,
    pub(super) year: Field,
    pub(super) title: Field,
    /// Labelled metadata values, source, a file's name.
    pub(super) meta: Field,
    pub(super) body: Field,
    /// Title, 文号, 索引号 … whole, as [`tokenize::key`]s: an exact ask.
    pub(super) keys: Field,
}

const NAMES: [&str; 11] = [
    "key", "url", "version", "latest", "site", "date", "year", "title", "meta", "body", "keys",
];

pub(super) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenize::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    b.add_text_field(NAMES[0], STRING);
    b.add_text_field(NAMES[1], STORED);
    b.add_u64_field(NAMES[2], STORED);
    b.add_u64_field(NAMES[3], INDEXED);
    b.add_text_field(NAMES[4], STRING | FAST);
    b.add_u64_field(NAMES[5], INDEXED | FAST);
    b.add_u64_field(NAMES[6], FAST);
    b.add_text_field(NAMES[7], text.clone());
    b.add_text_field(NAMES[8], text.clone());
    b.add_text_field(NAMES[9], text);
    b.add_text_field(NAMES[10], STRING);
    let schema = b.build();
    let fields = Fields::of(&schema).expect("the schema just built has every field");
    (schema, fields)
}

impl Fields {
    /// The fields of an index's schema, if it has them all.
    pub(super) fn of(schema: &Schema) -> Option<Self> {
        let f = |i: usize| schema.get_field(NAMES[i]).ok();
        Some(Self {
            key: f(0)?,
            url: f(1)?,
            version: f(2)?,
            latest: f(3)?,
            site: f(4)?,
            date: f(5)?,
            year: f(6)?,
            title: f(7)?,
            meta: f(8)?,
            body: f(9)?,
            keys: f(10)?,
        })
    }

    fn key_term(self, url: &str, version: u32) -> Term {
        Term::from_field_text(self.key, &format!("{url}\0{version}"))
    }
}

/// Index what one change of the feed adds: a version's document (and its
/// predecessor's again, no longer the latest). Returns the versions
/// indexed (0 for a gone mark, or a version the store no longer has).
pub(super) fn index_change(
    fields: &Fields,
    writer: &IndexWriter,
    store: &Store,
    change: &Change,
) -> Result<u64, Failed> {
    if change.kind != EventKind::Version {
        return Ok(0);
    }
    let Some(version) = store.version_of_change(change)? else {
        return Ok(0);
    };
    let site = change.site.as_deref();
    if version.version > 1
        && let Some(previous) = store.version(&version.url, version.version - 1)?
    {
        writer.delete_term(fields.key_term(&previous.url, previous.version));
        writer.add_document(document(fields, &previous, site, false))?;
    }
    writer.delete_term(fields.key_term(&version.url, version.version));
    writer.add_document(document(fields, &version, site, true))?;
    Ok(1)
}

/// `YYYY-MM-DD…` as `YYYYMMDD`.
pub(super) fn day_number(date: &str) -> Option<u64> {
    let b = date.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = date.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some(y * 10_000 + m * 100 + d)
}

/// The date a version is filed under: its published date, else the day
/// it was fetched (a file or page that prints no date).
pub(super) fn filed_date(version: &Version) -> Option<u64> {
    version
        .record
        .published
        .as_deref()
        .and_then(day_number)
        .or_else(|| day_number(&version.fetched_at))
}

/// Labels whose value, asked for whole, should put the document first:
/// 文号, 发文字号, 索引号, 编号 … (they end in 号).
fn is_number_label(label: &str) -> bool {
    label.ends_with('号')
}

fn cut(text: &str, at: usize) -> &str {
    if text.len() <= at {
        return text;
    }
    let end = (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    &text[..end]
}

fn document(
    fields: &Fields,
    version: &Version,
    site: Option<&str>,
    latest: bool,
) -> TantivyDocument {
    let record = &version.record;
    let mut doc = TantivyDocument::new();
    doc.add_text(fields.key, format!("{}\0{}", version.url, version.version));
    doc.add_text(fields.url, &version.url);
    doc.add_u64(fields.version, u64::from(version.version));
    doc.add_u64(fields.latest, u64::from(latest));
    if let Some(site) = site {
        doc.add_text(fields.site, site);
    }
    if let Some(date) = filed_date(version) {
        doc.add_u64(fields.date, date);
        doc.add_u64(fields.year, date / 10_000);
    }
    if let Some(title) = &record.title {
        doc.add_text(fields.title, title);
        doc.add_text(fields.keys, tokenize::key(title));
    }
    let mut meta: Vec<&str> = record.meta.values().map(String::as_str).collect();
    meta.extend(record.source.as_deref());
    if let Some(name) = version.attachment.as_ref().and_then(|a| a.name.as_deref()) {
        meta.push(name);
    }
    doc.add_text(fields.meta, meta.join("\n"));
    for (label, value) in &record.meta {
        if is_number_label(label) {
            doc.add_text(fields.keys, tokenize::key(value));
        }
    }
    doc.add_text(fields.body, cut(&record.text, MAX_INDEXED_TEXT));
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_strictly() {
        assert_eq!(day_number("2024-03-07"), Some(20_240_307));
        assert_eq!(day_number("2024-03-07T10:00:00Z"), Some(20_240_307));
        assert_eq!(day_number("2024-13-07"), None);
        assert_eq!(day_number("二〇二四年"), None);
        assert_eq!(day_number("2024-0"), None);
    }
}
