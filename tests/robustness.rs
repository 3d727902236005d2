//! Every byte sequence is expected input: arbitrary bytes and randomly
//! mutated fixture pages go through the whole pipeline without a panic, and
//! whatever comes out is a valid record.

mod common;

use govsnap::{ExtractOptions, Page, Record, extract};
use proptest::prelude::*;
use std::sync::LazyLock;

static FIXTURES: LazyLock<Vec<Vec<u8>>> =
    LazyLock::new(|| common::cases().iter().map(common::Case::bytes).collect());

fn run(bytes: &[u8], content_type: Option<&str>) {
    let page = Page {
        bytes,
        url: Some("http://www.example.gov.cn/gk/t20210330_1.html"),
        content_type,
        ..Page::default()
    };
    if let Ok(record) = extract(&page, None, ExtractOptions::default()) {
        check(&record);
    }
}

/// The record survives a JSON round trip and its text agrees with its sections.
fn check(record: &Record) {
    let json = serde_json::to_string(record).expect("serializes");
    let back: Record = serde_json::from_str(&json).expect("valid UTF-8 JSON");
    assert_eq!(&back, record);
    assert!(!record.text.contains('\u{0}'));
    for line in record.text.lines() {
        assert!(!line.is_empty(), "empty paragraphs are dropped");
        assert_eq!(line, line.trim(), "paragraphs are trimmed");
    }
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Tag(usize, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), 0usize..400).prop_map(|(i, n)| Mutation::Delete(i, n)),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..64)
        )
            .prop_map(|(i, b)| Mutation::Insert(i, b)),
        (
            any::<usize>(),
            prop::sample::select(vec![
                "<table>",
                "</div>",
                "<a href=\"x.pdf\">",
                "<p>一、",
                "<br>",
                "</html>",
                "<!--",
                "<script>",
                "<meta charset=\"big5\">",
                "\u{FEFF}",
                "<td>",
                "第一条",
                "（一）",
                "<nav>",
                "</a></a>",
                "<h1>",
                "&#x0;",
                "<svg><p>",
            ])
        )
            .prop_map(|(i, t)| Mutation::Tag(i, t)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Flip(i, b) => {
                if !bytes.is_empty() {
                    let i = i % bytes.len();
                    bytes[i] ^= b;
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Delete(i, n) => {
                let start = i % len;
                let end = (start + n).min(bytes.len());
                if start < end {
                    bytes.drain(start..end);
                }
            }
            Mutation::Insert(i, b) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Tag(i, t) => {
                let at = (i % len).min(bytes.len());
                bytes.splice(at..at, t.bytes());
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        run(&bytes, None);
        run(&bytes, Some("text/html; charset=gbk"));
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in any::<prop::sample::Index>(),
        mutations in proptest::collection::vec(mutation(), 1..12),
    ) {
        let original = which.get(&FIXTURES).clone();
        run(&apply(original, &mutations), None);
    }
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let depth = 4_000;
    let mut page = "<html><body>".to_owned();
    page.push_str(&"<div><span>".repeat(depth));
    page.push_str("<p>深层嵌套的正文内容，用于检验解析器不会因为递归过深而崩溃。</p>");
    page.push_str(&"</span></div>".repeat(depth));
    page.push_str("</body></html>");
    let handle = std::thread::Builder::new()
        .stack_size(512 << 10)
        .spawn(move || run(page.as_bytes(), None))
        .unwrap();
    handle.join().expect("no stack overflow");
}
