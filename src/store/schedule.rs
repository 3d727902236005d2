//! What a crawl fetches first, and when a known document is due again
//! (SPEC §8, "Order and revisits"). Both are read off a URL's frontier
//! entry, so that they hold across interruptions and for every site of a
//! crawl alike.
//!
//! The order: URLs this crawl found that no crawl fetched (new documents,
//! as soon as a list page reveals them), then seeds and list pages (every
//! crawl), then URLs an earlier crawl found and left unfetched (what an
//! interrupted or time-boxed crawl left), then known documents, most
//! overdue first. A document's revisit interval doubles
//! after a fetch that found it unchanged and falls back to the site's
//! `revisit_min` after a change, within `revisit_min`…`revisit_max`; a gone
//! page is looked at again after `revisit_max`.

use super::FrontierEntry;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a URL turned out to be when last fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlKind {
    /// A list page: fetched on every crawl.
    Listing,
    /// A document: fetched when due.
    Document,
    /// Neither (a redirect, an error, not a web page): fetched on every
    /// crawl, like a list page.
    Other,
}

/// What a fetch found, for the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// A list page.
    Listing,
    /// A document stored as a new version (or for the first time).
    Changed,
    /// A document that had not changed (304, or the same content).
    Unchanged,
    /// A known page that answered 404/410.
    Gone,
    /// No usable answer (after the retries): tried again next crawl.
    Failed,
    /// A redirect, robots.txt's no, not a web page.
    Other,
}

/// A site's revisit bounds (`revisit_min`, `revisit_max`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revisit {
    /// The interval after a change, and the shortest.
    pub min: Duration,
    /// The longest interval, and a gone page's.
    pub max: Duration,
}

/// The default `revisit_min`: a day.
pub const DEFAULT_REVISIT_MIN: Duration = Duration::from_hours(24);
/// The default `revisit_max`: thirty days.
pub const DEFAULT_REVISIT_MAX: Duration = Duration::from_hours(30 * 24);

impl Default for Revisit {
    fn default() -> Self {
        Self {
            min: DEFAULT_REVISIT_MIN,
            max: DEFAULT_REVISIT_MAX,
        }
    }
}

/// Where a URL stands in a crawl's order: lower first. The class, then a
/// key within it (link depth, or for documents the time they fell due).
pub type Rank = (u8, u64);

/// A URL to fetch, with its link depth and its place in the order.
pub type Pending = (String, u32, Rank);

/// Rank class of a URL to follow at once (a redirect's target, a URL put
/// back because its host was busy).
pub const RANK_NOW: u8 = 0;
const RANK_NEW: u8 = 1;
const RANK_LISTING: u8 = 2;
const RANK_LEFT: u8 = 3;
const RANK_DOCUMENT: u8 = 4;

impl FrontierEntry {
    /// Where a URL new to the frontier stands in the order of the crawl
    /// that found it.
    #[must_use]
    pub fn new_rank(depth: u32) -> Rank {
        (RANK_NEW, u64::from(depth))
    }

    /// Where this URL stands in a crawl's order.
    #[must_use]
    pub fn rank(&self) -> Rank {
        match self.kind {
            // never fetched, found by an earlier crawl (new ones found by
            // this crawl rank as `new_rank`)
            None => (RANK_LEFT, u64::from(self.depth)),
            Some(UrlKind::Listing | UrlKind::Other) => (RANK_LISTING, u64::from(self.depth)),
            Some(UrlKind::Document) => (RANK_DOCUMENT, self.due.unwrap_or(0)),
        }
    }

    /// Whether a new crawl at `now` (Unix seconds) leaves this URL out: a
    /// known document not yet due.
    #[must_use]
    pub fn deferred(&self, now: u64) -> bool {
        self.kind == Some(UrlKind::Document) && self.due.is_some_and(|due| due > now)
    }

    /// Whether this is a known document (not a new URL, not a list page).
    #[must_use]
    pub fn is_document(&self) -> bool {
        self.kind == Some(UrlKind::Document)
    }

