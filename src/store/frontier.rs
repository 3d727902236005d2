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
    fn to_json(&self) -> Vec<u8> {
        // plain fields: serializing cannot fail
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// A site's current crawl (tree `meta`, key `round:SITE`; schema 9): its
/// number, when it began (Unix seconds), whether it fetches every known
/// document, and which interrupted round's documents count as done in it.
/// A URL is done in it when a fetch of this round marked it, when it is a
/// document the interrupted round `credit` fetched (a `--full` plan this
/// one carries on), or when it is a document not due when the round began
/// (unless `full`). Beginning a crawl
/// is therefore one small write, not a rewrite of every entry of the site;
/// a fetch then rewrites only the entry's slot (`super::slots`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Round {
    number: u32,
    started: u64,
    full: bool,
    /// The interrupted round of the `--full` plan this round carries on,
    /// whose documents count as done; 0 when it carries none.
    #[serde(default, skip_serializing_if = "is_zero")]
    credit: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Round {
    /// The round of a site no crawl has begun in since schema 9: entries
    /// an older store marked done are round 1 (the upgrade), the rest 0.
    const BEFORE: Self = Self {
        number: 1,
        started: 0,
        full: true,
        credit: 0,
    };

    /// Whether this round leaves the entry alone: fetched in it, a
    /// document the plan it continues fetched, or a known document not due
    /// when it began.
    fn done(self, entry: &FrontierEntry) -> bool {
        entry.round >= self.number
            || self.credited(entry)
            || (!self.full && entry.deferred(self.started))
    }

    /// Whether the entry is a document the interrupted crawl whose plan
    /// this round carries on fetched.
    fn credited(self, entry: &FrontierEntry) -> bool {
        self.credit > 0 && entry.is_document() && entry.round == self.credit
    }

    /// `entry` with `done` read off this round.
    fn read(self, mut entry: FrontierEntry) -> FrontierEntry {
        entry.done = self.done(&entry);
        entry
    }

    /// The round a crawl asking `full` at `now` begins after this one;
    /// `unfinished` when this one left URLs to visit. Every crawl is a
    /// round of its own, so it fetches every list page, every URL not yet
    /// fetched and every document due at `now`, whatever an interrupted
    /// crawl did: a plain crawl owes nothing to the one it follows (what
    /// that one fetched is not due again, what it left is), and list pages
    /// are where documents published since appear. Only a `--full` plan is
    /// carried on, by any crawl that follows it unfinished: the documents
    /// the interrupted crawl fetched count as done. Those of crawls before
    /// it do not: the site may have changed since, and a plan killed again
    /// and again must not keep a document's text from before the changes.
    /// A `--full` crawl after an unfinished plain one is a new plan: it owes
    /// every known document a fetch.
    fn next(self, unfinished: bool, full: bool, now: u64) -> Self {
        let carried = unfinished && self.full;
        Self {
            number: self.number.saturating_add(1),
            started: now,
            full: full || carried,
            credit: if carried { self.number } else { 0 },
        }
    }
}

/// What a new crawl of a site set out to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CrawlPlan {
    /// Known documents due (or all of them, with `full`), to revisit,
    /// counting those `credited`.
    pub due: u64,
    /// Known documents not yet due, left out.
    pub deferred: u64,
    /// When this crawl carries on an interrupted `--full` plan: the known
    /// documents that plan fetched already, revisited by it and not fetched
    /// again.
    pub credited: Option<u64>,
    /// Whether the site's last crawl did not run to its end: this one takes
    /// up what it left, and its summary adds what that one did.
    pub continues: bool,
}

