//! Full-text search over every stored document and version (SPEC §13).
//!
//! The index is derived data: it lives beside the store in `STORE/index/`
//! (tantivy), is fed from the store's changes feed, and can always be
//! rebuilt from the store. Data flows one way:
//!
//! ```text
//! store changes feed ──> [`Search::catch_up`] (documents of versions) ──> tantivy commit
//!                                               (payload: the last change indexed)
//! query ──> [`query::parse`] ──> tantivy query ──> hits + facets ──> store records ──> snippets
//! ```
//!
//! The cursor of the last indexed change is committed with the index, in
//! the same tantivy commit, so that a killed process catches up from
//! exactly there: nothing indexed twice, nothing missed.
//!
//! # Architecture
//! - [`Search`]: the index, opened (or rebuilt when its layout is not this
//!   build's) and kept current.
//! - `documents`: the schema, and a stored version as an index document.
//! - `answer`: a [`SearchRequest`] run into a [`SearchAnswer`].
//! - `query`: the query language; `tokenize`: text to bigram terms;
//!   `snippet`: a hit's text around its matches, marked.
//! - `directory`: where tantivy reads the index's files from (postings and
//!   positions by `pread`, so that they stay out of the process's memory).

mod answer;
mod directory;
mod documents;
mod facets;
mod query;
mod snippet;
mod tokenize;

pub use answer::{
    DEFAULT_HITS, Facets, MAX_HITS, SearchAnswer, SearchCursor, SearchHit, SearchRequest,
};
pub use query::MAX_QUERY_CHARS;
pub use snippet::pieces as snippet_pieces;

use crate::error::{Error, Result};
use crate::store::{ChangeCursor, Store};
use documents::Fields;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy};

/// The index's directory inside the store.
pub const INDEX_DIR: &str = crate::store::SEARCH_INDEX_DIR;
/// This build's index layout: schema and tokenizer. An index of another
/// layout is rebuilt on open, never read with the wrong terms.
const LAYOUT: u32 = 1;
/// The file that names an index's layout.
const LAYOUT_FILE: &str = "govsnap-index.json";
/// The writer's memory, before it writes a segment.
const WRITER_BYTES: usize = 48 << 20;
/// A catch-up commits at least this often, so that a long one (a reindex,
/// a crawl's burst under `serve`) is searchable, and kept, as it goes.
const COMMIT_EVERY: Duration = Duration::from_secs(1);
/// The niceness of the thread that keeps the index current.
const INDEX_NICE: i32 = 10;
/// Changes read from the feed at a time.
const BATCH: usize = 512;

/// The search index of one store.
pub struct Search {
    dir: PathBuf,
    index: Index,
    fields: Fields,
    reader: IndexReader,
    /// The writer, and the last change it has committed.
    writer: Mutex<Indexer>,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

struct Indexer {
    /// `None` after a failed write: tantivy stops a writer that fails one,
    /// so the next catch-up starts a new one from the last commit.
    writer: Option<IndexWriter>,
    committed: Option<ChangeCursor>,
}

fn index_error(dir: &Path, e: impl std::fmt::Display) -> Error {
    Error::Index {
        path: dir.to_owned(),
        reason: e.to_string(),
    }
}

/// tantivy's error in words for an archivist: a writer stopped by a failed
/// write says so (tantivy's own words speak of threads that panicked).
fn tantivy_error(dir: &Path, e: &tantivy::TantivyError) -> Error {
    use tantivy::TantivyError as T;
    match e {
        T::ErrorInThread(_) => index_error(dir, "a write failed (is the disk full?)"),
        T::IoError(io) if crate::error::is_disk_full(io) => {
            index_error(dir, "No space left on device")
        }
        other => index_error(dir, other),
    }
}

impl Search {
    /// Open the index of `store`, creating it, or rebuilding it when it is
    /// of another layout or cannot be opened. It is not caught up: call
    /// [`Search::catch_up`].
    ///
    /// # Errors
    /// [`Error::Index`] when the directory cannot be made or written.
    pub fn open(store: &Store) -> Result<Self> {
        let dir = store.path().join(INDEX_DIR);
        match Self::open_dir(&dir) {
            Ok(Some(search)) => return Ok(search),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "rebuilding the search index"),
        }
        Self::create(&dir)
    }

