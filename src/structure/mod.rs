//! From cleaned blocks to a [`Record`]: title, date, source, labelled metadata,
//! attachments and the section tree (SPEC §4).
//!
//! The metadata is read from around the body as well as from it: the head's
//! meta tags, 信息公开 tables anywhere on the page, and `label：value` lines
//! just before and after the body and at its edges. Whatever is read as
//! metadata (and the title, and a trailing attachment block) leaves the body;
//! what remains is split into paragraphs and sections.
//!
//! # Architecture
//! - [`head`]: `<head>` meta tags, `<title>`, canonical and base URLs.
//! - [`title`]: the document title.
//! - [`metadata`]: labelled fields from tables and lines.
//! - [`dates`]: date forms → `YYYY-MM-DD`.
//! - [`attachments`]: file links, made absolute.

mod attachments;
mod dates;
mod head;
mod metadata;
mod title;

use crate::clean::Cleaned;
use crate::clean::blocks::{Block, BlockKind};
use crate::clean::normalize::{normalize_text, squeeze};
use crate::config::SiteRules;
use crate::pipeline::Page;
use crate::record::{Record, SCHEMA_VERSION};
use attachments::Attachments;
use dates::{find_date, post_date, url_path_date};
use head::HeadMeta;
use metadata::{Metadata, is_contact_line};
use scraper::Html;
use std::collections::{BTreeSet, HashSet};
use url::Url;

/// How far before and after the body metadata lines and attachments are read.
const AROUND: usize = 15;
/// The URL of a record whose page has none (stdin without `--url`).
pub const NO_URL: &str = "about:blank";

/// Labels of the publication date, best first (never 成文日期, the signing
/// date, which is only the last resort, see docs/EXTRACTION.md).
const DATE_LABELS: &[&str] = &[
    "发布日期",
    "发布时间",
    "发表时间",
    "公开日期",
    "发文日期",
    "公告时间",
    "發佈日期",
    "發布日期",
    "發佈時間",
    "發布時間",
];
/// Labels that may name the publication date or may not (a bare 日期, an
/// update time): below the CMS's own `PubDate`.
const WEAK_DATE_LABELS: &[&str] = &["日期", "时间", "生成日期", "更新时间", "更新日期"];
/// Labels of the issuing source, best first (never 发文机关).
const SOURCE_LABELS: &[&str] = &[
    "来源",
    "信息来源",
    "文章来源",
    "稿件来源",
    "本文来源",
    "来源单位",
    "稿源",
    "供稿单位",
    "发布机构",
    "发布单位",
    "來源",
    "資料來源",
    "消息來源",
    "發佈機構",
    "發佈單位",
];

