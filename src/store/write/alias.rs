//! Aliases (SPEC §8, "One page, one URL"): a URL new to the store whose
//! document another URL of its site already has (the same content hash,
//! so the same title, body and metadata) is stored as that page's alias,
//! with an `alias` event and no version. Tree `aliases` keeps, for each
//! site and content, the first URL that had it; a page's new version adds
//! its content there.

use super::{
    Event, EventKind, FetchLogEntry, PageState, PageStatus, PreparedPage, PutOutcome, TxResult,
    TxTrees, keys, log_entry, put_json, put_page,
};

/// `site ‖ 0x00 ‖ content hash`: a key of tree `aliases`.
fn content_key(site: &str, content: &str) -> Vec<u8> {
    [site.as_bytes(), &[0], content.as_bytes()].concat()
}

/// The URL of the page's site that first had its content, if any.
pub(super) fn first_with_content(
    aliases: &sled::transaction::TransactionalTree,
    p: &PreparedPage,
) -> TxResult<Option<String>> {
    let Some(site) = &p.site else { return Ok(None) };
    Ok(aliases
        .get(content_key(site, &p.content))?
        .map(|url| String::from_utf8_lossy(&url).into_owned()))
}

/// Remember the page as its site's first with its content (unless one
/// is already).
pub(super) fn index_content(
    aliases: &sled::transaction::TransactionalTree,
    p: &PreparedPage,
) -> TxResult<()> {
    if let Some(site) = &p.site {
        let key = content_key(site, &p.content);
        if aliases.get(&key)?.is_none() {
            aliases.insert(key, p.url.as_bytes())?;
        }
    }
    Ok(())
}

/// Store a new URL as an alias of `first`, the site's page with the same
/// document: its state and an `alias` event, no version and no change.
pub(super) fn put_alias(
    p: &PreparedPage,
    t: &TxTrees<'_>,
    first: String,
) -> TxResult<(PutOutcome, FetchLogEntry)> {
    let page = PageState {
        url: p.url.clone(),
        site: p.site.clone(),
        versions: 0,
        events: 1,
        state: PageStatus::Live,
        first_seen: p.at.clone(),
        last_fetched: p.at.clone(),
        last_status: p.status,
        content_hash: Some(p.content.clone()),
        etag: p.etag.clone(),
        last_modified: p.last_modified.clone(),
        id: Some(t.pages.generate_id()?),
        alias_of: Some(first.clone()),
    };
    let event = Event {
        kind: EventKind::Alias,
        version: None,
        fetched_at: p.at.clone(),
        status: p.status,
        content_hash: Some(p.content.clone()),
        title: p.record.title.clone(),
        version_id: None,
        alias_of: Some(first),
        reason: None,
        moved_to: None,
        evidence: None,
    };
    let prefix = keys::page_prefix(&p.url, page.id);
    put_json(t.history, &keys::event_key(&prefix, page.events), &event)?;
    put_page(t.pages, t.fetched, &page)?;
    Ok((PutOutcome::Alias, log_entry(p, PutOutcome::Alias)))
}
