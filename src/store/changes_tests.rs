//! Tests of the changes feed: order, gone marks, cursors, the wake-up, the
//! export slices, and the schema-6 backfill of an older store.
use super::tests::{BASE_SECS, BODY, URL, fetch, page, put, record, reopen};
use super::*;
use std::time::{Duration, UNIX_EPOCH};

fn gone_at(url: &str, secs: u64) -> Fetch<'_> {
    Fetch {
        status: 404,
        bytes: b"",
        ..fetch(url, "", secs)
    }
}

/// (kind, url, version) of every change, in feed order.
fn feed(store: &Store) -> Vec<(EventKind, String, Option<u32>)> {
    store
        .changes(None, 1000)
        .unwrap()
        .into_iter()
        .map(|(_, c)| (c.kind, c.url, c.version))
        .collect()
}

#[test]
fn the_feed_holds_versions_and_gone_marks_in_store_order() {
    let store = Store::temporary().unwrap();
    let other = "http://www.example.gov.cn/gk/t20210331_2.html";
    put(&store, &page(BODY, 1), 0);
    let html = page(
        "<p>第二份文件的正文，内容与第一份文件不同，用于检验变更记录。</p>",
        1,
    );
    store.put(&fetch(other, &html, 5), &record(&html)).unwrap();
    put(&store, &page(BODY, 2), 10); // unchanged: no change
    assert!(store.mark_gone(&gone_at(URL, 20)).unwrap());
    put(&store, &page(BODY, 3), 30); // back: version 2
    assert_eq!(
        feed(&store),
        [
            (EventKind::Version, URL.to_owned(), Some(1)),
            (EventKind::Version, other.to_owned(), Some(1)),
            (EventKind::Gone, URL.to_owned(), Some(1)),
            (EventKind::Version, URL.to_owned(), Some(2)),
        ]
    );
    let all = store.changes(None, 10).unwrap();
    assert_eq!(all[0].1.site.as_deref(), Some("example"));
    assert_eq!(all[0].1.title.as_deref(), Some("关于开展安全检查的通知"));
    // a cursor continues after its change, and parses back from its text
    let cursor: ChangeCursor = all[1].0.to_string().parse().unwrap();
    let rest = store.changes(Some(cursor), 10).unwrap();
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0].0, all[2].0);
    assert_eq!(store.last_change().unwrap(), Some(all[3].0));
    assert!(store.changes(Some(all[3].0), 10).unwrap().is_empty());
    // newest first, for people
    let newest: Vec<_> = store.changes_before(None, 3).unwrap();
    assert_eq!(
        newest.iter().map(|c| c.0).collect::<Vec<_>>(),
        [all[3].0, all[2].0, all[1].0]
    );
    assert_eq!(
        store.changes_before(Some(all[1].0), 10).unwrap()[0].0,
        all[0].0
    );
    // the version a change names is the one stored
    let v2 = store.version_of_change(&all[3].1).unwrap().unwrap();
    assert_eq!((v2.url.as_str(), v2.version), (URL, 2));
    assert!(store.version_of_change(&all[2].1).unwrap().is_none());
}

#[test]
fn cursors_and_times_parse_and_bad_ones_say_why() {
    assert!("c00000000000000ff".parse::<ChangeCursor>().is_ok());
    for bad in [
        "",
        "c",
        "cff",
        "x00000000000000ff",
        "c0000000000000zff",
        "c000000000000000ff",
    ] {
        let err = bad.parse::<ChangeCursor>().unwrap_err();
        assert!(err.contains("not a cursor"), "{bad}: {err}");
    }
    assert_eq!(
        "2024-03-01".parse::<Since>().unwrap(),
        Since::Time("2024-03-01T00:00:00.000Z".to_owned())
    );
    assert!(matches!(
        "c0000000000000001".parse::<Since>().unwrap(),
        Since::Cursor(_)
    ));
    assert!("yesterday".parse::<Since>().is_err());
}