/// Build the record of a cleaned page.
pub(crate) fn build_record(
    html: &Html,
    cleaned: &Cleaned,
    rules: Option<&SiteRules>,
    page: &Page<'_>,
    mut warnings: Vec<String>,
) -> Record {
    let head = HeadMeta::read(html);
    let blocks = &cleaned.blocks;
    let (url, base) = page_url(&head, page);

    let mut body: Vec<usize> = cleaned.body.clone();
    drop_leading_tabs(blocks, &mut body);
    let first_body = body.first().copied().unwrap_or(0);
    let last_body = body.last().copied().unwrap_or(0);

    // Metadata tables first: a title row is one of the title's sources.
    let mut meta = Metadata::default();
    let table_rows = read_meta_tables(blocks, &cleaned.boilerplate, &body, &mut meta);
    body.retain(|i| !table_rows.contains(i));

    // Title, and the block that printed it, which is not body.
    let found = title::find_title(
        blocks,
        first_body,
        head.title_tag.as_deref(),
        &cleaned.boilerplate,
    );
    let site = head.site_name.as_deref();
    let title = head
        .article_title
        .as_deref()
        .map(|t| without_site_name(t, site))
        .or_else(|| select_text(html, rules.and_then(|r| r.title.as_ref())))
        .or_else(|| title_row(&meta, found.as_ref()))
        .or_else(|| found.as_ref().map(|t| t.text.clone()))
        .or_else(|| head.og_title.as_deref().map(|t| without_site_name(t, site)));

    // Then metadata lines at the body's edges, then around it.
    // the title printed again (below the 信息公开 table, when the body
    // starts with it) is not body
    if let Some(t) = &title {
        drop_printed_title(blocks, &mut body, t);
    }
    let title = title.map(|t| without_tag(&t));
    // the document number centred under the title stays in the body, as
    // printed, and is the record's 文号 too
    let numbered = ["文号", "发文字号", "文件编号", "發文字號"]
        .iter()
        .any(|l| meta.fields.contains_key(*l));
    if !numbered
        && let Some(number) = body
            .iter()
            .take(2)
            .find_map(|&i| document_number(&blocks[i].text))
    {
        meta.fields.insert("文号".to_owned(), number);
    }
    let mut edge = take_meta_edges(blocks, &mut body, &mut meta);
    edge.extend(take_date_line(blocks, &mut body));
    let around = (first_body.saturating_sub(AROUND)..first_body)
        .rev()
        .chain(last_body + 1..(last_body + 1 + AROUND).min(blocks.len()));
    read_meta_lines(blocks, around, &table_rows, &mut meta);

    // the order of evidence, written down in docs/EXTRACTION.md
    let published = select_text(html, rules.and_then(|r| r.date.as_ref()))
        .as_deref()
        .and_then(find_date)
        .or_else(|| meta.get_any(DATE_LABELS).and_then(find_date))
        .or_else(|| head.pub_date.as_deref().and_then(find_date))
        .or_else(|| meta.get_any(WEAK_DATE_LABELS).and_then(find_date))
        .or_else(|| {
            date_near_title(
                blocks,
                found.as_ref().and_then(|t| t.block),
                first_body,
                &edge,
            )
        })
        .or_else(|| post_date_near(blocks, first_body, last_body))
        .or_else(|| find_date(url.rsplit('/').next().unwrap_or("")))
        .or_else(|| meta.get_any(&["成文日期"]).and_then(find_date))
        .or_else(|| signature_date(blocks, &body))
        // nothing on the page is dated: the URL's path, if it is
        .or_else(|| url_path_date(&url, &chrono::Utc::now().format("%Y-%m-%d").to_string()));
    // a printed 来源 is the source even when it names the site (a county
    // site's own news); a meta tag that only repeats the site's name is not
    let says_nothing = |s: &str| matches!(s, "本站" | "本网" | "本网站" | "原创" | "网站" | "未知");
    let tagged = head
        .content_source
        .clone()
        .filter(|s| !says_nothing(s) && head.site_name.as_deref() != Some(s));
    let printed = SOURCE_LABELS
        .iter()
        .filter_map(|l| meta.fields.get(*l))
        .find(|s| !says_nothing(s))
        .cloned();
    // the meta tag, unless the printed line says more (`浙江` beside a
    // printed `浙江监管局`)
    let source = match (tagged, printed) {
        (Some(t), Some(p)) if p.len() > t.len() && p.contains(&t) => Some(p),
        (tagged, printed) => tagged.or(printed),
    };

    // Attachments from the body and around it; a trailing attachment block
    // leaves the body.
    let files = collect_attachments(cleaned, &body, base, &mut warnings);
    drop_attachment_block(blocks, &mut body);

    let paragraphs: Vec<String> = body.iter().map(|&i| blocks[i].text.clone()).collect();
    if paragraphs.is_empty() {
        warnings.push("no document text found on the page".to_owned());
    }
    Record {
        schema: SCHEMA_VERSION,
        url,
        title,
        published,
        source,
        meta: meta.fields,
        attachments: files.list,
        sections: crate::record::build_sections(&paragraphs),
        text: paragraphs.join("\n"),
        warnings,
    }
}

/// The record's URL (the caller's, the page's canonical link, where it was
/// read from) and the base that relative links resolve against.
fn page_url(head: &HeadMeta, page: &Page<'_>) -> (String, Option<Url>) {
    let url = page
        .url
        .map(str::to_owned)
        .or_else(|| absolute_http(head.canonical.as_deref()))
        .or_else(|| page.location.map(str::to_owned))
        .unwrap_or_else(|| NO_URL.to_owned());
    let base = Url::parse(&url)
        .ok()
        .map(|u| match head.base_href.as_deref() {
            Some(b) => u.join(b).unwrap_or(u),
            None => u,
        });
    (url, base)
}

