//! Lease safety (SPEC 3.1): at no real instant do two nodes hold the lease.
//!
//! A node holds from the moment eddy sees its `acquire_lease_ok` until its local clock
//! reaches the `expires_at` it answered. A node's local clock is the wall clock plus the
//! offsets eddy applied with `simulate_drift` (recorded with every `drift` event), so the
//! real end of a lease follows from the history alone: the run's wall clock at time 0 (the
//! harness `clock` event) and the offsets in force, segment by segment. A `check_lease_ok`
//! with `valid: true` says the node held at some instant between request and answer: if
//! another node held throughout that window, that is split-brain too.

use crate::check::{CheckResult, Record, Validity};
use crate::history::event::{operations, EventType, HistoryEvent, Operation};
use crate::history::Process;
use crate::workload::Spec;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A node's clock as the history describes it.
#[derive(Debug, Default)]
pub struct Clocks {
    /// Wall-clock ms (Unix epoch) at history time 0.
    unix_ms_at_zero: f64,
    /// Per node, `(from ms, offset ms)` in time order; offset 0 before the first.
    offsets: BTreeMap<String, Vec<(f64, i64)>>,
}

impl Clocks {
    /// The clocks of a recorded run; `None` without the harness `clock` event.
    pub fn from_history(history: &[HistoryEvent]) -> Option<Clocks> {
        let mut clocks = Clocks {
            unix_ms_at_zero: history
                .iter()
                .find(|e| e.process == Process::Named("harness".into()) && e.f == "clock")?
                .body["unix_ms_at_zero"]
                .as_f64()?,
            offsets: BTreeMap::new(),
        };
        for e in history.iter().filter(|e| e.f == "drift") {
            let Some(in_force) = e.body["offsets_ms"].as_object() else {
                continue;
            };
            for (node, offset) in in_force {
                let offset = offset.as_i64().unwrap_or(0);
                let steps = clocks.offsets.entry(node.clone()).or_default();
                if steps.last().map_or(0, |s| s.1) != offset {
                    steps.push((ms(e.time), offset));
                }
            }
        }
        Some(clocks)
    }

    /// The offset of `node` at run time `at` (ms).
    pub fn offset(&self, node: &str, at: f64) -> i64 {
        self.offsets.get(node).map_or(0, |steps| {
            steps
                .iter()
                .take_while(|(from, _)| *from <= at)
                .last()
                .map_or(0, |s| s.1)
        })
    }

    /// `node`'s local time (ms since the epoch) at run time `at` (ms).
    pub fn local(&self, node: &str, at: f64) -> f64 {
        self.unix_ms_at_zero + at + self.offset(node, at) as f64
    }

    /// The first run time (ms) at or after `from` when `node`'s local clock reads at least
    /// `local_ms`.
    pub fn reaches(&self, node: &str, local_ms: f64, from: f64) -> f64 {
        let steps = self.offsets.get(node).map(Vec::as_slice).unwrap_or(&[]);
        let (mut start, mut offset) = (from, self.offset(node, from));
        for &(next, next_offset) in steps.iter().filter(|(at, _)| *at > from) {
            let due = local_ms - self.unix_ms_at_zero - offset as f64;
            if due < next {
                return due.max(start);
            }
            (start, offset) = (next, next_offset);
        }
        (local_ms - self.unix_ms_at_zero - offset as f64).max(start)
    }

    /// Every node's offset at run time `at` (ms).
    pub fn in_force(&self, at: f64) -> BTreeMap<String, i64> {
        self.offsets
            .keys()
            .map(|n| (n.clone(), self.offset(n, at)))
            .collect()
    }
}

/// What a node held, in run time (ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Holding {
    /// The node.
    pub node: String,
    /// From when.
    pub from: f64,
    /// Until when.
    pub until: f64,
    /// True for a `check_lease` window (held at some instant within it), false for a lease
    /// granted by `acquire_lease_ok` (held throughout).
    pub window: bool,
}

/// Every holding the history shows: granted leases and `valid: true` check windows.
pub fn holdings(record: &Record, clocks: &Clocks) -> Vec<Holding> {
    let mut held = Vec::new();
    for op in operations(&record.history) {
        let (Some(done), Some(node)) = (op.completion, op.invoke.node.as_deref()) else {
            continue;
        };
        if done.kind != EventType::Ok {
            continue;
        }
        match done.body["type"].as_str() {
            Some("acquire_lease_ok") => {
                let Some(expires_at) = done.body["expires_at"].as_f64() else {
                    continue;
                };
                let from = ms(done.time);
                let until = clocks.reaches(node, expires_at, from);
                if until > from {
                    held.push(Holding {
                        node: node.to_owned(),
                        from,
                        until,
                        window: false,
                    });
                }
            }
            Some("check_lease_ok") if done.body["valid"] == true => held.push(Holding {
                node: node.to_owned(),
                from: ms(op.invoke.time),
                until: ms(done.time),
                window: true,
            }),
            _ => {}
        }
    }
    merge_renewals(held)
}

