//! Attachments' text (SPEC §11, issue 30): files of the kinds government
//! sites link, made by the libraries that make them in the wild
//! (`tests/fixtures/attachments/make.py`: python-docx, openpyxl, xlwt,
//! odfpy), read through `govsnap::attach` and the real binary's `extract`.

mod common;

use govsnap::attach::{self, AttachmentRecord, FileInfo, Format};
use std::path::PathBuf;
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    common::fixtures_dir().join("attachments").join(name)
}

fn read(name: &str) -> AttachmentRecord {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let format = attach::detect(&bytes, Some(name), None).expect("a known format");
    let info = FileInfo {
        name: Some(name),
        ..FileInfo::default()
    };
    attach::extract(&bytes, format, info, attach::DEFAULT_TIME_BUDGET)
}

#[test]
fn a_word_document_gives_its_paragraphs_its_table_by_rows_and_its_properties() {
    let record = read("budget.docx");
    assert_eq!(record.format, "docx");
    assert_eq!(record.kind, "attachment");
    assert_eq!(
        record.title.as_deref(),
        Some("某某区财政局2024年部门预算公开说明")
    );
    assert_eq!(record.published.as_deref(), Some("2024-03-05"));
    let lines: Vec<&str> = record.text.lines().collect();
    assert_eq!(
        lines,
        [
            "某某区财政局2024年部门预算公开说明",
            "一、部门主要职责",
            "贯彻执行国家财政、税收方针政策，拟订全区财政发展规划和政策措施。",
            "二、收支预算总表",
            "项目 | 2023年 | 2024年",
            "一般公共预算 | 1,234.56 | 1,305.20",
            "政府性基金 | 210.00 | 198.50",
            "注：单位为万元。R&D 经费 < 5%。",
        ]
    );
    assert!(record.warnings.is_empty(), "{:?}", record.warnings);
    assert_eq!(record.hash.len(), 64);
}

#[test]
fn spreadsheets_give_a_heading_per_sheet_and_a_line_per_row() {
    let record = read("budget.xlsx");
    assert_eq!(record.pages, Some(2));
    assert_eq!(
        record.text.lines().collect::<Vec<_>>(),
        [
            "收入预算",
            "科目编码 | 科目名称 | 金额（万元） | 日期",
            "101 | 税收收入 | 1305.2 | 2024-03-05",
            "103 | 非税收入 | 120 | 2024-03-06",
            "支出预算",
            "201 | 一般公共服务支出 | 456.78",
            "208 | 社会保障和就业支出 | 300",
        ]
    );
    let legacy = read("legacy.xls");
    assert_eq!(legacy.format, "xls");
    assert_eq!(
        legacy.text,
        "统计表\n地区 | 人口（万人）\n东城区 | 70\n西城区 | 110"
    );
}

#[test]
fn opendocument_csv_and_text_in_chinese_encodings_are_read() {
    let odt = read("notice.odt");
    assert_eq!(odt.title.as_deref(), Some("关于开展安全生产大检查的通知"));
    assert_eq!(odt.published.as_deref(), Some("2024-05-20"));
    assert!(
        odt.text
            .ends_with("检查对象 | 牵头单位\n危险化学品企业 | 应急管理局")
    );
    // GBK, a quoted cell holding a comma
    let csv = read("data.csv");
    assert_eq!(
        csv.text,
        "序号 | 单位名称 | 金额,万元\n1 | 某某区教育局 | 1,200\n2 | 某某区卫健委 | 860"
    );
    // GB18030
    let txt = read("notice.txt");
    assert_eq!(txt.title.as_deref(), Some("关于调整办公时间的通知"));
    assert!(txt.text.contains("夏季办公时间调整为8:30至17:30"));
}

#[test]
fn a_zip_gives_its_member_names_and_the_text_of_its_documents() {
    let record = read("bundle.zip");
    let lines: Vec<&str> = record.text.lines().collect();
    assert_eq!(lines[0], "附件1：部门预算公开说明.docx");
    assert!(lines.contains(&"一般公共预算 | 1,234.56 | 1,305.20"));
    assert!(lines.contains(&"附件2：资金分配表.csv"));
    assert!(lines.contains(&"2 | 某某区卫健委 | 860"));
}

