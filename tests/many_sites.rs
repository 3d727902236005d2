//! Many sites in one crawl, side by side: each host keeps its own pace
//! (its delay, or robots.txt's Crawl-delay when larger), a host that two
//! sites share is one host, small sites are not starved by a big one, and a
//! kill -9 in the middle costs at most the last ~2 s of fetching.
//!
//! Real servers on loopback, one port per host, recording when each request
//! arrived.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use govsnap::crawl::crawl;
use govsnap::{Config, Store};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a commit may take on a loaded machine, beyond the 2 s interval.
const COMMIT_TOLERANCE: Duration = Duration::from_secs(2);

/// How much earlier than the client started it a server may see a request
/// arrive after the previous one (scheduling on a loaded machine).
const TIMING_TOLERANCE: Duration = Duration::from_millis(40);

/// One host: its pages, and every request it saw.
#[derive(Clone)]
struct Host {
    docs: usize,
    crawl_delay: Option<u32>,
    seen: Arc<Mutex<Vec<(String, Instant)>>>,
}

async fn serve(State(host): State<Host>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    host.seen
        .lock()
        .unwrap()
        .push((path.clone(), Instant::now()));
    if path == "/robots.txt" {
        return match host.crawl_delay {
            Some(d) => format!("User-agent: *\nCrawl-delay: {d}\n").into_response(),
            None => (StatusCode::NOT_FOUND, "").into_response(),
        };
    }
    // two sites can share this host: each has its own section
    let (section, rest) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("gk", ""));
    if rest == "index.html" {
        let links: String = (0..host.docs)
            .map(|i| format!("<li><a href=\"t20240301_{i}.html\">关于第{i}项工作的通知</a></li>"))
            .collect();
        return Html(format!(
            "<html><head><meta charset=\"utf-8\"><title>通知公告</title></head><body><ul>{links}</ul></body></html>"
        ))
        .into_response();
    }
    Html(format!(
        "<html><head><meta charset=\"utf-8\"><title>{section}{rest}</title></head><body><div class=\"article\">\
         <h1>关于{section}第{rest}项工作的通知</h1><div class=\"content\"><p>各街道、各部门：现将{section}第{rest}项工作的有关事项通知如下，请认真贯彻落实，确保按时完成。</p></div></div></body></html>"
    ))
    .into_response()
}

fn host(docs: usize, crawl_delay: Option<u32>) -> (Host, SocketAddr) {
    let host = Host {
        docs,
        crawl_delay,
        seen: Arc::default(),
    };
    let addr = common::serve_on_thread(Router::new().fallback(serve).with_state(host.clone()));
    (host, addr)
}

fn site(name: &str, addr: SocketAddr, section: &str) -> String {
    format!(
        "[[site]]\nname = \"{name}\"\ntemplate = \"cms\"\nseeds = [\"http://{addr}/{section}/index.html\"]\n\
         allow = [\"^http://{}/{section}/\"]\n",
        addr.to_string().replace('.', "\\\\.")
    )
}

fn config(store: &Path, delay_ms: u64, sites: &[String]) -> String {
    format!(
        "store = \"{}\"\n[crawl]\nuser_agent = \"govsnap-test\"\nconcurrency = 8\nper_host_concurrency = 1\n\
         per_host_delay_ms = {delay_ms}\ntimeout_s = 30\n\
         [[template]]\nname = \"cms\"\ndocuments = [\"/t\\\\d{{8}}_\\\\d+\\\\.html$\"]\ncontent = \"div.content\"\n{}",
        store.display(),
        sites.concat()
    )
}

