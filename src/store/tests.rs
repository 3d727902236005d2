//! The store's own tests: layouts, schemas, outcomes, crash paths.
use super::*;
use crate::{ExtractOptions, Page, extract};
use std::time::{Duration, UNIX_EPOCH};

pub(super) const URL: &str = "http://www.example.gov.cn/gk/t20210330_1.html";
pub(super) const BASE_SECS: u64 = 1_700_000_000;

pub(super) fn page(body: &str, counter: u32) -> String {
    format!(
        "<html><head><title>关于开展安全检查的通知_某某区人民政府</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a></div><div class=\"article\"><h1>关于开展安全检查的通知</h1>\
         <div class=\"info\">发布时间：2021-03-30 浏览次数：{counter}</div><div class=\"content\">{body}</div></div>\
         <div class=\"footer\">主办单位：某某区人民政府 京ICP备12345678号</div></body></html>"
    )
}

pub(super) const BODY: &str = "<p>各街道、各部门：</p><p>为切实做好安全生产工作，有效防范各类事故发生，现就开展安全检查有关事项通知如下。</p>";

pub(super) fn record(html: &str) -> Record {
    extract(
        &Page {
            bytes: html.as_bytes(),
            url: Some(URL),
            ..Page::default()
        },
        None,
        ExtractOptions::default(),
    )
    .unwrap()
}

/// A fetch of `html` at `url`, `secs` after the tests' base time.
pub(super) fn fetch<'a>(url: &'a str, html: &'a str, secs: u64) -> Fetch<'a> {
    Fetch {
        url,
        site: Some("example"),
        fetched_at: UNIX_EPOCH + Duration::from_secs(BASE_SECS + secs),
        status: 200,
        bytes: html.as_bytes(),
        content_type: Some("text/html"),
        duration_ms: 0,
        etag: None,
        last_modified: None,
        head: None,
        conditional: None,
    }
}

/// A tree's keys, in order.
fn keys_of(tree: &sled::Tree) -> Vec<Vec<u8>> {
    tree.iter().keys().map(|k| k.unwrap().to_vec()).collect()
}

/// Open a store just dropped (see `disk::open_when_released`).
pub(super) fn reopen(path: &Path) -> Result<Store> {
    super::disk::open_when_released(path)
}

pub(super) fn put(store: &Store, html: &str, secs: u64) -> PutOutcome {
    store.put(&fetch(URL, html, secs), &record(html)).unwrap()
}

#[test]
fn pages_new_to_the_store_key_history_and_versions_by_id_in_arrival_order() {
    let store = Store::temporary().unwrap();
    // URL order is the reverse of arrival order
    let urls = [
        "http://www.example.gov.cn/gk/t20240302_2.html",
        "http://www.example.gov.cn/gk/t20240301_1.html",
    ];
    let html = page(BODY, 1);
    for url in urls {
        store.put(&fetch(url, &html, 0), &record(&html)).unwrap();
    }
    let ids: Vec<u64> = urls
        .iter()
        .map(|url| store.page(url).unwrap().unwrap().id.unwrap())
        .collect();
    assert!(ids[0] < ids[1]);
    let expected: Vec<Vec<u8>> = ids
        .iter()
        .map(|id| keys::event_key(&id.to_be_bytes(), 1))
        .collect();
    assert_eq!(
        keys_of(&store.history),
        expected,
        "appended in arrival order"
    );
    assert!(
        store.db.open_tree(trees::VERSION_IDS).unwrap().is_empty(),
        "events point to versions"
    );
    for (url, key) in urls.iter().zip(&keys_of(&store.versions)) {
        let history = store.history(url).unwrap();
        assert_eq!(history.len(), 1);
        let id = history[0].version_id.expect("a version event has its id");
        assert_eq!(keys::id_key(id).as_slice(), key.as_slice());
        assert_eq!(store.latest(url).unwrap().unwrap().url, *url);
    }
}

