//! `eddy test --test-count` end to end on real processes: many runs with one table and the
//! worst verdict, `--fail-fast`, `--partition` shards that together run every seed once,
//! `--jobs`, the JUnit report, `--nemesis none` and the workload's default faults, Ctrl-C,
//! and the usage errors. Runs are short (`--time-limit 1`) lease runs, which take about
//! 1.5 s each; the cluster tests take turns.

mod support;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};
use support::{leftovers, take_turn, text};

/// `eddy test -w lease` for 1 s at 20 operations per second into `store`, then `args`.
fn lease(store: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "test",
        "-w",
        "lease",
        "--time-limit",
        "1",
        "--rate",
        "20",
        "--store",
        store.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    Command::cargo_bin("eddy")
        .unwrap()
        .args(&all)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap()
}

/// The run folders of a store (`latest` aside), oldest first.
fn run_folders(store: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(store) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap() != "latest")
        .collect();
    dirs.sort();
    dirs
}

fn results(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap()
}

/// The seeds of a store's runs, in order.
fn seeds(store: &Path) -> Vec<u64> {
    let mut seeds: Vec<u64> = run_folders(store)
        .iter()
        .map(|run| results(run)["seed"].as_u64().unwrap())
        .collect();
    seeds.sort_unstable();
    seeds
}