    /// Take in what a fetch at `now` (Unix seconds) found.
    pub fn visited(&mut self, visit: Visit, now: u64, bounds: Revisit) {
        let (min, max) = (bounds.min.as_secs().max(1), bounds.max.as_secs().max(1));
        let interval = match visit {
            Visit::Listing => {
                self.kind = Some(UrlKind::Listing);
                None
            }
            Visit::Other => {
                self.kind = Some(UrlKind::Other);
                None
            }
            Visit::Changed => Some(min),
            Visit::Unchanged => Some(
                self.interval_s
                    .map_or(min, |i| i.saturating_mul(2))
                    .clamp(min, max.max(min)),
            ),
            Visit::Gone => Some(max.max(min)),
            // the schedule stays; the next crawl tries again
            Visit::Failed => {
                if self.is_document() {
                    self.due = Some(now);
                }
                return;
            }
        };
        if let Some(interval) = interval {
            self.kind = Some(UrlKind::Document);
            self.interval_s = Some(interval);
            self.due = Some(now.saturating_add(interval));
        } else {
            self.interval_s = None;
            self.due = None;
        }
    }
}

/// Now, as Unix seconds.
#[must_use]
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 24 * 3600;

    fn entry() -> FrontierEntry {
        FrontierEntry {
            site: "tht-gk".into(),
            depth: 2,
            done: false,
            round: 0,
            kind: None,
            interval_s: None,
            due: None,
            slot: None,
        }
    }

    #[test]
    fn intervals_double_while_unchanged_and_reset_on_a_change() {
        let bounds = Revisit::default();
        let mut e = entry();
        assert_eq!(e.rank(), (RANK_LEFT, 2));
        e.visited(Visit::Changed, 1_000, bounds);
        assert_eq!((e.interval_s, e.due), (Some(DAY), Some(1_000 + DAY)));
        let mut seen = Vec::new();
        for _ in 0..7 {
            e.visited(Visit::Unchanged, 0, bounds);
            seen.push(e.interval_s.unwrap() / DAY);
        }
        assert_eq!(
            seen,
            [2, 4, 8, 16, 30, 30, 30],
            "doubled, capped at 30 days"
        );
        e.visited(Visit::Changed, 5_000, bounds);
        assert_eq!((e.interval_s, e.due), (Some(DAY), Some(5_000 + DAY)));
        assert_eq!(e.rank(), (RANK_DOCUMENT, 5_000 + DAY));
        assert!(e.deferred(5_000) && !e.deferred(5_000 + DAY));
    }

    #[test]
    fn gone_pages_wait_the_longest_and_failures_keep_their_interval() {
        let bounds = Revisit {
            min: Duration::from_mins(1),
            max: Duration::from_mins(10),
        };
        let mut e = entry();
        e.visited(Visit::Changed, 0, bounds);
        e.visited(Visit::Unchanged, 100, bounds);
        assert_eq!(e.interval_s, Some(120));
        e.visited(Visit::Failed, 200, bounds);
        assert_eq!((e.interval_s, e.due), (Some(120), Some(200)));
        e.visited(Visit::Gone, 300, bounds);
        assert_eq!((e.interval_s, e.due), (Some(600), Some(900)));
    }

    #[test]
    fn new_urls_then_list_pages_then_what_was_left_then_documents() {
        let bounds = Revisit::default();
        let left = entry();
        let mut listing = entry();
        listing.visited(Visit::Listing, 0, bounds);
        let mut overdue = entry();
        overdue.visited(Visit::Changed, 0, bounds);
        let mut recent = entry();
        recent.visited(Visit::Changed, 10, bounds);
        let new = FrontierEntry::new_rank(5);
        let mut ranks = [
            recent.rank(),
            left.rank(),
            listing.rank(),
            overdue.rank(),
            new,
        ];
        ranks.sort_unstable();
        assert_eq!(
            ranks,
            [
                new,
                listing.rank(),
                left.rank(),
                overdue.rank(),
                recent.rank()
            ]
        );
        assert!(!listing.deferred(0) && !left.deferred(0));
    }
}
