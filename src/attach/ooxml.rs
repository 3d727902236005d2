//! Word processing documents made of zipped XML: DOCX (`word/document.xml`,
//! `WordprocessingML`) and ODT (`content.xml`, `OpenDocument`). Paragraphs in
//! order; a table one paragraph per row, its cells joined by ` | ` (a
//! cell's own paragraphs joined by a space); the title and date from the
//! document's properties (`docProps/core.xml`, `meta.xml`).

use super::{Budget, Format, Read, ReadError};
use quick_xml::events::Event;
use std::io::Cursor;

/// The text of a DOCX or ODT.
///
/// # Errors
/// [`ReadError`] when the file is no such document, or a bomb.
pub fn read(bytes: &[u8], format: Format, budget: &Budget) -> Result<Read, ReadError> {
    let mut zip = Zipped::open(bytes)?;
    let (body, props, names) = match format {
        Format::Odt => ("content.xml", "meta.xml", ODT),
        _ => ("word/document.xml", "docProps/core.xml", DOCX),
    };
    let xml = zip
        .text(body)?
        .ok_or_else(|| ReadError::Corrupt(format!("it has no {body}")))?;
    let paragraphs = paragraphs(&xml, &names, budget)?;
    let mut read = Read {
        paragraphs,
        ..Read::default()
    };
    if let Some(props) = zip.text(props)? {
        read.title = element_text(&props, &["dc:title"]);
        read.published = element_text(&props, &["dcterms:created", "meta:creation-date"])
            .and_then(|d| d.get(..10).map(str::to_owned));
    }
    Ok(read)
}

/// The element names of a format's paragraphs, tables, rows, cells, text
/// runs, tabs and breaks.
struct Names {
    paragraph: &'static [&'static str],
    table: &'static str,
    row: &'static str,
    cell: &'static str,
    text: &'static [&'static str],
    tab: &'static [&'static str],
    space: &'static str,
}

const DOCX: Names = Names {
    paragraph: &["w:p"],
    table: "w:tbl",
    row: "w:tr",
    cell: "w:tc",
    text: &["w:t"],
    tab: &["w:tab", "w:br", "w:cr"],
    space: "",
};

const ODT: Names = Names {
    paragraph: &["text:p", "text:h"],
    table: "table:table",
    row: "table:table-row",
    cell: "table:table-cell",
    text: &["text:p", "text:h", "text:span", "text:a"],
    tab: &["text:tab", "text:line-break"],
    space: "text:s",
};

/// The paragraphs of a document body, tables one row each.
fn paragraphs(xml: &str, names: &Names, budget: &Budget) -> Result<Vec<String>, ReadError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut tables = 0_usize;
    let mut row: Vec<String> = Vec::new();
    let mut cell = String::new();
    let mut paragraph = String::new();
    // DOCX text is only inside w:t; ODT's anywhere inside a paragraph
    let mut in_text = 0_usize;
    let mut count = 0_u32;
    loop {
        count = count.wrapping_add(1);
        if count.is_multiple_of(4096) {
            budget.check()?;
        }
        let event = reader
            .read_event()
            .map_err(|e| ReadError::Corrupt(format!("its XML is malformed: {e}")))?;
        match event {
            Event::Start(e) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if name == names.table {
                    tables += 1;
                } else if tables == 1 && name == names.row {
                    row.clear();
                } else if tables == 1 && name == names.cell {
                    cell.clear();
                } else if names.paragraph.contains(&name) {
                    paragraph.clear();
                }
                if names.text.contains(&name) {
                    in_text += 1;
                }
            }
            Event::End(e) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if names.text.contains(&name) {
                    in_text = in_text.saturating_sub(1);
                }
                if name == names.table {
                    tables = tables.saturating_sub(1);
                } else if tables == 1 && name == names.row {
                    let cells: Vec<&str> = row.iter().map(|c| c.trim()).collect();
                    if cells.iter().any(|c| !c.is_empty()) {
                        out.push(cells.join(" | "));
                    }
                } else if tables == 1 && name == names.cell {
                    row.push(std::mem::take(&mut cell));
                } else if names.paragraph.contains(&name) {
                    let text = std::mem::take(&mut paragraph);
                    if tables > 0 {
                        if !cell.is_empty() {
                            cell.push(' ');
                        }
                        cell.push_str(text.trim());
                    } else {
                        out.push(text);
                    }
                }
            }
            Event::Empty(e) => {
                let qname = e.name();
                let name: &str = qname.as_ref();
                if names.tab.contains(&name) || name == names.space {
                    paragraph.push(' ');
                } else if names.paragraph.contains(&name) && tables == 0 {
                    out.push(String::new());
                }
            }
            Event::Text(t) if in_text > 0 => {
                paragraph.push_str(&t.xml10_content());
            }
            Event::GeneralRef(r) if in_text > 0 => {
                paragraph.push_str(&resolve(&r));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// An entity reference's text (`&amp;`, `&#20013;`).
pub(super) fn resolve(r: &quick_xml::events::BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    quick_xml::escape::resolve_predefined_entity(&r.borrow().into_inner())
        .unwrap_or_default()
        .to_owned()
}

/// The text of the first of `names` found in `xml`.
pub(super) fn element_text(xml: &str, names: &[&str]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut inside = false;
    let mut text = String::new();
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) if names.contains(&e.name().as_ref()) => inside = true,
            Event::End(e) if inside && names.contains(&e.name().as_ref()) => {
                return Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            }
            Event::Text(t) if inside => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) if inside => text.push_str(&resolve(&r)),
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// A zip container read within the inflation budget.
#[derive(Debug)]
pub struct Zipped<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    inflated: u64,
}

