//! Every field right on the page classes the second extraction round found
//! wrong (issues 15 and 18): each fixture under `tests/fixtures/round2/` is
//! a realistic page of one class, and each test names what the record must
//! hold. The pages were written for these tests (their text is invented,
//! their templates and encodings are the real ones).

mod common;

use govsnap::{ExtractOptions, Page, Record, extract};

fn record(name: &str, url: &str, content_type: Option<&str>) -> Record {
    let bytes = std::fs::read(common::fixtures_dir().join("round2").join(name)).unwrap();
    let page = Page {
        bytes: &bytes,
        url: Some(url),
        content_type,
        ..Page::default()
    };
    extract(&page, None, ExtractOptions::default()).unwrap()
}

/// Tomcat's default `ISO-8859-1` over GBK bytes whose `<meta>` says gb2312.
#[test]
fn a_single_byte_http_charset_is_overruled_by_the_pages_own_cjk_encoding() {
    let r = record(
        "tomcat-latin1-over-gbk.html",
        "http://nyj.example.gov.cn/tzgg/detail.jsp?id=1024",
        Some("text/html;charset=ISO-8859-1"),
    );
    assert_eq!(
        r.title.as_deref(),
        Some("关于开展2024年度农村集体经济组织财务审计工作的通知")
    );
    assert_eq!(r.source.as_deref(), Some("县农业农村局"));
    assert!(
        r.text.starts_with("各乡镇人民政府、街道办事处："),
        "{}",
        r.text
    );
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("ISO-8859-1") && w.contains("GBK")),
        "{:?}",
        r.warnings
    );
}

/// `主标题<div>——副标题</div>` in the ArticleTitle meta tag and the `<h1>`.
#[test]
fn a_subtitle_in_a_nested_element_is_joined_as_printed_without_markup() {
    let r = record(
        "subtitle-in-nested-div.html",
        "http://www.example.gov.cn/gzdt/202406/t20240618_1.html",
        None,
    );
    assert_eq!(
        r.title.as_deref(),
        Some("坚持人民至上 守护一方平安——某某市公安局开展“百日行动”工作综述")
    );
    assert!(!r.text.contains("守护一方平安"), "the title left the body");
    assert!(r.text.starts_with("今年以来"), "{}", r.text);
}

/// A resolution title broken by `<br>` inside its heading.
#[test]
fn a_title_broken_over_lines_is_whole_and_leaves_the_body_once() {
    let r = record(
        "resolution-title-broken-line.html",
        "http://rd.example.gov.cn/jyjd/202407/t20240726_2.html",
        None,
    );
    assert_eq!(
        r.title.as_deref(),
        Some("某某市人民代表大会常务委员会关于批准某某市2023年市级决算的决议")
    );
    assert_eq!(r.published.as_deref(), Some("2024-07-26"));
    assert!(
        !r.text.contains("关于批准某某市2023年市级决算的决议"),
        "{}",
        r.text
    );
    // the adoption line under the title is the document's, as printed
    assert!(
        r.text.starts_with("（2024年7月26日某某市第十七届"),
        "{}",
        r.text
    );
}

/// The CMS's `PubDate` is the last update; the 信息公开 table's 发布日期 is
/// the publication. Without 发布日期 the signing date (成文日期) beats the
/// related documents' dates.
#[test]
fn the_pages_own_publication_date_wins_over_an_update_date() {
    let r = record(
        "pubdate-meta-is-the-update.html",
        "http://www.example.gov.cn/art/2023/3/15/art_1229_6001.html",
        None,
    );
    assert_eq!(r.published.as_deref(), Some("2023-03-15"));
    assert_eq!(
        r.meta.get("成文日期").map(String::as_str),
        Some("2023-03-10")
    );
    // printed again under the table, the title is not body
    assert!(r.text.starts_with("各乡镇人民政府"), "{}", r.text);
}

/// 更新时间 and 打印日期 beside the title, 发布时间 on the next line, and a
/// sidebar of newer notices with their dates.
#[test]
fn update_print_and_sidebar_dates_never_win() {
    let r = record(
        "update-and-print-dates-sidebar.html",
        "http://www.example.gov.cn/tzgg/content_88012.html",
        None,
    );
    assert_eq!(r.published.as_deref(), Some("2023-09-01"));
    assert_eq!(r.source.as_deref(), Some("区医疗保障局"));
    assert!(!r.text.contains("最新公告"));
}

