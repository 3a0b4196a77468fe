//! `eddy check` refuses what it cannot read: a bare history (`--model kv`) that is empty,
//! has a line that is not an event, or register operations missing what the model needs;
//! a folder with no run (in the words `eddy report` uses); and a stored run whose
//! `results.json` lacks the fields a re-check needs. What it may
//! leave out (other kinds of operations, a torn last line) it says it left out.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Output;
use support::{eddy, text};

/// A history event line (SPEC section 4) of client `process` at `ms` milliseconds.
fn event(index: u64, ms: u64, process: u64, kind: &str, f: &str, body: &str) -> String {
    format!(
        r#"{{"index":{index},"time":{},"process":{process},"node":"n1","type":"{kind}","f":"{f}","body":{body}}}"#,
        ms * 1_000_000
    )
}

/// Write x=1, then read it back (each line newline-terminated).
fn valid_lines() -> Vec<String> {
    vec![
        event(
            0,
            0,
            1,
            "invoke",
            "write",
            r#"{"type":"write","key":"x","value":1}"#,
        ),
        event(1, 10, 1, "ok", "write", r#"{"type":"write_ok"}"#),
        event(2, 20, 2, "invoke", "read", r#"{"type":"read","key":"x"}"#),
        event(3, 30, 2, "ok", "read", r#"{"type":"read_ok","value":1}"#),
    ]
}

/// Writes `content` to a fresh `history.jsonl` and runs `eddy check --model kv` on it.
fn check_history(content: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("history.jsonl");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(content.as_bytes())
        .unwrap();
    let out = eddy(&["check", "--model", "kv", path.to_str().unwrap()]);
    let all = text(&out);
    (out, all)
}

fn lines(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn assert_usage(out: &Output, all: &str, needle: &str) {
    assert_eq!(out.status.code(), Some(64), "{all}");
    assert!(all.contains(needle), "expected {needle:?} in: {all}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).lines().count(),
        1,
        "one line: {all}"
    );
}

#[test]
fn an_empty_history_is_refused() {
    let (out, all) = check_history("");
    assert_usage(
        &out,
        &all,
        "no read, lease_read, write or cas operations in",
    );
}

#[test]
fn a_line_that_is_not_json_is_refused_by_number() {
    let mut all_lines = valid_lines();
    all_lines.insert(2, "this is not json".into());
    let (out, all) = check_history(&lines(&all_lines));
    assert_usage(&out, &all, "history.jsonl:3: not JSON");
}

#[test]
fn a_line_missing_a_field_of_an_event_is_refused() {
    let mut all_lines = valid_lines();
    all_lines.insert(
        1,
        r#"{"index":9,"time":5,"process":1,"type":"invoke","body":{}}"#.into(),
    );
    let (out, all) = check_history(&lines(&all_lines));
    assert_usage(
        &out,
        &all,
        "history.jsonl:2: not a history event: missing field `f`",
    );
}

#[test]
fn a_renamed_key_field_is_refused() {
    let all_lines = vec![
        event(
            0,
            0,
            1,
            "invoke",
            "write",
            r#"{"type":"write","k":1,"value":1}"#,
        ),
        event(1, 10, 1, "ok", "write", r#"{"type":"write_ok"}"#),
    ];
    let (out, all) = check_history(&lines(&all_lines));
    assert_usage(&out, &all, "history.jsonl:1: history event 0");
    assert!(all.contains("has no `key`"), "{all}");
}

#[test]
fn a_read_value_under_another_name_is_refused() {
    let mut all_lines = valid_lines();
    all_lines[3] = event(3, 30, 2, "ok", "read", r#"{"type":"read_ok","val":3}"#);
    let (out, all) = check_history(&lines(&all_lines));
    assert_usage(
        &out,
        &all,
        "history.jsonl:4: history event 3 (`read_ok` from n1 to client 2 at 0.030 s) has no `value`: cannot judge it",
    );
}

#[test]
fn a_cas_without_to_is_refused() {
    let all_lines = vec![event(
        0,
        0,
        1,
        "invoke",
        "cas",
        r#"{"type":"cas","key":1,"from":1}"#,
    )];
    let (out, all) = check_history(&lines(&all_lines));
    assert_usage(&out, &all, "has no `to`");
}

#[test]
fn a_history_of_other_operations_only_is_refused() {
    let all_lines = vec![
        event(0, 0, 1, "invoke", "add", r#"{"type":"add","delta":1}"#),
        event(1, 10, 1, "ok", "add", r#"{"type":"add_ok"}"#),
        event(2, 20, 2, "invoke", "add", r#"{"type":"add","delta":2}"#),
        event(3, 30, 2, "ok", "add", r#"{"type":"add_ok"}"#),
    ];
    let (out, all) = check_history(&lines(&all_lines));
    assert_usage(
        &out,
        &all,
        "no read, lease_read, write or cas operations in",
    );
    assert!(all.contains("2 add"), "{all}");
}

#[test]
fn other_operations_are_skipped_and_counted() {
    let mut all_lines = valid_lines();
    all_lines.push(event(
        4,
        40,
        3,
        "invoke",
        "lease_read_config",
        r#"{"type":"lease_read_config","lease_duration_ms":1}"#,
    ));
    all_lines.push(event(
        5,
        50,
        3,
        "ok",
        "lease_read_config",
        r#"{"type":"lease_read_config_ok"}"#,
    ));
    all_lines.push(
        r#"{"index":6,"time":60,"process":"nemesis","type":"info","f":"kill","body":{}}"#.into(),
    );
    let (out, all) = check_history(&lines(&all_lines));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("skipped: 1 client operation(s) not about the register (1 lease_read_config)"),
        "{all}"
    );
}

#[test]
fn a_torn_last_line_is_skipped_and_said() {
    let mut content = lines(&valid_lines());
    content.push_str(r#"{"index":4,"time":40,"process":3,"type":"invoke","f":"wri"#);
    let (out, all) = check_history(&content);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("VALID"), "{all}");
    assert!(all.contains("skipped: 1 torn last line (line 5"), "{all}");
}

#[test]
fn a_valid_history_is_valid() {
    let (out, all) = check_history(&lines(&valid_lines()));
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains(": VALID (2 operations on 1 keys"), "{all}");
    assert!(all.contains("2 ok, 0 fail, 0 info"), "{all}");
    assert!(!all.contains("skipped"), "{all}");
}

#[test]
fn a_stale_read_is_invalid() {
    let mut all_lines = valid_lines();
    all_lines.extend([
        event(
            4,
            40,
            1,
            "invoke",
            "write",
            r#"{"type":"write","key":"x","value":2}"#,
        ),
        event(5, 50, 1, "ok", "write", r#"{"type":"write_ok"}"#),
        event(6, 60, 2, "invoke", "read", r#"{"type":"read","key":"x"}"#),
        event(7, 70, 2, "ok", "read", r#"{"type":"read_ok","value":1}"#),
    ]);
    let (out, all) = check_history(&lines(&all_lines));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("INVALID"), "{all}");
    assert!(all.contains("read of \"x\" returned 1 at 0.070 s"), "{all}");
}

/// A stored run of the reference node (pn-counter, 1 s); returns the store and the run.
fn stored_run() -> (tempfile::TempDir, std::path::PathBuf) {
    let store = tempfile::tempdir().unwrap();
    let out = eddy(&[
        "test",
        "-w",
        "pn-counter",
        "--time-limit",
        "1",
        "--nemesis",
        "none",
        "--store",
        store.path().to_str().unwrap(),
    ]);
    let run = store.path().join("latest");
    assert!(run.join("results.json").exists(), "{}", text(&out));
    (store, run)
}

/// Removes `field` (a path of keys) from the run's `results.json`.
fn remove_field(run: &Path, field: &[&str]) {
    let path = run.join("results.json");
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let (last, parents) = field.split_last().unwrap();
    let parent = parents.iter().fold(&mut results, |v, k| &mut v[*k]);
    parent.as_object_mut().unwrap().remove(*last).unwrap();
    std::fs::write(&path, results.to_string()).unwrap();
}

#[test]
fn a_folder_with_no_run_says_where_eddy_looked_as_eddy_report_does() {
    let empty = tempfile::tempdir().unwrap();
    let store = empty.path().join("nonexist");
    let store = store.to_str().unwrap();
    let want =
        format!("{store}: no run here (neither {store} nor {store}/latest holds a results.json)");
    for command in ["check", "report"] {
        let out = eddy(&[command, store]);
        let all = text(&out);
        assert_usage(&out, &all, &want);
    }
}

#[test]
fn a_store_without_the_fields_a_recheck_needs_is_refused() {
    let (_store, run) = stored_run();
    let recheck = || eddy(&["check", run.to_str().unwrap()]);
    let out = recheck();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let original = std::fs::read_to_string(run.join("results.json")).unwrap();
    for (field, named) in [
        (&["nodes"][..], "field `nodes` is missing"),
        (&["options"][..], "field `options` is missing"),
        (
            &["options", "workload_options"][..],
            "field `options.workload_options` is missing",
        ),
    ] {
        std::fs::write(run.join("results.json"), &original).unwrap();
        remove_field(&run, field);
        let out = recheck();
        let all = text(&out);
        assert_usage(&out, &all, "results.json: ");
        assert!(all.contains(named), "{all}");
    }
    // Present but of the wrong type is refused too.
    let mut results: serde_json::Value = serde_json::from_str(&original).unwrap();
    results["nodes"] = serde_json::json!("n1,n2,n3");
    std::fs::write(run.join("results.json"), results.to_string()).unwrap();
    let out = recheck();
    let all = text(&out);
    assert_usage(&out, &all, "field `nodes` is ill-typed");
}

#[test]
fn a_store_with_an_unreadable_net_line_is_refused_by_number() {
    let (_store, run) = stored_run();
    let recheck = || eddy(&["check", run.to_str().unwrap()]);
    let net = std::fs::read_to_string(run.join("net.jsonl")).unwrap();
    let mut lines: Vec<&str> = net.lines().collect();
    assert!(lines.len() > 2, "the run routed messages");
    // A torn last line (eddy killed mid-write) is skipped...
    let torn = format!("{}\n{{\"send\":12,\"wri", net.trim_end());
    std::fs::write(run.join("net.jsonl"), &torn).unwrap();
    let out = recheck();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // ...but a broken line in the middle is a record lost: refused, naming the line.
    lines.insert(1, "{\"send\": \"soon\"}");
    std::fs::write(run.join("net.jsonl"), lines.join("\n") + "\n").unwrap();
    let out = recheck();
    let all = text(&out);
    assert_usage(&out, &all, "net.jsonl:2: not a net.jsonl record");
}
