//! Archives: ZIP, RAR and 7Z. Their member names, each followed by the
//! text of the member when it is a document itself, one level deep (an
//! archive inside is named, not opened). Member names are decoded as the
//! format says: a ZIP's as its UTF-8 flag says or, as Chinese Windows
//! writes them, GBK; RAR 5's and 7Z's are Unicode.
//!
//! Every member read counts against the file's inflation budget
//! ([`super::MAX_INFLATED`]): a member whose declared size would pass it is
//! a bomb, named and not read, and the archive's reading stops there.

use super::{Budget, FileInfo, MAX_INFLATED, MAX_TEXT_BYTES, Read, ReadError, ooxml::Zipped};
use std::io::Read as _;

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
        let member = zip.bytes_at(i, &name);
        if !member_text(&mut read, &name, member, budget) {
            break;
        }
    }
    Ok(read)
}

/// The text of a RAR (RAR 4 and 5, through rarlab's own unrar library,
/// which reads an archive from a file: the bytes go to an unnamed-on-exit
/// temporary file first).
///
/// # Errors
/// [`ReadError::Encrypted`] when its headers are, [`ReadError::Corrupt`]
/// when it is no RAR.
pub fn read_rar(bytes: &[u8], budget: &Budget) -> Result<Read, ReadError> {
    use std::io::Write as _;
    let corrupt =
        |e: &dyn std::fmt::Display| ReadError::Corrupt(format!("it is no readable RAR: {e}"));
    let mut file = tempfile::Builder::new()
        .suffix(".rar")
        .tempfile()
        .map_err(|e| ReadError::Corrupt(format!("no file to read it from: {e}")))?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .map_err(|e| ReadError::Corrupt(format!("no file to read it from: {e}")))?;
    let mut archive = unrar::Archive::new(file.path())
        .open_for_processing()
        .map_err(|e| match e.code {
            unrar::error::Code::MissingPassword | unrar::error::Code::BadPassword => {
                ReadError::Encrypted
            }
            _ => corrupt(&e),
        })?;
    let mut read = Read::default();
    let mut inflated = 0u64;
    while let Some(header) = archive.read_header().map_err(|e| corrupt(&e))? {
        budget.check()?;
        let entry = header.entry();
        let name = entry.filename.to_string_lossy().replace('\\', "/");
        let size = entry.unpacked_size;
        if entry.is_directory() {
            archive = header.skip().map_err(|e| corrupt(&e))?;
            continue;
        }
        if !wanted(&name) || entry.is_encrypted() || size > MAX_TEXT_BYTES {
            let why = if entry.is_encrypted() {
                Some(ReadError::Encrypted.to_string())
            } else {
                (size > MAX_TEXT_BYTES)
                    .then(|| format!("not read: over {} MiB", MAX_TEXT_BYTES >> 20))
            };
            read.paragraphs.push(name.clone());
            read.warnings.extend(why.map(|w| format!("{name}: {w}")));
            archive = header.skip().map_err(|e| corrupt(&e))?;
            continue;
        }
        if inflated + size > MAX_INFLATED {
            member_text(&mut read, &name, Err(ReadError::Bomb), budget);
            break;
        }
        let (member, rest) = header.read().map_err(|e| corrupt(&e))?;
        inflated += member.len() as u64;
        member_text(&mut read, &name, Ok(member), budget);
        archive = rest;
    }
    Ok(read)
}

/// The text of a 7Z.
///
/// # Errors
/// [`ReadError::Encrypted`] when it needs a password, [`ReadError::Corrupt`]
/// when it is no 7Z.
pub fn read_7z(bytes: &[u8], budget: &Budget) -> Result<Read, ReadError> {
    use sevenz_rust2::{ArchiveReader, EntryDecision, Error, Password};
    let classify = |e: Error| match e {
        Error::PasswordRequired | Error::MaybeBadPassword(_) => ReadError::Encrypted,
        other => ReadError::Corrupt(format!("it is no readable 7Z: {other}")),
    };
    // the decoder's dictionary, as the format lets an archive ask: 64 MiB
    let mut archive = ArchiveReader::new_with_memory_limit(
        std::io::Cursor::new(bytes),
        Password::empty(),
        64 * 1024,
    )
    .map_err(classify)?;
    archive.set_thread_count(1);
    let mut read = Read::default();
    let mut inflated = 0u64;
    let mut stopped = Ok(());
    archive
        .for_each_entries_with_decision(|entry, data| {
            if let Err(e) = budget.check() {
                stopped = Err(e);
                return Ok(EntryDecision::Stop);
            }
            let name = entry.name.replace('\\', "/");
            if entry.is_directory {
                return Ok(EntryDecision::Continue);
            }
            if !wanted(&name) {
                read.paragraphs.push(name);
                return Ok(EntryDecision::Continue);
            }
            if inflated + entry.size > MAX_INFLATED || entry.size > MAX_TEXT_BYTES {
                member_text(&mut read, &name, Err(ReadError::Bomb), budget);
                return Ok(EntryDecision::Stop);
            }
            let mut member = Vec::new();
            data.take(entry.size + 1).read_to_end(&mut member)?;
            inflated += member.len() as u64;
            member_text(&mut read, &name, Ok(member), budget);
            Ok(EntryDecision::Continue)
        })
        .map_err(classify)?;
    stopped?;
    Ok(read)
}

/// Whether a member's name says it may be a document worth reading: any
/// name but those of images, media and programs, whose text there is none.
fn wanted(name: &str) -> bool {
    let skipped = [
        "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "mp3", "mp4", "avi", "wmv", "exe",
        "dll", "js", "css",
    ];
    super::format::extension(name).is_none_or(|ext| !skipped.contains(&ext))
}

/// A member's name, then its text when it is a document (not an archive),
/// read with what is left of the budget. Returns whether the archive's
/// reading goes on (not after a bomb).
fn member_text(
    read: &mut Read,
    name: &str,
    member: Result<Vec<u8>, ReadError>,
    budget: &Budget,
) -> bool {
    read.paragraphs.push(name.to_owned());
    let member = match member {
        Ok(bytes) => bytes,
        Err(e) => {
            let bomb = matches!(e, ReadError::Bomb);
            read.warnings.push(format!("{name}: {e}"));
            return !bomb;
        }
    };
    let Some(format) = super::detect(&member, Some(name), None) else {
        return true;
    };
    if format.is_archive() {
        return true;
    }
    let info = FileInfo {
        name: Some(name),
        ..FileInfo::default()
    };
    let inner = super::extract_owned(member, format, info, budget.left());
    read.paragraphs
        .extend(inner.text.lines().map(str::to_owned));
    read.warnings
        .extend(inner.warnings.into_iter().map(|w| format!("{name}: {w}")));
    true
}
