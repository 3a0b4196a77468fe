//! Benchmark: how many request/reply pairs per second the reference node serves over its
//! pipes (pipelined and one at a time), and how long the seed suite and the whole bundled
//! suite take. Run with `cargo bench -p eddy --bench pipes`; figures go to stdout.

use eddy::cases::format::load;
use eddy::cases::runner::Limits;
use eddy::cases::suite::run_all_under;
use eddy::contract::Contract;
use eddy::process::{NodeCommand, NodeProcess, OutputEvent, SpawnOptions};
use std::path::Path;
use std::time::{Duration, Instant};

const INIT: &str = r#"{"src":"c0","dest":"n1","body":{"type":"init","msg_id":0,"node_id":"n1","node_ids":["n1"]}}"#;

fn reference() -> NodeCommand {
    NodeCommand {
        program: env!("CARGO_BIN_EXE_eddy").into(),
        args: vec!["node".into()],
        sandbox: None,
    }
}

fn started_node() -> NodeProcess {
    let node = NodeProcess::spawn(&reference(), SpawnOptions::default())
        .expect("the reference node starts");
    node.send(INIT);
    await_lines(&node, 1);
    node
}

fn await_lines(node: &NodeProcess, count: usize) {
    let mut seen = 0;
    while seen < count {
        match node.next_output(Duration::from_secs(10)) {
            Some(OutputEvent::Line(..)) => seen += 1,
            other => panic!("the node stopped answering: {other:?}"),
        }
    }
}

fn request(i: usize) -> String {
    format!(
        r#"{{"src":"c1","dest":"n1","body":{{"type":"write","msg_id":{i},"key":{},"value":{i}}}}}"#,
        i % 100
    )
}

/// All requests written as fast as the node's stdin queue takes them (a full queue refuses a
/// line: the replies waiting meanwhile are read); the clock stops at the last reply.
fn pipelined(count: usize) -> f64 {
    let node = started_node();
    let lines: Vec<String> = (1..=count).map(request).collect();
    let start = Instant::now();
    let mut answered = 0;
    for line in &lines {
        while !node.send(line) {
            await_lines(&node, 1);
            answered += 1;
        }
    }
    await_lines(&node, count - answered);
    count as f64 / start.elapsed().as_secs_f64()
}

/// One request in flight at a time.
fn one_at_a_time(count: usize) -> (f64, f64) {
    let node = started_node();
    let start = Instant::now();
    for i in 1..=count {
        node.send(&request(i));
        await_lines(&node, 1);
    }
    let elapsed = start.elapsed().as_secs_f64();
    (count as f64 / elapsed, elapsed / count as f64 * 1e6)
}

fn suite_seconds(path: &Path, runs: usize) -> (usize, f64) {
    let cases = load(&[path.to_owned()]).expect("cases load");
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut times: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let results = run_all_under(
                &eddy::workload::rules(Contract::Seed),
                cases.clone(),
                &reference(),
                jobs,
                Limits::default(),
                &|_| {},
            );
            assert!(results
                .iter()
                .all(|r| r.verdict.status == eddy::cases::verdict::Status::Pass));
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (cases.len(), times[runs / 2])
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let best = |f: &dyn Fn() -> f64| (0..3).map(|_| f()).fold(0.0, f64::max);
    println!("reference node over pipes (best of 3):");
    println!(
        "  pipelined, 200000 writes:  {:>9.0} request/reply pairs per second",
        best(&|| pipelined(200_000))
    );
    let (rate, micros) = (0..3)
        .map(|_| one_at_a_time(20_000))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap();
    println!(
        "  one at a time, 20000:      {rate:>9.0} pairs per second ({micros:.1} us round trip)"
    );
    let (n, seed) = suite_seconds(&repo.join("cases/seed"), 9);
    println!(
        "seed suite, {n} cases:        {:>9.1} ms (median of 9 runs)",
        seed * 1000.0
    );
    let (n, all) = suite_seconds(&repo.join("cases"), 5);
    println!(
        "bundled suite, {n} cases:     {:>9.1} ms (median of 5 runs)",
        all * 1000.0
    );
}
