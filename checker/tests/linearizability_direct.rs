//! Deciding keys whose values are written at most once without a search (issue 18),
//! proven against the brute-force oracle on small random histories and against the search
//! on larger ones; its linearization orders replayed against the register; a key whose
//! values repeat handed to the search, which says so; every conflict told in words.

#[path = "support/histories.rs"]
mod histories;
#[path = "support/oracle.rs"]
mod oracle;

use eddy::check::linear::history::from_events;
use eddy::check::linear::{check, to_check_result, Engine, Limits, Report};
use eddy::check::Validity;
use eddy::history::{EventType, HistoryEvent};
use histories::{
    events, linearizable, make_one_read_future, make_one_read_stale, small_history, Shape, Values,
    NEVER,
};
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;
use EventType::{Fail, Info, Ok as Done};

fn run(events: &[HistoryEvent], engine: Engine) -> Report {
    let limits = Limits {
        timeout: Duration::from_secs(20),
        max_cache: 1 << 22,
        threads: 2,
        engine,
        orders: true,
    };
    check(from_events(events), limits)
}

/// Replays `order` (history indices of invokes) against a register per key: every
/// operation legal in turn, nothing placed after an operation that completed before that
/// one was invoked, and every operation that certainly took effect placed.
fn replays(events: &[HistoryEvent], report: &Report) -> Result<(), String> {
    let mut completion: HashMap<u64, &HistoryEvent> = HashMap::new();
    let mut open: HashMap<u64, u64> = HashMap::new();
    for e in events {
        let client = e.client().unwrap();
        match e.kind {
            EventType::Invoke => {
                open.insert(client, e.index);
            }
            _ => {
                completion.insert(open.remove(&client).unwrap(), e);
            }
        }
    }
    let by_index: HashMap<u64, &HistoryEvent> = events.iter().map(|e| (e.index, e)).collect();
    for (key, order) in &report.orders {
        let mut state = Value::Null;
        let mut latest_call = 0;
        for &i in order {
            let invoke = by_index[&i];
            let done = completion.get(&i).copied();
            let ret = match done {
                Some(d) if d.kind == EventType::Ok || d.kind == EventType::Fail => d.time,
                _ => NEVER,
            };
            if ret < latest_call {
                return Err(format!(
                    "key {key}: {i} completed before an earlier one began"
                ));
            }
            latest_call = latest_call.max(invoke.time);
            let body = &invoke.body;
            match invoke.f.as_str() {
                "read" | "lease_read" => {
                    let seen = match done {
                        Some(d) if d.kind == EventType::Ok => d.body["value"].clone(),
                        _ => Value::Null,
                    };
                    if seen != state {
                        return Err(format!("key {key}: read {i} saw {seen}, state {state}"));
                    }
                }
                "write" => state = body["value"].clone(),
                _ if body["from"] == state => state = body["to"].clone(),
                _ => {
                    return Err(format!(
                        "key {key}: cas {i} from {}, state {state}",
                        body["from"]
                    ))
                }
            }
        }
        let placed: std::collections::HashSet<u64> = order.iter().copied().collect();
        let key_value: Value = serde_json::from_str(key).unwrap();
        for (i, done) in &completion {
            let invoke = by_index[i];
            if invoke.body["key"] == key_value && done.kind == EventType::Ok && !placed.contains(i)
            {
                return Err(format!("key {key}: {i} took effect but is not placed"));
            }
        }
    }
    Ok(())
}

/// Small histories on two keys whose writes and cases each write a value never written
/// before; reads and cas `from` name a value written somewhere, the initial one, or now
/// and then one never written.
fn arbitrary_unique_history() -> impl Strategy<Value = Vec<HistoryEvent>> {
    // (client, key, kind, pick, gap, duration, outcome)
    prop::collection::vec(
        (0u64..3, 0u8..2, 0u8..3, 0i64..8, 0u64..4, 0u64..6, 0u8..4),
        1..9,
    )
    .prop_map(|raw| small_history(&raw, Values::Unique))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Decided without a search, with the same verdict as the oracle and the search, and
    /// every valid key's order replays.
    #[test]
    fn unique_histories_are_decided_directly_and_agree_with_the_oracle_and_the_search(
        h in arbitrary_unique_history()
    ) {
        let brute = oracle::linearizable(&h);
        let direct = run(&h, Engine::Auto);
        let search = run(&h, Engine::Search);
        prop_assert!(direct.searched.is_empty(), "{:?}", direct.searched);
        prop_assert_eq!(direct.valid == Validity::Valid, brute, "direct {:?}", direct.valid);
        prop_assert_eq!(search.valid == Validity::Valid, brute, "search {:?}", search.valid);
        if direct.valid == Validity::Valid {
            prop_assert_eq!(replays(&h, &direct), Ok(()));
        }
    }
}

