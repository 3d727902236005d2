//! The one place that writes out the order of the stages. Every entry point
//! (a saved file, and later a live crawl or a WARC record) goes through
//! [`extract`]:
//!
//! 1. **gate**: refuse what is not a web page at all (empty input, PDF, images,
//!    archives, binary data) with an error, before any work;
//! 2. **decode**: bytes → text ([`crate::decode`], SPEC §2);
//! 3. **parse**: text → DOM (`scraper`, html5ever's error-tolerant parser);
//! 4. **clean**: DOM → paragraphs, boilerplate removed ([`crate::clean`], SPEC §3);
//! 5. **structure**: title, date, source and metadata from the raw page and the
//!    lines around the body, then attachments and sections
//!    ([`crate::structure`], SPEC §4);
//! 6. **options**: NFKC folding when the config asks for it;
//! 7. **store** ([`snapshot`], or [`Snapshots`] in batches): a new version
//!    when the content changed, else only the fetch is logged
//!    ([`crate::store`], SPEC §5).

use crate::clean::clean_page;
use crate::config::{ExtractOptions, SiteRules};
use crate::decode::decode;
use crate::error::{Error, Result};
use crate::record::{Record, Section};
use crate::store::{Batch, FLUSH_EVERY, Fetch, FetchLogEntry, PreparedPage, PutOutcome, Store};
use crate::structure::build_record;
use regex::Regex;
use scraper::Html;
use serde::Serialize;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// A page to extract: its bytes and what is known about where they came from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page<'a> {
    /// The body as fetched or saved.
    pub bytes: &'a [u8],
    /// The page's URL, when known; it wins over everything the page says.
    pub url: Option<&'a str>,
    /// Where the bytes were read from (a `file://` URL), used as the URL when
    /// neither `url` nor the page's canonical link gives one.
    pub location: Option<&'a str>,
    /// The HTTP `Content-Type`, for its charset.
    pub content_type: Option<&'a str>,
}

/// Decode, clean and structure one page into a record.
///
/// A page that decodes but holds no document text is not an error: its record
/// has an empty body and a warning, so a crawl still sees the page.
///
/// # Errors
/// [`Error::EmptyInput`] for zero bytes and [`Error::NotHtml`] for files that
/// are plainly not web pages.
pub fn extract(
    page: &Page<'_>,
    rules: Option<&SiteRules>,
    options: ExtractOptions,
) -> Result<Record> {
    extract_parsed(page, rules, options, |_, _| ()).map(|(record, ())| record)
}

/// [`extract`], and the page's crawlable links (canonical, in document
/// order) and TRS list series from the same parse, for the crawler.
///
/// # Errors
/// As [`extract`].
pub fn extract_with_links(
    page: &Page<'_>,
    page_url: &url::Url,
    rules: Option<&SiteRules>,
    options: ExtractOptions,
) -> Result<(Record, crate::crawl::Links)> {
    extract_parsed(page, rules, options, |html, encoding| {
        let mut links = crate::crawl::discover::links(html, page_url, encoding);
        let jpage = rules.and_then(|r| r.jpage.as_ref());
        links.jpage = crate::crawl::jpage::column(html, page_url, jpage);
        links
    })
}

