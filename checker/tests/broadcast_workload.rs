//! Maelstrom's broadcast workload on real processes: the reference node and a node written
//! the way Gossip Glomers solvers write one pass under partitions; the reference's bug
//! modes and a node that never resends fail, each with a witness in words.

mod support;

/// A short run under partitions, with a short recovery wait.
const SHORT: [&str; 10] = [
    "--time-limit",
    "5",
    "--rate",
    "40",
    "--recovery-s",
    "3",
    "--nemesis",
    "partition",
    "--nemesis-interval",
    "1.5",
];

#[test]
fn the_reference_and_a_gossip_glomers_node_pass_under_partitions() {
    let _turn = support::take_turn();
    let fixture = format!("python3 {}", support::fixture("maelstrom_broadcast.py"));
    let runs = vec![
        (
            support::reference_with("--workload broadcast"),
            SHORT.to_vec(),
            "1",
        ),
        (fixture, SHORT.to_vec(), "2"),
    ];
    for (code, results, _) in support::sim_runs("broadcast", &runs) {
        assert_eq!(code, 0, "{:?}", support::failed(&results));
        for name in ["broadcast", "broadcast-delivery"] {
            assert_eq!(support::check(&results, name)["valid"], true, "{name}");
        }
        let figures = &support::check(&results, "broadcast-figures")["figures"];
        assert!(figures["msgs_per_op"].as_f64().unwrap() > 0.0, "{figures}");
        assert!(figures["stable_count"].as_u64().unwrap() > 10, "{figures}");
        assert!(figures["stable_latency_ms"]["p50"].is_u64(), "{figures}");
        assert!(figures["stalls"]["stalled_ms"].is_number(), "{figures}");
        let topology = results["checks"].as_array().unwrap().iter().any(|c| {
            c["name"] == "availability" && c["summary"].as_str().unwrap().contains("topology")
        });
        assert!(topology, "every node was sent its topology");
    }
}

#[test]
fn lost_invented_and_undelivered_messages_fail_with_witnesses() {
    let _turn = support::take_turn();
    let bug = |b: &str| support::reference_with(&format!("--workload broadcast --bug {b}"));
    let fixture = format!(
        "python3 {} --broken",
        support::fixture("maelstrom_broadcast.py")
    );
    let quiet = vec!["--time-limit", "3", "--rate", "40", "--recovery-s", "1"];
    let runs = vec![
        (bug("keep-to-self"), quiet.clone(), "1"),
        (bug("forget-messages"), quiet.clone(), "1"),
        (bug("invent-message"), quiet, "1"),
        (fixture, SHORT.to_vec(), "3"),
    ];
    let results = support::sim_runs("broadcast", &runs);
    let expect = [
        ("broadcast-delivery", "is missing from the final reads of"),
        ("broadcast", "vanished from"),
        ("broadcast", "which no client ever broadcast"),
        ("broadcast-delivery", "is missing from the final"),
    ];
    for ((code, results, _), (check, words)) in results.iter().zip(expect) {
        assert_eq!(*code, 1, "{:?}", support::failed(results));
        assert_eq!(support::check(results, check)["valid"], false, "{check}");
        let why = support::first_why(results, check);
        assert!(why.contains(words), "{check}: {why}");
    }
    let broken = &results[3].1;
    assert_eq!(support::check(broken, "broadcast")["valid"], true);
}
