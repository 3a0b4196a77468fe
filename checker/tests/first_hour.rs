//! What a new user meets first in `eddy test` and `eddy check`: a node that cannot start
//! ends the command with one line and exit 3 and leaves no run folder; a run whose nodes
//! have all exited stops at once with the reason, its crashes told in words; help screens
//! under headings with examples and the docs to read; `eddy check` headed as itself; and a
//! `reproduce` command that runs the same schedule when pasted elsewhere.

mod support;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use support::{check, fixture, leftovers, marker, take_turn, text};

fn eddy_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn results(run: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("results.json")).unwrap()).unwrap()
}

fn history(run: &Path) -> Vec<Value> {
    std::fs::read_to_string(run.join("history.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_node_that_cannot_start_ends_with_one_line_exit_3_and_no_run_folder() {
    let mark = marker("cannot-start");
    let misbehave = |mode: &str| format!("python3 {} {mode} {mark}", fixture("misbehave.py"));
    let cases = [
        ("./no-such-node".to_owned(), "did not start: command not found"),
        (
            misbehave("exit-before-init"),
            "did not start: n0 exited with code 3 before answering init; its last stderr line: fixture: refusing to start",
        ),
        (
            misbehave("silent-init"),
            "did not start: n0 never answered init within 10 s",
        ),
    ];
    std::thread::scope(|scope| {
        for (bin, why) in &cases {
            scope.spawn(move || {
                // A store holding an earlier run: it and `latest` stay as they were.
                let store = tempfile::tempdir().unwrap();
                std::fs::create_dir(store.path().join("echo-earlier")).unwrap();
                std::os::unix::fs::symlink("echo-earlier", store.path().join("latest")).unwrap();
                let store_arg = store.path().to_str().unwrap();
                let out = eddy_in(
                    store.path(),
                    &[
                        "test",
                        "-w",
                        "echo",
                        "--node-count",
                        "1",
                        "--bin",
                        bin,
                        "--store",
                        store_arg,
                    ],
                );
                assert_eq!(out.status.code(), Some(3), "{bin}: {}", text(&out));
                let stderr = String::from_utf8_lossy(&out.stderr);
                let program = bin.split(' ').next().unwrap();
                assert_eq!(stderr.lines().count(), 1, "{bin}: one line: {stderr}");
                assert!(
                    stderr.starts_with(&format!("eddy test: the node `{program}"))
                        && stderr.trim_end().ends_with(why),
                    "{bin}: {stderr}"
                );
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(
                    !stdout.contains("store:") && !stdout.contains("UNKNOWN"),
                    "{stdout}"
                );
                assert_eq!(names(store.path()), ["echo-earlier", "latest"], "{bin}");
                assert_eq!(
                    std::fs::read_link(store.path().join("latest")).unwrap(),
                    Path::new("echo-earlier")
                );
            });
        }
    });
    assert_eq!(leftovers(&mark), Vec::<u32>::new());
    // A store folder the failed run created itself is not left behind either.
    let parent = tempfile::tempdir().unwrap();
    let out = eddy_in(
        parent.path(),
        &[
            "test",
            "-w",
            "echo",
            "--bin",
            "./no-such-node",
            "--store",
            "fresh",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(names(parent.path()), Vec::<String>::new());
}

#[test]
fn a_run_whose_nodes_all_exit_stops_at_once_with_the_reason() {
    let _turn = take_turn();
    let store = tempfile::tempdir().unwrap();
    let bin = format!("python3 {} exit-after-init", fixture("misbehave.py"));
    let store_arg = store.path().to_str().unwrap();
    let out = eddy_in(
        store.path(),
        &[
            "test",
            "-w",
            "pn-counter",
            "--node-count",
            "2",
            "--time-limit",
            "20",
            "--nemesis",
            "none",
            "--seed",
            "3",
            "--bin",
            &bin,
            "--store",
            store_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let run = store.path().join("latest");
    // Judged on the recorded times, not the wall clock (which a loaded machine stretches).
    // Each node exits on its first request: the requests in flight to it end at once as
    // `info`, the way a kill ends them, so no client waits out its 5 s timeout and the run
    // ends right after the last exit.
    let events = history(&run);
    let time = |e: &Value| e["time"].as_u64().unwrap();
    let crashes: Vec<&Value> = events.iter().filter(|e| e["f"] == "crash").collect();
    assert_eq!(crashes.len(), 2, "{events:?}");
    for crash in &crashes {
        let node = crash["node"].as_str().unwrap();
        let text = format!("eddy: {node} exited with code 4 while this request was in flight");
        assert!(
            events.iter().any(|e| e["type"] == "info"
                && e["node"] == node
                && e["body"]["text"] == text.as_str()
                && time(e) >= time(crash)
                && time(e) - time(crash) < 1_000_000_000),
            "{node}'s request in flight ends with its exit: {events:?}"
        );
    }
    assert!(
        !events.iter().any(|e| e["body"]["text"]
            .as_str()
            .is_some_and(|t| t.contains("no reply within"))),
        "no request waited for its timeout: {events:?}"
    );
    let last_crash = crashes.iter().map(|e| time(e)).max().unwrap();
    let end = events.iter().map(time).max().unwrap();
    assert!(
        end - last_crash < 1_000_000_000,
        "the run ends within 1 s of the last exit ({last_crash} ns), not at {end} ns"
    );
    let results = results(&run);
    let stopped = results["stopped_early"].as_str().unwrap();
    assert!(
        stopped.starts_with("every node has exited: n0 exited with code 4 at ")
            && stopped.contains(", n1 exited with code 4 at "),
        "{stopped}"
    );
    let crashes = check(&results, "crashes");
    assert_eq!(crashes["valid"], false);
    let witness = crashes["witnesses"][0].as_object().unwrap();
    assert_eq!(
        witness.keys().next().unwrap(),
        "why",
        "the sentence comes first"
    );
    let why = witness["why"].as_str().unwrap();
    assert!(
        why.contains(" exited with code 4 at ")
            && why.contains(" s (not killed by eddy); its last stderr line: fixture: crashing on purpose (its whole stderr in node-logs/n"),
        "{why}"
    );
    assert_eq!(
        witness["detail"]["exit"], "exited with code 4",
        "fields stay for machines"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The cause first: the crash's sentence right under the verdict, before the checks
    // listed by kind (where `crashes` comes last, under protocol).
    assert!(
        stdout.contains(&format!(": INVALID\n  start here: {why}\n")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  stopped early: {stopped}\n")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("witness: {why}\n")), "{stdout}");

    // `eddy check` judges the record the same, under its own name.
    let again = eddy_in(store.path(), &["check", run.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    let again_out = String::from_utf8_lossy(&again.stdout);
    assert!(
        again_out.starts_with("eddy check: pn-counter on 2 nodes, seed 3: INVALID\n"),
        "{again_out}"
    );
    assert!(
        again_out.contains(&format!("  stopped early: {stopped}\n")),
        "{again_out}"
    );

    // Across runs, the table's first witness of each is its crash, not the requests the
    // dead nodes left unserved.
    let table = eddy_in(
        store.path(),
        &[
            "test",
            "-w",
            "pn-counter",
            "--node-count",
            "2",
            "--time-limit",
            "20",
            "--nemesis",
            "none",
            "--seed",
            "3",
            "--test-count",
            "2",
            "--bin",
            &bin,
            "--store",
            store_arg,
        ],
    );
    assert_eq!(table.status.code(), Some(1), "{}", text(&table));
    let table_out = String::from_utf8_lossy(&table.stdout);
    let rows: Vec<&str> = table_out
        .lines()
        .filter(|l| {
            l.starts_with("  ")
                && l.trim_start().starts_with(|c: char| c.is_ascii_digit())
                && l.contains(" INVALID ")
        })
        .collect();
    assert_eq!(rows.len(), 2, "{table_out}");
    for row in rows {
        assert!(
            row.contains(" crashes,availability ") && row.contains(" exited with code 4 at "),
            "{row}"
        );
    }
}

#[test]
fn nodes_the_nemesis_will_restart_keep_the_run_going() {
    let _turn = take_turn();
    let store = tempfile::tempdir().unwrap();
    let bin = format!("python3 {} exit-after-init", fixture("misbehave.py"));
    let store_arg = store.path().to_str().unwrap();
    let out = eddy_in(
        store.path(),
        &[
            "test",
            "-w",
            "pn-counter",
            "--node-count",
            "1",
            "--time-limit",
            "3",
            "--nemesis",
            "kill",
            "--nemesis-interval",
            "0.5",
            "--seed",
            "3",
            "--bin",
            &bin,
            "--store",
            store_arg,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let events = history(&store.path().join("latest"));
    let time_of = |f: &str| {
        events
            .iter()
            .filter(|e| e["f"] == f)
            .map(|e| e["time"].as_u64().unwrap())
            .collect::<Vec<u64>>()
    };
    let (crashes, restarts) = (time_of("crash"), time_of("restart"));
    // The only node crashed, but a kill was still planned: its restart brought the node
    // back, and it crashed again.
    assert!(
        crashes.len() >= 2 && restarts.iter().any(|&r| r > crashes[0]),
        "crashes at {crashes:?}, restarts at {restarts:?}: {}",
        text(&out)
    );
}

#[test]
fn help_screens_have_headings_examples_and_the_docs() {
    let dir = tempfile::tempdir().unwrap();
    let help = |args: &[&str]| {
        let out = eddy_in(dir.path(), args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let long = help(&["test", "--help"]);
    for heading in [
        "\nNode:\n",
        "\nCluster and clients:\n",
        "\nNetwork:\n",
        "\nFaults:\n",
        "\nRun and output:\n",
        "\nraft options:\n",
        "\npn-counter options:\n",
        "\nExamples:\n",
    ] {
        assert!(long.contains(heading), "no {heading:?} in eddy test --help");
    }
    let faults =
        &long[long.find("\nFaults:\n").unwrap()..long.find("\nRun and output:\n").unwrap()];
    assert!(faults.contains("--nemesis <KINDS>") && faults.contains("--max-drift-ms"));
    assert!(long.contains("docs/simulation.md"));
    let short = help(&["test", "-h"]);
    assert!(short.contains("\nFaults:\n") && !short.contains("Examples:\n"));
    assert!(short.contains("Examples and the docs to read: --help"));
    assert!(
        short.lines().count() * 2 < long.lines().count() + 40,
        "-h stays short"
    );
    for args in [
        &["--help"][..],
        &["test", "--help"],
        &["cases", "--help"],
        &["check", "--help"],
        &["report", "--help"],
        &["node", "--help"],
    ] {
        let text = help(args);
        assert!(text.contains("\nExamples:\n  eddy "), "{args:?}: {text}");
        assert!(text.contains("docs/"), "{args:?} points to the docs");
        // The examples and the footer fit a 100-column terminal.
        let footer = &text[text.find("\nExamples:\n").unwrap()..];
        for line in footer.lines() {
            assert!(
                line.chars().count() <= 100,
                "{args:?}: a line of {} columns: {line}",
                line.chars().count()
            );
        }
    }
    let cases = help(&["cases", "--help"]);
    assert!(
        cases.contains("  eddy cases --bin ./my-node -w pn-counter ")
            && cases.contains("./cases, else the built-in ones"),
        "{cases}"
    );
    let cases = help(&["cases", "-h"]);
    let headings: Vec<&str> = cases.lines().filter(|l| l.ends_with(':')).collect();
    assert_eq!(
        headings,
        [
            "Arguments:",
            "Options:",
            "Node:",
            "Which cases:",
            "Running and output:",
            "Sandbox:"
        ],
        "{cases}"
    );
}

#[test]
fn the_reproduce_command_runs_the_same_schedule_when_pasted_elsewhere() {
    let _turn = take_turn();
    let work = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("maelstrom_echo.py"),
        work.path().join("echo node.py"),
    )
    .unwrap();
    let args = [
        "test",
        "-w",
        "echo",
        "--node-count",
        "1",
        "--time-limit",
        "1",
        "--seed",
        "11",
        "--bin",
        "python3 'echo node.py'",
        "--store",
        "runs",
    ];
    let first = eddy_in(work.path(), &args);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let store = work.path().join("runs");
    let before = results(&store.join("latest"));
    let reproduce = before["reproduce"].as_str().unwrap();
    assert!(
        reproduce.starts_with(&format!(
            "(cd {} && eddy test -w echo --bin ",
            work.path().display()
        )) && reproduce.contains(" --store runs ")
            && reproduce.ends_with(" --seed 11)"),
        "{reproduce}"
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.contains(&format!("  reproduce: {reproduce}\n")),
        "{stdout}"
    );

    let elsewhere = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_eddy")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pasted = Command::new("sh")
        .args(["-c", reproduce])
        .current_dir(elsewhere.path())
        .env("PATH", path)
        .output()
        .unwrap();
    assert_eq!(pasted.status.code(), Some(0), "{}", text(&pasted));
    assert_eq!(
        names(elsewhere.path()),
        Vec::<String>::new(),
        "nothing written elsewhere"
    );
    let runs: Vec<String> = names(&store)
        .into_iter()
        .filter(|n| n != "latest")
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let after = results(&store.join("latest"));
    assert_ne!(after["options"], Value::Null);
    for field in ["seed", "options", "reproduce", "workload", "nodes"] {
        assert_eq!(after[field], before[field], "{field}");
    }
}
