//! Finding the pages to crawl next: the links of a fetched page, the list
//! pages that TRS CMS reaches only through its `createPageHTML(…)` script
//! call, and one canonical form per URL so that the frontier never holds the
//! same page twice.

use encoding_rs::Encoding;
use regex::Regex;
use scraper::{Html, Selector};
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::LazyLock;
use url::Url;

/// The canonical form of a link found on the page at `base`: resolved,
/// scheme and host lower-cased, default port dropped, `.`/`..` segments and
/// percent-encoding normalized (the `url` crate's WHATWG parsing), then
/// [`crate::canon::canonical`] (fragment, session ids and tracking
/// parameters removed, the query sorted). Only `http` and `https` links
/// are crawlable.
#[must_use]
pub fn canonicalize(base: &Url, href: &str) -> Option<Url> {
    canonicalize_in(base, href, encoding_rs::UTF_8)
}

/// [`canonicalize`] for a link of a page in `encoding`: its query is
/// percent-encoded in that encoding, as a browser sends it (the WHATWG URL
/// standard's encoding override; a GBK page's `?lm=通知公告` is
/// `?lm=%CD%A8%D6%AA%B9%AB%B8%E6`, which a GBK JSP server expects), its
/// path in UTF-8 as always.
#[must_use]
pub fn canonicalize_in(base: &Url, href: &str, encoding: &'static Encoding) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let encode = encoder(encoding);
    let options = Url::options().base_url(Some(base));
    let url = if encoding == encoding_rs::UTF_8 {
        options.parse(href)
    } else {
        options.encoding_override(Some(&encode)).parse(href)
    }
    .ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    Some(crate::canon::canonical(url, &[]))
}

/// Elements that link: by their `href` or `src`, or by script in an event
/// attribute.
static LINKS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse(
        "a[href], area[href], frame[src], iframe[src], [onclick], [ondblclick], [onmousedown], [onmouseup]",
    )
    .expect("static selector")
});

/// What a page links to: its crawlable links and the TRS list series its
/// scripts name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
    /// Every crawlable link, canonical, once each, in document order (the
    /// page's `<base href>` respected).
    pub pages: Vec<Url>,
    /// The TRS pagination series the page's scripts name. Every list page
    /// of a series names the whole series, so it stays one value here and
    /// the crawler expands each series once, not once per list page (which
    /// would be quadratic in the length of the list).
    pub series: Vec<TrsSeries>,
    /// The Hanweb jpage column the page is, whose later groups its data
    /// proxy gives (see [`super::jpage`]); set by the pipeline, which knows
    /// the site's `jpage` config.
    pub jpage: Option<super::jpage::Column>,
}

