//! The names of the store's sled trees, one per kind of value (see
//! `docs/STORE.md` for what each holds).

/// Store-wide facts: the schema version.
pub(crate) const META: &str = "meta";
/// One entry per page URL: its latest state.
pub(crate) const PAGES: &str = "pages";
/// A page's last fetch when it changed nothing but that (schema 4): URL →
/// time, status and validators, newer than the page's entry in [`PAGES`].
pub(crate) const FETCHED: &str = "fetched";
/// Every version of every page: `version id` (schema 1: `url hash ‖ version`).
pub(crate) const VERSIONS: &str = "versions";
/// Where a page's versions were (schemas 2–3): `url hash ‖ version` →
/// `version id`. Emptied by the schema-7 upgrade.
pub(crate) const VERSION_IDS: &str = "version_ids";
/// Every event (version, gone) of every page, in order: `url hash ‖ seq`.
pub(crate) const HISTORY: &str = "history";
/// Raw page bytes, zstd-compressed: `raw id` (schema 1: blake3 hash).
pub(crate) const RAW: &str = "raw";
/// Which raw bytes are stored: blake3 hash → `raw id`.
pub(crate) const RAW_IDS: &str = "raw_ids";
/// Response heads (status line and headers as received), zstd-compressed:
/// blake3 hash of the head → the head. Shared by every version whose
/// response had the same head.
pub(crate) const HEADS: &str = "heads";
/// Every fetch, in order: `id`.
pub(crate) const FETCH_LOG: &str = "fetch_log";

/// Raw-byte dictionaries (schema 8): dictionary id (u32, big-endian) →
/// the zstd dictionary. Frames compressed with one name its id.
pub(crate) const DICTS: &str = "dicts";

/// The crawl frontier: URL → site, depth, visited.
pub(crate) const FRONTIER: &str = "frontier";

/// Every new version and gone mark, in the order they were stored: `id`
/// (schema 6).
pub(crate) const CHANGES: &str = "changes";

/// Which URL of a site first had a content (schema 12): `site ‖ 0x00 ‖
/// content hash` → URL. A new URL of the site with the same content (same
/// title, body, metadata) is that page under another address: an alias.
pub(crate) const ALIASES: &str = "aliases";

/// The key in [`META`] that holds the schema version.
pub(crate) const SCHEMA_KEY: &[u8] = b"schema";
/// In [`META`], followed by a site's name, while a new crawl of the site
/// marked its known URLs to visit again (schema 8 and before; the schema-9
/// upgrade removes it).
pub(crate) const RESTART_KEY_PREFIX: &[u8] = b"recrawl:";
/// In [`META`]: how many slots (file `slots`) are given out (u64,
/// big-endian).
pub(crate) const SLOTS_KEY: &[u8] = b"slots";
/// In [`META`], followed by a site's name: the site's current crawl round
/// (schema 9).
pub(crate) const ROUND_KEY_PREFIX: &[u8] = b"round:";
/// In [`META`], followed by a site's name: the id of the site's raw-byte
/// dictionary (u32, big-endian).
pub(crate) const DICT_KEY_PREFIX: &[u8] = b"dict:";
/// In [`META`], followed by a site's name: the id of the site's record
/// dictionary (u32, big-endian).
pub(crate) const RECORD_DICT_KEY_PREFIX: &[u8] = b"rdict:";
/// In [`META`], followed by a site's name: the site's last crawl.
pub(crate) const CRAWL_KEY_PREFIX: &[u8] = b"crawl:";
/// Present in [`META`] when schema 1 wrote part of the store (until the
/// schema-7 upgrade has moved its values).
pub(crate) const LEGACY_KEY: &[u8] = b"schema_1_values";
