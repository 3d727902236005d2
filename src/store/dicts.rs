//! Per-site zstd dictionaries for raw page bytes (schema 8). A site's pages
//! share most of their template, so a dictionary trained on its first
//! pages takes zstd-1 of the next ones from about a third of their HTML to
//! under a tenth (docs/STORE.md).
//!
//! How bytes flow:
//! - a raw value is always one zstd frame; a frame compressed with a
//!   dictionary carries the dictionary's id in its header, and tree
//!   `dicts` maps that id to the dictionary, so a reader needs nothing
//!   else to decode any raw value ([`Store::decode_raw`]);
//! - until a site has a dictionary, the writer keeps the compressed raw
//!   bytes of its new versions ([`TRAIN_SAMPLES`] of them, a few hundred
//!   KB) and then trains one from them, writes it to `dicts` and `meta`
//!   (`dict:SITE` → id), flushes, and only then hands it to the preparers
//!   ([`Store::raw_dict`]): no frame is ever written with a dictionary the
//!   disk does not have;
//! - pages without a site (a saved file without `--config`) are never
//!   compressed with a dictionary.

use super::{Store, store_error, trees};
use crate::error::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use zstd::zstd_safe::{self, CCtx, CDict, DCtx, DDict};

/// How many of a site's pages train its dictionary.
pub const TRAIN_SAMPLES: usize = 48;
/// The largest dictionary trained. A government template (header, menus,
/// footer) fits; zstd takes what the samples justify.
const DICT_BYTES: usize = 48 * 1024;
/// The largest raw value a frame may claim to hold when decoded: a page
/// is far smaller; a corrupt header is not followed.
const MAX_RAW: u64 = 256 * 1024 * 1024;

/// A site's dictionary, ready to compress with.
pub struct RawDict {
    id: u32,
    cdict: CDict<'static>,
}

impl std::fmt::Debug for RawDict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDict")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl RawDict {
    /// The dictionary's id, as its frames' headers carry it.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// `bytes` as one zstd frame compressed with this dictionary.
    ///
    /// # Errors
    /// When zstd fails.
    pub fn compress(&self, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
        thread_local! {
            static CCTX: std::cell::RefCell<CCtx<'static>> = std::cell::RefCell::new(CCtx::create());
        }
        let mut out = Vec::with_capacity(zstd_safe::compress_bound(bytes.len()));
        CCTX.with(|c| {
            c.borrow_mut()
                .compress_using_cdict(&mut out, bytes, &self.cdict)
        })
        .map_err(zstd_error)?;
        Ok(out)
    }
}

fn zstd_error(code: usize) -> std::io::Error {
    std::io::Error::other(zstd_safe::get_error_name(code).to_owned())
}

/// The store's dictionaries and the samples of sites still without one.
#[derive(Default)]
pub(super) struct Dicts {
    /// Site → dictionary id, for every site that has one.
    ids: RwLock<HashMap<String, u32>>,
    /// Prepared dictionaries, by site, made on first use.
    encoders: RwLock<HashMap<String, Arc<RawDict>>>,
    /// Prepared dictionaries for decoding, by id, made on first use.
    decoders: RwLock<HashMap<u32, Arc<DDict<'static>>>>,
    /// Compressed raw bytes of new versions of sites without a dictionary.
    samples: Mutex<HashMap<String, Vec<Vec<u8>>>>,
}

