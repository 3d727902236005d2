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
