//! WACZ 1.1.1 (SPEC §12), the web archive as one zip that replay tools
//! (ReplayWeb.page, pywb) open: the WARC, stored as it is
//! (`archive/data.warc.gz`, its records already gzip members), a CDXJ
//! index of its captures sorted by SURT key and time (`indexes/index.cdx`),
//! the documents as its page list (`pages/pages.jsonl`), and
//! `datapackage.json` naming every file with its SHA-256, itself digested
//! in `datapackage-digest.json`.
//!
//! Flow: `govsnap export --format wacz` writes the WARC to a temporary
//! file, keeping each version's [`Indexed`] entry; [`write()`] then builds
//! the zip from them, hashing each file as it is copied in. Reading a
//! WACZ is reading the WARCs it holds ([`warcs`]).

use super::Indexed;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};

/// The WARC's path inside the zip.
const WARC_PATH: &str = "archive/data.warc.gz";

/// Write the WACZ at `out` from the WARC at `warc` and its captures'
/// index entries.
///
/// # Errors
/// When a file cannot be read or written.
pub fn write(
    out: impl Write + Seek,
    warc: &Path,
    index: &[Indexed],
    title: &str,
    created: &str,
) -> io::Result<()> {
    let mut zip = zip::ZipWriter::new(out);
    let mut resources = Vec::new();
    // the members dated now (zip's default is 1980)
    let now = {
        use chrono::{Datelike, Timelike};
        let t = chrono::Utc::now();
        zip::DateTime::from_date_and_time(
            u16::try_from(t.year()).unwrap_or(1980),
            u8::try_from(t.month()).unwrap_or(1),
            u8::try_from(t.day()).unwrap_or(1),
            u8::try_from(t.hour()).unwrap_or(0),
            u8::try_from(t.minute()).unwrap_or(0),
            u8::try_from(t.second()).unwrap_or(0),
        )
        .unwrap_or_default()
    };
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(now)
        .large_file(std::fs::metadata(warc)?.len() > u64::from(u32::MAX));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(now);
    zip.start_file(WARC_PATH, stored)
        .map_err(io::Error::other)?;
    let mut hashing = Hashing::new(&mut zip);
    io::copy(&mut std::fs::File::open(warc)?, &mut hashing)?;
    resources.push(hashing.resource(WARC_PATH));

    let mut add = |zip: &mut zip::ZipWriter<_>, path: &str, bytes: &[u8]| -> io::Result<()> {
        zip.start_file(path, deflated).map_err(io::Error::other)?;
        let mut hashing = Hashing::new(zip);
        hashing.write_all(bytes)?;
        resources.push(hashing.resource(path));
        Ok(())
    };
    add(&mut zip, "indexes/index.cdx", cdxj(index).as_bytes())?;
    add(&mut zip, "pages/pages.jsonl", pages(index).as_bytes())?;
    let package = serde_json::json!({
        "profile": "data-package",
        "wacz_version": "1.1.1",
        "title": title,
        "created": created,
        "modified": created,
        "software": concat!("govsnap ", env!("CARGO_PKG_VERSION")),
        "mainPageUrl": index.iter().find(|e| !e.attachment).map(|e| e.url.clone()),
        "mainPageDate": index.iter().find(|e| !e.attachment).map(|e| e.date.clone()),
        "resources": resources,
    });
    let package = serde_json::to_vec_pretty(&package).map_err(io::Error::other)?;
    zip.start_file("datapackage.json", deflated)
        .map_err(io::Error::other)?;
    zip.write_all(&package)?;
    let digest = serde_json::json!({
        "path": "datapackage.json",
        "hash": format!("sha256:{}", hex(&Sha256::digest(&package))),
    });
    zip.start_file("datapackage-digest.json", deflated)
        .map_err(io::Error::other)?;
    zip.write_all(&serde_json::to_vec_pretty(&digest).map_err(io::Error::other)?)?;
    zip.finish().map_err(io::Error::other)?;
    Ok(())
}

