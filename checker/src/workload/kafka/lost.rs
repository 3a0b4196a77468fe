//! The `lost-writes` check: every acknowledged send must show up in some poll. A send
//! acknowledged at offset o of key k and never returned by any poll is lost when some poll
//! of k returned an offset above o (it reached past it), or unseen when a poll of the final
//! phase asked for k from an offset at or below o and the node answered nothing for k: it
//! said the log holds nothing from there on (Jepsen's `:lost-write` and `:unseen`, both
//! invalid in Maelstrom). A send the final phase never reached (it stops after 10 s, as
//! Maelstrom's does, and a node may answer a few messages per poll) is undecided: unknown.

use super::log::{secs, KafkaLog, Poll};
use crate::check::{CheckResult, Validity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The `lost-writes` check.
pub fn lost_writes(log: &KafkaLog) -> CheckResult {
    let polled = log.polled();
    // Per key, the polls in order of the highest offset they returned.
    let mut reach: BTreeMap<&str, Vec<(u64, &Poll)>> = BTreeMap::new();
    // Per key, the final polls that found nothing from the offset they asked for.
    let mut found_nothing: BTreeMap<&str, Vec<(u64, &Poll)>> = BTreeMap::new();
    for poll in &log.polls {
        for (key, pairs) in &poll.got {
            if let Some(top) = pairs.iter().map(|p| p.0).max() {
                reach.entry(key).or_default().push((top, poll));
            }
        }
        if poll.final_phase {
            for (key, &from) in &poll.asked {
                if poll.got.get(key).is_none_or(Vec::is_empty) {
                    found_nothing.entry(key).or_default().push((from, poll));
                }
            }
        }
    }
    let mut witnesses: Vec<Value> = Vec::new();
    let (mut acked, mut lost, mut unseen, mut undecided) = (0, 0, 0, 0);
    for send in &log.sends {
        let Some(offset) = send.offset else { continue };
        acked += 1;
        if polled
            .get(send.key.as_str())
            .is_some_and(|m| m.contains_key(send.msg.as_str()))
        {
            continue;
        }
        let what = format!(
            "message {} sent to key {} on {} and acknowledged at offset {offset} at {}",
            send.msg,
            send.key,
            send.node,
            secs(send.completed.unwrap_or(send.invoked))
        );
        let past = reach.get(send.key.as_str()).and_then(|polls| {
            polls
                .iter()
                .filter(|(top, _)| *top > offset)
                .min_by_key(|(_, p)| p.completed)
        });
        if let Some((top, poll)) = past {
            lost += 1;
            witnesses.push(json!({
                "kind": "lost", "key": send.key, "offset": offset, "msg": send.msg,
                "why": format!("{what} was never returned by any poll, though {} returned offset {top}, past it: a lost write", poll.describe(&send.key)),
            }));
        } else if let Some((from, empty)) = found_nothing
            .get(send.key.as_str())
            .and_then(|polls| polls.iter().find(|(from, _)| *from <= offset))
        {
            unseen += 1;
            witnesses.push(json!({
                "kind": "unseen", "key": send.key, "offset": offset, "msg": send.msg,
                "why": format!("{what} was never returned by any poll, though the final phase's poll of key {} from offset {from} on {}, answered at {}, returned nothing for it", send.key, empty.node, secs(empty.completed)),
            }));
        } else {
            undecided += 1;
        }
    }
    let figures = json!({
        "acknowledged_sends": acked, "lost": lost, "unseen": unseen,
        "undecided": undecided, "polls": log.polls.len(),
    });
    if acked == 0 {
        return CheckResult::not_observed(
            "lost-writes",
            &format!("no send was acknowledged ({} sent)", log.sends.len()),
            figures,
        );
    }
    let ok = format!("all {acked} acknowledged sends were returned by some poll");
    let result = CheckResult::from_witnesses("lost-writes", witnesses, figures, ok);
    if result.valid == Validity::Valid && undecided > 0 {
        return CheckResult::new(
            "lost-writes",
            Validity::Unknown,
            format!("{undecided} acknowledged sends were never polled, and the final phase did not reach their offsets (it stops after 10 s)"),
            result.figures,
        );
    }
    result
}