/// Joins each node's overlapping leases (renewals) into one holding, so that one episode of
/// split-brain is reported once.
fn merge_renewals(mut held: Vec<Holding>) -> Vec<Holding> {
    held.sort_by(|a, b| {
        (a.window, &a.node)
            .cmp(&(b.window, &b.node))
            .then(a.from.total_cmp(&b.from))
    });
    let mut merged: Vec<Holding> = Vec::with_capacity(held.len());
    for h in held {
        match merged.last_mut() {
            Some(last)
                if !h.window && !last.window && last.node == h.node && h.from <= last.until =>
            {
                last.until = last.until.max(h.until);
            }
            _ => merged.push(h),
        }
    }
    merged
}

/// Both lease checks.
pub fn checks(record: &Record) -> Vec<CheckResult> {
    let Some(clocks) = Clocks::from_history(&record.history) else {
        let why = "the history has no harness `clock` event (recorded by eddy 0.1 runs and later), so lease times cannot be mapped";
        return vec![
            CheckResult::new("split-brain", Validity::Unknown, why, json!({})),
            CheckResult::new("lease-answers", Validity::Unknown, why, json!({})),
        ];
    };
    let held = holdings(record, &clocks);
    let ops = operations(&record.history);
    let unjudged =
        |kinds: &[&str]| crate::check::replies::unjudged(&super::Lease.catalogue(), &ops, kinds);
    vec![
        split_brain(&held, &clocks).and_unjudged(unjudged(&["acquire_lease", "check_lease"])),
        answers(&ops, &clocks).and_unjudged(unjudged(&["check_lease"])),
    ]
}

/// Two holdings of different nodes at one real instant: indexes into the holdings and
/// the shared interval (ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Overlap {
    /// One holding.
    pub a: usize,
    /// The other.
    pub b: usize,
    /// Start of the shared time.
    pub from: f64,
    /// Its end.
    pub until: f64,
}

/// Every overlap between holdings of different nodes. A lease overlapping another counts;
/// a check window counts only when the other node held throughout it. Earliest first.
pub fn overlaps(held: &[Holding]) -> Vec<Overlap> {
    let mut found = Vec::new();
    for (i, a) in held.iter().enumerate() {
        for (j, b) in held.iter().enumerate().skip(i + 1) {
            if a.node == b.node || (a.window && b.window) {
                continue;
            }
            let (from, until) = (a.from.max(b.from), a.until.min(b.until));
            let shared = match (a.window, b.window) {
                (false, false) => until > from,
                (true, _) => b.from <= a.from && a.until <= b.until,
                (_, true) => a.from <= b.from && b.until <= a.until,
            };
            if shared {
                found.push(Overlap {
                    a: i,
                    b: j,
                    from,
                    until,
                });
            }
        }
    }
    // In real-time order, so that the first witness is the earliest overlap.
    found.sort_by(|x, y| x.from.total_cmp(&y.from).then(x.until.total_cmp(&y.until)));
    found
}

/// Two nodes holding at one real instant.
pub fn split_brain(held: &[Holding], clocks: &Clocks) -> CheckResult {
    let found = overlaps(held);
    let witnesses: Vec<Value> = found
        .iter()
        .take(20)
        .map(|o| witness(&held[o.a], &held[o.b], o.from, o.until, clocks))
        .collect();
    let total = found.len();
    let leases = held.iter().filter(|h| !h.window).count();
    let holders: std::collections::BTreeSet<&str> = held
        .iter()
        .filter(|h| !h.window)
        .map(|h| h.node.as_str())
        .collect();
    let figures = json!({"holdings": leases, "holders": holders, "valid_checks": held.len() - leases, "overlaps": total});
    if leases == 0 {
        return CheckResult::not_observed(
            "split-brain",
            "no node was granted a lease (0 holdings), so no overlap could be looked for",
            figures,
        );
    }
    let mut result = CheckResult::from_witnesses(
        "split-brain",
        witnesses,
        figures,
        format!("{leases} holdings (renewals joined); no two nodes held at once"),
    );
    if total > 20 {
        result.summary = format!("{total} overlaps; {}", result.summary);
    }
    result
}

