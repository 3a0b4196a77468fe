//! The broadcast checks, after Jepsen's set-full (which Maelstrom's broadcast uses) made
//! per node: what a read returned must have been broadcast (`broadcast`, safety), a
//! message a node returned must not vanish from it for good (`broadcast`), and every
//! message known to be in the cluster must be in every node's final read
//! (`broadcast-delivery`, liveness).

use super::history::{Read, Sets};
use crate::check::measure::secs;
use crate::check::{CheckKind, CheckResult, Record, Validity};
use crate::history::event::EventType;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Safety: no read returned a message that was not broadcast (never, only later, or
/// refused with a definite error), and no node dropped for good a message it had returned.
pub fn safety(sets: &Sets) -> CheckResult {
    let mut witnesses = sets.unreadable.clone();
    witnesses.extend(unexpected(sets));
    let vanished = vanished(sets);
    let lost = vanished.len();
    witnesses.extend(vanished);
    let came_back = came_back(sets);
    let figures = json!({
        "reads": sets.reads.len(),
        "broadcasts": sets.broadcasts.len(),
        "lost_on_a_node": lost,
        "absent_then_back": came_back,
        "reads_with_duplicates": sets.reads.iter().filter(|r| r.duplicates).count(),
    });
    if sets.reads.is_empty() && witnesses.is_empty() {
        return CheckResult::not_observed("broadcast", "no read succeeded", figures);
    }
    CheckResult::from_witnesses(
        "broadcast",
        witnesses,
        figures,
        format!(
            "{} reads returned only broadcast messages, and no node dropped one it had returned",
            sets.reads.len()
        ),
    )
}

/// A witness per message some read returned although it was not broadcast before the read
/// completed (the first such read).
fn unexpected(sets: &Sets) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    let mut witnesses = Vec::new();
    for read in &sets.reads {
        for &m in &read.messages {
            let b = sets.broadcasts.get(&m);
            let why = match b {
                None => "which no client ever broadcast".to_owned(),
                Some(b) if b.invoked > read.done => {
                    format!("but {m} was first broadcast at {:.3} s, after the read", secs(b.invoked))
                }
                Some(b) if b.outcome == EventType::Fail => format!(
                    "but {} refused its broadcast with a definite error (code {}): it never happened",
                    b.node,
                    b.code.unwrap_or(0)
                ),
                Some(_) => continue,
            };
            if seen.insert(m) {
                witnesses.push(json!({
                    "message": m, "node": read.node, "at_s": secs(read.done),
                    "why": format!("{}'s read at {:.3} s returned {m}, {why}", read.node, secs(read.done)),
                }));
            }
        }
    }
    witnesses
}

/// Each node's reads, in invoke order.
fn by_node(sets: &Sets) -> BTreeMap<&str, Vec<&Read>> {
    let mut nodes: BTreeMap<&str, Vec<&Read>> = BTreeMap::new();
    for read in &sets.reads {
        nodes.entry(read.node.as_str()).or_default().push(read);
    }
    nodes
}

/// A witness per (node, message) where the node returned the message and its last read,
/// begun after that, did not: the message vanished from the node for good (Jepsen's
/// "lost", judged per node).
fn vanished(sets: &Sets) -> Vec<Value> {
    let mut witnesses = Vec::new();
    for (node, reads) in by_node(sets) {
        let Some(last) = reads.iter().max_by_key(|r| r.invoked) else {
            continue;
        };
        let mut last_present: BTreeMap<i64, &Read> = BTreeMap::new();
        for read in &reads {
            for &m in &read.messages {
                last_present.insert(m, read);
            }
        }
        for (m, present) in last_present {
            if !last.messages.contains(&m)
                && last.invoked > present.done
                && sets.broadcasts.contains_key(&m)
            {
                witnesses.push(json!({
                    "message": m, "node": node, "at_s": secs(last.invoked),
                    "why": format!(
                        "{node} returned {m} in its read at {:.3} s but not in its last read (invoked at {:.3} s) nor any read since: {m} ({}) vanished from {node}",
                        secs(present.done), secs(last.invoked), sets.story(m)
                    ),
                }));
            }
        }
    }
    witnesses
}

/// How many times a node's read missed a message it had returned in an earlier read that
/// had completed, and a later read of it returned the message again (a restarted node
/// relearning, say): not a loss, but counted.
fn came_back(sets: &Sets) -> usize {
    let mut count = 0;
    for reads in by_node(sets).values() {
        let mut first_done: BTreeMap<i64, u64> = BTreeMap::new();
        let mut missing_since: BTreeSet<i64> = BTreeSet::new();
        for read in reads {
            for (&m, &done) in &first_done {
                if done < read.invoked && !read.messages.contains(&m) {
                    missing_since.insert(m);
                }
            }
            for &m in &read.messages {
                first_done.entry(m).or_insert(read.done);
                if missing_since.remove(&m) {
                    count += 1;
                }
            }
        }
    }
    count
}

