//! What the page says about itself in `<head>`: the 《政府网站发展指引》 meta
//! tags (`ArticleTitle`, `PubDate`, `ContentSource`, `SiteName`), Open Graph, `<title>`,
//! the canonical link and `<base href>`. Read from the raw DOM, before cleaning.

use crate::clean::normalize::normalize_text;
use scraper::{Html, Node};

/// The head's facts, each normalized; empty values are `None`.
#[derive(Debug, Default)]
pub(crate) struct HeadMeta {
    pub article_title: Option<String>,
    pub pub_date: Option<String>,
    pub content_source: Option<String>,
    pub site_name: Option<String>,
    pub og_title: Option<String>,
    pub title_tag: Option<String>,
    pub canonical: Option<String>,
    pub base_href: Option<String>,
}

impl HeadMeta {
    pub(crate) fn read(html: &Html) -> Self {
        let mut head = Self::default();
        // The parser moves every <meta>, <title> and <link> it meets before
        // the body into <head>; only a broken page puts them elsewhere.
        let scope = html
            .tree
            .root()
            .descendants()
            .take(8)
            .find(|n| n.value().as_element().is_some_and(|e| e.name() == "head"))
            .unwrap_or_else(|| html.tree.root());
        for node in scope.descendants() {
            let Node::Element(el) = node.value() else {
                continue;
            };
            match el.name() {
                "meta" => {
                    let key = el
                        .attr("name")
                        .or_else(|| el.attr("property"))
                        .or_else(|| el.attr("itemprop"))
                        .unwrap_or("")
                        .to_ascii_lowercase();
                    let value = el
                        .attr("content")
                        .map(|v| {
                            let v = normalize_text(&without_markup(v));
                            // `<meta name="source" content="来源：人民网">`
                            // carries its label
                            match v.split_once(['：', ':']) {
                                Some((label, rest))
                                    if key == "source" && label.chars().count() <= 4 =>
                                {
                                    rest.trim().to_owned()
                                }
                                _ => v,
                            }
                        })
                        .filter(|v| !v.is_empty());
                    let slot = match key.as_str() {
                        "articletitle" => &mut head.article_title,
                        "pubdate" | "publishdate" | "firstpublishedtime" => &mut head.pub_date,
                        "contentsource" | "source" => &mut head.content_source,
                        "sitename" => &mut head.site_name,
                        "og:title" => &mut head.og_title,
                        _ => continue,
                    };
                    if slot.is_none() {
                        *slot = value;
                    }
                }
                "title" if head.title_tag.is_none() => {
                    let text: String = node
                        .descendants()
                        .filter_map(|d| d.value().as_text().map(|t| &**t as &str))
                        .collect();
                    head.title_tag =
                        Some(normalize_text(&without_markup(&text))).filter(|t| !t.is_empty());
                }
                "link" if head.canonical.is_none() => {
                    let canonical = el
                        .attr("rel")
                        .is_some_and(|r| r.eq_ignore_ascii_case("canonical"));
                    if canonical {
                        head.canonical = el.attr("href").map(|h| h.trim().to_owned());
                    }
                }
                "base" if head.base_href.is_none() => {
                    head.base_href = el.attr("href").map(|h| h.trim().to_owned());
                }
                _ => {}
            }
        }
        head
    }
}

/// Text from a meta tag's `content` or from `<title>` (raw text: a tag in
/// it is not parsed) without the formatting markup some CMSs put there
/// (`主标题<div>——副标题</div>`, `<font color=red>[文件获取中]</font>`).
/// Only formatting elements go: `<script>` in a title about scripts is text.
pub(crate) fn without_markup(text: &str) -> std::borrow::Cow<'_, str> {
    static TAG: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?i)</?(a|b|big|br|center|div|em|font|h[1-6]|i|img|p|small|span|strong|sub|sup|u)\b[^<>]*>",
        )
        .expect("static regex")
    });
    if text.contains('<') {
        TAG.replace_all(text, "")
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}
