//! The DOM walk: one pass over the parsed page that turns it into a flat list of
//! [`Block`]s, the small vocabulary every later stage works with.
//!
//! A block is one paragraph as a reader sees it: the text of a block-level
//! element up to the next block boundary or `<br>`, or one row of a data table
//! with its cells joined by ` | `. Elements that never hold document text
//! (`script`, `style`, form controls, hidden elements, the site's `drop`
//! selectors) are skipped here and never seen again. Elements that usually hold
//! boilerplate (`nav`, `footer`, share widgets, breadcrumbs …) are not skipped
//! but remembered, so the content stage can decide with the whole page in view.

use super::normalize::{is_space, normalize_counting, normalize_text};
use ego_tree::{NodeId, NodeRef};
use rustc_hash::FxHashMap as HashMap;
use scraper::{Html, Node, node::Element};
use std::collections::HashSet;
use std::sync::LazyLock;

/// Deeper than this the walk stops descending and reads the rest as plain
/// text, so a hostile page cannot overflow the stack.
const MAX_DEPTH: usize = 256;

/// What kind of paragraph a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    /// Running text.
    Para,
    /// An `<h1>`…`<h6>`, with its level.
    Heading(u8),
    /// One row of a data table.
    Row,
}

/// A link inside a block.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// The link text, normalized.
    pub text: String,
    /// The `href` as written.
    pub href: String,
    /// The `title` attribute, used as a name when the text is empty.
    pub title: Option<String>,
}

/// One paragraph of the page.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub text: String,
    pub kind: BlockKind,
    /// The table of a row.
    pub table: Option<NodeId>,
    /// The elements around the block, from the document root down to the
    /// block-level element its text belongs to (the `<tr>` for rows):
    /// later stages read ancestry here instead of chasing parent pointers.
    pub path: Vec<NodeId>,
    /// Cells of a row, empty ones included so labels and values stay paired.
    pub cells: Vec<String>,
    /// Visible characters, and how many of them are link text.
    pub chars: usize,
    pub link_chars: usize,
    /// Links to files (attachments).
    pub links: Vec<Link>,
    /// How many other links the block has.
    pub other_links: usize,
    /// The block is the only text of a `<div>` with no other block inside:
    /// a paragraph, whatever its tag.
    pub paragraph: bool,
    /// Inside an element whose class or id says "title" (`div.title`,
    /// `#lblTitle`, `h2.art-tit`).
    pub titled: bool,
    /// The nearest element around the block that looks like boilerplate.
    pub flagged: Option<NodeId>,
}

impl Block {
    /// Share of the block's characters that are link text.
    pub(crate) fn link_density(&self) -> f32 {
        if self.chars == 0 {
            0.0
        } else {
            ratio(self.link_chars, self.chars)
        }
    }
}

/// A quotient of two counts, for densities.
#[allow(clippy::cast_precision_loss)]
pub(crate) fn ratio(a: usize, b: usize) -> f32 {
    a as f32 / b.max(1) as f32
}

/// How strongly an element's tag, class or id says "boilerplate".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flag {
    /// `nav`, `footer`, `aside`: never document text.
    Strong,
    /// A class or id like `share`, `footer-wrap`, `header`, or a `<form>`:
    /// boilerplate unless it turns out to hold a lot of plain text.
    Weak,
}

/// The walk's result.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    pub list: Vec<Block>,
    /// Every flagged element, its strength and its nearest flagged ancestor.
    pub flags: HashMap<NodeId, (Flag, Option<NodeId>)>,
}

/// Walk `html` and return its blocks. `drop` holds elements to skip entirely.
pub(crate) fn collect_blocks(html: &Html, drop: &HashSet<NodeId>) -> Blocks {
    let mut walker = Walker {
        drop,
        out: Blocks::default(),
        buf: String::new(),
        link_chars: 0,
        links: Vec::new(),
        owner: html.tree.root().id(),
        heading: None,
        flagged: None,
        link: LinkState::default(),
        path: vec![html.tree.root().id()],
        titled: false,
        nested_block: false,
    };
    walker.walk(html.tree.root(), 0);
    walker.flush();
    walker.out
}

/// The walk's state inside `<a>` elements.
#[derive(Debug, Default)]
struct LinkState {
    /// Inside a link: its text counts as link text.
    inside: bool,
    /// Inside a link to a file: its text is kept as the attachment's name.
    capture: bool,
    /// The text of the file link being read.
    text: String,
    /// Links to pages (not files) in the current paragraph.
    others: usize,
}