/// Every page has its last fetch apart (tree `fetched`, keyed by its id),
/// and an unchanged fetch rewrites only that, in place; the page's state
/// reads it back, and the next write of the whole state takes it in.
#[test]
fn an_unchanged_fetch_stores_only_its_last_fetch() {
    let store = Store::temporary().unwrap();
    put(&store, &page(BODY, 1), 0);
    let stored = store.pages.get(URL).unwrap().unwrap();
    let id = store.page(URL).unwrap().unwrap().id.unwrap();
    let last = |store: &Store| {
        let (k, v) = store.fetched.first().unwrap().unwrap();
        assert_eq!(k.as_ref(), keys::id_key(id), "keyed by the page's id");
        serde_json::from_slice::<serde_json::Value>(&v).unwrap()
    };
    assert_eq!(store.fetched.len(), 1);
    assert!(last(&store).get("validators").is_none(), "{}", last(&store));
    let html = page(BODY, 2);
    let again = Fetch {
        etag: Some("\"5f3a-2\""),
        ..fetch(URL, &html, 60)
    };
    assert_eq!(
        store.put(&again, &record(&html)).unwrap(),
        PutOutcome::Unchanged
    );
    assert_eq!(
        store.pages.get(URL).unwrap().unwrap(),
        stored,
        "state not rewritten"
    );
    assert_eq!(store.fetched.len(), 1);
    assert_eq!(last(&store)["validators"]["etag"], "\"5f3a-2\"");
    let state = store.page(URL).unwrap().unwrap();
    assert_eq!(state.last_fetched, timestamp(again.fetched_at));
    assert_eq!(state.etag.as_deref(), Some("\"5f3a-2\""));
    assert_eq!(store.pages().next().unwrap().unwrap(), state);

    let gone = Fetch {
        status: 404,
        ..fetch(URL, "", 120)
    };
    assert!(store.mark_gone(&gone).unwrap());
    assert!(
        last(&store).get("validators").is_none(),
        "taken into the state"
    );
    let state = store.page(URL).unwrap().unwrap();
    assert_eq!(
        (state.state, state.last_status, state.last_fetched),
        (PageStatus::Gone, 404, timestamp(gone.fetched_at))
    );
    assert_eq!(state.etag.as_deref(), Some("\"5f3a-2\""));

    // still gone: only the last fetch changes
    let stored = store.pages.get(URL).unwrap().unwrap();
    let again = Fetch {
        status: 410,
        ..fetch(URL, "", 180)
    };
    assert!(!store.mark_gone(&again).unwrap());
    assert_eq!(store.pages.get(URL).unwrap().unwrap(), stored);
    let state = store.page(URL).unwrap().unwrap();
    assert_eq!(
        (state.last_status, state.last_fetched),
        (410, timestamp(again.fetched_at))
    );
}

/// A page stored by schema 2 or 3: its history event has no version id,
/// and `version_ids` says where its version is.
/// Rewrite a page of `store` as schema 2 left it: no page id, its events
/// keyed by its URL hash without `version_id`, its versions found through
/// `version_ids`.
fn as_schema_2(store: &Store, url: &str) {
    let mut page: PageState =
        serde_json::from_slice(&store.pages.get(url).unwrap().unwrap()).unwrap();
    let prefix = keys::page_prefix(url, page.id);
    let old_prefix = keys::page_prefix(url, None);
    let version_ids = store.db.open_tree(trees::VERSION_IDS).unwrap();
    for kv in store.history.scan_prefix(&prefix) {
        let (k, v) = kv.unwrap();
        if k.len() != prefix.len() + 4 {
            continue;
        }
        let mut event: Event = serde_json::from_slice(&v).unwrap();
        let seq = u32::from_be_bytes(k[k.len() - 4..].try_into().unwrap());
        if let (Some(n), Some(id)) = (event.version, event.version_id.take()) {
            version_ids
                .insert(keys::event_key(&old_prefix, n), &keys::id_key(id))
                .unwrap();
        }
        store.history.remove(&k).unwrap();
        store
            .history
            .insert(
                keys::event_key(&old_prefix, seq),
                serde_json::to_vec(&event).unwrap(),
            )
            .unwrap();
    }
    page.id = None;
    store
        .pages
        .insert(url, serde_json::to_vec(&page).unwrap())
        .unwrap();
}

