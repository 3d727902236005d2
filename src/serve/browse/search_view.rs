//! The search page (`/search?q=`, SPEC §13): the form, the hits with their
//! matches marked, the facets as filters, and the next page.
//!
//! A hit's snippet comes HTML-escaped with `<mark>`s from the search; it is
//! split at its marks and unescaped here, so that maud escapes every piece
//! again and nothing archived is ever written unescaped.

use super::views::{layout, page_href, q};
use crate::search::{SearchAnswer, SearchHit, SearchRequest, snippet_pieces as pieces};
use maud::{Markup, html};
use std::fmt::Write;

/// The search form, as the header and the search page show it.
pub(super) fn form(request: Option<&SearchRequest>) -> Markup {
    let query = request.map_or("", |r| r.query.as_str());
    let all = request.is_some_and(|r| r.all_versions);
    html! {
        form.search method="get" action="/search" role="search" {
            input type="search" name="q" value=(query) placeholder="全文检索：标题、正文、文号、索引号" aria-label="全文检索";
            @if let Some(site) = request.and_then(|r| r.site.as_deref()) { input type="hidden" name="site" value=(site); }
            label.versions { input type="checkbox" name="versions" value="all" checked[all]; " 含历史版本" }
            button type="submit" { "搜索" }
        }
    }
}

/// A link to this search with other filters or another page.
fn href(
    request: &SearchRequest,
    site: Option<&str>,
    year: Option<&str>,
    cursor: Option<&str>,
) -> String {
    let mut href = format!("/search?q={}", q(&request.query));
    if let Some(site) = site.or(request.site.as_deref()) {
        let _ = write!(href, "&site={}", q(site));
    }
    match year {
        Some(y) => {
            let _ = write!(href, "&from={y}-01-01&to={y}-12-31");
        }
        None => {
            for (name, value) in [("from", &request.from), ("to", &request.to)] {
                if let Some(v) = value {
                    let _ = write!(href, "&{name}={}", q(v));
                }
            }
        }
    }
    if request.all_versions {
        href.push_str("&versions=all");
    }
    if let Some(c) = cursor {
        let _ = write!(href, "&cursor={}", q(c));
    }
    href
}

fn hit(h: &SearchHit) -> Markup {
    html! {
        li.hit {
            a.title href=(page_href(&h.url, Some(h.version))) { (h.title.as_deref().unwrap_or(&h.url)) }
            div.muted {
                @if h.kind == "attachment" { span.badge { "附件" } " " }
                @if h.gone { span.badge.gone { "已删除" } " " }
                @if !h.latest { span.badge { "第 " (h.version) " 版（旧）" } " " }
                @if let Some(site) = &h.site { (site) " · " }
                @if let Some(p) = &h.published { (p) " · " }
                span.url { (h.url) }
            }
            p.snippet { @for (text, marked) in pieces(&h.snippet) {
                @if marked { mark { (text) } } @else { (text) }
            } }
        }
    }
}

pub(super) fn results(request: &SearchRequest, answer: Option<&SearchAnswer>) -> Markup {
    let crumbs = html! { a href="/" { "首页" } span { "检索" } };
    let body = html! {
        h1 { "全文检索" }
        (form(Some(request)))
        @if let Some(answer) = answer {
            p.muted { "共 " (answer.total) " 条" @if request.all_versions { "（含历史版本）" } }
            @if answer.total > 0 { div.facets {
                div { "站点：" @for (site, n) in &answer.facets.site {
                    a href=(href(request, Some(site), None, None)) { (site) " (" (n) ")" } " "
                } }
                div { "年份：" @for (year, n) in answer.facets.year.iter().rev() {
                    a href=(href(request, None, Some(year), None)) { (year) " (" (n) ")" } " "
                } }
            } }
            ol.hits { @for h in &answer.hits { (hit(h)) } }
            div.pager { @if let Some(c) = &answer.next_cursor {
                a href=(href(request, None, None, Some(c))) { "下一页 →" }
            } }
        }
    };
    let title = if request.query.is_empty() {
        "检索".to_owned()
    } else {
        format!("检索：{}", request.query)
    };
    layout(&title, &crumbs, &body)
}
