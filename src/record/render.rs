//! Records for people: plain text and Markdown, as `govsnap show` and the
//! service's `record?format=` print them.

use super::{Record, Section};
use std::fmt::Write;

/// Title, date, source and metadata, then the text.
#[must_use]
pub fn text(r: &Record) -> String {
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
#[must_use]
pub fn markdown(r: &Record) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", r.title.as_deref().unwrap_or("(untitled)"));
    let _ = writeln!(s, "- URL: <{}>", r.url);
    // the record's date and source, unless the metadata prints them under
    // the same label already
    for (label, value) in [("发布日期", &r.published), ("来源", &r.source)] {
        if let Some(v) = value
            && !r.meta.contains_key(label)
        {
            let _ = writeln!(s, "- {label}: {v}");
        }
    }
    for (k, v) in &r.meta {
        let _ = writeln!(s, "- {k}: {v}");
    }
    s.push('\n');
    for section in &r.sections {
        section_md(&mut s, section, &r.text);
    }
    if !r.attachments.is_empty() {
        s.push_str("## 附件\n\n");
        for a in &r.attachments {
            let _ = writeln!(s, "- [{}]({})", a.name, a.url);
        }
    }
    s.trim_end().to_owned()
}

fn section_md(s: &mut String, section: &Section, text: &str) {
    if section.level > 0 {
        let hashes = "#".repeat((section.level as usize + 1).min(6));
        let marker = section
            .number
            .as_deref()
            .map_or_else(String::new, |n| marker(n, text));
        let heading = section.heading.as_deref().unwrap_or("");
        let _ = writeln!(s, "{hashes} {}\n", format!("{marker}{heading}").trim_end());
    }
    for p in &section.paragraphs {
        let _ = writeln!(s, "{p}\n");
    }
    for child in &section.children {
        section_md(s, child, text);
    }
}

/// A section number with its delimiter as the document printed it (`一、`,
/// `1.`, `（一）`, `第三条 `): the record keeps the number without it, and
/// the body text, where the heading line still has it, says which.
#[must_use]
pub fn marker(number: &str, text: &str) -> String {
    let printed = text
        .lines()
        .filter_map(|line| line.strip_prefix(number)?.chars().next())
        .find(|c| matches!(c, '、' | '.' | '．'));
    match printed {
        Some(delimiter) => format!("{number}{delimiter}"),
        None if number.ends_with(['）', ')']) => number.to_owned(),
        None => format!("{number} "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_keeps_delimiters_and_lists_each_field_once() {
        let record = crate::extract(
            &crate::Page {
                bytes: "<html><body><h1>关于开展安全检查的通知</h1><div class=\"info\">发布日期：2024-03-01</div>\
                    <div class=\"content\"><p>各街道：</p><p>一、检查范围</p><p>全区所有生产经营单位，重点是危险化学品企业和建筑施工企业。</p>\
                    <p>（一）重点行业</p><p>危险化学品、建筑施工、交通运输等行业领域的生产经营单位。</p>\
                    <p>1.化工企业</p><p>全区化工企业均应开展自查，形成台账并于月底前报送。</p></div></body></html>"
                    .as_bytes(),
                url: Some("http://www.example.gov.cn/t20240301_1.html"),
                ..crate::Page::default()
            },
            None,
            crate::ExtractOptions::default(),
        )
        .unwrap();
        let md = markdown(&record);
        assert!(md.contains("## 一、检查范围"), "{md}");
        assert!(md.contains("### （一）重点行业"), "{md}");
        assert!(md.contains("#### 1.化工企业"), "{md}");
        assert_eq!(md.matches("发布日期").count(), 1, "{md}");
    }
}
