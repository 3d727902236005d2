//! One batch of the feed sent to JetStream, pipelined, in an order that a
//! failure cannot turn around for any one page.
//!
//! Messages go out without waiting for each acknowledgement (a round trip
//! each would cap the rate at the network's latency), so a failure can
//! leave a later message stored and an earlier one not: sent again, the
//! earlier one lands after it. That is harmless across pages but not for
//! two versions of one page, so two changes of one URL are never in flight
//! together: the second waits until the first is acknowledged. And after a
//! failure nothing more of the batch is sent.
//!
//! What comes back: the last cursor up to which everything is acknowledged
//! (what the store may record), and the cursors acknowledged beyond it,
//! which are not sent again while the process lives (the stream would
//! drop them as duplicates, but only within its duplicate window).

use crate::store::{ChangeCursor, FeedLine};
use async_nats::jetstream::{self, context::PublishAckFuture};
use std::collections::{BTreeSet, HashSet};

/// What a batch achieved.
#[derive(Debug, Default)]
pub(super) struct Sent {
    /// Everything up to here is in the stream.
    pub(super) through: Option<ChangeCursor>,
    /// Messages the stream took (duplicates included).
    pub(super) acknowledged: u64,
    /// Why the rest was not sent, if it was not.
    pub(super) failure: Option<String>,
}

/// Send `lines` (in store order, after the store's cursor) to `js`, with
/// message ids `STORE-ID:CURSOR`. `ahead` holds cursors the stream already
/// has beyond the store's cursor; it is updated.
pub(super) async fn send(
    js: &jetstream::Context,
    store_id: &str,
    lines: &[FeedLine],
    ahead: &mut BTreeSet<ChangeCursor>,
) -> Sent {
    // each line: acknowledged or not, in order
    let mut done: Vec<(ChangeCursor, bool)> = Vec::with_capacity(lines.len());
    let mut pending: Vec<(ChangeCursor, PublishAckFuture)> = Vec::new();
    let mut in_flight: HashSet<&str> = HashSet::new();
    let mut failure = None;
    for line in lines {
        if ahead.contains(&line.cursor) {
            done.push((line.cursor, true));
            continue;
        }
        if !in_flight.insert(line.change.url.as_str()) {
            failure = settle(&mut pending, &mut done).await;
            in_flight.clear();
            in_flight.insert(line.change.url.as_str());
            if failure.is_some() {
                break;
            }
        }
        let message = jetstream::message::PublishMessage::build()
            .payload(line.line.clone().into())
            .message_id(format!("{store_id}:{}", line.cursor));
        match js
            .send_publish(super::subject(line.change.site.as_deref()), message)
            .await
        {
            Ok(ack) => pending.push((line.cursor, ack)),
            Err(e) => {
                failure = Some(format!("publishing to NATS: {e}"));
                break;
            }
        }
    }
    let settled = settle(&mut pending, &mut done).await;
    let failure = failure.or(settled);
    let mut sent = Sent {
        acknowledged: done.iter().filter(|(_, ok)| *ok).count() as u64,
        failure,
        ..Sent::default()
    };
    let prefix = done.iter().take_while(|(_, ok)| *ok).count();
    sent.through = done[..prefix].last().map(|(c, _)| *c);
    ahead.retain(|c| sent.through.is_none_or(|through| *c > through));
    ahead.extend(done[prefix..].iter().filter(|(_, ok)| *ok).map(|(c, _)| *c));
    sent
}

/// Wait for every pending acknowledgement, in order; the first failure's
/// reason, if any.
async fn settle(
    pending: &mut Vec<(ChangeCursor, PublishAckFuture)>,
    done: &mut Vec<(ChangeCursor, bool)>,
) -> Option<String> {
    let mut failure = None;
    for (cursor, ack) in pending.drain(..) {
        match ack.await {
            Ok(_) => done.push((cursor, true)),
            Err(e) => {
                failure.get_or_insert_with(|| format!("NATS did not acknowledge: {e}"));
                done.push((cursor, false));
            }
        }
    }
    failure
}
