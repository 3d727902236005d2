//! The section tree (SPEC §4): numbered headings found by their markers and
//! nested like a stack, by the order in which numbering styles appear.
//!
//! `一、` → `（一）` → `1.`/`1、` → `（1）` is the usual order, and `第一章` →
//! `第一节` → `第一条` for regulations, but documents skip and reorder styles,
//! so nothing here assumes a fixed table: a style that is already open closes
//! what is below it and starts a sibling; a style that is not open starts a
//! child of the innermost open section.

use super::Section;
use regex::Regex;
use std::sync::LazyLock;

/// A numbering style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `第一编`, `第一部分`: above chapters in codes and long reports.
    Division,
    Chapter,
    Part,
    Article,
    Han,
    ParenHan,
    Arabic,
    ParenArabic,
}

impl Style {
    /// Styles that enumerate items; inside an article (`第X条`) they are the
    /// article's paragraphs, not sections.
    fn is_item(self) -> bool {
        matches!(
            self,
            Self::Han | Self::ParenHan | Self::Arabic | Self::ParenArabic
        )
    }
}

/// A heading found at the start of a paragraph.
#[derive(Debug, PartialEq, Eq)]
struct Heading {
    style: Style,
    number: String,
    /// Everything after the marker.
    rest: String,
}

const HAN_NUMERALS: &str = "一二三四五六七八九十百零〇两";

static MARKERS: LazyLock<[(Style, Regex); 8]> = LazyLock::new(|| {
    let n = HAN_NUMERALS;
    let re = |p: String| Regex::new(&p).expect("static regex");
    [
        (
            Style::Division,
            re(format!(r"^(第[{n}0-9]+(?:编|部分))\s*")),
        ),
        (Style::Chapter, re(format!(r"^(第[{n}0-9]+章)\s*"))),
        (Style::Part, re(format!(r"^(第[{n}0-9]+节)\s*"))),
        (Style::Article, re(format!(r"^(第[{n}0-9]+条)\s*"))),
        (Style::Han, re(format!(r"^([{n}]+)\s*[、.．]\s*"))),
        (
            Style::ParenHan,
            re(format!(r"^([（(]\s*[{n}]+\s*[）)])\s*[、.．]?\s*")),
        ),
        (Style::Arabic, re(r"^([0-9]{1,3})\s*[.．、]\s*".to_owned())),
        (
            Style::ParenArabic,
            re(r"^([（(]\s*[0-9]{1,3}\s*[）)])\s*[、.．]?\s*".to_owned()),
        ),
    ]
});

fn heading(paragraph: &str) -> Option<Heading> {
    // Each style's marker starts with a known character: try only those.
    let first = paragraph.chars().next()?;
    let candidates: &[Style] = match first {
        '第' => &[Style::Division, Style::Chapter, Style::Part, Style::Article],
        '（' | '(' => &[Style::ParenHan, Style::ParenArabic],
        '0'..='9' => &[Style::Arabic],
        c if HAN_NUMERALS.contains(c) => &[Style::Han],
        _ => return None,
    };
    MARKERS
        .iter()
        .filter(|(s, _)| candidates.contains(s))
        .find_map(|(style, re)| {
            // Markers match only the start, so a long paragraph is not scanned.
            let c = re.captures(paragraph)?;
            let rest = paragraph[c.get(0)?.end()..].trim().to_owned();
            if rest.is_empty()
                && !matches!(
                    style,
                    Style::Division | Style::Chapter | Style::Part | Style::Article
                )
            {
                return None;
            }
            // `1.5万人` and `2021.3.30` are numbers, not markers.
            if *style == Style::Arabic && rest.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            let number: String = c[1].chars().filter(|c| !c.is_whitespace()).collect();
            Some(Heading {
                style: *style,
                number,
                rest,
            })
        })
}

/// `总　则` is printed spaced out; the heading is `总则`. Only short
/// headings made of single spaced-out characters are joined.
fn unspace(heading: String) -> String {
    let spaced = heading.contains(' ')
        && heading.split(' ').all(|seg| {
            seg.chars().count() == 1 && seg.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
        });
    if spaced {
        heading.replace(' ', "")
    } else {
        heading
    }
}

/// Split a heading line at its first sentence: `依法开展疫情防控。一是…`
/// is heading `依法开展疫情防控` and paragraph `一是…`.
fn split_heading(rest: &str) -> (String, Option<String>) {
    match rest.find(['。', '！', '？']) {
        Some(i) => {
            let end = i + rest[i..].chars().next().map_or(0, char::len_utf8);
            let head = rest[..i].trim().to_owned();
            let tail = rest[end..].trim();
            (head, (!tail.is_empty()).then(|| tail.to_owned()))
        }
        None => (rest.trim().to_owned(), None),
    }
}

