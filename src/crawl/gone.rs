//! A deleted page is gone, whatever the status code (SPEC §5; the rule's
//! words are in `docs/EXTRACTION.md`). Government sites seldom answer 404
//! for a document they removed: they answer 200 with "对不起，您访问的页面不存在
//! 或已被删除！" (a soft 404), or with a page that only sends the browser home
//! (`<meta http-equiv="refresh" content="0;url=/">`, `window.location`), or
//! redirect (301/302) home. Each of those is a gone mark, never a version
//! made of an error page; a redirect to another document is a move.
//!
//! The flow: the crawl hands a fetched 200 page of a known document to
//! [`judge`], with its record and bytes; a redirect's target to
//! [`Goes::of_redirect`]. What comes back says gone (why) or moved (where),
//! and the crawl writes that instead of a version.

use crate::record::Record;
use regex::Regex;
use regex::bytes::Regex as BytesRegex;
use std::sync::LazyLock;
use url::Url;

/// A page shorter than this (characters of text) can be an error page
/// when its title says so.
const SHORT_PAGE: usize = 300;
/// … and when only its text says so, shorter than this: a short notice
/// may well mention a deleted item.
const ERROR_TEXT: usize = 100;
/// A page that sends the browser elsewhere and has less text than this
/// does nothing else (a real page's template may hold a script that sets
/// `location` for a button).
const REDIRECT_TEXT: usize = 20;

/// What a fetch of a known document says of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goes {
    /// It is gone: `soft_404`, `redirect_home`.
    Gone(&'static str),
    /// It moved to another URL, which the crawl follows.
    Moved(Url),
}

/// The words of an error page: in its title, or anywhere in a short page.
static ERROR_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)页面不存在|页面已删除|已被删除|已经删除|不存在或已|您访问的页面|您所访问的页面|找不到|无法找到|信息不存在|文章不存在|内容不存在|\b404\b|not found",
    )
    .expect("static regex")
});

/// What a fetched 200 page of a known document says of it: a soft 404 (a
/// short page whose title or text says it does not exist or was deleted,
/// or that the site's own `patterns` match), a page that only redirects
/// (meta refresh or script) home or to a list page (`listing` says which
/// URLs are), or a move to another page.
#[must_use]
pub fn judge(
    record: &Record,
    bytes: &[u8],
    page: &Url,
    patterns: &[std::sync::Arc<Regex>],
    listing: &dyn Fn(&Url) -> bool,
) -> Option<Goes> {
    let title = record.title.as_deref().unwrap_or("");
    let chars = record.text.chars().count();
    let said = |text: &str| ERROR_WORDS.is_match(text) || patterns.iter().any(|p| p.is_match(text));
    if (chars < SHORT_PAGE && said(title)) || (chars < ERROR_TEXT && said(&record.text)) {
        return Some(Goes::Gone("soft_404"));
    }
    if chars < REDIRECT_TEXT
        && let Some(target) = redirect_of(bytes, page)
    {
        return Some(Goes::of_redirect(page, target, listing));
    }
    None
}

impl Goes {
    /// A known document that redirects to `target`: gone when that is the
    /// site's home or a list page, else moved there.
    #[must_use]
    pub fn of_redirect(page: &Url, target: Url, listing: &dyn Fn(&Url) -> bool) -> Self {
        if is_home(&target) || listing(&target) || target.host_str() != page.host_str() {
            Goes::Gone("redirect_home")
        } else {
            Goes::Moved(target)
        }
    }
}

/// A site's home page: `/`, or `/index.*`, `/default.*`, `/main.*` at the
/// root.
fn is_home(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    path == "/"
        || ["/index.", "/default.", "/main.", "/home."]
            .iter()
            .any(|p| path.starts_with(p) && path[1..].find('/').is_none())
}

