//! `govsnap diff URL [--from N] [--to M] [--format words|unified]`: what
//! changed between two versions of a page (default: the last two): the
//! fields that changed, then the text. By default the changed characters
//! and words are marked inside each changed paragraph (in colour on a
//! terminal, else `[-old-]{+new+}` as `git diff --word-diff` writes them);
//! `--format unified` prints a unified diff of the text lines for tools.

use super::StoreArg;
use super::inspect::known;
use anyhow::{Result, anyhow, bail};
use clap::{Args, ValueEnum};
use govsnap::RecordDiff;
use govsnap::record::diff::{Hunk, Line, SegmentKind, unified_text};
use std::io::{IsTerminal, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum DiffFormat {
    /// Changed paragraphs with the changed words marked inside them.
    Words,
    /// A unified diff of the text, line by line (for patch and review tools).
    Unified,
}

#[derive(Debug, Args)]
pub(super) struct DiffArgs {
    #[command(flatten)]
    store: StoreArg,
    /// The older version (default: the one before --to).
    #[arg(long)]
    from: Option<u32>,
    /// The newer version (default: the latest).
    #[arg(long)]
    to: Option<u32>,
    /// How to show the text's changes.
    #[arg(long, value_enum, default_value_t = DiffFormat::Words)]
    format: DiffFormat,
    /// The page's URL.
    url: String,
}

pub(super) fn run(args: &DiffArgs) -> Result<()> {
    let source = args.store.open_source()?;
    let page = known(&source, &args.url)?;
    let to = args.to.unwrap_or(page.versions);
    let from = args.from.unwrap_or(to.saturating_sub(1));
    if from == 0 {
        bail!(
            "{} has only version {to}: there is nothing to compare it with",
            page.url
        );
    }
    let get = |n: u32| {
        source
            .record(&page.url, n)?
            .ok_or_else(|| anyhow!("{} has no version {n} (it has {})", page.url, page.versions))
    };
    let ((old, old_at), (new, new_at)) = (get(from)?, get(to)?);
    let old_head = format!("{} v{from} ({old_at})", page.url);
    let new_head = format!("{} v{to} ({new_at})", page.url);
    let diff = RecordDiff::between(&old, &new);
    let mut out = super::stdout();
    for f in &diff.fields {
        match (&f.from, &f.to) {
            (Some(a), Some(b)) => writeln!(out, "~ {}: {a} → {b}", f.field)?,
            (None, Some(b)) => writeln!(out, "+ {}: {b}", f.field)?,
            (Some(a), None) => writeln!(out, "- {}: {a}", f.field)?,
            (None, None) => {}
        }
    }
    match args.format {
        DiffFormat::Unified => write!(
            out,
            "{}",
            unified_text(&old.text, &new.text, &old_head, &new_head)
        )?,
        DiffFormat::Words => {
            let marks = Marks::for_stdout();
            if !diff.hunks.is_empty() {
                writeln!(out, "--- {old_head}\n+++ {new_head}")?;
            }
            for hunk in &diff.hunks {
                write_hunk(&mut out, hunk, marks)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// How removed and added passages are marked.
#[derive(Debug, Clone, Copy)]
struct Marks {
    removed: (&'static str, &'static str),
    added: (&'static str, &'static str),
}

impl Marks {
    /// Colour on a terminal unless `NO_COLOR` is set (no-color.org), else
    /// `git diff --word-diff`'s plain marks.
    fn for_stdout() -> Self {
        if std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        {
            Self {
                removed: ("\x1b[31;9m", "\x1b[0m"),
                added: ("\x1b[32m", "\x1b[0m"),
            }
        } else {
            Self {
                removed: ("[-", "-]"),
                added: ("{+", "+}"),
            }
        }
    }
}

fn write_hunk(out: &mut impl Write, hunk: &Hunk, marks: Marks) -> std::io::Result<()> {
    writeln!(
        out,
        "@@ -{},{} +{},{} @@",
        hunk.old_start, hunk.old_len, hunk.new_start, hunk.new_len
    )?;
    let mark = |(open, close): (&str, &str), text: &str| format!("{open}{text}{close}");
    for line in &hunk.lines {
        let shown = match line {
            Line::Same(t) => t.clone(),
            Line::Removed(t) => mark(marks.removed, t),
            Line::Added(t) => mark(marks.added, t),
            Line::Changed(segments) => segments
                .iter()
                .map(|s| match s.kind {
                    SegmentKind::Same => s.text.clone(),
                    SegmentKind::Removed => mark(marks.removed, &s.text),
                    SegmentKind::Added => mark(marks.added, &s.text),
                })
                .collect(),
        };
        writeln!(out, "{shown}")?;
    }
    Ok(())
}
