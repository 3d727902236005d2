//! Hanweb (大汉) jpage columns (SPEC §8, issue 29), through the real binary
//! against a loopback site built as Hanweb builds them: a column page whose
//! first records sit in `<script type="text/xml"><datastore>` CDATA, and a
//! data proxy (`/module/web/jpage/dataproxy.jsp`) that answers the jpage
//! script's POST with the later records as XML. Variants: a column whose
//! page holds all its records; one paged by GET through `nextgroup`; one
//! whose `totalrecord` lies short; one whose page carries no parameters,
//! named in the config through a template.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A column of the loopback site.
struct Column {
    id: u32,
    /// Articles in it, newest (the highest number) first.
    articles: u32,
    /// Records its page carries itself.
    in_page: u32,
    /// The `totalrecord` it claims.
    claims: u32,
    /// How its page is built.
    shape: Shape,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// A datastore with `nextgroup` and a jpage script (POST).
    Jpage,
    /// A datastore whose `nextgroup` names `?page=2`, no script (GET).
    NextGroup,
    /// No datastore and no parameters: the config names them (POST).
    Bare,
}

const UNITID: &str = "392650";
const WEBID: &str = "20";

const COLUMNS: [Column; 5] = [
    Column {
        id: 103_585,
        articles: 120,
        in_page: 45,
        claims: 120,
        shape: Shape::Jpage,
    },
    Column {
        id: 103_600,
        articles: 30,
        in_page: 30,
        claims: 30,
        shape: Shape::Jpage,
    },
    Column {
        id: 103_700,
        articles: 70,
        in_page: 20,
        claims: 70,
        shape: Shape::NextGroup,
    },
    Column {
        id: 103_800,
        articles: 120,
        in_page: 45,
        claims: 50,
        shape: Shape::Jpage,
    },
    Column {
        id: 4541,
        articles: 60,
        in_page: 0,
        claims: 60,
        shape: Shape::Bare,
    },
];

/// What the site was asked: method, URL (path and query) and form.
#[derive(Clone, Default)]
struct Site {
    asked: Arc<Mutex<Vec<(String, String, String)>>>,
    /// Whether its robots.txt keeps crawlers out of `/module/`.
    disallow_module: bool,
}

impl Site {
    fn posts(&self, column: u32) -> Vec<(String, String)> {
        self.asked
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, _, form)| m == "POST" && form.contains(&format!("columnid={column}")))
            .map(|(_, uri, form)| (uri.clone(), form.clone()))
            .collect()
    }
}

fn column(id: u32) -> &'static Column {
    COLUMNS.iter().find(|c| c.id == id).unwrap()
}

/// Record `i` (1 = the newest) of a column: its article's list item.
fn record(column: &Column, i: u32) -> String {
    let n = column.articles + 1 - i;
    format!(
        "<record><![CDATA[<li><a href=\"/art/2024/9/{day}/art_{id}_{n}.html\" target=\"_blank\" title=\"关于第{n}号事项的通知\">关于第{n}号事项的通知</a><span class=\"bt_time\">2024-09-{day:02}</span></li>]]></record>\n",
        id = column.id,
        day = n % 28 + 1,
    )
}

/// Records `from..=to` of a column (within what it has) as a datastore.
fn datastore(column: &Column, from: u32, to: u32, next: Option<String>) -> String {
    let records: String = (from..=to.min(column.articles))
        .map(|i| record(column, i))
        .collect();
    let next = next.map_or_else(String::new, |href| {
        format!("<nextgroup><![CDATA[<a href=\"{href}\"></a>]]></nextgroup>\n")
    });
    format!(
        "<datastore>\n{next}<totalrecord>{}</totalrecord>\n<recordset>\n{records}</recordset>\n</datastore>",
        column.claims
    )
}

