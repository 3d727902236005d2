//! Plain text files (TXT): decoded as pages are (a BOM, then what the
//! bytes look like: UTF-8, GBK, GB18030, Big5), one paragraph per line.

use super::Read;

/// The text of a plain text file.
#[must_use]
pub fn read(bytes: &[u8]) -> Read {
    let decoded = decode(bytes);
    Read {
        paragraphs: decoded.0.lines().map(str::to_owned).collect(),
        warnings: decoded.1,
        ..Read::default()
    }
}

/// `bytes` as text in the encoding they are in, and what was noticed.
pub(super) fn decode(bytes: &[u8]) -> (String, Vec<String>) {
    let decoded = crate::decode::decode(bytes, Some("text/plain"));
    (decoded.text, decoded.warnings)
}
