//! `govsnap export [--since TIME|CURSOR] [--format jsonl]`: every version's
//! record, one JSON object per line, with its page `url`, `version`,
//! `fetched_at` and the `cursor` of its change (SPEC §9), in store order.
//! Reads the store in slices, reopening it between them, so that memory
//! stays bounded however large the store (docs/PERFORMANCE.md).

use super::StoreArg;
use super::source::Source;
use anyhow::{Result, anyhow};
use clap::{Args, ValueEnum};
use govsnap::store::Since;
use std::io::Write;

/// Versions read per opening of the store.
const EXPORT_SLICE: usize = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum ExportFormat {
    /// JSON Lines.
    Jsonl,
}

#[derive(Debug, Args)]
pub(super) struct ExportArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only versions fetched at or after this time (RFC 3339, `2024-03-01` or
    /// `2024-03-01T08:00:00Z`), or stored after this cursor of the changes
    /// feed (a line's `cursor`, or the service's `next_cursor`).
    #[arg(long)]
    since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
    format: ExportFormat,
}

pub(super) fn run(args: &ExportArgs) -> Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|s| s.parse::<Since>().map_err(|e| anyhow!("--since: {e}")))
        .transpose()?;
    let config = args.store.config()?;
    let dir = args.store.dir(config.as_ref());
    // checked once, before anything is written
    let mut out = super::stdout();
    match Source::open(&dir)? {
        Source::Local(store) => drop(store),
        Source::Service(remote) => {
            let query: Vec<(&str, String)> =
                args.since.iter().map(|s| ("since", s.clone())).collect();
            remote.stream("/api/v1/export", &query, &mut out)?;
            out.flush()?;
            return Ok(());
        }
    }
    // The store is opened per slice: sled keeps every page a scan visits in
    // memory until the store is closed, so one long scan would grow with the
    // store (docs/PERFORMANCE.md).
    let (mut after, from_time) = Since::start(since.as_ref());
    loop {
        let store = govsnap::Store::open_existing(&dir)?;
        let slice = store.export_slice(after, from_time, EXPORT_SLICE)?;
        drop(store);
        for line in &slice.lines {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        match slice.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    out.flush()?;
    Ok(())
}
