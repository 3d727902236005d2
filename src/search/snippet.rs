//! A hit's snippet: the stretch of its text around the first match, HTML
//! escaped, with every match of the query's words in `<mark>`.
//!
//! Matches are found on the searchable characters ([`tokenize::chars`]),
//! as the index found them, so that 国发[2024]7号 marks 国发〔2024〕7号 in
//! the text, brackets and all.

use super::query::Word;
use super::tokenize::{self, Char};

/// The snippet's length in characters, about.
const WIDTH: usize = 120;
/// Characters shown before the first match.
const LEAD: usize = 30;
/// How far into a text matches are looked for: a 60 MB attachment's
/// snippet needs its first match, not a scan of all of it.
const SCAN_BYTES: usize = 1 << 20;

/// The byte ranges of `text` where a word matches, in order, merged: the
/// first match and those the snippet's window after it can show. The scan
/// stops there, not at the end of the text: a hit's snippet costs its
/// first few hundred characters, not the whole record (it was a quarter of
/// a search's time at 100,000 documents).
fn marks(text: &str, words: &[&Word]) -> Vec<(usize, usize)> {
    let head = &text[..floor_char_boundary(text, SCAN_BYTES)];
    let needles: Vec<Vec<char>> = words
        .iter()
        .map(|w| tokenize::chars(&w.text).map(|c| c.c).collect::<Vec<char>>())
        .filter(|n| !n.is_empty())
        .collect();
    let longest = needles.iter().map(Vec::len).max().unwrap_or(0);
    let mut chars: Vec<Char> = Vec::new();
    let mut found = Vec::new();
    // the character index past which no match can enter the window
    let mut stop = usize::MAX;
    for c in tokenize::chars(head) {
        if chars.len() >= stop {
            break;
        }
        chars.push(c);
        let end = chars.len();
        for needle in &needles {
            let Some(begin) = end.checked_sub(needle.len()) else {
                continue;
            };
            if chars[begin..]
                .iter()
                .map(|c| c.c)
                .eq(needle.iter().copied())
            {
                found.push((chars[begin].start, c.end));
                if stop == usize::MAX {
                    stop = begin + WIDTH + longest;
                }
            }
        }
    }
    found.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (start, end) in found {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0)
}

/// `text`'s snippet for `words`, `None` when none of them occurs in it.
pub(super) fn snippet(text: &str, words: &[&Word]) -> Option<String> {
    let marks = marks(text, words);
    let first = marks.first()?.0;
    Some(window(text, first, &marks))
}

/// The head of `text`, unmarked: for a hit that matched elsewhere (its
/// title, its metadata).
pub(super) fn head(text: &str) -> String {
    window(text, 0, &[])
}

fn window(text: &str, first: usize, marks: &[(usize, usize)]) -> String {
    let start = text[..first]
        .char_indices()
        .rev()
        .take(LEAD)
        .take_while(|&(_, c)| c != '\n')
        .last()
        .map_or(first, |(i, _)| i);
    let end = text[start..]
        .char_indices()
        .nth(WIDTH)
        .map_or(text.len(), |(i, _)| start + i);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for &(m_start, m_end) in marks {
        if m_end <= at || m_start >= end {
            continue;
        }
        let m_start = m_start.max(at);
        let m_end = m_end.min(end);
        escape(&mut out, &text[at..m_start]);
        out.push_str("<mark>");
        escape(&mut out, &text[m_start..m_end]);
        out.push_str("</mark>");
        at = m_end;
    }
    escape(&mut out, &text[at..end]);
    if end < text.len() {
        out.push('…');
    }
    out
}

/// HTML-escape `text` onto `out`, its line breaks as spaces.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// A snippet's pieces as text, each with whether it is a match: for a
/// reader that marks matches its own way (the browse page's `<mark>`
/// elements, escaped again; a terminal's «»).
#[must_use]
pub fn pieces(snippet: &str) -> Vec<(String, bool)> {
    let unescape = |s: &str| {
        s.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
    };
    let mut out = Vec::new();
    for (i, part) in snippet.split("<mark>").enumerate() {
        match (i, part.split_once("</mark>")) {
            (0, _) | (_, None) => out.push((unescape(part), false)),
            (_, Some((marked, rest))) => {
                out.push((unescape(marked), true));
                out.push((unescape(rest), false));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> Word {
        Word {
            text: text.to_owned(),
            grams: tokenize::bigrams(text),
        }
    }

    #[test]
    fn marks_matches_across_punctuation_and_escapes() {
        let w = word("国发[2024]7号");
        let s = snippet("根据<国务院>文件（国发〔2024〕7号）执行。", &[&w]).unwrap();
        assert_eq!(
            s,
            "根据&lt;国务院&gt;文件（<mark>国发〔2024〕7号</mark>）执行。"
        );
    }

    #[test]
    fn pieces_are_unescaped_text_and_marks() {
        assert_eq!(
            pieces("a&lt;b <mark>国发&amp;</mark> c"),
            [
                ("a<b ".to_owned(), false),
                ("国发&".to_owned(), true),
                (" c".to_owned(), false)
            ]
        );
    }

    #[test]
    fn a_long_text_is_cut_around_the_first_match() {
        let text = format!("{}优化营商环境{}", "前".repeat(200), "后".repeat(200));
        let w = word("营商");
        let s = snippet(&text, &[&w]).unwrap();
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("优化<mark>营商</mark>环境"));
        assert!(s.chars().count() < 140);
        assert_eq!(snippet(&text, &[&word("不存在")]), None);
    }
}
