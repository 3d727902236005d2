//! A full disk is an expected state, not damage (SPEC §5, issue 27): the
//! store on a small tmpfs that a crawl, an ingest and a service fill, at
//! several fill points, and with `kill -9` at the moment the disk fills.
//! Every command then says the disk is full (exit 2), the read commands
//! answer or say so, and once space is freed the store opens, the next
//! crawl completes it with one version per document, and its WARC export
//! passes `warcio check`.
//!
//! Mounting needs root (tests run as root here); elsewhere each test says
//! it is skipped and why, and passes.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tmpfs mounted on a temporary directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// `None` (and a line on stderr) where mounting is not allowed.
    fn mount(megabytes: u32) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => Some(Self { dir }),
            Ok(out) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs here (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Bytes free on it.
    fn free(&self) -> u64 {
        let out = Command::new("df")
            .args(["--output=avail", "-B1"])
            .arg(self.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse().ok())
            .unwrap()
    }

    /// Take all but `leave` bytes of what is free with one more ballast
    /// file (all of it with 0: the disk is full).
    fn fill_leaving(&self, leave: u64) {
        use std::io::Write;
        let n = std::fs::read_dir(self.ballast()).map_or(0, Iterator::count);
        std::fs::create_dir_all(self.ballast()).unwrap();
        let mut ballast = std::fs::File::create(self.ballast().join(n.to_string())).unwrap();
        // tmpfs allocates on write, not on set_len: write it, to the last
        // byte it takes
        let chunk = vec![0x5a_u8; 64 << 10];
        let mut left = self.free().saturating_sub(leave);
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            match ballast.write(&chunk[..n]) {
                Ok(0) | Err(_) => break,
                Ok(n) => left -= n as u64,
            }
        }
    }

    fn ballast(&self) -> PathBuf {
        self.path().join("ballast")
    }

    /// Free the space the ballast took.
    fn free_space(&self) {
        let _ = std::fs::remove_dir_all(self.ballast());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.path()).status();
    }
}

/// A county government's 政府信息公开 column: list pages of 20, newest
/// first, and articles whose text is varied enough that compression does
/// not hide their size (about 9 KB of HTML each).
#[derive(Clone)]
struct County {
    articles: u32,
}

fn article_text(n: u32) -> String {
    // a deterministic stream of common characters: varied, as real text is
    const CHARS: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质";
    let chars: Vec<char> = CHARS.chars().collect();
    let mut x = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut text = String::new();
    for i in 0..2400 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push(chars[(x % chars.len() as u64) as usize]);
        if i % 120 == 119 {
            text.push_str("。</p><p>");
        }
    }
    text
}

/// List page `page` of the column (20 articles, newest first), if there
/// is one.
fn list_html(articles: u32, page: u32) -> Option<String> {
    let pages = articles.div_ceil(20);
    if page >= pages {
        return None;
    }
    let items: String = (0..20)
        .filter_map(|i| articles.checked_sub(1 + page * 20 + i))
        .map(|n| format!("<li><a href=\"./202403/t20240301_{n}.html\">关于做好第{n}批民生实事项目的通知</a><span>2024-03-01</span></li>"))
        .collect();
    let next = if page + 1 < pages {
        format!("<a href=\"index_{}.html\">下一页</a>", page + 1)
    } else {
        String::new()
    };
    Some(format!(
        "<html><head><meta charset=\"utf-8\"><title>政府信息公开_某县人民政府</title></head><body>\
         <div class=\"crumb\">首页 &gt; 政府信息公开</div><ul class=\"list\">{items}</ul>\
         <div class=\"page\">{next}</div><div class=\"foot\">某县人民政府办公室主办 冀ICP备12345678号</div></body></html>"
    ))
}

