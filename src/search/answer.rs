//! A search run: the request's query and filters as one tantivy query, its
//! best hits, total and facets in one pass over the matches, and each hit
//! filled in from the store (title, dates, snippet).
//!
//! Ranking is BM25 over the bigrams, the title weighed above the metadata
//! and the metadata above the text, and an exact ask for a document's
//! title, 文号 or 索引号 far above all: that document comes first.

use super::documents::{Failed, Fields, day_number};
use super::query::{self, Parsed, Word};
use super::snippet;
use crate::error::Error;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::str::FromStr;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

/// Hits a request returns without `limit`.
pub const DEFAULT_HITS: usize = 20;
/// The most hits one request returns.
pub const MAX_HITS: usize = 100;
/// How deep paging goes: past it, narrow the query or its filters.
const MAX_OFFSET: usize = 10_000;

const TITLE_WEIGHT: f32 = 3.0;
const META_WEIGHT: f32 = 2.0;
const KEY_WEIGHT: f32 = 100.0;

/// A search (SPEC §13).
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    /// The query as typed.
    pub query: String,
    /// Only this site's documents.
    pub site: Option<String>,
    /// Filed on or after this day (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Filed on or before this day (`YYYY-MM-DD`).
    pub to: Option<String>,
    /// Every stored version, not only each page's latest.
    pub all_versions: bool,
    /// Hits per answer (capped at [`MAX_HITS`]; 0: [`DEFAULT_HITS`]).
    pub limit: usize,
    /// Where the previous answer ended.
    pub cursor: Option<SearchCursor>,
}

/// Where a page of hits starts: written `h` and the number of hits before
/// it. Opaque to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCursor(usize);

impl fmt::Display for SearchCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "h{}", self.0)
    }
}

impl FromStr for SearchCursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        s.strip_prefix('h')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n <= MAX_OFFSET)
            .map(Self)
            .ok_or_else(|| {
                Error::Query(format!(
                    "{s:?} is not a search cursor: use the next_cursor of the previous answer (paging stops at {MAX_OFFSET} hits)"
                ))
            })
    }
}

/// One hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The page's or file's URL.
    pub url: String,
    /// `page` or `attachment`.
    pub kind: String,
    /// The config site, when known.
    pub site: Option<String>,
    /// The version's title.
    pub title: Option<String>,
    /// The version's publication date.
    pub published: Option<String>,
    /// The version found.
    pub version: u32,
    /// Whether it is the page's newest version.
    pub latest: bool,
    /// Whether the page is gone from its site.
    pub gone: bool,
    /// When the version was fetched.
    pub fetched_at: String,
    /// Its relevance (higher is better; comparable within one answer).
    pub score: f32,
    /// Its text around the first match, HTML-escaped, the matches in
    /// `<mark>`.
    pub snippet: String,
}

/// Hit counts by site and year, over every match (not only this page).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    /// Matches per site.
    pub site: BTreeMap<String, u64>,
    /// Matches per year filed (published, else fetched).
    pub year: BTreeMap<String, u64>,
}

/// A search's answer (SPEC §13).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchAnswer {
    /// The hits, best first.
    pub hits: Vec<SearchHit>,
    /// How many versions match.
    pub total: u64,
    /// Matches by site and year.
    pub facets: Facets,
    /// The cursor of the next page, when there are more hits.
    pub next_cursor: Option<String>,
}

fn bad(why: String) -> Failed {
    Failed::Store(Error::Query(why))
}

/// A word as a query on one field: its bigram phrase, a term for one
/// bigram, or for a lone character any bigram that holds it.
fn word_query(field: Field, word: &Word) -> Box<dyn Query> {
    let term = |t: &str| Term::from_field_text(field, t);
    match word.grams.as_slice() {
        [one] if one.chars().count() == 1 => {
            let c = regex::escape(one);
            match RegexQuery::from_pattern(&format!("{c}.?|.{c}"), field) {
                Ok(q) => Box::new(q),
                Err(_) => Box::new(TermQuery::new(term(one), IndexRecordOption::WithFreqs)),
            }
        }
        [one] => Box::new(TermQuery::new(term(one), IndexRecordOption::WithFreqs)),
        // every other bigram, and the last: bigrams at positions k and k + 2
        // imply the one at k + 1 (they are the characters k to k + 3), so
        // the phrase matches exactly where all of them would, and reads
        // half the postings (the cost of a long common phrase)
        grams => Box::new(PhraseQuery::new_with_offset(
            grams
                .iter()
                .enumerate()
                .filter(|(i, _)| i % 2 == 0 || *i == grams.len() - 1)
                .map(|(i, g)| (i, term(g)))
                .collect(),
        )),
    }
}

/// A word in any of the text fields, weighed by field.
fn word_anywhere(fields: &Fields, word: &Word) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(vec![
        (
            Occur::Should,
            Box::new(BoostQuery::new(
                word_query(fields.title, word),
                TITLE_WEIGHT,
            )),
        ),
        (
            Occur::Should,
            Box::new(BoostQuery::new(word_query(fields.meta, word), META_WEIGHT)),
        ),
        (Occur::Should, word_query(fields.body, word)),
    ]))
}

fn filter(query: Box<dyn Query>) -> (Occur, Box<dyn Query>) {
    (Occur::Must, Box::new(ConstScoreQuery::new(query, 0.0)))
}

