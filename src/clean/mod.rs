//! Boilerplate removal (SPEC §3): from a parsed page to the blocks of the
//! document body.
//!
//! Data flows in four steps, each in its own file:
//! 1. [`blocks`]: one DOM walk turns the page into paragraphs (skipping
//!    scripts, hidden elements and the site's `drop` selectors, and noting
//!    which elements look like boilerplate, as [`selectors`] describes them);
//! 2. [`rules`]: every short line is classified by its text (share widgets,
//!    breadcrumbs, toolbars, counters, filing numbers, site identity);
//! 3. [`content`]: the site's `content` selector, or the text-density vote,
//!    picks the content block;
//! 4. [`clean_page`] keeps the blocks inside it that are neither in a
//!    boilerplate element nor boilerplate by their text.
//!
//! The page's other blocks stay available: the structure stage reads the
//! title, the metadata and the attachments from around the body.
//!
//! # Architecture
//! - [`Cleaned`]: every block of the page and which of them are body.
//! - [`normalize`]: the text normalization every block goes through.

pub(crate) mod blocks;
pub(crate) mod content;
pub(crate) mod normalize;
pub(crate) mod rules;
pub(crate) mod selectors;

use crate::config::SiteRules;
use blocks::{Block, Blocks, collect_blocks};
use content::{Density, find_content, is_inside};
use ego_tree::NodeId;
use rules::{LineKind, LineKinds};
use scraper::Html;
use std::collections::HashSet;

/// How many blocks away a filing number makes a `主办单位：` line footer.
const IDENTITY_WINDOW: usize = 3;
/// A run of this many link-only paragraphs is a link list, not text.
const LINK_LIST_RUN: usize = 3;

/// The record's warning when the site's `content` selector matched nothing
/// on the page (the crawl sums these up per site).
pub(crate) const CONTENT_SELECTOR_MISSED: &str =
    "the site's content selector matched nothing; used generic content detection";

/// A cleaned page.
#[derive(Debug)]
pub(crate) struct Cleaned {
    /// Every paragraph of the page, in document order.
    pub blocks: Vec<Block>,
    /// Indices into `blocks` of the document body, in order.
    pub body: Vec<usize>,
    /// Blocks inside boilerplate elements or boilerplate by their text.
    pub boilerplate: Vec<bool>,
    /// What was noticed.
    pub warnings: Vec<String>,
}

/// Remove the boilerplate around (and inside) a page's document.
pub(crate) fn clean_page(html: &Html, rules: Option<&SiteRules>) -> Cleaned {
    let mut warnings = Vec::new();
    let drop: HashSet<NodeId> = rules
        .map(|r| {
            r.drop
                .iter()
                .flat_map(|sel| html.select(sel).map(|e| e.id()))
                .collect()
        })
        .unwrap_or_default();
    let walked = collect_blocks(html, &drop);
    let kinds = LineKinds::new(&walked.list);
    let density = Density::measure(&walked);

    let by_rule = rules.and_then(|r| r.content.as_ref()).and_then(|sel| {
        let found = top_level(html, &html.select(sel).map(|e| e.id()).collect::<Vec<_>>());
        if found.is_empty() {
            warnings.push(CONTENT_SELECTOR_MISSED.to_owned());
            None
        } else {
            Some(found)
        }
    });
    let containers = by_rule
        .or_else(|| find_content(html, &walked, &kinds, &density))
        .unwrap_or_else(|| {
            warnings.push("no content block found; the body is the whole page".to_owned());
            vec![html.tree.root().id()]
        });

    let within: Vec<Option<NodeId>> = walked
        .list
        .iter()
        .map(|b| container_of(b, &containers))
        .collect();
    let boilerplate = mark_boilerplate(&walked, &kinds, &density, &within);
    let mut body: Vec<usize> = (0..walked.list.len())
        .filter(|&i| !boilerplate[i] && within[i].is_some())
        .collect();
    drop_link_lists(&walked.list, &mut body);
    drop_headed_lists(&walked.list, &mut body);
    drop_identity_tail(&walked.list, &mut body);
    Cleaned {
        blocks: walked.list,
        body,
        boilerplate,
        warnings,
    }
}

/// Mark every block that is boilerplate: by its element, by its text, or a
/// site-identity line next to a filing number.
fn mark_boilerplate(
    walked: &Blocks,
    kinds: &LineKinds<'_>,
    density: &Density,
    within: &[Option<NodeId>],
) -> Vec<bool> {
    let list = &walked.list;
    (0..list.len())
        .map(|i| {
            // the element test first: it settles most navigation and footer
            // blocks without reading their text
            if density.in_boilerplate(walked, &list[i], within[i]) {
                return true;
            }
            match kinds.get(i) {
                LineKind::Content => false,
                LineKind::Boilerplate | LineKind::Footer => true,
                LineKind::Identity => {
                    let near = i.saturating_sub(IDENTITY_WINDOW)
                        ..(i + IDENTITY_WINDOW + 1).min(list.len());
                    near.into_iter().any(|j| kinds.get(j) == LineKind::Footer)
                }
            }
        })
        .collect()
}

/// The site's identity block left at the end of a content container
/// (`主办单位：…`, `技术支持：…` after the signature) is the footer, even with
/// no filing number next to it. Contact lines are not taken: a notice ends
/// with its own 联系电话.
fn drop_identity_tail(list: &[Block], body: &mut Vec<usize>) {
    while let Some(&last) = body.last() {
        if !rules::is_site_identity(&list[last].text) {
            break;
        }
        body.pop();
    }
}

