//! `govsnap stats`: where a store's bytes go, tree by tree (issue 16), for
//! an archivist sizing a disk and for the store's own economy work.

use super::{ListFormat, StoreArg};
use anyhow::Result;
use clap::Args;
use govsnap::store::human_bytes;
use std::io::Write;

#[derive(Debug, Args)]
pub(super) struct StatsArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

pub(super) fn run(args: &StatsArgs) -> Result<()> {
    let config = args.store.config()?;
    let store = govsnap::Store::open_existing(&args.store.dir(config.as_ref()))?;
    let stats = store.stats()?;
    let mut out = super::stdout();
    if args.format == ListFormat::Json {
        writeln!(out, "{}", serde_json::to_string(&stats)?)?;
        return Ok(out.flush()?);
    }
    writeln!(
        out,
        "{:<12} {:>10} {:>10} {:>11} {:>7}  holds",
        "tree", "entries", "keys", "values", "of disk"
    )?;
    let share = |bytes: u64| {
        #[allow(clippy::cast_precision_loss)]
        let pct = 100.0 * bytes as f64 / stats.disk_bytes.max(1) as f64;
        format!("{pct:.1} %")
    };
    for t in &stats.trees {
        writeln!(
            out,
            "{:<12} {:>10} {:>10} {:>11} {:>7}  {}",
            t.tree,
            t.entries,
            human_bytes(t.key_bytes),
            human_bytes(t.value_bytes),
            share(t.key_bytes + t.value_bytes),
            t.holds
        )?;
    }
    writeln!(
        out,
        "keys and values {}, sled's own (log framing, index, space not yet reclaimed) {} ({}), search index {} ({}, rebuilt by reindex), on disk {}",
        human_bytes(stats.data_bytes),
        human_bytes(stats.sled_overhead_bytes),
        share(stats.sled_overhead_bytes),
        human_bytes(stats.index_bytes),
        share(stats.index_bytes),
        human_bytes(stats.disk_bytes)
    )?;
    Ok(out.flush()?)
}
