//! Real sites' tricks must not fool the crawler (SPEC §8, issue 28), through
//! the real binary against loopback sites built as provincial and county
//! JSP/ASP sites are: session ids in every link, tracking parameters in
//! shuffled order, a list that goes on for ever, an endless calendar, a
//! relative link that nests its directory; a GBK site whose column links
//! carry Chinese queries; documents linked only through script.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn write_config(dir: &Path, seed: &str, documents: &str, extra: &str) -> String {
    let path = dir.join("site.toml");
    std::fs::write(
        &path,
        format!(
            "store = \"{}\"\n[crawl]\nconcurrency = 4\nper_host_concurrency = 4\nper_host_delay_ms = 0\nrespect_robots = false\n\
             [[site]]\nname = \"site\"\nseeds = [\"{seed}\"]\ndocuments = ['{documents}']\n{extra}",
            dir.join("store").display()
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn crawl(config: &str) -> Value {
    let out = common::govsnap(&["crawl", "--config", config, "--format", "json"]);
    serde_json::from_str(&common::ok(&out)).unwrap()
}

/// Every document the store holds (aliases left out), with its versions.
fn stored(config: &str) -> Vec<(String, u64)> {
    all_pages(config)
        .into_iter()
        .filter(|p| p["alias_of"].is_null())
        .map(|p| {
            (
                p["url"].as_str().unwrap().to_owned(),
                p["versions"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Every page of the store, as `govsnap pages --format json` lists it.
fn all_pages(config: &str) -> Vec<Value> {
    let out = common::govsnap(&["pages", "--config", config, "--format", "json"]);
    common::ok(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

fn article(n: u32) -> String {
    format!(
        "<html><head><title>关于第{n}号事项的公告</title></head><body><div class=\"nav\">首页 &gt; 通知公告</div>\
         <div class=\"article\"><h1>关于第{n}号事项的公告</h1><div class=\"content\"><p>各有关单位：现将第{n}号事项公告如下，\
         请遵照执行。本公告自发布之日起施行，由县人民政府办公室负责解释。</p></div></div>\
         <div class=\"foot\">主办：某县人民政府 冀ICP备12345678号</div></body></html>"
    )
}

#[derive(Clone, Default)]
struct Jsp {
    /// Requests served.
    requests: Arc<AtomicU64>,
}

impl Jsp {
    /// A fresh session id, as a servlet container hands one to every
    /// response of a client that keeps no cookie.
    fn session(&self) -> String {
        format!(
            "{:016X}",
            self.requests
                .load(Ordering::Relaxed)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        )
    }
}

/// A JSP county site of 20 articles that puts a session id in every link.
async fn jsp(State(site): State<Jsp>, uri: Uri) -> Response {
    let n = site.requests.fetch_add(1, Ordering::Relaxed);
    let sid = site.session();
    let query = uri.query().unwrap_or("");
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")))
            .map(str::to_owned)
    };
    // the container ignores the path parameter, as Tomcat does
    let path = uri.path().split(';').next().unwrap_or("").to_owned();
    let detail = |i: u32| {
        // tracking and session parameters in an order that changes
        if (n + u64::from(i)) % 2 == 0 {
            format!("detail.jsp;jsessionid={sid}?utm_source=list&id={i}&PHPSESSID={sid}")
        } else {
            format!("detail.jsp?PHPSESSID={sid}&id={i}&utm_medium=web&spm=a1.b2")
        }
    };
    if path.ends_with("/detail.jsp") {
        return match param("id")
            .and_then(|i| i.parse::<u32>().ok())
            .filter(|i| *i < 20)
        {
            Some(i) => html(article(i)),
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    if path.ends_with("/calendar.jsp") {
        // an endless calendar: every month links the next
        let month: u32 = param("m").and_then(|m| m.parse().ok()).unwrap_or(0);
        return html(format!(
            "<html><body><table class=\"calendar\"><tr><td><a href=\"calendar.jsp?m={}&sid={sid}\">下月</a></td></tr></table></body></html>",
            month + 1
        ));
    }
    if path.ends_with("/index.jsp") {
        // page 3, 4 … repeat page 2 for ever
        let page: u32 = param("page").and_then(|p| p.parse().ok()).unwrap_or(1);
        let first = if page == 1 { 0 } else { 10 };
        let items: String = (first..first + 10)
            .map(|i| {
                format!(
                    "<li><a href=\"{}\">关于第{i}号事项的公告</a></li>",
                    detail(i)
                )
            })
            .collect();
        return html(format!(
            "<html><head><title>通知公告</title></head><body><div class=\"nav\"><a href=\"zwgk/index.jsp\">政务公开</a>\
             <a href=\"calendar.jsp?m=1\">日历</a></div><ul>{items}</ul>\
             <div class=\"page\"><a href=\"index.jsp;jsessionid={sid}?sid={sid}&page={}\">下一页</a></div></body></html>",
            page + 1
        ));
    }
    StatusCode::NOT_FOUND.into_response()
}

#[test]
fn session_ids_tracking_and_endless_spaces_store_each_article_once_and_end() {
    let site = Jsp::default();
    let addr = common::serve_on_thread(Router::new().fallback(jsp).with_state(site.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!("http://{addr}/zwgk/index.jsp"),
        r"/detail\.jsp\?id=\d+$",
        // deep enough that only the trap rules can end the crawl early
        "max_depth = 30\n",
    );
    let summary = crawl(&config);
    let requests = site.requests.load(Ordering::Relaxed);
    assert_eq!(summary["stopped"], Value::Null, "{summary}");
    assert!(requests < 200, "{requests} requests: {summary}");
    // each article once, under its one canonical URL
    let pages = stored(&config);
    let expected: Vec<(String, u64)> = {
        let mut ids: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        ids.sort();
        ids.into_iter()
            .map(|i| (format!("http://{addr}/zwgk/detail.jsp?id={i}"), 1))
            .collect()
    };
    assert_eq!(pages, expected);
    // what the nested directory served again is an alias, not a document
    let aliases: Vec<Value> = all_pages(&config)
        .into_iter()
        .filter(|p| !p["alias_of"].is_null())
        .collect();
    assert!(
        aliases.iter().all(|p| p["versions"] == 0
            && p["url"].as_str().unwrap().contains("/zwgk/zwgk/")
            && expected
                .iter()
                .any(|(url, _)| p["alias_of"] == url.as_str())),
        "{aliases:?}"
    );
    // the nested directory and the list that repeats itself
    assert!(summary["skipped_traps"].as_u64().unwrap() >= 2, "{summary}");

    // a recrawl finds nothing new, and stores nothing twice
    crawl(&config);
    assert_eq!(stored(&config).len(), 20);
    // a URL as a browser shows it finds the page under its one URL
    let shown = format!(
        "http://{addr}/zwgk/detail.jsp;jsessionid=0A1B2C?utm_source=wx&id=3&PHPSESSID=9f8e"
    );
    let out = common::govsnap(&["show", "--config", &config, "--format", "text", &shown]);
    assert!(common::ok(&out).contains("关于第3号事项的公告"));
}

/// A GBK column site: the list page is GBK bytes, its column links carry
/// Chinese queries, and the server reads queries as GBK (as a GBK JSP
/// server does): a UTF-8 query finds an empty column.
async fn gbk_site(uri: Uri) -> Response {
    const COLUMNS: [&str; 3] = ["通知公告", "政策文件", "规划计划"];
    let gbk = |text: String| {
        let (bytes, _, _) = encoding_rs::GBK.encode(&text);
        (
            [(header::CONTENT_TYPE, "text/html; charset=GBK")],
            bytes.into_owned(),
        )
            .into_response()
    };
    let query = uri.query().unwrap_or("");
    let lm = query.strip_prefix("lm=").map(|q| {
        let bytes: Vec<u8> = percent_decode(q);
        encoding_rs::GBK
            .decode_without_bom_handling(&bytes)
            .0
            .into_owned()
    });
    match (uri.path(), lm) {
        ("/gk/index.jsp", _) => {
            let links: String = COLUMNS
                .iter()
                .map(|c| format!("<li><a href=\"list.jsp?lm={c}\">{c}</a></li>"))
                .collect();
            gbk(format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gbk\"><title>政府信息公开</title></head><body><ul>{links}</ul></body></html>"
            ))
        }
        ("/gk/list.jsp", Some(lm)) => {
            let Some(c) = COLUMNS.iter().position(|c| *c == lm) else {
                return gbk("<html><body><p>栏目不存在</p></body></html>".to_owned());
            };
            let items: String = (0..3)
                .map(|i| {
                    format!(
                        "<li><a href=\"art.jsp?id={}\">{lm}第{i}号</a></li>",
                        c * 10 + i
                    )
                })
                .collect();
            gbk(format!(
                "<html><head><meta charset=\"gbk\"><title>{lm}</title></head><body><ul>{items}</ul></body></html>"
            ))
        }
        ("/gk/art.jsp", _) => {
            let id: u32 = query
                .strip_prefix("id=")
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            gbk(article(id).replace("<head>", "<head><meta charset=\"gbk\">"))
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

fn percent_decode(q: &str) -> Vec<u8> {
    let b = q.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| std::str::from_utf8(&b[i + 1..i + 3]).ok())
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        if let Some(v) = hex {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[test]
fn a_gbk_site_s_chinese_queries_are_sent_as_gbk_and_every_column_is_found() {
    let addr = common::serve_on_thread(Router::new().fallback(gbk_site));
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!("http://{addr}/gk/index.jsp"),
        r"/art\.jsp\?id=\d+$",
        "",
    );
    crawl(&config);
    let mut ids: Vec<String> = stored(&config)
        .into_iter()
        .map(|(url, _)| url.rsplit('=').next().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, ["0", "1", "10", "11", "12", "2", "20", "21", "22"]);
}

/// A list whose documents are linked only through script.
async fn scripted(uri: Uri) -> Response {
    match uri.path() {
        "/xxgk/index.html" => html(
            "<html><head><title>信息公开</title><script>function openArticle(u){window.open(u);}</script></head><body><ul>\
             <li><a href=\"javascript:window.open('/xxgk/2024/t20240101_1.html')\">一</a></li>\
             <li><a href=\"#\" onclick=\"window.open('2024/t20240101_2.html','_blank')\">二</a></li>\
             <li><a href=\"javascript:void(0)\" onclick=\"location.href='./2024/t20240101_3.html';return false;\">三</a></li>\
             <li><span onclick=\"openArticle('/xxgk/2024/t20240101_4.html')\">四</span></li>\
             <li><a href=\"javascript:;\" onclick=\"openArticle('/xxgk/2024/t20240101_4.html')\">四（重复）</a></li>\
             </ul><script>var latest = '/xxgk/2024/t20240101_5.html';</script></body></html>"
                .to_owned(),
        ),
        path => match path
            .strip_prefix("/xxgk/2024/t20240101_")
            .and_then(|p| p.strip_suffix(".html"))
            .and_then(|n| n.parse().ok())
        {
            Some(n) => html(article(n)),
            None => StatusCode::NOT_FOUND.into_response(),
        },
    }
}

#[test]
fn documents_linked_only_through_script_are_each_found_once() {
    let addr = common::serve_on_thread(Router::new().fallback(scripted));
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!("http://{addr}/xxgk/index.html"),
        r"/t\d{8}_\d+\.html$",
        "",
    );
    let summary = crawl(&config);
    let mut pages = stored(&config);
    pages.sort();
    let expected: Vec<(String, u64)> = (1..=5)
        .map(|n| (format!("http://{addr}/xxgk/2024/t20240101_{n}.html"), 1))
        .collect();
    assert_eq!(pages, expected, "{summary}");
}

/// Which shape each document of the gone-pages site answers in.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Live,
    Soft404,
    Soft404Gbk,
    RefreshHome,
    ScriptHome,
    Found302Home,
    MovedTo(u32),
    /// The page the site answers 404 with, answered with 200.
    ErrorTemplate,
}

/// The county site's error page: no word of it says "deleted".
const TEMPLATE: &str = "<html><head><title>某县人民政府</title></head><body><div class=\"err\">\
    <p>请检查您输入的网址是否正确，或点击下方链接继续浏览本站。</p><a href=\"/\">网站首页</a></div></body></html>";

type Shapes = Arc<std::sync::Mutex<Vec<Shape>>>;

async fn deleting(State(shapes): State<Shapes>, uri: Uri) -> Response {
    let path = uri.path();
    if path == "/zwgk/index.html" || path == "/" {
        let links: String = (0..7)
            .chain([99])
            .map(|n| format!("<li><a href=\"/zwgk/t20240101_{n}.html\">公告{n}</a></li>"))
            .collect();
        return html(format!(
            "<html><head><title>通知公告</title></head><body><ul>{links}</ul></body></html>"
        ));
    }
    let Some(n) = path
        .strip_prefix("/zwgk/t20240101_")
        .and_then(|p| p.strip_suffix(".html"))
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n != 99)
    else {
        // a dead link, as real lists have: the site's 404 page
        return (StatusCode::NOT_FOUND, html(TEMPLATE.to_owned())).into_response();
    };
    let shape = shapes
        .lock()
        .unwrap()
        .get(n as usize)
        .copied()
        .unwrap_or(Shape::Live);
    match shape {
        Shape::Live => html(article(n)),
        Shape::Soft404 => html(
            "<html><head><title>提示信息</title></head><body><div class=\"msg\">对不起，您访问的页面不存在或已被删除！</div>\
             <a href=\"/\">返回首页</a></body></html>".to_owned(),
        ),
        Shape::Soft404Gbk => {
            let page = "<html><head><meta charset=\"gbk\"><title>错误页面_某县人民政府</title></head><body><p>信息不存在或已删除</p></body></html>";
            let (bytes, _, _) = encoding_rs::GBK.encode(page);
            ([(header::CONTENT_TYPE, "text/html; charset=GBK")], bytes.into_owned()).into_response()
        }
        Shape::RefreshHome => html(
            "<html><head><title>跳转中</title><meta http-equiv=\"refresh\" content=\"0;url=/\"></head><body></body></html>".to_owned(),
        ),
        Shape::ScriptHome => html(
            "<html><head><title>跳转中</title></head><body><script>window.location.href='/zwgk/index.html';</script></body></html>".to_owned(),
        ),
        Shape::Found302Home => (StatusCode::FOUND, [(header::LOCATION, "/")]).into_response(),
        Shape::ErrorTemplate => html(TEMPLATE.to_owned()),
        Shape::MovedTo(m) => (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, format!("/zwgk/t20240101_{m}.html"))],
        )
            .into_response(),
    }
}

#[test]
fn a_deleted_page_is_gone_whatever_its_status_and_a_version_again_when_back() {
    let shapes: Shapes = Arc::new(std::sync::Mutex::new(vec![Shape::Live; 7]));
    let addr = common::serve_on_thread(
        Router::new()
            .fallback(deleting)
            .with_state(Arc::clone(&shapes)),
    );
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(
        tmp.path(),
        &format!("http://{addr}/zwgk/index.html"),
        r"/t\d{8}_\d+\.html$",
        "",
    );
    crawl(&config);
    assert_eq!(stored(&config).len(), 7);
    *shapes.lock().unwrap() = vec![
        Shape::Soft404,
        Shape::Soft404Gbk,
        Shape::RefreshHome,
        Shape::ScriptHome,
        Shape::Found302Home,
        Shape::MovedTo(7),
        Shape::ErrorTemplate,
    ];
    let summary = crawl_full(&config);
    // no version is made of an error page: the one new version is the
    // moved document at its new URL
    assert_eq!(summary["new_versions"], 1, "{summary}");
    assert_eq!(summary["gone"], 7, "{summary}");
    let history = |n: u32| -> Vec<Value> {
        let url = format!("http://{addr}/zwgk/t20240101_{n}.html");
        let out = common::govsnap(&["history", "--config", &config, "--format", "json", &url]);
        common::ok(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    for (n, reason) in [
        (0, "soft_404"),
        (1, "soft_404"),
        (2, "redirect_home"),
        (3, "redirect_home"),
        (4, "redirect_home"),
        (5, "moved"),
        (6, "error_template"),
    ] {
        let events = history(n);
        let last = events.last().unwrap();
        assert_eq!(
            (last["kind"].as_str(), last["reason"].as_str()),
            (Some("gone"), Some(reason)),
            "{n}: {events:?}"
        );
        assert_eq!(
            events.len(),
            2,
            "{n}: one version, one gone mark: {events:?}"
        );
    }
    assert_eq!(
        history(5).last().unwrap()["moved_to"],
        format!("http://{addr}/zwgk/t20240101_7.html").as_str()
    );
    // the soft 404's bytes are kept as evidence
    let evidence = history(0).last().unwrap()["evidence"]
        .as_str()
        .unwrap()
        .to_owned();
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    let raw = store.raw_by_hash(&evidence).unwrap().unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("不存在或已被删除"));
    drop(store);

    // back again: a version again
    *shapes.lock().unwrap() = vec![Shape::Live; 7];
    let summary = crawl_full(&config);
    assert_eq!(summary["new_versions"], 7, "{summary}");
    for n in 0..7 {
        assert_eq!(history(n).last().unwrap()["kind"], "version", "{n}");
    }
}

fn crawl_full(config: &str) -> Value {
    let out = common::govsnap(&["crawl", "--config", config, "--format", "json", "--full"]);
    serde_json::from_str(&common::ok(&out)).unwrap()
}
