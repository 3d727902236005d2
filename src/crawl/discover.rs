//! Finding the pages to crawl next: the links of a fetched page, the list
//! pages that TRS CMS reaches only through its `createPageHTML(…)` script
//! call, and one canonical form per URL so that the frontier never holds the
//! same page twice.

use regex::Regex;
use scraper::{Html, Selector};
use std::collections::HashSet;
use std::sync::LazyLock;
use url::Url;

/// The canonical form of a link found on the page at `base`: resolved,
/// scheme and host lower-cased, default port dropped, `.`/`..` segments and
/// percent-encoding normalized (the `url` crate's WHATWG parsing), fragment
/// removed. Only `http` and `https` links are crawlable.
#[must_use]
pub fn canonicalize(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.starts_with('#') {
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

static LINKS: LazyLock<Selector> = LazyLock::new(|| {
    Selector::parse("a[href], area[href], frame[src], iframe[src]").expect("static selector")
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
}

/// Every crawlable link of a page and the TRS list series its scripts name.
#[must_use]
pub fn links(html: &Html, page_url: &Url) -> Links {
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
    for el in html.select(&LINKS) {
        let href = el
            .value()
            .attr("href")
            .or_else(|| el.value().attr("src"))
            .unwrap_or("");
        if let Some(u) = canonicalize(&base, href)
            && seen.insert(u.clone())
        {
            pages.push(u);
        }
    }
    let scripts: String = html.select(&SCRIPTS).flat_map(|s| s.text()).collect();
    Links {
        pages,
        series: trs_series(&scripts, &base),
    }
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
        let found = links(&html, &url("http://www.example.gov.cn/other/page.html"));
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