/// The container a block lies in, if any.
fn container_of(block: &Block, containers: &[NodeId]) -> Option<NodeId> {
    containers.iter().copied().find(|c| block.path.contains(c))
}

/// Keep only elements that are not inside another element of the list.
pub(super) fn top_level(html: &Html, found: &[NodeId]) -> Vec<NodeId> {
    found
        .iter()
        .copied()
        .filter(|&id| {
            !found
                .iter()
                .any(|&other| other != id && is_inside(html, id, other))
        })
        .collect()
}

/// Drop the link-only paragraphs right after a list header inside the
/// content (`相关阅读：` and two linked titles): a list however short.
fn drop_headed_lists(list: &[Block], body: &mut Vec<usize>) {
    let link_only = |i: usize| list[i].link_density() >= 0.9 && list[i].chars < 80;
    let mut headed = false;
    let mut previous: Option<usize> = None;
    body.retain(|&i| {
        // the header itself is boilerplate, so not in the body: look at
        // the blocks between the last body block and this one
        let from = previous.map_or(i, |p| p + 1);
        if (from..i).any(|h| rules::is_list_header(&list[h].text)) {
            headed = true;
        }
        previous = Some(i);
        headed = headed && link_only(i);
        !headed
    });
}

/// Drop runs of link-only paragraphs (related-document lists left inside a
/// content block). A lone link paragraph stays: it is part of the text.
fn drop_link_lists(list: &[Block], body: &mut Vec<usize>) {
    let link_only = |i: usize| list[i].link_density() >= 0.9 && list[i].chars < 80;
    let mut keep = vec![true; body.len()];
    let mut start = 0;
    while start < body.len() {
        if !link_only(body[start]) {
            start += 1;
            continue;
        }
        let mut end = start;
        while end < body.len() && link_only(body[end]) {
            end += 1;
        }
        if end - start >= LINK_LIST_RUN {
            keep[start..end].iter_mut().for_each(|k| *k = false);
        }
        start = end;
    }
    let mut it = keep.iter();
    body.retain(|_| *it.next().unwrap_or(&true));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(html: &str) -> Vec<String> {
        let html = Html::parse_document(html);
        let cleaned = clean_page(&html, None);
        cleaned
            .body
            .iter()
            .map(|&i| cleaned.blocks[i].text.clone())
            .collect()
    }

    const PARAGRAPHS: &str = "<p>为进一步规范政府信息公开工作，提升公开质量和实效，现将有关事项通知如下，请认真贯彻执行。</p>\
        <p>各单位要高度重视，明确责任分工，确保各项任务按时完成，并于年底前报送工作总结。</p>";

    /// A data table's rows keep one cell per column; a row that starts or
    /// ends with empty cells is still a trimmed paragraph.
    #[test]
    fn table_rows_keep_empty_cells_and_stay_trimmed() {
        let body = body_of(&format!(
            "<html><body><div class=\"content\">{PARAGRAPHS}<table>\
             <tr><td>序号</td><td>事项</td><td>备注</td></tr>\
             <tr><td></td><td>政策文件</td><td></td></tr>\
             <tr><td>2</td><td></td><td>新增</td></tr></table></div></body></html>"
        ));
        let rows: Vec<&str> = body
            .iter()
            .map(String::as_str)
            .filter(|l| l.contains('|'))
            .collect();
        assert_eq!(rows, ["序号 | 事项 | 备注", "| 政策文件 |", "2 |  | 新增"]);
    }

    #[test]
    fn site_identity_at_the_end_of_the_content_goes_without_a_filing_number() {
        let body = body_of(&format!(
            "<div class=\"content\">{PARAGRAPHS}<p>某某县人民政府办公室</p><p>2024年3月1日</p>\
             <p>主办单位：某某县人民政府</p><p>技术支持：某某网络科技有限公司</p></div>"
        ));
        assert_eq!(
            body.last().map(String::as_str),
            Some("2024年3月1日"),
            "{body:?}"
        );
    }

    #[test]
    fn a_notice_keeps_its_own_organisers_and_contact_line() {
        let body = body_of(&format!(
            "<div class=\"content\">{PARAGRAPHS}<p>主办单位：市科学技术协会</p><p>时间：2024年5月18日</p>\
             <p>联系电话：0000-12345678</p></div>"
        ));
        assert!(
            body.contains(&"主办单位：市科学技术协会".to_owned()),
            "{body:?}"
        );
        assert_eq!(
            body.last().map(String::as_str),
            Some("联系电话：0000-12345678")
        );
    }

    #[test]
    fn drop_selectors_and_hidden_elements_never_reach_the_body() {
        let html = Html::parse_document(&format!(
            "<div class=\"content\">{PARAGRAPHS}<p class=\"note\">编者按：本文有删节。</p>\
             <p style=\"DISPLAY: none\">隐藏的统计代码说明文字</p></div>"
        ));
        let rules = crate::Config::parse(
            "[[site]]\nname = \"x\"\ndrop = [\"p.note\"]\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap();
        let cleaned = clean_page(&html, rules.sites.first());
        let text: Vec<&str> = cleaned
            .body
            .iter()
            .map(|&i| cleaned.blocks[i].text.as_str())
            .collect();
        assert_eq!(text.len(), 2, "{text:?}");
    }
}
