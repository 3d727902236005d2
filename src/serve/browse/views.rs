//! The browse pages' HTML, written with maud: the templates are Rust,
//! checked when the crate compiles, and every value is escaped unless it is
//! wrapped in `PreEscaped` (which nothing here does with archived text).
//! The views take plain data and do no I/O.

use super::super::api::SiteRow;
use crate::record::diff::{FieldChange, Hunk, Line, SegmentKind};
use crate::record::render::marker;
use crate::record::{Record, Section};
use crate::store::{Change, ChangeCursor, Event, EventKind, PageState, PageStatus, human_bytes};
use maud::{DOCTYPE, Markup, html};
use std::fmt::Write;

/// A link's query value, percent-encoded.
pub(super) fn q(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Where a site's Atom feed is.
pub(super) fn feed_href(site: &str) -> String {
    format!("/site/{}/feed.atom", q(site))
}

pub(super) fn page_href(url: &str, version: Option<u32>) -> String {
    let mut href = format!("/page?url={}", q(url));
    if let Some(n) = version {
        let _ = write!(href, "&version={n}");
    }
    href
}

pub(super) fn diff_href(url: &str, from: u32, to: u32) -> String {
    format!("/diff?url={}&from={from}&to={to}", q(url))
}

fn raw_href(url: &str, version: u32) -> String {
    format!("/api/v1/raw?url={}&version={version}", q(url))
}

/// `2026-11-28T10:26:33.741Z` as a person reads it: `2026-11-28 10:26`.
fn when(t: &str) -> String {
    t.get(..16)
        .map_or_else(|| t.to_owned(), |s| s.replace('T', " "))
}

/// Every page: the document, the header with the way home, the stylesheet.
pub(super) fn layout(title: &str, crumbs: &Markup, body: &Markup) -> Markup {
    layout_with_feed(title, crumbs, body, None)
}

/// [`layout`], naming a feed of the page's own beside the archive's.
fn layout_with_feed(
    title: &str,
    crumbs: &Markup,
    body: &Markup,
    feed: Option<(&str, &str)>,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) " · govsnap" }
                link rel="stylesheet" href="/style.css";
                link rel="alternate" type="application/atom+xml" title="最新变化" href="/changes.atom";
                @if let Some((href, name)) = feed {
                    link rel="alternate" type="application/atom+xml" title=(name) href=(href);
                }
                // no favicon request (and no 404 in the console)
                link rel="icon" href="data:,";
            }
            body {
                header.top { div.inner {
                    a.brand href="/" { "govsnap 政府信息公开存档" }
                    nav { a href="/" { "站点" } a href="/changes" { "最新变化" } a href="/search" { "检索" } }
                } }
                main {
                    nav.crumbs aria-label="位置" { (crumbs) }
                    (body)
                }
                footer { "时间均为 UTC。原始网页只提供下载，不在本站打开。" }
            }
        }
    }
}

fn home_crumb() -> Markup {
    html! { a href="/" { "首页" } }
}

/// The home page: every site, and a warning when the store's disk has
/// less than `[store] min_free` left (`low`: free and `min_free` bytes).
pub(super) fn home(sites: &[SiteRow], low: Option<(u64, u64)>) -> Markup {
    let body = html! {
        @if let Some((free, min_free)) = low {
            div.error role="alert" {
                "存储所在磁盘剩余空间不足：" (human_bytes(free)) "，低于 [store] min_free（"
                (human_bytes(min_free)) "）。剩余不到一半时采集暂停，已保存的内容不受影响；请释放空间。"
            }
        }
        h1 { "站点" }
        div.table-wrap { table {
            thead { tr {
                th { "站点" } th { "文件" } th { "已删除" } th.hide-narrow { "计划" }
                th { "上次采集" } th { "下次采集" } th { "状态" }
            } }
            tbody { @for s in sites { tr {
                td { a href={ "/site/" (q(&s.name)) } { (s.name) } }
                td.num { (s.documents) }
                td.num { (s.gone) }
                td.hide-narrow { (s.schedule.as_deref().unwrap_or("按需")) }
                td.when { @match &s.last_crawl {
                    Some(c) => { (when(&c.started)) @if let Some(summary) = &c.summary {
                        br; span.muted { "新版本 " (summary["new_versions"]) " · 错误 " (summary["errors"]) }
                    } },
                    None => span.muted { "从未" },
                } }
                td.when { (s.next_crawl.as_deref().map_or_else(|| "—".to_owned(), when)) }
                td {
                    @if s.crawling { span.badge.busy { "正在采集" } }
                    @if let Some(e) = &s.last_error { div.error { (e) } }
                    @if let Some(retry) = &s.retry_at {
                        div.muted { "无法访问（连续 " (s.unreached) " 次），" (when(retry)) " 重试" }
                    }
                    @if let Some(why) = &s.tls_invalid {
                        div.muted title=(why) { "证书无效，已照常存档：" (why) }
                    }
                }
            } } }
        } }
    };
    layout("站点", &home_crumb(), &body)
}

