//! Opening the store and making it durable: sled, and the files beside it
//! (the slots, the fetch log, the packs, the reservation of sled's file),
//! opened together; a flush writes sled first and the files after it, so
//! that they never say more than sled kept.

use super::{
    CACHE_BYTES, DB_FILE, FETCH_LOG_FILE, PACKS_DIR, SLOTS_FILE, STORE_SCHEMA, Store, ZSTD_LEVEL,
    disk, fetchlog, packs, slots, store_error, trees,
};
use crate::error::{Error, Result};
use std::path::Path;

impl Store {
    /// Open (or create) the store at `path`.
    ///
    /// # Errors
    /// [`Error::StoreLocked`] when another process has it open,
    /// [`Error::StoreSchema`] when a newer govsnap wrote it, [`Error::Store`]
    /// when sled cannot open it.
    pub fn open(path: &Path) -> Result<Self> {
        // sled refuses to open a store with another compression setting
        // than it was created with, and says so in this message
        let db = match open_db(path, false) {
            Err(sled::Error::Unsupported(why)) if why.contains("use_compression") => {
                open_db(path, true)
            }
            other => other,
        }
        .map_err(|e| open_error(path, e))?;
        let slots = slots::Slots::open(&path.join(SLOTS_FILE)).map_err(|e| {
            Error::io(
                path,
                format!("opening {}", path.join(SLOTS_FILE).display()),
                e,
            )
        })?;
        let log_path = path.join(FETCH_LOG_FILE);
        let (log, torn) = fetchlog::FetchLog::open(&log_path).map_err(|e| {
            let what = format!(
                "opening the fetch log {} (move it away to start a new one)",
                log_path.display()
            );
            Error::io(path, what, e)
        })?;
        if torn > 0 {
            tracing::warn!(file = %log_path.display(), bytes = torn, "dropped a torn fetch-log frame");
        }
        let reserve = disk::Reserve::open(&path.join(DB_FILE)).map_err(|e| {
            let what = format!(
                "opening {} to reserve its segments",
                path.join(DB_FILE).display()
            );
            Error::io(path, what, e)
        })?;
        let packs = packs::Packs::open(&path.join(PACKS_DIR)).map_err(|e| {
            let what = format!("opening the packs in {}", path.join(PACKS_DIR).display());
            Error::io(path, what, e)
        })?;
        Self::from_db(path, db, (slots, log, packs, Some(reserve)))
    }

    /// Open the store at `path`, which must exist: for readers, which must
    /// never leave an empty store behind a mistyped path.
    ///
    /// # Errors
    /// [`Error::StoreMissing`] when `path` holds no store; as [`Store::open`].
    pub fn open_existing(path: &Path) -> Result<Self> {
        // sled keeps its config and its data in these two files
        if !(path.join("conf").is_file() && path.join("db").is_file()) {
            return Err(Error::StoreMissing {
                path: path.to_owned(),
            });
        }
        Self::open(path)
    }

