//! `govsnap serve` (SPEC §9) with the real binary: a schedule fires by
//! itself; readers, over HTTP and through the CLI, get answers while a
//! crawl runs and see its versions appear; a long poll returns when a
//! version is stored; POST needs the token (401/202/409); a bind off
//! loopback needs the token for reads too; malformed requests get 4xx; the
//! CLI answers through the service as it does from the store; SIGTERM mid
//! crawl exits 0 and the restart continues the crawl; the store reads back
//! whole after reads during writes.
//!
//! The test site holds back its documents behind a gate, so that "while a
//! crawl runs" is a state the test controls, not a race it hopes to win.

mod common;

use serde_json::Value;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use common::service::{Bureau, Service, config, request, run, urlencode, wait_until};

#[test]
fn readers_follow_a_running_crawl_and_a_schedule_fires_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(6, 1);
    let config = config(dir.path(), addr, Some("every 2s"));
    let store = dir.path().join("store");
    let service = Service::start(&config, &store, "127.0.0.1:0");
    let cfg = config.to_str().unwrap();

    // never crawled: due at once; the first document arrives, the others wait
    let first = service.api("/api/v1/changes?wait=60");
    let changes = first["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{first}");
    assert_eq!(changes[0]["kind"], "version");
    assert_eq!(changes[0]["site"], "swj");
    assert_eq!(changes[0]["title"], "关于做好第0批惠企政策兑现工作的通知");
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    assert_eq!(service.site()["crawling"], true);

    // the CLI reads through the service while the crawl holds the store
    let pages = common::ok(&run(&["pages", "--config", cfg]));
    assert!(pages.contains("t20241105_0.html"), "{pages}");
    let crawl = run(&["crawl", "--config", cfg]);
    assert_eq!(crawl.status.code(), Some(2));
    let why = String::from_utf8_lossy(&crawl.stderr);
    assert!(
        why.contains("held by govsnap serve") && why.contains("/api/v1/sites/NAME/crawl"),
        "{why}"
    );

    // a second crawl of a running site is refused; without the token, 401
    assert_eq!(service.post("/api/v1/sites/swj/crawl", false), 401);
    assert_eq!(service.post("/api/v1/sites/swj/crawl", true), 409);

    // a long poll from the cursor returns when the next versions are stored
    let poll = {
        let url = format!("{}/api/v1/changes?since={cursor}&wait=60", service.base);
        std::thread::spawn(move || request("GET", &url, None))
    };
    bureau.allow(u32::MAX);
    let (status, more, _) = poll.join().unwrap();
    assert_eq!(status, 200);
    assert!(!more["changes"].as_array().unwrap().is_empty(), "{more}");
    assert_ne!(more["next_cursor"].as_str(), Some(cursor.as_str()));

    // the crawl ends; its record says what it did
    // (its counts may lag the store by a second)
    let done = wait_until("the first crawl to end", || {
        let site = service.site();
        (site["crawling"] == false
            && !site["last_crawl"]["finished"].is_null()
            && site["documents"] == 6)
            .then_some(site)
    });
    assert_eq!(done["schedule"], "every 2s");
    let all = service.api("/api/v1/changes?limit=1000");
    assert_eq!(all["changes"].as_array().unwrap().len(), 6);

    // nobody asks: the schedule starts the next crawl by itself
    let first_start = done["last_crawl"]["started"].clone();
    wait_until("the schedule to fire", || {
        (service.site()["last_crawl"]["started"] != first_start).then_some(())
    });
    wait_until("the seed to be fetched again", || {
        (bureau.hits("/gk/index.html") >= 2).then_some(())
    });
    assert!(service.stop().success(), "SIGTERM exits 0");
}

