//! Which kind of file an attachment is: by its first bytes (a server's
//! `Content-Type` and a file's name lie often: `application/octet-stream`,
//! `download.jsp`, a `.doc` that is a DOCX), then by its name's extension,
//! then by the `Content-Type` the server gave.

use std::io::{Read, Seek};

/// The formats SPEC §11 archives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// PDF.
    Pdf,
    /// Word's binary (OLE).
    Doc,
    /// Word's zipped XML.
    Docx,
    /// WPS Writer's binary (OLE, Word's layout).
    Wps,
    /// Excel's binary (OLE).
    Xls,
    /// Excel's zipped XML.
    Xlsx,
    /// WPS Spreadsheets' binary (an XLS inside).
    Et,
    /// OFD (GB/T 33190), the national fixed-layout format.
    Ofd,
    /// `OpenDocument` text.
    Odt,
    /// `OpenDocument` spreadsheet.
    Ods,
    /// Rich Text Format.
    Rtf,
    /// Plain text.
    Txt,
    /// Comma-separated values.
    Csv,
    /// A ZIP archive.
    Zip,
    /// A RAR archive.
    Rar,
    /// A 7-Zip archive.
    SevenZ,
}

impl Format {
    /// Its lower-case name, as records and the config's
    /// `attachment_types` write it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Doc => "doc",
            Self::Docx => "docx",
            Self::Wps => "wps",
            Self::Xls => "xls",
            Self::Xlsx => "xlsx",
            Self::Et => "et",
            Self::Ofd => "ofd",
            Self::Odt => "odt",
            Self::Ods => "ods",
            Self::Rtf => "rtf",
            Self::Txt => "txt",
            Self::Csv => "csv",
            Self::Zip => "zip",
            Self::Rar => "rar",
            Self::SevenZ => "7z",
        }
    }

    /// Every format.
    pub const ALL: [Self; 16] = [
        Self::Pdf,
        Self::Doc,
        Self::Docx,
        Self::Wps,
        Self::Xls,
        Self::Xlsx,
        Self::Et,
        Self::Ofd,
        Self::Odt,
        Self::Ods,
        Self::Rtf,
        Self::Txt,
        Self::Csv,
        Self::Zip,
        Self::Rar,
        Self::SevenZ,
    ];

    /// The format an extension names (`pdf`, `DOCX` …).
    #[must_use]
    pub fn from_extension(ext: &str) -> Option<Self> {
        let ext = ext.to_ascii_lowercase();
        Self::ALL.into_iter().find(|f| f.name() == ext)
    }

    /// The format a `Content-Type` names, when it names one.
    #[must_use]
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let mime = crate::decode::media_type(content_type);
        Some(match mime.as_str() {
            "application/pdf" => Self::Pdf,
            "application/msword" => Self::Doc,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Self::Docx,
            "application/vnd.ms-works" | "application/kswps" | "application/wps-office.wps" => {
                Self::Wps
            }
            "application/vnd.ms-excel" => Self::Xls,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Self::Xlsx,
            "application/kset" | "application/wps-office.et" => Self::Et,
            "application/ofd" => Self::Ofd,
            "application/vnd.oasis.opendocument.text" => Self::Odt,
            "application/vnd.oasis.opendocument.spreadsheet" => Self::Ods,
            "application/rtf" | "text/rtf" => Self::Rtf,
            "text/plain" => Self::Txt,
            "text/csv" => Self::Csv,
            "application/zip" | "application/x-zip-compressed" => Self::Zip,
            "application/x-rar-compressed" | "application/vnd.rar" => Self::Rar,
            "application/x-7z-compressed" => Self::SevenZ,
            _ => return None,
        })
    }

    /// Whether it is a container of other files read one level deep.
    #[must_use]
    pub fn is_archive(self) -> bool {
        matches!(self, Self::Zip | Self::Rar | Self::SevenZ)
    }
}

/// The extension of a file name or URL path (`附件1.xlsx` → `xlsx`).
#[must_use]
pub fn extension(name: &str) -> Option<&str> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let last = last.split(['?', '#']).next().unwrap_or(last);
    last.rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|e| !e.is_empty() && e.len() <= 5)
}

