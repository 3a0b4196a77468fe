//! Benchmark: `eddy check` on a raft run of 100,000 operations. Such a run would take the
//! reference most of an hour on this machine, so the store is synthesized: a linearizable
//! history (5 clients, 5 keys, 10% indefinite) and the Raft traffic a 5-node cluster sends
//! for it (an `append_entries` to each follower and its answer per operation, an election
//! every 10,000 operations). Wall time includes reading both files; memory is the checking
//! process's peak. Run with `cargo bench -p eddy --bench raft_checks`.

#[path = "support/child.rs"]
mod child;
#[path = "../tests/support/histories.rs"]
mod histories;

use histories::{linearizable, to_jsonl, Shape};
use serde_json::json;
use std::fmt::Write;

const OPS: usize = 100_000;
const NODES: usize = 5;

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("raft-run");
    std::fs::create_dir_all(&run).unwrap();
    let history = linearizable(
        Shape {
            ops: OPS,
            keys: 5,
            clients: 5,
            indefinite: 0.1,
        },
        9,
    );
    std::fs::write(run.join("history.jsonl"), to_jsonl(&history)).unwrap();
    let mut net = String::new();
    let (mut term, mut leader) = (0u64, 0usize);
    for (k, event) in history
        .iter()
        .filter(|e| e.kind == eddy::history::EventType::Invoke)
        .enumerate()
    {
        let t = event.time;
        if k % 10_000 == 0 {
            term += 1;
            leader = (leader + 1) % NODES;
            for voter in (0..NODES).filter(|&v| v != leader) {
                let ask = json!({"send": t, "deliver": t + 1000, "writer": format!("n{}", leader + 1), "src": format!("n{}", leader + 1), "dest": format!("n{}", voter + 1),
                    "body": {"type": "request_vote", "msg_id": k, "term": term, "candidate_id": format!("n{}", leader + 1), "last_log_index": k, "last_log_term": term - 1}});
                let yes = json!({"send": t + 2000, "deliver": t + 3000, "writer": format!("n{}", voter + 1), "src": format!("n{}", voter + 1), "dest": format!("n{}", leader + 1),
                    "body": {"type": "request_vote_res", "in_reply_to": k, "term": term, "vote_granted": true}});
                writeln!(net, "{ask}\n{yes}").unwrap();
            }
        }
        for follower in (0..NODES).filter(|&f| f != leader) {
            let append = json!({"send": t + 5000, "deliver": t + 6000, "writer": format!("n{}", leader + 1), "src": format!("n{}", leader + 1), "dest": format!("n{}", follower + 1),
                "body": {"type": "append_entries", "msg_id": k, "term": term, "leader_id": format!("n{}", leader + 1), "prev_log_index": k, "prev_log_term": term, "entries": [{"term": term, "op": event.body}], "leader_commit": k}});
            let ok = json!({"send": t + 7000, "deliver": t + 8000, "writer": format!("n{}", follower + 1), "src": format!("n{}", follower + 1), "dest": format!("n{}", leader + 1),
                "body": {"type": "append_entries_res", "in_reply_to": k, "term": term, "success": true, "match_index": k + 1}});
            writeln!(net, "{append}\n{ok}").unwrap();
        }
    }
    std::fs::write(run.join("net.jsonl"), &net).unwrap();
    let nodes: Vec<String> = (1..=NODES).map(|i| format!("n{i}")).collect();
    let results = json!({"valid": "unknown", "workload": "raft", "seed": 9, "nodes": nodes, "options": {"workload_options": {"contract": "maelstrom"}}, "reproduce": ""});
    std::fs::write(run.join("results.json"), results.to_string()).unwrap();
    let lines = net.lines().count();
    let run_check = child::measure(
        env!("CARGO_BIN_EXE_eddy"),
        &["check", run.to_str().unwrap()],
    );
    println!("eddy check on a raft run of {OPS} operations and {lines} net.jsonl lines: {:.2} s, peak {:.0} MiB, exit {}", run_check.wall.as_secs_f64(), run_check.peak_mib, run_check.code);
    for line in run_check.stdout.lines().take(8) {
        println!("  {line}");
    }
}
