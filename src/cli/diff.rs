//! `govsnap diff URL [--from N] [--to M]`: what changed between two versions
//! of a page (default: the last two): the metadata fields that changed, then
//! a unified diff of the text.

use super::StoreArg;
use super::inspect::known;
use anyhow::{Result, anyhow, bail};
use clap::Args;
use govsnap::Record;
use similar::TextDiff;
use std::fmt::Write;

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
    /// The page's URL.
    url: String,
}

pub(super) fn run(args: &DiffArgs) -> Result<()> {
    let store = args.store.open()?;
    let page = known(&store, &args.url)?;
    let to = args.to.unwrap_or(page.versions);
    let from = args.from.unwrap_or(to.saturating_sub(1));
    if from == 0 {
        bail!(
            "{} has only version {to}: there is nothing to compare it with",
            args.url
        );
    }
    let get = |n: u32| {
        store
            .version(&args.url, n)?
            .ok_or_else(|| anyhow!("{} has no version {n} (it has {})", args.url, page.versions))
    };
    let (old, new) = (get(from)?, get(to)?);
    print!("{}", fields_diff(&old.record, &new.record));
    let text = TextDiff::from_lines(&old.record.text, &new.record.text);
    let old_head = format!("{} v{from} ({})", args.url, old.fetched_at);
    let new_head = format!("{} v{to} ({})", args.url, new.fetched_at);
    print!(
        "{}",
        text.unified_diff()
            .context_radius(2)
            .header(&old_head, &new_head)
    );
    Ok(())
}

/// One line per changed metadata field: `~ 发文字号: A → B`, `+ label: B`,
/// `- label: A`.
fn fields_diff(old: &Record, new: &Record) -> String {
    let mut out = String::new();
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    for (name, a, b) in [
        ("title", opt(&old.title), opt(&new.title)),
        ("published", opt(&old.published), opt(&new.published)),
        ("source", opt(&old.source), opt(&new.source)),
    ] {
        if a != b {
            let _ = writeln!(out, "~ {name}: {a} → {b}");
        }
    }
    for (k, a) in &old.meta {
        match new.meta.get(k) {
            None => {
                let _ = writeln!(out, "- meta.{k}: {a}");
            }
            Some(b) if b != a => {
                let _ = writeln!(out, "~ meta.{k}: {a} → {b}");
            }
            Some(_) => {}
        }
    }
    for (k, b) in new.meta.iter().filter(|(k, _)| !old.meta.contains_key(*k)) {
        let _ = writeln!(out, "+ meta.{k}: {b}");
    }
    for a in old
        .attachments
        .iter()
        .filter(|a| !new.attachments.contains(a))
    {
        let _ = writeln!(out, "- attachment: {} <{}>", a.name, a.url);
    }
    for b in new
        .attachments
        .iter()
        .filter(|b| !old.attachments.contains(b))
    {
        let _ = writeln!(out, "+ attachment: {} <{}>", b.name, b.url);
    }
    out
}