/// A title from a meta tag without the site's name after it
/// (`…的通知_某某市人民政府`, when `SiteName` is `某某市人民政府`). Only the
/// named site goes: a title's own `-` or `_` (`2021-2025年规划`) stays.
fn without_site_name(title: &str, site: Option<&str>) -> String {
    let stripped = site.filter(|s| !s.is_empty()).and_then(|s| {
        let rest = title.strip_suffix(s)?.trim_end();
        let rest = rest.trim_end_matches(['_', '-', '|', '｜', '－', '—', ' ']);
        (rest.chars().count() >= 4).then_some(rest)
    });
    stripped.unwrap_or(title).trim().to_owned()
}

/// A title without the bracketed tag a trading centre or a column puts
/// before it (`【湖北省中心】（…）…招标资格预审公告`, `【政策解读】…`): a label
/// of the list the notice is filed in, not part of its name.
fn without_tag(title: &str) -> String {
    let tagged = title.strip_prefix('【').and_then(|rest| {
        let (tag, name) = rest.split_once('】')?;
        let name = name.trim();
        ((1..=12).contains(&tag.chars().count()) && name.chars().count() >= 4).then_some(name)
    });
    tagged.unwrap_or(title).to_owned()
}

/// A line that is only a document number (`某政办发〔2024〕15号`).
fn document_number(text: &str) -> Option<String> {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^[\p{Han}]{1,12}\s*[〔\[［(（]\s*(19|20)\d{2}\s*[〕\]］)）]\s*\d{1,5}\s*号$",
        )
        .expect("static regex")
    });
    let text = text.trim();
    RE.is_match(text).then(|| text.to_owned())
}

/// A tab strip opening the body (`招标公告`, `变更公告`, `中标结果公示`: the
/// list items a trading centre's notice page switches between, in the same
/// container as the notice) is not body: three list items or more of one
/// list, each a short label, before anything else.
fn drop_leading_tabs(blocks: &[Block], body: &mut Vec<usize>) {
    let tab = |i: usize| {
        let b = &blocks[i];
        b.item
            && (2..=10).contains(&b.text.chars().count())
            && !b.text.contains(['，', '。', '：', ':', '；', ',', '.'])
    };
    let list = |i: usize| blocks[i].path.iter().rev().nth(1).copied();
    let Some(&first) = body.first() else {
        return;
    };
    let run = body
        .iter()
        .take_while(|&&i| tab(i) && list(i) == list(first))
        .count();
    if run >= 3 && run < body.len() {
        body.drain(..run);
    }
}

/// Labels of a 信息公开 table's title row.
const TITLE_LABELS: &[&str] = &["标题", "信息名称", "文件名称", "名称"];

/// The title a 信息公开 table's labelled row holds (`标　题：…`, `名　　称：…`),
/// when it beats what was found: a title taken from `<title>` (no block
/// printed it), or the row itself read as a line (label, separator and all).
fn title_row(meta: &Metadata, found: Option<&title::Title>) -> Option<String> {
    let row = meta
        .get_any(TITLE_LABELS)
        .filter(|t| t.chars().count() >= 4)?;
    let beats = found.is_none_or(|f| f.block.is_none() || (f.text != row && f.text.contains(row)));
    beats.then(|| row.to_owned())
}

/// The title printed again at the top of the body is not body.
fn drop_printed_title(blocks: &[Block], body: &mut Vec<usize>, title: &str) {
    let title = squeeze(title);
    // the title as one line or broken over up to three, once
    for start in 0..body.len().min(3) {
        let mut printed = String::new();
        for end in start..body.len().min(start + 3) {
            printed.push_str(&squeeze(&blocks[body[end]].text));
            if printed == title {
                body.drain(start..=end);
                return;
            }
            if !title.starts_with(&printed) {
                break;
            }
        }
    }
}

