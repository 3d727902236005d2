//! New documents first, and revisits by schedule (SPEC §8, "Order and
//! revisits"), through the real binary against a real server that records
//! the order of its requests: new articles come right after the list page
//! that revealed them, before any revisit; documents not due are left out
//! and `--full` overrides; intervals double and reset; `max_crawl_time`
//! stops a crawl and the next one continues it; a kill in the middle of a
//! revisit resumes in order.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Html;
use govsnap::Store;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Site {
    /// Articles listed, newest first as a TRS list shows them.
    articles: Vec<u32>,
    /// Articles whose text changed.
    edited: Vec<u32>,
    /// Every request, in order.
    seen: Vec<String>,
}

type Shared = Arc<Mutex<Site>>;

async fn serve(State(site): State<Shared>, uri: Uri) -> Html<String> {
    let path = uri.path().to_owned();
    let mut site = site.lock().unwrap();
    site.seen.push(path.clone());
    if path == "/gk/index.html" {
        let links: String = site
            .articles
            .iter()
            .rev()
            .map(|i| format!("<li><a href=\"t20240301_{i}.html\">关于第{i}号事项的通知</a></li>"))
            .collect();
        return Html(format!(
            "<html><head><meta charset=\"utf-8\"><title>通知公告</title></head><body><ul>{links}</ul></body></html>"
        ));
    }
    let n: u32 = path
        .trim_start_matches("/gk/t20240301_")
        .trim_end_matches(".html")
        .parse()
        .unwrap_or(0);
    let edit = if site.edited.contains(&n) {
        "（修订）"
    } else {
        ""
    };
    Html(format!(
        "<html><head><meta charset=\"utf-8\"><title>关于第{n}号事项的通知</title></head><body><div class=\"article\">\
         <h1>关于第{n}号事项的通知</h1><div class=\"content\"><p>各街道、各部门：现将第{n}号事项{edit}通知如下，请认真贯彻执行，确保按时完成。</p></div></div></body></html>"
    ))
}

fn server(articles: u32) -> (Shared, std::net::SocketAddr) {
    let site: Shared = Arc::default();
    site.lock().unwrap().articles = (0..articles).collect();
    let addr = common::serve_on_thread(Router::new().fallback(serve).with_state(Arc::clone(&site)));
    (site, addr)
}