/// A list of changes, newest first.
fn change_rows(rows: &[Change], with_site: bool) -> Markup {
    html! {
        div.table-wrap { table {
            thead { tr {
                th { "时间" } @if with_site { th { "站点" } } th { "文件" } th { "变化" }
            } }
            tbody { @for c in rows {
                tr {
                    td.when { (when(&c.fetched_at)) }
                    @if with_site { td { @if let Some(site) = &c.site {
                        a href={ "/site/" (q(site)) } { (site) }
                    } } }
                    td {
                        a href=(page_href(&c.url, None)) { (c.title.as_deref().unwrap_or(&c.url)) }
                        div.muted.url { (c.url) }
                    }
                    td { @match (c.kind, c.version) {
                        (EventKind::Gone, _) => span.badge.gone { "已删除" },
                        (EventKind::Version, Some(1)) => span.badge.new { "新文件" },
                        (EventKind::Version, Some(n)) => {
                            span.badge { "第 " (n) " 版" } " "
                            a href=(diff_href(&c.url, n - 1, n)) { "比较" }
                        },
                        (EventKind::Version, None) => span.badge { "新版本" },
                        (EventKind::Alias, _) => span.badge { "别名" },
                    } }
                }
            } }
        } }
    }
}

pub(super) fn site(
    name: &str,
    filter: &str,
    rows: &[Change],
    older: Option<ChangeCursor>,
) -> Markup {
    let crumbs = html! { (home_crumb()) span { (name) } };
    let feed = feed_href(name);
    let body = html! {
        h1 { (name) }
        form.filter method="get" action={ "/site/" (q(name)) } role="search" {
            input type="search" name="q" value=(filter) placeholder="按标题或网址筛选" aria-label="按标题或网址筛选";
            button type="submit" { "筛选" }
        }
        @if rows.is_empty() {
            p.muted { "没有符合条件的文件。" }
        } @else {
            (change_rows(rows, false))
        }
        div.pager { @if let Some(c) = older {
            a href={ "/site/" (q(name)) "?q=" (q(filter)) "&before=" (c) } { "更早 →" }
        } }
        // a POST, so it needs the service's token (SPEC §9), typed here:
        // a browser sends no Authorization header from a form
        form.crawl method="post" action={ "/site/" (q(name)) "/crawl" } {
            input type="hidden" name="full" value="true";
            label { "令牌 " input type="password" name="token" required autocomplete="off" placeholder="serve.token"; }
            button type="submit" { "全面检查：重新访问所有已知文件" }
        }
        p.muted { a href=(feed) { "订阅此站点的变化（Atom）" } }
    };
    let feed_name = format!("{name} 的最新变化");
    layout_with_feed(name, &crumbs, &body, Some((&feed, &feed_name)))
}

pub(super) fn changes(rows: &[Change], older: Option<ChangeCursor>) -> Markup {
    let crumbs = html! { (home_crumb()) span { "最新变化" } };
    let body = html! {
        h1 { "最新变化" }
        p.muted { "所有站点的新版本和删除记录，最新的在前。" }
        (change_rows(rows, true))
        div.pager { @if let Some(c) = older {
            a href={ "/changes?before=" (c) } { "更早 →" }
        } }
    };
    layout("最新变化", &crumbs, &body)
}

fn sections(list: &[Section], text: &str) -> Markup {
    html! { @for s in list {
        section {
            @if s.level > 0 {
                @let number = s.number.as_deref().map(|n| marker(n, text));
                @let heading = html! {
                    @if let Some(m) = &number { span.num-mark { (m) } }
                    (s.heading.as_deref().unwrap_or(""))
                };
                @match s.level { 1 => h2 { (heading) }, 2 => h3 { (heading) }, 3 => h4 { (heading) }, 4 => h5 { (heading) }, _ => h6 { (heading) } }
            }
            @for p in &s.paragraphs { p { (p) } }
            (sections(&s.children, text))
        }
    } }
}

