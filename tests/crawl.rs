//! The crawler against a real HTTP server in-process (axum on 127.0.0.1,
//! port 0) serving a realistic little disclosure site and its misbehaviours:
//! GBK pages, TRS pagination reachable only through the script call,
//! robots.txt with a Disallow and a Sitemap, 429 with Retry-After, a 500 that
//! recovers, a response slower than the timeout, a redirect chain and a
//! redirect loop, a body over the cap, a gzip bomb, random bytes as HTML,
//! out-of-scope links, and on the second crawl a page removed, a page
//! changed in its body, one changed only in its boilerplate, one unchanged
//! (answered 304).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use govsnap::crawl::crawl;
use govsnap::store::{EventKind, PageState, PageStatus};
use govsnap::{Config, Store};
use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Site {
    addr: String,
    hits: HashMap<String, u32>,
    second_crawl: bool,
    /// `/gk/slow.html` answers after the crawl's timeout (else at once).
    slow: bool,
}

/// A gzip bomb: 5 MB of spaces, five times the crawl's body cap. Made once:
/// compressing it in the handler (50 MB, in a debug build) held a worker
/// thread for seconds, and the pages served beside it then outlived the
/// crawl's 1 s timeout on a loaded machine and were fetched twice — the
/// flaky fetch counts of `a_queue_smaller_than_the_site_crawls_it_the_same`.
static BOMB: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 5_000_000]).unwrap();
    gz.finish().unwrap()
});

type Shared = Arc<Mutex<Site>>;

fn doc(title: &str, body: &str, counter: u32) -> String {
    format!(
        "<html><head><meta charset=\"utf-8\"><title>{title}_某某区人民政府</title></head><body>\
         <div class=\"nav\"><a href=\"/\">首页</a> <a href=\"/gk/index.html\">政务公开</a></div>\
         <div class=\"article\"><h1>{title}</h1><div class=\"info\">发布时间：2024-01-01 浏览次数：{counter}</div>\
         <div class=\"TRS_Editor\"><p>各街道、各部门：</p><p>{body}</p>\
         <p>一、工作要求</p><p>各单位要高度重视，认真组织开展自查自纠，确保各项任务按时完成，并于年底前报送工作总结。</p></div></div>\
         <div class=\"footer\">主办单位：某某区人民政府 京ICP备12345678号</div></body></html>"
    )
}

fn html(status: StatusCode, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(body.into())
        .unwrap()
}

fn with_etag(req: &HeaderMap, body: Vec<u8>, content_type: &str) -> Response {
    let etag = format!("\"{}\"", blake3::hash(&body).to_hex());
    if req.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
        return Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::empty())
            .unwrap();
    }
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::ETAG, etag)
        .body(Body::from(body))
        .unwrap()
}

fn redirect(status: StatusCode, to: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::LOCATION, to)
        .body(Body::empty())
        .unwrap()
}

