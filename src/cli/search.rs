//! `govsnap search` and `govsnap reindex` (SPEC §13), and the catch-up of
//! the index at the end of the commands that store versions.
//!
//! `search` asks the service when one holds the store (as the other read
//! commands do); otherwise it opens the index beside the store, catches it
//! up with the store's changes feed, and searches it.

use super::source::Source;
use super::{ListFormat, Status, StoreArg};
use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use govsnap::Store;
use govsnap::search::{Search, SearchAnswer, SearchRequest};
use std::io::Write;

#[derive(Debug, Args)]
pub(super) struct SearchArgs {
    /// Words that must all occur (any run of characters), "a phrase",
    /// -excluded, a OR b.
    query: String,
    /// Only this site's documents.
    #[arg(long, value_name = "NAME")]
    site: Option<String>,
    /// Filed on or after this day (YYYY-MM-DD): published, else fetched.
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Filed on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    to: Option<String>,
    /// Search each page's latest version, or every stored version.
    #[arg(long, value_enum, default_value_t = Versions::Latest)]
    versions: Versions,
    /// Hits to print (at most 100).
    #[arg(long, default_value_t = govsnap::search::DEFAULT_HITS)]
    limit: usize,
    /// `table` for people, `json` for one hit per line.
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    format: ListFormat,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Versions {
    /// Each page's newest version.
    Latest,
    /// Every stored version: what pages once said.
    All,
}

#[derive(Debug, Args)]
pub(super) struct ReindexArgs {
    #[command(flatten)]
    store: StoreArg,
}

pub(super) fn search(args: &SearchArgs) -> Result<()> {
    let versions = match args.versions {
        Versions::Latest => "latest",
        Versions::All => "all",
    };
    let answer = match args.store.open_source()? {
        Source::Local(store) => {
            let request = SearchRequest {
                query: args.query.clone(),
                site: args.site.clone(),
                from: args.from.clone(),
                to: args.to.clone(),
                all_versions: args.versions == Versions::All,
                limit: args.limit,
                cursor: None,
            };
            let search = Search::open(&store)?;
            search.catch_up(&store)?;
            let answer = search.search(&store, &request)?;
            drop(search);
            store.close()?;
            answer
        }
        Source::Service(remote) => {
            let mut query = vec![
                ("q", args.query.clone()),
                ("versions", versions.to_owned()),
                ("limit", args.limit.to_string()),
            ];
            for (name, value) in [("site", &args.site), ("from", &args.from), ("to", &args.to)] {
                if let Some(v) = value {
                    query.push((name, v.clone()));
                }
            }
            let value = remote
                .get("/api/v1/search", &query)?
                .context("the service has no /api/v1/search: upgrade it")?;
            serde_json::from_value(value).context("the service's search answer")?
        }
    };
    print(&answer, args.format)
}

fn print(answer: &SearchAnswer, format: ListFormat) -> Result<()> {
    let mut out = super::stdout();
    match format {
        ListFormat::Json => {
            for hit in &answer.hits {
                writeln!(out, "{}", serde_json::to_string(hit)?)?;
            }
        }
        ListFormat::Table => {
            for (i, hit) in answer.hits.iter().enumerate() {
                let mut about = vec![hit.kind.clone()];
                about.extend(hit.site.clone());
                about.extend(hit.published.clone());
                about.push(format!("v{}", hit.version));
                if !hit.latest {
                    about.push("not the latest".to_owned());
                }
                if hit.gone {
                    about.push("gone".to_owned());
                }
                writeln!(
                    out,
                    "{}. {}  [{}]\n   {}\n   {}",
                    i + 1,
                    hit.title.as_deref().unwrap_or("(no title)"),
                    about.join(" · "),
                    hit.url,
                    plain(&hit.snippet)
                )?;
            }
            let facets = |m: &std::collections::BTreeMap<String, u64>| {
                m.iter()
                    .map(|(k, n)| format!("{k} {n}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            writeln!(
                out,
                "{} found; by site: {}; by year: {}",
                answer.total,
                facets(&answer.facets.site),
                facets(&answer.facets.year)
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// A snippet for a terminal: matches between «».
fn plain(snippet: &str) -> String {
    govsnap::search::snippet_pieces(snippet)
        .into_iter()
        .map(|(text, marked)| if marked { format!("«{text}»") } else { text })
        .collect()
}

pub(super) fn reindex(args: &ReindexArgs) -> Result<Status> {
    let config = args.store.config()?;
    let store = super::open_for_writing(&args.store.dir(config.as_ref()), None)?;
    let started = std::time::Instant::now();
    let (search, indexed) = Search::open(&store)?.rebuild(&store)?;
    drop(search);
    store.close()?;
    eprintln!(
        "govsnap: indexed {indexed} versions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(Status::Success)
}

/// Bring the index up to the store at the end of a command that stored
/// versions. A failure is a warning: the versions are stored, and the next
/// command that searches catches the index up.
pub(super) fn index_stored(store: &Store) {
    let caught_up = Search::open(store).and_then(|search| search.catch_up(store));
    if let Err(e) = caught_up {
        eprintln!(
            "govsnap: the search index is behind the store ({e}); the next search catches it up"
        );
    }
}