/// `events` with one change: a read made to return another value written to its key, a
/// cas made to start from another, or an operation moved earlier by up to 5 ms (which
/// makes reads of the future, not only stale ones). Often no longer linearizable.
fn mutate(events: &mut [HistoryEvent], rng: &mut impl RngExt) {
    let written: Vec<Value> = events
        .iter()
        .filter(|e| e.kind == EventType::Invoke)
        .filter_map(|e| match e.f.as_str() {
            "write" => Some(e.body["value"].clone()),
            "cas" => Some(e.body["to"].clone()),
            _ => None,
        })
        .collect();
    if written.is_empty() {
        return;
    }
    let some_value = written[rng.random_range(0..written.len())].clone();
    let pick = |kind: EventType, f: &str, rng: &mut dyn rand::Rng| {
        let found: Vec<usize> = (0..events.len())
            .filter(|&i| events[i].kind == kind && (f.is_empty() || events[i].f == f))
            .collect();
        (!found.is_empty()).then(|| found[rng.random_range(0..found.len())])
    };
    match rng.random_range(0..3) {
        0 => {
            if let Some(i) = pick(EventType::Ok, "read", rng) {
                events[i].body["value"] = some_value;
            }
        }
        1 => {
            if let Some(i) = pick(EventType::Invoke, "cas", rng) {
                events[i].body["from"] = some_value;
            }
        }
        _ => {
            let Some(i) = pick(EventType::Invoke, "", rng) else {
                return;
            };
            let client = events[i].process.clone();
            let shift = rng.random_range(0..5_000_000).min(events[i].time);
            events[i].time -= shift;
            let call = events[i].time;
            // Its completion, the client's next event.
            if let Some(done) = events[i + 1..].iter_mut().find(|e| e.process == client) {
                done.time = done.time.saturating_sub(shift).max(call);
            }
        }
    }
}

/// Generated histories on one key with up to 8 clients, and mutations of them: the direct
/// decision and the search agree wherever the search decides, and valid orders replay.
#[test]
fn on_larger_histories_the_direct_decision_agrees_with_the_search() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
    let (mut valid, mut invalid, mut stale, mut undecided) = (0, 0, 0, 0);
    for seed in 0..400 {
        let shape = Shape {
            ops: 150 + seed as usize % 150,
            keys: 1 + seed as usize % 2,
            clients: 2 + seed as usize % 7,
            indefinite: 0.1,
        };
        let mut h = linearizable(shape, seed);
        match seed % 4 {
            0 => {}
            1 | 2 => {
                for _ in 0..rng.random_range(1..4) {
                    mutate(&mut h, &mut rng);
                }
            }
            _ => {
                make_one_read_stale(&mut h);
            }
        }
        let direct = run(&h, Engine::Auto);
        assert!(
            direct.searched.is_empty(),
            "seed {seed}: {:?}",
            direct.searched
        );
        assert_ne!(direct.valid, Validity::Unknown, "seed {seed}");
        if direct.valid == Validity::Valid {
            assert_eq!(replays(&h, &direct), Ok(()), "seed {seed}");
        }
        let search = run(&h, Engine::Search);
        match search.valid {
            Validity::Unknown => undecided += 1,
            v => {
                assert_eq!(direct.valid, v, "seed {seed}: {:?}", direct.violation);
                match v {
                    Validity::Valid => valid += 1,
                    // Stale reads are found before either engine runs.
                    _ if direct.stale_reads.is_empty() => invalid += 1,
                    _ => stale += 1,
                }
            }
        }
    }
    // The comparison means something only if both verdicts occur.
    let counts = format!("{valid} valid, {invalid} invalid by order, {stale} with stale reads, {undecided} undecided by the search");
    eprintln!("{counts}");
    assert!(valid > 50 && invalid > 50, "{counts}");
}

