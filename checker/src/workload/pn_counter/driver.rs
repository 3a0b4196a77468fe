//! `pn-counter` in simulation (SPEC 3.5, seed 004): `--adds` random adds of both signs
//! spread over all nodes, with reads (and `gossip_status` queries under the seed contract)
//! along the way, in rounds of `--round-adds`; after each round and after the last add eddy
//! measures convergence itself. The final phase reads every node (and, under the seed
//! contract, asks each for its `gossip_status`).

use super::PnCounterOptions;
use crate::contract::Contract;
use crate::sim::driver::{Driver, Next, Op};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

/// The pn-counter workload.
pub struct Adds {
    options: PnCounterOptions,
    contract: Contract,
    adds: usize,
    in_round: usize,
}

impl Adds {
    /// A generator for these options.
    pub fn new(options: PnCounterOptions, contract: Contract) -> Adds {
        Adds {
            options,
            contract,
            adds: 0,
            in_round: 0,
        }
    }
}

impl Driver for Adds {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        if self.adds >= self.options.adds {
            return Next::Done;
        }
        if self.in_round >= self.options.round_adds.max(1) {
            self.in_round = 0;
            return Next::EndOfRound;
        }
        let node = rng.random_range(0..nodes);
        let seed = self.contract == Contract::Seed;
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
            95.. if seed => json!({"type": "gossip_status"}),
            _ => json!({"type": "read"}),
        };
        Next::Op(Op::at(node, body))
    }

    fn quiet_period(&self) -> Duration {
        Duration::from_secs(2)
    }

    /// A read on every node, and under the seed contract a `gossip_status` on every node
    /// too (Maelstrom's node libraries exit on a type they do not know).
    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        let reads = (0..nodes).map(|node| Op::at(node, json!({"type": "read"})));
        let statuses = (0..nodes)
            .filter(|_| self.contract == Contract::Seed)
            .map(|node| Op::at(node, json!({"type": "gossip_status"})));
        reads.chain(statuses).collect()
    }

    fn probe(&self) -> Option<Value> {
        Some(json!({"type": "read"}))
    }

    fn probe_timeout(&self) -> Duration {
        // Long enough to tell slow from never: twice the target, and at least four seconds
        // more than it.
        let target = self.options.convergence_target_ms;
        Duration::from_secs_f64((target * 2.0).max(target + 4000.0) / 1000.0)
    }
}
