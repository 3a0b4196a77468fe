//! Durable state across restarts, proven both ways on real processes: the reference keeps
//! Raft's term and votes and the counter's own increments in `NODE_DATA_DIR` and passes, and
//! the reference with its state kept nowhere (`--bug forget-vote`, `--bug forget-increments`)
//! fails with a witness that names the restart. Each workload runs the reference and the
//! broken node side by side on the same seed, so both meet the same faults at the same moments.

mod support;

use serde_json::Value;

/// Every witness's `why` of a check.
fn whys(results: &Value, name: &str) -> Vec<String> {
    support::check(results, name)["witnesses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|w| w["why"].as_str().map(str::to_owned))
        .collect()
}

/// How many restarts the nemesis made in a run.
fn restarts(results: &Value, check: &str) -> u64 {
    support::check(results, check)["figures"]["restarts"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn raft_keeps_its_term_and_vote_across_restarts_and_a_node_that_forgets_them_is_caught() {
    let _turn = support::take_turn();
    // Seed 2 on 3 nodes with partitions and kills every 0.5 s: the leader is cut off at
    // 0.5 s (an election past term 1 follows), n2 is killed alone at 1.5 s, and the whole
    // cluster is killed at 2.6 s and started again at 3.1 s, so a node that keeps nothing
    // starts again from term 0 below the term it had sent before the kill. The schedule is
    // the seed's; only how many elections fit before the kill depends on timing.
    let args = vec![
        "--contract",
        "seed",
        "--node-count",
        "3",
        "--time-limit",
        "4",
        "--nemesis",
        "partition,kill",
        "--nemesis-interval",
        "0.5",
        "--latency",
        "5",
        "--timeout",
        "1",
    ];
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (support::reference_with(""), args.clone(), "2"),
        (support::reference_with("--bug forget-vote"), args, "2"),
    ];
    let results = support::sim_runs("raft", &runs);
    let (code, reference, _) = &results[0];
    assert_eq!(*code, 0, "{:?}", support::failed(reference));
    let durable = support::check(reference, "durable-state");
    assert_eq!(durable["valid"], true, "{durable}");
    assert_eq!(durable["kind"], "safety");
    assert!(restarts(reference, "durable-state") >= 3, "{durable}");
    assert!(
        durable["figures"]["judged_restarts"].as_u64().unwrap() >= 1,
        "the check judged restarts, it did not stay unknown: {durable}"
    );

    let (code, forgetful, _) = &results[1];
    assert_eq!(*code, 1, "{:?}", support::failed(forgetful));
    let durable = support::check(forgetful, "durable-state");
    assert_eq!(durable["valid"], false, "{durable}");
    let lost = whys(forgetful, "durable-state");
    let witness = |w: &String| {
        let term = w.contains(" before it was killed at ")
            && w.contains(" after its restart at ")
            && w.ends_with(": its term was not kept")
            && w.contains(" sent term ");
        let vote = w.contains(" voted for ") && w.ends_with(": its vote was not kept");
        term || vote
    };
    assert!(!lost.is_empty() && lost.iter().all(witness), "{lost:?}");
}

#[test]
fn an_acknowledged_increment_survives_restarts_and_a_counter_that_forgets_them_is_caught() {
    let _turn = support::take_turn();
    // Seed 2 on 3 nodes with kills every second: the nemesis kills the whole cluster at 1 s
    // (started again at 2 s) and again at 3 s, so a node that keeps its counts only in memory
    // loses every add acknowledged before each of those kills, and no peer is left to gossip
    // them back; after the first restart each node gossips its own count from zero again.
    let args = vec![
        "--contract",
        "seed",
        "--node-count",
        "3",
        "--time-limit",
        "4",
        "--adds",
        "400",
        "--nemesis",
        "kill",
        "--nemesis-interval",
        "1",
    ];
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (support::reference_with(""), args.clone(), "2"),
        (
            support::reference_with("--bug forget-increments"),
            args,
            "2",
        ),
    ];
    let results = support::sim_runs("pn-counter", &runs);
    let (code, reference, _) = &results[0];
    assert_eq!(*code, 0, "{:?}", support::failed(reference));
    // The same seed kills the same nodes at the same moments in both runs: the broken
    // node's witness below shows the whole cluster was killed.
    for name in ["final-value", "gossip-wire"] {
        assert_eq!(support::check(reference, name)["valid"], true, "{name}");
    }

    let (code, forgetful, _) = &results[1];
    assert_eq!(*code, 1, "{:?}", support::failed(forgetful));
    let final_value = support::first_why(forgetful, "final-value");
    assert!(
        final_value.starts_with("final read on n")
            && final_value.contains("n1, n2, n3 were restarted at ")
            && final_value.contains(" and the adds they acknowledged before the kill sum to ")
            && final_value.ends_with(
                ": a node that keeps its counts only in memory loses them when it is killed"
            ),
        "{final_value}"
    );
    let restarted = &support::check(forgetful, "final-value")["witnesses"][0]["restarts"];
    assert_eq!(restarted[0]["nodes"].as_array().map(Vec::len), Some(3));
    // The restarted nodes gossip their own counts from zero again: lost durable state on
    // the wire, which the seed contract judges.
    let wire = whys(forgetful, "gossip-wire");
    assert!(
        wire.iter().any(|w| {
            w.contains(", after its restart at ")
                && w.ends_with(
                    ": its own count (its acknowledged increments) was not kept across the restart",
                )
        }),
        "{wire:?}"
    );
}
