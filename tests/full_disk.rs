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
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

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
    served: Arc<AtomicU32>,
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

async fn serve_county(State(county): State<County>, uri: Uri) -> Response {
    let path = uri.path();
    let html =
        |body: String| ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    let list = path
        .strip_prefix("/zwgk/index")
        .and_then(|r| r.strip_suffix(".html"))
        .and_then(|r| {
            if r.is_empty() {
                Some(0)
            } else {
                r.strip_prefix('_')?.parse::<u32>().ok()
            }
        });
    if let Some(page) = list {
        let pages = county.articles.div_ceil(20);
        if page >= pages {
            return StatusCode::NOT_FOUND.into_response();
        }
        let items: String = (0..20)
            .filter_map(|i| county.articles.checked_sub(1 + page * 20 + i))
            .map(|n| format!("<li><a href=\"./202403/t20240301_{n}.html\">关于做好第{n}批民生实事项目的通知</a><span>2024-03-01</span></li>"))
            .collect();
        let next = if page + 1 < pages {
            format!("<a href=\"index_{}.html\">下一页</a>", page + 1)
        } else {
            String::new()
        };
        return html(format!(
            "<html><head><meta charset=\"utf-8\"><title>政府信息公开_某县人民政府</title></head><body>\
             <div class=\"crumb\">首页 &gt; 政府信息公开</div><ul class=\"list\">{items}</ul>\
             <div class=\"page\">{next}</div><div class=\"foot\">某县人民政府办公室主办 冀ICP备12345678号</div></body></html>"
        ));
    }
    let n = path
        .strip_prefix("/zwgk/202403/t20240301_")
        .and_then(|r| r.strip_suffix(".html"))
        .and_then(|r| r.parse::<u32>().ok())
        .filter(|n| *n < county.articles);
    let Some(n) = n else {
        return StatusCode::NOT_FOUND.into_response();
    };
    county.served.fetch_add(1, Ordering::Relaxed);
    html(format!(
        "<html><head><meta charset=\"utf-8\"><title>关于做好第{n}批民生实事项目的通知</title></head><body>\
         <div class=\"crumb\">首页 &gt; 政府信息公开 &gt; 通知公告</div><div class=\"article\">\
         <h1>关于做好第{n}批民生实事项目的通知</h1><div class=\"info\">发布日期：2024-03-01 来源：县政府办公室</div>\
         <div class=\"content\"><p>各乡镇人民政府，县政府各部门：{text}</p></div></div>\
         <div class=\"foot\">某县人民政府办公室主办 冀ICP备12345678号 冀公网安备13010202000001号</div></body></html>",
        text = article_text(n)
    ))
}

fn county(articles: u32) -> (County, SocketAddr) {
    let county = County {
        articles,
        served: Arc::default(),
    };
    let addr = common::serve_on_thread(
        Router::new()
            .fallback(serve_county)
            .with_state(county.clone()),
    );
    (county, addr)
}

/// A config for the county site with its store on the tmpfs.
fn config(dir: &Path, store: &Path, addr: SocketAddr) -> PathBuf {
    let path = dir.join("county.toml");
    std::fs::write(
        &path,
        format!(
            "store = \"{}\"\n[crawl]\nconcurrency = 4\nper_host_concurrency = 4\nper_host_delay_ms = 0\nrespect_robots = false\n\
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
        // a page of one version has nothing to compare: said as always
        if args[0] == "diff" && stderr(&out).contains("has only version 1") {
            continue;
        }
        if !out.status.success() {
            assert_says_full(&out, &args.join(" "));
        }
    }
}

/// Once space is freed: the store opens, a crawl completes it with one
/// version per document, and its WARC passes `warcio check`.
fn completes_after_freeing(fs: &Tmpfs, config: &str, articles: u32, scratch: &Path) {
    fs.free_space();
    let out = govsnap(&["crawl", "--config", config, "--format", "json"]);
    assert!(
        out.status.success(),
        "the crawl after freeing: {}",
        stderr(&out)
    );
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
    let check = Command::new(common::tool("warcio"))
        .arg("check")
        .arg(&warc)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "warcio check: {}",
        String::from_utf8_lossy(&check.stdout)
    );
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
        let config = config(scratch.path(), &store, addr);
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
