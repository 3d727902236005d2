//! WARC records written as other tools write them, for the ingest tests.

/// One WARC record (`version` `WARC/1.0` for Heritrix, `WARC/1.1` for
/// Browsertrix, `WARC/0.17` for the Internet Archive's older writers).
pub fn warc_record(version: &str, fields: &[(&str, &str)], block: &[u8]) -> Vec<u8> {
    let mut out = format!("{version}\r\n");
    for (name, value) in fields {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n", block.len()));
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(block);
    bytes.extend_from_slice(b"\r\n\r\n");
    bytes
}

/// `bytes` as one gzip member.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// Assert that the reference reader (Python's warcio, `scripts/test` puts
/// it in `.ci/venv`) finds every digest and length of `warc` right.
pub fn assert_warcio_checks(warc: &std::path::Path) {
    let check = std::process::Command::new(super::tool("warcio"))
        .arg("check")
        .arg(warc)
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "warcio check: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}
