//! `govsnap ingest (--url URL FILE | DIR | WARC)… [--scheme https] [--config FILE [--shard K/N]]`
//!
//! Saved pages into the store through the same pipeline as a crawl
//! ([`govsnap::Snapshots`]). A directory is a mirror as `wget -r` writes it:
//! `DIR/HOST[:PORT]/PATH` is the page `http://HOST[:PORT]/PATH`. A `.warc`
//! or `.warc.gz` file is read record by record ([`govsnap::warc`]), each
//! capture at its `WARC-Date`. Files SPEC §11 archives
//! (PDF, DOCX, XLSX, OFD …) are stored as attachments, with their text;
//! other files that are no web page (images …) are skipped; files that cannot be read are
//! errors, counted and named on stderr. Pages are stored
//! [`govsnap::store::FLUSH_EVERY`] at a time, one transaction each, flushed.

use super::{ListFormat, Status, StoreArg};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use govsnap::config::Shard;
use govsnap::store::Fetch;
use govsnap::{Config, ExtractOptions, Snapshots, canon};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Scheme {
    Http,
    Https,
}

#[derive(Debug, Args)]
pub(super) struct IngestArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The URL of the one saved page given as FILE.
    #[arg(long)]
    url: Option<String>,
    /// The scheme of the URLs made from a mirror's paths.
    #[arg(long, value_enum, default_value_t = Scheme::Http)]
    scheme: Scheme,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    /// Import a site's past from a Wayback server (SPEC §12): every
    /// capture under this URL prefix, each at its capture time, oldest
    /// first, at `[wayback] delay_ms` (default 1000) between requests.
    #[arg(long, value_name = "URL_PREFIX", conflicts_with = "url")]
    pub(super) cdx: Option<String>,
    /// The CDX server API (pywb's is `http://HOST/COLLECTION/cdx`).
    #[arg(long, value_name = "URL", default_value = govsnap::wayback::DEFAULT_CDX_SERVER)]
    pub(super) cdx_server: String,
    /// The replay prefix captures are fetched from as `PREFIX/TIMESTAMPid_/URL`
    /// (pywb's is `http://HOST/COLLECTION/`).
    #[arg(long, value_name = "URL", default_value = govsnap::wayback::DEFAULT_REPLAY)]
    pub(super) replay: String,
    /// With --cdx: captures from this date (`YYYYMMDD`, or longer).
    #[arg(long, value_name = "YYYYMMDD", requires = "cdx")]
    pub(super) from: Option<String>,
    /// With --cdx: captures up to this date.
    #[arg(long, value_name = "YYYYMMDD", requires = "cdx")]
    pub(super) to: Option<String>,
    /// A saved page (with --url), mirror directories, or WARC, ARC and WACZ
    /// files (.warc, .warc.gz, .arc, .arc.gz, .wacz).
    #[arg(value_name = "PATH", required_unless_present = "cdx")]
    paths: Vec<PathBuf>,
    /// Take only the pages of the config's sites that shard K of N owns
    /// (`serve --shard`): how a store is split when N changes
    /// (docs/SCALING.md). Needs --config.
    #[arg(long, value_name = "K/N", conflicts_with = "cdx")]
    shard: Option<Shard>,
}

/// What an ingest run did.
#[derive(Debug, Default, Serialize)]
pub(super) struct Summary {
    pub(super) pages_read: u64,
    pub(super) new_versions: u64,
    pub(super) unchanged: u64,
    pub(super) listings: u64,
    pub(super) attachments: u64,
    pub(super) skipped: u64,
    pub(super) errors: u64,
    /// WARC and ARC records that hold no capture (requests, metadata,
    /// warcinfo, DNS), read past.
    pub(super) left_out: u64,
    /// With --cdx: captures the store has from an earlier import, not
    /// fetched again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) already_imported: Option<u64>,
}

