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

/// A node that exited without being told to is a failure: each witness says first, in
/// words, which node, how it ended and when, and its last stderr lines (`why`); then the
/// same as fields for machines.
pub fn crashes(record: &Record) -> CheckResult {
    let crashes: Vec<Value> = record
        .history
        .iter()
        .filter(|e| e.f == "crash")
        .map(|e| {
            let time_s = e.time as f64 / 1e9;
            json!({
                "why": crash_why(e.node.as_deref(), time_s, &e.body),
                "node": e.node,
                "time_s": time_s,
                "detail": e.body,
            })
        })
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
        Some(first) => {
            let exit = first["detail"]["exit"].as_str().unwrap_or("exited");
            let who = first["node"]
                .as_str()
                .map_or(String::new(), |n| format!("{n} "));
            format!(
                "{} node crash(es); first: {who}{exit} at {:.1} s",
                crashes.len(),
                first["time_s"].as_f64().unwrap_or(0.0),
            )
        }
    };
    let mut result = CheckResult::new("crashes", valid, summary, json!({"crashes": crashes.len()}));
    result.witnesses = crashes;
    result
}

/// How many of a crashed node's last stderr lines its witness quotes.
const CRASH_STDERR_LINES: usize = 3;

/// A crash in one sentence: "n3 exited with code 1 at 2.4 s (not killed by eddy); its last
/// stderr lines: ... (its whole stderr in node-logs/n3.log)". `detail` is the crash event's
/// body: `exit` in words and the `stderr` tail.
fn crash_why(node: Option<&str>, time_s: f64, detail: &Value) -> String {
    let exit = detail["exit"].as_str().unwrap_or("exited");
    let Some(node) = node else {
        return format!("{exit} at {time_s:.1} s");
    };
    let stderr: Vec<&str> = detail["stderr"]
        .as_array()
        .map(|lines| lines.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let tail = match stderr.len() {
        0 => "; it wrote nothing to stderr".to_owned(),
        n => format!(
            "; its last stderr line{}: {} (its whole stderr in node-logs/{node}.log)",
            if n.min(CRASH_STDERR_LINES) == 1 {
                ""
            } else {
                "s"
            },
            stderr[n.saturating_sub(CRASH_STDERR_LINES)..].join(" | ")
        ),
    };
    // A limit of the sandbox's stopped it: eddy's doing, but the node's fault.
    let by = if detail["stopped_by_sandbox"] == true {
        "stopped by eddy's sandbox"
    } else {
        "not killed by eddy"
    };
    format!("{node} {exit} at {time_s:.1} s ({by}){tail}")
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

#[cfg(test)]
mod tests {
    use super::crash_why;
    use serde_json::json;

    #[test]
    fn a_crash_is_told_in_words_with_its_last_stderr_lines() {
        let detail = json!({"exit": "was killed by signal 6 (SIGABRT)", "stderr": ["a", "b", "c", "panicked at x"]});
        assert_eq!(
            crash_why(Some("n3"), 2.42, &detail),
            "n3 was killed by signal 6 (SIGABRT) at 2.4 s (not killed by eddy); its last stderr lines: b | c | panicked at x (its whole stderr in node-logs/n3.log)"
        );
        let silent = json!({"exit": "exited with code 1", "stderr": []});
        assert_eq!(
            crash_why(Some("n1"), 0.3, &silent),
            "n1 exited with code 1 at 0.3 s (not killed by eddy); it wrote nothing to stderr"
        );
        // The sandbox's stop is said so by the event's flag, whatever its words.
        let stopped = json!({"exit": "exceeded its 64 MiB memory limit", "stderr": [], "stopped_by_sandbox": true});
        assert!(
            crash_why(Some("n0"), 1.0, &stopped).contains("at 1.0 s (stopped by eddy's sandbox)")
        );
        let told = json!({"exit": "exceeded its 64 MiB memory limit", "stderr": []});
        assert!(crash_why(Some("n0"), 1.0, &told).contains("(not killed by eddy)"));
    }
}
