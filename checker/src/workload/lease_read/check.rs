//! lease-read's checks (SPEC 3.2): every read of any kind linearizable, with each stale
//! read shown beside the node that served it, what it claimed of its lease and who led by
//! then; the zero-round-trip claim against the routed traffic; `lease_read_config` answers
//! against the formula; and Raft's safety on the wire (for nodes built on Raft).

use crate::check::{linear, CheckResult, Record, Validity};
use crate::history::event::{operations, Operation};
use crate::history::EventType;
use crate::workload::raft::wire::{self as raft, Wire};
use crate::workload::Spec;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Every lease-read check; the history is paired and `net.jsonl` parsed once for all.
pub fn checks(record: &Record, contract: crate::contract::Contract) -> Vec<CheckResult> {
    let ops = operations(&record.history);
    let wire = record.net_lines(|l: &Wire| record.nodes.contains(&l.dest));
    let lines = &wire.lines;
    let mut results = vec![
        linearizable(record, &ops, lines),
        zero_round_trips(record, &ops, lines),
        config_answers(&ops),
    ];
    results.extend(raft::safety(record, &wire, contract));
    results
}

/// Linearizability of `read`, `lease_read`, `write` and `cas`; stale reads name their
/// server, its claims and the leader of the latest term by then (from the node-to-node
/// `lines`).
fn linearizable(record: &Record, ops: &[Operation], lines: &[Wire]) -> CheckResult {
    let mut report = linear::check(
        linear::history::from_events(&record.history),
        linear::Limits::default(),
    );
    let by_invoke: HashMap<u64, &Operation> = ops.iter().map(|op| (op.invoke.index, op)).collect();
    let leaders = raft::leader_starts(lines);
    let mut stale_lease_reads = 0;
    for stale in &mut report.stale_reads {
        let Some(op) = stale["read"]["index"]
            .as_u64()
            .and_then(|i| by_invoke.get(&i))
        else {
            continue;
        };
        if op.invoke.f == "lease_read" {
            stale_lease_reads += 1;
        }
        let served_at = op.completion.map_or(op.invoke.time, |c| c.time) as f64 / 1e9;
        let server = op.invoke.node.clone().unwrap_or_default();
        let reply = op.completion.map_or(&Value::Null, |c| &c.body);
        let leader = leaders
            .iter()
            .rev()
            .find(|(since, _, _)| *since <= served_at);
        let mut why = format!(
            "{}; {server} answered it{}",
            stale["why"].as_str().unwrap_or_default(),
            claims(reply)
        );
        if let Some((since, term, node)) = leader {
            why.push_str(&format!(
                ", when {node} had led term {term} since {since:.3} s"
            ));
        }
        stale["why"] = why.into();
        stale["served_by"] = server.into();
        stale["lease_valid"] = reply["lease_valid"].clone();
        stale["network_round_trips"] = reply["network_round_trips"].clone();
        stale["lease_remaining_ms"] = reply["lease_remaining_ms"].clone();
        stale["latest_leader"] = leader.map_or(
            Value::Null,
            |(s, t, n)| json!({"node": n, "term": t, "since_s": s}),
        );
    }
    let mut result = linear::to_check_result(&report);
    result.figures["stale_lease_reads"] = stale_lease_reads.into();
    result
}

/// What a lease read's reply claimed, in words.
fn claims(reply: &Value) -> String {
    let mut words = Vec::new();
    if let Some(valid) = reply["lease_valid"].as_bool() {
        words.push(format!("with lease_valid {valid}"));
    }
    if let Some(trips) = reply["network_round_trips"].as_u64() {
        words.push(format!("{trips} round trip(s)"));
    }
    match reply["lease_remaining_ms"].as_i64() {
        Some(left) if left > 0 => words.push(format!("believing {left} ms of lease were left")),
        Some(left) => words.push(format!("{} ms after its lease ran out", -left)),
        None => {}
    }
    if words.is_empty() {
        String::new()
    } else {
        format!(" {}", words.join(", "))
    }
}

/// A message a node sent another, and when its answer reached the node (if it did).
#[derive(Debug, Clone, Copy)]
struct Exchange<'a> {
    message: &'a Wire,
    answered: Option<u64>,
}

