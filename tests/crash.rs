//! Kill the real binary with SIGKILL in the middle of an ingest, many times,
//! at pseudo-random moments: the store must open every time, hold only whole
//! versions (page state, history, version, raw bytes agree), and a last run
//! must complete it without a single duplicate.
//!
//! A kill waits for the ingest to be writing (the store's file grows), then
//! a pseudo-random moment: a fixed delay from the start landed before the
//! first write on a loaded machine, every time.

mod common;

use govsnap::Store;
use govsnap::store::EventKind;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PAGES: usize = 400;
const KILLS: usize = 12;

/// A mirror of `PAGES` distinct pages made from the fixtures.
fn mirror(dir: &Path) {
    let cases = common::cases();
    for i in 0..PAGES {
        let case = &cases[i % cases.len()];
        let html = String::from_utf8_lossy(&case.bytes()).into_owned();
        // a distinct document per page: a numbered paragraph in the body
        let marker = format!("<p>本页为第{i}号归档测试页面，用于验证写入中断后的恢复。</p></body>");
        let html = html.replacen("</body>", &marker, 1);
        let file = dir.join("www.example.gov.cn").join(format!(
            "gk/{}/t2024{:04}_{i}.html",
            i % 7,
            i % 1000
        ));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, html).unwrap();
    }
}

/// Every page's state agrees with its history, its versions and raw bytes.
fn check_consistent(store: &Store) -> usize {
    let mut pages = 0;
    for page in store.pages() {
        let page = page.expect("page state reads");
        pages += 1;
        let history = store.history(&page.url).unwrap();
        assert_eq!(
            history.len() as u32,
            page.events,
            "{}: history and page disagree",
            page.url
        );
        let versions = history
            .iter()
            .filter(|e| e.kind == EventKind::Version)
            .count() as u32;
        assert_eq!(versions, page.versions, "{}", page.url);
        for n in 1..=page.versions {
            let v = store
                .version(&page.url, n)
                .unwrap()
                .expect("every version stored");
            assert!(
                store.raw(&v).unwrap().is_some(),
                "{} v{n}: raw bytes missing",
                page.url
            );
        }
        assert!(
            store
                .version(&page.url, page.versions + 1)
                .unwrap()
                .is_none()
        );
        let latest = store.latest(&page.url).unwrap().unwrap();
        assert_eq!(Some(latest.content_hash), page.content_hash);
    }
    pages
}

#[test]
fn sigkill_at_any_moment_loses_no_whole_version_and_doubles_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (site, store) = (tmp.path().join("mirror"), tmp.path().join("store"));
    mirror(&site);
    let args = [
        "ingest",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        site.to_str().unwrap(),
    ];
    // a fixed linear congruential sequence: random-looking, repeatable
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut seen = Vec::new();
    for _ in 0..KILLS {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = (seed >> 33) % 150;
        let db = store.join("db");
        let before = std::fs::metadata(&db).map_or(0, |m| m.len());
        let mut child = Command::new(env!("CARGO_BIN_EXE_govsnap"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::fs::metadata(&db).map_or(0, |m| m.len()) <= before
            && started.elapsed() < Duration::from_secs(60)
            && child.try_wait().unwrap().is_none()
        {
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap(); // SIGKILL: no destructor, no flush
        child.wait().unwrap();
        let store = Store::open(&store).expect("the store opens after a kill");
        seen.push(check_consistent(&store));
    }
    assert!(
        seen.iter().any(|&n| n > 0 && n < PAGES),
        "some kill landed mid-ingest: {seen:?}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["pages_read"], PAGES);
    let store = Store::open(&store).unwrap();
    assert_eq!(check_consistent(&store), PAGES);
    for page in store.pages() {
        let page = page.unwrap();
        assert_eq!(page.versions, 1, "{} was stored twice", page.url);
    }
}
