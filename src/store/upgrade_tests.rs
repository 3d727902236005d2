//! Tests of the upgrades of older stores: layouts, last fetches, a schema-1
//! store, the fetch log's move to its file; each also after a kill.

use super::tests::*;
use super::*;
use std::time::{Duration, UNIX_EPOCH};

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

/// A store as schema 1 wrote it: versions as plain JSON, a fetch-log value
/// of one bare entry. It opens, reads, takes new versions and is marked
/// with the current schema; its values are in the current layout.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "a schema-1 store is built by hand, value by value"
)]
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
            tls_invalid: None,
            record: record.clone(),
            attachment: None,
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

const SESSION: &str = "http://www.example.gov.cn/gk/t20210330_1.html;jsessionid=0A1B2C3D4E5F";
const TRACKED: &str =
    "http://www.example.gov.cn/gk/t20210330_1.html?utm_source=wechat&spm=a2c4g.11186623";
const LIST: &str = "http://www.example.gov.cn/list.jsp?lm=2&page=1";
const SHUFFLED: &str = "http://www.example.gov.cn/list.jsp?page=1&lm=2";

fn put_at(store: &Store, url: &str, html: &str, secs: u64) -> PutOutcome {
    store.put(&fetch(url, html, secs), &record(html)).unwrap()
}

/// The article's four drafts, as pages.
fn drafts() -> Vec<String> {
    [
        "<p>第一稿：检查范围为辖区内生产经营单位。</p>",
        "<p>第二稿：检查范围扩大到全区。</p>",
        "<p>第三稿：检查时间延长至六月底。</p>",
        "<p>第四稿：增加消防安全检查内容。</p>",
    ]
    .iter()
    .map(|b| page(b, 1))
    .collect()
}

/// A schema-12 store at `path` with the article under [`SESSION`],
/// [`TRACKED`] and (an alias) [`URL`], and the list under [`SHUFFLED`] and
/// [`LIST`], whose group the upgrade merged before a kill. The session
/// page's id.
fn store_with_copies(path: &Path) -> Option<u64> {
    let store = Store::open(path).unwrap();
    let htmls = drafts();
    put_at(&store, SESSION, &htmls[0], 0);
    put_at(&store, TRACKED, &htmls[1], 10);
    put_at(&store, SESSION, &htmls[2], 20);
    let mut gone = fetch(TRACKED, "", 25);
    gone.status = 404;
    assert!(store.mark_gone(&gone).unwrap());
    put_at(&store, TRACKED, &htmls[3], 30);
    // schema 12 found the canonical URL's document under the session id
    assert_eq!(
        put_at(&store, URL, &htmls[2], 40),
        PutOutcome::Alias,
        "the store as schema 12 left it"
    );
    put_at(&store, SHUFFLED, &page("<p>栏目第1页</p>", 1), 0);
    put_at(&store, LIST, &page("<p>栏目第1页（更新）</p>", 1), 5);
    for url in [SESSION, TRACKED, URL] {
        store.frontier_add(url, "example", 1).unwrap();
    }
    store.meta.insert(trees::SCHEMA_KEY, b"12").unwrap();
    // a kill after the upgrade merged the list's group, before the mark
    store.merge_group(LIST, &[SHUFFLED.to_owned()]).unwrap();
    store.flush().unwrap();
    store.page(SESSION).unwrap().unwrap().id
}

/// A store written before schema 13 keyed a page by the URL as linked: one
/// article under a session id, under tracking parameters, and (as schema 12
/// stored it) under its canonical URL as an alias; a list under its query
/// in two orders. Opening it (after a kill that merged one group) leaves
/// one page per canonical URL, every version kept, in time order.
#[test]
fn an_old_store_with_duplicate_urls_is_upgraded_without_losing_a_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let session_id = store_with_copies(&path);
    let htmls = drafts();
    let store = reopen(&path).unwrap();
    let urls: Vec<String> = store.pages().map(|p| p.unwrap().url).collect();
    assert_eq!(urls, [URL, LIST], "one page per canonical URL");

    let article = store.page(URL).unwrap().unwrap();
    assert_eq!(article.versions, 4, "no version lost");
    assert_eq!(article.id, session_id, "the oldest page's id");
    assert_eq!(article.state, PageStatus::Live);
    assert_eq!(article.alias_of, None, "a page is no alias of itself");
    assert_eq!(
        article.first_seen,
        timestamp(UNIX_EPOCH + Duration::from_secs(BASE_SECS))
    );
    assert_eq!(
        article.last_fetched,
        timestamp(UNIX_EPOCH + Duration::from_secs(BASE_SECS + 40))
    );
    let kinds: Vec<(EventKind, Option<u32>)> = store
        .history(URL)
        .unwrap()
        .iter()
        .map(|e| (e.kind, e.version))
        .collect();
    assert_eq!(
        kinds,
        [
            (EventKind::Version, Some(1)),
            (EventKind::Version, Some(2)),
            (EventKind::Version, Some(3)),
            (EventKind::Gone, None),
            (EventKind::Version, Some(4)),
        ],
        "the copies' events in time order"
    );
    for (n, html) in (1..).zip(&htmls) {
        let version = store.version(URL, n).unwrap().unwrap();
        assert_eq!((version.url.as_str(), version.version), (URL, n));
        assert_eq!(version.content_hash, content_hash(&record(html)));
        assert_eq!(store.raw(&version).unwrap().unwrap(), html.as_bytes());
    }
    assert_eq!(
        store.latest(URL).unwrap().unwrap().content_hash,
        content_hash(&record(&htmls[3]))
    );
    assert_eq!(store.page(LIST).unwrap().unwrap().versions, 2);
    assert_eq!(store.all_versions().count(), 6, "every version, once");

    let feed: Vec<(String, EventKind, Option<u32>)> = store
        .changes(None, 100)
        .unwrap()
        .into_iter()
        .filter(|(_, c)| c.url == URL)
        .map(|(_, c)| (c.url, c.kind, c.version))
        .collect();
    assert_eq!(
        feed.iter().map(|c| (c.1, c.2)).collect::<Vec<_>>(),
        [
            (EventKind::Version, Some(1)),
            (EventKind::Version, Some(2)),
            (EventKind::Version, Some(3)),
            (EventKind::Gone, Some(3)),
            (EventKind::Version, Some(4)),
        ],
        "the feed names the canonical URL and the new numbers"
    );
    assert_eq!(store.changes(None, 100).unwrap().len(), 7);
    assert!(store.frontier_entry("example", URL).unwrap().is_some());
    for copy in [SESSION, TRACKED] {
        assert!(store.frontier_entry("example", copy).unwrap().is_none());
    }
    for url in store.aliases.iter().values() {
        let url = String::from_utf8(url.unwrap().to_vec()).unwrap();
        assert!(url == URL || url == LIST, "contents index: {url}");
    }
    // an unchanged fetch of the page is no new version
    assert_eq!(put_at(&store, URL, &htmls[3], 50), PutOutcome::Unchanged);
}
