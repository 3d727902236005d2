//! Finding the main content block by text density, when no site rule names it.
//!
//! A Readability-style vote: every paragraph that reads like prose (long,
//! full of 。，；, few links, not boilerplate) gives points to the elements
//! around it, most to its container and less to each ancestor further out. The
//! element with the best score, scaled down by its share of link text, is the
//! content block; siblings that scored nearly as well join it, because many
//! templates split a document over several boxes.

use super::blocks::{Block, BlockKind, Blocks, ratio};
use super::rules::{LineKind, LineKinds};
use super::selectors::{Flag, WordList, has_word};
use ego_tree::NodeId;
use rustc_hash::FxHashMap as HashMap;
use scraper::{Html, Node};
use std::sync::LazyLock;

/// Text and link characters under one element.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Totals {
    pub chars: usize,
    pub link_chars: usize,
}

impl Totals {
    fn link_density(self) -> f32 {
        ratio(self.link_chars, self.chars)
    }
}

/// Per-page facts the content stage and the body filter share.
#[derive(Debug)]
pub(crate) struct Density {
    /// Characters under every element that holds text.
    pub totals: HashMap<NodeId, Totals>,
    /// Flagged elements that hold so much plain text they are content after all
    /// (an ASP.NET `<form>` around the whole page, a `div.main-header-content`).
    pub flag_overruled: HashMap<NodeId, bool>,
}

/// A flagged element with at least this much plain text is not boilerplate.
const SUBSTANTIAL_CHARS: usize = 300;

impl Density {
    pub(crate) fn measure(blocks: &Blocks) -> Self {
        let mut totals: HashMap<NodeId, Totals> = HashMap::default();
        let mut flag_totals: HashMap<NodeId, Totals> = HashMap::default();
        for block in &blocks.list {
            for id in &block.path {
                let t = totals.entry(*id).or_default();
                t.chars += block.chars;
                t.link_chars += block.link_chars;
            }
            let mut flag = block.flagged;
            while let Some(f) = flag {
                let t = flag_totals.entry(f).or_default();
                t.chars += block.chars;
                t.link_chars += block.link_chars;
                flag = blocks.flags.get(&f).and_then(|(_, parent)| *parent);
            }
        }
        let flag_overruled = blocks
            .flags
            .iter()
            .map(|(&id, &(strength, _))| {
                let t = flag_totals.get(&id).copied().unwrap_or_default();
                let plain = t.chars.saturating_sub(t.link_chars);
                let overruled = match strength {
                    Flag::Strong => false,
                    Flag::Weak => t.chars >= SUBSTANTIAL_CHARS && t.link_density() < 0.5,
                    Flag::Form => plain >= SUBSTANTIAL_CHARS,
                };
                (id, overruled)
            })
            .collect();
        Self {
            totals,
            flag_overruled,
        }
    }

    /// Whether a block sits in boilerplate. With `within`, only flagged
    /// elements inside that element count: the content block's own ancestors
    /// do not make it boilerplate.
    pub(crate) fn in_boilerplate(
        &self,
        blocks: &Blocks,
        block: &Block,
        within: Option<NodeId>,
    ) -> bool {
        // flagged elements and the container are all on the block's path:
        // a flag counts when it sits strictly below the container
        let depth = |id: NodeId| block.path.iter().position(|&p| p == id);
        let floor = within.and_then(depth);
        let mut flag = block.flagged;
        while let Some(f) = flag {
            if within.is_some() && depth(f).zip(floor).is_none_or(|(df, dw)| df <= dw) {
                return false;
            }
            if !self.flag_overruled.get(&f).copied().unwrap_or(false) {
                return true;
            }
            flag = blocks.flags.get(&f).and_then(|(_, parent)| *parent);
        }
        false
    }
}

/// Whether `node` is `ancestor` or lies inside it.
pub(crate) fn is_inside(html: &Html, node: NodeId, ancestor: NodeId) -> bool {
    let mut cur = html.tree.get(node);
    while let Some(n) = cur {
        if n.id() == ancestor {
            return true;
        }
        cur = n.parent();
    }
    false
}

/// Class and id words of content containers (`TRS_Editor`, `zw`, `article`).
static POSITIVE_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "article", "content", "con", "main", "text", "body", "entry", "post", "story", "detail",
        "trs", "editor", "zw", "zhengwen", "nr", "neirong", "wz", "xl", "view", "info",
    ])
    // layout and widgets that merely start like `con`tent
    .except(&["container", "contact", "control", "connect", "consent"])
});
/// Class and id words of everything else.
static NEGATIVE_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "nav",
        "menu",
        "footer",
        "foot$",
        "sidebar",
        "side",
        "share",
        "related",
        "comment",
        "hot",
        "list",
        "link",
        "banner",
        "header",
        "bottom",
        "copyright",
        "crumb",
        "tag",
    ])
});

