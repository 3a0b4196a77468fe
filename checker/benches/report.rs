//! Benchmark: writing the report page of a 60 s run with 100,000 node-to-node messages in
//! `net.jsonl`, 6,000 client operations (5 clients, 3% failed, 10% timed out) and a few
//! faults (two partitions, a pause, a kill, clock steps), from the files on disk. The store
//! is synthesized. Targets: under 1 s and a page under 10 MiB. Times the library call
//! (median of 5, reading the files included) and `eddy report` as its own process. Run
//! with `cargo bench -p eddy --bench report`.

#[path = "support/child.rs"]
mod child;

use eddy::report::page::{self, run::Run, Window};
use serde_json::json;
use std::fmt::Write;
use std::time::Instant;

const SECONDS: u64 = 60;
const MESSAGES: u64 = 100_000;
const OPS: u64 = 6_000;
const CLIENTS: u64 = 5;
const NODES: u64 = 5;

/// A small deterministic stream of numbers in [0, 1).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn synthesize(run: &std::path::Path) {
    std::fs::create_dir_all(run.join("node-logs")).unwrap();
    let mut rng = Lcg(7);
    let second = 1_000_000_000u64;
    let mut events: Vec<(u64, serde_json::Value)> = Vec::new();
    // Client operations: each client back to back, 100 operations a second in all.
    let gap = SECONDS * second * CLIENTS / OPS;
    for client in 0..CLIENTS {
        let mut t = client * gap / CLIENTS;
        for k in 0..OPS / CLIENTS {
            let node = format!("n{}", 1 + (k + client) % NODES);
            let body = json!({"type": "write", "key": k % 5, "value": k});
            events.push((t, json!({"process": client, "node": node, "type": "invoke", "f": "write", "body": body})));
            let roll = rng.next();
            let (kind, latency) = if roll < 0.10 {
                ("info", second)
            } else if roll < 0.13 {
                ("fail", (rng.next() * 3e6) as u64 + 100_000)
            } else {
                ("ok", (-(1.0 - rng.next()).ln() * 2e6) as u64 + 200_000)
            };
            let done = json!({"process": client, "node": node, "type": kind, "f": "write", "body": {"type": "write_ok"}});
            events.push((t + latency, done));
            t += latency.max(gap) + 1000;
        }
    }
    let nemesis = |f: &str, node: Option<&str>, body: serde_json::Value| {
        let mut e = json!({"process": "nemesis", "type": "info", "f": f, "body": body});
        if let Some(node) = node {
            e["node"] = json!(node);
        }
        e
    };
    let groups = json!({"groups": [["n1", "n2"], ["n3", "n4", "n5"]]});
    for (at, e) in [
        (10, nemesis("partition", None, groups.clone())),
        (15, nemesis("heal", None, json!({}))),
        (20, nemesis("pause", Some("n2"), json!({}))),
        (23, nemesis("resume", Some("n2"), json!({}))),
        (30, nemesis("kill", Some("n3"), json!({}))),
        (35, nemesis("restart", Some("n3"), json!({}))),
        (
            40,
            nemesis("drift", Some("n4"), json!({"offsets_ms": {"n4": 350}})),
        ),
        (
            45,
            nemesis("drift", Some("n1"), json!({"offsets_ms": {"n1": -200}})),
        ),
        (50, nemesis("partition", None, groups)),
        (55, nemesis("heal", None, json!({}))),
    ] {
        events.push((at * second, e));
    }
    events.sort_by_key(|(t, _)| *t);
    let mut history = String::new();
    for (index, (time, mut e)) in events.into_iter().enumerate() {
        e["index"] = json!(index);
        e["time"] = json!(time);
        writeln!(history, "{e}").unwrap();
    }
    std::fs::write(run.join("history.jsonl"), history).unwrap();
    let mut net = String::new();
    for i in 0..MESSAGES {
        let t = i * SECONDS * second / MESSAGES;
        let (src, dest) = (1 + i % NODES, 1 + (i + 1 + i / NODES) % NODES);
        let dest = if dest == src { 1 + src % NODES } else { dest };
        let fate = if i % 50 == 0 {
            "\"drop\":\"partition\"".to_owned()
        } else {
            format!("\"deliver\":{}", t + 300_000)
        };
        writeln!(net, "{{\"send\":{t},{fate},\"writer\":\"n{src}\",\"src\":\"n{src}\",\"dest\":\"n{dest}\",\"body\":{{\"type\":\"append_entries\",\"msg_id\":{i},\"term\":3,\"entries\":[]}}}}").unwrap();
    }
    std::fs::write(run.join("net.jsonl"), net).unwrap();
    let witnesses: Vec<serde_json::Value> = (0..20)
        .map(|i| json!({"why": format!("read {i} returned a value no write had given"), "op": {"index": i, "process": i % 5}}))
        .collect();
    let checks = json!([
        {"name": "linearizable", "kind": "safety", "valid": false, "summary": "20 violations", "witnesses": witnesses, "figures": {"operations": OPS}},
        {"name": "availability", "kind": "liveness", "valid": true, "summary": "served", "witnesses": [], "figures": {}},
        {"name": "stats", "kind": "stats", "valid": true, "summary": "figures", "witnesses": [], "figures": {"messages": MESSAGES}},
    ]);
    let nodes: Vec<String> = (1..=NODES).map(|i| format!("n{i}")).collect();
    let results = json!({"valid": false, "workload": "raft", "seed": 9, "nodes": nodes, "stopped_early": null,
        "reproduce": "eddy test -w raft --seed 9", "checks": checks, "pictures": [], "options": {}});
    std::fs::write(run.join("results.json"), results.to_string()).unwrap();
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("raft-run");
    synthesize(&run);
    let mut times = Vec::new();
    let mut path = run.join(page::FILE);
    for _ in 0..5 {
        let started = Instant::now();
        let results = page::run::read_results(&run).unwrap();
        let loaded = Run::load(&run, results).unwrap();
        path = page::write(&loaded, Window::default(), None).unwrap();
        times.push(started.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let size = std::fs::metadata(&path).unwrap().len();
    let mib = size as f64 / (1 << 20) as f64;
    println!(
        "report page of a {SECONDS} s run, {OPS} operations, {MESSAGES} messages: median {:.3} s (min {:.3}, max {:.3}), {size} bytes ({mib:.2} MiB); targets < 1 s, < 10 MiB",
        times[2], times[0], times[4]
    );
    let cli = child::measure(
        env!("CARGO_BIN_EXE_eddy"),
        &["report", run.to_str().unwrap()],
    );
    println!(
        "eddy report as a process: {:.3} s, peak {:.0} MiB, exit {}, wrote {}",
        cli.wall.as_secs_f64(),
        cli.peak_mib,
        cli.code,
        cli.stdout.trim()
    );
    assert!(times[2] < 1.0 && mib < 10.0, "over target");
    assert_eq!(cli.code, 0);
}
