//! WARCs as other tools write them (SPEC §12, issue 31): the bytes are
//! trusted over the headers, as warcio does. A recorder that stored a body
//! de-chunked and decoded but kept `Transfer-Encoding: chunked` and
//! `Content-Encoding: gzip` (pywb's recorder, node-warc, Webrecorder); a
//! body sent with `Content-Encoding: zstd` (wget 1.25); a malformed
//! `WARC-Date` (ClueWeb09's `2008-10-294T…`); a page in a `resource`
//! record; a script that is no page; an empty gzip member between
//! records; WARC 0.17 and 0.18 version lines. And ARC, plain and gzip per
//! record.

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
            "WARC/0.18",
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
            "WARC/0.17",
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
    let (summary, store, stderr) = ingest_alone(&path);
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

/// An ARC v1 file as the Internet Archive and Heritrix 1 wrote them: the
/// `filedesc://` record, HTTP captures with their heads, a GBK page whose
/// URL line holds the path's raw GBK bytes, the page captured again after
/// it changed, a DNS record and an image; plain, and gzip per record.
fn arc_records() -> Vec<Vec<u8>> {
    let record = |url: &[u8], date: &str, content_type: &str, block: &[u8]| {
        let mut out = url.to_vec();
        out.extend_from_slice(
            format!(" 10.0.0.1 {date} {content_type} {}\n", block.len()).as_bytes(),
        );
        out.extend_from_slice(block);
        out.push(b'\n');
        out
    };
    let gbk_page = |line: &str| {
        let html = format!(
            "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">\
             <title>关于印发政务公开工作要点的通知</title></head><body><table><tr><td class=\"nav\">首页 | 政务公开</td></tr>\
             <tr><td><h1>关于印发政务公开工作要点的通知</h1><p>各县（区）人民政府，市政府各部门：</p><p>{line}</p></td></tr>\
             <tr><td>版权所有：某某市人民政府办公室</td></tr></table></body></html>"
        );
        let mut block =
            b"HTTP/1.0 200 OK\r\nServer: Microsoft-IIS/5.0\r\nContent-Type: text/html\r\n\r\n"
                .to_vec();
        block.extend_from_slice(&encoding_rs::GBK.encode(&html).0);
        block
    };
    let (gbk_path, _, _) = encoding_rs::GBK.encode("通知");
    let mut gbk_url = b"http://www.example.gov.cn/zwgk/".to_vec();
    gbk_url.extend_from_slice(&gbk_path);
    gbk_url.extend_from_slice(b".htm");
    let desc = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n";
    let other = "<html><head><title>某某市人民政府办公室关于调整办公时间的通知</title></head><body>\
        <h1>某某市人民政府办公室关于调整办公时间的通知</h1><p>自2001年5月1日起，市政府机关实行夏季作息时间。</p></body></html>";
    let mut other_block =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n".to_vec();
    other_block.extend_from_slice(other.as_bytes());
    let mut gif = b"HTTP/1.0 200 OK\r\nContent-Type: image/gif\r\n\r\n".to_vec();
    gif.extend_from_slice(
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,",
    );
    vec![
        record(
            b"filedesc://IAH-20010512083000-00000.arc",
            "20010512083000",
            "text/plain",
            desc,
        ),
        record(
            b"dns:www.example.gov.cn",
            "20010512083000",
            "text/dns",
            b"20010512083000\nwww.example.gov.cn.\t600\tIN\tA\t10.0.0.1\n",
        ),
        record(
            &gbk_url,
            "20010512083001",
            "text/html",
            &gbk_page("现将《2001年政务公开工作要点》印发给你们，请认真贯彻落实。"),
        ),
        record(
            b"http://www.example.gov.cn/images/logo.gif",
            "20010512083002",
            "image/gif",
            &gif,
        ),
        record(
            b"http://www.example.gov.cn/zwgk/tz2.htm",
            "20010512083003",
            "text/html",
            &other_block,
        ),
        record(
            &gbk_url,
            "20010601090000",
            "text/html",
            &gbk_page("现将修订后的《2001年政务公开工作要点》印发给你们，请认真贯彻落实。"),
        ),
    ]
}