/// A value written twice goes to the search, and the result says so.
#[test]
fn a_key_whose_values_repeat_is_searched_and_the_summary_says_so() {
    let w = |v: i64| json!({"type": "write", "key": "x", "value": v});
    let ok = json!({"type": "write_ok"});
    let h = events(&[
        (1, 0, 10, Done, w(1), ok.clone()),
        (2, 20, 30, Done, w(2), ok.clone()),
        (3, 40, 50, Done, w(1), ok),
        (
            1,
            60,
            70,
            Fail,
            json!({"type": "read", "key": "y"}),
            json!({"type": "error", "code": 20}),
        ),
    ]);
    let report = run(&h, Engine::Auto);
    assert_eq!(
        report.valid,
        Validity::Valid,
        "{:?} {:?}",
        report.violation,
        report.unreadable
    );
    assert_eq!(
        report.searched,
        ["\"x\": a value is written more than once, so what each read saw is not known"]
    );
    assert_eq!(report.figures["keys_searched"], 1);
    assert_eq!(report.figures["keys_decided_directly"], 1);
    // Asked for, the search decides both keys.
    let searched = run(&h, Engine::Search);
    assert_eq!(searched.figures["keys_searched"], 2);
    assert_eq!(searched.figures["keys_decided_directly"], 0);
    // Only the key decided directly has an order.
    assert_eq!(report.orders, [("\"y\"".to_owned(), vec![6])]);
    let summary = to_check_result(&report).summary;
    assert!(
        summary.ends_with("; 1 of 2 key(s) searched, first \"x\": a value is written more than once, so what each read saw is not known)"),
        "{summary}"
    );
}

/// Every conflict the direct decision finds is told in words that name the operation no
/// order can place and the ones in its way.
#[test]
fn each_conflict_is_told_in_words() {
    let w = |v: i64| json!({"type": "write", "key": "x", "value": v});
    let r = json!({"type": "read", "key": "x"});
    let cas = |a: i64, b: i64| json!({"type": "cas", "key": "x", "from": a, "to": b});
    let ok = json!({"type": "ok"});
    let val = |v: i64| json!({"type": "read_ok", "value": v});
    // Times in milliseconds.
    let why = |ops: &[(u64, u64, u64, EventType, Value, Value)]| {
        let ms: Vec<_> = ops
            .iter()
            .map(|(c, call, ret, o, q, a)| {
                (
                    *c,
                    call * 1_000_000,
                    ret * 1_000_000,
                    *o,
                    q.clone(),
                    a.clone(),
                )
            })
            .collect();
        let report = run(&events(&ms), Engine::Auto);
        assert_eq!(report.valid, Validity::Invalid);
        assert!(report.stale_reads.is_empty(), "{:?}", report.stale_reads);
        let witness = report.violation.expect("a witness");
        assert_eq!(witness["kind"], "order");
        assert!(witness["cannot_place"]["op"].is_string(), "{witness}");
        witness["why"].as_str().unwrap().to_owned()
    };
    // A cas from a value nothing wrote.
    assert_eq!(
        why(&[(1, 0, 1, Done, w(1), ok.clone()), (1, 2, 3, Done, cas(5, 2), ok.clone())]),
        "cas \"x\" from 5 to 2 [client 1, 0.002 s to 0.003 s] cannot be placed: it needs \"x\" to hold 5, which nothing wrote"
    );
    // Two cases from the same value.
    let two = why(&[
        (1, 0, 1, Done, w(1), ok.clone()),
        (1, 2, 3, Done, cas(1, 2), ok.clone()),
        (2, 4, 5, Done, cas(1, 3), ok.clone()),
    ]);
    assert!(two.contains("also changed \"x\" from 1"), "{two}");
    // A read that completed before the write of its value began.
    let early = why(&[
        (2, 0, 1, Done, r.clone(), val(1)),
        (1, 2, 3, Done, w(1), ok.clone()),
    ]);
    assert!(
        early.starts_with("read of \"x\" returned 1")
            && early.contains("cannot be placed: it must come after write \"x\"=1")
            && early.contains("which wrote the 1 it needs, but it completed at 0.001 s, before that was invoked at 0.002 s"),
        "{early}"
    );
    // Two values that must each hold across overlapping stretches.
    let overlap = why(&[
        (1, 0, 10, Done, w(1), ok.clone()),
        (2, 5, 20, Done, w(2), ok.clone()),
        (3, 25, 40, Done, r.clone(), val(1)),
        (4, 30, 50, Done, r.clone(), val(2)),
    ]);
    assert_eq!(
        overlap,
        "read of \"x\" returned 1 [client 3, 0.025 s to 0.040 s] cannot be placed: the stretch of \"x\" that begins with write \"x\"=1 [client 1, 0.000 s to 0.010 s] and the one that begins with write \"x\"=2 [client 2, 0.005 s to 0.020 s] cannot overlap (no value is written twice), and neither can come first: write \"x\"=2 completed at 0.020 s, before read of \"x\" returned 1 was invoked at 0.025 s; and write \"x\"=1 completed at 0.010 s, before read of \"x\" returned 2 was invoked at 0.030 s"
    );
}

