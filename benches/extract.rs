//! Extraction throughput over the fixture corpus, side by side in one run:
//!
//! - `parse_only`: `scraper::Html::parse_document` on the decoded pages, the
//!   floor any DOM-based extractor pays;
//! - `govsnap_extract`: the whole pipeline from raw bytes (decode, parse,
//!   clean, structure, record);
//! - `dom_smoothie`: the `Readability` port on the same decoded pages.
//!
//! Parse-only and dom_smoothie get their text decoded outside the timed loop;
//! govsnap decodes inside it. Two corpora: the fixture pages (government
//! templates), and, when `../shared/aeb/html` is there, the Article
//! Extraction Benchmark's 181 news and blog pages (the generic fallback's
//! pages, larger and mostly English). Run with `cargo bench --bench
//! extract`; the figures go to `docs/PERFORMANCE.md`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use govsnap::{ExtractOptions, Page, extract};
use std::hint::black_box;
use std::path::Path;

struct Fixture {
    bytes: Vec<u8>,
    text: String,
    url: String,
    content_type: Option<String>,
}

fn corpus() -> Vec<Fixture> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    cases
        .iter()
        .map(|c| {
            let bytes = std::fs::read(dir.join(c["path"].as_str().unwrap())).unwrap();
            let content_type = c["content_type"].as_str().map(str::to_owned);
            let text = govsnap::decode::decode(&bytes, content_type.as_deref()).text;
            Fixture {
                bytes,
                text,
                url: c["url"].as_str().unwrap().to_owned(),
                content_type,
            }
        })
        .collect()
}

/// The Article Extraction Benchmark's pages, when the benchmark is there.
fn aeb_corpus() -> Vec<Fixture> {
    use std::io::Read;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/aeb/html");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let mut bytes = Vec::new();
            flate2::read::GzDecoder::new(std::fs::File::open(p).unwrap())
                .read_to_end(&mut bytes)
                .unwrap();
            let text = govsnap::decode::decode(&bytes, None).text;
            Fixture {
                bytes,
                text,
                url: "https://www.example.com/news/article.html".to_owned(),
                content_type: None,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    bench_corpus(c, "fixtures", &corpus());
    let aeb = aeb_corpus();
    if !aeb.is_empty() {
        bench_corpus(c, "aeb", &aeb);
    }
}

fn bench_corpus(c: &mut Criterion, name: &str, corpus: &[Fixture]) {
    let total: usize = corpus.iter().map(|f| f.bytes.len()).sum();
    let mut group = c.benchmark_group(format!("{name}_{}_pages", corpus.len()));
    group.throughput(Throughput::Bytes(total as u64));
    group.bench_function("parse_only", |b| {
        b.iter(|| {
            for f in corpus {
                black_box(scraper::Html::parse_document(black_box(&f.text)));
            }
        });
    });
    group.bench_function("govsnap_extract", |b| {
        b.iter(|| {
            for f in corpus {
                let page = Page {
                    bytes: &f.bytes,
                    url: Some(&f.url),
                    content_type: f.content_type.as_deref(),
                    ..Page::default()
                };
                black_box(extract(black_box(&page), None, ExtractOptions::default()).unwrap());
            }
        });
    });
    group.bench_function("dom_smoothie", |b| {
        b.iter(|| {
            for f in corpus {
                let parsed =
                    dom_smoothie::Readability::new(black_box(f.text.as_str()), Some(&f.url), None)
                        .and_then(|mut r| r.parse());
                black_box(parsed.ok());
            }
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
