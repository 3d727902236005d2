//! The layouts the third extraction round found wrong (issue 35): each
//! fixture under `tests/fixtures/round3/` is a realistic page of one class,
//! written for these tests (invented text, real templates), and each test
//! names what the record must hold.

mod common;

use govsnap::{ExtractOptions, Page, Record, extract};

fn record(name: &str, url: &str) -> Record {
    let bytes = std::fs::read(common::fixtures_dir().join("round3").join(name)).unwrap();
    let page = Page {
        bytes: &bytes,
        url: Some(url),
        ..Page::default()
    };
    extract(&page, None, ExtractOptions::default()).unwrap()
}

/// `<p align=center><strong>…常务委员会<br>关于…<br>…的决议</strong><br>（…通过）</p>`
#[test]
fn a_resolution_title_broken_by_br_in_one_bold_paragraph_is_one_title() {
    let r = record(
        "resolution-title-br.html",
        "http://www.gov.cn/gongbao/content/2007/content_10003.htm",
    );
    assert_eq!(
        r.title.as_deref(),
        Some(
            "全国人民代表大会常务委员会关于批准《中华人民共和国和某某共和国关于刑事司法协助的条约》的决议"
        )
    );
    // the adoption line after </strong> stays, and opens the body
    assert!(
        r.text.starts_with(
            "（2007年6月29日第十届全国人民代表大会常务委员会第二十八次会议通过）\n第十届"
        ),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains("关于刑事司法协助的条约》的决议"),
        "{}",
        r.text
    );
}

/// `<dl><dd><label><font>索 引 号：</font></label><div>…</div></dd>…`, and a
/// `PubDate` meta tag that is the page's later update.
#[test]
fn label_and_div_pairs_of_a_definition_list_are_metadata_and_their_date_wins() {
    let r = record(
        "xxgk-dl-label-div.html",
        "http://www.example-city.gov.cn/art/2023/5/16/art_13214_10287654.html",
    );
    let field = |label: &str| r.meta.get(label).map(String::as_str);
    assert_eq!(field("索引号"), Some("11370100004253012P/2023-00118"));
    assert_eq!(field("发布机构"), Some("某某市人民政府办公室"));
    assert_eq!(field("发文日期"), Some("2023-05-16"));
    assert_eq!(field("公开方式"), Some("主动公开"));
    assert_eq!(field("公开时限"), Some("常年公开"));
    assert_eq!(field("公开范围"), Some("面向社会"));
    assert_eq!(field("分类"), Some("综合政务\\通知"));
    assert_eq!(
        r.published.as_deref(),
        Some("2023-05-16"),
        "not PubDate's 2023-06-02"
    );
    assert!(
        r.text.starts_with("某政发〔2023〕7号\n各区县人民政府"),
        "{}",
        r.text
    );
}

/// `<span>来源：某某县政府网站</span>` beside the date, the site's own name.
#[test]
fn a_printed_source_that_names_the_site_is_the_source() {
    let r = record(
        "source-is-site-name.html",
        "http://www.mmx.gov.cn/zwgk/tzgg/202402/t20240219_1234567.html",
    );
    assert_eq!(r.source.as_deref(), Some("某某县政府网站"));
    assert_eq!(
        r.meta.get("来源").map(String::as_str),
        Some("某某县政府网站")
    );
    assert_eq!(r.meta.get("责任编辑").map(String::as_str), Some("李某某"));
    assert_eq!(r.published.as_deref(), Some("2024-02-19"));
}