    /// The index at `dir` if it is of this layout.
    fn open_dir(dir: &Path) -> Result<Option<Self>> {
        let layout = std::fs::read_to_string(dir.join(LAYOUT_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v.get("layout").and_then(serde_json::Value::as_u64));
        if layout != Some(u64::from(LAYOUT)) {
            return Ok(None);
        }
        let directory = directory::IndexDirectory::open(dir).map_err(|e| index_error(dir, e))?;
        let index = Index::open(directory).map_err(|e| index_error(dir, e))?;
        let fields = Fields::of(&index.schema())
            .ok_or_else(|| index_error(dir, "its schema is not this govsnap's"))?;
        Self::with_index(dir, &index, fields).map(Some)
    }

    /// A new, empty index at `dir`, replacing what is there.
    fn create(dir: &Path) -> Result<Self> {
        let io = |e: std::io::Error| Error::io(dir, format!("creating {}", dir.display()), e);
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io)?;
        }
        std::fs::create_dir_all(dir).map_err(io)?;
        let (schema, fields) = documents::schema();
        let directory = directory::IndexDirectory::open(dir).map_err(|e| index_error(dir, e))?;
        let index = Index::create(directory, schema, tantivy::IndexSettings::default())
            .map_err(|e| index_error(dir, e))?;
        // the layout is named last: an index without it is rebuilt
        let layout = serde_json::json!({ "layout": LAYOUT }).to_string();
        std::fs::write(dir.join(LAYOUT_FILE), layout).map_err(io)?;
        Self::with_index(dir, &index, fields)
    }

    fn with_index(dir: &Path, index: &Index, fields: Fields) -> Result<Self> {
        index
            .tokenizers()
            .register(tokenize::NAME, tokenize::Bigrams);
        let committed = index
            .load_metas()
            .map_err(|e| index_error(dir, e))?
            .payload
            .and_then(|p| p.parse().ok());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| index_error(dir, e))?;
        Ok(Self {
            dir: dir.to_owned(),
            index: index.clone(),
            fields,
            reader,
            writer: Mutex::new(Indexer {
                writer: None,
                committed,
            }),
        })
    }

    /// Throw the index away and build it again from the whole changes
    /// feed (`govsnap reindex`). Returns the versions indexed.
    ///
    /// # Errors
    /// As [`Search::open`] and [`Search::catch_up`].
    pub fn rebuild(self, store: &Store) -> Result<(Self, u64)> {
        let dir = self.dir.clone();
        drop(self);
        let fresh = Self::create(&dir)?;
        let indexed = fresh.catch_up(store)?;
        // a rebuild ends with its segments merged: the index it leaves is
        // as small and as quick to search as it will get
        if let Some(writer) = fresh.lock().writer.take() {
            writer
                .wait_merging_threads()
                .map_err(|e| tantivy_error(&dir, &e))?;
        }
        fresh.reader.reload().map_err(|e| tantivy_error(&dir, &e))?;
        Ok((fresh, indexed))
    }

    /// The last change the index holds, committed.
    #[must_use]
    pub fn indexed(&self) -> Option<ChangeCursor> {
        self.lock().committed
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Indexer> {
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Index every change after the last committed one, committing as it
    /// goes and at the end; searches see it once this returns. Returns the
    /// versions indexed.
    ///
    /// # Errors
    /// Store read errors; [`Error::Index`] when the index cannot be written.
    pub fn catch_up(&self, store: &Store) -> Result<u64> {
        let mut indexer = self.lock();
        let outcome = self.index_from(&mut indexer, store);
        if outcome.is_err() {
            // what it held uncommitted is indexed again from the last commit
            indexer.writer = None;
        }
        outcome
    }

    fn index_from(&self, indexer: &mut Indexer, store: &Store) -> Result<u64> {
        let mut cursor = indexer.committed;
        let mut versions = 0;
        let mut pending = false;
        let mut since_commit = Instant::now();
        loop {
            let batch = store.changes(cursor, BATCH)?;
            let Some((last, _)) = batch.last() else {
                break;
            };
            let last = *last;
            let writer = self.writer(indexer)?;
            for (_, change) in &batch {
                versions += documents::index_change(&self.fields, writer, store, change)
                    .map_err(|e| self.failed(e))?;
            }
            cursor = Some(last);
            pending = true;
            if since_commit.elapsed() >= COMMIT_EVERY {
                self.commit(indexer, store, last)?;
                pending = false;
                since_commit = Instant::now();
            }
        }
        if let (true, Some(cursor)) = (pending, cursor) {
            self.commit(indexer, store, cursor)?;
        }
        Ok(versions)
    }

    /// The writer, started when there is none.
    fn writer<'a>(&self, indexer: &'a mut Indexer) -> Result<&'a IndexWriter> {
        if indexer.writer.is_none() {
            let writer = self
                .index
                .writer_with_num_threads(1, WRITER_BYTES)
                .map_err(|e| tantivy_error(&self.dir, &e))?;
            indexer.writer = Some(writer);
        }
        Ok(indexer.writer.as_ref().expect("just started"))
    }

    fn commit(&self, indexer: &mut Indexer, store: &Store, cursor: ChangeCursor) -> Result<()> {
        // the store first: a crawl makes its versions durable every few
        // seconds, and an index committed ahead of it would, after a kill,
        // hold versions the store no longer has
        store.flush()?;
        let writer = indexer
            .writer
            .as_mut()
            .ok_or_else(|| index_error(&self.dir, "no writer to commit"))?;
        let mut prepared = writer
            .prepare_commit()
            .map_err(|e| tantivy_error(&self.dir, &e))?;
        prepared.set_payload(&cursor.to_string());
        prepared
            .commit()
            .map_err(|e| tantivy_error(&self.dir, &e))?;
        indexer.committed = Some(cursor);
        self.reader
            .reload()
            .map_err(|e| tantivy_error(&self.dir, &e))
    }

    /// Keep the index current until `stop` turns `true`: catch up, then
    /// wait for the store's next commit, at most one catch-up a second (a
    /// crawl commits far more often; each index commit makes a segment).
    /// After `stop`, one last catch-up. For `serve` and the crawl commands.
    /// A failure is logged and tried again, never fatal: the store is the
    /// archive; the index can wait.
    ///
    /// The catch-ups run on one thread of their own at a lower priority
    /// (nice [`INDEX_NICE`]): indexing takes the CPU the crawl leaves, so a
    /// crawl that needs every core is not slowed by it, and the index
    /// catches up when the crawl pauses or ends.
    ///
    /// Under `min_free` (`[store] min_free`) on the store's disk, where
    /// crawls warn (and under half of it pause), the index waits: the
    /// disk's last bytes are for the archive, which the index is rebuilt
    /// from, and it catches up from its cursor once there is room.
    pub async fn follow(
        self: std::sync::Arc<Self>,
        store: Store,
        min_free: u64,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        type Reply = tokio::sync::oneshot::Sender<Result<u64>>;
        let (ask, mut asked) = tokio::sync::mpsc::channel::<Reply>(1);
        let worker = {
            let (search, store) = (std::sync::Arc::clone(&self), store.clone());
            std::thread::Builder::new()
                .name("govsnap-index".to_owned())
                .spawn(move || {
                    // `None`: this thread (Linux's nice is per thread)
                    let _ = rustix::process::setpriority_process(None, INDEX_NICE);
                    while let Some(reply) = asked.blocking_recv() {
                        let _ = reply.send(search.catch_up(&store));
                    }
                })
        };
        if let Err(e) = worker {
            tracing::error!(error = %e, "the search index cannot follow the store: no thread");
            return;
        }
        let mut changed = store.subscribe();
        let mut failing = false;
        let mut waiting = false;
        loop {
            // a dropped sender stops it too
            let stopping = *stop.borrow_and_update() || stop.has_changed().is_err();
            changed.mark_unchanged();
            let short = store.free_bytes().is_some_and(|free| free < min_free);
            if short && !waiting {
                tracing::warn!(
                    "the search index waits: the store's disk is under [store] min_free; it catches up when there is room"
                );
            }
            waiting = short;
            if !short {
                let (reply, caught_up) = tokio::sync::oneshot::channel();
                if ask.send(reply).await.is_err() {
                    return;
                }
                match caught_up.await {
                    Ok(Ok(_)) => failing = false,
                    Ok(Err(e)) if !failing => {
                        tracing::warn!(error = %e, "the search index is behind; trying again");
                        failing = true;
                    }
                    Ok(Err(_)) => {}
                    Err(e) => tracing::error!(error = %e, "indexing stopped"),
                }
            }
            if stopping {
                return;
            }
            tokio::select! {
                () = tokio::time::sleep(COMMIT_EVERY) => {}
                _ = stop.changed() => continue,
            }
            tokio::select! {
                r = changed.changed() => if r.is_err() { let _ = stop.changed().await; },
                _ = stop.changed() => {}
            }
        }
    }

    /// Run a search (SPEC §13).
    ///
    /// # Errors
    /// [`Error::Query`] for a query or filter that cannot run as written;
    /// [`Error::Index`] or store errors when reading fails.
    pub fn search(&self, store: &Store, request: &SearchRequest) -> Result<SearchAnswer> {
        answer::run(&self.reader.searcher(), &self.fields, store, request)
            .map_err(|e| self.failed(e))
    }

    fn failed(&self, e: documents::Failed) -> Error {
        match e {
            documents::Failed::Store(e) => e,
            documents::Failed::Index(e) => tantivy_error(&self.dir, &e),
        }
    }
}
