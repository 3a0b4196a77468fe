//! Raft's safety as seen on the wire (SPEC 3.3): no two nodes send `append_entries` for one
//! term (election safety), no voter grants two candidates in one term, and no node's term
//! goes backwards in what it sends; plus liveness figures and a leader timeline. Both reply
//! naming conventions (`_res` and `_ok`) are recognized.

use super::{CheckResult, NetLines, Record, Validity};
use crate::contract::Contract;
use crate::history::event::{operations, EventType};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The fields of a `net.jsonl` line that the wire checks read (the rest, `entries` above
/// all, is skipped while parsing).
#[derive(Debug, serde::Deserialize)]
pub struct Wire {
    /// When the writer wrote it, ns.
    #[serde(default)]
    pub send: u64,
    /// When it was delivered, ns (`None` when dropped).
    pub deliver: Option<u64>,
    /// The process that wrote it.
    #[serde(default)]
    pub writer: String,
    /// Where it went.
    #[serde(default)]
    pub dest: String,
    /// The body's fields the checks read.
    #[serde(default)]
    pub body: WireBody,
}

/// The body fields of a [`Wire`] line.
#[derive(Debug, Default, serde::Deserialize)]
pub struct WireBody {
    /// `type`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A Raft term.
    pub term: Option<u64>,
    /// A vote's answer.
    pub vote_granted: Option<bool>,
    /// The message's own id.
    pub msg_id: Option<u64>,
    /// The id of the message it answers.
    pub in_reply_to: Option<u64>,
}

impl Wire {
    /// True for Raft's own messages (both reply naming conventions).
    pub fn is_raft(&self) -> bool {
        matches!(
            self.body.kind.as_str(),
            "append_entries"
                | "request_vote"
                | "request_vote_res"
                | "request_vote_ok"
                | "append_entries_res"
                | "append_entries_ok"
        )
    }
}

/// Every Raft check, from `net.jsonl` and the history; liveness is judged against
/// `max_first_leader_ms` and `max_failover_ms`.
pub fn checks(
    record: &Record,
    contract: Contract,
    max_first_leader_ms: f64,
    max_failover_ms: f64,
) -> Vec<CheckResult> {
    let wire = record.net_lines(Wire::is_raft);
    let mut results = safety(record, &wire, contract);
    results.push(liveness(
        record,
        &wire.lines,
        max_first_leader_ms,
        max_failover_ms,
    ));
    results
}

/// Each node's leadership of each term as `(from, until, term, node)` in seconds: from its
/// first `append_entries` in the term to its last (a cut-off leader keeps sending), in
/// order of term and node.
pub fn leaderships(lines: &[Wire]) -> Vec<(f64, f64, u64, String)> {
    let mut spans: BTreeMap<(u64, String), (f64, f64)> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.body.kind == "append_entries") {
        let Some(term) = l.body.term else { continue };
        let t = seconds(l);
        let span = spans.entry((term, l.writer.clone())).or_insert((t, t));
        *span = (span.0.min(t), span.1.max(t));
    }
    spans
        .into_iter()
        .map(|((term, node), (from, until))| (from, until, term, node))
        .collect()
}

