//! Kill `govsnap crawl` (the real binary) with SIGKILL mid-crawl, run it
//! again: it continues where it stopped — every document stored exactly once,
//! and what was already stored not fetched again (beyond the flush window).
//! Also: SIGTERM finishes the pages in flight and exits with 130; a second
//! one stops at once, the store still consistent; a terminal gets a
//! progress bar.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Html;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DOCS: usize = 600;

type Hits = Arc<Mutex<HashMap<String, u32>>>;

#[derive(Clone, Default)]
struct Site {
    hits: Hits,
    /// Milliseconds each answer takes.
    latency: Arc<AtomicU64>,
}

async fn serve(State(site): State<Site>, uri: Uri) -> Html<String> {
    let path = uri.path().to_owned();
    *site.hits.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
    // latency, as a real server has, so a kill lands mid-crawl
    let ms = site.latency.load(Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(ms)).await;
    if path == "/gk/index.html" {
        let links: String = (0..DOCS)
            .map(|i| format!("<li><a href=\"t20240101_{i}.html\">通知{i}</a></li>"))
            .collect();
        return Html(format!("<html><body><ul>{links}</ul></body></html>"));
    }
    Html(format!(
        "<html><head><title>关于第{p}号事项的通知</title></head><body><div class=\"article\"><h1>关于第{p}号事项的通知</h1>\
         <div class=\"content\"><p>各街道、各部门：现就第{p}号事项通知如下，请认真贯彻执行，确保各项任务按时完成。</p></div></div></body></html>",
        p = path
            .trim_start_matches("/gk/t20240101_")
            .trim_end_matches(".html")
    ))
}

fn server() -> (Hits, SocketAddr) {
    let (site, addr) = slow_server();
    (site.hits, addr)
}

fn slow_server() -> (Site, SocketAddr) {
    let site = Site::default();
    site.latency.store(5, Ordering::Relaxed);
    let addr = common::serve_on_thread(Router::new().fallback(serve).with_state(site.clone()));
    (site, addr)
}

fn write_config(dir: &Path, addr: SocketAddr) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        format!(
            "store = \"{store}\"\n[crawl]\nconcurrency = 8\nper_host_concurrency = 8\nper_host_delay_ms = 0\nrespect_robots = false\n\
             [[site]]\nname = \"resume\"\nseeds = [\"http://{addr}/gk/index.html\"]\nallow = [\"^http://{addr}/gk/\"]\n\
             documents = [\"/t\\\\d{{8}}_\\\\d+\\\\.html$\"]\n",
            store = dir.join("store").display()
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn crawl_cmd(config: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_govsnap"));
    cmd.args(["crawl", "--config", config, "--format", "json"])
        .stderr(Stdio::null());
    cmd
}

/// Wait until the server has served `n` documents.
fn wait_for_docs(hits: &Hits, n: u32) {
    while doc_hits(hits) < n {
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn doc_hits(hits: &Hits) -> u32 {
    hits.lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/gk/t"))
        .map(|(_, n)| n)
        .sum()
}

#[test]
fn killed_crawl_resumes_without_refetching_what_it_stored() {
    let (hits, addr) = server();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), addr);

    let mut child = crawl_cmd(&config).stdout(Stdio::null()).spawn().unwrap();
    // wait until the crawl is well under way, then kill it outright
    wait_for_docs(&hits, 400);
    child.kill().unwrap();
    child.wait().unwrap();
    let fetched_before = doc_hits(&hits);
    assert!(
        fetched_before < DOCS as u32,
        "killed mid-crawl ({fetched_before} fetched)"
    );

    let out = crawl_cmd(&config).output().unwrap();
    assert!(out.status.success());
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    let stored: Vec<u32> = store.pages().map(|p| p.unwrap().versions).collect();
    assert_eq!(stored.len(), DOCS, "every document stored: {summary}");
    assert!(stored.iter().all(|&v| v == 1), "no document stored twice");
    // what was stored before the kill is not fetched again, save the pages in
    // flight (8), the batch being stored and the one filling (64 each)
    let refetched = doc_hits(&hits) - DOCS as u32;
    assert!(
        refetched <= 2 * 64 + 8,
        "{refetched} of {fetched_before} documents fetched twice"
    );
}

#[test]
fn sigterm_finishes_pages_in_flight_and_exits_130() {
    let (hits, addr) = server();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), addr);
    let child = crawl_cmd(&config).stdout(Stdio::piped()).spawn().unwrap();
    wait_for_docs(&hits, 50);
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        summary["new_versions"].as_u64().unwrap() < DOCS as u64,
        "{summary}"
    );
    // every page fetched was stored: in-flight pages were finished, not dropped
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    assert_eq!(
        store.pages().count() as u64,
        summary["new_versions"].as_u64().unwrap()
    );
}

fn signal(child: &std::process::Child, name: &str) {
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn a_second_signal_stops_at_once_and_the_store_stays_consistent() {
    let (site, addr) = slow_server();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), addr);
    let mut child = crawl_cmd(&config).stdout(Stdio::null()).spawn().unwrap();
    wait_for_docs(&site.hits, 100);
    // the pages now in flight take 30 s: the first signal waits for them
    site.latency.store(30_000, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "-INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first signal waits for the pages in flight"
    );
    let second = Instant::now();
    signal(&child, "-INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        second.elapsed() < Duration::from_secs(5),
        "stopped {:?} after the second signal",
        second.elapsed()
    );
    // whatever was stored is whole: page state, version, history, raw bytes
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    let pages: Vec<_> = store.pages().map(Result::unwrap).collect();
    assert!(!pages.is_empty());
    for page in &pages {
        assert_eq!(page.versions, 1, "{}", page.url);
        let latest = store.latest(&page.url).unwrap().expect("its version");
        assert!(store.raw(&latest).unwrap().is_some(), "{}", page.url);
        assert_eq!(store.history(&page.url).unwrap().len(), 1);
    }
}

/// With a terminal on stderr (`script` gives it one), the crawl draws its
/// progress: sites done, crawling and waiting, pages done, queued,
/// errors and the rate.
#[test]
fn a_terminal_gets_a_progress_bar() {
    let (site, addr) = slow_server();
    site.latency.store(20, Ordering::Relaxed);
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), addr);
    let command = format!(
        "{} crawl --config {config} > {}",
        env!("CARGO_BIN_EXE_govsnap"),
        tmp.path().join("summary.txt").display()
    );
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script(1), from util-linux");
    assert!(out.status.success(), "{out:?}");
    let terminal = String::from_utf8_lossy(&out.stdout);
    assert!(
        terminal.contains("sites: ") && terminal.contains(" queued, ") && terminal.contains("/s"),
        "{terminal}"
    );
    // the rate is a whole number of pages per second ("467/s", not
    // "467.0263/s")
    let rate = regex::Regex::new(r"\((\d[\d,.]*)/s\)").unwrap();
    let rates: Vec<&str> = rate
        .captures_iter(&terminal)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert!(!rates.is_empty(), "{terminal}");
    assert!(rates.iter().all(|r| !r.contains('.')), "{rates:?}");
    // the summary table on stdout, not mixed with the bar
    let summary = std::fs::read_to_string(tmp.path().join("summary.txt")).unwrap();
    assert!(summary.starts_with("SITE"), "{summary}");
    assert!(summary.contains("resume"), "{summary}");
}
