//! The library's one error type.

use std::path::PathBuf;

/// Everything that can make a govsnap library call fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input had no bytes at all.
    #[error("the page is empty (0 bytes): nothing to extract")]
    EmptyInput,
    /// The input is a binary file, not an HTML page.
    #[error("the input is not an HTML page (it looks like {kind}): pass a saved web page")]
    NotHtml {
        /// What the bytes look like (PDF, PNG, ZIP, binary data …).
        kind: &'static str,
    },
    /// Another process has the store open.
    #[error(
        "the store {path} is in use by another govsnap process; wait for it to finish or use another --store"
    )]
    StoreLocked {
        /// The store directory.
        path: PathBuf,
    },
    /// The store was written by a newer govsnap.
    #[error(
        "the store {path} has schema {found}, newer than this govsnap's {supported}: upgrade govsnap to read it"
    )]
    StoreSchema {
        /// The store directory.
        path: PathBuf,
        /// The schema found in the store.
        found: u32,
        /// The newest schema this build reads.
        supported: u32,
    },
    /// sled failed.
    #[error("the store {path} failed: {source}")]
    Store {
        /// The store directory.
        path: PathBuf,
        /// sled's error.
        #[source]
        source: sled::Error,
    },
    /// A stored value could not be read.
    #[error("the store {path} holds a value this govsnap cannot read (tree {tree}): {reason}")]
    StoreValue {
        /// The store directory.
        path: PathBuf,
        /// The tree it is in.
        tree: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file system holding the store has no space left. Nothing the
    /// store committed is lost; the next run continues once space is freed.
    #[error("the disk holding {} is full ({reason}): {}", path.display(), disk_full_advice(*stored, doing))]
    DiskFull {
        /// The store directory.
        path: PathBuf,
        /// What the system said (`No space left on device`).
        reason: String,
        /// The documents this run stored before it stopped, when it was
        /// storing some.
        stored: Option<u64>,
        /// What stopped: `"crawl"`, `"ingest"`, or `""` for any other
        /// command.
        doing: &'static str,
    },
    /// A local I/O step failed.
    #[error("{what} failed: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A config file could not be read.
    #[error("cannot read config {path}: {source}")]
    ReadConfig {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A config file is not valid; nothing was fetched.
    #[error("invalid config {}: {key}: {reason}", at_line(path, *line))]
    Config {
        /// The config file (or `<config>` when parsed from a string).
        path: PathBuf,
        /// The line of the key at fault, when the file has it.
        line: Option<usize>,
        /// The key at fault, as a dotted path (`site[0].content`).
        key: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// `--site` names no site of the config.
    #[error("the config {path} has no site named {name:?}; its sites are: {known}")]
    UnknownSite {
        /// The config file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// The config's site names, comma-separated.
        known: String,
    },
    /// A read command was pointed at a directory that holds no store.
    #[error(
        "there is no store at {path}: give the directory a crawl wrote to with --store DIR, or --config FILE to use its store"
    )]
    StoreMissing {
        /// Where the store was looked for.
        path: PathBuf,
    },
    /// A search query cannot be run as written (SPEC §13): the service
    /// answers it with a 400.
    #[error("bad query: {0}")]
    Query(String),
    /// The search index could not be read or written. The store is not
    /// touched; `govsnap reindex` rebuilds the index from it.
    #[error(
        "the search index {path} failed: {reason}; `govsnap reindex` rebuilds it from the store"
    )]
    Index {
        /// The index directory.
        path: PathBuf,
        /// What tantivy said.
        reason: String,
    },
}

/// What a full disk's message tells the person to do.
fn disk_full_advice(stored: Option<u64>, doing: &str) -> String {
    match (stored, doing) {
        (Some(n), "") => {
            format!("{n} documents were stored; free space and run the command again to continue")
        }
        (Some(n), doing) => format!(
            "{n} documents of this {doing} were stored; free space and run the {doing} again to continue"
        ),
        (None, _) => "free space and run the command again; nothing stored is lost".to_owned(),
    }
}

/// Whether an I/O error says the file system is full (or the user's quota
/// spent).
#[must_use]
pub(crate) fn is_disk_full(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

/// What the system says of a full disk (sled hands its errors on wrapped,
/// so the kind says it, not the text).
fn os_words(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::QuotaExceeded => "Disk quota exceeded",
        _ => "No space left on device",
    }
    .to_owned()
}

impl Error {
    /// `Error::DiskFull` for the store at `path` when `e` says the disk is
    /// full, else `Error::Io` for `what`.
    #[must_use]
    pub fn io(path: &std::path::Path, what: impl Into<String>, e: std::io::Error) -> Self {
        if is_disk_full(&e) {
            Self::DiskFull {
                path: path.to_owned(),
                reason: os_words(&e),
                stored: None,
                doing: "",
            }
        } else {
            Self::Io {
                what: what.into(),
                source: e,
            }
        }
    }

    /// Whether this is [`Error::DiskFull`].
    #[must_use]
    pub fn is_disk_full(&self) -> bool {
        matches!(self, Self::DiskFull { .. })
    }

    /// A full disk's error with what the run was doing and how many
    /// documents it stored; any other error as it is.
    #[must_use]
    pub fn stored(self, n: u64, what: &'static str) -> Self {
        match self {
            Self::DiskFull { path, reason, .. } => Self::DiskFull {
                path,
                reason,
                stored: Some(n),
                doing: what,
            },
            other => other,
        }
    }
}

/// `FILE line N`, or `FILE` when the line is unknown.
fn at_line(path: &std::path::Path, line: Option<usize>) -> String {
    match line {
        Some(n) => format!("{} line {n}", path.display()),
        None => path.display().to_string(),
    }
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