/// The Raft safety checks (election safety, one vote per term, terms) over `wire`, which
/// may hold other messages too: workloads built on Raft whose timing is their own use these
/// without the liveness figures. A node whose messages use other names gets "not
/// applicable" from all three (SPEC section 6: safety is then judged from what clients
/// saw); lines of `net.jsonl` that could not be read are a witness of election safety.
///
/// Under the seed contract, Raft's names are required: a cluster of several nodes with none
/// of them on the wire breaks the contract.
pub fn safety(record: &Record, wire: &NetLines<Wire>, contract: Contract) -> Vec<CheckResult> {
    let lines = &wire.lines;
    let mut results = vec![election_safety(lines), votes(lines), terms(lines)];
    if !lines.iter().any(Wire::is_raft) {
        let required = contract == Contract::Seed && record.nodes.len() > 1;
        for result in &mut results {
            if required {
                result.valid = Validity::Invalid;
                result.summary = "the seed contract asks for Raft's messages (`request_vote`, `append_entries`), and none was on the wire (--contract maelstrom leaves the names to the node)".into();
            } else {
                result.valid = Validity::NotApplicable;
                result.summary = "not applicable: no `request_vote` or `append_entries` on the wire (safety is judged from what clients saw)".into();
            }
        }
    }
    if let Some(witness) = wire.unreadable_witness("node messages") {
        let election = &mut results[0];
        election.witnesses.insert(0, witness);
        election.valid = Validity::Invalid;
        election.summary = election.witnesses[0]["why"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    results
}

/// When each leader began, as `(seconds, term, leader)` in time order: a node leads a term
/// from its first `append_entries` in it.
pub fn leader_starts(lines: &[Wire]) -> Vec<(f64, u64, String)> {
    let mut starts: Vec<(f64, u64, String)> = leaderships(lines)
        .into_iter()
        .map(|(from, _, term, leader)| (from, term, leader))
        .collect();
    starts.sort_by(|a, b| a.0.total_cmp(&b.0));
    starts
}

/// Liveness, apart from safety: time from the first client request to the first leader, and
/// from each fault that takes the leader away (killed, paused, or on the minority side of a
/// partition) to the next leader. A leader is known from the wire (its `append_entries`) or,
/// for a node whose messages have other names, from clients being served. A fault after
/// which no client is ever served again is a witness, whoever it hit.
fn liveness(
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
            let stalled = super::lag::stalled_within(record, r, t);
            Some(((t - r - stalled).max(0.0) * 1000.0).round())
        }
        _ => None,
    };
    let mut failovers = Vec::new();
    let mut witnesses = Vec::new();
    for e in record
        .history
        .iter()
        .filter(|e| e.process == crate::history::Process::Named("nemesis".into()))
        .filter(|e| matches!(e.f.as_str(), "kill" | "pause" | "partition"))
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
        let hit = named.filter(|l| hits(e, l));
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
        let stalled = super::lag::stalled_within(record, t, served_again);
        let idle = overlap(quiet, (t, served_again));
        let ms = ((served_again - t - down - stalled - idle).max(0.0) * 1000.0).round();
        let (down_ms, stalled_ms) = ((down * 1000.0).round(), (stalled * 1000.0).round());
        let term = leader_term(&starts, leader, t);
        let new_leader = starts
            .iter()
            .find(|(s, t2, _)| *s > t && Some(*t2) > term)
            .map(|(_, _, n)| n);
        let idle_ms = (idle * 1000.0).round();
        failovers.push(json!({"fault": e.f, "at_s": at_s, "old_leader": leader, "new_leader": new_leader,
            "served_again_s": (served_again * 1000.0).round() / 1000.0, "majority_down_ms": down_ms, "stalled_ms": stalled_ms, "quiet_ms": idle_ms, "ms": ms}));
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
        return CheckResult::not_observed("raft-liveness", "no client request was sent", figures);
    }
    let ok = format!(
        "liveness: first leader after {} ms (known from {leader_from}); {} failover(s), max {} ms; clients served after every fault",
        first_leader_ms.map_or("-".into(), |m| m.to_string()),
        times.len(),
        times.last().map_or("-".into(), |m| m.to_string())
    );
    CheckResult::from_witnesses("raft-liveness", witnesses, figures, ok)
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

/// True when nemesis event `e` takes `leader` away: kills or pauses it, or puts it on the
/// smaller side of a partition.
fn hits(e: &crate::history::HistoryEvent, leader: &str) -> bool {
    match e.f.as_str() {
        "kill" | "pause" => e.node.as_deref() == Some(leader),
        "partition" => e.body["groups"]
            .as_array()
            .and_then(|g| g.iter().min_by_key(|g| g.as_array().map_or(0, Vec::len)))
            .is_some_and(|minority| {
                minority
                    .as_array()
                    .is_some_and(|m| m.iter().any(|n| n == leader))
            }),
        _ => false,
    }
}

