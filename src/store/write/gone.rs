//! Gone marks: a known page that answers 404/410, or whose fetch says in
//! another way that the document is gone (SPEC §5: a soft 404, a redirect
//! home, a move), gets a `gone` event once, its change in the feed, and
//! for a page that answered 200 its bytes kept as evidence. An unknown URL
//! only gets a fetch-log entry.

use super::kept::put_raw_in;
use super::{
    Change, Event, EventKind, FetchLogEntry, Loaded, PageStatus, compress, get_page, keys,
    pack_error, put_change, put_fetch, put_json, put_page, timestamp, tx_error,
};
use crate::error::{Error, Result};
use crate::store::{Fetch, Store};
use sled::Transactional;

impl Store {
    /// Record that a known page now answers 404/410: a `gone` event, once.
    /// An unknown URL only gets a fetch-log entry. Returns whether a gone
    /// mark was added.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails.
    pub fn mark_gone(&self, fetch: &Fetch<'_>) -> Result<bool> {
        self.mark_gone_as(fetch, None, None)
    }

    /// [`Store::mark_gone`] for a page whose status does not say it is gone
    /// (SPEC §5): `reason` is `soft_404`, `redirect_home` or `moved`,
    /// `moved_to` the URL a moved document is at now. The fetch's bytes
    /// are kept as the mark's evidence (its `evidence` hash, read with
    /// [`Store::raw_by_hash`]), and its fetch-log entry says the reason.
    ///
    /// # Errors
    /// [`Error::Store`] when the write fails.
    pub fn mark_gone_as(
        &self,
        fetch: &Fetch<'_>,
        reason: Option<&str>,
        moved_to: Option<&str>,
    ) -> Result<bool> {
        let at = timestamp(fetch.fetched_at);
        let evidence = match reason {
            Some(_) if !fetch.bytes.is_empty() => Some((
                blake3::hash(fetch.bytes),
                compress(fetch.bytes)
                    .map_err(|e| Error::io(&self.path, "compressing a page", e))?,
            )),
            _ => None,
        };
        let _order = self.lock_writes();
        let newly = (
            &self.pages,
            &self.fetched,
            &self.history,
            &self.changes,
            &self.raw,
            &self.raw_ids,
        )
            .transaction(|(pages, fetched, history, changes, raw, raw_ids)| {
                let Some(Loaded { stored, mut page }) = get_page(pages, fetched, fetch.url)? else {
                    return Ok(false);
                };
                let newly = page.state != PageStatus::Gone;
                if newly {
                    page.events += 1;
                    page.state = PageStatus::Gone;
                    if let Some((hash, compressed)) = &evidence {
                        put_raw_in(raw, raw_ids, &self.packs, hash, compressed)?;
                    }
                    let event = Event {
                        kind: EventKind::Gone,
                        version: None,
                        fetched_at: at.clone(),
                        status: fetch.status,
                        content_hash: None,
                        title: None,
                        version_id: None,
                        alias_of: None,
                        reason: reason.map(str::to_owned),
                        moved_to: moved_to.map(str::to_owned),
                        evidence: evidence.as_ref().map(|(h, _)| h.to_hex().to_string()),
                    };
                    let key = keys::event_key(&keys::page_prefix(fetch.url, page.id), page.events);
                    put_json(history, &key, &event)?;
                    put_change(changes, &Change::of(&page, &event))?;
                }
                page.last_fetched.clone_from(&at);
                page.last_status = fetch.status;
                if newly {
                    put_page(pages, fetched, &page)?;
                } else {
                    // gone before: only its last fetch is new
                    put_fetch(fetched, &page, &stored)?;
                }
                if newly && evidence.is_some() {
                    self.packs.sync().map_err(pack_error)?;
                }
                Ok(newly)
            })
            .map_err(|e| tx_error(&self.path, e))?;
        self.queue_log(&[FetchLogEntry::new(fetch, reason.unwrap_or("gone"))])?;
        if newly {
            self.announce_latest()?;
        }
        Ok(newly)
    }
}
