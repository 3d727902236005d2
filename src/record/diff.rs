//! What changed between two versions of a record: the fields (title, date,
//! source, labelled metadata, attachments), then the body paragraph by
//! paragraph, with the changed characters or words marked *inside* a
//! changed paragraph. A one-phrase edit in a 300-character Chinese
//! paragraph is then one short marked passage, not two whole paragraphs.
//!
//! The flow: paragraphs (the lines of `text`) are diffed as units; a run of
//! removed and added paragraphs is paired up by similarity, and each pair is
//! diffed again on tokens (one CJK character, an ASCII word, a run of
//! spaces); tiny common runs between two changes are folded into them, so
//! that the marks follow the edit rather than every shared 的. `govsnap
//! diff` prints [`RecordDiff`]; the service's pages render it as
//! `<del>`/`<ins>`.

use super::Record;
use serde::Serialize;
use similar::{Algorithm, DiffOp, DiffTag, capture_diff_slices, group_diff_ops};

/// Paragraphs of context kept around a change.
const CONTEXT: usize = 1;
/// A removed and an added paragraph this similar (0–1) are one paragraph
/// changed; less, and they are shown as removed and added whole.
const PAIR_SIMILARITY: f32 = 0.5;
/// Common runs shorter than this many characters between two changes are
/// folded into the change.
const MIN_COMMON: usize = 3;
/// Past this many removed × added paragraphs in one run, pairs are made in
/// order instead of by best similarity (bounds the work on a rewrite).
const MAX_PAIRING: usize = 400;

/// What changed between two records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordDiff {
    /// Changed fields, in record order.
    pub fields: Vec<FieldChange>,
    /// Changed stretches of the body, with their context.
    pub hunks: Vec<Hunk>,
}

/// One changed field: `title`, `published`, `source`, `meta.LABEL`, or
/// `attachment` (`name <url>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The field's name.
    pub field: String,
    /// Its old value (`None`: absent).
    pub from: Option<String>,
    /// Its new value (`None`: removed).
    pub to: Option<String>,
}

/// A stretch of the body with changes and the paragraphs around them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    /// First old paragraph (1-based, as in a unified diff).
    pub old_start: usize,
    /// Old paragraphs covered.
    pub old_len: usize,
    /// First new paragraph (1-based).
    pub new_start: usize,
    /// New paragraphs covered.
    pub new_len: usize,
    /// The paragraphs, in order.
    pub lines: Vec<Line>,
}

/// One paragraph of a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Line {
    /// Unchanged (context).
    Same(String),
    /// Only in the old version.
    Removed(String),
    /// Only in the new version.
    Added(String),
    /// Changed: the passages kept, removed and added, in reading order.
    Changed(Vec<Segment>),
}

/// A passage of a changed paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// Kept, removed or added.
    pub kind: SegmentKind,
    /// The passage.
    pub text: String,
}

/// What happened to a passage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    /// In both versions.
    Same,
    /// Only in the old one.
    Removed,
    /// Only in the new one.
    Added,
}

impl RecordDiff {
    /// What changed from `old` to `new`.
    #[must_use]
    pub fn between(old: &Record, new: &Record) -> Self {
        let old_text: Vec<&str> = paragraphs(&old.text);
        let new_text: Vec<&str> = paragraphs(&new.text);
        let ops = capture_diff_slices(Algorithm::Myers, &old_text, &new_text);
        let hunks = group_diff_ops(ops, CONTEXT)
            .into_iter()
            .map(|group| hunk(&group, &old_text, &new_text))
            .collect();
        Self {
            fields: field_changes(old, new),
            hunks,
        }
    }

    /// Whether nothing changed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.hunks.is_empty()
    }
}

/// A unified diff of two texts, line by line (for tools: `patch`, review
/// tools, the service's `text` field).
#[must_use]
pub fn unified_text(old: &str, new: &str, old_head: &str, new_head: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(2)
        .header(old_head, new_head)
        .to_string()
}

fn paragraphs(text: &str) -> Vec<&str> {
    text.lines().collect()
}

fn field_changes(old: &Record, new: &Record) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut push = |field: String, from: Option<&str>, to: Option<&str>| {
        if from != to {
            out.push(FieldChange {
                field,
                from: from.map(str::to_owned),
                to: to.map(str::to_owned),
            });
        }
    };
    push("title".into(), old.title.as_deref(), new.title.as_deref());
    push(
        "published".into(),
        old.published.as_deref(),
        new.published.as_deref(),
    );
    push(
        "source".into(),
        old.source.as_deref(),
        new.source.as_deref(),
    );
    let labels: std::collections::BTreeSet<&String> =
        old.meta.keys().chain(new.meta.keys()).collect();
    for label in labels {
        push(
            format!("meta.{label}"),
            old.meta.get(label).map(String::as_str),
            new.meta.get(label).map(String::as_str),
        );
    }
    let shown = |a: &super::Attachment| format!("{} <{}>", a.name, a.url);
    for a in old
        .attachments
        .iter()
        .filter(|a| !new.attachments.contains(a))
    {
        push("attachment".into(), Some(&shown(a)), None);
    }
    for b in new
        .attachments
        .iter()
        .filter(|b| !old.attachments.contains(b))
    {
        push("attachment".into(), None, Some(&shown(b)));
    }
    out
}

