//! Raft's liveness, apart from safety: how long the first leader took, and how long clients
//! waited after each fault that took the leader away, less what is not the nodes' doing.

use super::{leader_starts, nemesis_events, seconds_of, Wire};
use crate::check::{CheckKind, CheckResult, Record};
use crate::history::event::{operations, EventType, Operation};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Liveness, apart from safety: time from the first client request to the first leader, and
/// from each fault that takes the leader away (killed, paused, or on the minority side of a
/// partition) to the next leader. A leader is known from the wire (its `append_entries`) or,
/// for a node whose messages have other names, from clients being served. A fault after
/// which no client is ever served again is a witness, whoever it hit.
pub(super) fn liveness(
    record: &Record,
    lines: &[Wire],
    max_first_ms: f64,
    max_failover_ms: f64,
) -> CheckResult {
    let starts = leader_starts(lines);
    let ops = operations(&record.history);
    // When clients were served: completions of requests that succeeded, with the time
    // the request was sent.
    let mut served: Vec<(f64, f64)> = ops
        .iter()
        .filter(|op| op.outcome() == EventType::Ok)
        .filter_map(|op| Some((seconds_of(op.invoke.time), seconds_of(op.completion?.time))))
        .collect();
    served.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut writes_served: Vec<(f64, &str)> = ops
        .iter()
        .filter(|op| {
            op.outcome() == EventType::Ok && matches!(op.invoke.f.as_str(), "write" | "cas")
        })
        .filter_map(|op| Some((seconds_of(op.completion?.time), op.invoke.node.as_deref()?)))
        .collect();
    writes_served.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first_request = ops.first().map(|op| seconds_of(op.invoke.time));
    // eddy sends nothing by design between the last answer of the running phase and the
    // first request of the final phase: that wait is not charged to the nodes.
    let last_running = ops
        .iter()
        .filter(|op| op.invoke.phase.is_none())
        .filter_map(|op| op.completion.map(|c| seconds_of(c.time)))
        .fold(f64::NAN, f64::max);
    let first_final = ops
        .iter()
        .filter(|op| op.invoke.phase.is_some())
        .map(|op| seconds_of(op.invoke.time))
        .fold(f64::NAN, f64::min);
    let quiet = (last_running, first_final);
    let first_leader = match (starts.first(), served.first()) {
        (Some((t, _, _)), _) => Some(*t),
        (None, Some((_, t))) => Some(*t),
        (None, None) => None,
    };
    let first_leader_ms = match (first_request, first_leader) {
        (Some(r), Some(t)) => {
            let stalled = crate::check::lag::stalled_within(record, r, t);
            Some(((t - r - stalled).max(0.0) * 1000.0).round())
        }
        _ => None,
    };
    let mut failovers = Vec::new();
    let mut witnesses = Vec::new();
    for e in
        nemesis_events(record).filter(|e| matches!(e.f.as_str(), "kill" | "pause" | "partition"))
    {
        let t = seconds_of(e.time);
        let leader = starts.iter().rev().find(|(s, _, _)| *s <= t);
        // Without Raft's names on the wire, the node that last served a write leads.
        let named = leader.map(|(_, _, l)| l.as_str()).or_else(|| {
            writes_served
                .iter()
                .rev()
                .find(|(at, _)| *at <= t)
                .map(|(_, node)| *node)
        });
        let hit = named.filter(|l| hits(e, l, record.nodes.len()));
        let at_s = (t * 1000.0).round() / 1000.0;
        let Some(served_again) = served.iter().find(|(asked, _)| *asked > t).map(|s| s.1) else {
            let asked = ops
                .iter()
                .filter(|op| seconds_of(op.invoke.time) > t)
                .count();
            let whom = hit.map_or(String::new(), |l| format!(" of leader {l}"));
            witnesses.push(json!({"fault": e.f, "at_s": at_s, "why": format!(
                "after the {}{whom} at {t:.3} s, no client was ever served again ({asked} requests after it, through the final phase)", e.f
            )}));
            continue;
        };
        let Some(leader) = hit else {
            continue;
        };
        // Failover is what clients saw: from the fault until a request sent after it was
        // served, by any node in any term. No leader can be elected while most nodes are
        // down, and nothing runs while the machine stalls: neither is charged to the nodes.
        let down = majority_down_within(record, t, served_again);
        let stalled = crate::check::lag::stalled_within(record, t, served_again);
        let idle = overlap(quiet, (t, served_again));
        // Every client waiting on the node the fault took away: it cannot answer until the
        // fault heals, and eddy's clients wait for it (their timeout), so no request could
        // reach the new leader then. The machine's stalls within are already left out.
        let stuck: f64 = all_waiting_on(&ops, leader, (t, served_again))
            .into_iter()
            .map(|(from, to)| to - from - crate::check::lag::stalled_within(record, from, to))
            .sum();
        let ms = ((served_again - t - down - stalled - idle - stuck).max(0.0) * 1000.0).round();
        let (down_ms, stalled_ms) = ((down * 1000.0).round(), (stalled * 1000.0).round());
        let term = leader_term(&starts, leader, t);
        let new_leader = starts
            .iter()
            .find(|(s, t2, _)| *s > t && Some(*t2) > term)
            .map(|(_, _, n)| n);
        let idle_ms = (idle * 1000.0).round();
        let stuck_ms = (stuck * 1000.0).round();
        failovers.push(json!({"fault": e.f, "at_s": at_s, "old_leader": leader, "new_leader": new_leader,
            "served_again_s": (served_again * 1000.0).round() / 1000.0, "majority_down_ms": down_ms, "stalled_ms": stalled_ms, "quiet_ms": idle_ms, "clients_waiting_on_old_leader_ms": stuck_ms, "ms": ms}));
        if ms > max_failover_ms {
            let mut besides = Vec::new();
            if down > 0.0 {
                besides.push(format!("{down_ms} ms with most nodes down"));
            }
            if stalled > 0.0 {
                besides.push(format!("{stalled_ms} ms the machine stalled"));
            }
            if idle > 0.0 {
                besides.push(format!(
                    "{idle_ms} ms eddy sent nothing before its final reads"
                ));
            }
            if stuck > 0.0 {
                besides.push(format!("{stuck_ms} ms every client waited on {leader}"));
            }
            let besides = if besides.is_empty() {
                String::new()
            } else {
                format!(" besides {}", besides.join(" and "))
            };
            witnesses.push(json!({"why": format!("after the {} of leader {leader} at {t:.3} s, clients were served again only {ms} ms later{besides} (limit {max_failover_ms} ms)", e.f)}));
        }
    }
    if let Some(ms) = first_leader_ms.filter(|ms| *ms > max_first_ms) {
        witnesses.insert(0, json!({"why": format!("the first leader took {ms} ms after the first request (limit {max_first_ms} ms)")}));
    }
    if first_request.is_some() && first_leader.is_none() {
        witnesses.insert(0, json!({"why": "no node ever acted as leader: no `append_entries` on the wire and no client request succeeded"}));
    }
    let mut times: Vec<f64> = failovers.iter().filter_map(|f| f["ms"].as_f64()).collect();
    times.sort_by(f64::total_cmp);
    let leader_from = if starts.is_empty() {
        "client service"
    } else {
        "append_entries"
    };
    let figures = json!({
        "first_leader_ms": first_leader_ms, "leader_known_from": leader_from, "failovers": failovers, "failover_p50_ms": times.get(times.len() / 2), "failover_max_ms": times.last(),
        "max_first_leader_ms": max_first_ms, "max_failover_ms": max_failover_ms, "requests_served": served.len(),
    });
    if first_request.is_none() {
        return CheckResult::not_observed("raft-liveness", "no client request was sent", figures)
            .about(CheckKind::Liveness);
    }
    let ok = format!(
        "liveness: first leader after {} ms (known from {leader_from}); {} failover(s), max {} ms; clients served after every fault",
        first_leader_ms.map_or("-".into(), |m| m.to_string()),
        times.len(),
        times.last().map_or("-".into(), |m| m.to_string())
    );
    CheckResult::from_witnesses("raft-liveness", witnesses, figures, ok).about(CheckKind::Liveness)
}

