//! The crawl frontier, kept in the store (tree `frontier`) so that a crawl
//! killed at any moment continues where it stopped: every URL a crawl of a
//! site has found, with its link depth and whether the current crawl has
//! visited it. Keys are `site ‖ 0x00 ‖ URL` (schema 5), so that each site's
//! entries are one prefix: a crawl of a thousand sites reads each site's
//! own, never the whole frontier a thousand times, and two sites whose
//! scopes overlap each keep their own entry for a shared URL. It is also the crawl's de-duplication set, so the crawl holds
//! no set of every URL in memory, and the source its queue reloads from
//! when the queue was too long to keep whole (`crawl::run`).
//!
//! The flow: [`Store::frontier_begin`] starts or continues a site's crawl,
//! choosing what it visits ([`super::schedule`]: documents not yet due are
//! left out); [`Store::frontier_add`] records a URL a page links to;
//! [`Store::frontier_pending`] reads back the URLs still to visit, in the
//! crawl's order; [`Store::frontier_done`] marks one visited and schedules
//! its next visit.
//!
//! What changes on every visit lives apart from the entry: whether this
//! crawl visited it is the entry's round against the site's [`Round`], and
//! the round, kind and schedule a visit sets are written to the entry's
//! slot (`super::slots`), in place; the entry in sled is written once,
//! when it is added.

use super::round::{CrawlPlan, Round};
use super::schedule::{Pending, Rank, Revisit, UrlKind, Visit};
use super::slots::Slot;
use super::{Store, store_error, trees};
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::collections::{BinaryHeap, HashSet};

/// One URL of a site's frontier (tree `frontier`, key: site and URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontierEntry {
    /// The config site that found it.
    pub site: String,
    /// Links from a seed (0 for seeds).
    pub depth: u32,
    /// Whether the current crawl has fetched it (or left it out as not due):
    /// read off `round` and the site's current round, never stored.
    #[serde(skip)]
    pub done: bool,
    /// The site's crawl round that last fetched it; 0 when none did
    /// (schema 9).
    #[serde(default)]
    pub round: u32,
    /// What its last fetch found; absent when it was never fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<UrlKind>,
    /// A document's revisit interval, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval_s: Option<u64>,
    /// When a document is next due, in Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<u64>,
    /// Its slot (file `slots`): `round`, `kind`, `interval_s` and `due`
    /// as its last fetch left them, newer than these (schema 9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<u64>,
}

