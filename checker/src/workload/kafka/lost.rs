//! The `lost-writes` check: every acknowledged send must show up in some poll. A send
//! acknowledged at offset o of key k and never returned by any poll is lost when some poll
//! of k returned an offset above o (it reached past it), or unseen when the final phase,
//! which polls every key from 0 to the end of its log, never reached it either (Jepsen's
//! `:lost-write` and `:unseen`, both invalid in Maelstrom). Keys the final phase could not
//! read leave their unseen sends undecided: unknown.

use super::log::{secs, KafkaLog, Poll};
use crate::check::{CheckResult, Validity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The `lost-writes` check.
pub fn lost_writes(log: &KafkaLog) -> CheckResult {
    let polled = log.polled();
    // Per key, the polls in order of the highest offset they returned.
    let mut reach: BTreeMap<&str, Vec<(u64, &Poll)>> = BTreeMap::new();
    let mut final_reach: BTreeMap<&str, &Poll> = BTreeMap::new();
    for poll in &log.polls {
        for (key, pairs) in &poll.got {
            if let Some(top) = pairs.iter().map(|p| p.0).max() {
                reach.entry(key).or_default().push((top, poll));
            }
        }
        if poll.final_phase {
            for key in poll.asked.keys() {
                let latest = final_reach.entry(key).or_insert(poll);
                if poll.completed >= latest.completed {
                    *latest = poll;
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
        } else if let Some(last) = final_reach.get(send.key.as_str()) {
            unseen += 1;
            let end = reach
                .get(send.key.as_str())
                .and_then(|p| p.iter().map(|(t, _)| *t).max())
                .map_or_else(
                    || "no message of it was ever returned".to_owned(),
                    |t| format!("no poll ever returned an offset above {t}"),
                );
            witnesses.push(json!({
                "kind": "unseen", "key": send.key, "offset": offset, "msg": send.msg,
                "why": format!("{what} was never returned by any poll, though the final phase polled key {} from offset 0 to the end of its log (its last final poll, from offset {} on {}, was answered at {}), and {end}", send.key, last.asked.get(&send.key).copied().unwrap_or_default(), last.node, secs(last.completed)),
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
            format!("{undecided} acknowledged sends were never polled, on keys the final phase could not read"),
            result.figures,
        );
    }
    result
}
