//! Is a key/value history linearizable? Each key on its own (P-compositionality), keys in
//! parallel with an early stop on the first illegal key. Per key: shrink soundly
//! ([`shrink`]), look for stale reads directly ([`witness`]); then, when every value of the
//! key is written at most once, decide without a search ([`direct`]), and otherwise search
//! segment by segment ([`search`]), carrying the set of states a segment can end in to the
//! next.

mod direct;
mod explain;
pub mod history;
pub mod model;
pub mod search;
pub mod shrink;
pub mod witness;

use super::{CheckResult, Validity};
use explain::Explain;
use history::{KvHistory, Outcomes};
use model::{Interner, LinOp, ABSENT};
use search::{Budget, Stopped};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits of a linearizability check.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Time for the whole check; an exhausted search is `unknown`.
    pub timeout: Duration,
    /// Configurations remembered per key at most (about 40 bytes each).
    pub max_cache: usize,
    /// Threads (keys checked at once).
    pub threads: usize,
    /// How keys are decided.
    pub engine: Engine,
    /// Keep a linearization order of every key decided valid without a search
    /// ([`Report::orders`]).
    pub orders: bool,
}

/// How a key is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Without a search when every value of the key is written at most once; by the
    /// search otherwise.
    Auto,
    /// Always by the search (to compare the two).
    Search,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            timeout: Duration::from_secs(30),
            max_cache: 10_000_000,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            engine: Engine::Auto,
            orders: false,
        }
    }
}

/// One key's verdict.
#[derive(Debug, Clone)]
enum KeyVerdict {
    Valid,
    Invalid(Value),
    Unknown(String),
}

/// What decided a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DecidedBy {
    /// The stale-read scan found one.
    StaleRead,
    /// The direct decision ([`direct`]).
    Direct,
    /// The search, for this reason.
    Search(&'static str),
}

/// What checking one key found.
struct KeyOutcome {
    verdict: KeyVerdict,
    /// Its stale reads, explained.
    stale: Vec<Value>,
    /// What shrinking did.
    stats: shrink::ShrinkStats,
    /// What decided it.
    by: DecidedBy,
    /// A linearization order (history indices of the invokes), when asked for and found.
    order: Option<Vec<u64>>,
}

/// The verdict on a whole history, with its evidence.
#[derive(Debug, Clone)]
pub struct Report {
    /// Valid, invalid or unknown.
    pub valid: Validity,
    /// Stale reads found, each explained (they are counted whatever else happens).
    pub stale_reads: Vec<Value>,
    /// The first illegal key's witness, when the direct decision or the search (not the
    /// stale-read scan) found it.
    pub violation: Option<Value>,
    /// Keys whose search ran out of budget.
    pub unknown: Vec<String>,
    /// Keys that were searched rather than decided directly, each with why ("1: a value is
    /// written more than once").
    pub searched: Vec<String>,
    /// With [`Limits::orders`]: for each key decided valid without a search, the history
    /// indices of the invokes of the operations that took effect, in a legal order.
    pub orders: Vec<(String, Vec<u64>)>,
    /// Events of the history that could not be interpreted (see
    /// [`history::Problem`]), as witnesses; any of them makes the verdict invalid.
    pub unreadable: Vec<Value>,
    /// How the register operations ended.
    pub outcomes: Outcomes,
    /// Keys, operations, outcomes, operations of other kinds left out, what shrinking did.
    pub figures: Value,
}

