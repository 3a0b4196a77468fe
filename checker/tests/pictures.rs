//! Each workload's own picture on real short runs: drawn, listed in `results.json`'s
//! `pictures`, with its legend; a reference run's without red, a broken node's with the
//! red mark where its check failed (raft, pn-counter, heartbeat).

mod support;

use std::path::Path;
use support::{reference_with, sim_run_in, take_turn};

/// The red of violations in every picture.
const RED: &str = "#DC1E1E";

/// Runs `workload` on `bin` with `args`; its exit code, results and the picture `file`.
fn drawn(workload: &str, bin: &str, args: &[&str], file: &str) -> (serde_json::Value, String) {
    let store = tempfile::tempdir().unwrap();
    let (_, results, _) = sim_run_in(store.path(), workload, bin, args);
    let listed: Vec<&str> = results["pictures"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    let path = listed
        .iter()
        .find(|p| p.ends_with(file))
        .unwrap_or_else(|| panic!("{workload}: {file} not listed in {listed:?}"));
    assert!(Path::new(path).starts_with(store.path()), "{path}");
    let svg = std::fs::read_to_string(path).unwrap();
    (results, svg)
}

fn valid(results: &serde_json::Value, check: &str) -> serde_json::Value {
    support::check(results, check)["valid"].clone()
}

#[test]
fn every_reference_run_draws_its_picture_with_a_legend_and_no_red() {
    let _turn = take_turn();
    let node = reference_with("");
    let cases = [
        ("raft", "leaders.svg", "leader of a term"),
        (
            "pn-counter",
            "convergence.svg",
            "expected: the sum of acknowledged adds",
        ),
        (
            "g-counter",
            "convergence.svg",
            "converged on the expected value",
        ),
        ("heartbeat", "liveness.svg", "master reports alive"),
    ];
    for (workload, file, legend) in cases {
        let (results, svg) = drawn(workload, &node, &["--time-limit", "3"], file);
        assert!(svg.contains(legend), "{workload}: no legend in {svg:.400}");
        if results["verdict"] == "valid" {
            assert!(!svg.contains(RED), "{workload}: red in a valid run");
        }
    }
}

#[test]
fn a_broken_node_is_drawn_in_red() {
    let _turn = take_turn();
    // Gossip added twice: the nodes agree on a value no adds explain.
    let (results, svg) = drawn(
        "pn-counter",
        &reference_with("--bug double-count"),
        &["--time-limit", "3"],
        "convergence.svg",
    );
    assert_eq!(valid(&results, "final-value"), false);
    assert!(
        svg.contains(RED) && svg.contains("off the expected value"),
        "{svg:.400}"
    );
    // A master that declares death after one missed heartbeat: the silence starts at 6 s.
    let (results, svg) = drawn(
        "heartbeat",
        &reference_with("--bug hasty-death"),
        &["--time-limit", "12"],
        "liveness.svg",
    );
    assert_eq!(valid(&results, "failure-detection"), false);
    assert!(
        svg.contains(RED) && svg.contains("wrong report"),
        "{svg:.400}"
    );
    // Votes given twice: two leaders of one term, when the run shows one, are red.
    let mut caught = 0;
    for seed in ["7", "8"] {
        let (results, svg) = drawn(
            "raft",
            &reference_with("--bug vote-twice"),
            &[
                "--node-count",
                "5",
                "--time-limit",
                "12",
                "--timeout",
                "1",
                "--latency",
                "20",
                "--rate",
                "100",
                "--nemesis",
                "partition,kill",
                "--nemesis-interval",
                "0.5",
                "--seed",
                seed,
            ],
            "leaders.svg",
        );
        if valid(&results, "election-safety") == false {
            caught += 1;
            assert!(
                svg.contains(RED) && svg.contains("two leaders"),
                "{svg:.400}"
            );
        } else {
            assert!(!svg.contains(RED), "red without a broken term");
        }
    }
    assert!(caught > 0, "vote-twice never made two leaders of one term");
}