fn column_page(column: &Column) -> String {
    let id = column.id;
    let params = format!(
        "appid=1&webid={WEBID}&path=/&columnid={id}&unitid={UNITID}&webname=%E6%B1%9F%E8%8B%8F%E7%9C%81%E6%9F%90%E5%8E%85&permissiontype=0"
    );
    let body = match column.shape {
        Shape::Jpage => format!(
            "<div id=\"{id}\"><script type=\"text/xml\">\n{}\n</script></div>\n\
             <script language=\"javascript\" src=\"/module/jslib/jquery/jpage/jquery.page.min.js\"></script>\n\
             <script>$(document).ready(function(){{ $('#{id}').jpage({{ dataStore: dataStore, perPage: 15, showMode: 'full', groupSize: 3, barPosition: 'bottom',\n\
             ajaxParam: {{ col: 1, appid: 1, webid: {WEBID}, path: '/', columnid: {id}, sourceContentType: 1, unitid: {UNITID}, webname: '江苏省某厅', permissiontype: 0 }},\n\
             proxyUrl: '/module/web/jpage/dataproxy.jsp' }}); }});</script>",
            datastore(
                column,
                1,
                column.in_page,
                Some(format!("/module/web/jpage/dataproxy.jsp?page=1&{params}")),
            )
        ),
        Shape::NextGroup => format!(
            "<div id=\"{id}\"><script type=\"text/xml\">\n{}\n</script></div>",
            datastore(
                column,
                1,
                column.in_page,
                Some(format!("/module/web/jpage/dataproxy.jsp?page=2&{params}")),
            )
        ),
        Shape::Bare => format!(
            "<div id=\"{id}\"></div><script language=\"javascript\" src=\"/module/jslib/jquery/jpage/jquery.page.min.js\"></script>"
        ),
    };
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>通知公告 江苏省某厅</title></head><body>\
         <div class=\"header\"><a href=\"/index.html\">首页</a> <a href=\"/col/col103585/index.html\">通知公告</a></div>\
         <div class=\"bt-position\">当前位置：<a href=\"/index.html\">首页</a> &gt; 通知公告</div>\
         <div class=\"main-right\">{body}</div>\
         <div class=\"footer\">主办单位：江苏省某厅 苏ICP备05009022号 苏公网安备 32010202010123号</div></body></html>"
    )
}

fn article(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?.strip_suffix(".html")?;
    let mut parts = name.strip_prefix("art_")?.split('_');
    let id: u32 = parts.next()?.parse().ok()?;
    let n: u32 = parts.next()?.parse().ok()?;
    (n >= 1 && n <= column(id).articles).then(|| {
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>关于第{n}号事项的通知_江苏省某厅</title></head><body>\
             <div class=\"bt-position\">当前位置：<a href=\"/index.html\">首页</a> &gt; <a href=\"/col/col{id}/index.html\">通知公告</a></div>\
             <div class=\"main\"><h1 class=\"title\">关于第{n}号事项的通知</h1>\
             <div class=\"info\">发布日期：2024-09-04 信息来源：办公室</div>\
             <div id=\"zoom\"><p>各设区市相关部门：</p><p>现就{unit}第{n}号事项有关工作通知如下，请结合本地区实际认真贯彻落实，\
             确保各项措施落到实处，并于每季度末报送工作进展情况。</p></div></div>\
             <div class=\"footer\">主办单位：江苏省某厅 苏ICP备05009022号</div></body></html>",
            unit = ["办公室", "法规处", "规划处", "财务处", "人事处"][COLUMNS.iter().position(|c| c.id == id).unwrap_or(0)]
        )
    })
}

fn xml(body: String) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml;charset=UTF-8")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>{body}"),
    )
        .into_response()
}

