//! Golden tests: every fixture page's whole record, and the eval gate.
//!
//! Set `GOVSNAP_BLESS=1` to rewrite the expected records after a deliberate
//! change; review the diff before committing it.

mod common;

use pretty_assertions::assert_eq;

/// Strings that are boilerplate on every page of the corpus.
const NEVER_IN_BODY: &[&str] = &[
    "ICP备",
    "公网安备",
    "公网备案",
    "网站标识码",
    "分享到",
    "扫一扫在手机",
    "上一篇",
    "下一篇",
    "当前位置",
    "您的位置",
    "浏览次数",
    "打印本页",
    "关闭窗口",
    "版权所有",
    "Copyright",
];

#[test]
fn every_fixture_matches_its_expected_record() {
    let bless = std::env::var_os("GOVSNAP_BLESS").is_some();
    let cases = common::cases();
    assert!(cases.len() >= 15, "the corpus has {} pages", cases.len());
    for case in cases {
        let record = case.extract();
        let path = case.expected_path();
        if bless {
            let json = serde_json::to_string_pretty(&record).unwrap();
            std::fs::write(&path, json + "\n").unwrap();
            continue;
        }
        let expected: govsnap::Record = serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
        .unwrap();
        assert_eq!(record, expected, "{}", case.path);
    }
}

#[test]
fn eval_gate_keeps_the_document_and_drops_the_boilerplate() {
    for case in common::cases() {
        let record = case.extract();
        let body = common::body_strings(&record);
        for want in &case.with {
            assert!(
                record.text.contains(want.as_str()),
                "{}: body lost {want:?}",
                case.path
            );
        }
        for unwanted in case
            .without
            .iter()
            .map(String::as_str)
            .chain(NEVER_IN_BODY.iter().copied())
        {
            assert!(
                !body.iter().any(|s| s.contains(unwanted)),
                "{}: boilerplate {unwanted:?} left in the body",
                case.path
            );
        }
        assert!(record.title.is_some(), "{}: no title", case.path);
        assert!(record.published.is_some(), "{}: no date", case.path);
    }
}

#[test]
fn encodings_decode_from_real_bytes() {
    for case in common::cases() {
        let record = case.extract();
        assert!(
            !body_has_replacement(&record),
            "{}: U+FFFD in the body",
            case.path
        );
    }
    let gbk = common::cases()
        .into_iter()
        .find(|c| c.path.contains("wrong-declaration"))
        .unwrap();
    let bytes = gbk.bytes();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "the fixture is stored as GBK bytes"
    );
    let record = gbk.extract();
    assert_eq!(record.warnings.len(), 1);
    assert!(
        record.warnings[0].contains("decoded as GBK"),
        "{:?}",
        record.warnings
    );
}

fn body_has_replacement(r: &govsnap::Record) -> bool {
    common::body_strings(r)
        .iter()
        .any(|s| s.contains('\u{FFFD}'))
        || r.title.as_deref().is_some_and(|t| t.contains('\u{FFFD}'))
}
