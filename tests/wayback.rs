//! The past from a Wayback server (SPEC §12, issue 31): `govsnap ingest
//! --cdx URL_PREFIX` against a Wayback server on loopback — one answering
//! as the Internet Archive does (the CDX listing a JSON array of arrays,
//! captures at `/web/TIMESTAMPid_/URL`, a 429 with `Retry-After` once),
//! and pywb itself (`wb-manager`, `wayback`) serving two crawls of a site
//! made at different times.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const PAGE: &str = "http://www.example.gov.cn/zwgk/tzgg/t20080301_1.html";

fn notice(line: &str) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>关于做好春季森林防火工作的通知_某某县人民政府</title></head><body>\
         <div class=\"nav\">首页 &gt; 政务公开</div><div class=\"article\"><h1>关于做好春季森林防火工作的通知</h1>\
         <div class=\"info\">发布日期：2008-03-01</div><div class=\"content\"><p>各乡镇人民政府，县直各部门：</p><p>{line}</p></div></div>\
         <div class=\"footer\">主办：某某县人民政府</div></body></html>"
    )
}

/// The Internet Archive, as far as an import sees it.
#[derive(Clone, Default)]
struct Archive {
    /// Each request's path and when it came.
    requests: Arc<Mutex<Vec<(String, Instant)>>>,
    /// The first capture request has been answered 429.
    throttled: Arc<AtomicBool>,
    /// Capture requests for the last capture are held (until the import
    /// is killed).
    hold_last: Arc<AtomicBool>,
}

/// Four captures of one notice: the first, the same bytes a year later
/// (same digest: not fetched), a revision, and a capture of its removal.
fn captures() -> [(&'static str, &'static str, Option<String>, u16); 4] {
    [
        (
            "20080301120000",
            "AAAA",
            Some(notice("请各地切实加强野外火源管理。")),
            200,
        ),
        (
            "20090301120000",
            "AAAA",
            Some(notice("请各地切实加强野外火源管理。")),
            200,
        ),
        (
            "20100301120000",
            "BBBB",
            Some(notice("请各地切实加强野外火源管理，严禁野外用火。")),
            200,
        ),
        ("20110301120000", "CCCC", None, 404),
    ]
}

