//! The model of a PN-counter replica (`pn-counter`, SPEC 3.5) and its script generator.
//!
//! The harness plays the peers: it injects `replicate` messages (with a `msg_id`, so they
//! are answered, and without one, as real gossip is) and checks that the node merges by
//! per-node maximum. Injected gossip and `gossip_status` are the seed contract's (SPEC 5):
//! under Maelstrom's, gossip formats are the node's own, and they are left out.

use crate::cases::generate::{body, range, unknown_type, Script};
use crate::contract::Contract;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(Default)]
struct Model {
    p: BTreeMap<String, u64>,
    n: BTreeMap<String, u64>,
}

impl Model {
    fn value(&self) -> i64 {
        self.p.values().sum::<u64>() as i64 - self.n.values().sum::<u64>() as i64
    }
}

/// A script of `ops` adds, reads, injected gossip, status queries and bad requests.
pub fn script(rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
    let ids: &[&str] = if rng.random_bool(0.5) {
        &["n1"]
    } else {
        &["n1", "n2", "n3"]
    };
    let peers = ids.len() as i64 - 1;
    let mut script = Script::new(ids, contract);
    let mut model = Model::default();
    for _ in 0..ops {
        match rng.random_range(0..100) {
            0..=34 => {
                let delta: i64 = if rng.random_bool(0.1) {
                    rng.random_range(-1_000_000..1_000_000)
                } else {
                    rng.random_range(-20..=20)
                };
                let half = if delta >= 0 {
                    &mut model.p
                } else {
                    &mut model.n
                };
                *half.entry("n1".into()).or_insert(0) += delta.unsigned_abs();
                script.request(
                    "c1",
                    json!({"type": "add", "delta": delta}),
                    json!({"type": "add_ok"}),
                );
            }
            35..=54 => script.request(
                "c1",
                json!({"type": "read"}),
                body("read_ok", &[("value", model.value().into())]),
            ),
            55..=74 => {
                let (p, n) = (random_counts(rng), random_counts(rng));
                let with_msg_id = rng.random_bool(0.6);
                if !script.seed_step() {
                    continue;
                }
                for (mine, theirs) in [(&mut model.p, &p), (&mut model.n, &n)] {
                    for (id, &count) in theirs {
                        let slot = mine.entry(id.clone()).or_insert(0);
                        *slot = (*slot).max(count);
                    }
                }
                let gossip = json!({"type": "replicate", "p_counters": p, "n_counters": n});
                if with_msg_id {
                    script.request("n2", gossip, json!({"type": "replicate_ok"}));
                } else {
                    script.notify("n3", gossip);
                }
            }
            75..=87 => {
                if !script.seed_step() {
                    continue;
                }
                let reply = body(
                    "gossip_status_ok",
                    &[
                        ("local_value", model.value().into()),
                        ("gossip_rounds", json!({"$type": "integer"})),
                        ("peers_synced", range(0, peers)),
                        ("convergence_ms", json!({"$type": ["integer", "null"]})),
                    ],
                );
                script.request("c1", json!({"type": "gossip_status"}), reply);
            }
            88..=96 => {
                let bad = match rng.random_range(0..4) {
                    0 => json!({"type": "add"}),
                    1 => json!({"type": "add", "delta": "1"}),
                    2 => json!({"type": "replicate", "p_counters": {"n2": -1}, "n_counters": {}}),
                    _ => json!({"type": "replicate", "p_counters": [1], "n_counters": {}}),
                };
                script.bad_request("n2", bad, 12);
            }
            _ => unknown_type(&mut script, rng),
        }
    }
    script
}

fn random_counts(rng: &mut ChaCha8Rng) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for id in ["n1", "n2", "n3"] {
        if rng.random_bool(0.6) {
            counts.insert(id.to_owned(), rng.random_range(0..50));
        }
    }
    counts
}
