//! Atom feeds (RFC 4287) of the archive's latest changes (SPEC §9):
//! `/changes.atom` for every site, `/site/NAME/feed.atom` for one. Each
//! entry is a change of the feed (a new version, a file's new version, a
//! page gone from its site): the document's title, a link to its page
//! view, when it was fetched, and what changed first: the first passage the
//! new version added or removed, or the head of a new document.
//!
//! Links are relative, resolved against the feed's own address, so the feed
//! is right whatever name the service is reached by. Entry ids are UUIDs
//! derived from the page's URL, the change's kind and version: the same
//! change has the same id in every feed and after every restart.

use super::Shared;
use super::views::page_href;
use crate::RecordDiff;
use crate::record::diff::{Line, SegmentKind};
use crate::serve::api::{Answer, configured, read};
use crate::store::{Change, EventKind, Store};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::Arc;

/// A version's text over this is not diffed for its entry.
const DIFF_BYTES: usize = 1 << 20;
/// Characters of a summary.
const SUMMARY_CHARS: usize = 200;

/// One entry.
struct Entry {
    id: String,
    title: String,
    link: String,
    updated: String,
    summary: String,
}

pub(super) async fn changes(State(shared): State<Arc<Shared>>) -> Response {
    feed(&shared, None).await
}

pub(super) async fn site(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    if let Err(e) = configured(&shared, &name) {
        return e.into_response();
    }
    feed(&shared, Some(name)).await
}

