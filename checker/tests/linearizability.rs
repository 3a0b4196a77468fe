//! The linearizability checker: hand-made histories for every rule, random linearizable
//! histories that must pass, the same with one stale read that must fail, and agreement
//! with a brute-force checker on thousands of small random histories.

#[path = "support/histories.rs"]
mod histories;

use eddy::check::linear::history::from_events;
use eddy::check::linear::{check, Engine, Limits};
use eddy::check::Validity;
use eddy::history::{EventType, HistoryEvent, Process};
use histories::{events, linearizable, make_one_read_stale, small_history, Shape, Values, NEVER};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::time::Duration;

fn limits() -> Limits {
    Limits {
        timeout: Duration::from_secs(20),
        max_cache: 1 << 22,
        threads: 2,
        engine: Engine::Auto,
        orders: false,
    }
}

fn verdict(events: &[HistoryEvent]) -> Validity {
    check(from_events(events), limits()).valid
}

use EventType::{Fail, Info, Ok as Done};

#[test]
fn hand_made_histories() {
    let w = |k: &str, v: i64| json!({"type": "write", "key": k, "value": v});
    let r = |k: &str| json!({"type": "read", "key": k});
    let cas = |k: &str, a: i64, b: i64| json!({"type": "cas", "key": k, "from": a, "to": b});
    let ok = json!({"type": "ok"});
    let val = |v: i64| json!({"type": "read_ok", "value": v});
    let absent = json!({"type": "error", "code": 20});
    // Concurrent writes, then reads that agree on one of them.
    let h = events(&[
        (1, 0, 10, Done, w("x", 1), ok.clone()),
        (2, 0, 10, Done, w("x", 2), ok.clone()),
        (3, 20, 30, Done, r("x"), val(1)),
        (4, 40, 50, Done, r("x"), val(1)),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
    // ...but not flip-flopping between them.
    let h = events(&[
        (1, 0, 10, Done, w("x", 1), ok.clone()),
        (2, 0, 10, Done, w("x", 2), ok.clone()),
        (3, 20, 30, Done, r("x"), val(1)),
        (4, 40, 50, Done, r("x"), val(2)),
    ]);
    assert_eq!(verdict(&h), Validity::Invalid);
    // A cas chain, and a cas that could not have matched.
    let h = events(&[
        (1, 0, 1, Done, w("x", 1), ok.clone()),
        (1, 2, 3, Done, cas("x", 1, 2), ok.clone()),
        (2, 4, 5, Done, cas("x", 2, 3), ok.clone()),
        (1, 6, 7, Done, r("x"), val(3)),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
    let h = events(&[
        (1, 0, 1, Done, w("x", 1), ok.clone()),
        (1, 2, 3, Done, cas("x", 5, 2), ok.clone()),
    ]);
    assert_eq!(verdict(&h), Validity::Invalid);
    // A failed cas never happened.
    let h = events(&[
        (1, 0, 1, Done, w("x", 1), ok.clone()),
        (
            1,
            2,
            3,
            Fail,
            cas("x", 5, 2),
            json!({"type": "error", "code": 22}),
        ),
        (1, 4, 5, Done, r("x"), val(1)),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
    // An indefinite write that must be assumed to have happened (it is read) ...
    let h = events(&[
        (1, 0, 1, Done, w("x", 1), ok.clone()),
        (
            2,
            2,
            3,
            Info,
            w("x", 2),
            json!({"type": "error", "code": 0}),
        ),
        (3, 9, 10, Done, r("x"), val(2)),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
    // ... one that must not (the old value is read long after) ...
    let h = events(&[
        (1, 0, 1, Done, w("x", 1), ok.clone()),
        (
            2,
            2,
            3,
            Info,
            w("x", 2),
            json!({"type": "error", "code": 0}),
        ),
        (3, 9, 10, Done, r("x"), val(1)),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
    // ... and one that cannot explain a read that ended before it began.
    let h = events(&[
        (3, 0, 1, Done, r("x"), val(2)),
        (2, 2, NEVER, Info, w("x", 2), Value::Null),
    ]);
    assert_eq!(verdict(&h), Validity::Invalid);
    // Reads of absent keys: fine before any write, stale after one.
    let h = events(&[
        (1, 0, 1, Fail, r("y"), absent.clone()),
        (1, 2, 3, Done, w("y", 1), ok.clone()),
        (
            2,
            4,
            5,
            Done,
            json!({"type": "lease_read", "key": "y"}),
            json!({"type": "lease_read_ok", "value": 1}),
        ),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
    let h = events(&[
        (1, 2, 3, Done, w("y", 1), ok.clone()),
        (2, 4, 5, Fail, r("y"), absent),
    ]);
    let report = check(from_events(&h), limits());
    assert_eq!(report.valid, Validity::Invalid);
    assert_eq!(report.stale_reads[0]["why"], "read of \"y\" found the key absent at 0.000 s, but write \"y\"=1 completed at 0.000 s and keys are never deleted");
    // Keys are independent.
    let h = events(&[
        (1, 0, 1, Done, w("a", 1), ok.clone()),
        (2, 2, 3, Done, w("b", 2), ok),
        (1, 4, 5, Done, r("a"), val(1)),
        (2, 6, 7, Done, r("b"), val(2)),
    ]);
    assert_eq!(verdict(&h), Validity::Valid);
}

#[test]
fn stale_reads_are_explained_like_a_person_would() {
    let ok = json!({"type": "write_ok"});
    let h = events(&[
        (
            1,
            0,
            1_000_000_000,
            Done,
            json!({"type": "write", "key": "x", "value": 3}),
            ok.clone(),
        ),
        (
            2,
            1_050_000_000,
            1_100_000_000,
            Done,
            json!({"type": "write", "key": "x", "value": 5}),
            ok,
        ),
        (
            3,
            1_150_000_000,
            1_204_000_000,
            Done,
            json!({"type": "lease_read", "key": "x"}),
            json!({"type": "lease_read_ok", "value": 3}),
        ),
    ]);
    let report = check(from_events(&h), limits());
    assert_eq!(report.stale_reads.len(), 1);
    assert_eq!(report.stale_reads[0]["why"], "lease_read of \"x\" returned 3 at 1.204 s, but write \"x\"=5 completed at 1.100 s and nothing wrote 3 after it");
}

#[test]
fn random_linearizable_histories_pass_and_one_stale_read_fails() {
    for seed in 0..40 {
        let shape = Shape {
            ops: 400,
            keys: 1 + seed as usize % 4,
            clients: 2 + seed as usize % 8,
            indefinite: 0.1,
        };
        let mut h = linearizable(shape, seed);
        let report = check(from_events(&h), limits());
        assert_eq!(
            report.valid,
            Validity::Valid,
            "seed {seed}: {:?} {:?}",
            report.stale_reads.first(),
            report.violation
        );
        if make_one_read_stale(&mut h).is_some() {
            let report = check(from_events(&h), limits());
            assert_eq!(
                report.valid,
                Validity::Invalid,
                "seed {seed}: the stale read went unnoticed"
            );
            assert!(!report.stale_reads.is_empty());
        }
    }
}

#[path = "support/oracle.rs"]
mod oracle;

#[test]
fn the_brute_force_oracle_itself_catches_a_stale_read() {
    let w = |v: i64| json!({"type": "write", "key": "x", "value": v});
    let r = json!({"type": "read", "key": "x"});
    let ok = json!({"type": "write_ok"});
    let val = |v: i64| json!({"type": "read_ok", "value": v});
    let valid = events(&[
        (1, 0, 10, Done, w(1), ok.clone()),
        (2, 5, 15, Done, w(2), ok.clone()),
        (3, 20, 30, Done, r.clone(), val(2)),
        (1, 40, 50, Done, r.clone(), val(2)),
    ]);
    assert!(oracle::linearizable(&valid));
    // The same, but the first read returns the value overwritten before it began.
    let stale = events(&[
        (1, 0, 10, Done, w(1), ok.clone()),
        (2, 12, 15, Done, w(2), ok),
        (3, 20, 30, Done, r.clone(), val(1)),
        (1, 40, 50, Done, r, val(2)),
    ]);
    assert!(!oracle::linearizable(&stale));
}

fn arbitrary_history() -> impl Strategy<Value = Vec<HistoryEvent>> {
    // (client, key, kind, value, gap, duration, outcome)
    prop::collection::vec(
        (0u64..3, 0u8..2, 0u8..3, 0i64..3, 0u64..4, 0u64..6, 0u8..4),
        1..8,
    )
    .prop_map(|raw| small_history(&raw, Values::Repeating))
}

/// Like [`arbitrary_history`], with every kind of outcome: lease reads (`null` for an
/// absent key), definite errors on every operation, reads of unknown outcome, and a
/// nemesis event that is no client's. An absent key reads as `null` or error 20.
fn arbitrary_history_with_every_outcome() -> impl Strategy<Value = Vec<HistoryEvent>> {
    // (client, key, kind, value, gap, duration, outcome)
    (
        prop::collection::vec(
            (0u64..3, 0u8..2, 0u8..4, 0i64..3, 0u64..4, 0u64..6, 0u8..5),
            1..8,
        ),
        0usize..8,
    )
        .prop_map(|(raw, nemesis_at)| {
            let mut clock = [0u64; 3];
            let mut ops = Vec::new();
            for (client, key, kind, value, gap, dur, outcome) in raw {
                let call = clock[client as usize] + gap;
                let ret = call + dur;
                clock[client as usize] = ret + 1;
                let key = ["x", "y"][key as usize];
                let error = |code: u64| json!({"type": "error", "code": code});
                let (request, done) = match kind {
                    0 => (
                        json!({"type": "read", "key": key}),
                        if value == 0 {
                            (Fail, error(20))
                        } else {
                            (Done, json!({"type": "read_ok", "value": value}))
                        },
                    ),
                    1 => (
                        json!({"type": "lease_read", "key": key}),
                        (
                            if value == 0 && gap % 2 == 1 { Fail } else { Done },
                            if value == 0 && gap % 2 == 1 {
                                error(20)
                            } else {
                                json!({"type": "lease_read_ok", "value": if value == 0 { Value::Null } else { json!(value) }})
                            },
                        ),
                    ),
                    2 => (
                        json!({"type": "write", "key": key, "value": value}),
                        (Done, json!({"type": "write_ok"})),
                    ),
                    _ => (
                        json!({"type": "cas", "key": key, "from": value, "to": (value + 1) % 3}),
                        (Done, json!({"type": "cas_ok"})),
                    ),
                };
                let (outcome, reply, ret) = match outcome {
                    0 | 1 => (done.0, done.1, ret),
                    2 if kind == 3 => (Fail, error(22), ret),
                    2 => (Fail, error(11), ret),
                    3 => (Info, error(0), ret),
                    _ => (Info, Value::Null, NEVER),
                };
                ops.push((client + 1, call, ret, outcome, request, reply));
            }
            let mut h = events(&ops);
            let at = nemesis_at.min(h.len());
            let time = h.get(at).map_or(0, |e| e.time);
            h.insert(
                at,
                HistoryEvent {
                    index: 0,
                    time,
                    process: Process::Named("nemesis".into()),
                    node: Some("n1".into()),
                    kind: Info,
                    f: "kill".into(),
                    body: json!({}),
                    phase: None,
                },
            );
            for (i, e) in h.iter_mut().enumerate() {
                e.index = i as u64;
            }
            h
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn agrees_with_brute_force_on_every_outcome(h in arbitrary_history_with_every_outcome()) {
        let brute = oracle::linearizable(&h);
        let fast = check(from_events(&h), limits()).valid;
        prop_assert_eq!(fast == Validity::Valid, brute, "fast {:?}, brute {}", fast, brute);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn agrees_with_brute_force(h in arbitrary_history()) {
        let brute = oracle::linearizable(&h);
        let fast = check(from_events(&h), limits()).valid;
        prop_assert_eq!(fast == Validity::Valid, brute, "fast {:?}, brute {}", fast, brute);
    }

    #[test]
    fn generated_linearizable_histories_pass_and_turn_invalid_when_a_read_goes_stale(seed in 0u64..1_000_000) {
        let shape = Shape { ops: 60, keys: 2, clients: 4, indefinite: 0.1 };
        let mut h = linearizable(shape, seed);
        prop_assert_eq!(check(from_events(&h), limits()).valid, Validity::Valid);
        if make_one_read_stale(&mut h).is_some() {
            prop_assert_eq!(check(from_events(&h), limits()).valid, Validity::Invalid);
        }
    }
}