/// NUL and control bytes inside a page that begins as HTML: the page is
/// read, the bytes dropped with a warning.
#[test]
fn stray_nul_and_control_bytes_are_dropped_not_refused() {
    let r = record(
        "stray-nul-bytes.html",
        "http://www.example.gov.cn/czxx/202404/t20240412_3.html",
        None,
    );
    assert_eq!(
        r.title.as_deref(),
        Some("某某镇2024年第一季度财政收支情况公示")
    );
    assert!(r.text.contains("同比增长6.2%"), "{}", r.text);
    assert!(!r.text.contains(['\0', '\u{1}', '\u{b}']));
    assert_eq!(
        r.warnings,
        ["5 NUL or control byte(s) in the page were dropped"]
    );
}

/// html5ever's "foster parenting not implemented" (table soup) is not
/// printed unless `RUST_LOG` asks for it.
#[test]
fn third_party_parser_warnings_stay_quiet_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("table-soup.html");
    std::fs::write(
        &page,
        "<html><head><meta charset=\"utf-8\"><title>关于公布2024年度预算的公告</title></head><body>\
         <table><tr><td>项目</td></tr>一般公共预算收入<tr><td>1520万元</td></tr></table>\
         <p>现将本单位2024年度部门预算予以公开，接受社会监督。</p></body></html>",
    )
    .unwrap();
    let run = |log: Option<&str>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_govsnap"));
        cmd.args(["extract", page.to_str().unwrap()]);
        match log {
            Some(l) => cmd.env("RUST_LOG", l),
            None => cmd.env_remove("RUST_LOG"),
        };
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(!run(None).contains("foster parenting"));
    assert!(run(Some("html5ever=warn")).contains("foster parenting"));
}

/// Issue 18: one info line with several labels and no space before the
/// next one, and a second line whose labels are padded with `&ensp;`.
#[test]
fn each_label_of_a_glued_info_line_fills_its_own_field() {
    let r = record(
        "info-line-several-labels.html",
        "http://ajj.example.gov.cn/gzdt/201709/t20170928_1.html",
        None,
    );
    assert_eq!(r.source.as_deref(), Some("市安全生产监督管理局办公室"));
    assert_eq!(r.meta.get("文章类型").map(String::as_str), Some("原创"));
    assert_eq!(
        r.meta.get("时间").map(String::as_str),
        Some("2017-09-28 21:00")
    );
    assert_eq!(
        r.meta.get("索引号").map(String::as_str),
        Some("11350200MB0123456X/2017-00321")
    );
    assert_eq!(r.meta.get("作者").map(String::as_str), Some("王明"));
    assert!(!r.meta.contains_key("浏览") && !r.meta.contains_key("浏览次数"));
    assert_eq!(r.published.as_deref(), Some("2017-09-28"));
    assert!(r.text.starts_with("9月28日"), "{}", r.text);
}

