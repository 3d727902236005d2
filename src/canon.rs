//! One page, one URL (SPEC §8): the canonical form every URL takes before
//! anything else sees it, so that a JSP site's session ids, a portal's
//! tracking parameters and a query written in another order do not make
//! one document many.
//!
//! The flow: a link is resolved against its page (WHATWG parsing: scheme
//! and host lower-cased, default port dropped, dot segments and
//! percent-encoding normalized, by the `url` crate), then [`canonical`]
//! drops its fragment, its session-id path parameters (`;jsessionid=…`),
//! its session-id and tracking query parameters (and the site's own
//! `strip_params`), and sorts what is left of the query. The bytes of the
//! parameters that stay are kept as they were: `%CD%A8` stays GBK, never
//! decoded and encoded again as UTF-8.

use url::Url;

/// Query (and path) parameters that carry a session, not a page: compared
/// without case; `aspsessionid` also as a prefix (`ASPSESSIONIDQSTCRBTA`).
const SESSION_PARAMS: &[&str] = &[
    "jsessionid",
    "phpsessid",
    "sid",
    "sessionid",
    "session_id",
    "cfid",
    "cftoken",
];

/// Tracking parameters: `utm_*` by prefix, and these (`spm`: Alibaba's
/// portals; `isappinstalled`: a page shared from `WeChat`).
const TRACKING_PARAMS: &[&str] = &["spm", "isappinstalled"];

/// Whether the query (or path) parameter named `name` (as written,
/// percent-encoded) says nothing of the page: a session or tracking
/// parameter, or one of the site's `strip`.
fn stripped(name: &str, strip: &[String]) -> bool {
    let name = name.to_ascii_lowercase();
    SESSION_PARAMS.contains(&name.as_str())
        || name.starts_with("aspsessionid")
        || name.starts_with("utm_")
        || TRACKING_PARAMS.contains(&name.as_str())
        || strip.iter().any(|s| s.eq_ignore_ascii_case(&name))
}

/// The canonical form of an absolute URL: fragment removed, session-id
/// path parameters and session, tracking and `strip` query parameters
/// removed, the remaining query parameters sorted (by name, then value, as
/// written). Idempotent.
#[must_use]
pub fn canonical(mut url: Url, strip: &[String]) -> Url {
    url.set_fragment(None);
    let path = url.path();
    if path.contains(';') {
        let cleaned = strip_path_params(path);
        if cleaned != path {
            url.set_path(&cleaned);
        }
    }
    if let Some(query) = url.query() {
        let mut pairs: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .filter(|pair| !stripped(pair.split('=').next().unwrap_or(pair), strip))
            .collect();
        pairs.sort_unstable_by(|a, b| {
            let key = |p: &str| {
                let (name, value) = p.split_once('=').unwrap_or((p, ""));
                (name.to_owned(), value.to_owned())
            };
            key(a).cmp(&key(b))
        });
        let sorted = pairs.join("&");
        if sorted.is_empty() {
            url.set_query(None);
        } else if sorted != query {
            url.set_query(Some(&sorted));
        }
    }
    url
}

