//! The seed page (`../shared/seed/`): a faithful reconstruction of the Tianjin
//! Binhai High-tech Zone's 2020 rule-of-law report, checked against everything
//! the seed's README says must come out of it, and against the page's own text.

mod common;

use govsnap::Record;

fn seed() -> Record {
    common::cases()
        .into_iter()
        .find(|c| c.path == "tht/seed-rule-of-law-report.html")
        .expect("seed case")
        .extract()
}

/// The body paragraphs of the seed text: between 分享到 and 来源.
fn seed_paragraphs() -> Vec<String> {
    let text =
        std::fs::read_to_string(common::fixtures_dir().join("tht/seed-rule-of-law-report.txt"))
            .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| *l == "分享到:").unwrap() + 1;
    let end = lines.iter().position(|l| *l == "来源:天津高新区").unwrap();
    lines[start..end]
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn title_date_and_source() {
    let r = seed();
    assert_eq!(
        r.title.as_deref(),
        Some("天津滨海高新区2020年法治政府建设报告")
    );
    assert_eq!(r.published.as_deref(), Some("2021-03-30"));
    assert_eq!(r.source.as_deref(), Some("天津高新区"));
}

#[test]
fn body_is_exactly_the_documents_paragraphs() {
    let r = seed();
    assert_eq!(r.text, seed_paragraphs().join("\n"));
}

#[test]
fn preamble_then_three_sections_with_their_subsections() {
    let r = seed();
    assert_eq!(r.sections.len(), 4);
    let preamble = &r.sections[0];
    assert_eq!((preamble.level, preamble.number.as_deref()), (0, None));
    assert!(preamble.paragraphs[0].starts_with("2020年,滨海高新区坚持"));
    let top: Vec<_> = r.sections[1..]
        .iter()
        .map(|s| s.number.as_deref().unwrap())
        .collect();
    assert_eq!(top, ["一", "二", "三"]);
    assert!(r.sections[1..].iter().all(|s| s.level == 1));
    let numbers = |s: &govsnap::Section| -> Vec<String> {
        s.children
            .iter()
            .map(|c| c.number.clone().unwrap())
            .collect()
    };
    assert_eq!(numbers(&r.sections[1]), ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(numbers(&r.sections[2]), Vec::<String>::new());
    assert_eq!(numbers(&r.sections[3]), ["1", "2", "3", "4", "5"]);
    let first = &r.sections[1].children[0];
    assert_eq!(first.level, 2);
    assert_eq!(
        first.heading.as_deref(),
        Some("依法开展疫情防控,用法治手段助力夺取“双胜利”")
    );
    assert!(first.paragraphs[0].starts_with("一是依法推进疫情防控全覆盖。"));
    assert_eq!(
        r.sections[2].heading.as_deref(),
        Some("2020年滨海高新区推进法治政府建设的不足")
    );
    // 一是/二是/三是 paragraphs of 二、 stay paragraphs, not sections.
    assert_eq!(r.sections[2].paragraphs.len(), 4);
}

#[test]
fn none_of_the_boilerplate() {
    let r = seed();
    let all = serde_json::to_string(&r.sections).unwrap() + &r.text;
    for junk in [
        "网站支持IPv6",
        "智能推荐",
        "信访举报",
        "首页 >",
        "分享到",
        "扫一扫在手机打开当前页",
        "热门标签",
        "热点新闻",
        "相关新闻",
        "关于我们",
        "网站声明",
        "主办单位",
        "津公网备案",
        "津ICP备",
        "网站标识码",
        "联系方式",
        "gxqwxb@tht.gov.cn",
        "来源:天津高新区",
        "发布日期",
    ] {
        assert!(!all.contains(junk), "{junk:?} left in the body");
    }
    assert!(r.attachments.is_empty());
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}