/// The stages, with `also` run on the parsed page.
fn extract_parsed<T>(
    page: &Page<'_>,
    rules: Option<&SiteRules>,
    options: ExtractOptions,
    also: impl FnOnce(&Html, &'static encoding_rs::Encoding) -> T,
) -> Result<(Record, T)> {
    gate(page.bytes)?;
    if let Some(kind) = page.content_type.and_then(declared_not_a_page)
        && !begins_like_html(&page.bytes[..page.bytes.len().min(4096)])
    {
        return Err(Error::NotHtml { kind });
    }
    let (bytes, dropped) = without_control_bytes(page.bytes);
    let mut decoded = decode(&bytes, page.content_type);
    if dropped > 0 {
        decoded.warnings.insert(
            0,
            format!("{dropped} NUL or control byte(s) in the page were dropped"),
        );
    }
    let html = Html::parse_document(&decoded.text);
    let extra = also(&html, decoded.charset.encoding());
    let cleaned = clean_page(&html, rules);
    let mut warnings = decoded.warnings;
    warnings.extend(cleaned.warnings.iter().cloned());
    let record = build_record(&html, &cleaned, rules, page, warnings);
    let record = if options.nfkc {
        fold_nfkc(record)
    } else {
        record
    };
    Ok((record, extra))
}

/// Extract a fetched page and keep it in the store: the one path every
/// source of pages (a saved file, a mirror, a crawl, a WARC record) takes into
/// the store. A fetch whose bytes are not a web page is logged and refused.
///
/// # Errors
/// [`Error::EmptyInput`]/[`Error::NotHtml`] for bytes that are no page (the
/// fetch is logged), store errors when the write fails.
pub fn snapshot(
    store: &Store,
    fetch: &Fetch<'_>,
    rules: Option<&SiteRules>,
    options: ExtractOptions,
) -> Result<PutOutcome> {
    match extract_fetched(fetch, rules, options) {
        Ok(record) => store.put(fetch, &record),
        Err(e) => {
            store.log_failure(fetch)?;
            Err(e)
        }
    }
}

/// A fetch that is a file SPEC §11 archives (told by its bytes, its URL's
/// last segment, its `Content-Type`), with its attachment record.
fn file_of(fetch: &Fetch<'_>) -> Option<crate::attach::AttachmentRecord> {
    use crate::attach;
    let name = attach::file_name(fetch.url, None);
    let format = attach::detect(fetch.bytes, name.as_deref(), fetch.content_type)?;
    let info = attach::FileInfo {
        url: Some(fetch.url),
        name: name.as_deref(),
        content_type: fetch.content_type,
    };
    Some(attach::extract(
        fetch.bytes,
        format,
        info,
        attach::DEFAULT_TIME_BUDGET,
    ))
}

fn extract_fetched(
    fetch: &Fetch<'_>,
    rules: Option<&SiteRules>,
    options: ExtractOptions,
) -> Result<Record> {
    let page = Page {
        bytes: fetch.bytes,
        url: Some(fetch.url),
        location: None,
        content_type: fetch.content_type,
    };
    extract(&page, rules, options)
}

/// [`snapshot`] for many pages (`govsnap ingest`): they are stored
/// [`FLUSH_EVERY`] at a time, each batch in one transaction with one
/// fetch-log value, and flushed. Call [`Snapshots::finish`] to store the
/// last batch; pages added since the last full batch are lost without it.
#[derive(Debug)]
pub struct Snapshots<'s> {
    store: &'s Store,
    batch: Batch,
    counts: SnapshotCounts,
}

/// What [`Snapshots`] stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SnapshotCounts {
    /// Pages stored as a new version.
    pub new_versions: u64,
    /// Pages unchanged since their last version.
    pub unchanged: u64,
    /// Inputs that were no web page and no file SPEC §11 archives
    /// (logged, not stored).
    pub skipped: u64,
    /// Files (PDF, DOCX … SPEC §11) stored as a new attachment version.
    pub attachments: u64,
    /// List pages of a site whose rules say they are no document (logged as
    /// `listing`, not stored, as a crawl does).
    pub listings: u64,
}

impl<'s> Snapshots<'s> {
    /// Start storing into `store`.
    #[must_use]
    pub fn new(store: &'s Store) -> Self {
        Self {
            store,
            batch: Batch::default(),
            counts: SnapshotCounts::default(),
        }
    }

    /// Extract a page and add it to the batch, storing the batch when it is
    /// full. Bytes that are no web page are logged (`not_html`) and counted
    /// as skipped. With a site's rules, a page is stored only when it is a
    /// document as the crawler judges it (`is_document`); a list page is
    /// logged (`listing`).
    ///
    /// # Errors
    /// Store errors when a batch cannot be written (nothing of it is then
    /// stored); [`Error::DiskFull`] says how many pages were stored before.
    pub fn add(
        &mut self,
        fetch: &Fetch<'_>,
        rules: Option<&SiteRules>,
        options: ExtractOptions,
    ) -> Result<()> {
        let added = self.add_page(fetch, rules, options);
        self.counted(added)
    }

    /// A full disk's error says how many pages this ingest stored.
    fn counted<T>(&self, result: Result<T>) -> Result<T> {
        result.map_err(|e| e.stored(self.counts.new_versions, "ingest"))
    }