impl std::fmt::Debug for Dicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dicts")
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Read which sites have a dictionary (`dict:SITE` in `meta`).
    pub(super) fn load_dicts(&self) -> Result<()> {
        let mut ids = self
            .dicts
            .ids
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for kv in self.meta.scan_prefix(trees::DICT_KEY_PREFIX) {
            let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
            let site = String::from_utf8_lossy(&k[trees::DICT_KEY_PREFIX.len()..]).into_owned();
            let id = <[u8; 4]>::try_from(v.as_ref())
                .map(u32::from_be_bytes)
                .map_err(|_| self.bad_value(trees::META, "a dictionary id is not 4 bytes"))?;
            ids.insert(site, id);
        }
        Ok(())
    }

    /// The dictionary to compress `site`'s raw bytes with, once it has one.
    ///
    /// # Errors
    /// When the dictionary cannot be read.
    pub fn raw_dict(&self, site: Option<&str>) -> Result<Option<Arc<RawDict>>> {
        let Some(site) = site else {
            return Ok(None);
        };
        if let Some(d) = self
            .dicts
            .encoders
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(site)
        {
            return Ok(Some(Arc::clone(d)));
        }
        let id = self
            .dicts
            .ids
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(site)
            .copied();
        let Some(id) = id else {
            return Ok(None);
        };
        let bytes = self.dictionary(id)?;
        let made = Arc::new(RawDict {
            id,
            cdict: CDict::create(&bytes, super::ZSTD_LEVEL),
        });
        self.dicts
            .encoders
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(site.to_owned(), Arc::clone(&made));
        Ok(Some(made))
    }

    /// Dictionary `id`'s bytes.
    fn dictionary(&self, id: u32) -> Result<sled::IVec> {
        self.dicts_tree
            .get(id.to_be_bytes())
            .map_err(|e| store_error(&self.path, e))?
            .ok_or_else(|| self.bad_value(trees::DICTS, &format!("dictionary {id} is missing")))
    }

    /// A raw value's bytes: its zstd frame decoded, with the dictionary
    /// its header names, if any.
    pub(super) fn decode_raw(&self, frame: &[u8]) -> Result<Vec<u8>> {
        let bad = |reason: String| self.bad_value(trees::RAW, &reason);
        let id = zstd_safe::get_dict_id_from_frame(frame);
        if id == 0 {
            return zstd::decode_all(frame).map_err(|e| bad(e.to_string()));
        }
        let ddict = self.decoder(id)?;
        let size = zstd_safe::get_frame_content_size(frame);
        if size > MAX_RAW {
            return Err(bad(format!("a raw frame claims {size} bytes")));
        }
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        DCtx::create()
            .decompress_using_ddict(&mut out, frame, &ddict)
            .map_err(|code| bad(zstd_safe::get_error_name(code).to_owned()))?;
        Ok(out)
    }

    fn decoder(&self, id: u32) -> Result<Arc<DDict<'static>>> {
        if let Some(d) = self
            .dicts
            .decoders
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&id)
        {
            return Ok(Arc::clone(d));
        }
        let made = Arc::new(DDict::create(&self.dictionary(id)?));
        self.dicts
            .decoders
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, Arc::clone(&made));
        Ok(made)
    }

    /// After a commit: keep the compressed raw bytes of new versions of
    /// sites without a dictionary, and train one for each site that now
    /// has [`TRAIN_SAMPLES`].
    pub(super) fn learn(&self, new_raw: Vec<(String, Vec<u8>)>) -> Result<()> {
        let ready: Vec<(String, Vec<Vec<u8>>)> = {
            let ids = self
                .dicts
                .ids
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            let mut samples = self
                .dicts
                .samples
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (site, frame) in new_raw {
                if !ids.contains_key(&site) {
                    samples.entry(site).or_default().push(frame);
                }
            }
            let full: Vec<String> = samples
                .iter()
                .filter(|(_, s)| s.len() >= TRAIN_SAMPLES)
                .map(|(site, _)| site.clone())
                .collect();
            full.into_iter()
                .filter_map(|site| samples.remove(&site).map(|s| (site, s)))
                .collect()
        };
        for (site, frames) in ready {
            self.train(&site, &frames)?;
        }
        Ok(())
    }

    /// Train `site`'s dictionary from compressed samples and make it
    /// durable before anything uses it. Samples zstd cannot train on (too
    /// few bytes) leave the site without one until the next samples.
    fn train(&self, site: &str, frames: &[Vec<u8>]) -> Result<()> {
        let samples: Vec<Vec<u8>> = frames
            .iter()
            .map(|f| self.decode_raw(f))
            .collect::<Result<_>>()?;
        let Ok(dict) = zstd::dict::from_samples(&samples, DICT_BYTES) else {
            tracing::debug!(site, "too little to train a dictionary on yet");
            return Ok(());
        };
        let id = zstd_safe::get_dict_id_from_dict(&dict);
        let err = |e| store_error(&self.path, e);
        // an id zstd drew before, for another site: that one keeps it
        if id == 0
            || self
                .dicts_tree
                .contains_key(id.to_be_bytes())
                .map_err(err)?
        {
            return Ok(());
        }
        self.dicts_tree
            .insert(id.to_be_bytes(), dict.as_slice())
            .map_err(err)?;
        let mut key = trees::DICT_KEY_PREFIX.to_vec();
        key.extend_from_slice(site.as_bytes());
        self.meta.insert(key, &id.to_be_bytes()).map_err(err)?;
        self.db.flush().map_err(err)?;
        self.dicts
            .ids
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(site.to_owned(), id);
        tracing::debug!(site, id, bytes = dict.len(), "raw dictionary trained");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PreparedPage;
    use crate::store::tests::{fetch, record, reopen};

    /// A page of one county site: the shared template (menus, footer)
    /// around an article of its own.
    fn article(i: usize) -> String {
        let menu = (0..40).fold(String::new(), |mut menu, k| {
            use std::fmt::Write;
            let _ = write!(
                menu,
                "<li><a href=\"/col/col{k}/index.html\">栏目{k}：政务公开与政策解读</a></li>"
            );
            menu
        });
        format!(
            "<html><head><meta charset=\"utf-8\"><title>关于第{i}批项目资金安排的公示_某某县人民政府</title></head><body>\
             <div class=\"header\"><ul>{menu}</ul></div><div class=\"position\">当前位置：首页 &gt; 政务公开</div>\
             <div class=\"article\"><h1>关于第{i}批项目资金安排的公示</h1><div class=\"info\">发布时间：2024-05-{:02}</div>\
             <div class=\"content\"><p>根据有关规定，现将第{i}批项目资金安排情况予以公示，公示期为{i}个工作日。</p>\
             <p>项目编号{}，资金{}万元，主要用于农村公路养护与安全设施改造。</p></div></div>\
             <div class=\"footer\">主办：某某县人民政府办公室 地址：某某县人民路{i}号 皖ICP备05012345号 皖公网安备34012302000123号</div></body></html>",
            1 + i % 28,
            i * 7919 % 100_000,
            i * 31 % 997
        )
    }

    #[test]
    fn a_sites_raw_bytes_get_a_dictionary_and_read_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        let pages: Vec<(String, String)> = (0..TRAIN_SAMPLES + 12)
            .map(|i| {
                (
                    format!("http://www.example.gov.cn/gk/t20240501_{i}.html"),
                    article(i),
                )
            })
            .collect();
        let mut sizes = Vec::new();
        {
            let store = Store::open(&path).unwrap();
            for (k, (url, html)) in pages.iter().enumerate() {
                let f = fetch(url, html, k as u64);
                let dict = store.raw_dict(f.site).unwrap();
                assert_eq!(dict.is_some(), k >= TRAIN_SAMPLES, "page {k}");
                let prepared = PreparedPage::with_dict(&f, record(html), dict.as_deref()).unwrap();
                sizes.push(prepared.compressed_len());
                let mut batch = crate::store::Batch::default();
                batch.add_page(prepared);
                store.commit(&batch).unwrap();
            }
            assert_eq!(store.dicts_tree.len(), 1);
            let plain: usize = sizes[..TRAIN_SAMPLES].iter().sum::<usize>() / TRAIN_SAMPLES;
            let with: usize =
                sizes[TRAIN_SAMPLES..].iter().sum::<usize>() / (sizes.len() - TRAIN_SAMPLES);
            assert!(
                with * 2 < plain,
                "{with} bytes a page with the dictionary, {plain} without"
            );
        }
        // a new process reads every page back, with or without a dictionary
        let store = reopen(&path).unwrap();
        for (url, html) in &pages {
            let v = store.latest(url).unwrap().unwrap();
            assert_eq!(
                store.raw(&v).unwrap().as_deref(),
                Some(html.as_bytes()),
                "{url}"
            );
        }
        assert!(store.raw_dict(Some("example")).unwrap().is_some());
        assert!(store.raw_dict(None).unwrap().is_none());
    }
}
