//! A crawl's outcome is never a silent success: a site that cannot be
//! reached (nothing listening, robots.txt answering 503, every seed
//! answering 500) is named on stderr with its URL and cause, has an `error`
//! in its summary, and makes the exit status 3, while a site that was
//! reached exits 0 even with failed pages. Also: the progress figures stay
//! true, a `content` selector that never matched is said once, and logs
//! written to a file carry no colour codes.
//!
//! Real servers (axum on 127.0.0.1, port 0) and the real binary.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use govsnap::crawl::{Progress, crawl_with_progress};
use govsnap::{Config, Store};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const DOCS: usize = 30;

/// How a test server behaves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    /// A small disclosure site: a list page, its documents, one failing page.
    Good,
    /// robots.txt answers 503 (RFC 9309: do not crawl the host now).
    RobotsUnavailable,
    /// No robots.txt (404: no rules), and every page answers 500.
    Failing,
}

type Hits = Arc<Mutex<HashMap<String, u32>>>;

async fn serve(State((behaviour, hits)): State<(Behaviour, Hits)>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
    match (behaviour, path.as_str()) {
        (Behaviour::RobotsUnavailable, "/robots.txt") => {
            (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response()
        }
        (Behaviour::Failing, "/robots.txt") | (Behaviour::Good, "/robots.txt") => {
            (StatusCode::NOT_FOUND, "no robots.txt").into_response()
        }
        (Behaviour::Failing, _) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "数据库连接失败").into_response()
        }
        (_, "/gk/index.html") => {
            let links: String = (0..DOCS)
                .map(|i| {
                    format!("<li><a href=\"t20240301_{i}.html\">关于第{i}批事项的通知</a></li>")
                })
                .collect();
            Html(format!(
                "<html><head><meta charset=\"utf-8\"><title>通知公告_某某区人民政府</title></head><body>\
                 <div class=\"nav\"><a href=\"/\">首页</a></div><ul class=\"list\">{links}\
                 <li><a href=\"broken.html\">系统维护</a></li></ul>\
                 <div class=\"footer\">主办单位：某某区人民政府 京ICP备12345678号</div></body></html>"
            ))
            .into_response()
        }
        (_, "/gk/broken.html") => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        (_, p) => {
            let n = p
                .trim_start_matches("/gk/t20240301_")
                .trim_end_matches(".html");
            Html(format!(
                "<html><head><meta charset=\"utf-8\"><title>关于第{n}批事项的通知_某某区人民政府</title></head><body>\
                 <div class=\"article\"><h1>关于第{n}批事项的通知</h1><div class=\"info\">发布时间：2024-03-01 来源：区政务服务办</div>\
                 <div class=\"content\"><p>各街道、各部门：</p><p>现将第{n}批政务服务事项清单印发给你们，请结合实际认真贯彻执行，确保各项任务按时完成。</p></div></div>\
                 <div class=\"footer\">主办单位：某某区人民政府 京ICP备12345678号</div></body></html>"
            ))
            .into_response()
        }
    }
}

/// A server on its own thread and runtime, so that the binary's tests can
/// use it too.
fn server(behaviour: Behaviour) -> (Hits, SocketAddr) {
    let hits = Hits::default();
    let state = (behaviour, Arc::clone(&hits));
    let addr = common::serve_on_thread(Router::new().fallback(serve).with_state(state));
    (hits, addr)
}

/// A port on which nothing listens.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn site(name: &str, port: u16, content: &str) -> String {
    format!(
        "[[site]]\nname = \"{name}\"\nseeds = [\"http://127.0.0.1:{port}/gk/index.html\"]\n\
         allow = [\"^http://127\\\\.0\\\\.0\\\\.1:{port}/gk/\"]\n\
         documents = [\"/t\\\\d{{8}}_\\\\d+\\\\.html$\"]\ncontent = \"{content}\"\n"
    )
}

fn config_text(store: &Path, sites: &[String]) -> String {
    format!(
        "store = \"{}\"\n[crawl]\nuser_agent = \"govsnap-test (+https://example.org/contact)\"\n\
         per_host_delay_ms = 0\nconcurrency = 8\ntimeout_s = 20\n{}",
        store.display(),
        sites.concat()
    )
}

fn govsnap(args: &[&str], envs: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(args)
        .env_remove("RUST_LOG")
        .envs(envs.iter().copied())
        .output()
        .unwrap()
}

fn summaries(out: &Output) -> HashMap<String, Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["site"].as_str().unwrap().to_owned(), v)
        })
        .collect()
}