/// The history events of a run that came from the nemesis.
fn nemesis_events(run: &Path) -> usize {
    std::fs::read_to_string(run.join("history.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["process"] == "nemesis")
        .count()
}

/// The rows of the closing table whose first cell is `seed`.
fn table_rows(stdout: &str, seed: u64) -> Vec<&str> {
    let start = format!("  {seed} ");
    stdout.lines().filter(|l| l.starts_with(&start)).collect()
}

fn junit(path: &Path) -> quick_junit::Report {
    let xml = std::fs::read_to_string(path).unwrap();
    quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML")
}

#[test]
fn three_runs_make_three_folders_a_table_and_a_junit_case_each() {
    let _turn = take_turn();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let report = dir.path().join("runs.xml");
    let out = lease(
        &store,
        &[
            "--nemesis",
            "none",
            "--test-count",
            "3",
            "--seed",
            "40",
            "--junit",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("3 runs of lease on 3 nodes, seeds 40 to 42"),
        "{stdout}"
    );
    assert_eq!(seeds(&store), [40, 41, 42]);
    for run in run_folders(&store) {
        let results = results(&run);
        assert_eq!(results["valid"], true, "{results}");
        assert_eq!(nemesis_events(&run), 0, "--nemesis none: no fault");
        let reproduce = results["reproduce"].as_str().unwrap();
        assert!(reproduce.contains("--nemesis none"), "{reproduce}");
        assert!(!reproduce.contains("--test-count"), "{reproduce}");
        let seed = results["seed"].as_u64().unwrap();
        let rows = table_rows(&stdout, seed);
        assert_eq!(rows.len(), 1, "one row for seed {seed}: {stdout}");
        assert!(rows[0].contains("valid"), "{}", rows[0]);
        assert!(
            rows[0].ends_with(run.to_str().unwrap()),
            "the row names the folder: {}",
            rows[0]
        );
    }
    assert!(stdout.contains("worst: valid (exit 0)"), "{stdout}");

    let report = junit(&report);
    assert_eq!((report.tests, report.failures, report.errors), (3, 0, 0));
    let suite = &report.test_suites[0];
    assert_eq!(suite.name.as_str(), "eddy test");
    let names: Vec<&str> = suite.test_cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["lease seed 40", "lease seed 41", "lease seed 42"]);
    for case in &suite.test_cases {
        let out = case.system_out.as_ref().unwrap().as_str();
        assert!(out.contains("store: ") && out.contains("reproduce: eddy test -w lease"));
    }
}

#[test]
fn a_broken_node_exits_1_and_fail_fast_stops_after_the_first_invalid_run() {
    let _turn = take_turn();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let report = dir.path().join("runs.xml");
    // `check_lease` claims a second more than the lease holds: lease-answers catches it in
    // every run, faults or not.
    let bin = format!(
        "{} node --bug stretch-check",
        assert_cmd::cargo::cargo_bin("eddy").display()
    );
    let out = lease(
        &store,
        &[
            "--bin",
            &bin,
            "--nemesis",
            "none",
            "--test-count",
            "3",
            "--seed",
            "7",
            "--fail-fast",
            "--junit",
            report.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(seeds(&store), [7], "only the first run: {}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = table_rows(&stdout, 7);
    assert_eq!(rows.len(), 1, "{stdout}");
    assert!(
        rows[0].contains("INVALID") && rows[0].contains("lease-answers"),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains("answered check_lease"),
        "the first witness: {}",
        rows[0]
    );
    assert!(stdout.contains("2 of 3 runs not started"), "{stdout}");
    let report = junit(&report);
    assert_eq!((report.tests, report.failures), (1, 1));
    match &report.test_suites[0].test_cases[0].status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind,
            message,
            ty,
            description,
            ..
        } => {
            assert_eq!(*kind, quick_junit::NonSuccessKind::Failure);
            assert_eq!(ty.as_ref().unwrap().as_str(), "lease-answers");
            assert!(message.as_ref().unwrap().as_str().contains("check_lease"));
            assert!(description.as_ref().unwrap().as_str().contains("witness: "));
        }
        other => panic!("a failure: {other:?}"),
    }
}

#[test]
fn two_shards_run_every_seed_once_and_jobs_run_two_at_a_time() {
    let _turn = take_turn();
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    let common = ["--nemesis", "none", "--test-count", "3", "--seed", "70"];
    let out = lease(
        &one,
        &[&common[..], &["--partition", "1/2", "--jobs", "2"]].concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shard 1/2: 2 of 3 runs"),
        "{}",
        text(&out)
    );
    assert_eq!(seeds(&one), [70, 72]);
    let out = lease(&two, &[&common[..], &["--partition", "count:2/2"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(seeds(&two), [71]);
}

#[test]
fn without_nemesis_the_workload_s_own_faults_are_injected() {
    let _turn = take_turn();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = lease(&store, &["--seed", "3", "--nemesis-interval", "0.25"]);
    assert!(
        matches!(out.status.code(), Some(0..=2)),
        "a verdict: {}",
        text(&out)
    );
    let run = &run_folders(&store)[0];
    let results = results(run);
    let kinds = results["options"]["nemesis"]["kinds"].as_array().unwrap();
    assert!(!kinds.is_empty(), "lease has default faults: {results}");
    assert!(nemesis_events(run) > 0, "faults were injected");
    let reproduce = results["reproduce"].as_str().unwrap();
    assert!(
        reproduce.contains("--nemesis ") && !reproduce.contains("--nemesis none"),
        "the reproduce command names the faults: {reproduce}"
    );
}

#[test]
fn ctrl_c_stops_every_run_and_exits_130() {
    let _turn = take_turn();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    // A flag no other test passes, to find this test's nodes.
    let bin = format!(
        "{} node --workload lease --lease-guard-ms 1999",
        assert_cmd::cargo::cargo_bin("eddy").display()
    );
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("eddy"))
        .args([
            "test",
            "-w",
            "lease",
            "--time-limit",
            "30",
            "--rate",
            "20",
            "--nemesis",
            "none",
            "--test-count",
            "3",
            "--seed",
            "90",
            "--bin",
            &bin,
            "--store",
            store.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let history = store.join("latest/history.jsonl");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&history).map_or(0, |h| h.lines().count()) < 10
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: signalling our own child has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert_eq!(seeds(&store), [90], "no run started after Ctrl-C");
    let results = results(&run_folders(&store)[0]);
    assert_eq!(results["stopped_early"], "interrupted");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        table_rows(&stdout, 90)[0].contains("interrupted"),
        "{stdout}"
    );
    assert_eq!(leftovers(&bin), Vec::<u32>::new());
}

#[test]
fn bad_values_are_refused_with_one_line_and_exit_64() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    for args in [
        &["--nemesis", "none,kill"][..],
        &["--nemesis", "kill,none"],
        &["--test-count", "3", "--seed", "1", "--partition", "0/2"],
        &["--test-count", "3", "--seed", "1", "--partition", "3/2"],
        &["--test-count", "3", "--seed", "1", "--partition", "1/0"],
        &["--test-count", "3", "--seed", "1", "--partition", "two/3"],
        &[
            "--test-count",
            "3",
            "--seed",
            "1",
            "--partition",
            "hash:1/2",
        ],
        &["--test-count", "3", "--partition", "1/2"],
        &["--test-count", "0"],
        &["--test-count", "2", "--jobs", "0"],
    ] {
        let out = lease(&store, args);
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line: {stderr}");
        assert!(stderr.starts_with("eddy test: "), "{args:?}: {stderr}");
        assert!(run_folders(&store).is_empty(), "{args:?} ran nothing");
    }
}
