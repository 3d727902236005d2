//! The crawler (SPEC §7–§8): `govsnap crawl`'s engine.
//!
//! Data flows from the frontier (kept in the store, so a killed crawl
//! resumes) through a polite fetch to the extraction pipeline and back into
//! the store; the links of every page feed the frontier again.
//!
//! # Architecture
//! - [`run`](crawl): the loop of each site, all sites side by side. It takes
//!   URLs from the frontier in the crawl's order, fetches them concurrently,
//!   stores documents in batches, and stops cleanly when asked or when its
//!   time is up; `run/respond` turns each answer into store writes and
//!   frontier links (redirects hop by hop) and files into the queue
//!   (SPEC §11), `run/queue` keeps the crawl's order, `run/robots` reads
//!   robots.txt and sitemaps.
//! - `task`: one URL's fetch and extraction, off the loop (a file's
//!   attachment record through [`crate::attach`], a jpage column's groups).
//! - [`summary`](SiteSummary): what a crawl reports, per site and as it goes.
//! - [`client`]: the HTTP client (rustls, no automatic redirects, a body cap
//!   on decompressed bytes, conditional requests).
//! - [`tls`]: a site's `tls = "lenient"`: a certificate that is not valid
//!   is noted with its reason, not refused.
//! - [`politeness`]: per-host concurrency and delay, retries with backoff,
//!   `Retry-After`.
//! - [`discover`]: canonical URLs, links of a page, TRS `createPageHTML` series.
//! - [`jpage`]: Hanweb jpage columns, their records and groups.
//! - [`robots`]: [`Robots`], what robots.txt allows, its `Crawl-delay` and sitemaps.
//! - [`sitemap`]: the `<loc>` URLs of a sitemap or sitemap index.

pub mod client;
pub mod discover;
pub mod gone;
pub mod jpage;
pub mod politeness;
pub mod priority;
pub mod robots;
mod run;
pub mod sitemap;
mod summary;
mod task;
pub mod tls;

pub use discover::{Links, TrsSeries};
pub use robots::Robots;
pub use run::{CrawlOptions, Engine, MAX_REDIRECTS, crawl, crawl_with_progress};
pub use summary::{CrawlReport, Progress, SiteSummary};
