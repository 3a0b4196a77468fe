//! The `committed-offsets` check. A committed offset is one a client committed: every
//! offset `list_committed_offsets_ok` names for a key was asked for by a `commit_offsets`
//! of that key sent before the listing was answered (a node that invents one, or names an
//! offset no client polled, would send a consumer past messages it never read). And
//! committed offsets only go up ("clients can request that this offset be advanced"):
//! eddy's clients commit, per key, only offsets above every one committed before, so a
//! listing that names offset b below an offset a whose commit was acknowledged (or which a
//! listing answered) before the listing was sent, when every commit of b had been
//! acknowledged before that, went backwards, whether the node keeps the highest commit or
//! the last one. A key left out of a listing is not judged (a node need not know it).

use super::log::{secs, Commit, KafkaLog};
use crate::check::CheckResult;
use serde_json::{json, Value};

/// The `committed-offsets` check.
pub fn committed_offsets(log: &KafkaLog) -> CheckResult {
    let mut witnesses: Vec<Value> = Vec::new();
    let mut named = 0;
    for listing in &log.listings {
        for (key, &offset) in &listing.offsets {
            named += 1;
            let of_key = |c: &&Commit| c.offsets.contains_key(key);
            let commits_of = |o: u64| {
                log.commits
                    .iter()
                    .filter(of_key)
                    .filter(move |c| c.offsets[key] == o)
            };
            let what = format!(
                "list_committed_offsets answered by {} at {} said key {key} is committed at offset {offset}",
                listing.node,
                secs(listing.completed)
            );
            if !commits_of(offset).any(|c| c.invoked <= listing.completed) {
                let highest = log
                    .commits
                    .iter()
                    .filter(of_key)
                    .filter(|c| c.invoked <= listing.completed)
                    .map(|c| c.offsets[key])
                    .max();
                let highest = highest.map_or_else(
                    || "no commit of that key had been sent".to_owned(),
                    |h| format!("the highest commit sent by then was {h}"),
                );
                witnesses.push(json!({
                    "kind": "never-committed", "key": key, "offset": offset,
                    "why": format!("{what}, but no client had asked to commit offset {offset} of key {key} ({highest})"),
                }));
                continue;
            }
            // When the last commit of `offset` was acknowledged; never, if one was not.
            let settled = commits_of(offset)
                .map(|c| c.acked)
                .try_fold(0, |latest, acked| acked.map(|a| latest.max(a)));
            let Some(settled) = settled else { continue };
            let acked_above = log
                .commits
                .iter()
                .filter(of_key)
                .filter(|c| c.offsets[key] > offset)
                .filter(|c| c.invoked > settled && c.acked.is_some_and(|a| a < listing.invoked))
                .min_by_key(|c| c.acked);
            let listed_above = log
                .listings
                .iter()
                .filter(|l| l.invoked > settled && l.completed < listing.invoked)
                .filter(|l| l.offsets.get(key).is_some_and(|&o| o > offset))
                .min_by_key(|l| l.completed);
            let earlier = match (acked_above, listed_above) {
                (Some(c), _) => Some(format!(
                    "offset {} of key {key} was committed (acknowledged at {})",
                    c.offsets[key],
                    secs(c.acked.unwrap_or_default())
                )),
                (None, Some(l)) => Some(format!(
                    "list_committed_offsets answered by {} at {} had said offset {}",
                    l.node,
                    secs(l.completed),
                    l.offsets[key]
                )),
                (None, None) => None,
            };
            if let Some(earlier) = earlier {
                witnesses.push(json!({
                    "kind": "backwards", "key": key, "offset": offset,
                    "why": format!("{what}, but before it was asked {earlier}, after every commit of offset {offset} had been acknowledged (at {}): committed offsets went backwards", secs(settled)),
                }));
            }
        }
    }
    let figures = json!({
        "commits": log.commits.len(),
        "commits_acknowledged": log.commits.iter().filter(|c| c.acked.is_some()).count(),
        "listings": log.listings.len(),
        "offsets_listed": named,
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
    CheckResult::from_witnesses(
        "committed-offsets",
        witnesses,
        figures,
        format!("all {named} committed offsets listed were committed by clients and never went backwards"),
    )
}