fn hunk(group: &[DiffOp], old: &[&str], new: &[&str]) -> Hunk {
    let mut lines = Vec::new();
    for op in group {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => lines.extend(old[o].iter().map(|p| Line::Same((*p).to_owned()))),
            DiffTag::Delete => {
                lines.extend(old[o].iter().map(|p| Line::Removed((*p).to_owned())));
            }
            DiffTag::Insert => lines.extend(new[n].iter().map(|p| Line::Added((*p).to_owned()))),
            DiffTag::Replace => lines.extend(replaced(&old[o], &new[n])),
        }
    }
    let (first, last) = (&group[0], &group[group.len() - 1]);
    let old_start = first.old_range().start;
    let new_start = first.new_range().start;
    Hunk {
        old_start: old_start + 1,
        old_len: last.old_range().end - old_start,
        new_start: new_start + 1,
        new_len: last.new_range().end - new_start,
        lines,
    }
}

/// Removed paragraphs replaced by added ones: those alike are paired as
/// changed paragraphs (the pairing with the most similarity, in order);
/// the others are removed or added whole.
fn replaced(old: &[&str], new: &[&str]) -> Vec<Line> {
    let pairs = pair_up(old, new);
    let mut lines = Vec::new();
    let (mut i, mut j) = (0, 0);
    for (pi, pj) in pairs.into_iter().chain([(old.len(), new.len())]) {
        lines.extend(old[i..pi].iter().map(|p| Line::Removed((*p).to_owned())));
        lines.extend(new[j..pj].iter().map(|p| Line::Added((*p).to_owned())));
        if pi < old.len() && pj < new.len() {
            lines.push(Line::Changed(inline(old[pi], new[pj])));
        }
        (i, j) = (pi + 1, pj + 1);
    }
    lines
}

/// Pairs `(old index, new index)`, increasing in both, of paragraphs at
/// least [`PAIR_SIMILARITY`] alike, chosen to maximise the total similarity.
fn pair_up(old: &[&str], new: &[&str]) -> Vec<(usize, usize)> {
    if old.len() * new.len() > MAX_PAIRING {
        return (0..old.len().min(new.len()))
            .filter(|&k| similarity(old[k], new[k]) >= PAIR_SIMILARITY)
            .map(|k| (k, k))
            .collect();
    }
    let sim: Vec<Vec<f32>> = old
        .iter()
        .map(|a| new.iter().map(|b| similarity(a, b)).collect())
        .collect();
    // best[i][j]: the best total for old[i..] and new[j..]
    let (n, m) = (old.len(), new.len());
    let mut best = vec![vec![0.0_f32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            let mut b = best[i + 1][j].max(best[i][j + 1]);
            if sim[i][j] >= PAIR_SIMILARITY {
                b = b.max(sim[i][j] + best[i + 1][j + 1]);
            }
            best[i][j] = b;
        }
    }
    let (mut i, mut j, mut pairs) = (0, 0, Vec::new());
    while i < n && j < m {
        if sim[i][j] >= PAIR_SIMILARITY
            && (best[i][j] - (sim[i][j] + best[i + 1][j + 1])).abs() < f32::EPSILON
        {
            pairs.push((i, j));
            (i, j) = (i + 1, j + 1);
        } else if (best[i][j] - best[i + 1][j]).abs() < f32::EPSILON {
            i += 1;
        } else {
            j += 1;
        }
    }
    pairs
}

/// How alike two paragraphs are, 0–1, by their characters.
fn similarity(a: &str, b: &str) -> f32 {
    similar::TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_chars(a, b)
        .ratio()
}

/// One paragraph's changes, as passages kept, removed and added.
fn inline(old: &str, new: &str) -> Vec<Segment> {
    let (old_tokens, new_tokens) = (tokens(old), tokens(new));
    let ops = capture_diff_slices(Algorithm::Myers, &old_tokens, &new_tokens);
    // runs of kept text, and changes as (removed, added)
    let mut runs: Vec<Run> = Vec::new();
    for op in ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        let removed: String = old_tokens[old_range].concat();
        let added: String = new_tokens[new_range].concat();
        match (tag, runs.last_mut()) {
            (DiffTag::Equal, _) => runs.push(Run::Same(removed)),
            (_, Some(Run::Change(was_removed, was_added))) => {
                was_removed.push_str(&removed);
                was_added.push_str(&added);
            }
            _ => runs.push(Run::Change(removed, added)),
        }
    }
    fold_short_common(&mut runs);
    let mut segments = Vec::new();
    for run in runs {
        match run {
            Run::Same(t) => segments.push(Segment {
                kind: SegmentKind::Same,
                text: t,
            }),
            Run::Change(r, i) => {
                for (kind, text) in [(SegmentKind::Removed, r), (SegmentKind::Added, i)] {
                    if !text.is_empty() {
                        segments.push(Segment { kind, text });
                    }
                }
            }
        }
    }
    segments
}