async fn archive(State(archive): State<Archive>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    archive
        .requests
        .lock()
        .unwrap()
        .push((uri.to_string(), Instant::now()));
    if path == "/cdx/search/cdx" {
        let mut rows = vec![serde_json::json!([
            "urlkey",
            "timestamp",
            "original",
            "mimetype",
            "statuscode",
            "digest",
            "length"
        ])];
        for (ts, digest, _, status) in captures() {
            rows.push(serde_json::json!([
                "cn,gov,example)/zwgk/tzgg/t20080301_1.html",
                ts,
                PAGE,
                "text/html",
                status.to_string(),
                digest,
                "1000"
            ]));
        }
        return (
            [(header::CONTENT_TYPE, "application/json")],
            Value::Array(rows).to_string(),
        )
            .into_response();
    }
    let Some(rest) = path.strip_prefix("/web/") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !archive.throttled.swap(true, Ordering::SeqCst) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response();
    }
    let (stamp, _) = rest.split_once("id_/").unwrap_or((rest, ""));
    if stamp == "20110301120000" && archive.hold_last.load(Ordering::SeqCst) {
        std::future::pending::<()>().await;
    }
    match captures().into_iter().find(|(ts, ..)| *ts == stamp) {
        Some((_, _, Some(body), status)) => (
            StatusCode::from_u16(status).unwrap(),
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response(),
        Some((_, _, None, status)) => StatusCode::from_u16(status).unwrap().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn import_args<'a>(config: &'a str, base: &'a str) -> Vec<String> {
    vec![
        "ingest".into(),
        "--config".into(),
        config.into(),
        "--format".into(),
        "json".into(),
        "--cdx".into(),
        "http://www.example.gov.cn/zwgk/".into(),
        "--cdx-server".into(),
        format!("{base}/cdx/search/cdx"),
        "--replay".into(),
        format!("{base}/web/"),
    ]
}

fn replay_requests(archive: &Archive) -> Vec<String> {
    archive
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/web/"))
        .map(|(p, _)| p.clone())
        .collect()
}

/// Captures become versions at their capture times, oldest first; a
/// capture whose digest is stored is not fetched; a 429 waits its
/// Retry-After; no two requests come closer than `delay_ms`; a killed
/// import continues where it stopped and a second one fetches nothing.
#[test]
fn an_import_stores_each_capture_at_its_time_politely_and_resumes() {
    let state = Archive::default();
    state.hold_last.store(true, Ordering::SeqCst);
    let addr = common::serve_on_thread(Router::new().fallback(archive).with_state(state.clone()));
    let base = format!("http://{addr}");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("gov.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\n[wayback]\ndelay_ms = 300\n",
            dir.path().join("store").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();

    // the first import is killed while the last capture is being fetched
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(import_args(&config, &base))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::service::wait_until("the import to reach the last capture", || {
        replay_requests(&state)
            .iter()
            .any(|p| p.contains("20110301120000"))
            .then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let before_resume = replay_requests(&state);
    assert!(
        !before_resume.iter().any(|p| p.contains("20090301120000")),
        "the second capture has the first's digest: not fetched: {before_resume:?}"
    );
    assert_eq!(
        before_resume
            .iter()
            .filter(|p| p.contains("20080301120000"))
            .count(),
        2,
        "the first capture, asked again after its 429: {before_resume:?}"
    );
    // politeness: a request never within delay_ms of the one before; the
    // 429's Retry-After (1 s) waited
    {
        let requests = state.requests.lock().unwrap();
        for pair in requests.windows(2) {
            let gap = pair[1].1 - pair[0].1;
            assert!(
                gap.as_millis() >= 290,
                "{} then {} after {gap:?}",
                pair[0].0,
                pair[1].0
            );
        }
        let retry = requests[2].1 - requests[1].1;
        assert!(
            retry.as_millis() >= 990,
            "the Retry-After waited: {retry:?}"
        );
    }

    // resumed: only what was not stored is fetched
    state.hold_last.store(false, Ordering::SeqCst);
    let out = common::govsnap(
        &import_args(&config, &base)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(summary["already_imported"], 3, "{summary}");
    let resumed: Vec<String> = replay_requests(&state)[before_resume.len()..].to_vec();
    assert_eq!(resumed.len(), 1, "only the last capture: {resumed:?}");
    assert!(resumed[0].contains("20110301120000"));

    let store = govsnap::Store::open(&dir.path().join("store")).unwrap();
    let events: Vec<(String, Option<u32>, String)> = store
        .history(PAGE)
        .unwrap()
        .into_iter()
        .map(|e| (format!("{:?}", e.kind), e.version, e.fetched_at))
        .collect();
    assert_eq!(
        events,
        [
            (
                "Version".to_owned(),
                Some(1),
                "2008-03-01T12:00:00.000Z".to_owned()
            ),
            (
                "Version".to_owned(),
                Some(2),
                "2010-03-01T12:00:00.000Z".to_owned()
            ),
            (
                "Gone".to_owned(),
                None,
                "2011-03-01T12:00:00.000Z".to_owned()
            ),
        ]
    );
    drop(store);

    // a third import fetches nothing
    let replays = replay_requests(&state).len();
    let out = common::govsnap(
        &import_args(&config, &base)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["already_imported"], 4, "{summary}");
    assert_eq!(summary["new_versions"], 0, "{summary}");
    assert_eq!(
        replay_requests(&state).len(),
        replays,
        "no capture fetched again"
    );
}

/// A county site that changes its notice between two crawls.
#[derive(Clone, Default)]
struct County {
    revised: Arc<AtomicBool>,
}

async fn county(State(site): State<County>, uri: Uri) -> Response {
    let html =
        |body: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    match uri.path() {
        "/zwgk/" => html(
            "<html><head><title>政务公开_某某县人民政府</title></head><body><ul>\
             <li><a href=\"/zwgk/t20080301_1.html\">关于做好春季森林防火工作的通知</a></li></ul></body></html>"
                .to_owned(),
        ),
        "/zwgk/t20080301_1.html" => html(notice(if site.revised.load(Ordering::SeqCst) {
            "请各地切实加强野外火源管理，严禁野外用火。"
        } else {
            "请各地切实加强野外火源管理。"
        })),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// `wget --warc-file` of the county's site into `dir/NAME.warc.gz`.
fn wget(dir: &std::path::Path, addr: std::net::SocketAddr, name: &str) -> std::path::PathBuf {
    let status = std::process::Command::new(common::tool("wget"))
        .current_dir(dir)
        .args(["-q", "-r", "-l", "2", "-np", "--no-proxy", "-P", name])
        .arg(format!("--warc-file={name}"))
        .arg(format!("http://{addr}/zwgk/"))
        .status()
        .unwrap();
    assert!(matches!(status.code(), Some(0 | 8)), "wget: {status}");
    dir.join(format!("{name}.warc.gz"))
}

/// pywb serving two wget crawls of a site, the notice changed between
/// them: its CDX API (one JSON object per line) and its replay give each
/// capture, stored as a version at its capture time, in capture order;
/// a second import fetches nothing.
#[test]
fn an_import_from_pywb_gives_each_crawl_its_version() {
    let site = County::default();
    let addr = common::serve_on_thread(Router::new().fallback(county).with_state(site.clone()));
    let dir = tempfile::tempdir().unwrap();
    let first = wget(dir.path(), addr, "crawl1");
    // the second crawl a second later at least: captures are told apart
    // by their 14-digit times
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    common::service::wait_until("the next second", || {
        (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            > after)
            .then_some(())
    });
    site.revised.store(true, Ordering::SeqCst);
    let second = wget(dir.path(), addr, "crawl2");

    let pywb = dir.path().join("pywb");
    std::fs::create_dir(&pywb).unwrap();
    common::pywb::wb_manager(&pywb, &["init", "county"]);
    common::pywb::wb_manager(
        &pywb,
        &[
            "add",
            "county",
            first.to_str().unwrap(),
            second.to_str().unwrap(),
        ],
    );
    let wayback = common::pywb::Wayback::start(&pywb);

    let config = dir.path().join("county.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\n[wayback]\ndelay_ms = 0\n",
            dir.path().join("store").display()
        ),
    )
    .unwrap();
    let args = [
        "ingest".to_owned(),
        "--config".to_owned(),
        config.to_str().unwrap().to_owned(),
        "--format".to_owned(),
        "json".to_owned(),
        "--cdx".to_owned(),
        format!("http://{addr}/zwgk/"),
        "--cdx-server".to_owned(),
        format!("{}/county/cdx", wayback.base),
        "--replay".to_owned(),
        format!("{}/county/", wayback.base),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = common::govsnap(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["errors"], 0, "{summary}");

    let notice_url = format!("http://{addr}/zwgk/t20080301_1.html");
    let store = govsnap::Store::open(&dir.path().join("store")).unwrap();
    let versions: Vec<(u32, String)> = store
        .history(&notice_url)
        .unwrap()
        .into_iter()
        .filter_map(|e| Some((e.version?, e.fetched_at)))
        .collect();
    assert_eq!(
        versions.len(),
        2,
        "one version per crawl: {versions:?} {summary}"
    );
    assert!(
        versions[0].1 < versions[1].1,
        "in capture order: {versions:?}"
    );
    let latest = store.latest(&notice_url).unwrap().unwrap();
    assert!(latest.record.text.contains("严禁野外用火"));
    let first_version = store.version(&notice_url, 1).unwrap().unwrap();
    assert!(!first_version.record.text.contains("严禁野外用火"));
    drop(store);

    let again: Value = serde_json::from_slice(&common::govsnap(&args).stdout).unwrap();
    assert_eq!(again["new_versions"], 0, "{again}");
    assert_eq!(again["pages_read"], 0, "nothing fetched again: {again}");
}
