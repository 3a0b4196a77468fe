//! Convergence of replicas, measured by eddy (see `sim::probe`): after every round of
//! operations and after the last one, eddy polls every node from `c0` until they answer
//! alike, and records how long that took as a `convergence` event. This check judges those
//! measurements against a target, apart from safety: the counters (`pn-counter`,
//! `g-counter`) and `g-set` use it, all three workloads whose writes are `add`s (hence the
//! words "a round of adds").

use super::{CheckResult, Record, Validity};
use serde_json::{json, Value};

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
        let stalled = crate::check::lag::stalled_within(record, end - ms / 1000.0, end) * 1000.0;
        Some(((ms - stalled).max(0.0) * 1000.0).round() / 1000.0)
    };
    let mut samples: Vec<f64> = events
        .iter()
        .filter(|e| e.body["timed_out"] != true)
        .filter_map(|e| charged(e))
        .collect();
    // A measurement that timed out, but for which the machine's stalls left the nodes no
    // more than the target to agree in, proves nothing either way (stores from before the
    // waited time was recorded have none, and count as timed out).
    let starved = |e: &&&crate::history::HistoryEvent| {
        e.body["timed_out"] == true && charged(e).is_some_and(|ms| ms <= target_ms)
    };
    let stalled_out = events.iter().filter(starved).count();
    let timed_out: Vec<Value> = events
        .iter()
        .filter(|e| e.body["timed_out"] == true && !starved(e))
        .map(|e| json!({"at_s": e.time as f64 / 1e9, "reason": e.body["reason"], "last_values": e.body["last_values"],
            "why": format!("after {} the nodes still disagreed when eddy stopped waiting at {:.1} s; last reads {}", moment(&e.body["reason"]), e.time as f64 / 1e9, last_reads(&e.body["last_values"]))}))
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
        .filter(|e| e.body["timed_out"] != true)
        .filter_map(|e| Some((e, charged(e)?)))
        .filter(|(_, ms)| *ms > target_ms)
        .map(|(e, ms)| json!({"at_s": e.time as f64 / 1e9, "ms": ms, "measured_ms": e.body["ms"], "reason": e.body["reason"],
            "why": format!("convergence took {ms} ms after {} at {:.1} s (target {target_ms} ms{})", moment(&e.body["reason"]), e.time as f64 / 1e9,
                if e.body["ms"].as_f64() == Some(ms) { String::new() } else { format!("; {} ms measured, less the machine's stalls", e.body["ms"]) })}))
        .collect();
    let figures = json!({
        "measurements": samples.len(), "p50_ms": q(0.5), "p95_ms": q(0.95), "max_ms": samples.last(),
        "timed_out": timed_out.len(), "timed_out_while_stalled": stalled_out,
        "skipped_during_faults": skipped, "target_ms": target_ms,
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
    } else if stalled_out > 0 {
        (
            Validity::Unknown,
            format!("liveness not judged: {stalled_out} measurement(s) ran out while the machine stalled eddy or a node so long that the nodes had no more than the {target_ms} ms target to agree in"),
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
        kind: crate::check::CheckKind::Liveness,
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

/// The last answers of the nodes in words: values as they are, a set by its size.
fn last_reads(values: &Value) -> String {
    let Some(values) = values.as_array() else {
        return values.to_string();
    };
    let words: Vec<String> = values
        .iter()
        .map(|v| match v.as_array() {
            Some(set) => format!("a set of {}", set.len()),
            None => v.to_string(),
        })
        .collect();
    format!("[{}]", words.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::event::{EventType, HistoryEvent, Process};

    fn harness(at_ms: u64, f: &str, body: Value) -> HistoryEvent {
        HistoryEvent {
            index: 0,
            time: at_ms * 1_000_000,
            process: Process::Named("harness".into()),
            node: None,
            kind: EventType::Info,
            f: f.into(),
            body,
            phase: None,
        }
    }

    fn judged(history: Vec<HistoryEvent>) -> CheckResult {
        let record = Record {
            history,
            net: crate::check::traffic::NetSummary::default(),
            nodes: vec!["n0".into(), "n1".into()],
            dir: None,
        };
        convergence(&record, 1000.0)
    }

    fn timed_out(at_ms: u64, ms: Option<f64>) -> HistoryEvent {
        let mut body = json!({"reason": "end", "timed_out": true, "last_values": [1, 2]});
        if let Some(ms) = ms {
            body["ms"] = json!(ms);
        }
        harness(at_ms, "convergence", body)
    }

    #[test]
    fn a_probe_that_ran_out_is_invalid_unless_the_machine_stalled_through_it() {
        // 5 s of waiting, nothing stalled: the nodes had their chance.
        let plain = judged(vec![timed_out(10_000, Some(5000.0))]);
        assert_eq!(plain.valid, Validity::Invalid, "{}", plain.summary);
        // 4.5 s of it stalled: 0.5 s left, under the 1 s target.
        let stall = harness(9_800, "stall", json!({"ms": 4500.0}));
        let starved = judged(vec![stall, timed_out(10_000, Some(5000.0))]);
        assert_eq!(starved.valid, Validity::Unknown, "{}", starved.summary);
        assert_eq!(starved.figures["timed_out_while_stalled"], 1);
        // A store from before the waited time was kept: timed out, as it always was.
        let old = judged(vec![timed_out(10_000, None)]);
        assert_eq!(old.valid, Validity::Invalid, "{}", old.summary);
    }
}
