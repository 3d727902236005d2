//! WARC in and out. In: `govsnap ingest FILE.warc.gz` on a real WARC,
//! `wget --warc-file` over a government-style site served on loopback,
//! ingests to the same documents as a crawl of the site; a WARC cut in the
//! middle keeps every record before the cut and exits 1 naming the offset;
//! a corrupt record in the middle is skipped and the records after it are
//! kept. Out: `govsnap export --format warc` passes the reference reader
//! (Python's warcio: `check` and `index`), and a round trip (crawl, export,
//! ingest into a new store) gives the same records.

mod common;

use common::service::{Bureau, config, run};
use common::tool;
use common::warc::{gzip, warc_record};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `wget --warc-file` of the bureau's site: the WARC's path.
fn wget_warc(dir: &Path, addr: std::net::SocketAddr) -> PathBuf {
    let status = Command::new(tool("wget"))
        .current_dir(dir)
        .args([
            "-q",
            "-r",
            "-l",
            "inf",
            "-np",
            "--no-proxy",
            "-P",
            "mirror",
            "--warc-file=site",
        ])
        .arg(format!("http://{addr}/gk/index.html"))
        .status()
        .expect("wget runs");
    // wget exits 8 when a link answered 404 (the site's nav links do)
    assert!(matches!(status.code(), Some(0 | 8)), "wget: {status}");
    dir.join("site.warc.gz")
}

