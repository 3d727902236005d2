//! Where a store's bytes go (`govsnap stats`): every tree's entries, key
//! and value bytes (the fetch log's row: its file, in frames), and what sled itself takes on disk beyond them (its log
//! framing, node index, and the space of values since rewritten that its
//! segment cleaner has not reclaimed yet). Reads every key and value once;
//! holds one at a time.

use super::{Store, store_error, trees};
use crate::error::Result;
use serde::Serialize;
use std::path::Path;

/// One tree's share of the store.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TreeStats {
    /// The tree's name (see `docs/STORE.md`).
    pub tree: String,
    /// What its values are.
    pub holds: &'static str,
    /// How many entries it has.
    pub entries: u64,
    /// Bytes of its keys.
    pub key_bytes: u64,
    /// Bytes of its values, as stored (compressed where the store
    /// compresses them).
    pub value_bytes: u64,
}

/// A store's bytes, tree by tree.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct StoreStats {
    /// Every tree, in the order of `docs/STORE.md`.
    pub trees: Vec<TreeStats>,
    /// Keys and values of all trees.
    pub data_bytes: u64,
    /// The store directory's files on disk.
    pub disk_bytes: u64,
    /// Of them, the search index's (`STORE/index`): rebuilt from the
    /// versions by `govsnap reindex`, not part of the archive.
    pub index_bytes: u64,
    /// `disk_bytes` less `data_bytes` and `index_bytes`: sled's own
    /// framing and index, and space not yet reclaimed from values since
    /// rewritten.
    pub sled_overhead_bytes: u64,
}

/// What the `fetch_log` row holds: since schema 10 the file of that name,
/// where the tree's values moved to, counted in frames.
const FETCH_LOG_HOLDS: &str = "fetch log (file fetch_log: JSON, zstd per write)";

/// The trees, with what they hold.
const TREES: &[(&str, &str)] = &[
    (trees::RAW, "raw page bytes (zstd, in packs/)"),
    (trees::RAW_IDS, "raw bytes' hash → id"),
    (trees::HEADS, "response heads (zstd)"),
    (
        trees::DICTS,
        "zstd dictionaries (raw bytes, records) per site",
    ),
    (trees::VERSIONS, "version records (zstd JSON, in packs/)"),
    (trees::PAGES, "page states (JSON)"),
    (trees::FETCHED, "every page's last fetch (JSON)"),
    (trees::HISTORY, "history events (JSON)"),
    (trees::CHANGES, "changes feed (JSON)"),
    (trees::FETCH_LOG, FETCH_LOG_HOLDS),
    (trees::FRONTIER, "crawl frontier (JSON)"),
    (trees::META, "schema, crawl records"),
    (trees::VERSION_IDS, "empty since schema 7"),
];

impl Store {
    /// Where the store's bytes go.
    ///
    /// # Errors
    /// [`crate::Error::Store`] when sled cannot read a tree, I/O errors when
    /// the directory cannot be listed.
    pub fn stats(&self) -> Result<StoreStats> {
        let err = |e| store_error(&self.path, e);
        let mut out = Vec::with_capacity(TREES.len());
        for &(name, holds) in TREES {
            let tree = self.db.open_tree(name).map_err(err)?;
            let mut stats = TreeStats {
                tree: name.to_owned(),
                holds,
                entries: 0,
                key_bytes: 0,
                value_bytes: 0,
            };
            if name == trees::FETCH_LOG {
                let (bytes, frames) = self.fetch_log.size().map_err(|e| crate::Error::Io {
                    what: format!(
                        "reading {}",
                        self.path.join(super::FETCH_LOG_FILE).display()
                    ),
                    source: e,
                })?;
                stats.entries = frames;
                stats.value_bytes = bytes;
            }
            for kv in &tree {
                let (k, v) = kv.map_err(err)?;
                stats.entries += 1;
                stats.key_bytes += k.len() as u64;
                // a value in the packs counts its bytes there
                stats.value_bytes += super::packs::Pointer::decode(&v)
                    .map_or(v.len() as u64, super::packs::Pointer::len);
            }
            out.push(stats);
        }
        let data_bytes = out.iter().map(|t| t.key_bytes + t.value_bytes).sum();
        let disk_bytes = dir_bytes(&self.path).map_err(|e| crate::Error::Io {
            what: format!("listing the store directory {}", self.path.display()),
            source: e,
        })?;
        let index_bytes =
            dir_bytes(&self.path.join(super::SEARCH_INDEX_DIR)).map_err(|e| crate::Error::Io {
                what: format!("listing the search index in {}", self.path.display()),
                source: e,
            })?;
        Ok(StoreStats {
            trees: out,
            data_bytes,
            disk_bytes,
            index_bytes,
            sled_overhead_bytes: disk_bytes.saturating_sub(data_bytes + index_bytes),
        })
    }
}

/// Bytes of the files under `dir` (a temporary store has none).
fn dir_bytes(dir: &Path) -> std::io::Result<u64> {
    if !dir.is_dir() {
        return Ok(0);
    }
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// Bytes for people: `812 B`, `4.8 KB`, `39.1 MB` (powers of 1000).
#[must_use]
pub fn human_bytes(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let b = bytes as f64;
    if bytes < 1000 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} KB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::{page, put};

    #[test]
    fn every_tree_is_counted_and_the_versions_are_there() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let html = page("<p>第一版正文，关于做好防汛工作的通知。</p>", 1);
        put(&store, &html, 0);
        put(
            &store,
            &page("<p>第二版正文，关于做好防汛工作的通知。</p>", 1),
            60,
        );
        put(&store, &html, 120);
        store.flush().unwrap();
        let stats = store.stats().unwrap();
        let tree = |name: &str| stats.trees.iter().find(|t| t.tree == name).unwrap();
        assert_eq!(tree("versions").entries, 3);
        assert_eq!(
            tree("raw").entries,
            2,
            "the first page's bytes are kept once"
        );
        assert_eq!(tree("pages").entries, 1);
        assert_eq!(tree("history").entries, 3);
        assert!(tree("raw").value_bytes > 0);
        assert_eq!(
            stats.data_bytes,
            stats
                .trees
                .iter()
                .map(|t| t.key_bytes + t.value_bytes)
                .sum::<u64>()
        );
        assert!(stats.disk_bytes >= stats.data_bytes, "{stats:?}");
    }
}