/// Pick the main content element(s), in document order.
pub(crate) fn find_content(
    html: &Html,
    blocks: &Blocks,
    kinds: &LineKinds<'_>,
    density: &Density,
) -> Option<Vec<NodeId>> {
    let mut scores: HashMap<NodeId, f32> = HashMap::default();
    // Points from text alone, without the tag and class priors: what a
    // sibling must show to join the content block.
    let mut points_only: HashMap<NodeId, f32> = HashMap::default();
    for (i, block) in blocks.list.iter().enumerate() {
        if matches!(block.kind, BlockKind::Heading(_))
            || block.chars < 8
            || block.link_density() > 0.5
            || density.in_boilerplate(blocks, block, None)
            || kinds.get(i) != LineKind::Content
        {
            continue;
        }
        let punctuation = block
            .text
            .chars()
            .filter(|c| matches!(c, '，' | '。' | '；' | '、' | '：' | ',' | '！' | '？'))
            .count();
        #[allow(clippy::cast_precision_loss)]
        let points = 1.0 + punctuation.min(30) as f32 + (block.chars as f32 / 50.0).min(5.0);
        // up to four elements above, from the scoring start; path[0] is the
        // document itself and never a candidate
        let start = scoring_start(html, block);
        for (level, &id) in block.path[1..=start].iter().rev().take(4).enumerate() {
            let divisor = match level {
                0 => 1.0,
                1 => 2.0,
                #[allow(clippy::cast_precision_loss)]
                l => l as f32 * 3.0,
            };
            let entry = scores
                .entry(id)
                .or_insert_with(|| html.tree.get(id).map_or(0.0, |n| initial_score(n.value())));
            *entry += points / divisor;
            *points_only.entry(id).or_default() += points / divisor;
        }
    }
    let finals: HashMap<NodeId, f32> = scores
        .into_iter()
        .map(|(id, s)| {
            let ld = density.totals.get(&id).map_or(0.0, |t| t.link_density());
            (id, s * (1.0 - ld))
        })
        .collect();
    let (&best, &best_score) = finals
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
    if let Some(posts) = repeated_posts(html, &finals, best, best_score) {
        return Some(posts);
    }
    let top = container_of_boxes(html, &finals, best, best_score);
    let top_node = html.tree.get(top)?;
    trace_candidates(html, &finals);
    let Some(parent) = top_node.parent() else {
        return Some(vec![top]);
    };
    let text_score = |id: NodeId| {
        let ld = density.totals.get(&id).map_or(0.0, |t| t.link_density());
        points_only.get(&id).copied().unwrap_or(0.0) * (1.0 - ld)
    };
    let top_score = text_score(top);
    let threshold = (top_score * 0.2).max(10.0);
    let top_class = top_node.value().as_element().and_then(|e| e.attr("class"));
    let mut chosen = Vec::new();
    for sibling in parent.children() {
        if sibling.id() == top {
            chosen.push(top);
            continue;
        }
        let Some(el) = sibling.value().as_element() else {
            continue;
        };
        let mut score = text_score(sibling.id());
        if top_class.is_some() && el.attr("class") == top_class {
            score += top_score * 0.2;
        }
        if score >= threshold {
            chosen.push(sibling.id());
        }
    }
    Some(extend_to_neighbours(parent, &chosen, blocks, density))
}

/// A document split over several boxes (a news site's cards): their
/// container, scoring nearly as well as the best box (up to three levels
/// up), is the document.
fn container_of_boxes(
    html: &Html,
    finals: &HashMap<NodeId, f32>,
    best: NodeId,
    best_score: f32,
) -> NodeId {
    let mut top = best;
    let ancestors = html
        .tree
        .get(best)
        .into_iter()
        .flat_map(|n| n.ancestors())
        .take(3);
    for ancestor in ancestors {
        let is_page = ancestor
            .value()
            .as_element()
            .is_none_or(|e| matches!(e.name(), "body" | "html"));
        if is_page {
            break;
        }
        if finals
            .get(&ancestor.id())
            .is_some_and(|&s| s >= best_score * 0.85)
        {
            top = ancestor.id();
        }
    }
    top
}

/// The posts of a thread (a forum's `td.t_f#postmessage_1001`, `…_1002`),
/// or the cards one story is split into: every scored element shaped as
/// the best one (its tag, its class, its id without digits), in document
/// order, when there are several. The best alone would keep only one post.
fn repeated_posts(
    html: &Html,
    finals: &HashMap<NodeId, f32>,
    best: NodeId,
    best_score: f32,
) -> Option<Vec<NodeId>> {
    let shape = |id: NodeId| {
        let node = html.tree.get(id)?;
        let el = node.value().as_element()?;
        let id_word: String = el
            .attr("id")
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        let class = el.attr("class").unwrap_or("").trim();
        // an element without class or id is shaped like every other one
        (!class.is_empty() || !id_word.is_empty())
            .then(|| (el.name().to_owned(), class.to_owned(), id_word))
    };
    let wanted = shape(best)?;
    let mut posts: Vec<NodeId> = finals
        .iter()
        .filter(|&(&id, &score)| score >= best_score * 0.1 && shape(id).as_ref() == Some(&wanted))
        .map(|(&id, _)| id)
        .collect();
    posts.sort_unstable();
    let posts = super::top_level(html, &posts);
    (posts.len() >= 2).then_some(posts)
}