async fn feed(shared: &Arc<Shared>, site: Option<String>) -> Response {
    let only = site.clone();
    let entries = match read(shared, move |store| entries(store, only.as_deref())).await {
        Ok(entries) => entries,
        Err(e) => return e.into_response(),
    };
    let (title, self_href, page) = match &site {
        Some(name) => (
            format!("{name} 的最新变化 · govsnap"),
            super::views::feed_href(name),
            format!("/site/{}", super::views::q(name)),
        ),
        None => (
            "最新变化 · govsnap".to_owned(),
            "/changes.atom".to_owned(),
            "/changes".to_owned(),
        ),
    };
    let updated = entries.first().map_or_else(
        || humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        |e| e.updated.clone(),
    );
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    xml.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n");
    let _ = writeln!(xml, "  <id>urn:uuid:{}</id>", uuid(&["feed", &self_href]));
    let _ = writeln!(xml, "  <title>{}</title>", escape(&title));
    let _ = writeln!(xml, "  <updated>{}</updated>", escape(&updated));
    let _ = writeln!(
        xml,
        "  <link rel=\"self\" href=\"{}\"/>",
        escape(&self_href)
    );
    let _ = writeln!(
        xml,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        escape(&page)
    );
    xml.push_str("  <author><name>govsnap</name></author>\n  <generator>govsnap</generator>\n");
    for e in &entries {
        let _ = write!(
            xml,
            "  <entry>\n    <id>urn:uuid:{}</id>\n    <title>{}</title>\n    \
             <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n    \
             <updated>{}</updated>\n    <summary>{}</summary>\n  </entry>\n",
            e.id,
            escape(&e.title),
            escape(&e.link),
            escape(&e.updated),
            escape(&e.summary)
        );
    }
    xml.push_str("</feed>\n");
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

/// The latest 50 changes (of `site`), newest first: a list page's worth, as the
/// browse lists walk them (gone marks carry their page's last title).
fn entries(store: &Store, site: Option<&str>) -> Answer<Vec<Entry>> {
    let (changes, _) = super::newest(store, None, |c| {
        Ok(c.kind != EventKind::Alias && site.is_none_or(|s| c.site.as_deref() == Some(s)))
    })?;
    changes.iter().map(|c| entry(store, c)).collect()
}

fn entry(store: &Store, change: &Change) -> Answer<Entry> {
    let n = change.version.unwrap_or(0);
    let title = change.title.clone().unwrap_or_else(|| change.url.clone());
    let (title, summary, kind) = if change.kind == EventKind::Gone {
        (
            format!("已删除：{title}"),
            format!("网站上已不再有这份文件（存档保留到第 {n} 版）。"),
            "gone",
        )
    } else {
        (title, summary(store, &change.url, n)?, "version")
    };
    Ok(Entry {
        id: uuid(&[&change.url, kind, &n.to_string()]),
        title,
        link: page_href(&change.url, (n > 0).then_some(n)),
        updated: change.fetched_at.clone(),
        summary,
    })
}

/// What version `n` of `url` changed first, or the head of a first version.
fn summary(store: &Store, url: &str, n: u32) -> Answer<String> {
    let Some(new) = store.version(url, n)? else {
        return Ok(String::new());
    };
    if n <= 1 {
        return Ok(format!("新文件。{}", head(&new.record.text)));
    }
    let Some(old) = store.version(url, n - 1)? else {
        return Ok(String::new());
    };
    // a feed is polled: a large file's new version is said, not diffed
    // (fifty of them would be read and compared on every poll)
    if old.record.text.len().max(new.record.text.len()) > DIFF_BYTES {
        return Ok("正文有变化（篇幅较长，请看比较页）。".to_owned());
    }
    Ok(first_change(&RecordDiff::between(&old.record, &new.record)))
}

/// What a diff changed first, in words: the first paragraph added,
/// removed or changed (as it reads now), else the first changed field.
fn first_change(diff: &RecordDiff) -> String {
    for hunk in &diff.hunks {
        for line in &hunk.lines {
            match line {
                Line::Added(text) => return format!("新增：{}", head(text)),
                Line::Removed(text) => return format!("删除：{}", head(text)),
                // the paragraph as it reads now: a changed digit alone
                // says nothing without its sentence
                Line::Changed(segments) => {
                    let now: String = segments
                        .iter()
                        .filter(|s| s.kind != SegmentKind::Removed)
                        .map(|s| s.text.as_str())
                        .collect();
                    return format!("修改为：{}", head(&now));
                }
                Line::Same(_) => {}
            }
        }
    }
    diff.fields.first().map_or_else(
        || "正文未变（只有格式或元数据外的变化）。".to_owned(),
        |f| {
            format!(
                "{}：{} → {}",
                f.field,
                f.from.as_deref().unwrap_or("（无）"),
                f.to.as_deref().unwrap_or("（无）")
            )
        },
    )
}

/// The first [`SUMMARY_CHARS`] characters of `text`, on one line.
fn head(text: &str) -> String {
    let mut out: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(SUMMARY_CHARS + 1)
        .collect();
    if out.chars().count() > SUMMARY_CHARS {
        out = out.chars().take(SUMMARY_CHARS).collect();
        out.push('…');
    }
    out
}

/// A name-based UUID (the form of RFC 9562's version 8) of `parts`.
fn uuid(parts: &[&str]) -> String {
    let mut hasher = blake3::Hasher::new();
    for p in parts {
        hasher.update(p.as_bytes());
        hasher.update(&[0]);
    }
    let mut b: [u8; 16] = hasher.finalize().as_bytes()[..16]
        .try_into()
        .unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = super::super::params::hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Text for XML: markup and quotes escaped, and characters XML 1.0 does not
/// allow (control characters a page may carry) left out.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped_and_stripped_of_what_xml_forbids() {
        assert_eq!(escape("a<b>&\"c\u{1}\u{8}d\n"), "a&lt;b&gt;&amp;&quot;cd\n");
    }

    #[test]
    fn ids_are_uuids_fixed_by_their_parts() {
        let a = uuid(&["http://x/1.html", "version", "2"]);
        assert_eq!(a, uuid(&["http://x/1.html", "version", "2"]));
        assert_ne!(a, uuid(&["http://x/1.html", "version", "3"]));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
    }
}
