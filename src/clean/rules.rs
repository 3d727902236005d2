//! Generic boilerplate rules on text (SPEC §3): the lines that sit around a
//! document on nearly every Chinese government site, recognised by what they
//! say rather than where they are.
//!
//! Every rule matches a *whole short line*, never a word inside a sentence: a
//! paragraph that mentions 微信 or 网站 is content. Filing numbers and the
//! site-identity block are the exception that is found even inside the content
//! container, because templates put them there.

use super::blocks::Block;
use super::normalize::squeeze;
use regex::{Regex, RegexSet};
use std::cell::OnceCell;
use std::sync::LazyLock;

/// Longer lines are never boilerplate by their text alone.
const SHORT_LINE: usize = 60;
/// Footer blocks run long (an address, three filing numbers) but not this long.
const FOOTER_LINE: usize = 220;

/// What a line of boilerplate is; the content stage treats them alike, the
/// identity lines aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineKind {
    /// Not boilerplate by its text.
    Content,
    /// Share, print, breadcrumb, prev/next, counters, list headers …
    Boilerplate,
    /// Filing numbers, 网站标识码, copyright: the site footer, anywhere.
    Footer,
    /// `主办单位：…`, `联系方式：…`: boilerplate next to a footer line,
    /// content elsewhere (an event notice has a 主办单位 too).
    Identity,
}

/// The header of a list of other items (相关新闻, 推荐阅读 …).
const LIST_HEADER: &str = r"^(相关新闻|相关文章|相关链接|相关阅读|相关文件|相关信息|相关稿件|相关政策|热点新闻|热门标签|热门文章|热点推荐|推荐阅读|延伸阅读|猜你喜欢|精彩推荐|友情链接|图片新闻|最新更新|最新发布)\s*[:：]?\s*(更多|more)?\s*[>＞»]*$";

/// Whether a line heads a list of other items: the link lines right after
/// it are that list, however few.
pub(crate) fn is_list_header(text: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| Regex::new(LIST_HEADER).expect("static regex"));
    text.chars().count() <= SHORT_LINE && RE.is_match(text)
}

/// A photo's caption or credit printed as a line of the text: `图为…`,
/// `（记者 王强 摄）`, `新华社发`.
static CAPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[（(【\[]?(图为|图片为|图：|图:|上图|下图|左图|右图|资料图)|(记者|通讯员|摄影|新华社记者|摄)?\s*[\p{Han}]{2,4}\s*(摄|供图|/摄)\s*[）)】\]]?$|^[（(]?(新华社|中新社|视觉中国|IC photo)\s*(发|供图)?[）)]?$")
        .expect("static regex")
});

static LINE_RULES: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        // breadcrumbs
        r"^(当前位置|您的位置|您现在的位置|你现在的位置|你的位置|所在位置|现在位置|位置)\s*[:：]",
        r"^(首页|网站首页|主页)\s*[>＞»›/]",
        r"[>＞»›].{1,12}[>＞»›]",
        // sharing and mobile
        r"^(分享到|分享至)\s*[:：]?",
        r"^分享\s*([:：]|$)",
        r"扫一扫.{0,4}(在|用)?手机.{0,4}打开",
        r"(手机|微信)扫(一扫|描).{0,10}(二维码|分享|打开|阅读)",
        r"^.{0,8}(扫描|扫码|扫一扫).{0,12}(二维码|手机|移动端).{0,12}$",
        // previous / next
        r"^(上一篇|下一篇|上一条|下一条|上篇|下篇|前一篇|后一篇)\s*[:：]?",
        // related and hot lists
        LIST_HEADER,
        // visit counters
        r"^【?(浏览次数|访问量|点击数|点击量|阅读次数|阅读量|浏览量|访问次数|浏览|点击)\s*[:：]?\s*[0-9]*\s*(次)?】?$",
        // browser advice
        r"建议使用.{0,30}浏览器",
        r"分辨率.{0,20}(浏览|访问)",
        r"^(Copyright|版权所有)",
        // news portals
        r"^返回.{0,8}查看更多",
        r"^(点击|点此)(进入|查看|阅读|下载).{0,20}$",
        r"^打开.{0,12}(APP|App|app|客户端)",
    ])
    .expect("static regexes")
});