/// The five best candidates, at `RUST_LOG=govsnap=trace`: why a page's
/// content block is the one it is.
fn trace_candidates(html: &Html, finals: &HashMap<NodeId, f32>) {
    if !tracing::enabled!(tracing::Level::TRACE) {
        return;
    }
    let mut ranked: Vec<(&NodeId, &f32)> = finals.iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(a.1));
    for (id, score) in ranked.into_iter().take(5) {
        let el = html
            .tree
            .get(*id)
            .and_then(|n| n.value().as_element().cloned());
        tracing::trace!(
            element = ?el.as_ref().map(|e| (e.name().to_owned(), e.attr("class").map(str::to_owned), e.attr("id").map(str::to_owned))),
            score,
            "content candidate"
        );
    }
}

/// Longest line a neighbour may have to join the content block on proximity
/// alone.
const NEIGHBOUR_CHARS: usize = 120;

/// Add the short plain-text siblings right next to the content block: the
/// centred document number above it (`国办发〔2021〕22号`), a subtitle, a
/// signature or `来源：` line below it. Title and metadata lines among them are
/// taken out again by the structure stage; boilerplate is dropped by its text.
fn extend_to_neighbours(
    parent: ego_tree::NodeRef<'_, Node>,
    chosen: &[NodeId],
    blocks: &Blocks,
    density: &Density,
) -> Vec<NodeId> {
    let with_text: Vec<ego_tree::NodeRef<'_, Node>> = parent
        .children()
        .filter(|c| density.totals.get(&c.id()).is_some_and(|t| t.chars > 0))
        .collect();
    let qualifies = |n: &ego_tree::NodeRef<'_, Node>| {
        let t = density.totals.get(&n.id()).copied().unwrap_or_default();
        let heading = n
            .value()
            .as_element()
            .is_some_and(|e| matches!(e.name(), "h1" | "h2" | "h3"));
        !heading
            && !blocks.flags.contains_key(&n.id())
            && t.chars <= NEIGHBOUR_CHARS
            && t.link_density() < 0.3
    };
    let mut keep: Vec<bool> = with_text.iter().map(|n| chosen.contains(&n.id())).collect();
    for i in 0..with_text.len() {
        if !chosen.contains(&with_text[i].id()) {
            continue;
        }
        let mut j = i;
        while j > 0 && qualifies(&with_text[j - 1]) {
            j -= 1;
            keep[j] = true;
        }
        let mut j = i + 1;
        while j < with_text.len() && qualifies(&with_text[j]) {
            keep[j] = true;
            j += 1;
        }
    }
    with_text
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(n, _)| n.id())
        .collect()
}

/// Where on the block's path its points go first: its container, or for a
/// paragraph element (`p`, `li`, a table row) the element that holds it.
fn scoring_start(html: &Html, block: &Block) -> usize {
    let owner_at = match block.table {
        Some(table) => block.path.iter().rposition(|&id| id == table).unwrap_or(0),
        None => block.path.len().saturating_sub(1),
    };
    let owner = html.tree.get(block.path[owner_at]);
    let paragraph_like = block.table.is_some()
        || block.paragraph
        || owner.and_then(|o| o.value().as_element()).is_some_and(|e| {
            matches!(
                e.name(),
                "p" | "li"
                    | "dd"
                    | "dt"
                    | "pre"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "h5"
                    | "h6"
                    | "span"
                    | "font"
                    | "center"
                    | "blockquote"
            )
        });
    if paragraph_like {
        owner_at.saturating_sub(1)
    } else {
        owner_at
    }
}

fn initial_score(node: &Node) -> f32 {
    let Some(el) = node.as_element() else {
        return 0.0;
    };
    let tag = match el.name() {
        "div" | "article" | "section" | "main" => 5.0,
        "td" | "pre" | "blockquote" => 3.0,
        "ol" | "ul" | "dl" | "dd" | "dt" | "li" | "form" | "address" => -3.0,
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "th" => -5.0,
        _ => 0.0,
    };
    let mut class_weight = 0.0;
    if has_word(el, &POSITIVE_WORDS) {
        class_weight += 25.0;
    }
    if has_word(el, &NEGATIVE_WORDS) {
        class_weight -= 25.0;
    }
    tag + class_weight
}