/// `encoding`'s encoder, as the `url` crate takes an encoding override.
fn encoder(encoding: &'static Encoding) -> impl for<'a> Fn(&'a str) -> Cow<'a, [u8]> {
    move |s| encoding.encode(s).0
}

/// Every crawlable link of a page in `encoding` (queries are encoded in
/// it, see [`canonicalize_in`]) and the TRS list series its scripts name.
/// Links are also read out of script, as older sites write them: quoted
/// strings that look like a page's URL in `javascript:` hrefs, event
/// attributes (`onclick="window.open('…')"`, `location.href='…'`,
/// `openArticle('…')`) and inline scripts (see `script_links`).
#[must_use]
pub fn links(html: &Html, page_url: &Url, encoding: &'static Encoding) -> Links {
    static BASE: LazyLock<Selector> =
        LazyLock::new(|| Selector::parse("base[href]").expect("static selector"));
    let base = html
        .select(&BASE)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page_url.join(h).ok())
        .unwrap_or_else(|| page_url.clone());
    let mut seen: HashSet<Url> = HashSet::new();
    let mut pages = Vec::new();
    let mut add = |href: &str| {
        if let Some(u) = canonicalize_in(&base, href, encoding)
            && !super::jpage::is_proxy(&u)
            && seen.insert(u.clone())
        {
            pages.push(u);
        }
    };
    // one pass, so that links come in document order however written
    for el in html.select(&LINKS) {
        element_links(el.value(), &mut add);
    }
    // a jpage column's records, which an HTML parser sees as script text
    for store in super::jpage::page_datastores(html) {
        for record in &store.records {
            record_links(record, &mut add);
        }
    }
    let scripts: String = html
        .select(&SCRIPTS)
        .filter(|s| !super::jpage::is_xml_script(s.value()))
        .flat_map(|s| s.text())
        .collect();
    script_links(&scripts).for_each(&mut add);
    Links {
        pages,
        series: trs_series(&scripts, &base),
        jpage: None,
    }
}

/// The links of a record's markup (a jpage column's `<li>`), as `add`
/// takes hrefs: its anchors and their scripts.
pub(crate) fn record_links(record: &str, add: &mut impl FnMut(&str)) {
    let fragment = Html::parse_fragment(record);
    for el in fragment.select(&LINKS) {
        element_links(el.value(), add);
    }
}

/// The crawlable links of records (a jpage group's), canonical, once each,
/// in list order: resolved against the column page, their queries in
/// `encoding`.
#[must_use]
pub fn record_urls(records: &[String], page: &Url, encoding: &'static Encoding) -> Vec<Url> {
    let mut urls: Vec<Url> = Vec::new();
    let mut add = |href: &str| {
        if let Some(u) = canonicalize_in(page, href, encoding)
            && !super::jpage::is_proxy(&u)
            && !urls.contains(&u)
        {
            urls.push(u);
        }
    };
    for record in records {
        record_links(record, &mut add);
    }
    urls
}

/// The links of one linking element, as `add` takes hrefs: its `href` or
/// `src`, and the URLs in its scripts.
fn element_links(el: &scraper::node::Element, add: &mut impl FnMut(&str)) {
    let href = match el.name() {
        "a" | "area" => el.attr("href"),
        "frame" | "iframe" => el.attr("src"),
        _ => None,
    };
    match href {
        Some(href) if is_script(href) => script_links(href).for_each(&mut *add),
        Some(href) => add(href),
        None => {}
    }
    for (name, value) in el.attrs() {
        if name.starts_with("on") {
            script_links(value).for_each(&mut *add);
        }
    }
}

/// A `javascript:` URL.
fn is_script(href: &str) -> bool {
    href.trim_start()
        .get(..11)
        .is_some_and(|s| s.eq_ignore_ascii_case("javascript:"))
}

/// The quoted strings of a script that look like a page's URL: an
/// absolute `http(s)` URL, or a path to a page (`.html`, `.htm`, `.shtml`,
/// `.jsp`, `.asp`, `.aspx`, `.php`, `.do`, with or without a query). A
/// stylesheet, a script or an image never is one; scope and the crawl's
/// trap rules judge the rest as they judge any link.
fn script_links(script: &str) -> impl Iterator<Item = &str> {
    static QUOTED: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r#"(?i)["']((?:https?://[^"'\s<>()]+)|(?:[^"'\s<>():;,+]*\.(?:s?html?|jsp|aspx?|php|do)(?:\?[^"'\s<>()]*)?))["']"#,
        )
        .expect("static regex")
    });
    QUOTED
        .captures_iter(script)
        .filter_map(|c| c.get(1))
        .map(|m| m.as_str())
        .filter(|s| !crate::clean::selectors::is_file_link(s))
}

static SCRIPTS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("script").expect("static selector"));

/// One TRS CMS pagination series: `prefix.ext`, `prefix_1.ext` …
/// `prefix_{total-1}.ext` in one directory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrsSeries {
    /// The first page, `prefix.ext`, resolved against the list page.
    first: Url,
    prefix: String,
    ext: String,
    total: u32,
}

impl TrsSeries {
    /// The pages of the series, in order.
    pub fn pages(&self) -> impl Iterator<Item = Url> + '_ {
        std::iter::once(self.first.clone()).chain((1..self.total).filter_map(|i| {
            self.first
                .join(&format!("{}_{i}.{}", self.prefix, self.ext))
                .ok()
        }))
    }
}

