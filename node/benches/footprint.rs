//! Benchmark: the reference node's memory and CPU when idle, with and without its gossip
//! timer running. Run with `cargo bench -p eddy-node --bench footprint` (Linux: reads /proc).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn start(ids: &str) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_eddy-node"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("eddy-node starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let stdin = child.stdin.as_mut().unwrap();
    writeln!(stdin, r#"{{"src":"c0","dest":"n1","body":{{"type":"init","msg_id":0,"node_id":"n1","node_ids":{ids}}}}}"#).unwrap();
    for i in 1..=1000 {
        writeln!(
            stdin,
            r#"{{"src":"c1","dest":"n1","body":{{"type":"add","msg_id":{i},"delta":1}}}}"#
        )
        .unwrap();
    }
    stdin.flush().unwrap();
    let mut line = String::new();
    for _ in 0..=1000 {
        line.clear();
        stdout.read_line(&mut line).unwrap();
    }
    (child, stdout)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// User plus system CPU time in clock ticks (usually 10 ms each).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn measure(label: &str, ids: &str) {
    let (mut child, stdout) = start(ids);
    // Drain gossip lines so the pipe never fills.
    let drain = std::thread::spawn(move || stdout.lines().count());
    let pid = child.id();
    let before = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(5));
    let ticks = cpu_ticks(pid) - before;
    println!(
        "{label}: RSS {} KiB after 1000 adds; {ticks} CPU ticks (10 ms each) in 5 s idle",
        rss_kib(pid)
    );
    drop(child.stdin.take());
    child.wait().unwrap();
    drain.join().unwrap();
}

fn main() {
    measure("lone node, no timers      ", r#"["n1"]"#);
    measure("node gossiping to 2 peers ", r#"["n1","n2","n3"]"#);
}
