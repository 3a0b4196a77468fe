//! The heartbeat workload's checks, proven both ways in one run of five clusters side by
//! side (each takes the protocol's 35 s; they mostly sleep): the reference master passes,
//! and each broken master fails the check that guards against it, with a witness.

mod support;

use serde_json::Value;

/// The first witness of a check that must have failed.
fn first_witness(results: &Value, name: &str) -> String {
    assert_eq!(
        support::check(results, name)["valid"],
        false,
        "{name} should fail"
    );
    support::first_why(results, name)
}

#[test]
fn the_reference_master_passes_and_every_broken_master_fails() {
    let cases: [(Option<&str>, &str); 5] = [
        (None, "4"),
        (Some("never-dead"), "4"),
        (Some("hasty-death"), "4"),
        (Some("delete-needed"), "4"),
        (Some("count-dead-chunks"), "4"),
    ];
    let runs: Vec<(String, Vec<&str>, &str)> = cases
        .iter()
        .map(|(bug, seed)| {
            let flags = bug.map_or(String::new(), |bug| format!("--bug {bug}"));
            (support::reference_with(&flags), Vec::new(), *seed)
        })
        .collect();
    let results = support::sim_runs("heartbeat", &runs);
    let (code, reference, _) = &results[0];
    assert_eq!(*code, 0, "{reference}");
    assert_eq!(reference["valid"], true);
    assert!(first_witness(&results[1].1, "failure-detection").contains("alive after at least"));
    // A master that never sees a death never re-replicates its chunks.
    assert!(
        first_witness(&results[1].1, "replication").contains("but no server was told to copy it")
    );
    assert!(
        first_witness(&results[4].1, "replication").contains("but no server was told to copy it")
    );
    assert!(first_witness(&results[2].1, "failure-detection").contains("dead after at most"));
    assert!(first_witness(&results[3].1, "replication").contains("to delete"));
    assert!(first_witness(&results[4].1, "failure-detection")
        .contains("a dead server's replicas stop counting"));
    for (code, _, _) in &results[1..] {
        assert_eq!(*code, 1);
    }
}
