//! Labelled metadata: the 信息公开 tables (label and value in separate cells,
//! with or without colons, `标　　题` with inner spaces) and `label：value`
//! lines (`发布时间：2021-03-30 10:20  来源：天津高新区  浏览次数：12`).

use crate::clean::normalize::squeeze;
use crate::clean::rules::is_toolbar;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// Labels that name a document's metadata. A line made of these (and the
/// [`IGNORED_LABELS`]) and their values is metadata wherever it stands; other
/// `X：Y` lines are text.
const LABELS: &[&str] = &[
    "索引号",
    "主题分类",
    "体裁分类",
    "组配分类",
    "服务对象分类",
    "服务对象",
    "信息分类",
    "分类",
    "发文机关",
    "发文单位",
    "发布机构",
    "发布单位",
    "生成日期",
    "成文日期",
    "发布日期",
    "发文日期",
    "发布时间",
    "发表时间",
    "公开日期",
    "更新时间",
    "更新日期",
    "印发日期",
    "实施日期",
    "施行日期",
    "废止日期",
    "失效日期",
    "发文字号",
    "文号",
    "有效性",
    "时效性",
    "效力状态",
    "有效期",
    "来源",
    "信息来源",
    "文章来源",
    "稿件来源",
    "来源单位",
    "稿源",
    "供稿单位",
    "标题",
    "名称",
    "信息名称",
    "文件名称",
    "主题词",
    "关键词",
    "关键字",
    "公开方式",
    "公开范围",
    "公开时限",
    "公开形式",
    "公开属性",
    "责任部门",
    "责任单位",
    "所属机构",
    "所属单位",
    "作者",
    "编辑",
    "责任编辑",
    "责编",
    "审核",
    "撰稿",
    "摄影",
    "内容概述",
    "摘要",
    "统一编号",
    "登记号",
    "文件编号",
    "信息索引号",
    "公文种类",
    "文种",
    "载体类型",
    "机构",
    "日期",
    "本文来源",
    "原标题",
    "原文链接",
    // the key facts a procurement or tender notice opens with
    "采购项目名称",
    "项目名称",
    "采购项目编号",
    "项目编号",
    "招标编号",
    "行政区域",
    "公告时间",
    "公告期限",
    "采购人",
    "采购单位",
    "采购代理机构",
    "代理机构",
    "招标人",
    "招标代理机构",
    // traditional script (Hong Kong, Macao, Taiwan)
    "發佈日期",
    "發布日期",
    "發佈時間",
    "發布時間",
    "來源",
    "資料來源",
    "消息來源",
    "發文機關",
    "發文字號",
    "發佈機構",
    "發佈單位",
    "主題分類",
    "索引號",
];

/// Labels whose value changes on every visit or is a control: matched so that
/// they end the value before them, then left out of the record.
const IGNORED_LABELS: &[&str] = &[
    "浏览次数",
    "访问量",
    "点击数",
    "点击量",
    "阅读次数",
    "阅读量",
    "浏览量",
    "访问次数",
    "字体",
    "字号",
    "浏览",
    "点击",
    "阅读",
    "访问",
];

/// Labels too generic to be taken from a cell without a colon.
const COLON_ONLY_LABELS: &[&str] = &[
    "名称",
    "日期",
    "机构",
    "分类",
    "作者",
    "编辑",
    "审核",
    "摘要",
    "文种",
    "关键词",
    "关键字",
    "撰稿",
    "摄影",
];

/// A known label followed by a colon (inner spaces allowed: `标　题：`).
static LABEL_COLON: LazyLock<Regex> = LazyLock::new(|| {
    let mut labels: Vec<&str> = LABELS.iter().chain(IGNORED_LABELS).copied().collect();
    labels.sort_by_key(|l| std::cmp::Reverse(l.chars().count()));
    let alternation = labels
        .iter()
        .map(|l| {
            l.chars()
                .map(|c| regex::escape(&c.to_string()))
                .collect::<Vec<_>>()
                .join(r"\s*")
        })
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&format!(r"({alternation})\s*[:：]")).expect("static regex")
});