/// Liveness: every message known to be in the cluster (acknowledged, or returned by a
/// read) is in every node's final read, taken after the faults healed and the recovery
/// wait. Unknown when a node could not be read at the end, or when the machine stalled
/// eddy or a node for more than half the wait, so the nodes had no fair chance.
pub fn delivery(sets: &Sets, record: &Record, recovery_s: f64) -> CheckResult {
    let finals = sets.final_reads();
    let known: Vec<(i64, u64)> = sets
        .broadcasts
        .keys()
        .filter_map(|&m| sets.known(m).map(|k| (m, k)))
        .collect();
    let mut witnesses = Vec::new();
    let mut missing_pairs = 0;
    for &(m, known_at) in &known {
        // A final read begun before the message was known cannot be asked to hold it.
        let missing: Vec<&str> = finals
            .iter()
            .filter(|(_, read)| read.invoked > known_at && !read.messages.contains(&m))
            .map(|(node, _)| *node)
            .collect();
        if missing.is_empty() {
            continue;
        }
        missing_pairs += missing.len();
        let first_at = missing.iter().map(|n| finals[n].invoked).min().unwrap_or(0);
        let returned = sets
            .reads
            .iter()
            .filter(|r| r.node == missing[0] && r.messages.contains(&m))
            .map(|r| r.done)
            .max();
        let before = returned.map_or_else(
            || format!("{} never returned it", missing[0]),
            |t| format!("{} had returned it at {:.3} s", missing[0], secs(t)),
        );
        witnesses.push(json!({
            "message": m, "nodes": missing, "at_s": secs(first_at),
            "why": format!(
                "{m} ({}) is missing from the final {} of {} (invoked from {:.3} s, after the faults healed and {recovery_s} s of recovery); {before}",
                sets.story(m), if missing.len() == 1 { "read" } else { "reads" }, name_nodes(&missing), secs(first_at)
            ),
        }));
    }
    let unread: Vec<&str> = record
        .nodes
        .iter()
        .map(String::as_str)
        .filter(|n| !finals.contains_key(n))
        .collect();
    let figures = json!({
        "known_messages": known.len(),
        "acknowledged": sets.broadcasts.values().filter(|b| b.outcome == EventType::Ok).count(),
        "outcome_unknown": sets.broadcasts.values().filter(|b| b.outcome == EventType::Info).count(),
        "refused": sets.broadcasts.values().filter(|b| b.outcome == EventType::Fail).count(),
        "final_reads": finals.len(),
        "nodes_not_read_at_end": unread,
        "missing_messages": witnesses.len(),
        "missing_pairs": missing_pairs,
        "recovery_s": recovery_s,
    });
    let first_final = finals.values().map(|r| r.invoked).min();
    let stalled = first_final.map_or(0.0, |t| {
        crate::check::lag::stalled_within(record, (secs(t) - recovery_s).max(0.0), secs(t))
    });
    let mut result = if known.is_empty() {
        CheckResult::not_observed(
            "broadcast-delivery",
            "no broadcast was acknowledged or read",
            figures,
        )
    } else if finals.is_empty() {
        CheckResult::not_observed(
            "broadcast-delivery",
            "no node answered its final read",
            figures,
        )
    } else {
        CheckResult::from_witnesses(
            "broadcast-delivery",
            witnesses,
            figures,
            format!(
                "all {} known messages are in the final reads of all {} nodes read",
                known.len(),
                finals.len()
            ),
        )
    };
    if result.valid == Validity::Invalid && stalled > recovery_s / 2.0 {
        result.valid = Validity::Unknown;
        result.summary = format!(
            "cannot judge: the machine stalled eddy or a node for {stalled:.1} s of the {recovery_s} s recovery wait ({})",
            result.summary
        );
    } else if result.valid == Validity::Valid && !unread.is_empty() {
        result.valid = Validity::Unknown;
        result.summary = format!(
            "{}; but {} could not be read at the end",
            result.summary,
            name_nodes(&unread)
        );
    }
    result.about(CheckKind::Liveness)
}

/// "n1", "n1 and n2", ..., up to four named, then "n1, n2, n3 and 4 other nodes".
fn name_nodes(nodes: &[&str]) -> String {
    match nodes {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [a, b] => format!("{a} and {b}"),
        [a, b, c] => format!("{a}, {b} and {c}"),
        [a, b, c, d] => format!("{a}, {b}, {c} and {d}"),
        [a, b, c, rest @ ..] => format!("{a}, {b}, {c} and {} other nodes", rest.len()),
    }
}
