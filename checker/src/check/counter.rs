//! The final value of a counter (SPEC 3.5, and Maelstrom's `pn-counter` and `g-counter`
//! checkers): every node's final read lies in the set of sums possible from acknowledged
//! adds plus any subset of adds whose outcome is unknown, and all nodes agree. Every counter
//! workload (`pn-counter`, `g-counter`) judges its runs with [`final_value`].

use crate::check::{CheckResult, Record, Validity};
use crate::history::event::{operations, EventType};
use crate::schema::Catalogue;
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

    /// The achievable sum nearest to `v` (the lower one on a tie).
    fn nearest(&self, v: i64) -> i64 {
        match self {
            Possible::Exact(s) => {
                let above = s.range(v..).next().copied();
                let below = s.range(..=v).next_back().copied();
                match (below, above) {
                    (Some(b), Some(a)) if a - v < v - b => a,
                    (Some(b), _) => b,
                    (None, Some(a)) => a,
                    (None, None) => 0,
                }
            }
            Possible::Range(lo, hi) => v.clamp(*lo, *hi),
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

/// A kill and restart of some nodes at once (kill events with no other fault between them:
/// the nemesis takes down a majority or the whole cluster as several kills in a row), and
/// what those nodes had acknowledged before it.
struct Restart {
    nodes: Vec<String>,
    killed: u64,
    restarted: u64,
    /// Sums of the positive and negative adds they acknowledged before the kill.
    plus: i64,
    minus: i64,
}

/// The kills of the run that were followed by a restart, grouped by moment, with the adds
/// each group had acknowledged before it: a node that keeps its counts only in memory
/// loses them there.
fn restarts(record: &Record, ops: &[crate::history::event::Operation]) -> Vec<Restart> {
    let nemesis = crate::history::Process::Named("nemesis".into());
    // Clock steps run on a schedule of their own: they do not part kills.
    let events: Vec<_> = record
        .history
        .iter()
        .filter(|e| e.process == nemesis && e.node.is_some() && e.f != "drift")
        .collect();
    let mut groups: Vec<Restart> = Vec::new();
    let mut in_a_row = false;
    for (i, kill) in events.iter().enumerate() {
        if kill.f != "kill" {
            in_a_row = false;
            continue;
        }
        let node = kill.node.clone().unwrap_or_default();
        let restart = events[i + 1..]
            .iter()
            .find(|e| {
                e.node.as_deref() == Some(&node) && matches!(e.f.as_str(), "restart" | "kill")
            })
            .filter(|e| e.f == "restart");
        match (groups.last_mut(), restart) {
            (Some(g), Some(restart)) if in_a_row => {
                g.nodes.push(node);
                g.restarted = g.restarted.max(restart.time);
            }
            (_, Some(restart)) => groups.push(Restart {
                nodes: vec![node],
                killed: kill.time,
                restarted: restart.time,
                plus: 0,
                minus: 0,
            }),
            (_, None) => {}
        }
        in_a_row = restart.is_some();
    }
    for g in &mut groups {
        for op in ops
            .iter()
            .filter(|op| op.invoke.f == "add" && op.outcome() == EventType::Ok)
        {
            let (Some(done), Some(node)) = (op.completion, op.invoke.node.as_ref()) else {
                continue;
            };
            if done.time < g.killed && g.nodes.contains(node) {
                let delta = op.invoke.body["delta"].as_i64().unwrap_or(0);
                if delta >= 0 {
                    g.plus += delta;
                } else {
                    g.minus += delta;
                }
            }
        }
    }
    groups
}

/// Words for a final read `off` from the nearest value the adds allow (negative: short), and
/// for the restarts before it, whose lost counts would explain it.
fn restart_words(off: i64, restarts: &[Restart], before: u64) -> String {
    let how = if off < 0 {
        format!("it misses {} of the acknowledged adds", -off)
    } else {
        format!(
            "it is {off} over, as if acknowledged adds summing to {} were missing",
            -off
        )
    };
    let earlier: Vec<&Restart> = restarts.iter().filter(|r| r.restarted < before).collect();
    if earlier.is_empty() {
        return format!("; {how}");
    }
    let secs = |ns: u64| ns as f64 / 1e9;
    let mut told: Vec<String> = earlier
        .iter()
        .take(4)
        .map(|r| {
            let net = r.plus + r.minus;
            let (who, verb, pronoun) = match r.nodes.as_slice() {
                [one] => (one.clone(), "was", "it"),
                many => (many.join(", "), "were", "they"),
            };
            let exact = if -off == net && net != 0 {
                ", exactly what is missing"
            } else {
                ""
            };
            format!(
                "{who} {verb} restarted at {:.3} s (killed at {:.3} s) and the adds {pronoun} acknowledged before the kill sum to {net} (+{}, {}){exact}",
                secs(r.restarted), secs(r.killed), r.plus, r.minus
            )
        })
        .collect();
    if earlier.len() > 4 {
        told.push(format!("{} more restarts", earlier.len() - 4));
    }
    format!(
        "; {how}; {}: a node that keeps its counts only in memory loses them when it is killed",
        told.join("; ")
    )
}

/// The final-value check, with `schemas` the workload's (a `read_ok` that breaks them is a
/// witness, never skipped). When a final read is off and nodes were killed and restarted
/// before it, the witness names the restarts and what the restarted nodes had acknowledged
/// before their kill: lost durable state is the likely cause.
pub fn final_value(record: &Record, schemas: &Catalogue) -> CheckResult {
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
    let restarted = restarts(record, &ops);
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
                    let off = value - acknowledged - possible.nearest(value - acknowledged);
                    let at = op.completion.map_or(0, |c| c.time);
                    let restarts: Vec<Value> = restarted
                        .iter()
                        .filter(|r| r.restarted < at)
                        .map(|r| json!({"nodes": r.nodes, "killed_s": r.killed as f64 / 1e9, "restarted_s": r.restarted as f64 / 1e9, "acknowledged_before_kill": r.plus + r.minus}))
                        .collect();
                    witnesses.push(json!({
                        "node": node,
                        "read": value,
                        "at_s": op.completion.map(|c| c.time as f64 / 1e9),
                        "acknowledged_sum": acknowledged,
                        "unknown_adds": unknown.len(),
                        "possible": possible.describe(acknowledged),
                        "off_by": off,
                        "restarts": restarts,
                        "why": format!("final read on {node} returned {value}, but acknowledged adds sum to {acknowledged} and the {} adds of unknown outcome allow only {}{}", unknown.len(), possible.describe(acknowledged), restart_words(off, &restarted, at)),
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
    .and_unjudged(crate::check::replies::unjudged(schemas, &ops, &["read"]))
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

    use crate::history::event::HistoryEvent;
    use crate::history::Process;

    /// An acknowledged add of `delta` on `node` by client `client`, from `ms`.
    fn add(ms: u64, client: u64, node: &str, delta: i64) -> [HistoryEvent; 2] {
        [
            HistoryEvent::at_ms(
                ms,
                Process::Client(client),
                node,
                EventType::Invoke,
                "add",
                json!({"type": "add", "delta": delta}),
            ),
            HistoryEvent::at_ms(
                ms + 5,
                Process::Client(client),
                node,
                EventType::Ok,
                "add",
                json!({"type": "add_ok"}),
            ),
        ]
    }

    /// A final read on `node` that returned `value`.
    fn final_read(ms: u64, client: u64, node: &str, value: i64) -> [HistoryEvent; 2] {
        let mut read = [
            HistoryEvent::at_ms(
                ms,
                Process::Client(client),
                node,
                EventType::Invoke,
                "read",
                json!({"type": "read"}),
            ),
            HistoryEvent::at_ms(
                ms + 5,
                Process::Client(client),
                node,
                EventType::Ok,
                "read",
                json!({"type": "read_ok", "value": value}),
            ),
        ];
        read[0].phase = Some("final".into());
        read
    }

    fn nemesis(ms: u64, node: &str, f: &str) -> HistoryEvent {
        HistoryEvent::at_ms(
            ms,
            Process::Named("nemesis".into()),
            node,
            EventType::Info,
            f,
            json!({}),
        )
    }

    fn judged(history: Vec<HistoryEvent>) -> CheckResult {
        const READ: &[crate::schema::Schema] = &[crate::schema::Schema::of(
            "read_ok",
            &[("value", crate::schema::Ty::Int)],
        )];
        let record = Record {
            history,
            net: crate::check::traffic::NetSummary::default(),
            nodes: vec!["n1".into(), "n2".into()],
            dir: None,
        };
        final_value(&record, &Catalogue::new([&READ]))
    }

    #[test]
    fn nearest_achievable_sum() {
        let s = Possible::of(&[5, -2]);
        assert_eq!(s.nearest(4), 3, "3 and 5 are as near: the lower one");
        assert_eq!(s.nearest(10), 5);
        assert_eq!(s.nearest(-9), -2);
        assert_eq!(s.nearest(1), 0);
        assert_eq!(Possible::Range(-3, 8).nearest(20), 8);
    }

    #[test]
    fn a_final_value_short_after_restarts_names_them() {
        let mut history: Vec<HistoryEvent> = Vec::new();
        history.extend(add(100, 1, "n2", 20));
        history.extend(add(200, 2, "n2", -8));
        history.extend(add(300, 1, "n1", 40));
        // Both nodes die together (the power loss) and come back.
        history.extend([nemesis(1000, "n1", "kill"), nemesis(1000, "n2", "kill")]);
        history.extend([
            nemesis(2000, "n1", "restart"),
            nemesis(2000, "n2", "restart"),
        ]);
        history.extend(add(2500, 1, "n1", 3));
        // Both forgot everything from before the kill: only the last add is left.
        history.extend(final_read(4000, 1, "n1", 3));
        history.extend(final_read(4000, 2, "n2", 3));
        let result = judged(history.clone());
        assert_eq!(result.valid, Validity::Invalid);
        assert_eq!(
            result.witnesses[0]["why"],
            "final read on n1 returned 3, but acknowledged adds sum to 55 and the 0 adds of unknown outcome allow only [55]; it misses 52 of the acknowledged adds; n1, n2 were restarted at 2.000 s (killed at 1.000 s) and the adds they acknowledged before the kill sum to 52 (+60, -8), exactly what is missing: a node that keeps its counts only in memory loses them when it is killed"
        );
        assert_eq!(result.witnesses[0]["off_by"], -52);
        assert_eq!(
            result.witnesses[0]["restarts"][0]["acknowledged_before_kill"],
            52
        );
        // Without restarts, the witness says only how far off the read is.
        history.retain(|e| e.process != Process::Named("nemesis".into()));
        let plain = judged(history);
        assert!(
            plain
                .summary
                .ends_with("allow only [55]; it misses 52 of the acknowledged adds"),
            "{}",
            plain.summary
        );
    }

    #[test]
    fn a_restart_that_loses_nothing_is_no_witness() {
        let mut history: Vec<HistoryEvent> = Vec::new();
        history.extend(add(100, 1, "n2", 20));
        history.extend([nemesis(1000, "n2", "kill"), nemesis(2000, "n2", "restart")]);
        history.extend(final_read(4000, 1, "n1", 20));
        history.extend(final_read(4000, 2, "n2", 20));
        let result = judged(history);
        assert_eq!(result.valid, Validity::Valid, "{}", result.summary);
    }
}
