//! A site's crawl round (tree `meta`, key `round:SITE`): what one crawl of
//! the site set out to visit, and what a crawl that follows an unfinished
//! one takes over from it (SPEC §8: a continued crawl is a complete crawl).
//! The frontier reads every entry's `done` off the round
//! ([`super::frontier`]); beginning a crawl writes one new round.

use super::frontier::FrontierEntry;
use serde::{Deserialize, Serialize};

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
pub(super) struct Round {
    pub(super) number: u32,
    started: u64,
    full: bool,
    /// The interrupted round of the `--full` plan this round carries on,
    /// whose documents count as done; 0 when it carries none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(super) credit: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's signature
fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Round {
    /// The round of a site no crawl has begun in since schema 9: entries
    /// an older store marked done are round 1 (the upgrade), the rest 0.
    pub(super) const BEFORE: Self = Self {
        number: 1,
        started: 0,
        full: true,
        credit: 0,
    };

    /// Whether this round leaves the entry alone: fetched in it, a
    /// document the plan it continues fetched, or a known document not due
    /// when it began.
    pub(super) fn done(self, entry: &FrontierEntry) -> bool {
        entry.round >= self.number
            || self.credited(entry)
            || (!self.full && entry.deferred(self.started))
    }

    /// Whether the entry is a document the interrupted crawl whose plan
    /// this round carries on fetched.
    pub(super) fn credited(self, entry: &FrontierEntry) -> bool {
        self.credit > 0 && entry.is_document() && entry.round == self.credit
    }

    /// `entry` with `done` read off this round.
    pub(super) fn read(self, mut entry: FrontierEntry) -> FrontierEntry {
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
    pub(super) fn next(self, unfinished: bool, full: bool, now: u64) -> Self {
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
