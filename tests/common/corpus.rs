//! Generated disclosure documents for the search tests and benchmark:
//! a city's bureaus' notices in the 信息公开 template (metadata table with
//! 索引号 and 发文字号, title, numbered sections), deterministic for each
//! number and varied enough (phrases, sums, dates, place names) that their
//! bigrams look like real text's.

#![allow(dead_code)]

pub const SITES: [(&str, &str); 5] = [
    ("fgw", "某某市发展和改革委员会"),
    ("czj", "某某市财政局"),
    ("jyj", "某某市教育局"),
    ("wjw", "某某市卫生健康委员会"),
    ("zfb", "某某市人民政府办公室"),
];
const PREFIX: [&str; 5] = ["某发改规", "某财预", "某教办发", "某卫健发", "某政办发"];
const VERBS: [&str; 12] = [
    "印发",
    "做好",
    "开展",
    "进一步加强",
    "推进",
    "规范",
    "组织申报",
    "调整",
    "公布",
    "实施",
    "深化",
    "加快",
];
const TOPICS: [&str; 24] = [
    "优化营商环境",
    "政务公开",
    "安全生产检查",
    "城乡居民医疗保险",
    "义务教育招生",
    "政府采购",
    "惠企政策兑现",
    "老旧小区改造",
    "冬春季疫病防控",
    "高标准农田建设",
    "财政资金绩效评价",
    "农村人居环境整治",
    "中小学校园安全",
    "重点项目建设",
    "消费品以旧换新",
    "数字政府建设",
    "基层医疗卫生服务",
    "防汛抗旱",
    "行政执法公示",
    "稳就业",
    "科技创新券",
    "公共资源交易",
    "职业技能培训",
    "地方政府专项债券",
];
const KINDS: [&str; 6] = ["通知", "实施方案", "管理办法", "工作要点", "公告", "意见"];
const PHRASES: [&str; 20] = [
    "深入贯彻落实党中央、国务院决策部署",
    "进一步优化营商环境",
    "持续推进政务公开标准化规范化",
    "切实加强安全生产监督管理",
    "全面提升公共服务水平",
    "扎实做好民生保障工作",
    "各单位要高度重视，明确责任分工",
    "逾期不予受理",
    "确保各项任务按时保质完成",
    "请于每月5日前报送上月工作进展情况",
    "对工作不力、进展缓慢的单位予以通报",
    "资金实行专款专用，严禁截留挪用",
    "申报材料须真实有效，弄虚作假的取消资格",
    "本办法自发布之日起施行",
    "加强组织领导，健全工作机制",
    "强化监督检查，严格考核问责",
    "做好政策宣传解读，及时回应社会关切",
    "按照属地管理原则，落实主体责任",
    "建立健全长效机制，巩固整治成果",
    "具体事宜由市财政局负责解释",
];
const COMMON: &str = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质";
const PLACES: [&str; 12] = [
    "东城区",
    "西湖街道",
    "高新技术产业开发区",
    "临港新区",
    "北岸镇",
    "南山乡",
    "经济技术开发区",
    "滨河社区",
    "城关镇",
    "桃园村",
    "青石镇",
    "白沙湾",
];
const NUMERALS: [&str; 10] = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十"];

/// One generated document.
pub struct Doc {
    pub i: usize,
    pub site: &'static str,
    pub url: String,
    pub title: String,
    pub number: String,
    pub index_no: String,
    pub published: String,
    pub html: String,
}

fn pick<'a>(rng: &mut fastrand::Rng, from: &[&'a str]) -> &'a str {
    from[rng.usize(..from.len())]
}

fn filler(rng: &mut fastrand::Rng, chars: &[char]) -> String {
    let n = rng.usize(6..18);
    (0..n).map(|_| chars[rng.usize(..chars.len())]).collect()
}

/// Document `i` (the same whatever else is generated); `edition` changes
/// its text (a new version).
pub fn doc(i: usize, edition: u32) -> Doc {
    let mut rng = fastrand::Rng::with_seed(i as u64 * 7919 + 17);
    let common: Vec<char> = COMMON.chars().collect();
    let (site, org) = SITES[i % SITES.len()];
    let year = 2019 + (i / 5) % 6;
    let (month, day) = (1 + rng.usize(..12), 1 + rng.usize(..28));
    let published = format!("{year}-{month:02}-{day:02}");
    let number = format!("{}〔{year}〕{}号", PREFIX[i % PREFIX.len()], 1 + i / 5);
    let index_no = format!("11{:02}00000{:03}MB/{year}-{:05}", i % 5, i % 997, i);
    let title = format!(
        "{org}关于{}{}{}的{}",
        pick(&mut rng, &VERBS),
        pick(&mut rng, &PLACES),
        pick(&mut rng, &TOPICS),
        pick(&mut rng, &KINDS)
    );
    let mut body = String::new();
    body.push_str("<p>各区人民政府，市政府各委、办、局，各有关单位：</p>");
    let sections = 3 + rng.usize(..5);
    for numeral in NUMERALS.iter().take(sections) {
        body.push_str(&format!(
            "<p>{}、{}{}</p>",
            numeral,
            pick(&mut rng, &TOPICS),
            filler(&mut rng, &common)
        ));
        for _ in 0..1 + rng.usize(..3) {
            body.push_str(&format!(
                "<p>　　{}，{}{}，{}安排资金{}万元，涉及{}等{}个单位。{}。</p>",
                pick(&mut rng, &PHRASES),
                filler(&mut rng, &common),
                pick(&mut rng, &PLACES),
                year,
                rng.u32(10..100_000),
                pick(&mut rng, &PLACES),
                rng.u32(2..60),
                pick(&mut rng, &PHRASES),
            ));
        }
    }
    if edition > 1 {
        body.push_str(&format!(
            "<p>　　（第{edition}次修订：{}）</p>",
            filler(&mut rng, &common)
        ));
    }
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}_政府信息公开_{org}</title></head><body>\
<div class=\"top\"><a href=\"/\">首页</a> | <a href=\"/wza/\">无障碍</a></div>\
<div class=\"position\">当前位置：<a href=\"/\">首页</a> &gt; <a href=\"/xxgk/\">政府信息公开</a> &gt; 通知公告</div>\
<table class=\"xxgk-table\"><tbody>\
<tr><td class=\"lab\">索 引 号：</td><td>{index_no}</td><td class=\"lab\">主题分类：</td><td>综合政务</td></tr>\
<tr><td class=\"lab\">发文机关：</td><td>{org}</td><td class=\"lab\">成文日期：</td><td>{published}</td></tr>\
<tr><td class=\"lab\">发文字号：</td><td>{number}</td><td class=\"lab\">发布日期：</td><td>{published}</td></tr>\
</tbody></table>\
<div class=\"article\"><h1 class=\"title\">{title}</h1><div class=\"article-content\" id=\"zoom\">{body}\
<p style=\"text-align:right\">{org}</p><p style=\"text-align:right\">{published}</p></div></div>\
<div class=\"share\">分享到：微信 微博</div>\
<div class=\"footer\"><p>主办单位：{org}　网站标识码：1100000001　京ICP备00000000号　京公网安备 11000002000001号</p></div></body></html>"
    );
    let url = format!(
        "http://www.{site}.example.gov.cn/xxgk/{year}{month:02}/t{year}{month:02}{day:02}_{i}.html"
    );
    Doc {
        i,
        site,
        url,
        title,
        number,
        index_no,
        published,
        html,
    }
}
