//! The g-set's check, `set-full`: Jepsen's `set-full` checker as Maelstrom runs it, with
//! eddy's stricter reading of its final reads.
//!
//! An element is *known* from the moment its add was acknowledged or a read first returned
//! it, whichever came first. Invalid when:
//! - a known element is missing from the final read of some node invoked after it was known
//!   (*lost*: Jepsen asks this of the last read only; eddy reads every node once every
//!   fault healed and the nodes converged, and asks it of each);
//! - a read returns an element no add had asked for by the time the read completed
//!   (*unexpected*);
//! - a read returns an element twice (*duplicated*: a set holds it once).
//!
//! Unknown when no element was stable (in every read after some moment: nothing was
//! judged), or a node could not be read at the end. Figures as Jepsen's: the stable
//! latency of each element (from known to just after the invocation of the last read that
//! missed it, of those completed after its add was invoked: see
//! [`crate::check::measure::stable_latency_ms`]), its quantiles, and the stale elements
//! (latency above 0) with the worst of them.

use crate::check::json::canonical;
use crate::check::measure::{quantile, secs, stable_latency_ms, ReadSpan};
use crate::check::{CheckResult, Record, Validity};
use crate::history::event::{operations, EventType, Operation};
use crate::schema::{list_or_null, Catalogue};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Witnesses kept per kind of anomaly (the figures count them all).
const MAX_WITNESSES: usize = 10;

/// What is known of one element.
struct Element {
    /// The element as the add sent it.
    value: Value,
    /// When its first add was invoked.
    first_add: u64,
    /// When it became known, and how (words).
    known: Option<(u64, String)>,
}

/// One successful read.
struct Read<'a> {
    node: &'a str,
    span: ReadSpan,
    is_final: bool,
    texts: HashSet<String>,
}

/// The `set-full` check, with `schemas` the workload's (a `read_ok` whose `value` is no
/// list is a witness, never skipped).
pub fn set_full(record: &Record, schemas: &Catalogue) -> CheckResult {
    let ops = operations(&record.history);
    let mut elements = adds(&ops);
    let mut witnesses = Vec::new();
    let reads = reads(&ops, &elements, &mut witnesses);
    for read in &reads {
        for text in &read.texts {
            if let Some(e) = elements.get_mut(text) {
                if e.known.as_ref().is_none_or(|(t, _)| read.span.done < *t) {
                    let how = format!("read on {} at {:.3} s", read.node, secs(read.span.done));
                    e.known = Some((read.span.done, how));
                }
            }
        }
    }
    let finals: Vec<&Read> = reads.iter().filter(|r| r.is_final).collect();
    let unread = unread_nodes(&ops, record);
    let mut lost = 0usize;
    let mut stable_ms: Vec<(u64, &Value)> = Vec::new();
    let mut never_read = 0usize;
    for (text, e) in &elements {
        let Some((known, how)) = &e.known else {
            never_read += 1;
            continue;
        };
        let missing: Vec<&&Read> = finals
            .iter()
            .filter(|r| r.span.invoked > *known && !r.texts.contains(text))
            .collect();
        if !missing.is_empty() {
            lost += 1;
            if witnesses.len() < 3 * MAX_WITNESSES {
                witnesses.push(lost_witness(&e.value, how, &missing));
            }
            continue;
        }
        if !reads.iter().any(|r| r.span.invoked > *known) {
            never_read += 1;
            continue;
        }
        let missed_by = reads
            .iter()
            .filter(|r| !r.texts.contains(text))
            .map(|r| r.span);
        let latency = stable_latency_ms(*known, e.first_add, missed_by);
        stable_ms.push((latency, &e.value));
    }
    let figures = figures(&elements, &stable_ms, lost, never_read, &finals, &unread);
    let stable = stable_ms.len();
    let unjudged = crate::check::replies::unjudged(schemas, &ops, &["read"]);
    let result = if !witnesses.is_empty() {
        CheckResult::from_witnesses("set-full", witnesses, figures, String::new())
    } else if !unread.is_empty() || finals.is_empty() {
        let who = if unread.is_empty() {
            "any node".to_owned()
        } else {
            unread.join(", ")
        };
        CheckResult::new(
            "set-full",
            Validity::Unknown,
            format!("no final read from {who}"),
            figures,
        )
    } else if stable == 0 {
        CheckResult::not_observed(
            "set-full",
            &format!("no element was stable ({} adds attempted)", elements.len()),
            figures,
        )
    } else {
        let summary = format!(
            "all {} known elements are in every node's final read; stable latency p50 {} ms, max {} ms; {} stale",
            stable, figures["stable_latencies"]["0.5"], figures["stable_latencies"]["1"], figures["stale_count"]
        );
        CheckResult::new("set-full", Validity::Valid, summary, figures)
    };
    result.and_unjudged(unjudged)
}

