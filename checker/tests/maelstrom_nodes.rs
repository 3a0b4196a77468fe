//! Correct nodes written for Maelstrom, not for eddy, pass under Maelstrom's contract with
//! default options (SPEC section 5): a CRDT counter that gossips its own format every 5 s
//! and exits on a message type it does not know (`fixtures/maelstrom_crdt.py`), and a Raft
//! with 2-4 s elections under its own message names (`fixtures/maelstrom_raft.py
//! --own-names`). The same nodes break the seed contract, and their real bugs are caught
//! under either.

mod support;

#[test]
fn a_maelstrom_crdt_counter_passes_by_default_and_breaks_the_seed_contract() {
    let _turn = support::take_turn();
    let crdt = format!("python3 {}", support::fixture("maelstrom_crdt.py"));
    let broken = format!("{crdt} --broken-merge");
    let faults = vec!["--nemesis", "partition,pause", "--node-count", "3"];
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (crdt.clone(), vec![], "1"),
        (crdt.clone(), faults.clone(), "2"),
        (crdt.clone(), vec!["--contract", "seed"], "1"),
        // Merging by adding never converges: a 1 s target keeps each probe to 5 s.
        (broken, vec!["--convergence-target-ms", "1000"], "1"),
    ];
    let results = support::sim_runs("pn-counter", &runs);
    for (code, result, _) in &results[..2] {
        assert_eq!(*code, 0, "{:?}", support::failed(result));
        assert_eq!(
            support::check(result, "gossip-wire")["valid"],
            "not-applicable"
        );
        assert_eq!(support::check(result, "crashes")["valid"], true);
    }
    let (code, seed, _) = &results[2];
    assert_eq!(*code, 1, "{:?}", support::failed(seed));
    assert!(
        support::check(seed, "gossip-wire")["summary"]
            .as_str()
            .unwrap()
            .starts_with("the seed contract asks for gossip as `replicate"),
        "{:?}",
        support::failed(seed)
    );
    let (code, broken, _) = &results[3];
    assert_eq!(*code, 1, "{:?}", support::failed(broken));
    assert!(
        support::first_why(broken, "final-value").contains("but acknowledged adds sum to"),
        "{:?}",
        support::failed(broken)
    );
}

#[test]
fn a_maelstrom_raft_under_its_own_names_passes_by_default_and_breaks_the_seed_contract() {
    let _turn = support::take_turn();
    let raft = format!(
        "python3 {} --own-names",
        support::fixture("maelstrom_raft.py")
    );
    let partitions = vec![
        "--nemesis",
        "partition",
        "--timeout",
        "1",
        "--node-count",
        "3",
    ];
    let mut seed_args = partitions.clone();
    seed_args.extend(["--contract", "seed"]);
    let runs: Vec<(String, Vec<&str>, &str)> = vec![
        (raft.clone(), partitions.clone(), "1"),
        (raft.clone(), partitions, "5"),
        (raft, seed_args, "1"),
    ];
    let results = support::sim_runs("raft", &runs);
    for (code, result, _) in &results[..2] {
        assert_eq!(*code, 0, "{:?}", support::failed(result));
        assert_eq!(
            support::check(result, "election-safety")["valid"],
            "not-applicable"
        );
        assert_eq!(
            support::check(result, "raft-liveness")["figures"]["leader_known_from"],
            "client service"
        );
    }
    let (code, seed, _) = &results[2];
    assert_eq!(*code, 1, "{:?}", support::failed(seed));
    assert!(
        support::check(seed, "election-safety")["summary"]
            .as_str()
            .unwrap()
            .starts_with("the seed contract asks for Raft's messages"),
        "{:?}",
        support::failed(seed)
    );
}