/// Checks `history` within `limits`. The verdict is on linearizability alone, except that
/// events that could not be interpreted make it invalid; whether the history exercised the
/// register at all is [`to_check_result`]'s business.
pub fn check(mut history: KvHistory, limits: Limits) -> Report {
    let deadline = Instant::now() + limits.timeout;
    let cancel = AtomicBool::new(false);
    let total_ops: usize = history.keys.iter().map(|(_, ops)| ops.len()).sum();
    history
        .keys
        .sort_by_key(|(_, ops)| std::cmp::Reverse(ops.len()));
    let values = &history.values;
    let keys = &history.keys;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, KeyOutcome)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..limits.threads.clamp(1, keys.len().max(1)) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let Some((key, ops)) = keys.get(k) else {
                    return;
                };
                let budget = Budget {
                    deadline,
                    max_cache: limits.max_cache,
                    cancel: &cancel,
                };
                let outcome = check_key(key, ops.clone(), values, &budget, &limits);
                if matches!(outcome.verdict, KeyVerdict::Invalid(_)) {
                    cancel.store(true, Ordering::Relaxed);
                }
                results.lock().unwrap().push((k, outcome));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|r| r.0);
    let mut report = Report {
        valid: Validity::Valid,
        stale_reads: Vec::new(),
        violation: None,
        unknown: Vec::new(),
        searched: Vec::new(),
        orders: Vec::new(),
        unreadable: history.problems.iter().map(|p| p.witness()).collect(),
        outcomes: history.outcomes,
        figures: Value::Null,
    };
    let (mut dropped, mut resolved, mut direct) = (0, 0, 0);
    for (k, outcome) in results {
        dropped += outcome.stats.dropped;
        resolved += outcome.stats.resolved;
        direct += usize::from(outcome.by == DecidedBy::Direct);
        report.stale_reads.extend(outcome.stale);
        if let DecidedBy::Search(why) = outcome.by {
            report.searched.push(format!("{}: {why}", keys[k].0));
        }
        if let Some(order) = outcome.order {
            report.orders.push((keys[k].0.clone(), order));
        }
        match outcome.verdict {
            KeyVerdict::Valid => {}
            KeyVerdict::Invalid(witness) => {
                report.valid = Validity::Invalid;
                if report.violation.is_none() && witness["kind"] != "stale-read" {
                    report.violation = Some(witness);
                }
            }
            KeyVerdict::Unknown(why) if why != "cancelled" => {
                report.unknown.push(format!("{}: {why}", keys[k].0))
            }
            KeyVerdict::Unknown(_) => {}
        }
    }
    if report.valid == Validity::Valid && !report.unknown.is_empty() {
        report.valid = Validity::Unknown;
    }
    if !report.unreadable.is_empty() {
        report.valid = Validity::Invalid;
    }
    let o = history.outcomes;
    report.figures = json!({
        "keys": keys.len(), "operations": total_ops, "stale_reads": report.stale_reads.len(),
        "indefinite_dropped": dropped, "indefinite_resolved": resolved, "unknown_keys": report.unknown.len(),
        "keys_decided_directly": direct, "keys_searched": report.searched.len(),
        "register_operations": o.total(), "ok": o.ok, "fail": o.fail, "info": o.info,
        "unreadable_events": report.unreadable.len(), "skipped_operations": &history.skipped,
    });
    report
}

/// Why a key goes to the search under [`Engine::Auto`].
const NOT_UNIQUE: &str = "a value is written more than once, so what each read saw is not known";

/// Decides one key: its stale reads first, then directly or by the search.
fn check_key(
    key: &str,
    mut ops: Vec<LinOp>,
    values: &Interner,
    budget: &Budget,
    limits: &Limits,
) -> KeyOutcome {
    let stats = shrink::shrink(&mut ops);
    let explain = Explain {
        key,
        ops: &ops,
        values,
    };
    let stale: Vec<Value> = witness::stale_reads(&ops)
        .iter()
        .map(|s| explain.stale(s))
        .collect();
    let (verdict, by, order) = match (stale.first(), limits.engine) {
        (Some(first), _) => (
            KeyVerdict::Invalid(first.clone()),
            DecidedBy::StaleRead,
            None,
        ),
        (None, Engine::Search) => {
            let why = "the search was asked for";
            (
                search_key(&ops, &explain, budget),
                DecidedBy::Search(why),
                None,
            )
        }
        (None, Engine::Auto) => match direct::decide(&ops) {
            direct::Decided::Valid(order) => {
                let order = limits
                    .orders
                    .then(|| order.iter().map(|&i| ops[i].index).collect());
                (KeyVerdict::Valid, DecidedBy::Direct, order)
            }
            direct::Decided::Invalid(conflict) => (
                KeyVerdict::Invalid(explain.conflict(&conflict)),
                DecidedBy::Direct,
                None,
            ),
            direct::Decided::NotUnique => (
                search_key(&ops, &explain, budget),
                DecidedBy::Search(NOT_UNIQUE),
                None,
            ),
        },
    };
    KeyOutcome {
        verdict,
        stale,
        stats,
        by,
        order,
    }
}