#[derive(Debug)]
enum Run {
    Same(String),
    Change(String, String),
}

/// A common run of fewer than [`MIN_COMMON`] characters between two changes
/// becomes part of one change: `[-甲乙丙-]{+丁戊己+}` reads better than four
/// marks around a shared 的.
fn fold_short_common(runs: &mut Vec<Run>) {
    let mut k = 1;
    while k + 1 < runs.len() {
        let short = matches!(&runs[k], Run::Same(t) if t.chars().count() < MIN_COMMON);
        if short && matches!(runs[k - 1], Run::Change(..)) && matches!(runs[k + 1], Run::Change(..))
        {
            let (Run::Same(common), Run::Change(r2, i2)) = (runs.remove(k), runs.remove(k)) else {
                unreachable!("matched above");
            };
            if let Run::Change(r, i) = &mut runs[k - 1] {
                r.push_str(&common);
                r.push_str(&r2);
                i.push_str(&common);
                i.push_str(&i2);
            }
        } else {
            k += 1;
        }
    }
}

/// Diff units: a run of ASCII letters and digits (a word), a run of white
/// space, or any other single character (one CJK character, one mark).
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let joins = |d: char| {
            (c.is_ascii_alphanumeric() && d.is_ascii_alphanumeric())
                || (c.is_whitespace() && d.is_whitespace())
        };
        if chars.peek().is_some_and(|&(_, d)| joins(d)) {
            continue;
        }
        let end = i + c.len_utf8();
        out.push(&text[start..end]);
        start = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(text: &str) -> Record {
        Record {
            schema: 1,
            url: "http://www.example.gov.cn/t1.html".into(),
            title: Some("关于开展安全检查的通知".into()),
            published: Some("2024-01-01".into()),
            source: None,
            meta: [("文号".to_owned(), "某府发〔2024〕1号".to_owned())].into(),
            attachments: Vec::new(),
            sections: Vec::new(),
            text: text.into(),
            warnings: Vec::new(),
        }
    }

    const LONG: &str = "为切实做好安全生产工作，全面排查整治各类风险隐患，坚决防范遏制重特大事故发生，确保全区安全生产形势持续稳定，经区政府同意，决定于2024年3月至5月在全区范围内开展安全生产大检查，现将有关事项通知如下。";

    #[test]
    fn a_phrase_edit_is_marked_inside_its_paragraph() {
        let old = record(&format!("各街道、各部门：\n{LONG}\n一、工作要求"));
        let new_long = LONG.replace("3月至5月", "4月至6月");
        let mut new = record(&format!("各街道、各部门：\n{new_long}\n一、工作要求"));
        new.meta.insert("文号".into(), "某府发〔2024〕2号".into());
        let d = RecordDiff::between(&old, &new);
        assert_eq!(
            d.fields,
            [FieldChange {
                field: "meta.文号".into(),
                from: Some("某府发〔2024〕1号".into()),
                to: Some("某府发〔2024〕2号".into()),
            }]
        );
        assert_eq!(d.hunks.len(), 1);
        let changed: Vec<&Vec<Segment>> = d.hunks[0]
            .lines
            .iter()
            .filter_map(|l| match l {
                Line::Changed(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(changed.len(), 1, "{:?}", d.hunks);
        let marked: Vec<(SegmentKind, &str)> = changed[0]
            .iter()
            .filter(|s| s.kind != SegmentKind::Same)
            .map(|s| (s.kind, s.text.as_str()))
            .collect();
        // "3月至5" → "4月至6": one change, the shared 月至 folded into it
        assert_eq!(
            marked,
            [
                (SegmentKind::Removed, "3月至5"),
                (SegmentKind::Added, "4月至6")
            ]
        );
        // the rest of the paragraph is kept, not removed and re-added
        let kept: usize = changed[0]
            .iter()
            .filter(|s| s.kind == SegmentKind::Same)
            .map(|s| s.text.chars().count())
            .sum();
        assert!(kept > 80, "{kept}");
    }

    #[test]
    fn unlike_paragraphs_are_removed_and_added_whole() {
        let old = record("各街道、各部门：\n本通知自印发之日起施行。");
        let new = record("各街道、各部门：\n联系人：张三，电话：12345678。");
        let d = RecordDiff::between(&old, &new);
        assert!(d.fields.is_empty());
        let lines = &d.hunks[0].lines;
        assert!(lines.contains(&Line::Removed("本通知自印发之日起施行。".into())));
        assert!(lines.contains(&Line::Added("联系人：张三，电话：12345678。".into())));
        assert!(!lines.iter().any(|l| matches!(l, Line::Changed(_))));
    }

    #[test]
    fn words_and_characters_are_the_units() {
        assert_eq!(tokens("GB 18030编码"), ["GB", " ", "18030", "编", "码"]);
        assert!(RecordDiff::between(&record("甲\n乙"), &record("甲\n乙")).is_empty());
    }
}
