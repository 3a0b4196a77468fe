//! The machine's stalls in a run's record (harness `stall` events, see `sim::lag`), for
//! the liveness checks: time in which eddy or a node waited for a core is not charged to
//! the nodes (SPEC section 6).

use super::Record;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Every stall as `(from, until)` in seconds since the run started, in time order.
fn stalls(record: &Record) -> Vec<(f64, f64)> {
    let mut found: Vec<(f64, f64)> = record
        .history
        .iter()
        .filter(|e| e.f == "stall" && e.client().is_none())
        .filter_map(|e| {
            let until = e.time as f64 / 1e9;
            Some((until - e.body["ms"].as_f64()? / 1000.0, until))
        })
        .collect();
    found.sort_by(|a, b| a.0.total_cmp(&b.0));
    found
}

/// How long, within `from..to` (seconds), eddy or any node was stalled: the union of the
/// stalls, so that two at once count once.
pub fn stalled_within(record: &Record, from: f64, to: f64) -> f64 {
    let mut total = 0.0;
    let mut covered = from;
    for (start, end) in stalls(record) {
        let (start, end) = (start.max(covered), end.min(to));
        if end > start {
            total += end - start;
            covered = end;
        }
    }
    total
}

/// What the run's stalls add up to, for the stats: the total, the longest, and the total by
/// who waited (`eddy` or a node id), in ms.
pub fn figures(record: &Record) -> Value {
    let mut by: BTreeMap<String, f64> = BTreeMap::new();
    let mut longest: f64 = 0.0;
    for e in record
        .history
        .iter()
        .filter(|e| e.f == "stall" && e.client().is_none())
    {
        let ms = e.body["ms"].as_f64().unwrap_or(0.0);
        longest = longest.max(ms);
        *by.entry(e.node.clone().unwrap_or_else(|| "eddy".into()))
            .or_insert(0.0) += ms;
    }
    let round = |v: f64| v.round();
    json!({
        "stalled_ms": round(stalled_within(record, 0.0, f64::MAX) * 1000.0),
        "longest_ms": round(longest),
        "by": by.into_iter().map(|(k, v)| (k, round(v))).collect::<BTreeMap<_, _>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::traffic::NetSummary;
    use crate::history::{EventType, HistoryEvent, Process};

    fn stall(end_ms: u64, node: Option<&str>, ms: f64) -> HistoryEvent {
        let mut e = HistoryEvent::new(
            Process::Named("harness".into()),
            node.map(str::to_owned),
            EventType::Info,
            "stall",
            json!({"ms": ms}),
        );
        e.time = end_ms * 1_000_000;
        e
    }

    #[test]
    fn overlapping_stalls_count_once_and_only_inside_the_window() {
        let record = Record {
            history: vec![
                stall(1000, None, 200.0),
                stall(1100, Some("n1"), 200.0),
                stall(3000, Some("n2"), 500.0),
            ],
            net: NetSummary::default(),
            nodes: vec!["n1".into(), "n2".into()],
            dir: None,
        };
        // 0.8-1.1 s (eddy and n1 overlap), then 2.5-3.0 s.
        assert!((stalled_within(&record, 0.0, 10.0) - 0.8).abs() < 1e-9);
        assert!((stalled_within(&record, 0.9, 2.7) - 0.4).abs() < 1e-9);
        assert_eq!(stalled_within(&record, 1.2, 2.4), 0.0);
        let f = figures(&record);
        assert_eq!(f["stalled_ms"], 800.0);
        assert_eq!(f["by"]["eddy"], 200.0);
        assert_eq!(f["longest_ms"], 500.0);
    }
}