fn witness(a: &Holding, b: &Holding, from: f64, until: f64, clocks: &Clocks) -> Value {
    let describe = |h: &Holding| {
        if h.window {
            format!(
                "{} said it held (check_lease valid) between {:.3} s and {:.3} s",
                h.node,
                h.from / 1000.0,
                h.until / 1000.0
            )
        } else {
            format!(
                "{} held from {:.3} s to {:.3} s",
                h.node,
                h.from / 1000.0,
                h.until / 1000.0
            )
        }
    };
    let offsets = clocks.in_force(from);
    let offsets_text: Vec<String> = offsets
        .iter()
        .map(|(n, o)| format!("{n} {o:+} ms"))
        .collect();
    json!({
        "nodes": [a.node, b.node], "from_s": from / 1000.0, "until_s": until / 1000.0,
        "length_ms": ((until - from) * 1000.0).round() / 1000.0, "offsets_ms": offsets,
        "why": format!(
            "split-brain for {:.1} ms from {:.3} s: {} while {}; offsets in force: {}",
            until - from, from / 1000.0, describe(a), describe(b),
            if offsets_text.is_empty() { "none".to_owned() } else { offsets_text.join(", ") }
        ),
    })
}

/// `check_lease_ok` answers agree with what was granted: a node never claims a lease
/// beyond the latest `expires_at` it could have been granted, and `valid: false` comes with
/// `remaining_ms: 0`.
/// What happens at one moment of [`latest_grants`]'s sweep.
enum Step {
    /// An acquisition was answered with `expires_at`.
    Answered {
        duration: Option<f64>,
        expires_at: Option<f64>,
    },
    /// A `check_lease_ok` (its position among the operations).
    Check { op: usize },
    /// An acquisition of `duration` began.
    Began { duration: Option<f64> },
}

/// Where a step goes among steps at the same time: answers first (an acquisition answered
/// at the check's moment counts as answered), then checks, then new acquisitions (one
/// begun at the check's moment does not count), then answers to acquisitions that began
/// at that same moment.
fn rank(step: &Step, same_moment_as_begin: bool) -> u8 {
    match step {
        Step::Answered { .. } if same_moment_as_begin => 3,
        Step::Answered { .. } => 0,
        Step::Check { .. } => 1,
        Step::Began { .. } => 2,
    }
}

/// For every `check_lease_ok` (by its position in `ops`), the latest expiry on its node's
/// clock that any acquisition begun before the answer could have granted: exactly
/// `expires_at` for one answered by then; for one not answered by then (in flight, or
/// never answered), its duration counted from the check's answer; failed ones none. One
/// sweep per node over its acquisitions and checks in time order.
fn latest_grants(ops: &[Operation], clocks: &Clocks) -> BTreeMap<usize, Option<f64>> {
    // Durations in µs, so that they order as map keys.
    let key = |ms: f64| (ms * 1000.0).round() as i64;
    let mut steps: BTreeMap<&str, Vec<(u64, u8, Step)>> = BTreeMap::new();
    for (position, op) in ops.iter().enumerate() {
        let Some(node) = op.invoke.node.as_deref() else {
            continue;
        };
        let mut add = |time: u64, step: Step| {
            let rank = rank(&step, time == op.invoke.time);
            steps.entry(node).or_default().push((time, rank, step));
        };
        match (op.invoke.f.as_str(), op.completion) {
            ("acquire_lease", Some(c)) if c.kind == EventType::Fail => {}
            ("acquire_lease", completion) => {
                let duration = op.invoke.body["duration_ms"].as_f64();
                add(op.invoke.time, Step::Began { duration });
                if let Some(c) = completion.filter(|c| c.kind == EventType::Ok) {
                    let expires_at = c.body["expires_at"].as_f64();
                    add(
                        c.time,
                        Step::Answered {
                            duration,
                            expires_at,
                        },
                    );
                }
            }
            (_, Some(c)) if c.kind == EventType::Ok && c.body["type"] == "check_lease_ok" => {
                add(c.time, Step::Check { op: position });
            }
            _ => {}
        }
    }
    let mut latest = BTreeMap::new();
    for (node, mut node_steps) in steps {
        node_steps.sort_by_key(|(time, rank, _)| (*time, *rank));
        let mut granted: Option<f64> = None;
        let mut pending: BTreeMap<i64, usize> = BTreeMap::new();
        for (time, _, step) in node_steps {
            match step {
                Step::Began { duration: Some(d) } => *pending.entry(key(d)).or_insert(0) += 1,
                Step::Began { duration: None } => {}
                Step::Answered {
                    duration,
                    expires_at,
                } => {
                    if let Some(k) = duration.map(key) {
                        if let Some(n) = pending.get_mut(&k) {
                            *n -= 1;
                            if *n == 0 {
                                pending.remove(&k);
                            }
                        }
                    }
                    if let Some(e) = expires_at {
                        granted = Some(granted.map_or(e, |g| g.max(e)));
                    }
                }
                Step::Check { op } => {
                    let open = pending
                        .last_key_value()
                        .map(|(us, _)| clocks.local(node, ms(time)) + *us as f64 / 1000.0);
                    let most = match (granted, open) {
                        (Some(g), Some(o)) => Some(g.max(o)),
                        (g, o) => g.or(o),
                    };
                    latest.insert(op, most);
                }
            }
        }
    }
    latest
}

