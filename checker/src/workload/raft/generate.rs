//! The model of a one-node key/value register (`raft`, SPEC 3.3, and `lease-read`, 3.2)
//! and its script generator.

use crate::cases::generate::{body, unknown_type, Script};
use crate::contract::Contract;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

/// A script of `ops` random reads, writes and cas; with `lease_reads`, also `lease_read`
/// and `lease_read_config`.
pub fn script(rng: &mut ChaCha8Rng, ops: usize, lease_reads: bool, contract: Contract) -> Script {
    let mut script = Script::new(&["n1"], contract);
    let mut store: HashMap<String, Value> = HashMap::new();
    let keys = [json!("x"), json!("y"), json!(1), json!(2)];
    for _ in 0..ops {
        let key = keys[rng.random_range(0..keys.len())].clone();
        let current = store.get(&key.to_string()).cloned();
        let roll = rng.random_range(0..100);
        match roll {
            0..=24 => {
                let value = random_value(rng);
                script.request(
                    "c1",
                    json!({"type": "write", "key": key, "value": value}),
                    json!({"type": "write_ok"}),
                );
                store.insert(key.to_string(), value);
            }
            25..=44 => {
                let reply = match &current {
                    Some(value) => body("read_ok", &[("value", value.clone())]),
                    None => json!({"type": "error", "code": 20}),
                };
                script.request("c1", json!({"type": "read", "key": key}), reply);
            }
            45..=64 => {
                let from = match &current {
                    Some(value) if rng.random_bool(0.6) => value.clone(),
                    _ => random_value(rng),
                };
                let to = random_value(rng);
                let reply = match &current {
                    None => json!({"type": "error", "code": 20}),
                    Some(value) if *value != from => json!({"type": "error", "code": 22}),
                    Some(_) => {
                        store.insert(key.to_string(), to.clone());
                        json!({"type": "cas_ok"})
                    }
                };
                script.request(
                    "c1",
                    json!({"type": "cas", "key": key, "from": from, "to": to}),
                    reply,
                );
            }
            65..=79 if lease_reads => {
                let value = current.unwrap_or(Value::Null);
                script.request(
                    "c1",
                    json!({"type": "lease_read", "key": key}),
                    body("lease_read_ok", &[("value", value)]),
                );
            }
            80..=87 if lease_reads => lease_config(&mut script, rng),
            88..=95 => {
                let bad = match rng.random_range(0..4) {
                    0 => json!({"type": "write", "key": key}),
                    1 => json!({"type": "cas", "key": key, "from": 1}),
                    2 if lease_reads => json!({"type": "lease_read"}),
                    2 => json!({"type": "cas", "from": 1, "to": 2}),
                    _ => json!({"type": "write", "value": 3}),
                };
                script.bad_request("c1", bad, 12);
            }
            96..=99 => unknown_type(&mut script, rng),
            _ => script.request(
                "c1",
                json!({"type": "read", "key": "never-written"}),
                json!({"type": "error", "code": 20}),
            ),
        }
    }
    script
}

/// `lease_read_config`: the seed's rule, or error 12 for out-of-range values.
fn lease_config(script: &mut Script, rng: &mut ChaCha8Rng) {
    let lease = rng.random_range(-100..10_000i64);
    let election = rng.random_range(-100..10_000i64);
    let skew = rng.random_range(-100..3_000i64);
    let request = json!({"type": "lease_read_config", "lease_duration_ms": lease, "election_timeout_ms": election, "max_clock_skew_ms": skew});
    if lease <= 0 || election <= 0 || skew < 0 {
        script.bad_request("c1", request, 12);
    } else {
        let effective = lease - skew;
        let reply = body(
            "lease_read_config_ok",
            &[
                ("safe", (effective < election).into()),
                ("effective_lease_ms", effective.into()),
            ],
        );
        script.request("c1", request, reply);
    }
}

fn random_value(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..3) {
        0 => json!(rng.random_range(0..5)),
        1 => json!(format!("v{}", rng.random_range(0..5))),
        _ => json!(rng.random_range(-1000..1000)),
    }
}
