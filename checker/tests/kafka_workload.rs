//! Maelstrom's kafka workload on real processes: the reference (one owner per key) passes
//! with and without partitions, each of its kafka bug modes fails the check that guards
//! against it with a witness in words, and a node written the way Gossip Glomers solvers
//! write 5a-5c passes (on lin-kv, and in memory on one node) while its
//! broken variant loses writes.

mod support;

use support::{check, failed, first_why, fixture, reference_with, sim_runs, take_turn};

const CHECKS: [&str; 5] = [
    "lost-writes",
    "duplicate-offsets",
    "reordering",
    "poll-skips",
    "committed-offsets",
];

fn kafka_node(flags: &str) -> String {
    reference_with(&format!("--workload kafka {flags}"))
}

#[test]
fn the_reference_passes_with_and_without_partitions() {
    let _turn = take_turn();
    let partitions = vec![
        "--time-limit",
        "5",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
    ];
    let runs = vec![
        (kafka_node(""), vec!["--time-limit", "3"], "1"),
        (kafka_node(""), partitions.clone(), "2"),
        (kafka_node(""), partitions, "3"),
    ];
    for (code, results, _) in sim_runs("kafka", &runs) {
        assert_eq!(code, 0, "{:?}", failed(&results));
        for name in CHECKS {
            assert_eq!(check(&results, name)["valid"], true, "{name}");
        }
    }
}

#[test]
fn each_bug_mode_fails_its_check_with_a_witness() {
    let _turn = take_turn();
    let cases = [
        ("local-offsets", "duplicate-offsets", "holds"),
        ("skip-poll", "poll-skips", "but not offset"),
        (
            "lose-writes",
            "lost-writes",
            "was never returned by any poll",
        ),
        (
            "newest-first",
            "reordering",
            "offsets within a poll must increase",
        ),
        (
            "list-log-end",
            "committed-offsets",
            "skips messages no one processed",
        ),
    ];
    let runs: Vec<_> = cases
        .iter()
        .map(|(bug, _, _)| {
            (
                kafka_node(&format!("--bug {bug}")),
                vec!["--time-limit", "3"],
                "1",
            )
        })
        .collect();
    for ((bug, name, words), (code, results, _)) in cases.iter().zip(sim_runs("kafka", &runs)) {
        assert_eq!(code, 1, "{bug}: {:?}", failed(&results));
        assert_eq!(check(&results, name)["valid"], false, "{bug}");
        let why = first_why(&results, name);
        assert!(why.contains(words), "{bug}: {why}");
    }
}

#[test]
fn a_gossip_glomers_style_node_in_memory_or_on_lin_kv_passes_and_its_broken_variant_loses_writes() {
    // Challenge 5a on one node in memory, 5b on three nodes keeping everything in lin-kv;
    // the broken variant acknowledges every fifth send without storing it.
    let _turn = take_turn();
    let node = format!("python3 {}", fixture("maelstrom_kafka.py"));
    let one = vec!["--time-limit", "3", "--node-count", "1"];
    let three = vec!["--time-limit", "3"];
    let runs = vec![
        (format!("{node} --local"), one.clone(), "1"),
        (format!("{node} --local --broken"), one, "1"),
        (node.clone(), three.clone(), "1"),
        (format!("{node} --broken"), three, "1"),
    ];
    let results = sim_runs("kafka", &runs);
    for (code, fine, _) in [&results[0], &results[2]] {
        assert_eq!(*code, 0, "{:?}", failed(fine));
    }
    for (code, broken, _) in [&results[1], &results[3]] {
        assert_eq!(*code, 1, "{:?}", failed(broken));
        let why = first_why(broken, "lost-writes");
        assert!(why.contains("was never returned by any poll"), "{why}");
    }
}
