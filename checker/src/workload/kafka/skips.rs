//! The `poll-skips` check: a poll returns contiguous messages from the offset it asked for
//! (offsets may be sparse: an offset no message holds may be passed). A poll of key k from
//! offset o whose answer runs up to offset t but leaves out an offset in [o, t) that holds a
//! known message (one a send was acknowledged at, or one another poll returned) skipped it
//! (Jepsen's `:poll-skip` and `:int-poll-skip`, invalid in Maelstrom).

use super::log::KafkaLog;
use crate::check::CheckResult;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The `poll-skips` check.
pub fn poll_skips(log: &KafkaLog) -> CheckResult {
    // Per key, every offset known to hold a message, with how it is known.
    let mut known: BTreeMap<&str, BTreeMap<u64, String>> = BTreeMap::new();
    for ((key, offset), msgs) in super::offsets::sources(log) {
        if let Some(how) = msgs.into_values().next() {
            known
                .entry(key)
                .or_default()
                .insert(offset, format!("message {how}"));
        }
    }
    let mut witnesses: Vec<Value> = Vec::new();
    let mut judged = 0;
    for poll in &log.polls {
        for (key, pairs) in &poll.got {
            let Some(top) = pairs.iter().map(|p| p.0).max() else {
                continue;
            };
            judged += 1;
            let from = poll
                .asked
                .get(key)
                .copied()
                .unwrap_or_else(|| pairs.iter().map(|p| p.0).min().unwrap_or(top));
            let returned: BTreeSet<u64> = pairs.iter().map(|p| p.0).collect();
            let Some(offsets) = known.get(key.as_str()) else {
                continue;
            };
            let skipped: Vec<(&u64, &String)> = offsets
                .range(from..top)
                .filter(|(o, _)| !returned.contains(o))
                .collect();
            if let Some((offset, what)) = skipped.first() {
                let shown: Vec<String> = pairs.iter().take(8).map(|p| p.0.to_string()).collect();
                let more = if pairs.len() > 8 { ", ..." } else { "" };
                witnesses.push(json!({
                    "key": key, "offset": offset, "skipped": skipped.len(),
                    "why": format!(
                        "{} returned offsets {}{more} but not offset {offset}, which holds {what}{}",
                        poll.describe(key), shown.join(", "),
                        if skipped.len() > 1 { format!(" ({} known offsets skipped in all)", skipped.len()) } else { String::new() }
                    ),
                }));
            }
        }
    }
    let figures = json!({"polls_judged": judged});
    if judged == 0 {
        return CheckResult::not_observed("poll-skips", "no poll returned a message", figures);
    }
    CheckResult::from_witnesses(
        "poll-skips",
        witnesses,
        figures,
        format!("{judged} non-empty poll answers skipped no known message"),
    )
}
