//! Search (SPEC §13) on a real store: recall against a plain substring scan,
//! ranking of 文号, 索引号 and title queries, every version, facets and
//! filters, paging, catch-up from the committed cursor, reindex equality,
//! and bad queries.

mod common;

use common::corpus::{self, Doc};
use govsnap::search::{Search, SearchAnswer, SearchCursor, SearchHit, SearchRequest};
use govsnap::store::Fetch;
use govsnap::{ExtractOptions, Page, Record, Store, extract};
use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

const DOCS: usize = 240;

fn record(url: &str, html: &str) -> Record {
    extract(
        &Page {
            bytes: html.as_bytes(),
            url: Some(url),
            ..Page::default()
        },
        None,
        ExtractOptions::default(),
    )
    .expect("a generated page extracts")
}

fn put(store: &Store, doc: &Doc, edition: u32) {
    let html = if edition > 1 {
        corpus::doc(doc.i, edition).html
    } else {
        doc.html.clone()
    };
    let at = UNIX_EPOCH + Duration::from_secs(1_733_000_000 + u64::from(edition) * 86_400);
    let fetch = Fetch::plain(&doc.url, Some(doc.site), at, 200, html.as_bytes());
    store.put(&fetch, &record(&doc.url, &html)).unwrap();
}

/// A store of the generated documents and the fixture pages.
fn corpus_store(dir: &std::path::Path) -> (Store, Vec<Doc>) {
    let store = Store::open(&dir.join("store")).unwrap();
    let docs: Vec<Doc> = (0..DOCS).map(|i| corpus::doc(i, 1)).collect();
    for doc in &docs {
        put(&store, doc, 1);
    }
    for case in common::cases() {
        let fetch = Fetch::plain(&case.url, None, UNIX_EPOCH, 200, &[]);
        let bytes = case.bytes();
        let fetch = Fetch {
            bytes: &bytes,
            ..fetch
        };
        store.put(&fetch, &case.extract()).unwrap();
    }
    (store, docs)
}

/// The corpus store, indexed.
fn indexed_corpus() -> (tempfile::TempDir, Store, Vec<Doc>, Search) {
    let dir = tempfile::tempdir().unwrap();
    let (store, docs) = corpus_store(dir.path());
    let search = Search::open(&store).unwrap();
    search.catch_up(&store).unwrap();
    (dir, store, docs, search)
}

fn ask(search: &Search, store: &Store, query: &str) -> SearchAnswer {
    search
        .search(
            store,
            &SearchRequest {
                query: query.to_owned(),
                limit: 100,
                ..SearchRequest::default()
            },
        )
        .unwrap_or_else(|e| panic!("{query:?}: {e}"))
}

/// The first 100 hits of `query` over every version.
fn every_version(search: &Search, store: &Store, query: &str) -> SearchAnswer {
    search
        .search(
            store,
            &SearchRequest {
                query: query.to_owned(),
                all_versions: true,
                limit: 100,
                ..SearchRequest::default()
            },
        )
        .unwrap()
}

/// Every hit of a request, page after page.
fn all_hits(search: &Search, store: &Store, request: &SearchRequest) -> Vec<SearchHit> {
    let mut request = request.clone();
    request.limit = 100;
    let mut hits = Vec::new();
    loop {
        let answer = search.search(store, &request).unwrap();
        hits.extend(answer.hits);
        match answer.next_cursor {
            Some(c) => request.cursor = Some(c.parse::<SearchCursor>().unwrap()),
            None => return hits,
        }
    }
}