/// `path` without the session ids a servlet container appends to a
/// segment (`/art/t1.html;jsessionid=0A1B…`): each `;name=value` whose
/// name is a session parameter goes; any other stays.
fn strip_path_params(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            let mut parts = segment.split(';');
            let head = parts.next().unwrap_or_default();
            let kept: Vec<&str> = parts
                .filter(|p| !stripped(p.split('=').next().unwrap_or(p), &[]))
                .collect();
            if kept.is_empty() {
                head.to_owned()
            } else {
                format!("{head};{}", kept.join(";"))
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// A URL longer than this is a trap, not a page.
pub const MAX_URL_BYTES: usize = 1024;

/// Why a URL is taken for a trap (an endless URL space) rather than a page:
/// longer than [`MAX_URL_BYTES`], deeper than `max_path_depth` segments, or
/// a path that repeats one segment three times or more (a relative link
/// that nests `/zwgk/zwgk/zwgk/…`).
#[must_use]
pub fn trap(url: &Url, max_path_depth: u32) -> Option<&'static str> {
    if url.as_str().len() > MAX_URL_BYTES {
        return Some("longer than 1,024 bytes");
    }
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    if segments.len() > usize::try_from(max_path_depth).unwrap_or(usize::MAX) {
        return Some("deeper than max_path_depth");
    }
    let repeated = segments
        .iter()
        .any(|s| segments.iter().filter(|t| *t == s).count() >= 3);
    repeated.then_some("a path segment repeated three times")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(url: &str, strip: &[&str]) -> String {
        let strip: Vec<String> = strip.iter().map(|s| (*s).to_owned()).collect();
        canonical(Url::parse(url).unwrap(), &strip).to_string()
    }

    /// Real-shaped URLs of provincial and county sites, and their one form.
    #[test]
    fn real_shaped_urls_take_one_form() {
        for (url, strip, expected) in [
            // JSP: the session id in the path, as Tomcat writes it
            (
                "http://www.hebei.gov.cn/hebei/14462058/14471802/14471750/index.html;jsessionid=8A3B0F5C2E1D",
                &[][..],
                "http://www.hebei.gov.cn/hebei/14462058/14471802/14471750/index.html",
            ),
            (
                "http://xxgk.example.gov.cn/jsp/list.jsp;JSESSIONID=abc123?lm=12&page=2",
                &[],
                "http://xxgk.example.gov.cn/jsp/list.jsp?lm=12&page=2",
            ),
            // PHP and ASP session ids, any case, anywhere in the query
            (
                "http://www.example.gov.cn/index.php?PHPSESSID=9f8e7d&id=3",
                &[],
                "http://www.example.gov.cn/index.php?id=3",
            ),
            (
                "http://www.example.gov.cn/news.asp?ASPSESSIONIDQSTCRBTA=KJHGFD&newsid=1205",
                &[],
                "http://www.example.gov.cn/news.asp?newsid=1205",
            ),
            (
                "http://www.example.gov.cn/art.do?sid=77aa&artid=5&cfid=1&cftoken=2",
                &[],
                "http://www.example.gov.cn/art.do?artid=5",
            ),
            // tracking parameters, and the rest sorted
            (
                "https://www.gov.cn/zhengce/content/2024-01/05/content_6924111.htm?utm_source=wechat&utm_medium=share&spm=a21.1",
                &[],
                "https://www.gov.cn/zhengce/content/2024-01/05/content_6924111.htm",
            ),
            (
                "http://www.example.gov.cn/list.jsp?page=2&lm=12",
                &[],
                "http://www.example.gov.cn/list.jsp?lm=12&page=2",
            ),
            // a site's own parameters
            (
                "http://www.example.gov.cn/list.jsp?lm=12&_t=1704067200&page=2",
                &["_t"],
                "http://www.example.gov.cn/list.jsp?lm=12&page=2",
            ),
            // a GBK query stays GBK; a fragment goes
            (
                "http://www.example.gov.cn/list.jsp?lm=%CD%A8%D6%AA%B9%AB%B8%E6#top",
                &[],
                "http://www.example.gov.cn/list.jsp?lm=%CD%A8%D6%AA%B9%AB%B8%E6",
            ),
            // nothing to do
            (
                "http://www.tjbh.gov.cn/gxq/zwgk/202403/t20240301_6543210.html",
                &[],
                "http://www.tjbh.gov.cn/gxq/zwgk/202403/t20240301_6543210.html",
            ),
            // a path parameter that is not a session stays
            (
                "http://www.example.gov.cn/doc;version=2/a.html",
                &[],
                "http://www.example.gov.cn/doc;version=2/a.html",
            ),
        ] {
            assert_eq!(canon(url, strip), expected, "{url}");
            assert_eq!(canon(expected, strip), expected, "idempotent: {expected}");
        }
    }

    #[test]
    fn endless_spaces_are_traps() {
        let trap = |u: &str| trap(&Url::parse(u).unwrap(), 16);
        assert_eq!(
            trap("http://www.example.gov.cn/zwgk/2024/01/01/t20240101_1.html"),
            None
        );
        assert_eq!(
            trap("http://www.example.gov.cn/zwgk/zwgk/zwgk/index.html"),
            Some("a path segment repeated three times")
        );
        assert_eq!(
            trap("http://www.example.gov.cn/a/b/a/b/a/index.html"),
            Some("a path segment repeated three times")
        );
        let segments = "s/".repeat(17);
        let deep = format!("http://www.example.gov.cn/{segments}x.html");
        assert_eq!(trap(&deep), Some("deeper than max_path_depth"));
        let long = format!("http://www.example.gov.cn/list.jsp?q={}", "a".repeat(1024));
        assert_eq!(trap(&long), Some("longer than 1,024 bytes"));
    }

    #[test]
    fn a_query_of_only_session_and_tracking_parameters_goes_whole() {
        assert_eq!(
            canon(
                "http://www.example.gov.cn/?jsessionid=1&utm_campaign=x",
                &[]
            ),
            "http://www.example.gov.cn/"
        );
    }
}
