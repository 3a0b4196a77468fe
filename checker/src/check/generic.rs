//! Checks every run gets, whatever the workload: operation statistics (counts,
//! availability, latency quantiles, messages per operation), the availability floor, client
//! replies against their schemas, node crashes, output lines that were not protocol
//! messages, and messages to destinations that do not exist.

use super::{CheckResult, Record, Validity};
use crate::history::event::{operations, EventType};
use crate::protocol::MAELSTROM_SERVICES;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// All generic checks; `min_share` is the share of operations that must succeed.
pub fn check(
    record: &Record,
    min_share: f64,
    schemas: &crate::schema::Catalogue,
) -> Vec<CheckResult> {
    vec![
        super::availability::availability(record, min_share, schemas),
        super::replies::reply_schema(record, schemas),
        stats(record),
        crashes(record),
        protocol(record),
        destinations(record),
    ]
}

/// Messages to destinations that are no node, client or service of the run: invalid, with
/// the destination, the count and the first sender. Messages to Maelstrom's services are
/// unaddressed only in runs recorded before eddy provided them: those make the run
/// unknown (such a node could not be judged).
pub fn destinations(record: &Record) -> CheckResult {
    let unknown = &record.net.unknown_destinations;
    let mut invalid = false;
    let witnesses: Vec<Value> = unknown
        .iter()
        .map(|(dest, u)| {
            let sent = format!(
                "{} sent {} message(s) to `{dest}` (first at {:.3} s)",
                u.first_from, u.count, u.first_at_s
            );
            let why = if MAELSTROM_SERVICES.contains(&dest.as_str()) {
                format!("{sent}: eddy provided no `{dest}` service when this run was recorded, so a node built on it cannot be judged")
            } else {
                invalid = true;
                format!("{sent}, which is no node or client of this run")
            };
            json!({"dest": dest, "count": u.count, "why": why})
        })
        .collect();
    let figures = json!({"unknown_destinations": unknown});
    let mut result = CheckResult::from_witnesses(
        "destinations",
        witnesses,
        figures,
        format!(
            "{} node messages, all to nodes, clients and services of the run",
            record.net.sent()
        ),
    );
    if result.valid == Validity::Invalid && !invalid {
        result.valid = Validity::Unknown;
    }
    result
}

/// Counts by operation and outcome, availability, latency quantiles of ok operations,
/// and node-to-node messages per client operation (Maelstrom's measure). Never invalid.
pub fn stats(record: &Record) -> CheckResult {
    let ops = operations(&record.history);
    let mut counts: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    let mut latencies = Vec::new();
    for op in &ops {
        let outcome = match op.outcome() {
            EventType::Ok => "ok",
            EventType::Fail => "fail",
            _ => "info",
        };
        *counts
            .entry(op.invoke.f.as_str())
            .or_default()
            .entry(outcome)
            .or_insert(0) += 1;
        if let (EventType::Ok, Some(done)) = (op.outcome(), op.completion) {
            latencies.push((done.time - op.invoke.time) as f64 / 1e6);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let total = ops.len() as u64;
    let ok = latencies.len() as u64;
    let availability = if total == 0 {
        1.0
    } else {
        ok as f64 / total as f64
    };
    let per_op = if total == 0 {
        0.0
    } else {
        record.net.sent() as f64 / total as f64
    };
    let figures = json!({
        "operations": total,
        "by_f": counts,
        "availability": round3(availability),
        "latency_ms": {
            "p50": quantile(&latencies, 0.50), "p95": quantile(&latencies, 0.95),
            "p99": quantile(&latencies, 0.99), "max": latencies.last().copied().map(round3),
        },
        "node_messages": record.net.sent(),
        "messages_per_op": round3(per_op),
        "dropped": record.net.dropped,
        "stalls": super::lag::figures(record),
    });
    let stalled = figures["stalls"]["stalled_ms"].as_f64().unwrap_or(0.0);
    let summary = format!(
        "{total} operations, {:.1}% ok, p50 {} ms, {per_op:.1} node messages per operation; the machine stalled eddy or a node for {stalled} ms",
        availability * 100.0,
        quantile(&latencies, 0.5).map_or("-".into(), |v| v.to_string())
    );
    CheckResult::new("stats", Validity::Valid, summary, figures)
}

/// A node that exited without being told to is a failure: the witnesses name it, when,
/// how it ended and its last stderr lines.
pub fn crashes(record: &Record) -> CheckResult {
    let crashes: Vec<Value> = record
        .history
        .iter()
        .filter(|e| e.f == "crash")
        .map(|e| json!({"node": e.node, "time_s": e.time as f64 / 1e9, "detail": e.body}))
        .collect();
    let valid = if crashes.is_empty() {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let starts = record.nodes.len()
        + record
            .history
            .iter()
            .filter(|e| e.f == "restart" && e.client().is_none())
            .count();
    let summary = match crashes.first() {
        None => format!("no node crashed ({starts} node starts, restarts included)"),
        Some(first) => format!(
            "{} node crash(es); first: {} at {:.3} s, {}",
            crashes.len(),
            first["node"].as_str().unwrap_or("?"),
            first["time_s"].as_f64().unwrap_or(0.0),
            first["detail"]["exit"].as_str().unwrap_or("exited")
        ),
    };
    let mut result = CheckResult::new("crashes", valid, summary, json!({"crashes": crashes.len()}));
    result.witnesses = crashes;
    result
}

/// Every line a node writes must be a message (UTF-8 JSON envelope of at most 1 MiB).
pub fn protocol(record: &Record) -> CheckResult {
    let invalid = record.net.invalid;
    let valid = if invalid == 0 {
        Validity::Valid
    } else {
        Validity::Invalid
    };
    let replies = record
        .history
        .iter()
        .filter(|e| e.client().is_some() && e.body.get("in_reply_to").is_some())
        .count();
    let summary = match record.net.invalid_examples.first() {
        None => format!(
            "every output line was a message ({} to nodes and elsewhere, {replies} client replies)",
            record.net.sent()
                + record
                    .net
                    .dropped
                    .get(super::traffic::UNKNOWN_DESTINATION)
                    .unwrap_or(&0)
        ),
        Some(first) => format!(
            "{invalid} output line(s) were not messages; first from {}: {}",
            first["node"].as_str().unwrap_or("?"),
            first["problem"].as_str().unwrap_or("?")
        ),
    };
    let mut result = CheckResult::new(
        "protocol",
        valid,
        summary,
        json!({"invalid_lines": invalid}),
    );
    result.witnesses = record.net.invalid_examples.clone();
    result
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    Some(round3(sorted[i]))
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