fn answers(ops: &[Operation], clocks: &Clocks) -> CheckResult {
    // Allowance for the ms rounding of local clocks on both sides.
    const SLACK_MS: f64 = 2.0;
    let latest_grant = latest_grants(ops, clocks);
    let mut witnesses = Vec::new();
    let mut checked = 0usize;
    for (position, op) in ops.iter().enumerate() {
        let (Some(done), Some(node)) = (op.completion, op.invoke.node.as_deref()) else {
            continue;
        };
        if done.kind != EventType::Ok || done.body["type"] != "check_lease_ok" {
            continue;
        }
        checked += 1;
        let remaining = done.body["remaining_ms"].as_f64().unwrap_or(0.0);
        let (asked, answered) = (ms(op.invoke.time), ms(done.time));
        if done.body["valid"] == false {
            if remaining > 0.0 {
                witnesses.push(json!({"node": node, "why": format!("{node} answered check_lease at {:.3} s with valid false but remaining_ms {remaining}", answered / 1000.0)}));
            }
            continue;
        }
        let latest = latest_grant.get(&position).copied().flatten();
        let claimed = clocks.local(node, asked) + remaining;
        let beyond = latest.is_none_or(|e| claimed > e + SLACK_MS);
        if beyond && witnesses.len() < 20 {
            let granted = latest.map_or("no lease was granted to it before".to_owned(), |e| {
                format!("the latest lease it could hold expires at {e:.0}")
            });
            witnesses.push(json!({"node": node, "why": format!(
                "{node} answered check_lease between {:.3} s and {:.3} s with {remaining} ms remaining, a lease until at least {claimed:.0} on its clock, but {granted}",
                asked / 1000.0, answered / 1000.0
            )}));
        }
    }
    if checked == 0 {
        return CheckResult::not_observed(
            "lease-answers",
            "no check_lease was answered with check_lease_ok",
            json!({"check_lease_answers": 0}),
        );
    }
    CheckResult::from_witnesses(
        "lease-answers",
        witnesses,
        json!({"check_lease_answers": checked}),
        format!("{checked} check_lease answers agree with the leases granted"),
    )
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::traffic::NetSummary;

    fn record(events: Vec<HistoryEvent>) -> Record {
        let mut history = vec![{
            let mut e = HistoryEvent::new(
                Process::Named("harness".into()),
                None,
                EventType::Info,
                "clock",
                json!({"unix_ms_at_zero": 1_000_000.0}),
            );
            e.time = 0;
            e
        }];
        history.extend(events);
        Record {
            history,
            net: NetSummary::default(),
            nodes: vec!["n1".into(), "n2".into()],
            dir: None,
        }
    }

    fn acquire(client: u64, node: &str, at: u64, done: u64, expires_at: u64) -> Vec<HistoryEvent> {
        vec![
            HistoryEvent::at_ms(
                at,
                Process::Client(client),
                node,
                EventType::Invoke,
                "acquire_lease",
                json!({"type": "acquire_lease", "duration_ms": 1000}),
            ),
            HistoryEvent::at_ms(
                done,
                Process::Client(client),
                node,
                EventType::Ok,
                "acquire_lease",
                json!({"type": "acquire_lease_ok", "expires_at": expires_at}),
            ),
        ]
    }

    fn check_lease(
        client: u64,
        node: &str,
        at: u64,
        done: u64,
        remaining: u64,
    ) -> Vec<HistoryEvent> {
        let ok = json!({"type": "check_lease_ok", "valid": true, "remaining_ms": remaining});
        vec![
            HistoryEvent::at_ms(
                at,
                Process::Client(client),
                node,
                EventType::Invoke,
                "check_lease",
                json!({"type": "check_lease"}),
            ),
            HistoryEvent::at_ms(
                done,
                Process::Client(client),
                node,
                EventType::Ok,
                "check_lease",
                ok,
            ),
        ]
    }

    fn drift(at: u64, n1: i64, n2: i64) -> HistoryEvent {
        HistoryEvent::at_ms(
            at,
            Process::Named("nemesis".into()),
            "n1",
            EventType::Info,
            "drift",
            json!({"offsets_ms": {"n1": n1, "n2": n2}}),
        )
    }

    fn verdicts(events: Vec<HistoryEvent>) -> Vec<CheckResult> {
        checks(&record(events))
    }

    #[test]
    fn leases_in_turn_are_safe_and_overlapping_ones_are_split_brain() {
        // n1 holds 100..1100 (local 1_000_100..1_001_100); n2 from 1200.
        let mut turns = acquire(1, "n1", 100, 100, 1_001_100);
        turns.extend(acquire(2, "n2", 1200, 1200, 1_002_200));
        let results = verdicts(turns);
        assert_eq!(results[0].valid, Validity::Valid, "{}", results[0].summary);

        // n1's clock is stepped back 300 ms at 500: it now holds until 1400, past n2's start.
        let mut late = acquire(1, "n1", 100, 100, 1_001_100);
        late.push(drift(500, -300, 0));
        late.extend(acquire(2, "n2", 1200, 1200, 1_002_200));
        let results = verdicts(late);
        assert_eq!(results[0].valid, Validity::Invalid);
        let why = &results[0].summary;
        assert!(
            why.contains("split-brain for 200.0 ms from 1.200 s"),
            "{why}"
        );
        assert!(why.contains("n1 -300 ms"), "{why}");
    }

    #[test]
    fn a_forward_step_ends_a_lease_at_the_step() {
        let clocks = Clocks::from_history(&record(vec![drift(500, 2000, 0)]).history).unwrap();
        assert_eq!(clocks.reaches("n1", 1_001_100.0, 100.0), 500.0);
        assert_eq!(clocks.reaches("n2", 1_001_100.0, 100.0), 1100.0);
        assert_eq!(clocks.reaches("n1", 1_000_050.0, 100.0), 100.0);
    }

    #[test]
    fn a_valid_check_inside_another_nodes_lease_is_split_brain() {
        let mut events = acquire(1, "n1", 100, 100, 1_001_100);
        events.extend(check_lease(2, "n2", 300, 310, 10));
        let results = verdicts(events);
        assert_eq!(results[0].valid, Validity::Invalid);
        assert!(
            results[0].summary.contains("n2 said it held"),
            "{}",
            results[0].summary
        );
        assert_eq!(
            results[1].valid,
            Validity::Invalid,
            "n2 was never granted a lease"
        );
    }

    #[test]
    fn an_acquisition_not_yet_answered_counts_its_duration_from_the_check() {
        // n1 asks at 100 for 1000 ms and is never answered; a check answered at 600 may
        // claim up to 1000 ms from then (local 1_001_600), not more.
        let mut events = vec![HistoryEvent::at_ms(
            100,
            Process::Client(1),
            "n1",
            EventType::Invoke,
            "acquire_lease",
            json!({"type": "acquire_lease", "duration_ms": 1000}),
        )];
        events.extend(check_lease(2, "n1", 599, 600, 999));
        assert_eq!(verdicts(events.clone())[1].valid, Validity::Valid);
        events.extend(check_lease(2, "n1", 700, 701, 1100));
        let results = verdicts(events);
        assert_eq!(
            results[1].valid,
            Validity::Invalid,
            "{}",
            results[1].summary
        );
        assert!(
            results[1].summary.contains("expires at 1001701"),
            "{}",
            results[1].summary
        );
        // Answered later: until then it counts as in flight, after that exactly.
        let mut answered = acquire(1, "n1", 100, 800, 1_001_100);
        answered.extend(check_lease(2, "n1", 700, 701, 1000));
        answered.extend(check_lease(2, "n1", 900, 901, 150));
        assert_eq!(verdicts(answered.clone())[1].valid, Validity::Valid);
        answered.extend(check_lease(2, "n1", 1000, 1001, 300));
        assert_eq!(verdicts(answered)[1].valid, Validity::Invalid);
    }

    #[test]
    fn check_answers_must_agree_with_the_grants() {
        let mut events = acquire(1, "n1", 100, 100, 1_001_100);
        events.extend(check_lease(1, "n1", 600, 601, 500));
        assert_eq!(verdicts(events.clone())[1].valid, Validity::Valid);
        events.extend(check_lease(1, "n1", 700, 701, 900));
        let results = verdicts(events);
        assert_eq!(results[1].valid, Validity::Invalid);
        assert!(
            results[1].summary.contains("expires at 1001100"),
            "{}",
            results[1].summary
        );
    }
}