#[test]
fn sigterm_mid_crawl_exits_0_and_the_restart_continues_the_crawl() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(8, 2);
    let config = config(dir.path(), addr, Some("every 1h"));
    let store = dir.path().join("store");
    let service = Service::start(&config, &store, "127.0.0.1:0");
    wait_until("two documents stored", || {
        let found = service.api("/api/v1/changes?wait=30");
        (found["changes"].as_array()?.len() >= 2).then_some(())
    });
    // readers hammer the store while the crawl writes three more documents
    let stop_reading = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (base, stop) = (service.base.clone(), Arc::clone(&stop_reading));
        let url = format!("http://{addr}/gk/t20241105_0.html");
        std::thread::spawn(move || {
            let mut answers = 0;
            while !stop.load(Ordering::SeqCst) {
                for path in ["/api/v1/sites", "/api/v1/pages?limit=5", "/api/v1/changes"] {
                    assert_eq!(request("GET", &format!("{base}{path}"), None).0, 200);
                }
                let q = format!("/api/v1/record?url={}", urlencode(&url));
                assert_eq!(request("GET", &format!("{base}{q}"), None).0, 200);
                answers += 1;
            }
            answers
        })
    };
    bureau.allow(5);
    wait_until("five documents stored", || {
        let found = service.api("/api/v1/changes?limit=100");
        (found["changes"].as_array()?.len() >= 5).then_some(())
    });
    stop_reading.store(true, Ordering::SeqCst);
    assert!(reader.join().unwrap() > 0);
    // stopped while documents are in flight: they finish once they answer
    service.terminate();
    wait_until("the service to stop accepting", || {
        std::net::TcpStream::connect(service.base.trim_start_matches("http://"))
            .is_err()
            .then_some(())
    });
    bureau.allow(u32::MAX);
    let mut service = service;
    assert!(
        service.exited().success(),
        "exit 0 after finishing the pages in flight"
    );
    drop(service);

    // the crawl was interrupted; the restart takes it up at once
    let interrupted = {
        let s = govsnap::Store::open(&store).unwrap();
        s.crawl_record("swj").unwrap().unwrap()
    };
    assert!(interrupted.unfinished(), "{interrupted:?}");
    let service = Service::start(&config, &store, "127.0.0.1:0");
    wait_until("the continued crawl to end", || {
        let site = service.site();
        (site["crawling"] == false
            && site["last_crawl"]["started"] != interrupted.started.as_str()
            && !site["last_crawl"]["finished"].is_null()
            && site["documents"] == 8)
            .then_some(())
    });
    assert!(service.stop().success());
    for i in 0..8 {
        assert_eq!(
            bureau.hits(&format!("/gk/t20241105_{i}.html")),
            1,
            "document {i} fetched once over both runs"
        );
    }
    // every version reads back whole after the reads during the writes
    let s = govsnap::Store::open(&store).unwrap();
    let mut versions = 0;
    for page in s.pages() {
        let page = page.unwrap();
        for n in 1..=page.versions {
            let v = s
                .version(&page.url, n)
                .unwrap()
                .expect("every version is there");
            assert!(s.raw(&v).unwrap().is_some());
            versions += 1;
        }
    }
    assert_eq!(versions, 8);
    assert_eq!(s.changes(None, 100).unwrap().len(), 8);
}

