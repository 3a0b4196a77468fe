//! The raft workload's checks, proven both ways: the reference passes under partitions,
//! pauses and kills; broken modes fail with witnesses. Whether a broken node misbehaves
//! within a short run depends on real timing, so each broken mode gets several seeds and
//! must fail on at least one.

use serde_json::Value;
use std::process::Command;

/// One broken mode (or the reference), its faults, mean latency in ms, fault interval in s, seed.
type Case = (
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    u64,
);

fn run((bug, nemesis, latency, interval, seed): Case) -> (i32, Value) {
    let store = tempfile::tempdir().unwrap();
    let bin = match bug {
        Some(bug) => format!("{} node --bug {bug}", env!("CARGO_BIN_EXE_eddy")),
        None => format!("{} node", env!("CARGO_BIN_EXE_eddy")),
    };
    let seed = seed.to_string();
    let args = [
        "test",
        "-w",
        "raft",
        "--node-count",
        "5",
        "--time-limit",
        "12",
        "--timeout",
        "1",
        "--latency",
        latency,
        "--rate",
        "100",
        "--nemesis",
        nemesis,
        "--nemesis-interval",
        interval,
        "--seed",
        &seed,
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(args)
        .args(["--bin", &bin, "--store", store.path().to_str().unwrap()])
        .output()
        .unwrap();
    let results = std::fs::read_to_string(store.path().join("latest/results.json")).unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_str(&results).unwrap(),
    )
}

fn failed_checks(results: &Value) -> Vec<String> {
    results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["valid"] == false)
        .map(|c| format!("{}: {}", c["name"], c["summary"]))
        .collect()
}

#[test]
fn the_reference_passes_and_broken_modes_fail() {
    // Concurrent candidates (which vote-twice needs) are likelier with slow links and
    // frequent faults; stale reads need a leader cut off long enough for a new one to write.
    let cases: Vec<Case> = vec![
        (None, "partition,pause,kill", "5", "2", 1),
        (None, "partition,kill", "20", "0.5", 7),
        (Some("vote-twice"), "partition,kill", "20", "0.5", 7),
        (Some("vote-twice"), "partition,kill", "20", "0.5", 8),
        (Some("vote-twice"), "partition,kill", "20", "0.5", 9),
        (Some("vote-twice"), "partition,kill", "20", "0.5", 10),
        (Some("early-ack"), "partition", "5", "2", 5),
        (Some("early-ack"), "partition", "5", "2", 6),
        (Some("early-ack"), "partition", "5", "2", 7),
        (Some("local-reads"), "partition", "5", "2", 1),
        (Some("local-reads"), "partition", "5", "2", 2),
        (Some("local-reads"), "partition", "5", "2", 3),
        (Some("local-reads"), "partition", "5", "2", 4),
    ];
    let results: Vec<(i32, Value)> = std::thread::scope(|scope| {
        let handles: Vec<_> = cases
            .iter()
            .map(|case| scope.spawn(move || run(*case)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (case, (code, result)) in cases.iter().zip(&results).filter(|(c, _)| c.0.is_none()) {
        assert_eq!(*code, 0, "{case:?}: {:?}", failed_checks(result));
    }
    for bug in ["vote-twice", "early-ack", "local-reads"] {
        let failures: Vec<Vec<String>> = cases
            .iter()
            .zip(&results)
            .filter(|(c, _)| c.0 == Some(bug))
            .map(|(_, (_, r))| failed_checks(r))
            .collect();
        assert!(
            failures.iter().any(|f| !f.is_empty()),
            "{bug} was never caught: {failures:?}"
        );
    }
}

#[test]
fn liveness_is_judged_against_its_thresholds_apart_from_safety() {
    let store = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args([
            "test",
            "-w",
            "raft",
            "--node-count",
            "3",
            "--time-limit",
            "2",
            "--seed",
            "4",
            "--max-first-leader-ms",
            "1",
        ])
        .args(["--store", store.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(store.path().join("latest/results.json")).unwrap(),
    )
    .unwrap();
    let failed = failed_checks(&results);
    assert_eq!(failed.len(), 1, "only liveness fails: {failed:?}");
    assert!(
        failed[0].contains("raft-liveness") && failed[0].contains("the first leader took"),
        "{failed:?}"
    );
}
