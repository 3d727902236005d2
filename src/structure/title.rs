//! The document's own title: the `ArticleTitle` meta tag, the site's `title`
//! selector, the heading over the body (checked against `<title>`), or
//! `<title>` without its site suffix, in that order.

use crate::clean::blocks::{Block, BlockKind};
use crate::clean::normalize::squeeze;
use regex::Regex;
use std::sync::LazyLock;

/// How many blocks before the body a title heading may stand.
const LOOKBACK: usize = 15;
/// How many blocks into the body a title may have been swept.
const LOOKAHEAD: usize = 3;

/// Where the title came from, and the body block that printed it, if any.
#[derive(Debug)]
pub(crate) struct Title {
    pub text: String,
    /// Index into the page's blocks: the title's first line.
    pub block: Option<usize>,
}

/// Separators between a page title and the site's name in `<title>`.
const TITLE_SEPARATORS: &[&str] = &[" - ", "——", "_", "|", "｜", " — ", "－", "-"];

/// Find the title among the blocks around the body start `first_body`.
pub(crate) fn find_title(
    blocks: &[Block],
    first_body: usize,
    title_tag: Option<&str>,
    boilerplate: &[bool],
) -> Option<Title> {
    let lo = first_body.saturating_sub(LOOKBACK);
    let hi = (first_body + LOOKAHEAD).min(blocks.len());
    // nearest to the body first: before it backwards, then into it
    let order: Vec<usize> = (lo..first_body).rev().chain(first_body..hi).collect();
    let plausible = |i: usize| {
        let n = blocks[i].text.chars().count();
        (4..=150).contains(&n) && blocks[i].link_density() < 0.5
    };
    if let Some(tag) = title_tag.map(squeeze) {
        let in_tag = order.iter().copied().find(|&i| {
            let b = squeeze(&blocks[i].text);
            plausible(i) && b.chars().count() >= 4 && tag.contains(&*b)
        });
        if let Some(i) = in_tag {
            return Some(whole(blocks, i));
        }
    }
    let heading = order.iter().copied().find(|&i| {
        matches!(blocks[i].kind, BlockKind::Heading(1..=3)) && plausible(i) && !boilerplate[i]
    });
    if let Some(i) = heading {
        return Some(whole(blocks, i));
    }
    // an element classed as the title (`div.title`, `#lblTitle`), unless
    // the line is an info line (`发布时间：…`)
    let titled = order.iter().copied().find(|&i| {
        blocks[i].titled && plausible(i) && !boilerplate[i] && !blocks[i].text.contains(['：', ':'])
    });
    if let Some(i) = titled {
        return Some(whole(blocks, i));
    }
    // a line shaped like an official document's title (关于…的通知)
    let shaped = order
        .iter()
        .copied()
        .find(|&i| plausible(i) && !boilerplate[i] && DOCUMENT_TITLE.is_match(&blocks[i].text));
    if let Some(i) = shaped {
        return Some(whole(blocks, i));
    }
    title_tag
        .and_then(strip_site_suffix)
        .map(|text| Title { text, block: None })
}

/// The title that block `i` begins or continues: with the lines of the
/// same heading or title element around it (a `<br>` in a long resolution
/// title, a subtitle in a nested `<div>`), or of the same bold element (a
/// 决议's title printed as `<p align=center><strong>…<br>…</strong>`, its
/// `（…通过）` line after the `</strong>` left to the body), joined into one
/// line.
fn whole(blocks: &[Block], i: usize) -> Title {
    let heading_like =
        |k: usize| matches!(blocks[k].kind, BlockKind::Heading(_)) || blocks[k].titled;
    // one element holds both: the same one, or one inside the other
    let together = |a: usize, b: usize| {
        let inside = |x: usize, y: usize| {
            blocks[y]
                .path
                .last()
                .is_some_and(|e| blocks[x].path.contains(e))
        };
        let same_bold = blocks[a].bold.is_some() && blocks[a].bold == blocks[b].bold;
        same_bold || heading_like(a) && heading_like(b) && (inside(a, b) || inside(b, a))
    };
    let (mut first, mut last) = (i, i);
    while first > 0 && together(first - 1, i) {
        first -= 1;
    }
    while last + 1 < blocks.len() && together(last + 1, i) {
        last += 1;
    }
    let mut text = String::new();
    for block in &blocks[first..=last] {
        join_line(&mut text, &block.text);
    }
    if text.chars().count() > 200 {
        text.clone_from(&blocks[i].text);
        first = i;
    }
    Title {
        text,
        block: Some(first),
    }
}

/// Append a line to a title: Chinese lines join without a space, Latin
/// words keep one between them.
pub(crate) fn join_line(title: &mut String, line: &str) {
    let line = line.trim();
    let spaced = title.ends_with(|c: char| c.is_ascii_alphanumeric())
        && line.starts_with(|c: char| c.is_ascii_alphanumeric());
    if spaced {
        title.push(' ');
    }
    title.push_str(line);
}

/// The kinds of official documents (公文种类) and the words their titles end
/// with; a sentence (with `。`) is never a title.
static DOCUMENT_TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^[^。]{4,80}(通知|公告|通告|通报|意见|办法|规定|决定|报告|方案|公示|批复|复函|纪要|细则|规划|要点|指南|条例|规则|决议|命令|总结|计划|解读|答复)$",
    )
    .expect("static regex")
});

/// `天津滨海高新区2020年法治政府建设报告_重点领域公开_天津滨海高新区` →
/// `天津滨海高新区2020年法治政府建设报告`.
pub(crate) fn strip_site_suffix(title: &str) -> Option<String> {
    for sep in TITLE_SEPARATORS {
        if let Some((first, _)) = title.split_once(sep) {
            let first = first.trim();
            if first.chars().count() >= 4 {
                return Some(first.to_owned());
            }
        }
    }
    let t = title.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::strip_site_suffix;

    #[test]
    fn site_suffixes_go() {
        assert_eq!(
            strip_site_suffix("关于印发工作要点的通知_政策文件_天津市人民政府").as_deref(),
            Some("关于印发工作要点的通知")
        );
        assert_eq!(
            strip_site_suffix("2021年部门预算 - 北京市财政局").as_deref(),
            Some("2021年部门预算")
        );
        assert_eq!(strip_site_suffix("通知公告").as_deref(), Some("通知公告"));
    }
}
