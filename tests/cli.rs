//! The real `govsnap` binary: `extract` on files, stdin, bad input and configs.

mod common;

use common::govsnap;

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn fixture(path: &str) -> String {
    common::fixtures_dir()
        .join(path)
        .to_string_lossy()
        .into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const SEED: &str = "tht/seed-rule-of-law-report.html";
const SEED_URL: &str = "http://www.tht.gov.cn/gk/zdlyxxgk/202103/t20210330_5391243.html";

#[test]
fn one_file_prints_one_json_document() {
    let out = govsnap(&["extract", "--url", SEED_URL, &fixture(SEED)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["schema"], 1);
    assert_eq!(record["url"], SEED_URL);
    assert_eq!(record["title"], "天津滨海高新区2020年法治政府建设报告");
    assert!(record.get("file").is_none());
    let keys: Vec<&str> = record
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = [
        "schema",
        "url",
        "title",
        "published",
        "source",
        "meta",
        "attachments",
        "sections",
        "text",
        "warnings",
    ];
    want.sort_unstable();
    let mut got = keys.clone();
    got.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn several_files_print_json_lines_in_order_with_their_file() {
    let files = [
        fixture(SEED),
        fixture("gov-cn/ministry-govcn-style.html"),
        fixture("jinghai/old-table-layout-gbk.html"),
    ];
    let out = govsnap(&["extract", &files[0], &files[1], &files[2]]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (line, file) in lines.iter().zip(&files) {
        assert_eq!(line["file"], file.as_str());
        // without --url a saved page is known by its file URL
        assert!(
            line["url"].as_str().unwrap().starts_with("file:///"),
            "{}",
            line["url"]
        );
    }
    assert_eq!(
        lines[1]["title"],
        "国务院办公厅关于加快发展保障性租赁住房的意见"
    );
    assert_eq!(lines[2]["published"], "2021-09-03");
}

#[test]
fn stdin_is_read_with_a_dash() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(["extract", "--url", SEED_URL, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let bytes = std::fs::read(fixture(SEED)).unwrap();
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["published"], "2021-03-30");
}

#[test]
fn bad_inputs_get_one_line_errors_and_the_rest_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, b"").unwrap();
    let pdf = dir.path().join("report.html");
    std::fs::write(&pdf, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n").unwrap();
    let missing = dir.path().join("missing.html");
    let seed = fixture(SEED);
    let args: Vec<String> = ["extract".to_owned()]
        .into_iter()
        .chain(
            [&empty, &pdf, &missing]
                .iter()
                .map(|p| p.to_string_lossy().into_owned()),
        )
        .chain([seed])
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = govsnap(&args);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].contains("empty.html") && lines[0].contains("empty"),
        "{err}"
    );
    assert!(
        lines[1].contains("missing.html") && lines[1].contains("cannot read"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    let records: Vec<Value> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2, "the good files are still extracted");
    // a PDF cut short is an attachment's record that says it is unreadable
    // (SPEC §11), whatever its name
    assert_eq!(records[0]["kind"], "attachment");
    assert_eq!(records[0]["format"], "pdf");
    assert_eq!(records[0]["text"], "");
    assert!(!records[0]["warnings"].as_array().unwrap().is_empty());
}

#[test]
fn a_page_without_text_is_a_record_with_a_warning() {
    let out = govsnap(&["extract", &fixture("county-edu/image-only-scan.html")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["text"], "");
    assert_eq!(record["warnings"][0], "no document text found on the page");
}

#[test]
fn site_rules_from_the_config_apply_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sites.toml");
    std::fs::write(
        &config,
        r#"
[[site]]
name = "tht-gk"
allow = ["^http://www\\.tht\\.gov\\.cn/gk/"]
content = "div.TRS_Editor"
title = "div.xl-title h2"
drop = ["div.TRS_Editor p:first-child"]
"#,
    )
    .unwrap();
    let config = config.to_string_lossy().into_owned();
    let with_rules = govsnap(&[
        "extract",
        "--config",
        &config,
        "--url",
        SEED_URL,
        &fixture(SEED),
    ]);
    assert!(with_rules.status.success(), "{}", stderr(&with_rules));
    let r: Value = serde_json::from_slice(&with_rules.stdout).unwrap();
    let text = r["text"].as_str().unwrap();
    assert!(
        text.starts_with("一、2020年滨海高新区法治政府建设成效"),
        "drop rule removed the preamble: {text:.40}"
    );
    // the content rule keeps only the editor: 来源 (outside it) is not read as body
    assert!(text.ends_with("塑造滨海高新区法治服务品牌。"));

    let other_site = govsnap(&[
        "extract",
        "--config",
        &config,
        "--url",
        "http://www.example.gov.cn/a.html",
        &fixture(SEED),
    ]);
    let r: Value = serde_json::from_slice(&other_site.stdout).unwrap();
    assert!(
        r["text"].as_str().unwrap().starts_with("2020年,滨海高新区"),
        "rules apply only to their site"
    );
}

#[test]
fn invalid_config_is_refused_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[[site]]\nname = \"x\"\ncontent = \"div[\"\n").unwrap();
    let out = govsnap(&[
        "extract",
        "--config",
        &config.to_string_lossy(),
        "--url",
        SEED_URL,
        &fixture(SEED),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("bad.toml") && err.contains("site[0].content"),
        "{err}"
    );
}

#[test]
fn url_goes_with_one_file_only() {
    let out = govsnap(&["extract", "--url", SEED_URL, &fixture(SEED), &fixture(SEED)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("single FILE"));
}

#[test]
fn text_and_markdown_for_people() {
    let text = govsnap(&["extract", "--format", "text", &fixture(SEED)]);
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with(
        "天津滨海高新区2020年法治政府建设报告\n发布日期：2021-03-30\n来源：天津高新区"
    ));
    let md = govsnap(&["extract", "--format", "markdown", &fixture(SEED)]);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.starts_with("# 天津滨海高新区2020年法治政府建设报告"));
    // numbers keep the delimiter the document printed
    assert!(
        md.contains("\n## 一、2020年滨海高新区法治政府建设成效\n"),
        "{md}"
    );
    assert!(
        md.contains("\n### 1、依法开展疫情防控,用法治手段助力夺取“双胜利”\n"),
        "{md}"
    );
    assert!(Path::new(&fixture(SEED)).exists());
}

