//! Captures imported from a Wayback server (`ingest --cdx`, SPEC §12):
//! which of a URL's captures (by the CDX server's payload digest, or by
//! capture time when it gives none) the store already has, so that a
//! second import fetches nothing already stored and a killed one goes on
//! where it stopped. Tree `meta`, keys `cdx:URL ‖ 0x00 ‖ d:DIGEST` and
//! `cdx:URL ‖ 0x00 ‖ t:TIMESTAMP`; written after the capture's batch
//! committed, so a kill in between fetches it again (and finds it
//! unchanged).

use super::{Store, store_error};
use crate::error::Result;

fn key(url: &str, kind: &str, value: &str) -> Vec<u8> {
    [
        b"cdx:".as_slice(),
        url.as_bytes(),
        &[0],
        kind.as_bytes(),
        b":",
        value.as_bytes(),
    ]
    .concat()
}

impl Store {
    /// Whether a capture of `url` at `timestamp` with `digest` was
    /// imported: the same payload (by digest) or the same capture.
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the read fails.
    pub fn imported(&self, url: &str, timestamp: &str, digest: Option<&str>) -> Result<bool> {
        let has = |k: Vec<u8>| {
            self.meta
                .contains_key(k)
                .map_err(|e| store_error(&self.path, e))
        };
        if let Some(digest) = digest
            && has(key(url, "d", digest))?
        {
            return Ok(true);
        }
        has(key(url, "t", timestamp))
    }

    /// Remember that a capture was imported.
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the write fails.
    pub fn mark_imported(&self, url: &str, timestamp: &str, digest: Option<&str>) -> Result<()> {
        let put = |k: Vec<u8>| {
            self.meta
                .insert(k, timestamp.as_bytes())
                .map(|_| ())
                .map_err(|e| store_error(&self.path, e))
        };
        if let Some(digest) = digest {
            put(key(url, "d", digest))?;
        }
        put(key(url, "t", timestamp))
    }
}