/// The format of a file: its bytes first, then its name, then the server's
/// `Content-Type`; `None` for a file that is none of SPEC §11's (an image,
/// a page).
#[must_use]
pub fn detect(bytes: &[u8], name: Option<&str>, content_type: Option<&str>) -> Option<Format> {
    let by_name = name.and_then(extension).and_then(Format::from_extension);
    let by_type = content_type.and_then(Format::from_content_type);
    if bytes.starts_with(b"%PDF-") || bytes.get(..1024).is_some_and(|b| find(b, b"%PDF-")) {
        return Some(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        // a zip cut short has no directory to tell: its name does
        let named = by_name.or(by_type).filter(|f| is_zipped(*f));
        return Some(zip_format(bytes).or(named).unwrap_or(Format::Zip));
    }
    if bytes.starts_with(OLE_MAGIC) {
        // an OLE compound file: Word, Excel or WPS's binaries, or an
        // Office file saved with a password to open
        if is_locked_ooxml(bytes) {
            let named = by_name.or(by_type).filter(|f| is_zipped(*f));
            return Some(named.unwrap_or(Format::Docx));
        }
        return Some(ole_format(bytes, by_name.or(by_type)));
    }
    if bytes.starts_with(b"{\\rtf") {
        return Some(Format::Rtf);
    }
    if bytes.starts_with(b"Rar!\x1A\x07") {
        return Some(Format::Rar);
    }
    if bytes.starts_with(&[b'7', b'z', 0xBC, 0xAF, 0x27, 0x1C]) {
        return Some(Format::SevenZ);
    }
    if looks_like_markup(bytes) {
        return None;
    }
    match by_name.or(by_type) {
        Some(f @ (Format::Txt | Format::Csv)) => Some(f),
        _ => None,
    }
}

/// The first bytes of an OLE compound file.
pub(crate) const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Whether an OLE file is an Office Open XML file saved with a password
/// to open (ECMA-376's encryption: the zip, encrypted, in a stream
/// `EncryptedPackage`, its key's parameters in `EncryptionInfo`).
pub(crate) fn is_locked_ooxml(bytes: &[u8]) -> bool {
    bytes.starts_with(OLE_MAGIC) && find(bytes, &ole_entry("EncryptedPackage"))
}

/// An OLE directory entry's name as it is written: UTF-16, then a NUL.
fn ole_entry(name: &str) -> Vec<u8> {
    name.encode_utf16()
        .chain([0])
        .flat_map(u16::to_le_bytes)
        .collect()
}

/// A format whose files are zip containers.
fn is_zipped(format: Format) -> bool {
    matches!(
        format,
        Format::Docx | Format::Xlsx | Format::Ofd | Format::Odt | Format::Ods | Format::Zip
    )
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An HTML or XML page, not a file.
fn looks_like_markup(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype") || head.starts_with("<html") || head.starts_with("<?xml")
}

/// Which zip-based format: by the members the formats require.
fn zip_format(bytes: &[u8]) -> Option<Format> {
    let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let has = |name: &str| archive.index_for_name(name).is_some();
    if has("word/document.xml") {
        return Some(Format::Docx);
    }
    if has("xl/workbook.xml") {
        return Some(Format::Xlsx);
    }
    if has("OFD.xml") {
        return Some(Format::Ofd);
    }
    let mut archive = archive;
    let mimetype = read_small(&mut archive, "mimetype")?;
    match mimetype.trim() {
        "application/vnd.oasis.opendocument.text" => Some(Format::Odt),
        "application/vnd.oasis.opendocument.spreadsheet" => Some(Format::Ods),
        _ => None,
    }
}

/// A small member's text (at most 1 KB read).
fn read_small<R: Read + Seek>(archive: &mut zip::ZipArchive<R>, name: &str) -> Option<String> {
    let member = archive.by_name(name).ok()?;
    let mut text = String::new();
    member.take(1024).read_to_string(&mut text).ok()?;
    Some(text)
}

/// Which OLE binary: by its streams' names (Word's and WPS's `WordDocument`,
/// Excel's and ET's `Workbook`/`Book`), WPS and ET told apart from Word and
/// Excel by the name or type given.
fn ole_format(bytes: &[u8], given: Option<Format>) -> Format {
    let entry = ole_entry;
    let sheet = !find(bytes, &entry("WordDocument"))
        && (find(bytes, &entry("Workbook")) || find(bytes, &entry("Book")));
    match (sheet, given) {
        (true, Some(Format::Et)) => Format::Et,
        (true, _) => Format::Xls,
        (false, Some(Format::Wps)) => Format::Wps,
        (false, _) => Format::Doc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_types_are_read_when_the_bytes_do_not_say() {
        assert_eq!(extension("附件1：2024年部门预算公开表.xlsx"), Some("xlsx"));
        assert_eq!(extension("/P020240305512345678901.pdf?t=1"), Some("pdf"));
        assert_eq!(extension("/download.jsp"), Some("jsp"));
        assert_eq!(
            detect(b"%PDF-1.7\n...", Some("download.jsp"), None),
            Some(Format::Pdf)
        );
        assert_eq!(
            detect("序号,名称\n1,预算".as_bytes(), Some("a.csv"), None),
            Some(Format::Csv)
        );
        assert_eq!(
            detect(b"plain words", None, Some("text/plain; charset=GBK")),
            Some(Format::Txt)
        );
        assert_eq!(detect(b"<!DOCTYPE html><html>", Some("a.txt"), None), None);
        assert_eq!(
            detect(b"\x89PNG\r\n", Some("a.png"), Some("image/png")),
            None
        );
    }
}