/// How long the intervals `a` and `b` (seconds) share; none when `a` is not known (NaN).
fn overlap(a: (f64, f64), b: (f64, f64)) -> f64 {
    let shared = a.1.min(b.1) - a.0.max(b.0);
    if shared.is_nan() {
        0.0
    } else {
        shared.max(0.0)
    }
}

/// The term in which `leader` led at `t`, from the wire (`None` when the leader is known
/// only from clients).
fn leader_term(starts: &[(f64, u64, String)], leader: &str, t: f64) -> Option<u64> {
    starts
        .iter()
        .rev()
        .find(|(s, _, l)| *s <= t && l == leader)
        .map(|(_, term, _)| *term)
}

/// The intervals within `window` (seconds) during which every client had a request in
/// flight at `node` (each client has at most one in flight).
fn all_waiting_on(ops: &[Operation], node: &str, window: (f64, f64)) -> Vec<(f64, f64)> {
    let clients: BTreeSet<u64> = ops.iter().filter_map(|op| op.invoke.client()).collect();
    let mut edges: Vec<(f64, i64)> = ops
        .iter()
        .filter(|op| op.invoke.node.as_deref() == Some(node))
        .filter_map(|op| {
            let from = seconds_of(op.invoke.time).max(window.0);
            let to = op
                .completion
                .map_or(window.1, |c| seconds_of(c.time))
                .min(window.1);
            (from < to).then_some([(from, 1), (to, -1)])
        })
        .flatten()
        .collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut waiting = 0;
    let mut since = None;
    let mut intervals = Vec::new();
    for (at, step) in edges {
        waiting += step;
        match (since, waiting as usize >= clients.len()) {
            (None, true) => since = Some(at),
            (Some(from), false) => {
                intervals.push((from, at));
                since = None;
            }
            _ => {}
        }
    }
    intervals
}