pub(super) fn run(args: &IngestArgs) -> Result<Status> {
    // with --config, pages are tagged with their site and its rules apply
    let config = args.store.config()?;
    if args.shard.is_some() && config.is_none() {
        bail!("--shard needs --config: a shard owns sites, and the config names them");
    }
    let (warcs, pages): (Vec<PathBuf>, Vec<PathBuf>) = if args.url.is_some() {
        (Vec::new(), args.paths.clone())
    } else {
        args.paths
            .iter()
            .cloned()
            .partition(|p| is_warc(p) || is_wacz(p))
    };
    let inputs = inputs(args, &pages)?;
    let store = super::open_for_writing(&args.store.dir(config.as_ref()), None)?;
    let (_unpacked, warcs) = unpack_waczs(&store, warcs)?;
    let options = config
        .as_ref()
        .map_or(ExtractOptions::default(), |c| c.extract);
    let mut summary = Summary::default();
    let mut snapshots = Snapshots::new(&store);
    for (url, path) in &inputs {
        let bytes = match read_page(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("govsnap: {}: {e}", path.display());
                summary.errors += 1;
                continue;
            }
        };
        summary.pages_read += 1;
        let url = &canonical_url(config.as_ref(), url);
        let site = config.as_ref().and_then(|c| c.site_for_url(url));
        if !in_shard(args.shard, site) {
            summary.skipped += 1;
            continue;
        }
        let fetch = Fetch::plain(
            url,
            site.map(|s| s.name.as_str()),
            SystemTime::now(),
            200,
            &bytes,
        );
        snapshots
            .add(&fetch, site, options)
            .with_context(|| format!("storing the batch of pages that ends with {url}"))?;
    }
    ingest_warcs(
        &warcs,
        &mut WarcInto {
            store: &store,
            config: config.as_ref(),
            shard: args.shard,
            options,
            snapshots: &mut snapshots,
            summary: &mut summary,
        },
    )?;
    if let Some(prefix) = &args.cdx {
        super::wayback::import(
            args,
            prefix,
            &super::wayback::Into {
                store: &store,
                config: config.as_ref(),
                options,
            },
            &mut snapshots,
            &mut summary,
        )?;
    }
    let counts = snapshots.finish().context("storing the last pages")?;
    summary.new_versions = counts.new_versions;
    summary.unchanged += counts.unchanged;
    summary.skipped += counts.skipped;
    summary.listings = counts.listings;
    summary.attachments = counts.attachments;
    print_summary(args.format, &summary)?;
    super::search::index_stored(&store);
    store.close()?;
    Ok(if summary.errors > 0 {
        Status::InputFailed
    } else {
        Status::Success
    })
}

/// The WARC files to read: WACZ files' WARCs copied out into the store's
/// directory (not /tmp, often memory), removed when the directory given
/// back is dropped; the others as they are.
fn unpack_waczs(
    store: &govsnap::Store,
    paths: Vec<PathBuf>,
) -> Result<(tempfile::TempDir, Vec<PathBuf>)> {
    let unpacked = store
        .spool_dir()
        .and_then(tempfile::tempdir_in)
        .context("cannot make a directory in the store to unpack WACZ files in")?;
    let mut warcs = Vec::with_capacity(paths.len());
    for path in paths {
        if is_wacz(&path) {
            warcs.extend(
                govsnap::warc::wacz::warcs(&path, unpacked.path())
                    .with_context(|| format!("cannot read the WACZ {}", path.display()))?,
            );
        } else {
            warcs.push(path);
        }
    }
    Ok((unpacked, warcs))
}

/// The summary, as a table line or JSON.
fn print_summary(format: ListFormat, summary: &Summary) -> Result<()> {
    let mut out = super::stdout();
    match format {
        ListFormat::Json => writeln!(out, "{}", serde_json::to_string(&summary)?)?,
        ListFormat::Table => writeln!(
            out,
            "pages read: {}  new versions: {}  unchanged: {}  listings: {}  attachments: {}  skipped: {}  errors: {}",
            summary.pages_read,
            summary.new_versions,
            summary.unchanged,
            summary.listings,
            summary.attachments,
            summary.skipped,
            summary.errors
        )?,
    }
    out.flush()?;
    Ok(())
}

/// A WACZ file, by its name.
fn is_wacz(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wacz"))
}

/// A WARC or ARC file, by its name (`.warc`, `.warc.gz`, `.arc`,
/// `.arc.gz`): both go through the WARC reader.
fn is_warc(path: &Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    std::path::Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("warc") || e.eq_ignore_ascii_case("arc"))
}