impl<'a> Zipped<'a> {
    /// Open a zip container.
    ///
    /// # Errors
    /// [`ReadError::Corrupt`] when it is none, [`ReadError::Encrypted`]
    /// when its members are.
    pub fn open(bytes: &'a [u8]) -> Result<Self, ReadError> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| ReadError::Corrupt(format!("it is no readable zip: {e}")))?;
        Ok(Self {
            archive,
            inflated: 0,
        })
    }

    /// Its members' names, in order, each with its index: UTF-8 when the
    /// name is, else GBK (Chinese Windows writes names so, without the zip's
    /// UTF-8 flag).
    #[must_use]
    pub fn names(&self) -> Vec<(usize, String)> {
        self.archive
            .file_names_raw()
            .enumerate()
            .map(|(i, raw)| {
                let name = match std::str::from_utf8(raw) {
                    Ok(name) => name.to_owned(),
                    Err(_) => encoding_rs::GBK.decode(raw).0.into_owned(),
                };
                (i, name)
            })
            .collect()
    }

    /// A member's bytes by name, `None` when there is no such member.
    ///
    /// # Errors
    /// As [`Zipped::bytes_at`].
    pub fn bytes(&mut self, name: &str) -> Result<Option<Vec<u8>>, ReadError> {
        match self.archive.index_for_name(name) {
            Some(i) => self.bytes_at(i, name).map(Some),
            None => Ok(None),
        }
    }

    /// Member `i`'s bytes (`name` for messages).
    ///
    /// # Errors
    /// [`ReadError::Bomb`] past the inflation budget (however the member's
    /// declared size lies), [`ReadError::Encrypted`], or
    /// [`ReadError::Corrupt`].
    pub fn bytes_at(&mut self, i: usize, name: &str) -> Result<Vec<u8>, ReadError> {
        use std::io::Read as _;
        let member = match self.archive.by_index(i) {
            Ok(m) => m,
            Err(zip::result::ZipError::UnsupportedArchive(m))
                if m.contains("ncrypt") || m.contains("assword") =>
            {
                return Err(ReadError::Encrypted);
            }
            Err(e) => return Err(ReadError::Corrupt(format!("{name}: {e}"))),
        };
        if member.encrypted() {
            return Err(ReadError::Encrypted);
        }
        let room = super::MAX_INFLATED.saturating_sub(self.inflated);
        if member.size() > room || is_bomb(member.size(), member.compressed_size()) {
            return Err(ReadError::Bomb);
        }
        let mut out = Vec::new();
        member
            .take(room + 1)
            .read_to_end(&mut out)
            .map_err(|e| ReadError::Corrupt(format!("{name}: {e}")))?;
        self.inflated += out.len() as u64;
        if out.len() as u64 > room {
            return Err(ReadError::Bomb);
        }
        Ok(out)
    }

    /// A member as UTF-8 text.
    ///
    /// # Errors
    /// As [`Zipped::bytes`].
    pub fn text(&mut self, name: &str) -> Result<Option<String>, ReadError> {
        Ok(self
            .bytes(name)?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }
}

/// A member that declares more than 16 MB at over a hundred times its
/// compressed size: XML and text compress ten- to thirtyfold, a run of one
/// byte a thousandfold.
pub(super) fn is_bomb(size: u64, compressed: u64) -> bool {
    size > 16 * 1024 * 1024 && size / compressed.max(1) > 100
}