/// The smallest gap between two requests a host saw.
fn smallest_gap(host: &Host) -> Duration {
    let seen = host.seen.lock().unwrap();
    seen.windows(2)
        .map(|w| w[1].1 - w[0].1)
        .min()
        .unwrap_or(Duration::MAX)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_keep_their_own_pace_and_a_shared_host_is_one_host() {
    // a: robots.txt asks 1 s; b: the config's 300 ms, shared by two sites
    let (a, a_addr) = host(3, Some(1));
    let (b, b_addr) = host(4, None);
    let tmp = tempfile::tempdir().unwrap();
    let text = config(
        &tmp.path().join("store"),
        300,
        &[
            site("slow", a_addr, "gk"),
            site("shared-1", b_addr, "zwgk"),
            site("shared-2", b_addr, "xxgk"),
        ],
    );
    let cfg = Config::parse(&text, Path::new("many.toml")).unwrap();
    let store = Store::open(&cfg.store).unwrap();
    let report = crawl(&cfg, &store, None, std::future::pending())
        .await
        .unwrap();
    for s in &report.sites {
        assert_eq!(s.error, None, "{s:?}");
    }
    let news: Vec<u64> = report.sites.iter().map(|s| s.new_versions).collect();
    assert_eq!(news, [3, 4, 4]);
    assert!(
        smallest_gap(&a) + TIMING_TOLERANCE >= Duration::from_secs(1),
        "{:?}",
        a.seen.lock().unwrap()
    );
    assert!(
        smallest_gap(&b) + TIMING_TOLERANCE >= Duration::from_millis(300),
        "{:?}",
        b.seen.lock().unwrap()
    );
    // robots.txt once per host, whichever sites share it
    let robots = |h: &Host| {
        h.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == "/robots.txt")
            .count()
    };
    assert_eq!((robots(&a), robots(&b)), (1, 1));
    // side by side: b was served while a was, not after it
    let span = |h: &Host| {
        let seen = h.seen.lock().unwrap();
        (seen[0].1, seen[seen.len() - 1].1)
    };
    let ((a_first, a_last), (b_first, b_last)) = (span(&a), span(&b));
    assert!(b_first < a_last && a_first < b_last, "one after the other");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_site_does_not_starve_the_small_ones() {
    let (big, big_addr) = host(150, None);
    let mut small = Vec::new();
    let mut sites = vec![site("big", big_addr, "gk")];
    for i in 0..8 {
        let (h, addr) = host(3, None);
        sites.push(site(&format!("small-{i}"), addr, "gk"));
        small.push(h);
    }
    let tmp = tempfile::tempdir().unwrap();
    let cfg = Config::parse(
        &config(&tmp.path().join("store"), 40, &sites),
        Path::new("many.toml"),
    )
    .unwrap();
    let store = Store::open(&cfg.store).unwrap();
    let report = crawl(&cfg, &store, None, std::future::pending())
        .await
        .unwrap();
    assert_eq!(report.sites[0].new_versions, 150);
    assert!(report.sites[1..].iter().all(|s| s.new_versions == 3));
    // when the last small site was done, the big one had most of its
    // pages still to fetch
    let last_small = small
        .iter()
        .filter_map(|h| h.seen.lock().unwrap().last().map(|(_, t)| *t))
        .max()
        .unwrap();
    let big_seen = big.seen.lock().unwrap();
    let big_before = big_seen.iter().filter(|(_, t)| *t <= last_small).count();
    assert!(
        big_before < big_seen.len() / 2,
        "the big site had {big_before} of {} pages when the small ones finished",
        big_seen.len()
    );
}

/// Three district sites of `docs` documents each, each on its own host at
/// `delay_ms`, in one config; and a way to run the binary on it.
struct Districts {
    hosts: Vec<(Host, SocketAddr)>,
    tmp: tempfile::TempDir,
}

impl Districts {
    fn new(docs: usize, delay_ms: u64) -> Self {
        let hosts: Vec<(Host, SocketAddr)> = (0..3).map(|_| host(docs, None)).collect();
        let tmp = tempfile::tempdir().unwrap();
        let sites: Vec<String> = hosts
            .iter()
            .enumerate()
            .map(|(i, (_, addr))| site(&format!("district-{i}"), *addr, "gk"))
            .collect();
        std::fs::write(
            tmp.path().join("many.toml"),
            config(&tmp.path().join("store"), delay_ms, &sites),
        )
        .unwrap();
        Self { hosts, tmp }
    }

    /// `govsnap crawl --format json` on the three sites, stdout piped.
    fn crawl(&self) -> std::process::Child {
        Command::new(env!("CARGO_BIN_EXE_govsnap"))
            .args(["crawl", "--format", "json", "--config"])
            .arg(self.tmp.path().join("many.toml"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Requests the three hosts have seen.
    fn requests(&self) -> usize {
        self.hosts
            .iter()
            .map(|(h, _)| h.seen.lock().unwrap().len())
            .sum()
    }

    /// Wait (two minutes at most) until the hosts have seen `n` requests.
    fn wait_for(&self, n: usize) {
        let waited = Instant::now();
        while self.requests() < n && waited.elapsed() < Duration::from_secs(120) {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn store(&self) -> Store {
        Store::open(&self.tmp.path().join("store")).unwrap()
    }
}

/// kill -9 a crawl of three sites in the middle, run it again: every
/// document is stored once, and none fetched again that was fetched more
/// than the commit interval (2 s) before the kill, give or take
/// [`COMMIT_TOLERANCE`] for the commit itself on a loaded machine.
#[test]
fn a_killed_multi_site_crawl_resumes_losing_at_most_the_last_seconds() {
    // 150 ms per host: a polite crawl that fills no 64-document batch in 2 s
    let d = Districts::new(40, 150);
    let mut child = d.crawl();
    // kill once most of the sites was fetched (about 5 s in: without the 2 s
    // commits, pages fetched 5 s before the kill would be fetched again)
    d.wait_for(105);
    child.kill().unwrap();
    child.wait().unwrap();
    let killed = Instant::now();
    assert!(d.requests() < 3 * 42, "the kill landed before the end");
    let before: Vec<Vec<(String, Instant)>> = d
        .hosts
        .iter()
        .map(|(h, _)| h.seen.lock().unwrap().clone())
        .collect();
    let out = d.crawl().wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let store = d.store();
    assert_eq!(store.pages().count(), 3 * 40);
    for page in store.pages() {
        assert_eq!(page.unwrap().versions, 1);
    }
    for ((h, _), before) in d.hosts.iter().zip(&before) {
        let seen = h.seen.lock().unwrap();
        let after = &seen[before.len()..];
        for (path, _) in after.iter().filter(|(p, _)| p.contains("/t2024")) {
            if let Some((_, first)) = before.iter().find(|(p, _)| p == path) {
                let age = killed - *first;
                assert!(
                    age < Duration::from_secs(2) + COMMIT_TOLERANCE,
                    "{path} fetched {age:?} before the kill, and again after it"
                );
            }
        }
    }
}

/// SIGTERM in the middle of a crawl of three sites: every site finishes
/// what it has in flight and says it was interrupted, the exit status is
/// 130, every page fetched is stored, and the next run completes each site.
#[test]
fn sigterm_stops_every_site_and_the_next_run_completes_them() {
    let d = Districts::new(30, 100);
    let child = d.crawl();
    d.wait_for(30);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let summaries: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(summaries.len(), 3);
    let stored_first: u64 = summaries
        .iter()
        .map(|s| {
            assert_eq!(s["stopped"], "interrupted", "{s}");
            s["new_versions"].as_u64().unwrap()
        })
        .sum();
    assert!(stored_first < 90, "stopped before the end");
    assert_eq!(
        d.store().pages().count() as u64,
        stored_first,
        "every page fetched kept"
    );
    let out = d.crawl().wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let store = d.store();
    assert_eq!(store.pages().count(), 3 * 30);
    for page in store.pages() {
        assert_eq!(page.unwrap().versions, 1);
    }
}
