//! How text becomes terms: overlapping character bigrams of the letters,
//! digits and ideographs, punctuation and spaces left out, Latin letters
//! folded to lower case and full-width forms to half-width.
//!
//! Why bigrams: Chinese has no spaces, and SPEC §13 asks that any run of
//! two or more characters of a text find it. A word segmenter cuts 政策兑现
//! into 政策/兑现 and never finds 策兑; bigrams (Lucene's CJK analyzer)
//! index every pair, and a query of n characters is the phrase of its n − 1
//! bigrams, which matches exactly where the characters follow one another.
//! Why punctuation is left out: a 文号 is written 国发〔2024〕7号, 国发[2024]7号
//! or 国发（2024）7号 by different sites and people; without its brackets it
//! is 国发20247号 everywhere.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// The name the index knows the tokenizer by.
pub(super) const NAME: &str = "govsnap_bigram";

/// One searchable character: its normal form and where it is in the text
/// (byte offsets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Char {
    pub(super) c: char,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// A character's searchable form, `None` for punctuation, spaces and
/// symbols.
fn fold(c: char) -> Option<char> {
    // the common cases first, without Unicode's tables: the unified
    // ideographs are letters with no case, ASCII folds by itself
    match c {
        '\u{4E00}'..='\u{9FFF}' => return Some(c),
        _ if c.is_ascii() => return c.is_ascii_alphanumeric().then(|| c.to_ascii_lowercase()),
        _ => {}
    }
    // full-width ASCII (ＡＢＣ１２３) to ASCII
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    if !c.is_alphanumeric() {
        return None;
    }
    if c.is_ascii() {
        return Some(c.to_ascii_lowercase());
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => Some(l),
        _ => Some(c),
    }
}

/// The searchable characters of `text`, in order.
pub(super) fn chars(text: &str) -> impl Iterator<Item = Char> + '_ {
    text.char_indices().filter_map(|(start, c)| {
        fold(c).map(|f| Char {
            c: f,
            start,
            end: start + c.len_utf8(),
        })
    })
}

/// `text` as one key: its searchable characters run together (`国发〔2024〕
/// 7号` → `国发20247号`), for exact matches of a 文号 or a title.
pub(super) fn key(text: &str) -> String {
    chars(text).map(|c| c.c).collect()
}

/// The bigram tokenizer, registered as [`NAME`].
#[derive(Debug, Clone, Default)]
pub(super) struct Bigrams;

impl Tokenizer for Bigrams {
    type TokenStream<'a> = BigramStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> BigramStream<'a> {
        let mut chars: Box<dyn Iterator<Item = Char> + 'a> = Box::new(chars(text));
        let first = chars.next();
        BigramStream {
            chars,
            previous: first,
            lone: first,
            token: Token::default(),
            position: 0,
        }
    }
}

/// The bigrams of one text.
pub(super) struct BigramStream<'a> {
    chars: Box<dyn Iterator<Item = Char> + 'a>,
    previous: Option<Char>,
    /// A text of one searchable character is that character's one term.
    lone: Option<Char>,
    token: Token,
    position: usize,
}

impl BigramStream<'_> {
    fn set(&mut self, from: Char, to: Option<Char>) {
        self.token.text.clear();
        self.token.text.push(from.c);
        if let Some(to) = to {
            self.token.text.push(to.c);
        }
        self.token.offset_from = from.start;
        self.token.offset_to = to.map_or(from.end, |t| t.end);
        self.token.position = self.position;
        self.token.position_length = 1;
        self.position += 1;
    }
}

impl TokenStream for BigramStream<'_> {
    fn advance(&mut self) -> bool {
        let Some(previous) = self.previous else {
            return false;
        };
        if let Some(next) = self.chars.next() {
            self.lone = None;
            self.set(previous, Some(next));
            self.previous = Some(next);
            return true;
        }
        self.previous = None;
        match self.lone.take() {
            Some(lone) => {
                self.set(lone, None);
                true
            }
            None => false,
        }
    }

    fn token(&self) -> &Token {
        &self.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

/// The bigrams of `text` as strings, in order: a query term's phrase.
pub(super) fn bigrams(text: &str) -> Vec<String> {
    let mut tokenizer = Bigrams;
    let mut stream = tokenizer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_skip_punctuation_and_fold() {
        assert_eq!(
            bigrams("国发〔2024〕7号"),
            ["国发", "发2", "20", "02", "24", "47", "7号"]
        );
        assert_eq!(bigrams("ＰＤＦ 文件"), ["pd", "df", "f文", "文件"]);
        assert_eq!(bigrams("税"), ["税"]);
        assert!(bigrams("，。、！").is_empty());
        assert_eq!(key("国发[2024]7号"), key("国发〔2024〕7号"));
    }

    #[test]
    fn offsets_cover_the_original_characters() {
        let text = "一、政策兑现";
        let mut tokenizer = Bigrams;
        let mut stream = tokenizer.token_stream(text);
        assert!(stream.advance());
        let t = stream.token();
        assert_eq!(&text[t.offset_from..t.offset_to], "一、政");
        assert_eq!(t.text, "一政");
    }
}
