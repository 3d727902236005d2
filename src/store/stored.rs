//! How a version is kept (tree `versions`): its record once, and its text
//! against the page it came from.
//!
//! A page's record holds its body twice, as `sections` and as `text`, and
//! extraction builds the first from the second's lines
//! ([`crate::record::sections_of_text`]). So a version is written without
//! `sections` whenever that rule gives them back, checked as it is written;
//! a record it would not give back (a paragraph with a line break in it, a
//! record an older extraction made) keeps its own. A file's version keeps
//! its attachment record and no page record when the page record is the
//! attachment's ([`AttachmentRecord::as_record`]), as it always is when the
//! crawl made it.
//!
//! The record's text is also in the page's raw bytes, which the store
//! keeps anyway. So a page's record is one zstd frame compressed with those
//! bytes as its dictionary (raw content: the frame refers back into them),
//! made off the writer ([`record_frame`]), and the version's value
//! is [`COMPOSITE`] ‖ the length of its head (u32 LE) ‖ the head (the
//! version's JSON without `record`, a zstd frame of its own, no site
//! dictionary: it is mostly hashes) ‖ that frame.
//! A reader decodes the head, reads the raw bytes its `raw_hash` names,
//! and decodes the record against them ([`Store::composite_json`]). On the
//! generated site with varied text (`bench/store_size.sh 2000 1 --heavy
//! --varied`) that took the records from 3.1 KB to about 0.3 KB a version.
//!
//! Reading puts back what was left out, so every reader of [`Version`]
//! gets the whole record as before; a version kept whole (an older
//! store's, or any without raw bytes) reads as it always did.

use super::Store;
use super::codec;
use super::values::Version;
use crate::record::{Attachment, AttachmentRecord, Record, Section, sections_of_text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use zstd::zstd_safe;

/// The first bytes of a version value in two parts (head, and record
/// against the raw bytes). No zstd frame, JSON or pack pointer (`0xFF`)
/// begins so.
pub(super) const COMPOSITE: [u8; 3] = [0xFE, b'V', 1];

/// The largest record a frame may claim to hold (a corrupt header is not
/// followed).
const MAX_RECORD: u64 = 256 * 1024 * 1024;

/// A page's record as it is kept (no `sections` its text gives back), one
/// zstd frame compressed against `raw`, the page's bytes; `None` when the
/// version keeps no page record (a file's, see [`record_kept`]).
///
/// # Errors
/// When the record cannot be written as JSON or zstd fails.
pub(super) fn record_frame(
    url: &str,
    record: &Record,
    attachment: Option<&AttachmentRecord>,
    raw: &[u8],
) -> std::io::Result<Option<Vec<u8>>> {
    let Some(kept) = record_kept(url, record, attachment) else {
        return Ok(None);
    };
    let json = serde_json::to_vec(&kept).map_err(std::io::Error::other)?;
    codec::compress(&json, &codec::With::Content(prefix(raw))).map(Some)
}

/// A version's value: its head alone, or [`COMPOSITE`] with the record's
/// frame after it.
pub(super) fn version_value(head: Vec<u8>, record: Option<&[u8]>) -> Vec<u8> {
    let Some(record) = record else {
        return head;
    };
    let mut out = Vec::with_capacity(COMPOSITE.len() + 4 + head.len() + record.len());
    out.extend_from_slice(&COMPOSITE);
    out.extend_from_slice(&u32::try_from(head.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(record);
    out
}

/// A [`COMPOSITE`] value's head frame and record frame.
pub(super) fn composite_parts(value: &[u8]) -> Result<(&[u8], &[u8]), String> {
    let cut = || "a version value cut short".to_owned();
    let rest = value.strip_prefix(&COMPOSITE[..]).ok_or_else(cut)?;
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(cut)?;
    let len = usize::try_from(u32::from_le_bytes(*len)).unwrap_or(usize::MAX);
    if len > rest.len() {
        return Err(cut());
    }
    Ok(rest.split_at(len))
}

/// The raw bytes as zstd's dictionary for a record: their content, which
/// zstd takes as such (the frame refers back into it) unless it begins
/// with a formatted dictionary's magic number; bytes that do (no page does)
/// are no dictionary, for the writer and the reader alike.
fn prefix(raw: &[u8]) -> &[u8] {
    const DICT_MAGIC: [u8; 4] = 0xEC30_A437_u32.to_le_bytes();
    if raw.starts_with(&DICT_MAGIC) {
        &[]
    } else {
        raw
    }
}

impl Store {
    /// The JSON of a [`COMPOSITE`] version value: its head's, with the
    /// record decoded against the raw bytes the head names.
    pub(super) fn composite_json(&self, value: &[u8]) -> Result<Vec<u8>, String> {
        #[derive(Deserialize)]
        struct Head {
            raw_hash: String,
        }
        let (head, record) = composite_parts(value)?;
        let mut json = self.decode_frame(head)?;
        let raw_hash = serde_json::from_slice::<Head>(&json)
            .map_err(|e| e.to_string())?
            .raw_hash;
        let raw = self
            .raw_by_hash(&raw_hash)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| {
                format!("the raw bytes {raw_hash} its record is kept against are missing")
            })?;
        let size = zstd_safe::get_frame_content_size(record);
        if size > MAX_RECORD {
            return Err(format!("a record's zstd frame claims {size} bytes"));
        }
        let text = codec::decompress(
            record,
            usize::try_from(size).unwrap_or(0),
            &codec::Using::Content(prefix(&raw)),
        )?;
        // the head is a JSON object: the record goes in as its last field
        if json.pop() != Some(b'}') {
            return Err("a version's head is not a JSON object".to_owned());
        }
        json.extend_from_slice(b",\"record\":");
        json.extend_from_slice(&text);
        json.push(b'}');
        Ok(json)
    }
}

/// A [`Version`] as it is written, borrowed from what is stored.
#[derive(Serialize)]
pub(super) struct VersionRef<'a> {
    pub(super) url: &'a str,
    pub(super) version: u32,
    pub(super) fetched_at: &'a str,
    pub(super) content_hash: &'a str,
    pub(super) raw_hash: &'a str,
    pub(super) content_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) head_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) conditional: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) tls_invalid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) record: Option<RecordRef<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) attachment: Option<&'a AttachmentRecord>,
}

