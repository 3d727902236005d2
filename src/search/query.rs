//! The query language (SPEC §13), small on purpose: words that must all
//! occur (each a substring, as Chinese has no spaces), `"quoted phrases"`
//! that occur as written, `-word` that must not, and `OR` between two
//! words that may stand for each other. Anything else is a [`Error::Query`]
//! that says what is wrong, never a panic: a query box takes anything.

use super::tokenize;
use crate::error::{Error, Result};

/// The longest query searched, in characters: a pasted paragraph is not a
/// query, and each character is a term of a phrase.
pub const MAX_QUERY_CHARS: usize = 256;

/// One word or phrase of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// As the user wrote it (without quotes or `-`).
    pub(super) text: String,
    /// Its bigrams (one term for a word of one character).
    pub(super) grams: Vec<String>,
}

/// A query, parsed: every group must match (one of its words), no
/// excluded word may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Parsed {
    pub(super) groups: Vec<Vec<Word>>,
    pub(super) excluded: Vec<Word>,
    /// The whole query as one key, when it is one word or phrase: a 文号
    /// or a title asked for exactly, which puts its document first.
    pub(super) key: Option<String>,
}

impl Parsed {
    /// Every word that must or may match, for marking a snippet.
    pub(super) fn wanted(&self) -> impl Iterator<Item = &Word> {
        self.groups.iter().flatten()
    }
}

fn bad(why: impl Into<String>) -> Error {
    Error::Query(why.into())
}

/// A piece of the query as written.
#[derive(Debug, PartialEq, Eq)]
enum Piece {
    Word { text: String, excluded: bool },
    Or,
}

fn pieces(query: &str) -> Result<Vec<Piece>> {
    let mut out = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let excluded = c == '-';
        if excluded {
            chars.next();
        }
        let text = if chars.peek() == Some(&'"') {
            chars.next();
            let phrase: String = chars.by_ref().take_while(|&c| c != '"').collect();
            // take_while ate the closing quote, if there was one
            if !query_has_even_quotes(query) {
                return Err(bad(
                    "a quote is not closed: put a phrase between two \" marks",
                ));
            }
            phrase
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            word
        };
        if text == "OR" && !excluded {
            out.push(Piece::Or);
        } else if text.is_empty() && excluded {
            return Err(bad(
                "a lone - excludes nothing: write -word to leave out pages with that word",
            ));
        } else {
            out.push(Piece::Word { text, excluded });
        }
    }
    Ok(out)
}

fn query_has_even_quotes(query: &str) -> bool {
    query.chars().filter(|&c| c == '"').count() % 2 == 0
}

/// Parse a query as typed into a search box.
///
/// # Errors
/// [`Error::Query`] for an empty or over-long query, control characters,
/// an unclosed quote, a dangling `OR`, a lone `-`, only excluded words, or
/// nothing searchable (only punctuation).
pub(super) fn parse(query: &str) -> Result<Parsed> {
    let length = query.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(bad(format!(
            "the query is {length} characters; at most {MAX_QUERY_CHARS} are searched"
        )));
    }
    if let Some(c) = query.chars().find(|c| c.is_control() && !c.is_whitespace()) {
        return Err(bad(format!(
            "the query holds the control character U+{:04X}: type or paste text only",
            c as u32
        )));
    }
    let pieces = pieces(query)?;
    let mut groups: Vec<Vec<Word>> = Vec::new();
    let mut excluded = Vec::new();
    let mut joining = false;
    let mut quoted_or_single = None;
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Or => {
                if joining || groups.is_empty() || i + 1 == pieces.len() {
                    return Err(bad("OR stands between two words (a OR b): one is missing"));
                }
                joining = true;
            }
            Piece::Word { text, excluded: ex } => {
                let grams = tokenize::bigrams(text);
                if grams.is_empty() {
                    if *ex || joining {
                        return Err(bad(format!(
                            "{text:?} has no letters, digits or characters to search for"
                        )));
                    }
                    continue;
                }
                let word = Word {
                    text: text.clone(),
                    grams,
                };
                if *ex {
                    if joining {
                        return Err(bad("OR cannot join an excluded -word"));
                    }
                    excluded.push(word);
                } else if joining {
                    joining = false;
                    if let Some(last) = groups.last_mut() {
                        last.push(word);
                    }
                } else {
                    quoted_or_single = Some(tokenize::key(text));
                    groups.push(vec![word]);
                }
            }
        }
    }
    if groups.is_empty() {
        return Err(bad(if excluded.is_empty() {
            "nothing to search for: give a word or phrase with letters, digits or characters"
        } else {
            "only excluded words: give a word to search for besides the -words"
        }));
    }
    let single = groups.len() == 1 && groups[0].len() == 1 && excluded.is_empty();
    Ok(Parsed {
        groups,
        excluded,
        key: quoted_or_single.filter(|_| single),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(p: &Parsed) -> Vec<Vec<&str>> {
        p.groups
            .iter()
            .map(|g| g.iter().map(|w| w.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn words_phrases_exclusions_and_or() {
        let p = parse(r#"营商环境 "政策 兑现" -废止 通知 OR 公告"#).unwrap();
        assert_eq!(
            texts(&p),
            [vec!["营商环境"], vec!["政策 兑现"], vec!["通知", "公告"]]
        );
        assert_eq!(p.excluded[0].text, "废止");
        assert_eq!(p.key, None);
        assert_eq!(
            parse("国发〔2024〕7号").unwrap().key.as_deref(),
            Some("国发20247号")
        );
    }

    #[test]
    fn bad_queries_are_errors_that_say_why() {
        for (query, says) in [
            ("\"营商环境", "quote"),
            ("", "nothing to search"),
            ("，。！？", "nothing to search"),
            ("-废止", "only excluded"),
            ("OR 通知", "OR"),
            ("通知 OR", "OR"),
            ("a OR OR b", "OR"),
            ("通知 - 公告", "lone -"),
            ("通知\u{0}", "control"),
        ] {
            let err = parse(query).unwrap_err().to_string();
            assert!(err.contains(says), "{query:?}: {err}");
        }
        let long = "政".repeat(10_000);
        assert!(
            parse(&long)
                .unwrap_err()
                .to_string()
                .contains("10000 characters")
        );
    }
}