/// RAR (rarlab's unrar) and 7Z (LZMA2, as 7-Zip writes): the same
/// bundle (`make_archives.py`), its members named in order, each followed
/// by its text.
#[test]
fn rar_and_7z_give_their_member_names_and_the_text_of_their_documents() {
    for (name, format) in [("bundle.rar", "rar"), ("bundle.7z", "7z")] {
        let record = read(name);
        assert_eq!(record.format, format);
        assert!(record.warnings.is_empty(), "{name}: {:?}", record.warnings);
        let lines: Vec<&str> = record.text.lines().collect();
        let at = |line: &str| {
            lines
                .iter()
                .position(|l| *l == line)
                .unwrap_or_else(|| panic!("{name}: no {line:?} in {lines:?}"))
        };
        assert_eq!(at("附件1：部门预算公开说明.docx"), 0, "{name}");
        let docx_row = at("一般公共预算 | 1,234.56 | 1,305.20");
        let xlsx = at("附件2：预算公开表.xlsx");
        let xlsx_row = at("101 | 税收收入 | 1305.2 | 2024-03-05");
        let txt = at("说明.txt");
        let gbk = at("本压缩包含2024年部门预算公开材料，共两个附件。");
        assert!(
            docx_row < xlsx && xlsx < xlsx_row && xlsx_row < txt && txt < gbk,
            "{name}"
        );
    }
}

#[test]
fn hostile_files_get_a_record_with_the_reason_never_a_panic() {
    let bomb = read("bomb.docx");
    assert_eq!(bomb.text, "");
    assert!(
        bomb.warnings[0].contains("decompression bomb"),
        "{:?}",
        bomb.warnings
    );
    let cut = read("truncated.docx");
    assert_eq!(cut.format, "docx", "the name tells what the bytes cannot");
    assert!(
        cut.warnings[0].contains("no readable zip"),
        "{:?}",
        cut.warnings
    );
    // every prefix of a real document, and a run of its bytes flipped
    let whole = std::fs::read(fixture("budget.xlsx")).unwrap();
    for cut in (0..whole.len()).step_by(97) {
        let mut bytes = whole[..cut].to_vec();
        if let Some(b) = bytes.get_mut(cut / 2) {
            *b ^= 0x5A;
        }
        let record = attach::extract(
            &bytes,
            Format::Xlsx,
            FileInfo::default(),
            Duration::from_secs(5),
        );
        assert_eq!(record.bytes, cut as u64);
    }
}

/// Locked files (`make_locked.py`): a PDF that needs a password to open,
/// DOCX and XLSX saved with one (Office's encryption), a Word binary that
/// says it is encrypted, each stored with the reason and no text; a PDF
/// locked only against printing and copying (an empty user password, as
/// most locked government PDFs are) is read as any other.
#[test]
fn locked_files_say_so_and_files_locked_only_against_copying_are_read() {
    for (name, format) in [
        ("locked.pdf", "pdf"),
        ("budget-locked.docx", "docx"),
        ("budget-locked.xlsx", "xlsx"),
        ("budget-locked.doc", "doc"),
    ] {
        let record = read(name);
        assert_eq!(record.format, format, "{name}");
        assert_eq!(record.text, "", "{name}");
        assert_eq!(
            record.warnings,
            ["encrypted: its text cannot be read without the password"],
            "{name}"
        );
    }
    let record = read("restricted.pdf");
    assert!(record.warnings.is_empty(), "{:?}", record.warnings);
    assert_eq!(
        record.text.lines().collect::<Vec<_>>(),
        [
            "某某县人民政府关于2024年度财政预算执行情况的报告",
            "一、预算收入执行情况",
            "全县一般公共预算收入完成12.3亿元，增长5.1%。",
            "二、预算支出执行情况",
            "全县一般公共预算支出完成35.6亿元，增长3.2%。",
        ]
    );
}

#[test]
fn extract_prints_an_attachments_record() {
    let path = fixture("budget.docx");
    let out = common::govsnap(&["extract", path.to_str().unwrap()]);
    let record: serde_json::Value = serde_json::from_str(&common::ok(&out)).unwrap();
    assert_eq!(record["kind"], "attachment");
    assert_eq!(record["format"], "docx");
    assert_eq!(record["name"], "budget.docx");
    assert!(
        record["text"]
            .as_str()
            .unwrap()
            .contains("政府性基金 | 210.00 | 198.50")
    );
    // among several inputs, one record per line with its file
    let csv = fixture("data.csv");
    let out = common::govsnap(&["extract", path.to_str().unwrap(), csv.to_str().unwrap()]);
    let lines: Vec<serde_json::Value> = common::ok(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["format"], "csv");
    assert!(lines[1]["file"].as_str().unwrap().ends_with("data.csv"));
}

/// The notice's lines, as `make_pdf.py` sets them.
const NOTICE: [&str; 13] = [
    "某某区人民政府办公室关于印发",
    "《某某区政府信息公开工作实施办法》的通知",
    "各街道办事处，区政府各委、办、局：",
    "经区政府同意，现将《某某区政府信息公开工作实施办法》印发给你们，",
    "请认真贯彻执行。",
    "一、总体要求",
    "坚持以公开为常态、不公开为例外，推进决策、执行、管理、服务、结果公开。",
    "二、主要任务",
    "（一）加强政策解读。对出台的重要政策文件，同步发布解读材料。",
    "（二）回应社会关切。健全政务舆情收集、研判、处置和回应机制。",
    "附件：2024年政务公开工作要点（共12项）",
    "某某区人民政府办公室",
    "2024年3月5日",
];

