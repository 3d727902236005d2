//! Bytes → text: decide a page's character encoding and decode it (SPEC §2).
//!
//! The order is fixed and written down once, in [`decode`]: byte-order mark,
//! then the HTTP `Content-Type` charset, then a `<meta>` declaration in the first
//! 1024 bytes, then statistical detection with `chardetng`. A declaration the
//! bytes contradict (a page that says UTF-8 but is GBK) is overruled and the
//! record gets a warning; bytes that no encoding decodes cleanly are replaced
//! with U+FFFD and counted in a warning. No byte sequence makes this panic.
//!
//! # Architecture
//! - [`Charset`]: an `encoding_rs` encoding built from a label.
//! - [`Decoded`]: the text, the encoding used and what was noticed.

use chardetng::{EncodingDetector, Iso2022JpDetection, Utf8Detection};
use encoding_rs::{Encoding, UTF_8};
use regex::bytes::Regex as BytesRegex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// How far into a page a `<meta>` charset declaration is honoured (HTML's prescan).
pub const META_PRESCAN_BYTES: usize = 1024;

/// How much of an undeclared page statistical detection reads: tens of
/// kilobytes of Chinese text settle the question, and detection costs more
/// per byte than parsing.
pub const DETECT_SAMPLE_BYTES: usize = 32 * 1024;

/// A character encoding known to `encoding_rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Charset(&'static Encoding);

impl Charset {
    /// The encoding for a label (`gb2312`, `GBK`, `utf-8` …), or `None` for a
    /// label no browser knows. `gb2312` maps to GBK, its superset, as browsers do.
    #[must_use]
    pub fn from_label(label: &str) -> Option<Self> {
        let enc = Encoding::for_label_no_replacement(label.trim().as_bytes())?;
        // A page cannot be UTF-16 once it has been read as ASCII up to its
        // `<meta>`; HTML says such a declaration means UTF-8.
        let enc = if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
            UTF_8
        } else {
            enc
        };
        Some(Self(enc))
    }

    /// The encoding's canonical name (`GBK`, `UTF-8`, `Big5` …).
    #[must_use]
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The underlying `encoding_rs` encoding.
    #[must_use]
    pub fn encoding(self) -> &'static Encoding {
        self.0
    }
}

/// A decoded page.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The page text.
    pub text: String,
    /// The encoding the text was decoded with.
    pub charset: Charset,
    /// What was noticed: wrong declarations, undecodable bytes.
    pub warnings: Vec<String>,
}

/// Where an encoding decision came from; named in warnings.
#[derive(Debug, Clone, Copy)]
enum Source {
    Http,
    Meta,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Self::Http => "the HTTP Content-Type header",
            Self::Meta => "the page's <meta> tag",
        }
    }
}

/// A `Content-Type`'s media type, lower case, without its parameters
/// (`Text/HTML; charset=GBK` → `text/html`).
#[must_use]
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Decode `bytes` as a web page, given the HTTP `Content-Type` if there was one.
#[must_use]
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let mut warnings = Vec::new();

    // 1. A byte-order mark is unambiguous and wins over every declaration.
    if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        return finish(Charset(enc), &bytes[bom_len..], warnings);
    }

    // 2. and 3.: declarations, in order of authority.
    let http = content_type
        .and_then(charset_param)
        .map(|l| (l, Source::Http));
    let meta = meta_charset(bytes).map(|l| (l, Source::Meta));
    for (label, source) in [http, meta.clone()].into_iter().flatten() {
        let Some(charset) = Charset::from_label(&label) else {
            warnings.push(format!(
                "unknown charset {label:?} declared in {}; ignored",
                source.describe()
            ));
            continue;
        };
        if let Some(cjk) = overruling_cjk(charset, bytes, meta.as_ref().map(|(l, _)| l.as_str())) {
            warnings.push(format!(
                "{} declares charset {label}, a single-byte encoding, but the bytes are {}; decoded as {}",
                source.describe(),
                cjk.name(),
                cjk.name()
            ));
            return finish(cjk, bytes, warnings);
        }
        if let Some(text) = decode_strict(charset, bytes) {
            return Decoded {
                text: text.into_owned(),
                charset,
                warnings,
            };
        }
        if is_cut_short(charset, bytes) {
            // right declaration, body cut inside its last character (a size
            // cap, a dropped connection): keep the encoding, say so
            warnings.push(format!(
                "the page ends inside a {} character (truncated?)",
                charset.name()
            ));
            return finish(charset, bytes, warnings);
        }
        let actual = detect(bytes);
        warnings.push(format!(
            "{} declares charset {label}, but the bytes are not {}; decoded as {}",
            source.describe(),
            charset.name(),
            actual.name()
        ));
        return finish(actual, bytes, warnings);
    }

    // 4. Nothing declared (or only unknown labels): look at the bytes.
    finish(detect(bytes), bytes, warnings)
}

