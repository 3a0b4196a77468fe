//! The `unique-ids` check (Jepsen's `unique-ids` checker, as Maelstrom runs it): every id
//! a `generate_ok` carried is distinct from every other, across every node. Ids compare as
//! JSON values ([`crate::check::json::canonical`]). An operation whose outcome eddy could
//! not tell but whose `generate_ok` it did see counts too: that id was handed out. An
//! integer id beyond 2^53 that eddy could only read as a float (`ts << 64 | seq`, say)
//! may stand for two different integers: such a repeat is counted, not judged.

use crate::check::json::canonical;
use crate::check::measure::secs;
use crate::check::{CheckResult, Record};
use crate::history::event::{operations, Operation};
use crate::schema::Catalogue;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Witnesses kept per run at most (the figures count every duplicate).
const MAX_WITNESSES: usize = 20;

/// One id handed out: who handed it out and when.
struct Handed<'a> {
    node: &'a str,
    sent_s: f64,
    done_s: f64,
    index: u64,
}

impl Handed<'_> {
    fn words(&self) -> String {
        format!(
            "{}'s answer at {:.3} s to the generate sent at {:.3} s (history index {})",
            self.node, self.done_s, self.sent_s, self.index
        )
    }
}

/// True when `id` is a number eddy read only approximately: a float beyond 2^53, which
/// integers too large for 64 bits become, so two different ones can read alike.
fn imprecise(id: &Value) -> bool {
    id.is_f64()
        && id
            .as_f64()
            .is_some_and(|x| x.abs() >= 9_007_199_254_740_992.0)
}

/// The id a `generate` got, if its reply was a `generate_ok` carrying one.
fn id_of<'a>(op: &Operation<'a>) -> Option<(&'a Value, Handed<'a>)> {
    let done = op.completion?;
    if done.body["type"] != "generate_ok" {
        return None;
    }
    let handed = Handed {
        node: op.invoke.node.as_deref().unwrap_or("?"),
        sent_s: secs(op.invoke.time),
        done_s: secs(done.time),
        index: done.index,
    };
    Some((done.body.get("id")?, handed))
}