/// What `/page` shows.
pub(super) struct PageView<'a> {
    pub(super) page: &'a PageState,
    pub(super) events: &'a [Event],
    pub(super) version: u32,
    pub(super) fetched_at: &'a str,
    pub(super) record: &'a Record,
    /// What the store holds of each of the record's attachments, in order.
    pub(super) files: &'a [Option<ArchivedFile>],
    /// The page's own attachment record, when it is a file.
    pub(super) attachment: Option<&'a crate::attach::AttachmentRecord>,
}

/// A file a page links, as the store holds it.
pub(super) struct ArchivedFile {
    /// The URL it is stored under.
    pub(super) url: String,
    pub(super) versions: u32,
    /// Its latest version's record.
    pub(super) record: crate::attach::AttachmentRecord,
}

/// A size for people: `1.2 MB`, `34 KB`.
fn size(bytes: u64) -> String {
    crate::store::human_bytes(bytes)
}

pub(super) fn document(v: &PageView<'_>) -> Markup {
    let (page, r) = (v.page, v.record);
    let title = r.title.as_deref().unwrap_or(&page.url);
    let crumbs = html! {
        (home_crumb())
        @if let Some(site) = &page.site { a href={ "/site/" (q(site)) } { (site) } }
        span { (title) }
    };
    let body = html! {
        @if page.state == PageStatus::Gone {
            p.notice { "此网页已删除（最后一次采集：" (when(&page.last_fetched)) "，HTTP " (page.last_status) "）。以下是存档的版本。" }
        }
        @if v.version < page.versions {
            p.notice { "这是第 " (v.version) " 版，共 " (page.versions) " 版。"
                a href=(page_href(&page.url, None)) { "查看最新版" } }
        }
        h1 { (title) }
        div.meta-line {
            @if let Some(d) = &r.published { span { "发布日期：" (d) } }
            @if let Some(s) = &r.source { span { "来源：" (s) } }
            span { "采集于 " (when(v.fetched_at)) }
            span { "第 " (v.version) " / " (page.versions) " 版" }
        }
        p.muted.url { "原网址：" a href=(page.url) rel="noreferrer noopener" { (page.url) } }
        @if !r.meta.is_empty() {
            h2 { "元数据" }
            div.table-wrap { table.fields { tbody { @for (label, value) in &r.meta {
                tr { th scope="row" { (label) } td { (value) } }
            } } } }
        }
        @if let Some(file) = v.attachment {
            p.muted { "附件文件：" (file.format.to_uppercase()) "，" (size(file.bytes))
                @if let Some(n) = file.pages { "，" (n) " 页" }
                " · " a href=(raw_href(&page.url, v.version)) download { "下载文件" }
                @if !file.linked_from.is_empty() { " · 链接自 " a href=(page_href(&file.linked_from[0], None)) { (file.linked_from[0]) } } }
            @for w in &file.warnings { p.notice { (w) } }
        }
        @if !r.attachments.is_empty() {
            h2 { "附件" }
            ul { @for (a, file) in r.attachments.iter().zip(v.files) { li {
                @if let Some(f) = file {
                    a href=(page_href(&f.url, None)) { (a.name) }
                    " " span.muted { (f.record.format.to_uppercase()) " · " (size(f.record.bytes)) " · " (f.versions) " 版 · "
                        a href=(raw_href(&f.url, f.versions)) download { "下载" } }
                    @let first: String = f.record.text.lines().take(2).collect::<Vec<_>>().join(" ");
                    @if !first.is_empty() { div.muted { (first.chars().take(120).collect::<String>()) } }
                } @else {
                    a href=(a.url) rel="noreferrer noopener" { (a.name) } " " span.muted { "（未存档）" }
                }
            } } }
        }
        h2 { "正文" }
        article.record { (sections(&r.sections, &r.text)) }
        h2 { "版本与删除记录" }
        div.table-wrap { table {
            thead { tr { th { "时间" } th { "记录" } th { "标题" } th { "操作" } } }
            tbody { @for e in v.events.iter().rev() { tr {
                td.when { (when(&e.fetched_at)) }
                @match (e.kind, e.version) {
                    (EventKind::Version, Some(n)) => {
                        td { @if n == v.version { strong { "第 " (n) " 版" } } @else { "第 " (n) " 版" } }
                        td { (e.title.as_deref().unwrap_or("")) }
                        td {
                            a href=(page_href(&page.url, Some(n))) { "查看" }
                            @if n > 1 { " · " a href=(diff_href(&page.url, n - 1, n)) { "与上一版比较" } }
                            " · " a href=(raw_href(&page.url, n)) download { "下载原始网页" }
                        }
                    },
                    _ => {
                        td { span.badge.gone { "已删除" } }
                        td.muted { "HTTP " (e.status) }
                        td {}
                    },
                }
            } } }
        } }
    };
    layout(title, &crumbs, &body)
}