/// Every rule of [`LINE_RULES`] needs its line to start with one of these …
const LINE_RULE_FIRST: &str = "当您你所现位首网主分上下前后相热推延猜精友图最【浏访点阅C版返打";
/// … or to contain one of these.
const LINE_RULE_ANY: &[char] = &['>', '＞', '»', '›', '扫', '建', '辨'];

/// A cheap test that spares most lines the regex set.
fn might_be_boilerplate(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| LINE_RULE_FIRST.contains(c))
        || text.chars().any(|c| LINE_RULE_ANY.contains(&c))
}

static FOOTER_RULES: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"(?i)ICP\s*(备|证)\s*[0-9]",
        r"公网安备\s*[0-9]",
        r"公网备案\s*[:：]?\s*[0-9]",
        r"网站标识码\s*[:：]?\s*[0-9A-Za-z]",
        r"版权所有",
        r"(?i)copyright|©|\(c\)\s*[0-9]{4}",
    ])
    .expect("static regexes")
});

static IDENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(主办单位|主办|承办单位|承办|协办单位|技术支持|技术保障|联系方式|联系我们|联系电话|联系地址|网站声明|网站地图|关于我们|主管单位|运维单位|维护单位|管理单位|地址|邮编|邮政编码|电子邮箱|邮箱)\s*[:：]",
    )
    .expect("static regex")
});

/// Lines that name who runs the site, never who wrote a document.
static SITE_IDENTITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(主办单位|主办|承办单位|承办|技术支持|技术保障|网站声明|网站地图|关于我们|主管单位|运维单位|维护单位|网站标识码|网站管理)\s*[:：]?",
    )
    .expect("static regex")
});

/// A short line that names the site's owner, operator or maintainer.
pub(crate) fn is_site_identity(text: &str) -> bool {
    text.chars().count() <= SHORT_LINE && SITE_IDENTITY.is_match(text)
}

/// The first characters of the [`IDENTITY`] labels.
const IDENTITY_FIRST: &[char] = &[
    '主', '承', '协', '技', '联', '网', '关', '运', '维', '管', '地', '邮', '电',
];

/// Link and control words that fill toolbars and top bars. A short line made
/// of nothing else is a toolbar.
const CONTROL_WORDS: &[&str] = &[
    "网站支持IPv6",
    "本网站支持IPv6",
    "支持IPv6",
    "IPv6",
    "智能推荐",
    "信访举报",
    "无障碍浏览",
    "无障碍",
    "长者模式",
    "关怀版",
    "适老化",
    "大字版",
    "视力保护色",
    "打印本页",
    "打印此页",
    "打印文章",
    "打印正文",
    "打印",
    "关闭窗口",
    "关闭本页",
    "关闭",
    "返回顶部",
    "返回首页",
    "返回列表",
    "返回",
    "顶部",
    "收藏本页",
    "加入收藏",
    "设为首页",
    "收藏",
    "字体",
    "字号",
    "默认",
    "放大",
    "缩小",
    "保存",
    "分享",
    "新浪微博",
    "腾讯微博",
    "人民微博",
    "微信公众号",
    "微信",
    "微博",
    "QQ空间",
    "QQ好友",
    "QQ",
    "朋友圈",
    "复制链接",
    "我要纠错",
    "纠错",
    "关于我们",
    "网站声明",
    "网站地图",
    "联系我们",
    "隐私声明",
    "隐私政策",
    "使用帮助",
    "帮助",
    "法律声明",
    "免责声明",
    "意见建议",
    "网站导航",
    "手机版",
    "移动版",
    "English",
    "繁体",
    "繁體",
    "简体",
    "登录",
    "注册",
    "搜索",
    "扫一扫",
    "今日头条",
    "抖音",
    "头条号",
    "举报",
    "反馈",
    "点赞",
    "评论",
    "转发",
    "超大",
    "特大",
    "大",
    "中",
    "小",
    "更多",
    "more",
    "Top",
    "TOP",
    "×",
];