/// Inside a metadata line, any short label after a space starts a new field
/// (`来源：天津高新区 责编：李四`).
static LOOSE_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s([\p{Han}]{2,6})\s*[:：]").expect("static regex"));

/// Labels that may follow a value with no space between (`来源：某某局文章类型：
/// 原创时间：2017-09-28`): a glued label is the longest of these that ends
/// the run of Han characters before a colon.
const GLUED_LABELS: &[&str] = &[
    "来源",
    "信息来源",
    "文章来源",
    "稿件来源",
    "作者",
    "编辑",
    "责任编辑",
    "责编",
    "审核",
    "时间",
    "日期",
    "文章类型",
    "类型",
    "字号",
    "发布人",
    "供稿",
    "出处",
    "撰稿",
    "摄影",
];

/// A short Han label and its colon at the start of a line (`来源：`).
static LEADING_LABEL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\p{Han}]{2,6}\s*[:：]").expect("static regex"));

/// Where a value stops: the toolbar that often follows an info line.
const VALUE_STOPS: &[&str] = &["【", "|", "｜", "分享到", "打印", "关闭", "[", "〖"];

/// Labelled fields found so far; the first value of a label wins.
#[derive(Debug, Default)]
pub(crate) struct Metadata {
    pub fields: BTreeMap<String, String>,
}

impl Metadata {
    fn add(&mut self, label: &str, value: &str) {
        let label = squeeze(label);
        let value = trim_value(value);
        if value.is_empty() || IGNORED_LABELS.contains(&&*label) {
            return;
        }
        self.fields.entry(label.into_owned()).or_insert(value);
    }

    /// A field by any of its labels, in order of preference.
    pub(crate) fn get_any(&self, labels: &[&str]) -> Option<&str> {
        labels
            .iter()
            .find_map(|l| self.fields.get(*l))
            .map(String::as_str)
    }

    /// Read a line that consists of labelled fields. Returns `false` (and
    /// records nothing) when the line is anything else.
    pub(crate) fn read_line(&mut self, text: &str) -> bool {
        let Some(pairs) = line_pairs(text) else {
            return false;
        };
        for (label, value) in pairs {
            self.add(&label, &value);
        }
        true
    }

    /// Read a table row of label and value cells. Returns `true` when most of
    /// the row's cells were labels or their values.
    pub(crate) fn read_row(&mut self, cells: &[String]) -> bool {
        let mut used = 0;
        let filled = cells.iter().filter(|c| !c.is_empty()).count();
        let mut j = 0;
        while j < cells.len() {
            let cell = &cells[j];
            if let Some(label) = cell_label(cell, true) {
                let value = cells.get(j + 1).filter(|v| cell_label(v, true).is_none());
                if let Some(value) = value {
                    self.add(&label, value);
                    used += 1 + usize::from(!value.is_empty());
                    j += 2;
                    continue;
                }
                used += 1;
            } else if self.read_line(cell) {
                used += 1;
            }
            j += 1;
        }
        filled > 0 && used * 2 >= filled
    }

    /// A summary table (a procurement notice's 公告概要): every row is label
    /// and value cells (two or four of them: `行政区域 | 某某市 | 公告时间 |
    /// 2021年06月10日 17:35`), the labels short Han words, known or not, or
    /// a section row of one cell ending in a colon (`公告概要：`). Read
    /// whole when at least three rows are pairs and two of their labels
    /// are known ones; else `false`, and nothing is read.
    pub(crate) fn read_summary_table(&mut self, rows: &[&[String]]) -> bool {
        let mut pairs: Vec<(String, &str)> = Vec::new();
        for cells in rows {
            let filled: Vec<&str> = cells
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .collect();
            if let [section] = filled.as_slice()
                && section.ends_with(['：', ':'])
            {
                continue;
            }
            if filled.is_empty() || !filled.len().is_multiple_of(2) {
                return false;
            }
            for pair in filled.chunks(2) {
                let label = squeeze(pair[0]);
                let bare = label.trim_end_matches(['：', ':']);
                if !han_word(bare, 8) {
                    return false;
                }
                pairs.push((bare.to_owned(), pair[1]));
            }
        }
        let known = pairs
            .iter()
            .filter(|(label, _)| LABELS.contains(&label.as_str()))
            .count();
        if pairs.len() < 3 || known < 2 {
            return false;
        }
        for (label, value) in pairs {
            if value.chars().count() <= MAX_VALUE_CHARS {
                self.add(&label, value);
            }
        }
        true
    }

