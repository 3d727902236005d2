//! Archives: a ZIP's member names, then the text of each member that is a
//! document itself, one level deep (an archive inside is named, not
//! opened). Member names are decoded as their flag says (UTF-8) or, as
//! Chinese Windows writes them, GBK.

use super::{Budget, FileInfo, Read, ReadError, ooxml::Zipped};

/// The text of a ZIP.
///
/// # Errors
/// [`ReadError`] when it is no zip.
pub fn read_zip(bytes: &[u8], budget: &Budget) -> Result<Read, ReadError> {
    let mut zip = Zipped::open(bytes)?;
    let mut read = Read::default();
    for (i, name) in zip.names() {
        budget.check()?;
        if name.ends_with('/') {
            continue;
        }
        read.paragraphs.push(name.clone());
        let member = match zip.bytes_at(i, &name) {
            Ok(b) => b,
            Err(e) => {
                read.warnings.push(format!("{name}: {e}"));
                if matches!(e, ReadError::Bomb) {
                    break;
                }
                continue;
            }
        };
        let Some(format) = super::detect(&member, Some(&name), None) else {
            continue;
        };
        if format.is_archive() {
            continue;
        }
        let info = FileInfo {
            name: Some(&name),
            ..FileInfo::default()
        };
        let left = budget.left();
        let inner = super::extract(&member, format, info, left);
        read.paragraphs
            .extend(inner.text.lines().map(str::to_owned));
        read.warnings
            .extend(inner.warnings.into_iter().map(|w| format!("{name}: {w}")));
    }
    Ok(read)
}
