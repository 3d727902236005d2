//! Store economy (issue 16): the store that holds a generated site with a
//! real site's template (bench/gen_site.py --heavy, about 30 KB a page)
//! stays under a quarter of the site's HTML, raw bytes and records
//! included, and every page reads back exactly.

mod common;

use common::{govsnap, ok};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `bench/gen_site.py N DIR --heavy` as a `wget -r` mirror of
/// www.example.gov.cn: the HTML bytes of its articles.
fn heavy_mirror(articles: usize, dir: &Path) -> u64 {
    let site = dir.join("www.example.gov.cn");
    let status = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_site.py"))
        .arg(articles.to_string())
        .arg(&site)
        .arg("--heavy")
        .status()
        .expect("python3 runs bench/gen_site.py");
    assert!(status.success());
    let mut bytes = 0;
    for month in std::fs::read_dir(site.join("gk")).unwrap() {
        let month = month.unwrap().path();
        if month.is_dir() {
            for page in std::fs::read_dir(month).unwrap() {
                bytes += page.unwrap().metadata().unwrap().len();
            }
        }
    }
    bytes
}

#[test]
fn a_generated_site_takes_under_a_quarter_of_its_html() {
    let tmp = tempfile::tempdir().unwrap();
    let articles = 800;
    let html = heavy_mirror(articles, &tmp.path().join("mirror"));
    let config = tmp.path().join("site.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\n[[site]]\nname = \"example\"\nseeds = [\"http://www.example.gov.cn/gk/index.html\"]\n\
             documents = ['/t\\d{{8}}_\\d+\\.html$']\n",
            tmp.path().join("store").display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let summary: Value = serde_json::from_str(&ok(&govsnap(&[
        "ingest",
        "--config",
        cfg,
        "--format",
        "json",
        tmp.path().join("mirror").to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(
        summary["new_versions"].as_u64(),
        Some(articles as u64),
        "{summary}"
    );
    let stats: Value = serde_json::from_str(&ok(&govsnap(&[
        "stats", "--config", cfg, "--format", "json",
    ])))
    .unwrap();
    let disk = stats["disk_bytes"].as_u64().unwrap();
    #[allow(clippy::cast_precision_loss)]
    let ratio = disk as f64 / html as f64;
    assert!(ratio <= 0.25, "the store is {ratio:.3}× the HTML: {stats}");
    let dicts = stats["trees"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tree"] == "dicts")
        .unwrap()["entries"]
        .as_u64();
    assert_eq!(
        dicts,
        Some(2),
        "a dictionary for raw bytes and one for records"
    );
    // every record reads back, and the raw bytes of a page stored with
    // the dictionary are the page as served (in the WARC export)
    let export = ok(&govsnap(&["export", "--config", cfg]));
    assert_eq!(export.lines().count(), articles);
    let warc = tmp.path().join("out.warc.gz");
    ok(&govsnap(&[
        "export",
        "--config",
        cfg,
        "--format",
        "warc",
        "-o",
        warc.to_str().unwrap(),
    ]));
    let mut text = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&warc).unwrap()),
        &mut text,
    )
    .unwrap();
    // article 799: 2024-05-16 (bench/gen_site.py's calendar)
    let page = std::fs::read(
        tmp.path()
            .join("mirror/www.example.gov.cn/gk/202405/t20240516_100799.html"),
    )
    .unwrap();
    assert!(
        text.windows(page.len()).any(|w| w == page.as_slice()),
        "the page's raw bytes are in the export"
    );
}
