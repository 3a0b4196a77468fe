//! Maelstrom's unique-ids, g-set and g-counter workloads on real processes: the reference
//! (and Gossip-Glomers-style Python nodes for unique-ids, and for g-counter on `seq-kv`)
//! passes under partitions, and a
//! broken node fails the check that guards what it breaks, with a witness in words.

mod support;

use std::path::Path;

/// Runs every `(node command, args)` side by side, each into its own store under `root`
/// (`root/0`, `root/1`, ...), with `--seed 1`.
fn runs_in(root: &Path, workload: &str, runs: &[(String, Vec<&str>)]) -> Vec<support::SimRun> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .enumerate()
            .map(|(i, (bin, args))| {
                let store = root.join(i.to_string());
                scope.spawn(move || {
                    let args: Vec<&str> = args.iter().copied().chain(["--seed", "1"]).collect();
                    support::sim_run_in(&store, workload, bin, &args)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// How many partitions the nemesis made in the run stored under `store`.
fn partitions(store: &Path) -> usize {
    std::fs::read_to_string(store.join("latest/history.jsonl"))
        .unwrap()
        .lines()
        .filter(|line| {
            line.contains(r#""process":"nemesis""#) && line.contains(r#""f":"partition""#)
        })
        .count()
}

#[test]
fn unique_ids_stay_unique_and_available_under_partitions_and_collisions_are_named() {
    let _turn = support::take_turn();
    let root = tempfile::tempdir().unwrap();
    let fixture = format!("python3 {}", support::fixture("maelstrom_unique_ids.py"));
    let args = vec![
        "--time-limit",
        "4",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--availability",
        "total",
    ];
    let runs = vec![
        (
            support::reference_with("--workload unique-ids"),
            args.clone(),
        ),
        (fixture.clone(), args.clone()),
        (
            support::reference_with("--workload unique-ids --bug no-node-id"),
            args.clone(),
        ),
        (format!("{fixture} --broken"), args),
    ];
    let results = runs_in(root.path(), "unique-ids", &runs);
    for (i, (code, fine, _)) in results[..2].iter().enumerate() {
        assert_eq!(*code, 0, "run {i}: {:?}", support::failed(fine));
        assert_eq!(support::check(fine, "unique-ids")["valid"], true);
        // Maelstrom's --availability total: every generate answered, partitions or not.
        assert_eq!(
            support::check(fine, "availability")["figures"]["share_ok"],
            1.0
        );
        assert!(
            partitions(&root.path().join(i.to_string())) >= 1,
            "run {i} saw no partition"
        );
    }
    for (code, broken, _) in &results[2..] {
        assert_eq!(*code, 1, "{:?}", support::failed(broken));
        let why = support::first_why(broken, "unique-ids");
        assert!(
            why.contains("was handed out twice: in n") && why.contains("and again in n"),
            "{why}"
        );
    }
}

#[test]
fn a_g_set_keeps_every_acknowledged_element_and_one_gossiping_once_loses_some() {
    let _turn = support::take_turn();
    let root = tempfile::tempdir().unwrap();
    let args = vec![
        "--time-limit",
        "5",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--g-set-target-ms",
        "1000",
    ];
    let runs = vec![
        (support::reference_with("--workload g-set"), args.clone()),
        (
            support::reference_with("--workload g-set --bug gossip-once"),
            args,
        ),
    ];
    let results = runs_in(root.path(), "g-set", &runs);
    let (code, fine, _) = &results[0];
    assert_eq!(*code, 0, "{:?}", support::failed(fine));
    let set = support::check(fine, "set-full");
    assert_eq!(set["valid"], true, "{set}");
    assert!(
        set["figures"]["stable_count"].as_u64().unwrap() > 50,
        "{set}"
    );
    assert_eq!(support::check(fine, "convergence")["valid"], true);
    assert!(partitions(&root.path().join("0")) >= 1);
    let (code, broken, _) = &results[1];
    assert_eq!(*code, 1, "{:?}", support::failed(broken));
    let why = support::first_why(broken, "set-full");
    assert!(
        why.contains("is missing from the final read of n")
            && why.contains("must reach every node once faults heal"),
        "{why}"
    );
    support::fails_unless_stalled(broken, "convergence", &["still disagreed", "a set of"]);
}

#[test]
fn a_g_counter_converges_to_its_adds_and_broken_merges_and_gossip_are_caught() {
    let _turn = support::take_turn();
    let root = tempfile::tempdir().unwrap();
    let args = vec![
        "--time-limit",
        "4",
        "--nemesis",
        "partition",
        "--nemesis-interval",
        "1",
        "--g-counter-target-ms",
        "1000",
    ];
    let runs = vec![
        (
            support::reference_with("--workload g-counter"),
            args.clone(),
        ),
        (
            support::reference_with("--workload g-counter --bug double-count"),
            args.clone(),
        ),
        (
            support::reference_with("--workload g-counter --bug no-gossip"),
            args,
        ),
    ];
    let results = runs_in(root.path(), "g-counter", &runs);
    let (code, fine, _) = &results[0];
    assert_eq!(*code, 0, "{:?}", support::failed(fine));
    assert_eq!(support::check(fine, "final-value")["valid"], true);
    assert_eq!(support::check(fine, "convergence")["valid"], true);
    assert!(partitions(&root.path().join("0")) >= 1);
    let (code, double, _) = &results[1];
    assert_eq!(*code, 1, "{:?}", support::failed(double));
    let why = support::first_why(double, "final-value");
    assert!(why.contains("over, as if acknowledged adds"), "{why}");
    let (code, silent, _) = &results[2];
    assert_eq!(*code, 1, "{:?}", support::failed(silent));
    // The final value catches the bug whatever the machine did.
    support::fails_unless_stalled(silent, "convergence", &["the nodes still disagreed"]);
    let short = support::first_why(silent, "final-value");
    assert!(
        short.contains("nodes disagree") || short.contains("misses"),
        "{short}"
    );
}

#[test]
fn a_gossip_glomers_g_counter_on_seq_kv_passes_and_lost_or_stale_adds_fail() {
    // Challenge 4's usual solution: one counter in seq-kv, adds by read and compare-and-set,
    // reads after a write of the node's own key. Default faults (partitions never cut a
    // node off from a service). A blind write loses concurrent adds; a read that does not
    // write first keeps reading seq-kv's past.
    let _turn = support::take_turn();
    let store = tempfile::tempdir().unwrap();
    let counter = format!("python3 {}", support::fixture("maelstrom_g_counter.py"));
    let defaults = vec![
        "--nemesis",
        "partition,partition-halves,partition-ring,partition-bridge",
        "--time-limit",
        "4",
    ];
    // The broken ones never agree: a 1 s target keeps each convergence probe to 5 s.
    let quick = [&defaults[..], &["--g-counter-target-ms", "1000"]].concat();
    let runs = vec![
        (counter.clone(), defaults),
        (format!("{counter} --broken"), quick.clone()),
        (format!("{counter} --no-sync"), quick),
    ];
    let results = runs_in(store.path(), "g-counter", &runs);
    let (code, fine, _) = &results[0];
    assert_eq!(*code, 0, "{:?}", support::failed(fine));
    for (code, broken, _) in &results[1..] {
        assert_eq!(*code, 1, "{:?}", support::failed(broken));
        let why = support::first_why(broken, "final-value");
        assert!(why.contains("it misses"), "{why}");
    }
}
