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
        tls_invalid: None,
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
        tls_invalid: None,
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
    let value = store.unpack(&value).unwrap();
    let (head, record) = stored::composite_parts(&value).unwrap();
    assert!(head.starts_with(&ZSTD_MAGIC));
    assert!(record.starts_with(&ZSTD_MAGIC));
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

/// A file spooled while it downloaded is stored from disk to the packs,
/// and read back as a stream whose check is verified at its end: a byte
/// damaged in the pack is an error, never wrong bytes.
#[test]
fn a_spooled_file_is_stored_and_streamed_back_checked() {
    use std::io::Read as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let bytes: Vec<u8> = (0..1_500_000u32)
        .map(|i| u8::try_from(i.wrapping_mul(2_654_435_761) >> 24).unwrap())
        .collect();
    let url = "http://www.example.gov.cn/files/P020240305.pdf";
    let pointer = {
        let store = Store::open(&path).unwrap();
        let mut w = store.spool().unwrap();
        for chunk in bytes.chunks(10_000) {
            w.write(chunk).unwrap();
        }
        let spool = w.finish().unwrap();
        let f = Fetch::plain(url, Some("example"), UNIX_EPOCH, 200, &[]);
        let record = crate::record::AttachmentRecord {
            schema: crate::record::ATTACHMENT_SCHEMA,
            kind: "attachment".to_owned(),
            url: Some(url.to_owned()),
            name: Some("统计年鉴（扫描件）.pdf".to_owned()),
            content_type: None,
            format: "pdf".to_owned(),
            bytes: bytes.len() as u64,
            hash: blake3::hash(&bytes).to_hex().to_string(),
            linked_from: Vec::new(),
            title: None,
            published: None,
            text: String::new(),
            pages: None,
            warnings: vec!["no text layer".to_owned()],
        };
        let prepared = PreparedPage::spooled_attachment(&f, &spool, record).unwrap();
        let mut batch = Batch::default();
        batch.add_page(prepared);
        assert_eq!(store.commit(&batch).unwrap(), [PutOutcome::NewVersion(1)]);
        let v = store.latest(url).unwrap().unwrap();
        assert_eq!(v.raw_hash, blake3::hash(&bytes).to_hex().as_str());
        let mut back = Vec::new();
        store
            .raw_reader(&v)
            .unwrap()
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert!(back == bytes, "streamed back as stored");
        assert!(store.raw(&v).unwrap().unwrap() == bytes, "and whole");
        let id = store
            .raw_ids
            .get(blake3::hash(&bytes).as_bytes())
            .unwrap()
            .unwrap();
        packs::Pointer::decode(&store.raw.get(id).unwrap().unwrap()).unwrap()
    };
    // damage one byte in the middle of the file's frame
    let pack = path.join(PACKS_DIR).join("000001.pack");
    let mut packed = std::fs::read(&pack).unwrap();
    let middle = usize::try_from(pointer.offset + 8 + pointer.len() / 2).unwrap();
    packed[middle] ^= 0x55;
    std::fs::write(&pack, packed).unwrap();
    let store = reopen(&path).unwrap();
    let v = store.latest(url).unwrap().unwrap();
    let mut back = Vec::new();
    let read = store
        .raw_reader(&v)
        .unwrap()
        .unwrap()
        .read_to_end(&mut back);
    assert!(
        read.is_err(),
        "a damaged file is an error, not {} bytes",
        back.len()
    );
}
