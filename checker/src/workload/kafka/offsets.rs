//! Offsets name messages: the `duplicate-offsets` check (one offset of a key holds one
//! message; a send acknowledged at one offset is polled at that offset; a polled message
//! was sent to that key) and the `reordering` check (offsets increase within a poll and
//! from where it asked; a message is polled at one offset; sends acknowledged one after
//! another in real time get increasing offsets). Jepsen's `:inconsistent-offsets`,
//! `:duplicate` and `:*-nonmonotonic-*`.

use super::log::{secs, KafkaLog, Send};
use crate::check::CheckResult;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Per key and offset, every message seen there and where, in words (an acknowledgement
/// before a poll): the offsets known to hold a message, for `duplicate-offsets` and
/// `poll-skips`.
pub(super) fn sources(log: &KafkaLog) -> BTreeMap<(&str, u64), BTreeMap<&str, String>> {
    let mut at: BTreeMap<(&str, u64), BTreeMap<&str, String>> = BTreeMap::new();
    for send in &log.sends {
        if let Some(offset) = send.offset {
            at.entry((&send.key, offset)).or_default().insert(
                &send.msg,
                format!(
                    "{} (acknowledged by {} at {})",
                    send.msg,
                    send.node,
                    secs(send.completed.unwrap_or(send.invoked))
                ),
            );
        }
    }
    for poll in &log.polls {
        for (key, pairs) in &poll.got {
            for (offset, msg) in pairs {
                at.entry((key, *offset))
                    .or_default()
                    .entry(msg)
                    .or_insert_with(|| format!("{msg} (returned by {})", poll.describe(key)));
            }
        }
    }
    at
}

/// The `duplicate-offsets` check.
pub fn duplicate_offsets(log: &KafkaLog) -> CheckResult {
    let mut witnesses: Vec<Value> = Vec::new();
    for ((key, offset), msgs) in sources(log) {
        if msgs.len() > 1 {
            let list: Vec<&str> = msgs.values().map(String::as_str).collect();
            witnesses.push(json!({
                "kind": "two-messages", "key": key, "offset": offset,
                "why": format!("offset {offset} of key {key} holds {} messages: {}", msgs.len(), list.join(" and ")),
            }));
        }
    }
    let acked: BTreeMap<(&str, &str), &Send> = log
        .sends
        .iter()
        .filter(|s| s.offset.is_some())
        .map(|s| ((s.key.as_str(), s.msg.as_str()), s))
        .collect();
    let sent: BTreeSet<(&str, &str)> = log
        .sends
        .iter()
        .map(|s| (s.key.as_str(), s.msg.as_str()))
        .collect();
    let mut reported: BTreeSet<(&str, &str)> = BTreeSet::new();
    for poll in &log.polls {
        for (key, pairs) in &poll.got {
            for (offset, msg) in pairs {
                let id = (key.as_str(), msg.as_str());
                if !sent.contains(&id) && reported.insert(id) {
                    witnesses.push(json!({
                        "kind": "never-sent", "key": key, "offset": offset,
                        "why": format!("{} returned message {msg} at offset {offset}, but no client sent {msg} to key {key}", poll.describe(key)),
                    }));
                }
                let Some(send) = acked.get(&id) else { continue };
                let at = send.offset.expect("acknowledged");
                if at != *offset && reported.insert(id) {
                    witnesses.push(json!({
                        "kind": "two-offsets", "key": key, "offset": offset,
                        "why": format!("message {msg} of key {key} was acknowledged at offset {at} by {} at {}, but {} returned it at offset {offset}: one send, two offsets", send.node, secs(send.completed.unwrap_or(send.invoked)), poll.describe(key)),
                    }));
                }
            }
        }
    }
    let figures = json!({"offsets_known": sources(log).len(), "polls": log.polls.len()});
    if log.polls.is_empty() && acked.is_empty() {
        return CheckResult::not_observed(
            "duplicate-offsets",
            "no send acknowledged and no poll answered",
            figures,
        );
    }
    CheckResult::from_witnesses(
        "duplicate-offsets",
        witnesses,
        figures,
        "every known offset holds one message, at the offset its send was given".into(),
    )
}

/// The `reordering` check.
pub fn reordering(log: &KafkaLog) -> CheckResult {
    let mut witnesses: Vec<Value> = Vec::new();
    for poll in &log.polls {
        for (key, pairs) in &poll.got {
            let asked = poll.asked.get(key).copied();
            if let (Some(from), Some((first, _))) = (asked, pairs.first()) {
                if *first < from {
                    witnesses.push(json!({
                        "kind": "below-asked", "key": key,
                        "why": format!("{} returned offset {first} first, below the offset it asked for", poll.describe(key)),
                    }));
                }
            }
            if let Some(w) = pairs.windows(2).find(|w| w[1].0 <= w[0].0) {
                witnesses.push(json!({
                    "kind": "not-increasing", "key": key,
                    "why": format!("{} returned offset {} after offset {}: offsets within a poll must increase", poll.describe(key), w[1].0, w[0].0),
                }));
            }
        }
    }
    witnesses.extend(polled_twice(log));
    witnesses.extend(send_order(log));
    let figures = json!({"polls": log.polls.len(), "acknowledged_sends": log.sends.iter().filter(|s| s.offset.is_some()).count()});
    if log.polls.is_empty() && log.sends.iter().all(|s| s.offset.is_none()) {
        return CheckResult::not_observed(
            "reordering",
            "no send acknowledged and no poll answered",
            figures,
        );
    }
    CheckResult::from_witnesses(
        "reordering",
        witnesses,
        figures,
        "offsets increased within every poll and across sends in real-time order".into(),
    )
}

/// Messages whose send was not acknowledged, polled at two offsets by different polls (an
/// acknowledged one polled elsewhere is `duplicate-offsets`' two-offsets witness).
fn polled_twice(log: &KafkaLog) -> Vec<Value> {
    let acked: BTreeSet<(&str, &str)> = log
        .sends
        .iter()
        .filter(|s| s.offset.is_some())
        .map(|s| (s.key.as_str(), s.msg.as_str()))
        .collect();
    let mut witnesses = Vec::new();
    for (key, msgs) in log.polled() {
        for (msg, seen) in msgs {
            if acked.contains(&(key, msg)) {
                continue;
            }
            let (o1, p1) = seen[0];
            if let Some(&(o2, p2)) = seen.iter().find(|(o, _)| *o != o1) {
                witnesses.push(json!({
                    "kind": "moved", "key": key,
                    "why": format!("message {msg} of key {key} was at offset {o1} in {} and at offset {o2} in {}", log.polls[p1].describe(key), log.polls[p2].describe(key)),
                }));
            }
        }
    }
    witnesses
}

/// Sends to one key acknowledged one after the other in real time (the second invoked
/// after the first was acknowledged) whose offsets do not increase.
fn send_order(log: &KafkaLog) -> Vec<Value> {
    let mut by_key: BTreeMap<&str, Vec<&Send>> = BTreeMap::new();
    for send in log.sends.iter().filter(|s| s.offset.is_some()) {
        by_key.entry(&send.key).or_default().push(send);
    }
    let mut witnesses = Vec::new();
    for (key, mut sends) in by_key {
        let mut done: Vec<&Send> = sends.clone();
        done.sort_by_key(|s| s.completed.unwrap_or(u64::MAX));
        sends.sort_by_key(|s| s.invoked);
        let mut highest: Option<&Send> = None;
        let mut next = 0;
        for send in sends {
            while next < done.len() && done[next].completed.is_some_and(|c| c < send.invoked) {
                let candidate = done[next];
                if highest.is_none_or(|h| candidate.offset > h.offset) {
                    highest = Some(candidate);
                }
                next += 1;
            }
            let Some(before) = highest else { continue };
            if send.offset <= before.offset {
                witnesses.push(json!({
                    "kind": "send-order", "key": key,
                    "why": format!(
                        "message {} sent to key {key} on {} at {} got offset {}, not above offset {} that message {} got on {} at {}, acknowledged before it was sent",
                        send.msg, send.node, secs(send.invoked), send.offset.unwrap_or_default(),
                        before.offset.unwrap_or_default(), before.msg, before.node, secs(before.completed.unwrap_or_default())
                    ),
                }));
            }
        }
    }
    witnesses
}
