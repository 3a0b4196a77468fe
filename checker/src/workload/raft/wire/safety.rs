//! Raft's safety on the wire: no two leaders in a term (election safety), one granted vote
//! per voter per term, and no node's term going backwards in what it sends.

use super::{seconds, without_raft_names, Wire};
use crate::check::{CheckResult, NetLines, Record, Validity};
use crate::contract::Contract;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

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
    use super::super::test_support::{line, named_check, record};
    use super::*;

    /// The check called `name` over a `net.jsonl` of `lines`, under the seed contract.
    fn check_named(lines: &[Value], name: &str) -> CheckResult {
        let (_dir, record) = record(lines);
        named_check(&record, Contract::Seed, 3000.0, name)
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