/// The same kinds of line on pages in Latin script (a government site's
/// English edition, the news and blog pages the generic fallback meets):
/// whole short lines only, case ignored.
static LATIN_RULES: LazyLock<regex::bytes::RegexSet> = LazyLock::new(|| {
    // ASCII-only matching (`-u`): a smaller automaton, the same lines
    regex::bytes::RegexSet::new([
        // advertising and sharing
        r"(?i-u)^(advertisement|advert|sponsored( content)?|ad)$",
        r"(?i-u)^(share|share this( (story|article|on \w+))?|share it with a friend!?|like this story\? share it.*|get short url|copy link|print|email|whatsapp|facebook|twitter|pinterest)$",
        r"(?i-u)^((whatsapp|facebook|twitter|pint|pinterest|linkedin|email|baixar|reddit|tumblr|telegram)\s*){2,}$",
        // reading on, lists of other stories
        r"(?i-u)^(continue reading( below)?|read more|keep reading|see also|you may also like|you might also like|more stories|more from .{1,30}|related( stories| articles| posts| news| content)?|trending( now| news| stories)?|popular on .{1,30}|most (read|popular)|recommended( for you)?|don't miss|up next|what's next|more great .{1,30} stories|more:)\W*$",
        r"(?i-u)^(related|read more|see also|also|more|recommended)\s*:\s*.{3,80}$",
        // comments and subscriptions
        r"(?i-u)^(\d+\s+)?comments?$",
        r"(?i-u)^(leave a (comment|reply)|tell us what you think.*|join the (conversation|discussion)|subscribe( now| to .{1,40})?|sign up( for .{1,40})?|follow us( on .{1,30})?)\W*$",
        // captions and credits
        r"(?i-u)^\(?(photo|image|picture|credit|source|video)s?( by| credit)?\s*[:|]\s*.{2,60}\)?$",
        r"(?i-u)^\(?[^()]{0,60}/\s*(getty images|afp|ap|reuters|shutterstock|istock|epa)\)?$",
        r"(?i-u)^(close|caption|back to gallery|this slideshow requires javascript\.?|topics|tags?\s*:.*)$",
    ])
    .expect("static regexes")
});

/// The kinds of a page's lines, classified when first asked: most blocks of
/// a page (menus, footers) are settled by their element and never need it.
#[derive(Debug)]
pub(crate) struct LineKinds<'a> {
    blocks: &'a [Block],
    cache: Vec<OnceCell<LineKind>>,
}

impl<'a> LineKinds<'a> {
    pub(crate) fn new(blocks: &'a [Block]) -> Self {
        Self {
            blocks,
            cache: vec![OnceCell::new(); blocks.len()],
        }
    }

    pub(crate) fn get(&self, i: usize) -> LineKind {
        *self.cache[i].get_or_init(|| classify_line(&self.blocks[i].text))
    }
}

/// A site's legal statement (网站声明：本网站所载内容…) runs long but is
/// footer however long it is, up to this.
const STATEMENT_LINE: usize = 600;

static STATEMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^【?(网站声明|免责声明|版权声明|法律声明|隐私声明|本站声明|特别声明)\s*[:：】]")
        .expect("static regex")
});

/// Classify one normalized line.
pub(crate) fn classify_line(text: &str) -> LineKind {
    let len = text.chars().count();
    if len <= STATEMENT_LINE && text.contains('声') && STATEMENT.is_match(text) {
        return LineKind::Footer;
    }
    if len > FOOTER_LINE {
        return LineKind::Content;
    }
    if might_be_footer(text) && FOOTER_RULES.is_match(text) {
        return LineKind::Footer;
    }
    if len > SHORT_LINE {
        return LineKind::Content;
    }
    if text.starts_with(IDENTITY_FIRST) && IDENTITY.is_match(text) {
        return LineKind::Identity;
    }
    if (might_be_boilerplate(text) && LINE_RULES.is_match(text)) || is_toolbar(text) {
        return LineKind::Boilerplate;
    }
    if text.contains(['图', '摄', '发']) && CAPTION.is_match(text) {
        return LineKind::Boilerplate;
    }
    let latin = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '(');
    if latin && LATIN_RULES.is_match(text.as_bytes()) {
        return LineKind::Boilerplate;
    }
    LineKind::Content
}

