//! Elements as data: which tags never hold text, which start a paragraph,
//! which tables hold data rather than layout, which class and id words mark
//! boilerplate or a title, which links are files. The DOM walk in
//! [`super::blocks`] asks these questions of every element; the content
//! stage reuses the word lists.
//!
//! # Architecture
//! - [`Flag`]: how strongly an element says "boilerplate".
//! - [`WordList`]: class/id word prefixes, matched without allocating.

use ego_tree::NodeRef;
use scraper::{Node, node::Element};
use std::sync::LazyLock;

use super::normalize::is_space;

/// How strongly an element's tag, class or id says "boilerplate".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    /// `nav`, `footer`, `aside`: never document text.
    Strong,
    /// A class or id like `share`, `footer-wrap`, or a `<header>`:
    /// boilerplate unless it turns out to hold a lot of plain text.
    Weak,
    /// A `<form>`: a search box, or (ASP.NET) the whole page; boilerplate
    /// unless it holds a lot of plain text, however many menu links beside.
    Form,
}

/// File types a government page attaches; links to them are attachments.
const FILE_EXTENSIONS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "et", "wps", "ofd", "zip", "rar", "7z", "ppt", "pptx",
    "txt", "csv", "tif", "tiff", "ceb", "caj", "xml", "dps",
];

/// Whether a link points to a file (by the extension of its path).
pub(crate) fn is_file_link(href: &str) -> bool {
    let path = href.split(['?', '#']).next().unwrap_or("");
    let Some((_, ext)) = path.rsplit_once('.') else {
        return false;
    };
    !ext.contains('/')
        && ext.len() <= 4
        && FILE_EXTENSIONS.iter().any(|e| e.eq_ignore_ascii_case(ext))
}

/// Elements whose content is never document text.
pub(super) fn is_skipped(name: &str, el: &Element) -> bool {
    if matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "select"
            | "option"
            | "button"
            | "input"
            | "textarea"
            | "svg"
            | "object"
            | "embed"
            | "map"
            | "canvas"
            | "head"
            | "audio"
            | "video"
            | "link"
            | "meta"
            // a photo's caption and credit, not the document's text
            | "figcaption"
            // outside <head> only from an editor's pasted document (its
            // `<title>Word文档</title>`): never the document's text
            | "title"
    ) {
        return true;
    }
    if el.attr("hidden").is_some() {
        return true;
    }
    // most elements with a style only set fonts and indents: look for the
    // two values before normalizing anything
    el.attr("style").is_some_and(|style| {
        let lower = style.to_ascii_lowercase();
        (lower.contains("none") || lower.contains("hidden")) && {
            let squeezed: String = lower.split_whitespace().collect();
            squeezed.contains("display:none") || squeezed.contains("visibility:hidden")
        }
    })
}

/// Elements that start a new paragraph.
pub(super) fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "body"
            | "center"
            | "dd"
            | "details"
            | "dialog"
            | "dir"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "li"
            | "main"
            | "menu"
            | "nav"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "ul"
            | "caption"
            | "html"
            | "legend"
    )
}

pub(super) fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

/// Class and id words of the element that holds a document's title.
pub(super) static TITLE_WORDS: LazyLock<WordList> =
    LazyLock::new(|| WordList::new(&["title", "tit", "biaoti", "headline", "heading"]));

/// Class and id words that mark boilerplate containers, matched as the start
/// of a word of the attribute (`footer`, `footerWrap`, `article-footer`).
static BOILERPLATE_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "share",
        "fenxiang",
        "bdshare",
        "jiathis",
        "bshare",
        "breadcrumb",
        "crumb",
        "footer",
        "foot$",
        "copyright",
        "banquan",
        "sidebar",
        "related",
        "print",
        "dayin",
        "qrcode",
        "erweima",
        "ewm",
        "pagination",
        "pager",
        "prevnext",
        "updown",
        "toolbar",
        "weizhi",
        "dqwz",
        "curpos",
        "location",
        "position",
        "nav",
        "menu",
        "bottom",
        "header",
        "topbar",
        "xgxw",
        "xgwz",
        "xglj",
        "rmbq",
        "hotnews",
        "hottag",
        "fontsize",
        "zihao",
        "gotop",
        "backtop",
        "sitemap",
        "search",
        "login",
        "banner",
        "friendlink",
        "yqlj",
        "statement",
        "shengming",
        "disclaimer",
    ])
});

/// Class and id words of readers' comments: however much plain text they
/// hold (a long thread under a short article), they are not the document.
static COMMENT_WORDS: LazyLock<WordList> =
    LazyLock::new(|| WordList::new(&["comment", "disqus", "pinglun"]));

pub(super) fn boilerplate_flag(el: &Element) -> Option<Flag> {
    match el.name() {
        "nav" | "footer" | "aside" => return Some(Flag::Strong),
        "header" => return Some(Flag::Weak),
        "form" => return Some(Flag::Form),
        // their classes describe the page's layout (`one-sidebar`,
        // `header-spacing`), not a part of it
        "html" | "body" | "main" | "article" => return None,
        _ => {}
    }
    if has_word(el, &COMMENT_WORDS) {
        return Some(Flag::Strong);
    }
    has_word(el, &BOILERPLATE_WORDS).then_some(Flag::Weak)
}

