//! OFD (GB/T 33190-2016), the national fixed-layout format of 电子公文: a
//! zip whose `OFD.xml` names the document (`DocRoot`) and its `DocInfo`,
//! whose `Document.xml` lists the pages (`BaseLoc`), each page's
//! `Content.xml` holding `TextObject`s placed by their `Boundary` (in
//! millimetres, y downwards) with `TextCode` runs. No crate reads it; this
//! does, as the PDF reader makes lines: objects on one baseline are one
//! line, left to right, a gap wider than the type's size a table's cell
//! boundary (` | `), pages in the order the document lists them.

use super::ooxml::{Zipped, element_text, resolve};
use super::{Budget, Read, ReadError};
use quick_xml::events::Event;

/// The text of an OFD.
///
/// # Errors
/// [`ReadError`] when it is no OFD, or a bomb.
pub fn read(bytes: &[u8], budget: &Budget) -> Result<Read, ReadError> {
    let mut zip = Zipped::open(bytes)?;
    let ofd = zip
        .text("OFD.xml")?
        .ok_or_else(|| ReadError::Corrupt("it has no OFD.xml".to_owned()))?;
    let root = element_text(&ofd, &["ofd:DocRoot"])
        .ok_or_else(|| ReadError::Corrupt("OFD.xml names no DocRoot".to_owned()))?;
    let root = join("", &root);
    let document = zip
        .text(&root)?
        .ok_or_else(|| ReadError::Corrupt(format!("it has no {root}")))?;
    let mut read = Read {
        title: element_text(&ofd, &["ofd:Title"]),
        published: element_text(&ofd, &["ofd:CreationDate"])
            .and_then(|d| d.get(..10).map(str::to_owned)),
        ..Read::default()
    };
    let pages = page_locations(&document);
    read.pages = u32::try_from(pages.len()).ok();
    let dir = root.rsplit_once('/').map_or("", |(d, _)| d);
    for location in pages {
        budget.check()?;
        let path = join(dir, &location);
        match zip.text(&path)? {
            Some(content) => read.paragraphs.extend(lines(text_objects(&content)?)),
            None => read.warnings.push(format!("page {path} is missing")),
        }
    }
    if read.paragraphs.is_empty() {
        read.warnings.push("no text layer".to_owned());
    }
    Ok(read)
}

/// A zip path: `location` under `dir`, or from the root when it starts
/// with `/`.
fn join(dir: &str, location: &str) -> String {
    match location.strip_prefix('/') {
        Some(absolute) => absolute.to_owned(),
        None if dir.is_empty() => location.to_owned(),
        None => format!("{dir}/{location}"),
    }
}

/// The `BaseLoc` of each `Page`, in the document's order.
fn page_locations(document: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(document);
    let mut pages = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.name().as_ref() == "ofd:Page" => {
                if let Some(loc) = attribute(&e, "BaseLoc") {
                    pages.push(loc);
                }
            }
            Ok(Event::Eof) | Err(_) => return pages,
            _ => {}
        }
    }
}

fn attribute(e: &quick_xml::events::BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name)
        .and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).ok())
        .map(std::borrow::Cow::into_owned)
}

/// A placed run of text: where it starts, its size, its text.
#[derive(Debug)]
struct Placed {
    x: f32,
    y: f32,
    size: f32,
    text: String,
}

/// A page's text runs, each `TextCode` placed by its object's `Boundary`
/// and its own `X`/`Y`.
fn text_objects(content: &str) -> Result<Vec<Placed>, ReadError> {
    let mut reader = quick_xml::Reader::from_str(content);
    let mut placed = Vec::new();
    let (mut origin, mut size) = ((0.0, 0.0), 3.5);
    let mut current: Option<Placed> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| ReadError::Corrupt(format!("a page's XML is malformed: {e}")))?;
        match event {
            Event::Start(e) if e.name().as_ref() == "ofd:TextObject" => {
                let boundary = attribute(&e, "Boundary").unwrap_or_default();
                let mut numbers = boundary
                    .split_whitespace()
                    .map(|n| n.parse().unwrap_or(0.0));
                origin = (numbers.next().unwrap_or(0.0), numbers.next().unwrap_or(0.0));
                size = attribute(&e, "Size")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(3.5);
            }
            Event::Start(e) if e.name().as_ref() == "ofd:TextCode" => {
                let at = |name| attribute(&e, name).and_then(|v| v.parse::<f32>().ok());
                current = Some(Placed {
                    x: origin.0 + at("X").unwrap_or(0.0),
                    y: origin.1 + at("Y").unwrap_or(0.0),
                    size,
                    text: String::new(),
                });
            }
            Event::Text(t) => {
                if let Some(p) = &mut current {
                    p.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(p) = &mut current {
                    p.text.push_str(&resolve(&r));
                }
            }
            Event::End(e) if e.name().as_ref() == "ofd:TextCode" => {
                placed.extend(current.take().filter(|p| !p.text.trim().is_empty()));
            }
            Event::Eof => return Ok(placed),
            _ => {}
        }
    }
}

/// Runs as lines: top to bottom (OFD's y grows downwards), left to right.
fn lines(mut runs: Vec<Placed>) -> Vec<String> {
    runs.sort_by(|a, b| a.y.total_cmp(&b.y).then(a.x.total_cmp(&b.x)));
    let mut lines: Vec<Vec<Placed>> = Vec::new();
    for run in runs {
        match lines.last_mut() {
            Some(line) if (line[0].y - run.y).abs() <= line[0].size.max(run.size) * 0.5 => {
                line.push(run);
            }
            _ => lines.push(vec![run]),
        }
    }
    lines
        .into_iter()
        .map(|mut line| {
            line.sort_by(|a, b| a.x.total_cmp(&b.x));
            let mut text = String::new();
            let mut end: Option<f32> = None;
            for run in &line {
                if end.is_some_and(|end| run.x - end > run.size) {
                    text.push_str(" | ");
                }
                text.push_str(run.text.trim());
                end = Some(run.x + width(&run.text, run.size));
            }
            text
        })
        .collect()
}

/// A run's width, estimated: a CJK character a full em, others half.
fn width(text: &str, size: f32) -> f32 {
    let ems: f32 = text
        .chars()
        .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
        .sum();
    ems * size
}
