//! Replay (SPEC §12): the WARC govsnap exports, given to pywb (`wb-manager
//! add`, then `wayback` on loopback), serves each capture at its page's
//! `id_` URL byte for byte as it was captured — a GBK page as its GBK
//! bytes, a PDF as the PDF — and never govsnap's record in its place
//! (pywb indexes `metadata` records too, and found the record's JSON at
//! the page's URL and time before it moved to a URI of its own).

mod common;

use common::warc::{gzip, warc_record};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// `wayback` serving `dir`'s collections on a free loopback port, stopped
/// when dropped.
struct Wayback {
    child: Child,
    base: String,
}

impl Wayback {
    fn start(dir: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(common::tool("wayback"))
            .args(["-p", &port.to_string(), "-b", "127.0.0.1"])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        common::service::wait_until("pywb's wayback to answer", || {
            let (status, _, _) = common::service::get_bytes_or_none(&format!("{base}/"))?;
            (status == 200).then_some(())
        });
        Self { child, base }
    }
}

impl Drop for Wayback {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn pywb_replays_the_export_byte_for_byte_never_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let html = "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">\
        <title>关于公布2024年度行政事业性收费目录清单的通知_某某市财政局</title></head><body>\
        <div class=\"nav\">首页 &gt; 政府信息公开</div><div class=\"article\"><h1>关于公布2024年度行政事业性收费目录清单的通知</h1>\
        <div class=\"info\">发布日期：2024-03-05</div><div class=\"content\"><p>各县（市、区）财政局，市直各部门：</p>\
        <p>现将2024年度行政事业性收费目录清单予以公布，请遵照执行。</p></div></div>\
        <div class=\"footer\">主办：某某市财政局 冀ICP备05001234号</div></body></html>";
    let (gbk, _, _) = encoding_rs::GBK.encode(html);
    let mut response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n".to_vec();
    response.extend_from_slice(&gbk);
    let pdf = std::fs::read(common::fixtures_dir().join("attachments/notice-stsong.pdf")).unwrap();
    let mut pdf_response = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\n".to_vec();
    pdf_response.extend_from_slice(&pdf);
    let page = "http://www.example.gov.cn/zwgk/czj/t20240305_1.html";
    let file = "http://www.example.gov.cn/zwgk/czj/P020240305.pdf";
    let http = "application/http; msgtype=response";
    let mut warc = Vec::new();
    for (url, date, block) in [
        (page, "2024-03-05T08:00:00Z", &response),
        (file, "2024-03-05T08:00:05Z", &pdf_response),
    ] {
        warc.extend(gzip(&warc_record(
            "WARC/1.1",
            &[
                ("WARC-Type", "response"),
                ("WARC-Target-URI", url),
                ("WARC-Date", date),
                ("Content-Type", http),
            ],
            block,
        )));
    }
    let captured = dir.path().join("captured.warc.gz");
    std::fs::write(&captured, warc).unwrap();
    let store = dir.path().join("store");
    let store = store.to_str().unwrap();
    common::ok(&common::govsnap(&[
        "ingest",
        "--store",
        store,
        captured.to_str().unwrap(),
    ]));
    let export = dir.path().join("export.warc.gz");
    common::ok(&common::govsnap(&[
        "export",
        "--store",
        store,
        "--format",
        "warc",
        "-o",
        export.to_str().unwrap(),
    ]));

    let pywb = dir.path().join("pywb");
    std::fs::create_dir(&pywb).unwrap();
    for args in [
        vec!["init", "govsnap"],
        vec!["add", "govsnap", export.to_str().unwrap()],
    ] {
        let out = Command::new(common::tool("wb-manager"))
            .args(&args)
            .current_dir(&pywb)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "wb-manager {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let wayback = Wayback::start(&pywb);
    for (url, stamp, bytes, what) in [
        (page, "20240305080000", gbk.as_ref(), "the GBK page"),
        (file, "20240305080005", pdf.as_slice(), "the PDF"),
    ] {
        let (status, body, headers) =
            common::service::get_bytes(&format!("{}/govsnap/{stamp}id_/{url}", wayback.base));
        assert_eq!(status, 200, "{what}");
        assert!(
            !headers
                .get("content-type")
                .is_some_and(|t| t.contains("json")),
            "{what}: pywb served govsnap's record: {headers:?}"
        );
        assert!(body == bytes, "{what} as captured, byte for byte");
    }
}
