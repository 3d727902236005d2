//! `govsnap pages`, `govsnap history URL`, `govsnap show URL`: reading the
//! store. Listings print a table for people or, with `--format json`, one
//! JSON object per line.

use super::source::Source;
use super::{Format, ListFormat, StoreArg};
use anyhow::{Result, anyhow, bail};
use clap::Args;
use govsnap::record::render;
use govsnap::store::{EventKind, PageStatus};
use std::collections::BTreeSet;
use std::io::Write;

#[derive(Debug, Args)]
pub(super) struct PagesArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Only the pages of this config site.
    #[arg(long)]
    site: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
}

#[derive(Debug, Args)]
pub(super) struct HistoryArgs {
    #[command(flatten)]
    store: StoreArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// The page's URL.
    url: String,
}

#[derive(Debug, Args)]
pub(super) struct ShowArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The version to show (default: the latest).
    #[arg(long)]
    version: Option<u32>,
    /// How to print the record: JSON (pretty-printed), plain text, or Markdown.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// The page's URL.
    url: String,
}

pub(super) fn pages(args: &PagesArgs) -> Result<()> {
    let config = args.store.config()?;
    if let (Some(config), Some(site)) = (&config, &args.site) {
        config.site(site)?;
    }
    let source = Source::open(&args.store.dir(config.as_ref()))?;
    let mut out = super::stdout();
    if args.format == ListFormat::Table {
        writeln!(
            out,
            "{:<5} {:>8}  {:<24} {:>6}  {:<20}  URL",
            "STATE", "VERSIONS", "LAST FETCHED", "STATUS", "NEXT DUE"
        )?;
    }
    // the sites the store has, to name them when --site matches none
    let mut sites = BTreeSet::new();
    let mut listed = 0_u64;
    source.each_page(|page, next_due| {
        if args.site.is_some() && page.site != args.site {
            if let Some(site) = page.site {
                sites.insert(site);
            }
            return Ok(());
        }
        listed += 1;
        match args.format {
            ListFormat::Json => {
                let mut line = serde_json::to_value(&page)?;
                if let Some(obj) = line.as_object_mut() {
                    obj.insert("next_due".to_owned(), next_due.into());
                }
                writeln!(out, "{line}")?;
            }
            ListFormat::Table => writeln!(
                out,
                "{:<5} {:>8}  {:<24} {:>6}  {:<20}  {}",
                if page.alias_of.is_some() && page.versions == 0 {
                    "alias".to_owned()
                } else {
                    serde_json::to_value(page.state)?
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                },
                page.versions,
                page.last_fetched,
                page.last_status,
                next_due
                    .as_deref()
                    .map_or("-", |d| d.get(..19).unwrap_or(d)),
                page.url
            )?,
        }
        Ok(())
    })?;
    out.flush()?;
    if let (Some(site), 0, None) = (&args.site, listed, &config) {
        let sites: Vec<String> = sites.into_iter().collect();
        bail!(
            "the store has no pages of a site named {site:?}; its sites are: {}",
            if sites.is_empty() {
                "(none named)".to_owned()
            } else {
                sites.join(", ")
            }
        );
    }
    Ok(())
}

pub(super) fn history(args: &HistoryArgs) -> Result<()> {
    let source = args.store.open_source()?;
    let page = known(&source, &args.url)?;
    let mut out = super::stdout();
    for event in source.history(&page.url)? {
        match args.format {
            ListFormat::Json => writeln!(out, "{}", serde_json::to_string(&event)?)?,
            ListFormat::Table => {
                let what = match event.kind {
                    EventKind::Version => format!("v{}", event.version.unwrap_or(0)),
                    EventKind::Gone => format!("gone ({})", event.status),
                    EventKind::Alias => "alias".to_owned(),
                };
                let hash = event
                    .content_hash
                    .as_deref()
                    .map_or("", |h| &h[..h.len().min(12)]);
                writeln!(
                    out,
                    "{:<24}  {:<10} {:<12}  {}",
                    event.fetched_at,
                    what,
                    hash,
                    event.alias_of.as_deref().map_or_else(
                        || event.title.clone().unwrap_or_default(),
                        |of| format!("= {of}")
                    )
                )?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

pub(super) fn show(args: &ShowArgs) -> Result<()> {
    let source = args.store.open_source()?;
    let page = known(&source, &args.url)?;
    if let (Some(of), 0) = (&page.alias_of, page.versions) {
        bail!(
            "{} is an alias of {of} (the same document under another URL): `govsnap show {of}`",
            page.url
        );
    }
    let n = args.version.unwrap_or(page.versions);
    let shown = source
        .shown(&page.url, n)?
        .ok_or_else(|| anyhow!("{} has no version {n} (it has {})", page.url, page.versions))?;
    let (r, fetched_at) = (&shown.record, &shown.fetched_at);
    if page.state == PageStatus::Gone {
        // on stderr: stdout stays the record, for scripts
        let gone = source
            .history(&page.url)?
            .into_iter()
            .rfind(|e| e.kind == EventKind::Gone);
        eprintln!(
            "govsnap: note: {} is gone{}; this is version {n} of {}, from {}",
            page.url,
            gone.map_or_else(String::new, |e| format!(
                " (HTTP {} since {})",
                e.status, e.fetched_at
            )),
            page.versions,
            fetched_at
        );
    }
    let text = match (args.format, &shown.attachment) {
        // a file's own record (SPEC §11)
        (Format::Json, Some(attachment)) => serde_json::to_string_pretty(attachment)?,
        (Format::Json, None) => serde_json::to_string_pretty(r)?,
        (Format::Text, _) => render::text(r),
        (Format::Markdown, _) => render::markdown(r),
    };
    let mut out = super::stdout();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// The page's state, or an error that says the store does not know it.
pub(super) fn known(source: &Source, url: &str) -> Result<govsnap::store::PageState> {
    if let Some(page) = source.page(url)? {
        return Ok(page);
    }
    // the URL as a browser shows it (a session id, tracking parameters):
    // the store has the page under its one canonical URL
    let canonical = url::Url::parse(url)
        .ok()
        .map(|u| govsnap::canon::canonical(u, &[]).to_string())
        .filter(|c| c != url);
    if let Some(canonical) = canonical
        && let Some(page) = source.page(&canonical)?
    {
        return Ok(page);
    }
    Err(anyhow!(
        "the store has no page {url}: `govsnap pages` lists the URLs it has"
    ))
}