#[test]
fn an_unreachable_site_is_named_counted_and_exits_3() {
    let (good_hits, good) = server(Behaviour::Good);
    let (robots_hits, robots) = server(Behaviour::RobotsUnavailable);
    let (_, failing) = server(Behaviour::Failing);
    let down = closed_port();
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("province.toml");
    std::fs::write(
        &config,
        config_text(
            &tmp.path().join("store"),
            &[
                site("served", good.port(), "div.content"),
                site("down", down, "div.content"),
                site("robots-busy", robots.port(), "div.content"),
                site("failing", failing.port(), "div.content"),
            ],
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();

    // the served site alone: reached, one page failed, exit 0
    let out = govsnap(
        &[
            "crawl", "--config", config, "--site", "served", "--format", "json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let s = &summaries(&out)["served"];
    assert_eq!(s["error"], Value::Null, "{s}");
    assert_eq!(s["stopped"], Value::Null, "{s}");
    assert_eq!(s["new_versions"], DOCS, "{s}");
    assert_eq!(s["errors"], 1, "{s}");

    // all four: three cannot be crawled, each named once on stderr
    let out = govsnap(&["crawl", "--config", config, "--format", "json"], &[]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let all = summaries(&out);
    assert_eq!(all.len(), 4);
    assert_eq!(all["served"]["error"], Value::Null);
    let down_error = all["down"]["error"].as_str().unwrap();
    assert!(
        down_error.contains(&format!("127.0.0.1:{down}")) && down_error.contains("refused"),
        "{down_error}"
    );
    let busy = all["robots-busy"]["error"].as_str().unwrap();
    assert!(
        busy.contains("/robots.txt") && busy.contains("503"),
        "{busy}"
    );
    assert_eq!(all["robots-busy"]["skipped_robots"], 0, "not a Disallow");
    let failing_error = all["failing"]["error"].as_str().unwrap();
    assert!(
        failing_error.contains("/gk/index.html") && failing_error.contains("HTTP 500"),
        "{failing_error}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    for name in ["down", "robots-busy", "failing"] {
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with(&format!("govsnap: site {name} could not be crawled: ")))
            .collect();
        assert_eq!(lines.len(), 1, "{name}: {stderr}");
    }
    assert!(!stderr.contains("served could not"), "{stderr}");
    // the host whose robots.txt failed saw nothing else
    let robots_hits = robots_hits.lock().unwrap();
    assert!(
        robots_hits.keys().all(|p| p == "/robots.txt"),
        "{robots_hits:?}"
    );
    assert!(
        good_hits
            .lock()
            .unwrap()
            .contains_key("/gk/t20240301_0.html")
    );

    // the table says so too
    let out = govsnap(&["crawl", "--config", config, "--site", "down"], &[]);
    assert_eq!(out.status.code(), Some(3));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("down") && l.ends_with("unreachable")),
        "{table}"
    );
}

#[test]
fn help_names_the_exit_statuses() {
    let out = govsnap(&["crawl", "--help"], &[]);
    let help = String::from_utf8_lossy(&out.stdout);
    for status in ["0 ", "2 ", "3 ", "130 "] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(status)),
            "{status}: {help}"
        );
    }
    assert!(help.contains("could not be reached"), "{help}");
    // `show` describes its own formats, not `extract`'s several-files rule
    let out = govsnap(&["show", "--help"], &[]);
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("JSON (pretty-printed)"), "{help}");
    assert!(!help.contains("per line"), "{help}");
}

#[test]
fn logs_into_a_file_have_no_colour_and_a_missed_content_selector_is_said_once() {
    let (_, good) = server(Behaviour::Good);
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("site.toml");
    std::fs::write(
        &config,
        config_text(
            &tmp.path().join("store"),
            &[site("served", good.port(), "div.TRS_Editor")],
        ),
    )
    .unwrap();
    // stderr is a pipe here, as when a cron job writes it to a log file
    let out = govsnap(
        &["crawl", "--config", config.to_str().unwrap()],
        &[("RUST_LOG", "info")],
    );
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("INFO"), "logs at RUST_LOG=info: {stderr}");
    assert!(
        !stderr.contains('\x1b'),
        "colour codes in a log file: {stderr}"
    );
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("govsnap: site served:") && l.contains("\"div.TRS_Editor\""))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].contains(&format!("{DOCS} documents")),
        "{}",
        said[0]
    );
}

/// "queued" counts the URLs not yet handed out: on a recrawl, where every
/// URL is known from the start, done and queued together never exceed
/// the site, and queued falls as pages are done (it once stood still until
/// a batch was stored). A recrawl counts every document it checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_stays_true_and_a_recrawl_counts_its_documents() {
    let (_, good) = server(Behaviour::Good);
    let tmp = tempfile::tempdir().unwrap();
    let text = config_text(
        &tmp.path().join("store"),
        &[site("served", good.port(), "div.content")],
    );
    let config = Config::parse(&text, Path::new("site.toml")).unwrap();
    let store = Store::open(&config.store).unwrap();
    let first = govsnap::crawl::crawl(&config, &store, None, std::future::pending())
        .await
        .unwrap();
    assert_eq!(first.sites[0].documents, DOCS as u64);

    let seen: Mutex<Vec<(u64, u64)>> = Mutex::default();
    let record = |p: Progress| seen.lock().unwrap().push((p.done, p.queued));
    // every known document, due or not (they were fetched a moment ago)
    let options = govsnap::crawl::CrawlOptions {
        only: None,
        full: true,
    };
    let second = crawl_with_progress(&config, &store, options, std::future::pending(), &record)
        .await
        .unwrap();
    let s = &second.sites[0];
    // every document checked, whatever it said (here: unchanged)
    assert_eq!(s.documents, DOCS as u64, "{s:?}");
    assert_eq!(s.unchanged, DOCS as u64, "{s:?}");
    // the list page, the documents, the failing page
    let urls = DOCS + 2;
    let seen = seen.into_inner().unwrap();
    // one report per URL, and one when the site ends
    assert_eq!(seen.len(), urls + 1);
    for &(done, queued) in &seen {
        assert!(done + queued <= urls as u64, "{seen:?}");
    }
    assert_eq!(seen.last().unwrap().1, 0, "{seen:?}");
    let halfway = seen[urls / 2].1;
    assert!(
        halfway <= urls as u64 / 2 + 1,
        "queued stood still: {seen:?}"
    );
}
