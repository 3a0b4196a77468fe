//! `lease` in simulation (SPEC 3.1, seed 000): clients ask random nodes to acquire the
//! cluster's lease for varied durations and to check it; the checks map every node's
//! holding through the clock offsets eddy applied and look for two holders at once.

use crate::protocol::Message;
use crate::sim::driver::{Driver, LeaderSign, Next, Op};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::time::Duration;

/// Shortest and longest lease asked for, in ms.
const DURATIONS_MS: (u64, u64) = (100, 1000);

/// Operations between changes of the node that most acquisitions go to.
const TURN_OPS: u64 = 150;

/// The lease workload's generator: 60% `acquire_lease`, 40% `check_lease` at random nodes.
/// Acquisitions go to one node at a time, and that node changes every [`TURN_OPS`]
/// operations: a holder that keeps renewing would keep the lease forever, and it is where
/// the lease changes hands that drift turns into split-brain.
#[derive(Default)]
pub struct Leases {
    ops: u64,
    favoured: usize,
}

impl Driver for Leases {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        if self.ops.is_multiple_of(TURN_OPS) && nodes > 1 {
            self.favoured = (self.favoured + rng.random_range(1..nodes)) % nodes;
        }
        self.ops += 1;
        let body = if rng.random_bool(0.6) {
            let duration = rng.random_range(DURATIONS_MS.0..=DURATIONS_MS.1);
            json!({"type": "acquire_lease", "duration_ms": duration})
        } else {
            json!({"type": "check_lease"})
        };
        let node = if body["type"] == "acquire_lease" {
            self.favoured
        } else {
            rng.random_range(0..nodes)
        };
        Next::Op(Op::at(node, body))
    }

    fn quiet_period(&self) -> Duration {
        Duration::from_millis(500)
    }

    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        Op::to_every_node(nodes, &json!({"type": "check_lease"}))
    }

    /// Only the holder answers `acquire_lease` with ok.
    fn leader_sign(&self, message: &Message) -> Option<LeaderSign> {
        (message.kind() == "acquire_lease_ok").then_some(LeaderSign::Likely)
    }
}