/// A 信息公开 table saved with "Save page as": `<th>` labels beside `<td>`
/// values, no CMS classes left.
#[test]
fn a_saved_table_of_th_and_td_cells_is_metadata() {
    let r = record(
        "xxgk-th-td-saved.html",
        "http://www.example.gov.cn/xxgk/zcwj/202305/t20230519_4412345.html",
        None,
    );
    let meta = |k: &str| r.meta.get(k).map(String::as_str);
    assert_eq!(meta("索引号"), Some("000014349/2023-00087"));
    assert_eq!(meta("发文机关"), Some("某某市人民政府"));
    assert_eq!(meta("发文字号"), Some("某政发〔2023〕11号"));
    assert_eq!(meta("成文日期"), Some("2023年05月12日"));
    assert_eq!(r.published.as_deref(), Some("2023-05-19"));
    assert_eq!(
        r.title.as_deref(),
        Some("某某市人民政府关于印发某某市加快发展保障性租赁住房实施方案的通知")
    );
    assert!(
        r.text.starts_with("某政发〔2023〕11号\n各区人民政府"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("索引号"));
}

/// `<li><span>label：</span>value</li>` above the text, and a definition
/// list (`<dt>发布日期</dt><dd>…</dd>`) under it.
#[test]
fn list_item_pairs_and_a_trailing_definition_list_are_metadata() {
    let r = record(
        "li-span-pairs.html",
        "http://jyj.example.gov.cn/xxgk/yjsgk/202402/t20240208_7.html",
        None,
    );
    let meta = |k: &str| r.meta.get(k).map(String::as_str);
    assert_eq!(meta("索引号"), Some("11420102MB1234567A/2024-00012"));
    assert_eq!(meta("发布机构"), Some("某某区教育局"));
    assert_eq!(meta("发布日期"), Some("2024-02-08"));
    assert_eq!(r.published.as_deref(), Some("2024-02-08"));
    assert_eq!(r.source.as_deref(), Some("区教育局财务科"));
    assert!(r.text.ends_with("事业收入2240万元。"), "{}", r.text);
}

/// A tender notice whose key facts are `label：value` lines at the top of
/// the body, under a bracketed info line.
#[test]
fn a_procurement_notices_key_facts_are_metadata() {
    let r = record(
        "procurement-notice.html",
        "http://ggzy.example.gov.cn/jyxx/zfcg/cggg/20240510/8a1b2c.html",
        None,
    );
    let meta = |k: &str| r.meta.get(k).map(String::as_str);
    assert_eq!(meta("采购项目名称"), Some("某某县人民医院医疗设备采购项目"));
    assert_eq!(meta("项目编号"), Some("MMX-ZFCG-2024-0031"));
    assert_eq!(meta("行政区域"), Some("某某县"));
    assert_eq!(meta("公告时间"), Some("2024年05月10日 09:00"));
    assert_eq!(meta("采购人"), Some("某某县人民医院"));
    assert_eq!(meta("代理机构"), Some("某某招标代理有限公司"));
    assert_eq!(r.published.as_deref(), Some("2024-05-10"));
    assert!(r.text.starts_with("项目概况\n"), "{}", r.text);
    assert!(!r.meta.contains_key("阅读次数"));
}

/// A custom template's `稿源：…` line fills `source`.
#[test]
fn a_custom_templates_source_line_fills_source() {
    let r = record(
        "custom-source-line.html",
        "http://fgw.example.gov.cn/xwzx/2024/10/21/art_88_1.html",
        None,
    );
    assert_eq!(r.source.as_deref(), Some("某某市粮食和物资储备局"));
    assert_eq!(r.published.as_deref(), Some("2024-10-21"));
    assert_eq!(r.title.as_deref(), Some("全市秋粮收购工作有序开展"));
}

/// A WordPress post: `<body class="… has-sidebar">` and a sidebar of
/// eight years of archives. The post is the record, not the comments.
#[test]
fn a_blog_post_under_a_sidebar_body_class_is_read_whole() {
    let r = record(
        "blog-post.html",
        "https://blog.example.com/2023/10/08/huihang/",
        None,
    );
    assert!(r.text.starts_with("国庆假期最后两天"), "{}", r.text);
    assert!(r.text.ends_with("我们还能继续走。"), "{}", r.text);
    assert_eq!(r.text.lines().count(), 5, "{}", r.text);
    assert!(!r.text.contains("条评论") && !r.text.contains("写得真好"));
    assert!(!r.text.contains("文章归档") && !r.text.contains("2016年"));
}

/// A Discuz! thread: the opening post and every reply, without the
/// authors' panels, floor names and page links.
#[test]
fn a_forum_thread_keeps_every_post() {
    let r = record(
        "forum-thread.html",
        "https://bbs.example.com/thread-3344-1-1.html",
        None,
    );
    for post in [
        "我们小区是九十年代建的",
        "按照我们市的规定",
        "我们楼去年装好了",
        "说句一楼的心里话",
    ] {
        assert!(r.text.contains(post), "lost {post}: {}", r.text);
    }
    for chrome in ["积分", "楼主", "沙发", "发表于", "下一页", "返回列表"] {
        assert!(!r.text.contains(chrome), "kept {chrome}: {}", r.text);
    }
}

/// A news page whose photo captions (a `<p>` and a `<figcaption>`) and a
/// two-item 相关阅读 list sit inside the article.
#[test]
fn news_captions_and_related_reading_leave_the_text() {
    let r = record(
        "news-related-captions.html",
        "https://news.example.com/local/2024-11/18/c_5.html",
        None,
    );
    assert_eq!(r.text.lines().count(), 3, "{}", r.text);
    assert!(!r.text.contains("摄"), "{}", r.text);
    assert!(
        !r.text.contains("联合演练") && !r.text.contains("相关"),
        "{}",
        r.text
    );
    assert_eq!(r.source.as_deref(), Some("某某日报"));
    assert_eq!(r.meta.get("责任编辑").map(String::as_str), Some("张华"));
}

/// Issue 18: no heading; `<title>` holds a CMS placeholder in markup; the
/// 信息公开 table's `名　　称` row has the title; a meta tag's `浙江` beside a
/// printed `来源：浙江监管局`; an approvals table with empty cells.
#[test]
fn a_labelled_title_row_a_printed_source_and_whole_table_rows() {
    let r = record(
        "title-in-label-row.html",
        "http://zjb.example.gov.cn/art/2024/10/15/art_1_5.html",
        None,
    );
    assert_eq!(
        r.title.as_deref(),
        Some("浙江监管局关于2024年第三季度辖区电力业务许可事项的公告")
    );
    assert_eq!(r.source.as_deref(), Some("浙江监管局"));
    assert_eq!(
        r.meta.get("索引号").map(String::as_str),
        Some("002482365/2024-12345")
    );
    let rows: Vec<&str> = r.text.lines().filter(|l| l.contains(" | ")).collect();
    assert_eq!(
        rows,
        [
            "序号 | 企业名称 | 许可证编号 | 变更事项 | 备注",
            "1 | 某某新能源有限公司 | 1041024-00321 |  | 新颁",
            "2 | 某某光伏发电有限公司 | 1041024-00322 | 注册地址 |",
            "3 | 某某风电有限公司 |  |  | 注销",
        ]
    );
    assert!(r.text.starts_with("浙监能许可〔2024〕38号\n"), "{}", r.text);
}

/// Issue 18: the title printed again at the top of the body over two lines
/// leaves it once; the 文号 under it stays, and is the record's 文号.
#[test]
fn a_title_printed_over_two_lines_leaves_the_body_and_the_number_stays() {
    let r = record(
        "title-printed-in-body.html",
        "http://www.example.gov.cn/art/2024/6/20/art_1_1.html",
        None,
    );
    assert!(
        r.text.starts_with("某政办发〔2024〕15号\n各县"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("的通知\n"), "{}", r.text);
    assert_eq!(
        r.meta.get("文号").map(String::as_str),
        Some("某政办发〔2024〕15号")
    );
}

/// Issue 18: an editor's whole Word document (`<html><head><title>…`)
/// pasted into the content block: its body is the content, its title not.
#[test]
fn a_document_pasted_inside_the_content_block_reads_as_the_content() {
    let r = record(
        "pasted-whole-document.html",
        "http://yjj.example.gov.cn/tzgg/202404/t20240402_9.html",
        None,
    );
    assert!(!r.text.contains("Word文档"), "{}", r.text);
    assert!(
        r.text.starts_with("各乡镇人民政府，县直各有关单位："),
        "{}",
        r.text
    );
    assert!(r.text.ends_with("2024年4月1日"), "{}", r.text);
    assert_eq!(
        r.title.as_deref(),
        Some("关于开展2024年度安全生产大检查的通知")
    );
    assert_eq!(r.source.as_deref(), Some("县应急管理局"));
}

/// Issue 18: a title from the ArticleTitle or og:title meta tag without the
/// site's name after it; a title's own hyphen stays.
#[test]
fn meta_titles_lose_the_site_name_and_keep_their_own_hyphens() {
    let page = |article_title: &str| {
        format!(
            "<html><head><meta charset=\"utf-8\"><meta name=\"SiteName\" content=\"某某市人民政府\">\
             <meta name=\"ArticleTitle\" content=\"{article_title}\"><title>x</title></head><body>\
             <div class=\"content\"><p>各区人民政府，市政府各部门：现将有关事项通知如下，请认真贯彻执行。</p>\
             <p>一、总体要求</p><p>坚持系统谋划、分步实施，确保各项任务按期完成，取得实效。</p></div></body></html>"
        )
    };
    let title = |html: String| {
        let page = Page {
            bytes: html.as_bytes(),
            url: Some("http://www.example.gov.cn/zwgk/t20240301_1.html"),
            ..Page::default()
        };
        extract(&page, None, ExtractOptions::default())
            .unwrap()
            .title
    };
    assert_eq!(
        title(page(
            "关于印发某某市2021-2025年发展规划的通知_某某市人民政府"
        ))
        .as_deref(),
        Some("关于印发某某市2021-2025年发展规划的通知")
    );
    assert_eq!(
        title(page("关于印发某某市2021-2025年发展规划的通知")).as_deref(),
        Some("关于印发某某市2021-2025年发展规划的通知")
    );
}