/// True when nemesis event `e` takes `leader` away: kills or pauses it, or cuts it off
/// from a majority of the `nodes` nodes. A partition is recorded either as `groups` (sides
/// that cannot reach each other: the leader is taken away when its side is no majority) or
/// as `sees` (for each node, the nodes whose messages reach it, itself included: rings and
/// bridges; the leader is taken away when it hears from fewer than a majority, or fewer than
/// a majority hear from it). With `nodes` 0 (not known), the nodes the partition names count.
fn hits(e: &crate::history::HistoryEvent, leader: &str, nodes: usize) -> bool {
    let majority = |named: usize| (if nodes > 0 { nodes } else { named }) / 2 + 1;
    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    match e.f.as_str() {
        "kill" | "pause" => e.node.as_deref() == Some(leader),
        "partition" => {
            if let Some(sees) = e.body["sees"].as_object() {
                let majority = majority(sees.len());
                let Some(heard) = sees.get(leader) else {
                    return false;
                };
                let hears_from = names(heard).len();
                let heard_by = sees
                    .values()
                    .filter(|v| names(v).iter().any(|n| n == leader))
                    .count();
                return hears_from < majority || heard_by < majority;
            }
            let groups: Vec<Vec<String>> = e.body["groups"]
                .as_array()
                .map(|g| g.iter().map(names).collect())
                .unwrap_or_default();
            let majority = majority(groups.iter().map(Vec::len).sum());
            groups
                .iter()
                .find(|g| g.iter().any(|n| n == leader))
                .is_some_and(|side| side.len() < majority)
        }
        _ => false,
    }
}