fn article_html(n: u32) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>关于做好第{n}批民生实事项目的通知</title></head><body>\
         <div class=\"crumb\">首页 &gt; 政府信息公开 &gt; 通知公告</div><div class=\"article\">\
         <h1>关于做好第{n}批民生实事项目的通知</h1><div class=\"info\">发布日期：2024-03-01 来源：县政府办公室</div>\
         <div class=\"content\"><p>各乡镇人民政府，县政府各部门：{text}</p></div></div>\
         <div class=\"foot\">某县人民政府办公室主办 冀ICP备12345678号 冀公网安备13010202000001号</div></body></html>",
        text = article_text(n)
    )
}

/// The path of list page `page`: `/zwgk/index.html`, `/zwgk/index_N.html`.
fn list_path(page: u32) -> String {
    if page == 0 {
        "/zwgk/index.html".to_owned()
    } else {
        format!("/zwgk/index_{page}.html")
    }
}

fn article_path(n: u32) -> String {
    format!("/zwgk/202403/t20240301_{n}.html")
}

async fn serve_county(State(county): State<County>, uri: Uri) -> Response {
    let path = uri.path();
    let page = (0..county.articles.div_ceil(20)).find(|p| list_path(*p) == path);
    let body = if let Some(page) = page {
        list_html(county.articles, page)
    } else {
        (0..county.articles)
            .find(|n| article_path(*n) == path)
            .map(article_html)
    };
    match body {
        Some(body) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The column as `wget -r` mirrors it: `DIR/HOST:PORT/PATH`.
fn mirror(dir: &Path, addr: SocketAddr, articles: u32) {
    let host = dir.join(addr.to_string());
    for page in 0..articles.div_ceil(20) {
        let path = host.join(&list_path(page)[1..]);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, list_html(articles, page).unwrap()).unwrap();
    }
    for n in 0..articles {
        let path = host.join(&article_path(n)[1..]);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, article_html(n)).unwrap();
    }
}

fn county(articles: u32) -> (County, SocketAddr) {
    let county = County { articles };
    let addr = common::serve_on_thread(
        Router::new()
            .fallback(serve_county)
            .with_state(county.clone()),
    );
    (county, addr)
}

/// A config for the county site with its store on the tmpfs, keeping
/// `min_free` free ("0": none).
fn config(dir: &Path, store: &Path, addr: SocketAddr, min_free: &str) -> PathBuf {
    let path = dir.join("county.toml");
    std::fs::write(
        &path,
        format!(
            "[store]\npath = \"{}\"\nmin_free = \"{min_free}\"\n\
             [crawl]\nconcurrency = 4\nper_host_concurrency = 4\nper_host_delay_ms = 0\nrespect_robots = false\n\
             [[site]]\nname = \"county\"\nseeds = [\"http://{addr}/zwgk/index.html\"]\nallow = [\"^http://{addr}/zwgk/\"]\n\
             documents = [\"/t\\\\d{{8}}_\\\\d+\\\\.html$\"]\ncontent = \"div.content\"\nmax_depth = 200\n",
            store.display()
        ),
    )
    .unwrap();
    path
}

fn govsnap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_govsnap"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A full disk's words: what happened and what to do, never damage.
fn assert_says_full(out: &Output, doing: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{doing}: {err}");
    assert!(
        err.contains("is full (No space left on device)") && err.contains("free space"),
        "{doing}: {err}"
    );
    for wrong in ["corrupt", "cannot read", "panicked"] {
        assert!(!err.contains(wrong), "{doing}: {err}");
    }
}

/// What every read command does on a full disk: answers, or says the disk
/// is full; never calls the store damaged.
fn read_commands_on_a_full_disk(config: &str, url: &str, scratch: &Path) {
    let export = scratch.join("full.jsonl");
    let export = export.to_str().unwrap();
    for args in [
        vec!["pages", "--config", config],
        vec!["history", "--config", config, url],
        vec!["show", "--config", config, url],
        vec!["diff", "--config", config, url],
        vec!["stats", "--config", config],
        vec!["export", "--config", config, "-o", export],
    ] {
        let out = govsnap(&args);
        // a page of one version has nothing to compare, and a crawl killed
        // early may not have stored the page asked for: said as always
        let err = stderr(&out);
        if err.contains("has only version 1") || err.contains("the store has no page") {
            continue;
        }
        if !out.status.success() {
            assert_says_full(&out, &args.join(" "));
        }
    }
}

