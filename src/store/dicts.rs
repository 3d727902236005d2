//! Per-site zstd dictionaries for raw page bytes and version records
//! (schema 8). A site's pages share most of their template, so a
//! dictionary trained on its first pages takes zstd-1 of the next ones
//! from about a third of their HTML to under a tenth; its records share
//! their shape, labels and sources, and shrink to 40 % (docs/STORE.md).
//!
//! How bytes flow:
//! - a raw value or a version value is always one zstd frame; a frame
//!   compressed with a dictionary carries the dictionary's id in its
//!   header, and tree `dicts` maps that id to the dictionary, so a reader
//!   needs nothing else to decode any value (`Store::decode_frame`);
//! - until a site has a dictionary of a kind, the writer keeps samples of
//!   its new versions ([`TRAIN_SAMPLES`] of them, as zstd frames: a few
//!   hundred KB) and then trains one from them, writes it to `dicts` and
//!   `meta` (`dict:SITE` or `rdict:SITE` → id), flushes, and only then
//!   hands it to the preparers ([`Store::site_dicts`]): no frame is ever
//!   written with a dictionary the disk does not have;
//! - pages without a site (a saved file without `--config`) are never
//!   compressed with a dictionary.

use super::{Store, store_error, trees};
use crate::error::Result;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use zstd::zstd_safe::{self, CDict, DDict};

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
        super::codec::compress(bytes, &super::codec::With::Dict(&self.cdict))
    }
}

/// What a site's dictionary compresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DictKind {
    /// The raw page bytes (tree `raw`).
    Raw,
    /// The version records' JSON (tree `versions`).
    Record,
}

impl DictKind {
    /// Its key prefix in `meta`, before the site's name.
    fn meta_prefix(self) -> &'static [u8] {
        match self {
            Self::Raw => trees::DICT_KEY_PREFIX,
            Self::Record => trees::RECORD_DICT_KEY_PREFIX,
        }
    }
}

/// A site's dictionaries, as a page's preparation takes them: since
/// records are kept against their pages (`super::stored`), the one for
/// its raw bytes. (Record dictionaries an older store trained still
/// decode its frames.)
#[derive(Debug, Clone, Default)]
pub struct SiteDicts {
    /// For the raw bytes.
    pub raw: Option<Arc<RawDict>>,
}

type Key = (DictKind, String);

/// The store's dictionaries and the samples of sites still without one.
#[derive(Default)]
pub(super) struct Dicts {
    /// (kind, site) → dictionary id, for every site that has one.
    ids: RwLock<HashMap<Key, u32>>,
    /// Prepared dictionaries, made on first use.
    encoders: RwLock<HashMap<Key, Arc<RawDict>>>,
    /// Prepared dictionaries for decoding, by id, made on first use.
    decoders: RwLock<HashMap<u32, Arc<DDict<'static>>>>,
    /// zstd frames (without a dictionary) of new versions' raw bytes and
    /// records, of sites without a dictionary of that kind.
    samples: Mutex<HashMap<Key, Vec<Vec<u8>>>>,
}

/// Prepared dictionaries kept per map (encoders, decoders). A prepared
/// 48 KB dictionary takes 94 KB to compress with (zstd level 1) and 74 KB
/// to decompress with, and takes 62 µs and 1 µs to prepare: a service
/// crawling a thousand sites keeps at most 256 of each (about 43 MB in
/// all) instead of one per site, and prepares one again when it needs it.
const PREPARED: usize = 256;

/// Keep `value` under `key`, dropping another entry first when `map` is
/// full (any one: preparing a dictionary again is cheap).
fn keep<K: Eq + std::hash::Hash + Clone, V>(map: &mut HashMap<K, V>, key: K, value: V) {
    if map.len() >= PREPARED
        && !map.contains_key(&key)
        && let Some(other) = map.keys().next().cloned()
    {
        map.remove(&other);
    }
    map.insert(key, value);
}

/// A lock's value to read. A panic while it was held left the maps whole
/// (each change is one insert), so a poisoned lock is taken as it is.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

