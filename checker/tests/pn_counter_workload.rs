//! The pn-counter workload's checks, proven both ways: the reference passes every check
//! (also under faults), and each broken mode of the reference fails the check that guards
//! against it, with a witness.

mod support;

use serde_json::Value;
use std::process::Command;
use support::{check, first_why, fixture, text};

fn run(args: &[&str]) -> (i32, Value, String) {
    let store = tempfile::tempdir().unwrap();
    let mut all = vec![
        "test",
        "-w",
        "pn-counter",
        "--store",
        store.path().to_str().unwrap(),
    ];
    if !args.contains(&"--node-count") {
        all.extend(["--node-count", "5"]);
    }
    // These runs hold the reference and its broken modes to the seed's contract (gossip
    // as `replicate`, `gossip_status`, the 1 s convergence target), unless they say.
    if !args.contains(&"--contract") {
        all.extend(["--contract", "seed"]);
    }
    if !args.contains(&"--nemesis") {
        all.extend(["--nemesis", "none"]);
    }
    all.extend_from_slice(args);
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(&all)
        .output()
        .unwrap();
    let results = std::fs::read_to_string(store.path().join("latest/results.json")).unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_str(&results).unwrap(),
        text(&out),
    )
}

fn bug(name: &str) -> String {
    format!("{} node --bug {name}", env!("CARGO_BIN_EXE_eddy"))
}

#[test]
fn the_reference_converges_well_under_the_target() {
    let (code, results, out) = run(&["--adds", "400", "--seed", "21"]);
    assert_eq!(code, 0, "{out}");
    let convergence = check(&results, "convergence");
    assert_eq!(convergence["valid"], true);
    assert_eq!(convergence["figures"]["measurements"], 4);
    assert!(
        convergence["figures"]["max_ms"].as_f64().unwrap() < 1000.0,
        "{convergence}"
    );
    assert_eq!(check(&results, "gossip-wire")["figures"]["observed"], true);
    assert_eq!(check(&results, "gossip-status")["valid"], true);
    assert!(
        out.contains("convergence       valid    4 measurements: p50"),
        "{out}"
    );
}

#[test]
fn the_reference_passes_every_check_under_faults() {
    let (code, results, out) = run(&[
        "--adds",
        "600",
        "--seed",
        "22",
        "--nemesis",
        "partition,pause,kill",
        "--nemesis-interval",
        "0.7",
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(results["valid"], true);
    let convergence = check(&results, "convergence");
    assert!(
        convergence["figures"]["skipped_during_faults"]
            .as_u64()
            .unwrap()
            + convergence["figures"]["measurements"].as_u64().unwrap()
            >= 6,
        "{convergence}"
    );
}

#[test]
fn a_merge_that_double_counts_breaks_the_final_value() {
    let (code, results, _) = run(&[
        "--adds",
        "300",
        "--seed",
        "23",
        "--bin",
        &bug("double-count"),
    ]);
    assert_eq!(code, 1);
    let final_value = check(&results, "final-value");
    assert_eq!(final_value["valid"], false);
    assert!(first_why(&results, "final-value").contains("but acknowledged adds sum to"));
}

#[test]
fn no_gossip_never_converges() {
    let (code, results, _) = run(&[
        "--adds",
        "200",
        "--seed",
        "24",
        "--bin",
        &bug("no-gossip"),
        "--convergence-target-ms",
        "200",
    ]);
    assert_eq!(code, 1);
    // gossip-wire below catches it whatever the machine did.
    support::fails_unless_stalled(&results, "convergence", &["the nodes still disagreed"]);
    // The seed contract asks for gossip as `replicate`: a silent cluster breaks it.
    let wire = check(&results, "gossip-wire");
    assert_eq!(wire["valid"], false, "{wire}");
    assert!(wire["summary"]
        .as_str()
        .unwrap()
        .starts_with("the seed contract asks for gossip as `replicate"));
}

#[test]
fn the_wire_check_does_not_apply_to_a_node_gossiping_under_other_names() {
    let bin = format!("python3 {}", fixture("python_counter.py"));
    let (code, results, out) = run(&[
        "--adds",
        "100",
        "--node-count",
        "1",
        "--seed",
        "25",
        "--bin",
        &bin,
    ]);
    assert_eq!(code, 0, "{out}");
    let wire = check(&results, "gossip-wire");
    assert_eq!(wire["valid"], "not-applicable", "{wire}");
    assert!(wire["summary"]
        .as_str()
        .unwrap()
        .starts_with("not applicable"));
    assert_eq!(check(&results, "final-value")["valid"], true);
}

#[test]
fn a_gossip_status_that_disagrees_with_reads_fails() {
    let bin = format!("python3 {} --lie-status 1", fixture("python_counter.py"));
    let (code, results, out) = run(&[
        "--adds",
        "100",
        "--node-count",
        "1",
        "--seed",
        "26",
        "--bin",
        &bin,
    ]);
    assert_eq!(code, 1, "{out}");
    let status = check(&results, "gossip-status");
    assert_eq!(status["valid"], false);
    assert!(
        first_why(&results, "gossip-status").contains("in the quiet final phase, but read"),
        "{status}"
    );
    assert_eq!(check(&results, "final-value")["valid"], true);
}