/// The TRS pagination series a page's scripts name. `createPageHTML(total,
/// current, "index", "html")` (or the newer `createPageHTML('page_div',
/// total, current, 'index', 'html', records)`) means `index.html`,
/// `index_1.html` … `index_{total-1}.html` next to the current page; `total`
/// may be a variable set earlier (`var countPage = 34`).
#[must_use]
pub fn trs_series(script: &str, page_url: &Url) -> Vec<TrsSeries> {
    static CALL: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"createPageHTML\s*\(([^)]*)\)").expect("static regex"));
    let mut out: Vec<TrsSeries> = Vec::new();
    for call in CALL.captures_iter(script) {
        let args: Vec<&str> = call[1]
            .split(',')
            .map(|a| a.trim().trim_end_matches(';'))
            .collect();
        let strings: Vec<&str> = args
            .iter()
            .filter(|a| a.len() >= 2 && (a.starts_with('"') || a.starts_with('\'')))
            .map(|a| &a[1..a.len() - 1])
            .collect();
        let Some(&[prefix, ext]) = strings.len().checked_sub(2).map(|i| &strings[i..]) else {
            continue;
        };
        // the first argument that is not a string is the page count
        let Some(total) = args
            .iter()
            .find(|a| !a.starts_with('"') && !a.starts_with('\''))
            .and_then(|a| a.parse::<u32>().ok().or_else(|| variable(script, a)))
        else {
            continue;
        };
        let Ok(first) = page_url.join(&format!("{prefix}.{ext}")) else {
            continue;
        };
        let series = TrsSeries {
            first,
            prefix: prefix.to_owned(),
            ext: ext.to_owned(),
            total: total.clamp(1, MAX_TRS_PAGES),
        };
        if total > 0 && !out.contains(&series) {
            out.push(series);
        }
    }
    out
}

/// A page count beyond this is a broken script, not a list.
const MAX_TRS_PAGES: u32 = 5_000;

