//! `pn-counter` in simulation (SPEC 3.5): random `add`s of both signs and `read`s on random
//! nodes; after the faults heal and a quiet period, a final read on every node; checked by
//! [`crate::check::counter::final_value`].

use super::{Op, SimWorkload};
use crate::check::{counter, CheckResult, Record};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::time::Duration;

/// The pn-counter workload.
pub struct PnCounter;

impl SimWorkload for PnCounter {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Op {
        let node = rng.random_range(0..nodes);
        if rng.random_bool(0.75) {
            let magnitude = rng.random_range(1..=5i64);
            let delta = if rng.random_bool(0.5) {
                magnitude
            } else {
                -magnitude
            };
            Op {
                node,
                body: json!({"type": "add", "delta": delta}),
            }
        } else {
            Op {
                node,
                body: json!({"type": "read"}),
            }
        }
    }

    fn quiet_period(&self) -> Duration {
        Duration::from_secs(2)
    }

    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        (0..nodes)
            .map(|node| Op {
                node,
                body: json!({"type": "read"}),
            })
            .collect()
    }

    fn check(&self, record: &Record) -> Vec<CheckResult> {
        vec![counter::final_value(record)]
    }
}