fn seconds_of(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// How long, within `from..to` (seconds), a majority of the nodes was killed or paused,
/// from the nemesis events of the history: no leader can be elected then.
fn majority_down_within(record: &Record, from: f64, to: f64) -> f64 {
    let majority = record.nodes.len() / 2 + 1;
    let mut down: BTreeSet<&str> = BTreeSet::new();
    let mut since: Option<f64> = None;
    let mut total = 0.0;
    let nemesis = record
        .history
        .iter()
        .filter(|e| e.process == crate::history::Process::Named("nemesis".into()));
    for e in nemesis {
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

fn seconds(line: &Wire) -> f64 {
    line.send as f64 / 1e9
}

/// One leader per term, and the timeline of leaders.
fn election_safety(lines: &[Wire]) -> CheckResult {
    let mut leaders: BTreeMap<u64, BTreeMap<String, f64>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.body.kind == "append_entries") {
        let (Some(term), Some(writer)) = (l.body.term, Some(l.writer.as_str())) else {
            continue;
        };
        leaders
            .entry(term)
            .or_default()
            .entry(writer.to_owned())
            .or_insert_with(|| seconds(l));
    }
    let mut witnesses = Vec::new();
    for (term, by) in &leaders {
        if by.len() > 1 {
            let who: Vec<String> = by
                .iter()
                .map(|(n, t)| format!("{n} (from {t:.3} s)"))
                .collect();
            witnesses.push(json!({"term": term, "why": format!("term {term} had {} leaders sending append_entries: {}", by.len(), who.join(", "))}));
        }
    }
    let timeline: Vec<Value> = leaders.iter().flat_map(|(term, by)| by.iter().map(move |(n, t)| json!({"term": term, "leader": n, "from_s": (t * 1000.0).round() / 1000.0}))).collect();
    let first = timeline.first().and_then(|t| t["from_s"].as_f64());
    let elections = lines
        .iter()
        .filter(|l| l.body.kind == "request_vote")
        .filter_map(|l| l.body.term)
        .collect::<BTreeSet<_>>()
        .len();
    let figures = json!({"terms_with_a_leader": leaders.len(), "elections": elections, "first_leader_s": first, "timeline": timeline});
    CheckResult::from_witnesses(
        "election-safety",
        witnesses,
        figures,
        format!(
            "one leader in each of {} terms; {elections} elections; first leader at {} s",
            leaders.len(),
            first.map_or("-".into(), |f| format!("{f:.3}"))
        ),
    )
}

/// One granted vote per voter per term.
fn votes(lines: &[Wire]) -> CheckResult {
    let mut granted: BTreeMap<(String, u64), BTreeMap<String, f64>> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| matches!(l.body.kind.as_str(), "request_vote_res" | "request_vote_ok"))
    {
        if l.body.vote_granted != Some(true) {
            continue;
        }
        let (Some(term), Some(voter), Some(candidate)) =
            (l.body.term, Some(l.writer.as_str()), Some(l.dest.as_str()))
        else {
            continue;
        };
        granted
            .entry((voter.to_owned(), term))
            .or_default()
            .entry(candidate.to_owned())
            .or_insert_with(|| seconds(l));
    }
    let witnesses: Vec<Value> = granted
        .iter()
        .filter(|(_, c)| c.len() > 1)
        .map(|((voter, term), c)| {
            let who: Vec<String> = c.iter().map(|(n, t)| format!("{n} at {t:.3} s")).collect();
            json!({"voter": voter, "term": term, "why": format!("{voter} granted its term-{term} vote to {}", who.join(" and "))})
        })
        .collect();
    let votes = granted.values().map(BTreeMap::len).sum::<usize>();
    let figures = json!({"granted_votes": votes});
    CheckResult::from_witnesses(
        "one-vote-per-term",
        witnesses,
        figures,
        format!(
            "{votes} granted votes from {} voter-terms, at most one per voter per term",
            granted.len()
        ),
    )
}

/// A node's term never goes backwards in what it sends.
fn terms(lines: &[Wire]) -> CheckResult {
    let mut last: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut witnesses = Vec::new();
    // net.jsonl is written as messages are delivered or dropped; what a node sent is in
    // the order of the send times.
    let mut sent: Vec<&Wire> = lines.iter().filter(|l| l.is_raft()).collect();
    sent.sort_by_key(|l| l.send);
    for l in sent {
        let (Some(term), Some(writer)) = (l.body.term, Some(l.writer.as_str())) else {
            continue;
        };
        if let Some(&(before, at)) = last.get(writer) {
            if term < before && witnesses.len() < 20 {
                witnesses.push(json!({"node": writer, "why": format!("{writer} sent term {term} at {:.3} s after term {before} at {at:.3} s", seconds(l))}));
            }
        }
        let slot = last.entry(writer.to_owned()).or_insert((term, seconds(l)));
        if term >= slot.0 {
            *slot = (term, seconds(l));
        }
    }
    let judged = lines
        .iter()
        .filter(|l| l.is_raft() && l.body.term.is_some())
        .count();
    let figures = json!({"nodes": last.len(), "messages": judged});
    CheckResult::from_witnesses(
        "terms",
        witnesses,
        figures,
        format!(
            "{judged} Raft messages from {} nodes; no node's term went backwards",
            last.len()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::net::NetSummary;

    fn record(lines: &[Value]) -> (tempfile::TempDir, Record) {
        let dir = tempfile::tempdir().unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(dir.path().join("net.jsonl"), text).unwrap();
        let record = Record {
            history: Vec::new(),
            net: NetSummary::default(),
            nodes: vec![],
            dir: Some(dir.path().to_owned()),
        };
        (dir, record)
    }

    fn line(send: u64, writer: &str, dest: &str, body: Value) -> Value {
        json!({"send": send, "deliver": send + 1, "writer": writer, "src": writer, "dest": dest, "body": body})
    }

    fn check_named(lines: &[Value], name: &str) -> CheckResult {
        let (_dir, record) = record(lines);
        checks(&record, Contract::Seed, 3000.0, 3000.0)
            .into_iter()
            .find(|r| r.name == name)
            .unwrap()
    }

    #[test]
    fn failover_time_leaves_out_the_time_most_nodes_were_down() {
        let nemesis = |ms: u64, node: &str, f: &str| {
            let mut e = crate::history::event::HistoryEvent::new(
                crate::history::Process::Named("nemesis".into()),
                Some(node.to_owned()),
                crate::history::event::EventType::Info,
                f,
                json!({}),
            );
            e.time = ms * 1_000_000 + u64::from(node.as_bytes()[1]);
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
            let mut e = crate::history::event::HistoryEvent::new(
                crate::history::Process::Client(1),
                Some("n4".to_owned()),
                kind,
                "write",
                json!({"type": "write", "key": 1, "value": ms}),
            );
            e.time = ms * 1_000_000;
            e
        };
        use crate::history::event::EventType;
        record.history.insert(0, client(50, EventType::Invoke));
        record.history.insert(1, client(60, EventType::Ok));
        record.history.push(client(1340, EventType::Invoke));
        record.history.push(client(1350, EventType::Ok));
        let live = checks(&record, Contract::Seed, 3000.0, 100.0)
            .into_iter()
            .find(|r| r.name == "raft-liveness")
            .unwrap();
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
        use crate::history::event::{EventType, HistoryEvent};
        use crate::history::Process;
        let at = |ms: u64, process: Process, node: &str, kind, f: &str| {
            let mut e =
                HistoryEvent::new(process, Some(node.to_owned()), kind, f, json!({"type": f}));
            e.time = ms * 1_000_000;
            e
        };
        let client = |ms, kind| at(ms, Process::Client(1), "n1", kind, "write");
        let nemesis = Process::Named("nemesis".into());
        // The node gossips under its own names: no Raft messages on the wire at all.
        let (_dir, mut record) = record(&[]);
        record.nodes = ["n1", "n2", "n3"].map(String::from).to_vec();
        record.history = vec![
            client(10, EventType::Invoke),
            client(20, EventType::Ok),
            at(500, nemesis.clone(), "n1", EventType::Info, "kill"),
            client(600, EventType::Invoke),
            client(700, EventType::Fail),
            client(800, EventType::Invoke),
            client(900, EventType::Info),
        ];
        let live = checks(&record, Contract::Maelstrom, 3000.0, 3000.0)
            .into_iter()
            .find(|r| r.name == "raft-liveness")
            .unwrap();
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
        let live = checks(&record, Contract::Maelstrom, 3000.0, 3000.0)
            .into_iter()
            .find(|r| r.name == "raft-liveness")
            .unwrap();
        assert_eq!(live.valid, Validity::Valid, "{}", live.summary);
        let safety = checks(&record, Contract::Maelstrom, 3000.0, 3000.0);
        assert_eq!(safety[0].valid, Validity::NotApplicable);
    }

    #[test]
    fn wire_checks_pass_a_clean_election_and_fail_each_violation() {
        let vote = |send, voter: &str, candidate: &str, term: u64| {
            line(
                send,
                voter,
                candidate,
                json!({"type": "request_vote_res", "term": term, "vote_granted": true}),
            )
        };
        let append = |send, leader: &str, term: u64| {
            line(
                send,
                leader,
                "n3",
                json!({"type": "append_entries", "term": term}),
            )
        };
        let clean = [
            vote(1, "n2", "n1", 1),
            append(2, "n1", 1),
            append(5, "n1", 1),
            vote(6, "n3", "n2", 2),
            append(7, "n2", 2),
        ];
        for name in ["election-safety", "one-vote-per-term", "terms"] {
            assert_eq!(check_named(&clean, name).valid, Validity::Valid, "{name}");
        }
        assert_eq!(
            check_named(&[append(2, "n1", 1), append(3, "n2", 1)], "election-safety").valid,
            Validity::Invalid
        );
        assert_eq!(
            check_named(
                &[vote(1, "n3", "n1", 4), vote(2, "n3", "n2", 4)],
                "one-vote-per-term"
            )
            .valid,
            Validity::Invalid
        );
        // Written in delivery order (the later send first): still in order by send time.
        assert_eq!(
            check_named(&[append(9, "n1", 3), append(8, "n1", 2)], "terms").valid,
            Validity::Valid
        );
        let backwards = check_named(&[append(8, "n1", 3), append(9, "n1", 2)], "terms");
        assert_eq!(backwards.valid, Validity::Invalid);
        assert!(
            backwards.summary.contains("n1 sent term 2"),
            "{}",
            backwards.summary
        );
    }
}
