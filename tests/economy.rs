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
    let status = Command::new(common::tool("python3"))
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
    let articles = 1500;
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
        Some(1),
        "a dictionary for raw bytes (records are kept against them)"
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

/// Serve `dir` on 127.0.0.1 like a CMS behind a cache: every page has an
/// `ETag`, but only half of them honour `If-None-Match` (304); the others
/// answer 200 with the same bytes, as many government sites do.
fn serve_dir(dir: std::path::PathBuf) -> std::net::SocketAddr {
    use axum::http::{HeaderMap, StatusCode, Uri, header};
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
        let dir = dir.clone();
        async move {
            let path = dir.join(uri.path().trim_start_matches('/'));
            let Ok(body) = std::fs::read(&path) else {
                return (StatusCode::NOT_FOUND, HeaderMap::new(), Vec::new());
            };
            let etag = format!("\"{}\"", &blake3::hash(&body).to_hex()[..16]);
            let honours = blake3::hash(uri.path().as_bytes()).as_bytes()[0].is_multiple_of(2);
            let mut out = HeaderMap::new();
            out.insert(
                header::CONTENT_TYPE,
                "text/html; charset=utf-8".parse().unwrap(),
            );
            out.insert(header::ETAG, etag.parse().unwrap());
            let matches = headers
                .get(header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == etag.as_bytes());
            if honours && matches {
                return (StatusCode::NOT_MODIFIED, out, Vec::new());
            }
            (StatusCode::OK, out, body)
        }
    });
    common::serve_on_thread(app)
}

/// A recrawl that finds nothing changed (304s and 200s with the same
/// bytes) adds nothing but its fetch log, three times in a row: every tree
/// keeps its entries and bytes; the store's files, sled's included, grow by
/// at most 50 bytes a page from one recrawl to the next (the reads between
/// them, `stats` and `pages`, counted in); and each page's last fetch still
/// moves on (kept in its frontier slot, `src/store/slots.rs`).
///
/// sled's file grows by 512 KiB segments, 350 bytes a page here: before a
/// crawl closed the store with `Store::close` (`src/store/disk.rs`), the
/// first process to open it after the first crawl took one now and then.
#[test]
fn an_unchanged_recrawl_adds_only_its_fetch_log() {
    let tmp = tempfile::tempdir().unwrap();
    let articles = 1500;
    let site = tmp.path().join("site");
    let status = Command::new(common::tool("python3"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/gen_site.py"))
        .arg(articles.to_string())
        .arg(&site)
        .status()
        .expect("python3 runs bench/gen_site.py");
    assert!(status.success());
    let addr = serve_dir(site);
    let config = tmp.path().join("site.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\n[crawl]\nconcurrency = 16\nper_host_concurrency = 16\nper_host_delay_ms = 0\n\
             respect_robots = false\n[[site]]\nname = \"gk\"\nseeds = [\"http://{addr}/gk/index.html\"]\n\
             documents = ['/t\\d{{8}}_\\d+\\.html$']\nmax_depth = 100000\n",
            tmp.path().join("store").display()
        ),
    )
    .unwrap();
    let cfg = config.to_str().unwrap();
    let crawl = |extra: &[&str]| -> Value {
        let mut args = vec!["crawl", "--config", cfg, "--format", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str(&ok(&govsnap(&args))).unwrap()
    };
    // every tree but `meta` (crawl records): entries, key bytes, value
    // bytes; the fetch log is the file of that name, in frames
    let trees = || -> Vec<(String, u64, u64, u64)> {
        let stats: Value = serde_json::from_str(&ok(&govsnap(&[
            "stats", "--config", cfg, "--format", "json",
        ])))
        .unwrap();
        let n = |t: &Value, k: &str| t[k].as_u64().unwrap();
        stats["trees"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["tree"] != "meta")
            .map(|t| {
                let name = t["tree"].as_str().unwrap().to_owned();
                (
                    name,
                    n(t, "entries"),
                    n(t, "key_bytes"),
                    n(t, "value_bytes"),
                )
            })
            .collect()
    };
    // the store's files, the packs' and sled's included
    fn bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|f| {
                let f = f.unwrap();
                let meta = f.metadata().unwrap();
                if meta.is_dir() {
                    bytes(&f.path())
                } else {
                    meta.len()
                }
            })
            .sum()
    }
    let files = || -> u64 { bytes(&tmp.path().join("store")) };
    // each of the store's entries' bytes: which one grew, when one does
    let entries = || -> Vec<(String, u64)> {
        let mut all: Vec<(String, u64)> = std::fs::read_dir(tmp.path().join("store"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let meta = e.metadata().unwrap();
                let size = if meta.is_dir() {
                    bytes(&e.path())
                } else {
                    meta.len()
                };
                (e.file_name().to_string_lossy().into_owned(), size)
            })
            .collect();
        all.sort();
        all
    };
    let last_fetched = || -> Vec<(String, u16)> {
        let out = ok(&govsnap(&["pages", "--config", cfg, "--format", "json"]));
        let pages: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(pages.len(), articles);
        pages
            .iter()
            .map(|p| {
                let status = u16::try_from(p["last_status"].as_u64().unwrap()).unwrap();
                (p["last_fetched"].as_str().unwrap().to_owned(), status)
            })
            .collect()
    };
    let first = crawl(&[]);
    assert_eq!(
        first["new_versions"].as_u64(),
        Some(articles as u64),
        "{first}"
    );
    let mut size = files();
    let mut parts = entries();
    let mut before = trees();
    let log =
        |trees: &[(String, u64, u64, u64)]| trees.iter().find(|t| t.0 == "fetch_log").unwrap().3;
    assert!(
        before
            .iter()
            .any(|t| t.0 == "frontier" && t.1 > articles as u64)
    );
    let mut fetched = last_fetched();
    for round in 1..=3 {
        let summary = crawl(&["--full"]);
        let (unchanged, not_modified) = (
            summary["unchanged"].as_u64().unwrap(),
            summary["not_modified"].as_u64().unwrap(),
        );
        assert_eq!(summary["new_versions"].as_u64(), Some(0), "{summary}");
        assert_eq!(unchanged + not_modified, articles as u64, "{summary}");
        assert!(unchanged > 0 && not_modified > 0, "both kinds: {summary}");
        let size_now = files();
        let now = trees();
        let grew = |t: &[(String, u64, u64, u64)]| {
            t.iter()
                .filter(|t| t.0 != "fetch_log")
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            grew(&now),
            grew(&before),
            "recrawl {round}: no tree changed"
        );
        let logged = log(&now) - log(&before);
        assert!(
            logged > 0 && logged <= 50 * articles as u64,
            "recrawl {round}: the fetch log grew by {logged} bytes"
        );
        let parts_now = entries();
        assert!(
            size_now.saturating_sub(size) <= 50 * articles as u64,
            "recrawl {round}: the store's files grew from {size} to {size_now} bytes: {parts:?} → {parts_now:?}"
        );
        (size, before, parts) = (size_now, now, parts_now);
        let now = last_fetched();
        for ((was, _), (is, status)) in fetched.iter().zip(&now) {
            assert!(is > was, "recrawl {round}: last fetch {was} → {is}");
            assert!([200, 304].contains(status));
        }
        assert!(now.iter().any(|(_, s)| *s == 304) && now.iter().any(|(_, s)| *s == 200));
        fetched = now;
    }
}
