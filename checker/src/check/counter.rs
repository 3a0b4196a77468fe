//! The PN-counter's safety check (SPEC 3.5): every node's final read lies in the set of
//! sums possible from acknowledged adds plus any subset of adds whose outcome is unknown,
//! and all nodes agree.

use super::{CheckResult, Record, Validity};
use crate::history::event::{operations, EventType};
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Past this many distinct possible sums, the check keeps only their range (and says so).
const MAX_EXACT_SUMS: usize = 200_000;

/// The sums an unknown subset of `deltas` can add: exact while small, else a range.
#[derive(Debug, Clone, PartialEq)]
pub enum Possible {
    /// Every achievable sum.
    Exact(BTreeSet<i64>),
    /// Too many to list: every sum lies in `[lo, hi]` (not every value in it is achievable).
    Range(i64, i64),
}

impl Possible {
    /// All subset sums of `deltas`.
    pub fn of(deltas: &[i64]) -> Possible {
        let mut sums = BTreeSet::from([0i64]);
        for &d in deltas {
            let shifted: Vec<i64> = sums.iter().map(|s| s.saturating_add(d)).collect();
            sums.extend(shifted);
            if sums.len() > MAX_EXACT_SUMS {
                let lo = deltas.iter().filter(|d| **d < 0).sum();
                let hi = deltas.iter().filter(|d| **d > 0).sum();
                return Possible::Range(lo, hi);
            }
        }
        Possible::Exact(sums)
    }

    fn contains(&self, v: i64) -> bool {
        match self {
            Possible::Exact(s) => s.contains(&v),
            Possible::Range(lo, hi) => (*lo..=*hi).contains(&v),
        }
    }

    fn describe(&self, base: i64) -> String {
        match self {
            Possible::Exact(s) if s.len() <= 8 => {
                format!("{:?}", s.iter().map(|v| base + v).collect::<Vec<_>>())
            }
            Possible::Exact(s) => format!(
                "{} values from {} to {}",
                s.len(),
                base + s.first().unwrap(),
                base + s.last().unwrap()
            ),
            Possible::Range(lo, hi) => format!("somewhere from {} to {}", base + lo, base + hi),
        }
    }
}

/// The final-value check.
pub fn final_value(record: &Record) -> CheckResult {
    let ops = operations(&record.history);
    let mut acknowledged = 0i64;
    let mut unknown = Vec::new();
    for op in ops.iter().filter(|op| op.invoke.f == "add") {
        let delta = op.invoke.body["delta"].as_i64().unwrap_or(0);
        match op.outcome() {
            EventType::Ok => acknowledged += delta,
            EventType::Info => unknown.push(delta),
            _ => {}
        }
    }
    let possible = Possible::of(&unknown);
    let finals: Vec<_> = ops
        .iter()
        .filter(|op| op.invoke.f == "read" && op.invoke.phase.as_deref() == Some("final"))
        .collect();
    let mut witnesses = Vec::new();
    let mut values = BTreeSet::new();
    let mut unread = Vec::new();
    for op in &finals {
        let node = op.invoke.node.clone().unwrap_or_default();
        match (
            op.outcome(),
            op.completion.and_then(|c| c.body["value"].as_i64()),
        ) {
            (EventType::Ok, Some(value)) => {
                values.insert(value);
                if !possible.contains(value - acknowledged) {
                    witnesses.push(json!({
                        "node": node,
                        "read": value,
                        "at_s": op.completion.map(|c| c.time as f64 / 1e9),
                        "acknowledged_sum": acknowledged,
                        "unknown_adds": unknown.len(),
                        "possible": possible.describe(acknowledged),
                        "why": format!("final read on {node} returned {value}, but acknowledged adds sum to {acknowledged} and the {} adds of unknown outcome allow only {}", unknown.len(), possible.describe(acknowledged)),
                    }));
                }
            }
            _ => unread.push(node),
        }
    }
    if values.len() > 1 {
        witnesses.push(json!({"why": format!("nodes disagree after the quiet period: final reads {values:?}")}));
    }
    let figures = json!({
        "acknowledged_sum": acknowledged, "unknown_adds": unknown.len(), "final_reads": finals.len(),
        "final_values": values, "unread_nodes": unread, "exact": matches!(possible, Possible::Exact(_)),
    });
    let (valid, summary) = if let Some(first) = witnesses.first() {
        (
            Validity::Invalid,
            first["why"].as_str().unwrap_or_default().to_owned(),
        )
    } else if finals.is_empty() || !unread.is_empty() {
        (
            Validity::Unknown,
            format!(
                "no final read from {}",
                if unread.is_empty() {
                    "any node".into()
                } else {
                    unread.join(", ")
                }
            ),
        )
    } else {
        (
            Validity::Valid,
            format!(
                "all {} nodes read {} (acknowledged {acknowledged}, {} adds unknown)",
                finals.len(),
                values.first().copied().map(Value::from).unwrap_or_default(),
                unknown.len()
            ),
        )
    };
    CheckResult {
        name: "final-value".into(),
        kind: crate::check::CheckKind::of("final-value"),
        valid,
        summary,
        witnesses,
        figures,
    }
    .and_unjudged(super::replies::unjudged(&ops, &["read"]))
}

