//! Replay (SPEC §12): the WARC govsnap exports, given to pywb (`wb-manager
//! add`, then `wayback` on loopback), serves each capture at its page's
//! `id_` URL byte for byte as it was captured — a GBK page as its GBK
//! bytes, a PDF as the PDF — and never govsnap's record in its place
//! (pywb indexes `metadata` records too, and found the record's JSON at
//! the page's URL and time before it moved to a URI of its own).

mod common;

use common::pywb::{Wayback, wb_manager};
use common::warc::{gzip, warc_record};
use std::path::Path;
use std::process::Command;

/// A store holding two captures, as a crawler's WARC brought them: a GBK
/// notice and a PDF. Returns the store and the captured bytes.
fn captured_store(dir: &Path) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
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
    let http = "application/http; msgtype=response";
    let mut warc = Vec::new();
    for (url, date, block) in [
        (PAGE, "2024-03-05T08:00:00Z", &response),
        (FILE, "2024-03-05T08:00:05Z", &pdf_response),
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
    let captured = dir.join("captured.warc.gz");
    std::fs::write(&captured, warc).unwrap();
    let store = dir.join("store");
    common::ok(&common::govsnap(&[
        "ingest",
        "--store",
        store.to_str().unwrap(),
        captured.to_str().unwrap(),
    ]));
    (store, gbk.into_owned(), pdf)
}

const PAGE: &str = "http://www.example.gov.cn/zwgk/czj/t20240305_1.html";
const FILE: &str = "http://www.example.gov.cn/zwgk/czj/P020240305.pdf";

/// The page and the PDF, got back from `wayback`'s collection `coll` at
/// their `id_` URLs, are what was captured.
fn replays_as_captured(wayback: &Wayback, coll: &str, gbk: &[u8], pdf: &[u8]) {
    for (url, stamp, bytes, what) in [
        (PAGE, "20240305080000", gbk, "the GBK page"),
        (FILE, "20240305080005", pdf, "the PDF"),
    ] {
        let (status, body, headers) =
            common::service::get_bytes(&format!("{}/{coll}/{stamp}id_/{url}", wayback.base));
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

#[test]
fn pywb_replays_the_export_byte_for_byte_never_the_record() {
    let dir = tempfile::tempdir().unwrap();
    let (store, gbk, pdf) = captured_store(dir.path());
    let export = dir.path().join("export.warc.gz");
    common::ok(&common::govsnap(&[
        "export",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "warc",
        "-o",
        export.to_str().unwrap(),
    ]));
    let pywb = dir.path().join("pywb");
    std::fs::create_dir(&pywb).unwrap();
    wb_manager(&pywb, &["init", "govsnap"]);
    wb_manager(&pywb, &["add", "govsnap", export.to_str().unwrap()]);
    let wayback = Wayback::start(&pywb);
    replays_as_captured(&wayback, "govsnap", &gbk, &pdf);
}

/// The WACZ export: valid under `wacz validate`; its CDXJ index is pywb's
/// own index of the same WARC (keys, times, offsets); its page list names
/// the documents, not the files; pywb replays it unpacked; and `govsnap
/// ingest` reads it back to the same records.
#[test]
fn a_wacz_export_validates_indexes_as_pywb_does_replays_and_ingests_back() {
    let dir = tempfile::tempdir().unwrap();
    let (store, gbk, pdf) = captured_store(dir.path());
    let wacz = dir.path().join("czj.wacz");
    common::ok(&common::govsnap(&[
        "export",
        "--store",
        store.to_str().unwrap(),
        "--format",
        "wacz",
        "-o",
        wacz.to_str().unwrap(),
    ]));
    let check = Command::new(common::tool("wacz"))
        .args(["validate", "-f", wacz.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "wacz validate: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    let mut zip = zip::ZipArchive::new(std::fs::File::open(&wacz).unwrap()).unwrap();
    let mut member = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let ours = member("indexes/index.cdx");
    let pages = member("pages/pages.jsonl");
    let pages: Vec<serde_json::Value> = pages
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(pages[0]["format"], "json-pages-1.0");
    assert_eq!(pages.len(), 2, "the header and the notice: {pages:?}");
    assert_eq!(pages[1]["url"], PAGE);
    assert_eq!(
        pages[1]["title"],
        "关于公布2024年度行政事业性收费目录清单的通知"
    );

    // pywb's own index of the same WARC: the same captures, keys and places
    let pywb = dir.path().join("pywb");
    std::fs::create_dir(&pywb).unwrap();
    wb_manager(&pywb, &["init", "indexed"]);
    let warc = dir.path().join("data.warc.gz");
    std::io::copy(
        &mut zip.by_name("archive/data.warc.gz").unwrap(),
        &mut std::fs::File::create(&warc).unwrap(),
    )
    .unwrap();
    wb_manager(&pywb, &["add", "indexed", warc.to_str().unwrap()]);
    let theirs: String = std::fs::read_dir(pywb.join("collections/indexed/indexes"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let captures = |index: &str| -> Vec<(String, String, String, String)> {
        let mut found: Vec<_> = index
            .lines()
            .filter_map(|line| {
                let (key, rest) = line.split_once(' ')?;
                let (stamp, json) = rest.split_once(' ')?;
                let json: serde_json::Value = serde_json::from_str(json).ok()?;
                json.get("status")?;
                Some((
                    key.to_owned(),
                    stamp.to_owned(),
                    json["offset"].as_str()?.to_owned(),
                    json["length"].as_str()?.to_owned(),
                ))
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(captures(&ours).len(), 2, "{ours}");
    assert_eq!(
        captures(&ours),
        captures(&theirs),
        "ours:\n{ours}\ntheirs:\n{theirs}"
    );

    // replayed from the WACZ
    wb_manager(&pywb, &["init", "fromwacz"]);
    wb_manager(
        &pywb,
        &["add", "--unpack-wacz", "fromwacz", wacz.to_str().unwrap()],
    );
    let wayback = Wayback::start(&pywb);
    replays_as_captured(&wayback, "fromwacz", &gbk, &pdf);
    drop(wayback);

    // and read back
    let again = dir.path().join("again");
    let summary: serde_json::Value = serde_json::from_str(&common::ok(&common::govsnap(&[
        "ingest",
        "--store",
        again.to_str().unwrap(),
        "--format",
        "json",
        wacz.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(
        (
            summary["new_versions"].as_u64(),
            summary["attachments"].as_u64()
        ),
        (Some(1), Some(1)),
        "{summary}"
    );
    let again = govsnap::Store::open(&again).unwrap();
    let version = again.latest(PAGE).unwrap().unwrap();
    assert_eq!(again.raw(&version).unwrap().unwrap(), gbk);
}
