//! Where in a config file a key is: the line an error points at, and the
//! dotted key (`site[1].max_depth`) a line belongs to. TOML's own errors
//! give a byte span and a message; people fix files by line and key, so
//! every config error is reported with both.

/// The 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    // a span can start inside a multi-byte character only in a broken file;
    // counting bytes is enough for a line number
    text.as_bytes()[..offset].split(|&b| b == b'\n').count()
}

/// The dotted key a line belongs to: its table (`crawl`, `site[1]`) and the
/// key assigned on it, or on the nearest line above that assigns one (a
/// value that spans lines). A header line gives the table alone.
pub(super) fn key_at(text: &str, line: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let upto = line.min(lines.len());
    let mut table = String::new();
    let mut counts: Vec<(String, usize)> = Vec::new();
    let mut key = None;
    for (i, raw) in lines[..upto].iter().enumerate() {
        let l = strip_comment(raw).trim();
        if let Some(name) = header(l) {
            key = None;
            table = if l.starts_with("[[") {
                let n = if let Some((_, n)) = counts.iter_mut().find(|(t, _)| *t == name) {
                    *n += 1;
                    *n
                } else {
                    counts.push((name.to_owned(), 0));
                    0
                };
                format!("{name}[{n}]")
            } else {
                name.to_owned()
            };
        } else if let Some(k) = assigned(l) {
            key = Some(k);
        } else if i + 1 == upto && key.is_none() && !l.is_empty() {
            // a broken line that is not inside a value: its first word
            key = l.split([' ', '=']).next().map(str::to_owned);
        }
    }
    match (table.is_empty(), key) {
        (true, Some(k)) => k,
        (false, Some(k)) => format!("{table}.{k}"),
        (true, None) => "(file)".to_owned(),
        (false, None) => table,
    }
}

/// The line where a dotted key (`site[1].content`, `crawl.timeout_s`,
/// `store`) is assigned, when the file assigns it.
pub(super) fn line_of_key(text: &str, dotted: &str) -> Option<usize> {
    let (table, key) = match dotted.rsplit_once('.') {
        Some((t, k)) => (t, k),
        None => ("", dotted),
    };
    // `site[1]` is the second `[[site]]`
    let (name, index) = match table.split_once('[') {
        Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()?),
        None => (table, 0),
    };
    let mut seen = 0;
    let mut inside = table.is_empty();
    for (i, raw) in text.lines().enumerate() {
        let l = strip_comment(raw).trim();
        if let Some(h) = header(l) {
            inside = h == name && {
                seen += 1;
                seen - 1 == index
            };
            continue;
        }
        if inside && assigned(l).as_deref() == Some(key) {
            return Some(i + 1);
        }
    }
    None
}

/// `name` of a `[name]` or `[[name]]` line.
fn header(line: &str) -> Option<&str> {
    let inner = line.strip_prefix('[')?.strip_suffix(']')?;
    let inner = inner
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(inner);
    Some(inner.trim())
}

/// The key a `key = value` line assigns.
fn assigned(line: &str) -> Option<String> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches(['"', '\'']);
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'));
    bare.then(|| key.to_owned())
}

/// A line without its `#` comment (a `#` inside quotes is kept).
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            ('#', None) => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "store = \"s\"\n[crawl]\ntimeout_s = 3 # seconds\n\n[[site]]\nname = \"a\"\n[[site]]\nname = \"b\"\nseeds = [\n  \"x\",\n  4,\n]\nmax_depth = \"four\"\n";

    #[test]
    fn keys_of_lines() {
        assert_eq!(key_at(TEXT, 1), "store");
        assert_eq!(key_at(TEXT, 3), "crawl.timeout_s");
        assert_eq!(key_at(TEXT, 7), "site[1]");
        assert_eq!(key_at(TEXT, 11), "site[1].seeds");
        assert_eq!(key_at(TEXT, 13), "site[1].max_depth");
    }

    #[test]
    fn lines_of_keys() {
        assert_eq!(line_of_key(TEXT, "store"), Some(1));
        assert_eq!(line_of_key(TEXT, "crawl.timeout_s"), Some(3));
        assert_eq!(line_of_key(TEXT, "site[1].max_depth"), Some(13));
        assert_eq!(line_of_key(TEXT, "site[0].max_depth"), None);
        assert_eq!(line_of_key(TEXT, "site[1].name"), Some(8));
        assert_eq!(line_of(TEXT, 0), 1);
        assert_eq!(line_of(TEXT, TEXT.find("four").unwrap()), 13);
    }
}
