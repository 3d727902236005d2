//! The browse pages (issue 13) in a real browser: Debian's Chromium,
//! headless, against a running `govsnap serve` over a site that was crawled,
//! then changed (a new edition of every document, one document removed) and
//! crawled again. Each page's DOM after load holds what a person came for;
//! no page logs a console message or an error; no request leaves the
//! service; the pages fit a phone's width. A failing page leaves a
//! screenshot in `target/browse-failures/`.
//!
//! `GOVSNAP_SCREENSHOTS=DIR cargo test --test browse` also writes the
//! document page and a diff as `DIR/browse-page.png` and `DIR/browse-diff.png`
//! (the pictures in README and docs/).

mod common;

use common::browser::{Browser, Visit};
use common::service::{Bureau, Service, config, run, urlencode};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

/// The bureau's site crawled twice, with a change between: documents 0, 1
/// and 3 have two versions (the 细则's edition and the source changed),
/// document 2 is gone.
fn changed_site(dir: &Path) -> (Bureau, std::net::SocketAddr, PathBuf) {
    let (bureau, addr) = Bureau::new(4, u32::MAX);
    let config = config(dir, addr, None);
    let cfg = config.to_str().unwrap();
    common::ok(&run(&["crawl", "--config", cfg]));
    bureau.edition.store(2, Ordering::SeqCst);
    bureau.gone.lock().unwrap().push(2);
    common::ok(&run(&["crawl", "--config", cfg, "--full"]));
    (bureau, addr, config)
}

/// Load `path` and hand what it left to `check`; on a failed check, a
/// screenshot goes to `target/browse-failures/NAME.png` before the panic.
fn check_page(
    browser: &mut Browser,
    service: &Service,
    name: &str,
    path: &str,
    check: impl FnOnce(&Visit) -> Result<(), String>,
) -> Visit {
    let visit = browser.visit(&format!("{}{path}", service.base));
    let outcome = check(&visit).and_then(|()| {
        if !visit.console.is_empty() {
            return Err(format!("console: {:?}", visit.console));
        }
        match visit
            .requests
            .iter()
            .find(|u| !u.starts_with(&service.base))
        {
            Some(u) => Err(format!("a request left the service: {u}")),
            None => Ok(()),
        }
    });
    if let Err(why) = outcome {
        let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("../browse-failures")
            .join(format!("{name}.png"));
        browser.screenshot(&shot, true);
        panic!(
            "{name} ({path}): {why}\nscreenshot: {}\nDOM: {}",
            shot.display(),
            visit.dom
        );
    }
    visit
}

fn has(dom: &str, what: &str) -> Result<(), String> {
    if dom.contains(what) {
        Ok(())
    } else {
        Err(format!("the page does not show {what:?}"))
    }
}

