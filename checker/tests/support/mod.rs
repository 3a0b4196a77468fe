//! Helpers shared by eddy's integration tests: running the `eddy` binary, fixture paths,
//! and looking for processes a run may have left behind.

#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The tutorial-style Raft fixture with the defect that its leader answers reads from its
/// own state, and fast timers (so leaders change inside a short run).
pub fn local_reads_raft() -> String {
    format!(
        "python3 {} --election-ms 300 --heartbeat-ms 100 --local-reads",
        fixture("maelstrom_raft.py")
    )
}

/// A run shape that catches local reads: 5 nodes, 10 s at 100 operations a second, 5 ms
/// links, 1 s client timeouts, a partition every 2 s (its leader answering while cut off).
pub const LOCAL_READS_RUN: [&str; 14] = [
    "--node-count",
    "5",
    "--time-limit",
    "10",
    "--timeout",
    "1",
    "--rate",
    "100",
    "--latency",
    "5",
    "--nemesis",
    "partition",
    "--nemesis-interval",
    "2",
];

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file under `checker/tests/fixtures`.
pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// Runs `eddy` with `args` from the repository root.
pub fn eddy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("eddy runs")
}

/// Runs `eddy cases --bin "python3 <fixture script>"` followed by `args`.
pub fn eddy_cases_on_fixture(script: &str, args: &[&str]) -> Output {
    let bin = format!("python3 {}", fixture(script));
    let mut all = vec!["cases", "--bin", bin.as_str()];
    all.extend_from_slice(args);
    eddy(&all)
}

/// Stdout and stderr of a run, together.
pub fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Live (non-zombie) processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        let zombie = status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'));
        // Arguments are separated by NUL bytes; join them with spaces to compare.
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if !zombie && cmdline.contains(marker) && !cmdline.contains("cargo") {
            found.push(pid);
        }
    }
    found
}

/// True when process `pid` is gone (or a zombie).
pub fn is_gone(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status.is_empty()
        || status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'))
}

/// Waits up to two seconds for no process to carry `marker`; returns what is left.
pub fn leftovers(marker: &str) -> Vec<u32> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = processes_with(marker);
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A unique marker for one test's processes.
pub fn marker(test: &str) -> String {
    format!("eddy-test-marker-{test}-{}", std::process::id())
}

/// The named check in a `results.json` document.
pub fn check<'a>(results: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    results["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no check {name}: {results}"))
}