/// `govsnap export` of a store: its lines, as JSON.
fn exported(config: &Path, store: &Path) -> Vec<serde_json::Value> {
    let out = common::ok(&run(&[
        "export",
        "--config",
        config.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
    ]));
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The documents of a store: URL → (title, text).
fn documents(config: &Path, store: &Path) -> BTreeMap<String, (String, String)> {
    exported(config, store)
        .into_iter()
        .map(|v| {
            (
                v["url"].as_str().unwrap().to_owned(),
                (
                    v["title"].as_str().unwrap_or("").to_owned(),
                    v["text"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

fn ingest(config: &Path, store: &Path, warc: &Path) -> std::process::Output {
    run(&[
        "ingest",
        "--config",
        config.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        warc.to_str().unwrap(),
    ])
}

#[test]
fn a_wget_warc_ingests_to_the_documents_a_crawl_finds() {
    let dir = tempfile::tempdir().unwrap();
    let (_bureau, addr) = Bureau::new(6, u32::MAX);
    let config = config(dir.path(), addr, None);
    let crawled = dir.path().join("crawled");
    common::ok(&run(&[
        "crawl",
        "--config",
        config.to_str().unwrap(),
        "--store",
        crawled.to_str().unwrap(),
    ]));
    let warc = wget_warc(dir.path(), addr);
    let from_warc = dir.path().join("from-warc");
    let summary: serde_json::Value =
        serde_json::from_str(&common::ok(&ingest(&config, &from_warc, &warc))).unwrap();
    assert_eq!(summary["new_versions"], 6, "{summary}");
    assert_eq!(summary["errors"], 0);
    let want = documents(&config, &crawled);
    assert_eq!(want.len(), 6);
    assert_eq!(documents(&config, &from_warc), want);

    // the capture time is the WARC's, not the time of the ingest
    let history = common::ok(&run(&[
        "history",
        "--store",
        from_warc.to_str().unwrap(),
        "--format",
        "json",
        &format!("http://{addr}/gk/t20241105_0.html"),
    ]));
    let event: serde_json::Value = serde_json::from_str(history.lines().next().unwrap()).unwrap();
    let warc_text =
        String::from_utf8_lossy(&flate2_decode(&std::fs::read(&warc).unwrap())).into_owned();
    let date = &event["fetched_at"].as_str().unwrap()[..19];
    assert!(
        warc_text.contains(&format!("WARC-Date: {date}")),
        "{date} is a WARC-Date of the file"
    );

    // each version keeps the head of its response: as the crawler received
    // it, and as wget recorded it
    for store in [&crawled, &from_warc] {
        let s = govsnap::Store::open(store).unwrap();
        let v = s
            .latest(&format!("http://{addr}/gk/t20241105_0.html"))
            .unwrap()
            .unwrap();
        let head = s.head(&v).unwrap().expect("a head");
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.to_lowercase().contains("\r\ncontent-type: text/html"),
            "{head}"
        );
    }

    // ingested again: every capture is unchanged
    let again: serde_json::Value =
        serde_json::from_str(&common::ok(&ingest(&config, &from_warc, &warc))).unwrap();
    assert_eq!(
        (again["new_versions"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(6))
    );
}

/// Every gzip member of a `.warc.gz`, inflated and joined.
fn flate2_decode(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// Where each gzip member of a `.warc.gz` starts.
fn member_starts(bytes: &[u8]) -> Vec<usize> {
    bytes
        .windows(3)
        .enumerate()
        .filter(|(_, w)| *w == [0x1f, 0x8b, 0x08])
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn a_cut_or_corrupt_warc_keeps_every_record_it_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let (_bureau, addr) = Bureau::new(6, u32::MAX);
    let config = config(dir.path(), addr, None);
    let warc = wget_warc(dir.path(), addr);
    let bytes = std::fs::read(&warc).unwrap();
    let whole = documents_after_ingest(&config, dir.path(), "whole", &bytes).0;
    assert_eq!(whole.len(), 6);

    // cut in the middle of a member two thirds in
    let starts = member_starts(&bytes);
    let cut_at = starts[starts.len() * 2 / 3] + 40;
    let (cut, out) = documents_after_ingest(&config, dir.path(), "cut", &bytes[..cut_at]);
    assert_eq!(out.status.code(), Some(1), "a skipped record makes exit 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("at offset") && stderr.contains("skipped"),
        "{stderr}"
    );
    assert!(
        !cut.is_empty() && cut.len() < whole.len(),
        "{} of {}",
        cut.len(),
        whole.len()
    );
    for (url, doc) in &cut {
        assert_eq!(whole.get(url), Some(doc), "kept whole: {url}");
    }

    // a member in the middle made garbage: it alone is lost
    let mut corrupt = bytes.clone();
    let middle = starts[starts.len() / 2];
    for b in &mut corrupt[middle + 12..middle + 60] {
        *b ^= 0x5a;
    }
    let (kept, out) = documents_after_ingest(&config, dir.path(), "corrupt", &corrupt);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        kept.len() >= whole.len() - 1,
        "{} of {}",
        kept.len(),
        whole.len()
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("at offset {middle}")));
}

/// Ingest `bytes` as a WARC into a new store named `name`; its documents
/// and the command's output.
fn documents_after_ingest(
    config: &Path,
    dir: &Path,
    name: &str,
    bytes: &[u8],
) -> (BTreeMap<String, (String, String)>, std::process::Output) {
    let warc = dir.join(format!("{name}.warc.gz"));
    std::fs::write(&warc, bytes).unwrap();
    let store = dir.join(name);
    let out = ingest(config, &store, &warc);
    (documents(config, &store), out)
}

#[test]
fn an_export_passes_warcio_and_ingests_back_to_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let (bureau, addr) = Bureau::new(4, u32::MAX);
    let config = config(dir.path(), addr, None);
    let cfg = config.to_str().unwrap();
    common::ok(&run(&["crawl", "--config", cfg]));
    bureau.edition.store(2, std::sync::atomic::Ordering::SeqCst);
    common::ok(&run(&["crawl", "--config", cfg, "--full"]));
    let warc = dir.path().join("export.warc.gz");
    let out = run(&[
        "export",
        "--config",
        cfg,
        "--format",
        "warc",
        "-o",
        warc.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.path().join("export.partial").exists());
    // each second version's request asked conditionally, with the ETag the
    // first fetch got; the first fetches asked plainly
    let text = String::from_utf8_lossy(&flate2_decode(&std::fs::read(&warc).unwrap())).into_owned();
    for i in 0..4 {
        assert_eq!(
            text.matches(&format!("If-None-Match: \"{i}-1\"\r\n"))
                .count(),
            1,
            "document {i}"
        );
    }
    assert_eq!(text.matches("If-None-Match").count(), 4);

    let check = Command::new(tool("warcio"))
        .args(["check", "-v"])
        .arg(&warc)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "warcio check: {report}");
    assert_eq!(report.matches("digest pass").count(), 1 + 8 * 3, "{report}");
    let index = Command::new(tool("warcio"))
        .arg("index")
        .arg(&warc)
        .output()
        .unwrap();
    assert!(index.status.success());
    let kinds: Vec<String> = String::from_utf8_lossy(&index.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["warc-type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds[0], "warcinfo");
    for kind in ["response", "request", "metadata"] {
        assert_eq!(
            kinds.iter().filter(|k| *k == kind).count(),
            8,
            "{kind}: {kinds:?}"
        );
    }

    // the round trip: the same records, at the same times
    let again = dir.path().join("again");
    let summary: serde_json::Value =
        serde_json::from_str(&common::ok(&ingest(&config, &again, &warc))).unwrap();
    assert_eq!(
        (summary["new_versions"].as_u64(), summary["errors"].as_u64()),
        (Some(8), Some(0)),
        "{summary}"
    );
    let store = dir.path().join("store");
    assert_eq!(
        export_without_cursors(&config, &again),
        export_without_cursors(&config, &store)
    );
}

/// `govsnap export` of a store, each line without its `cursor` (a place in
/// that store's own feed).
fn export_without_cursors(config: &Path, store: &Path) -> Vec<serde_json::Value> {
    exported(config, store)
        .into_iter()
        .map(|mut v| {
            v.as_object_mut().unwrap().remove("cursor");
            v
        })
        .collect()
}

/// `govsnap ingest` of WARC files into a store without a config: its
/// JSON summary.
fn ingest_into(store: &Path, warcs: &[&Path]) -> serde_json::Value {
    let mut args = vec![
        "ingest",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend(warcs.iter().map(|w| w.to_str().unwrap()));
    serde_json::from_str(&common::ok(&run(&args))).unwrap()
}

#[test]
fn heritrix_and_browsertrix_style_records_ingest() {
    let dir = tempfile::tempdir().unwrap();
    // a GBK notice, sent gzip-compressed in chunks, as an old JSP site does
    let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">\
        <title>关于公布行政许可事项清单的通知_某某县人民政府</title></head><body>\
        <div class=\"nav\">首页 &gt; 政务公开</div><div class=\"article\"><h1>关于公布行政许可事项清单的通知</h1>\
        <div class=\"info\">发布日期：2023-06-12　来源：县政务服务管理办公室</div><div class=\"content\">\
        <p>各乡镇人民政府，县政府各部门：</p><p>一、清单范围</p><p>经县政府同意，现将本县行政许可事项清单予以公布，请遵照执行。</p>\
        </div></div><div class=\"footer\">主办：某某县人民政府 冀ICP备05001234号</div></body></html>";
    let (gbk, _, _) = encoding_rs::GBK.encode(html);
    let compressed = gzip(&gbk);
    let mut body = Vec::new();
    for chunk in compressed.chunks(100) {
        body.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let mut response = b"HTTP/1.1 200 OK\r\nServer: Apache-Coyote/1.1\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n".to_vec();
    response.extend_from_slice(&body);
    let url = "http://www.example.gov.cn/art/2023/6/12/art_1229_5012.html";
    let http = "application/http; msgtype=response";
    let mut warc = Vec::new();
    // Heritrix: WARC/1.0, a DNS record, the request, the response, outlinks
    for record in [
        warc_record(
            "WARC/1.0",
            &[
                ("WARC-Type", "warcinfo"),
                ("WARC-Date", "2023-06-13T02:00:00Z"),
                ("Content-Type", "application/warc-fields"),
            ],
            b"software: Heritrix/3.4.0\r\n",
        ),
        warc_record(
            "WARC/1.0",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", "dns:www.example.gov.cn"),
                ("WARC-Date", "2023-06-13T02:00:01Z"),
                ("Content-Type", "text/dns"),
            ],
            b"20230613020001\nwww.example.gov.cn. 600 IN A 10.0.0.1\n",
        ),
        warc_record(
            "WARC/1.0",
            &[
                ("WARC-Type", "request"),
                ("WARC-Target-URI", url),
                ("WARC-Date", "2023-06-13T02:00:02Z"),
                ("Content-Type", "application/http; msgtype=request"),
            ],
            b"GET /art/2023/6/12/art_1229_5012.html HTTP/1.1\r\n\r\n",
        ),
        warc_record(
            "WARC/1.0",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", url),
                ("WARC-Date", "2023-06-13T02:00:02Z"),
                ("Content-Type", http),
            ],
            &response,
        ),
        warc_record(
            "WARC/1.0",
            &[
                ("WARC-Type", "metadata"),
                ("WARC-Target-URI", url),
                ("WARC-Date", "2023-06-13T02:00:02Z"),
                ("Content-Type", "application/warc-fields"),
            ],
            b"outlink: http://www.example.gov.cn/ L a/@href\r\n",
        ),
        // Browsertrix: WARC/1.1, the same page found unchanged a day later,
        // and an image
        warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "revisit"),
                ("WARC-Target-URI", &format!("<{url}>")),
                ("WARC-Date", "2023-06-14T02:00:02.512Z"),
                (
                    "WARC-Profile",
                    "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
                ),
                ("Content-Type", http),
            ],
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
        ),
        warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "response"),
                (
                    "WARC-Target-URI",
                    "http://www.example.gov.cn/images/logo.png",
                ),
                ("WARC-Date", "2023-06-14T02:00:03Z"),
                ("Content-Type", http),
            ],
            b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n",
        ),
    ] {
        warc.extend(gzip(&record));
    }
    let path = dir.path().join("crawl-20230613.warc.gz");
    std::fs::write(&path, &warc).unwrap();
    let store = dir.path().join("store");
    let summary = ingest_into(&store, &[&path]);
    assert_eq!(summary["new_versions"], 1, "{summary}");
    assert_eq!(summary["unchanged"], 1, "the revisit: {summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    let record: serde_json::Value = serde_json::from_str(&common::ok(&run(&[
        "show",
        "--store",
        store.to_str().unwrap(),
        url,
    ])))
    .unwrap();
    // decoded as its <meta> says (a Tomcat's ISO-8859-1 over GBK bytes is
    // issue 15's first class, not the WARC's)
    assert_eq!(record["title"], "关于公布行政许可事项清单的通知");
    assert_eq!(record["source"], "县政务服务管理办公室");
    let history = common::ok(&run(&[
        "history",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        url,
    ]));
    assert!(
        history.contains("\"fetched_at\":\"2023-06-13T02:00:02.000Z\""),
        "{history}"
    );
    // the revisit is the page's last fetch, unchanged
    let pages = common::ok(&run(&[
        "pages",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let page: serde_json::Value = serde_json::from_str(pages.lines().next().unwrap()).unwrap();
    assert_eq!(page["last_fetched"], "2023-06-14T02:00:02.512Z", "{pages}");
    assert_eq!(pages.lines().count(), 1, "the image is not a page: {pages}");
}

/// A notice as a county site serves it, in one of its editions.
fn notice_response(edition: &str) -> Vec<u8> {
    let html = format!(
        "<html><head><meta charset=\"utf-8\"><title>关于调整城乡居民医保缴费标准的通知_某某县人民政府</title></head><body>\
         <div class=\"nav\">首页 &gt; 政务公开 &gt; 通知公告</div><div class=\"article\"><h1>关于调整城乡居民医保缴费标准的通知</h1>\
         <div class=\"info\">发布日期：2023-05-02　来源：县医疗保障局</div><div class=\"content\">\
         <p>各乡镇人民政府：</p><p>一、缴费标准</p><p>{edition}</p></div></div>\
         <div class=\"footer\">主办：某某县人民政府 冀ICP备05001234号</div></body></html>"
    );
    let mut response =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n".to_vec();
    response.extend_from_slice(html.as_bytes());
    response
}

#[test]
fn captures_go_in_oldest_first_whatever_the_order_of_files_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let url = "http://www.example.gov.cn/art/2023/5/2/art_1229_6001.html";
    let other = "http://www.example.gov.cn/art/2022/1/4/art_1229_5001.html";
    let response = |uri: &str, date: &str, edition: &str| {
        warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", uri),
                ("WARC-Date", date),
                ("Content-Type", "application/http; msgtype=response"),
            ],
            &notice_response(edition),
        )
    };
    // the newer crawl, a gzip member per record, holds an older capture of
    // another page after its own; the older crawl is a plain WARC
    let newer = dir.path().join("crawl-2024.warc.gz");
    let mut bytes = gzip(&response(
        url,
        "2024-03-01T08:00:00Z",
        "2024年个人缴费标准为每人每年400元。",
    ));
    bytes.extend(gzip(&response(
        other,
        "2022-01-05T08:00:00Z",
        "2022年个人缴费标准为每人每年320元。",
    )));
    std::fs::write(&newer, bytes).unwrap();
    let older = dir.path().join("crawl-2023.warc");
    std::fs::write(
        &older,
        response(
            url,
            "2023-05-02T08:00:00Z",
            "2023年个人缴费标准为每人每年380元。",
        ),
    )
    .unwrap();

    let store = dir.path().join("store");
    let summary = ingest_into(&store, &[&newer, &older]);
    assert_eq!(summary["new_versions"], 3, "{summary}");
    let lines = common::ok(&run(&["export", "--store", store.to_str().unwrap()]));
    let versions: Vec<(String, u64, String, bool)> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["url"].as_str().unwrap().to_owned(),
                v["version"].as_u64().unwrap(),
                v["fetched_at"].as_str().unwrap().to_owned(),
                v["text"].as_str().unwrap().contains("2024年"),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (
                other.to_owned(),
                1,
                "2022-01-05T08:00:00.000Z".to_owned(),
                false
            ),
            (
                url.to_owned(),
                1,
                "2023-05-02T08:00:00.000Z".to_owned(),
                false
            ),
            (
                url.to_owned(),
                2,
                "2024-03-01T08:00:00.000Z".to_owned(),
                true
            ),
        ],
        "{lines}"
    );
}