/// File links in the body and in the non-boilerplate blocks around it.
fn collect_attachments(
    cleaned: &Cleaned,
    body: &[usize],
    base: Option<Url>,
    warnings: &mut Vec<String>,
) -> Attachments {
    let (first, last) = (
        body.first().copied().unwrap_or(0),
        body.last().copied().unwrap_or(0),
    );
    let mut files = Attachments::new(base);
    let near = first.saturating_sub(AROUND)..(last + 1 + AROUND).min(cleaned.blocks.len());
    for i in near {
        if body.contains(&i) || !cleaned.boilerplate[i] {
            cleaned.blocks[i].links.iter().for_each(|l| files.add(l));
        }
    }
    if files.unresolved > 0 {
        warnings.push(format!(
            "{} relative attachment link(s) could not be made absolute: pass the page's URL with --url",
            files.unresolved
        ));
    }
    files
}

fn absolute_http(href: Option<&str>) -> Option<String> {
    let u = Url::parse(href?).ok()?;
    matches!(u.scheme(), "http" | "https").then(|| u.to_string())
}

/// The normalized text of the first element a site rule selects.
fn select_text(html: &Html, selector: Option<&scraper::Selector>) -> Option<String> {
    let el = html.select(selector?).next()?;
    let text = normalize_text(&el.text().collect::<String>());
    (!text.is_empty()).then_some(text)
}

/// Read every 信息公开 table (most rows known labels and their values), and
/// a summary table above the text whose labels are the page's own (see
/// [`Metadata::read_summary_table`]) before the body's first block that is
/// not a table row. Returns the indices of their rows, which
/// are metadata and not body.
fn read_meta_tables(
    blocks: &[Block],
    boilerplate: &[bool],
    body: &[usize],
    meta: &mut Metadata,
) -> HashSet<usize> {
    let first_text = body
        .iter()
        .copied()
        .find(|&i| blocks[i].kind != BlockKind::Row)
        .unwrap_or(blocks.len());
    let tables: BTreeSet<_> = blocks.iter().filter_map(|b| b.table).collect();
    let mut rows = HashSet::new();
    for table in tables {
        let members: Vec<usize> = (0..blocks.len())
            .filter(|&i| blocks[i].table == Some(table) && !boilerplate[i])
            .collect();
        let mut probe = Metadata::default();
        let meta_rows = members
            .iter()
            .filter(|&&i| probe.read_row(&blocks[i].cells))
            .count();
        // two thirds of the rows, and more than one field: a data table in the
        // body with a 名称 column header is not a metadata table
        if meta_rows * 3 >= members.len() * 2 && probe.fields.len() >= 2 {
            for &i in &members {
                meta.read_row(&blocks[i].cells);
            }
            rows.extend(members);
        } else if members.last().is_some_and(|&last| last < first_text) {
            // a summary table above the text, with labels of its own
            let cells: Vec<&[String]> = members.iter().map(|&i| &blocks[i].cells[..]).collect();
            if meta.read_summary_table(&cells) {
                rows.extend(members);
            }
        }
    }
    rows
}

/// Take metadata lines off the start and end of the body. Returns the
/// blocks taken.
fn take_meta_edges(blocks: &[Block], body: &mut Vec<usize>, meta: &mut Metadata) -> Vec<usize> {
    let mut taken = Vec::new();
    while let Some(&i) = body.first() {
        if blocks[i].kind == BlockKind::Row
            || !read_meta(blocks, i, body.get(1).copied(), meta, &mut taken)
        {
            break;
        }
        body.retain(|j| !taken.contains(j));
    }
    while let Some(&i) = body.last() {
        if blocks[i].kind == BlockKind::Row {
            break;
        }
        let mut probe = Metadata::default();
        // a notice's closing contact lines are its text
        if is_contact_line(&blocks[i].text) {
            break;
        }
        if probe.read_line(&blocks[i].text) {
            meta.read_line(&blocks[i].text);
            taken.push(i);
            body.pop();
            continue;
        }
        // a label and its value on lines of their own (`<dt>发布日期</dt>
        // <dd>2024-02-08</dd>` under the text)
        let label = body.len().checked_sub(2).map(|k| body[k]);
        match label {
            Some(l)
                if blocks[l].kind != BlockKind::Row
                    && probe.read_pair(&blocks[l].text, &blocks[i].text) =>
            {
                meta.read_pair(&blocks[l].text, &blocks[i].text);
                taken.extend([l, i]);
                body.truncate(body.len() - 2);
            }
            _ => break,
        }
    }
    taken
}

