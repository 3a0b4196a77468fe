//! The raft workload's checks, proven both ways: the reference passes under partitions,
//! pauses and kills; broken modes fail with witnesses. Whether a broken node misbehaves
//! within a short run depends on real timing, so each broken mode gets several seeds and
//! must fail on at least one.

mod support;

use serde_json::Value;

/// One broken mode (or the reference), its faults, mean latency in ms, fault interval in s, seed.
type Case = (
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    u64,
);

/// The node command and arguments of a case (`--seed` is added by `sim_runs`).
fn run_of((bug, nemesis, latency, interval, _): Case) -> (String, Vec<&'static str>) {
    let flags = bug.map_or(String::new(), |bug| format!("--bug {bug}"));
    let args = vec![
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
    ];
    (support::reference_with(&flags), args)
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
    let _turn = support::take_turn();
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
        (Some("forget-vote"), "kill", "5", "1", 2),
        (Some("forget-vote"), "kill", "5", "1", 3),
        (Some("forget-vote"), "kill", "5", "1", 4),
    ];
    let seeds: Vec<String> = cases.iter().map(|case| case.4.to_string()).collect();
    let runs: Vec<(String, Vec<&str>, &str)> = cases
        .iter()
        .zip(&seeds)
        .map(|(case, seed)| {
            let (bin, args) = run_of(*case);
            (bin, args, seed.as_str())
        })
        .collect();
    let results = support::sim_runs("raft", &runs);
    for (case, (code, result, _)) in cases.iter().zip(&results).filter(|(c, _)| c.0.is_none()) {
        assert_eq!(*code, 0, "{case:?}: {:?}", failed_checks(result));
    }
    for bug in ["vote-twice", "early-ack", "local-reads", "forget-vote"] {
        let failures: Vec<Vec<String>> = cases
            .iter()
            .zip(&results)
            .filter(|(c, _)| c.0 == Some(bug))
            .map(|(_, (_, r, _))| failed_checks(r))
            .collect();
        assert!(
            failures.iter().any(|f| !f.is_empty()),
            "{bug} was never caught: {failures:?}"
        );
        if bug == "forget-vote" {
            // A cluster restarted without its state starts again from term 0.
            assert!(
                failures.iter().flatten().any(|f| f.contains("\"terms\"")),
                "the terms check never saw a term go backwards: {failures:?}"
            );
        }
    }
}

#[test]
fn liveness_is_judged_against_its_thresholds_apart_from_safety() {
    let args = [
        "--node-count",
        "3",
        "--time-limit",
        "2",
        "--seed",
        "4",
        "--max-first-leader-ms",
        "1",
    ];
    let (code, results, _) = support::sim_run("raft", &support::reference_with(""), &args);
    assert_eq!(code, 1);
    let failed = failed_checks(&results);
    assert_eq!(failed.len(), 1, "only liveness fails: {failed:?}");
    assert!(
        failed[0].contains("raft-liveness") && failed[0].contains("the first leader took"),
        "{failed:?}"
    );
}

#[test]
fn a_node_written_for_maelstrom_runs_unchanged_and_is_judged_alike() {
    // A tutorial-style Python Raft: 1-indexed log, forwarding with the client's src, 2 s
    // election timeouts. Its first leader comes after 2 s at the earliest, so a 1 s
    // first-leader limit fails liveness alone while every safety check stays valid.
    let _turn = support::take_turn();
    let node = format!("python3 {}", support::fixture("maelstrom_raft.py"));
    let slow = vec![
        "--node-count",
        "5",
        "--time-limit",
        "10",
        "--timeout",
        "1",
        "--latency",
        "5",
        "--nemesis",
        "partition,pause",
        "--nemesis-interval",
        "2",
        "--max-first-leader-ms",
        "1000",
    ];
    let broken = support::local_reads_raft();
    let stale_args = support::LOCAL_READS_RUN.to_vec();
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (node, slow, "1"),
        (broken.clone(), stale_args.clone(), "1"),
        (broken, stale_args, "2"),
    ];
    let results = support::sim_runs("raft", &runs);
    let (plain, stale) = results.split_first().expect("three runs");
    let (code, results, _) = plain;
    let failed = failed_checks(results);
    assert_eq!(*code, 1, "{failed:?}");
    assert_eq!(failed.len(), 1, "only liveness fails: {failed:?}");
    assert!(failed[0].contains("raft-liveness"), "{failed:?}");
    let linearizable = &results["checks"][0];
    assert_eq!(linearizable["name"], "linearizable");
    assert!(
        linearizable["figures"]["operations"].as_u64().unwrap_or(0) > 10,
        "the node served clients: {linearizable}"
    );
    assert!(
        stale
            .iter()
            .any(|(_, r, _)| failed_checks(r).iter().any(|f| f.contains("stale read"))),
        "local reads were never caught: {:?}",
        stale
            .iter()
            .map(|(_, r, _)| failed_checks(r))
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_cluster_that_never_serves_again_after_a_fault_is_a_liveness_witness() {
    let _turn = support::take_turn();
    // One node, known to lead only from the clients it serves (no Raft names on the wire),
    // that refuses everything once it has been restarted.
    let node = format!("python3 {}", support::fixture("serve_once.py"));
    let args = [
        "--node-count",
        "1",
        "--nemesis",
        "kill",
        "--nemesis-interval",
        "1",
        "--time-limit",
        "3",
        "--timeout",
        "1",
        "--seed",
        "1",
    ];
    let (code, results, _) = support::sim_run("raft", &node, &args);
    assert_eq!(code, 1, "{:?}", failed_checks(&results));
    let liveness = support::first_why(&results, "raft-liveness");
    assert!(
        liveness.starts_with("after the kill of leader n1 at ")
            && liveness.contains("no client was ever served again"),
        "{liveness}"
    );
    let availability = support::check(&results, "availability");
    assert_eq!(availability["valid"], false, "{availability}");
    assert!(
        availability["summary"]
            .as_str()
            .unwrap()
            .contains("no final-phase `read` was served"),
        "{availability}"
    );
    assert_eq!(support::check(&results, "linearizable")["valid"], true);
    assert_eq!(
        support::check(&results, "election-safety")["valid"],
        "not-applicable"
    );
}