#[test]
fn arc_files_plain_and_gzip_per_record_ingest_as_captures() {
    let dir = tempfile::tempdir().unwrap();
    let records = arc_records();
    let plain = dir.path().join("IAH-20010512083000-00000.arc");
    std::fs::write(&plain, records.concat()).unwrap();
    let gz = dir.path().join("IAH-20010512083000-00000.arc.gz");
    std::fs::write(
        &gz,
        records.iter().map(|r| gzip(r)).collect::<Vec<_>>().concat(),
    )
    .unwrap();
    let page = "http://www.example.gov.cn/zwgk/%CD%A8%D6%AA.htm";
    for arc in [&plain, &gz] {
        let (summary, store, stderr) = ingest_alone(arc);
        assert_eq!(
            summary["new_versions"],
            3,
            "{}: {summary} {stderr}",
            arc.display()
        );
        assert_eq!(summary["skipped"], 1, "the image: {summary}");
        assert_eq!(
            summary["left_out"], 2,
            "the file's description, the DNS record: {summary}"
        );
        assert_eq!(summary["errors"], 0, "{summary} {stderr}");
        let history: Vec<_> = store
            .history(page)
            .unwrap()
            .into_iter()
            .filter_map(|e| e.version.map(|v| (v, e.fetched_at)))
            .collect();
        assert_eq!(
            history,
            [
                (1, "2001-05-12T08:30:01.000Z".to_owned()),
                (2, "2001-06-01T09:00:00.000Z".to_owned())
            ],
            "{}",
            arc.display()
        );
        let latest = store.latest(page).unwrap().unwrap();
        assert_eq!(
            latest.record.title.as_deref(),
            Some("关于印发政务公开工作要点的通知")
        );
        assert!(
            latest.record.text.contains("修订后的"),
            "{}",
            latest.record.text
        );
        assert!(
            store
                .latest("http://www.example.gov.cn/zwgk/tz2.htm")
                .unwrap()
                .is_some()
        );
    }
}

