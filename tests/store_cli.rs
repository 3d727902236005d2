//! The store through the real binary: `ingest` (a saved page and a `wget -r`
//! mirror), `pages`, `history`, `show`, `diff`, `export`, and the one-writer
//! lock.

mod common;

use common::{govsnap, ok};

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Lay the fixture corpus out as `wget -r` would: `DIR/HOST/PATH`.
fn mirror(dir: &Path) -> Vec<String> {
    let mut urls = Vec::new();
    for case in common::cases() {
        let url = url::Url::parse(&case.url).unwrap();
        if url.scheme() != "http" || url.query().is_some() {
            continue;
        }
        let file = dir
            .join(url.host_str().unwrap())
            .join(url.path().trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, case.bytes()).unwrap();
        urls.push(url.to_string());
    }
    urls
}

#[test]
fn ingest_versions_history_show_diff_export() {
    let tmp = tempfile::tempdir().unwrap();
    let (site, store) = (tmp.path().join("mirror"), tmp.path().join("store"));
    let urls = mirror(&site);
    let n = urls.len();
    assert!(n >= 10);
    let store = store.to_str().unwrap();
    let site_dir = site.to_str().unwrap();

    let first: Value = serde_json::from_str(&ok(&govsnap(&[
        "ingest", "--store", store, "--format", "json", site_dir,
    ])))
    .unwrap();
    assert_eq!(
        (first["pages_read"].as_u64(), first["new_versions"].as_u64()),
        (Some(n as u64), Some(n as u64))
    );
    // the same pages again: nothing doubled
    let again: Value = serde_json::from_str(&ok(&govsnap(&[
        "ingest", "--store", store, "--format", "json", site_dir,
    ])))
    .unwrap();
    assert_eq!(
        (again["new_versions"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(n as u64))
    );

    // one page changes in its body, another only in its boilerplate
    let seed = "http://www.tht.gov.cn/gk/zdlyxxgk/202103/t20210330_5391243.html";
    let seed_file = site.join("www.tht.gov.cn/gk/zdlyxxgk/202103/t20210330_5391243.html");
    let html = std::fs::read_to_string(&seed_file).unwrap();
    std::fs::write(
        &seed_file,
        html.replace("全年受理行政复议案件6件", "全年受理行政复议案件7件"),
    )
    .unwrap();
    let town = site.join("www.mmz.gov.cn/zfxxgk/ndbg/202101/t20210128_101.html");
    let mut bytes = std::fs::read(&town).unwrap();
    let at = bytes.windows(6).position(|w| w == b"</body").unwrap();
    bytes.splice(
        at..at,
        b"<div class=\"footer\">visits 1024</div>".iter().copied(),
    );
    std::fs::write(&town, bytes).unwrap();
    let third: Value = serde_json::from_str(&ok(&govsnap(&[
        "ingest", "--store", store, "--format", "json", site_dir,
    ])))
    .unwrap();
    assert_eq!(
        (third["new_versions"].as_u64(), third["unchanged"].as_u64()),
        (Some(1), Some(n as u64 - 1))
    );

    let pages = json_lines(&ok(&govsnap(&[
        "pages", "--store", store, "--format", "json",
    ])));
    assert_eq!(pages.len(), n);
    let seed_page = pages.iter().find(|p| p["url"] == seed).unwrap();
    assert_eq!(
        (seed_page["versions"].as_u64(), seed_page["state"].as_str()),
        (Some(2), Some("live"))
    );
    assert_eq!(seed_page["last_status"], 200);
    assert!(seed_page["last_fetched"].as_str().unwrap().ends_with('Z'));

    let history = json_lines(&ok(&govsnap(&[
        "history", "--store", store, "--format", "json", seed,
    ])));
    assert_eq!(history.len(), 2);
    assert!(history.iter().all(|e| e["kind"] == "version" && e["title"] == "天津滨海高新区2020年法治政府建设报告"));
    assert_ne!(history[0]["content_hash"], history[1]["content_hash"]);
    assert!(history[0]["fetched_at"].as_str() < history[1]["fetched_at"].as_str());

    let v1: Value = serde_json::from_str(&ok(&govsnap(&[
        "show",
        "--store",
        store,
        "--version",
        "1",
        seed,
    ])))
    .unwrap();
    assert!(
        v1["text"]
            .as_str()
            .unwrap()
            .contains("全年受理行政复议案件6件")
    );
    let latest = ok(&govsnap(&[
        "show", "--store", store, "--format", "markdown", seed,
    ]));
    assert!(latest.starts_with("# 天津滨海高新区2020年法治政府建设报告") && latest.contains("7件"));

    // by default the changed characters are marked inside their paragraph
    let diff = ok(&govsnap(&["diff", "--store", store, seed]));
    assert!(
        diff.contains(&format!("--- {seed} v1")) && diff.contains(&format!("+++ {seed} v2")),
        "{diff}"
    );
    assert!(diff.contains("全年受理行政复议案件[-6-]{+7+}件"), "{diff}");
    assert!(!diff.contains('\x1b'), "no colour into a pipe: {diff}");
    // the unified diff, for tools
    let unified = ok(&govsnap(&[
        "diff", "--store", store, "--format", "unified", seed,
    ]));
    assert!(
        unified
            .lines()
            .any(|l| l.starts_with('-') && l.contains("6件")),
        "{unified}"
    );
    assert!(
        unified
            .lines()
            .any(|l| l.starts_with('+') && l.contains("7件")),
        "{unified}"
    );

    let export = json_lines(&ok(&govsnap(&[
        "export", "--store", store, "--format", "jsonl",
    ])));
    assert_eq!(export.len(), n + 1);
    assert!(export.iter().all(|r| r["url"].is_string()
        && r["version"].is_u64()
        && r["fetched_at"].is_string()
        && r["schema"] == 1));
    let future = ok(&govsnap(&[
        "export",
        "--store",
        store,
        "--since",
        "2999-01-01",
    ]));
    assert!(future.is_empty());
}

#[test]
fn a_single_saved_page_with_its_url() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let case = common::cases()
        .into_iter()
        .find(|c| c.path.contains("ministry-govcn"))
        .unwrap();
    let out = ok(&govsnap(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        "--url",
        &case.url,
        case.html_path().to_str().unwrap(),
    ]));
    assert!(out.contains("new versions: 1"), "{out}");
    let shown: Value = serde_json::from_str(&ok(&govsnap(&[
        "show",
        "--store",
        store.to_str().unwrap(),
        &case.url,
    ])))
    .unwrap();
    assert_eq!(shown["meta"]["发文字号"], "国办发〔2021〕22号");
}

