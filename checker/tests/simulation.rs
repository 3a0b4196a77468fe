//! `eddy test` and `eddy check` end to end on real processes: the reference passes under
//! faults, a broken mode fails with a witness, the same seed gives the same schedule, a
//! stored run re-checks to the same verdict, and misbehaving nodes never hang eddy or
//! outlive it.

mod support;

use serde_json::Value;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::{check, first_why, fixture, leftovers, marker, text};

/// Runs `eddy test -w pn-counter` into a fresh store, for 3 s with a fault every 0.5 s
/// (and no faults) unless `args` say otherwise; returns the output and the run folder.
fn pn_counter(store: &tempfile::TempDir, args: &[&str]) -> (Output, std::path::PathBuf) {
    let mut all = vec![
        "test",
        "-w",
        "pn-counter",
        "--store",
        store.path().to_str().unwrap(),
    ];
    for (flag, default) in [
        ("--time-limit", "3"),
        ("--nemesis-interval", "0.5"),
        ("--nemesis", "none"),
    ] {
        if !args.contains(&flag) {
            all.extend([flag, default]);
        }
    }
    all.extend_from_slice(args);
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(&all)
        .output()
        .unwrap();
    (out, store.path().join("latest"))
}

fn results(run: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap()
}

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_reference_passes_under_partitions_pauses_and_kills() {
    let store = tempfile::tempdir().unwrap();
    let (out, run) = pn_counter(
        &store,
        &[
            "--node-count",
            "5",
            "--nemesis",
            "partition,pause,kill",
            "--seed",
            "11",
            "--latency",
            "2",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let results = results(&run);
    assert_eq!(results["valid"], true);
    assert_eq!(check(&results, "final-value")["figures"]["final_reads"], 5);
    let history = lines(&run.join("history.jsonl"));
    let faults: Vec<&str> = history
        .iter()
        .filter(|e| e["process"] == "nemesis")
        .map(|e| e["f"].as_str().unwrap())
        .collect();
    assert!(
        faults.len() >= 4,
        "faults were injected and healed: {faults:?}"
    );
    assert!(std::fs::read_to_string(run.join("node-logs/n1.log"))
        .unwrap()
        .contains("--- eddy: start 1 of n1"));
    assert!(std::fs::read_to_string(run.join("net.jsonl"))
        .unwrap()
        .contains("\"writer\":\"n"));
}

#[test]
fn a_merge_that_overwrites_fails_with_a_witness() {
    let store = tempfile::tempdir().unwrap();
    let bin = format!("{} node --bug overwrite-merge", env!("CARGO_BIN_EXE_eddy"));
    let (out, run) = pn_counter(
        &store,
        &[
            "--node-count",
            "5",
            "--seed",
            "3",
            "--bin",
            &bin,
            "--rate",
            "100",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let results = results(&run);
    assert_eq!(results["valid"], false);
    let final_value = check(&results, "final-value");
    let witness = &final_value["witnesses"][0];
    assert!(
        witness["why"]
            .as_str()
            .unwrap()
            .contains("but acknowledged adds sum to"),
        "{witness}"
    );
    assert!(
        text(&out).contains("witness: final read on n"),
        "{}",
        text(&out)
    );
    // Stale gossip overwrote counts, so the nodes' own replicate messages went backwards.
    let wire = check(&results, "gossip-wire");
    assert_eq!(wire["valid"], false, "{wire}");
    assert!(
        first_why(&results, "gossip-wire").contains("a count went down"),
        "{wire}"
    );
    // Re-checking the store reaches the same verdict and exit status.
    let again = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["check", run.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("INVALID"));
}

/// A run's schedule: operations and faults, each as comparable JSON.
struct Schedule {
    ops: Vec<Value>,
    faults: Vec<Value>,
}

/// The schedule of a run: the running phase's client operations (node and body, in invoke
/// order; how many fit in the time limit depends on the machine's speed) and the nemesis's
/// actions, without times.
fn schedule(run: &std::path::Path) -> Schedule {
    let history = lines(&run.join("history.jsonl"));
    let ops = history
        .iter()
        .filter(|e| e["type"] == "invoke" && e["phase"].is_null())
        .map(|e| serde_json::json!([e["node"], e["body"]]))
        .collect();
    let faults = history
        .iter()
        .filter(|e| e["process"] == "nemesis")
        .map(|e| serde_json::json!([e["f"], e["node"], e["body"]]))
        .collect();
    Schedule { ops, faults }
}

#[test]
fn the_same_seed_gives_the_same_schedule_and_check_agrees() {
    let args = [
        "--node-count",
        "4",
        "--nemesis",
        "partition,kill,pause,drift",
        "--seed",
        "77",
        "--loss",
        "0.1",
    ];
    let (store_a, store_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (out_a, run_a) = pn_counter(&store_a, &args);
    let (out_b, run_b) = pn_counter(&store_b, &args);
    let (a, b) = (schedule(&run_a), schedule(&run_b));
    let common = a.ops.len().min(b.ops.len());
    assert!(common > 50, "enough operations to compare: {common}");
    assert_eq!(a.ops[..common], b.ops[..common], "operations differ");
    assert_eq!(a.faults, b.faults, "faults differ");
    // The same command but for each run's own --store.
    let unstored = |run: &std::path::Path, store: &tempfile::TempDir| {
        let reproduce = results(run)["reproduce"].as_str().unwrap().to_owned();
        reproduce.replace(store.path().to_str().unwrap(), "STORE")
    };
    assert_eq!(unstored(&run_a, &store_a), unstored(&run_b, &store_b));
    for (out, run) in [(out_a, run_a), (out_b, run_b)] {
        let again = Command::new(env!("CARGO_BIN_EXE_eddy"))
            .args(["check", run.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(
            again.status.code(),
            out.status.code(),
            "{}\n{}",
            text(&out),
            text(&again)
        );
    }
}

fn misbehaving(flag: &str, n: &str) -> (Output, Value, String) {
    misbehaving_with(flag, n, &[])
}

/// As [`misbehaving`], with `extra` flags for eddy.
fn misbehaving_with(flag: &str, n: &str, extra: &[&str]) -> (Output, Value, String) {
    let store = tempfile::tempdir().unwrap();
    let mark = marker(flag.trim_start_matches('-'));
    let bin = format!("python3 {} {flag} {n} {mark}", fixture("python_counter.py"));
    let mut args = vec![
        "--time-limit",
        "2",
        "--timeout",
        "1",
        "--seed",
        "5",
        "--bin",
        &bin,
    ];
    args.extend_from_slice(extra);
    let (out, run) = pn_counter(&store, &args);
    assert_eq!(
        leftovers(&mark),
        Vec::<u32>::new(),
        "{flag} left processes running"
    );
    // The record is complete and parseable whatever the node did.
    lines(&run.join("history.jsonl"));
    (out, results(&run), mark)
}

#[test]
fn replies_without_their_own_msg_id_complete_operations() {
    let store = tempfile::tempdir().unwrap();
    let bin = format!("python3 {} --bare-replies 1", fixture("python_counter.py"));
    let (out, run) = pn_counter(
        &store,
        &[
            "--node-count",
            "1",
            "--time-limit",
            "2",
            "--seed",
            "8",
            "--bin",
            &bin,
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let results = results(&run);
    assert_eq!(check(&results, "stats")["figures"]["availability"], 1.0);
    assert_eq!(check(&results, "final-value")["valid"], true);
}

#[test]
fn a_node_that_crashes_mid_run_is_reported() {
    let (out, results, _) = misbehaving("--crash-after", "30");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let crashes = check(&results, "crashes");
    assert_eq!(crashes["valid"], false);
    assert_eq!(
        crashes["witnesses"][0]["detail"]["exit"],
        "exited with code 7"
    );
    assert!(crashes["witnesses"][0]["detail"]["stderr"][0]
        .as_str()
        .unwrap()
        .contains("crashing on purpose"));
}

#[test]
fn a_node_that_writes_garbage_breaks_the_protocol_check() {
    let (out, results, _) = misbehaving("--garbage-every", "10");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let protocol = check(&results, "protocol");
    assert_eq!(protocol["valid"], false);
    assert!(
        protocol["witnesses"][0]["problem"]
            .as_str()
            .unwrap()
            .starts_with("not JSON"),
        "{protocol}"
    );
}

#[test]
fn a_node_that_stops_reading_stdin_does_not_stall_the_run() {
    let (out, results, _) = misbehaving("--stop-reading-after", "20");
    assert!(out.status.code().is_some(), "{}", text(&out));
    let by_f = &check(&results, "stats")["figures"]["by_f"];
    let infos: u64 = by_f
        .as_object()
        .unwrap()
        .values()
        .filter_map(|o| o["info"].as_u64())
        .sum();
    assert!(infos > 0, "operations on the stuck node time out: {by_f}");
}

#[test]
fn a_node_that_floods_does_not_stall_the_run() {
    let started = std::time::Instant::now();
    // A flooding node never converges: a 1 s target keeps each probe to 5 s.
    let (out, results, _) =
        misbehaving_with("--flood-after", "20", &["--convergence-target-ms", "1000"]);
    assert!(out.status.code().is_some(), "{}", text(&out));
    let stats = check(&results, "stats");
    assert!(
        stats["figures"]["node_messages"].as_u64().unwrap() > 10_000,
        "the flood was routed: {stats}"
    );
    assert!(started.elapsed() < Duration::from_secs(60), "the run ended");
}

#[test]
fn ctrl_c_leaves_a_complete_record_and_no_process() {
    let store = tempfile::tempdir().unwrap();
    let bin = format!("{} node --workload pn-counter", env!("CARGO_BIN_EXE_eddy"));
    let child = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args([
            "test",
            "-w",
            "pn-counter",
            "--time-limit",
            "60",
            "--store",
            store.path().to_str().unwrap(),
            "--bin",
            &bin,
            "--seed",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let run = store.path().join("latest");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(run.join("history.jsonl")).map_or(0, |h| h.lines().count()) < 20
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    let results = results(&run);
    assert_eq!(results["valid"], "unknown");
    assert_eq!(results["stopped_early"], "interrupted");
    assert!(lines(&run.join("history.jsonl")).len() >= 20);
    assert_eq!(leftovers(&bin), Vec::<u32>::new());
}

#[test]
fn a_node_that_cannot_start_exits_3() {
    let store = tempfile::tempdir().unwrap();
    let (out, _) = pn_counter(&store, &["--bin", "no-such-node-program-xyz"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("command not found"), "{}", text(&out));
    let bin = format!("python3 {} exit-before-init", fixture("misbehave.py"));
    let (out, _) = pn_counter(&store, &["--bin", &bin]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("exited with code 3 before answering init"),
        "{}",
        text(&out)
    );
}