/// Convergence time, measured by eddy after every round of adds and after the last one
/// (see `sim::probe`): a liveness check, judged against `target_ms` separately from the
/// safety of the final value.
pub fn convergence(record: &Record, target_ms: f64) -> CheckResult {
    let events: Vec<&crate::history::HistoryEvent> = record
        .history
        .iter()
        .filter(|e| e.f == "convergence")
        .collect();
    // What a measurement charges the nodes: its length less the time the machine stalled
    // eddy or a node within it.
    let charged = |e: &crate::history::HistoryEvent| -> Option<f64> {
        let ms = e.body["ms"].as_f64()?;
        let end = e.time as f64 / 1e9;
        let stalled = super::lag::stalled_within(record, end - ms / 1000.0, end) * 1000.0;
        Some(((ms - stalled).max(0.0) * 1000.0).round() / 1000.0)
    };
    let mut samples: Vec<f64> = events.iter().filter_map(|e| charged(e)).collect();
    let timed_out: Vec<Value> = events
        .iter()
        .filter(|e| e.body["timed_out"] == true)
        .map(|e| json!({"at_s": e.time as f64 / 1e9, "reason": e.body["reason"], "last_values": e.body["last_values"],
            "why": format!("after {} the nodes still disagreed when eddy stopped waiting at {:.1} s; last reads {}", moment(&e.body["reason"]), e.time as f64 / 1e9, e.body["last_values"])}))
        .collect();
    let skipped = events
        .iter()
        .filter(|e| e.body.get("skipped").is_some())
        .count();
    samples.sort_by(f64::total_cmp);
    let q = |p: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * p).round() as usize)
            .copied()
    };
    let slow: Vec<Value> = events
        .iter()
        .filter_map(|e| Some((e, charged(e)?)))
        .filter(|(_, ms)| *ms > target_ms)
        .map(|(e, ms)| json!({"at_s": e.time as f64 / 1e9, "ms": ms, "measured_ms": e.body["ms"], "reason": e.body["reason"],
            "why": format!("convergence took {ms} ms after {} at {:.1} s (target {target_ms} ms{})", moment(&e.body["reason"]), e.time as f64 / 1e9,
                if e.body["ms"].as_f64() == Some(ms) { String::new() } else { format!("; {} ms measured, less the machine's stalls", e.body["ms"]) })}))
        .collect();
    let figures = json!({
        "measurements": samples.len(), "p50_ms": q(0.5), "p95_ms": q(0.95), "max_ms": samples.last(),
        "timed_out": timed_out.len(), "skipped_during_faults": skipped, "target_ms": target_ms,
    });
    let describe = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.0}"));
    let (valid, summary) = if !timed_out.is_empty() {
        (
            Validity::Invalid,
            format!(
                "liveness: {} measurement(s) never converged; first: {}",
                timed_out.len(),
                timed_out[0]["why"].as_str().unwrap_or_default()
            ),
        )
    } else if !slow.is_empty() {
        (
            Validity::Invalid,
            format!(
                "liveness: {} of {} convergence times over the {target_ms} ms target; max {} ms",
                slow.len(),
                samples.len(),
                describe(q(1.0))
            ),
        )
    } else if samples.is_empty() {
        (
            Validity::Unknown,
            format!("not observed: no quiet moment to measure convergence in ({skipped} skipped during faults)"),
        )
    } else {
        (
            Validity::Valid,
            format!(
                "{} measurements: p50 {} ms, p95 {} ms, max {} ms (target {target_ms} ms)",
                samples.len(),
                describe(q(0.5)),
                describe(q(0.95)),
                describe(q(1.0))
            ),
        )
    };
    let mut witnesses = timed_out;
    witnesses.extend(slow);
    CheckResult {
        name: "convergence".into(),
        kind: crate::check::CheckKind::of("convergence"),
        valid,
        summary,
        witnesses,
        figures,
    }
}

/// Words for the moment a convergence measurement started.
fn moment(reason: &Value) -> &'static str {
    match reason.as_str() {
        Some("end") => "the last add and the final healing",
        _ => "a round of adds",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_sums_are_exact_while_small() {
        assert_eq!(Possible::of(&[]), Possible::Exact(BTreeSet::from([0])));
        assert_eq!(
            Possible::of(&[2, -1]),
            Possible::Exact(BTreeSet::from([-1, 0, 1, 2]))
        );
        let many: Vec<i64> = (0..40).map(|i| 1 << (i % 30)).collect();
        assert!(matches!(Possible::of(&many), Possible::Range(0, _)));
    }
}
