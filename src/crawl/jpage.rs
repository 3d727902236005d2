//! Hanweb (大汉) jpage columns (SPEC §8): the other big government CMS
//! family's list pages. A column page (`/col/col103585/index.html`) writes
//! its first records inside `<script type="text/xml"><datastore>` as CDATA
//! markup, which an HTML parser sees as script text; every later record
//! comes only from the column's data proxy (`/module/web/jpage/
//! dataproxy.jsp`), which the page's jpage script asks with a POST:
//!
//! ```text
//! POST /module/web/jpage/dataproxy.jsp?startrecord=46&endrecord=90&perpage=15
//! col=1&appid=1&webid=20&path=%2F&columnid=103585&sourceContentType=1&unitid=392650&…
//!
//! <datastore><totalrecord>120</totalrecord><recordset>
//!   <record><![CDATA[<li><a href="/art/2024/9/4/art_103585_10328790.html">…</a></li>]]></record>…
//! ```
//!
//! The flow: [`datastore`] reads such XML (in a page or in an answer);
//! [`column()`] reads a page's jpage parameters (the script's `ajaxParam`,
//! `perPage`, `groupSize`, `proxyUrl`, the `nextgroup` link's query, the
//! site's `jpage` config, the column id in the URL, the first found of each
//! winning); a [`Pager`] says which
//! group to ask for next and, given each answer, whether the column goes
//! on. The crawl's fetch task asks (`task`), politely, in list order.
//!
//! Some Hanweb versions page by GET instead: the datastore's `nextgroup`
//! names `dataproxy.jsp?page=N&…`, and each answer names the next. A page
//! whose datastore names its next group and that carries no jpage script
//! is paged so.

use crate::config::JpageRules;
use regex::Regex;
use scraper::{Html, Selector};
use std::collections::HashSet;
use std::sync::LazyLock;
use url::Url;

/// The data proxy's path when neither page nor config names it.
pub const DEFAULT_PROXY: &str = "/module/web/jpage/dataproxy.jsp";
/// Records per page, and pages per group, when neither page nor config says
/// (jpage's own defaults).
const DEFAULT_PER_PAGE: u32 = 15;
const DEFAULT_GROUP_SIZE: u32 = 3;
/// Groups one column is paged to at most (450,000 records at jpage's
/// defaults): the backstop for a proxy that never says it is done.
pub const MAX_GROUPS: usize = 10_000;

/// What a `<datastore>` holds: records (HTML fragments), the total the
/// proxy claims, and the next group's link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Datastore {
    /// Each `<record>`'s markup, in list order.
    pub records: Vec<String>,
    /// `<totalrecord>`: how many records the column says it has.
    pub total: Option<u64>,
    /// The `href` of `<nextgroup>`'s link.
    pub next: Option<String>,
}

/// The datastore in `text` (a page's `text/xml` script, or a proxy's
/// answer); `None` when it holds none.
#[must_use]
pub fn datastore(text: &str) -> Option<Datastore> {
    static RECORD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?is)<record\b[^>]*>(.*?)</record\s*>").expect("static"));
    static TOTAL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)<totalrecord\b[^>]*>\s*(\d+)\s*</totalrecord").expect("static")
    });
    static NEXT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?is)<nextgroup\b[^>]*>(.*?)</nextgroup\s*>").expect("static")
    });
    static HREF: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?i)href\s*=\s*["']([^"']+)["']"#).expect("static"));
    if !text.contains("<datastore") && !text.contains("<DATASTORE") {
        return None;
    }
    let records = RECORD
        .captures_iter(text)
        .map(|c| markup(&c[1]))
        .filter(|r| !r.trim().is_empty())
        .collect();
    let total = TOTAL.captures(text).and_then(|c| c[1].parse().ok());
    let next = NEXT
        .captures(text)
        .and_then(|c| HREF.captures(&markup(&c[1])).map(|h| unescape(&h[1])));
    Some(Datastore {
        records,
        total,
        next,
    })
}