/// Read block `i` as a metadata line, or as a label whose value is block
/// `next`; records what it took in `taken`.
fn read_meta(
    blocks: &[Block],
    i: usize,
    next: Option<usize>,
    meta: &mut Metadata,
    taken: &mut Vec<usize>,
) -> bool {
    // a label alone (`<label>索 引 号：</label><div>…</div>`) is a line
    // with nothing in it: its value is the next block
    if let Some(n) = next
        && meta.read_pair(&blocks[i].text, &blocks[n].text)
    {
        taken.extend([i, n]);
        return true;
    }
    if meta.read_line(&blocks[i].text) {
        taken.push(i);
        return true;
    }
    false
}

fn read_meta_lines(
    blocks: &[Block],
    order: impl Iterator<Item = usize>,
    skip: &HashSet<usize>,
    meta: &mut Metadata,
) {
    let mut taken = Vec::new();
    for i in order {
        if skip.contains(&i) || taken.contains(&i) {
            continue;
        }
        read_meta(
            blocks,
            i,
            blocks.get(i + 1).map(|_| i + 1),
            meta,
            &mut taken,
        );
    }
}

/// A short line opening the body with a date and no label (`2024年04月08日
/// 某某镇党政办公室`, under a title printed in the body) is the info line.
fn take_date_line(blocks: &[Block], body: &mut Vec<usize>) -> Option<usize> {
    let &first = body.first()?;
    let text = &blocks[first].text;
    let opens_with_date = find_date(text).is_some()
        && text.chars().count() <= 40
        && text.starts_with(|c: char| c.is_ascii_digit() || c == '[' || c == '【');
    // a news lead (`2024年3月1日上午，全市…`) is a sentence: commas or a stop
    (opens_with_date && !text.contains(['。', '，', ','])).then(|| body.remove(0))
}

/// A date printed without a label between the title and the body
/// (`2021-03-30 10:20 来源：…`).
fn date_near_title(
    blocks: &[Block],
    title: Option<usize>,
    first_body: usize,
    edge: &[usize],
) -> Option<String> {
    let start = title.map_or(first_body.saturating_sub(3), |t| t + 1);
    (start..first_body)
        .chain(edge.iter().copied())
        .filter(|&i| blocks.get(i).is_some_and(|b| b.text.chars().count() <= 80))
        .find_map(|i| find_date(&blocks[i].text))
}

/// A blog's or forum's post line around the text (`posted @ 2005-07-31`,
/// `发表于 2005-7-31`): the blocks before the body and after it.
fn post_date_near(blocks: &[Block], first_body: usize, last_body: usize) -> Option<String> {
    (first_body.saturating_sub(AROUND)..first_body)
        .chain(last_body + 1..(last_body + 1 + AROUND).min(blocks.len()))
        .filter(|&i| blocks[i].text.chars().count() <= 120)
        .find_map(|i| post_date(&blocks[i].text))
}

/// The date of the body's signature block: a short line that is only a
/// date, among the body's last lines (`某某县人民政府办公室` / `2023年3月10日`).
fn signature_date(blocks: &[Block], body: &[usize]) -> Option<String> {
    body.iter().rev().take(4).find_map(|&i| {
        let text = squeeze(&blocks[i].text);
        let n = text.chars().count();
        if (8..=16).contains(&n) {
            find_date(&text)
        } else {
            None
        }
    })
}

/// Remove link-only lines to files (and their `附件：` label) from the body:
/// they are the attachment block, already in `attachments`.
fn drop_attachment_block(blocks: &[Block], body: &mut Vec<usize>) {
    let is_file_line = |b: &Block| {
        !b.links.is_empty() && b.other_links == 0 && b.chars.saturating_sub(b.link_chars) <= 8
    };
    let is_label = |b: &Block| {
        let s = squeeze(&b.text);
        matches!(
            s.trim_end_matches(['：', ':']),
            "附件" | "相关附件" | "附件下载" | "下载附件"
        )
    };
    let mut drop = HashSet::new();
    for (k, &i) in body.iter().enumerate() {
        if is_file_line(&blocks[i]) {
            drop.insert(i);
            if let Some(&prev) = k.checked_sub(1).and_then(|p| body.get(p))
                && is_label(&blocks[prev])
            {
                drop.insert(prev);
            }
        }
    }
    body.retain(|i| !drop.contains(i));
}