#[test]
fn older_layouts_are_upgraded_when_opened_even_after_a_kill_in_the_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let other = "http://www.example.gov.cn/gk/t20210331_2.html";
    let html2 = page("<p>另一份文件的正文，与第一份不同。</p>", 1);
    {
        let store = Store::open(&path).unwrap();
        put(&store, &page(BODY, 1), 0);
        put(
            &store,
            &page("<p>修订后的正文：检查范围扩大到全区。</p>", 1),
            10,
        );
        store
            .put(&fetch(other, &html2, 20), &record(&html2))
            .unwrap();
        as_schema_2(&store, URL);
        as_schema_2(&store, other);
        store.meta.insert(trees::SCHEMA_KEY, b"2").unwrap();
        assert!(
            store.latest(URL).unwrap().is_none(),
            "the read path knows one layout"
        );
        // a kill after the upgrade moved the first page, before the mark
        let version_ids = store.db.open_tree(trees::VERSION_IDS).unwrap();
        store.upgrade_page(URL, &version_ids).unwrap();
        store.flush().unwrap();
    }
    let store = reopen(&path).unwrap();
    for (url, versions) in [(URL, 2), (other, 1)] {
        let page = store.page(url).unwrap().unwrap();
        assert!(page.id.is_some(), "{url} has an id");
        assert_eq!(store.latest(url).unwrap().unwrap().version, versions);
        assert!(store.version(url, 1).unwrap().is_some());
        assert!(
            store
                .history(url)
                .unwrap()
                .iter()
                .all(|e| e.version_id.is_some()),
            "{url}: every version event names its version"
        );
    }
    assert!(store.db.open_tree(trees::VERSION_IDS).unwrap().is_empty());
    assert_eq!(
        store.meta.get(trees::SCHEMA_KEY).unwrap().unwrap(),
        STORE_SCHEMA.to_string().as_bytes()
    );
    assert_eq!(
        store.changes(None, 10).unwrap().len(),
        3,
        "and the feed built"
    );
}

/// Schema 8 kept a page's last fetch under its URL, validators always;
/// opening the store keys it by the page's id, and the page reads the same.
#[test]
fn last_fetches_keyed_by_url_move_to_the_page_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let other = "http://www.example.gov.cn/gk/t20210331_2.html";
    let before;
    {
        let store = Store::open(&path).unwrap();
        put(&store, &page(BODY, 1), 0);
        let html = page(BODY, 2);
        store.put(&fetch(other, &html, 0), &record(&html)).unwrap();
        store.fetched.clear().unwrap();
        let old = |status: u16, etag: &str| {
            format!(
                r#"{{"last_fetched":"2026-01-05T08:00:00.000Z","last_status":{status},"etag":"{etag}","last_modified":"Mon, 05 Jan 2026 08:00:00 GMT"}}"#
            )
        };
        store
            .fetched
            .insert(URL, old(304, "v1").as_bytes())
            .unwrap();
        store
            .fetched
            .insert(other, old(200, "v2").as_bytes())
            .unwrap();
        store.meta.insert(trees::SCHEMA_KEY, b"8").unwrap();
        before = [URL, other].map(|url| {
            let mut state: PageState =
                serde_json::from_slice(&store.pages.get(url).unwrap().unwrap()).unwrap();
            state.last_fetched = "2026-01-05T08:00:00.000Z".to_owned();
            state.last_status = if url == URL { 304 } else { 200 };
            state.etag = Some(if url == URL { "v1" } else { "v2" }.to_owned());
            state.last_modified = Some("Mon, 05 Jan 2026 08:00:00 GMT".to_owned());
            state
        });
    }
    let store = reopen(&path).unwrap();
    for state in &before {
        assert_eq!(store.page(&state.url).unwrap().as_ref(), Some(state));
    }
    assert_eq!(
        store.pages().map(Result::unwrap).collect::<Vec<_>>().len(),
        2
    );
    assert_eq!(store.fetched.len(), 2);
    assert!(store.fetched.iter().keys().all(|k| k.unwrap().len() == 8));
}

