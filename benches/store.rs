//! Store figures on 2,000 distinct pages made from the fixture corpus (each
//! fixture with a numbered paragraph added to its body), printed, not
//! asserted: run with `cargo bench --bench store`.
//!
//! - ingest pages/s (extract + store in batches, as `govsnap ingest`);
//! - bytes on disk per version, against the raw HTML bytes;
//! - bytes added by ingesting the same pages again unchanged (target < 300
//!   per page: only the fetch log and page states change);
//! - export records/s (stream every version and write it as JSON).

use govsnap::store::Fetch;
use govsnap::{ExtractOptions, Snapshots, Store};
use std::path::Path;
use std::time::{Instant, SystemTime};

const PAGES: usize = 2_000;
const AGAIN_ROUNDS: u32 = 20;

fn corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let pages: Vec<Vec<u8>> = cases
        .iter()
        .map(|c| std::fs::read(dir.join(c["path"].as_str().unwrap())).unwrap())
        .collect();
    (0..PAGES)
        .map(|i| {
            let html = String::from_utf8_lossy(&pages[i % pages.len()]).into_owned();
            let marker = format!("<p>本页为第{i}号基准测试页面，内容与其他页面不同。</p></body>");
            let url = format!(
                "http://www.example.gov.cn/gk/{}/t2024{:04}_{i}.html",
                i % 50,
                i % 1000
            );
            (url, html.replacen("</body>", &marker, 1).into_bytes())
        })
        .collect()
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_size(&p)
                    } else {
                        e.metadata().map_or(0, |m| m.len())
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn ingest(store: &Store, corpus: &[(String, Vec<u8>)]) -> f64 {
    let started = Instant::now();
    let mut snapshots = Snapshots::new(store);
    for (url, bytes) in corpus {
        let fetch = Fetch::plain(url, None, SystemTime::now(), 200, bytes);
        snapshots
            .add(&fetch, None, ExtractOptions::default())
            .unwrap();
    }
    snapshots.finish().unwrap();
    started.elapsed().as_secs_f64()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks; there are no named benchmarks
    }
    let corpus = corpus();
    let raw_bytes: usize = corpus.iter().map(|(_, b)| b.len()).sum();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("store");
    let store = Store::open(&path).unwrap();

    let secs = ingest(&store, &corpus);
    let after_first = dir_size(&path);
    // the same pages again, several rounds: sled grows its files a segment at
    // a time, so one round can hide in preallocated space
    let mut secs_again = 0.0;
    for _ in 0..AGAIN_ROUNDS {
        secs_again += ingest(&store, &corpus) / AGAIN_ROUNDS as f64;
    }
    let after_second = dir_size(&path);

    let started = Instant::now();
    let mut sink = std::io::sink();
    let mut records = 0;
    for version in store.all_versions() {
        serde_json::to_writer(&mut sink, &version.unwrap().record).unwrap();
        records += 1;
    }
    let export_secs = started.elapsed().as_secs_f64();

    #[allow(clippy::cast_precision_loss)]
    let (n, raw) = (PAGES as f64, raw_bytes as f64);
    println!(
        "pages: {PAGES} distinct, {:.1} KB raw HTML each",
        raw / n / 1024.0
    );
    println!("ingest: {:.0} pages/s ({secs:.2} s)", n / secs);
    println!(
        "on disk after the first ingest: {} bytes, {:.0} per version, {:.2}x the raw HTML",
        after_first,
        after_first as f64 / n,
        after_first as f64 / raw
    );
    let added = after_second.saturating_sub(after_first);
    println!(
        "ingest again, unchanged, {AGAIN_ROUNDS} rounds: {:.0} pages/s; {added} bytes added, {:.0} per page per round",
        n / secs_again,
        added as f64 / n / f64::from(AGAIN_ROUNDS)
    );
    println!(
        "export: {:.0} records/s ({records} records in {export_secs:.2} s)",
        records as f64 / export_secs
    );
}
