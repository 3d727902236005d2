//! PDF: the text layer, through `pdf_oxide` (chosen by measurement, see
//! `docs/PERFORMANCE.md`: it decodes embedded subset fonts through their
//! `ToUnicode` maps and the non-embedded CID fonts through the predefined
//! Adobe-GB1 `CMaps` that Word, WPS and Founder exports use, and gives each
//! run of text with its box). Lines are made here from those runs: runs on
//! one baseline are one line, left to right; a gap wider than the font's
//! size between two runs is a table's cell boundary, written ` | `, as
//! tables are everywhere (SPEC §4). A PDF with no text at all is a scan:
//! `text: ""` and the warning `no text layer`.

use super::{Budget, Read, ReadError};
use pdf_oxide::layout::TextSpan;

/// The text of a PDF.
///
/// # Errors
/// [`ReadError::Encrypted`] for a PDF that needs a password,
/// [`ReadError::Corrupt`] for one that does not parse.
pub fn read(bytes: Vec<u8>, budget: &Budget) -> Result<Read, ReadError> {
    let doc = pdf_oxide::PdfDocument::from_bytes(bytes).map_err(|e| classify(&e))?;
    // most locked PDFs lock only printing and copying: their user password
    // is empty, and they open and read as any other
    if doc.is_encrypted() && !doc.authenticate(b"").map_err(|e| classify(&e))? {
        return Err(ReadError::Encrypted);
    }
    let pages = doc.page_count().map_err(|e| classify(&e))?;
    let (title, published) = info(&doc);
    let mut read = Read {
        pages: u32::try_from(pages).ok(),
        title,
        published,
        ..Read::default()
    };
    let mut failed = 0;
    for page in 0..pages {
        budget.check()?;
        match doc.extract_spans(page) {
            Ok(spans) => read.paragraphs.extend(lines(spans)),
            Err(e) => match classify(&e) {
                ReadError::Encrypted => return Err(ReadError::Encrypted),
                _ => failed += 1,
            },
        }
    }
    if failed > 0 {
        read.warnings
            .push(format!("{failed} of {pages} pages could not be read"));
    }
    if read.paragraphs.iter().all(|p| p.trim().is_empty()) && failed == 0 {
        read.warnings.push("no text layer".to_owned());
    }
    Ok(read)
}

/// The document information dictionary's `Title`, and its
/// `CreationDate` as `YYYY-MM-DD`.
fn info(doc: &pdf_oxide::PdfDocument) -> (Option<String>, Option<String>) {
    let info = doc
        .trailer()
        .as_dict()
        .and_then(|t| t.get("Info"))
        .and_then(|i| match i.as_reference() {
            Some(r) => doc.load_object(r).ok(),
            None => Some(i.clone()),
        });
    let Some(info) = info.as_ref().and_then(|i| i.as_dict()) else {
        return (None, None);
    };
    let text = |key: &str| info.get(key).and_then(|v| v.as_string()).map(text_string);
    let title = text("Title").filter(|t| !t.trim().is_empty());
    // D:YYYYMMDDHHmmSS…
    let published = text("CreationDate").and_then(|d| {
        let digits: String = d.trim_start_matches("D:").chars().take(8).collect();
        (digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()))
            .then(|| format!("{}-{}-{}", &digits[..4], &digits[4..6], &digits[6..8]))
    });
    (title, published)
}

/// A PDF text string: UTF-16 after its byte-order mark, else
/// `PDFDocEncoding` (Latin-1 for what matters here).
fn text_string(bytes: &[u8]) -> String {
    if let Some(utf16) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = utf16
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    bytes.iter().map(|&b| char::from(b)).collect()
}

fn classify(e: &pdf_oxide::Error) -> ReadError {
    let message = e.to_string();
    let lower = message.to_ascii_lowercase();
    if lower.contains("encrypt") || lower.contains("password") {
        ReadError::Encrypted
    } else {
        ReadError::Corrupt(format!("it is no readable PDF: {message}"))
    }
}

/// A page's runs as lines: top to bottom, each left to right.
fn lines(mut spans: Vec<TextSpan>) -> Vec<String> {
    spans.retain(|s| !s.text.trim().is_empty());
    // top first (PDF's y grows upwards), then left to right
    spans.sort_by(|a, b| {
        b.bbox
            .y
            .total_cmp(&a.bbox.y)
            .then(a.bbox.x.total_cmp(&b.bbox.x))
    });
    let mut lines: Vec<Vec<&TextSpan>> = Vec::new();
    for span in &spans {
        let same_line = lines.last().and_then(|l| l.first()).is_some_and(|first| {
            let tolerance = first.font_size.max(span.font_size).max(1.0) * 0.5;
            (first.bbox.y - span.bbox.y).abs() <= tolerance
        });
        if same_line {
            if let Some(line) = lines.last_mut() {
                line.push(span);
            }
        } else {
            lines.push(vec![span]);
        }
    }
    lines
        .into_iter()
        .map(|mut line| {
            line.sort_by(|a, b| a.bbox.x.total_cmp(&b.bbox.x));
            let mut text = String::new();
            let mut end: Option<f32> = None;
            for span in line {
                if let Some(end) = end {
                    let gap = span.bbox.x - end;
                    if gap > span.font_size.max(1.0) {
                        text.push_str(" | ");
                    } else if gap > span.font_size * 0.2 && !text.ends_with(' ') {
                        text.push(' ');
                    }
                }
                text.push_str(span.text.trim_end());
                end = Some(span.bbox.x + span.bbox.width);
            }
            text
        })
        .collect()
}
