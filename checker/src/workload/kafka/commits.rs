//! The `committed-offsets` check: no listing sends a consumer past messages no one
//! processed. A consumer that assigns itself a key starts polling at the committed offset
//! `list_committed_offsets_ok` names (Maelstrom's client does; a commit of offset o means
//! o and below were processed), so an offset more than one past every offset a client had
//! asked to commit on that key by the time of the listing (more than 0 when none had) makes
//! it skip messages: a witness. An offset at or below that (an older commit, a node that
//! did not hear of the latest, 0 or -1 for "nothing yet") only makes it read some messages
//! again, which Kafka's at-least-once consumers expect and Maelstrom's checker accepts:
//! listings below an acknowledged commit, committed offsets that went backwards, are
//! counted in the figures and named in the summary, not judged. A key left out of a listing
//! is not judged either (a node need not know it).

use super::log::{secs, KafkaLog, Listing};
use crate::check::CheckResult;
use serde_json::{json, Value};

/// The `committed-offsets` check.
pub fn committed_offsets(log: &KafkaLog) -> CheckResult {
    let mut witnesses: Vec<Value> = Vec::new();
    let mut named = 0;
    let mut backwards: Vec<String> = Vec::new();
    for listing in &log.listings {
        for (key, &offset) in &listing.offsets {
            named += 1;
            let what = format!(
                "list_committed_offsets answered by {} at {} said key {key} is committed at offset {offset}",
                listing.node,
                secs(listing.completed)
            );
            let highest_sent = log
                .commits
                .iter()
                .filter(|c| c.invoked <= listing.completed)
                .filter_map(|c| c.offsets.get(key))
                .max()
                .map(|&o| o as i64);
            if offset > highest_sent.unwrap_or(-1) + 1 {
                let highest = highest_sent.map_or_else(
                    || "no commit of that key had been sent".to_owned(),
                    |h| format!("the highest commit sent by then was {h}"),
                );
                witnesses.push(json!({
                    "kind": "ahead", "key": key, "offset": offset,
                    "why": format!("{what}, but no client had asked to commit offset {} or above of key {key} ({highest}): a consumer resuming there skips messages no one processed", offset - 1),
                }));
            } else if let Some(earlier) = acknowledged_above(log, listing, key, offset) {
                backwards.push(format!("{what}, below offset {earlier}"));
            }
        }
    }
    let figures = json!({
        "commits": log.commits.len(),
        "commits_acknowledged": log.commits.iter().filter(|c| c.acked.is_some()).count(),
        "listings": log.listings.len(),
        "offsets_listed": named,
        "went_backwards": backwards.len(),
    });
    if named == 0 {
        return CheckResult::not_observed(
            "committed-offsets",
            &format!(
                "no list_committed_offsets named a committed offset ({} answered)",
                log.listings.len()
            ),
            figures,
        );
    }
    let mut summary =
        format!("all {named} committed offsets listed were at or below what clients had committed");
    if let Some(first) = backwards.first() {
        summary.push_str(&format!(
            "; {} listed an offset below a commit already acknowledged (consumers re-read, not judged), first: {first}",
            backwards.len()
        ));
    }
    CheckResult::from_witnesses("committed-offsets", witnesses, figures, summary)
}

/// The offset above `offset` of `key` whose commit was acknowledged before `listing` was
/// sent, if any: the listing went backwards.
fn acknowledged_above(log: &KafkaLog, listing: &Listing, key: &str, offset: i64) -> Option<u64> {
    log.commits
        .iter()
        .filter(|c| c.acked.is_some_and(|a| a < listing.invoked))
        .filter_map(|c| c.offsets.get(key).copied())
        .filter(|&o| o as i64 > offset)
        .max()
}
