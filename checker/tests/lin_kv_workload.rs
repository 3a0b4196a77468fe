//! Maelstrom's lin-kv workload on real processes: the reference (Raft under Maelstrom's
//! name) and a Raft written the way Maelstrom's tutorial writes one pass under the
//! workload's own partitions; the tutorial Raft answering reads from the leader's local
//! state fails with a stale read in words.

mod support;

/// lin-kv's default faults, named because `support::sim_run` runs without faults unless
/// told.
const PARTITIONS: &str =
    "partition,partition-halves,partition-ring,partition-bridge,partition-leader";

#[test]
fn linearizable_nodes_pass_under_partitions_and_local_reads_fail_with_a_stale_read() {
    let _turn = support::take_turn();
    let tutorial = format!("python3 {}", support::fixture("maelstrom_raft.py"));
    let local_reads = support::local_reads_raft();
    let defaults = vec!["--nemesis", PARTITIONS];
    let short = vec!["--nemesis", PARTITIONS, "--time-limit", "5"];
    let stale = support::LOCAL_READS_RUN.to_vec();
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (support::reference_with("--workload lin-kv"), short, "1"),
        (tutorial, defaults, "1"),
        (local_reads.clone(), stale.clone(), "1"),
        (local_reads, stale, "2"),
    ];
    let results = support::sim_runs("lin-kv", &runs);
    for (code, fine, _) in &results[..2] {
        assert_eq!(*code, 0, "{:?}", support::failed(fine));
        assert_eq!(fine["nodes"][0], "n0", "Maelstrom numbers nodes from n0");
        let linearizable = support::check(fine, "linearizable");
        assert!(
            linearizable["figures"]["operations"].as_u64().unwrap_or(0) > 10,
            "the node served clients: {linearizable}"
        );
    }
    let whys: Vec<String> = results[2..]
        .iter()
        .map(|(_, run, _)| support::first_why(run, "linearizable"))
        .collect();
    assert!(
        whys.iter()
            .any(|why| why.contains("returned") && why.contains("nothing wrote")),
        "local reads were never caught: {whys:?}"
    );
}