/// [`read`], to write.
fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Dicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dicts")
            .field("ids", &self.ids)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Read which sites have which dictionaries (`dict:SITE`,
    /// `rdict:SITE` in `meta`).
    pub(super) fn load_dicts(&self) -> Result<()> {
        let mut ids = write(&self.dicts.ids);
        for kind in [DictKind::Raw, DictKind::Record] {
            let prefix = kind.meta_prefix();
            for kv in self.meta.scan_prefix(prefix) {
                let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
                let site = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
                let id = <[u8; 4]>::try_from(v.as_ref())
                    .map(u32::from_be_bytes)
                    .map_err(|_| self.bad_value(trees::META, "a dictionary id is not 4 bytes"))?;
                ids.insert((kind, site), id);
            }
        }
        Ok(())
    }

    /// The dictionary to compress `site`'s raw bytes with, once it has one.
    ///
    /// # Errors
    /// When the dictionary cannot be read.
    pub fn raw_dict(&self, site: Option<&str>) -> Result<Option<Arc<RawDict>>> {
        self.dict(DictKind::Raw, site)
    }

    /// Both of `site`'s dictionaries, for a page's preparation.
    ///
    /// # Errors
    /// When a dictionary cannot be read.
    pub fn site_dicts(&self, site: Option<&str>) -> Result<SiteDicts> {
        Ok(SiteDicts {
            raw: self.dict(DictKind::Raw, site)?,
        })
    }

    fn dict(&self, kind: DictKind, site: Option<&str>) -> Result<Option<Arc<RawDict>>> {
        let Some(site) = site else {
            return Ok(None);
        };
        let key = (kind, site.to_owned());
        if let Some(d) = read(&self.dicts.encoders).get(&key) {
            return Ok(Some(Arc::clone(d)));
        }
        let id = read(&self.dicts.ids).get(&key).copied();
        let Some(id) = id else {
            return Ok(None);
        };
        let bytes = self.dictionary(id)?;
        let made = Arc::new(RawDict {
            id,
            cdict: CDict::create(&bytes, super::ZSTD_LEVEL),
        });
        keep(&mut write(&self.dicts.encoders), key, Arc::clone(&made));
        Ok(Some(made))
    }

    /// Dictionary `id`'s bytes.
    fn dictionary(&self, id: u32) -> Result<sled::IVec> {
        self.dicts_tree
            .get(id.to_be_bytes())
            .map_err(|e| store_error(&self.path, e))?
            .ok_or_else(|| self.bad_value(trees::DICTS, &format!("dictionary {id} is missing")))
    }

    /// A zstd frame decoded, with the dictionary its header names, if any.
    pub(super) fn decode_frame(&self, frame: &[u8]) -> std::result::Result<Vec<u8>, String> {
        // one decompression context per thread, reused (`codec`): making
        // one per frame was 6 % of the search index's rebuild, which reads
        // every record back
        let id = zstd_safe::get_dict_id_from_frame(frame);
        // over MAX_RAW: also zstd's "unknown" and "error" sizes
        let size = zstd_safe::get_frame_content_size(frame);
        if size > MAX_RAW && id == 0 {
            // a frame that does not say its size is read as a stream
            return zstd::decode_all(frame).map_err(|e| format!("zstd: {e}"));
        }
        if size > MAX_RAW {
            return Err(format!("a zstd frame claims {size} bytes"));
        }
        let ddict = match id {
            0 => None,
            id => Some(self.decoder(id).map_err(|e| e.to_string())?),
        };
        let using = match &ddict {
            Some(ddict) => super::codec::Using::Dict(ddict),
            None => super::codec::Using::Nothing,
        };
        super::codec::decompress(frame, usize::try_from(size).unwrap_or(0), &using)
    }

    fn decoder(&self, id: u32) -> Result<Arc<DDict<'static>>> {
        if let Some(d) = read(&self.dicts.decoders).get(&id) {
            return Ok(Arc::clone(d));
        }
        let made = Arc::new(DDict::create(&self.dictionary(id)?));
        keep(&mut write(&self.dicts.decoders), id, Arc::clone(&made));
        Ok(made)
    }

    /// After a commit: keep the samples (zstd frames without a dictionary)
    /// of sites without a dictionary of their kind, and train one for each
    /// that now has [`TRAIN_SAMPLES`].
    pub(super) fn learn(&self, new: Vec<(DictKind, String, Vec<u8>)>) -> Result<()> {
        let ready: Vec<(Key, Vec<Vec<u8>>)> = {
            let ids = read(&self.dicts.ids);
            let mut samples = self
                .dicts
                .samples
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            for (kind, site, frame) in new {
                let key = (kind, site);
                if !ids.contains_key(&key) {
                    samples.entry(key).or_default().push(frame);
                }
            }
            let full: Vec<Key> = samples
                .iter()
                .filter(|(_, s)| s.len() >= TRAIN_SAMPLES)
                .map(|(key, _)| key.clone())
                .collect();
            full.into_iter()
                .filter_map(|key| samples.remove(&key).map(|s| (key, s)))
                .collect()
        };
        for ((kind, site), frames) in ready {
            self.train(kind, &site, &frames)?;
        }
        Ok(())
    }

    /// Train `site`'s dictionary of `kind` from samples and make it durable
    /// before anything uses it. Samples zstd cannot train on (too few
    /// bytes) leave the site without one until the next samples.
    fn train(&self, kind: DictKind, site: &str, frames: &[Vec<u8>]) -> Result<()> {
        let samples: Vec<Vec<u8>> = frames
            .iter()
            .map(|f| {
                self.decode_frame(f)
                    .map_err(|e| self.bad_value(trees::DICTS, &e))
            })
            .collect::<Result<_>>()?;
        let Ok(dict) = zstd::dict::from_samples(&samples, DICT_BYTES) else {
            tracing::debug!(site, ?kind, "too little to train a dictionary on yet");
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
        let mut key = kind.meta_prefix().to_vec();
        key.extend_from_slice(site.as_bytes());
        self.meta.insert(key, &id.to_be_bytes()).map_err(err)?;
        self.db.flush().map_err(err)?;
        write(&self.dicts.ids).insert((kind, site.to_owned()), id);
        tracing::debug!(site, ?kind, id, bytes = dict.len(), "dictionary trained");
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

    /// A site's first pages train its two dictionaries; the pages after
    /// them are compressed with them, much smaller; a new process reads
    /// every page and record back exactly.
    #[test]
    fn prepared_dictionaries_stay_bounded_however_many_sites() {
        let mut map = HashMap::new();
        for site in 0..PREPARED * 3 {
            keep(&mut map, site, site);
            assert!(map.len() <= PREPARED);
            assert_eq!(map.get(&site), Some(&site), "the one just prepared stays");
        }
        let before = map.clone();
        let kept = *before.keys().next().unwrap();
        keep(&mut map, kept, kept);
        assert_eq!(map, before, "a dictionary kept again drops none");
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
                let dicts = store.site_dicts(f.site).unwrap();
                assert_eq!(dicts.raw.is_some(), k >= TRAIN_SAMPLES, "page {k}");
                let prepared = PreparedPage::with_dicts(&f, record(html), dicts).unwrap();
                sizes.push(prepared.compressed_len());
                let mut batch = crate::store::Batch::default();
                batch.add_page(prepared);
                store.commit(&batch).unwrap();
            }
            assert_eq!(
                store.dicts_tree.len(),
                1,
                "one for raw bytes: records are kept against them"
            );
            let framed_with_dict = store
                .raw
                .iter()
                .values()
                .filter(|v| {
                    let frame = store.unpack(v.as_ref().unwrap()).unwrap();
                    zstd_safe::get_dict_id_from_frame(&frame) != 0
                })
                .count();
            assert_eq!(framed_with_dict, pages.len() - TRAIN_SAMPLES);
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
            assert_eq!(v.record, record(html), "{url}");
        }
        assert!(store.raw_dict(Some("example")).unwrap().is_some());
        assert!(store.raw_dict(None).unwrap().is_none());
    }
}