#[test]
fn off_loopback_every_read_needs_the_token_and_bad_requests_get_4xx() {
    let dir = tempfile::tempdir().unwrap();
    let (_bureau, addr) = Bureau::new(2, 2);
    let config = config(dir.path(), addr, None);
    let store = dir.path().join("store");
    let service = Service::start(&config, &store, "127.0.0.2:0");
    assert_eq!(service.get("/healthz", false).0, 200);
    assert_eq!(service.get("/api/v1/sites", false).0, 401);
    let (status, body, headers) = service.get("/api/v1/changes", false);
    assert_eq!(
        (status, headers["www-authenticate"].as_str()),
        (401, "Bearer")
    );
    assert!(body["error"].as_str().unwrap().contains("Bearer"), "{body}");
    let bad_token = request(
        "GET",
        &format!("{}/api/v1/sites", service.base),
        Some(&"0".repeat(64)),
    );
    assert_eq!(bad_token.0, 401);
    let (status, sites, _) = service.get("/api/v1/sites", true);
    assert_eq!(status, 200);
    assert!(
        sites[0]["next_crawl"].is_null(),
        "no schedule: crawled when asked"
    );
    assert!(sites[0]["last_crawl"].is_null());

    // asked for: 202, and the crawl runs
    assert_eq!(service.post("/api/v1/sites/swj/crawl", false), 401);
    assert_eq!(service.post("/api/v1/sites/nosuch/crawl", true), 404);
    assert_eq!(service.post("/api/v1/sites/swj/crawl", true), 202);
    wait_until("the asked-for crawl to end", || {
        let (_, sites, _) = service.get("/api/v1/sites", true);
        (!sites[0]["last_crawl"]["finished"].is_null()).then_some(())
    });

    let doc = urlencode(&format!("http://{addr}/gk/t20241105_1.html"));
    for (path, want) in [
        ("/api/v1/record?url=not-a-url".to_owned(), 400),
        ("/api/v1/record".to_owned(), 400),
        (format!("/api/v1/record?url={doc}&version=zero"), 400),
        (format!("/api/v1/record?url={doc}&version=0"), 400),
        (format!("/api/v1/record?url={doc}&version=9"), 404),
        (format!("/api/v1/record?url={doc}&format=pdf"), 400),
        (
            "/api/v1/record?url=http%3A%2F%2Fwww.gov.cn%2Fnone.html".to_owned(),
            404,
        ),
        ("/api/v1/changes?since=c12".to_owned(), 400),
        ("/api/v1/changes?limit=-1".to_owned(), 400),
        ("/api/v1/changes?wait=soon".to_owned(), 400),
        ("/api/v1/pages?cursor=%FF%FE".to_owned(), 400),
        ("/api/v1/pages?state=deleted".to_owned(), 400),
        ("/api/v1/export?since=yesterday".to_owned(), 400),
        (format!("/api/v1/diff?url={doc}"), 404),
        ("/api/v2/sites".to_owned(), 404),
    ] {
        let (status, body, _) = service.get(&path, true);
        assert_eq!(status, want, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    // a limit past the cap is capped, not refused
    let (status, pages, _) = service.get("/api/v1/pages?limit=100000", true);
    assert_eq!((status, pages["pages"].as_array().unwrap().len()), (200, 2));

    // the raw page is a sandboxed download, never a page of this origin
    let (status, _, headers) = service.get(&format!("/api/v1/raw?url={doc}"), true);
    assert_eq!(status, 200);
    assert_eq!(headers["content-security-policy"], "sandbox");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers["content-disposition"].starts_with("attachment"));
    assert!(headers["content-type"].starts_with("text/html"));
    let metrics = service.get("/metrics", true).1;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("govsnap_pages_total{site=\"swj\",outcome=\"new_versions\"} 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("govsnap_http_requests_total{status=\"401\"}"),
        "{metrics}"
    );
    assert!(service.stop().success());
}

#[test]
fn the_cli_answers_through_the_service_as_it_does_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(3, 3);
    let config = config(dir.path(), addr, None);
    let store = dir.path().join("store");
    let cfg = config.to_str().unwrap();
    common::ok(&run(&["crawl", "--config", cfg]));
    bureau.edition.store(2, Ordering::SeqCst);
    common::ok(&run(&["crawl", "--config", cfg, "--full"]));
    let doc = format!("http://{addr}/gk/t20241105_2.html");
    let commands: Vec<Vec<&str>> = vec![
        vec!["pages", "--config", cfg],
        vec!["pages", "--config", cfg, "--format", "json"],
        vec!["history", "--config", cfg, &doc],
        vec!["show", "--config", cfg, &doc],
        vec![
            "show",
            "--config",
            cfg,
            "--version",
            "1",
            "--format",
            "text",
            &doc,
        ],
        vec!["diff", "--config", cfg, &doc],
        vec!["diff", "--config", cfg, "--format", "unified", &doc],
        vec!["export", "--config", cfg],
    ];
    let local: Vec<String> = commands.iter().map(|c| common::ok(&run(c))).collect();
    assert!(local[5].contains("{+2+}"), "{}", local[5]);
    let export_lines: Vec<Value> = local[7]
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(export_lines.len(), 6);
    let cursor = export_lines[2]["cursor"].as_str().unwrap().to_owned();
    let since_local = common::ok(&run(&["export", "--config", cfg, "--since", &cursor]));
    assert_eq!(since_local.lines().count(), 3);

    let service = Service::start(&config, &store, "127.0.0.1:0");
    for (command, want) in commands.iter().zip(&local) {
        assert_eq!(
            &common::ok(&run(command)),
            want,
            "{command:?} through the service"
        );
    }
    assert_eq!(
        common::ok(&run(&["export", "--config", cfg, "--since", &cursor])),
        since_local
    );
    // the API's export and diff agree with the CLI's
    let (status, body, headers) = service.get(&format!("/api/v1/export?since={cursor}"), false);
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let body = match body {
        Value::String(s) => s,
        one => format!("{one}\n"),
    };
    assert_eq!(body, since_local);
    let diff = service.api(&format!("/api/v1/diff?url={}", urlencode(&doc)));
    assert_eq!(
        (diff["from"].as_u64(), diff["to"].as_u64()),
        (Some(1), Some(2))
    );
    assert!(diff["text"].as_str().unwrap().contains("+"), "{diff}");
    let missing = run(&["show", "--config", cfg, "http://www.gov.cn/none.html"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("has no page"));
    let saved = common::fixtures_dir().join("tj-gov/xxgk-notice-meta-table.html");
    let ingest = run(&[
        "ingest",
        "--config",
        cfg,
        "--url",
        &doc,
        saved.to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&ingest.stderr).contains("held by govsnap serve"));
    assert!(service.stop().success());

    // a serve.json whose process is gone is ignored
    let dead = Command::new("true").spawn().unwrap();
    let pid = dead.id();
    let mut dead = dead;
    dead.wait().unwrap();
    std::fs::write(
        store.join("serve.json"),
        format!("{{\"address\":\"127.0.0.1:9\",\"pid\":{pid},\"token_file\":\"/nonexistent\"}}"),
    )
    .unwrap();
    assert_eq!(common::ok(&run(&commands[0])), local[0]);
    let again = Service::start(&config, &store, "127.0.0.1:0");
    assert!(again.stop().success());
}

#[test]
fn a_site_down_at_its_crawl_is_tried_again_and_crawled_once_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    // the site's address, with nothing listening there yet: refused
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = config(dir.path(), addr, Some("every 1d"));
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("[crawl]\n", "[crawl]\nretry_unreached = \"1s\"\n");
    std::fs::write(&config, text).unwrap();
    let service = Service::start(&config, &dir.path().join("store"), "127.0.0.1:0");

    // unreached: the row says why and when it is tried again, well before
    // the schedule's next run a day later; no one asks, and it is tried
    // again, the wait doubling
    let at = |v: &Value| humantime::parse_rfc3339(v.as_str().unwrap()).unwrap();
    let first = wait_until("the first crawl to fail", || {
        let site = service.site();
        (site["unreached"] == 1 && !site["crawling"].as_bool().unwrap()).then_some(site)
    });
    assert!(
        first["last_error"].as_str().unwrap().contains("robots.txt"),
        "{first}"
    );
    assert_eq!(first["retry_at"], first["next_crawl"], "{first}");
    let second = wait_until("the site to be tried again", || {
        let site = service.site();
        (site["unreached"] == 2 && !site["crawling"].as_bool().unwrap()).then_some(site)
    });
    assert!(at(&second["retry_at"]) > at(&first["retry_at"]), "{second}");
    let day = std::time::Duration::from_secs(23 * 3600);
    assert!(at(&second["retry_at"]) < std::time::SystemTime::now() + day);
    let home = service.get_bytes("/").1;
    assert!(String::from_utf8_lossy(&home).contains("重试"));

    // the site comes back: the next retry crawls it, and the schedule
    // takes over again
    let (_bureau, back) = common::service::Bureau::at(3, u32::MAX, &addr.to_string());
    assert_eq!(back, addr);
    let crawled = wait_until("the site to be crawled once it is back", || {
        let site = service.site();
        (site["documents"] == 3 && site["last_error"].is_null() && site["crawling"] == false)
            .then_some(site)
    });
    assert_eq!(crawled["unreached"], 0, "{crawled}");
    assert!(crawled["retry_at"].is_null(), "{crawled}");
    assert!(at(&crawled["next_crawl"]) > std::time::SystemTime::now() + day);
    assert!(service.stop().success());
}