/// Every element an add asked for, by canonical text, with when it was first asked for
/// and when an add of it was first acknowledged.
fn adds(ops: &[Operation]) -> BTreeMap<String, Element> {
    let mut elements: BTreeMap<String, Element> = BTreeMap::new();
    for op in ops.iter().filter(|op| op.invoke.f == "add") {
        let Some(value) = op.invoke.body.get("element") else {
            continue;
        };
        let e = elements.entry(canonical(value)).or_insert(Element {
            value: value.clone(),
            first_add: op.invoke.time,
            known: None,
        });
        e.first_add = e.first_add.min(op.invoke.time);
        if let (EventType::Ok, Some(done)) = (op.outcome(), op.completion) {
            if e.known.as_ref().is_none_or(|(t, _)| done.time < *t) {
                let node = op.invoke.node.as_deref().unwrap_or("?");
                let how = format!("acknowledged by {node} at {:.3} s", secs(done.time));
                e.known = Some((done.time, how));
            }
        }
    }
    elements
}

/// Every successful read whose value is a list, with its anomalies (duplicates, elements
/// no add had asked for) pushed to `witnesses`.
fn reads<'a>(
    ops: &[Operation<'a>],
    elements: &BTreeMap<String, Element>,
    witnesses: &mut Vec<Value>,
) -> Vec<Read<'a>> {
    let (mut duplicated, mut unexpected) = (0, 0);
    let mut reads = Vec::new();
    for op in ops.iter().filter(|op| op.invoke.f == "read") {
        let (EventType::Ok, Some(done)) = (op.outcome(), op.completion) else {
            continue;
        };
        let Some(items) = list_or_null(&done.body["value"]) else {
            continue;
        };
        let node = op.invoke.node.as_deref().unwrap_or("?");
        let mut counts: HashMap<String, usize> = HashMap::new();
        for item in items {
            *counts.entry(canonical(item)).or_insert(0) += 1;
        }
        let at = secs(done.time);
        for (text, n) in &counts {
            if *n > 1 {
                duplicated += 1;
                if duplicated <= MAX_WITNESSES {
                    witnesses.push(json!({"node": node, "at_s": at, "element": text, "times": n,
                        "why": format!("read on {node} at {at:.3} s returned {text} {n} times: a set holds an element once")}));
                }
            }
            if elements.get(text).is_none_or(|e| e.first_add > done.time) {
                unexpected += 1;
                if unexpected <= MAX_WITNESSES {
                    witnesses.push(json!({"node": node, "at_s": at, "element": text,
                        "why": format!("read on {node} at {at:.3} s returned {text}, which no add had asked for by then")}));
                }
            }
        }
        reads.push(Read {
            node,
            span: ReadSpan {
                index: op.invoke.index,
                invoked: op.invoke.time,
                done: done.time,
            },
            is_final: op.invoke.phase.as_deref() == Some("final"),
            texts: counts.into_keys().collect(),
        });
    }
    reads
}

/// The nodes with no successful final read.
fn unread_nodes(ops: &[Operation], record: &Record) -> Vec<String> {
    let read: HashSet<&str> = ops
        .iter()
        .filter(|op| op.invoke.f == "read" && op.invoke.phase.as_deref() == Some("final"))
        .filter(|op| op.outcome() == EventType::Ok)
        .filter_map(|op| op.invoke.node.as_deref())
        .collect();
    record
        .nodes
        .iter()
        .filter(|n| !read.contains(n.as_str()))
        .cloned()
        .collect()
}

/// The witness of an element known (`how`) and missing from the final reads `missing`.
fn lost_witness(value: &Value, how: &str, missing: &[&&Read]) -> Value {
    let nodes: Vec<&str> = missing.iter().map(|r| r.node).collect();
    let reads: Vec<String> = missing
        .iter()
        .map(|r| format!("{} (invoked at {:.3} s)", r.node, secs(r.span.invoked)))
        .collect();
    json!({"element": value, "nodes": nodes,
        "why": format!("element {value}, {how}, is missing from the final read of {}: an add the cluster acknowledged must reach every node once faults heal", reads.join(", "))})
}