    fn add_page(
        &mut self,
        fetch: &Fetch<'_>,
        rules: Option<&SiteRules>,
        options: ExtractOptions,
    ) -> Result<()> {
        if let Some(file) = file_of(fetch) {
            self.batch.add_page(PreparedPage::attachment(fetch, file)?);
            return self.commit_when_full();
        }
        match extract_fetched(fetch, rules, options) {
            Ok(record)
                if rules.is_some_and(|r| {
                    url::Url::parse(fetch.url).is_ok_and(|u| !is_document(r, &u, &record))
                }) =>
            {
                self.counts.listings += 1;
                self.batch.add_log(FetchLogEntry::new(fetch, "listing"));
            }
            Ok(record) => {
                let dicts = self.store.site_dicts(fetch.site)?;
                self.batch
                    .add_page(PreparedPage::with_dicts(fetch, record, dicts)?);
            }
            Err(Error::EmptyInput | Error::NotHtml { .. }) => {
                self.counts.skipped += 1;
                self.batch.add_log(FetchLogEntry::new(fetch, "not_html"));
            }
            Err(e) => return Err(e),
        }
        self.commit_when_full()
    }

    fn commit_when_full(&mut self) -> Result<()> {
        if self.batch.pages() + self.batch.logged() >= FLUSH_EVERY {
            self.commit()?;
        }
        Ok(())
    }

    /// Store what was added so far, now: before a write that must see it
    /// (a gone mark, a revisit of a page just added).
    ///
    /// # Errors
    /// As [`Snapshots::add`].
    pub fn commit_now(&mut self) -> Result<()> {
        let committed = self.commit();
        self.counted(committed)
    }

    /// Store what is left and return the counts.
    ///
    /// # Errors
    /// As [`Snapshots::add`].
    pub fn finish(mut self) -> Result<SnapshotCounts> {
        let committed = self.commit();
        self.counted(committed)?;
        Ok(self.counts)
    }

    fn commit(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let outcomes = self.store.commit(&self.batch)?;
        for (outcome, file) in outcomes.into_iter().zip(self.batch.attachments()) {
            match outcome {
                PutOutcome::NewVersion(_) if file => self.counts.attachments += 1,
                PutOutcome::NewVersion(_) => self.counts.new_versions += 1,
                PutOutcome::Unchanged | PutOutcome::Alias => self.counts.unchanged += 1,
            }
        }
        self.store.flush()?;
        self.batch = Batch::default();
        Ok(())
    }
}

/// A document, not a list page: the site's `documents` patterns say so;
/// without them, the TRS article name or a page with a real body does.
pub(crate) fn is_document(site: &SiteRules, url: &url::Url, record: &Record) -> bool {
    is_document_link(site, url)
        || (site.documents.is_empty()
            && record.text.chars().count() >= 200
            && !record.sections.is_empty())
}

/// Whether a link is a document's before it is fetched: the site's
/// `documents` patterns say so, or without them the TRS article name.
pub(crate) fn is_document_link(site: &SiteRules, url: &url::Url) -> bool {
    static TRS_ARTICLE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"/t\d{8}_\d+\.s?html?$").expect("static regex"));
    if site.documents.is_empty() {
        TRS_ARTICLE.is_match(url.path())
    } else {
        site.documents.iter().any(|r| r.is_match(url.as_str()))
    }
}

/// Refuse input that is not a web page.
fn gate(bytes: &[u8]) -> Result<()> {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"%PDF", "a PDF file"),
        (b"\x89PNG", "a PNG image"),
        (b"GIF8", "a GIF image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"PK\x03\x04", "a ZIP archive or an Office document"),
        (b"\xD0\xCF\x11\xE0", "an Office document"),
        (b"\x1F\x8B", "gzip-compressed data"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xBC\xAF", "a 7z archive"),
    ];
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::EmptyInput);
    }
    if let Some((_, kind)) = MAGIC.iter().find(|(m, _)| bytes.starts_with(m)) {
        return Err(Error::NotHtml { kind });
    }
    let head = &bytes[..bytes.len().min(4096)];
    let has_bom = encoding_rs::Encoding::for_bom(bytes).is_some();
    if !has_bom && head.contains(&0) && !begins_like_html(head) {
        return Err(Error::NotHtml {
            kind: "binary data",
        });
    }
    Ok(())
}