    /// A store in a temporary directory, removed when dropped (for tests).
    ///
    /// # Errors
    /// [`Error::Store`] when sled cannot create it.
    pub fn temporary() -> Result<Self> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(|e| open_error(Path::new("(temporary)"), e))?;
        let temporary = |what: &str, e| Error::Io {
            what: format!("creating a temporary {what}"),
            source: e,
        };
        let slots = slots::Slots::anonymous().map_err(|e| temporary("slots file", e))?;
        let log = fetchlog::FetchLog::anonymous().map_err(|e| temporary("fetch log", e))?;
        let packs = packs::Packs::temporary().map_err(|e| temporary("packs directory", e))?;
        Self::from_db(Path::new("(temporary)"), db, (slots, log, packs, None))
    }

    /// The store on an open sled database and its files beside it.
    fn from_db(
        path: &Path,
        db: sled::Db,
        (slots, log, packs, reserve): (
            slots::Slots,
            fetchlog::FetchLog,
            packs::Packs,
            Option<disk::Reserve>,
        ),
    ) -> Result<Self> {
        let err = |e| store_error(path, e);
        slots.flush_first(&db);
        log.flush_first(&db);
        let meta = db.open_tree(trees::META).map_err(err)?;
        let mut upgrade = None;
        match meta.get(trees::SCHEMA_KEY).map_err(err)? {
            None => {
                meta.insert(trees::SCHEMA_KEY, STORE_SCHEMA.to_string().as_bytes())
                    .map_err(err)?;
            }
            Some(v) => {
                let found: u32 = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(u32::MAX);
                if found > STORE_SCHEMA {
                    return Err(Error::StoreSchema {
                        path: path.to_owned(),
                        found,
                        supported: STORE_SCHEMA,
                    });
                }
                upgrade = (found < STORE_SCHEMA).then_some(found);
            }
        }
        let store = Self {
            path: path.to_owned(),
            pages: db.open_tree(trees::PAGES).map_err(err)?,
            fetched: db.open_tree(trees::FETCHED).map_err(err)?,
            versions: db.open_tree(trees::VERSIONS).map_err(err)?,
            history: db.open_tree(trees::HISTORY).map_err(err)?,
            raw: db.open_tree(trees::RAW).map_err(err)?,
            raw_ids: db.open_tree(trees::RAW_IDS).map_err(err)?,
            heads: db.open_tree(trees::HEADS).map_err(err)?,
            dicts_tree: db.open_tree(trees::DICTS).map_err(err)?,
            dicts: std::sync::Arc::default(),
            fetch_log_tree: db.open_tree(trees::FETCH_LOG).map_err(err)?,
            fetch_log: std::sync::Arc::new(log),
            packs: std::sync::Arc::new(packs),
            reserve: reserve.map(std::sync::Arc::new),
            frontier: db.open_tree(trees::FRONTIER).map_err(err)?,
            changes: db.open_tree(trees::CHANGES).map_err(err)?,
            aliases: db.open_tree(trees::ALIASES).map_err(err)?,
            slots: std::sync::Arc::new(slots),
            slot_range: std::sync::Arc::default(),
            changed: std::sync::Arc::new(tokio::sync::watch::Sender::new(0)),
            write_lock: std::sync::Arc::default(),
            meta: meta.clone(),
            db,
        };
        if let Some(found) = upgrade {
            // Everything older is brought to the current layout first (see
            // `upgrade`), then the mark written: a kill in between leaves
            // the old mark, and the next open does again what is left.
            store.upgrade(found)?;
            meta.insert(trees::SCHEMA_KEY, STORE_SCHEMA.to_string().as_bytes())
                .map_err(err)?;
            tracing::info!(store = %path.display(), to = STORE_SCHEMA, "store schema upgraded");
        }
        store.load_dicts()?;
        Ok(store)
    }

    /// Make every write so far durable.
    ///
    /// # Errors
    /// [`Error::Store`] when the disk refuses.
    pub fn flush(&self) -> Result<()> {
        self.db.flush().map_err(|e| store_error(&self.path, e))?;
        self.slots.sync().map_err(|e| self.slots_error(&e))?;
        // after sled's flush: the log never holds a fetch sled could lose
        self.fetch_log
            .write_pending()
            .map_err(|e| self.file_error(FETCH_LOG_FILE, &e))?;
        if let Some(reserve) = &self.reserve {
            reserve
                .whole_segments(Some(self.db.log_tip()))
                .map_err(|e| self.file_error(DB_FILE, &e))?;
        }
        Ok(())
    }

    /// A failure of one of the store's files, named.
    pub(super) fn file_error(&self, file: &str, e: &std::io::Error) -> Error {
        Error::io(
            &self.path,
            format!("writing {}", self.path.join(file).display()),
            std::io::Error::new(e.kind(), e.to_string()),
        )
    }

    /// A failure of the slots file, named.
    pub(super) fn slots_error(&self, e: &std::io::Error) -> Error {
        Error::io(
            &self.path,
            format!("the slots file {}", self.path.join(SLOTS_FILE).display()),
            std::io::Error::new(e.kind(), e.to_string()),
        )
    }
}

/// Whether what the store's files still queue may be written as a store
/// is dropped: sled (when attached) has flushed what those entries speak
/// of. A flush that fails (a full disk) drops them instead: a URL is then
/// fetched again, never marked done for a page sled lost.
pub(super) fn flushed_before_drop(sled: &std::sync::OnceLock<sled::Db>, what: &str) -> bool {
    match sled.get().map(|db| db.flush()) {
        Some(Err(e)) => {
            tracing::debug!(error = %e, "sled could not flush: the last {what} are dropped");
            false
        }
        _ => true,
    }
}

/// sled at `path`, with its page compression or without: without for a new
/// store, with for one created so. sled's zstd compresses every node it
/// writes, and creates a zstd context each time: a quarter of a crawl's CPU.
/// The values that are worth it (versions, raw bytes, the fetch log's
/// batches) come compressed already.
fn open_db(path: &Path, compression: bool) -> sled::Result<sled::Db> {
    sled::Config::new()
        .path(path)
        .use_compression(compression)
        .compression_factor(ZSTD_LEVEL)
        // sled caches up to 1 GiB by default; a crawler's memory must stay
        // flat as the store grows
        .cache_capacity(CACHE_BYTES)
        .open()
}

/// sled's lock failure is an `Io(Other)` whose text says so; name it.
fn open_error(path: &Path, e: sled::Error) -> Error {
    if e.to_string().contains("could not acquire lock") {
        Error::StoreLocked {
            path: path.to_owned(),
        }
    } else {
        store_error(path, e)
    }
}