/// Jepsen's figures: counts, stable-latency quantiles, the worst stale elements.
fn figures(
    elements: &BTreeMap<String, Element>,
    stable_ms: &[(u64, &Value)],
    lost: usize,
    never_read: usize,
    finals: &[&Read],
    unread: &[String],
) -> Value {
    let mut latencies: Vec<u64> = stable_ms.iter().map(|(ms, _)| *ms).collect();
    latencies.sort_unstable();
    let quantiles: serde_json::Map<String, Value> = [0.0, 0.5, 0.95, 0.99, 1.0]
        .iter()
        .filter_map(|&p| Some((p.to_string(), quantile(&latencies, p)?.into())))
        .collect();
    let mut stale: Vec<&(u64, &Value)> = stable_ms.iter().filter(|(ms, _)| *ms > 0).collect();
    stale.sort_by_key(|s| std::cmp::Reverse(s.0));
    let worst: Vec<Value> = stale
        .iter()
        .take(8)
        .map(|(ms, v)| json!({"element": v, "stable_latency_ms": ms}))
        .collect();
    json!({
        "attempt_count": elements.len(),
        "acknowledged": elements.values().filter(|e| e.known.as_ref().is_some_and(|(_, how)| how.starts_with("acknowledged"))).count(),
        "stable_count": stable_ms.len(),
        "lost_count": lost,
        "never_read_count": never_read,
        "stale_count": stale.len(),
        "worst_stale": worst,
        "stable_latencies": quantiles,
        "final_reads": finals.len(),
        "unread_nodes": unread,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::traffic::NetSummary;
    use crate::history::{HistoryEvent, Process};
    use crate::workload::Spec;

    fn op(ms: u64, client: u64, node: &str, request: Value, reply: Value) -> [HistoryEvent; 2] {
        let f = request["type"].as_str().unwrap().to_owned();
        [
            HistoryEvent::at_ms(
                ms,
                Process::Client(client),
                node,
                EventType::Invoke,
                &f,
                request,
            ),
            HistoryEvent::at_ms(
                ms + 2,
                Process::Client(client),
                node,
                EventType::Ok,
                &f,
                reply,
            ),
        ]
    }

    fn add(ms: u64, node: &str, element: i64) -> [HistoryEvent; 2] {
        op(
            ms,
            1,
            node,
            json!({"type": "add", "element": element}),
            json!({"type": "add_ok", "in_reply_to": 1}),
        )
    }

    fn read(ms: u64, node: &str, value: Value, is_final: bool) -> [HistoryEvent; 2] {
        let mut events = op(
            ms,
            2,
            node,
            json!({"type": "read"}),
            json!({"type": "read_ok", "value": value, "in_reply_to": 1}),
        );
        if is_final {
            events[0].phase = Some("final".into());
        }
        events
    }

    fn judged(parts: Vec<[HistoryEvent; 2]>) -> CheckResult {
        let record = Record {
            history: parts.into_iter().flatten().collect(),
            net: NetSummary::default(),
            nodes: vec!["n0".into(), "n1".into()],
            dir: None,
        };
        set_full(&record, &super::super::GSet.catalogue())
    }

    #[test]
    fn every_known_element_in_every_final_read_is_valid_with_its_latency() {
        let result = judged(vec![
            add(0, "n0", 1),
            read(10, "n1", json!([]), false),
            add(20, "n1", 2),
            read(100, "n0", json!([2, 1]), true),
            read(100, "n1", json!([1, 2]), true),
        ]);
        assert_eq!(result.valid, Validity::Valid, "{}", result.summary);
        // Element 1 was known at 2 ms and missed by the read invoked at 10 ms: stale 8 ms.
        assert_eq!(result.figures["stale_count"], 1);
        assert_eq!(result.figures["worst_stale"][0]["stable_latency_ms"], 8);
    }

    #[test]
    fn lost_unexpected_and_duplicated_elements_are_witnesses() {
        let result = judged(vec![
            add(0, "n0", 1),
            add(5, "n0", 2),
            read(100, "n0", json!([1, 2]), true),
            read(100, "n1", json!([2, 2, 7]), true),
        ]);
        assert_eq!(result.valid, Validity::Invalid);
        let whys: Vec<&str> = result
            .witnesses
            .iter()
            .filter_map(|w| w["why"].as_str())
            .collect();
        assert!(
            whys.contains(&"read on n1 at 0.102 s returned 2 2 times: a set holds an element once"),
            "{whys:?}"
        );
        assert!(
            whys.contains(&"read on n1 at 0.102 s returned 7, which no add had asked for by then"),
            "{whys:?}"
        );
        assert!(whys.contains(&"element 1, acknowledged by n0 at 0.002 s, is missing from the final read of n1 (invoked at 0.100 s): an add the cluster acknowledged must reach every node once faults heal"), "{whys:?}");
    }

    #[test]
    fn a_node_never_read_at_the_end_is_unknown() {
        let result = judged(vec![add(0, "n0", 1), read(100, "n0", json!([1]), true)]);
        assert_eq!(result.valid, Validity::Unknown, "{}", result.summary);
    }
}
