//! Word's and WPS Writer's binaries (DOC, WPS: an OLE compound file with
//! Word's piece table), through `office_oxide`, which reads the piece
//! table, the 8-bit and UTF-16 pieces and the table marks into a document
//! tree: paragraphs in order, a table one paragraph per row with its cells
//! joined by ` | ` (SPEC §4).

use super::{Read, ReadError};
use office_oxide::ir::{Element, InlineContent};

/// The text of a DOC or WPS file.
///
/// # Errors
/// [`ReadError::Encrypted`] for a protected file, [`ReadError::Corrupt`]
/// for one that does not parse.
pub fn read(bytes: &[u8]) -> Result<Read, ReadError> {
    if is_encrypted(bytes) {
        return Err(ReadError::Encrypted);
    }
    let doc = office_oxide::Document::from_reader(
        std::io::Cursor::new(bytes.to_vec()),
        office_oxide::DocumentFormat::Doc,
    )
    .map_err(|e| {
        let message = e.to_string();
        if message.to_ascii_lowercase().contains("encrypt")
            || message.to_ascii_lowercase().contains("password")
        {
            ReadError::Encrypted
        } else {
            ReadError::Corrupt(format!("it is no readable Word binary: {message}"))
        }
    })?;
    let ir = doc.to_ir();
    let mut paragraphs = Vec::new();
    for section in &ir.sections {
        elements(&section.elements, &mut paragraphs);
    }
    Ok(Read {
        paragraphs,
        title: ir.metadata.title.as_deref().map(code_page_text),
        ..Read::default()
    })
}

/// Paragraphs of `elements` in order: a table one row each, its cells
/// joined by ` | `.
fn elements(items: &[Element], out: &mut Vec<String>) {
    for element in items {
        match element {
            Element::Heading(h) => out.push(inline(&h.content)),
            Element::Paragraph(p) => out.push(inline(&p.content)),
            Element::Table(table) => {
                for row in &table.rows {
                    let cells: Vec<String> = row
                        .cells
                        .iter()
                        .map(|cell| {
                            let mut inner = Vec::new();
                            elements(&cell.content, &mut inner);
                            inner.join(" ").trim().to_owned()
                        })
                        .collect();
                    out.push(cells.join(" | "));
                }
            }
            Element::List(list) => list_items(list, out),
            Element::TextBox(b) => elements(&b.content, out),
            Element::Footnote(n) | Element::Endnote(n) => elements(&n.content, out),
            _ => {}
        }
    }
}

fn list_items(list: &office_oxide::ir::List, out: &mut Vec<String>) {
    for item in &list.items {
        elements(&item.content, out);
        if let Some(nested) = &item.nested {
            list_items(nested, out);
        }
    }
}

/// The text of inline content: its runs, a line break a space.
fn inline(content: &[InlineContent]) -> String {
    content
        .iter()
        .map(|c| match c {
            InlineContent::Text(span) => span.text.as_str(),
            InlineContent::LineBreak => " ",
            _ => "",
        })
        .collect()
}

/// A property string read as Latin-1 that was written in another code
/// page: UTF-8 (`LibreOffice`), else GBK (Chinese Word and WPS).
fn code_page_text(text: &str) -> String {
    let latin1 = text.chars().all(|c| u32::from(c) < 0x100);
    if !latin1 || text.is_ascii() {
        return text.to_owned();
    }
    #[allow(clippy::cast_possible_truncation, reason = "every char is below 0x100")]
    let bytes: Vec<u8> = text.chars().map(|c| u32::from(c) as u8).collect();
    match String::from_utf8(bytes) {
        Ok(utf8) => utf8,
        Err(e) => encoding_rs::GBK.decode(e.as_bytes()).0.into_owned(),
    }
}

/// Whether a Word binary says it is encrypted (or obfuscated): bit
/// `fEncrypted` of its FIB's flags ([MS-DOC] 2.5.2, `FibBase`), the
/// word at byte 10 of stream `WordDocument`. Its text is then ciphertext,
/// which the piece table would read as garbage.
fn is_encrypted(bytes: &[u8]) -> bool {
    const F_ENCRYPTED: u16 = 0x0100;
    let Ok(mut ole) = office_oxide::cfb::CfbReader::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    ole.open_stream("WordDocument")
        .ok()
        .and_then(|fib| Some(u16::from_le_bytes([*fib.get(10)?, *fib.get(11)?])))
        .is_some_and(|flags| flags & F_ENCRYPTED != 0)
}
