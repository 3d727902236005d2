//! Attachments archived by the crawl (SPEC §11, issue 30), through the real
//! binary against loopback sites: a disclosure column whose notices link
//! their files (附件) — an XLSX by extension, a DOCX behind `download.jsp`
//! with only a `Content-Disposition` to say what it is, one PDF linked from
//! three notices and again under a second URL, a file over the cap, a file
//! on another host (a file server) — and a column that lists a PDF
//! directly. Then the XLSX is replaced by new bytes: a second version.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::fixtures_dir().join("attachments").join(name)).unwrap()
}

#[derive(Clone, Default)]
struct Site {
    /// The file server's address, for the notices' links.
    files: Arc<Mutex<String>>,
    /// Whether the budget has been revised.
    revised: Arc<AtomicBool>,
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn notice(n: u32, links: &str) -> String {
    format!(
        "<html><head><title>关于公开2024年部门预算的公告（{n}）_某某区财政局</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a> &gt; <a href=\"/gk/\">政府信息公开</a></div>\
         <div class=\"article\"><h1>关于公开2024年部门预算的公告（{n}）</h1><div class=\"info\">发布日期：2024-03-0{n}</div>\
         <div class=\"TRS_Editor\"><p>根据《中华人民共和国预算法》规定，现将某某区财政局第{n}批预算信息予以公开，\
         请社会各界监督。具体内容见附件。</p><p>{links}</p></div></div>\
         <div class=\"footer\">主办：某某区财政局 京ICP备12345678号</div></body></html>"
    )
}

async fn site(State(site): State<Site>, uri: Uri, headers: axum::http::HeaderMap) -> Response {
    let files = site.files.lock().unwrap().clone();
    // files carry an ETag, and a conditional request for the same bytes
    // gets a 304, as file servers answer
    let file = |bytes: Vec<u8>, content_type: &'static str| {
        let etag = format!("\"{}\"", &blake3::hash(&bytes).to_hex()[..16]);
        if headers
            .get(header::IF_NONE_MATCH)
            .is_some_and(|v| v.as_bytes() == etag.as_bytes())
        {
            return StatusCode::NOT_MODIFIED.into_response();
        }
        (
            [(header::CONTENT_TYPE, content_type), (header::ETAG, &etag)],
            bytes,
        )
            .into_response()
    };
    match uri.path() {
        "/gk/" => html(
            "<html><head><title>政府信息公开</title></head><body><ul>\
             <li><a href=\"/gk/t20240301_1.html\">公告（1）</a></li>\
             <li><a href=\"/gk/t20240302_2.html\">公告（2）</a></li>\
             <li><a href=\"/gk/t20240303_3.html\">公告（3）</a></li>\
             <li><a href=\"/files/P020240305_table.pdf\">2024年部门收支预算总表.pdf</a></li></ul></body></html>"
                .to_owned(),
        ),
        "/gk/t20240301_1.html" => html(notice(
            1,
            "附件：<a href=\"/files/budget.xlsx\">附件1：2024年部门预算公开表.xlsx</a> \
             <a href=\"/download.jsp?id=7\">附件2：部门预算公开说明</a> \
             <a href=\"/files/notice.pdf\">附件3：实施办法.pdf</a>",
        )),
        "/gk/t20240302_2.html" => html(notice(
            2,
            "附件：<a href=\"/files/notice.pdf\">实施办法.pdf</a> <a href=\"/files/huge.zip\">全部材料.zip</a> \
             <a href=\"/files/internal.docx\">内部资料.docx</a>",
        )),
        "/gk/t20240303_3.html" => html(notice(
            3,
            &format!(
                "附件：<a href=\"/files/notice.pdf\">实施办法.pdf</a> <a href=\"/files/notice-copy.pdf\">实施办法（副本）.pdf</a> \
                 <a href=\"http://{files}/upload/report.pdf\">统计公报.pdf</a>"
            ),
        )),
        "/files/budget.xlsx" => {
            let name = if site.revised.load(Ordering::Relaxed) {
                "budget-v2.xlsx"
            } else {
                "budget.xlsx"
            };
            file(
                fixture(name),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        }
        "/download.jsp" => {
            let mut response = file(fixture("budget.docx"), "application/octet-stream");
            response.headers_mut().insert(
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static(
                    "attachment; filename*=UTF-8''%E9%83%A8%E9%97%A8%E9%A2%84%E7%AE%97%E5%85%AC%E5%BC%80%E8%AF%B4%E6%98%8E.docx",
                ),
            );
            response
        }
        "/files/notice.pdf" | "/files/notice-copy.pdf" => {
            file(fixture("notice-embedded.pdf"), "application/pdf")
        }
        "/files/P020240305_table.pdf" => file(fixture("table.pdf"), "application/pdf"),
        // over the config's max_attachment_bytes
        "/files/huge.zip" => file(vec![b'P'; 300_000], "application/zip"),
        // refused
        "/files/internal.docx" => StatusCode::FORBIDDEN.into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Another host: a file server.
async fn file_server(uri: Uri) -> Response {
    if uri.path() == "/upload/report.pdf" {
        (
            [(header::CONTENT_TYPE, "application/pdf")],
            fixture("report.pdf"),
        )
            .into_response()
    } else {
        StatusCode::NOT_FOUND.into_response()
    }
}

fn write_config(dir: &Path, seed: &str) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        format!(
            "store = \"{}\"\n[crawl]\nconcurrency = 4\nper_host_concurrency = 2\nper_host_delay_ms = 0\nrespect_robots = false\n\
             max_attachment_bytes = 200_000\n\
             [[site]]\nname = \"czj\"\nseeds = [\"{seed}\"]\ndocuments = ['/t\\d{{8}}_\\d+\\.html$']\n",
            dir.join("store").display()
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> String {
    common::ok(&common::govsnap(args))
}

fn pages(config: &str) -> Vec<Value> {
    run(&["pages", "--config", config, "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_crawl_archives_the_files_its_documents_and_lists_link() {
    let state = Site::default();
    let files = common::serve_on_thread(Router::new().fallback(file_server));
    *state.files.lock().unwrap() = files.to_string();
    let addr = common::serve_on_thread(Router::new().fallback(site).with_state(state.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &format!("http://{addr}/gk/"));
    let summary: Value =
        serde_json::from_str(&run(&["crawl", "--config", &config, "--format", "json"])).unwrap();
    // six files: the XLSX, the DOCX behind download.jsp, the PDF (once for
    // three notices), the listed PDF, the file server's PDF; its copy under
    // a second URL is the same file
    assert_eq!(summary["attachments"], 5, "{summary}");
    assert_eq!(summary["attachments_unchanged"], 1, "{summary}");
    assert_eq!(
        summary["attachments_skipped"], 2,
        "the file over the cap, the file refused: {summary}"
    );
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["new_versions"], 3, "the three notices: {summary}");

    let all = pages(&config);
    let page = |path: &str| {
        all.iter()
            .find(|p| p["url"].as_str().unwrap().ends_with(path))
            .unwrap_or_else(|| panic!("{path} is not stored: {all:?}"))
    };
    for path in [
        "/files/budget.xlsx",
        "/download.jsp?id=7",
        "/files/P020240305_table.pdf",
        "/upload/report.pdf",
    ] {
        assert_eq!(page(path)["versions"], 1, "{path}");
    }
    // the PDF and its copy: whichever was stored first holds the version,
    // the other is its alias
    let (pdf, copy) = (page("/files/notice.pdf"), page("/files/notice-copy.pdf"));
    let (first, alias) = if pdf["versions"] == 1 {
        (pdf, copy)
    } else {
        (copy, pdf)
    };
    assert_eq!(first["versions"], 1);
    assert_eq!(alias["versions"], 0);
    assert_eq!(alias["alias_of"], first["url"]);
    assert!(
        !all.iter()
            .any(|p| p["url"].as_str().unwrap().ends_with("huge.zip")),
        "a file over the cap is not stored"
    );

    // each file's record: its text, format, the page that links it, its name
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    let latest = |path: &str| {
        let url = page(path)["url"].as_str().unwrap().to_owned();
        store.latest(&url).unwrap().unwrap()
    };
    let xlsx = latest("/files/budget.xlsx");
    let record = xlsx.attachment.as_ref().expect("an attachment record");
    assert_eq!(record.format, "xlsx");
    assert_eq!(
        record.name.as_deref(),
        Some("附件1：2024年部门预算公开表.xlsx")
    );
    assert!(
        record
            .linked_from
            .iter()
            .any(|p| p.ends_with("/gk/t20240301_1.html"))
    );
    assert!(xlsx.record.text.contains("101 | 税收收入 | 1305.2"));
    assert_eq!(
        store.raw(&xlsx).unwrap().unwrap(),
        fixture("budget.xlsx"),
        "the bytes as served"
    );
    let docx = latest("/download.jsp?id=7");
    let record = docx.attachment.as_ref().unwrap();
    assert_eq!(record.format, "docx", "told by its bytes");
    assert!(docx.record.text.contains("政府性基金 | 210.00 | 198.50"));
    let table = latest("/files/P020240305_table.pdf");
    assert!(
        table
            .record
            .text
            .contains("合计 | 1,444.56 | 1,515.70 | 71.14")
    );
    let report = latest("/upload/report.pdf");
    assert_eq!(report.attachment.as_ref().unwrap().pages, Some(20));
    drop(store);

    // a file's text and its name are searched as a page's are (SPEC §13)
    let hits = |query: &str| -> Vec<Value> {
        run(&["search", query, "--config", &config, "--format", "json"])
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    for query in ["\"101 | 税收收入 | 1305.2\"", "部门预算公开表"] {
        let found = hits(query);
        let xlsx = found
            .iter()
            .find(|h| h["url"].as_str().unwrap().ends_with("/files/budget.xlsx"))
            .unwrap_or_else(|| panic!("{query}: {found:?}"));
        assert_eq!(xlsx["kind"], "attachment");
    }
    let table = hits("1,515.70");
    assert!(
        table
            .iter()
            .any(|h| h["url"].as_str().unwrap().ends_with("P020240305_table.pdf")),
        "{table:?}"
    );

    // show and export give a file's own record, and say what each line is
    let url = page("/files/budget.xlsx")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown: Value = serde_json::from_str(&run(&["show", "--config", &config, &url])).unwrap();
    assert_eq!(shown["kind"], "attachment");
    assert_eq!(shown["format"], "xlsx");
    assert_eq!(shown["name"], "附件1：2024年部门预算公开表.xlsx");
    let exported: Vec<Value> = run(&["export", "--config", &config])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds = |kind: &str| exported.iter().filter(|l| l["kind"] == kind).count();
    assert_eq!((kinds("document"), kinds("attachment")), (3, 5));

    // through WARC and back: the files' responses are ingested as files
    let warc = tmp.path().join("czj.warc.gz");
    let warc = warc.to_str().unwrap();
    run(&[
        "export", "--config", &config, "--format", "warc", "-o", warc,
    ]);
    // each file's metadata record is its attachment record
    let mut gz = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(warc).unwrap()),
        &mut gz,
    )
    .unwrap();
    let gz = String::from_utf8_lossy(&gz);
    assert_eq!(gz.matches("\"kind\":\"attachment\"").count(), 5);
    // the files' records are written from streams read twice: their
    // digests and lengths hold
    common::warc::assert_warcio_checks(Path::new(warc));
    let copy = tmp.path().join("copy");
    let ingested: Value = serde_json::from_str(&run(&[
        "ingest",
        "--store",
        copy.to_str().unwrap(),
        "--format",
        "json",
        warc,
    ]))
    .unwrap();
    assert_eq!(ingested["attachments"], 5, "{ingested}");
    let copied = run(&["show", "--store", copy.to_str().unwrap(), &url]);
    let copied: Value = serde_json::from_str(&copied).unwrap();
    assert_eq!(copied["kind"], "attachment");
    assert_eq!(copied["hash"], shown["hash"], "the same bytes");

    // the budget revised: a second version, and its diff
    state.revised.store(true, Ordering::Relaxed);
    let again: Value = serde_json::from_str(&run(&[
        "crawl", "--config", &config, "--full", "--format", "json",
    ]))
    .unwrap();
    assert_eq!(again["attachments"], 1, "{again}");
    // the other files, asked with their ETags, answer 304: unchanged files
    assert!(
        again["attachments_unchanged"].as_u64().unwrap() >= 3,
        "{again}"
    );
    assert_eq!(again["not_modified"], 0, "{again}");
    let url = page("/files/budget.xlsx")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let diff = run(&["diff", "--config", &config, &url]);
    assert!(diff.contains("1305.2") && diff.contains("1420.5"), "{diff}");

    // the browse pages: a notice lists its files as archived, each file
    // has its own page with its download
    let service = common::service::Service::start(
        Path::new(&config),
        &tmp.path().join("store"),
        "127.0.0.1:0",
    );
    let encoded = |u: &str| url::form_urlencoded::byte_serialize(u.as_bytes()).collect::<String>();
    let notice_url = page("/gk/t20240301_1.html")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body, _) = service.get(&format!("/page?url={}", encoded(&notice_url)), false);
    let body = body.as_str().unwrap_or_default().to_owned();
    assert_eq!(status, 200);
    assert!(body.contains("XLSX") && body.contains("2 版"), "{body}");
    assert!(
        body.contains(&format!("/page?url={}", encoded(&url))),
        "{body}"
    );
    let (status, file_page, _) = service.get(&format!("/page?url={}", encoded(&url)), false);
    assert_eq!(status, 200);
    assert!(file_page.as_str().unwrap_or_default().contains("下载文件"));
    // the changes feed says which versions are files'
    let changes = service.api("/api/v1/changes?limit=1000");
    let changes = changes["changes"].as_array().unwrap();
    let count = |kind: &str| changes.iter().filter(|c| c["kind"] == kind).count();
    assert_eq!(
        (count("version"), count("attachment")),
        (3, 6),
        "three notices; five files, then the budget's second version: {changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c["kind"] == "attachment" && c["url"] == url.as_str() && c["version"] == 2)
    );
    let record = service.api(&format!("/api/v1/record?url={}", encoded(&url)));
    assert_eq!(
        (&record["kind"], &record["format"]),
        (&"attachment".into(), &"xlsx".into())
    );
    service.stop();
}

/// A site whose one notice links a PDF that the server sends half of, then
/// holds, until the test lets it finish.
#[derive(Clone, Default)]
struct Slow {
    /// The first half has been sent.
    halfway: Arc<AtomicBool>,
    /// Later requests get the whole file.
    released: Arc<AtomicBool>,
}

async fn slow_site(State(slow): State<Slow>, uri: Uri) -> Response {
    match uri.path() {
        "/gk/" => {
            html("<html><body><a href=\"/gk/t20240301_1.html\">公告</a></body></html>".to_owned())
        }
        "/gk/t20240301_1.html" => html(notice(
            1,
            "附件：<a href=\"/files/report.pdf\">统计公报.pdf</a>",
        )),
        "/files/report.pdf" => {
            let bytes = fixture("report.pdf");
            let (first, rest) = bytes.split_at(bytes.len() / 2);
            let (first, rest) = (first.to_vec(), rest.to_vec());
            let released = slow.released.load(Ordering::Relaxed);
            let halfway = Arc::clone(&slow.halfway);
            let stream = futures_util::stream::unfold(0, move |step| {
                let (first, rest, halfway) = (first.clone(), rest.clone(), Arc::clone(&halfway));
                async move {
                    match step {
                        0 => Some((Ok::<_, std::io::Error>(first), 1)),
                        1 => {
                            halfway.store(true, Ordering::Relaxed);
                            if !released {
                                // held until the crawl is killed
                                std::future::pending::<()>().await;
                            }
                            Some((Ok(rest), 2))
                        }
                        _ => None,
                    }
                }
            });
            (
                [(header::CONTENT_TYPE, "application/pdf")],
                axum::body::Body::from_stream(stream),
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// SIGKILL in the middle of an attachment's download leaves the store as
/// before that download (no version, no partial file), and the next crawl
/// fetches it whole.
#[test]
fn a_kill_in_the_middle_of_a_download_loses_nothing_and_the_next_crawl_fetches_it() {
    let slow = Slow::default();
    let addr = common::serve_on_thread(Router::new().fallback(slow_site).with_state(slow.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &format!("http://{addr}/gk/"));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(["crawl", "--config", &config])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::service::wait_until("the download to be halfway", || {
        slow.halfway.load(Ordering::Relaxed).then_some(())
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let pdf = format!("http://{addr}/files/report.pdf");
    {
        let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
        assert!(
            store.page(&pdf).unwrap().is_none(),
            "nothing of the download"
        );
    }
    // nor a spooled file: they are unnamed, gone with the process
    for entry in std::fs::read_dir(tmp.path().join("store/packs")).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(name.to_string_lossy().ends_with(".pack"), "{name:?}");
    }
    slow.released.store(true, Ordering::Relaxed);
    let summary: Value =
        serde_json::from_str(&run(&["crawl", "--config", &config, "--format", "json"])).unwrap();
    assert_eq!(summary["attachments"], 1, "{summary}");
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    let version = store.latest(&pdf).unwrap().expect("the file, whole");
    assert_eq!(store.raw(&version).unwrap().unwrap(), fixture("report.pdf"));
    assert_eq!(version.attachment.unwrap().pages, Some(20));
}

/// A file larger than the text is read from (`MAX_TEXT_BYTES`) is
/// streamed to disk and stored whole: its bytes as served, its record
/// saying why it has no text.
#[test]
fn a_file_too_large_to_read_is_stored_whole_with_the_reason() {
    let size = usize::try_from(govsnap::attach::MAX_TEXT_BYTES).unwrap() + 3_000_017;
    let mut rng = fastrand::Rng::with_seed(30);
    let mut big = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n".to_vec();
    // half noise, half text: as a scanned report compresses
    while big.len() < size {
        big.extend((0..4096).map(|_| rng.u8(..)));
        big.extend_from_slice("第一章 总则 统计数据 ".repeat(170).as_bytes());
    }
    big.truncate(size);
    let big = Arc::new(big);
    let served = Arc::clone(&big);
    let app = Router::new().fallback(move |uri: Uri| {
        let big = Arc::clone(&served);
        async move {
            match uri.path() {
                "/gk/" => html(
                    "<html><body><a href=\"/gk/t20240301_1.html\">公告</a></body></html>"
                        .to_owned(),
                ),
                "/gk/t20240301_1.html" => html(notice(
                    1,
                    "附件：<a href=\"/files/scan.pdf\">2023年统计年鉴（扫描件）.pdf</a>",
                )),
                "/files/scan.pdf" => {
                    ([(header::CONTENT_TYPE, "application/pdf")], big.to_vec()).into_response()
                }
                _ => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    let addr = common::serve_on_thread(app);
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &format!("http://{addr}/gk/"));
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace(
            "max_attachment_bytes = 200_000",
            "max_attachment_bytes = 100_000_000",
        ),
    )
    .unwrap();
    let summary: Value =
        serde_json::from_str(&run(&["crawl", "--config", &config, "--format", "json"])).unwrap();
    assert_eq!(summary["attachments"], 1, "{summary}");
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    let version = store
        .latest(&format!("http://{addr}/files/scan.pdf"))
        .unwrap()
        .expect("the file");
    let record = version.attachment.as_ref().unwrap();
    assert_eq!(record.format, "pdf");
    assert_eq!(record.bytes, size as u64);
    assert_eq!(record.hash, blake3::hash(&big).to_hex().to_string());
    assert_eq!(
        record.warnings,
        ["text not read: the file is over 64 MiB"],
        "{record:?}"
    );
    let raw = store.raw(&version).unwrap().unwrap();
    assert!(raw == *big, "the bytes as served");
    drop(store);
    // and as the service gives them, decompressed as they go out, under
    // the file's own name
    let service = common::service::Service::start(
        Path::new(&config),
        &tmp.path().join("store"),
        "127.0.0.1:0",
    );
    let url =
        url::form_urlencoded::byte_serialize(format!("http://{addr}/files/scan.pdf").as_bytes())
            .collect::<String>();
    let (status, body, headers) = service.get_bytes(&format!("/api/v1/raw?url={url}"));
    assert_eq!(status, 200);
    assert!(body == *big, "the download is the file");
    let disposition = &headers["content-disposition"];
    assert!(
        disposition.contains("filename=\"v1.pdf\"") && disposition.contains("filename*=UTF-8''"),
        "{disposition}"
    );
    service.stop();
    // the download's files went with it: the packs directory holds packs
    for entry in std::fs::read_dir(tmp.path().join("store/packs")).unwrap() {
        let name = entry.unwrap().file_name();
        assert!(name.to_string_lossy().ends_with(".pack"), "{name:?}");
    }
}