/// How long, within `from..to` (seconds), a majority of the nodes was killed or paused,
/// from the nemesis events of the history: no leader can be elected then.
fn majority_down_within(record: &Record, from: f64, to: f64) -> f64 {
    let majority = record.nodes.len() / 2 + 1;
    let mut down: BTreeSet<&str> = BTreeSet::new();
    let mut since: Option<f64> = None;
    let mut total = 0.0;
    for e in nemesis_events(record) {
        let (Some(node), time) = (e.node.as_deref(), e.time as f64 / 1e9) else {
            continue;
        };
        match e.f.as_str() {
            "kill" | "pause" => down.insert(node),
            "restart" | "resume" => down.remove(node),
            _ => continue,
        };
        let up = record.nodes.len().saturating_sub(down.len());
        match (since, up >= majority) {
            (None, false) => since = Some(time),
            (Some(start), true) => {
                total += (time.min(to) - start.max(from)).max(0.0);
                since = None;
            }
            _ => {}
        }
    }
    if let Some(start) = since {
        total += (to - start.max(from)).max(0.0);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{line, named_check, nemesis_at, record};
    use super::*;
    use crate::check::Validity;
    use crate::contract::Contract;
    use crate::history::event::{EventType, HistoryEvent};
    use crate::history::Process;

    #[test]
    fn failover_time_leaves_out_the_time_every_client_waited_on_the_old_leader() {
        let (_dir, mut record) = record(&[
            line(
                100_000_000,
                "n1",
                "n2",
                json!({"type": "append_entries", "term": 1}),
            ),
            line(
                1_300_000_000,
                "n2",
                "n1",
                json!({"type": "append_entries", "term": 2}),
            ),
        ]);
        let event =
            |ms, process, node, kind, f| HistoryEvent::at_ms(ms, process, node, kind, f, json!({}));
        let groups = json!({"kind": "leader", "groups": [["n1"], ["n2", "n3"]]});
        let partition = nemesis_at(1000, "n1", "partition", groups);
        let c = |n| Process::Client(n);
        // Both clients sent their requests to n1 just after it was cut off and waited for
        // their 5 s timeout; the first request sent after that was served at once.
        record.history = vec![
            event(50, c(1), "n1", EventType::Invoke, "write"),
            event(60, c(1), "n1", EventType::Ok, "write"),
            partition,
            event(1100, c(1), "n1", EventType::Invoke, "write"),
            event(1200, c(2), "n1", EventType::Invoke, "write"),
            event(6100, c(1), "n1", EventType::Info, "write"),
            event(6150, c(1), "n2", EventType::Invoke, "write"),
            event(6160, c(1), "n2", EventType::Ok, "write"),
            event(6200, c(2), "n1", EventType::Info, "write"),
        ];
        let live = named_check(&record, Contract::Seed, 3000.0, "raft-liveness");
        let failover = &live.figures["failovers"][0];
        assert_eq!(
            failover["clients_waiting_on_old_leader_ms"], 4900.0,
            "{failover}"
        );
        assert_eq!(failover["ms"], 260.0, "{failover}");
        assert_eq!(live.valid, Validity::Valid, "{}", live.summary);
    }

    #[test]
    fn failover_time_leaves_out_the_time_most_nodes_were_down() {
        let nemesis = |ms, node: &str, f| {
            let mut e = nemesis_at(ms, node, f, json!({}));
            e.time += u64::from(node.as_bytes()[1]);
            e
        };
        let append = |ms: u64, leader: &str, term: u64| {
            line(
                ms * 1_000_000,
                leader,
                "n3",
                json!({"type": "append_entries", "term": term}),
            )
        };
        let (_dir, mut record) = record(&[append(100, "n1", 1), append(1350, "n2", 2)]);
        record.nodes = ["n1", "n2", "n3", "n4", "n5"].map(String::from).to_vec();
        // n1 (the leader), n2 and n3 die a few microseconds apart and come back a second
        // later; the next leader follows 150 ms after that.
        for node in ["n1", "n2", "n3"] {
            record.history.push(nemesis(200, node, "kill"));
        }
        for node in ["n1", "n2", "n3"] {
            record.history.push(nemesis(1200, node, "restart"));
        }
        // Clients are served before the kill, and again when the next leader serves a
        // request sent at 1.34 s, at 1.35 s: 1150 ms after the kill, 1000 of them with most
        // nodes down.
        let client = |ms: u64, kind| {
            let write = json!({"type": "write", "key": 1, "value": ms});
            HistoryEvent::at_ms(ms, Process::Client(1), "n4", kind, "write", write)
        };
        record.history.insert(0, client(50, EventType::Invoke));
        record.history.insert(1, client(60, EventType::Ok));
        record.history.push(client(1340, EventType::Invoke));
        record.history.push(client(1350, EventType::Ok));
        let live = named_check(&record, Contract::Seed, 100.0, "raft-liveness");
        let failover = &live.figures["failovers"][0];
        assert_eq!(failover["ms"], 150.0, "{failover}");
        assert_eq!(failover["majority_down_ms"], 1000.0, "{failover}");
        assert_eq!(
            live.valid,
            Validity::Invalid,
            "150 ms is over the 100 ms limit"
        );
        assert!(live
            .summary
            .contains("besides 1000 ms with most nodes down"));
    }

    #[test]
    fn a_fault_after_which_no_client_is_served_is_a_witness_without_raft_names() {
        let write = json!({"type": "write"});
        let client = |ms, kind| {
            HistoryEvent::at_ms(ms, Process::Client(1), "n1", kind, "write", write.clone())
        };
        // The node gossips under its own names: no Raft messages on the wire at all.
        let (_dir, mut record) = record(&[]);
        record.nodes = ["n1", "n2", "n3"].map(String::from).to_vec();
        record.history = vec![
            client(10, EventType::Invoke),
            client(20, EventType::Ok),
            nemesis_at(500, "n1", "kill", json!({"type": "kill"})),
            client(600, EventType::Invoke),
            client(700, EventType::Fail),
            client(800, EventType::Invoke),
            client(900, EventType::Info),
        ];
        let live = named_check(&record, Contract::Maelstrom, 3000.0, "raft-liveness");
        assert_eq!(live.valid, Validity::Invalid);
        assert_eq!(
            live.summary,
            "after the kill of leader n1 at 0.500 s, no client was ever served again (2 requests after it, through the final phase)"
        );
        assert_eq!(live.figures["leader_known_from"], "client service");
        assert_eq!(live.figures["first_leader_ms"], 10.0);
        // Served again: valid, and the leader was known from clients alone.
        record.history.push(client(1000, EventType::Invoke));
        record.history.push(client(1100, EventType::Ok));
        let live = named_check(&record, Contract::Maelstrom, 3000.0, "raft-liveness");
        assert_eq!(live.valid, Validity::Valid, "{}", live.summary);
        let safety = named_check(&record, Contract::Maelstrom, 3000.0, "election-safety");
        assert_eq!(safety.valid, Validity::NotApplicable);
    }

    #[test]
    fn a_partition_takes_the_leader_away_when_it_is_cut_from_a_majority() {
        let groups = nemesis_at(
            0,
            "",
            "partition",
            json!({"groups": [["n1", "n2"], ["n3", "n4", "n5"]]}),
        );
        assert!(hits(&groups, "n1", 5));
        assert!(!hits(&groups, "n4", 5));
        // Nodes not known: the partition's own names count.
        assert!(hits(&groups, "n2", 0) && !hits(&groups, "n3", 0));
        // Halves of an even cluster: neither side is a majority.
        let halves = nemesis_at(
            0,
            "",
            "partition",
            json!({"kind": "halves", "groups": [["n1", "n2"], ["n3", "n4"]]}),
        );
        assert!(hits(&halves, "n1", 4) && hits(&halves, "n3", 4));
        // A majorities ring on 5 nodes: every node sees 3 of 5, a majority.
        let ring = nemesis_at(
            0,
            "",
            "partition",
            json!({"kind": "ring", "sees": {
            "n1": ["n1", "n2", "n5"], "n2": ["n1", "n2", "n3"], "n3": ["n2", "n3", "n4"],
            "n4": ["n3", "n4", "n5"], "n5": ["n1", "n4", "n5"]}}),
        );
        for node in ["n1", "n2", "n3", "n4", "n5"] {
            assert!(!hits(&ring, node, 5), "{node}");
        }
        // A bridge on 5 nodes: n3 sees everyone; n1, n2 and n4, n5 see only their side and n3.
        let bridge = nemesis_at(
            0,
            "",
            "partition",
            json!({"kind": "bridge", "sees": {
            "n1": ["n1", "n2", "n3"], "n2": ["n1", "n2", "n3"], "n3": ["n1", "n2", "n3", "n4", "n5"],
            "n4": ["n3", "n4", "n5"], "n5": ["n3", "n4", "n5"]}}),
        );
        assert!(!hits(&bridge, "n3", 5) && !hits(&bridge, "n1", 5));
        // A bridge on 6 nodes: a side of 2 plus the bridge is 3 of 6, no majority.
        let wide = nemesis_at(
            0,
            "",
            "partition",
            json!({"kind": "bridge", "sees": {
            "n1": ["n1", "n2", "n3"], "n2": ["n1", "n2", "n3"], "n3": ["n1", "n2", "n3", "n4", "n5", "n6"],
            "n4": ["n3", "n4", "n5", "n6"], "n5": ["n3", "n4", "n5", "n6"], "n6": ["n3", "n4", "n5", "n6"]}}),
        );
        assert!(hits(&wide, "n1", 6), "n1 hears 3 of 6");
        assert!(!hits(&wide, "n4", 6), "n4 hears 4 of 6 and is heard by 4");
        assert!(!hits(&wide, "n3", 6));
        // Heard by too few: n1 hears everyone, but only n1 and n2 hear it.
        let one_way = nemesis_at(
            0,
            "",
            "partition",
            json!({"sees": {
            "n1": ["n1", "n2", "n3", "n4", "n5"], "n2": ["n1", "n2", "n3", "n4", "n5"],
            "n3": ["n2", "n3", "n4", "n5"], "n4": ["n2", "n3", "n4", "n5"], "n5": ["n2", "n3", "n4", "n5"]}}),
        );
        assert!(hits(&one_way, "n1", 5));
        assert!(!hits(&one_way, "n2", 5) && !hits(&one_way, "n3", 5));
        // Other faults and other nodes.
        assert!(hits(&nemesis_at(0, "n2", "kill", json!({})), "n2", 3));
        assert!(!hits(&nemesis_at(0, "n2", "pause", json!({})), "n1", 3));
        assert!(!hits(&nemesis_at(0, "", "heal", json!({})), "n1", 3));
    }
}
