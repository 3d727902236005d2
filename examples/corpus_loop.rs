//! Runs the fixture corpus through one stage many times, for instruction
//! counting under `valgrind --tool=callgrind` (see `bench/instructions.sh`):
//!
//! ```sh
//! cargo run --release --example corpus_loop -- parse 20     # Html::parse_document only
//! cargo run --release --example corpus_loop -- extract 20   # the whole pipeline
//! ```
//!
//! Pages are read and decoded once before the loop; `parse` parses the
//! decoded text, `extract` starts again from the raw bytes.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cases: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).expect("cases.json"))
            .expect("cases.json parses");
    let pages: Vec<(Vec<u8>, String, String)> = cases
        .iter()
        .map(|c| {
            let bytes =
                std::fs::read(dir.join(c["path"].as_str().unwrap_or_default())).expect("fixture");
            let text = govsnap::decode::decode(&bytes, c["content_type"].as_str()).text;
            (
                bytes,
                text,
                c["url"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "extract".to_owned());
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    for _ in 0..rounds {
        for (bytes, text, url) in &pages {
            if mode == "parse" {
                std::hint::black_box(scraper::Html::parse_document(text));
            } else {
                let page = govsnap::Page {
                    bytes,
                    url: Some(url),
                    ..govsnap::Page::default()
                };
                std::hint::black_box(
                    govsnap::extract(&page, None, govsnap::ExtractOptions::default()).ok(),
                );
            }
        }
    }
}