/// Every capture of the WARC files into the store, oldest first (see
/// [`govsnap::warc::plan`]): HTML responses through the pipeline with
/// `WARC-Date` as their fetch time, 404/410 as gone marks, revisits as
/// unchanged fetches. A record that cannot be read is named (offset and
/// reason), counted as an error and skipped; the others are kept.
fn ingest_warcs(paths: &[PathBuf], into: &mut WarcInto<'_, '_>) -> Result<()> {
    use govsnap::warc::{Plan, Reader, plan, record_at};
    let plan = plan(paths).with_context(|| "cannot read the WARC files".to_owned())?;
    let by_date = match plan {
        Plan::ByDate(order) => order,
        Plan::AsGiven | Plan::Unseekable(_) => {
            if let Plan::Unseekable(warning) = plan {
                eprintln!("govsnap: warning: {warning}");
            }
            for path in paths {
                let file = std::fs::File::open(path)
                    .with_context(|| format!("cannot open the WARC {}", path.display()))?;
                let reader = Reader::new(std::io::BufReader::with_capacity(256 * 1024, file))
                    .with_context(|| format!("cannot read the WARC {}", path.display()))?;
                for item in reader {
                    into.item(path, item)?;
                }
            }
            return Ok(());
        }
    };
    // the records that cannot be read are not in the plan: name them first
    for path in paths {
        let file = std::fs::File::open(path)
            .with_context(|| format!("cannot open the WARC {}", path.display()))?;
        let reader = Reader::new(std::io::BufReader::with_capacity(256 * 1024, file))
            .with_context(|| format!("cannot read the WARC {}", path.display()))?
            .headers_only();
        for item in reader.filter(|i| matches!(i, govsnap::warc::Item::Bad { .. })) {
            into.item(path, item)?;
        }
    }
    let mut files = paths
        .iter()
        .map(|p| {
            std::fs::File::open(p).with_context(|| format!("cannot open the WARC {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    for (index, offset) in by_date {
        let path = &paths[index];
        let item = record_at(&mut files[index], offset)
            .with_context(|| format!("cannot read the WARC {}", path.display()))?;
        if let Some(item) = item {
            into.item(path, item)?;
        }
    }
    Ok(())
}

/// Where WARC captures go, and what they did.
struct WarcInto<'a, 's> {
    store: &'a govsnap::Store,
    config: Option<&'a govsnap::Config>,
    shard: Option<Shard>,
    options: ExtractOptions,
    snapshots: &'a mut Snapshots<'s>,
    summary: &'a mut Summary,
}

impl WarcInto<'_, '_> {
    /// One record of `path` into the store.
    fn item(&mut self, path: &Path, item: govsnap::warc::Item) -> Result<()> {
        use govsnap::warc::{Item, capture};
        let record = match item {
            Item::Record(record) => record,
            Item::Bad { offset, reason } => {
                eprintln!(
                    "govsnap: {} at offset {offset}: {reason}; record skipped",
                    path.display()
                );
                self.summary.errors += 1;
                return Ok(());
            }
        };
        let file_date = || std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let capture = match capture(&record, file_date) {
            Ok(Some(c)) => c,
            Ok(None) => {
                // requests, metadata, warcinfo, DNS: read past, counted
                self.summary.left_out += 1;
                return Ok(());
            }
            Err(reason) => {
                eprintln!(
                    "govsnap: {} at offset {}: {reason}; record skipped",
                    path.display(),
                    record.offset
                );
                self.summary.errors += 1;
                return Ok(());
            }
        };
        for warning in &capture.warnings {
            eprintln!(
                "govsnap: {} at offset {}: {warning}",
                path.display(),
                record.offset
            );
        }
        let mut capture = capture;
        capture.url = canonical_url(self.config, &capture.url);
        let site = self.config.and_then(|c| c.site_for_url(&capture.url));
        if !in_shard(self.shard, site) {
            self.summary.skipped += 1;
            return Ok(());
        }
        let r = &capture.response;
        let fetch = Fetch {
            url: &capture.url,
            site: site.map(|s| s.name.as_str()),
            fetched_at: capture.fetched_at,
            status: r.status,
            bytes: &r.body,
            content_type: r.header("Content-Type"),
            duration_ms: 0,
            etag: r.header("ETag"),
            last_modified: r.header("Last-Modified"),
            head: Some(r.head.as_str()).filter(|h| !h.is_empty()),
            conditional: None,
            tls_invalid: None,
        };
        self.summary.pages_read += 1;
        match r.status {
            // the page was fetched and found as its last version: its last
            // fetch is this one (written after the pages added before it)
            _ if capture.revisit => {
                self.snapshots.commit_now()?;
                let mut batch = govsnap::store::Batch::default();
                batch.add_not_modified(govsnap::store::FetchLogEntry::new(&fetch, "unchanged"));
                self.store.commit(&batch)?;
                self.summary.unchanged += 1;
            }
            200..=299 => self
                .snapshots
                .add(&fetch, site, self.options)
                .with_context(|| {
                    format!("storing the batch of pages that ends with {}", capture.url)
                })?,
            404 | 410 => {
                self.snapshots.commit_now()?;
                self.store.mark_gone(&fetch)?;
            }
            _ => self.summary.skipped += 1,
        }
        Ok(())
    }
}

/// Whether a page of `site` is taken under `--shard`: a page of no site
/// belongs to no shard.
fn in_shard(shard: Option<Shard>, site: Option<&govsnap::SiteRules>) -> bool {
    shard.is_none_or(|shard| site.is_some_and(|s| shard.owns(&s.name)))
}

/// A page's one URL (`govsnap::canon`), its site's `strip_params` removed
/// too: an archive's captures take the form a crawl gives the same page.
pub(super) fn canonical_url(config: Option<&Config>, url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let url = canon::canonical(parsed, &[]);
    match config.and_then(|c| c.site_for_url(url.as_str())) {
        Some(site) if !site.strip_params.is_empty() => {
            canon::canonical(url, &site.strip_params).to_string()
        }
        _ => url.to_string(),
    }
}

/// The pages to ingest, with their URLs: the one saved page given with
/// `--url`, or every file of the mirror directories.
fn inputs(args: &IngestArgs, paths: &[PathBuf]) -> Result<Vec<(String, PathBuf)>> {
    if let Some(url) = &args.url {
        let [file] = args.paths.as_slice() else {
            bail!("--url names one page: give it with a single FILE");
        };
        let url =
            url::Url::parse(url).with_context(|| format!("--url {url:?} is not a valid URL"))?;
        return Ok(vec![(url.to_string(), file.clone())]);
    }
    let mut all = Vec::new();
    for dir in paths {
        if !dir.is_dir() {
            bail!(
                "{} is not a directory: give a mirror directory, WARC files (.warc, .warc.gz), or --url URL with a single saved page",
                dir.display()
            );
        }
        mirror_pages(dir, args.scheme, &mut all)?;
    }
    Ok(all)
}

fn read_page(path: &Path) -> std::io::Result<Vec<u8>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
        Ok(bytes)
    } else {
        std::fs::read(path)
    }
}

/// Every file under a `wget -r` mirror with the URL it was saved from, in
/// path order.
fn mirror_pages(root: &Path, scheme: Scheme, out: &mut Vec<(String, PathBuf)>) -> Result<()> {
    let mut files = Vec::new();
    collect_files(root, &mut files)?;
    files.sort();
    let scheme = match scheme {
        Scheme::Http => "http",
        Scheme::Https => "https",
    };
    for file in files {
        let rel = file.strip_prefix(root).unwrap_or(&file);
        let rel: Vec<String> = rel
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        let Some((host, path)) = rel.split_first() else {
            continue;
        };
        if path.is_empty() {
            continue; // a file directly under DIR has no host
        }
        let text = format!("{scheme}://{host}/{}", path.join("/"));
        match url::Url::parse(&text) {
            Ok(url) => out.push((url.to_string(), file)),
            Err(e) => eprintln!(
                "govsnap: {}: no URL can be made of this path ({e}); skipped",
                file.display()
            ),
        }
    }
    Ok(())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the directory {}", dir.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read the directory {}", dir.display()))?
            .path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}
