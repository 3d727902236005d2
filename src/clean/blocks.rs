//! The DOM walk: one pass over the parsed page that turns it into a flat list of
//! [`Block`]s, the small vocabulary every later stage works with.
//!
//! A block is one paragraph as a reader sees it: the text of a block-level
//! element up to the next block boundary or `<br>`, or one row of a data table
//! with its cells joined by ` | ` (empty cells kept, so columns line up). Elements that never hold document text
//! (`script`, `style`, form controls, hidden elements, the site's `drop`
//! selectors) are skipped here and never seen again. Elements that usually hold
//! boilerplate (`nav`, `footer`, share widgets, breadcrumbs …) are not skipped
//! but remembered, so the content stage can decide with the whole page in view.

use super::normalize::{is_space, normalize_counting, normalize_text};
use super::selectors::{
    Flag, TITLE_WORDS, boilerplate_flag, has_word, heading_level, is_block, is_data_table,
    is_file_link, is_skipped,
};
use ego_tree::{NodeId, NodeRef};
use rustc_hash::FxHashMap as HashMap;
use scraper::{Html, Node, node::Element};
use std::collections::HashSet;

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
    /// The `<strong>` or `<b>` that holds all of the block's text, if one
    /// does: the lines of one bold heading broken by `<br>` share it.
    pub bold: Option<NodeId>,
    /// The block is a list item's (`<li>`).
    pub item: bool,
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

/// The walk's result.
#[derive(Debug, Default)]
pub(crate) struct Blocks {
    pub list: Vec<Block>,
    /// Every flagged element, its strength and its nearest flagged ancestor.
    pub flags: HashMap<NodeId, (Flag, Option<NodeId>)>,
}

/// Walk `html` and return its blocks. `drop` holds elements to skip entirely.
pub(crate) fn collect_blocks(html: &Html, drop: &HashSet<NodeId>) -> Blocks {
    let root = html.tree.root().id();
    let mut walker = Walker::new(drop, root, vec![root]);
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
    /// The innermost `<strong>` or `<b>` open at this point of the walk.
    bold: Option<NodeId>,
    /// The block element being read is an `<li>`.
    item: bool,
    /// Whether one bold element holds all of the paragraph's text so far.
    buf_bold: BoldRun,
}

/// The bold element around a paragraph's visible text, as it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BoldRun {
    /// No visible character yet.
    Empty,
    /// All of it so far inside this `<strong>` or `<b>` (or none).
    Within(Option<NodeId>),
    /// Some of it bold, some not, or under two bold elements.
    Mixed,
}

impl<'a> Walker<'a> {
    fn new(drop: &'a HashSet<NodeId>, owner: NodeId, path: Vec<NodeId>) -> Self {
        Self {
            drop,
            out: Blocks::default(),
            buf: String::new(),
            link_chars: 0,
            links: Vec::new(),
            owner,
            heading: None,
            flagged: None,
            link: LinkState::default(),
            path,
            titled: false,
            nested_block: false,
            bold: None,
            item: false,
            buf_bold: BoldRun::Empty,
        }
    }

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
            let (outer_owner, outer_heading, outer_item) = (self.owner, self.heading, self.item);
            self.owner = node.id();
            self.item = name == "li";
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
            self.item = outer_item;
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
        } else if matches!(name, "strong" | "b") {
            let outer = self.bold.replace(node.id());
            self.children(node, depth);
            self.bold = outer;
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
        if !text.chars().all(is_space) {
            self.buf_bold = match self.buf_bold {
                BoldRun::Empty => BoldRun::Within(self.bold),
                BoldRun::Within(held) if held == self.bold => BoldRun::Within(held),
                _ => BoldRun::Mixed,
            };
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
        let bold = match std::mem::replace(&mut self.buf_bold, BoldRun::Empty) {
            BoldRun::Within(bold) => bold,
            BoldRun::Empty | BoldRun::Mixed => None,
        };
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
            bold,
            item: self.item,
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
                let mut cell_walker = Walker::new(self.drop, cell.id(), Vec::new());
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
            // one cell per column, empty ones too: a later cell keeps its
            // column (an approvals list with no 变更事项 in some rows)
            let text = cells.join(" | ").trim().to_owned();
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
                bold: None,
                item: false,
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
