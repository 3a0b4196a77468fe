//! The lease-read workload's checks, proven both ways on real processes: the reference
//! passes under partitions, pauses and drift inside its assumption, with most lease reads
//! served at zero round trips; a leader that serves lease reads after its lease ran out, and
//! a configuration the seed's rule calls unsafe forced on a node, each return stale reads
//! that the checker shows with their server and draws; a node that hides its round trips
//! is refuted by the routed traffic; a node that judges configurations without the skew
//! fails lease-config.
//!
//! A partition lasts 3 s and elections take 1-1.5 s, so every run cuts a leader off long
//! enough for a new one to take over while the old one still believes in its lease. How
//! many requests reach the old leader in that window depends on the machine's load, so
//! each broken mode gets two or three seeds and must be caught on at least one; the heavy
//! tests take turns.

mod support;

use serde_json::Value;
use support::{check, first_why, fixture, reference_with, sim_runs, take_turn, SimRun};

/// Settings every run shares: busy, with 1-1.5 s elections.
const BUSY: [&str; 10] = [
    "--timeout",
    "1",
    "--rate",
    "200",
    "--concurrency",
    "10",
    "--latency",
    "2",
    "--election-ms",
    "1000",
];

/// Inside the reference's assumption: skew 400 ms (twice the drift bound), lease 1000 ms
/// (effective 600 ms), elections from 1000 ms.
const INSIDE: [&str; 6] = [
    "--lease-ms",
    "1000",
    "--max-drift-ms",
    "200",
    "--nemesis",
    "partition,pause,drift",
];

/// The same configuration with only the faults that cut a leader off while it still
/// believes in its lease (a paused leader learns of the new term before it reads the
/// requests that queued up behind it).
const CUT_OFF: [&str; 6] = [
    "--lease-ms",
    "1000",
    "--max-drift-ms",
    "200",
    "--nemesis",
    "partition,drift",
];

/// A lease the seed's rule calls unsafe: effective 7000 ms against 1000 ms elections, with
/// the leader cut off. A stale read needs a successor elected and writing while the old
/// leader still believes in its lease, and a loaded machine slows elections: with a 4000 ms
/// lease and a random minority cut, two seeds both missed about one time in six even idle.
/// Until the generator stopped probing after an unsafe run configuration, its probe (lease
/// 3000 ms, effective 2000) replaced this lease in the broken node, which missed on all three
/// seeds in a CI run; with 8000 ms in force, 12 of 12 runs were caught at load 2 per core.
const UNSAFE: [&str; 6] = [
    "--lease-ms",
    "8000",
    "--max-drift-ms",
    "500",
    "--nemesis",
    "partition-leader,drift",
];

/// A configuration at the edge of the seed's rule (lease 4000 ms, skew 3000 ms: effective
/// 1000 ms against 1000 ms elections): unsafe only because clocks drift, by up to 3000 ms
/// during a lease. Drift steps land half an interval into each partition, while the
/// cut-off leader still holds, and only a step back makes its lease outlast the election.
/// At load 2 per core, 8 of 12 runs were caught (lease 3000, skew 2000: 5 of 12).
const EDGE: [&str; 10] = [
    "--lease-ms",
    "4000",
    "--max-drift-ms",
    "1500",
    "--nemesis",
    "partition,drift",
    "--time-limit",
    "15",
    "--nemesis-interval",
    "1.9",
];

