//! Under `govsnap serve`, the crawl's CPU work (extracting pages, reading
//! files) runs at a lower scheduling priority than the service's readers.
//!
//! A full-speed crawl keeps every core busy; a search (tens of
//! milliseconds of CPU at 100,000 documents) then waited its turn behind it
//! (p99 175 ms with 4 clients on 2 cores). The archive's readers are people
//! and tools waiting on an answer; the crawl is background work whose pace
//! politeness sets anyway. So under `serve` that work runs on a pool of its
//! own, a few threads at `nice` 19 (Linux's nice is per thread); `govsnap
//! crawl` alone runs it on the runtime's blocking threads, untouched.
//!
//! A pool of its own, not the runtime's blocking threads lowered one by
//! one: those threads also serve the store's reads for the API, and a
//! lowered priority cannot be raised back without privileges. And a few
//! threads, not one per page in flight: 32 extractions at nice 10 weighed
//! as much with the scheduler as four searches at nice 0.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

static YIELD_TO_READERS: AtomicBool = AtomicBool::new(false);

/// The niceness of the crawl's CPU work under `serve`: the lowest, so that
/// it takes what readers leave (the scheduler still gives it a share).
const BACKGROUND_NICE: i32 = 19;

/// Threads beyond the cores: room for a file being read (a large PDF within
/// its time budget) while pages go on being extracted.
const SPARE_THREADS: usize = 2;

/// From now on, the crawl's CPU work yields to readers (`serve` calls it).
pub fn yield_to_readers() {
    YIELD_TO_READERS.store(true, Ordering::Relaxed);
}

/// The crawl's CPU work panicked; the message says where.
#[derive(Debug)]
pub(crate) struct Panicked(String);

impl std::fmt::Display for Panicked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Run the crawl's CPU work `work` off the runtime: on the background pool
/// under `serve`, else on the runtime's blocking threads.
pub(crate) async fn background<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> Result<R, Panicked> {
    if !YIELD_TO_READERS.load(Ordering::Relaxed) {
        return tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| Panicked(e.to_string()));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(work)));
    });
    pool()
        .send(job)
        .map_err(|_| Panicked("the background threads are gone".to_owned()))?;
    match rx.await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(panic)) => Err(Panicked(panic_message(panic.as_ref()))),
        Err(_) => Err(Panicked("the background work was dropped".to_owned())),
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("no message");
    format!("panicked: {what}")
}

/// The pool's queue, its threads started on first use.
fn pool() -> &'static mpsc::Sender<Job> {
    static POOL: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let threads =
            std::thread::available_parallelism().map_or(2, std::num::NonZero::get) + SPARE_THREADS;
        for _ in 0..threads {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name("govsnap-extract".to_owned())
                .spawn(move || {
                    // `None`: the calling thread
                    let _ = rustix::process::setpriority_process(None, BACKGROUND_NICE);
                    loop {
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            // a thread the system would not start leaves the others to
            // do the work; with none, `background` reports the failure
            drop(spawned);
        }
        tx
    })
}
