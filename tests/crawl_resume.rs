//! Kill `govsnap crawl` (the real binary) with SIGKILL mid-crawl, run it
//! again: it continues where it stopped — every document stored exactly once,
//! and what was already stored not fetched again (beyond the flush window).
//! Also: SIGTERM finishes the pages in flight and exits with 130.

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use axum::response::Html;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const DOCS: usize = 300;

type Hits = Arc<Mutex<HashMap<String, u32>>>;

async fn serve(State(hits): State<Hits>, uri: Uri) -> Html<String> {
    let path = uri.path().to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
    // a little latency, as a real server has, so a kill lands mid-crawl
    tokio::time::sleep(Duration::from_millis(5)).await;
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
    let hits: Hits = Arc::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let state = Arc::clone(&hits);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, Router::new().fallback(serve).with_state(state))
                .await
                .unwrap();
        });
    });
    (hits, rx.recv().unwrap())
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
    while doc_hits(&hits) < 120 {
        std::thread::sleep(Duration::from_millis(5));
    }
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
    // flight and those since sled's last flush (64 pages, 500 ms)
    let refetched = doc_hits(&hits) - DOCS as u32;
    assert!(refetched <= 64 + 8, "{refetched} documents fetched twice");
}

#[test]
fn sigterm_finishes_pages_in_flight_and_exits_130() {
    let (hits, addr) = server();
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), addr);
    let child = crawl_cmd(&config).stdout(Stdio::piped()).spawn().unwrap();
    while doc_hits(&hits) < 50 {
        std::thread::sleep(Duration::from_millis(5));
    }
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