/// A data proxy's answer, decoded (its `Content-Type` charset, else its
/// XML declaration's encoding, else what the bytes look like): its
/// datastore and the encoding, in which its links' queries are written.
#[must_use]
pub fn answer(
    body: &[u8],
    content_type: Option<&str>,
) -> Option<(Datastore, &'static encoding_rs::Encoding)> {
    static DECLARED: LazyLock<regex::bytes::Regex> = LazyLock::new(|| {
        regex::bytes::Regex::new(r#"^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_-]+)["']"#)
            .expect("static")
    });
    let declared = DECLARED
        .captures(body)
        .map(|c| format!("text/xml; charset={}", String::from_utf8_lossy(&c[1])));
    let charset_given = content_type.is_some_and(|t| t.to_ascii_lowercase().contains("charset"));
    let hint = if charset_given {
        content_type.map(str::to_owned)
    } else {
        declared.or_else(|| content_type.map(str::to_owned))
    };
    let decoded = crate::decode::decode(body, hint.as_deref());
    datastore(&decoded.text).map(|d| (d, decoded.charset.encoding()))
}

/// An element's content as markup: a CDATA section's text, or escaped
/// markup unescaped.
fn markup(content: &str) -> String {
    let trimmed = content.trim();
    match trimmed
        .strip_prefix("<![CDATA[")
        .and_then(|c| c.strip_suffix("]]>"))
    {
        Some(cdata) => cdata.to_owned(),
        None => unescape(trimmed),
    }
}

/// XML's five entities.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// The `<script type="text/xml">` elements of a page: jpage's datastores.
pub(crate) fn is_xml_script(script: &scraper::node::Element) -> bool {
    script
        .attr("type")
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("text/xml"))
}

static SCRIPTS: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("script").expect("static selector"));

/// The datastores of a page's `text/xml` scripts, in document order.
pub(crate) fn page_datastores(html: &Html) -> Vec<Datastore> {
    html.select(&SCRIPTS)
        .filter(|s| is_xml_script(s.value()))
        .filter_map(|s| datastore(&s.text().collect::<String>()))
        .collect()
}

/// Whether a link is a jpage data proxy's: it is paged, never crawled.
#[must_use]
pub fn is_proxy(url: &Url) -> bool {
    url.path().ends_with("/dataproxy.jsp")
}

/// One jpage column: where and how to ask for its groups.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    /// The data proxy, resolved against the page.
    proxy: Url,
    /// The form fields jpage posts, in the order found.
    params: Vec<(String, String)>,
    per_page: u32,
    group_size: u32,
    /// Records the page carries itself: the first group.
    first: u64,
    total: Option<u64>,
    /// Paged by GET from this link (`nextgroup`), not by POST.
    get: Option<Url>,
}