/// A config for the server: one request at a time, `delay_ms` apart.
fn config(dir: &Path, addr: std::net::SocketAddr, delay_ms: u64, extra: &str) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        format!(
            "store = \"{}\"\n[crawl]\nuser_agent = \"govsnap-test\"\nper_host_concurrency = 1\nper_host_delay_ms = {delay_ms}\n\
             respect_robots = false\n[[site]]\nname = \"gk\"\nseeds = [\"http://{addr}/gk/index.html\"]\n\
             documents = [\"/t\\\\d{{8}}_\\\\d+\\\\.html$\"]\ncontent = \"div.content\"\n{extra}",
            dir.join("store").display()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

fn crawl(config: &str, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(["crawl", "--config", config, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    summary(&out)
}

fn summary(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn taken(site: &Shared) -> Vec<String> {
    std::mem::take(&mut site.lock().unwrap().seen)
}

fn article(path: &str) -> bool {
    path.starts_with("/gk/t2024")
}

#[test]
fn new_articles_come_right_after_the_list_page_before_any_revisit() {
    let (site, addr) = server(30);
    let tmp = tempfile::tempdir().unwrap();
    let config = config(tmp.path(), addr, 0, "");
    assert_eq!(crawl(&config, &[])["new_versions"], 30);
    taken(&site);
    site.lock().unwrap().articles.extend([30, 31, 32]);

    let s = crawl(&config, &["--full"]);
    assert_eq!(
        (s["new_versions"].as_u64(), s["revisited"].as_u64()),
        (Some(3), Some(30)),
        "{s}"
    );
    let seen = taken(&site);
    assert_eq!(seen[0], "/gk/index.html", "{seen:?}");
    let mut new: Vec<&str> = seen[1..4].iter().map(String::as_str).collect();
    new.sort_unstable();
    assert_eq!(
        new,
        [
            "/gk/t20240301_30.html",
            "/gk/t20240301_31.html",
            "/gk/t20240301_32.html"
        ],
        "{seen:?}"
    );
    assert_eq!(seen.len(), 34);
}

#[test]
fn documents_not_due_are_left_out_and_intervals_double_then_reset() {
    let (site, addr) = server(5);
    let tmp = tempfile::tempdir().unwrap();
    let config = config(
        tmp.path(),
        addr,
        0,
        "revisit_min = \"1h\"\nrevisit_max = \"3h\"\n",
    );
    crawl(&config, &[]);
    taken(&site);
    let interval = |n: u32| {
        let store = Store::open(&tmp.path().join("store")).unwrap();
        store
            .frontier_entry("gk", &format!("http://{addr}/gk/t20240301_{n}.html"))
            .unwrap()
            .unwrap()
            .interval_s
    };
    assert_eq!(interval(0), Some(3600));

    // nothing due an hour from now: only the list page is fetched
    let s = crawl(&config, &[]);
    assert_eq!(
        (
            s["due"].as_u64(),
            s["deferred"].as_u64(),
            s["revisited"].as_u64()
        ),
        (Some(0), Some(5), Some(0)),
        "{s}"
    );
    assert_eq!(taken(&site), ["/gk/index.html"]);

    // --full: all of them; unchanged, their intervals double, up to 3 h
    let s = crawl(&config, &["--full"]);
    assert_eq!(
        (
            s["due"].as_u64(),
            s["revisited"].as_u64(),
            s["unchanged"].as_u64()
        ),
        (Some(5), Some(5), Some(5)),
        "{s}"
    );
    assert_eq!(taken(&site).iter().filter(|p| article(p)).count(), 5);
    assert_eq!(interval(0), Some(7200));
    crawl(&config, &["--full"]);
    assert_eq!(interval(0), Some(3 * 3600), "capped at revisit_max");

    // a change: back to revisit_min
    site.lock().unwrap().edited.push(0);
    let s = crawl(&config, &["--full"]);
    assert_eq!(s["new_versions"], 1, "{s}");
    assert_eq!((interval(0), interval(1)), (Some(3600), Some(3 * 3600)));

    // `pages` says when each document is next due
    let out = Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(["pages", "--config", &config, "--format", "json"])
        .output()
        .unwrap();
    let pages: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pages.len(), 5);
    assert!(
        pages
            .iter()
            .all(|p| p["next_due"].as_str().is_some_and(|d| d.ends_with('Z'))),
        "{pages:?}"
    );
}

#[test]
fn max_crawl_time_stops_a_crawl_and_the_next_continues_it() {
    let (site, addr) = server(24);
    let tmp = tempfile::tempdir().unwrap();
    // 250 ms a request: 25 requests take over 6 s, and a crawl stops at 2 s
    let config = config(tmp.path(), addr, 250, "max_crawl_time = \"2s\"\n");
    let mut crawls = 0;
    let mut stored = 0;
    while stored < 24 {
        crawls += 1;
        assert!(crawls <= 10, "no progress");
        let s = crawl(&config, &[]);
        // a crawl that continues an unfinished one counts what it did too
        stored = s["new_versions"].as_u64().unwrap();
        if stored < 24 {
            assert_eq!(s["stopped"], "max_crawl_time", "{s}");
        }
    }
    assert!(crawls >= 3, "{crawls} crawls");
    // the list page on every crawl; every article once
    let seen = taken(&site);
    assert_eq!(
        seen.iter().filter(|p| *p == "/gk/index.html").count(),
        crawls
    );
    let mut articles: Vec<&String> = seen.iter().filter(|p| article(p)).collect();
    let all = articles.len();
    articles.sort();
    articles.dedup();
    assert_eq!((all, articles.len()), (24, 24), "{seen:?}");
}

#[test]
fn a_kill_in_the_middle_of_a_revisit_resumes_in_order() {
    let (site, addr) = server(40);
    let tmp = tempfile::tempdir().unwrap();
    let config = config(tmp.path(), addr, 100, "");
    crawl(&config, &[]);
    taken(&site);

    let mut child = Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(["crawl", "--config", &config, "--full"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while site
        .lock()
        .unwrap()
        .seen
        .iter()
        .filter(|p| article(p))
        .count()
        < 20
        && started.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = taken(&site);
    assert!(
        before.len() < 41,
        "the kill landed before the end: {before:?}"
    );

    // what is left, in the order the store says: most overdue first
    let store = Store::open(&tmp.path().join("store")).unwrap();
    let mut left: Vec<((u8, u64), String)> = (0..40)
        .map(|n| format!("http://{addr}/gk/t20240301_{n}.html"))
        .filter_map(|url| {
            let e = store.frontier_entry("gk", &url).unwrap().unwrap();
            (!e.done).then(|| (e.rank(), url.replace(&format!("http://{addr}"), "")))
        })
        .collect();
    drop(store);
    left.sort();
    let expected: Vec<String> = left.into_iter().map(|(_, p)| p).collect();
    assert!(!expected.is_empty());

    let out = Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(["crawl", "--config", &config, "--format", "json"])
        .output()
        .unwrap();
    summary(&out);
    let after = taken(&site);
    assert_eq!(after[0], "/gk/index.html", "the list page first: {after:?}");
    let resumed: Vec<String> = after.into_iter().filter(|p| article(p)).collect();
    assert_eq!(resumed, expected);
}
