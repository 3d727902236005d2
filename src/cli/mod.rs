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
//! - [`search`]: `govsnap search`, `reindex`, the index's catch-up.
//! - [`serve`]: `govsnap serve`; [`source`]: the read commands' store, or
//!   the service that holds it.

#![deny(clippy::print_stdout)]

mod crawl;
mod diff;
mod export;
mod extract;
mod ingest;
mod inspect;
mod search;
mod serve;
mod source;
mod stats;
mod wayback;

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
    /// Crawl on schedule and serve the store over HTTP while crawling.
    Serve(serve::ServeArgs),
    /// Show where the store's bytes go, tree by tree.
    Stats(stats::StatsArgs),
    /// Find documents and files by their words, title, 文号 or metadata.
    Search(search::SearchArgs),
    /// Rebuild the search index from the store.
    Reindex(search::ReindexArgs),
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

    /// Open the store for a read command, or the service that holds it: a
    /// store that does not exist is an error, never created.
    fn open_source(&self) -> anyhow::Result<source::Source> {
        let config = self.config()?;
        source::Source::open(&self.dir(config.as_ref()))
    }
}

/// glibc's malloc gives threads that allocate at once arenas of their own,
/// up to eight per core, and what one arena frees the others do not reuse:
/// a thousand-site crawl's peak RSS was 181 MB with glibc's default and
/// 159 MB with two arenas per core, at the same speed (one per core saved
/// 10 MB more and crawled 8 % slower). `MALLOC_ARENA_MAX` in the
/// environment, glibc's own setting, still wins.
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let arenas = libc::c_int::try_from(2 * cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt sets one of malloc's parameters; it is called
        // first thing in main, before any other thread exists
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}

/// The runtime of commands that crawl. Extraction and store writes run on
/// blocking threads; more of them than cores buys nothing but memory: every
/// thread that allocates gets its own malloc arena (32 threads: 200 MB peak
/// RSS at 20,000 pages; cores + 1: under 90 MB).
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(cores + 1)
        .build()
        .context("cannot start the async runtime")
}

/// Open the store for a command that writes (`crawl`, `ingest`, `serve`).
/// When a running `govsnap serve` holds it, say so and how to ask the
/// service instead (`site`: the site to name in the example).
fn open_for_writing(dir: &std::path::Path, site: Option<&str>) -> anyhow::Result<Store> {
    match Store::open(dir) {
        Err(govsnap::Error::StoreLocked { path }) => {
            match govsnap::serve::ServeFile::running(dir) {
                Some(service) => anyhow::bail!(
                    "the store {} is held by govsnap serve at {} (pid {}): ask it to crawl with `curl -X POST -H \"Authorization: Bearer $(cat {})\" {}/api/v1/sites/{}/crawl`, or stop it first",
                    path.display(),
                    service.base_url(),
                    service.pid,
                    service.token_file.display(),
                    service.base_url(),
                    site.unwrap_or("NAME")
                ),
                None => Err(govsnap::Error::StoreLocked { path }.into()),
            }
        }
        other => Ok(other?),
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
    bound_malloc_arenas();
    let cli = Cli::parse();
    // a service logs its crawls' starts and ends; a command only warns
    init_logging(if matches!(cli.command, Command::Serve(_)) {
        "info"
    } else {
        "warn"
    });
    let outcome = match cli.command {
        Command::Extract(args) => extract::run(&args),
        Command::Crawl(args) => crawl::run(&args),
        Command::Ingest(args) => ingest::run(&args),
        Command::Pages(args) => inspect::pages(&args).map(|()| Status::Success),
        Command::History(args) => inspect::history(&args).map(|()| Status::Success),
        Command::Show(args) => inspect::show(&args).map(|()| Status::Success),
        Command::Diff(args) => diff::run(&args).map(|()| Status::Success),
        Command::Export(args) => export::run(&args).map(|()| Status::Success),
        Command::Serve(args) => serve::run(&args),
        Command::Stats(args) => stats::run(&args).map(|()| Status::Success),
        Command::Search(args) => search::search(&args).map(|()| Status::Success),
        Command::Reindex(args) => search::reindex(&args),
    };
    match outcome {
        Ok(status) => status.into(),
        Err(err) if is_broken_pipe(&err) => Status::Success.into(),
        Err(err) => {
            // a full disk is said in its own words, whatever step met it
            let full = err.chain().find_map(|c| {
                c.downcast_ref::<govsnap::Error>()
                    .filter(|e| e.is_disk_full())
            });
            match full {
                Some(full) => eprintln!("govsnap: {full}"),
                None => eprintln!("govsnap: {}", one_line(&err)),
            }
            Status::Usage.into()
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default: `level`); colour only
/// for a person at a terminal, never into a log file, and never with
/// `NO_COLOR` set (no-color.org).
fn init_logging(level: &str) {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // html5ever logs what its tree builder does not implement
                // ("foster parenting not implemented") at warn on every
                // table soup: noise for an archivist, there for `RUST_LOG`
                .unwrap_or_else(|_| {
                    // and sled logs every failed write of a full disk at
                    // error, which govsnap says once in its own words; the
                    // PDF and Office readers what they work around in a
                    // file, which its record's warnings say; the
                    // certificate verifier every refused certificate,
                    // which the fetch's error (or, lenient, its note) says
                    tracing_subscriber::EnvFilter::new(format!(
                        "{level},html5ever=error,sled=off,pdf_oxide=off,office_oxide=off,rustls_platform_verifier=off"
                    ))
                }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
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