/// Every node's exchanges with other nodes, by node, in send order.
fn exchanges(lines: &[Wire]) -> HashMap<&str, Vec<Exchange<'_>>> {
    let mut answers: HashMap<(&str, &str, u64), u64> = HashMap::new();
    for l in lines {
        if let (Some(to), Some(at)) = (l.body.in_reply_to, l.deliver) {
            answers.insert((l.dest.as_str(), l.writer.as_str(), to), at);
        }
    }
    let mut by_node: HashMap<&str, Vec<Exchange>> = HashMap::new();
    for l in lines {
        let Some(id) = l.body.msg_id else { continue };
        by_node
            .entry(l.writer.as_str())
            .or_default()
            .push(Exchange {
                message: l,
                answered: answers
                    .get(&(l.writer.as_str(), l.dest.as_str(), id))
                    .copied(),
            });
    }
    for list in by_node.values_mut() {
        list.sort_by_key(|e| e.message.send);
    }
    by_node
}

/// Refuting exchanges above this share of all zero-round-trip claims (and at least
/// [`MIN_REFUTING`] of them) fail the check.
const REFUTING_SHARE: f64 = 0.05;
/// Refuting exchanges a run may show as coincidences at most.
const MIN_REFUTING: usize = 3;

/// SPEC 3.2: a `lease_read_ok` with `network_round_trips: 0` is refuted when its node sent a
/// message after the request reached it and got that message's answer before replying; and
/// a read without a valid lease must confirm leadership (a round trip) or refuse.
///
/// eddy sees a node only from outside: a node that was slow to write its reply (descheduled,
/// or busy with a batch of requests) can look as if it waited for a heartbeat it sent
/// anyway, and on fast links a whole round trip fits in a node's ordinary reaction time.
/// So refuted claims are grouped by the exchange that refutes them (one heartbeat can
/// overlap a batch of reads), a few such exchanges are reported as coincidences, and the
/// check fails when they are systematic: more than [`REFUTING_SHARE`] of the claims and at
/// least [`MIN_REFUTING`], which a node that really waits for the network on its lease
/// reads always shows. A claim whose window holds a stall of the machine (eddy or a node
/// waiting for a core, SPEC section 6) is not refuted at all: a node that decided at once
/// but did not get a core to write its reply looks exactly like one that waited (seen on a
/// machine at load 12-15: the reference refuted 7 times in one window of 160 ms).
fn zero_round_trips(record: &Record, ops: &[Operation], lines: &[Wire]) -> CheckResult {
    let traffic = exchanges(lines);
    let mut witnesses = Vec::new();
    let mut refuted = Vec::new();
    let mut refuting_exchanges = std::collections::HashSet::new();
    let (mut served, mut claimed, mut excused) = (0u64, 0u64, 0u64);
    for op in ops {
        let (Some(done), Some(node)) = (op.completion, op.invoke.node.as_deref()) else {
            continue;
        };
        if op.invoke.f != "lease_read" || done.kind != EventType::Ok {
            continue;
        }
        served += 1;
        let trips = done.body["network_round_trips"].as_u64();
        if trips == Some(0) && done.body["lease_valid"] == false {
            witnesses.push(json!({"why": format!(
                "{node} answered a lease_read at {:.3} s with lease_valid false and 0 round trips: without a valid lease it must confirm leadership or refuse",
                done.time as f64 / 1e9)}));
            continue;
        }
        if trips != Some(0) {
            continue;
        }
        claimed += 1;
        let (from, to) = (op.invoke.time, done.time);
        let list = traffic.get(node).map_or(&[][..], Vec::as_slice);
        let first = list.partition_point(|e| e.message.send < from);
        let refuting = list[first..]
            .iter()
            .take_while(|e| e.message.send <= to)
            .find(|e| e.answered.is_some_and(|a| a <= to));
        let at = |ns: u64| ns as f64 / 1e9;
        if refuting.is_some() && crate::check::lag::stalled_within(record, at(from), at(to)) > 0.0 {
            // The machine kept eddy or a node waiting for a core within the window: the node
            // may have decided at once and read the answer before it could write its reply.
            excused += 1;
            continue;
        }
        if let Some(e) = refuting {
            let (sent, peer, kind) = (e.message.send, &e.message.dest, &e.message.body.kind);
            refuting_exchanges.insert((node, sent, peer.as_str()));
            refuted.push(json!({
                "why": format!(
                    "{node} claimed 0 round trips for a lease_read it received at {:.3} s and answered at {:.3} s, but in between it sent {} to {} at {:.3} s and got the answer at {:.3} s",
                    at(from), at(to), kind, peer, at(sent), at(e.answered.unwrap_or_default())),
                "node": node, "received_s": at(from), "answered_s": at(to),
                "message": {"type": kind, "to": peer, "sent_s": at(sent), "answer_s": e.answered.map(at)},
            }));
        }
    }
    let exchanges = refuting_exchanges.len();
    let figures = json!({"lease_reads_ok": served, "zero_round_trip_claims": claimed,
                         "refuted_claims": refuted.len(), "refuting_exchanges": exchanges,
                         "excused_by_stalls": excused});
    let systematic =
        exchanges >= MIN_REFUTING && exchanges as f64 > REFUTING_SHARE * claimed as f64;
    let coincidences = if systematic {
        witnesses.append(&mut refuted);
        String::new()
    } else if refuted.is_empty() {
        "none refuted by the routed traffic".to_owned()
    } else {
        format!(
            "{} refuted by {exchanges} exchange(s), few enough to be a slow node's coincidence; first: {}",
            refuted.len(),
            refuted[0]["why"].as_str().unwrap_or_default()
        )
    };
    let unjudged =
        crate::check::replies::unjudged(&super::LeaseRead.catalogue(), ops, &["lease_read"]);
    if served == 0 && unjudged.is_empty() {
        return CheckResult::not_observed(
            "zero-round-trips",
            "no lease_read was answered with lease_read_ok",
            figures,
        );
    }
    if claimed > 0 && record.dir.is_none() {
        return CheckResult::new(
            "zero-round-trips",
            Validity::Unknown,
            "no routed traffic (net.jsonl) to check the claims against",
            figures,
        );
    }
    // A claim not judged because the machine stalled is said, never dropped silently.
    let excused = if excused > 0 {
        format!("; {excused} not judged: the machine stalled eddy or a node within them")
    } else {
        String::new()
    };
    CheckResult::from_witnesses(
        "zero-round-trips",
        witnesses,
        figures,
        format!("{claimed} zero-round-trip claim(s) among {served} lease reads; {coincidences}{excused}"),
    )
    .and_unjudged(unjudged)
}

