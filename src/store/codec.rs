//! zstd for the store, with one compression and one decompression context
//! per thread, kept: every kind of frame the store writes (plain, with a
//! site's dictionary, a record against its page's bytes) and reads goes
//! through them. A context holds its working memory (hundreds of KB at
//! level 1) for its thread's life, so one context per thread, not one per
//! kind of frame: a crawl's many blocking threads each held three before.
//! Making one per call instead was 6 % of a crawl's CPU.

use std::cell::RefCell;
use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

use super::ZSTD_LEVEL as LEVEL;

thread_local! {
    static CCTX: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DCTX: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

/// What a frame is compressed with.
pub(super) enum With<'a> {
    /// Nothing.
    Nothing,
    /// A site's dictionary.
    Dict(&'a CDict<'static>),
    /// Bytes as raw content: the frame refers back into them.
    Content(&'a [u8]),
}

/// `bytes` as one zstd frame at [`LEVEL`].
///
/// # Errors
/// When zstd fails.
pub(super) fn compress(bytes: &[u8], with: &With<'_>) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(zstd_safe::compress_bound(bytes.len()));
    CCTX.with_borrow_mut(|c| match with {
        With::Nothing => c.compress(&mut out, bytes, LEVEL),
        With::Dict(d) => c.compress_using_cdict(&mut out, bytes, d),
        With::Content(content) => c.compress_using_dict(&mut out, bytes, content, LEVEL),
    })
    .map_err(error)?;
    // the bound is the input's size and more: frames are kept (batches,
    // a site's dictionary samples), and each would hold it
    out.shrink_to_fit();
    Ok(out)
}

/// What a frame is decompressed with: as [`With`], a site's dictionary
/// ready to decompress with.
pub(super) enum Using<'a> {
    Nothing,
    Dict(&'a DDict<'static>),
    Content(&'a [u8]),
}

/// A frame of at most `size` bytes decompressed.
///
/// # Errors
/// zstd's reason.
pub(super) fn decompress(frame: &[u8], size: usize, using: &Using<'_>) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(size);
    DCTX.with_borrow_mut(|d| match using {
        Using::Nothing => d.decompress(&mut out, frame),
        Using::Dict(dict) => d.decompress_using_ddict(&mut out, frame, dict),
        Using::Content(content) => d.decompress_using_dict(&mut out, frame, content),
    })
    .map_err(|code| zstd_safe::get_error_name(code).to_owned())?;
    Ok(out)
}

fn error(code: usize) -> std::io::Error {
    std::io::Error::other(zstd_safe::get_error_name(code).to_owned())
}