fn date_bound(name: &str, value: Option<&str>) -> Result<Bound<u64>, Failed> {
    match value {
        None => Ok(Bound::Unbounded),
        // a day of the calendar, written whole: 2024-02-30 or 2024-02-03x
        // is a mistake to report, not a day to guess
        Some(v) => (v.len() == 10 && chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok())
            .then(|| day_number(v))
            .flatten()
            .map(Bound::Included)
            .ok_or_else(|| bad(format!("{name}: {v:?} is not a date: write YYYY-MM-DD"))),
    }
}

fn build(
    fields: &Fields,
    parsed: &Parsed,
    request: &SearchRequest,
) -> Result<BooleanQuery, Failed> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for group in &parsed.groups {
        let query = match group.as_slice() {
            [one] => word_anywhere(fields, one),
            any => Box::new(BooleanQuery::new(
                any.iter()
                    .map(|w| (Occur::Should, word_anywhere(fields, w)))
                    .collect(),
            )),
        };
        clauses.push((Occur::Must, query));
    }
    for word in &parsed.excluded {
        clauses.push((Occur::MustNot, word_anywhere(fields, word)));
    }
    if let Some(key) = &parsed.key {
        let exact = TermQuery::new(
            Term::from_field_text(fields.keys, key),
            IndexRecordOption::Basic,
        );
        clauses.push((
            Occur::Should,
            Box::new(BoostQuery::new(Box::new(exact), KEY_WEIGHT)),
        ));
    }
    if !request.all_versions {
        let latest = Term::from_field_u64(fields.latest, 1);
        clauses.push(filter(Box::new(TermQuery::new(
            latest,
            IndexRecordOption::Basic,
        ))));
    }
    if let Some(site) = &request.site {
        let site = Term::from_field_text(fields.site, site);
        clauses.push(filter(Box::new(TermQuery::new(
            site,
            IndexRecordOption::Basic,
        ))));
    }
    let from = date_bound("from", request.from.as_deref())?;
    let to = date_bound("to", request.to.as_deref())?;
    if let (Bound::Included(a), Bound::Included(b)) = (from, to)
        && a > b
    {
        return Err(bad(format!(
            "from {} is after to {}: swap them",
            request.from.as_deref().unwrap_or(""),
            request.to.as_deref().unwrap_or("")
        )));
    }
    if from != Bound::Unbounded || to != Bound::Unbounded {
        let term = |d: u64| Term::from_field_u64(fields.date, d);
        clauses.push(filter(Box::new(RangeQuery::new(
            from.map(term),
            to.map(term),
        ))));
    }
    Ok(BooleanQuery::new(clauses))
}

/// Run `request` on `searcher`; hits are filled in from `store`.
pub(super) fn run(
    searcher: &Searcher,
    fields: &Fields,
    store: &Store,
    request: &SearchRequest,
) -> Result<SearchAnswer, Failed> {
    let parsed = query::parse(&request.query)?;
    let query = build(fields, &parsed, request)?;
    let limit = match request.limit {
        0 => DEFAULT_HITS,
        n => n.min(MAX_HITS),
    };
    let offset = request.cursor.map_or(0, |c| c.0);
    let top = TopDocs::with_limit(limit)
        .and_offset(offset)
        .order_by_score();
    let (top, total, facets) =
        searcher.search(&query, &(top, Count, super::facets::FacetCounts))?;
    let words: Vec<&Word> = parsed.wanted().collect();
    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        if let Some(hit) = hit(searcher, fields, store, address, score, &words)? {
            hits.push(hit);
        }
    }
    let total = total as u64;
    let shown = (offset + limit) as u64;
    Ok(SearchAnswer {
        hits,
        total,
        facets,
        next_cursor: (shown < total && offset + limit <= MAX_OFFSET)
            .then(|| SearchCursor(offset + limit).to_string()),
    })
}

fn hit(
    searcher: &Searcher,
    fields: &Fields,
    store: &Store,
    address: DocAddress,
    relevance: f32,
    words: &[&Word],
) -> Result<Option<SearchHit>, Failed> {
    let doc: TantivyDocument = searcher.doc(address)?;
    let url = doc.get_first(fields.url).and_then(|v| v.as_str());
    let number = doc.get_first(fields.version).and_then(|v| v.as_u64());
    let (Some(url), Some(number)) = (url, number.and_then(|n| u32::try_from(n).ok())) else {
        return Ok(None);
    };
    // a version the store no longer has (a store restored from an older
    // backup under a newer index) is left out, not shown half
    let Some(version) = store.version(url, number)? else {
        return Ok(None);
    };
    let page = store.page(url)?;
    let record = &version.record;
    let snippet = snippet::snippet(&record.text, words)
        .or_else(|| {
            let meta: Vec<String> = record
                .meta
                .iter()
                .map(|(k, v)| format!("{k}：{v}"))
                .collect();
            snippet::snippet(&meta.join("　"), words)
        })
        .unwrap_or_else(|| snippet::head(&record.text));
    Ok(Some(SearchHit {
        url: url.to_owned(),
        kind: if version.attachment.is_some() {
            "attachment"
        } else {
            "page"
        }
        .to_owned(),
        site: page.as_ref().and_then(|p| p.site.clone()),
        title: record.title.clone(),
        published: record.published.clone(),
        version: number,
        latest: page.as_ref().is_none_or(|p| p.versions == number),
        gone: page
            .as_ref()
            .is_some_and(|p| p.state == crate::store::PageStatus::Gone),
        fetched_at: version.fetched_at.clone(),
        score: relevance,
        snippet,
    }))
}