/// Every `lease_read_config` answer against SPEC 3.2: `effective_lease_ms = lease - skew`,
/// `safe = effective < election_timeout`, error 12 for non-positive durations or a negative
/// skew, and `textbook_safe` (when given) `= lease <= election_timeout`.
fn config_answers(ops: &[Operation]) -> CheckResult {
    let mut witnesses = Vec::new();
    let (mut answers, mut unsafe_ones, mut unanswered) = (0u64, 0u64, 0u64);
    for op in ops.iter().filter(|op| op.invoke.f == "lease_read_config") {
        let Some(done) = op.completion.filter(|done| done.kind != EventType::Info) else {
            unanswered += 1;
            continue;
        };
        answers += 1;
        let ask = &op.invoke.body;
        let node = op.invoke.node.as_deref().unwrap_or("?");
        let field = |name: &str| ask[name].as_i64();
        let (Some(lease), Some(election), Some(skew)) = (
            field("lease_duration_ms"),
            field("election_timeout_ms"),
            field("max_clock_skew_ms"),
        ) else {
            continue;
        };
        let asked = format!("lease {lease} ms, election timeout {election} ms, skew {skew} ms");
        let got = &done.body;
        let problem = if lease <= 0 || election <= 0 || skew < 0 {
            (got["code"] != 12).then(|| format!("answered {got} instead of error 12"))
        } else if done.kind != EventType::Ok {
            Some(format!("answered {got} to a valid configuration"))
        } else {
            let effective = lease - skew;
            let safe = effective < election;
            unsafe_ones += u64::from(!safe);
            let mut wrong = Vec::new();
            if got["effective_lease_ms"].as_i64() != Some(effective) {
                wrong.push(format!(
                    "effective_lease_ms {} (the formula gives {effective})",
                    got["effective_lease_ms"]
                ));
            }
            if got["safe"].as_bool() != Some(safe) {
                wrong.push(format!("safe {} (the formula gives {safe})", got["safe"]));
            }
            if let Some(textbook) = got.get("textbook_safe") {
                if textbook.as_bool() != Some(lease <= election) {
                    wrong.push(format!(
                        "textbook_safe {textbook} (lease <= election timeout gives {})",
                        lease <= election
                    ));
                }
            }
            (!wrong.is_empty()).then(|| wrong.join(" and "))
        };
        if let Some(problem) = problem {
            witnesses.push(json!({
                "why": format!("{node} judged {asked}: {problem}"),
                "node": node, "request": ask, "reply": got,
            }));
        }
    }
    let figures =
        json!({"answers": answers, "unsafe_configurations": unsafe_ones, "unanswered": unanswered});
    let unjudged =
        crate::check::replies::unjudged(&super::LeaseRead.catalogue(), ops, &["lease_read_config"]);
    if answers == 0 && unjudged.is_empty() {
        let what = format!(
            "none of {unanswered} lease_read_config requests got a definite answer (timeouts and indefinite errors say nothing of the formula)"
        );
        return CheckResult::not_observed("lease-config", &what, figures);
    }
    let besides = if unanswered > 0 {
        format!("; {unanswered} ended without a definite answer")
    } else {
        String::new()
    };
    CheckResult::from_witnesses(
        "lease-config",
        witnesses,
        figures,
        format!("{answers} lease_read_config answer(s) agree with the formula{besides}"),
    )
    .and_unjudged(unjudged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{HistoryEvent, Process};

    fn event(
        index: u64,
        time_ms: u64,
        client: u64,
        kind: EventType,
        f: &str,
        body: Value,
    ) -> HistoryEvent {
        HistoryEvent {
            index,
            time: time_ms * 1_000_000,
            process: Process::Client(client),
            node: Some("n1".into()),
            kind,
            f: f.into(),
            body,
            phase: None,
        }
    }

    /// The lease-read check called `name`, as `checks` gives it.
    fn named(record: &Record, name: &str) -> CheckResult {
        checks(record, crate::contract::Contract::Seed)
            .into_iter()
            .find(|c| c.name == name)
            .expect("the check runs")
    }

    fn record(history: Vec<HistoryEvent>, dir: Option<std::path::PathBuf>) -> Record {
        Record {
            history,
            net: Default::default(),
            nodes: vec!["n1".into(), "n2".into(), "n3".into()],
            dir,
        }
    }

    fn config(lease: i64, election: i64, skew: i64, reply: Value) -> Vec<HistoryEvent> {
        let ask = json!({"type": "lease_read_config", "lease_duration_ms": lease, "election_timeout_ms": election, "max_clock_skew_ms": skew});
        vec![
            event(0, 1, 1, EventType::Invoke, "lease_read_config", ask),
            event(1, 2, 1, EventType::Ok, "lease_read_config", reply),
        ]
    }

    #[test]
    fn config_answers_follow_the_formula() {
        let right = config(
            3000,
            5000,
            500,
            json!({"type": "lease_read_config_ok", "safe": true, "effective_lease_ms": 2500, "textbook_safe": true}),
        );
        assert_eq!(
            named(&record(right, None), "lease-config").valid,
            Validity::Valid
        );
        let wrong = config(
            5500,
            5000,
            500,
            json!({"type": "lease_read_config_ok", "safe": true, "effective_lease_ms": 5000}),
        );
        let result = named(&record(wrong, None), "lease-config");
        assert_eq!(result.valid, Validity::Invalid);
        assert!(
            result
                .summary
                .contains("safe true (the formula gives false)"),
            "{}",
            result.summary
        );
        let textbook = config(
            5400,
            5000,
            500,
            json!({"type": "lease_read_config_ok", "safe": true, "effective_lease_ms": 4900, "textbook_safe": true}),
        );
        assert!(named(&record(textbook, None), "lease-config")
            .summary
            .contains("textbook_safe true"));
        let accepted = config(
            0,
            5000,
            0,
            json!({"type": "lease_read_config_ok", "safe": true, "effective_lease_ms": 0}),
        );
        assert!(named(&record(accepted, None), "lease-config")
            .summary
            .contains("instead of error 12"));
    }

    #[test]
    fn zero_round_trip_claims_are_refuted_by_exchanges_inside_their_reads() {
        let dir = std::env::temp_dir().join(format!("eddy-zero-trips-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Around 10, 20 and 30 ms n1 sends append_entries (x.5 ms), n2's answer reaches n1
        // a millisecond later.
        let net: Vec<String> = [10u64, 20, 30]
            .iter()
            .flat_map(|&ms| {
                let id = ms / 10;
                [
                    format!(r#"{{"send":{},"deliver":{},"writer":"n1","src":"n1","dest":"n2","body":{{"type":"append_entries","msg_id":{id},"term":1}}}}"#, ms * 1_000_000 + 500_000, ms * 1_000_000 + 1_000_000),
                    format!(r#"{{"send":{},"deliver":{},"writer":"n2","src":"n2","dest":"n1","body":{{"type":"append_entries_res","in_reply_to":{id},"term":1}}}}"#, ms * 1_000_000 + 1_200_000, ms * 1_000_000 + 1_500_000),
                ]
            })
            .collect();
        std::fs::write(dir.join("net.jsonl"), net.join("\n")).unwrap();
        let reads = |spans: &[(u64, u64)], reply: &Value| {
            let mut history = Vec::new();
            for (k, &(from, to)) in spans.iter().enumerate() {
                let (i, c) = (2 * k as u64, k as u64 + 1);
                history.push(event(
                    i,
                    from,
                    c,
                    EventType::Invoke,
                    "lease_read",
                    json!({"type": "lease_read", "key": 1}),
                ));
                history.push(event(
                    i + 1,
                    to,
                    c,
                    EventType::Ok,
                    "lease_read",
                    reply.clone(),
                ));
            }
            history
        };
        let zero = json!({"type": "lease_read_ok", "value": null, "lease_valid": true, "network_round_trips": 0});
        let all = [(10, 12), (20, 22), (30, 32)];
        let refuted = named(
            &record(reads(&all, &zero), Some(dir.clone())),
            "zero-round-trips",
        );
        assert_eq!(refuted.valid, Validity::Invalid);
        assert!(
            refuted
                .summary
                .contains("sent append_entries to n2 at 0.011 s"),
            "{}",
            refuted.summary
        );
        assert_eq!(refuted.figures["refuted_claims"], 3);
        // The same reads while the machine kept a node waiting for a core: not refuted.
        let mut stalled = reads(&all, &zero);
        let mut stall = crate::history::event::HistoryEvent::new(
            crate::history::Process::Named("harness".into()),
            Some("n1".into()),
            EventType::Info,
            "stall",
            json!({"ms": 25.0}),
        );
        stall.time = 35_000_000;
        stalled.push(stall);
        let excused = named(&record(stalled, Some(dir.clone())), "zero-round-trips");
        assert_eq!(excused.valid, Validity::Valid, "{}", excused.summary);
        assert_eq!(excused.figures["excused_by_stalls"], 3);
        assert!(
            excused
                .summary
                .contains("3 not judged: the machine stalled"),
            "{}",
            excused.summary
        );
        // One refuted claim among many is what a slow node can look like.
        let once = named(
            &record(reads(&all[..1], &zero), Some(dir.clone())),
            "zero-round-trips",
        );
        assert_eq!(once.valid, Validity::Valid);
        assert!(once.summary.contains("coincidence"), "{}", once.summary);
        // The answers came after the replies: no round trip fits inside the reads.
        let quick = [(10, 11), (20, 21), (30, 31)];
        let before = named(
            &record(reads(&quick, &zero), Some(dir.clone())),
            "zero-round-trips",
        );
        assert_eq!(
            (before.valid, &before.figures["refuted_claims"]),
            (Validity::Valid, &json!(0))
        );
        let one = json!({"type": "lease_read_ok", "value": null, "lease_valid": false, "network_round_trips": 1});
        assert_eq!(
            named(
                &record(reads(&all, &one), Some(dir.clone())),
                "zero-round-trips"
            )
            .valid,
            Validity::Valid
        );
        let invalid_zero = json!({"type": "lease_read_ok", "value": null, "lease_valid": false, "network_round_trips": 0});
        assert!(named(
            &record(reads(&[(1, 2)], &invalid_zero), Some(dir.clone())),
            "zero-round-trips"
        )
        .summary
        .contains("must confirm leadership or refuse"));
        assert_eq!(
            named(&record(reads(&all, &zero), None), "zero-round-trips").valid,
            Validity::Unknown
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_stale_lease_read_names_its_server_and_claims() {
        let w = |i, t, kind, body| event(i, t, 1, kind, "write", body);
        let mut history = vec![
            w(
                0,
                1,
                EventType::Invoke,
                json!({"type": "write", "key": 1, "value": 1}),
            ),
            w(1, 2, EventType::Ok, json!({"type": "write_ok"})),
            w(
                2,
                3,
                EventType::Invoke,
                json!({"type": "write", "key": 1, "value": 2}),
            ),
            w(3, 4, EventType::Ok, json!({"type": "write_ok"})),
        ];
        history.push(event(
            4,
            5,
            2,
            EventType::Invoke,
            "lease_read",
            json!({"type": "lease_read", "key": 1}),
        ));
        history.push(event(5, 6, 2, EventType::Ok, "lease_read", json!({"type": "lease_read_ok", "value": 1, "lease_valid": true, "network_round_trips": 0, "lease_remaining_ms": -300})));
        let result = named(&record(history, None), "linearizable");
        assert_eq!(result.valid, Validity::Invalid);
        assert!(
            result.summary.contains("n1 answered it with lease_valid true, 0 round trip(s), 300 ms after its lease ran out"),
            "{}",
            result.summary
        );
        assert_eq!(result.figures["stale_lease_reads"], 1);
        assert_eq!(result.witnesses[0]["served_by"], "n1");
    }
}
