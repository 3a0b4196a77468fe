//! `broadcast` in simulation, as Maelstrom drives it: `topology` to every node first, then
//! an even mix of `broadcast` (unique integers 0, 1, 2, ...) and `read` on random nodes;
//! after the faults heal, the recovery wait, then a final `read` of every node.

use super::topology::{neighbours, Shape};
use crate::sim::driver::{Driver, Next, Op};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::time::Duration;

/// The broadcast workload's clients.
pub struct Broadcasts {
    shape: Shape,
    recovery: Duration,
    next_message: u64,
}

impl Broadcasts {
    /// Clients that hand out `shape` and wait `recovery` before the final reads.
    pub fn new(shape: Shape, recovery: Duration) -> Broadcasts {
        Broadcasts {
            shape,
            recovery,
            next_message: 0,
        }
    }
}

impl Driver for Broadcasts {
    /// Every node gets the whole neighbour map, as Maelstrom sends it.
    fn setup_ops(&mut self, ids: &[String]) -> Vec<Op> {
        let topology = neighbours(self.shape, ids);
        (0..ids.len())
            .map(|node| Op::at(node, json!({"type": "topology", "topology": topology})))
            .collect()
    }

    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        let node = rng.random_range(0..nodes);
        if rng.random_bool(0.5) {
            let message = self.next_message;
            self.next_message += 1;
            Next::Op(Op::at(
                node,
                json!({"type": "broadcast", "message": message}),
            ))
        } else {
            Next::Op(Op::at(node, json!({"type": "read"})))
        }
    }

    fn quiet_period(&self) -> Duration {
        self.recovery
    }

    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        Op::to_every_node(nodes, &json!({"type": "read"}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn topology_first_then_unique_broadcasts_and_reads() {
        let mut driver = Broadcasts::new(Shape::Line, Duration::from_secs(1));
        let ids: Vec<String> = ["n0", "n1"].map(String::from).to_vec();
        let setup = driver.setup_ops(&ids);
        assert_eq!(setup.len(), 2);
        assert_eq!(setup[1].node, 1);
        assert_eq!(setup[1].body["topology"]["n1"], json!(["n0"]));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut messages = Vec::new();
        let mut reads = 0;
        for _ in 0..200 {
            let Next::Op(op) = driver.next_op(&mut rng, 2) else {
                panic!("always an operation")
            };
            match op.body["type"].as_str() {
                Some("broadcast") => messages.push(op.body["message"].as_u64().unwrap()),
                _ => reads += 1,
            }
        }
        assert!((60..140).contains(&reads), "{reads}");
        assert!(messages.iter().enumerate().all(|(i, &m)| m == i as u64));
        assert_eq!(driver.final_ops(3).len(), 3);
    }
}