/// Lower-case prefixes of class and id words (or whole words, written with a
/// trailing `$`), indexed by first letter so that most words are rejected with
/// one lookup (every element is tested).
#[derive(Debug)]
pub(crate) struct WordList {
    by_first: [Vec<&'static str>; 26],
    /// Words that start with a prefix of the list and still do not match
    /// (`container` is layout, not `con`tent).
    except: &'static [&'static str],
}

impl WordList {
    pub(crate) fn new(prefixes: &[&'static str]) -> Self {
        let mut by_first: [Vec<&'static str>; 26] = Default::default();
        for p in prefixes {
            by_first[usize::from(p.as_bytes()[0] - b'a')].push(p);
        }
        Self {
            by_first,
            except: &[],
        }
    }

    /// The list, but for words that start with one of `prefixes`.
    pub(crate) fn except(mut self, prefixes: &'static [&'static str]) -> Self {
        self.except = prefixes;
        self
    }

    fn matches(&self, word: &str) -> bool {
        let Some(first) = word.bytes().next().filter(u8::is_ascii_alphabetic) else {
            return false;
        };
        let starts = |p: &str| {
            word.len() >= p.len() && word.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
        };
        if self.except.iter().any(|p| starts(p)) {
            return false;
        }
        self.by_first[usize::from(first.to_ascii_lowercase() - b'a')]
            .iter()
            .any(|p| match p.strip_suffix('$') {
                // `foot$`: the whole word only (`foot`, not `footnote`)
                Some(exact) => word.eq_ignore_ascii_case(exact),
                None => starts(p),
            })
    }
}

/// Whether a word of the element's class or id starts with a prefix of the
/// list, ignoring ASCII case: `footerWrap`, `article-footer`.
pub(crate) fn has_word(el: &Element, list: &WordList) -> bool {
    // the raw attributes, not `Element::classes()`/`id()`: those intern every
    // name in a global, lock-guarded atom table on first use
    el.attr("class")
        .into_iter()
        .chain(el.attr("id"))
        .flat_map(|attr| attr.split(|c: char| c == '-' || c == '_' || c.is_ascii_whitespace()))
        .any(|word| list.matches(word))
}

/// A table of data (rows of cells) rather than one used for page layout.
pub(super) fn is_data_table(table: NodeRef<'_, Node>) -> bool {
    let el = table.value().as_element();
    if el.and_then(|e| e.attr("role")) == Some("presentation") {
        return false;
    }
    let mut max_cols = 0;
    let mut rows = 0;
    for node in table.descendants().skip(1) {
        let Some(e) = node.value().as_element() else {
            continue;
        };
        match e.name() {
            "table" => return false,
            "tr" => {
                rows += 1;
                let cols = node
                    .children()
                    .filter(|c| {
                        c.value()
                            .as_element()
                            .is_some_and(|e| matches!(e.name(), "td" | "th"))
                    })
                    .count();
                max_cols = max_cols.max(cols);
            }
            "td" | "th" => {
                let long = node
                    .descendants()
                    .filter_map(|d| d.value().as_text())
                    .map(|t| t.chars().filter(|&c| !is_space(c)).count())
                    .sum::<usize>()
                    > 300;
                let paragraphs = node
                    .descendants()
                    .filter(|d| {
                        d.value()
                            .as_element()
                            .is_some_and(|e| matches!(e.name(), "p" | "div" | "br" | "ul"))
                    })
                    .count();
                if long && paragraphs > 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    rows >= 1 && max_cols >= 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn first<'a>(html: &'a Html, css: &str) -> NodeRef<'a, Node> {
        let sel = Selector::parse(css).unwrap();
        *html.select(&sel).next().unwrap()
    }

    #[test]
    fn data_tables_and_layout_tables() {
        let html = Html::parse_document(
            "<table id=d><tr><th>排名</th><th>区</th></tr><tr><td>1</td><td>黄陂区</td></tr></table>\
             <table id=l><tr><td><table><tr><td>菜单</td></tr></table></td><td>正文</td></tr></table>\
             <table id=one><tr><td>只有一列的版式表格</td></tr></table>",
        );
        assert!(is_data_table(first(&html, "#d")));
        assert!(!is_data_table(first(&html, "#l")));
        assert!(!is_data_table(first(&html, "#one")));
    }

    #[test]
    fn class_and_id_words_match_by_prefix_ignoring_case() {
        let html = Html::parse_document(
            "<div id=a class=\"article-footer\"></div><div id=b class=\"footerWrap\"></div>\
             <div id=c class=\"TRS_Editor\"></div><div id=footnote-list></div>",
        );
        let el = |css| first(&html, css).value().as_element().unwrap().clone();
        assert_eq!(boilerplate_flag(&el("#a")), Some(Flag::Weak));
        assert_eq!(boilerplate_flag(&el("#b")), Some(Flag::Weak));
        assert_eq!(boilerplate_flag(&el("#c")), None);
        // `foot` is a whole word: footnotes are part of the document
        assert_eq!(boilerplate_flag(&el("#footnote-list")), None);
    }
}