/// Where a page sends the browser by itself, if that is all it does: a
/// meta refresh, or a script that sets `location`.
fn redirect_of(bytes: &[u8], page: &Url) -> Option<Url> {
    static REFRESH: LazyLock<BytesRegex> = LazyLock::new(|| {
        BytesRegex::new(
            r#"(?i)<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']?\s*\d+\s*[;,]\s*url\s*=\s*['"]?([^"'>\s]+)"#,
        )
        .expect("static regex")
    });
    static SCRIPT: LazyLock<BytesRegex> = LazyLock::new(|| {
        BytesRegex::new(
            r#"(?i)(?:window\.|document\.|top\.|self\.)?location(?:\.href)?\s*(?:=|\.replace\(|\.assign\()\s*["']([^"']+)["']"#,
        )
        .expect("static regex")
    });
    let target = REFRESH
        .captures(bytes)
        .or_else(|| SCRIPT.captures(bytes))
        .and_then(|c| c.get(1))
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())?;
    let url = page.join(target.trim()).ok()?;
    (url != *page).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(title: &str, text: &str) -> Record {
        let html =
            format!("<html><head><title>{title}</title></head><body><p>{text}</p></body></html>");
        let page = crate::Page {
            bytes: html.as_bytes(),
            url: Some("http://www.example.gov.cn/zwgk/202401/t20240101_1.html"),
            ..crate::Page::default()
        };
        let mut record = crate::extract(&page, None, crate::ExtractOptions::default()).unwrap();
        record.title = Some(title.to_owned());
        record.text = text.to_owned();
        record
    }

    fn judge_page(title: &str, text: &str, html: &str) -> Option<Goes> {
        let page = Url::parse("http://www.example.gov.cn/zwgk/202401/t20240101_1.html").unwrap();
        let listing = |u: &Url| u.path().ends_with("/zwgk/index.html");
        judge(&record(title, text), html.as_bytes(), &page, &[], &listing)
    }

    #[test]
    fn soft_404s_in_their_real_wordings() {
        for (title, text) in [
            ("提示信息", "对不起，您访问的页面不存在或已被删除！"),
            ("404", "返回首页"),
            (
                "页面不存在_某市人民政府",
                "您所访问的页面不存在，请返回首页。",
            ),
            ("错误", "信息不存在或已删除"),
            (
                "Not Found",
                "The requested URL was not found on this server.",
            ),
        ] {
            assert_eq!(
                judge_page(title, text, ""),
                Some(Goes::Gone("soft_404")),
                "{title}: {text}"
            );
        }
    }

    #[test]
    fn a_document_that_mentions_the_words_is_no_error_page() {
        let long = "关于清理已被删除的违规信息的通知。".repeat(30);
        assert_eq!(judge_page("关于清理违规信息的通知", &long, ""), None);
        assert_eq!(
            judge_page(
                "关于开展安全检查的通知",
                "各街道：现就有关事项通知如下。",
                ""
            ),
            None
        );
        // a short notice whose template has a button that sets location
        let button = r"<script>function back(){window.location.href='/';}</script>";
        assert_eq!(
            judge_page(
                "关于公布第一批名单的公告",
                "现将第一批名单予以公布，公示期五个工作日，如有异议请来电反映。",
                button
            ),
            None
        );
    }

    #[test]
    fn pages_that_only_redirect_home_are_gone_and_elsewhere_moved() {
        let refresh = r#"<html><head><meta http-equiv="refresh" content="0;url=/"></head><body></body></html>"#;
        assert_eq!(
            judge_page("跳转中", "", refresh),
            Some(Goes::Gone("redirect_home"))
        );
        let script =
            r"<script>window.location.href='http://www.example.gov.cn/index.html';</script>";
        assert_eq!(
            judge_page("跳转中", "", script),
            Some(Goes::Gone("redirect_home"))
        );
        let list = r#"<script>location.replace("../index.html")</script>"#;
        assert_eq!(judge_page("", "", list), Some(Goes::Gone("redirect_home")));
        let moved = r#"<meta http-equiv="Refresh" content="1; URL=/zwgk/202402/t20240201_9.html">"#;
        assert_eq!(
            judge_page("", "", moved),
            Some(Goes::Moved(
                Url::parse("http://www.example.gov.cn/zwgk/202402/t20240201_9.html").unwrap()
            ))
        );
    }
}
