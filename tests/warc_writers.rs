//! WARCs as other tools write them (SPEC §12, issue 31): the bytes are
//! trusted over the headers, as warcio does. A recorder that stored a body
//! de-chunked and decoded but kept `Transfer-Encoding: chunked` and
//! `Content-Encoding: gzip` (pywb's recorder, node-warc, Webrecorder); a
//! body sent with `Content-Encoding: zstd` (wget 1.25); a malformed
//! `WARC-Date` (ClueWeb09's `2008-10-294T…`); a page in a `resource`
//! record; a script that is no page; an empty gzip member between
//! records.

mod common;

use common::warc::{gzip, warc_record};
use serde_json::Value;

const HTTP: &str = "application/http; msgtype=response";

fn notice(title: &str, line: &str) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>{title}_某某市人民政府</title></head><body>\
         <div class=\"nav\">首页 &gt; 政务公开 &gt; 通知公告</div><div class=\"article\"><h1>{title}</h1>\
         <div class=\"info\">发布日期：2023-06-12</div><div class=\"content\">\
         <p>各区县人民政府，市政府各部门：</p><p>{line}</p></div></div>\
         <div class=\"footer\">主办：某某市人民政府办公室 冀ICP备05001234号</div></body></html>"
    )
}

fn response(fields: &str, body: &[u8]) -> Vec<u8> {
    let mut block = format!("HTTP/1.1 200 OK\r\n{fields}\r\n").into_bytes();
    block.extend_from_slice(body);
    block
}

#[test]
fn bytes_are_trusted_over_headers_and_no_script_is_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let base = "http://www.example.gov.cn/zwgk/tzgg/";
    // de-chunked and decoded by the recorder, the headers kept
    let recorded = notice(
        "关于做好2023年防汛工作的通知",
        "为切实做好今年防汛工作，确保人民群众生命财产安全，现将有关事项通知如下。",
    );
    let pywb = response(
        "Content-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n",
        recorded.as_bytes(),
    );
    // zstd, as wget 1.25 records it
    let zstd_page = notice(
        "关于开展安全生产大检查的通知",
        "各单位要立即组织开展安全生产大检查，全面排查整治各类风险隐患。",
    );
    let zstd = response(
        "Content-Type: text/html; charset=utf-8\r\nContent-Encoding: zstd\r\n",
        &zstd::encode_all(zstd_page.as_bytes(), 3).unwrap(),
    );
    // a malformed WARC-Date; the response has its HTTP Date
    let dated = response(
        "Date: Mon, 12 Jun 2023 08:30:00 GMT\r\nContent-Type: text/html; charset=utf-8\r\n",
        notice(
            "关于调整城市最低生活保障标准的通知",
            "经市政府同意，自2023年7月1日起调整城市最低生活保障标准。",
        )
        .as_bytes(),
    );
    // a page as Webrecorder's resource record holds it
    let resource = notice(
        "关于公布第二批市级非物质文化遗产名录的通知",
        "现将第二批市级非物质文化遗产代表性项目名录予以公布。",
    );
    // a script, labelled so: no page whatever its text
    let script = response(
        "Content-Type: application/javascript\r\n",
        b"var _hmt = _hmt || []; document.write('<div>\xe6\x94\xbf\xe5\x8a\xa1\xe5\x85\xac\xe5\xbc\x80</div>');",
    );
    let records = [
        warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", &format!("{base}t20230612_1.html")),
                ("WARC-Date", "2023-06-12T08:00:00Z"),
                ("Content-Type", HTTP),
            ],
            &pywb,
        ),
        warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", &format!("{base}t20230612_2.html")),
                ("WARC-Date", "2023-06-12T08:10:00Z"),
                ("Content-Type", HTTP),
            ],
            &zstd,
        ),
        warc_record(
            "WARC/1.0",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", &format!("{base}t20230612_3.html")),
                ("WARC-Date", "2008-10-294T05:21:46-0700"),
                ("Content-Type", HTTP),
            ],
            &dated,
        ),
        warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "resource"),
                ("WARC-Target-URI", &format!("{base}t20230612_4.html")),
                ("WARC-Date", "2023-06-12T08:40:00Z"),
                ("Content-Type", "text/html; charset=utf-8"),
            ],
            resource.as_bytes(),
        ),
        warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", "http://www.example.gov.cn/js/common.js"),
                ("WARC-Date", "2023-06-12T08:50:00Z"),
                ("Content-Type", HTTP),
            ],
            &script,
        ),
    ];
    let mut warc = Vec::new();
    for (i, record) in records.iter().enumerate() {
        warc.extend(gzip(record));
        if i == 1 {
            // an empty gzip member between two records
            warc.extend(gzip(b""));
        }
    }
    let path = dir.path().join("mixed.warc.gz");
    std::fs::write(&path, &warc).unwrap();
    let store = dir.path().join("store");
    let out = common::govsnap(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["new_versions"], 4, "{summary} {stderr}");
    assert_eq!(summary["skipped"], 1, "the script: {summary}");
    assert_eq!(summary["errors"], 0, "{summary} {stderr}");
    // what did not go as the headers said is named, with its offset
    assert!(
        stderr.contains("already de-chunked") && stderr.contains("already decoded"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the HTTP Date is taken instead"),
        "{stderr}"
    );

    let store = govsnap::Store::open(&store).unwrap();
    let latest = |n: u32| {
        store
            .latest(&format!("{base}t20230612_{n}.html"))
            .unwrap()
            .unwrap_or_else(|| panic!("page {n} is not stored"))
    };
    assert_eq!(
        store.raw(&latest(1)).unwrap().unwrap(),
        recorded.as_bytes(),
        "the body as the recorder stored it"
    );
    assert_eq!(
        latest(2).record.title.as_deref(),
        Some("关于开展安全生产大检查的通知")
    );
    assert_eq!(latest(3).fetched_at, "2023-06-12T08:30:00.000Z");
    assert!(
        latest(4)
            .record
            .text
            .contains("非物质文化遗产代表性项目名录")
    );
    assert!(
        store
            .page("http://www.example.gov.cn/js/common.js")
            .unwrap()
            .is_none(),
        "a script is no page"
    );
}
