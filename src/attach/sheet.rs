//! Spreadsheets: XLSX, XLS, ET (WPS's, an XLS inside) and ODS through
//! `calamine`, and CSV. A heading per sheet (its name), then one paragraph
//! per row, cells joined by ` | `, empty trailing cells dropped.

use super::{Budget, Read, ReadError};
use calamine::{Data, Reader};

/// The text of a workbook.
///
/// # Errors
/// [`ReadError`] when it is no workbook, is encrypted, or a bomb.
pub fn read(bytes: &[u8], budget: &Budget) -> Result<Read, ReadError> {
    if bytes.starts_with(b"PK\x03\x04") {
        // calamine inflates members whole: check the zip first
        bomb_check(bytes)?;
    }
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| classify(&e.to_string()))?;
    let mut read = Read::default();
    let names = book.sheet_names();
    read.pages = u32::try_from(names.len()).ok();
    for name in names {
        budget.check()?;
        let range = match book.worksheet_range(&name) {
            Ok(range) => range,
            Err(e) => {
                read.warnings.push(format!("sheet {name}: {e}"));
                continue;
            }
        };
        read.paragraphs.push(name.clone());
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(cell).collect();
            let used = cells
                .iter()
                .rposition(|c| !c.is_empty())
                .map_or(0, |i| i + 1);
            if used > 0 {
                read.paragraphs.push(cells[..used].join(" | "));
            }
        }
    }
    Ok(read)
}

/// A cell as text: numbers as written (`12` not `12.0`), dates ISO.
fn cell(data: &Data) -> String {
    match data {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::DateTime(d) if !d.is_duration() => excel_date(d.as_f64()),
        other => other.to_string().trim().to_owned(),
    }
}

/// An Excel date serial (days since 1899-12-30) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    let epoch = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).unwrap_or_default();
    #[allow(
        clippy::cast_possible_truncation,
        reason = "a date serial is far below i64"
    )]
    let days = serial.floor() as i64;
    epoch
        .checked_add_signed(chrono::TimeDelta::days(days))
        .map_or_else(|| serial.to_string(), |d| d.format("%Y-%m-%d").to_string())
}

fn classify(message: &str) -> ReadError {
    let lower = message.to_ascii_lowercase();
    if lower.contains("password") || lower.contains("encrypt") {
        ReadError::Encrypted
    } else {
        ReadError::Corrupt(format!("it is no readable workbook: {message}"))
    }
}

/// A zip whose members declare more than the inflation budget, or inflate
/// a thousandfold, is refused before calamine reads it whole.
fn bomb_check(bytes: &[u8]) -> Result<(), ReadError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| ReadError::Corrupt(format!("it is no readable zip: {e}")))?;
    let mut declared = 0_u64;
    for i in 0..archive.len() {
        let member = archive
            .by_index_raw(i)
            .map_err(|e| ReadError::Corrupt(e.to_string()))?;
        declared = declared.saturating_add(member.size());
        if super::ooxml::is_bomb(member.size(), member.compressed_size()) {
            return Err(ReadError::Bomb);
        }
    }
    if declared > super::MAX_INFLATED {
        return Err(ReadError::Bomb);
    }
    Ok(())
}

/// The text of a CSV file (any Chinese encoding): one paragraph per row.
///
/// # Errors
/// Never so far; the budget is checked.
pub fn read_csv(bytes: &[u8], budget: &Budget) -> Result<Read, ReadError> {
    let (text, warnings) = super::plain::decode(bytes);
    let mut read = Read {
        warnings,
        ..Read::default()
    };
    for (i, line) in text.lines().enumerate() {
        if i % 4096 == 0 {
            budget.check()?;
        }
        let cells = split_csv(line);
        if cells.iter().any(|c| !c.is_empty()) {
            read.paragraphs.push(cells.join(" | "));
        }
    }
    Ok(read)
}

/// One CSV line's cells (quotes and doubled quotes understood; a quoted
/// cell across lines stays split, which keeps its words).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cell.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            c => cell.push(c),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}
