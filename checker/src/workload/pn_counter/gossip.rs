//! What the PN-counter's gossip looks like on the wire and through `gossip_status`
//! (SPEC 3.5): `replicate` counters never decrease per origin and are never negative, fan-out
//! and volume are reported, and `gossip_status` answers are well-formed and consistent.
//! The wire check does not apply to nodes that gossip under other message names.

use crate::check::{CheckResult, Record, Validity};
use crate::contract::Contract;
use crate::history::event::{operations, EventType};
use crate::workload::Spec;
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

/// When each node was killed by the nemesis, in time order.
fn kills(record: &Record) -> HashMap<String, Vec<u64>> {
    let mut kills: HashMap<String, Vec<u64>> = HashMap::new();
    for e in record.history.iter().filter(|e| e.f == "kill") {
        if let (Some(node), crate::history::Process::Named(who)) = (&e.node, &e.process) {
            if who == "nemesis" {
                kills.entry(node.clone()).or_default().push(e.time);
            }
        }
    }
    kills
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
///
/// A restarted node may start its counts of other origins again from what it persisted (it
/// learns them back by gossip), but under the seed contract its count of its own origin is
/// its acknowledged increments, which `NODE_DATA_DIR` must keep: sending less of it after a
/// restart than before is lost durable state, and a witness.
pub fn replicate_wire(record: &Record, contract: Contract) -> CheckResult {
    let seed = contract == Contract::Seed;
    let starts = restarts(record);
    let kills = kills(record);
    let mut last: HashMap<(String, usize, &'static str, String), (u64, u64)> = HashMap::new();
    // A sender's highest count of its own origin across its lives, when and in which life
    // it sent it (after a loss is reported, counted again from the lower count: one loss
    // is one witness).
    let mut own: HashMap<(String, &'static str), (u64, u64, usize)> = HashMap::new();
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
                if !seed || *origin != writer {
                    continue;
                }
                let short = if half == "p_counters" { "p" } else { "n" };
                let best = own
                    .entry((writer.clone(), short))
                    .or_insert((count, time, life));
                if count < best.0 && best.2 < life {
                    let restarted = starts[&writer][life - 1];
                    let killed = kills
                        .get(&writer)
                        .and_then(|k| k.iter().rev().find(|&&k| k <= restarted))
                        .map_or(String::new(), |k| {
                            format!(" before it was killed at {:.3} s", *k as f64 / 1e9)
                        });
                    witnesses.push(json!({"node": writer, "origin": origin, "lost_durable_state": true,
                        "why": format!(
                            "{writer} sent {half}[{writer}] = {count} at {:.3} s, after its restart at {:.3} s, but {} at {:.3} s{killed}: its own count (its acknowledged increments) was not kept across the restart",
                            time as f64 / 1e9, restarted as f64 / 1e9, best.0, best.1 as f64 / 1e9
                        )}));
                    *best = (count, time, life);
                }
                if count >= best.0 {
                    *best = (count, time, life);
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
    let schemas = super::PnCounter.catalogue();
    for op in ops
        .iter()
        .filter(|op| op.invoke.f == "gossip_status" && op.outcome() == EventType::Ok)
    {
        let (Some(node), Some(reply)) = (op.invoke.node.clone(), op.completion) else {
            continue;
        };
        answered += 1;
        let body = &reply.body;
        if let Err(why) = schemas.check_body(body, None) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::event::{EventType, HistoryEvent};
    use crate::history::Process;
    use serde_json::Value;

    fn replicate(ms: u64, writer: &str, p: Value) -> Value {
        json!({"send": ms * 1_000_000, "deliver": ms * 1_000_000 + 1, "writer": writer, "src": writer, "dest": "n1",
            "body": {"type": "replicate", "p_counters": p, "n_counters": {}}})
    }

    fn nemesis(ms: u64, node: &str, f: &str) -> HistoryEvent {
        let mut e = HistoryEvent::new(
            Process::Named("nemesis".into()),
            Some(node.into()),
            EventType::Info,
            f,
            json!({}),
        );
        e.time = ms * 1_000_000;
        e
    }

    fn wire(lines: &[Value], contract: Contract) -> CheckResult {
        let dir = tempfile::tempdir().unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(dir.path().join("net.jsonl"), text).unwrap();
        let record = Record {
            history: vec![nemesis(1000, "n2", "kill"), nemesis(2000, "n2", "restart")],
            net: crate::check::traffic::NetSummary::default(),
            nodes: vec!["n1".into(), "n2".into()],
            dir: Some(dir.path().to_owned()),
        };
        replicate_wire(&record, contract)
    }

    #[test]
    fn a_node_whose_own_count_goes_down_across_its_restart_lost_durable_state() {
        let lines = [
            replicate(500, "n2", json!({"n1": 4, "n2": 37})),
            // After its restart n2 has forgotten n1's count (it learns it back: allowed) and
            // its own (the increments it acknowledged: lost).
            replicate(2100, "n2", json!({"n1": 0, "n2": 3})),
            replicate(2200, "n2", json!({"n1": 4, "n2": 5})),
        ];
        let seed = wire(&lines, Contract::Seed);
        assert_eq!(seed.valid, Validity::Invalid);
        assert_eq!(
            seed.witnesses.len(),
            1,
            "one witness per life: {:?}",
            seed.witnesses
        );
        assert_eq!(
            seed.witnesses[0]["why"],
            "n2 sent p_counters[n2] = 3 at 2.100 s, after its restart at 2.000 s, but 37 at 0.500 s before it was killed at 1.000 s: its own count (its acknowledged increments) was not kept across the restart"
        );
        assert_eq!(seed.witnesses[0]["lost_durable_state"], true);
        // Killed again after it counted up to 5 anew: a second loss, measured from there.
        let mut twice = lines.to_vec();
        twice.push(replicate(4100, "n2", json!({"n2": 1})));
        let record = |lines: &[Value]| {
            let dir = tempfile::tempdir().unwrap();
            let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
            std::fs::write(dir.path().join("net.jsonl"), text).unwrap();
            let mut history = vec![nemesis(1000, "n2", "kill"), nemesis(2000, "n2", "restart")];
            history.extend([nemesis(3000, "n2", "kill"), nemesis(4000, "n2", "restart")]);
            let record = Record {
                history,
                net: crate::check::traffic::NetSummary::default(),
                nodes: vec!["n1".into(), "n2".into()],
                dir: Some(dir.path().to_owned()),
            };
            (dir, record)
        };
        let (_dir, again) = record(&twice);
        let again = replicate_wire(&again, Contract::Seed);
        assert_eq!(again.witnesses.len(), 2, "{:?}", again.witnesses);
        assert!(again.witnesses[1]["why"]
            .as_str()
            .unwrap()
            .starts_with("n2 sent p_counters[n2] = 1 at 4.100 s, after its restart at 4.000 s, but 5 at 2.200 s before it was killed at 3.000 s"));
        // Under Maelstrom's contract a restarted node's counts are its own business (the
        // final value still judges what clients were told).
        assert_eq!(wire(&lines, Contract::Maelstrom).valid, Validity::Valid);
        // Kept: valid under the seed contract too.
        let kept = [
            replicate(500, "n2", json!({"n1": 4, "n2": 37})),
            replicate(2100, "n2", json!({"n1": 0, "n2": 37})),
        ];
        assert_eq!(wire(&kept, Contract::Seed).valid, Validity::Valid);
    }
}