/// The number a script assigns to `name` (`var countPage = 34`).
fn variable(script: &str, name: &str) -> Option<u32> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let re = Regex::new(&format!(r"\b{}\s*=\s*([0-9]+)", regex::escape(name))).ok()?;
    re.captures(script)?[1].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn canonical_forms() {
        let base = url("http://www.tht.gov.cn/gk/zdlyxxgk/index.html");
        let c = |h| canonicalize(&base, h).map(|u| u.to_string());
        assert_eq!(
            c("./202103/t20210330_5391243.html#top").as_deref(),
            Some("http://www.tht.gov.cn/gk/zdlyxxgk/202103/t20210330_5391243.html")
        );
        assert_eq!(
            c("../../gk/./a.html").as_deref(),
            Some("http://www.tht.gov.cn/gk/a.html")
        );
        assert_eq!(
            c("HTTP://WWW.THT.GOV.CN:80/x").as_deref(),
            Some("http://www.tht.gov.cn/x")
        );
        assert_eq!(
            c("https://www.tht.gov.cn:443").as_deref(),
            Some("https://www.tht.gov.cn/")
        );
        assert_eq!(
            c("/gk/政策 文件.html").as_deref(),
            Some("http://www.tht.gov.cn/gk/%E6%94%BF%E7%AD%96%20%E6%96%87%E4%BB%B6.html")
        );
        assert_eq!(c("javascript:void(0)"), None);
        assert_eq!(c("mailto:gxqwxb@tht.gov.cn"), None);
        assert_eq!(c("#"), None);
    }

    #[test]
    fn a_query_is_encoded_in_the_page_s_encoding_and_the_path_in_utf8() {
        let base = url("http://www.example.gov.cn/zwgk/index.jsp");
        let gbk = |href| canonicalize_in(&base, href, encoding_rs::GBK).map(|u| u.to_string());
        assert_eq!(
            gbk("list.jsp?lm=通知公告&page=1").as_deref(),
            Some("http://www.example.gov.cn/zwgk/list.jsp?lm=%CD%A8%D6%AA%B9%AB%B8%E6&page=1")
        );
        assert_eq!(
            gbk("/政策/list.jsp?lm=规划").as_deref(),
            Some("http://www.example.gov.cn/%E6%94%BF%E7%AD%96/list.jsp?lm=%B9%E6%BB%AE")
        );
        let big5 = canonicalize_in(&base, "list.asp?類別=公告", encoding_rs::BIG5).unwrap();
        assert_eq!(big5.query(), Some("%C3%FE%A7O=%A4%BD%A7i"));
        // UTF-8 pages as before
        assert_eq!(
            canonicalize(&base, "list.jsp?lm=通知").unwrap().query(),
            Some("lm=%E9%80%9A%E7%9F%A5")
        );
    }

    #[test]
    fn links_inside_script_are_found_once() {
        let html = Html::parse_document(
            "<html><body><ul>\
             <li><a href=\"javascript:window.open('/art/2024/t20240101_1.html')\">一</a></li>\
             <li><a href=\"#\" onclick=\"window.open('t20240101_2.html','_blank')\">二</a></li>\
             <li><a href=\"javascript:void(0)\" onclick=\"location.href='./t20240101_3.html';return false;\">三</a></li>\
             <li><span onclick=\"openArticle('/art/2024/t20240101_4.html')\">四</span></li>\
             <li><a href=\"JavaScript:goto(&quot;detail.jsp?id=5&amp;lm=12&quot;)\">五</a></li>\
             <li><a href=\"t20240101_1.html\">一（重复）</a></li>\
             </ul><script src=\"/js/jquery.min.js\"></script>\
             <script>var u = 'https://www.example.gov.cn/zwgk/t20240101_6.html'; $('#x').css('background', 'url(/img/bg.png)');\
             document.write('<link href=\"/css/main.css\">'); var n = 'index_1.shtml';</script>\
             </body></html>",
        );
        let found = links(
            &html,
            &url("http://www.example.gov.cn/art/2024/index.html"),
            encoding_rs::UTF_8,
        );
        let found: Vec<&str> = found.pages.iter().map(Url::as_str).collect();
        assert_eq!(
            found,
            [
                "http://www.example.gov.cn/art/2024/t20240101_1.html",
                "http://www.example.gov.cn/art/2024/t20240101_2.html",
                "http://www.example.gov.cn/art/2024/t20240101_3.html",
                "http://www.example.gov.cn/art/2024/t20240101_4.html",
                "http://www.example.gov.cn/art/2024/detail.jsp?id=5&lm=12",
                "https://www.example.gov.cn/zwgk/t20240101_6.html",
                "http://www.example.gov.cn/art/2024/index_1.shtml",
            ]
        );
    }

    #[test]
    fn trs_pagination_from_the_script_call() {
        let page = url("http://www.tht.gov.cn/gk/zdlyxxgk/index.html");
        let series = |script: &str| -> Vec<Url> {
            trs_series(script, &page)
                .iter()
                .flat_map(TrsSeries::pages)
                .collect()
        };
        let pages = series("createPageHTML(3, 0, \"index\", \"html\");");
        let names: Vec<String> = pages.iter().map(Url::to_string).collect();
        assert_eq!(
            names,
            [
                "http://www.tht.gov.cn/gk/zdlyxxgk/index.html",
                "http://www.tht.gov.cn/gk/zdlyxxgk/index_1.html",
                "http://www.tht.gov.cn/gk/zdlyxxgk/index_2.html",
            ]
        );
        let newer = series("createPageHTML('page_div',2, 1,'index','shtml',31);");
        assert_eq!(
            newer.last().map(Url::as_str),
            Some("http://www.tht.gov.cn/gk/zdlyxxgk/index_1.shtml")
        );
        let with_var = series(
            "var countPage = 4//共多少页\nvar currentPage = 0;\ncreatePageHTML(countPage, currentPage, \"index\", \"htm\");",
        );
        assert_eq!(with_var.len(), 4);
        assert!(series("createPageHTML(x, y)").is_empty());
        assert!(series("createPageHTML(0, 0, \"index\", \"html\")").is_empty());
        // every list page names the same series: one value, expanded once
        let twice = trs_series(
            "createPageHTML(900, 3, \"index\", \"html\"); createPageHTML(900, 3, \"index\", \"html\");",
            &page,
        );
        assert_eq!(twice.len(), 1);
        assert_eq!(twice[0].pages().count(), 900);
    }

    #[test]
    fn links_in_order_once_with_base_and_trs() {
        let html = Html::parse_document(
            "<html><head><base href=\"http://www.example.gov.cn/gk/\"></head><body>\
             <a href=\"t20240101_1.html\">一</a><a href=\"t20240101_1.html#x\">一</a>\
             <a href=\"/zwgk/\">政务公开</a><a href=\"javascript:;\">打印</a>\
             <script>createPageHTML(2, 0, \"index\", \"html\");</script></body></html>",
        );
        let found = links(
            &html,
            &url("http://www.example.gov.cn/other/page.html"),
            encoding_rs::UTF_8,
        );
        let found: Vec<String> = found
            .pages
            .iter()
            .cloned()
            .chain(found.series.iter().flat_map(TrsSeries::pages))
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            found,
            [
                "http://www.example.gov.cn/gk/t20240101_1.html",
                "http://www.example.gov.cn/zwgk/",
                "http://www.example.gov.cn/gk/index.html",
                "http://www.example.gov.cn/gk/index_1.html",
            ]
        );
    }
}