#[test]
fn pdfs_give_their_text_layer_in_reading_order_from_embedded_and_cid_fonts() {
    // an embedded TrueType subset (ToUnicode), and STSong-Light, not
    // embedded, through the predefined UniGB-UCS2-H CMap
    for name in ["notice-embedded.pdf", "notice-stsong.pdf"] {
        let record = read(name);
        assert_eq!(record.format, "pdf");
        assert_eq!(record.pages, Some(1));
        assert_eq!(record.text.lines().collect::<Vec<_>>(), NOTICE, "{name}");
        assert_eq!(
            record.title.as_deref(),
            Some("关于印发政府信息公开工作实施办法的通知"),
            "the document information's title"
        );
        assert!(record.warnings.is_empty(), "{name}: {:?}", record.warnings);
    }
    // a table drawn cell by cell keeps its rows and cells
    let table = read("table.pdf");
    assert_eq!(
        table.text.lines().nth(2),
        Some("一般公共预算拨款 | 1,234.56 | 1,305.20 | 70.64")
    );
    // twenty pages, in order
    let report = read("report.pdf");
    assert_eq!(report.pages, Some(20));
    let heads: Vec<&str> = report
        .text
        .lines()
        .filter(|l| l.starts_with('第'))
        .collect();
    assert_eq!(heads.len(), 20);
    assert!(heads[19].starts_with("第20页"));
    // a scan has no text layer
    let scan = read("scan.pdf");
    assert_eq!(scan.text, "");
    assert_eq!(scan.warnings, ["no text layer"]);
}

#[test]
fn word_and_wps_binaries_ofd_and_rtf_are_read() {
    for name in ["budget.doc", "notice.wps"] {
        let record = read(name);
        assert_eq!(record.format, &name[name.len() - 3..]);
        assert_eq!(
            record.title.as_deref(),
            Some("某某区财政局2024年部门预算公开说明"),
            "the title property, whatever its code page"
        );
        assert!(
            record.text.contains(
                "二、收支预算总表\n项目 | 2023年 | 2024年\n一般公共预算 | 1,234.56 | 1,305.20"
            ),
            "{name}: {}",
            record.text
        );
    }
    let ofd = read("notice.ofd");
    assert_eq!(ofd.title.as_deref(), Some("关于做好2024年防汛工作的通知"));
    assert_eq!(ofd.published.as_deref(), Some("2024-06-01"));
    assert_eq!(ofd.pages, Some(2));
    // page 2's objects are written out of order: read in reading order
    assert!(
        ofd.text
            .ends_with("二、重点部位\n部位 | 责任单位\n城区低洼地段 | 住建局\n某某区防汛抗旱指挥部\n<2024年6月1日>"),
        "{}",
        ofd.text
    );
    let rtf = read("notice.rtf");
    assert_eq!(rtf.text, "关于召开安全生产会议的通知\n会议定于6月3日召开。");
}

/// A small deterministic generator, so that a failure names its input.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }
}

/// `bytes` mutated as broken downloads and broken writers break files:
/// bytes flipped, a cut, a run zeroed, a chunk repeated.
fn mutate(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(out.len());
        match rng.below(4) {
            0 => out[at] ^= u8::try_from(rng.below(255) + 1).unwrap(),
            1 => out.truncate(at.max(1)),
            2 => {
                let end = (at + rng.below(64)).min(out.len());
                out[at..end].fill(0);
            }
            _ => {
                let end = (at + rng.below(256)).min(out.len());
                let chunk = out[at..end].to_vec();
                out.splice(at..at, chunk);
            }
        }
        if out.is_empty() {
            out.push(0);
        }
    }
    out
}

/// 3,000 mutated PDFs, DOCX, XLSX, OFDs, RARs and 7Zs: each gets a record,
/// within its budget, and none takes the test down.
#[test]
fn three_thousand_mutated_files_each_get_a_record_within_budget() {
    let budget = Duration::from_secs(10);
    for (seed, name) in [
        (1, "notice-embedded.pdf"),
        (2, "budget.docx"),
        (3, "budget.xlsx"),
        (4, "notice.ofd"),
        (5, "bundle.rar"),
        (6, "bundle.7z"),
    ] {
        let whole = std::fs::read(fixture(name)).unwrap();
        let format = attach::detect(&whole, Some(name), None).unwrap();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed);
        for i in 0..500 {
            let bytes = mutate(&whole, &mut rng);
            let started = std::time::Instant::now();
            let record = attach::extract(&bytes, format, FileInfo::default(), budget);
            assert_eq!(record.bytes, bytes.len() as u64, "{name} #{i}");
            // the reader is cut off at the budget (and a second's grace)
            assert!(
                started.elapsed() < budget + Duration::from_secs(5),
                "{name} #{i}"
            );
        }
    }
}
