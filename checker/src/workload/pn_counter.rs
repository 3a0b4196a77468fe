//! `pn-counter` in simulation (SPEC 3.5, seed 004): `--adds` random adds of both signs
//! spread over all nodes, with reads and `gossip_status` queries along the way, in rounds of
//! `--round-adds`; after each round and after the last add eddy measures convergence itself.
//! The final phase reads every node and asks each for its `gossip_status`.

use super::{Next, Op, SimWorkload, WorkloadOptions};
use crate::check::{counter, gossip, CheckResult, Record};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

/// The pn-counter workload.
pub struct PnCounter {
    options: WorkloadOptions,
    adds: usize,
    in_round: usize,
}

impl PnCounter {
    /// A generator for these options.
    pub fn new(options: WorkloadOptions) -> PnCounter {
        PnCounter {
            options,
            adds: 0,
            in_round: 0,
        }
    }
}

impl SimWorkload for PnCounter {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        if self.adds >= self.options.adds {
            return Next::Done;
        }
        if self.in_round >= self.options.round_adds.max(1) {
            self.in_round = 0;
            return Next::EndOfRound;
        }
        let node = rng.random_range(0..nodes);
        let body = match rng.random_range(0..100) {
            0..=74 => {
                self.adds += 1;
                self.in_round += 1;
                let magnitude = rng.random_range(1..=5i64);
                let delta = if rng.random_bool(0.5) {
                    magnitude
                } else {
                    -magnitude
                };
                json!({"type": "add", "delta": delta})
            }
            75..=94 => json!({"type": "read"}),
            _ => json!({"type": "gossip_status"}),
        };
        Next::Op(Op::at(node, body))
    }

    fn quiet_period(&self) -> Duration {
        Duration::from_secs(2)
    }

    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        let reads = (0..nodes).map(|node| Op::at(node, json!({"type": "read"})));
        let statuses = (0..nodes).map(|node| Op::at(node, json!({"type": "gossip_status"})));
        reads.chain(statuses).collect()
    }

    fn probe(&self) -> Option<Value> {
        Some(json!({"type": "read"}))
    }

    fn probe_timeout(&self) -> Duration {
        // Five times the target: long enough to tell slow from never.
        Duration::from_secs_f64((self.options.convergence_target_ms * 5.0 / 1000.0).max(1.0))
    }
}

/// pn-counter's own checks.
pub fn checks(options: &WorkloadOptions, record: &Record) -> Vec<CheckResult> {
    vec![
        counter::final_value(record),
        counter::convergence(record, options.convergence_target_ms),
        gossip::replicate_wire(record),
        gossip::gossip_status(record),
    ]
}