    /// A label alone on its line (`<dt>索引号</dt>`) followed by its value.
    pub(crate) fn read_pair(&mut self, label_line: &str, value_line: &str) -> bool {
        match cell_label(label_line, false) {
            Some(label)
                if value_line.chars().count() <= MAX_VALUE_CHARS
                    && cell_label(value_line, true).is_none()
                    && line_pairs(value_line).is_none() =>
            {
                self.add(&label, value_line);
                true
            }
            _ => false,
        }
    }
}

/// Labels of a notice's contact lines (`招标人：…　联系人：孙某某　电话：…`):
/// the notice's own words, which end its text, not metadata about it.
const CONTACT_LABELS: &[&str] = &[
    "联系人",
    "联系电话",
    "电话",
    "联系方式",
    "地址",
    "传真",
    "邮编",
    "邮箱",
];

/// Whether a metadata-shaped line is a notice's contact line.
pub(crate) fn is_contact_line(text: &str) -> bool {
    line_pairs(text).is_some_and(|pairs| {
        pairs
            .iter()
            .any(|(label, _)| CONTACT_LABELS.contains(&squeeze(label).as_ref()))
    })
}

/// A metadata line is short; longer lines are text (UTF-8 bytes).
const MAX_LINE_BYTES: usize = 600;

/// A value on a line of its own is never longer than this.
const MAX_VALUE_CHARS: usize = 100;

/// A cell that is only a label: a known one with or without colon, or (when
/// `generic`, inside a table) a short Han label with a colon.
fn cell_label(cell: &str, generic: bool) -> Option<String> {
    if cell.len() > 40 {
        return None;
    }
    let squeezed = squeeze(cell);
    let had_colon = squeezed.ends_with(['：', ':']);
    let bare = squeezed.trim_end_matches(['：', ':']);
    // generic words (名称, 日期 …) head data-table columns too: in a cell of
    // their own they are labels only with a colon
    let known = (LABELS.contains(&bare) && (had_colon || !COLON_ONLY_LABELS.contains(&bare)))
        || IGNORED_LABELS.contains(&bare);
    let generic = generic && had_colon && han_word(bare, 8);
    (known || generic).then(|| bare.to_owned())
}