/// The searchable form of a string, as the index sees it.
fn folded(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap(),
            c => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[test]
fn every_document_containing_a_string_is_found() {
    let (_dir, store, _, search) = indexed_corpus();
    let texts: Vec<(String, String)> = store
        .pages()
        .map(|p| {
            let page = p.unwrap();
            let r = store.latest(&page.url).unwrap().unwrap().record;
            (
                page.url,
                format!("{}\n{}", r.title.unwrap_or_default(), r.text),
            )
        })
        .collect();
    let mut rng = fastrand::Rng::with_seed(20_241_207);
    let mut asked = 0;
    while asked < 400 {
        let (_, text) = &texts[rng.usize(..texts.len())];
        let chars: Vec<char> = text.chars().collect();
        let len = rng.usize(2..=8);
        if chars.len() <= len {
            continue;
        }
        let start = rng.usize(..chars.len() - len);
        let sample: String = chars[start..start + len].iter().collect();
        // a query is a line of text; a string with no letters, digits or
        // characters is refused (tested below)
        if sample.contains(['\n', '"']) || folded(&sample).is_empty() {
            continue;
        }
        asked += 1;
        let request = SearchRequest {
            query: format!("\"{sample}\""),
            ..SearchRequest::default()
        };
        let found: BTreeSet<String> = all_hits(&search, &store, &request)
            .into_iter()
            .map(|h| h.url)
            .collect();
        for (url, text) in &texts {
            if text.contains(&sample) {
                assert!(
                    found.contains(url),
                    "{sample:?} is in {url} but was not found"
                );
            }
        }
        // and nothing is found that does not hold it, punctuation aside
        let key = folded(&sample);
        for url in &found {
            let r = store.latest(url).unwrap().unwrap().record;
            let all = format!(
                "{}{}{}{}",
                r.title.unwrap_or_default(),
                r.text,
                r.meta.values().cloned().collect::<String>(),
                r.source.unwrap_or_default()
            );
            assert!(
                folded(&all).contains(&key),
                "{sample:?} found {url}, which lacks it"
            );
        }
    }
}

#[test]
fn a_document_number_index_number_or_title_puts_its_document_first() {
    let (_dir, store, docs, search) = indexed_corpus();
    for doc in docs.iter().step_by(17) {
        for query in [&doc.number, &doc.index_no, &doc.title] {
            let answer = ask(&search, &store, query);
            assert_eq!(
                answer.hits[0].url,
                doc.url,
                "{query}: {:?}",
                answer.hits.first()
            );
        }
        // written with other brackets, as people type it
        let ascii = doc.number.replace('〔', "[").replace('〕', "]");
        assert_eq!(ask(&search, &store, &ascii).hits[0].url, doc.url, "{ascii}");
    }
    // the fixture page whose 文号 is 国发〔2024〕7号, though others cite it
    let hits = ask(&search, &store, "国发〔2024〕7号").hits;
    assert!(
        hits[0].title.as_deref().unwrap().contains("大规模设备更新"),
        "{:?}",
        hits[0]
    );
    // the snippet marks the match, HTML-escaped around it
    let hit = &ask(&search, &store, "逾期不予受理").hits[0];
    assert!(
        hit.snippet.contains("<mark>逾期不予受理</mark>"),
        "{}",
        hit.snippet
    );
}

#[test]
fn every_version_facets_filters_and_paging() {
    let (_dir, store, docs, search) = indexed_corpus();
    // version 2 of document 5 drops a phrase version 1 had
    let doc = &docs[5];
    let v1 = store.latest(&doc.url).unwrap().unwrap().record.text;
    let phrase: String = v1.lines().nth(2).unwrap().chars().take(12).collect();
    let html = doc.html.replace(&phrase, "本段内容已删除");
    let fetch = Fetch::plain(
        &doc.url,
        Some(doc.site),
        UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        200,
        html.as_bytes(),
    );
    store.put(&fetch, &record(&doc.url, &html)).unwrap();
    search.catch_up(&store).unwrap();
    let quoted = format!("\"{phrase}\"");
    let latest = ask(&search, &store, &quoted);
    assert!(latest.hits.iter().all(|h| h.url != doc.url), "{phrase}");
    let all = every_version(&search, &store, &quoted);
    let once = all
        .hits
        .iter()
        .find(|h| h.url == doc.url)
        .expect("version 1 found");
    assert_eq!((once.version, once.latest), (1, false));
    let now = ask(&search, &store, "本段内容已删除");
    assert_eq!(
        (
            now.hits[0].url.as_str(),
            now.hits[0].version,
            now.hits[0].latest
        ),
        (doc.url.as_str(), 2, true)
    );

    // facets count every match, by site and year
    let answer = ask(&search, &store, "某某市");
    let expected_sites: BTreeSet<&str> = corpus::SITES.iter().map(|s| s.0).collect();
    assert_eq!(
        answer
            .facets
            .site
            .keys()
            .map(String::as_str)
            .collect::<BTreeSet<_>>(),
        expected_sites
    );
    assert_eq!(answer.facets.site.values().sum::<u64>(), DOCS as u64);
    assert_eq!(
        answer.facets.year.get("2020"),
        Some(
            &(docs
                .iter()
                .filter(|d| d.published.starts_with("2020"))
                .count() as u64)
        )
    );
    assert_eq!(answer.total, DOCS as u64);
    // filters: a site, a date range
    let request = SearchRequest {
        query: "某某市".to_owned(),
        site: Some("czj".to_owned()),
        from: Some("2021-01-01".to_owned()),
        to: Some("2022-12-31".to_owned()),
        ..SearchRequest::default()
    };
    let hits = all_hits(&search, &store, &request);
    let expected: BTreeSet<&str> = docs
        .iter()
        .filter(|d| d.site == "czj" && ("2021".."2023").contains(&&d.published[..4]))
        .map(|d| d.url.as_str())
        .collect();
    assert_eq!(
        hits.iter().map(|h| h.url.as_str()).collect::<BTreeSet<_>>(),
        expected
    );
    // pages of hits do not repeat or skip
    let paged = all_hits(
        &search,
        &store,
        &SearchRequest {
            query: "某某市".to_owned(),
            ..SearchRequest::default()
        },
    );
    assert_eq!(
        paged.iter().map(|h| &h.url).collect::<BTreeSet<_>>().len(),
        DOCS
    );
}

#[test]
fn a_killed_index_catches_up_and_reindex_gives_the_same_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (store, docs) = corpus_store(dir.path());
    {
        let search = Search::open(&store).unwrap();
        search.catch_up(&store).unwrap();
    }
    // versions stored after the index's last commit (a kill between the
    // store's commit and the index's) are indexed on the next open
    for doc in docs.iter().take(30) {
        put(&store, doc, 2);
    }
    let search = Search::open(&store).unwrap();
    let before = search.indexed();
    assert_eq!(search.catch_up(&store).unwrap(), 30);
    assert!(search.indexed() > before);
    assert_eq!(search.catch_up(&store).unwrap(), 0, "nothing indexed twice");
    let queries = [
        "第2次修订",
        "优化营商环境",
        "某财预",
        "逾期不予受理",
        "国发2024",
        "东城区 -防汛",
    ];
    let answers: Vec<SearchAnswer> = queries
        .iter()
        .map(|q| every_version(&search, &store, q))
        .collect();
    assert_eq!(answers[0].total, 30);
    let (search, indexed) = search.rebuild(&store).unwrap();
    assert_eq!(indexed, (DOCS + common::cases().len() + 30) as u64);
    for (q, before) in queries.iter().zip(&answers) {
        let after = every_version(&search, &store, q);
        let urls = |a: &SearchAnswer| {
            a.hits
                .iter()
                .map(|h| (h.url.clone(), h.version))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            (after.total, &after.facets, urls(&after)),
            (before.total, &before.facets, urls(before)),
            "{q}"
        );
    }
    // an index of another layout is rebuilt, not misread
    drop(search);
    std::fs::write(
        dir.path().join("store/index/govsnap-index.json"),
        r#"{"layout":0}"#,
    )
    .unwrap();
    let search = Search::open(&store).unwrap();
    assert_eq!(search.indexed(), None);
    search.catch_up(&store).unwrap();
    assert_eq!(ask(&search, &store, "第2次修订").total, 30);
}

#[test]
fn bad_queries_are_refused_with_a_reason() {
    let (_dir, store, _, search) = indexed_corpus();
    let long = "营".repeat(10_000);
    for query in [
        "\"营商环境",
        &long,
        "，。、！？",
        "通知\u{1}",
        "通知 OR",
        "-通知",
        "",
    ] {
        let err = search
            .search(
                &store,
                &SearchRequest {
                    query: query.to_owned(),
                    ..SearchRequest::default()
                },
            )
            .unwrap_err();
        assert!(matches!(err, govsnap::Error::Query(_)), "{query:?}: {err}");
        assert!(!err.to_string().contains('\n'));
    }
    for (from, to) in [("2024-13-01", "2024-12-01"), ("2024-02-01", "2023-01-01")] {
        let err = search
            .search(
                &store,
                &SearchRequest {
                    query: "通知".to_owned(),
                    from: Some(from.to_owned()),
                    to: Some(to.to_owned()),
                    ..SearchRequest::default()
                },
            )
            .unwrap_err();
        assert!(
            matches!(err, govsnap::Error::Query(_)),
            "{from}..{to}: {err}"
        );
    }
}
