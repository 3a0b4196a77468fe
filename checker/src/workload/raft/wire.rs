//! Raft's safety as seen on the wire (SPEC 3.3): no two nodes send `append_entries` for one
//! term (election safety), no voter grants two candidates in one term, no node's term goes
//! backwards in what it sends, and a node killed and started again keeps its term and its
//! votes (durable state); plus liveness figures and a leader timeline. Both reply naming
//! conventions (`_res` and `_ok`) are recognized.

use crate::check::{CheckResult, NetLines, Record, Validity};
use crate::contract::Contract;
use crate::history::event::{operations, EventType, Operation};
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
    results.push(durable_state(record, &wire.lines, contract));
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
    if let Some((valid, summary)) = without_raft_names(record, lines, contract) {
        for result in &mut results {
            result.valid = valid;
            result.summary = summary.into();
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

/// The verdict of every wire check when no Raft message is on the wire: not applicable
/// (the node uses names of its own), or, under the seed contract with several nodes,
/// invalid (the contract asks for Raft's names). `None` when Raft's messages are there.
fn without_raft_names(
    record: &Record,
    lines: &[Wire],
    contract: Contract,
) -> Option<(Validity, &'static str)> {
    if lines.iter().any(Wire::is_raft) {
        None
    } else if contract == Contract::Seed && record.nodes.len() > 1 {
        Some((Validity::Invalid, "the seed contract asks for Raft's messages (`request_vote`, `append_entries`), and none was on the wire (--contract maelstrom leaves the names to the node)"))
    } else {
        Some((Validity::NotApplicable, "not applicable: no `request_vote` or `append_entries` on the wire (safety is judged from what clients saw)"))
    }
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
            let stalled = crate::check::lag::stalled_within(record, r, t);
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

/// One thing a node said about its own term: a Raft message it sent (replies carry the
/// responder's term), or a `raft_status_ok` it answered.
struct Said<'a> {
    /// When, ns (the send time; for `raft_status_ok`, when the reply came).
    at: u64,
    term: u64,
    /// The message type.
    what: &'a str,
    /// The candidate it granted its vote to, for a granted vote.
    vote_for: Option<&'a str>,
}

impl Said<'_> {
    fn describe(&self) -> String {
        format!("{} at {:.3} s", self.what, self.at as f64 / 1e9)
    }
}

/// Each node's kills, in time order, as `(killed, restarted)` in ns (`None`: never started
/// again), from the nemesis events of the history.
fn kills(record: &Record) -> BTreeMap<&str, Vec<(u64, Option<u64>)>> {
    let mut kills: BTreeMap<&str, Vec<(u64, Option<u64>)>> = BTreeMap::new();
    let nemesis = record
        .history
        .iter()
        .filter(|e| e.process == crate::history::Process::Named("nemesis".into()));
    for e in nemesis {
        let Some(node) = e.node.as_deref() else {
            continue;
        };
        match e.f.as_str() {
            "kill" => kills.entry(node).or_default().push((e.time, None)),
            "restart" => {
                if let Some(last) = kills.get_mut(node).and_then(|k| k.last_mut()) {
                    last.1.get_or_insert(e.time);
                }
            }
            _ => {}
        }
    }
    kills
}

/// Durable state (SPEC 3.3, crash and restart): a node killed and started again never says a
/// term lower than the highest it said before the kill (in a Raft message it sent, replies
/// included, or a `raft_status_ok`), and never grants its vote in a term to a candidate
/// other than the one it granted that term's vote to before the kill. Within one life of a
/// node, the `terms` and `one-vote-per-term` checks judge the same evidence; this one names
/// the restart that lost the state.
///
/// Not applicable (or, under the seed contract, invalid) like the other wire checks when no
/// Raft message is on the wire. No restart in the run: unknown under the seed contract
/// ("not observed"), not applicable under Maelstrom's, which has no restarts unless
/// `--nemesis kill` asks for them. Restarts, but no restarted node heard saying a term both
/// before its kill and after its restart: unknown.
pub fn durable_state(record: &Record, lines: &[Wire], contract: Contract) -> CheckResult {
    const NAME: &str = "durable-state";
    let kills = kills(record);
    let restarts: usize = kills
        .values()
        .flatten()
        .filter(|(_, restart)| restart.is_some())
        .count();
    if let Some((valid, summary)) = without_raft_names(record, lines, contract) {
        return CheckResult::new(NAME, valid, summary, json!({"restarts": restarts}));
    }
    if restarts == 0 {
        // The property is about restarts: a schedule without one does not exercise it
        // (another seed, or --test-count, will), and under Maelstrom's contract nodes need
        // not survive one. The run's other checks decide it.
        return CheckResult::new(
            NAME,
            Validity::NotApplicable,
            "not applicable: no node was killed and started again in this run (--nemesis kill asks for restarts)",
            json!({"restarts": 0, "judged_restarts": 0}),
        );
    }
    // What every killed node said, in time order.
    let mut said: BTreeMap<&str, Vec<Said>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.is_raft()) {
        let (Some(term), Some(node)) = (l.body.term, kills.get_key_value(l.writer.as_str())) else {
            continue;
        };
        let granted = matches!(l.body.kind.as_str(), "request_vote_res" | "request_vote_ok")
            && l.body.vote_granted == Some(true);
        said.entry(*node.0).or_default().push(Said {
            at: l.send,
            term,
            what: &l.body.kind,
            vote_for: granted.then_some(l.dest.as_str()),
        });
    }
    for op in operations(&record.history)
        .into_iter()
        .filter(|op| op.invoke.f == "raft_status")
    {
        let (Some(reply), Some(node)) = (op.completion, op.invoke.node.as_deref()) else {
            continue;
        };
        let (Some(term), Some((node, _))) =
            (reply.body["term"].as_u64(), kills.get_key_value(node))
        else {
            continue;
        };
        if reply.body["type"] == "raft_status_ok" {
            said.entry(node).or_default().push(Said {
                at: reply.time,
                term,
                what: "raft_status_ok",
                vote_for: None,
            });
        }
    }
    let secs = |ns: u64| ns as f64 / 1e9;
    let mut witnesses = Vec::new();
    let mut judged: Vec<(u64, String)> = Vec::new();
    let mut unjudged: Vec<String> = Vec::new();
    let mut highest_kept = 0u64;
    let mut votes_after = 0usize;
    for (node, lives) in &kills {
        let mut said = said.remove(node).unwrap_or_default();
        said.sort_by_key(|s| s.at);
        // What the node said in each of its lives: a kill ends one (the router drops what a
        // killed process still writes, so nothing is sent between a kill and its restart).
        let mut by_life: Vec<Vec<&Said>> = vec![Vec::new(); lives.len() + 1];
        for s in &said {
            by_life[lives.partition_point(|(kill, _)| *kill <= s.at)].push(s);
        }
        // The highest term said in every earlier life (since the last loss reported: one
        // loss is one witness, not one per later restart), and the vote granted in each term.
        let mut highest: Option<&Said> = None;
        let mut voted: BTreeMap<u64, &Said> = BTreeMap::new();
        let mut reported: BTreeSet<u64> = BTreeSet::new();
        for (life, &(kill, restart)) in lives.iter().enumerate() {
            for s in &by_life[life] {
                if highest.is_none_or(|h| s.term >= h.term) {
                    highest = Some(s);
                }
                if s.vote_for.is_some() {
                    voted.entry(s.term).or_insert(s);
                }
            }
            let Some(restart) = restart else { continue };
            let after = &by_life[life + 1];
            let Some(before) = highest.filter(|_| !after.is_empty()) else {
                unjudged.push(format!(
                    "{node} (restarted at {:.3} s) said no term {}",
                    secs(restart),
                    if highest.is_none() {
                        "before its kill"
                    } else {
                        "after its restart"
                    }
                ));
                continue;
            };
            judged.push((restart, format!("{node} at {:.3} s", secs(restart))));
            highest_kept = highest_kept.max(before.term);
            if let Some(lower) = after.iter().find(|s| s.term < before.term) {
                let verb = |s: &Said| {
                    if s.what == "raft_status_ok" {
                        "reported"
                    } else {
                        "sent"
                    }
                };
                witnesses.push(json!({"node": node, "killed_s": secs(kill), "restarted_s": secs(restart),
                    "before": {"term": before.term, "type": before.what, "at_s": secs(before.at)},
                    "after": {"term": lower.term, "type": lower.what, "at_s": secs(lower.at)},
                    "why": format!(
                        "{node} {} term {} ({}) before it was killed at {:.3} s and term {} ({}) after its restart at {:.3} s: its term was not kept",
                        verb(before), before.term, before.describe(), secs(kill), lower.term, lower.describe(), secs(restart)
                    )}));
                highest = None;
            }
            for s in after.iter().filter(|s| s.vote_for.is_some()) {
                votes_after += 1;
                let Some(earlier) = voted.get(&s.term) else {
                    continue;
                };
                if earlier.vote_for != s.vote_for && reported.insert(s.term) {
                    let (was, now) = (earlier.vote_for.unwrap_or("?"), s.vote_for.unwrap_or("?"));
                    witnesses.push(json!({"node": node, "term": s.term, "killed_s": secs(kill), "restarted_s": secs(restart),
                        "before": {"candidate": was, "at_s": secs(earlier.at)},
                        "after": {"candidate": now, "at_s": secs(s.at)},
                        "why": format!(
                            "{node} voted for {was} in term {} (at {:.3} s) before it was killed at {:.3} s and for {now} in term {} (at {:.3} s) after its restart at {:.3} s: its vote was not kept",
                            s.term, secs(earlier.at), secs(kill), s.term, secs(s.at), secs(restart)
                        )}));
                }
            }
        }
    }
    judged.sort();
    let judged: Vec<String> = judged.into_iter().map(|(_, j)| j).collect();
    let figures = json!({"restarts": restarts, "judged_restarts": judged.len(), "judged": judged,
        "not_judged": unjudged, "highest_term_before_a_kill": highest_kept, "votes_granted_after_restarts": votes_after});
    if judged.is_empty() {
        return CheckResult::not_observed(
            NAME,
            &format!(
                "{restarts} restart(s), but no restarted node said its term both before its kill and after its restart; first: {}",
                unjudged.first().map_or("-", String::as_str)
            ),
            figures,
        );
    }
    let ok = format!(
        "{} restart(s) judged ({}): every restarted node kept its term (up to {highest_kept}) and its votes ({votes_after} granted after a restart)",
        judged.len(),
        if judged.len() > 6 {
            format!("{}, ...", judged[..6].join(", "))
        } else {
            judged.join(", ")
        }
    );
    CheckResult::from_witnesses(NAME, witnesses, figures, ok)
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
    fn failover_time_leaves_out_the_time_every_client_waited_on_the_old_leader() {
        use crate::history::event::{EventType, HistoryEvent};
        use crate::history::Process;
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
        let event = |ms: u64, process: Process, node: &str, kind, f: &str| {
            let mut e = HistoryEvent::new(process, Some(node.to_owned()), kind, f, json!({}));
            e.time = ms * 1_000_000;
            e
        };
        let mut partition = event(
            1000,
            Process::Named("nemesis".into()),
            "n1",
            EventType::Info,
            "partition",
        );
        partition.body = json!({"kind": "leader", "groups": [["n1"], ["n2", "n3"]]});
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
        let live = checks(&record, Contract::Seed, 3000.0, 3000.0)
            .into_iter()
            .find(|r| r.name == "raft-liveness")
            .unwrap();
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

    /// A nemesis event at `ms` for `node`.
    fn nemesis_at(ms: u64, node: &str, f: &str, body: Value) -> crate::history::HistoryEvent {
        let mut e = crate::history::event::HistoryEvent::new(
            crate::history::Process::Named("nemesis".into()),
            (!node.is_empty()).then(|| node.to_owned()),
            crate::history::event::EventType::Info,
            f,
            body,
        );
        e.time = ms * 1_000_000;
        e
    }

    /// The durable-state check over `lines` and `history` under `contract`.
    fn durable(
        lines: &[Value],
        history: Vec<crate::history::HistoryEvent>,
        contract: Contract,
    ) -> CheckResult {
        let (_dir, mut record) = record(lines);
        record.nodes = ["n1", "n2", "n3"].map(String::from).to_vec();
        record.history = history;
        checks(&record, contract, 3000.0, 3000.0)
            .into_iter()
            .find(|r| r.name == "durable-state")
            .unwrap()
    }

    fn ms(ms: u64) -> u64 {
        ms * 1_000_000
    }

    fn vote(ms_: u64, voter: &str, candidate: &str, term: u64) -> Value {
        line(
            ms(ms_),
            voter,
            candidate,
            json!({"type": "request_vote_res", "term": term, "vote_granted": true}),
        )
    }

    fn raft_msg(ms_: u64, writer: &str, kind: &str, term: u64) -> Value {
        line(ms(ms_), writer, "n1", json!({"type": kind, "term": term}))
    }

    fn kill_and_restart(node: &str) -> Vec<crate::history::HistoryEvent> {
        vec![
            nemesis_at(1000, node, "kill", json!({})),
            nemesis_at(2000, node, "restart", json!({})),
        ]
    }

    #[test]
    fn durable_state_passes_a_node_that_keeps_its_term_and_vote() {
        let lines = [
            vote(100, "n2", "n1", 7),
            raft_msg(900, "n2", "append_entries_res", 7),
            // After its restart n2 answers in the same term, and grants the same candidate
            // again (a retried request_vote): nothing was lost.
            vote(2100, "n2", "n1", 7),
            raft_msg(2200, "n2", "append_entries_res", 8),
        ];
        let result = durable(&lines, kill_and_restart("n2"), Contract::Seed);
        assert_eq!(result.valid, Validity::Valid, "{}", result.summary);
        assert_eq!(result.kind, crate::check::CheckKind::Safety);
        assert_eq!(
            result.summary,
            "1 restart(s) judged (n2 at 2.000 s): every restarted node kept its term (up to 7) and its votes (1 granted after a restart)"
        );
        assert_eq!(result.figures["judged_restarts"], 1);
    }

    #[test]
    fn durable_state_fails_a_term_that_went_back_across_a_restart() {
        let lines = [
            raft_msg(500, "n2", "request_vote", 9),
            raft_msg(900, "n2", "append_entries_res", 9),
            raft_msg(2100, "n2", "request_vote", 1),
            raft_msg(2200, "n2", "request_vote", 0),
        ];
        let result = durable(&lines, kill_and_restart("n2"), Contract::Seed);
        assert_eq!(result.valid, Validity::Invalid);
        assert_eq!(result.witnesses.len(), 1, "one witness per restart");
        assert_eq!(
            result.summary,
            "n2 sent term 9 (append_entries_res at 0.900 s) before it was killed at 1.000 s and term 1 (request_vote at 2.100 s) after its restart at 2.000 s: its term was not kept"
        );
        // Killed again: a loss is reported once, and what the node said since is kept.
        let mut twice = kill_and_restart("n2");
        twice.push(nemesis_at(3000, "n2", "kill", json!({})));
        twice.push(nemesis_at(4000, "n2", "restart", json!({})));
        let mut again = lines.to_vec();
        again.push(raft_msg(4100, "n2", "append_entries_res", 1));
        let result = durable(&again, twice.clone(), Contract::Seed);
        assert_eq!(result.witnesses.len(), 1, "{:?}", result.witnesses);
        assert_eq!(result.figures["judged_restarts"], 2);
        again.push(raft_msg(4200, "n2", "append_entries_res", 0));
        let result = durable(&again, twice, Contract::Seed);
        assert_eq!(result.witnesses.len(), 2, "{:?}", result.witnesses);
        assert!(result.witnesses[1]["why"].as_str().unwrap().starts_with(
            "n2 sent term 1 (request_vote at 2.100 s) before it was killed at 3.000 s and term 0"
        ));
        // The same messages within one life are the terms check's business, not this one's.
        let one_life = durable(&lines, Vec::new(), Contract::Seed);
        assert_eq!(one_life.valid, Validity::NotApplicable);
    }

    #[test]
    fn durable_state_fails_a_vote_given_again_to_another_candidate_after_a_restart() {
        let lines = [
            vote(300, "n2", "n1", 7),
            raft_msg(400, "n2", "append_entries_res", 7),
            // Restarted with nothing kept, n2 adopts term 7 from n3's request and grants it.
            vote(2300, "n2", "n3", 7),
        ];
        let result = durable(&lines, kill_and_restart("n2"), Contract::Seed);
        assert_eq!(result.valid, Validity::Invalid);
        assert_eq!(
            result.summary,
            "n2 voted for n1 in term 7 (at 0.300 s) before it was killed at 1.000 s and for n3 in term 7 (at 2.300 s) after its restart at 2.000 s: its vote was not kept"
        );
        assert_eq!(result.witnesses[0]["term"], 7);
    }

    #[test]
    fn durable_state_reads_raft_status_answers_too() {
        use crate::history::event::{EventType, HistoryEvent};
        let status = |at: u64, kind: EventType, body: Value| {
            let mut e = HistoryEvent::new(
                crate::history::Process::Client(1),
                Some("n2".into()),
                kind,
                "raft_status",
                body,
            );
            e.time = ms(at);
            e
        };
        let mut history = vec![
            status(800, EventType::Invoke, json!({"type": "raft_status"})),
            status(
                810,
                EventType::Ok,
                json!({"type": "raft_status_ok", "term": 5, "role": "follower"}),
            ),
        ];
        history.extend(kill_and_restart("n2"));
        history.push(status(
            2500,
            EventType::Invoke,
            json!({"type": "raft_status"}),
        ));
        history.push(status(
            2510,
            EventType::Ok,
            json!({"type": "raft_status_ok", "term": 0, "role": "follower"}),
        ));
        let lines = [raft_msg(100, "n1", "append_entries", 5)];
        let result = durable(&lines, history, Contract::Seed);
        assert_eq!(result.valid, Validity::Invalid);
        assert!(
            result.summary.starts_with(
                "n2 reported term 5 (raft_status_ok at 0.810 s) before it was killed at 1.000 s and term 0 (raft_status_ok at 2.510 s)"
            ),
            "{}",
            result.summary
        );
    }

    #[test]
    fn durable_state_without_evidence_is_never_valid() {
        let lines = [
            raft_msg(100, "n1", "append_entries", 1),
            raft_msg(200, "n2", "append_entries_res", 1),
        ];
        // No restart: the schedule did not exercise the property, under either contract.
        let none = durable(&lines, Vec::new(), Contract::Seed);
        assert_eq!(none.valid, Validity::NotApplicable);
        assert!(none
            .summary
            .starts_with("not applicable: no node was killed"));
        let maelstrom = durable(&lines, Vec::new(), Contract::Maelstrom);
        assert_eq!(maelstrom.valid, Validity::NotApplicable);
        // Killed but never started again: nothing was put to the test.
        let never = durable(
            &lines,
            vec![nemesis_at(1000, "n2", "kill", json!({}))],
            Contract::Seed,
        );
        assert_eq!(never.valid, Validity::NotApplicable, "{}", never.summary);
        // Restarted, but silent afterwards: not observed either.
        let silent = durable(&lines, kill_and_restart("n2"), Contract::Maelstrom);
        assert_eq!(silent.valid, Validity::Unknown);
        assert_eq!(
            silent.summary,
            "not observed: 1 restart(s), but no restarted node said its term both before its kill and after its restart; first: n2 (restarted at 2.000 s) said no term after its restart"
        );
        // A node under its own message names: not applicable, like the other wire checks.
        let own = durable(&[], kill_and_restart("n2"), Contract::Maelstrom);
        assert_eq!(own.valid, Validity::NotApplicable);
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