fn form_value(form: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The data proxy, as Hanweb's answers: a POST with the column's form and
/// `startrecord`/`endrecord` in the query, or (an older version) a GET of
/// `?page=N` with the parameters in the query. A request without the site's
/// `unitid` and `webid` gets an empty datastore, as the real one does.
fn proxy(method: &Method, uri: &Uri, form: &str) -> Response {
    let query = uri.query().unwrap_or("");
    let params = if *method == Method::POST { form } else { query };
    let (Some(id), Some(UNITID), Some(WEBID)) = (
        form_value(params, "columnid").and_then(|c| c.parse::<u32>().ok()),
        form_value(params, "unitid").as_deref(),
        form_value(params, "webid").as_deref(),
    ) else {
        return xml(
            "<datastore><totalrecord>0</totalrecord><recordset></recordset></datastore>".to_owned(),
        );
    };
    let column = column(id);
    if *method == Method::POST {
        let at = |name| form_value(query, name).and_then(|v| v.parse::<u32>().ok());
        let (Some(from), Some(to)) = (at("startrecord"), at("endrecord")) else {
            return StatusCode::BAD_REQUEST.into_response();
        };
        return xml(datastore(column, from, to, None));
    }
    // GET: groups of `in_page` records; page 1 is the column page's own
    let page = form_value(query, "page")
        .and_then(|p| p.parse::<u32>().ok())
        .unwrap_or(1);
    let from = (page - 1) * column.in_page + 1;
    let to = page * column.in_page;
    let next = (to < column.articles).then(|| {
        format!(
            "/module/web/jpage/dataproxy.jsp?page={}&webid={WEBID}&columnid={id}&unitid={UNITID}",
            page + 1
        )
    });
    xml(datastore(column, from, to, next))
}

async fn serve(State(site): State<Site>, method: Method, uri: Uri, form: String) -> Response {
    site.asked
        .lock()
        .unwrap()
        .push((method.to_string(), uri.to_string(), form.clone()));
    let path = uri.path();
    if path == "/robots.txt" && site.disallow_module {
        return "User-agent: *\nDisallow: /module/\n".into_response();
    }
    if path == "/module/web/jpage/dataproxy.jsp" {
        return proxy(&method, &uri, &form);
    }
    let page = path
        .strip_prefix("/col/col")
        .and_then(|p| p.strip_suffix("/index.html"))
        .and_then(|id| id.parse::<u32>().ok())
        .filter(|id| COLUMNS.iter().any(|c| c.id == *id))
        .map(|id| column_page(column(id)))
        .or_else(|| article(path));
    match page {
        Some(html) => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn write_config(dir: &Path, base: &str, robots: bool) -> String {
    let path = dir.join("site.toml");
    let seeds: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("\"{base}/col/col{}/index.html\"", c.id))
        .collect();
    std::fs::write(
        &path,
        format!(
            "store = \"{}\"\n[crawl]\nconcurrency = 4\nper_host_concurrency = 2\nper_host_delay_ms = 0\nrespect_robots = {robots}\n\
             [[template]]\nname = \"hanweb-js\"\ndocuments = ['/art/\\d{{4}}/\\d+/\\d+/art_\\d+_\\d+\\.html$']\n\
             jpage = {{ webid = {WEBID}, unitid = \"{UNITID}\" }}\n\
             [[site]]\nname = \"jsj\"\ntemplate = \"hanweb-js\"\nseeds = [{}]\n",
            dir.join("store").display(),
            seeds.join(", ")
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

fn crawl(config: &str) -> Value {
    let out = common::govsnap(&["crawl", "--config", config, "--format", "json"]);
    serde_json::from_str(&common::ok(&out)).unwrap()
}

fn pages(config: &str) -> Vec<(String, u64)> {
    let out = common::govsnap(&["pages", "--config", config, "--format", "json"]);
    common::ok(&out)
        .lines()
        .map(|l| {
            let p: Value = serde_json::from_str(l).unwrap();
            (
                p["url"].as_str().unwrap().to_owned(),
                p["versions"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The records of a WARC file, each as its text (head and block).
fn warc_records(path: &Path) -> Vec<String> {
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    String::from_utf8_lossy(&text)
        .split("WARC/1.1\r\n")
        .skip(1)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_article_of_hanweb_jpage_columns_is_stored_once_and_the_posts_recorded() {
    let site = Site::default();
    let addr = common::serve_on_thread(Router::new().fallback(serve).with_state(site.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let base = format!("http://{addr}");
    let config = write_config(tmp.path(), &base, false);
    let summary = crawl(&config);
    assert_eq!(summary["errors"], 0, "{summary}");

    // every article once, and nothing else: list pages are no documents
    let stored = pages(&config);
    let expected: usize = COLUMNS.iter().map(|c| c.articles as usize).sum();
    assert_eq!(stored.len(), expected, "{summary}");
    let odd: Vec<_> = stored
        .iter()
        .filter(|(url, versions)| !url.contains("/art/") || *versions != 1)
        .collect();
    assert!(odd.is_empty(), "{odd:?}");
    for c in &COLUMNS {
        let n = stored
            .iter()
            .filter(|(url, _)| url.contains(&format!("/art_{}_", c.id)))
            .count();
        assert_eq!(n, c.articles as usize, "column {}", c.id);
    }

    // the groups asked for: each once, with the page's parameters
    let posts = site.posts(103_585);
    let uris: Vec<&str> = posts.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(
        uris,
        [
            "/module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15",
            "/module/web/jpage/dataproxy.jsp?startrecord=91&endrecord=135&perpage=15",
        ]
    );
    assert_eq!(
        form_value(&posts[0].1, "webname").as_deref(),
        Some("江苏省某厅")
    );
    assert_eq!(
        form_value(&posts[0].1, "sourceContentType").as_deref(),
        Some("1")
    );
    assert!(
        site.posts(103_600).is_empty(),
        "a page that holds every record"
    );
    // a total that lies short (50 of 120): paged on while groups come full
    assert_eq!(site.posts(103_800).len(), 2);
    // no parameters on the page: the template's, and the URL's column id
    assert_eq!(site.posts(4541).len(), 2);
    let gets = site
        .asked
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, uri, _)| m == "GET" && uri.contains("dataproxy.jsp"))
        .count();
    assert_eq!(gets, 3, "the GET column's pages 2, 3 and 4");

    // the fetch log names each group's method and form, its answer kept
    let store = govsnap::Store::open(&tmp.path().join("store")).unwrap();
    let groups: Vec<govsnap::store::FetchLogEntry> = store
        .fetch_log()
        .map(Result::unwrap)
        .filter(|e| e.url.contains("dataproxy.jsp"))
        .collect();
    assert_eq!(groups.len(), 2 + 2 + 2 + 3);
    let first = groups
        .iter()
        .find(|e| {
            e.url.ends_with("startrecord=46&endrecord=90&perpage=15")
                && e.request_body
                    .as_deref()
                    .is_some_and(|b| b.contains("columnid=103585"))
        })
        .expect("the column's first POST is logged");
    assert_eq!(first.method.as_deref(), Some("POST"));
    assert_eq!(first.outcome, "listing");
    let kept = store
        .raw_by_hash(first.kept.as_deref().unwrap())
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8(kept)
            .unwrap()
            .contains("art_103585_75.html")
    );
    // in list order: the newest article of a column before its oldest
    let fetched: Vec<String> = store.fetch_log().map(|e| e.unwrap().url).collect();
    let at = |n: u32| {
        fetched
            .iter()
            .position(|u| u.ends_with(&format!("/art_103585_{n}.html")))
            .unwrap()
    };
    assert!(at(120) < at(1));
    drop(store);

    // the WARC export: each group's request with its form, and its answer
    let warc = tmp.path().join("out.warc.gz");
    common::ok(&common::govsnap(&[
        "export",
        "--config",
        &config,
        "--format",
        "warc",
        "-o",
        warc.to_str().unwrap(),
    ]));
    let records = warc_records(&warc);
    let posted: Vec<&String> = records
        .iter()
        .filter(|r| {
            r.contains("WARC-Type: request")
                && r.contains("\r\n\r\nPOST /module/web/jpage/dataproxy.jsp?")
        })
        .collect();
    assert_eq!(posted.len(), 6, "every POST, once");
    assert!(
        posted
            .iter()
            .any(|r| r.contains("startrecord=46&endrecord=90")
                && r.contains("content-type: application/x-www-form-urlencoded")
                && r.contains("columnid=103585&sourceContentType=1"))
    );
    let answers = records
        .iter()
        .filter(|r| {
            r.contains("WARC-Type: response")
                && r.contains("dataproxy.jsp")
                && r.contains("<totalrecord>")
        })
        .count();
    assert_eq!(answers, 9);

    // a recrawl: the groups again, no version
    let again = crawl(&config);
    assert_eq!(again["new_versions"], 0, "{again}");
    assert_eq!(site.posts(103_585).len(), 4);
    assert_eq!(pages(&config), stored);
}

/// A data proxy that robots.txt closes is never asked: the records the
/// column pages carry are still read.
#[test]
fn a_data_proxy_robots_txt_disallows_is_not_asked() {
    let site = Site {
        disallow_module: true,
        ..Site::default()
    };
    let addr = common::serve_on_thread(Router::new().fallback(serve).with_state(site.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), &format!("http://{addr}"), true);
    let summary = crawl(&config);
    let proxied = site
        .asked
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, uri, _)| uri.contains("dataproxy.jsp"))
        .count();
    assert_eq!(proxied, 0, "{summary}");
    let in_pages: usize = COLUMNS.iter().map(|c| c.in_page as usize).sum();
    assert_eq!(pages(&config).len(), in_pages, "{summary}");
}