#[test]
fn crawl_now_with_full_revisits_every_known_document_from_the_api_and_the_site_page() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(4, u32::MAX);
    let config = config(dir.path(), addr, Some("every 1d"));
    let service = Service::start(&config, &dir.path().join("store"), "127.0.0.1:0");
    let doc = "/gk/t20241105_2.html";
    let ended = |crawls: u32| {
        wait_until("a crawl to end", || {
            let site = service.site();
            (site["documents"] == 4
                && site["crawling"] == false
                && bureau.hits("/gk/index.html") >= crawls)
                .then_some(())
        });
    };
    ended(1);
    assert_eq!(bureau.hits(doc), 1);

    // crawl now: the list page again, its documents not yet due
    assert_eq!(service.post("/api/v1/sites/swj/crawl", true), 202);
    ended(2);
    assert_eq!(
        bureau.hits(doc),
        1,
        "a plain crawl-now revisits nothing due later"
    );

    // full=true: every known document, due or not
    let (status, body) = service.post_with_token("/api/v1/sites/swj/crawl?full=true");
    assert_eq!((status, &body["full"]), (202, &Value::Bool(true)), "{body}");
    ended(3);
    wait_until("every document revisited", || {
        (0..4)
            .all(|i| bureau.hits(&format!("/gk/t20241105_{i}.html")) == 2)
            .then_some(())
    });
    let (status, body) = service.post_with_token("/api/v1/sites/swj/crawl?full=maybe");
    assert_eq!(status, 400, "{body}");

    // the site page's button: a form that carries the token
    let page = String::from_utf8(service.get_bytes("/site/swj").1).unwrap();
    assert!(
        page.contains("action=\"/site/swj/crawl\"") && page.contains("name=\"token\""),
        "{page}"
    );
    let form_url = format!("{}/site/swj/crawl", service.base);
    let (status, _) = common::service::post_form(&form_url, "full=true&token=wrong");
    assert_eq!(status, 401);
    wait_until("the crawl to be free", || {
        (service.site()["crawling"] == false).then_some(())
    });
    let form = format!("full=true&token={}", service.token);
    let (status, page) = common::service::post_form(&form_url, &form);
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("全面检查"), "{page}");
    ended(4);
    wait_until("every document revisited again", || {
        (0..4)
            .all(|i| bureau.hits(&format!("/gk/t20241105_{i}.html")) == 3)
            .then_some(())
    });
    assert!(service.stop().success());
}

