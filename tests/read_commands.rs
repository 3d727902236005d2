//! The read commands at their edges, through the real binary: a mistyped
//! `--store` is an error that creates nothing, `--config` lends its store, a
//! reader that closes the pipe early ends every command quietly, `show` says
//! a page is gone, and `ingest --config` stores documents only, as a crawl
//! of the same site would.

mod common;

use common::{govsnap, ok};
use govsnap::Store;
use govsnap::store::Fetch;
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::SystemTime;

const URL: &str = "http://www.example.gov.cn/zwgk/tzgg/t20240301_5501234.html";

/// A long notice (about 150 KB of HTML): its record, its text and a diff of
/// two versions each outgrow a pipe's buffer.
fn long_notice(edition: u32) -> String {
    let paragraphs: String = (1..=400)
        .map(|i| {
            format!(
                "<p>（{i}）第{edition}版：各单位要按照区委、区政府的统一部署，认真落实安全生产责任制，\
                 加强对重点行业领域的监督检查，及时消除各类安全隐患，确保人民群众生命财产安全。</p>"
            )
        })
        .collect();
    format!(
        "<html><head><meta charset=\"utf-8\"><title>关于做好安全生产工作的通知_某某区人民政府</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a> &gt; <a href=\"/zwgk/\">政务公开</a></div>\
         <div class=\"article\"><h1>关于做好安全生产工作的通知</h1><div class=\"info\">发布时间：2024-03-01　来源：区应急管理局</div>\
         <div class=\"content\"><p>各街道、各部门：</p>{paragraphs}</div></div>\
         <div class=\"footer\">主办单位：某某区人民政府　京ICP备12345678号</div></body></html>"
    )
}

fn fetch(bytes: &[u8], status: u16) -> Fetch<'_> {
    Fetch {
        url: URL,
        site: Some("example"),
        fetched_at: SystemTime::now(),
        status,
        bytes,
        content_type: Some("text/html; charset=utf-8"),
        duration_ms: 12,
        etag: None,
        last_modified: None,
        head: None,
        conditional: None,
        tls_invalid: None,
    }
}

/// A store with two versions of the long notice; `gone` marks it removed.
fn store_with_two_versions(dir: &Path, gone: bool) {
    let store = Store::open(dir).unwrap();
    for edition in [1, 2] {
        let html = long_notice(edition);
        govsnap::snapshot(
            &store,
            &fetch(html.as_bytes(), 200),
            None,
            govsnap::ExtractOptions::default(),
        )
        .unwrap();
    }
    if gone {
        assert!(store.mark_gone(&fetch(b"<h1>404</h1>", 404)).unwrap());
    }
    store.flush().unwrap();
}

#[test]
fn read_commands_never_create_a_store() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("snapshots/stroe");
    let m = missing.to_str().unwrap();
    for args in [
        vec!["pages", "--store", m],
        vec!["history", "--store", m, URL],
        vec!["show", "--store", m, URL],
        vec!["diff", "--store", m, URL],
        vec!["export", "--store", m],
        vec!["stats", "--store", m],
    ] {
        let out = govsnap(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("no store at") && err.contains(m), "{err}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            !tmp.path().join("snapshots").exists(),
            "{args:?} created it"
        );
    }
    // --config lends its `store`
    let config = tmp.path().join("site.toml");
    std::fs::write(
        &config,
        format!("store = \"{m}\"\n[[site]]\nname = \"example\"\nseeds = [\"http://www.example.gov.cn/zwgk/\"]\n"),
    )
    .unwrap();
    let out = govsnap(&["pages", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains(m));
    store_with_two_versions(&missing, false);
    let pages = ok(&govsnap(&[
        "pages",
        "--config",
        config.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let page: Value = serde_json::from_str(pages.trim()).unwrap();
    assert_eq!(page["url"], URL);
}

/// `govsnap show URL | head`: every command that writes to stdout ends
/// quietly, status 0, when the reader goes away.
#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    store_with_two_versions(&dir, false);
    let store = dir.to_str().unwrap();
    for args in [
        vec!["show", "--store", store, URL],
        vec!["show", "--store", store, "--format", "text", URL],
        vec!["show", "--store", store, "--format", "markdown", URL],
        vec!["diff", "--store", store, URL],
        vec!["diff", "--store", store, "--format", "unified", URL],
        vec!["export", "--store", store],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_govsnap"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0; 64];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?}: {err}");
    }
}

#[test]
fn show_says_a_page_is_gone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("store");
    store_with_two_versions(&dir, true);
    let out = govsnap(&["show", "--store", dir.to_str().unwrap(), URL]);
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["title"], "关于做好安全生产工作的通知");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is gone") && err.contains("HTTP 404") && err.contains("version 2"),
        "{err}"
    );
}

/// A `wget -r` mirror of a TRS site: the list pages (`index.html`,
/// `index_1.html`) are not documents under the site's `documents`, so only
/// the articles are stored and the list pages are logged as listings.
#[test]
fn ingest_with_a_config_stores_documents_only() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("mirror/www.example.gov.cn/zwgk/tzgg");
    std::fs::create_dir_all(&root).unwrap();
    for (name, page) in [("index.html", 0), ("index_1.html", 1)] {
        let links: String = (0..3)
            .map(|i| format!("<li><a href=\"t2024030{page}_55{i}.html\">关于第{page}{i}项工作的通知</a><span>2024-03-0{page}</span></li>"))
            .collect();
        std::fs::write(
            root.join(name),
            format!("<html><head><meta charset=\"utf-8\"><title>通知公告</title></head><body><div class=\"list\"><ul>{links}</ul></div>\
                     <p>这是第{page}页的通知公告列表，共有多条政务公开信息，按照发布时间倒序排列，欢迎查阅。</p>\
                     <script>createPageHTML(2, {page}, \"index\", \"html\");</script></body></html>"),
        )
        .unwrap();
    }
    std::fs::write(root.join("t20240301_5501234.html"), long_notice(1)).unwrap();
    std::fs::write(root.join("t20240302_5501235.html"), long_notice(2)).unwrap();
    let config = tmp.path().join("site.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\n[[site]]\nname = \"example\"\nseeds = [\"http://www.example.gov.cn/zwgk/tzgg/\"]\n\
             allow = [\"^http://www\\\\.example\\\\.gov\\\\.cn/zwgk/\"]\ndocuments = [\"/t\\\\d{{8}}_\\\\d+\\\\.html$\"]\n",
            tmp.path().join("store").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let summary: Value = serde_json::from_str(&ok(&govsnap(&[
        "ingest",
        "--config",
        config,
        "--format",
        "json",
        tmp.path().join("mirror").to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(summary["new_versions"], 2, "{summary}");
    assert_eq!(summary["listings"], 2, "{summary}");
    let pages = ok(&govsnap(&["pages", "--config", config, "--format", "json"]));
    let urls: Vec<String> = pages
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["url"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert!(urls.iter().all(|u| u.contains("/t2024030")), "{urls:?}");
    let store = Store::open(&tmp.path().join("store")).unwrap();
    let listings = store
        .fetch_log()
        .map(Result::unwrap)
        .filter(|e| e.outcome == "listing")
        .count();
    assert_eq!(listings, 2);
}
