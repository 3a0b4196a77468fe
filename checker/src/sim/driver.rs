//! What a workload does in a simulated run, as the router sees it: setup requests to
//! every node, the next client operation, the quiet period and final phase, convergence probes, how to tell which
//! node leads, and the peers eddy plays itself ([`Peers`], on the [`Wire`] the router
//! gives them).

use crate::history::HistoryEvent;
use crate::protocol::Message;
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::time::{Duration, Instant};

/// One client request: which node it goes to and its body (without `msg_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// Index of the node (0 is the first, `n1` or `n0` as the workload numbers them).
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

    /// `body` once to each of the `nodes` (a final phase that asks every node the same).
    pub fn to_every_node(nodes: usize, body: &Value) -> Vec<Op> {
        (0..nodes).map(|node| Op::at(node, body.clone())).collect()
    }
}

/// What the generator wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run this operation.
    Op(Op),
    /// A round is over: let operations in flight finish, then measure convergence.
    EndOfRound,
    /// Nothing for eddy's clients, now or later: the workload's traffic comes from the
    /// peers eddy plays ([`Driver::peers`]), and the running phase lasts its time limit.
    Idle,
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
    /// What comes next for client `client` (0 is `c1`), for workloads whose clients keep
    /// state of their own (a kafka consumer's position); by default [`Driver::next_op`].
    fn next_op_for(&mut self, _client: usize, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        self.next_op(rng, nodes)
    }
    /// Client `client`'s `request` completed with `reply` (an error body when it failed or
    /// timed out), in the final phase when `final_phase`.
    fn on_complete(
        &mut self,
        _client: usize,
        _request: &Value,
        _reply: &Value,
        _final_phase: bool,
    ) {
    }
    /// More final-phase operations, asked for each time those sent so far are answered:
    /// `None` when the final phase needs no more, an empty list to be asked again shortly
    /// (within 100 ms), for workloads whose final reads depend on earlier answers.
    fn more_final_ops(&mut self, _nodes: usize) -> Option<Vec<Op>> {
        None
    }
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
    /// Requests eddy sends before any other operation of the run, given the run's node ids
    /// (Maelstrom's broadcast tells every node its `topology` in its clients' setup). They
    /// go out as clients free up and are recorded like any operation; the workload's own
    /// operations ([`Driver::next_op`]) begin once every one of them completed. None by
    /// default.
    fn setup_ops(&mut self, _ids: &[String]) -> Vec<Op> {
        Vec::new()
    }
    /// The peers eddy plays in this run, given the run's node ids; `None` (the default)
    /// when every node is a real process and eddy plays only clients.
    fn peers(&mut self, _ids: &[String]) -> Option<Box<dyn Peers>> {
        None
    }
}

/// Peers eddy plays itself (heartbeat's chunk servers and status client). No process is
/// started for a played node; every message a real node writes to a played endpoint comes
/// to [`Peers::on_message`], straight (past the network model) and without a `net.jsonl`
/// line, as replies to eddy's clients do; the peers write as themselves, on timers they ask
/// for, through the [`Wire`]. Their timers fire in the running phase only. Nemesis faults
/// planned for a played node are left out: the peers make their own (silences, returns).
pub trait Peers: Send {
    /// The endpoints eddy plays: node ids of the run, for which no process is started, and
    /// client ids, whose messages come here instead of to eddy's clients.
    fn played(&self) -> Vec<String>;
    /// The running phase began ([`Wire::t0`]): draw what the peers need and ask for their
    /// first timers.
    fn start(&mut self, wire: &mut dyn Wire);
    /// The timer asked for at `at` with `token` is due.
    fn on_timer(&mut self, at: Instant, token: u64, wire: &mut dyn Wire);
    /// A real node wrote `message` to a played endpoint.
    fn on_message(&mut self, message: &Message, wire: &mut dyn Wire);
    /// A real node exited on its own (the router recorded the crash).
    fn on_crash(&mut self, _node: &str, _wire: &mut dyn Wire) {}
    /// The peers' own faults in force, in words, for the progress line.
    fn faults(&self) -> Vec<String> {
        Vec::new()
    }
}

/// What played peers can do: the router's side of [`Peers`].
pub trait Wire {
    /// The workload's random stream, the one [`Driver::next_op`] draws from.
    fn rng(&mut self) -> &mut ChaCha8Rng;
    /// When the running phase began.
    fn t0(&self) -> Instant;
    /// How long the running phase lasts at most (`--time-limit`).
    fn time_limit(&self) -> Duration;
    /// How long a request waits for its reply (`--timeout`).
    fn request_timeout(&self) -> Duration;
    /// A fresh `msg_id` from the counter of every message eddy writes.
    fn msg_id(&mut self) -> u64;
    /// Writes the message `body` from `src` to the real node `dest`; false when `dest` is no
    /// running real node.
    fn send(&mut self, src: &str, dest: &str, body: Value) -> bool;
    /// Asks for [`Peers::on_timer`] with `token` at `at`. Timers due at one instant fire in
    /// the order of their tokens; those due once the running phase is over never fire.
    fn at(&mut self, at: Instant, token: u64);
    /// Appends `event` to the history; an event of a client process other than an invoke
    /// completes an operation (counted in the progress line).
    fn record(&mut self, event: HistoryEvent);
    /// Ends the running phase now.
    fn end_running(&mut self);
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
