//! Responses kept that are not versions: the groups of a Hanweb jpage
//! column (SPEC §8), list pages asked for by a script's POST, whose raw
//! bytes and head the store keeps so that a WARC export can replay the
//! request and its answer. They are content-addressed like every raw
//! value: a group that answers the same bytes again costs nothing, and
//! their fetch-log entry names them (`kept`, `head_hash`).

use super::{Batch, FetchLogEntry, TxResult, TxTrees, compress, pack_error};
use crate::error::{Error, Result};
use crate::store::spool::Packed;
use crate::store::{Fetch, keys};

/// A response to keep with its fetch-log entry: its raw bytes and head,
/// hashed and compressed off the writer.
#[derive(Debug, Clone)]
pub struct KeptResponse {
    entry: FetchLogEntry,
    raw: (blake3::Hash, Vec<u8>),
    head: Option<(blake3::Hash, Vec<u8>)>,
}

impl KeptResponse {
    /// `fetch`, asked for with `method` and `body`, logged with `outcome`.
    ///
    /// # Errors
    /// [`Error::Io`] when compression fails.
    pub fn new(fetch: &Fetch<'_>, outcome: &str, method: &str, body: Option<&str>) -> Result<Self> {
        let compressed = |bytes: &[u8], what: &str| {
            compress(bytes)
                .map(|c| (blake3::hash(bytes), c))
                .map_err(|e| Error::Io {
                    what: format!("compressing {what}"),
                    source: e,
                })
        };
        let raw = compressed(fetch.bytes, "a list response")?;
        let head = fetch
            .head
            .map(|h| compressed(h.as_bytes(), "a response head"))
            .transpose()?;
        let mut entry = FetchLogEntry::new(fetch, outcome).asked(method, body);
        entry.kept = Some(raw.0.to_hex().to_string());
        entry.head_hash = head.as_ref().map(|(h, _)| h.to_hex().to_string());
        Ok(Self { entry, raw, head })
    }
}

impl Batch {
    /// Add a response to keep, and its fetch to log.
    pub fn add_kept(&mut self, kept: KeptResponse) {
        self.logged.push(kept.entry.clone());
        self.kept.push(kept);
    }
}

/// Write a kept response's raw bytes and head, unless stored already.
pub(super) fn put_kept(k: &KeptResponse, t: &TxTrees<'_>) -> TxResult<()> {
    put_raw(t, &k.raw.0, &k.raw.1)?;
    if let Some((hash, compressed)) = &k.head
        && t.heads.get(hash.as_bytes())?.is_none()
    {
        t.heads.insert(hash.as_bytes(), compressed.as_slice())?;
    }
    Ok(())
}

/// Raw bytes as the packs will hold them: a zstd frame in memory, or a
/// spooled file's, on disk (`spool`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum RawValue<'a> {
    Memory(&'a [u8]),
    Spooled(&'a Packed),
}

impl<'a> From<&'a Vec<u8>> for RawValue<'a> {
    fn from(bytes: &'a Vec<u8>) -> Self {
        Self::Memory(bytes)
    }
}

/// Raw bytes into the packs under a new id, with their `raw_ids` entry,
/// unless bytes with that hash are stored already.
pub(super) fn put_raw<'a>(
    t: &TxTrees<'_>,
    hash: &blake3::Hash,
    value: impl Into<RawValue<'a>>,
) -> TxResult<()> {
    put_raw_in(t.raw, t.raw_ids, t.packs, hash, value)
}

/// [`put_raw`] on the trees themselves.
pub(super) fn put_raw_in<'a>(
    raw: &sled::transaction::TransactionalTree,
    raw_ids: &sled::transaction::TransactionalTree,
    packs: &crate::store::packs::Packs,
    hash: &blake3::Hash,
    value: impl Into<RawValue<'a>>,
) -> TxResult<()> {
    if raw_ids.get(hash.as_bytes())?.is_none() {
        let id = keys::id_key(raw.generate_id()?);
        let at = match value.into() {
            RawValue::Memory(frame) => packs.append(frame),
            RawValue::Spooled(packed) => packs.append_packed(packed),
        }
        .map_err(pack_error)?;
        raw.insert(&id, &at.encode())?;
        raw_ids.insert(hash.as_bytes(), &id)?;
    }
    Ok(())
}