/// How a version's page record is kept beside its attachment record:
/// not at all when it is the attachment's, else without what its text
/// gives back.
pub(super) fn record_kept<'a>(
    url: &str,
    record: &'a Record,
    attachment: Option<&AttachmentRecord>,
) -> Option<RecordRef<'a>> {
    let derived = attachment.is_some_and(|a| a.as_record(url) == *record);
    (!derived).then(|| RecordRef::of(record))
}

/// A [`Record`] as it is written: `sections` only when its text does not
/// give them back. The fields in the record's order.
#[derive(Serialize)]
pub(super) struct RecordRef<'a> {
    schema: u32,
    url: &'a str,
    title: &'a Option<String>,
    published: &'a Option<String>,
    source: &'a Option<String>,
    meta: &'a BTreeMap<String, String>,
    attachments: &'a [Attachment],
    #[serde(skip_serializing_if = "Option::is_none")]
    sections: Option<&'a [Section]>,
    text: &'a str,
    warnings: &'a [String],
}

impl<'a> RecordRef<'a> {
    fn of(record: &'a Record) -> Self {
        let derivable = sections_of_text(&record.text) == record.sections;
        Self {
            schema: record.schema,
            url: &record.url,
            title: &record.title,
            published: &record.published,
            source: &record.source,
            meta: &record.meta,
            attachments: &record.attachments,
            sections: (!derivable).then_some(record.sections.as_slice()),
            text: &record.text,
            warnings: &record.warnings,
        }
    }
}

/// A [`Version`] as it is read: what was left out is optional.
#[derive(Deserialize)]
pub(super) struct StoredVersion {
    url: String,
    version: u32,
    fetched_at: String,
    content_hash: String,
    raw_hash: String,
    content_type: Option<String>,
    #[serde(default)]
    head_hash: Option<String>,
    #[serde(default)]
    conditional: Option<String>,
    #[serde(default)]
    tls_invalid: Option<String>,
    #[serde(default)]
    record: Option<StoredRecord>,
    #[serde(default)]
    attachment: Option<AttachmentRecord>,
}

