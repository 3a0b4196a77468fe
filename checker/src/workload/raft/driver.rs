//! `raft` in simulation (SPEC 3.3, seed 002): random `read`, `write` and `cas` on a few
//! keys, sent to random nodes (followers forward or refuse); written values are unique so
//! the linearizability checker can say which write a read saw.

use super::unique::UniqueWrites;
use crate::protocol::Message;
use crate::sim::driver::{Driver, LeaderSign, Next, Op};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::time::Duration;

/// Keys the clients use.
const KEYS: u64 = 5;

/// The raft workload's generator.
pub struct RaftKv {
    writes: UniqueWrites,
    quiet: Duration,
}

impl RaftKv {
    /// A generator whose quiet period before the final reads leaves time for a leader to
    /// appear after the last fault heals: the failover limit `max_failover_ms`, at most 4 s
    /// (Maelstrom's tutorial elects in 2-4 s), plus a second.
    pub fn new(max_failover_ms: f64) -> RaftKv {
        let wait_ms = max_failover_ms.clamp(0.0, 4000.0) + 1000.0;
        RaftKv {
            writes: UniqueWrites::new(KEYS as usize),
            quiet: Duration::from_secs_f64(wait_ms / 1000.0),
        }
    }
}

impl Driver for RaftKv {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        let node = rng.random_range(0..nodes);
        let key = rng.random_range(0..KEYS);
        let body = match rng.random_range(0..10) {
            0..=3 => json!({"type": "read", "key": key}),
            4..=7 => self.writes.write(key),
            _ => self.writes.cas(key),
        };
        Next::Op(Op::at(node, body))
    }

    fn quiet_period(&self) -> Duration {
        self.quiet
    }

    /// A read of every key at every node: followers may forward or refuse, but after every
    /// fault has healed some node must serve them.
    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        (0..nodes)
            .flat_map(|node| {
                (0..KEYS).map(move |key| Op::at(node, json!({"type": "read", "key": key})))
            })
            .collect()
    }

    fn aim_at_leader(&self) -> bool {
        true
    }

    fn leader_sign(&self, message: &Message) -> Option<LeaderSign> {
        leader_sign(message)
    }
}

/// Raft's signs of a leader: only a leader sends `append_entries`; only a leader
/// acknowledges a write or a cas.
pub fn leader_sign(message: &Message) -> Option<LeaderSign> {
    match message.kind() {
        "append_entries" => Some(LeaderSign::Certain),
        "write_ok" | "cas_ok" => Some(LeaderSign::Likely),
        _ => None,
    }
}
