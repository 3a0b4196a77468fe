//! `eddy cases` as a new user meets it: the bundled cases built into the binary and run
//! from any folder (`-w WORKLOAD` selects one workload's, seed samples included), a node
//! that cannot start stopping the run at once with one line and exit 3, one count line
//! that adds up in every report, and a crash shown cause first.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use support::{eddy, fixture, leftovers, marker, repo, text};

/// Runs `eddy` with `args` in `dir`.
fn eddy_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("eddy runs")
}

/// The lines of `all` that count cases (`N passed, N failed`).
fn count_lines(all: &str) -> Vec<&str> {
    all.lines()
        .filter(|l| l.contains(" passed, ") && l.contains(" failed"))
        .collect()
}

/// Lines that report one case.
fn case_lines(all: &str) -> Vec<&str> {
    all.lines()
        .filter(|l| {
            ["PASS ", "FAIL ", "NODE ", "SKIP "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect()
}

#[test]
fn the_bundled_cases_run_from_any_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = eddy_in(dir.path(), &["cases", "--contract", "seed"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.starts_with("eddy cases: 48 cases built into eddy against"),
        "{all}"
    );
    assert!(all.contains("PASS cases/seed/000-lease-1.case  "), "{all}");
    assert!(all.ends_with("\n48 passed, 0 failed, 0 skipped\n"), "{all}");
    // In the repository, ./cases is what runs, and the first line says so.
    let out = eddy(&["cases", "--contract", "seed", "-w", "heartbeat"]);
    assert!(
        text(&out).starts_with("eddy cases: 8 heartbeat cases from ./cases against"),
        "{}",
        text(&out)
    );
}

#[test]
fn dash_w_selects_one_workloads_bundled_cases_seed_samples_included() {
    let dir = tempfile::tempdir().unwrap();
    let out = eddy_in(
        dir.path(),
        &["cases", "--contract", "seed", "-w", "pn-counter"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let mut run: Vec<&str> = case_lines(&all)
        .iter()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    run.sort();
    let mut want: Vec<String> = (1..=7)
        .map(|i| format!("cases/pn-counter/counter.case#{i}"))
        .collect();
    want.push("cases/seed/004-pn-counter-1.case".into());
    want.push("cases/seed/004-pn-counter-2.case".into());
    assert_eq!(run, want, "{all}");
    assert!(all.ends_with("\n9 passed, 0 failed, 0 skipped\n"), "{all}");
    // `lease` is not `lease-read`: whole names only.
    let out = eddy_in(dir.path(), &["cases", "--contract", "seed", "-w", "lease"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(!all.contains("lease-read"), "{all}");
    assert!(all.contains("PASS cases/seed/000-lease-2.case"), "{all}");
    // A workload without bundled cases is a usage error that says how to get some.
    let out = eddy_in(dir.path(), &["cases", "-w", "echo"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "eddy cases: no echo cases built into eddy; --generate N makes some\n"
    );
    // With --generate, -w keeps its meaning: that workload's generated cases only.
    let out = eddy_in(
        dir.path(),
        &["cases", "--generate", "3", "--seed", "5", "-w", "heartbeat"],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.ends_with("\n3 passed, 0 failed, 0 skipped\n"), "{all}");
}

#[test]
fn the_embedded_cases_are_the_files_of_the_cases_folder() {
    let root = repo().join("cases");
    let mut on_disk = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let source = path.strip_prefix(repo()).unwrap().display().to_string();
                assert!(
                    source.ends_with(".case"),
                    "{source}: only .case files are built into eddy; run platform pairs by path"
                );
                on_disk.push((source, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    on_disk.sort();
    let mut embedded: Vec<(String, String)> = eddy::cases::bundled::FILES
        .iter()
        .map(|(source, text)| (source.to_string(), text.to_string()))
        .collect();
    embedded.sort();
    let names = |files: &[(String, String)]| files.iter().map(|f| f.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&embedded), names(&on_disk), "every file, no other");
    assert_eq!(embedded, on_disk, "the same text");
    // Loaded, they are the cases `eddy cases cases` reads, in the same order.
    std::env::set_current_dir(repo()).unwrap();
    let from_disk = eddy::cases::format::load(&[Path::new("cases").to_path_buf()]).unwrap();
    assert_eq!(eddy::cases::bundled::load().unwrap(), from_disk);
}

/// Asserts that `eddy cases --bin BIN` (in `dir`, bundled cases) stops at once: exit 3,
/// one line on stderr that says `want`, no case reported, nothing left running.
fn cannot_start(dir: &Path, bin: &str, mark: &str, want: &str) {
    let out = eddy_in(dir, &["cases", "--timeout", "3000", "--bin", bin]);
    let all = text(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{bin}: {all}");
    assert_eq!(stderr.lines().count(), 1, "{bin}: {all}");
    assert!(stderr.starts_with("eddy cases: "), "{bin}: {all}");
    assert!(stderr.contains(want), "{bin}: want {want:?} in {all}");
    assert_eq!(case_lines(&all), Vec::<&str>::new(), "{bin}: {all}");
    assert_eq!(count_lines(&all), Vec::<&str>::new(), "{bin}: {all}");
    assert_eq!(leftovers(mark), Vec::<u32>::new(), "{bin} left processes");
}

#[test]
fn a_node_that_cannot_start_stops_the_run_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    cannot_start(
        dir.path(),
        "./missing",
        "./missing",
        "the node `./missing` did not start: command not found",
    );
    std::fs::write(dir.path().join("not-executable"), "#!/bin/sh\n").unwrap();
    cannot_start(
        dir.path(),
        "./not-executable",
        "./not-executable",
        "the node `./not-executable` did not start: permission denied (is it executable?)",
    );
    let misbehave = fixture("misbehave.py");
    let mark = marker("exit-before-init");
    cannot_start(
        dir.path(),
        &format!("python3 {misbehave} exit-before-init {mark}"),
        &mark,
        "did not start: it exited with code 3 before answering init; its last stderr line: fixture: refusing to start",
    );
    let mark = marker("silent-init");
    cannot_start(
        dir.path(),
        &format!("python3 {misbehave} silent-init {mark}"),
        &mark,
        "did not start: it never answered init (waited 3",
    );
}

#[test]
fn a_node_that_started_once_fails_the_cases_it_cannot_start_in() {
    // The first case starts the reference; every later start exits at once. The node can
    // be run, so the later cases fail (exit 1) rather than the run stopping (exit 3).
    let dir = tempfile::tempdir().unwrap();
    let flag = dir.path().join("started");
    let script = format!(
        "if mkdir {} 2>/dev/null; then exec {} node; else echo gone >&2; exit 5; fi",
        flag.display(),
        env!("CARGO_BIN_EXE_eddy")
    );
    let bin = shell_words::join(["sh", "-c", &script]);
    let out = eddy(&["cases", "-j", "1", "--bin", &bin, "cases/raft/kv.case"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("PASS cases/raft/kv.case#1"), "{all}");
    assert!(
        all.contains("FAIL cases/raft/kv.case#2  reading an absent key is error 20  [0/2 lines"),
        "{all}"
    );
    assert!(
        all.contains("node: the node exited with code 5 before answering init"),
        "{all}"
    );
    assert_eq!(
        count_lines(&all),
        ["1 passed, 3 failed, 1 skipped"],
        "{all}"
    );
}

#[test]
fn one_count_line_adds_up_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let init = r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#;
    let init_ok = r#"{"src":"n1","dest":"c0","body":{"type":"init_ok","in_reply_to":1}}"#;
    let read = r#"{"src":"c1","dest":"n1","body":{"type":"read","msg_id":2}}"#;
    let cases = format!(
        "case: passes\ninput:\n{init}\nexpected:\n{init_ok}\n\
         case: fails\ninput:\n{init}\n{read}\nexpected:\n{init_ok}\n\
         {{\"src\":\"n1\",\"dest\":\"c1\",\"body\":{{\"type\":\"read_ok\",\"in_reply_to\":2,\"value\":99}}}}\n\
         case: needs the seed contract\ncontract: seed\ninput:\n{init}\nexpected:\n{init_ok}\n"
    );
    let path = dir.path().join("mixed.case");
    std::fs::write(&path, cases).unwrap();
    let (json, junit) = (dir.path().join("r.json"), dir.path().join("r.xml"));
    let out = eddy(&[
        "cases",
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert_eq!(
        count_lines(&all),
        ["1 passed, 1 failed, 1 skipped"],
        "{all}"
    );
    assert!(
        all.ends_with(
            "\n1 passed, 1 failed, 1 skipped\n\
             1 skipped: it tests seed-only rules; --contract seed runs it\n"
        ),
        "the count line, then why a case was skipped: {all}"
    );
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let summary = &record["summary"];
    assert_eq!(
        (summary["cases"].as_u64(), summary["passed"].as_u64()),
        (Some(3), Some(1)),
        "{summary}"
    );
    assert_eq!(
        (summary["failed"].as_u64(), summary["skipped"].as_u64()),
        (Some(1), Some(1)),
        "{summary}"
    );
    assert_eq!(
        summary.as_object().unwrap().len(),
        4,
        "no other count: {summary}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit XML");
    let suite = &report.test_suites[0];
    assert_eq!(
        (report.tests, report.failures, report.errors, suite.skipped),
        (3, 1, 0, 1),
        "{xml}"
    );
}

#[test]
fn a_crash_comes_first_with_its_status_and_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let junit = dir.path().join("r.xml");
    for (mode, how, stderr) in [
        (
            "exit-after-init",
            "exited with code 4",
            "crashing on purpose",
        ),
        (
            "segv-after-init",
            "was killed by signal 11 (SIGSEGV: a segmentation fault)",
            "segfaulting on purpose",
        ),
    ] {
        let mark = marker(mode);
        let bin = format!("python3 {} {mode} {mark}", fixture("misbehave.py"));
        let out = eddy(&[
            "cases",
            "--bin",
            &bin,
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "cases/raft/kv.case",
        ]);
        let all = text(&out);
        assert_eq!(out.status.code(), Some(1), "{mode}: {all}");
        let block: Vec<&str> = all
            .lines()
            .skip_while(|l| !l.starts_with("FAIL cases/raft/kv.case#4"))
            .take(10)
            .map(str::trim)
            .collect();
        assert_eq!(
            block[1],
            format!("node: the node {how} before answering every request"),
            "{mode}: {all}"
        );
        assert_eq!(
            block[2],
            format!("stderr: fixture: {stderr}"),
            "{mode}: {all}"
        );
        assert!(
            block[3].starts_with("input lines 3 to 6 were not written"),
            "{all}"
        );
        assert_eq!(block[4], "and 5 failures that follow from it:", "{all}");
        assert_eq!(
            block[5], "expected-line: expected line 2 (`cas_ok`) not found",
            "{all}"
        );
        assert_eq!(leftovers(&mark), Vec::<u32>::new(), "{mode} left processes");
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        let case = record["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["source"] == "cases/raft/kv.case#4")
            .unwrap();
        let failures = case["failures"].as_array().unwrap();
        assert_eq!(failures[0]["rule"], "node", "{case}");
        assert!(failures[0].get("follow_on").is_none(), "{case}");
        assert!(
            failures[1..].iter().all(|f| f["follow_on"] == true),
            "{case}"
        );
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(
            xml.contains(&format!(
                "message=\"the node {how} before answering every request\""
            )),
            "{xml}"
        );
    }
}