/// The jpage column of a page, if it is one: it has a datastore, or a jpage
/// script, or its site has a `jpage` config and its URL names a column
/// (`/col/col103585/`). Values the page carries win; the config fills in
/// the rest, and the URL the column id.
#[must_use]
pub fn column(html: &Html, page: &Url, rules: Option<&JpageRules>) -> Option<Column> {
    static COLUMN_ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"/col/col(\d+)/").expect("static"));
    let stores = page_datastores(html);
    let store = stores.iter().find(|s| s.next.is_some()).or(stores.first());
    let script: String = html
        .select(&SCRIPTS)
        .filter(|s| !is_xml_script(s.value()))
        .flat_map(|s| s.text())
        .collect();
    let scripted = JPAGE_SCRIPT.is_match(&script);
    let from_url = COLUMN_ID.captures(page.path()).map(|c| c[1].to_owned());
    if store.is_none() && !scripted && (rules.is_none() || from_url.is_none()) {
        return None;
    }
    let next = store
        .and_then(|s| s.next.as_deref())
        .and_then(|n| page.join(n).ok());
    // what jpage posts (its script's `ajaxParam`) first, then what the
    // `nextgroup` link, the config and the URL add
    let mut params: Vec<(String, String)> = Vec::new();
    let mut add = |key: &str, value: String| {
        if !params.iter().any(|(k, _)| k == key) {
            params.push((key.to_owned(), value));
        }
    };
    for (k, v) in ajax_params(&script) {
        add(&k, v);
    }
    for (k, v) in next.iter().flat_map(|n| n.query_pairs()) {
        if !matches!(&*k, "page" | "startrecord" | "endrecord" | "perpage") {
            add(&k, v.into_owned());
        }
    }
    for (k, v) in rules.map(|r| r.params.as_slice()).unwrap_or_default() {
        add(k, v.clone());
    }
    if let Some(id) = from_url {
        add("columnid", id);
    }
    let number = |re: &Regex| re.captures(&script).and_then(|c| c[1].parse().ok());
    let proxy_path = PROXY_URL
        .captures(&script)
        .map(|c| c[1].to_owned())
        .or_else(|| rules.and_then(|r| r.proxy.clone()))
        .unwrap_or_else(|| DEFAULT_PROXY.to_owned());
    // a datastore that names its next group, and no script to post: the
    // GET form
    let get = next.filter(|_| !scripted);
    let proxy = match &get {
        Some(n) => n.clone(),
        None => page.join(&proxy_path).ok()?,
    };
    Some(Column {
        proxy,
        params,
        per_page: number(&PER_PAGE)
            .or_else(|| rules.and_then(|r| r.per_page))
            .unwrap_or(DEFAULT_PER_PAGE)
            .max(1),
        group_size: number(&GROUP_SIZE)
            .or_else(|| rules.and_then(|r| r.group_size))
            .unwrap_or(DEFAULT_GROUP_SIZE)
            .max(1),
        first: store.map_or(0, |s| s.records.len() as u64),
        total: store.and_then(|s| s.total),
        get,
    })
}