/// `extra` on 9 s runs that cut the leader off for 3 s at a time.
fn args(extra: &[&'static str]) -> Vec<&'static str> {
    let short = ["--time-limit", "9", "--nemesis-interval", "3"];
    BUSY.iter().chain(&short).chain(extra).copied().collect()
}

fn stale_lease_reads(results: &Value) -> u64 {
    check(results, "linearizable")["figures"]["stale_lease_reads"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn stale_lease_reads_are_caught_and_drawn_and_the_reference_is_linearizable() {
    let reference = reference_with("");
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (reference.clone(), args(&INSIDE), "1"),
        (reference.clone(), args(&INSIDE), "2"),
        (reference_with("--bug expired-lease"), args(&CUT_OFF), "1"),
        (reference_with("--bug expired-lease"), args(&CUT_OFF), "2"),
    ];
    let _turn = take_turn();
    let results = sim_runs("lease-read", &runs);
    for (code, results, picture) in &results[..2] {
        assert_eq!(*code, 0, "{results}");
        let zero = &check(results, "zero-round-trips")["figures"];
        assert!(
            zero["zero_round_trip_claims"].as_u64().unwrap() > 10,
            "the lease served reads locally: {zero}"
        );
        assert!(picture.contains("none stale"), "{picture:.300}");
    }
    // Its stale reads come after its lease ran out, or from a new leader that never held
    // one and has not yet applied what the old leader committed.
    let claim = "with lease_valid true, 0 round trip(s)";
    assert_caught_at_least_once(&results[2..], "expired-lease", claim);
}

#[test]
fn an_unsafe_configuration_is_refused_by_the_reference_and_goes_stale_when_forced() {
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (reference_with(""), args(&UNSAFE), "1"),
        (reference_with("--bug unsafe-lease"), args(&UNSAFE), "1"),
        (reference_with("--bug unsafe-lease"), args(&UNSAFE), "2"),
        (reference_with("--bug unsafe-lease"), args(&UNSAFE), "3"),
    ];
    let _turn = take_turn();
    let results = sim_runs("lease-read", &runs);

    // The reference refuses the unsafe configuration, so it holds no lease and confirms
    // every lease read with a round trip.
    let (code, refused, _) = &results[0];
    assert_eq!(*code, 0, "{refused}");
    let zero = &check(refused, "zero-round-trips")["figures"];
    assert_eq!(zero["zero_round_trip_claims"], 0, "{zero}");
    assert!(zero["lease_reads_ok"].as_u64().unwrap() > 10, "{zero}");

    // Forced on a broken node, the same configuration returns stale reads.
    assert_caught_at_least_once(&results[1..], "the unsafe configuration", "believing");
}

#[test]
fn at_the_edge_of_the_seed_rule_drift_alone_makes_a_forced_lease_go_stale() {
    let edge: Vec<&str> = BUSY.iter().chain(&EDGE).copied().collect();
    // A step back lands on the cut-off leader in about two runs of three, at load: six seeds,
    // three clusters at a time.
    let runs = |seeds: [&'static str; 3]| -> Vec<(String, Vec<&str>, &str)> {
        seeds
            .into_iter()
            .map(|seed| (reference_with("--bug unsafe-lease"), edge.clone(), seed))
            .collect()
    };
    let _turn = take_turn();
    let mut results = sim_runs("lease-read", &runs(["1", "2", "3"]));
    results.extend(sim_runs("lease-read", &runs(["4", "5", "6"])));
    assert_caught_at_least_once(&results, "the edge configuration", "believing");
}

#[test]
fn hidden_round_trips_and_a_wrong_formula_are_caught() {
    let python = format!("python3 {}", fixture("skewless_config.py"));
    let quick = vec![
        "--time-limit",
        "2",
        "--lease-ms",
        "1000",
        "--max-drift-ms",
        "200",
    ];
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (
            reference_with("--bug hidden-round-trip"),
            args(&INSIDE),
            "1",
        ),
        (python, quick, "1"),
    ];
    let _turn = take_turn();
    let results = sim_runs("lease-read", &runs);

    let (code, hidden, _) = &results[0];
    assert_eq!(*code, 1);
    assert_eq!(check(hidden, "zero-round-trips")["valid"], false);
    assert!(
        first_why(hidden, "zero-round-trips").contains("claimed 0 round trips"),
        "{}",
        check(hidden, "zero-round-trips")
    );
    assert_eq!(check(hidden, "linearizable")["valid"], true);

    let (code, skewless, _) = &results[1];
    assert_eq!(*code, 1);
    let why = first_why(skewless, "lease-config");
    assert!(
        why.contains("effective_lease_ms 1000 (the formula gives 600)"),
        "{why}"
    );
}

/// At least one run returned stale lease reads (`what` names the mode), and each that did
/// is shown as [`assert_caught`] asks, its witness containing `claim`.
fn assert_caught_at_least_once(runs: &[SimRun], what: &str, claim: &str) {
    let caught: Vec<SimRun> = runs
        .iter()
        .filter(|(_, r, _)| stale_lease_reads(r) > 0)
        .cloned()
        .collect();
    assert!(!caught.is_empty(), "{what} was never caught");
    assert_caught(&caught, claim);
}

/// Every run failed `linearizable` with stale lease reads whose witness names the server
/// and contains `claim`, and drew them.
fn assert_caught(runs: &[SimRun], claim: &str) {
    for (code, results, picture) in runs {
        assert_eq!(*code, 1, "{}", check(results, "linearizable"));
        assert!(
            stale_lease_reads(results) > 0,
            "{}",
            check(results, "linearizable")
        );
        let witness = &check(results, "linearizable")["witnesses"][0];
        let why = witness["why"].as_str().unwrap();
        assert!(why.contains(claim) && why.contains("answered it"), "{why}");
        assert!(witness["served_by"].is_string(), "{witness}");
        assert!(picture.contains("stale read(s) in red"), "{picture:.300}");
        assert!(picture.contains("#DC1E1E"), "stale reads are drawn in red");
    }
}