/// The fetches written between two flushes make one fetch-log frame, read
/// back one by one in order, before the flush too.
#[test]
fn a_batch_logs_its_fetches_in_one_value() {
    let store = Store::temporary().unwrap();
    store.log(&fetch(URL, "", 0), "unchanged").unwrap();
    let html = page(BODY, 1);
    let urls = [
        "http://www.example.gov.cn/gk/t1.html",
        "http://www.example.gov.cn/gk/t2.html",
    ];
    let mut batch = Batch::default();
    for url in urls {
        // two documents, not one under two URLs (an alias)
        let html = html.replace("检查", &format!("检查{url}"));
        batch.add_page(PreparedPage::new(&fetch(url, &html, 1), record(&html)).unwrap());
    }
    let listing = "http://www.example.gov.cn/gk/index.html";
    batch.add_log(FetchLogEntry::new(&fetch(listing, "", 1), "listing"));
    assert_eq!(store.commit(&batch).unwrap().len(), 2);
    store.log(&fetch(URL, "", 2), "not_modified").unwrap();
    assert_eq!(store.fetch_log.size().unwrap().1, 0, "queued until a flush");
    assert_eq!(store.fetch_log().count(), 5);
    store.flush().unwrap();
    assert_eq!(store.fetch_log.size().unwrap().1, 1, "one frame per flush");
    let log: Vec<(String, String)> = store
        .fetch_log()
        .map(|e| e.unwrap())
        .map(|e| (e.url, e.outcome))
        .collect();
    let expected = [
        (URL, "unchanged"),
        (urls[0], "new_version"),
        (urls[1], "new_version"),
        (listing, "listing"),
        (URL, "not_modified"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(u, o)| ((*u).to_owned(), (*o).to_owned()))
        .collect();
    assert_eq!(log, expected);
}

/// A new store is created without sled's page compression; one created
/// with it (by an older govsnap) still opens (see `a_schema_1_store_is_read_and_upgraded`).
#[test]
fn a_new_store_is_created_without_page_compression() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    drop(Store::open(&path).unwrap());
    // sled's settings, as text with a checksum after it
    let conf = String::from_utf8_lossy(&std::fs::read(path.join("conf")).unwrap()).into_owned();
    assert!(conf.contains("use_compression: false"), "{conf}");
    reopen(&path).unwrap();
}

#[test]
fn versions_only_for_content_changes() {
    let store = Store::temporary().unwrap();
    assert_eq!(put(&store, &page(BODY, 1), 0), PutOutcome::NewVersion(1));
    // the visit counter changed: boilerplate only
    assert_eq!(put(&store, &page(BODY, 2), 1), PutOutcome::Unchanged);
    let changed = BODY.replace("安全检查", "安全生产大检查");
    assert_eq!(
        put(&store, &page(&changed, 3), 2),
        PutOutcome::NewVersion(2)
    );
    let state = store.page(URL).unwrap().unwrap();
    assert_eq!(
        (state.versions, state.events, state.state),
        (2, 2, PageStatus::Live)
    );
    assert_eq!(store.fetch_log().count(), 3);
    let v1 = store.version(URL, 1).unwrap().unwrap();
    assert_eq!(store.raw(&v1).unwrap().unwrap(), page(BODY, 1).as_bytes());
    assert!(
        store
            .latest(URL)
            .unwrap()
            .unwrap()
            .record
            .text
            .contains("安全生产大检查")
    );
}