/// A jpage script: `$('#…').jpage({…})`, its `ajaxParam` or `proxyUrl`.
static JPAGE_SCRIPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\.jpage\s*\(|ajaxParam|proxyUrl").expect("static"));
static PER_PAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\bperPage["']?\s*:\s*["']?(\d+)"#).expect("static"));
static GROUP_SIZE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\bgroupSize["']?\s*:\s*["']?(\d+)"#).expect("static"));
static PROXY_URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)\bproxyUrl["']?\s*:\s*["']([^"']+)["']"#).expect("static"));

/// The `key: value` pairs of a jpage script's `ajaxParam: {…}` object
/// (values quoted or bare).
fn ajax_params(script: &str) -> Vec<(String, String)> {
    static OBJECT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?is)ajaxParam\s*:\s*\{([^}]*)\}").expect("static"));
    static PAIR: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"["']?(\w+)["']?\s*:\s*(?:"([^"]*)"|'([^']*)'|([^,\s}]+))"#).expect("static")
    });
    OBJECT
        .captures(script)
        .map(|o| {
            PAIR.captures_iter(&o[1])
                .map(|c| {
                    let value = c.get(2).or(c.get(3)).or(c.get(4));
                    (c[1].to_owned(), value.map_or("", |m| m.as_str()).to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One request for a group: a POST of a form, or a GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRequest {
    /// The proxy, with the group's place in its query.
    pub url: Url,
    /// The form posted; `None` for a GET.
    pub body: Option<String>,
}

impl Column {
    /// What makes the column itself: its proxy and form (two pages that
    /// name the same column page it once in a crawl).
    #[must_use]
    pub fn key(&self) -> String {
        format!("{}\n{}", self.proxy, self.form())
    }

    /// The form jpage posts.
    fn form(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&self.params)
            .finish()
    }
}

/// Which group of a column to ask for next, and whether it goes on.
#[derive(Debug)]
pub struct Pager {
    column: Column,
    /// The first record of the next group (POST).
    start: u64,
    total: Option<u64>,
    /// The next group's link (GET).
    next: Option<Url>,
    asked: usize,
    /// Records seen in this column, by hash: a proxy that answers the same
    /// group again has come to its end.
    seen: HashSet<blake3::Hash>,
    done: bool,
}

impl Pager {
    /// A pager after the records the page carries.
    #[must_use]
    pub fn new(column: Column) -> Self {
        Self {
            start: column.first + 1,
            total: column.total,
            next: column.get.clone(),
            asked: 0,
            seen: HashSet::new(),
            done: false,
            column,
        }
    }

    /// The next group's request; `None` at the column's end.
    #[must_use]
    pub fn request(&self) -> Option<GroupRequest> {
        if self.done || self.asked >= MAX_GROUPS {
            return None;
        }
        if self.column.get.is_some() {
            return self
                .next
                .clone()
                .map(|url| GroupRequest { url, body: None });
        }
        // a column whose page carried all it has, and said so
        if self.asked == 0 && self.total.is_some_and(|t| self.column.first >= t) {
            return None;
        }
        let end = self.start + u64::from(self.column.per_page * self.column.group_size) - 1;
        let mut url = self.column.proxy.clone();
        url.query_pairs_mut()
            .clear()
            .append_pair("startrecord", &self.start.to_string())
            .append_pair("endrecord", &end.to_string())
            .append_pair("perpage", &self.column.per_page.to_string());
        Some(GroupRequest {
            url,
            body: Some(self.column.form()),
        })
    }

    /// A group's answer: whether the column goes on. It ends at a group
    /// with no record new to it, at a short group once the total is
    /// reached (a full one past a total that lies short asks on), and, paged
    /// by GET, where no `nextgroup` follows.
    pub fn answered(&mut self, group: &Datastore) -> bool {
        self.asked += 1;
        let new = group
            .records
            .iter()
            .filter(|r| self.seen.insert(blake3::hash(r.as_bytes())))
            .count();
        self.total = group.total.or(self.total);
        let goes_on = if new == 0 {
            false
        } else if self.column.get.is_some() {
            self.next = group.next.as_deref().and_then(|n| {
                let base = self.next.as_ref().unwrap_or(&self.column.proxy);
                base.join(n).ok()
            });
            self.next.is_some()
        } else {
            let returned = group.records.len() as u64;
            self.start += returned;
            let full = returned >= u64::from(self.column.per_page * self.column.group_size);
            full || self.total.is_some_and(|t| self.start <= t)
        };
        self.done = !goes_on;
        goes_on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> Html {
        Html::parse_document(body)
    }

    const COLUMN: &str = r#"<html><body><div id="103585"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&appid=1&webid=20&path=/&columnid=103585&unitid=392650&webname=%E6%B1%9F%E8%8B%8F&permissiontype=0"></a>]]></nextgroup>
<recordset>
<record><![CDATA[<li><a href="/art/2024/9/4/art_103585_10328790.html" title="通知">通知</a><span>2024-09-04</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2024/9/3/art_103585_10328789.html">公告</a></li>]]></record>
</recordset></datastore></script></div>
<script>$(document).ready(function(){ $('#103585').jpage({ dataStore: dataStore, perPage: 15, groupSize: 3,
 proxyUrl: '/module/web/jpage/dataproxy.jsp',
 ajaxParam: { col: 1, appid: 1, webid: 20, path: '/', columnid: 103585, sourceContentType: 1, unitid: 392650, webname: '江苏省某厅', permissiontype: 0 } }); });</script>
</body></html>"#;

    #[test]
    fn a_datastore_gives_its_records_total_and_next_group() {
        let store = datastore(
            "<?xml version=\"1.0\"?><datastore><totalrecord>120</totalrecord><recordset>\
             <record><![CDATA[<li><a href=\"/a.html\">一</a></li>]]></record>\
             <record>&lt;li&gt;&lt;a href=&quot;/b.html&quot;&gt;二&lt;/a&gt;&lt;/li&gt;</record>\
             </recordset></datastore>",
        )
        .unwrap();
        assert_eq!(
            store.records,
            [
                "<li><a href=\"/a.html\">一</a></li>",
                "<li><a href=\"/b.html\">二</a></li>"
            ]
        );
        assert_eq!(store.total, Some(120));
        assert_eq!(store.next, None);
        assert_eq!(datastore("<html>no records</html>"), None);
    }

    #[test]
    fn a_column_posts_its_page_parameters_group_after_group() {
        let url = Url::parse("http://jsj.example.gov.cn/col/col103585/index.html").unwrap();
        let column = column(&page(COLUMN), &url, None).unwrap();
        let mut pager = Pager::new(column);
        let first = pager.request().unwrap();
        assert_eq!(
            first.url.as_str(),
            "http://jsj.example.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=3&endrecord=47&perpage=15"
        );
        let body = first.body.unwrap();
        assert_eq!(
            body,
            "col=1&appid=1&webid=20&path=%2F&columnid=103585&sourceContentType=1&unitid=392650&webname=%E6%B1%9F%E8%8B%8F%E7%9C%81%E6%9F%90%E5%8E%85&permissiontype=0"
        );
        let group = |from: u64, n: u64| Datastore {
            records: (from..from + n).map(|i| format!("<li>{i}</li>")).collect(),
            total: Some(100),
            next: None,
        };
        assert!(pager.answered(&group(3, 45)), "a full group: more to ask");
        let second = pager.request().unwrap();
        assert!(
            second
                .url
                .as_str()
                .ends_with("startrecord=48&endrecord=92&perpage=15")
        );
        assert!(pager.answered(&group(48, 45)));
        assert!(
            !pager.answered(&group(93, 8)),
            "short, and the total reached"
        );
        assert_eq!(pager.request(), None);
    }

    #[test]
    fn a_total_that_lies_short_and_a_proxy_that_repeats_end_where_the_records_do() {
        let url = Url::parse("http://jsj.example.gov.cn/col/col103585/index.html").unwrap();
        let mut pager = Pager::new(column(&page(COLUMN), &url, None).unwrap());
        let full: Vec<String> = (0..45).map(|i| format!("<li>{i}</li>")).collect();
        let lying = Datastore {
            records: full.clone(),
            total: Some(10),
            next: None,
        };
        assert!(
            pager.answered(&lying),
            "a full group past the total asks on"
        );
        assert!(!pager.answered(&lying), "the same records again: the end");
    }

    #[test]
    fn a_page_without_a_jpage_script_is_paged_by_get_through_nextgroup() {
        let url = Url::parse("http://jsj.example.gov.cn/col/col103585/index.html").unwrap();
        let bare = COLUMN.split("<script>$(").next().unwrap();
        let mut pager = Pager::new(column(&page(bare), &url, None).unwrap());
        let first = pager.request().unwrap();
        assert_eq!(first.body, None);
        assert!(first.url.as_str().contains("dataproxy.jsp?page=1&"));
        let answer = Datastore {
            records: vec!["<li>x</li>".to_owned()],
            total: None,
            next: Some("/module/web/jpage/dataproxy.jsp?page=2&columnid=103585".to_owned()),
        };
        assert!(pager.answered(&answer));
        assert!(pager.request().unwrap().url.as_str().contains("page=2"));
        let last = Datastore {
            records: vec!["<li>y</li>".to_owned()],
            ..Datastore::default()
        };
        assert!(!pager.answered(&last), "no nextgroup: the end");
    }

    #[test]
    fn a_config_names_what_the_page_does_not_carry() {
        let url = Url::parse("http://jsj.example.gov.cn/col/col4541/index.html").unwrap();
        let html = page("<html><body><div id=\"4541\"></div></body></html>");
        assert_eq!(column(&html, &url, None), None, "no sign of jpage");
        let rules = JpageRules {
            params: vec![
                ("webid".to_owned(), "1".to_owned()),
                ("unitid".to_owned(), "14651".to_owned()),
            ],
            per_page: Some(20),
            group_size: Some(5),
            proxy: None,
        };
        let pager = Pager::new(column(&html, &url, Some(&rules)).unwrap());
        let request = pager.request().unwrap();
        assert!(
            request
                .url
                .as_str()
                .ends_with("startrecord=1&endrecord=100&perpage=20")
        );
        assert_eq!(request.body.unwrap(), "webid=1&unitid=14651&columnid=4541");
    }
}