/// `site ‖ 0x00 ‖ url`: a frontier key. Site names have no NUL (the config
/// refuses control characters in them).
fn frontier_key(site: &str, url: &str) -> Vec<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const SITE: &str = "tjbh-gxq";
    const BASE: &str = "https://www.tjbh.gov.cn/gxq/";

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        (dir, store)
    }

    fn pending(store: &Store) -> Vec<String> {
        let (urls, _) = store
            .frontier_pending(SITE, &HashSet::new(), usize::MAX)
            .unwrap();
        urls.into_iter().map(|(url, _, _)| url).collect()
    }

    #[test]
    fn pending_urls_come_shallowest_first_and_at_most_n() {
        let (_dir, store) = open();
        for (path, depth) in [("c.html", 2), ("a.html", 0), ("d.html", 3), ("b.html", 1)] {
            assert!(
                store
                    .frontier_add(&format!("{BASE}{path}"), SITE, depth)
                    .unwrap()
            );
        }
        assert!(
            !store
                .frontier_add(&format!("{BASE}b.html"), SITE, 0)
                .unwrap()
        );
        store
            .frontier_add("https://www.gov.cn/zhengce/a.html", "gov-cn", 0)
            .unwrap();
        store
            .frontier_done(
                SITE,
                &format!("{BASE}a.html"),
                Visit::Listing,
                0,
                Revisit::default(),
                None,
            )
            .unwrap();
        let skip = HashSet::from([crate::store::url_hash(&format!("{BASE}b.html"))]);

        let (urls, waiting) = store.frontier_pending(SITE, &skip, 1).unwrap();
        let urls: Vec<(String, u32)> = urls.into_iter().map(|(u, d, _)| (u, d)).collect();
        assert_eq!(urls, [(format!("{BASE}c.html"), 2)]);
        assert_eq!(waiting, 2, "c and d: a is done, b is handed out");
        let (urls, _) = store.frontier_pending(SITE, &skip, 5).unwrap();
        let urls: Vec<(String, u32)> = urls.into_iter().map(|(u, d, _)| (u, d)).collect();
        assert_eq!(
            urls,
            [(format!("{BASE}c.html"), 2), (format!("{BASE}d.html"), 3)]
        );
    }

    #[test]
    fn a_crawl_after_an_unfinished_one_takes_every_list_page_and_what_was_left() {
        let (_dir, store) = open();
        let bounds = Revisit::default();
        let day = bounds.min.as_secs();
        let seed = format!("{BASE}index.html");
        let (t1, t2) = (format!("{BASE}t1.html"), format!("{BASE}t2.html"));
        store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
        assert_eq!(pending(&store), std::slice::from_ref(&seed));
        store.frontier_add(&t1, SITE, 1).unwrap();
        store.frontier_add(&t2, SITE, 1).unwrap();
        store
            .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
            .unwrap();
        store
            .frontier_done(SITE, &t2, Visit::Changed, 0, bounds, None)
            .unwrap();

        // unfinished: the list page again (news appears there), then what
        // was left; the document fetched is not due again
        let plan = store.frontier_begin(SITE, &[&seed], 10, false).unwrap();
        assert_eq!((plan.due, plan.deferred, plan.continues), (0, 1, true));
        assert_eq!(pending(&store), [seed.clone(), t1.clone()]);

        // finished: a new crawl a day later visits everything again
        for url in [&seed, &t1] {
            let visit = if *url == seed {
                Visit::Listing
            } else {
                Visit::Unchanged
            };
            store
                .frontier_done(SITE, url, visit, 10, bounds, None)
                .unwrap();
        }
        let plan = store
            .frontier_begin(SITE, &[&seed], day + 10, false)
            .unwrap();
        assert_eq!((plan.due, plan.deferred, plan.continues), (2, 0, false));
        assert_eq!(pending(&store).len(), 3);
    }

    #[test]
    fn an_unfinished_full_plan_is_carried_on_and_a_full_after_a_plain_one_owes_all() {
        let (_dir, store) = open();
        let bounds = Revisit::default();
        let seed = format!("{BASE}index.html");
        let docs: Vec<String> = (0..4).map(|n| format!("{BASE}t{n}.html")).collect();
        store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
        for url in &docs {
            store.frontier_add(url, SITE, 1).unwrap();
            store
                .frontier_done(SITE, url, Visit::Changed, 0, bounds, None)
                .unwrap();
        }
        store
            .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
            .unwrap();
        let done = |url: &String, now| {
            store
                .frontier_done(SITE, url, Visit::Unchanged, now, bounds, None)
                .unwrap();
        };

        // a --full crawl fetches t0 and t1, and is killed
        let plan = store.frontier_begin(SITE, &[&seed], 10, true).unwrap();
        assert_eq!((plan.due, plan.credited), (4, None));
        done(&docs[0], 10);
        done(&docs[1], 10);
        // the next crawl, plain or not, carries the plan on: the list page
        // and t2, t3; t0 and t1 count as revisited
        let plan = store.frontier_begin(SITE, &[&seed], 20, false).unwrap();
        assert_eq!(
            (plan.due, plan.credited, plan.continues),
            (4, Some(2), true)
        );
        assert_eq!(
            pending(&store),
            [seed.clone(), docs[2].clone(), docs[3].clone()]
        );
        // killed again after t2: only what that crawl fetched is carried on
        done(&docs[2], 20);
        let plan = store.frontier_begin(SITE, &[&seed], 30, true).unwrap();
        assert_eq!(plan.credited, Some(1));
        // most overdue first: t3's fetch is the oldest
        assert_eq!(
            pending(&store),
            [
                seed.clone(),
                docs[3].clone(),
                docs[0].clone(),
                docs[1].clone()
            ]
        );

        // a plain crawl killed, then --full: a new plan, every document
        for url in [&docs[0], &docs[1], &docs[3]] {
            done(url, 30);
        }
        store
            .frontier_done(SITE, &seed, Visit::Listing, 30, bounds, None)
            .unwrap();
        store.frontier_begin(SITE, &[&seed], 40, false).unwrap();
        let plan = store.frontier_begin(SITE, &[&seed], 50, true).unwrap();
        assert_eq!((plan.due, plan.credited), (4, None));
        assert_eq!(pending(&store).len(), 5);
    }

    #[test]
    fn documents_not_due_are_left_out_unless_full() {
        let (_dir, store) = open();
        let bounds = Revisit::default();
        let seed = format!("{BASE}index.html");
        let (t1, t2) = (format!("{BASE}t1.html"), format!("{BASE}t2.html"));
        store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
        store.frontier_add(&t1, SITE, 1).unwrap();
        store.frontier_add(&t2, SITE, 1).unwrap();
        store
            .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
            .unwrap();
        // t1 changed long ago, t2 was just fetched
        store
            .frontier_done(SITE, &t1, Visit::Changed, 0, bounds, None)
            .unwrap();
        let now = bounds.min.as_secs() + 5;
        store
            .frontier_done(SITE, &t2, Visit::Changed, now, bounds, None)
            .unwrap();

        let plan = store.frontier_begin(SITE, &[&seed], now, false).unwrap();
        assert_eq!((plan.due, plan.deferred), (1, 1));
        assert_eq!(pending(&store), [seed.clone(), t1.clone()]);
        for (url, visit) in [(&seed, Visit::Listing), (&t1, Visit::Unchanged)] {
            store
                .frontier_done(SITE, url, visit, now, bounds, None)
                .unwrap();
        }
        let plan = store.frontier_begin(SITE, &[&seed], now, true).unwrap();
        assert_eq!((plan.due, plan.deferred), (2, 0));
        assert_eq!(pending(&store).len(), 3);
    }

    #[test]
    fn marks_written_before_rounds_keep_the_crawl_where_it_was() {
        let (_dir, store) = open();
        let url = |path: &str| format!("{BASE}{path}");
        // schema 8: an unfinished crawl of SITE (index done, t1 not), and
        // "tjbh" killed while marking its URLs (its `recrawl:` mark)
        let old = |site: &str, done: bool| {
            format!(r#"{{"site":"{site}","depth":0,"done":{done},"kind":"listing"}}"#)
        };
        for (site, path, done) in [
            (SITE, "index.html", true),
            (SITE, "t1.html", false),
            ("tjbh", "index.html", false),
            ("tjbh", "t1.html", true),
        ] {
            store
                .frontier
                .insert(frontier_key(site, &url(path)), old(site, done).as_bytes())
                .unwrap();
        }
        let restart = [trees::RESTART_KEY_PREFIX, b"tjbh"].concat();
        store.meta.insert(&restart, &[]).unwrap();

        store.upgrade_frontier_rounds().unwrap();
        store.upgrade_frontier_rounds().unwrap(); // a second run changes nothing
        assert_eq!(pending(&store), [url("t1.html")]);
        let plan = store.frontier_begin(SITE, &[], 0, false).unwrap();
        assert!(plan.continues, "unfinished: it continues");
        // the list page again, as every crawl fetches it, and what was left
        assert_eq!(pending(&store), [url("index.html"), url("t1.html")]);
        assert!(!store.meta.contains_key(&restart).unwrap());
        // tjbh's crawl begins anew: both its URLs, not only the one marked
        store.frontier_begin("tjbh", &[], 0, false).unwrap();
        let (urls, waiting) = store.frontier_pending("tjbh", &HashSet::new(), 10).unwrap();
        assert_eq!(waiting, 2, "{urls:?}");
    }

    #[test]
    fn beginning_a_crawl_rewrites_no_entry() {
        let (_dir, store) = open();
        let bounds = Revisit::default();
        let seed = format!("{BASE}index.html");
        store.frontier_begin(SITE, &[&seed], 0, false).unwrap();
        for n in 0..50 {
            let url = format!("{BASE}t{n}.html");
            store.frontier_add(&url, SITE, 1).unwrap();
            store
                .frontier_done(SITE, &url, Visit::Changed, 0, bounds, None)
                .unwrap();
        }
        store
            .frontier_done(SITE, &seed, Visit::Listing, 0, bounds, None)
            .unwrap();
        let before: Vec<_> = store.frontier.iter().collect::<sled::Result<_>>().unwrap();
        let plan = store
            .frontier_begin(SITE, &[&seed], bounds.min.as_secs() + 1, false)
            .unwrap();
        assert_eq!(plan.due, 50);
        assert_eq!(pending(&store).len(), 51);
        let after: Vec<_> = store.frontier.iter().collect::<sled::Result<_>>().unwrap();
        assert_eq!(before, after, "one write to `meta` began the crawl");
    }

    #[test]
    fn two_sites_keep_their_own_entries_and_an_old_frontier_is_rekeyed() {
        let (_dir, store) = open();
        let shared = format!("{BASE}index.html");
        assert!(store.frontier_add(&shared, SITE, 0).unwrap());
        assert!(store.frontier_add(&shared, "tjbh", 2).unwrap());
        store
            .frontier_done(SITE, &shared, Visit::Listing, 0, Revisit::default(), None)
            .unwrap();
        assert!(store.frontier_entry(SITE, &shared).unwrap().unwrap().done);
        assert!(!store.frontier_entry("tjbh", &shared).unwrap().unwrap().done);

        // a frontier entry as schema 4 wrote it: keyed by the URL alone
        let old = FrontierEntry {
            site: "gov-cn".to_owned(),
            depth: 1,
            done: false,
            round: 0,
            kind: None,
            interval_s: None,
            due: None,
            slot: None,
        };
        let url = "https://www.gov.cn/zhengce/content/202401/content_6924911.htm";
        store
            .frontier
            .insert(url.as_bytes(), old.to_json())
            .unwrap();
        store.upgrade_frontier_keys().unwrap();
        assert_eq!(
            store.frontier_entry("gov-cn", url).unwrap(),
            Some(old.clone())
        );
        assert!(store.frontier.get(url.as_bytes()).unwrap().is_none());
        let (urls, _) = store
            .frontier_pending("gov-cn", &HashSet::new(), 10)
            .unwrap();
        assert_eq!(urls, [(url.to_owned(), 1, old.rank())]);
    }
}