/// What `/diff` shows.
pub(super) struct DiffView<'a> {
    pub(super) page: &'a PageState,
    pub(super) title: &'a str,
    pub(super) from: (u32, &'a str),
    pub(super) to: (u32, &'a str),
    pub(super) fields: &'a [FieldChange],
    pub(super) hunks: &'a [Hunk],
}

fn hunk(h: &Hunk) -> Markup {
    html! { div.hunk {
        div.hunk-head { "第 " (h.old_start) " 段起 → 第 " (h.new_start) " 段起" }
        @for line in &h.lines { @match line {
            Line::Same(t) => p.same { (t) },
            Line::Removed(t) => p.removed { del { (t) } },
            Line::Added(t) => p.added { ins { (t) } },
            Line::Changed(segments) => p.changed { @for s in segments { @match s.kind {
                SegmentKind::Same => (s.text),
                SegmentKind::Removed => del { (s.text) },
                SegmentKind::Added => ins { (s.text) },
            } } },
        } }
    } }
}

pub(super) fn diff(v: &DiffView<'_>) -> Markup {
    let page = v.page;
    let crumbs = html! {
        (home_crumb())
        @if let Some(site) = &page.site { a href={ "/site/" (q(site)) } { (site) } }
        a href=(page_href(&page.url, None)) { (v.title) }
        span { "比较" }
    };
    let body = html! {
        h1 { (v.title) }
        p.meta-line {
            span { a href=(page_href(&page.url, Some(v.from.0))) { "第 " (v.from.0) " 版" } "（" (when(v.from.1)) "）" }
            span { "→" }
            span { a href=(page_href(&page.url, Some(v.to.0))) { "第 " (v.to.0) " 版" } "（" (when(v.to.1)) "）" }
        }
        div.pager {
            @if v.from.0 > 1 { a href=(diff_href(&page.url, v.from.0 - 1, v.from.0)) { "← 上一次变化" } }
            @if v.to.0 < page.versions { a href=(diff_href(&page.url, v.to.0, v.to.0 + 1)) { "下一次变化 →" } }
        }
        h2 { "元数据的变化" }
        @if v.fields.is_empty() { p.muted { "标题、日期、来源、元数据和附件都没有变化。" } } @else {
            div.table-wrap { table {
                thead { tr { th { "字段" } th { "旧" } th { "新" } } }
                tbody { @for f in v.fields { tr {
                    th scope="row" { (f.field) }
                    td { @if let Some(old) = &f.from { del { (old) } } @else { span.muted { "（无）" } } }
                    td { @if let Some(new) = &f.to { ins { (new) } } @else { span.muted { "（无）" } } }
                } } }
            } }
        }
        h2 { "正文的变化" }
        div.diff {
            @if v.hunks.is_empty() { p.muted { "正文没有变化。" } }
            @for h in v.hunks { (hunk(h)) }
        }
    };
    layout(&format!("比较 {}", v.title), &crumbs, &body)
}

pub(super) fn error(status: u16, message: &str) -> Markup {
    let body = html! {
        h1 { "出错了（" (status) "）" }
        p { (message) }
        p { a href="/" { "回到站点列表" } }
    };
    layout("出错了", &home_crumb(), &body)
}

/// A crawl asked for from the site page has started.
pub(super) fn crawl_started(name: &str, full: bool) -> Markup {
    let crumbs = html! { (home_crumb()) a href={ "/site/" (q(name)) } { (name) } span { "采集" } };
    let body = html! {
        h1 { (name) }
        p { @if full { "已开始全面检查：重新访问所有已知文件。" } @else { "已开始采集。" } }
        p { a href={ "/site/" (q(name)) } { "返回站点" } }
    };
    layout(name, &crumbs, &body)
}
