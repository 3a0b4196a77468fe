//! The router benchmark's entry (`checker/benches/router.rs`): node-to-node traffic routed
//! exactly as a run routes it, with no clients, faults or phases.

use super::Router;
use crate::history::Store;
use crate::sim::driver::Idle;
use crate::sim::SimConfig;
use serde_json::json;
use std::time::{Duration, Instant};

/// For the router benchmark: starts `cfg.node_count` nodes, writes `messages` requests
/// into them that each make a node answer another node (a `replicate` that names another
/// node as its sender), and routes the answers through the network model and the store
/// exactly as a run does. Returns how long routing all of them took.
pub fn relay_benchmark(cfg: &SimConfig, messages: usize) -> std::io::Result<Duration> {
    let store = Store::create(&cfg.store_root, "relay", cfg.seed)?;
    let mut router = Router::new(cfg, Box::new(Idle), store, Vec::new());
    let ids = router.cluster.ids().to_vec();
    router.start_cluster().map_err(std::io::Error::other)?;
    while !router.awaiting_init.is_empty() {
        let output = router
            .inbox
            .recv_timeout(cfg.init_timeout)
            .map_err(std::io::Error::other)?;
        router.on_output(output);
    }
    let n = cfg.node_count;
    let requests: Vec<(usize, String)> = (0..messages)
        .map(|k| {
            let (to, from) = (k % n, (k + 1 + k / n % (n - 1).max(1)) % n);
            let line = json!({"src": ids[from], "dest": ids[to], "body": {"type": "replicate", "msg_id": k, "p_counters": {}, "n_counters": {}}});
            (to, line.to_string())
        })
        .collect();
    let started = Instant::now();
    for (to, line) in &requests {
        router.cluster.send(*to, line);
    }
    while router.rec.net.sent() < messages as u64 {
        let output = router
            .inbox
            .recv_timeout(Duration::from_secs(10))
            .map_err(std::io::Error::other)?;
        router.on_output(output);
        router.fire_due_timers(Instant::now());
    }
    let elapsed = started.elapsed();
    router.finish();
    Ok(elapsed)
}
