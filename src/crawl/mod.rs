//! The crawler (SPEC §7–§8), built up from its parts. This release has the
//! parts that need no network: link discovery and URL canonicalization
//! ([`discover`], TRS pagination included), robots.txt ([`robots`]) and
//! sitemaps ([`sitemap`]). The fetch loop (politeness, retries, conditional
//! requests, the frontier in the store, `govsnap crawl`) is issue 4's next
//! step and will use them unchanged.
//!
//! # Architecture
//! - [`discover`]: canonical URLs, links of a page, TRS `createPageHTML` pages.
//! - [`robots`]: [`Robots`], what robots.txt allows, its `Crawl-delay` and sitemaps.
//! - [`sitemap`]: the `<loc>` URLs of a sitemap or sitemap index.

pub mod client;
pub mod discover;
pub mod politeness;
pub mod robots;
mod run;
pub mod sitemap;

pub use robots::Robots;
pub use run::{CrawlReport, MAX_REDIRECTS, Progress, SiteSummary, crawl, crawl_with_progress};