#[test]
fn slices_cover_every_version_once_in_order() {
    let store = Store::temporary().unwrap();
    put(&store, &page(BODY, 1), 0);
    put(&store, &page(&BODY.replace("安全检查", "专项检查"), 1), 1);
    put(&store, &page(&BODY.replace("安全检查", "联合检查"), 1), 2);
    let all: Vec<(String, u32)> = store
        .all_versions()
        .map(|v| v.unwrap())
        .map(|v| (v.url, v.version))
        .collect();
    let mut sliced = Vec::new();
    let mut cursor = None;
    loop {
        let (slice, next) = store.versions_from(cursor.as_ref(), 2).unwrap();
        sliced.extend(slice.into_iter().map(|v| (v.url, v.version)));
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(all.len(), 3);
    assert_eq!(sliced, all);
}

#[test]
fn gone_and_back() {
    let store = Store::temporary().unwrap();
    put(&store, &page(BODY, 1), 0);
    let gone = Fetch {
        url: URL,
        site: None,
        fetched_at: UNIX_EPOCH + Duration::from_secs(BASE_SECS + 100),
        status: 404,
        bytes: b"",
        content_type: None,
        duration_ms: 3,
        etag: None,
        last_modified: None,
        head: None,
        conditional: None,
    };
    assert!(store.mark_gone(&gone).unwrap());
    assert!(
        !store.mark_gone(&gone).unwrap(),
        "one gone mark per disappearance"
    );
    assert_eq!(store.page(URL).unwrap().unwrap().state, PageStatus::Gone);
    // back with the same content: a version again
    assert_eq!(put(&store, &page(BODY, 9), 200), PutOutcome::NewVersion(2));
    let kinds: Vec<EventKind> = store.history(URL).unwrap().iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [EventKind::Version, EventKind::Gone, EventKind::Version]
    );
}

#[test]
fn a_newer_schema_is_refused_and_a_second_opener_is_told_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let store = Store::open(&path).unwrap();
        let err = Store::open(&path).unwrap_err();
        assert!(matches!(err, Error::StoreLocked { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("in use by another govsnap process")
        );
        store
            .db
            .open_tree(trees::META)
            .unwrap()
            .insert(trees::SCHEMA_KEY, (STORE_SCHEMA + 1).to_string().as_bytes())
            .unwrap();
        store.flush().unwrap();
    }
    let err = reopen(&path).unwrap_err();
    assert!(
        matches!(err, Error::StoreSchema { found, .. } if found == STORE_SCHEMA + 1),
        "{err}"
    );
}

#[test]
fn versions_are_stored_compressed() {
    let store = Store::temporary().unwrap();
    put(&store, &page(BODY, 1), 0);
    let value = store.versions.iter().next().unwrap().unwrap().1;
    assert!(packs::Pointer::decode(&value).is_some(), "in the packs");
    assert!(store.unpack(&value).unwrap().starts_with(&ZSTD_MAGIC));
    let latest = store.latest(URL).unwrap().unwrap();
    assert_eq!(
        latest.record.title.as_deref(),
        Some("关于开展安全检查的通知")
    );
}

/// Versions and raw bytes are keyed by monotonic ids, in the order they
/// were stored, and found through their indexes; the same bytes at two
/// URLs are stored once (pages of no site: within a site, the second is an
/// alias of the first).
#[test]
fn versions_and_raw_bytes_by_id_in_storage_order() {
    let store = Store::temporary().unwrap();
    let html = page(BODY, 1);
    let record = record(&html);
    let urls: Vec<String> = (0..40)
        .map(|i| format!("http://www.example.gov.cn/gk/t20240101_{i}.html"))
        .collect();
    for url in &urls {
        let fetch = Fetch {
            site: None,
            ..fetch(url, &html, 0)
        };
        store.put(&fetch, &record).unwrap();
    }
    let keys = keys_of(&store.versions);
    assert_eq!(keys.len(), 40);
    assert!(keys.iter().all(|k| k.len() == 8));
    let stored: Vec<String> = store.all_versions().map(|v| v.unwrap().url).collect();
    assert_eq!(stored, urls, "storage order");
    assert_eq!(store.version(&urls[7], 1).unwrap().unwrap().url, urls[7]);
    assert!(store.version(&urls[7], 2).unwrap().is_none());
    assert_eq!(store.raw.len(), 1, "the same bytes once");
    let v = store.latest(&urls[39]).unwrap().unwrap();
    assert_eq!(store.raw(&v).unwrap().unwrap(), html.as_bytes());
}

