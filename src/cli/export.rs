//! `govsnap export [--since TIME] [--format jsonl]`: every version's record,
//! one JSON object per line, with its page `url`, `version` and `fetched_at`.
//! Reads the store in slices, reopening it between them, so that memory
//! stays bounded however large the store (docs/PERFORMANCE.md).

use super::StoreArg;
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
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
    /// Only versions fetched at or after this time (RFC 3339, `2024-03-01` or `2024-03-01T08:00:00Z`).
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
        .map(|s| {
            let full = if s.len() == 10 {
                format!("{s}T00:00:00Z")
            } else {
                s.to_owned()
            };
            humantime::parse_rfc3339_weak(&full)
                .map(govsnap::store::timestamp)
                .with_context(|| {
                    format!("--since {s:?} is not a time: write 2024-03-01 or 2024-03-01T08:00:00Z")
                })
        })
        .transpose()?;
    let config = args.store.config()?;
    let dir = args.store.dir(config.as_ref());
    // checked once, before anything is written
    drop(govsnap::Store::open_existing(&dir)?);
    let mut out = super::stdout();
    // The store is opened per slice: sled keeps every page a scan visits in
    // memory until the store is closed, so one long scan would grow with the
    // store (docs/PERFORMANCE.md).
    let mut cursor = None;
    loop {
        let store = govsnap::Store::open_existing(&dir)?;
        let (slice, next) = store.versions_from(cursor.as_ref(), EXPORT_SLICE)?;
        drop(store);
        for version in slice {
            if since.as_ref().is_some_and(|s| version.fetched_at < *s) {
                continue;
            }
            let mut line = serde_json::to_value(&version.record)?;
            if let Some(obj) = line.as_object_mut() {
                obj.insert("url".to_owned(), version.url.into());
                obj.insert("version".to_owned(), version.version.into());
                obj.insert("fetched_at".to_owned(), version.fetched_at.into());
            }
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    out.flush()?;
    Ok(())
}
