//! The model of a GFS master (`heartbeat`, SPEC 3.4) and its script generator.
//!
//! The script ages servers with `simulate_drift` on the master rather than by waiting, so
//! death and recovery are exercised in milliseconds. Re-replication and deletion orders are
//! checked for what every correct master must respect (never copy to a holder, only chunks
//! below target; only delete replicas above target), not for one particular policy.

use crate::cases::generate::{body, range, unknown_type, Script, TOLERANCE_MS};
use crate::contract::Contract;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const DEAD_AFTER_MS: i64 = 15_000;
const TARGET: usize = 3;
const SERVERS: [&str; 4] = ["n2", "n3", "n4", "n5"];
const CHUNKS: [&str; 6] = ["ch_001", "ch_002", "ch_003", "ch_004", "ch_005", "ch_006"];

struct Server {
    last_heartbeat: i64,
    chunks: BTreeSet<String>,
}

struct Model {
    offset: i64,
    servers: BTreeMap<String, Server>,
}

impl Model {
    fn age(&self, server: &Server) -> i64 {
        self.offset - server.last_heartbeat
    }

    fn alive(&self, server: &Server) -> bool {
        self.age(server) < DEAD_AFTER_MS
    }

    fn holders(&self, chunk: &str) -> usize {
        self.servers
            .values()
            .filter(|s| self.alive(s) && s.chunks.contains(chunk))
            .count()
    }

    fn target(&self) -> usize {
        TARGET.min(self.servers.values().filter(|s| self.alive(s)).count())
    }

    /// True when some server's age would land where elapsed real time could flip it.
    fn ambiguous_after(&self, step: i64) -> bool {
        self.servers
            .values()
            .any(|s| (DEAD_AFTER_MS - TOLERANCE_MS..DEAD_AFTER_MS).contains(&(self.age(s) + step)))
    }
}

/// A script of `ops` heartbeats, status queries, clock jumps and bad requests.
pub fn script(rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
    let mut script = Script::new(&["n1", "n2", "n3", "n4", "n5"], contract);
    let mut model = Model {
        offset: 0,
        servers: BTreeMap::new(),
    };
    for _ in 0..ops {
        match rng.random_range(0..100) {
            0..=44 => heartbeat(&mut script, &mut model, rng),
            45..=64 => status(&mut script, &model),
            65..=84 => {
                let steps = [1_000, 3_000, 5_000, 6_000, 9_000, 14_000, 16_000, 30_000];
                let step = steps[rng.random_range(0..steps.len())];
                if !model.ambiguous_after(step) {
                    script.request(
                        "c1",
                        json!({"type": "simulate_drift", "offset_ms": step}),
                        json!({"type": "simulate_drift_ok"}),
                    );
                    model.offset += step;
                }
            }
            85..=96 => {
                let bad = match rng.random_range(0..5) {
                    0 => json!({"type": "heartbeat", "chunks": [], "disk_usage_pct": 10}),
                    1 => {
                        json!({"type": "heartbeat", "server": "n2", "chunks": "ch_001", "disk_usage_pct": 10})
                    }
                    2 => {
                        json!({"type": "heartbeat", "server": "n2", "chunks": [1, 2], "disk_usage_pct": 10})
                    }
                    3 => {
                        json!({"type": "heartbeat", "server": "n2", "chunks": [], "disk_usage_pct": 100.5})
                    }
                    _ => {
                        json!({"type": "heartbeat", "server": "n2", "chunks": [], "disk_usage_pct": -1})
                    }
                };
                script.bad_request("n2", bad, 12);
            }
            _ => unknown_type(&mut script, rng),
        }
    }
    script
}

fn heartbeat(script: &mut Script, model: &mut Model, rng: &mut ChaCha8Rng) {
    let name = SERVERS[rng.random_range(0..SERVERS.len())];
    let chunks: BTreeSet<String> = CHUNKS
        .iter()
        .filter(|_| rng.random_bool(0.4))
        .map(|c| (*c).to_owned())
        .collect();
    let pct: Value = if rng.random_bool(0.5) {
        json!(rng.random_range(0..=100))
    } else {
        json!(rng.random_range(0.0..100.0))
    };
    let request =
        json!({"type": "heartbeat", "server": name, "chunks": chunks, "disk_usage_pct": pct});
    model.servers.insert(
        name.to_owned(),
        Server {
            last_heartbeat: model.offset,
            chunks: chunks.clone(),
        },
    );
    let target = model.target();
    let live_chunks: BTreeSet<&String> = model
        .servers
        .values()
        .filter(|s| model.alive(s))
        .flat_map(|s| s.chunks.iter())
        .collect();
    let may_replicate: Vec<&String> = live_chunks
        .into_iter()
        .filter(|c| !chunks.contains(*c) && model.holders(c) < target)
        .collect();
    let may_delete: Vec<&String> = chunks
        .iter()
        .filter(|c| model.holders(c) > target)
        .collect();
    let reply = body(
        "heartbeat_ok",
        &[
            ("status", "alive".into()),
            ("chunks_to_delete", json!({"$subset_of": may_delete})),
            ("chunks_to_replicate", json!({"$subset_of": may_replicate})),
        ],
    );
    script.request(name, request, reply);
}

fn status(script: &mut Script, model: &Model) {
    let servers: Vec<Value> = model
        .servers
        .iter()
        .map(|(name, s)| {
            let alive = model.alive(s);
            let age = model.age(s);
            json!({
                "server": name,
                "status": if alive { "alive" } else { "dead" },
                "chunks": if alive { s.chunks.len() } else { 0 },
                "last_heartbeat_ms_ago": range(age, age + TOLERANCE_MS),
            })
        })
        .collect();
    script.request(
        "c1",
        json!({"type": "server_status"}),
        body(
            "server_status_ok",
            &[("servers", json!({"$unordered": servers}))],
        ),
    );
}