/// Searches a key's operations segment by segment.
fn search_key(ops: &[LinOp], explain: &Explain, budget: &Budget) -> KeyVerdict {
    let observed: std::collections::HashSet<model::ValueId> =
        ops.iter().filter_map(|op| op.kind.observes()).collect();
    let blind: Vec<bool> = ops
        .iter()
        .map(|op| op.definite && matches!(op.kind, model::Kind::Write(v) if !observed.contains(&v)))
        .collect();
    let mut states = vec![ABSENT];
    let segments = shrink::segments(ops);
    for (n, range) in segments.iter().enumerate() {
        let last = n + 1 == segments.len();
        let piece = &ops[range.clone()];
        match search::search(piece, &blind[range.clone()], &states, !last, budget) {
            Err(Stopped::Cancelled) => return KeyVerdict::Unknown("cancelled".into()),
            Err(Stopped::Timeout) => {
                return KeyVerdict::Unknown("the search ran out of time".into())
            }
            Ok(found) if found.ends.is_empty() => {
                return KeyVerdict::Invalid(explain.violation(piece, &states, found.stuck))
            }
            Ok(found) => states = found.ends,
        }
    }
    KeyVerdict::Valid
}

/// The check's verdict as a [`CheckResult`] named `linearizable`: invalid with a stale read,
/// an order witness (direct or searched) or an event that could not be interpreted; unknown when the search
/// ran out of budget or when no register operation succeeded (nothing was observed, so
/// nothing is vouched for); otherwise valid. The summary counts what was judged.
pub fn to_check_result(report: &Report) -> CheckResult {
    let o = report.outcomes;
    let f = &report.figures;
    let judged =
        format!(
        "{} operations on {} keys judged, of {} read/lease_read/write/cas: {} ok, {} fail, {} info",
        f["operations"], f["keys"], o.total(), o.ok, o.fail, o.info
    );
    let unreadable = match report.unreadable.first() {
        Some(first) => format!(
            "{} history event(s) cannot be judged; first: {}",
            report.unreadable.len(),
            first["why"].as_str().unwrap_or_default()
        ),
        None => String::new(),
    };
    // Keys the search decided, because their values repeat (or because it was asked for).
    let searched = match report.searched.first() {
        Some(first) => format!(
            "; {} of {} key(s) searched, first {first}",
            report.searched.len(),
            f["keys"]
        ),
        None => String::new(),
    };
    let and_unreadable = if unreadable.is_empty() {
        String::new()
    } else {
        format!("; and {unreadable}")
    };
    let (valid, summary) = match (&report.violation, report.stale_reads.first(), report.valid) {
        (_, Some(stale), _) => (
            report.valid,
            format!(
                "{} stale read(s); first: {}{and_unreadable} ({judged})",
                report.stale_reads.len(),
                stale["why"].as_str().unwrap_or_default()
            ),
        ),
        (Some(v), None, _) => (
            report.valid,
            format!(
                "key {}: {}{and_unreadable} ({judged})",
                v["key"].as_str().unwrap_or_default(),
                v["why"].as_str().unwrap_or_default()
            ),
        ),
        _ if !unreadable.is_empty() => (Validity::Invalid, format!("{unreadable} ({judged})")),
        (None, None, Validity::Unknown) => (
            Validity::Unknown,
            format!("undecided: {} ({judged}{searched})", report.unknown.join("; ")),
        ),
        _ if o.ok == 0 => (
            Validity::Unknown,
            format!(
                "not observed: no read, lease_read, write or cas operation succeeded ({} ok, {} fail, {} info)",
                o.ok, o.fail, o.info
            ),
        ),
        _ => (
            report.valid,
            format!(
                "{} operations on {} keys are linearizable (of {} read/lease_read/write/cas: {} ok, {} fail, {} info{searched})",
                f["operations"], f["keys"], o.total(), o.ok, o.fail, o.info
            ),
        ),
    };
    /// Unreadable events shown at most (all are counted in the figures and the summary).
    const SHOWN: usize = 20;
    let mut witnesses = report.stale_reads.clone();
    witnesses.extend(report.violation.clone());
    witnesses.extend(report.unreadable.iter().take(SHOWN).cloned());
    CheckResult {
        name: "linearizable".into(),
        kind: crate::check::CheckKind::of("linearizable"),
        valid,
        summary,
        witnesses,
        figures: report.figures.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{EventType, HistoryEvent, Process};

    fn event(index: u64, client: u64, kind: EventType, body: Value) -> HistoryEvent {
        let f = body["type"].as_str().unwrap_or_default();
        let f = match f.strip_suffix("_ok") {
            Some(f) => f,
            // The one error in these histories answers a read.
            None if f == "error" => "read",
            None => f,
        }
        .to_owned();
        HistoryEvent {
            index,
            time: index * 1_000_000,
            process: Process::Client(client),
            node: Some("n1".into()),
            kind,
            f,
            body,
            phase: None,
        }
    }

    fn result(events: &[HistoryEvent]) -> CheckResult {
        to_check_result(&check(history::from_events(events), Limits::default()))
    }

    #[test]
    fn a_history_without_register_operations_is_not_valid() {
        let none = result(&[]);
        assert_eq!(none.valid, Validity::Unknown);
        assert_eq!(
            none.summary,
            "not observed: no read, lease_read, write or cas operation succeeded (0 ok, 0 fail, 0 info)"
        );
        // Operations that all failed or timed out observed nothing either.
        let mut events = vec![
            event(0, 1, EventType::Invoke, json!({"type": "add", "delta": 1})),
            event(1, 1, EventType::Ok, json!({"type": "add_ok"})),
            event(2, 2, EventType::Invoke, json!({"type": "read", "key": 1})),
            event(3, 2, EventType::Fail, json!({"type": "error", "code": 11})),
            event(
                4,
                3,
                EventType::Invoke,
                json!({"type": "write", "key": 1, "value": 2}),
            ),
        ];
        let failed = result(&events);
        assert_eq!(failed.valid, Validity::Unknown);
        assert!(
            failed.summary.contains("(0 ok, 1 fail, 1 info)"),
            "{}",
            failed.summary
        );
        assert_eq!(failed.figures["skipped_operations"]["add"], 1);
        events.push(event(5, 3, EventType::Ok, json!({"type": "write_ok"})));
        let judged = result(&events);
        assert_eq!(judged.valid, Validity::Valid);
        assert_eq!(
            judged.summary,
            "1 operations on 1 keys are linearizable (of 2 read/lease_read/write/cas: 1 ok, 1 fail, 0 info)"
        );
    }

    #[test]
    fn an_event_that_cannot_be_read_is_a_witness() {
        let events = [
            event(
                0,
                1,
                EventType::Invoke,
                json!({"type": "write", "key": 1, "value": 2}),
            ),
            event(1, 1, EventType::Ok, json!({"type": "write_ok"})),
            event(2, 2, EventType::Invoke, json!({"type": "read", "key": 1})),
            event(3, 2, EventType::Ok, json!({"type": "read_ok", "val": 2})),
        ];
        let result = result(&events);
        assert_eq!(result.valid, Validity::Invalid);
        assert_eq!(result.witnesses.len(), 1);
        assert_eq!(
            result.witnesses[0]["why"],
            "history event 3 (`read_ok` from n1 to client 2 at 0.003 s) has no `value`: cannot judge it"
        );
        assert!(result
            .summary
            .starts_with("1 history event(s) cannot be judged; first: history event 3"));
        assert_eq!(result.figures["unreadable_events"], 1);
    }
}