/// The store complete: it opens, every document once with one version,
/// and its WARC export passes `warcio check`.
fn assert_complete(config: &str, articles: u32, scratch: &Path) {
    let pages = govsnap(&["pages", "--config", config, "--format", "json"]);
    assert!(pages.status.success(), "{}", stderr(&pages));
    let versions: Vec<u64> = String::from_utf8_lossy(&pages.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["versions"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(versions.len(), articles as usize, "every document stored");
    assert!(
        versions.iter().all(|&v| v == 1),
        "one version each: {versions:?}"
    );
    let warc = scratch.join("county.warc.gz");
    let out = govsnap(&[
        "export",
        "--config",
        config,
        "--format",
        "warc",
        "-o",
        warc.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    common::warc::assert_warcio_checks(&warc);
}

/// Once space is freed: a crawl completes the store.
fn completes_after_freeing(fs: &Tmpfs, config: &str, articles: u32, scratch: &Path) {
    fs.free_space();
    let out = govsnap(&["crawl", "--config", config, "--format", "json"]);
    assert!(
        out.status.success(),
        "the crawl after freeing: {}",
        stderr(&out)
    );
    assert_complete(config, articles, scratch);
}

#[test]
fn a_crawl_that_fills_the_disk_stops_says_so_and_the_next_completes_the_store() {
    let articles = 600;
    let (_county, addr) = county(articles);
    // free space at which the crawl starts: early, midway, late
    for leave_mb in [1, 3, 6] {
        let Some(fs) = Tmpfs::mount(24) else { return };
        let scratch = tempfile::tempdir().unwrap();
        let store = fs.path().join("store");
        let config = config(scratch.path(), &store, addr, "0");
        let config = config.to_str().unwrap();
        fs.fill_leaving(leave_mb << 20);
        let out = govsnap(&["crawl", "--config", config]);
        assert_says_full(&out, &format!("crawl with {leave_mb} MB free"));
        assert!(
            stderr(&out).contains("documents of this crawl were stored"),
            "{}",
            stderr(&out)
        );
        // what the failed writes left free is taken too: the disk stays full
        fs.fill_leaving(0);
        let url = format!("http://{addr}/zwgk/202403/t20240301_{}.html", articles - 1);
        read_commands_on_a_full_disk(config, &url, scratch.path());
        completes_after_freeing(&fs, config, articles, scratch.path());
    }
}

#[test]
fn an_ingest_that_fills_the_disk_stops_says_so_and_the_next_completes_the_store() {
    let articles = 600;
    let addr: SocketAddr = "127.0.0.1:8090".parse().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let site = scratch.path().join("mirror");
    mirror(&site, addr, articles);
    for leave_mb in [2, 5] {
        let Some(fs) = Tmpfs::mount(24) else { return };
        let config = config(scratch.path(), &fs.path().join("store"), addr, "0");
        let config = config.to_str().unwrap();
        let ingest = || govsnap(&["ingest", "--config", config, site.to_str().unwrap()]);
        fs.fill_leaving(leave_mb << 20);
        let out = ingest();
        assert_says_full(&out, &format!("ingest with {leave_mb} MB free"));
        assert!(
            stderr(&out).contains("documents of this ingest were stored"),
            "{}",
            stderr(&out)
        );
        fs.fill_leaving(0);
        let url = format!("http://{addr}{}", article_path(0));
        read_commands_on_a_full_disk(config, &url, scratch.path());
        fs.free_space();
        let out = ingest();
        assert!(
            out.status.success(),
            "the ingest after freeing: {}",
            stderr(&out)
        );
        assert_complete(config, articles, scratch.path());
    }
}

#[test]
fn a_crawl_killed_the_moment_the_disk_fills_loses_nothing() {
    let articles = 600;
    let (_county, addr) = county(articles);
    for leave_mb in [2, 5] {
        let Some(fs) = Tmpfs::mount(24) else { return };
        let scratch = tempfile::tempdir().unwrap();
        let config = config(scratch.path(), &fs.path().join("store"), addr, "0");
        let config = config.to_str().unwrap();
        fs.fill_leaving(leave_mb << 20);
        let mut child = Command::new(env!("CARGO_BIN_EXE_govsnap"))
            .args(["crawl", "--config", config])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // kill -9 as the last bytes go, before govsnap can say anything
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if fs.free() < 256 << 10 {
                child.kill().unwrap();
                break;
            }
            assert!(started.elapsed().as_secs() < 120, "the disk never filled");
        }
        child.wait().unwrap();
        fs.fill_leaving(0);
        let url = format!("http://{addr}{}", article_path(articles - 1));
        read_commands_on_a_full_disk(config, &url, scratch.path());
        completes_after_freeing(&fs, config, articles, scratch.path());
    }
}

#[test]
fn a_crawl_warns_under_min_free_and_pauses_under_half_of_it() {
    let articles = 600;
    let (_county, addr) = county(articles);
    let Some(fs) = Tmpfs::mount(24) else { return };
    let scratch = tempfile::tempdir().unwrap();
    let config = config(scratch.path(), &fs.path().join("store"), addr, "8MB");
    let config = config.to_str().unwrap();
    fs.fill_leaving(7 << 20);
    let out = govsnap(&["crawl", "--config", config]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("under [store] min_free"), "the warning: {err}");
    assert!(
        err.contains("under half of [store] min_free = 8.0 MB"),
        "the pause: {err}"
    );
    assert!(err.contains("documents of this crawl were stored"), "{err}");
    // paused, not full: the store's disk keeps its last bytes (a pause is
    // noticed before a batch is stored: at most one batch and sled's spare
    // segments past the mark)
    assert!(!err.contains("No space left"), "{err}");
    assert!(fs.free() >= 1 << 20, "{} bytes free", fs.free());
    completes_after_freeing(&fs, config, articles, scratch.path());
}

#[test]
fn a_service_on_a_full_disk_keeps_answering_and_crawls_again_when_space_is_back() {
    let articles = 600;
    let (_county, addr) = county(articles);
    let Some(fs) = Tmpfs::mount(24) else { return };
    let scratch = tempfile::tempdir().unwrap();
    let store = fs.path().join("store");
    let config = config(scratch.path(), &store, addr, "0");
    let service = common::service::Service::start(&config, &store, "127.0.0.1:0");
    fs.fill_leaving(3 << 20);
    assert_eq!(service.post("/api/v1/sites/county/crawl", true), 202);
    let error = common::service::wait_until("the crawl to stop on the full disk", || {
        let site = service.site();
        (site["crawling"] == false)
            .then(|| site["last_error"].as_str().map(str::to_owned))
            .flatten()
    });
    assert!(
        error.contains("is full (No space left on device)"),
        "{error}"
    );
    fs.fill_leaving(0);
    // still up, still answering: the API, the pages, the metrics
    let pages = service.api("/api/v1/pages?site=county");
    assert!(pages.to_string().contains("t20240301_"), "{pages}");
    let home = service.get("/", false).1;
    assert!(
        home.as_str().unwrap().contains("is full"),
        "the home page says so"
    );
    let metrics = service.get("/metrics", true).1;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("govsnap_store_free_bytes "),
        "{metrics}"
    );
    // space back: the crawl asked for again continues where it stopped
    fs.free_space();
    assert_eq!(service.post("/api/v1/sites/county/crawl", true), 202);
    common::service::wait_until("the crawl to finish", || {
        let site = service.site();
        (site["crawling"] == false && site["last_error"].is_null()).then_some(())
    });
    // and the search index, whose writes failed on the full disk too,
    // catches up with every article
    common::service::wait_until("every article to be searchable", || {
        let answer =
            service.api("/api/v1/search?q=%E6%B0%91%E7%94%9F%E5%AE%9E%E4%BA%8B%E9%A1%B9%E7%9B%AE");
        (answer["total"] == articles).then_some(())
    });
    assert!(service.stop().success());
    assert_complete(config.to_str().unwrap(), articles, scratch.path());
}
