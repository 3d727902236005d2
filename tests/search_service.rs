//! Search through the real binary (SPEC §13): under `serve` a stored
//! version becomes searchable by itself, the API answers `{hits, total,
//! facets, next_cursor}` and 400s for bad queries, the CLI asks the service
//! while it holds the store; `crawl` and `ingest` leave the index caught
//! up; a service killed mid-crawl loses nothing from the index; `reindex`
//! rebuilds it to the same answers.

mod common;

use common::service::{Bureau, Service, config, run, urlencode, wait_until};
use govsnap::Store;
use govsnap::search::Search;
use serde_json::Value;

fn search(service: &Service, query: &str, extra: &str) -> Value {
    service.api(&format!("/api/v1/search?q={}{extra}", urlencode(query)))
}

fn urls(answer: &Value) -> Vec<String> {
    answer["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["url"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn stored_versions_become_searchable_under_serve() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(6, 2);
    let config = config(dir.path(), addr, Some("every 1h"));
    let cfg = config.to_str().unwrap();
    let store = dir.path().join("store");
    let service = Service::start(&config, &store, "127.0.0.1:0");

    // the first documents are stored while the others wait: searchable
    // without anyone asking for an index
    let answer = wait_until("document 1 to be searchable", || {
        let a = search(&service, "第1批符合条件", "");
        (a["total"] == 1).then_some(a)
    });
    let hit = &answer["hits"][0];
    assert!(
        hit["url"]
            .as_str()
            .unwrap()
            .ends_with("/gk/t20241105_1.html"),
        "{answer}"
    );
    assert_eq!(hit["kind"], "page");
    assert_eq!(hit["site"], "swj");
    assert_eq!(hit["title"], "关于做好第1批惠企政策兑现工作的通知");
    assert_eq!(hit["published"], "2024-11-05");
    assert_eq!(hit["version"], 1);
    assert!(hit["score"].as_f64().unwrap() > 0.0);
    assert!(
        hit["snippet"].as_str().unwrap().contains("<mark>第1批"),
        "{hit}"
    );
    assert_eq!(answer["facets"]["site"]["swj"], 1);
    assert_eq!(answer["facets"]["year"]["2024"], 1);
    assert!(answer["next_cursor"].is_null());

    bureau.allow(6);
    wait_until("all six documents to be searchable", || {
        (search(&service, "政策兑现", "")["total"] == 6).then_some(())
    });
    // the crawl's extraction ran on threads of its own at the lowest
    // priority, the index followed at nice 10, and the runtime's threads
    // (which serve the readers) were left at 0
    let nices = thread_nices(service.child.id());
    let of = |name: &str| -> Vec<i64> {
        nices
            .iter()
            .filter(|(n, _)| n.starts_with(name))
            .map(|&(_, nice)| nice)
            .collect()
    };
    let extract = of("govsnap-extract");
    assert!(
        !extract.is_empty() && extract.iter().all(|&n| n == 19),
        "{nices:?}"
    );
    assert_eq!(of("govsnap-index"), [10], "{nices:?}");
    let runtime = of("tokio-");
    assert!(
        !runtime.is_empty() && runtime.iter().all(|&n| n == 0),
        "{nices:?}"
    );
    // the index's postings and positions are read, not mapped into the
    // service's memory; its term dictionaries are mapped
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", service.child.id())).unwrap();
    let mapped = |ext: &str| maps.lines().any(|l| l.trim_end().ends_with(ext));
    assert!(
        mapped(".term") && !mapped(".idx") && !mapped(".pos"),
        "{maps}"
    );
    // paging with the cursor
    let first = search(&service, "政策兑现", "&limit=4");
    assert_eq!(urls(&first).len(), 4);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = search(&service, "政策兑现", &format!("&limit=4&cursor={cursor}"));
    assert_eq!(urls(&rest).len(), 2);
    assert!(urls(&rest).iter().all(|u| !urls(&first).contains(u)));

    // the CLI asks the service, which holds the store
    let out = common::ok(&run(&[
        "search",
        "政策兑现",
        "--config",
        cfg,
        "--format",
        "json",
    ]));
    assert_eq!(out.lines().count(), 6, "{out}");
    let line: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(line["kind"], "page");
    let table = common::ok(&run(&["search", "逾期不予受理", "--config", cfg]));
    assert!(
        table.contains("«逾期不予受理»") && table.contains("6 found"),
        "{table}"
    );

    // a new version of each, by a full crawl while the service is down:
    // the old text is found only among every version
    assert!(service.stop().success());
    bureau.edition.store(2, std::sync::atomic::Ordering::SeqCst);
    common::ok(&run(&["crawl", "--config", cfg, "--full"]));
    let service = Service::start(&config, &store, "127.0.0.1:0");
    assert_eq!(search(&service, "\"第2版实施细则\"", "")["total"], 6);
    assert_eq!(search(&service, "\"第1版实施细则\"", "")["total"], 0);
    let all = search(&service, "\"第1版实施细则\"", "&versions=all");
    assert_eq!(all["total"], 6, "{all}");
    assert!(
        all["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["version"] == 1 && h["latest"] == false)
    );

    // bad queries and parameters are 400s that say why, never 500s
    // 10,000 characters (ASCII: the URL of 10,000 CJK characters, 90 KB,
    // is over what the HTTP server takes in a request line)
    let long = "x".repeat(10_000);
    for (query, extra) in [
        ("\"惠企政策", ""),
        (long.as_str(), ""),
        ("，。！", ""),
        ("惠企\u{7}政策", ""),
        ("惠企 OR", ""),
        ("-惠企", ""),
        ("惠企", "&from=2024-02-30x"),
        ("惠企", "&cursor=zz"),
        ("惠企", "&versions=some"),
        ("惠企", "&limit=0"),
    ] {
        let path = format!("/api/v1/search?q={}{extra}", urlencode(query));
        let (status, body, _) = service.get(&path, false);
        assert_eq!(status, 400, "{query:.20}{extra}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    let (status, _, _) = service.get("/api/v1/search", false);
    assert_eq!(status, 400);
    // and through the CLI, a one-line error
    let bad = run(&["search", "\"惠企政策", "--config", cfg]);
    assert_eq!(bad.status.code(), Some(2));
    let why = String::from_utf8_lossy(&bad.stderr);
    assert!(
        why.contains("quote") && why.trim().lines().count() == 1,
        "{why}"
    );
    assert!(service.stop().success());
}

/// The name and nice value of each of a process's threads (Linux: /proc).
fn thread_nices(pid: u32) -> Vec<(String, i64)> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.unwrap().path().join("stat")).ok())
        // the command name is in parentheses, the fields follow it
        .filter_map(|stat| {
            let (head, rest) = stat.rsplit_once(')')?;
            let name = head.split_once('(')?.1.to_owned();
            let nice = rest.split_whitespace().nth(16)?.parse().ok()?;
            Some((name, nice))
        })
        .collect()
}

/// Every page with a version, as the store holds them.
fn stored_pages(store: &Store) -> usize {
    store
        .pages()
        .filter(|p| p.as_ref().unwrap().versions > 0)
        .count()
}

#[test]
fn a_service_killed_mid_crawl_loses_nothing_from_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(60, 0);
    let config = config(dir.path(), addr, Some("every 1h"));
    let store_dir = dir.path().join("store");
    let mut service = Service::start(&config, &store_dir, "127.0.0.1:0");
    // twenty documents stored and searchable: an index commit makes the
    // store durable first, so these survive the kill
    bureau.allow(20);
    wait_until("twenty documents searchable", || {
        let answer = service.api("/api/v1/search?q=%E6%94%BF%E7%AD%96%E5%85%91%E7%8E%B0");
        (answer["total"] == 20).then_some(())
    });
    // the kill lands while the crawl stores more and the index follows
    bureau.allow(60);
    wait_until("thirty documents stored", || {
        let changes = service.api("/api/v1/changes?limit=1000");
        (changes["changes"].as_array().unwrap().len() >= 30).then_some(())
    });
    service.child.kill().unwrap();
    service.child.wait().unwrap();
    drop(service);
    let store = Store::open(&store_dir).unwrap();
    let stored = stored_pages(&store);
    assert!(stored >= 20, "{stored}");
    drop(store);
    // the CLI opens the index, catches up from its last commit, and finds
    // every stored version exactly once
    let out = common::ok(&run(&[
        "search",
        "政策兑现",
        "--store",
        store_dir.to_str().unwrap(),
        "--format",
        "json",
        "--limit",
        "100",
    ]));
    assert_eq!(out.lines().count(), stored, "{out}");
    let urls: std::collections::BTreeSet<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["url"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(urls.len(), stored, "no version twice");
}

#[test]
fn crawl_and_ingest_leave_the_index_caught_up_and_reindex_rebuilds_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_bureau, addr) = Bureau::new(8, 8);
    let config = config(dir.path(), addr, None);
    let cfg = config.to_str().unwrap();
    let store_dir = dir.path().join("store");
    let caught_up = || {
        let store = Store::open(&store_dir).unwrap();
        let search = Search::open(&store).unwrap();
        let equal = search.indexed() == store.last_change().unwrap();
        drop(search);
        store.close().unwrap();
        equal
    };
    common::ok(&run(&["crawl", "--config", cfg]));
    assert!(caught_up(), "the crawl left the index behind");
    // a saved page ingested with its URL
    let case = &common::cases()[0];
    common::ok(&run(&[
        "ingest",
        "--store",
        store_dir.to_str().unwrap(),
        "--url",
        &case.url,
        case.html_path().to_str().unwrap(),
    ]));
    assert!(caught_up(), "the ingest left the index behind");

    let ask = |q: &str| {
        common::ok(&run(&[
            "search",
            q,
            "--config",
            cfg,
            "--format",
            "json",
            "--versions",
            "all",
        ]))
    };
    let queries = ["政策兑现", "逾期不予受理", "区商务局"];
    let before: Vec<String> = queries.iter().map(|q| ask(q)).collect();
    assert_eq!(before[0].lines().count(), 8);
    let out = run(&["reindex", "--config", cfg]);
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("indexed 9 versions"), "{said}");
    for (q, before) in queries.iter().zip(&before) {
        assert_eq!(&ask(q), before, "{q}");
    }
}
