//! `govsnap serve --shard K/N` (SPEC §14): each of three processes, each
//! with its own store, lists and crawls only the sites whose name hashes to
//! it, by the documented hash (FNV-1a 64 of the name, modulo N), the same
//! at every start.

mod common;

use common::service::Service;
use common::shards::{SITES, shard_of};
use std::collections::HashMap;

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let mut text = String::from("[crawl]\nper_host_delay_ms = 0\n");
    for name in SITES {
        // no schedule: nothing is crawled unless asked; the seeds' port is closed
        text.push_str(&format!(
            "\n[[site]]\nname = \"{name}\"\nseeds = [\"http://127.0.0.1:9/{name}/index.html\"]\n"
        ));
    }
    let path = dir.join("govsnap.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn listed(service: &Service) -> Vec<String> {
    let sites = service.api("/api/v1/sites");
    sites
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn each_site_is_served_by_one_shard_only_and_stays_there() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut owner: HashMap<String, u64> = HashMap::new();
    for k in 0..3u64 {
        let store = dir.path().join(format!("shard-{k}"));
        let shard = format!("{k}/3");
        let args = ["--shard", &shard, "--store", store.to_str().unwrap()];
        let service = Service::start_with(&config, &store, "127.0.0.1:0", &args);
        let names = listed(&service);
        for name in &names {
            assert_eq!(shard_of(name, 3), k, "{name} is listed by shard {k}");
            assert!(owner.insert(name.clone(), k).is_none(), "{name} twice");
        }
        // a site of another shard is not this process's to crawl
        let other = SITES.iter().find(|n| shard_of(n, 3) != k).unwrap();
        assert_eq!(
            service.post(&format!("/api/v1/sites/{other}/crawl"), true),
            404,
            "shard {k} crawling {other}"
        );
        assert!(service.stop().success());
        // the same sites at the next start
        let again = Service::start_with(&config, &store, "127.0.0.1:0", &args);
        assert_eq!(listed(&again), names, "shard {k} after a restart");
        assert!(again.stop().success());
    }
    assert_eq!(owner.len(), SITES.len(), "every site has a shard");
    assert!(
        (0..3).all(|k| owner.values().any(|&o| o == k)),
        "twelve sites spread over three shards: {owner:?}"
    );
}

#[test]
fn a_shard_that_is_not_one_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    for bad in ["3/3", "0/0", "one/3"] {
        let out = common::govsnap(&[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--shard",
            bad,
        ]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is not a shard: write K/N"),
            "{bad}: {stderr}"
        );
    }
}

/// A district bureau's notice, edition `edition`, as its site serves it.
fn notice(district: &str, edition: u32) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>关于开展{district}2024年度惠企政策兑现工作的通知_{district}人民政府</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a> &gt; <a href=\"/zwgk/\">政务公开</a> &gt; 通知公告</div>\
         <div class=\"article\"><h1>关于开展{district}2024年度惠企政策兑现工作的通知</h1>\
         <div class=\"info\">发布时间：2024-03-0{edition}　来源：{district}商务局</div>\
         <div class=\"TRS_Editor\"><p>各街道、各有关企业：</p><p>一、兑现范围</p>\
         <p>按照第{edition}版实施细则申报，逾期不予受理。</p></div></div>\
         <div class=\"footer\">主办：{district}人民政府 津ICP备05004470号</div></body></html>"
    )
}

/// Run govsnap; its standard output, once it succeeded.
fn govsnap(args: &[&str]) -> String {
    common::ok(&common::govsnap(args))
}

/// Each exported version as (url, version, fetched_at, text).
fn versions(store: &std::path::Path) -> Vec<(String, u64, String, String)> {
    let mut all: Vec<_> = govsnap(&["export", "--store", store.to_str().unwrap()])
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["url"].as_str().unwrap().to_owned(),
                v["version"].as_u64().unwrap(),
                v["fetched_at"].as_str().unwrap().to_owned(),
                v["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn going_from_one_shard_to_two_moves_every_version_of_each_site_once() {
    let dir = tempfile::tempdir().unwrap();
    let districts = [
        ("tianjin-hexi", "hexi", "河西区"),
        ("tianjin-nankai", "nankai", "南开区"),
        ("tianjin-heping", "heping", "和平区"),
        ("tianjin-hebei", "hebei", "河北区"),
    ];
    let mut text = String::new();
    for (name, host, _) in districts {
        text.push_str(&format!(
            "[[site]]\nname = \"{name}\"\nseeds = [\"http://www.{host}.gov.cn/zwgk/index.html\"]\n\n"
        ));
    }
    let config = dir.path().join("govsnap.toml");
    std::fs::write(&config, text).unwrap();
    let config = config.to_str().unwrap();
    let old = dir.path().join("old");
    let old = old.to_str().unwrap();
    // one store (N = 1): two editions of each district's notice
    for edition in 1..=2 {
        for (_, host, district) in districts {
            // the notice, edited, at one URL; and a page of its own (the
            // same bytes at two URLs are one page, the second an alias)
            let ingest = |url: &str, file: &std::path::Path| {
                let file = file.to_str().unwrap();
                govsnap(&[
                    "ingest", "--config", config, "--store", old, "--url", url, file,
                ]);
            };
            let page = dir.path().join(format!("{host}-{edition}.html"));
            std::fs::write(&page, notice(district, edition)).unwrap();
            ingest(
                &format!("http://www.{host}.gov.cn/zwgk/t20240301_1.html"),
                &page,
            );
            let own = dir.path().join(format!("{host}-{edition}-own.html"));
            let text = notice(district, edition).replace("逾期不予受理", "另行通知");
            std::fs::write(&own, text).unwrap();
            ingest(
                &format!("http://www.{host}.gov.cn/zwgk/t20240301_{edition}00.html"),
                &own,
            );
        }
    }
    let before = versions(std::path::Path::new(old));
    assert_eq!(
        before.len(),
        4 * (2 + 2),
        "two pages of one version, one of two, a site"
    );
    // N = 2: the old store exported once, ingested by each new shard
    let warc = dir.path().join("old.warc.gz");
    govsnap(&[
        "export",
        "--store",
        old,
        "--format",
        "warc",
        "-o",
        warc.to_str().unwrap(),
    ]);
    let mut after = Vec::new();
    for k in 0..2u64 {
        let store = dir.path().join(format!("shard-{k}"));
        let shard = format!("{k}/2");
        govsnap(&[
            "ingest",
            "--config",
            config,
            "--store",
            store.to_str().unwrap(),
            "--shard",
            &shard,
            warc.to_str().unwrap(),
        ]);
        let moved = versions(&store);
        assert!(!moved.is_empty(), "shard {k} holds sites");
        for (url, ..) in &moved {
            let name = districts
                .iter()
                .find(|(_, host, _)| url.contains(&format!("www.{host}.gov.cn")))
                .unwrap()
                .0;
            assert_eq!(shard_of(name, 2), k, "{url} moved to shard {k}");
        }
        after.extend(moved);
    }
    after.sort();
    // every version, with its time and text, in exactly one new shard
    assert_eq!(after, before);
}
