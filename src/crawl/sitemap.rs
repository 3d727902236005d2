//! Sitemaps (sitemaps.org): the page URLs of a `<urlset>`, or the nested
//! sitemaps of a `<sitemapindex>`. Read with a tolerant scan of `<loc>`
//! elements, since government sites serve sitemaps with broken XML as often
//! as not.

use regex::Regex;
use std::sync::LazyLock;
use url::Url;

/// What a sitemap file lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sitemap {
    /// Pages to crawl.
    Pages(Vec<Url>),
    /// Further sitemaps to read.
    Index(Vec<Url>),
}

/// Read a sitemap's text; relative or non-http `<loc>`s are dropped.
#[must_use]
pub fn parse(text: &str) -> Sitemap {
    static LOC: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<loc>\s*(?:<!\[CDATA\[)?\s*(.*?)\s*(?:\]\]>)?\s*</loc>")
            .expect("static regex")
    });
    let urls = LOC
        .captures_iter(text)
        .filter_map(|c| Url::parse(&c[1].replace("&amp;", "&")).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .collect();
    if text.contains("<sitemapindex") {
        Sitemap::Index(urls)
    } else {
        Sitemap::Pages(urls)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlsets_and_indexes() {
        let set = parse(
            "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\
            <url><loc>http://www.example.gov.cn/gk/t20240101_1.html</loc></url>\
            <url><loc> <![CDATA[http://www.example.gov.cn/gk/a.html?x=1&amp;y=2]]> </loc></url>\
            <url><loc>/relative.html</loc></url></urlset>",
        );
        let Sitemap::Pages(pages) = set else {
            panic!("a urlset")
        };
        assert_eq!(pages.len(), 2);
        assert_eq!(
            pages[1].as_str(),
            "http://www.example.gov.cn/gk/a.html?x=1&y=2"
        );
        let index = parse(
            "<sitemapindex><sitemap><loc>http://www.example.gov.cn/sitemap_gk.xml</loc></sitemap></sitemapindex>",
        );
        assert_eq!(
            index,
            Sitemap::Index(vec![
                Url::parse("http://www.example.gov.cn/sitemap_gk.xml").unwrap()
            ])
        );
    }
}