impl FrontierEntry {
    pub(super) fn to_json(&self) -> Vec<u8> {
        // plain fields: serializing cannot fail
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// `site ‖ 0x00 ‖ url`: a frontier key. Site names have no NUL (the config
/// refuses control characters in them).
pub(super) fn frontier_key(site: &str, url: &str) -> Vec<u8> {
    [site.as_bytes(), &[0], url.as_bytes()].concat()
}

/// `site ‖ 0x00`: the prefix of a site's frontier keys.
fn site_prefix(site: &str) -> Vec<u8> {
    [site.as_bytes(), &[0]].concat()
}

/// A kind as a slot's byte, and back.
fn kind_byte(kind: Option<UrlKind>) -> u8 {
    match kind {
        None => 0,
        Some(UrlKind::Listing) => 1,
        Some(UrlKind::Document) => 2,
        Some(UrlKind::Other) => 3,
    }
}

fn kind_of(byte: u8) -> Option<UrlKind> {
    match byte {
        1 => Some(UrlKind::Listing),
        2 => Some(UrlKind::Document),
        3 => Some(UrlKind::Other),
        _ => None,
    }
}

/// Unix milliseconds of an RFC 3339 time as the store writes them (0 if
/// it is not one).
fn unix_ms(at: &str) -> u64 {
    humantime::parse_rfc3339(at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `round:` ‖ site: the key of a site's [`Round`] in tree `meta`.
fn round_key(site: &str) -> Vec<u8> {
    [trees::ROUND_KEY_PREFIX, site.as_bytes()].concat()
}

impl Store {
    /// Begin a crawl of a site at `now` (Unix seconds): a new round (see
    /// [`Round::next`] for what it takes over from an unfinished one). It
    /// visits every URL the site ever found except the documents not yet due
    /// (none left out with `full`); known pages then get conditional
    /// requests.
    ///
    /// # Errors
    /// [`crate::Error::Store`] when reading or writing fails,
    /// [`crate::Error::StoreValue`] for an unreadable entry.
    pub(crate) fn frontier_begin(
        &self,
        site: &str,
        seeds: &[&str],
        now: u64,
        full: bool,
    ) -> Result<CrawlPlan> {
        let err = |e| store_error(&self.path, e);
        let current = self.round(site)?;
        let mut unfinished = false;
        for item in self.site_entries(site) {
            if !current.done(&item?.1) {
                unfinished = true;
                break;
            }
        }
        let next = current.next(unfinished, full, now);
        let mut plan = CrawlPlan {
            continues: unfinished,
            credited: (next.credit > 0).then_some(0),
            ..CrawlPlan::default()
        };
        // a second scan, not a list of the first: memory stays flat
        for item in self.site_entries(site) {
            let (_, entry) = item?;
            if !entry.is_document() {
                continue;
            }
            if next.credited(&entry) {
                plan.credited = plan.credited.map(|n| n + 1);
                plan.due += 1;
            } else if next.done(&entry) {
                plan.deferred += 1;
            } else {
                plan.due += 1;
            }
        }
        // one write begins the crawl: a kill before it leaves the last
        // round as it was, after it the new one unfinished
        let json = serde_json::to_vec(&next).unwrap_or_default();
        self.meta.insert(round_key(site), json).map_err(err)?;
        for seed in seeds {
            self.frontier_add(seed, site, 0)?;
        }
        Ok(plan)
    }

    /// The site's current crawl round.
    fn round(&self, site: &str) -> Result<Round> {
        Ok(self
            .read(&self.meta, &round_key(site))?
            .unwrap_or(Round::BEFORE))
    }

    /// The site's frontier entries, in URL order: one prefix scan.
    fn site_entries(&self, site: &str) -> impl Iterator<Item = Result<(String, FrontierEntry)>> {
        let prefix = site_prefix(site);
        let skip = prefix.len();
        self.frontier.scan_prefix(prefix).map(move |kv| {
            let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
            let entry: FrontierEntry = serde_json::from_slice(&v)
                .map_err(|e| self.bad_value(trees::FRONTIER, &e.to_string()))?;
            Ok((
                String::from_utf8_lossy(&k[skip..]).into_owned(),
                self.with_slot(entry)?,
            ))
        })
    }

    /// Key a frontier written before schema 5 (by URL alone) by site and
    /// URL, in one atomic batch: a kill leaves the old keys, and the next
    /// open does it again. Called when the store is opened.
    pub(super) fn upgrade_frontier_keys(&self) -> Result<()> {
        let mut batch = sled::Batch::default();
        let mut moved = 0_u64;
        for kv in &self.frontier {
            let (k, v) = kv.map_err(|e| store_error(&self.path, e))?;
            if k.contains(&0) {
                continue; // already `site ‖ 0 ‖ url`
            }
            let entry: FrontierEntry = serde_json::from_slice(&v)
                .map_err(|e| self.bad_value(trees::FRONTIER, &e.to_string()))?;
            batch.insert(
                frontier_key(&entry.site, &String::from_utf8_lossy(&k)),
                v.to_vec(),
            );
            batch.remove(k);
            moved += 1;
        }
        if moved > 0 {
            self.frontier
                .apply_batch(batch)
                .map_err(|e| store_error(&self.path, e))?;
            tracing::info!(store = %self.path.display(), entries = moved, "frontier keyed by site");
        }
        Ok(())
    }

    /// Turn the `done` marks of a frontier written before schema 9 into
    /// rounds: done is round 1, the site's round until a crawl begins after
    /// the upgrade ([`Round::BEFORE`]), not done round 0. A site a kill
    /// left in the middle of marking its URLs (its `recrawl:` mark) gets
    /// round 1 everywhere, so that its next crawl begins anew, as it would
    /// have. Entries are rewritten a slice at a time, each slice one atomic
    /// batch; an entry without `done` is done already, so a kill leaves
    /// nothing half done; the marks go last.
    pub(super) fn upgrade_frontier_rounds(&self) -> Result<()> {
        #[derive(Deserialize)]
        struct Marked {
            done: Option<bool>,
        }
        let err = |e| store_error(&self.path, e);
        let restarting: HashSet<Vec<u8>> = self
            .meta
            .scan_prefix(trees::RESTART_KEY_PREFIX)
            .keys()
            .map(|k| k.map(|k| k[trees::RESTART_KEY_PREFIX.len()..].to_vec()))
            .collect::<sled::Result<_>>()
            .map_err(err)?;
        let mut batch = sled::Batch::default();
        let mut in_batch = 0;
        let mut moved = 0_u64;
        for kv in &self.frontier {
            let (k, v) = kv.map_err(err)?;
            let bad = |e: serde_json::Error| self.bad_value(trees::FRONTIER, &e.to_string());
            let Some(done) = serde_json::from_slice::<Marked>(&v).map_err(bad)?.done else {
                continue;
            };
            let mut entry: FrontierEntry = serde_json::from_slice(&v).map_err(bad)?;
            let site = k.split(|&b| b == 0).next().unwrap_or_default();
            entry.round = u32::from(done || restarting.contains(site));
            batch.insert(k, entry.to_json());
            (in_batch, moved) = (in_batch + 1, moved + 1);
            if in_batch == 1000 {
                self.frontier
                    .apply_batch(std::mem::take(&mut batch))
                    .map_err(err)?;
                in_batch = 0;
            }
        }
        self.frontier.apply_batch(batch).map_err(err)?;
        for site in restarting {
            self.meta
                .remove([trees::RESTART_KEY_PREFIX, &site].concat())
                .map_err(err)?;
        }
        if moved > 0 {
            tracing::info!(store = %self.path.display(), entries = moved, "frontier marks as rounds");
        }
        Ok(())
    }

    /// Record a URL the crawl found; `false` when the frontier already has
    /// it (found earlier, by this crawl or an earlier one).
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the write fails.
    pub(crate) fn frontier_add(&self, url: &str, site: &str, depth: u32) -> Result<bool> {
        let key = frontier_key(site, url);
        // most links a crawl finds are known: no slot number for them
        if self
            .frontier
            .contains_key(&key)
            .map_err(|e| store_error(&self.path, e))?
        {
            return Ok(false);
        }
        let entry = FrontierEntry {
            site: site.to_owned(),
            depth,
            done: false,
            round: 0,
            kind: None,
            interval_s: None,
            due: None,
            slot: Some(self.next_slot()?),
        };
        let swapped = self
            .frontier
            .compare_and_swap(key, None as Option<&[u8]>, Some(entry.to_json()))
            .map_err(|e| store_error(&self.path, e))?;
        Ok(swapped.is_ok())
    }

    /// A URL's frontier entry in a site's crawl.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn frontier_entry(&self, site: &str, url: &str) -> Result<Option<FrontierEntry>> {
        let entry: Option<FrontierEntry> = self.read(&self.frontier, &frontier_key(site, url))?;
        let Some(entry) = entry else { return Ok(None) };
        Ok(Some(self.round(site)?.read(self.with_slot(entry)?)))
    }

    /// When the page's site's crawl next fetches it (RFC 3339), from its
    /// frontier entry; `None` when no revisit is planned.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub fn next_due(&self, page: &super::PageState) -> Result<Option<String>> {
        let Some(site) = &page.site else {
            return Ok(None);
        };
        Ok(self
            .frontier_entry(site, &page.url)?
            .and_then(|e| e.due)
            .map(|due| {
                super::timestamp(std::time::UNIX_EPOCH + std::time::Duration::from_secs(due))
            }))
    }

    /// Mark a URL visited by the current crawl of a site at `now` (Unix
    /// seconds), and schedule its next visit from what the fetch found;
    /// `fetched` is the fetch's time (RFC 3339) and status when the URL is a
    /// page whose last fetch the store keeps here (see [`Batch::crawled`]).
    ///
    /// # Errors
    /// [`crate::Error::Store`] when the write fails.
    ///
    /// [`Batch::crawled`]: super::Batch::crawled
    pub(crate) fn frontier_done(
        &self,
        site: &str,
        url: &str,
        visit: Visit,
        now: u64,
        bounds: Revisit,
        fetched: Option<(&str, u16)>,
    ) -> Result<()> {
        let Some(mut entry) = self.frontier_entry(site, url)? else {
            return Ok(());
        };
        if entry.done && fetched.is_none() {
            return Ok(());
        }
        if !entry.done {
            entry.round = self.round(site)?.number;
            entry.visited(visit, now, bounds);
        }
        let fetched = fetched.map(|(at, status)| (unix_ms(at), status));
        self.put_entry(site, url, &mut entry, fetched)
    }

    /// Write what a fetch changed of an entry: its slot alone (an entry
    /// without one, written before slots, gets one and is written with
    /// it). `fetched` (Unix ms, status) replaces the slot's last fetch;
    /// `None` keeps it.
    fn put_entry(
        &self,
        site: &str,
        url: &str,
        entry: &mut FrontierEntry,
        fetched: Option<(u64, u16)>,
    ) -> Result<()> {
        let old = match entry.slot {
            Some(n) => self.slots.get(n).map_err(|e| self.slots_error(&e))?,
            None => None,
        };
        let (fetched_ms, status) =
            fetched.unwrap_or_else(|| old.map_or((0, 0), |s| (s.fetched_ms, s.status)));
        if entry.slot.is_none() {
            // an entry older than slots: it gets one, written with it
            entry.slot = Some(self.next_slot()?);
            self.frontier
                .insert(frontier_key(site, url), entry.to_json())
                .map_err(|e| store_error(&self.path, e))?;
        }
        let slot = Slot {
            fetched_ms,
            status,
            round: entry.round,
            kind: kind_byte(entry.kind),
            interval_s: entry
                .interval_s
                .map(|i| u32::try_from(i).unwrap_or(u32::MAX)),
            due: entry.due,
        };
        let n = entry.slot.unwrap_or_default();
        self.slots.put(n, &slot);
        Ok(())
    }

    /// `entry` with its slot's fields, when it has a slot that checks.
    fn with_slot(&self, mut entry: FrontierEntry) -> Result<FrontierEntry> {
        if let Some(n) = entry.slot
            && let Some(slot) = self.slots.get(n).map_err(|e| self.slots_error(&e))?
        {
            entry.round = slot.round;
            entry.kind = kind_of(slot.kind);
            entry.interval_s = slot.interval_s.map(u64::from);
            entry.due = slot.due;
        }
        Ok(entry)
    }

    /// The last fetch of a page its site's crawl recorded in the URL's
    /// slot: time (RFC 3339) and status.
    pub(super) fn slot_fetch(&self, site: &str, url: &str) -> Result<Option<(String, u16)>> {
        let entry: Option<FrontierEntry> = self.read(&self.frontier, &frontier_key(site, url))?;
        let Some(n) = entry.and_then(|e| e.slot) else {
            return Ok(None);
        };
        let slot = self.slots.get(n).map_err(|e| self.slots_error(&e))?;
        Ok(slot.filter(|s| s.fetched_ms > 0).map(|s| {
            let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(s.fetched_ms);
            (super::timestamp(at), s.status)
        }))
    }

    /// Up to `n` URLs of a site the current crawl has yet to visit, first
    /// in the crawl's order first ([`FrontierEntry::rank`]), with their
    /// depth and rank, leaving out those whose hash is in `skip` (handed out
    /// and not yet done), and how many wait in all. Memory stays bounded by
    /// `n` however large the frontier.
    ///
    /// # Errors
    /// As [`Store::page`].
    pub(crate) fn frontier_pending(
        &self,
        site: &str,
        skip: &HashSet<[u8; 16]>,
        n: usize,
    ) -> Result<(Vec<Pending>, usize)> {
        // a max-heap by rank: the n first seen so far
        let mut first: BinaryHeap<(Rank, String, u32)> = BinaryHeap::new();
        let mut waiting = 0;
        let round = self.round(site)?;
        for item in self.site_entries(site) {
            let (url, entry) = item?;
            if round.done(&entry) || skip.contains(&super::url_hash(&url)) {
                continue;
            }
            waiting += 1;
            first.push((entry.rank(), url, entry.depth));
            if first.len() > n {
                first.pop();
            }
        }
        let pending = first
            .into_sorted_vec()
            .into_iter()
            .map(|(rank, url, depth)| (url, depth, rank))
            .collect();
        Ok((pending, waiting))
    }
}