/// The `why` of a check's first witness (empty when it has none).
pub fn first_why(results: &serde_json::Value, name: &str) -> String {
    check(results, name)["witnesses"][0]["why"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Asserts that liveness check `name` of a run whose nodes never agree failed with a
/// witness whose `why` holds every one of `words`, unless the machine stalled the run so
/// long that the nodes had no fair chance to agree: then the check rightly cannot decide
/// (SPEC section 6, a verdict must not depend on how busy the machine is) and says why.
/// A test of a bug that only liveness sees must catch it some other way too.
pub fn fails_unless_stalled(results: &serde_json::Value, name: &str, words: &[&str]) {
    let result = check(results, name);
    if result["valid"] == "unknown" {
        let summary = result["summary"].as_str().unwrap_or_default();
        assert!(summary.contains("the machine stalled"), "{result}");
        return;
    }
    assert_eq!(result["valid"], false, "{result}");
    let why = first_why(results, name);
    for word in words {
        assert!(why.contains(word), "{word:?} not in {why}");
    }
}

/// What a simulated run left: exit code, `results.json`, and the picture's text (empty when
/// none was drawn).
pub type SimRun = (i32, serde_json::Value, String);

/// Runs `eddy test -w workload` with `args` on the node command `bin` in a fresh store,
/// without faults unless `args` name them (`--nemesis`), in the sandbox (`--sandbox`): so
/// every node of the suite's simulated runs, correct or broken, is judged sandboxed, and
/// any that the sandbox changed would fail its test.
pub fn sim_run(workload: &str, bin: &str, args: &[&str]) -> SimRun {
    let store = tempfile::tempdir().unwrap();
    sim_run_in(store.path(), workload, bin, args)
}

/// [`sim_run`] into the store `store`, which is kept (its run is `store/latest`).
pub fn sim_run_in(store: &Path, workload: &str, bin: &str, args: &[&str]) -> SimRun {
    let faults: &[&str] = if args.contains(&"--nemesis") {
        &[]
    } else {
        &["--nemesis", "none"]
    };
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["test", "-w", workload])
        .args(args)
        .args(faults)
        .args([
            "--bin",
            bin,
            "--store",
            store.to_str().unwrap(),
            "--sandbox",
        ])
        .output()
        .unwrap();
    let run = store.join("latest");
    let results = std::fs::read_to_string(run.join("results.json"))
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let picture = std::fs::read_to_string(run.join("timeline.svg")).unwrap_or_default();
    let results: serde_json::Value = serde_json::from_str(&results).unwrap();
    assert!(
        results["sandbox"]["protections"].is_object(),
        "no sandbox in results.json: {}",
        results["sandbox"]
    );
    assert_report_page(&run, &results);
    (out.status.code().unwrap(), results, picture)
}

/// What every run's `report.html` and pictures must show, whatever the test, so that every
/// simulated run in the suite tests them too: the page is there, names every check, and
/// draws the operations of every stale read a check found (the stale read and the write it
/// missed); each workload's own picture is drawn (when the run went through), inlined in the
/// page, and marks in red what its check found and nothing else.
pub fn assert_report_page(run: &Path, results: &serde_json::Value) {
    assert_pictures(run, results);
    let page = run.join("report.html");
    let html = std::fs::read_to_string(&page)
        .unwrap_or_else(|e| panic!("every run writes {}: {e}", page.display()));
    let checks = results["checks"].as_array().into_iter().flatten();
    for check in checks {
        let name = check["name"].as_str().unwrap_or_default();
        assert!(
            html.contains(&format!("id=\"check-{name}\"")),
            "{}: no check {name}",
            page.display()
        );
        let stale = check["witnesses"].as_array().into_iter().flatten().take(5);
        for witness in stale.filter(|w| w["kind"] == "stale-read" && !w["missed"].is_null()) {
            assert!(
                html.contains("the stale read") && html.contains("the write it missed"),
                "{}: the stale read of {name} is not drawn: {witness}",
                page.display()
            );
        }
    }
}

/// The reference node with `flags` (for example `--bug local-grant`), as a command line.
pub fn reference_with(flags: &str) -> String {
    format!("{} node {flags}", env!("CARGO_BIN_EXE_eddy"))
}

/// Runs every `(node command, args)` side by side with `--seed` appended, in order.
pub fn sim_runs(workload: &str, runs: &[(String, Vec<&str>, &str)]) -> Vec<SimRun> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(bin, args, seed)| {
                scope.spawn(move || {
                    let args: Vec<&str> = args.iter().copied().chain(["--seed", seed]).collect();
                    sim_run(workload, bin, &args)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

/// Clusters started by the tests of one binary: heavy tests take turns, so that side by
/// side they do not starve each other's nodes on a small machine.
static CLUSTERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Waits for this test's turn to run its clusters; the turn lasts while the guard lives.
pub fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    CLUSTERS.lock().unwrap_or_else(|e| e.into_inner())
}

/// The checks of a run that are neither valid nor not applicable, as "name: summary".
pub fn failed(results: &serde_json::Value) -> Vec<String> {
    results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["valid"] != true && c["valid"] != "not-applicable")
        .map(|c| format!("{}: {}", c["name"], c["summary"]))
        .collect()
}

/// The red of violations in every picture (`report::timeline::SPLIT`).
const RED: &str = "#DC1E1E";

/// Each workload's own picture: its file and a legend entry it always has.
const PICTURES: [(&str, &str, &str); 6] = [
    ("lease", "timeline.svg", "lease granted (acquire_lease_ok)"),
    (
        "lease-read",
        "timeline.svg",
        "leader of a term (from append_entries)",
    ),
    (
        "raft",
        "leaders.svg",
        "leader of a term (first to last append_entries)",
    ),
    (
        "pn-counter",
        "convergence.svg",
        "expected: the sum of acknowledged adds",
    ),
    (
        "g-counter",
        "convergence.svg",
        "expected: the sum of acknowledged adds",
    ),
    ("heartbeat", "liveness.svg", "master reports alive"),
];

/// A picture's violation marks against the checks they come from: a mark without an
/// invalid check fails.
fn assert_pictures(run: &Path, results: &serde_json::Value) {
    let listed: Vec<&str> = results["pictures"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str())
        .collect();
    let workload = results["workload"].as_str().unwrap_or_default();
    let html = std::fs::read_to_string(run.join("report.html")).unwrap_or_default();
    for path in &listed {
        let name = Path::new(path).file_name().unwrap().to_str().unwrap();
        let svg = std::fs::read_to_string(run.join(name))
            .unwrap_or_else(|e| panic!("{workload}: picture {path}: {e}"));
        assert!(
            html.contains(&format!(">{name}<")),
            "{workload}: {name} not in the page"
        );
        if results["valid"] == true {
            assert!(
                !svg.contains(RED),
                "{workload}: red in {name} of a valid run"
            );
        }
    }
    let Some((_, file, legend)) = PICTURES.iter().find(|p| p.0 == workload) else {
        return;
    };
    let Some(svg) = listed
        .iter()
        .find(|p| p.ends_with(file))
        .and_then(|_| std::fs::read_to_string(run.join(file)).ok())
    else {
        assert!(
            !results["stopped_early"].is_null(),
            "{workload}: a run that went through draws {file}: {listed:?}"
        );
        return;
    };
    assert!(
        svg.contains(legend),
        "{workload}: {file} has no legend entry {legend}"
    );
    let invalid = |check: &str| {
        results["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["name"] == check && c["valid"] == false)
    };
    let marks = |key: &str| svg.contains(key);
    // A red mark is a violation its check found: never drawn where the check passed. (The
    // converse holds only for the violations a picture draws: a vacuous node fails these
    // checks in ways no picture marks.)
    let drawn_without_its_check = [
        ("lease", "two holders at once (split-brain)", "split-brain"),
        ("raft", "two leaders in one term", "election-safety"),
        (
            "heartbeat",
            "wrong report (failure-detection)",
            "failure-detection",
        ),
    ]
    .into_iter()
    .find(|(w, key, check)| *w == workload && marks(key) && !invalid(check));
    assert!(
        drawn_without_its_check.is_none(),
        "{workload}: {drawn_without_its_check:?} drawn while its check passed"
    );
}