#[test]
fn an_archivist_reads_the_sites_documents_versions_and_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (_bureau, addr, config) = changed_site(dir.path());
    let service = Service::start(&config, &dir.path().join("store"), "127.0.0.1:0");
    let mut browser = Browser::launch();
    let doc = |i: u32| format!("http://{addr}/gk/t20241105_{i}.html");

    let home = check_page(&mut browser, &service, "home", "/", |v| {
        has(&v.dom, "lang=\"zh-CN\"")?;
        has(&v.dom, "<a href=\"/site/swj\">swj</a>")?;
        has(&v.dom, "<td class=\"num\">3</td><td class=\"num\">1</td>") // documents, gone
    });
    assert!(
        home.requests.iter().any(|u| u.ends_with("/style.css")),
        "{:?}",
        home.requests
    );

    check_page(&mut browser, &service, "site", "/site/swj", |v| {
        has(&v.dom, "关于做好第0批惠企政策兑现工作的通知")?;
        has(&v.dom, "关于做好第1批惠企政策兑现工作的通知")?;
        has(&v.dom, "已删除")?; // document 2, at its gone mark, by its last title
        has(&v.dom, "关于做好第2批惠企政策兑现工作的通知")?;
        // its feed, linked for the browser and feed readers to find
        has(&v.dom, "type=\"application/atom+xml\"")?;
        has(&v.dom, "href=\"/site/swj/feed.atom\"")?;
        has(
            &v.dom,
            &format!(
                "href=\"/diff?url={}&amp;from=1&amp;to=2\"",
                urlencode(&doc(1))
            ),
        )
    });
    check_page(
        &mut browser,
        &service,
        "site-filter",
        "/site/swj?q=%E7%AC%AC1%E6%89%B9",
        |v| {
            has(&v.dom, "关于做好第1批惠企政策兑现工作的通知")?;
            if v.dom.contains("第0批") {
                return Err("the filter 第1批 let 第0批 through".into());
            }
            Ok(())
        },
    );

    let page_path = format!("/page?url={}", urlencode(&doc(1)));
    check_page(&mut browser, &service, "page", &page_path, |v| {
        has(&v.dom, "<h1>关于做好第1批惠企政策兑现工作的通知</h1>")?;
        has(
            &v.dom,
            "<h2><span class=\"num-mark\">一、</span>兑现范围</h2>",
        )?; // the section tree
        has(
            &v.dom,
            "<h2><span class=\"num-mark\">二、</span>工作要求</h2>",
        )?;
        has(&v.dom, "按照第2版实施细则申报")?;
        has(&v.dom, "来源：区商务局办公室")?;
        has(&v.dom, "第 2 版")?; // the versions, each viewable
        has(
            &v.dom,
            &format!("href=\"/page?url={}&amp;version=1\"", urlencode(&doc(1))),
        )?;
        // the raw page is a download from the API, never shown here
        has(
            &v.dom,
            &format!(
                "href=\"/api/v1/raw?url={}&amp;version=1\" download=\"\"",
                urlencode(&doc(1))
            ),
        )
    });
    for (width, height, mobile) in [(390, 844, true), (1280, 900, false)] {
        browser.viewport(width, height, mobile);
        browser.visit(&format!("{}{page_path}", service.base));
        let fits = browser.eval("document.documentElement.scrollWidth <= window.innerWidth");
        assert_eq!(
            fits, true,
            "the document page fits {width} px without sideways scrolling"
        );
    }

    let diff_path = format!("/diff?url={}&from=1&to=2", urlencode(&doc(1)));
    check_page(&mut browser, &service, "diff", &diff_path, |v| {
        // the changed passage inside its paragraph, not the paragraph whole
        has(&v.dom, "按照第<del>1</del><ins>2</ins>版实施细则申报")?;
        has(&v.dom, "<th scope=\"row\">source</th>")?;
        has(&v.dom, "<del>区商务局</del>")?;
        has(&v.dom, "<ins>区商务局办公室</ins>")
    });

    check_page(&mut browser, &service, "changes", "/changes", |v| {
        has(&v.dom, "已删除")?;
        has(&v.dom, "关于做好第0批惠企政策兑现工作的通知")?;
        has(&v.dom, "<a href=\"/site/swj\">swj</a>")
    });

    // full-text search: the form in every page's header, hits with their
    // matches marked, the gone document found and said to be gone
    check_page(&mut browser, &service, "search-form", "/", |v| {
        has(
            &v.dom,
            "<form class=\"search\" method=\"get\" action=\"/search\" role=\"search\">",
        )
        .or_else(|_| has(&v.dom, "href=\"/search\""))
    });
    check_page(
        &mut browser,
        &service,
        "search",
        &format!("/search?q={}", urlencode("逾期不予受理")),
        |v| {
            has(&v.dom, "<form class=\"search\"")?;
            has(&v.dom, "共 4 条")?;
            has(&v.dom, "<mark>逾期不予受理</mark>")?;
            has(&v.dom, "已删除")?; // document 2
            has(&v.dom, "swj (4)")
        },
    );
    check_page(
        &mut browser,
        &service,
        "search-versions",
        &format!("/search?q={}&versions=all", urlencode("\"第1版实施细则\"")),
        |v| {
            has(&v.dom, "共 4 条（含历史版本）")?;
            has(&v.dom, "<mark>第1版实施细则</mark>")?;
            has(&v.dom, "第 1 版（旧）")
        },
    );
    let found = check_page(
        &mut browser,
        &service,
        "search-escaping",
        &format!("/search?q={}", urlencode("script代码")),
        |v| has(&v.dom, "关于清理网页中&lt;script&gt;代码残留的通知"),
    );
    assert!(
        !found.dom.contains("<script"),
        "a script element reached the DOM"
    );
    assert_eq!(browser.eval("document.scripts.length"), 0);

    // an archived title that names markup is text, never markup
    let escaped = check_page(
        &mut browser,
        &service,
        "escaping",
        &format!("/page?url={}", urlencode(&doc(3))),
        |v| has(&v.dom, "关于清理网页中&lt;script&gt;代码残留的通知"),
    );
    assert!(
        !escaped.dom.contains("<script"),
        "a script element reached the DOM"
    );
    assert_eq!(browser.eval("document.scripts.length"), 0);

    if let Some(dir) = std::env::var_os("GOVSNAP_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        browser.viewport(1280, 900, false);
        browser.visit(&format!("{}{page_path}", service.base));
        browser.screenshot(&dir.join("browse-page.png"), false);
        browser.visit(&format!("{}{diff_path}", service.base));
        browser.screenshot(&dir.join("browse-diff.png"), false);
    }
    drop(browser);
    assert!(service.stop().success());
}

#[test]
fn bad_addresses_get_a_page_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (_bureau, _addr, config) = changed_site(dir.path());
    let service = Service::start(&config, &dir.path().join("store"), "127.0.0.1:0");
    for (path, status) in [
        ("/site/nosuch", 404),
        ("/page?url=http%3A%2F%2Fwww.gov.cn%2Fnone.html", 404),
        ("/page?url=not-a-url", 400),
        ("/diff?url=not-a-url", 400),
        ("/changes?before=yesterday", 400),
    ] {
        let (got, body, headers) = service.get(path, false);
        assert_eq!(got, status, "{path}");
        assert!(headers["content-type"].starts_with("text/html"), "{path}");
        assert!(
            body.as_str().is_some_and(|b| b.contains("出错了")),
            "{path}: {body}"
        );
    }
    assert!(service.stop().success());
}