/// An operation whose outcome was unknown is never shown as completed, and when no order
/// can place it the witness names what shows it took effect; instants that milliseconds
/// would show equal get microseconds; objects equal but for the order of their members are
/// one value.
#[test]
fn witnesses_tell_unknown_outcomes_and_close_instants_truly() {
    let why = |ops: &[(u64, u64, u64, EventType, Value, Value)]| {
        let report = run(&events(ops), Engine::Auto);
        assert_eq!(report.valid, Validity::Invalid);
        let witness = report.violation.expect("an order witness");
        witness["why"].as_str().unwrap().to_owned()
    };
    let ms = 1_000_000;
    let cas = |a: i64, b: i64| json!({"type": "cas", "key": "x", "from": a, "to": b});
    let r = json!({"type": "read", "key": "x"});
    let val = |v: i64| json!({"type": "read_ok", "value": v});
    let ok = json!({"type": "ok"});
    // The cas never completed; the read of 2 shows it took effect, before the write of
    // the 1 it needs began.
    let resolved = why(&[
        (2, 0, NEVER, Info, cas(1, 2), Value::Null),
        (3, 2 * ms, 3 * ms, Done, r.clone(), val(2)),
        (
            1,
            10 * ms,
            11 * ms,
            Done,
            json!({"type": "write", "key": "x", "value": 1}),
            ok.clone(),
        ),
    ]);
    assert_eq!(
        resolved,
        "cas \"x\" from 1 to 2 (outcome unknown; it took effect by 0.003 s, when its value was first seen) [client 2, 0.000 s to never] cannot be placed: it must come after write \"x\"=1 [client 1, 0.010 s to 0.011 s], which wrote the 1 it needs, but it took effect by 0.003 s, before that was invoked at 0.010 s; its outcome was unknown, but it took effect: read of \"x\" returned 2 [client 3, 0.002 s to 0.003 s] depends on what it wrote"
    );
    // Two cases of unknown outcome lead to the value a read saw; the first needs a value
    // nothing wrote.
    let chained = why(&[
        (1, 0, NEVER, Info, cas(5, 1), Value::Null),
        (2, 0, NEVER, Info, cas(1, 2), Value::Null),
        (3, ms, 2 * ms, Done, r.clone(), val(2)),
    ]);
    assert!(
        chained.starts_with("cas \"x\" from 5 to 1 (outcome unknown) [client 1, 0.000 s to never] cannot be placed: it needs \"x\" to hold 5, which nothing wrote; its outcome was unknown, but it took effect: read of \"x\" returned 2"),
        "{chained}"
    );
    // 0.2 ms apart.
    let close = why(&[
        (3, 1_000_000_000, 1_000_100_000, Done, r, val(1)),
        (
            1,
            1_000_300_000,
            1_000_400_000,
            Done,
            json!({"type": "write", "key": "x", "value": 1}),
            ok.clone(),
        ),
    ]);
    assert!(
        close.ends_with("but it completed at 1.000100 s, before that was invoked at 1.000300 s"),
        "{close}"
    );
    let objects = events(&[
        (
            1,
            0,
            1,
            Done,
            json!({"type": "write", "key": "x", "value": {"a": 1, "b": 2}}),
            ok,
        ),
        (
            2,
            2,
            3,
            Done,
            json!({"type": "read", "key": "x"}),
            json!({"type": "read_ok", "value": {"b": 2, "a": 1}}),
        ),
    ]);
    assert_eq!(run(&objects, Engine::Auto).valid, Validity::Valid);
    assert_eq!(run(&objects, Engine::Search).valid, Validity::Valid);
}

/// 3,000 operations on one key from 100 clients, decided with a budget no search gets far
/// in: the direct decision does not use it.
#[test]
fn a_hundred_clients_on_one_key_are_decided_without_the_budget() {
    let shape = Shape {
        ops: 3_000,
        keys: 1,
        clients: 100,
        indefinite: 0.1,
    };
    let mut h = linearizable(shape, 7);
    let limits = Limits {
        timeout: Duration::from_millis(1),
        max_cache: 1,
        threads: 1,
        engine: Engine::Auto,
        orders: true,
    };
    let direct = check(from_events(&h), limits);
    assert_eq!(direct.valid, Validity::Valid);
    assert_eq!(replays(&h, &direct), Ok(()));
    // A read of the future: no stale-read scan sees it, the order refutes it.
    let mut future = h.clone();
    make_one_read_future(&mut future).expect("a read to send to the future");
    let report = check(from_events(&future), limits);
    assert_eq!(report.valid, Validity::Invalid);
    assert!(report.stale_reads.is_empty());
    assert_eq!(report.violation.expect("an order witness")["kind"], "order");
    make_one_read_stale(&mut h).expect("a read to make stale");
    assert_eq!(check(from_events(&h), limits).valid, Validity::Invalid);
}
