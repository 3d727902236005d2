//! Fills a store with generated disclosure documents for the search
//! benchmark (`bench/search.sh`), and samples the queries it asks:
//!
//! ```sh
//! cargo run --release --example search_corpus -- 100000 STORE QUERIES
//! ```
//!
//! Documents are those of the search tests (`tests/common/corpus.rs`),
//! extracted on every core and stored in batches, without the index (the
//! benchmark times `govsnap reindex` on the result). Prints one JSON line:
//! documents, the bytes of their searchable text (title, metadata, text),
//! seconds. QUERIES gets 1,000 quoted strings of 2–8 characters sampled
//! from the documents' text, one per line.

#[path = "../tests/common/corpus.rs"]
mod corpus;

use govsnap::store::Fetch;
use govsnap::{ExtractOptions, Page, Record, Store, extract};
use std::io::Write;
use std::time::{Duration, Instant, UNIX_EPOCH};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [n, store, queries] = args.as_slice() else {
        eprintln!("usage: search_corpus N STORE QUERIES");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a number");
    let started = Instant::now();
    let store = Store::open(std::path::Path::new(store)).expect("the store opens");
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let (tx, rx) = std::sync::mpsc::sync_channel::<(corpus::Doc, Record)>(1024);
    let mut text_bytes = 0u64;
    let mut samples = Vec::new();
    let mut rng = fastrand::Rng::with_seed(7);
    std::thread::scope(|s| {
        for worker in 0..cores {
            let tx = tx.clone();
            s.spawn(move || {
                for i in (worker..n).step_by(cores) {
                    let doc = corpus::doc(i, 1);
                    let page = Page {
                        bytes: doc.html.as_bytes(),
                        url: Some(&doc.url),
                        ..Page::default()
                    };
                    let record = extract(&page, None, ExtractOptions::default()).expect("extracts");
                    if tx.send((doc, record)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(tx);
        let mut batch: Vec<(corpus::Doc, Record)> = Vec::with_capacity(256);
        let flush = |batch: &mut Vec<(corpus::Doc, Record)>| {
            let fetches: Vec<(Fetch<'_>, &Record)> = batch
                .iter()
                .map(|(doc, record)| {
                    let at = UNIX_EPOCH + Duration::from_secs(1_733_000_000 + doc.i as u64);
                    (
                        Fetch::plain(&doc.url, Some(doc.site), at, 200, doc.html.as_bytes()),
                        record,
                    )
                })
                .collect();
            store.put_batch(&fetches).expect("the batch is stored");
            batch.clear();
        };
        for (doc, record) in rx {
            text_bytes += (record.title.as_deref().unwrap_or("").len()
                + record.text.len()
                + record.meta.values().map(String::len).sum::<usize>()
                + record.source.as_deref().unwrap_or("").len()) as u64;
            if samples.len() < 1000 && rng.usize(..(n / 1300).max(1)) == 0 {
                let chars: Vec<char> = record.text.chars().collect();
                let len = rng.usize(2..=8);
                if chars.len() > len {
                    let at = rng.usize(..chars.len() - len);
                    let sample: String = chars[at..at + len].iter().collect();
                    if !sample.contains(['\n', '"']) && sample.chars().any(char::is_alphanumeric) {
                        samples.push(format!("\"{sample}\""));
                    }
                }
            }
            batch.push((doc, record));
            if batch.len() == 256 {
                flush(&mut batch);
            }
        }
        flush(&mut batch);
    });
    store.close().expect("the store closes");
    let mut out = std::fs::File::create(queries).expect("the queries file");
    for q in &samples {
        writeln!(out, "{q}").expect("a query is written");
    }
    println!(
        "{{\"documents\": {n}, \"text_bytes\": {text_bytes}, \"queries\": {}, \"seconds\": {:.1}}}",
        samples.len(),
        started.elapsed().as_secs_f64()
    );
}