/// The CDXJ index: one line per capture, `SURT TIMESTAMP {json}`, sorted.
#[must_use]
pub fn cdxj(index: &[Indexed]) -> String {
    let mut lines: Vec<String> = index
        .iter()
        .map(|e| {
            let json = serde_json::json!({
                "url": e.url,
                "mime": e.mime,
                "status": e.status.to_string(),
                "digest": e.digest.strip_prefix("sha1:").unwrap_or(&e.digest),
                "length": e.placed.length.to_string(),
                "offset": e.placed.offset.to_string(),
                "filename": "data.warc.gz",
            });
            format!("{} {} {json}", surt(&e.url), timestamp14(&e.date))
        })
        .collect();
    lines.sort();
    let mut out = String::new();
    for line in lines {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The page list: its header line, then each document version's URL,
/// time and title (files are captures, not pages).
fn pages(index: &[Indexed]) -> String {
    let mut out =
        String::from("{\"format\":\"json-pages-1.0\",\"id\":\"pages\",\"title\":\"All Pages\"}\n");
    for e in index.iter().filter(|e| !e.attachment) {
        let mut page = serde_json::json!({ "url": e.url, "ts": e.date });
        if let Some(title) = &e.title {
            page["title"] = title.clone().into();
        }
        let _ = writeln!(out, "{page}");
    }
    out
}

/// A URL's SURT key as the CDX servers' canonicalizer writes it (the
/// Internet Archive's, which pywb and ReplayWeb.page use): lower case,
/// scheme and `www.` dropped, host labels reversed and closed with `)`,
/// the default port dropped, the query's parameters sorted, no fragment,
/// no trailing slash past the root.
#[must_use]
pub fn surt(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_ascii_lowercase();
    };
    let host = parsed.host_str().unwrap_or("").to_ascii_lowercase();
    let host = strip_www(&host);
    let mut key: String = host.split('.').rev().collect::<Vec<_>>().join(",");
    if let Some(port) = parsed.port() {
        let _ = write!(key, ":{port}");
    }
    key.push(')');
    let path = parsed.path().to_ascii_lowercase();
    let path = if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        "/"
    };
    key.push_str(path);
    if let Some(query) = parsed.query().filter(|q| !q.is_empty()) {
        let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
        params.sort_unstable();
        key.push('?');
        key.push_str(&params.join("&").to_ascii_lowercase());
    }
    key
}

/// A host without its `www.` (or `www2.` …) label.
fn strip_www(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix("www") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Some(after) = rest[digits..].strip_prefix('.')
            && after.contains('.')
        {
            return after;
        }
    }
    host
}

/// An RFC 3339 time as the 14 digits CDX indexes use.
fn timestamp14(date: &str) -> String {
    date.bytes()
        .filter(u8::is_ascii_digit)
        .take(14)
        .map(char::from)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A writer that hashes and counts what passes, for `datapackage.json`.
struct Hashing<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    fn resource(self, path: &str) -> serde_json::Value {
        serde_json::json!({
            "name": path.rsplit('/').next().unwrap_or(path),
            "path": path,
            "hash": format!("sha256:{}", hex(&self.hash.finalize())),
            "bytes": self.bytes,
        })
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The WARC files a WACZ holds, copied out of the zip into `dir` (a
/// stored member is copied as it is, a buffer at a time), in the zip's
/// order.
///
/// # Errors
/// When the file is no zip, or a member cannot be read or written.
pub fn warcs(wacz: &Path, dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(wacz)?).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is no WACZ (not a zip: {e})", wacz.display()),
        )
    })?;
    let mut paths = Vec::new();
    for i in 0..zip.len() {
        let mut member = zip.by_index(i).map_err(io::Error::other)?;
        let name = member.name().map_err(io::Error::other)?.into_owned();
        let lower = name.to_ascii_lowercase();
        let is_archive = lower.starts_with("archive/")
            && [".warc", ".warc.gz", ".arc", ".arc.gz"]
                .iter()
                .any(|s| lower.ends_with(s));
        if !is_archive {
            continue;
        }
        let file_name = name.rsplit('/').next().unwrap_or(&name);
        let path = dir.join(format!("{i:04}-{file_name}"));
        let mut out = std::fs::File::create(&path)?;
        io::copy(&mut member, &mut out)?;
        paths.push(path);
    }
    if paths.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} holds no WARC under archive/", wacz.display()),
        ));
    }
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surt_keys_are_the_cdx_servers() {
        assert_eq!(
            surt("http://www.example.gov.cn/zwgk/czj/t20240305_1.html"),
            "cn,gov,example)/zwgk/czj/t20240305_1.html"
        );
        assert_eq!(surt("https://WWW2.Example.gov.cn/"), "cn,gov,example)/");
        assert_eq!(
            surt("http://xxgk.example.gov.cn:8080/col/?b=2&a=1#top"),
            "cn,gov,example,xxgk:8080)/col?a=1&b=2"
        );
        assert_eq!(surt("http://www.cn/"), "cn,www)/");
        assert_eq!(timestamp14("2024-03-05T08:00:05.123Z"), "20240305080005");
    }
}