/// What a `Content-Type` says a response is, when it is plainly no page: a
/// script, a style sheet, an image, a font, a sound or film. Text that
/// begins as HTML is a page whatever its label (servers mislabel pages).
fn declared_not_a_page(content_type: &str) -> Option<&'static str> {
    let mime = crate::decode::media_type(content_type);
    let (kind, sub) = mime.split_once('/').unwrap_or((mime.as_str(), ""));
    match (kind, sub) {
        ("image", _) => Some("an image"),
        ("font", _) => Some("a font"),
        ("audio" | "video", _) => Some("a sound or film"),
        (_, "javascript" | "x-javascript" | "ecmascript" | "x-ecmascript") => Some("a script"),
        ("text", "css") => Some("a style sheet"),
        ("application", s) if s.starts_with("font-") || s.starts_with("x-font") => Some("a font"),
        ("application", "wasm" | "octet-stream") => Some("binary data"),
        _ => None,
    }
}

/// Whether a page begins as HTML does (a doctype, a comment or one of the
/// elements that open a page), whatever stray bytes follow: browsers
/// render such pages, so they are pages.
fn begins_like_html(head: &[u8]) -> bool {
    static OPENING: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(
            r"(?i-u)^\s*<(!doctype|!--|\?xml|html|head|meta|title|body|link|script)\b",
        )
        .expect("static regex")
    });
    OPENING.is_match(head)
}

/// The bytes without NUL and the C0 control bytes no text holds (tab, line
/// feed, form feed, carriage return and ESC, which ISO-2022-JP needs, stay),
/// and how many went. Only pages without a byte-order mark: in UTF-16 a NUL
/// is half a character. The multi-byte encodings of Chinese pages never use
/// such bytes inside a character.
fn without_control_bytes(bytes: &[u8]) -> (std::borrow::Cow<'_, [u8]>, usize) {
    const fn stray(b: u8) -> bool {
        b < 0x20 && !matches!(b, b'\t' | b'\n' | 0x0C | b'\r' | 0x1B)
    }
    // every page is scanned: a branch-free fold per chunk vectorizes
    let any_stray = bytes
        .chunks(64)
        .any(|chunk| chunk.iter().fold(false, |seen, &b| seen | stray(b)));
    if !any_stray || encoding_rs::Encoding::for_bom(bytes).is_some() {
        return (std::borrow::Cow::Borrowed(bytes), 0);
    }
    let kept: Vec<u8> = bytes.iter().copied().filter(|&b| !stray(b)).collect();
    let dropped = bytes.len() - kept.len();
    (std::borrow::Cow::Owned(kept), dropped)
}

/// Apply NFKC to every string of a record.
fn fold_nfkc(mut r: Record) -> Record {
    fn fold_sections(sections: &mut [Section], f: &dyn Fn(&str) -> String) {
        for s in sections {
            s.number = s.number.as_deref().map(f);
            s.heading = s.heading.as_deref().map(f);
            s.paragraphs = s.paragraphs.iter().map(|p| f(p)).collect();
            fold_sections(&mut s.children, f);
        }
    }
    let f = |s: &str| s.nfkc().collect::<String>();
    r.title = r.title.as_deref().map(f);
    r.source = r.source.as_deref().map(f);
    r.meta = r.meta.iter().map(|(k, v)| (f(k), f(v))).collect();
    for a in &mut r.attachments {
        a.name = f(&a.name);
    }
    fold_sections(&mut r.sections, &f);
    r.text = f(&r.text);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_refuses_non_pages() {
        assert!(matches!(gate(b""), Err(Error::EmptyInput)));
        assert!(matches!(gate(b" \n\t"), Err(Error::EmptyInput)));
        assert!(matches!(
            gate(b"%PDF-1.7\n"),
            Err(Error::NotHtml { kind: "a PDF file" })
        ));
        assert!(matches!(gate(b"abc\0def"), Err(Error::NotHtml { .. })));
        assert!(gate("<p>通知</p>".as_bytes()).is_ok());
    }

    #[test]
    fn nfkc_is_an_option() {
        let page = Page {
            bytes: "<html><body><div><p>（一）全角括号与１２３数字，测试折叠功能是否生效。</p></div></body></html>".as_bytes(),
            ..Page::default()
        };
        let plain = extract(&page, None, ExtractOptions::default()).unwrap();
        assert!(
            plain.text.contains("（一）全角括号与１２３"),
            "{}",
            plain.text
        );
        let folded = extract(&page, None, ExtractOptions { nfkc: true }).unwrap();
        assert!(folded.text.contains("(一)全角括号与123"), "{}", folded.text);
    }
}
