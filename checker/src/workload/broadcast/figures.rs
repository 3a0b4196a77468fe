//! The figures Maelstrom reports for broadcast, the Gossip Glomers targets are written in:
//! node-to-node messages per operation (its net stats' `msgs-per-op` for servers; a node
//! that calls Maelstrom's services has those messages counted too) and the stable
//! latencies of Jepsen's set-full checker.

use super::history::{Read, Sets};
use crate::check::measure::{quantile, stable_latency_ms};
use crate::check::{CheckKind, CheckResult, Record, Validity};
use serde_json::{json, Value};

/// The stable latency of `message`, in ms, by Jepsen's set-full rule ([`stable_latency_ms`]).
/// `None` when some node's final read misses it (not stable) or it was never known.
fn latency_ms(sets: &Sets, finals: &[&Read], message: i64) -> Option<u64> {
    let known = sets.known(message)?;
    if finals.iter().any(|r| !r.messages.contains(&message)) {
        return None;
    }
    let added = sets.broadcasts.get(&message)?.invoked;
    let missed_by = sets
        .reads
        .iter()
        .filter(|r| !r.messages.contains(&message))
        .map(Read::span);
    Some(stable_latency_ms(known, added, missed_by))
}

/// Figures only (never a verdict): messages per operation and stable latencies, with the
/// machine's stalls beside them, so that a loaded machine's latencies are not read as the
/// node's.
pub fn figures(sets: &Sets, record: &Record) -> CheckResult {
    let finals: Vec<&Read> = sets.final_reads().into_values().collect();
    let mut latencies: Vec<u64> = if finals.is_empty() {
        Vec::new()
    } else {
        sets.broadcasts
            .keys()
            .filter_map(|&m| latency_ms(sets, &finals, m))
            .collect()
    };
    latencies.sort_unstable();
    let at = |q: f64| -> Value { json!(quantile(&latencies, q)) };
    let stale = latencies.iter().filter(|&&l| l > 0).count();
    let per_op = record.net.sent() as f64 / sets.operations.max(1) as f64;
    let per_op = (per_op * 1000.0).round() / 1000.0;
    let stalls = crate::check::lag::figures(record);
    let figures = json!({
        "node_messages": record.net.sent(),
        "operations": sets.operations,
        "msgs_per_op": per_op,
        "stable_count": latencies.len(),
        "stale_count": stale,
        "stable_latency_ms": {
            "p0": at(0.0), "p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": at(1.0),
        },
        "stalls": stalls,
    });
    let summary = format!(
        "{per_op:.1} node messages per operation ({} messages, {} broadcasts and reads); stable latency p50 {} ms, p95 {} ms, max {} ms over {} messages; the machine stalled eddy or a node for {} ms",
        record.net.sent(),
        sets.operations,
        at(0.5),
        at(0.95),
        at(1.0),
        latencies.len(),
        figures["stalls"]["stalled_ms"],
    );
    CheckResult::new("broadcast-figures", Validity::Valid, summary, figures).about(CheckKind::Stats)
}