async fn serve(State(site): State<Shared>, uri: Uri, req: HeaderMap) -> Response {
    let path = uri.path().to_owned();
    let (addr, hits, second, slow) = {
        let mut s = site.lock().unwrap();
        let n = {
            let n = s.hits.entry(path.clone()).or_insert(0);
            *n += 1;
            *n
        };
        (s.addr.clone(), n, s.second_crawl, s.slow)
    };
    match path.as_str() {
        "/robots.txt" => html(
            StatusCode::OK,
            format!(
                "User-agent: *\nDisallow: /gk/private/\n\nSitemap: http://{addr}/sitemap.xml\n"
            ),
        ),
        "/sitemap.xml" => html(
            StatusCode::OK,
            format!(
                "<?xml version=\"1.0\"?><urlset><url><loc>http://{addr}/gk/t20240102_2.html</loc></url></urlset>"
            ),
        ),
        "/gk/index.html" => html(
            StatusCode::OK,
            "<html><body><ul class=\"list\">\
                 <li><a href=\"t20240101_1.html\">通知一</a></li><li><a href=\"private/secret.html\">内部</a></li>\
                 <li><a href=\"http://elsewhere.example.org/x.html\">外站</a></li><li><a href=\"flaky.html\">通知</a></li>\
                 <li><a href=\"ratelimited.html\">通知</a></li><li><a href=\"redirect1.html\">通知</a></li>\
                 <li><a href=\"loop-a.html\">通知</a></li><li><a href=\"big.html\">通知</a></li>\
                 <li><a href=\"bomb.html\">通知</a></li><li><a href=\"random.html\">通知</a></li>\
                 <li><a href=\"slow.html\">通知</a></li><li><a href=\"P020240101.pdf\">附件</a></li></ul>\
                 <script>createPageHTML(2, 0, \"index\", \"html\");</script></body></html>",
        ),
        "/gk/index_1.html" => html(
            StatusCode::OK,
            "<html><body><ul><li><a href=\"t20240103_3.html\">第二页的通知</a></li>\
                 <li><a href=\"alias.html\">首页</a></li></ul></body></html>",
        ),
        "/gk/t20240101_1.html" if second => html(StatusCode::NOT_FOUND, "<h1>404</h1>"),
        "/gk/t20240101_1.html" => with_etag(
            &req,
            doc(
                "关于开展安全检查的通知",
                "为切实做好安全生产工作，现就开展安全检查有关事项通知如下。",
                1,
            )
            .into_bytes(),
            "text/html",
        ),
        // boilerplate only changes on the second crawl: a new ETag, same document
        "/gk/t20240102_2.html" => with_etag(
            &req,
            doc(
                "关于公布第一批名录的通知",
                "经专家评审、社会公示，现公布第一批名录。",
                if second { 99 } else { 1 },
            )
            .into_bytes(),
            "text/html",
        ),
        "/gk/t20240103_3.html" => {
            let body = if second {
                "为加强管理，现将修订后的办法印发给你们。"
            } else {
                "为加强管理，现将办法印发给你们。"
            };
            let page = doc("关于印发管理办法的通知", body, 1)
                .replace("charset=\"utf-8\"", "charset=\"gbk\"");
            with_etag(
                &req,
                encoding_rs::GBK.encode(&page).0.into_owned(),
                "text/html",
            )
        }
        "/gk/t20240104_4.html" => with_etag(
            &req,
            doc(
                "关于调整办公地点的通知",
                "因工作需要，自即日起调整办公地点。",
                1,
            )
            .into_bytes(),
            "text/html",
        ),
        "/gk/flaky.html" if hits == 1 => html(StatusCode::INTERNAL_SERVER_ERROR, "oops"),
        "/gk/flaky.html" => html(
            StatusCode::OK,
            doc(
                "关于恢复服务的通知",
                "系统维护已完成，各项服务恢复正常。",
                1,
            ),
        ),
        "/gk/ratelimited.html" if hits == 1 => Response::builder()
            .status(StatusCode::TOO_MANY_REQUESTS)
            .header(header::RETRY_AFTER, "1")
            .body(Body::empty())
            .unwrap(),
        "/gk/ratelimited.html" => html(
            StatusCode::OK,
            doc("关于限流的通知", "访问量较大时请稍后再试。", 1),
        ),
        "/gk/redirect1.html" => redirect(StatusCode::MOVED_PERMANENTLY, "/gk/redirect2.html"),
        "/gk/redirect2.html" => redirect(StatusCode::FOUND, "t20240104_4.html"),
        // an alias of the seed, fetched long before: not a loop, not an error
        "/gk/alias.html" => redirect(StatusCode::MOVED_PERMANENTLY, "/gk/index.html"),
        "/gk/loop-a.html" => redirect(StatusCode::MOVED_PERMANENTLY, "/gk/loop-b.html"),
        "/gk/loop-b.html" => redirect(StatusCode::MOVED_PERMANENTLY, "/gk/loop-a.html"),
        "/gk/big.html" => html(
            StatusCode::OK,
            format!(
                "<html><body><p>{}</p></body></html>",
                "很长的页面".repeat(200_000)
            ),
        ),
        "/gk/bomb.html" => Response::builder()
            .header(header::CONTENT_TYPE, "text/html")
            .header(header::CONTENT_ENCODING, "gzip")
            .body(Body::from(BOMB.clone()))
            .unwrap(),
        "/gk/random.html" => html(
            StatusCode::OK,
            (0..4096u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
                .collect::<Vec<u8>>(),
        ),
        "/gk/slow.html" => {
            if slow {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            html(StatusCode::OK, "too late")
        }
        _ => html(StatusCode::NOT_FOUND, "not here"),
    }
}

async fn start() -> (Shared, SocketAddr) {
    LazyLock::force(&BOMB);
    let site: Shared = Arc::default();
    site.lock().unwrap().slow = true;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    site.lock().unwrap().addr = addr.to_string();
    let app = Router::new().fallback(serve).with_state(Arc::clone(&site));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (site, addr)
}

fn config(addr: SocketAddr, store: &Path) -> Config {
    let port = addr.port();
    let text = format!(
        r#"
store = "{store}"
[crawl]
user_agent = "govsnap-test (+https://example.org/contact)"
concurrency = 8
per_host_concurrency = 4
per_host_delay_ms = 0
timeout_s = 2
max_body_bytes = 1_000_000
[[site]]
name = "test"
seeds = ["http://127.0.0.1:{port}/gk/index.html"]
allow = ["^http://127\\.0\\.0\\.1:{port}/gk/"]
documents = ["/(t\\d{{8}}_\\d+|flaky|ratelimited)\\.html$"]
max_depth = 3
content = "div.TRS_Editor"
"#,
        store = store.display()
    );
    Config::parse(&text, Path::new("test.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawl_then_recrawl_a_misbehaving_site() {
    let (site, addr) = start().await;
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(addr, &tmp.path().join("store"));
    let store = Store::open(&cfg.store).unwrap();

    let first = crawl(&cfg, &store, None, std::future::pending())
        .await
        .unwrap();
    let s = &first.sites[0];
    assert!(!first.interrupted);
    assert_eq!((s.documents, s.new_versions), (6, 6), "{s:?}");
    assert_eq!(s.skipped_robots, 1, "{s:?}");
    // the other site's page and the home page above /gk/
    assert_eq!(s.skipped_scope, 2, "{s:?}");
    // loop, big, bomb, slow
    assert_eq!(s.errors, 4, "{s:?}");
    assert!(s.listings >= 2, "{s:?}");
    {
        let site = site.lock().unwrap();
        assert_eq!(
            site.hits.get("/gk/private/secret.html"),
            None,
            "robots.txt obeyed"
        );
        assert_eq!(
            site.hits.get("/gk/P020240101.pdf"),
            Some(&1),
            "a file the list links is fetched once (SPEC §11)"
        );
        assert_eq!(
            site.hits.get("/gk/index_1.html"),
            Some(&1),
            "TRS page found through the script call"
        );
        assert_eq!(site.hits.get("/gk/flaky.html"), Some(&2), "500 retried");
        assert_eq!(
            site.hits.get("/gk/ratelimited.html"),
            Some(&2),
            "429 retried after Retry-After"
        );
        assert_eq!(
            site.hits.get("/gk/slow.html"),
            Some(&4),
            "timeouts retried, then given up"
        );
    }
    let base = format!("http://{addr}/gk/");
    let gbk = store
        .latest(&format!("{base}t20240103_3.html"))
        .unwrap()
        .unwrap();
    assert!(
        gbk.record.text.contains("为加强管理，现将办法印发给你们。"),
        "{}",
        gbk.record.text
    );
    let redirected = store
        .latest(&format!("{base}t20240104_4.html"))
        .unwrap()
        .unwrap();
    assert_eq!(
        redirected.record.title.as_deref(),
        Some("关于调整办公地点的通知")
    );
    assert!(
        store
            .latest(&format!("{base}t20240102_2.html"))
            .unwrap()
            .is_some(),
        "found through the sitemap"
    );

    site.lock().unwrap().second_crawl = true;
    // every known document, due or not (they were fetched a moment ago)
    let full = govsnap::crawl::CrawlOptions {
        only: None,
        full: true,
    };
    let second =
        govsnap::crawl::crawl_with_progress(&cfg, &store, full, std::future::pending(), &|_| {})
            .await
            .unwrap();
    let s = &second.sites[0];
    assert_eq!(s.gone, 1, "{s:?}");
    assert_eq!(s.new_versions, 1, "{s:?}");
    assert!(s.not_modified >= 1, "{s:?}");
    assert!(s.unchanged >= 1, "{s:?}");
    // every known document checked counts, whatever it answered
    assert_eq!(
        s.documents,
        s.new_versions + s.unchanged + s.not_modified + s.gone,
        "{s:?}"
    );
    // a 304 is the page's last fetch; its validators stay for the next one
    let revalidated: Vec<PageState> = store
        .pages()
        .map(Result::unwrap)
        .filter(|p| p.last_status == 304)
        .collect();
    assert_eq!(revalidated.len() as u64, s.not_modified, "{revalidated:?}");
    for page in &revalidated {
        assert!(page.last_fetched > page.first_seen, "{page:?}");
        assert!(page.etag.is_some(), "{page:?}");
        assert_eq!(page.versions, 1, "{page:?}");
    }
    let removed = store
        .page(&format!("{base}t20240101_1.html"))
        .unwrap()
        .unwrap();
    assert_eq!(removed.state, PageStatus::Gone);
    let kinds: Vec<EventKind> = store
        .history(&format!("{base}t20240101_1.html"))
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, [EventKind::Version, EventKind::Gone]);
    assert_eq!(
        store
            .page(&format!("{base}t20240103_3.html"))
            .unwrap()
            .unwrap()
            .versions,
        2
    );
    assert_eq!(
        store
            .page(&format!("{base}t20240102_2.html"))
            .unwrap()
            .unwrap()
            .versions,
        1,
        "boilerplate only"
    );
}

/// A queue that holds two URLs in memory: the rest wait in the store's
/// frontier and are read back when it runs dry. The crawl must be the same
/// one, every page fetched as often as with a queue that holds the site.
/// Nothing here depends on timing: the timeout is generous and no page
/// outlives it, so a loaded machine fetches every page as often.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_smaller_than_the_site_crawls_it_the_same() {
    let mut runs = Vec::new();
    for queue_in_memory in [10_000, 2] {
        let (site, addr) = start().await;
        site.lock().unwrap().slow = false;
        let tmp = tempfile::tempdir().unwrap();
        let mut cfg = config(addr, &tmp.path().join("store"));
        cfg.crawl.queue_in_memory = queue_in_memory;
        cfg.crawl.timeout_s = 60;
        let store = Store::open(&cfg.store).unwrap();
        let report = crawl(&cfg, &store, None, std::future::pending())
            .await
            .unwrap();
        let summary = report.sites[0].clone();
        let hits = std::mem::take(&mut site.lock().unwrap().hits);
        let mut pages: Vec<String> = store
            .pages()
            .map(|p| p.unwrap().url.replace(&addr.to_string(), "HOST"))
            .collect();
        pages.sort();
        runs.push((summary, hits, pages));
    }
    let (whole, small) = (&runs[0], &runs[1]);
    assert_eq!(small.0, whole.0, "the same summary");
    let paths = |hits: &HashMap<String, u32>| {
        let mut paths: Vec<String> = hits.keys().cloned().collect();
        paths.sort();
        paths
    };
    assert_eq!(paths(&small.1), paths(&whole.1), "the same paths fetched");
    assert_eq!(small.1, whole.1, "every page fetched as often");
    assert_eq!(small.2, whole.2, "the same pages stored");
    assert!(
        small.1.len() > 10,
        "the site outgrows the queue: {:?}",
        small.1
    );
}

/// A server that promises 5,000 bytes and closes after 100: the page is an
/// error (retried, then given up), never a truncated version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_is_an_error_not_a_version() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                break;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let reply = if request.starts_with("GET /robots.txt") {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n\r\n{}",
                        "<html><body><p>关于开展安全检查的通知，".repeat(3)
                    )
                };
                let _ = socket.write_all(reply.as_bytes()).await;
                // and close, 5,000 bytes short
            });
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(addr, &tmp.path().join("store"));
    cfg.sites[0].seeds =
        vec![url::Url::parse(&format!("http://{addr}/gk/t20240101_1.html")).unwrap()];
    let store = Store::open(&cfg.store).unwrap();
    let report = crawl(&cfg, &store, None, std::future::pending())
        .await
        .unwrap();
    let s = &report.sites[0];
    assert_eq!((s.errors, s.new_versions, s.fetched), (1, 0, 0), "{s:?}");
    assert_eq!(store.pages().count(), 0);
    assert_eq!(
        store
            .fetch_log()
            .filter_map(Result::ok)
            .filter(|e| e.outcome == "error")
            .count(),
        1
    );
}
