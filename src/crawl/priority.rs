//! Under `govsnap serve`, the crawl's CPU work (extracting pages, reading
//! files) runs at a lower scheduling priority than the service's readers.
//!
//! A full-speed crawl keeps every core busy; a search (tens of
//! milliseconds of CPU at 100,000 documents) then waited its turn behind it
//! (p99 175 ms with 4 clients on 2 cores). The archive's readers are people
//! and tools waiting on an answer; the crawl is background work whose pace
//! politeness sets anyway. So the threads that extract pages lower their
//! own priority (`nice` 10, Linux's per-thread nice), once, the first time
//! they extract under `serve`; `govsnap crawl` alone is untouched. A lower
//! priority cannot be raised back without privileges, so it stays with the
//! thread: the runtime's blocking threads, shared by the store's reads too.

use std::sync::atomic::{AtomicBool, Ordering};

static YIELD_TO_READERS: AtomicBool = AtomicBool::new(false);

/// The niceness the crawl's CPU work takes under `serve`.
const BACKGROUND_NICE: i32 = 10;

/// From now on, the crawl's CPU work yields to readers (`serve` calls it).
pub fn yield_to_readers() {
    YIELD_TO_READERS.store(true, Ordering::Relaxed);
}

/// Called before the crawl's CPU work on a blocking thread.
pub(crate) fn background_work() {
    thread_local!(static LOWERED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if !YIELD_TO_READERS.load(Ordering::Relaxed) {
        return;
    }
    LOWERED.with(|lowered| {
        if !lowered.replace(true) {
            // `None`: the calling thread (Linux's nice is per thread)
            let _ = rustix::process::setpriority_process(None, BACKGROUND_NICE);
        }
    });
}
