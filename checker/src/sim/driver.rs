//! What a workload does in a simulated run, as the router sees it: the next client
//! operation, the quiet period and final phase, convergence probes, and how to tell which
//! node leads.

use crate::protocol::Message;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::time::Duration;

/// One client request: which node it goes to and its body (without `msg_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// Index of the node (0 is `n1`).
    pub node: usize,
    /// The request body.
    pub body: Value,
    /// Send it to the node eddy last saw acting as leader instead (`node` while none is
    /// known).
    pub to_leader: bool,
}

impl Op {
    /// A request for node `node`.
    pub fn at(node: usize, body: Value) -> Op {
        Op {
            node,
            body,
            to_leader: false,
        }
    }
}

/// What the generator wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run this operation.
    Op(Op),
    /// A round is over: let operations in flight finish, then measure convergence.
    EndOfRound,
    /// The workload has run every operation it meant to.
    Done,
}

/// A workload's client side in a simulated run.
pub trait Driver: Send {
    /// What comes next, drawn from the workload's own random stream.
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next;
    /// How long to wait after the last fault heals before the final phase.
    fn quiet_period(&self) -> Duration;
    /// The final phase's operations (for example one read on every node).
    fn final_ops(&self, nodes: usize) -> Vec<Op>;
    /// The request that asks a node for its value when measuring convergence, for
    /// workloads that converge.
    fn probe(&self) -> Option<Value> {
        None
    }
    /// True when faults should hit the current leader: a partition puts it on the minority
    /// side, a pause stops it.
    fn aim_at_leader(&self) -> bool {
        false
    }
    /// How long one convergence measurement may take before it counts as not converged.
    fn probe_timeout(&self) -> Duration {
        Duration::from_secs(10)
    }
    /// What `message`, written by a node, says about who leads; `None` when it says
    /// nothing. Only workloads with a leader answer (see [`LeaderSign`]).
    fn leader_sign(&self, _message: &Message) -> Option<LeaderSign> {
        None
    }
}

/// What a node's message says about leadership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaderSign {
    /// Only the leader sends this (Raft's `append_entries`): once seen, the sender is the
    /// leader and only messages of this kind move the hint.
    Certain,
    /// Only a leader gives this answer to a client (a write acknowledged), but it is a
    /// weaker sign: it moves the hint only while no certain sign was ever seen.
    Likely,
}

/// A driver for runs that send no client operations (the router benchmark).
pub struct Idle;

impl Driver for Idle {
    fn next_op(&mut self, _rng: &mut ChaCha8Rng, _nodes: usize) -> Next {
        Next::Done
    }
    fn quiet_period(&self) -> Duration {
        Duration::ZERO
    }
    fn final_ops(&self, _nodes: usize) -> Vec<Op> {
        Vec::new()
    }
}
