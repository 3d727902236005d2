//! Capture order across WARC files. A version history is only right when
//! a page's captures go into the store oldest first, and WARCs do not
//! always come that way: files given newest first, Heritrix's writer pool
//! writing several files side by side, WARCs merged from several crawls.
//!
//! [`plan`] reads the files' record headers once (blocks are read past)
//! and, when each page's captures are already in `WARC-Date` order as
//! given — the usual case, one crawler writing as it fetches — says so,
//! and ingest streams the files as they are (other pages' captures may
//! interleave in any order: a history is per page). Otherwise it gives
//! every capture's file and offset sorted by date (ties keep file order),
//! and ingest reads each record at its offset ([`record_at`]). The index
//! costs about 24 bytes a capture and 16 a page, not the records.

use super::read::{Item, Reader};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{self, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::time::SystemTime;

/// How to read the captures of a set of WARC files.
#[derive(Debug)]
pub enum Plan {
    /// File by file, each in its own order: that is date order already.
    AsGiven,
    /// Date order is not file order: each capture as (file index, offset),
    /// oldest first.
    ByDate(Vec<(usize, u64)>),
    /// Date order is not file order, but a file is one gzip stream whose
    /// records cannot be reached by offset: read as given, with this
    /// warning.
    Unseekable(String),
}

/// The order to read `paths`' captures in.
///
/// # Errors
/// When a file cannot be opened or read.
pub fn plan(paths: &[PathBuf]) -> io::Result<Plan> {
    let mut captures: Vec<(SystemTime, usize, u64)> = Vec::new();
    // each page's latest capture so far, by a hash of its URL (two URLs
    // that share one only sort what did not need it)
    let mut latest: HashMap<u64, SystemTime> = HashMap::new();
    let mut in_order = true;
    let mut unseekable = None;
    for (index, path) in paths.iter().enumerate() {
        let file = std::fs::File::open(path)?;
        let file_date = file.metadata().and_then(|m| m.modified()).ok();
        let mut last_offset = None;
        let mut last_date = None;
        for item in Reader::new(BufReader::with_capacity(256 * 1024, file))?.headers_only() {
            let Item::Record(record) = item else {
                continue; // ingest reports it where it reads it
            };
            // records that share a member: the file is one gzip stream
            if last_offset == Some(record.offset) && unseekable.is_none() {
                unseekable = Some(path.display().to_string());
            }
            last_offset = Some(record.offset);
            if !super::may_capture(&record) {
                continue;
            }
            // a malformed date (the capture gets the HTTP Date or the
            // file's when read) keeps the place of the record before it
            let Some(at) = super::warc_date(&record).ok().or(last_date).or(file_date) else {
                continue;
            };
            last_date = Some(at);
            let page = url_key(record.target().unwrap_or_default());
            if latest.insert(page, at).is_some_and(|before| before > at) {
                in_order = false;
            }
            captures.push((at, index, record.offset));
        }
    }
    if in_order {
        return Ok(Plan::AsGiven);
    }
    if let Some(file) = unseekable {
        return Ok(Plan::Unseekable(format!(
            "the captures are not in WARC-Date order and {file} is one gzip stream, \
             not a member per record, so they go in as the files give them; \
             histories of pages captured more than once may be out of order"
        )));
    }
    captures.sort_by_key(|(at, _, _)| *at);
    Ok(Plan::ByDate(
        captures.into_iter().map(|(_, f, o)| (f, o)).collect(),
    ))
}

fn url_key(url: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    url.hash(&mut hasher);
    hasher.finish()
}

/// The record that starts at `offset` of `file` (for a `.warc.gz`, the
/// gzip member that starts there).
///
/// # Errors
/// When the file cannot be read there.
pub fn record_at(file: &mut std::fs::File, offset: u64) -> io::Result<Option<Item>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = Reader::new(BufReader::with_capacity(64 * 1024, &mut *file))?;
    Ok(reader.next().map(|item| match item {
        // the offset is the file's, not the one the reader counted from
        Item::Record(mut r) => {
            r.offset = offset;
            Item::Record(r)
        }
        Item::Bad { reason, .. } => Item::Bad { offset, reason },
    }))
}
