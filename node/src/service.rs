//! What a workload is to the node: a [`Service`] that owns some message types, answers
//! them, takes the replies addressed to it and runs its timers; and the parts every service
//! shares ([`Shared`]: the clock, randomness, `NODE_DATA_DIR`, and the replicated key/value
//! store that `raft` and `lease-read` both serve).
//!
//! The node ([`crate::Node`]) calls a service only after `init`, so every call gets a
//! [`Context`] with the node's id and peers. Which service a message goes to is decided by
//! the registry ([`crate::services`]).

use crate::bug::Bug;
use crate::clock::Clock;
use crate::message::{Envelope, RpcError};
use crate::outbox::Out;
use crate::persist::DataDir;
use crate::workloads::raft::Replica;
use rand::rngs::StdRng;
use serde_json::{Map, Value};
use std::time::Instant;

/// A service's answer to a request: `Ok(Some(body))` replies now, `Ok(None)` replies later
/// or never (a Raft write answers once committed, a forwarded request is answered by the
/// leader, `lease_release` expects no reply), `Err` replies with an error body.
pub type Answer = Result<Option<Map<String, Value>>, RpcError>;

/// One workload of the reference node.
///
/// Adding a workload is one module implementing this trait and one line in
/// [`crate::services`]. Everything but [`Service::name`], [`Service::about`],
/// [`Service::serves`] and [`Service::handle`] has a default that does nothing.
pub trait Service {
    /// The workload's name, as the checker and `--workload` spell it (`pn-counter`).
    fn name(&self) -> &'static str;

    /// One line for `--help`.
    fn about(&self) -> &'static str;

    /// Whether this service answers requests of type `kind`. `shared` is there for services
    /// whose messages only exist while a shared part runs (Raft's own messages are served
    /// only while Raft runs: a cluster of more than one node, after `init`).
    fn serves(&self, kind: &str, shared: &Shared) -> bool;

    /// Whether an `auto` node (every workload at once) runs this service. Maelstrom's own
    /// workloads reuse `read` and `add` with meanings of their own, so they answer only a
    /// node pinned to them (`--workload NAME`); the seed workloads and echo run in `auto`.
    fn in_auto(&self) -> bool {
        true
    }

    /// The reply types this service takes even without `in_reply_to`. Any other reply (a
    /// message with `in_reply_to`, or of type `error`) goes to the shared replica, whose
    /// Raft reads every reply: a higher term in any of them is news.
    fn replies(&self) -> &'static [&'static str] {
        &[]
    }

    /// Starts the service at `init`: its bugs, its saved state, and what it asks of the
    /// shared parts (started once every service has asked). Called again on a repeated
    /// `init`.
    fn init(&mut self, _setup: &Setup, _ctx: &mut Context) {}

    /// Answers a request of a type it [`serves`](Service::serves).
    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer;

    /// Takes a reply of a type in [`replies`](Service::replies).
    fn reply(&mut self, _msg: &Envelope, _ctx: &mut Context) {}

    /// When [`tick`](Service::tick) is next due, if a timer runs.
    fn next_deadline(&self) -> Option<Instant> {
        None
    }

    /// Runs the timers that are due at `now`.
    fn tick(&mut self, _now: Instant, _ctx: &mut Context) {}
}

/// What `init` hands every service besides its [`Context`].
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// The `--bug` in force, whichever workload it belongs to (read with [`Setup::bug`]).
    bug: Option<Bug>,
    /// `--lease-guard-ms`: the lease's drift guard.
    pub lease_guard_ms: i64,
    /// True when the node serves only this workload (`--workload` is not `auto`).
    pub pinned: bool,
}

impl Setup {
    /// The setup of a node with `bug` on, `lease_guard_ms` of drift guard, pinned or not.
    pub fn new(bug: Option<Bug>, lease_guard_ms: i64, pinned: bool) -> Setup {
        Setup {
            bug,
            lease_guard_ms,
            pinned,
        }
    }

    /// The `--bug` in force if it belongs to `workload` (see [`Bug::workload`]): each
    /// service reads only its own defects.
    pub fn bug(&self, workload: &str) -> Option<Bug> {
        self.bug.filter(|bug| bug.workload() == workload)
    }
}

/// What a service works with besides its own state.
pub struct Context<'a> {
    /// This node's id, from `init`.
    pub me: &'a str,
    /// Every other node of the cluster, from `init`.
    pub peers: &'a [String],
    /// The node's clock, drifted by `simulate_drift`.
    pub clock: &'a Clock,
    /// The node's random numbers.
    pub rng: &'a mut StdRng,
    /// `NODE_DATA_DIR`, when the harness gave one.
    pub data: Option<&'a DataDir>,
    /// The replicated key/value store, shared by `raft` and `lease-read`.
    pub replica: &'a mut Replica,
    /// Where the node's messages go.
    pub out: &'a mut Out<'a>,
}

/// The parts of a node that several workloads share. The node drives their timers and
/// starts them after every service's `init`, once, however many services use them.
pub struct Shared {
    /// The clock `simulate_drift` shifts; every workload reads time from it.
    pub clock: Clock,
    /// Randomness (election timeouts, gossip peers).
    pub rng: StdRng,
    /// `NODE_DATA_DIR`; without one nothing is persisted.
    pub data: Option<DataDir>,
    /// The key/value store: Raft across a cluster, a local register on one node.
    pub replica: Replica,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            clock: Clock::new(),
            rng: rand::make_rng(),
            data: None,
            replica: Replica::default(),
        }
    }
}

impl Shared {
    /// A service's view of the node, for a node `me` with `peers` writing to `out`.
    pub fn context<'a>(
        &'a mut self,
        me: &'a str,
        peers: &'a [String],
        out: &'a mut Out<'a>,
    ) -> Context<'a> {
        Context {
            me,
            peers,
            clock: &self.clock,
            rng: &mut self.rng,
            data: self.data.as_ref(),
            replica: &mut self.replica,
            out,
        }
    }

    /// Starts what the services asked for during `init`, on a cluster of `me` and `peers`
    /// whose `init` listed `cluster_size` node ids.
    pub fn start(&mut self, me: &str, peers: &[String], cluster_size: usize) {
        self.replica.start(
            me,
            peers,
            cluster_size,
            self.data.as_ref(),
            &self.clock,
            &mut self.rng,
        );
    }

    /// When a shared part's timer is next due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.replica.next_deadline()
    }

    /// Runs the shared parts' timers that are due at `now`.
    pub fn tick(&mut self, now: Instant, out: &mut Out) {
        self.replica.tick(now, out, &mut self.rng);
    }

    /// Takes a reply no service claimed (see [`Service::replies`]).
    pub fn reply(&mut self, msg: &Envelope, out: &mut Out) {
        self.replica.reply(msg, out);
    }
}
