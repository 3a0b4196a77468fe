//! Benchmark: node-to-node messages per second that the router carries between reference
//! nodes at zero latency, next to a raw baseline measured in the same run: the same lines
//! relayed from one node's stdout to another's stdin through plain pipes, with no network
//! model, no parsing and no record. Run with `cargo bench -p eddy --bench router`.

use eddy::process::{NodeCommand, NodeProcess, OutputEvent, SpawnOptions};
use eddy::sim::nemesis::NemesisConfig;
use eddy::sim::network::{LatencyDist, NetworkConfig};
use eddy::sim::router::relay_benchmark;
use eddy::sim::SimConfig;
use std::time::{Duration, Instant};

const NODES: usize = 3;
const MESSAGES: usize = 300_000;

fn reference() -> NodeCommand {
    NodeCommand {
        program: env!("CARGO_BIN_EXE_eddy").into(),
        args: vec!["node".into(), "--workload".into(), "pn-counter".into()],
        sandbox: None,
    }
}

fn request(k: usize, from: usize, to: usize) -> String {
    format!(
        r#"{{"src":"n{}","dest":"n{}","body":{{"type":"replicate","msg_id":{k},"p_counters":{{}},"n_counters":{{}}}}}}"#,
        from + 1,
        to + 1
    )
}

/// The same traffic through plain pipes: each reply line a node writes is copied to the
/// stdin of the node it names, by one relay loop per node, with no parsing beyond finding
/// `"dest":"nX"`.
fn raw_baseline() -> Duration {
    let nodes: Vec<NodeProcess> = (0..NODES)
        .map(|i| {
            let node = NodeProcess::spawn(&reference(), SpawnOptions::default()).unwrap();
            node.send(&format!(r#"{{"src":"c0","dest":"n{0}","body":{{"type":"init","msg_id":0,"node_id":"n{0}","node_ids":["n1","n2","n3"]}}}}"#, i + 1));
            assert!(matches!(node.next_output(Duration::from_secs(10)), Some(OutputEvent::Line(..))));
            node
        })
        .collect();
    let started = Instant::now();
    for k in 0..MESSAGES {
        let (to, from) = (k % NODES, (k + 1) % NODES);
        nodes[to].send(&request(k, from, to));
    }
    let mut relayed = 0;
    while relayed < MESSAGES {
        for node in &nodes {
            while let Some(OutputEvent::Line(_, eddy::process::RawLine::Text(line))) =
                node.next_output(Duration::ZERO)
            {
                let at = line
                    .find("\"dest\":\"n")
                    .expect("a reply names its destination")
                    + 9;
                let dest: usize = line[at..].split('"').next().unwrap().parse().unwrap();
                nodes[dest - 1].send(&line);
                relayed += 1;
            }
        }
    }
    started.elapsed()
}

fn routed() -> Duration {
    let store = tempfile::tempdir().unwrap();
    let cfg = SimConfig {
        workload: "pn-counter",
        workload_options: Default::default(),
        command: reference(),
        node_count: NODES,
        first_node: 1,
        log_stderr: false,
        time_limit: Duration::from_secs(1),
        rate: 1.0,
        concurrency: 1,
        network: NetworkConfig {
            latency_ms: 0.0,
            dist: LatencyDist::Constant,
            loss: 0.0,
        },
        nemesis: NemesisConfig {
            kinds: Vec::new(),
            interval: Duration::from_secs(1),
            max_drift_ms: 0,
        },
        seed: 1,
        store_root: store.path().to_owned(),
        request_timeout: Duration::from_secs(5),
        init_timeout: Duration::from_secs(10),
    };
    relay_benchmark(&cfg, MESSAGES).unwrap()
}

fn main() {
    println!("{MESSAGES} node-to-node messages between {NODES} reference nodes, zero latency (best of 3 each, interleaved):");
    let (mut raw, mut router) = (Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        raw = raw.min(raw_baseline());
        router = router.min(routed());
    }
    let rate = |d: Duration| MESSAGES as f64 / d.as_secs_f64();
    println!("  raw pipes baseline: {:>9.0} messages/s", rate(raw));
    println!(
        "  eddy router:        {:>9.0} messages/s ({:.0}% of the baseline)",
        rate(router),
        100.0 * rate(router) / rate(raw)
    );
}
