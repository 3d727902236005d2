//! RTF, as `WordPad`, Word and WPS save Chinese text: `\'hh` escapes in the
//! document's ANSI code page (`\ansicpg936`: GBK; 950: Big5), `\uN` with
//! its `\uc` fallback skipped, groups that are no text (font and colour
//! tables, styles, pictures, `\*` destinations) left out, `\par` and
//! `\row` ending paragraphs, `\cell` a table's cell boundary (` | `), the
//! title from `\info`.

use super::{Budget, Read, ReadError};

/// What a group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dest {
    Text,
    Skip,
    Title,
}

/// The text of an RTF file.
///
/// # Errors
/// [`ReadError::Corrupt`] when it is no RTF.
pub fn read(bytes: &[u8], budget: &Budget) -> Result<Read, ReadError> {
    if !bytes.starts_with(b"{\\rtf") {
        return Err(ReadError::Corrupt("it is no RTF".to_owned()));
    }
    let mut state = State::default();
    let mut i = 0;
    let mut steps = 0_u32;
    while i < bytes.len() {
        steps = steps.wrapping_add(1);
        if steps.is_multiple_of(65_536) {
            budget.check()?;
        }
        let b = bytes[i];
        if b != b'\\' || bytes.get(i + 1) != Some(&b'\'') {
            state.flush();
        }
        match b {
            b'{' => {
                state.stack.push((state.dest, state.uc));
                state.group_start = true;
                i += 1;
            }
            b'}' => {
                (state.dest, state.uc) = state.stack.pop().unwrap_or((Dest::Text, 1));
                i += 1;
            }
            b'\\' => {
                let (word, param, next) = control(bytes, i);
                i = next;
                state.word(&word, param);
            }
            b'\r' | b'\n' => i += 1,
            _ => {
                state.group_start = false;
                if state.skip > 0 {
                    state.skip -= 1;
                } else {
                    state.push(char::from(b));
                }
                i += 1;
            }
        }
    }
    state.flush();
    let paragraphs = state
        .paragraphs
        .into_iter()
        .map(|p| p.trim_end_matches([' ', '|']).trim().to_owned())
        .collect();
    Ok(Read {
        paragraphs,
        title: Some(state.title.trim().to_owned()).filter(|t| !t.is_empty()),
        ..Read::default()
    })
}

/// The reader's state as it goes through the file.
struct State {
    encoding: &'static encoding_rs::Encoding,
    /// The enclosing groups' destinations and `\uc`.
    stack: Vec<(Dest, usize)>,
    dest: Dest,
    /// Characters a `\uN`'s fallback takes.
    uc: usize,
    paragraphs: Vec<String>,
    title: String,
    /// Bytes of `\'hh` escapes not yet decoded.
    pending: Vec<u8>,
    /// Fallback characters still to skip.
    skip: usize,
    /// Whether a group has just begun: its first control word says what
    /// it is.
    group_start: bool,
}

impl Default for State {
    fn default() -> Self {
        Self {
            encoding: encoding_rs::WINDOWS_1252,
            stack: Vec::new(),
            dest: Dest::Text,
            uc: 1,
            paragraphs: vec![String::new()],
            title: String::new(),
            pending: Vec::new(),
            skip: 0,
            group_start: false,
        }
    }
}

impl State {
    /// A control word and its parameter.
    fn word(&mut self, word: &str, param: Option<i64>) {
        let first = std::mem::take(&mut self.group_start);
        if word == "'" {
            if self.skip > 0 {
                self.skip -= 1;
            } else if let Some(byte) = param.and_then(|p| u8::try_from(p).ok()) {
                self.pending.push(byte);
            }
            return;
        }
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        match word {
            "*" | "fonttbl" | "colortbl" | "stylesheet" | "pict" | "object" | "header"
            | "footer" | "listtable" | "listoverridetable" | "rsidtbl" | "generator" | "author"
            | "operator" | "company" | "xmlnstbl" | "info"
                if first =>
            {
                self.dest = Dest::Skip;
            }
            "title" if first => self.dest = Dest::Title,
            "ansicpg" => {
                self.encoding = match param {
                    Some(936) => encoding_rs::GBK,
                    Some(950) => encoding_rs::BIG5,
                    Some(54936) => encoding_rs::GB18030,
                    Some(65001) => encoding_rs::UTF_8,
                    _ => encoding_rs::WINDOWS_1252,
                };
            }
            "uc" => self.uc = usize::try_from(param.unwrap_or(1)).unwrap_or(1),
            "u" => {
                let code = param.unwrap_or(0);
                let code = if code < 0 { code + 65_536 } else { code };
                if let Some(c) = u32::try_from(code).ok().and_then(char::from_u32) {
                    self.push(c);
                }
                self.skip = self.uc;
            }
            "par" | "row" | "line" | "sect" | "page" if self.dest == Dest::Text => {
                self.paragraphs.push(String::new());
            }
            "cell" if self.dest == Dest::Text => {
                if let Some(p) = self.paragraphs.last_mut() {
                    p.push_str(" | ");
                }
            }
            "tab" => self.push(' '),
            "\\" | "{" | "}" => self.push(word.chars().next().unwrap_or(' ')),
            _ => {}
        }
    }

    fn push(&mut self, c: char) {
        match self.dest {
            Dest::Text => {
                if let Some(p) = self.paragraphs.last_mut() {
                    p.push(c);
                }
            }
            Dest::Title => self.title.push(c),
            Dest::Skip => {}
        }
    }

    /// Bytes of `\'hh` escapes, decoded together (a GBK character is two).
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = self.encoding.decode(&self.pending).0.into_owned();
        self.pending.clear();
        for c in text.chars() {
            self.push(c);
        }
    }
}

/// A control word at `i` (`\word-12 `, `\'hh`, `\\`): its name, its
/// parameter and where what follows begins.
fn control(bytes: &[u8], i: usize) -> (String, Option<i64>, usize) {
    let mut j = i + 1;
    match bytes.get(j) {
        Some(b'\'') => {
            let hex = bytes
                .get(j + 1..j + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            let value = hex.and_then(|h| i64::from_str_radix(h, 16).ok());
            ("'".to_owned(), value, (j + 3).min(bytes.len()))
        }
        Some(c) if c.is_ascii_alphabetic() => {
            let start = j;
            while bytes.get(j).is_some_and(u8::is_ascii_alphabetic) {
                j += 1;
            }
            let word = String::from_utf8_lossy(&bytes[start..j]).into_owned();
            let digits = j;
            if bytes.get(j) == Some(&b'-') {
                j += 1;
            }
            while bytes.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            let param = std::str::from_utf8(&bytes[digits..j])
                .ok()
                .and_then(|p| p.parse().ok());
            if bytes.get(j) == Some(&b' ') {
                j += 1;
            }
            (word, param, j)
        }
        Some(&c) => (char::from(c).to_string(), None, j + 1),
        None => (String::new(), None, j),
    }
}
