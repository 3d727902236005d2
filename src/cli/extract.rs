//! `govsnap extract [--url URL] [--content-type CT] [--config FILE] FILE…`
//!
//! One input prints one JSON document; several print JSON Lines in the order
//! given, each record with a `file` field. An input that cannot be read or is
//! not a web page gets one line on stderr and the others still run; the exit
//! status is then 1. A page with no document text is not a failure: its record
//! carries a warning.

use super::{Format, Status, one_line};
use anyhow::{Context, Result, bail};
use clap::Args;
use govsnap::record::render;
use govsnap::{Config, ExtractOptions, Page, Record, SiteRules, extract};
use serde::Serialize;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(super) struct ExtractArgs {
    /// The page's URL (for relative links and the site's rules); one FILE only.
    #[arg(long)]
    url: Option<String>,
    /// The HTTP Content-Type the page was served with (for its charset).
    #[arg(long = "content-type", value_name = "CT")]
    content_type: Option<String>,
    /// A config whose site rules apply to pages under --url.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output format; JSON is one document for one FILE, one record per line
    /// (with a `file` field) for several.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Saved pages; `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,
}

/// A record with the file it came from, for JSON Lines.
#[derive(Serialize)]
struct FileRecord<'a> {
    file: &'a str,
    #[serde(flatten)]
    record: &'a Record,
}

pub(super) fn run(args: &ExtractArgs) -> Result<Status> {
    if args.url.is_some() && args.files.len() > 1 {
        bail!("--url names one page: give it with a single FILE");
    }
    let url = args
        .url
        .as_deref()
        .map(|u| {
            url::Url::parse(u)
                .map(|u| u.to_string())
                .with_context(|| format!("--url {u:?} is not a valid URL"))
        })
        .transpose()?;
    let config = args.config.as_deref().map(Config::load).transpose()?;
    let options = config
        .as_ref()
        .map_or(ExtractOptions::default(), |c| c.extract);
    let rules: Option<&SiteRules> = match (&config, &url) {
        (Some(c), Some(u)) => c.site_for_url(u),
        (Some(_), None) => {
            eprintln!(
                "govsnap: note: --config without --url: site rules are chosen by URL, so none apply"
            );
            None
        }
        _ => None,
    };

    let mut out = super::stdout();
    let several = args.files.len() > 1;
    let mut status = Status::Success;
    for path in &args.files {
        let name = path.to_string_lossy();
        let bytes = read_input(path);
        // a PDF, a DOCX …: the attachment's record (SPEC §11)
        if let Ok(bytes) = &bytes
            && let Some(format) =
                govsnap::attach::detect(bytes, Some(&name), args.content_type.as_deref())
        {
            let info = govsnap::attach::FileInfo {
                url: url.as_deref(),
                name: path.file_name().and_then(|n| n.to_str()),
                content_type: args.content_type.as_deref(),
            };
            let record =
                govsnap::attach::extract(bytes, format, info, govsnap::attach::DEFAULT_TIME_BUDGET);
            print_attachment(&mut out, &record, args.format, several.then_some(&*name))?;
            continue;
        }
        let record = bytes.and_then(|bytes| {
            let location = file_url(path);
            let page = Page {
                bytes: &bytes,
                url: url.as_deref(),
                location: location.as_deref(),
                content_type: args.content_type.as_deref(),
            };
            Ok(extract(&page, rules, options)?)
        });
        match record {
            Ok(record) => print_record(&mut out, &record, args.format, several.then_some(&*name))?,
            Err(err) => {
                out.flush()?;
                eprintln!("govsnap: {name}: {}", one_line(&err));
                status = Status::InputFailed;
            }
        }
    }
    out.flush()?;
    Ok(status)
}

/// An attachment's record: JSON as a page's (with `file` among several),
/// or its title and text.
fn print_attachment(
    out: &mut impl Write,
    record: &govsnap::attach::AttachmentRecord,
    format: Format,
    file: Option<&str>,
) -> Result<()> {
    #[derive(Serialize)]
    struct FileAttachment<'a> {
        file: &'a str,
        #[serde(flatten)]
        record: &'a govsnap::attach::AttachmentRecord,
    }
    match (format, file) {
        (Format::Json, None) => serde_json::to_writer_pretty(&mut *out, record)?,
        (Format::Json, Some(file)) => {
            serde_json::to_writer(&mut *out, &FileAttachment { file, record })?;
        }
        (_, file) => {
            if let Some(file) = file {
                writeln!(out, "==> {file} <==")?;
            }
            if let Some(title) = &record.title {
                writeln!(out, "{title}\n")?;
            }
            write!(out, "{}", record.text)?;
        }
    }
    writeln!(out)?;
    Ok(())
}

fn read_input(path: &Path) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("cannot read standard input")?;
    } else {
        bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read the file: {e}"))?;
    }
    Ok(bytes)
}

/// `file://` URL of a saved page, so its relative links resolve next to it.
fn file_url(path: &Path) -> Option<String> {
    if path == Path::new("-") {
        return None;
    }
    let abs = std::fs::canonicalize(path).ok()?;
    url::Url::from_file_path(abs).ok().map(|u| u.to_string())
}

fn print_record(
    out: &mut impl Write,
    record: &Record,
    format: Format,
    file: Option<&str>,
) -> Result<()> {
    match (format, file) {
        (Format::Json, None) => {
            serde_json::to_writer_pretty(&mut *out, record)?;
            writeln!(out)?;
        }
        (Format::Json, Some(file)) => {
            serde_json::to_writer(&mut *out, &FileRecord { file, record })?;
            writeln!(out)?;
        }
        (Format::Text, _) => {
            if let Some(file) = file {
                writeln!(out, "==> {file} <==")?;
            }
            writeln!(out, "{}", render::text(record))?;
        }
        (Format::Markdown, _) => writeln!(out, "{}", render::markdown(record))?,
    }
    Ok(())
}