/// The CJK encoding that overrules a single-byte declaration. A single-byte
/// encoding decodes any bytes, so a wrong one (Tomcat's default
/// `ISO-8859-1` over a GBK page) never fails a strict decode: it is
/// overruled when the page's `<meta>` names a CJK encoding the bytes are
/// valid in, or when detection finds a CJK encoding they are valid in.
fn overruling_cjk(declared: Charset, bytes: &[u8], meta: Option<&str>) -> Option<Charset> {
    if !declared.0.is_single_byte() || bytes.is_ascii() {
        return None;
    }
    let fits = |c: Charset| is_cjk(c) && decode_strict(c, bytes).is_some();
    if let Some(c) = meta.and_then(Charset::from_label).filter(|&c| fits(c)) {
        return Some(c);
    }
    Some(detect(bytes)).filter(|&c| fits(c))
}

/// The multi-byte encodings of Chinese, Japanese and Korean pages.
fn is_cjk(charset: Charset) -> bool {
    [
        encoding_rs::GBK,
        encoding_rs::GB18030,
        encoding_rs::BIG5,
        encoding_rs::EUC_JP,
        encoding_rs::SHIFT_JIS,
        encoding_rs::EUC_KR,
    ]
    .contains(&charset.0)
}

/// Decode without replacement: `None` when the bytes are not valid in `charset`.
fn decode_strict(charset: Charset, bytes: &[u8]) -> Option<Cow<'_, str>> {
    charset
        .0
        .decode_without_bom_handling_and_without_replacement(bytes)
}

/// Whether `bytes` are valid in `charset` but for a last character cut short.
fn is_cut_short(charset: Charset, bytes: &[u8]) -> bool {
    (1..=3).any(|k| bytes.len() > k && decode_strict(charset, &bytes[..bytes.len() - k]).is_some())
}

/// Decode with replacement, and say so when anything had to be replaced.
fn finish(charset: Charset, bytes: &[u8], mut warnings: Vec<String>) -> Decoded {
    let (text, had_errors) = charset.0.decode_without_bom_handling(bytes);
    if had_errors {
        let replaced = text.chars().filter(|&c| c == '\u{FFFD}').count();
        warnings.push(format!(
            "{replaced} byte sequence(s) are not valid {} and were replaced with U+FFFD",
            charset.name()
        ));
    }
    Decoded {
        text: text.into_owned(),
        charset,
        warnings,
    }
}

/// Statistical detection, after two cheap certainties. Valid UTF-8 (which
/// includes pure ASCII) is UTF-8; `chardetng` would call ASCII windows-1252.
/// Bytes that are valid in exactly one of the two Chinese multi-byte families
/// (GB18030, Big5) are that family: GBK text almost always has trail bytes
/// (0x80–0xA0) that Big5 forbids. Only when both fit does `chardetng`, which
/// costs far more per byte than parsing, decide.
fn detect(bytes: &[u8]) -> Charset {
    if std::str::from_utf8(bytes).is_ok() {
        return Charset(UTF_8);
    }
    let fits = |enc: &'static Encoding| {
        enc.decode_without_bom_handling_and_without_replacement(bytes)
            .is_some()
    };
    match (fits(encoding_rs::GB18030), fits(encoding_rs::BIG5)) {
        (true, false) => return Charset(encoding_rs::GBK),
        (false, true) => return Charset(encoding_rs::BIG5),
        _ => {}
    }
    let mut detector = EncodingDetector::new(Iso2022JpDetection::Deny);
    let sample = &bytes[..bytes.len().min(DETECT_SAMPLE_BYTES)];
    detector.feed(sample, true);
    Charset(detector.guess(None, Utf8Detection::Allow))
}

/// The `charset` parameter of a `Content-Type` value.
fn charset_param(content_type: &str) -> Option<String> {
    static RE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r#"(?i)charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)"#).expect("static regex")
    });
    RE.captures(content_type).map(|c| c[1].to_owned())
}