/// A county site as the real writers meet it: a list page, a notice sent
/// gzip-encoded, one sent zstd-encoded whatever was asked, one sent in
/// chunks and gzip-encoded, a GBK notice, a script and an image.
async fn county(uri: axum::http::Uri) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let page = |title: &str, line: &str| notice(title, line).into_bytes();
    let html = "text/html; charset=utf-8";
    match uri.path() {
        "/zwgk/" => (
            [(header::CONTENT_TYPE, html)],
            "<html><head><title>通知公告</title><script src=\"/js/common.js\"></script></head><body><ul>\
             <li><a href=\"/zwgk/t1.html\">一</a></li><li><a href=\"/zwgk/t2.html\">二</a></li>\
             <li><a href=\"/zwgk/t3.html\">三</a></li><li><a href=\"/zwgk/t4.html\">四</a></li></ul>\
             <img src=\"/images/logo.gif\"></body></html>",
        )
            .into_response(),
        "/zwgk/t1.html" => (
            [(header::CONTENT_TYPE, html), (header::CONTENT_ENCODING, "gzip")],
            gzip(&page("关于开展消防安全检查的通知", "请各单位于本月底前完成消防安全自查。")),
        )
            .into_response(),
        "/zwgk/t2.html" => (
            [(header::CONTENT_TYPE, html), (header::CONTENT_ENCODING, "zstd")],
            zstd::encode_all(
                page("关于调整公交线路的公告", "自下月一日起，12路公交车线路调整。").as_slice(),
                3,
            )
            .unwrap(),
        )
            .into_response(),
        "/zwgk/t3.html" => {
            let body = gzip(&page("关于公布年度预算的通知", "现将本年度部门预算予以公开。"));
            let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
                body.chunks(100).map(|c| Ok(c.to_vec())).collect();
            (
                [(header::CONTENT_TYPE, html), (header::CONTENT_ENCODING, "gzip")],
                axum::body::Body::from_stream(futures_util::stream::iter(chunks)),
            )
                .into_response()
        }
        "/zwgk/t4.html" => (
            [(header::CONTENT_TYPE, "text/html")],
            encoding_rs::GBK
                .encode(
                    &notice("关于做好防汛工作的通知", "各乡镇要落实防汛责任制。")
                        .replace("charset=\"utf-8\"", "charset=\"gbk\""),
                )
                .0
                .into_owned(),
        )
            .into_response(),
        "/js/common.js" => (
            [(header::CONTENT_TYPE, "application/javascript")],
            "document.write('<p>政务公开</p>');",
        )
            .into_response(),
        "/images/logo.gif" => (
            [(header::CONTENT_TYPE, "image/gif")],
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,".to_vec(),
        )
            .into_response(),
        _ => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

/// `govsnap ingest` of `warc` into a new store beside it: the summary,
/// the store, and what ingest said on standard error.
fn ingest_alone(warc: &std::path::Path) -> (Value, govsnap::Store, String) {
    let store = warc.with_extension("store");
    let out = common::govsnap(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "json",
        warc.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{}: {stderr}", warc.display());
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        govsnap::Store::open(&store).unwrap(),
        stderr,
    )
}

/// WARCs that real writers made here, on loopback: `wget --warc-file
/// --compression=auto` (gzip, zstd and chunked bodies recorded as sent),
/// pywb's recorder (`wayback --record`), warcio's `capture_http`. Each
/// page goes in once with its text; scripts and images never do.
#[test]
fn warcs_real_writers_make_here_ingest_page_for_page() {
    let addr = common::serve_on_thread(axum::Router::new().fallback(county));
    let dir = tempfile::tempdir().unwrap();
    let check = |who: &str, warc: &std::path::Path, pages: &[&str]| {
        county_pages_in(who, warc, addr, pages);
    };
    // wget
    let status = std::process::Command::new(common::tool("wget"))
        .current_dir(dir.path())
        .args([
            "-q",
            "-r",
            "-p",
            "-l",
            "2",
            "-np",
            "--no-proxy",
            "--compression=auto",
            "-P",
            "mirror",
            "--warc-file=wget",
        ])
        .arg(format!("http://{addr}/zwgk/"))
        .status()
        .unwrap();
    assert!(matches!(status.code(), Some(0 | 8)), "wget: {status}");
    check(
        "wget",
        &dir.path().join("wget.warc.gz"),
        &["t1", "t2", "t3", "t4"],
    );

    // warcio's capture_http, as a Python archiver records
    let script = format!(
        "from warcio.capture_http import capture_http\nimport requests\n\
         with capture_http('warcio.warc.gz'):\n    for p in ['t1', 't3', 't4']:\n        \
         requests.get('http://{addr}/zwgk/%s.html' % p, proxies={{'http': None}})\n"
    );
    let out = std::process::Command::new(common::tool("python"))
        .current_dir(dir.path())
        .args(["-c", &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "warcio: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(
        "warcio",
        &dir.path().join("warcio.warc.gz"),
        &["t1", "t3", "t4"],
    );

    // pywb's recorder, in front of the site
    let pywb = dir.path().join("pywb");
    std::fs::create_dir(&pywb).unwrap();
    common::pywb::wb_manager(&pywb, &["init", "rec"]);
    let recorder = common::pywb::Wayback::start_with(&pywb, &["--record", "--live"]);
    for page in ["t1", "t3", "t4"] {
        let (status, _, _) = common::service::get_bytes(&format!(
            "{}/rec/record/id_/http://{addr}/zwgk/{page}.html",
            recorder.base
        ));
        assert_eq!(status, 200, "{page} through pywb's recorder");
    }
    drop(recorder);
    let archive = pywb.join("collections/rec/archive");
    let recorded: Vec<std::path::PathBuf> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    let warc = dir.path().join("pywb.warc.gz");
    std::fs::copy(&recorded[0], &warc).unwrap();
    check("pywb", &warc, &["t1", "t3", "t4"]);
}

/// A record over the 64 MiB a capture is read to (ClueWeb has one of 431
/// MB once inflated) is read past in bounded memory, named with its
/// offset, and the records after it are kept.
#[test]
fn a_record_too_large_to_hold_is_named_and_the_next_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut huge = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n".to_vec();
    huge.resize(70 * 1024 * 1024, b' ');
    let after = notice(
        "关于公布政务服务事项目录的通知",
        "现将本市政务服务事项目录予以公布。",
    );
    let mut warc = gzip(&warc_record(
        "WARC/1.0",
        &[
            ("WARC-Type", "response"),
            ("WARC-Target-URI", "http://www.example.gov.cn/huge.html"),
            ("WARC-Date", "2023-06-12T08:00:00Z"),
            ("Content-Type", HTTP),
        ],
        &huge,
    ));
    drop(huge);
    let second = gzip(&warc_record(
        "WARC/1.0",
        &[
            ("WARC-Type", "response"),
            ("WARC-Target-URI", "http://www.example.gov.cn/zwgk/t1.html"),
            ("WARC-Date", "2023-06-12T08:01:00Z"),
            ("Content-Type", HTTP),
        ],
        &response(
            "Content-Type: text/html; charset=utf-8\r\n",
            after.as_bytes(),
        ),
    ));
    warc.extend(second);
    let path = dir.path().join("clueweb.warc.gz");
    std::fs::write(&path, warc).unwrap();
    let out = common::govsnap(&[
        "ingest",
        "--store",
        dir.path().join("store").to_str().unwrap(),
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "an input failed: {stderr}");
    assert!(
        stderr.contains("at offset 0: a record of 73400320 bytes, over the 64 MiB"),
        "{stderr}"
    );
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&summary["new_versions"], &summary["errors"]),
        (&1.into(), &1.into()),
        "{summary}"
    );
}