/// A [`Record`] as it is read: `sections` may be left to its text.
#[derive(Deserialize)]
struct StoredRecord {
    schema: u32,
    url: String,
    title: Option<String>,
    published: Option<String>,
    source: Option<String>,
    meta: BTreeMap<String, String>,
    attachments: Vec<Attachment>,
    #[serde(default)]
    sections: Option<Vec<Section>>,
    text: String,
    warnings: Vec<String>,
}

impl TryFrom<StoredVersion> for Version {
    type Error = String;

    fn try_from(v: StoredVersion) -> Result<Self, String> {
        let record = match (v.record, &v.attachment) {
            (Some(r), _) => Record {
                sections: r.sections.unwrap_or_else(|| sections_of_text(&r.text)),
                schema: r.schema,
                url: r.url,
                title: r.title,
                published: r.published,
                source: r.source,
                meta: r.meta,
                attachments: r.attachments,
                text: r.text,
                warnings: r.warnings,
            },
            (None, Some(a)) => a.as_record(&v.url),
            (None, None) => {
                return Err(format!("version {} of {} has no record", v.version, v.url));
            }
        };
        Ok(Self {
            url: v.url,
            version: v.version,
            fetched_at: v.fetched_at,
            content_hash: v.content_hash,
            raw_hash: v.raw_hash,
            content_type: v.content_type,
            head_hash: v.head_hash,
            conditional: v.conditional,
            tls_invalid: v.tls_invalid,
            record,
            attachment: v.attachment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fetch;
    use super::super::{Batch, PreparedPage, Store};
    use crate::record::{AttachmentRecord, Record};
    use crate::{ExtractOptions, Page, extract};
    use std::path::Path;

    /// Every version's JSON as kept.
    fn kept(store: &Store) -> Vec<serde_json::Value> {
        store
            .versions
            .iter()
            .map(|kv| store.decode_kv::<serde_json::Value>(kv).unwrap())
            .collect()
    }

    /// Every fixture page (`tests/fixtures`), extracted as `govsnap extract`
    /// does, with its URL when `cases.json` gives one.
    fn fixtures() -> Vec<Record> {
        fn pages(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    pages(&path, out);
                } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
                    out.push(path);
                }
            }
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let cases: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(dir.join("cases.json")).unwrap()).unwrap();
        let mut paths = Vec::new();
        pages(&dir, &mut paths);
        paths.sort();
        paths
            .iter()
            .filter_map(|path| {
                let case = cases
                    .iter()
                    .find(|c| dir.join(c["path"].as_str().unwrap()) == *path);
                let bytes = std::fs::read(path).unwrap();
                let page = Page {
                    bytes: &bytes,
                    url: case.and_then(|c| c["url"].as_str()),
                    content_type: case.and_then(|c| c["content_type"].as_str()),
                    ..Page::default()
                };
                extract(&page, None, ExtractOptions::default()).ok()
            })
            .collect()
    }

    #[test]
    fn every_fixture_is_kept_without_sections_and_read_back_whole() {
        let records = fixtures();
        assert!(records.len() >= 40, "{} fixtures", records.len());
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        for (i, record) in records.iter().enumerate() {
            // the rule the store relies on, fixture by fixture
            assert_eq!(
                crate::record::sections_of_text(&record.text),
                record.sections,
                "{}: its text gives its sections back",
                record.url
            );
            let url = format!("http://www.example.gov.cn/fixture/{i}.html");
            store.put(&fetch(&url, "<html></html>", 1), record).unwrap();
            let back = store.latest(&url).unwrap().unwrap();
            assert_eq!(back.record, *record, "{}", record.url);
        }
        for json in kept(&store) {
            assert!(json["record"].get("sections").is_none(), "{json}");
            assert!(json["record"]["text"].is_string());
        }
        // each a head and a record kept against the page's bytes
        for kv in &store.versions {
            let (_, pointer) = kv.unwrap();
            let value = store.unpack(&pointer).unwrap();
            assert!(value.starts_with(&super::COMPOSITE));
        }
    }

