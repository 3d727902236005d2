//! Records for people: plain text and Markdown.

use govsnap::{Record, Section};
use std::fmt::Write;

/// Title, date, source and metadata, then the text.
pub(super) fn text(r: &Record) -> String {
    let mut s = String::new();
    if let Some(t) = &r.title {
        let _ = writeln!(s, "{t}");
    }
    for (label, value) in [("发布日期", &r.published), ("来源", &r.source)] {
        if let Some(v) = value {
            let _ = writeln!(s, "{label}：{v}");
        }
    }
    let _ = writeln!(s, "{}\n", r.url);
    if !r.text.is_empty() {
        let _ = writeln!(s, "{}", r.text);
    }
    for a in &r.attachments {
        let _ = writeln!(s, "附件：{} <{}>", a.name, a.url);
    }
    s.trim_end().to_owned()
}

/// A Markdown document: the title as `#`, sections as deeper headings.
pub(super) fn markdown(r: &Record) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", r.title.as_deref().unwrap_or("(untitled)"));
    let _ = writeln!(s, "- URL: <{}>", r.url);
    if let Some(p) = &r.published {
        let _ = writeln!(s, "- 发布日期: {p}");
    }
    if let Some(src) = &r.source {
        let _ = writeln!(s, "- 来源: {src}");
    }
    for (k, v) in &r.meta {
        let _ = writeln!(s, "- {k}: {v}");
    }
    s.push('\n');
    for section in &r.sections {
        section_md(&mut s, section);
    }
    if !r.attachments.is_empty() {
        s.push_str("## 附件\n\n");
        for a in &r.attachments {
            let _ = writeln!(s, "- [{}]({})", a.name, a.url);
        }
    }
    s.trim_end().to_owned()
}

fn section_md(s: &mut String, section: &Section) {
    if section.level > 0 {
        let hashes = "#".repeat((section.level as usize + 1).min(6));
        let number = section.number.as_deref().unwrap_or("");
        let heading = section.heading.as_deref().unwrap_or("");
        let _ = writeln!(s, "{hashes} {number} {heading}\n");
    }
    for p in &section.paragraphs {
        let _ = writeln!(s, "{p}\n");
    }
    for child in &section.children {
        section_md(s, child);
    }
}