/// A store as schema 1 wrote it: versions as plain JSON, a fetch-log value
/// of one bare entry. It opens, reads, takes new versions and is marked
/// with the current schema; its values are in the current layout.
#[test]
fn a_schema_1_store_is_read_and_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let html = page(BODY, 1);
    {
        let db = sled::Config::new()
            .path(&path)
            .use_compression(true)
            .open()
            .unwrap();
        let record = record(&html);
        let raw_hash = blake3::hash(html.as_bytes());
        let version = Version {
            url: URL.to_owned(),
            version: 1,
            fetched_at: "2023-11-14T22:13:20.000Z".to_owned(),
            content_hash: content_hash(&record),
            raw_hash: raw_hash.to_hex().to_string(),
            content_type: None,
            head_hash: None,
            conditional: None,
            record: record.clone(),
        };
        let state = PageState {
            url: URL.to_owned(),
            site: None,
            versions: 1,
            events: 1,
            state: PageStatus::Live,
            first_seen: version.fetched_at.clone(),
            last_fetched: version.fetched_at.clone(),
            last_status: 200,
            content_hash: Some(version.content_hash.clone()),
            etag: None,
            last_modified: None,
            id: None,
            alias_of: None,
        };
        let tree = |name: &str| db.open_tree(name).unwrap();
        tree(trees::META).insert(trees::SCHEMA_KEY, b"1").unwrap();
        tree(trees::PAGES)
            .insert(URL, serde_json::to_vec(&state).unwrap())
            .unwrap();
        tree(trees::VERSIONS)
            .insert(
                keys::page_key(URL, 1),
                serde_json::to_vec(&version).unwrap(),
            )
            .unwrap();
        tree(trees::RAW)
            .insert(
                raw_hash.as_bytes(),
                zstd::encode_all(html.as_bytes(), 1).unwrap(),
            )
            .unwrap();
        let entry = FetchLogEntry::new(&fetch(URL, &html, 1_700_000_000), "new_version");
        tree(trees::FETCH_LOG)
            .insert(keys::id_key(0), serde_json::to_vec(&entry).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let store = reopen(&path).unwrap();
    // one layout: versions in the packs as zstd frames, the fetch log in
    // its file
    for value in store
        .versions
        .iter()
        .values()
        .chain(store.raw.iter().values())
    {
        let value = value.unwrap();
        assert!(packs::Pointer::decode(&value).is_some());
        assert!(
            store
                .unpack(&value)
                .unwrap()
                .starts_with(&super::ZSTD_MAGIC)
        );
    }
    assert!(store.fetch_log_tree.is_empty(), "moved to its file");
    let logged: Vec<FetchLogEntry> = store.fetch_log().map(Result::unwrap).collect();
    assert_eq!(logged.len(), 1);
    assert_eq!(
        (logged[0].url.as_str(), logged[0].outcome.as_str()),
        (URL, "new_version")
    );
    let v1 = store.latest(URL).unwrap().unwrap();
    assert_eq!(v1.version, 1);
    assert_eq!(store.raw(&v1).unwrap().unwrap(), html.as_bytes());
    let meta = store.db.open_tree(trees::META).unwrap();
    assert_eq!(
        meta.get(trees::SCHEMA_KEY).unwrap().unwrap(),
        STORE_SCHEMA.to_string().as_bytes()
    );
    assert_eq!(
        put(&store, &page("<p>通知已废止。</p>", 1), 60),
        PutOutcome::NewVersion(2)
    );
    let (all, _) = store.versions_from(None, 10).unwrap();
    let mut numbers: Vec<u32> = all.iter().map(|v| v.version).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(store.version(URL, 2).unwrap().unwrap().version, 2);
}

#[test]
fn a_response_head_is_kept_once_and_read_back_with_its_version() {
    let store = Store::temporary().unwrap();
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\nserver: nginx\r\n";
    let html = page(BODY, 1);
    let with_head = Fetch {
        head: Some(head),
        ..fetch(URL, &html, 0)
    };
    store.put(&with_head, &record(&html)).unwrap();
    let other = "http://www.example.gov.cn/gk/t20210331_2.html";
    let html2 = page("<p>另一份文件的正文，与第一份不同，响应头却相同。</p>", 1);
    store
        .put(
            &Fetch {
                head: Some(head),
                ..fetch(other, &html2, 5)
            },
            &record(&html2),
        )
        .unwrap();
    let v = store.latest(URL).unwrap().unwrap();
    assert_eq!(store.head(&v).unwrap().as_deref(), Some(head));
    assert_eq!(
        keys_of(&store.heads).len(),
        1,
        "the same head is stored once"
    );
    // a saved file has none
    let saved = "http://www.example.gov.cn/gk/t20210401_3.html";
    let html3 = page("<p>第三份文件的正文，另存的网页，没有响应头。</p>", 1);
    store
        .put(&fetch(saved, &html3, 9), &record(&html3))
        .unwrap();
    assert_eq!(
        store.head(&store.latest(saved).unwrap().unwrap()).unwrap(),
        None
    );
}

/// A crawl's batch leaves an unchanged page's last fetch to its frontier
/// slot: sled's `fetched` keeps its value, and the page reads the slot's
/// later fetch; a 304 for a page another site stored stays in sled.
#[test]
fn a_crawl_keeps_unchanged_fetches_in_slots() {
    use crate::store::schedule::Revisit;
    let store = Store::temporary().unwrap();
    let html = page(BODY, 1);
    store.frontier_begin("example", &[URL], 0, false).unwrap();
    put(&store, &html, 0);
    let before = store
        .fetched
        .iter()
        .collect::<sled::Result<Vec<_>>>()
        .unwrap();

    let mut batch = Batch::default();
    batch.crawled("example");
    let again = fetch(URL, &html, 60);
    batch.add_page(PreparedPage::new(&again, record(&html)).unwrap());
    let outcomes = store.commit(&batch).unwrap();
    assert_eq!(outcomes, [PutOutcome::Unchanged]);
    let after = store
        .fetched
        .iter()
        .collect::<sled::Result<Vec<_>>>()
        .unwrap();
    assert_eq!(before, after, "nothing written to sled's last fetches");
    for (url, visit, fetched) in batch.visits(&outcomes) {
        store
            .frontier_done("example", url, visit, 60, Revisit::default(), fetched)
            .unwrap();
    }
    let state = store.page(URL).unwrap().unwrap();
    assert_eq!(state.last_fetched, timestamp(again.fetched_at));

    // a 304 in another site's crawl: the page's own site has no slot for it
    let mut batch = Batch::default();
    batch.crawled("other");
    let not_modified = Fetch {
        status: 304,
        ..fetch(URL, "", 120)
    };
    batch.add_not_modified(FetchLogEntry::new(&not_modified, "not_modified"));
    store.commit(&batch).unwrap();
    let state = store.page(URL).unwrap().unwrap();
    assert_eq!(
        (state.last_fetched, state.last_status),
        (timestamp(not_modified.fetched_at), 304)
    );
}

/// The schema-10 move of the fetch log from its tree to its file, and a
/// kill after the file was renamed in but before the tree was cleared:
/// every entry is there once.
#[test]
fn the_fetch_log_moves_to_its_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let entries = [
        FetchLogEntry::new(&fetch(URL, "", 1), "unchanged"),
        FetchLogEntry::new(
            &fetch("http://www.example.gov.cn/gk/index.html", "", 2),
            "listing",
        ),
    ];
    // a schema-9 store: the entries in tree `fetch_log`, no file
    let as_schema_9 = |entries: &[FetchLogEntry]| {
        // sled's lock goes with the dropped store's last handle, which a
        // thread of sled's may hold a moment longer
        let mut tries = 0;
        let db = loop {
            match sled::Config::new().path(&path).open() {
                Ok(db) => break db,
                Err(_) if tries < 200 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => panic!("{e}"),
            }
        };
        let tree = db.open_tree(trees::FETCH_LOG).unwrap();
        tree.insert(
            keys::id_key(7),
            write::compress(&serde_json::to_vec(entries).unwrap()).unwrap(),
        )
        .unwrap();
        let meta = db.open_tree(trees::META).unwrap();
        meta.insert(trees::SCHEMA_KEY, b"9".as_slice()).unwrap();
        db.flush().unwrap();
    };
    drop(Store::open(&path).unwrap());
    std::fs::remove_file(path.join(super::FETCH_LOG_FILE)).unwrap();
    as_schema_9(&entries);
    let outcomes =
        |store: &Store| -> Vec<String> { store.fetch_log().map(|e| e.unwrap().outcome).collect() };
    let store = reopen(&path).unwrap();
    assert_eq!(outcomes(&store), ["unchanged", "listing"]);
    assert!(store.fetch_log_tree.is_empty());
    drop(store);
    // killed after the rename: the file holds the frames, the tree too
    as_schema_9(&entries);
    let store = reopen(&path).unwrap();
    assert_eq!(outcomes(&store), ["unchanged", "listing"], "not twice");
    assert!(store.fetch_log_tree.is_empty());
}