/// A ccgp-style 成交公告: its summary table (four cells a row, section rows
/// between) is metadata, and its 公告时间 the date; the URL has none.
#[test]
fn a_procurement_notices_summary_table_is_metadata_and_dates_it() {
    let r = record(
        "ccgp-deal-notice.html",
        "http://www.ccgp.gov.cn/cggg/dfgg/cjgg/detail.htm?id=16412345",
    );
    let field = |label: &str| r.meta.get(label).map(String::as_str);
    assert_eq!(
        field("采购项目名称"),
        Some("某某大学实验室仪器设备采购项目")
    );
    assert_eq!(field("行政区域"), Some("某某市"));
    assert_eq!(field("公告时间"), Some("2021年06月10日 17:35"));
    assert_eq!(field("采购单位"), Some("某某大学"));
    assert_eq!(field("项目联系电话"), Some("010-12345678"));
    assert_eq!(r.published.as_deref(), Some("2021-06-10"));
    assert!(
        r.text.starts_with("一、项目编号：MMDX-2021-CG-0315"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("公告概要"), "{}", r.text);
}

/// A provincial trading centre's notice: `【湖北省中心】` before the title,
/// and the tab strip and related-notice lists in the notice's container.
#[test]
fn a_bracketed_tag_is_no_part_of_the_title_and_tabs_are_no_part_of_the_text() {
    let r = record(
        "trading-notice-tabs.html",
        "https://www.hbggzyfwpt.cn/jyxx/jsgcZbgg/detail?guid=7f3a2c",
    );
    assert_eq!(
        r.title.as_deref(),
        Some("（某某至某某高速公路）某某段路面工程施工招标资格预审公告")
    );
    assert_eq!(r.published.as_deref(), Some("2024-04-12"));
    assert_eq!(r.source.as_deref(), Some("湖北省公共资源交易中心"));
    assert!(r.text.starts_with("1. 招标条件\n"), "{}", r.text);
    assert!(
        r.text
            .ends_with("招标代理机构：湖北某某工程咨询有限公司 联系人：周某某 电话：027-87654321"),
        "{}",
        r.text
    );
    for boilerplate in [
        "招标公告",
        "变更公告",
        "开标记录",
        "中标候选人公示",
        "中标结果公示",
        "【湖北省中心】",
        "发布时间",
        "相关公告",
        "同类项目",
        "【武汉市】",
        "【襄阳市】",
        "分享到",
        "鄂ICP备",
    ] {
        assert!(!r.text.contains(boilerplate), "{boilerplate} in {}", r.text);
    }
}

/// A blog post that prints no date: its URL's path dates it, unless the
/// path's date is yet to come.
#[test]
fn a_page_with_no_date_takes_its_urls_path_date_and_never_a_future_one() {
    for (url, want) in [
        (
            "https://www.cnblogs.com/someone/archive/2005/07/31/204050.html",
            Some("2005-07-31"),
        ),
        (
            "http://blog.example.com.cn/u/050404/88.html",
            Some("2005-04-04"),
        ),
        ("https://www.cnblogs.com/someone/p/204050.html", None),
        (
            "https://www.cnblogs.com/someone/archive/2099/07/31/204050.html",
            None,
        ),
    ] {
        let r = record("blog-no-date.html", url);
        assert_eq!(r.published.as_deref(), want, "{url}");
    }
}

/// `posted @ 2005-07-31 10:00` under a blog post, `发表于 2005-7-31 10:22`
/// over a forum's first post (GBK, as Discuz serves it): the page's own
/// date, which beats a date in the URL.
#[test]
fn a_posts_own_line_dates_it_before_its_url_does() {
    let r = record(
        "blog-posted-at.html",
        "https://www.cnblogs.com/someone/archive/2006/01/01/204050.html",
    );
    assert_eq!(r.published.as_deref(), Some("2005-07-31"));
    assert!(!r.text.contains("posted @"), "{}", r.text);
    let r = record(
        "forum-thread.html",
        "http://bbs.example.com.cn/thread-5678-1-1.html",
    );
    assert_eq!(r.published.as_deref(), Some("2005-07-31"));
    assert_eq!(
        r.title.as_deref(),
        Some("请教：政府信息公开申请被告知“信息不存在”怎么办？")
    );
}

/// The same notice with its text in a container of its own: the contact
/// lines that close it (`招标人：…　联系人：孙某某　电话：…`) are its text,
/// not metadata taken off its end.
#[test]
fn a_notices_closing_contact_lines_stay_in_its_text() {
    let html =
        std::fs::read_to_string(common::fixtures_dir().join("round3/trading-notice-tabs.html"))
            .unwrap()
            .replacen(
                "<p>1. 招标条件</p>",
                "<div class=\"detail-con\"><p>1. 招标条件</p>",
                1,
            )
            .replacen("027-87654321</p>", "027-87654321</p></div>", 1);
    let page = Page {
        bytes: html.as_bytes(),
        url: Some("https://www.hbggzyfwpt.cn/jyxx/jsgcZbgg/detail?guid=7f3a2c"),
        ..Page::default()
    };
    let r = extract(&page, None, ExtractOptions::default()).unwrap();
    assert!(
        r.text.ends_with(
            "6. 联系方式\n招标人：湖北某某高速公路有限公司 联系人：孙某某 电话：027-12345678\n\
             招标代理机构：湖北某某工程咨询有限公司 联系人：周某某 电话：027-87654321"
        ),
        "{}",
        r.text
    );
}