/// The county's notices each WARC holds.
const COUNTY_LINES: [(&str, &str); 4] = [
    ("t1", "请各单位于本月底前完成消防安全自查。"),
    ("t2", "自下月一日起，12路公交车线路调整。"),
    ("t3", "现将本年度部门预算予以公开。"),
    ("t4", "各乡镇要落实防汛责任制。"),
];

/// Ingest `who`'s WARC of the county site: each of `pages` is stored with
/// its text, no script or image is, nothing failed.
fn county_pages_in(who: &str, warc: &std::path::Path, addr: std::net::SocketAddr, pages: &[&str]) {
    let (summary, store, _) = ingest_alone(warc);
    assert_eq!(summary["errors"], 0, "{who}: {summary}");
    for (page, line) in COUNTY_LINES.iter().filter(|(p, _)| pages.contains(p)) {
        let url = format!("http://{addr}/zwgk/{page}.html");
        let version = store
            .latest(&url)
            .unwrap()
            .unwrap_or_else(|| panic!("{who}: {url} is not stored: {summary}"));
        assert!(
            version.record.text.contains(line),
            "{who}: {url}: {}",
            version.record.text
        );
    }
    for asset in ["/js/common.js", "/images/logo.gif"] {
        assert!(
            store
                .page(&format!("http://{addr}{asset}"))
                .unwrap()
                .is_none(),
            "{who}: {asset} is no page"
        );
    }
}

/// warcprox, the archiving proxy (Internet Archive's), in front of the
/// county site: its WARC, closed when it stops, ingests page for page.
#[test]
fn a_warcprox_warc_ingests_page_for_page() {
    let addr = common::serve_on_thread(axum::Router::new().fallback(county));
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let warcs = dir.path().join("warcs");
    // warcprox refuses loopback servers unless told otherwise, and has no
    // option for it
    let python =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/venv-warcprox/bin/python");
    assert!(
        python.is_file(),
        "warcprox is missing: run scripts/test, which installs it"
    );
    let mut proxy = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, warcprox.warcproxy as w; w.WarcProxyHandler.allow_localhost = True; \
             from warcprox.main import main; sys.argv[0] = 'warcprox'; main()",
            "-p",
            &port.to_string(),
            "-b",
            "127.0.0.1",
            "-z",
            "-n",
            "warcprox",
            "-d",
        ])
        .arg(&warcs)
        // its dedup database and CA certificate go beside the WARCs, new:
        // a database kept from another run would turn captures into revisits
        .current_dir(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::service::wait_until("warcprox to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{port}")).unwrap())
            .build()
            .unwrap();
        for page in ["t1", "t2", "t3", "t4"] {
            let response = client
                .get(format!("http://{addr}/zwgk/{page}.html"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{page} through warcprox");
            let _ = response.bytes().await.unwrap();
        }
    });
    // SIGINT: warcprox finishes its WARC and closes it (`.open` goes)
    let stopped = std::process::Command::new("kill")
        .args(["-INT", &proxy.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let warc = common::service::wait_until("warcprox to close its WARC", || {
        std::fs::read_dir(&warcs)
            .ok()?
            .filter_map(|e| Some(e.ok()?.path()))
            .find(|p| p.to_string_lossy().ends_with(".warc.gz"))
    });
    proxy.wait().unwrap();
    county_pages_in("warcprox", &warc, addr, &["t1", "t2", "t3", "t4"]);
}
