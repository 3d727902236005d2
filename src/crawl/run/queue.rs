//! A site's crawl queue: the URLs to fetch next, in the crawl's order
//! (rank, then arrival), held in memory up to `queue_in_memory`; the rest
//! wait in the store's frontier and are read back when the queue runs dry.

use super::{Item, Result, SiteCrawl};
use crate::store::FrontierEntry;
use crate::store::schedule::Rank;
use crate::store::url_hash;

/// A URL waiting in the queue: its text only (a parsed `Url` is five times
/// the size), and its place in the crawl's order.
#[derive(Debug, Clone)]
pub(super) struct Queued {
    pub(super) rank: Rank,
    /// Arrival order, among URLs of the same rank.
    pub(super) seq: u64,
    pub(super) url: Box<str>,
    pub(super) depth: u32,
    pub(super) hops: u8,
    pub(super) fresh: bool,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        (self.rank, self.seq) == (other.rank, other.seq)
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Queued {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.rank, self.seq).cmp(&(other.rank, other.seq))
    }
}

impl SiteCrawl<'_> {
    /// The next URL to fetch; a dry queue is refilled from the frontier
    /// when URLs wait there (at the start, after an overflow).
    pub(super) fn next_queued(&mut self) -> Result<Option<Queued>> {
        if self.queue.is_empty() && self.overflow {
            let (pending, waiting) = self.store.frontier_pending(
                &self.site.name,
                &self.taken,
                self.config.crawl.queue_in_memory,
            )?;
            self.overflow = waiting > pending.len();
            self.waiting = waiting;
            for (url, depth, rank) in pending {
                let queued = self.queued(&url, depth, 0, false, rank);
                self.queue.insert(queued);
            }
        }
        let next = self.queue.pop_first();
        if next.is_some() {
            self.waiting = self.waiting.saturating_sub(1);
        }
        Ok(next)
    }

    pub(super) fn queued(
        &mut self,
        url: &str,
        depth: u32,
        hops: u8,
        fresh: bool,
        rank: Rank,
    ) -> Queued {
        self.seq += 1;
        Queued {
            rank,
            seq: self.seq,
            url: url.into(),
            depth,
            hops,
            fresh,
        }
    }

    /// Into the queue in its order. A full queue keeps the URLs that come
    /// first: the last one waits in the store's frontier only (not done, a
    /// refill brings it back), so everything only there comes after
    /// everything queued.
    pub(super) fn enqueue(&mut self, queued: Queued) {
        if self.queue.len() >= self.config.crawl.queue_in_memory {
            self.overflow = true;
            match self.queue.last() {
                Some(last) if queued < *last => {
                    self.queue.pop_last();
                }
                _ => return,
            }
        }
        self.queue.insert(queued);
    }

    /// A URL handed out that cannot start now: back in line, in its place.
    pub(super) fn put_back(&mut self, item: &Item) {
        self.taken.remove(&url_hash(item.url.as_str()));
        self.waiting += 1;
        // first among its rank, where it was
        self.enqueue(Queued {
            rank: item.rank,
            seq: 0,
            url: item.url.as_str().into(),
            depth: item.depth,
            hops: item.hops,
            fresh: item.fresh,
        });
    }

    /// A link in scope: into the frontier unless it is there already, and
    /// then into the queue, ahead of every URL a crawl fetched before: a new
    /// URL is where news is.
    pub(super) fn found(&mut self, url: &str, depth: u32) -> Result<()> {
        if !self.store.frontier_add(url, &self.site.name, depth)? {
            return Ok(());
        }
        self.waiting += 1;
        let rank = FrontierEntry::new_rank(depth);
        let queued = self.queued(url, depth, 0, true, rank);
        self.enqueue(queued);
        Ok(())
    }
}