#[test]
fn the_feeds_are_atom_that_feedparser_reads_newest_change_first() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(3, u32::MAX);
    let config = config(dir.path(), addr, Some("every 1d"));
    let service = Service::start(&config, &dir.path().join("store"), "127.0.0.1:0");
    let idle = |documents: u64| {
        wait_until("the crawl to end", || {
            let site = service.site();
            (site["documents"] == documents && site["crawling"] == false).then_some(())
        });
    };
    idle(3);
    // every document is edited; a full check finds the new versions
    bureau.edition.store(2, Ordering::SeqCst);
    let (status, _) = service.post_with_token("/api/v1/sites/swj/crawl?full=true");
    assert_eq!(status, 202);
    wait_until("the new versions", || {
        let changes = service.api("/api/v1/changes?limit=100");
        (changes["changes"].as_array().unwrap().len() == 6).then_some(())
    });

    // Python's feedparser, the reference parser, reads both feeds whole
    let read = |path: &str| -> Value {
        let script = "import feedparser, json, sys\n\
            f = feedparser.parse(sys.argv[1])\n\
            print(json.dumps({'bozo': f.bozo, 'error': str(f.get('bozo_exception', '')), \
            'version': f.version, 'title': f.feed.get('title'), 'type': f.headers.get('content-type'), \
            'entries': [{'id': e.id, 'title': e.title, 'link': e.link, 'updated': e.updated, \
            'summary': e.summary} for e in f.entries]}))";
        let out = std::process::Command::new(common::tool("python3"))
            .args(["-c", script, &format!("{}{path}", service.base)])
            .output()
            .unwrap();
        serde_json::from_str(&common::ok(&out)).unwrap()
    };
    for path in ["/changes.atom", "/site/swj/feed.atom"] {
        let feed = read(path);
        assert_eq!(feed["bozo"].as_bool(), Some(false), "{path}: {feed}");
        assert_eq!(feed["version"], "atom10", "{feed}");
        assert!(
            feed["type"]
                .as_str()
                .unwrap()
                .starts_with("application/atom+xml")
        );
        let entries = feed["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 6, "{feed}");
        let newest = &entries[0];
        let title = newest["title"].as_str().unwrap();
        assert!(title.contains("惠企政策兑现"), "{newest}");
        // the link is the page view of that version, absolute once resolved
        let link = newest["link"].as_str().unwrap();
        assert!(
            link.starts_with(&format!("{}/page?url=", service.base))
                && link.ends_with("&version=2"),
            "{link}"
        );
        let (status, page, _) = common::service::get_bytes(link);
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&page).contains(title));
        // what changed first: the paragraph as it now reads
        assert!(
            newest["summary"].as_str().unwrap().contains("第2版"),
            "{newest}"
        );
        // the oldest entries are the first versions, new documents
        assert!(
            entries[5]["summary"]
                .as_str()
                .unwrap()
                .starts_with("新文件")
        );
        let ids: std::collections::HashSet<&str> =
            entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 6, "every entry has an id of its own");
    }
    assert_eq!(
        read("/changes.atom")["entries"],
        read("/site/swj/feed.atom")["entries"]
    );
    let (status, _, _) = service.get("/site/nosuch/feed.atom", false);
    assert_eq!(status, 404);
    // the pages name their feeds, for readers and browsers to find
    let page = String::from_utf8(service.get_bytes("/site/swj").1).unwrap();
    assert!(page.contains("type=\"application/atom+xml\"") && page.contains("/site/swj/feed.atom"));
    assert!(service.stop().success());
}
