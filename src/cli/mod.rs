//! The command line (SPEC §6): argument parsing, dispatch, exit codes and
//! one-line errors. Only this side of the crate uses `anyhow`.
//!
//! Commands write to [`stdout`] and return its I/O errors, never print with
//! `println!` (which panics when the reader has gone): a closed pipe
//! (`govsnap show URL | head`) then ends the command quietly, in one place,
//! [`main`]. The lint below keeps it so.
//!
//! # Architecture
//! - [`Cli`], [`Command`]: the arguments.
//! - [`crawl`]: `govsnap crawl`.
//! - [`extract`]: `govsnap extract`.
//! - [`ingest`]: `govsnap ingest`.
//! - [`inspect`]: `govsnap pages`, `history`, `show`.
//! - [`diff`]: `govsnap diff`; [`export`]: `govsnap export`.
//! - [`render`]: records as text and Markdown for people.

#![deny(clippy::print_stdout)]

mod crawl;
mod diff;
mod export;
mod extract;
mod ingest;
mod inspect;
mod render;

use clap::{Args, Parser, Subcommand, ValueEnum};
use govsnap::{Config, Store};
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit statuses, named.
#[derive(Debug, Clone, Copy)]
#[repr(u8)]
enum Status {
    /// Everything worked.
    Success = 0,
    /// At least one input could not be processed; the others were.
    InputFailed = 1,
    /// Bad arguments, config or store: nothing was done.
    Usage = 2,
    /// At least one site of a crawl could not be reached at all.
    Unreachable = 3,
    /// Stopped by Ctrl-C or SIGTERM; the next run continues.
    Interrupted = 130,
}

impl From<Status> for ExitCode {
    fn from(s: Status) -> Self {
        ExitCode::from(s as u8)
    }
}

/// govsnap: archive government documents from the web.
#[derive(Debug, Parser)]
#[command(name = "govsnap", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode, clean and structure saved pages and print each record as JSON.
    Extract(extract::ExtractArgs),
    /// Crawl the config's sites once, storing new versions.
    #[command(after_help = crawl::EXIT_STATUSES)]
    Crawl(crawl::CrawlArgs),
    /// Put saved pages (with --url) or `wget -r` mirrors into the store.
    Ingest(ingest::IngestArgs),
    /// List the pages in the store with their version count and state.
    Pages(inspect::PagesArgs),
    /// List a page's versions and gone marks.
    History(inspect::HistoryArgs),
    /// Print a version's record (default: the latest).
    Show(inspect::ShowArgs),
    /// Print what changed between two versions of a page.
    Diff(diff::DiffArgs),
    /// Write every version's record, one JSON object per line.
    Export(export::ExportArgs),
}

/// The store every store command takes: `--store DIR`, else the `store` of
/// `--config FILE`, else the default.
#[derive(Debug, Args)]
struct StoreArg {
    /// The store directory [default: the config's `store`, else snapshots/store].
    #[arg(long = "store", value_name = "DIR")]
    dir: Option<PathBuf>,
    /// A config: its `store` is used when --store is not given (and its sites
    /// are known).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl StoreArg {
    /// The config, when one was given.
    fn config(&self) -> anyhow::Result<Option<Config>> {
        Ok(self.config.as_deref().map(Config::load).transpose()?)
    }

    /// The store directory, given the loaded config.
    fn dir(&self, config: Option<&Config>) -> PathBuf {
        self.dir
            .clone()
            .or_else(|| config.map(|c| c.store.clone()))
            .unwrap_or_else(|| PathBuf::from(govsnap::config::DEFAULT_STORE))
    }

    /// Open the store for a read command: one that does not exist is an
    /// error, never created.
    fn open_existing(&self) -> anyhow::Result<Store> {
        let config = self.config()?;
        Ok(Store::open_existing(&self.dir(config.as_ref()))?)
    }
}

/// Standard output, buffered. Write errors go back to the caller, so that a
/// reader closing the pipe ends the command quietly (see [`main`]).
fn stdout() -> std::io::BufWriter<std::io::StdoutLock<'static>> {
    std::io::BufWriter::new(std::io::stdout().lock())
}

/// Output formats of commands that list or summarize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    /// A table for people.
    Table,
    /// One JSON object per line.
    Json,
}

/// Output formats of commands that print records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The record as JSON (SPEC §4).
    Json,
    /// Plain text for reading.
    Text,
    /// Markdown, headings for sections.
    Markdown,
}

/// Run the command line and turn the outcome into an exit status.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Extract(args) => extract::run(&args),
        Command::Crawl(args) => crawl::run(&args),
        Command::Ingest(args) => ingest::run(&args),
        Command::Pages(args) => inspect::pages(&args).map(|()| Status::Success),
        Command::History(args) => inspect::history(&args).map(|()| Status::Success),
        Command::Show(args) => inspect::show(&args).map(|()| Status::Success),
        Command::Diff(args) => diff::run(&args).map(|()| Status::Success),
        Command::Export(args) => export::run(&args).map(|()| Status::Success),
    };
    match outcome {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => Status::Success.into(),
        Err(err) => {
            eprintln!("govsnap: {}", one_line(&err));
            Status::Usage.into()
        }
    }
}

/// An error and its causes on one line.
fn one_line(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ").replace('\n', " ")
}

/// A reader closed our stdout (`govsnap export … | head`): not a failure.
/// `serde_json`'s writer errors hide the I/O error from the cause chain, so
/// they are asked for its kind.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        let kind = c
            .downcast_ref::<std::io::Error>()
            .map(std::io::Error::kind)
            .or_else(|| {
                c.downcast_ref::<serde_json::Error>()
                    .and_then(serde_json::Error::io_error_kind)
            });
        kind == Some(std::io::ErrorKind::BrokenPipe)
    })
}