/// The section tree of a record's `text`, its paragraphs one a line: the
/// tree extraction built, whenever those lines are the paragraphs it was
/// built of (a paragraph that holds a line break is not). The store keeps
/// a record's `sections` only when this does not give them back.
#[must_use]
pub fn sections_of_text(text: &str) -> Vec<Section> {
    if text.is_empty() {
        return Vec::new();
    }
    let paragraphs: Vec<String> = text.split('\n').map(str::to_owned).collect();
    build_sections(&paragraphs)
}

/// Build the section tree of a body given as paragraphs.
#[must_use]
pub fn build_sections(paragraphs: &[String]) -> Vec<Section> {
    let mut roots: Vec<Section> = Vec::new();
    let mut preamble: Vec<String> = Vec::new();
    // The open sections, outermost first, with their styles.
    let mut stack: Vec<(Style, Section)> = Vec::new();

    for paragraph in paragraphs {
        let found = heading(paragraph).filter(|h| {
            !(h.style.is_item() && stack.last().is_some_and(|(s, _)| *s == Style::Article))
        });
        let Some(h) = found else {
            match stack.last_mut() {
                Some((_, open)) => open.paragraphs.push(paragraph.clone()),
                None => preamble.push(paragraph.clone()),
            }
            continue;
        };
        if let Some(pos) = stack.iter().position(|(s, _)| *s == h.style) {
            while stack.len() > pos {
                close(&mut stack, &mut roots);
            }
        }
        let (heading, first) = if h.style == Style::Article {
            (None, (!h.rest.is_empty()).then_some(h.rest))
        } else {
            let (head, tail) = split_heading(&h.rest);
            (Some(unspace(head)).filter(|s| !s.is_empty()), tail)
        };
        let level = u32::try_from(stack.len() + 1).unwrap_or(u32::MAX);
        stack.push((
            h.style,
            Section {
                number: Some(h.number),
                heading,
                level,
                paragraphs: first.into_iter().collect(),
                children: Vec::new(),
            },
        ));
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    if !preamble.is_empty() {
        roots.insert(
            0,
            Section {
                number: None,
                heading: None,
                level: 0,
                paragraphs: preamble,
                children: Vec::new(),
            },
        );
    }
    roots
}

/// Pop the innermost open section into its parent (or the roots).
fn close(stack: &mut Vec<(Style, Section)>, roots: &mut Vec<Section>) {
    if let Some((_, section)) = stack.pop() {
        match stack.last_mut() {
            Some((_, parent)) => parent.children.push(section),
            None => roots.push(section),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paras(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn nesting_follows_order_of_appearance() {
        let s = build_sections(&paras(&[
            "前言。",
            "一、总体要求",
            "（一）指导思想",
            "坚持以人民为中心。",
            "二、主要任务",
            "1、依法开展疫情防控。一是依法推进。",
            "2、深化改革",
        ]));
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].level, 0);
        assert_eq!(s[1].number.as_deref(), Some("一"));
        assert_eq!(s[1].children[0].number.as_deref(), Some("（一）"));
        assert_eq!(s[1].children[0].paragraphs, ["坚持以人民为中心。"]);
        let two = &s[2];
        assert_eq!(two.children.len(), 2);
        assert_eq!(two.children[0].level, 2);
        assert_eq!(two.children[0].number.as_deref(), Some("1"));
        assert_eq!(two.children[0].heading.as_deref(), Some("依法开展疫情防控"));
        assert_eq!(two.children[0].paragraphs, ["一是依法推进。"]);
    }

    #[test]
    fn articles_keep_their_items_as_paragraphs() {
        let s = build_sections(&paras(&[
            "第一章 总则",
            "第一条 为了规范管理，制定本办法。",
            "第二条 本办法所称信息包括：",
            "（一）行政法规；",
            "（二）规章。",
            "第二章 附则",
            "第三条 本办法自发布之日起施行。",
        ]));
        assert_eq!(s.len(), 2);
        let art2 = &s[0].children[1];
        assert_eq!(art2.number.as_deref(), Some("第二条"));
        assert_eq!(art2.heading, None);
        assert_eq!(
            art2.paragraphs,
            ["本办法所称信息包括：", "（一）行政法规；", "（二）规章。"]
        );
        assert_eq!(s[1].children[0].level, 2);
    }

    #[test]
    fn divisions_and_spaced_out_headings() {
        let s = build_sections(&paras(&[
            "第一部分 总体情况",
            "第一章 总 则",
            "第一条 为了规范管理，制定本办法。",
        ]));
        assert_eq!(s[0].number.as_deref(), Some("第一部分"));
        assert_eq!(s[0].children[0].heading.as_deref(), Some("总则"));
        assert_eq!(s[0].children[0].children[0].level, 3);
    }

    #[test]
    fn numbers_are_not_markers() {
        assert!(heading("1.5万人参加").is_none());
        assert!(heading("2021.3.30").is_none());
        assert!(heading("一是依法推进").is_none());
        assert_eq!(
            heading("(1)申请材料").map(|h| h.number).as_deref(),
            Some("(1)")
        );
    }
}
