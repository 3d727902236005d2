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
