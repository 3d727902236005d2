//! `govsnap ingest --cdx URL_PREFIX`: a site's past from a Wayback server
//! into the store (SPEC §12), through `govsnap::wayback`. Each capture not
//! imported before is fetched in its turn, stored at its capture time
//! through the same pipeline as every other source, committed, then
//! marked imported: a second run fetches nothing already stored, a killed
//! run continues where it stopped.

use super::ingest::{IngestArgs, Summary, canonical_url};
use anyhow::{Context, Result};
use govsnap::store::Fetch;
use govsnap::{Config, ExtractOptions, Snapshots, Store};
use std::time::Duration;

/// Where the captures go.
pub(super) struct Into<'a> {
    pub(super) store: &'a Store,
    pub(super) config: Option<&'a Config>,
    pub(super) options: ExtractOptions,
}

/// Import every capture under `prefix`.
pub(super) fn import(
    args: &IngestArgs,
    prefix: &str,
    into: &Into<'_>,
    snapshots: &mut Snapshots<'_>,
    summary: &mut Summary,
) -> Result<()> {
    let delay = into
        .config
        .map_or(govsnap::config::DEFAULT_WAYBACK_DELAY_MS, |c| {
            c.wayback_delay_ms
        });
    let user_agent = into
        .config
        .map_or(govsnap::config::DEFAULT_USER_AGENT, |c| {
            c.crawl.user_agent.as_str()
        });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the HTTP client")?;
    runtime.block_on(async {
        let mut wayback = govsnap::wayback::Wayback::new(user_agent, Duration::from_millis(delay))?;
        let captures = wayback
            .list(
                &args.cdx_server,
                prefix,
                args.from.as_deref(),
                args.to.as_deref(),
            )
            .await?;
        eprintln!(
            "govsnap: {} captures under {prefix} listed by {}",
            captures.len(),
            args.cdx_server
        );
        let mut already = 0;
        for capture in captures {
            let url = canonical_url(into.config, &capture.url);
            let digest = capture.digest.as_deref();
            if into.store.imported(&url, &capture.timestamp, digest)? {
                already += 1;
                continue;
            }
            summary.pages_read += 1;
            let fetched_at = match capture.time() {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("govsnap: {}: {e}; capture skipped", capture.url);
                    summary.errors += 1;
                    continue;
                }
            };
            let replayed = match wayback.fetch(&args.replay, &capture).await {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("govsnap: {e}; capture skipped, tried again next import");
                    summary.errors += 1;
                    continue;
                }
            };
            let site = into.config.and_then(|c| c.site_for_url(&url));
            let fetch = Fetch {
                url: &url,
                site: site.map(|s| s.name.as_str()),
                fetched_at,
                status: replayed.status,
                bytes: &replayed.body,
                content_type: replayed.content_type.as_deref(),
                duration_ms: 0,
                etag: None,
                last_modified: None,
                head: None,
                conditional: None,
                tls_invalid: None,
            };
            match replayed.status {
                200..=299 => snapshots.add(&fetch, site, into.options)?,
                404 | 410 => {
                    snapshots.commit_now()?;
                    into.store.mark_gone(&fetch)?;
                }
                // a capture of a redirect, or an error page
                _ => summary.skipped += 1,
            }
            // stored before it is marked: a kill between the two fetches
            // it again, and finds it unchanged
            snapshots.commit_now().with_context(|| {
                format!("storing the capture of {url} at {}", capture.timestamp)
            })?;
            into.store.mark_imported(&url, &capture.timestamp, digest)?;
            // durable now: a kill after this never fetches it again
            into.store.flush()?;
        }
        summary.already_imported = Some(already);
        Ok::<(), anyhow::Error>(())
    })
}
