//! The frame both append-only files of the store use (`fetch_log`, the
//! packs): the payload's length (u32, little-endian), the first 4 bytes of
//! its blake3 hash, the payload. The check finds a torn or zeroed write;
//! the length lets a reader walk the file without a separate index.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Bytes before a frame's payload: its length and check.
pub(super) const FRAME_HEAD: u64 = 8;

/// A payload, or why none could be read.
pub(super) type Payload = io::Result<Vec<u8>>;

/// A payload with its length and check.
pub(super) fn frame(payload: &[u8]) -> io::Result<Vec<u8>> {
    let head = frame_head(payload.len() as u64, Check::of(payload))?;
    let mut frame = Vec::with_capacity(payload.len() + head.len());
    frame.extend_from_slice(&head);
    frame.extend_from_slice(payload);
    Ok(frame)
}

/// A frame's check, computed as its payload passes: for a payload written
/// a buffer at a time (a spooled file, see `spool`).
#[derive(Debug, Default)]
pub(super) struct Check(blake3::Hasher);

impl Check {
    pub(super) fn new() -> Self {
        Self::default()
    }

    pub(super) fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    pub(super) fn finish(&self) -> [u8; 4] {
        let mut check = [0; 4];
        check.copy_from_slice(&self.0.finalize().as_bytes()[..4]);
        check
    }

    /// The check of a whole payload.
    pub(super) fn of(payload: &[u8]) -> [u8; 4] {
        let mut c = Self::new();
        c.update(payload);
        c.finish()
    }
}

/// The head of a frame whose payload is `len` bytes with `check`.
pub(super) fn frame_head(len: u64, check: [u8; 4]) -> io::Result<[u8; 8]> {
    let len = u32::try_from(len)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a frame over 4 GiB"))?;
    let mut head = [0; 8];
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4..].copy_from_slice(&check);
    Ok(head)
}

pub(super) fn frame_len(file: &File, at: u64) -> io::Result<u32> {
    let mut len = [0; 4];
    file.read_exact_at(&mut len, at)?;
    Ok(u32::from_le_bytes(len))
}

/// The payload of the frame at `at`, checked.
pub(super) fn read_frame(file: &File, at: u64, end: u64) -> Payload {
    let mut head = [0; 8];
    file.read_exact_at(&mut head, at)?;
    let len = u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
    if len == 0 || at + FRAME_HEAD + len > end {
        return Err(bad_frame(at));
    }
    let mut payload = vec![0; usize::try_from(len).map_err(|_| bad_frame(at))?];
    file.read_exact_at(&mut payload, at + FRAME_HEAD)?;
    if Check::of(&payload) != head[4..8] {
        return Err(bad_frame(at));
    }
    Ok(payload)
}

fn bad_frame(at: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the frame at byte {at} is damaged"),
    )
}
