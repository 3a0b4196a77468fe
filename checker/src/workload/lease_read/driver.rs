//! `lease-read` in simulation (SPEC 3.2, seed 001): every node is first sent the run's lease
//! configuration, then, when that one is safe, one the seed's rule calls unsafe, which it
//! must refuse; then random `write`, `cas`, `read` and `lease_read` on a few keys, most
//! lease reads aimed at the node eddy last saw leading (a cut-off or paused leader that
//! still believes in its lease is what stale reads come from). Written values are unique so
//! the linearizability checker can say which write a read missed.

use super::LeaseSettings;
use crate::protocol::Message;
use crate::sim::driver::{Driver, LeaderSign, Next, Op};
use crate::workload::raft::{leader_sign, UniqueWrites};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

/// Keys the clients use.
const KEYS: u64 = 3;

/// The lease-read workload's generator.
pub struct LeaseReads {
    settings: LeaseSettings,
    configured: usize,
    writes: UniqueWrites,
}

impl LeaseReads {
    /// A generator that configures every node with `settings` first.
    pub fn new(settings: LeaseSettings) -> LeaseReads {
        LeaseReads {
            settings,
            configured: 0,
            writes: UniqueWrites::new(KEYS as usize),
        }
    }

    /// A lease the seed's rule calls unsafe: its effective length is a second longer than
    /// the election timeout.
    fn unsafe_lease(&self) -> i64 {
        self.settings.election_timeout_ms + self.settings.max_clock_skew_ms + 1000
    }

    fn config(&self, lease_duration_ms: i64) -> Value {
        json!({"type": "lease_read_config", "lease_duration_ms": lease_duration_ms,
               "election_timeout_ms": self.settings.election_timeout_ms,
               "max_clock_skew_ms": self.settings.max_clock_skew_ms})
    }
}

impl Driver for LeaseReads {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        // Every node gets the run's configuration, then, when that one is safe, one the
        // seed's rule calls unsafe (a longer lease than any election timeout allows), which
        // it must judge so and refuse, keeping the first: a node that adopts it serves stale
        // lease reads when a fault cuts it off, which is how the faults that follow show it.
        // A run whose own configuration is unsafe already asks that question, with the
        // lease its user chose; a probe after it would replace that lease in a node that
        // adopts both.
        let probes = if self.settings.safe() { nodes } else { 0 };
        if self.configured < nodes + probes {
            let node = self.configured % nodes;
            let lease = if self.configured < nodes {
                self.settings.lease_duration_ms
            } else {
                self.unsafe_lease()
            };
            self.configured += 1;
            return Next::Op(Op::at(node, self.config(lease)));
        }
        let node = rng.random_range(0..nodes);
        let key = rng.random_range(0..KEYS);
        let (body, to_leader) = match rng.random_range(0..20) {
            0..=3 => (self.writes.write(key), false),
            4..=5 => (self.writes.cas(key), false),
            6..=8 => (json!({"type": "read", "key": key}), false),
            n => (json!({"type": "lease_read", "key": key}), n < 17),
        };
        Next::Op(Op {
            node,
            body,
            to_leader,
        })
    }

    fn quiet_period(&self) -> Duration {
        // Long enough for a new leader to be elected after the last fault heals.
        Duration::from_millis((self.settings.election_timeout_ms.max(0) as u64) * 2 + 500)
    }

    /// A lease read of every key at every node.
    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        (0..nodes)
            .flat_map(|node| {
                (0..KEYS).map(move |key| Op::at(node, json!({"type": "lease_read", "key": key})))
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_node_is_configured_before_anything_else() {
        let mut generator = LeaseReads::new(LeaseSettings::default());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (i, node) in [0, 1, 2, 0, 1, 2].into_iter().enumerate() {
            let Next::Op(op) = generator.next_op(&mut rng, 3) else {
                panic!("an op")
            };
            assert_eq!(
                (op.node, op.body["type"].as_str()),
                (node, Some("lease_read_config"))
            );
            assert_eq!(op.body["max_clock_skew_ms"], 1000);
            // The run's configuration first, then one the seed's rule calls unsafe.
            let lease = op.body["lease_duration_ms"].as_i64().unwrap();
            assert_eq!(lease == 1400, i < 3, "{lease}");
        }
        let kinds: Vec<String> = (0..400)
            .map(|_| match generator.next_op(&mut rng, 3) {
                Next::Op(op) => op.body["type"].as_str().unwrap().to_owned(),
                _ => panic!("an op"),
            })
            .collect();
        for kind in ["write", "cas", "read", "lease_read"] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} is generated");
        }
        assert!(!kinds.iter().any(|k| k == "lease_read_config"));
    }

    #[test]
    fn an_unsafe_run_configuration_is_not_followed_by_a_probe() {
        let unsafe_run = LeaseSettings {
            lease_duration_ms: 8000,
            election_timeout_ms: 1000,
            max_clock_skew_ms: 1000,
        };
        assert!(!unsafe_run.safe() && LeaseSettings::default().safe());
        let mut generator = LeaseReads::new(unsafe_run);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let leases: Vec<Option<i64>> = (0..6)
            .map(|_| match generator.next_op(&mut rng, 3) {
                Next::Op(op) => op.body["lease_duration_ms"].as_i64(),
                _ => panic!("an op"),
            })
            .collect();
        // The run's own lease reaches every node, and nothing replaces it.
        assert_eq!(&leases[..3], &[Some(8000); 3]);
        assert_eq!(&leases[3..], &[None; 3]);
    }
}
