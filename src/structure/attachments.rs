//! Attachments: links to files (附件) found in and around the document,
//! made absolute against the page's URL (or its `<base href>`).

use crate::clean::blocks::Link;
#[cfg(test)]
use crate::clean::selectors::is_file_link;
use crate::record::Attachment;
use url::Url;

/// Collects attachments, once each by URL, in document order.
#[derive(Debug)]
pub(crate) struct Attachments {
    base: Option<Url>,
    pub list: Vec<Attachment>,
    /// Relative links that could not be made absolute.
    pub unresolved: usize,
}

impl Attachments {
    pub(crate) fn new(base: Option<Url>) -> Self {
        Self {
            base,
            list: Vec::new(),
            unresolved: 0,
        }
    }

    /// Add a file link (the DOM walk keeps no others).
    pub(crate) fn add(&mut self, link: &Link) {
        let resolved = match Url::parse(&link.href) {
            Ok(u) => Some(u),
            Err(_) => self.base.as_ref().and_then(|b| b.join(&link.href).ok()),
        };
        let Some(url) = resolved.filter(|u| !u.cannot_be_a_base()) else {
            self.unresolved += 1;
            return;
        };
        let url = url.to_string();
        if self.list.iter().any(|a| a.url == url) {
            return;
        }
        let name = Some(link.text.clone())
            .filter(|t| !t.is_empty())
            .or_else(|| link.title.clone().filter(|t| !t.is_empty()))
            .unwrap_or_else(|| file_name(&url));
        self.list.push(Attachment { name, url });
    }
}

fn file_name(url: &str) -> String {
    let last = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .rsplit('/')
        .next()
        .unwrap_or(url);
    percent_decode(last)
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| s.to_owned(), |(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_links_by_extension() {
        assert!(is_file_link("./P020210330551234567890.pdf"));
        assert!(is_file_link("/u/cms/www/2021/附件1.DOCX?v=2"));
        assert!(!is_file_link("t20210330_5391243.html"));
        assert!(!is_file_link("/gk/zdlyxxgk/"));
        assert!(!is_file_link("http://www.gov.cn"));
    }

    #[test]
    fn relative_links_resolve_and_nameless_links_get_the_file_name() {
        let base =
            Url::parse("http://www.tht.gov.cn/gk/zdlyxxgk/202103/t20210330_5391243.html").ok();
        let mut a = Attachments::new(base);
        a.add(&Link {
            text: String::new(),
            href: "./P0202103305%E9%99%84%E4%BB%B6.pdf".to_owned(),
            title: None,
        });
        assert_eq!(
            a.list[0].url,
            "http://www.tht.gov.cn/gk/zdlyxxgk/202103/P0202103305%E9%99%84%E4%BB%B6.pdf"
        );
        assert_eq!(a.list[0].name, "P0202103305附件.pdf");
    }
}
