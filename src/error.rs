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
    #[error("invalid config {path}: {key}: {reason}")]
    Config {
        /// The config file (or `<config>` when parsed from a string).
        path: PathBuf,
        /// The key at fault, as a dotted path (`site[0].content`).
        key: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

/// Result with the library's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
