//! The store's feed for downstream logs (SPEC §14): every change as one
//! self-contained line (versions as their export lines, gone marks as
//! `kind: "gone"`), each with its site and cursor, in store order; how many
//! changes lie after a cursor.

use govsnap::store::Fetch;
use govsnap::{ExtractOptions, Snapshots, Store};
use serde_json::Value;
use std::time::SystemTime;

fn notice(edition: u32) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>关于做好2024年度惠企政策兑现工作的通知_河西区人民政府</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a> &gt; 通知公告</div>\
         <div class=\"article\"><h1>关于做好2024年度惠企政策兑现工作的通知</h1>\
         <div class=\"info\">发布时间：2024-03-0{edition}　来源：河西区商务局</div>\
         <div class=\"TRS_Editor\"><p>各街道、各有关企业：</p><p>一、兑现范围</p>\
         <p>按照第{edition}版实施细则申报，逾期不予受理。</p></div></div>\
         <div class=\"footer\">主办：天津市河西区人民政府 津ICP备05004470号</div></body></html>"
    )
}

#[test]
fn every_change_is_one_line_with_its_site_and_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let url = "http://www.tjhx.gov.cn/zwgk/t20240301_1.html";
    for edition in 1..=2 {
        let bytes = notice(edition).into_bytes();
        let mut snapshots = Snapshots::new(&store);
        let fetch = Fetch::plain(url, Some("tianjin-hexi"), SystemTime::now(), 200, &bytes);
        snapshots
            .add(&fetch, None, ExtractOptions::default())
            .unwrap();
        snapshots.finish().unwrap();
    }
    let gone = Fetch::plain(url, Some("tianjin-hexi"), SystemTime::now(), 404, b"");
    assert!(store.mark_gone(&gone).unwrap());

    let batch = store.feed_lines(None, 100).unwrap();
    let lines = &batch.lines;
    assert_eq!(batch.through, Some(lines[2].cursor));
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(&l.line).unwrap())
        .collect();
    assert_eq!(parsed.len(), 3, "{parsed:?}");
    for (l, line) in lines.iter().zip(&parsed) {
        assert_eq!(line["cursor"], l.cursor.to_string());
        assert_eq!(line["url"], url);
        assert_eq!(line["site"], "tianjin-hexi");
        assert!(line["fetched_at"].is_string());
    }
    assert_eq!(parsed[0]["kind"], "document");
    assert_eq!(parsed[0]["version"], 1);
    assert_eq!(parsed[1]["version"], 2);
    assert_eq!(parsed[0]["title"], "关于做好2024年度惠企政策兑现工作的通知");
    assert!(parsed[1]["text"].as_str().unwrap().contains("第2版"));
    assert_eq!(parsed[2]["kind"], "gone");
    assert_eq!(parsed[2]["version"], 2, "the version that went");

    // paging and lag from a cursor
    let first = lines[0].cursor;
    let rest = store.feed_lines(Some(first), 100).unwrap().lines;
    assert_eq!(
        rest.iter().map(|l| l.line.clone()).collect::<Vec<_>>(),
        lines[1..]
            .iter()
            .map(|l| l.line.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(store.changes_after(None, 100).unwrap(), 3);
    assert_eq!(store.changes_after(Some(first), 100).unwrap(), 2);
    assert_eq!(
        store.changes_after(None, 2).unwrap(),
        2,
        "counted up to the cap"
    );
    assert_eq!(store.changes_after(Some(lines[2].cursor), 100).unwrap(), 0);
}
