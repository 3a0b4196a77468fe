//! Raft's safety as seen on the wire (SPEC 3.3): no two nodes send `append_entries` for one
//! term (election safety), no voter grants two candidates in one term, and no node's term
//! goes backwards in what it sends; plus liveness figures and a leader timeline. Both reply
//! naming conventions (`_res` and `_ok`) are recognized.

use super::{CheckResult, Record, Validity};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Every Raft check, from `net.jsonl`.
pub fn checks(record: &Record) -> Vec<CheckResult> {
    let lines = record.net_lines(|l| {
        matches!(
            l["body"]["type"].as_str(),
            Some(
                "append_entries"
                    | "request_vote"
                    | "request_vote_res"
                    | "request_vote_ok"
                    | "append_entries_res"
                    | "append_entries_ok"
            )
        )
    });
    vec![election_safety(&lines), votes(&lines), terms(&lines)]
}

fn seconds(line: &Value) -> f64 {
    line["send"].as_f64().unwrap_or(0.0) / 1e9
}

/// One leader per term, and the timeline of leaders.
fn election_safety(lines: &[Value]) -> CheckResult {
    let mut leaders: BTreeMap<u64, BTreeMap<String, f64>> = BTreeMap::new();
    for l in lines
        .iter()
        .filter(|l| l["body"]["type"] == "append_entries")
    {
        let (Some(term), Some(writer)) = (l["body"]["term"].as_u64(), l["writer"].as_str()) else {
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
        .filter(|l| l["body"]["type"] == "request_vote")
        .filter_map(|l| l["body"]["term"].as_u64())
        .collect::<BTreeSet<_>>()
        .len();
    let figures = json!({"terms_with_a_leader": leaders.len(), "elections": elections, "first_leader_s": first, "timeline": timeline});
    if lines.is_empty() {
        return CheckResult::new(
            "election-safety",
            Validity::Valid,
            "not observed: no Raft messages on the wire",
            figures,
        );
    }
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
fn votes(lines: &[Value]) -> CheckResult {
    let mut granted: BTreeMap<(String, u64), BTreeMap<String, f64>> = BTreeMap::new();
    for l in lines.iter().filter(|l| {
        matches!(
            l["body"]["type"].as_str(),
            Some("request_vote_res" | "request_vote_ok")
        )
    }) {
        if l["body"]["vote_granted"] != true {
            continue;
        }
        let (Some(term), Some(voter), Some(candidate)) = (
            l["body"]["term"].as_u64(),
            l["writer"].as_str(),
            l["dest"].as_str(),
        ) else {
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
    let figures = json!({"granted_votes": granted.values().map(BTreeMap::len).sum::<usize>()});
    CheckResult::from_witnesses(
        "one-vote-per-term",
        witnesses,
        figures,
        "every voter granted at most one vote per term".to_owned(),
    )
}

/// A node's term never goes backwards in what it sends.
fn terms(lines: &[Value]) -> CheckResult {
    let mut last: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    let mut witnesses = Vec::new();
    // net.jsonl is written as messages are delivered or dropped; what a node sent is in
    // the order of the send times.
    let mut sent: Vec<&Value> = lines.iter().collect();
    sent.sort_by(|a, b| a["send"].as_u64().cmp(&b["send"].as_u64()));
    for l in sent {
        let (Some(term), Some(writer)) = (l["body"]["term"].as_u64(), l["writer"].as_str()) else {
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
    let figures = json!({"nodes": last.len()});
    CheckResult::from_witnesses(
        "terms",
        witnesses,
        figures,
        "no node's term went backwards".to_owned(),
    )
}