/// A new URL of a site with a document the site already has is its alias:
/// no version, no change, an `alias` event; once its content differs, it
/// is a document of its own.
#[test]
fn the_same_document_under_a_second_url_is_an_alias() {
    let store = Store::temporary().unwrap();
    let first = "http://www.example.gov.cn/gk/t20240101_1.html";
    let second = "http://www.example.gov.cn/gk/gk/t20240101_1.html";
    let html = page(BODY, 1);
    assert_eq!(
        store.put(&fetch(first, &html, 0), &record(&html)).unwrap(),
        PutOutcome::NewVersion(1)
    );
    // another visit counter: the same document
    let again = page(BODY, 7);
    assert_eq!(
        store
            .put(&fetch(second, &again, 1), &record(&again))
            .unwrap(),
        PutOutcome::Alias
    );
    let alias = store.page(second).unwrap().unwrap();
    assert_eq!(
        (alias.versions, alias.alias_of.as_deref()),
        (0, Some(first))
    );
    let history = store.history(second).unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].kind, history[0].alias_of.as_deref()),
        (EventKind::Alias, Some(first))
    );
    assert_eq!(
        store.changes(None, 10).unwrap().len(),
        1,
        "no change for an alias"
    );
    // fetched again unchanged: still an alias
    assert_eq!(
        store
            .put(&fetch(second, &again, 2), &record(&again))
            .unwrap(),
        PutOutcome::Unchanged
    );
    // its own content now: its own versions
    let own = page("<p>另一份文件：关于调整办公时间的通知。</p>", 1);
    assert_eq!(
        store.put(&fetch(second, &own, 3), &record(&own)).unwrap(),
        PutOutcome::NewVersion(1)
    );
    let page2 = store.page(second).unwrap().unwrap();
    assert_eq!((page2.versions, page2.alias_of), (1, None));
    // another site's page with the first's content is no alias
    let other = Fetch {
        site: Some("other"),
        ..fetch("http://www.example.org/a.html", &html, 4)
    };
    assert_eq!(
        store.put(&other, &record(&html)).unwrap(),
        PutOutcome::NewVersion(1)
    );
}
