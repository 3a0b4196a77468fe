//! `pn-counter` in simulation (SPEC 3.5, seed 004): `--adds` random adds of both signs
//! spread over all nodes, with reads (and `gossip_status` queries under the seed contract)
//! along the way, in rounds of `--round-adds`; after each round and after the last add eddy
//! measures convergence itself. The final phase reads every node (and, under the seed
//! contract, asks each for its `gossip_status`). `g-counter` runs the same driver with
//! non-negative deltas only and no status queries.

use super::PnCounterOptions;
use crate::sim::driver::{Driver, Next, Op};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

/// Which deltas a counter's adds carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deltas {
    /// -5..-1 and 1..5, as the PN-counter's seed draws them.
    BothSigns,
    /// 0..4, as Maelstrom's `g-counter` draws them (its `pn-counter` draws, less the
    /// negative ones).
    NonNegative,
}

/// Adds in rounds, with reads along the way, for any counter workload.
pub struct Adds {
    options: PnCounterOptions,
    deltas: Deltas,
    /// Ask for `gossip_status` too (the seed contract's pn-counter).
    status_queries: bool,
    adds: usize,
    in_round: usize,
}

impl Adds {
    /// A generator for these options, drawing `deltas`, with `gossip_status` queries when
    /// `status_queries`.
    pub fn new(options: PnCounterOptions, deltas: Deltas, status_queries: bool) -> Adds {
        Adds {
            options,
            deltas,
            status_queries,
            adds: 0,
            in_round: 0,
        }
    }

    fn delta(&self, rng: &mut ChaCha8Rng) -> i64 {
        match self.deltas {
            Deltas::NonNegative => rng.random_range(0..=4i64),
            Deltas::BothSigns => {
                let magnitude = rng.random_range(1..=5i64);
                if rng.random_bool(0.5) {
                    magnitude
                } else {
                    -magnitude
                }
            }
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
        let body = match rng.random_range(0..100) {
            0..=74 => {
                self.adds += 1;
                self.in_round += 1;
                json!({"type": "add", "delta": self.delta(rng)})
            }
            95.. if self.status_queries => json!({"type": "gossip_status"}),
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
        let mut ops = Op::to_every_node(nodes, &json!({"type": "read"}));
        if self.status_queries {
            ops.extend(Op::to_every_node(nodes, &json!({"type": "gossip_status"})));
        }
        ops
    }

    fn probe(&self) -> Option<Value> {
        Some(json!({"type": "read"}))
    }

    fn probe_timeout(&self) -> Duration {
        crate::sim::probe::timeout_for(self.options.convergence_target_ms)
    }
}