    #[test]
    fn a_record_kept_against_its_page_costs_a_fraction_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tht/seed-rule-of-law-report.html");
        let html = std::fs::read_to_string(path).unwrap();
        let url = "http://www.tht.gov.cn/gk/zdlyxxgk/202103/t20210330_5391243.html";
        let record = extract(
            &Page {
                bytes: html.as_bytes(),
                url: Some(url),
                ..Page::default()
            },
            None,
            ExtractOptions::default(),
        )
        .unwrap();
        store.put(&fetch(url, &html, 1), &record).unwrap();
        let back = store.latest(url).unwrap().unwrap();
        assert_eq!(back.record, record);
        let (_, pointer) = store.versions.iter().next().unwrap().unwrap();
        let value = store.unpack(&pointer).unwrap();
        let alone = crate::store::write::compress(&serde_json::to_vec(&record).unwrap()).unwrap();
        assert!(
            value.len() * 4 < alone.len(),
            "{} bytes kept against the page, {} alone",
            value.len(),
            alone.len()
        );
    }

    #[test]
    fn bytes_that_begin_as_a_zstd_dictionary_are_no_dictionary() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let record = fixtures().swap_remove(0);
        let mut bytes = 0xEC30_A437_u32.to_le_bytes().to_vec();
        bytes.extend_from_slice(b"<html><body>not a dictionary</body></html>");
        let url = "http://www.example.gov.cn/gk/t20240301_8.html";
        let mut f = fetch(url, "", 1);
        f.bytes = &bytes;
        store.put(&f, &record).unwrap();
        let back = store.latest(url).unwrap().unwrap();
        assert_eq!(back.record, record);
        assert_eq!(store.raw(&back).unwrap().unwrap(), bytes);
    }

    #[test]
    fn sections_the_text_does_not_give_back_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let mut record = fixtures().swap_remove(0);
        // a paragraph with a line break in it: its lines are two paragraphs
        record.sections[0].paragraphs[0].push_str("\n（续）");
        record.text = record
            .sections
            .iter()
            .flat_map(|s| s.paragraphs.clone())
            .collect::<Vec<_>>()
            .join("\n");
        assert_ne!(
            crate::record::sections_of_text(&record.text),
            record.sections
        );
        let url = "http://www.example.gov.cn/gk/t20240301_9.html";
        store.put(&fetch(url, "<html></html>", 1), &record).unwrap();
        assert_eq!(store.latest(url).unwrap().unwrap().record, record);
        let json = kept(&store).swap_remove(0);
        assert_eq!(
            json["record"]["sections"],
            serde_json::to_value(&record.sections).unwrap()
        );
    }

    #[test]
    fn a_file_keeps_its_attachment_record_and_no_copy_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let url = "http://www.example.gov.cn/files/P020240305.docx";
        let bytes = b"PK\x03\x04 a DOCX's bytes";
        let attachment = AttachmentRecord {
            schema: crate::record::ATTACHMENT_SCHEMA,
            kind: "attachment".to_owned(),
            url: Some(url.to_owned()),
            name: Some("附件1：申报表.docx".to_owned()),
            content_type: None,
            format: "docx".to_owned(),
            bytes: bytes.len() as u64,
            hash: blake3::hash(bytes).to_hex().to_string(),
            linked_from: vec!["http://www.example.gov.cn/gk/t20240305_1.html".to_owned()],
            title: Some("惠民补贴申报表".to_owned()),
            published: Some("2024-03-05".to_owned()),
            text: "惠民补贴申报表\n申报单位 | 联系人 | 电话".to_owned(),
            pages: None,
            warnings: Vec::new(),
        };
        let mut f = fetch(url, "", 1);
        f.bytes = bytes;
        let prepared = PreparedPage::attachment(&f, attachment.clone()).unwrap();
        let mut batch = Batch::default();
        batch.add_page(prepared);
        store.commit(&batch).unwrap();
        let back = store.latest(url).unwrap().unwrap();
        assert_eq!(back.record, attachment.as_record(url));
        assert_eq!(back.attachment.as_ref(), Some(&attachment));
        let json = kept(&store).swap_remove(0);
        assert!(json.get("record").is_none(), "{json}");
        assert_eq!(json["attachment"]["text"], attachment.text);
    }
}