/// 2 to `max` Han characters and nothing else: a label a page made up.
fn han_word(text: &str, max: usize) -> bool {
    (2..=max).contains(&text.chars().count())
        && text.chars().all(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}

/// Split a metadata line into `(label, value)` pairs, or `None` when the line
/// does not start with a known label.
fn line_pairs(text: &str) -> Option<Vec<(String, String)>> {
    let text = text.trim();
    if text.len() > MAX_LINE_BYTES || !text.contains(['：', ':']) {
        return None;
    }
    let first = LABEL_COLON.find(text)?;
    // `【信息时间：2024-05-10】【阅读次数：88】`: the bracket that opens
    // the next field is not the lead's
    let lead = text[..first.start()].trim().trim_end_matches(['【', '[']);
    let lead_pair = lead_date_pair(lead);
    // a line that opens with a label of its own (`来源：…`) and is no
    // sentence: its labels are read like the known ones
    let labelled = LEADING_LABEL.is_match(if lead.is_empty() { text } else { lead })
        && !text.contains(['，', '。', '；', '！', '？']);
    if !(lead.is_empty()
        || lead_pair.is_some()
        || labelled
        || is_toolbar(lead)
        || is_date_time(lead))
    {
        return None;
    }
    let mut starts: Vec<(usize, usize)> = LABEL_COLON
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    for c in LOOSE_LABEL.captures_iter(text) {
        let m = c.get(1).expect("group 1");
        let end = c.get(0).expect("match").end();
        if !starts.iter().any(|&(s, e)| m.start() >= s && m.start() < e) {
            starts.push((m.start(), end));
        }
    }
    if labelled {
        if let Some(m) = LEADING_LABEL.find(text) {
            starts.push((m.start(), m.end()));
        }
        starts.extend(glued_labels(text));
    }
    // a loose label can contain a known one (`新闻来源：` holds `来源：`):
    // keep the first of overlapping matches
    starts.sort_unstable();
    let mut end_of_last = 0;
    starts.retain(|&(s, e)| {
        let keep = s >= end_of_last;
        if keep {
            end_of_last = e;
        }
        keep
    });
    let mut pairs: Vec<(String, String)> = lead_pair.into_iter().collect();
    for (i, &(start, value_start)) in starts.iter().enumerate() {
        let value_end = starts.get(i + 1).map_or(text.len(), |next| next.0);
        let label = text[start..value_start].trim_end_matches([':', '：', ' ']);
        pairs.push((label.to_owned(), text[value_start..value_end].to_owned()));
    }
    Some(pairs)
}

/// Labels glued to the value before them: at each colon, the longest of
/// [`GLUED_LABELS`] that ends the Han run before it, as (start, end of the
/// colon).
fn glued_labels(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for (colon, c) in text.char_indices().filter(|(_, c)| matches!(c, '：' | ':')) {
        let before = &text[..colon];
        let run_start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| ('\u{4E00}'..='\u{9FFF}').contains(c))
            .last()
            .map_or(colon, |(i, _)| i);
        let run = &text[run_start..colon];
        let label = GLUED_LABELS
            .iter()
            .filter(|l| run.ends_with(*l) && run.len() > l.len())
            .max_by_key(|l| l.len());
        if let Some(label) = label {
            found.push((colon - label.len(), colon + c.len_utf8()));
        }
    }
    found
}

/// `2021-03-30 10:20` alone: the date an info line starts with.
fn is_date_time(s: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[\[【(（]?\s*(19|20)[0-9]{2}\s*[-/.年]\s*[0-9]{1,2}\s*[-/.月]\s*[0-9]{1,2}\s*日?(\s*[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?\s*[\]】)）|｜]?$")
            .expect("static regex")
    });
    RE.is_match(s)
}

/// `时间：2021-05-25` before a known label: a generic label whose value is a
/// date is metadata too.
fn lead_date_pair(lead: &str) -> Option<(String, String)> {
    let (label, value) = lead.split_once(['：', ':'])?;
    let label = squeeze(label.trim_start_matches(['【', '[', '(', '（']));
    (han_word(&label, 4) && is_date_time(value.trim()))
        .then(|| (label.into_owned(), value.trim().to_owned()))
}

