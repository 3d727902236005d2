//! Text normalization (SPEC §4): NFC, no NBSP, zero-width characters or BOM,
//! white space folded, indentation trimmed.
//!
//! Every string that reaches a record passes through [`normalize_text`] once,
//! when the DOM walk closes a paragraph.

use std::borrow::Cow;
use unicode_normalization::{UnicodeNormalization, is_nfc_quick};

/// Normalize one paragraph's raw text.
///
/// White space (including NBSP and the ideographic space used for indentation)
/// is folded to one space and trimmed. A run that contains a line break and
/// sits between two CJK characters is dropped instead: it comes from the HTML
/// source's line wrapping, and a browser's space there would split a word.
#[must_use]
pub(crate) fn normalize_text(raw: &str) -> String {
    normalize_counting(raw).0
}

/// [`normalize_text`], and the number of visible characters of the result.
pub(crate) fn normalize_counting(raw: &str) -> (String, usize) {
    let mut visible = 0;
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    let mut pending_newline = false;
    let mut last: Option<char> = None;
    // Only characters outside the ranges below can change under NFC.
    let mut may_denormalize = false;
    for c in raw.chars() {
        if ('\u{4E00}'..='\u{9FFF}').contains(&c) && !pending_space {
            // the common case in Chinese text: an ideograph after an ideograph
            visible += 1;
            out.push(c);
            last = Some(c);
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        if is_space(c) {
            pending_space = true;
            pending_newline |= c == '\n' || c == '\r';
            continue;
        }
        if pending_space {
            let joined = pending_newline && last.is_some_and(is_cjk) && is_cjk(c);
            if last.is_some() && !joined {
                out.push(' ');
            }
            pending_space = false;
            pending_newline = false;
        }
        may_denormalize |= c >= '\u{300}' && !is_cjk(c);
        visible += 1;
        out.push(c);
        last = Some(c);
    }
    if !may_denormalize || is_nfc_quick(out.chars()) == unicode_normalization::IsNormalized::Yes {
        (out, visible)
    } else {
        (out.nfc().collect(), visible)
    }
}

/// Characters that render as white space.
#[must_use]
pub(crate) fn is_space(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_whitespace()
    } else {
        c.is_whitespace() || c == '\u{00A0}' || c == '\u{3000}'
    }
}

/// Characters that render as nothing and only get in the way of matching.
fn is_invisible(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_control() && !c.is_ascii_whitespace();
    }
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
    ) || (c.is_control() && !c.is_whitespace())
}

/// CJK ideographs and the full-width punctuation that sits between them.
#[must_use]
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}' | '\u{3001}'..='\u{303F}' | '\u{FF01}'..='\u{FF65}'
        | '\u{2018}'..='\u{201F}' | '\u{2026}' | '\u{2014}')
}

/// Remove every white-space character (for comparing labels like `标　　题`).
#[must_use]
pub(crate) fn squeeze(s: &str) -> Cow<'_, str> {
    let gone = |c: char| is_space(c) || is_invisible(c);
    if s.chars().any(gone) {
        Cow::Owned(s.chars().filter(|&c| !gone(c)).collect())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indentation_nbsp_and_zero_width_go() {
        assert_eq!(
            normalize_text(
                "\u{3000}\u{3000}为进一步\u{200B}做好\u{00A0}\u{00A0}工作，\u{FEFF}特制定本方案。  "
            ),
            "为进一步做好 工作，特制定本方案。"
        );
    }

    #[test]
    fn source_line_wraps_between_cjk_are_joined() {
        assert_eq!(normalize_text("依法推进\n    疫情防控"), "依法推进疫情防控");
        assert_eq!(normalize_text("2020年 GDP\n增长"), "2020年 GDP 增长");
    }

    #[test]
    fn decomposed_forms_become_nfc() {
        assert_eq!(normalize_text("Cafe\u{301}"), "Caf\u{e9}");
    }

    #[test]
    fn labels_squeeze() {
        assert_eq!(squeeze("标\u{3000}\u{3000}题"), "标题");
    }
}