struct Walker<'a> {
    drop: &'a HashSet<NodeId>,
    out: Blocks,
    buf: String,
    link_chars: usize,
    links: Vec<Link>,
    owner: NodeId,
    heading: Option<u8>,
    flagged: Option<NodeId>,
    link: LinkState,
    /// The elements open at this point of the walk, root first.
    path: Vec<NodeId>,
    /// Inside a title-classed element.
    titled: bool,
    /// Whether the current block element has a block element inside it.
    nested_block: bool,
}

impl Walker<'_> {
    fn walk(&mut self, node: NodeRef<'_, Node>, depth: usize) {
        match node.value() {
            Node::Text(t) => self.push_text(t),
            Node::Element(el) => self.walk_element(node, el, depth),
            Node::Document | Node::Fragment => {
                for child in node.children() {
                    self.walk(child, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn walk_element(&mut self, node: NodeRef<'_, Node>, el: &Element, depth: usize) {
        let name = el.name();
        if is_skipped(name, el) || self.drop.contains(&node.id()) {
            return;
        }
        if depth > MAX_DEPTH {
            for text in node.descendants().filter_map(|d| d.value().as_text()) {
                self.push_text(text);
            }
            return;
        }
        match name {
            "br" | "hr" => return self.flush(),
            "table" if is_data_table(node) => {
                self.flush();
                let outer_flag = self.flagged;
                self.note_flag(node, el);
                self.path.push(node.id());
                self.table_rows(node);
                self.path.pop();
                self.flagged = outer_flag;
                return;
            }
            _ => {}
        }
        self.path.push(node.id());
        let outer_titled = self.titled;
        self.titled |= has_word(el, &TITLE_WORDS);
        let outer_flag = self.flagged;
        self.note_flag(node, el);
        if is_block(name) {
            self.flush();
            let (outer_owner, outer_heading) = (self.owner, self.heading);
            self.owner = node.id();
            if let Some(level) = heading_level(name) {
                self.heading = Some(level);
            }
            let first_block = self.out.list.len();
            self.nested_block = false;
            self.children(node, depth);
            self.flush();
            // A `<div>` holding one paragraph and no other block is a
            // paragraph (Readability's div-to-p): its points go to the
            // element around it, as a `<p>`'s would.
            if name == "div" && !self.nested_block && self.out.list.len() == first_block + 1 {
                self.out.list[first_block].paragraph = true;
            }
            // and for the element around it, this one is a nested block
            self.nested_block = true;
            self.owner = outer_owner;
            self.heading = outer_heading;
        } else if name == "a" {
            // A link's own text buffer: block elements inside an `<a>` may
            // flush the paragraph while the link is still open.
            // Only links to files are kept (they are attachments); the text
            // of other links is only counted.
            let file = el.attr("href").map(str::trim).filter(|h| is_file_link(h));
            let outer_text = std::mem::take(&mut self.link.text);
            let (outer, outer_capture) = (self.link.inside, self.link.capture);
            self.link.inside = true;
            self.link.capture = file.is_some();
            self.children(node, depth);
            self.link.inside = outer;
            self.link.capture = outer_capture;
            let text = std::mem::replace(&mut self.link.text, outer_text);
            if outer_capture {
                self.link.text.push_str(&text);
            }
            match file {
                Some(href) => self.links.push(Link {
                    text: normalize_text(&text),
                    href: href.to_owned(),
                    title: el.attr("title").map(normalize_text),
                }),
                None => self.link.others += usize::from(el.attr("href").is_some()),
            }
        } else {
            self.children(node, depth);
        }
        self.path.pop();
        self.titled = outer_titled;
        self.flagged = outer_flag;
    }

    fn children(&mut self, node: NodeRef<'_, Node>, depth: usize) {
        for child in node.children() {
            self.walk(child, depth + 1);
        }
    }

    fn note_flag(&mut self, node: NodeRef<'_, Node>, el: &Element) {
        if let Some(flag) = boilerplate_flag(el) {
            self.out.flags.insert(node.id(), (flag, self.flagged));
            self.flagged = Some(node.id());
        }
    }

    fn push_text(&mut self, text: &str) {
        // all characters are counted once, when the paragraph is normalized;
        // link text has to be counted as it passes
        if self.link.inside {
            self.link_chars += text.chars().filter(|&c| !is_space(c)).count();
        }
        if self.link.capture {
            self.link.text.push_str(text);
        }
        self.buf.push_str(text);
    }

    /// Close the current paragraph.
    fn flush(&mut self) {
        let links = std::mem::take(&mut self.links);
        let other_links = std::mem::take(&mut self.link.others);
        let link_chars = std::mem::take(&mut self.link_chars);
        let (text, chars) = normalize_counting(&self.buf);
        self.buf.clear();
        if chars == 0 {
            return;
        }
        let owner_at = self.path.iter().rposition(|&id| id == self.owner);
        let path = self.path[..owner_at.map_or(self.path.len(), |p| p + 1)].to_vec();
        self.out.list.push(Block {
            text,
            kind: self.heading.map_or(BlockKind::Para, BlockKind::Heading),
            paragraph: false,
            titled: self.titled,
            table: None,
            path,
            cells: Vec::new(),
            chars,
            link_chars,
            links,
            other_links,
            flagged: self.flagged,
        });
    }

    /// Emit each row of a data table as one block.
    fn table_rows(&mut self, table: NodeRef<'_, Node>) {
        for row in table
            .descendants()
            .filter(|n| n.value().as_element().is_some_and(|e| e.name() == "tr"))
        {
            let mut cells = Vec::new();
            let (mut chars, mut link_chars, mut links, mut other_links) = (0, 0, Vec::new(), 0);
            for cell in row.children().filter(|c| {
                c.value()
                    .as_element()
                    .is_some_and(|e| matches!(e.name(), "td" | "th"))
            }) {
                let mut cell_walker = Walker {
                    drop: self.drop,
                    out: Blocks::default(),
                    buf: String::new(),
                    link_chars: 0,
                    links: Vec::new(),
                    owner: cell.id(),
                    heading: None,
                    flagged: None,
                    link: LinkState::default(),
                    path: Vec::new(),
                    titled: false,
                    nested_block: false,
                };
                cell_walker.children(cell, MAX_DEPTH / 2);
                cell_walker.flush();
                let parts: Vec<String> = cell_walker
                    .out
                    .list
                    .into_iter()
                    .map(|b| {
                        chars += b.chars;
                        link_chars += b.link_chars;
                        links.extend(b.links);
                        other_links += b.other_links;
                        b.text
                    })
                    .collect();
                cells.push(parts.join(" "));
            }
            if chars == 0 {
                continue;
            }
            let text = cells
                .iter()
                .filter(|c| !c.is_empty())
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(" | ");
            // the table is the last element of the walk's path; add the
            // row and its section (`tbody`) below it
            let mut path = self.path.clone();
            let inner: Vec<NodeId> = row
                .ancestors()
                .take_while(|a| a.id() != table.id())
                .map(|a| a.id())
                .collect();
            path.extend(inner.into_iter().rev());
            path.push(row.id());
            self.out.list.push(Block {
                text,
                kind: BlockKind::Row,
                paragraph: false,
                titled: false,
                table: Some(table.id()),
                path,
                cells,
                chars,
                link_chars,
                links,
                other_links,
                flagged: self.flagged,
            });
        }
    }
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
fn is_skipped(name: &str, el: &Element) -> bool {
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
fn is_block(name: &str) -> bool {
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

fn heading_level(name: &str) -> Option<u8> {
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
static TITLE_WORDS: LazyLock<WordList> =
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
        "foot",
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
        "comment",
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

fn boilerplate_flag(el: &Element) -> Option<Flag> {
    match el.name() {
        "nav" | "footer" | "aside" => return Some(Flag::Strong),
        "header" | "form" => return Some(Flag::Weak),
        _ => {}
    }
    has_word(el, &BOILERPLATE_WORDS).then_some(Flag::Weak)
}

/// Lower-case prefixes of class and id words, indexed by first letter so
/// that most words are rejected with one lookup (every element is tested).
#[derive(Debug)]
pub(crate) struct WordList {
    by_first: [Vec<&'static str>; 26],
}

impl WordList {
    pub(crate) fn new(prefixes: &[&'static str]) -> Self {
        let mut by_first: [Vec<&'static str>; 26] = Default::default();
        for p in prefixes {
            by_first[usize::from(p.as_bytes()[0] - b'a')].push(p);
        }
        Self { by_first }
    }

    fn matches(&self, word: &str) -> bool {
        let Some(first) = word.bytes().next().filter(u8::is_ascii_alphabetic) else {
            return false;
        };
        self.by_first[usize::from(first.to_ascii_lowercase() - b'a')]
            .iter()
            .any(|p| {
                word.len() >= p.len()
                    && word.as_bytes()[..p.len()].eq_ignore_ascii_case(p.as_bytes())
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
fn is_data_table(table: NodeRef<'_, Node>) -> bool {
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
