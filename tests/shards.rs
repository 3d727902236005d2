//! `govsnap serve --shard K/N` (SPEC §14): each of three processes, each
//! with its own store, lists and crawls only the sites whose name hashes to
//! it, by the documented hash (FNV-1a 64 of the name, modulo N), the same
//! at every start.

mod common;

use common::service::Service;
use std::collections::HashMap;
use std::process::Command;

/// FNV-1a, 64 bits, as docs/SCALING.md gives it to deployment scripts.
fn fnv1a(name: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

const SITES: [&str; 12] = [
    "beijing-xxgk",
    "tianjin-hexi",
    "hebei-shijiazhuang",
    "shanxi-taiyuan",
    "neimenggu-baotou",
    "liaoning-dalian",
    "jilin-changchun",
    "shanghai-pudong",
    "jiangsu-suzhou",
    "zhejiang-hangzhou",
    "anhui-hefei",
    "fujian-xiamen",
];

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
            assert_eq!(fnv1a(name) % 3, k, "{name} is listed by shard {k}");
            assert!(owner.insert(name.clone(), k).is_none(), "{name} twice");
        }
        // a site of another shard is not this process's to crawl
        let other = SITES.iter().find(|n| fnv1a(n) % 3 != k).unwrap();
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
        let out = Command::new(env!("CARGO_BIN_EXE_govsnap"))
            .args([
                "serve",
                "--config",
                config.to_str().unwrap(),
                "--shard",
                bad,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("is not a shard: write K/N"),
            "{bad}: {stderr}"
        );
    }
}
