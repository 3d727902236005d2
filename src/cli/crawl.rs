//! `govsnap crawl --config FILE [--site NAME] [--store DIR] [--format json]`
//!
//! Crawls every site of the config once (or one) and prints a summary per
//! site. Ctrl-C or SIGTERM finishes the pages in flight, keeps the frontier
//! for the next run and exits with status 130; a second Ctrl-C stops at once
//! (every write is a whole transaction, so the store stays consistent).
//!
//! A site that could not be reached at all is named on stderr with the URL
//! and the cause, and makes the exit status 3: a scheduled crawl that fails
//! must not look like one that found nothing new.

use super::{ListFormat, Status};
use anyhow::Result;
use clap::Args;
use govsnap::Config;
use govsnap::crawl::{CrawlOptions, Progress, SiteSummary, crawl_with_progress};
use govsnap::publish::{self, Publisher};
use govsnap::search::Search;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;

/// The exit statuses, for `--help`.
pub(super) const EXIT_STATUSES: &str = "Exit status:
  0    every site was reached (pages that failed are counted in ERRORS, not fatal)
  2    bad arguments, config or store: nothing was crawled
  3    at least one site could not be reached at all (each is named on stderr with the cause)
  130  interrupted (Ctrl-C, SIGTERM): the next run continues where this one stopped";

#[derive(Debug, Args)]
pub(super) struct CrawlArgs {
    /// The config: sites, scope, politeness.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Crawl only this site.
    #[arg(long)]
    site: Option<String>,
    /// Fetch every known document, due for a revisit or not.
    #[arg(long)]
    full: bool,
    /// The store directory (default: the config's `store`).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

pub(super) fn run(args: &CrawlArgs) -> Result<Status> {
    let config = Config::load(&args.config)?;
    if let Some(name) = &args.site {
        config.site(name)?;
    }
    let store_dir = args.store.clone().unwrap_or_else(|| config.store.clone());
    let store = super::open_for_writing(&store_dir, args.site.as_deref())?;
    let runtime = super::runtime()?;
    // progress goes to stderr, and only when a person is watching it
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed_precise} {msg} ({rate})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner())
                .with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", state.per_sec());
                    },
                ),
        );
        bar
    });
    let show = |p: Progress| {
        if let Some(bar) = &bar {
            bar.set_position(p.done);
            bar.set_message(format!(
                "sites: {} done, {} crawling, {} waiting of {} · pages: {} done, {} queued, {} errors",
                p.sites_done, p.sites_crawling, p.sites_waiting, p.sites, p.done, p.queued, p.errors
            ));
        }
    };
    let report = runtime.block_on(async {
        let shutdown = async {
            interrupted().await;
            // a second signal: stop now
            let store = store.clone();
            tokio::spawn(async move {
                interrupted().await;
                let _ = store.flush();
                std::process::exit(130);
            });
        };
        let options = CrawlOptions {
            only: args.site.as_deref(),
            full: args.full,
        };
        // the index follows the crawl on a task of its own, and catches
        // up with its last pages before the command ends
        let (stop_indexing, stopped) = tokio::sync::watch::channel(false);
        // and with [publish], the changes go to NATS as they are stored; what
        // is left when the crawl ends goes while NATS answers, the rest at
        // the next run
        let publishing = config.publish.clone().map(|settings| {
            let publisher = Publisher::new(settings, "govsnap crawl");
            tokio::spawn(publisher.follow(store.clone(), stopped.clone(), publish::DRAIN))
        });
        let indexing = match Search::open(&store) {
            Ok(search) => Some(tokio::spawn(Arc::new(search).follow(store.clone(), config.min_free, stopped))),
            Err(e) => {
                eprintln!("govsnap: the search index cannot be opened ({e}); the next search catches it up");
                None
            }
        };
        let report = crawl_with_progress(&config, &store, options, shutdown, &show).await;
        let _ = stop_indexing.send(true);
        if let Some(indexing) = indexing {
            let _ = indexing.await;
        }
        if let Some(publishing) = publishing {
            let _ = publishing.await;
        }
        report
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    for site in &report.sites {
        if let Some(error) = &site.error {
            eprintln!("govsnap: site {} could not be crawled: {error}", site.site);
        }
        for warning in &site.warnings {
            eprintln!("govsnap: site {}: {warning}", site.site);
        }
    }
    let mut out = super::stdout();
    match args.format {
        ListFormat::Json => {
            for site in &report.sites {
                writeln!(out, "{}", serde_json::to_string(site)?)?;
            }
        }
        ListFormat::Table => write_table(&mut out, &report.sites)?,
    }
    out.flush()?;
    // its tasks hold the store too (one waits for a second signal)
    drop(runtime);
    store.close()?;
    Ok(if report.interrupted {
        Status::Interrupted
    } else if report.sites.iter().any(|s| s.error.is_some()) {
        Status::Unreachable
    } else {
        Status::Success
    })
}

/// Ctrl-C or SIGTERM.
pub(super) async fn interrupted() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

fn write_table(out: &mut impl Write, sites: &[SiteSummary]) -> std::io::Result<()> {
    writeln!(
        out,
        "{:<16} {:>7} {:>9} {:>8} {:>6} {:>9} {:>8} {:>5} {:>6} {:>9} {:>7} {:>6} {:>9} {:>8}  OUTCOME",
        "SITE",
        "FETCHED",
        "DOCUMENTS",
        "LISTINGS",
        "NEW",
        "UNCHANGED",
        "NOT-MOD",
        "GONE",
        "ERRORS",
        "OUT-SCOPE",
        "ROBOTS",
        "DUE",
        "REVISITED",
        "DEFERRED",
    )?;
    for s in sites {
        let outcome = match (&s.error, &s.stopped) {
            (Some(_), _) => "unreachable",
            (None, Some(why)) => why.as_str(),
            (None, None) => "done",
        };
        writeln!(
            out,
            "{:<16} {:>7} {:>9} {:>8} {:>6} {:>9} {:>8} {:>5} {:>6} {:>9} {:>7} {:>6} {:>9} {:>8}  {}",
            s.site,
            s.fetched,
            s.documents,
            s.listings,
            s.new_versions,
            s.unchanged,
            s.not_modified,
            s.gone,
            s.errors,
            s.skipped_scope,
            s.skipped_robots,
            s.due,
            s.revisited,
            s.deferred,
            outcome
        )?;
    }
    Ok(())
}