fn trim_value(value: &str) -> String {
    let mut v = value;
    for stop in VALUE_STOPS {
        if let Some(i) = v.find(stop) {
            v = &v[..i];
        }
    }
    v = v.trim_matches(|c: char| c.is_whitespace() || matches!(c, '】' | ']' | '〗' | '|'));
    // `(责编：王洋)`: the line's closing bracket is not the value's
    for (open, close) in [('(', ')'), ('（', '）')] {
        if v.ends_with(close) && !v.contains(open) {
            v = v[..v.len() - close.len_utf8()].trim_end();
        }
    }
    v.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_line_with_counter_and_toolbar() {
        let mut m = Metadata::default();
        assert!(m.read_line(
            "发布时间：2021-03-30 10:20 来源：天津高新区 浏览次数：123 【打印】【关闭】"
        ));
        assert_eq!(
            m.fields.get("发布时间").map(String::as_str),
            Some("2021-03-30 10:20")
        );
        assert_eq!(m.fields.get("来源").map(String::as_str), Some("天津高新区"));
        assert!(!m.fields.contains_key("浏览次数"));
    }

    #[test]
    fn table_rows_with_spaced_labels_and_no_colons() {
        let mut m = Metadata::default();
        let row: Vec<String> = ["索 引 号：", "000014349/2021-00052", "主题分类", "综合政务"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert!(m.read_row(&row));
        let row: Vec<String> = ["标\u{3000}\u{3000}题", "关于印发2021年工作要点的通知"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert!(m.read_row(&row));
        assert_eq!(m.fields["索引号"], "000014349/2021-00052");
        assert_eq!(m.fields["主题分类"], "综合政务");
        assert_eq!(m.fields["标题"], "关于印发2021年工作要点的通知");
    }

    #[test]
    fn info_lines_led_by_a_date_or_a_toolbar() {
        let mut m = Metadata::default();
        assert!(m.read_line("时间：2021-05-25 信息来源：市应急管理局 【字体：大 中 小】"));
        assert!(m.read_line("2022-04-18 17:05 来源：市工业和信息化局 【打印】"));
        assert!(m.read_line("【我要纠错】 责任编辑：王洋"));
        assert_eq!(m.fields["时间"], "2021-05-25");
        assert_eq!(m.fields["信息来源"], "市应急管理局");
        assert_eq!(m.fields["来源"], "市工业和信息化局");
        assert_eq!(m.fields["责任编辑"], "王洋");
        let mut m = Metadata::default();
        assert!(m.read_line("2024年03月22日08:21 | 来源：人民网－人民日报"));
        assert_eq!(m.fields["来源"], "人民网－人民日报");
        assert!(m.read_line("(责编：王洋、李强)"));
        assert_eq!(m.fields["责编"], "王洋、李强");
        assert!(m.read_line("日期：2024-04-02 作者：农业科 浏览：次"));
        assert!(!m.fields.contains_key("浏览"));
    }

    #[test]
    fn overlapping_labels_do_not_break_a_line() {
        let mut m = Metadata::default();
        assert!(m.read_line("来源：市政府 新闻来源：新华社 发布时间：2024-01-01"));
        assert_eq!(m.fields["来源"], "市政府");
        assert_eq!(m.fields["新闻来源"], "新华社");
        assert_eq!(m.fields["发布时间"], "2024-01-01");
    }

    /// Several labels on one line with nothing between a value and the
    /// next label (issue 18).
    #[test]
    fn glued_labels_split_the_line() {
        let mut m = Metadata::default();
        assert!(m.read_line("来源：某某局文章类型：原创时间：2017-09-28 21:00浏览："));
        assert_eq!(m.fields["来源"], "某某局");
        assert_eq!(m.fields["文章类型"], "原创");
        assert_eq!(m.fields["时间"], "2017-09-28 21:00");
        assert!(!m.fields.contains_key("浏览"));
        let mut m = Metadata::default();
        assert!(m.read_line("发布时间：2020-07-16 18:25浏览次数："));
        assert_eq!(m.fields["发布时间"], "2020-07-16 18:25");
        assert_eq!(m.fields.len(), 1, "{:?}", m.fields);
    }

    #[test]
    fn data_table_headers_are_not_labels() {
        let mut m = Metadata::default();
        let row = |cells: &[&str]| cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        assert!(!m.read_row(&row(&["序号", "名称", "数量"])));
        assert!(!m.read_row(&row(&["1", "便携式计算机", "20"])));
        assert!(m.read_row(&row(&["名　　称：", "政府信息公开指南"])));
        assert_eq!(m.fields.len(), 1, "{:?}", m.fields);
    }

    #[test]
    fn sentences_with_colons_are_not_metadata() {
        let mut m = Metadata::default();
        assert!(!m.read_line("联系人：张三，联系电话：022-12345678。"));
        assert!(!m.read_line("根据《条例》规定，来源：略"));
        assert!(m.fields.is_empty());
    }
}