#[test]
fn a_second_process_is_told_the_store_is_in_use() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("store");
    let held = govsnap::Store::open(&path).unwrap();
    let started = Instant::now();
    let out = govsnap(&["pages", "--store", path.to_str().unwrap()]);
    assert!(started.elapsed() < Duration::from_secs(10), "no hang");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("in use by another govsnap process") && err.contains(path.to_str().unwrap()),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    drop(held);
    assert!(
        govsnap(&["pages", "--store", path.to_str().unwrap()])
            .status
            .success()
    );
}

#[test]
fn unknown_pages_and_versions_are_one_line_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    let store = store.to_str().unwrap();
    let page = common::fixtures_dir().join("tht/seed-rule-of-law-report.html");
    ok(&govsnap(&[
        "ingest",
        "--store",
        store,
        "--url",
        "http://www.tht.gov.cn/gk/t20210330_1.html",
        page.to_str().unwrap(),
    ]));
    let out = govsnap(&["history", "--store", store, "http://nowhere.gov.cn/a.html"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1);
    assert!(err.contains("has no page"), "{err}");
}

#[test]
fn https_mirrors_sites_from_the_config_and_changed_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let (site, store, config) = (
        tmp.path().join("mirror"),
        tmp.path().join("store"),
        tmp.path().join("sites.toml"),
    );
    let case = common::cases()
        .into_iter()
        .find(|c| c.path.contains("xxgk-notice-meta-table"))
        .unwrap();
    let page = site.join("www.tj.gov.cn/zwgk/szfwj/t20210412_5413256.html");
    std::fs::create_dir_all(page.parent().unwrap()).unwrap();
    std::fs::write(&page, case.bytes()).unwrap();
    std::fs::write(
        site.join("www.tj.gov.cn/zwgk/szfwj/logo.png"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .unwrap();
    std::fs::write(
        &config,
        "[[site]]\nname = \"tj-gov\"\nallow = [\"^https://www\\\\.tj\\\\.gov\\\\.cn/\"]\n",
    )
    .unwrap();
    let (store, site_dir, config) = (
        store.to_str().unwrap(),
        site.to_str().unwrap(),
        config.to_str().unwrap(),
    );

    let summary: Value = serde_json::from_str(&ok(&govsnap(&[
        "ingest", "--store", store, "--scheme", "https", "--config", config, "--format", "json",
        site_dir,
    ])))
    .unwrap();
    assert_eq!(
        (
            summary["new_versions"].as_u64(),
            summary["skipped"].as_u64()
        ),
        (Some(1), Some(1)),
        "{summary}"
    );
    let url = "https://www.tj.gov.cn/zwgk/szfwj/t20210412_5413256.html";
    let pages = json_lines(&ok(&govsnap(&[
        "pages", "--store", store, "--site", "tj-gov", "--format", "json",
    ])));
    assert_eq!(pages.len(), 1);
    assert_eq!(
        (pages[0]["url"].as_str(), pages[0]["site"].as_str()),
        (Some(url), Some("tj-gov"))
    );
    // a site the store does not have is named, with the ones it has
    let out = govsnap(&[
        "pages", "--store", store, "--site", "other", "--format", "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"other\"") && err.contains("tj-gov"), "{err}");
    // with the config, its `store` is used and its sites are known
    let out = govsnap(&["pages", "--config", config, "--site", "other"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("sites.toml") && err.contains("tj-gov"),
        "{err}"
    );

    // the document number changes in the metadata table
    let html = String::from_utf8(case.bytes())
        .unwrap()
        .replace("津政办发〔2021〕9号</td>", "津政办发〔2021〕10号</td>");
    std::fs::write(&page, html).unwrap();
    ok(&govsnap(&[
        "ingest", "--store", store, "--scheme", "https", "--config", config, site_dir,
    ]));
    let diff = ok(&govsnap(&[
        "diff", "--store", store, "--from", "1", "--to", "2", url,
    ]));
    assert!(
        diff.starts_with("~ meta.发文字号: 津政办发〔2021〕9号 → 津政办发〔2021〕10号\n"),
        "{diff}"
    );
    let all = json_lines(&ok(&govsnap(&[
        "export",
        "--store",
        store,
        "--since",
        "2000-01-01",
    ])));
    assert_eq!(
        all.iter()
            .map(|r| r["version"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
}

/// `govsnap stats`: every tree of a store that holds a mirror, its entries
/// as the store has them, and the bytes adding up.
#[test]
fn stats_shows_where_the_bytes_go() {
    let tmp = tempfile::tempdir().unwrap();
    let (site, store) = (tmp.path().join("mirror"), tmp.path().join("store"));
    let n = mirror(&site).len() as u64;
    let store = store.to_str().unwrap();
    ok(&govsnap(&[
        "ingest",
        "--store",
        store,
        site.to_str().unwrap(),
    ]));
    let stats: Value = serde_json::from_str(&ok(&govsnap(&[
        "stats", "--store", store, "--format", "json",
    ])))
    .unwrap();
    let tree = |name: &str| {
        stats["trees"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["tree"] == name)
            .unwrap_or_else(|| panic!("no {name}: {stats}"))
            .clone()
    };
    for name in ["versions", "pages", "history", "changes"] {
        assert_eq!(tree(name)["entries"].as_u64(), Some(n), "{name}: {stats}");
    }
    assert!(tree("raw")["value_bytes"].as_u64().unwrap() > 0);
    let sum: u64 = stats["trees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["key_bytes"].as_u64().unwrap() + t["value_bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(stats["data_bytes"].as_u64(), Some(sum));
    let disk = stats["disk_bytes"].as_u64().unwrap();
    assert!(disk >= sum, "{stats}");
    // the search index, rebuilt from the versions, is counted apart
    let index = stats["index_bytes"].as_u64().unwrap();
    assert!(index > 0, "{stats}");
    assert_eq!(
        stats["sled_overhead_bytes"].as_u64(),
        Some(disk - sum - index)
    );
    let table = ok(&govsnap(&["stats", "--store", store]));
    assert!(table.lines().any(|l| l.starts_with("raw ")), "{table}");
    assert!(table.contains("on disk"), "{table}");
    assert!(table.contains("search index"), "{table}");
}