#[test]
fn crawl_refuses_a_bad_config_before_fetching() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("crawl.toml");
    std::fs::write(&config, "[[site]]\nname = \"x\"\nseeds = [\"not a url\"]\n").unwrap();
    let out = govsnap(&[
        "crawl",
        "--config",
        &config.to_string_lossy(),
        "--store",
        &dir.path().join("s").to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("crawl.toml") && err.contains("site[0].seeds"),
        "{err}"
    );
    assert!(!dir.path().join("s").exists(), "nothing written");
}

/// Every kind of config error names the file, the line and the key, in
/// words a person can act on.
#[test]
fn config_errors_name_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let good = "store = \"snapshots/store\"\n[crawl]\nper_host_delay_ms = 500\n\n[[site]]\nname = \"tht-gk\"\nseeds = [\"http://www.tht.gov.cn/gk/\"]\n";
    let cases: [(&str, String, &[&str]); 4] = [
        (
            "wrong type",
            format!("{good}max_depth = \"four\"\n"),
            &["line 8", "site[0].max_depth", "expected"],
        ),
        (
            "syntax",
            good.replace("per_host_delay_ms = 500", "per_host_delay_ms = 8x"),
            &["line 3", "crawl.per_host_delay_ms"],
        ),
        (
            "bad selector",
            format!("{good}content = \"div..TRS_Editor\"\n"),
            &[
                "line 8",
                "site[0].content",
                "a `.` must be followed by a class name",
            ],
        ),
        (
            "unknown key",
            format!("{good}colour = \"red\"\n"),
            &["line 8", "colour"],
        ),
    ];
    for (what, text, wanted) in cases {
        let config = dir.path().join("sites.toml");
        std::fs::write(&config, text).unwrap();
        let out = govsnap(&["crawl", "--config", &config.to_string_lossy()]);
        assert_eq!(out.status.code(), Some(2), "{what}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{what}: {err}");
        assert!(err.contains("sites.toml"), "{what}: {err}");
        for w in wanted {
            assert!(err.contains(w), "{what}: {w:?} not in {err}");
        }
        assert!(!err.contains("report this"), "{what}: {err}");
    }
    // --site with a name the config does not have lists the names it has
    let config = dir.path().join("sites.toml");
    std::fs::write(&config, good).unwrap();
    let out = govsnap(&[
        "crawl",
        "--config",
        &config.to_string_lossy(),
        "--site",
        "nosuch",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("sites.toml") && err.contains("\"nosuch\"") && err.contains("tht-gk"),
        "{err}"
    );
}
