//! Durable state across restarts: a node killed and started again keeps its term and the
//! votes it granted.

use super::{nemesis_events, without_raft_names, Wire};
use crate::check::{CheckResult, Record, Validity};
use crate::contract::Contract;
use crate::history::event::operations;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

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
    for e in nemesis_events(record) {
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
    use super::super::test_support::{line, named_check, nemesis_at, record};
    use super::*;
    use serde_json::Value;

    /// The durable-state check over `lines` and `history` under `contract`.
    fn durable(
        lines: &[Value],
        history: Vec<crate::history::HistoryEvent>,
        contract: Contract,
    ) -> CheckResult {
        let (_dir, mut record) = record(lines);
        record.nodes = ["n1", "n2", "n3"].map(String::from).to_vec();
        record.history = history;
        named_check(&record, contract, 3000.0, "durable-state")
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
        use crate::history::Process;
        let status = |at, kind, body| {
            HistoryEvent::at_ms(at, Process::Client(1), "n2", kind, "raft_status", body)
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
}
