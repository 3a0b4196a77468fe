//! The `eddy-node` binary end to end: the seed's exchange over real pipes, flags, and a
//! clean exit when stdin closes.

use std::io::Write;
use std::process::{Command, Stdio};

fn run(args: &[&str], input: &str) -> (String, String, Option<i32>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eddy-node"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("eddy-node starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code(),
    )
}

#[test]
fn answers_the_seed_exchange_and_exits_when_stdin_closes() {
    let input = concat!(
        r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#,
        "\n",
        "not json\n",
        r#"{"src":"c1","dest":"n1","body":{"type":"lease_read_config","msg_id":2,"lease_duration_ms":3000,"election_timeout_ms":5000,"max_clock_skew_ms":500}}"#,
        "\n",
    );
    let (stdout, stderr, code) = run(&[], input);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"src": "n1", "dest": "c0", "body": {"type": "init_ok", "in_reply_to": 1, "msg_id": 0}})
    );
    assert_eq!(lines[1]["body"]["effective_lease_ms"], 2500);
    assert_eq!(lines[1]["body"]["msg_id"], 1);
    assert!(stderr.contains("ignoring input line (not JSON"), "{stderr}");
    assert_eq!(code, Some(0));
}

#[test]
fn a_pinned_workload_refuses_other_workloads_messages() {
    let input = concat!(
        r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}}"#,
        "\n",
        r#"{"src":"c1","dest":"n1","body":{"type":"add","msg_id":2,"delta":1}}"#,
        "\n",
        r#"{"src":"c1","dest":"n1","body":{"type":"read","msg_id":3}}"#,
        "\n",
    );
    let (stdout, _, _) = run(&["--workload", "raft"], input);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[1]["body"]["code"], 10, "add is not a raft message");
    assert_eq!(lines[2]["body"]["code"], 12, "a raft read needs a key");
    let (_, stderr, code) = run(&["--workload", "nope"], "");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("invalid value 'nope'"), "{stderr}");
}
