//! What the PN-counter's gossip looks like on the wire and through `gossip_status`
//! (SPEC 3.5): `replicate` counters never decrease per origin and are never negative, fan-out
//! and volume are reported, and `gossip_status` answers are well-formed and consistent.
//! The wire check does not apply to nodes that gossip under other message names.

use super::{CheckResult, Record, Validity};
use crate::contract::Contract;
use crate::history::event::{operations, EventType};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// When each node was (re)started, from the history: a restarted node may legitimately
/// start its counts again from what it had persisted.
fn restarts(record: &Record) -> HashMap<String, Vec<u64>> {
    let mut starts: HashMap<String, Vec<u64>> = HashMap::new();
    for e in &record.history {
        if matches!(e.f.as_str(), "restart" | "crash") {
            if let Some(node) = &e.node {
                starts.entry(node.clone()).or_default().push(e.time);
            }
        }
    }
    starts
}

/// Which incarnation of `node` was running at `time`.
fn incarnation(starts: &HashMap<String, Vec<u64>>, node: &str, time: u64) -> usize {
    starts
        .get(node)
        .map_or(0, |s| s.partition_point(|&t| t <= time))
}

/// `replicate` on the wire: counts never decrease per sender and origin (within one
/// incarnation of the sender) and are never negative; fan-out per 100 ms is reported.
/// Under Maelstrom's contract only messages in the seeds' format are judged (gossip in the
/// node's own format is its own business); under the seed contract every `replicate` is,
/// and a cluster that gossips no `replicate` at all breaks the contract.
pub fn replicate_wire(record: &Record, contract: Contract) -> CheckResult {
    let seed = contract == Contract::Seed;
    let starts = restarts(record);
    let mut last: HashMap<(String, usize, &'static str, String), (u64, u64)> = HashMap::new();
    let mut witnesses = Vec::new();
    let mut sent: BTreeMap<String, u64> = BTreeMap::new();
    let mut windows: HashMap<(String, u64), u64> = HashMap::new();
    let mut total = 0u64;
    let wire = record.net_lines(|line: &serde_json::Value| {
        let body = &line["body"];
        body["type"] == "replicate"
            && (seed || (body["p_counters"].is_object() && body["n_counters"].is_object()))
    });
    for line in &wire.lines {
        let writer = line["writer"].as_str().unwrap_or("?").to_owned();
        let time = line["send"].as_u64().unwrap_or(0);
        total += 1;
        *sent.entry(writer.clone()).or_insert(0) += 1;
        *windows
            .entry((writer.clone(), time / 100_000_000))
            .or_insert(0) += 1;
        let life = incarnation(&starts, &writer, time);
        for half in ["p_counters", "n_counters"] {
            let Some(counts) = line["body"][half].as_object() else {
                witnesses.push(json!({"why": format!("{writer} sent a replicate without an object `{half}` at {:.3} s", time as f64 / 1e9)}));
                continue;
            };
            for (origin, count) in counts {
                let Some(count) = count.as_u64() else {
                    witnesses.push(json!({"why": format!("{writer} sent {half}[{origin}] = {count} at {:.3} s: counts are non-negative integers", time as f64 / 1e9)}));
                    continue;
                };
                let key = (
                    writer.clone(),
                    life,
                    if half == "p_counters" { "p" } else { "n" },
                    origin.clone(),
                );
                if let Some(&(before, at)) = last.get(&key) {
                    if count < before {
                        witnesses.push(json!({"why": format!("{writer} sent {half}[{origin}] = {count} at {:.3} s after sending {before} at {:.3} s: a count went down", time as f64 / 1e9, at as f64 / 1e9)}));
                    }
                }
                let slot = last.entry(key).or_insert((count, time));
                if count >= slot.0 {
                    *slot = (count, time);
                }
            }
        }
    }
    if let Some(witness) = wire.unreadable_witness("node messages") {
        witnesses.insert(0, witness);
    }
    if total == 0 && witnesses.is_empty() {
        let figures = json!({"observed": false});
        if seed && record.nodes.len() > 1 {
            return CheckResult::new(
                "gossip-wire",
                Validity::Invalid,
                "the seed contract asks for gossip as `replicate {p_counters, n_counters}`, and no node sent one (--contract maelstrom leaves the format to the node)",
                figures,
            );
        }
        return CheckResult::new(
            "gossip-wire",
            Validity::NotApplicable,
            "not applicable: no node sent `replicate {p_counters, n_counters}` (gossip in the node's own format is its own business)",
            figures,
        );
    }
    let fanout = windows.values().sum::<u64>() as f64 / windows.len().max(1) as f64;
    let figures = json!({"observed": true, "replicate_messages": total, "by_node": sent, "mean_per_100ms_window": (fanout * 100.0).round() / 100.0});
    let (valid, summary) = match witnesses.first() {
        Some(first) => (Validity::Invalid, format!("{} bad replicate counter(s); first: {}", witnesses.len(), first["why"].as_str().unwrap_or_default())),
        None => (Validity::Valid, format!("{total} replicate messages, counts never went down; {fanout:.1} per node per 100 ms")),
    };
    witnesses.truncate(20);
    CheckResult {
        name: "gossip-wire".into(),
        kind: crate::check::CheckKind::of("gossip-wire"),
        valid,
        summary,
        witnesses,
        figures,
    }
}

/// `gossip_status` answers: well-formed, `gossip_rounds` never decreasing on one node (within
/// one incarnation), and in the quiet final phase `local_value` equal to the node's final read.
/// Not applicable under Maelstrom's contract, where eddy does not ask.
pub fn gossip_status(record: &Record, contract: Contract) -> CheckResult {
    if contract != Contract::Seed {
        return CheckResult::new(
            "gossip-status",
            Validity::NotApplicable,
            "not applicable: eddy asks for gossip_status only under --contract seed",
            json!({"observed": false}),
        );
    }
    let starts = restarts(record);
    let ops = operations(&record.history);
    let mut witnesses = Vec::new();
    let mut answered = 0;
    let mut rounds: HashMap<(String, usize), (u64, u64)> = HashMap::new();
    let final_reads: HashMap<String, i64> = ops
        .iter()
        .filter(|op| {
            op.invoke.f == "read" && op.invoke.phase.is_some() && op.outcome() == EventType::Ok
        })
        .filter_map(|op| {
            Some((
                op.invoke.node.clone()?,
                op.completion?.body["value"].as_i64()?,
            ))
        })
        .collect();
    for op in ops
        .iter()
        .filter(|op| op.invoke.f == "gossip_status" && op.outcome() == EventType::Ok)
    {
        let (Some(node), Some(reply)) = (op.invoke.node.clone(), op.completion) else {
            continue;
        };
        answered += 1;
        let body = &reply.body;
        if let Err(why) = crate::schema::check_body(body, None) {
            witnesses.push(json!({"node": node, "why": format!("{node}: {why}")}));
            continue;
        }
        let at = reply.time;
        let round = body["gossip_rounds"].as_u64().unwrap_or(0);
        let key = (node.clone(), incarnation(&starts, &node, at));
        if let Some(&(before, when)) = rounds.get(&key) {
            if round < before {
                witnesses.push(json!({"node": node, "why": format!("{node} reported gossip_rounds {round} at {:.3} s after {before} at {:.3} s", at as f64 / 1e9, when as f64 / 1e9)}));
            }
        }
        rounds.insert(key, (round, at));
        if op.invoke.phase.is_some() {
            if let (Some(read), Some(local)) =
                (final_reads.get(&node), body["local_value"].as_i64())
            {
                if *read != local {
                    witnesses.push(json!({"node": node, "why": format!("{node} reported local_value {local} in the quiet final phase, but read {read}")}));
                }
            }
        }
    }
    let figures = json!({"answers": answered});
    if answered == 0 {
        let asked = ops
            .iter()
            .filter(|op| op.invoke.f == "gossip_status")
            .count();
        return CheckResult::not_observed(
            "gossip-status",
            &format!("none of {asked} gossip_status requests was answered with gossip_status_ok"),
            json!({"observed": false, "requests": asked}),
        );
    }
    let (valid, summary) = match witnesses.first() {
        Some(first) => (
            Validity::Invalid,
            format!(
                "{} inconsistent gossip_status answer(s); first: {}",
                witnesses.len(),
                first["why"].as_str().unwrap_or_default()
            ),
        ),
        None => (
            Validity::Valid,
            format!("{answered} gossip_status answers, well-formed and consistent"),
        ),
    };
    CheckResult {
        name: "gossip-status".into(),
        kind: crate::check::CheckKind::of("gossip-status"),
        valid,
        summary,
        witnesses,
        figures,
    }
}