/// A `<meta charset>` or `<meta http-equiv content="…; charset=…">` label in
/// the first [`META_PRESCAN_BYTES`] bytes.
fn meta_charset(bytes: &[u8]) -> Option<String> {
    static RE: LazyLock<BytesRegex> = LazyLock::new(|| {
        BytesRegex::new(r#"(?i-u)<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_:.\-]+)"#)
            .expect("static regex")
    });
    let head = &bytes[..bytes.len().min(META_PRESCAN_BYTES)];
    RE.captures(head)
        .map(|c| String::from_utf8_lossy(&c[1]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    #[test]
    fn gbk_declared_only_in_meta() {
        let mut page = gbk(
            r#"<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head><body>"#,
        );
        page.extend(gbk(
            "<p>关于做好2021年政府信息公开工作的通知</p></body></html>",
        ));
        let d = decode(&page, None);
        assert_eq!(d.charset.name(), "GBK");
        assert!(d.text.contains("政府信息公开"));
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn wrong_utf8_declaration_is_overruled_with_a_warning() {
        let page =
            gbk("<meta charset=\"utf-8\"><p>天津滨海高新区管理委员会关于印发工作要点的通知</p>");
        let d = decode(&page, Some("text/html; charset=UTF-8"));
        assert_eq!(d.charset.name(), "GBK");
        assert!(d.text.contains("管理委员会"));
        assert_eq!(d.warnings.len(), 1);
        assert!(d.warnings[0].contains("HTTP"), "{:?}", d.warnings);
    }

    /// Tomcat's default charset over a GBK page (issue 15): the `<meta>`
    /// names the encoding the bytes are valid in, and detection agrees
    /// when there is no `<meta>`; a Latin-1 page keeps its declaration.
    #[test]
    fn a_single_byte_http_charset_over_chinese_bytes_is_overruled() {
        let page = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">\
            <title>关于印发某某县农村人居环境整治实施方案的通知</title></head><body><p>各乡镇人民政府：</p></body></html>";
        let tomcat = Some("text/html;charset=ISO-8859-1");
        let d = decode(&gbk(page), tomcat);
        assert_eq!(d.charset.name(), "GBK");
        assert!(d.text.contains("农村人居环境整治"));
        assert!(d.warnings[0].contains("ISO-8859-1"), "{:?}", d.warnings);
        let bare = page.replace("; charset=gb2312", "");
        let d = decode(&gbk(&bare), tomcat);
        assert_eq!(d.charset.name(), "GBK");
        assert!(d.text.contains("各乡镇人民政府"));
        let latin = encoding_rs::WINDOWS_1252
            .encode("<p>Caf\u{e9} cr\u{e8}me, na\u{ef}ve fa\u{e7}ade.</p>")
            .0;
        let d = decode(&latin, tomcat);
        assert_eq!(d.charset.name(), "windows-1252");
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
    }

    #[test]
    fn bom_wins_over_a_declaration() {
        let mut page = b"\xEF\xBB\xBF".to_vec();
        page.extend("<meta charset=gbk><p>通知公告</p>".as_bytes());
        let d = decode(&page, Some("text/html; charset=gbk"));
        assert_eq!(d.charset.name(), "UTF-8");
        assert!(d.text.starts_with("<meta"));
    }

    #[test]
    fn undeclared_big5_is_detected() {
        let text =
            "<p>澳門特別行政區政府公報，行政長官批示，公佈有關法律及行政法規的決定。</p>".repeat(3);
        let page = encoding_rs::BIG5.encode(&text).0.into_owned();
        let d = decode(&page, None);
        assert_eq!(d.charset.name(), "Big5");
        assert!(d.text.contains("行政長官"));
    }

    #[test]
    fn a_body_cut_inside_a_character_keeps_its_declaration() {
        let mut page = gbk("<meta charset=\"gbk\"><p>政府信息公开指南</p><p>依申请公开");
        page.pop();
        let d = decode(&page, None);
        assert_eq!(d.charset.name(), "GBK");
        assert!(d.text.contains("政府信息公开指南"));
        assert!(d.warnings[0].contains("truncated"), "{:?}", d.warnings);
    }

    #[test]
    fn unknown_label_is_ignored_with_a_warning() {
        let d = decode("<meta charset=\"x-klingon\"><p>公开</p>".as_bytes(), None);
        assert_eq!(d.charset.name(), "UTF-8");
        assert!(d.warnings[0].contains("x-klingon"));
    }

    #[test]
    fn undecodable_bytes_are_counted() {
        let d = decode(b"\xEF\xBB\xBF<p>\xff\xfe\xfd abc</p>", None);
        assert_eq!(d.charset.name(), "UTF-8");
        assert!(
            d.warnings[0].starts_with("3 byte sequence(s)"),
            "{:?}",
            d.warnings
        );
    }
}
