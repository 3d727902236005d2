//! The names of the store's sled trees, one per kind of value (see
//! `docs/STORE.md` for what each holds).

/// Store-wide facts: the schema version.
pub(crate) const META: &str = "meta";
/// One entry per page URL: its latest state.
pub(crate) const PAGES: &str = "pages";
/// Every version of every page: `url hash ‖ version`.
pub(crate) const VERSIONS: &str = "versions";
/// Every event (version, gone) of every page, in order: `url hash ‖ seq`.
pub(crate) const HISTORY: &str = "history";
/// Raw page bytes, zstd-compressed, by blake3 hash.
pub(crate) const RAW: &str = "raw";
/// Every fetch, in order: `id`.
pub(crate) const FETCH_LOG: &str = "fetch_log";

/// The crawl frontier: URL → site, depth, visited.
pub(crate) const FRONTIER: &str = "frontier";

/// The key in [`META`] that holds the schema version.
pub(crate) const SCHEMA_KEY: &[u8] = b"schema";
