//! A node that misbehaves never hangs or crashes `eddy`: each misbehaviour gets a clear
//! reason and a documented exit status, and no process is left behind.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;
use support::{eddy, fixture, is_gone, leftovers, marker, text};

/// Writes a one-request case (init, then `check_lease`) with `extra` more lines, returning its path.
fn case_file(dir: &tempfile::TempDir, extra_lines: usize) -> String {
    // Concurrent: the padding (from another client) is written without waiting for the
    // request's answer, so a node that stops reading finds its stdin pipe filling up.
    let mut text = String::from("case: misbehaviour\nconcurrent: true\ninput:\n");
    text.push_str(r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#);
    text.push('\n');
    text.push_str(r#"{"src":"c1","dest":"n1","body":{"type":"check_lease","msg_id":2}}"#);
    text.push('\n');
    for i in 0..extra_lines {
        text.push_str(&format!(
            "{{\"src\":\"c2\",\"dest\":\"n1\",\"body\":{{\"type\":\"pad\",\"pad\":\"{}\"}}}}\n",
            "p".repeat(200 + i % 7)
        ));
    }
    text.push_str("expected:\n{\"src\": \"n1\", \"dest\": \"c0\", \"body\": {\"type\": \"init_ok\", \"in_reply_to\": 1}}\n");
    let path = dir.path().join("m.case");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// Runs the misbehave fixture in `mode`; asserts the exit status, the reason, and that
/// nothing it started is still running.
fn misbehave(mode: &str, extra_lines: usize, want_code: i32, want_text: &str) -> String {
    misbehave_within(mode, extra_lines, want_code, want_text, "1500")
}

/// [`misbehave`] with the case's timeout, in ms.
fn misbehave_within(
    mode: &str,
    extra_lines: usize,
    want_code: i32,
    want_text: &str,
    timeout_ms: &str,
) -> String {
    let dir = tempfile::tempdir().unwrap();
    let case = case_file(&dir, extra_lines);
    let mark = marker(mode);
    let bin = format!("python3 {} {mode} {mark}", fixture("misbehave.py"));
    let out = eddy(&["cases", "--timeout", timeout_ms, "--bin", &bin, &case]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(want_code), "{mode}: {all}");
    assert!(
        all.contains(want_text),
        "{mode}: expected {want_text:?} in:\n{all}"
    );
    assert_eq!(
        leftovers(&mark),
        Vec::<u32>::new(),
        "{mode} left processes running"
    );
    all
}

#[test]
fn command_not_found() {
    let out = eddy(&[
        "cases",
        "--bin",
        "no-such-node-program-xyz",
        "cases/seed/000-lease-1.case",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("the node `no-such-node-program-xyz` did not start: command not found"),
        "{}",
        text(&out)
    );
}

#[test]
fn command_not_executable() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("node.py");
    std::fs::copy(fixture("misbehave.py"), &script).unwrap();
    let mut permissions = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o644);
    std::fs::set_permissions(&script, permissions).unwrap();
    let out = eddy(&[
        "cases",
        "--bin",
        script.to_str().unwrap(),
        "cases/seed/000-lease-1.case",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("permission denied (is it executable?)"),
        "{}",
        text(&out)
    );
}

#[test]
fn exit_before_init_reports_code_and_stderr() {
    let all = misbehave(
        "exit-before-init",
        0,
        3,
        "it exited with code 3 before answering init",
    );
    assert!(
        all.contains("its last stderr line: fixture: refusing to start"),
        "{all}"
    );
}

#[test]
fn no_answer_to_init() {
    misbehave("silent-init", 0, 3, "it never answered init");
}

#[test]
fn exit_after_init_reports_code_and_stderr() {
    let all = misbehave(
        "exit-after-init",
        0,
        1,
        "the node exited with code 4 before answering every request",
    );
    assert!(
        all.contains("stderr: fixture: crashing on purpose"),
        "{all}"
    );
}

#[test]
fn a_line_that_is_not_json() {
    misbehave("not-json", 0, 1, "output line 2 is not JSON");
}

#[test]
fn a_line_that_is_not_utf8() {
    misbehave("not-utf8", 0, 1, "output line 2 is not UTF-8 (3 bytes)");
}

#[test]
fn a_line_longer_than_one_mib() {
    misbehave(
        "long-line",
        0,
        1,
        "output line 2 is longer than 1 MiB (2097152 bytes)",
    );
}

#[test]
fn a_flood_of_output() {
    // The flood ends the case as soon as it passes the cap; the timeout only bounds a
    // machine so loaded that the fixture cannot write 100,000 lines in 1.5 s.
    misbehave_within(
        "flood",
        0,
        1,
        "output flood: the node wrote more than 100000 lines",
        "60000",
    );
}

#[test]
fn a_node_that_ignores_stdin_closing_is_killed() {
    misbehave(
        "ignore-eof",
        0,
        0,
        "note: the node did not exit after stdin closed; it was killed",
    );
}

#[test]
fn a_node_that_stops_reading_stdin_times_out() {
    misbehave("stop-reading", 2000, 1, "timed out after 1500 ms");
}

#[test]
fn two_replies_to_one_request() {
    misbehave(
        "double-reply",
        0,
        1,
        "(`check_lease`, msg_id 2 from c1) got 2 replies",
    );
}

#[test]
fn a_reply_that_breaks_its_schema() {
    misbehave(
        "wrong-schema",
        0,
        1,
        "`check_lease_ok` field `valid` must be a boolean, got \"yes\"",
    );
}

#[test]
fn the_whole_process_group_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let case = case_file(&dir, 0);
    let bin = format!("python3 {} spawn-child", fixture("misbehave.py"));
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["cases", "--bin", &bin, &case])
        .env("EDDY_FIXTURE_PIDS", &pids)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let written = std::fs::read_to_string(&pids).unwrap();
    for pid in written
        .split_whitespace()
        .map(|p| p.parse::<u32>().unwrap())
    {
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while !is_gone(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            is_gone(pid),
            "process {pid} (node or its child) is still running"
        );
    }
}

#[test]
fn ctrl_c_kills_every_node() {
    let dir = tempfile::tempdir().unwrap();
    let case = case_file(&dir, 0);
    let mark = marker("sigint");
    let bin = format!("python3 {} silent-init {mark}", fixture("misbehave.py"));
    let child = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["cases", "--timeout", "60000", "--bin", &bin, &case, &case])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // eddy's own command line carries the marker too: wait for a node, a process other than
    // eddy, so that the signal cannot arrive before eddy has installed its handler.
    let nodes = || {
        let mut found = support::processes_with(&mark);
        found.retain(|&pid| pid != child.id());
        found
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while nodes().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!nodes().is_empty(), "the node started");
    // SAFETY: sending a signal to our own child has no memory-safety preconditions.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out));
    assert!(text(&out).contains("interrupted; every node was killed"));
    assert_eq!(leftovers(&mark), Vec::<u32>::new());
}