/// The `unique-ids` check, with `schemas` the workload's (a `generate_ok` without an `id`
/// is a witness, never skipped). Unknown when no id was handed out at all.
pub fn unique_ids(record: &Record, schemas: &Catalogue) -> CheckResult {
    let ops = operations(&record.history);
    let generates: Vec<&Operation> = ops.iter().filter(|op| op.invoke.f == "generate").collect();
    // Every id by its canonical text: the first to get it, and how many more did.
    let mut seen: HashMap<String, (Handed, usize)> = HashMap::new();
    let mut witnesses = Vec::new();
    let mut handed_out = 0usize;
    let mut duplicated = 0usize;
    let mut imprecise_repeats = 0usize;
    for op in &generates {
        let Some((id, handed)) = id_of(op) else {
            continue;
        };
        handed_out += 1;
        match seen.get_mut(&canonical(id)) {
            None => {
                seen.insert(canonical(id), (handed, 0));
            }
            Some(_) if imprecise(id) => imprecise_repeats += 1,
            Some((first, again)) => {
                *again += 1;
                duplicated += 1;
                if witnesses.len() < MAX_WITNESSES {
                    witnesses.push(json!({
                        "id": id,
                        "nodes": [first.node, handed.node],
                        "at_s": [first.done_s, handed.done_s],
                        "indices": [first.index, handed.index],
                        "why": format!(
                            "id {id} was handed out twice: in {} and again in {}",
                            first.words(),
                            handed.words()
                        ),
                    }));
                }
            }
        }
    }
    let ids_reused = seen.values().filter(|(_, again)| *again > 0).count();
    let figures = json!({
        "attempted": generates.len(),
        "handed_out": handed_out,
        "distinct": seen.len(),
        "duplicates": duplicated,
        "ids_handed_out_more_than_once": ids_reused,
        "imprecise_repeats": imprecise_repeats,
    });
    let unjudged = crate::check::replies::unjudged(schemas, &ops, &["generate"]);
    if handed_out == 0 && unjudged.is_empty() {
        return CheckResult::not_observed(
            "unique-ids",
            &format!("no id was handed out ({} generate sent)", generates.len()),
            figures,
        );
    }
    let mut result = CheckResult::from_witnesses(
        "unique-ids",
        witnesses,
        figures,
        format!("all {handed_out} ids handed out were distinct"),
    );
    if duplicated > 1 {
        result.summary = format!(
            "{duplicated} ids were handed out again ({ids_reused} distinct ids reused); first: {}",
            result.witnesses[0]["why"].as_str().unwrap_or_default()
        );
    }
    if duplicated == 0 && imprecise_repeats > 0 {
        result = CheckResult::new(
            "unique-ids",
            crate::check::Validity::Unknown,
            format!("{imprecise_repeats} ids repeated, but each is an integer beyond 2^53 that eddy reads only approximately, so they may have been distinct"),
            result.figures,
        );
    }
    result.and_unjudged(unjudged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::traffic::NetSummary;
    use crate::check::Validity;
    use crate::history::{EventType, HistoryEvent, Process};
    use crate::workload::Spec;

    /// A generate on `node` at `ms` answered with `id` (or with `reply` itself when it is
    /// an object with a `type`).
    fn generate(
        ms: u64,
        client: u64,
        node: &str,
        reply: Value,
        kind: EventType,
    ) -> [HistoryEvent; 2] {
        [
            HistoryEvent::at_ms(
                ms,
                Process::Client(client),
                node,
                EventType::Invoke,
                "generate",
                json!({"type": "generate"}),
            ),
            HistoryEvent::at_ms(
                ms + 2,
                Process::Client(client),
                node,
                kind,
                "generate",
                reply,
            ),
        ]
    }

    fn judged(history: Vec<HistoryEvent>) -> CheckResult {
        let mut history = history;
        for (i, e) in history.iter_mut().enumerate() {
            e.index = i as u64;
        }
        let record = Record {
            history,
            net: NetSummary::default(),
            nodes: vec!["n0".into(), "n1".into()],
            dir: None,
        };
        unique_ids(&record, &super::super::UniqueIds.catalogue())
    }

    fn ok(id: Value) -> Value {
        json!({"type": "generate_ok", "id": id, "in_reply_to": 1})
    }

    #[test]
    fn the_same_id_from_two_nodes_is_a_witness_naming_both() {
        let mut history = Vec::new();
        history.extend(generate(
            10,
            1,
            "n0",
            ok(json!({"a": 1, "b": 2})),
            EventType::Ok,
        ));
        history.extend(generate(20, 2, "n1", ok(json!("n1-0")), EventType::Ok));
        let fine = judged(history.clone());
        assert_eq!(fine.valid, Validity::Valid, "{}", fine.summary);
        // The same object with its keys in another order is the same id.
        let again: Value = serde_json::from_str(r#"{"b": 2, "a": 1}"#).unwrap();
        history.extend(generate(30, 1, "n1", ok(again), EventType::Ok));
        let result = judged(history);
        assert_eq!(result.valid, Validity::Invalid);
        assert_eq!(
            result.summary,
            "id {\"b\":2,\"a\":1} was handed out twice: in n0's answer at 0.012 s to the generate sent at 0.010 s (history index 1) and again in n1's answer at 0.032 s to the generate sent at 0.030 s (history index 5)"
        );
        assert_eq!(result.figures["duplicates"], 1);
    }

    #[test]
    fn nothing_handed_out_is_unknown_and_a_missing_id_cannot_be_judged() {
        let timeout = json!({"type": "error", "code": 0, "text": "eddy: no reply within 5000 ms"});
        let none = judged(generate(10, 1, "n0", timeout, EventType::Info).to_vec());
        assert_eq!(none.valid, Validity::Unknown);
        let bare = judged(
            generate(
                10,
                1,
                "n0",
                json!({"type": "generate_ok", "in_reply_to": 1}),
                EventType::Ok,
            )
            .to_vec(),
        );
        assert_eq!(bare.valid, Validity::Invalid, "{}", bare.summary);
    }

    #[test]
    fn integers_too_large_to_read_exactly_are_not_judged_when_they_repeat() {
        // 2^64 + 1 and 2^64 + 2 read as the same float: maybe distinct, so unknown.
        let big = |text: &str| ok(serde_json::from_str::<Value>(text).unwrap());
        let mut history = Vec::new();
        history.extend(generate(
            10,
            1,
            "n0",
            big("18446744073709551617"),
            EventType::Ok,
        ));
        history.extend(generate(
            20,
            2,
            "n1",
            big("18446744073709551618"),
            EventType::Ok,
        ));
        let result = judged(history);
        assert_eq!(result.valid, Validity::Unknown, "{}", result.summary);
        assert_eq!(result.figures["imprecise_repeats"], 1);
        // Exact integers that repeat are still a witness.
        let mut history = Vec::new();
        history.extend(generate(10, 1, "n0", ok(json!(u64::MAX)), EventType::Ok));
        history.extend(generate(20, 2, "n1", ok(json!(u64::MAX)), EventType::Ok));
        assert_eq!(judged(history).valid, Validity::Invalid);
    }
}