#[test]
fn subscribers_wake_when_a_commit_adds_changes_and_only_then() {
    let store = Store::temporary().unwrap();
    let mut rx = store.subscribe();
    put(&store, &page(BODY, 1), 0);
    assert!(rx.has_changed().unwrap(), "a new version wakes");
    rx.borrow_and_update();
    put(&store, &page(BODY, 2), 10);
    assert!(!rx.has_changed().unwrap(), "an unchanged fetch does not");
    store.mark_gone(&gone_at(URL, 20)).unwrap();
    assert!(rx.has_changed().unwrap(), "a gone mark wakes");
    assert_eq!(
        *rx.borrow_and_update(),
        store.last_change().unwrap().unwrap().id()
    );
}

#[test]
fn export_slices_walk_the_feed_and_filter_by_time() {
    let store = Store::temporary().unwrap();
    for i in 0..5_u32 {
        let url = format!("http://www.example.gov.cn/gk/t2021033{i}_1.html");
        let html = page(
            &format!("<p>第{i}号文件的正文，内容各不相同，用于检验导出的切片。</p>"),
            i,
        );
        store
            .put(&fetch(&url, &html, u64::from(i) * 100), &record(&html))
            .unwrap();
    }
    store
        .mark_gone(&gone_at(
            "http://www.example.gov.cn/gk/t20210330_1.html",
            900,
        ))
        .unwrap();
    let (mut after, mut lines) = (None, Vec::new());
    loop {
        let slice = store.export_slice(after, None, 2).unwrap();
        lines.extend(slice.lines);
        match slice.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(lines.len(), 5, "versions only, each once");
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["version"], 1);
    assert_eq!(first["title"], "关于开展安全检查的通知");
    // a line's cursor continues after it
    let cursor: ChangeCursor = first["cursor"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        store.export_slice(Some(cursor), None, 100).unwrap().lines,
        lines[1..]
    );
    // a time leaves out what was fetched before it
    let t = timestamp(UNIX_EPOCH + Duration::from_secs(BASE_SECS + 300));
    assert_eq!(
        store.export_slice(None, Some(&t), 100).unwrap().lines,
        lines[3..]
    );
}

#[test]
fn an_older_store_gets_its_feed_built_once_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = Store::open(&path).unwrap();
        put(&store, &page(BODY, 1), 0);
        store.mark_gone(&gone_at(URL, 20)).unwrap();
        put(
            &store,
            &page(
                "<p>修订后的正文：检查范围扩大到全区所有生产经营单位。</p>",
                1,
            ),
            40,
        );
        // as schema 5 left it: no feed
        store.changes.clear().unwrap();
        store.meta.insert(trees::SCHEMA_KEY, b"5").unwrap();
        store.flush().unwrap();
    }
    let store = reopen(&path).unwrap();
    assert_eq!(
        feed(&store),
        [
            (EventKind::Version, URL.to_owned(), Some(1)),
            (EventKind::Gone, URL.to_owned(), Some(1)),
            (EventKind::Version, URL.to_owned(), Some(2)),
        ]
    );
    assert_eq!(
        store.meta.get(trees::SCHEMA_KEY).unwrap().unwrap(),
        STORE_SCHEMA.to_string().as_bytes()
    );
    let before = store.changes(None, 10).unwrap();
    drop(store);
    let store = reopen(&path).unwrap();
    assert_eq!(store.changes(None, 10).unwrap(), before, "built once");
}

#[test]
fn crawl_records_round_trip_and_know_an_unfinished_crawl() {
    let store = Store::temporary().unwrap();
    assert!(store.crawl_record("gov-cn").unwrap().is_none());
    let mut record = CrawlRecord {
        started: "2026-11-28T08:00:00.000Z".to_owned(),
        finished: None,
        summary: None,
    };
    store.put_crawl_record("gov-cn", &record).unwrap();
    assert!(store.crawl_record("gov-cn").unwrap().unwrap().unfinished());
    record.finished = Some("2026-11-28T08:10:00.000Z".to_owned());
    record.summary = Some(serde_json::json!({"site": "gov-cn", "stopped": null}));
    store.put_crawl_record("gov-cn", &record).unwrap();
    assert_eq!(store.crawl_record("gov-cn").unwrap(), Some(record.clone()));
    assert!(!record.unfinished());
    record.summary = Some(serde_json::json!({"site": "gov-cn", "stopped": "interrupted"}));
    assert!(record.unfinished());
}