/// Whether a line holds any literal every footer rule needs: a cheap test
/// that spares most lines the regex set.
fn might_be_footer(text: &str) -> bool {
    // one pass over the chars: `str::contains` per needle costs a searcher each
    text.chars()
        .any(|c| matches!(c, 'I' | 'i' | '公' | '标' | '版' | '©' | '(' | 'O' | 'o'))
}

/// A line made only of [`CONTROL_WORDS`] and separators.
pub(crate) fn is_toolbar(text: &str) -> bool {
    static ALPHABET: LazyLock<Vec<char>> = LazyLock::new(|| {
        let mut chars: Vec<char> = CONTROL_WORDS.iter().flat_map(|w| w.chars()).collect();
        chars.sort_unstable();
        chars.dedup();
        chars
    });
    // Cheap rejection: a toolbar uses no letter outside its words.
    if text
        .chars()
        .any(|c| c.is_alphanumeric() && ALPHABET.binary_search(&c).is_err())
    {
        return false;
    }
    let squeezed: String = squeeze(text)
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '【' | '】'
                    | '['
                    | ']'
                    | '('
                    | ')'
                    | '（'
                    | '）'
                    | '|'
                    | '｜'
                    | ':'
                    | '：'
                    | '·'
                    | '•'
                    | '/'
                    | '、'
                    | '>'
                    | '＞'
                    | '»'
                    | '-'
                    | '_'
                    | '+'
                    | '＋'
            )
        })
        .collect();
    let mut rest = squeezed.as_str();
    if rest.is_empty() {
        // only separators and punctuation: a toolbar's leftovers, not text.
        return !text.chars().any(char::is_alphanumeric);
    }
    'outer: while !rest.is_empty() {
        for word in CONTROL_WORDS {
            if let Some(r) = rest.strip_prefix(word) {
                rest = r;
                continue 'outer;
            }
        }
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolbars_and_widgets_are_boilerplate() {
        for line in [
            "【打印本页】 【关闭窗口】",
            "字体：【大 中 小】",
            "分享到：",
            "扫一扫在手机打开当前页",
            "网站支持IPv6 智能推荐 | 微信 | 微博 | 信访举报 |",
            "首页 > 公开 > 重点领域公开",
            "当前位置：首页 > 政务公开",
            "上一篇：关于开展安全生产大检查的通知",
            "相关新闻",
            "浏览次数：1024",
            "关于我们 | 网站声明",
            "微博",
            "字号：默认 大 超大 | 打印 |",
            "扫描二维码在手机上浏览",
            "用微信扫描二维码分享至好友和朋友圈",
            "返回搜狐，查看更多",
            "打开网易新闻APP，阅读体验更佳",
            "点击进入专题：2024全国两会",
            "举报/反馈",
        ] {
            assert_eq!(classify_line(line), LineKind::Boilerplate, "{line}");
        }
    }

    #[test]
    fn filing_numbers_are_footer() {
        for line in [
            "津ICP备09000137号-4",
            "津公网备案:12019202000211 津ICP备09000137号-4",
            "京公网安备 11010202000001号",
            "网站标识码：1201160063",
            "版权所有：天津滨海高新技术产业开发区管理委员会",
            "网站声明：本网站所载内容，凡注明“来源：某县医疗保障局”的所有文字、图片和音视频资料，版权均属某县医疗保障局所有，任何媒体、网站或个人未经本网协议授权不得转载、链接、转贴或以其他方式复制发表。已经本网协议授权的媒体、网站，在下载使用时必须注明“稿件来源：某县医疗保障局网站”，违者本网将依法追究责任。",
        ] {
            assert_eq!(classify_line(line), LineKind::Footer, "{line}");
        }
        assert_eq!(
            classify_line("主办单位：天津滨海高新技术产业开发区"),
            LineKind::Identity
        );
    }

    #[test]
    fn sentences_that_mention_widgets_are_content() {
        for line in [
            "通过官方微信、微博及时发布疫情防控信息，回应群众关切。",
            "分享经验做法，推动形成可复制可推广的制度成果。",
            "全年滨海高新区官网发布公告信息770余条。",
            "大",
            "依法开展疫情防控",
        ] {
            let want = if line == "大" {
                LineKind::Boilerplate
            } else {
                LineKind::Content
            };
            assert_eq!(classify_line(line), want, "{line}");
        }
    }
}
