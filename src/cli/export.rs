//! `govsnap export [--since TIME|CURSOR] [--format jsonl|warc|wacz]`: every version's
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
    /// WARC 1.1, gzip per record (needs -o).
    Warc,
    /// WACZ 1.1.1: the WARC, its CDXJ index and page list in one zip
    /// (needs -o).
    Wacz,
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
    /// Write to this file instead of standard output (required for WARC:
    /// `-o archive.warc.gz`); it appears whole or not at all.
    #[arg(short = 'o', long, value_name = "FILE")]
    output: Option<std::path::PathBuf>,
    /// With --format warc: also a `revisit` record for every fetch that
    /// found its page unchanged (identical-payload-digest profile).
    #[arg(long)]
    revisits: bool,
}

pub(super) fn run(args: &ExportArgs) -> Result<()> {
    let since = args
        .since
        .as_deref()
        .map(|s| s.parse::<Since>().map_err(|e| anyhow!("--since: {e}")))
        .transpose()?;
    let config = args.store.config()?;
    let dir = args.store.dir(config.as_ref());
    if args.format != ExportFormat::Jsonl {
        return archive(args, &dir, config.as_ref(), since.as_ref());
    }
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

/// `--format warc|wacz -o FILE`: every version as its response, request
/// and metadata records, after a `warcinfo` (for WACZ, in a zip with their
/// index and page list, see `govsnap::warc::wacz`); written to
/// `FILE.partial` and renamed when whole.
fn archive(
    args: &ExportArgs,
    dir: &std::path::Path,
    config: Option<&govsnap::Config>,
    since: Option<&Since>,
) -> Result<()> {
    use anyhow::Context;
    let wacz = args.format == ExportFormat::Wacz;
    let Some(path) = &args.output else {
        anyhow::bail!(
            "--format {} writes a file: give it with -o FILE.{}",
            if wacz { "wacz" } else { "warc" },
            if wacz { "wacz" } else { "warc.gz" }
        );
    };
    match Source::open(dir)? {
        Source::Local(store) => drop(store),
        Source::Service(_) => anyhow::bail!(
            "the store is held by govsnap serve: stop it to export WARC or WACZ, or export JSON Lines through it"
        ),
    }
    let partial = path.with_extension("partial");
    let warc_path = if wacz {
        path.with_extension("warc-partial")
    } else {
        partial.clone()
    };
    let written = write_warc(args, dir, config, since, &warc_path).and_then(|(records, index)| {
        if wacz {
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot create {}", partial.display()))?;
            let title = path
                .file_stem()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let now = govsnap::store::timestamp(std::time::SystemTime::now());
            govsnap::warc::wacz::write(
                std::io::BufWriter::new(file),
                &warc_path,
                &index,
                &title,
                &now,
            )
            .with_context(|| format!("cannot write {}", partial.display()))?;
            std::fs::remove_file(&warc_path).ok();
        }
        Ok((records, index.len()))
    });
    let (records, captures) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            let _ = std::fs::remove_file(&warc_path);
            return Err(e);
        }
    };
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))?;
    if wacz {
        eprintln!(
            "govsnap: wrote {records} WARC records, {captures} indexed, to {}",
            path.display()
        );
    } else {
        eprintln!(
            "govsnap: wrote {records} WARC records to {}",
            path.display()
        );
    }
    Ok(())
}

/// Write the WARC to `path`: its record count, and each version's index
/// entry.
fn write_warc(
    args: &ExportArgs,
    dir: &std::path::Path,
    config: Option<&govsnap::Config>,
    since: Option<&Since>,
    path: &std::path::Path,
) -> Result<(u64, Vec<govsnap::warc::Indexed>)> {
    use anyhow::Context;
    use govsnap::warc::{write::Writer, write_kept, write_revisit, write_version, write_warcinfo};
    let user_agent = config.map_or(govsnap::config::DEFAULT_USER_AGENT, |c| {
        c.crawl.user_agent.as_str()
    });
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = Writer::new(std::io::BufWriter::new(file));
    let name = args
        .output
        .as_deref()
        .and_then(std::path::Path::file_name)
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    write_warcinfo(
        &mut out,
        &name,
        &govsnap::store::timestamp(std::time::SystemTime::now()),
    )?;
    let mut index = Vec::new();
    let (mut after, from_time) = Since::start(since);
    loop {
        let store = govsnap::Store::open_existing(dir)?;
        let (versions, next) = store.versions_slice(after, from_time, EXPORT_SLICE)?;
        for (_, version) in &versions {
            index.push(write_version(&mut out, &store, version, user_agent)?);
        }
        drop(store);
        match next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    // after the responses revisits refer to: from the fetch log, since the
    // same time (for a cursor, its change's), the list pages whose answers
    // the store kept (jpage groups) and, asked for, revisits
    let store = govsnap::Store::open_existing(dir)?;
    let from = match since {
        Some(Since::Time(t)) => Some(t.clone()),
        Some(Since::Cursor(c)) => store.change_at(*c)?.map(|change| change.fetched_at),
        None => None,
    };
    for entry in store.fetch_log() {
        let entry = entry?;
        if from.as_ref().is_some_and(|t| entry.fetched_at < *t) {
            continue;
        }
        if !write_kept(&mut out, &store, &entry, user_agent)? && args.revisits {
            write_revisit(&mut out, &store, &entry)?;
        }
    }
    let records = out.written();
    out.finish()?;
    Ok((records, index))
}
