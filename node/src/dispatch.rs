//! Routes each incoming message to the workload that serves it, and owns the node's state.

use crate::clock::Clock;
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Outbox;
use crate::persist::DataDir;
use crate::workloads::{
    heartbeat::{Master, MasterBugs},
    kv::KvStore,
    lease::{Cluster, Lease},
    lease_read::LeaseConfig,
    pn_counter::{Merge, PnCounter},
    raft::{Raft, RaftBugs},
};
use rand::rngs::StdRng;
use serde_json::{Map, Value};
use std::io::Write;
use std::time::Instant;

/// Which workload's messages the node serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Every workload at once; `read` with a `key` is a key/value read, without one a counter read.
    Auto,
    /// Time-based leases (seed 000).
    Lease,
    /// Leader lease reads (seed 001).
    LeaseRead,
    /// Raft key/value store (seed 002).
    Raft,
    /// GFS master failure detection (seed 003).
    Heartbeat,
    /// PN-counter replicated by gossip (seed 004).
    PnCounter,
}

/// A deliberate defect, so that a check can be shown to catch what it guards against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bug {
    /// PN-counter: merge gossip by overwriting each count instead of taking the maximum,
    /// so stale gossip loses increments.
    OverwriteMerge,
    /// PN-counter: merge gossip by adding counts, so repeated gossip counts twice.
    DoubleCount,
    /// PN-counter: never send gossip, so replicas never converge.
    NoGossip,
    /// GFS master: never declare a server dead.
    NeverDead,
    /// GFS master: declare a server dead after one missed heartbeat.
    HastyDeath,
    /// GFS master: order deletion of replicas that are still needed.
    DeleteNeeded,
    /// GFS master: keep counting a dead server's chunks.
    CountDeadChunks,
    /// GFS master: a server once declared dead stays dead, even when it heartbeats again
    /// (SPEC 3.4: "a dead server that heartbeats again is alive again").
    NeverRevive,
    /// Raft: vote for every up-to-date candidate, even twice in a term.
    VoteTwice,
    /// Raft: grant votes without the log up-to-date check, so a candidate with a shorter
    /// or older log can win and overwrite entries a majority had committed.
    VoteStaleLog,
    /// Raft: keep nothing in NODE_DATA_DIR, so a restarted node forgets its term and vote.
    ForgetVote,
    /// Raft: acknowledge writes before a majority holds them.
    EarlyAck,
    /// Raft: the leader answers reads from its own state without confirming leadership.
    LocalReads,
    /// lease: grant every acquisition locally, asking no other node.
    LocalGrant,
    /// lease: `check_lease` claims a second more than the lease holds.
    StretchCheck,
    /// lease: acquiring while already holding renews locally, asking no other node, so the
    /// granters' promises run out while the holder still holds and another node is granted.
    RenewAlone,
    /// lease-read: the leader serves lease reads from its own state whether or not it
    /// holds a lease (after it ran out, or before a new leader caught up).
    ExpiredLease,
    /// lease-read: adopt a lease configuration even when the seed's rule calls it unsafe.
    UnsafeLease,
    /// lease-read: confirm leadership with a heartbeat round on every lease read, yet
    /// claim zero round trips.
    HiddenRoundTrip,
    /// lease-read: a node makes none of the promises a leader's lease counts on. It grants
    /// votes (and adopts the candidate's term) although it heard from a leader within the
    /// election timeout, and its election timer keeps Raft's 150-300 ms instead of the
    /// configured minimum, so a new leader is elected while a deposed one still serves lease
    /// reads from its lease.
    IgnoreLeaderLease,
    /// PN-counter: keep nothing in NODE_DATA_DIR, so a restarted node forgets its own
    /// increments (peers that heard them by gossip may bring them back; a cluster killed at
    /// once loses them all, and adds served before the first gossip arrives are hidden).
    ForgetIncrements,
}

/// The node id and the cluster it belongs to, as `init` said.
#[derive(Debug, Clone)]
struct Membership {
    id: String,
    peers: Vec<String>,
}

/// A reference node: membership, clock, outbox and every workload's state.
pub struct Node<W: Write> {
    workload: Workload,
    membership: Option<Membership>,
    clock: Clock,
    out: Outbox<W>,
    lease: Lease,
    kv: KvStore,
    master: Master,
    counter: PnCounter,
    rng: StdRng,
    data: Option<DataDir>,
    raft: Option<Raft>,
    bug: Option<Bug>,
}

impl<W: Write> Node<W> {
    /// A node that writes its messages to `out`.
    pub fn new(workload: Workload, out: W) -> Self {
        Node {
            workload,
            membership: None,
            clock: Clock::new(),
            out: Outbox::new(out),
            lease: Lease::default(),
            kv: KvStore::default(),
            master: Master::default(),
            counter: PnCounter::default(),
            rng: rand::make_rng(),
            data: None,
            raft: None,
            bug: None,
        }
    }

    /// Turns a deliberate defect on.
    pub fn set_bug(&mut self, bug: Option<Bug>) {
        self.bug = bug;
        let merge = match bug {
            Some(Bug::OverwriteMerge) => Merge::Overwrite,
            Some(Bug::DoubleCount) => Merge::Sum,
            _ => Merge::Maximum,
        };
        self.counter
            .set_behaviour(merge, bug != Some(Bug::NoGossip));
        self.lease.set_local_grant(bug == Some(Bug::LocalGrant));
        self.lease.set_renew_alone(bug == Some(Bug::RenewAlone));
        self.lease
            .set_stretch_check_ms(if bug == Some(Bug::StretchCheck) {
                1000
            } else {
                0
            });
        self.master.set_bugs(MasterBugs {
            never_dead: bug == Some(Bug::NeverDead),
            hasty_death: bug == Some(Bug::HastyDeath),
            delete_needed: bug == Some(Bug::DeleteNeeded),
            count_dead_chunks: bug == Some(Bug::CountDeadChunks),
            never_revive: bug == Some(Bug::NeverRevive),
        });
    }

    /// Sets the lease's drift guard in ms (see [`crate::workloads::lease`]).
    pub fn set_lease_guard_ms(&mut self, guard_ms: i64) {
        self.lease.set_guard_ms(guard_ms);
    }

    /// Where durable state lives (`NODE_DATA_DIR`); without one nothing is persisted.
    pub fn set_data_dir(&mut self, data: Option<DataDir>) {
        self.data = data;
    }

    /// Handles one input line; a line that is not an envelope is logged and skipped.
    pub fn handle_line(&mut self, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        match Envelope::parse(line) {
            Ok(message) => self.handle(&message),
            Err(why) => eprintln!(
                "eddy-node: ignoring input line ({why}): {}",
                abbreviate(line)
            ),
        }
    }

    /// Handles one message: answers requests, ignores replies addressed to us.
    pub fn handle(&mut self, message: &Envelope) {
        if message.kind() == "lease_request_ok" {
            if let Some(membership) = &self.membership {
                let cluster = Cluster {
                    me: &membership.id,
                    peers: &membership.peers,
                };
                self.lease.answer(message, &cluster, &mut self.out);
            }
            return;
        }
        if message.is_reply() || message.kind() == "error" {
            if let Some(raft) = &mut self.raft {
                raft.reply(message, &mut self.out);
            }
            return;
        }
        match self.answer(message) {
            Ok(Some(reply)) => self.out.reply(message, reply),
            Ok(None) => {}
            Err(error) => self.out.reply_error(message, &error),
        }
    }

    /// When a timer next needs [`Node::tick`].
    pub fn next_deadline(&self) -> Option<Instant> {
        let raft = self.raft.as_ref().and_then(Raft::next_deadline);
        [
            self.counter.next_deadline(),
            raft,
            self.lease.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs every timer that is due.
    pub fn tick(&mut self, now: Instant) {
        let Some(membership) = &self.membership else {
            return;
        };
        for (peer, gossip) in self.counter.tick(now, &membership.peers, &mut self.rng) {
            self.out.send_unnumbered(&peer, gossip);
        }
        if let Some(raft) = &mut self.raft {
            raft.tick(now, &mut self.out, &mut self.rng);
        }
        self.lease.tick(now, &mut self.out);
    }

    /// Flushes the outbox.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// What has been written so far (for tests with an in-memory writer).
    pub fn output(&self) -> &W {
        self.out.writer()
    }

    /// The reply to a request: `Ok(None)` when it comes later (a Raft client request is
    /// answered once committed, or by the leader it was forwarded to).
    fn answer(&mut self, req: &Envelope) -> Result<Option<Map<String, Value>>, RpcError> {
        let kind = req.kind();
        if kind == "init" {
            return self.init(req).map(Some);
        }
        let unserved = kind == "lease_read" && !self.serves(Owner::LeaseRead);
        if let (
            Some(raft),
            "read" | "write" | "cas" | "lease_read" | "request_vote" | "append_entries"
            | "raft_status",
        ) = (&mut self.raft, kind)
        {
            let counter_read =
                kind == "read" && !req.body.contains_key("key") && self.workload == Workload::Auto;
            if !counter_read && !unserved {
                raft.wake(&mut self.rng);
                return match kind {
                    "request_vote" => raft.request_vote(req, &mut self.rng).map(Some),
                    "append_entries" => raft
                        .append_entries(req, &mut self.out, &mut self.rng)
                        .map(Some),
                    "raft_status" => Ok(Some(raft.status())),
                    "lease_read" => raft.lease_read(req, &mut self.out),
                    _ => raft.client(req, &mut self.out),
                };
            }
        }
        if matches!(kind, "acquire_lease" | "lease_release") && self.serves(Owner::Lease) {
            let membership = joined(&self.membership)?;
            if kind == "lease_release" {
                self.lease.release(req);
                return Ok(None);
            }
            let cluster = Cluster {
                me: &membership.id,
                peers: &membership.peers,
            };
            let now = self.clock.now_ms();
            return self.lease.acquire(req, now, &cluster, &mut self.out);
        }
        self.answer_now(req).map(Some)
    }

    fn answer_now(&mut self, req: &Envelope) -> Result<Map<String, Value>, RpcError> {
        let kind = req.kind();
        let owner = owner_of(kind, self.workload, req.body.contains_key("key"))
            .ok_or_else(|| RpcError::not_supported(kind))?;
        if !(owner == Owner::Any || self.serves(owner)) {
            return Err(RpcError::not_supported(kind));
        }
        let membership = joined(&self.membership)?.clone();
        let now = self.clock.now_ms();
        // Key/value requests reach this point only on a one-node cluster (a larger one runs
        // Raft), where the node is the leader and its lease always holds.
        match kind {
            "simulate_drift" => {
                self.clock
                    .drift(req.int("offset_ms")?)
                    .map_err(RpcError::malformed)?;
                Ok(body("simulate_drift_ok", []))
            }
            "check_lease" => Ok(self.lease.check(now)),
            "lease_request" => self.lease.request(req, now),
            "lease_read_config" => {
                let judged = LeaseConfig::judge(req)?;
                if judged.safe || self.bug == Some(Bug::UnsafeLease) {
                    self.adopt_lease_config(judged.config)?;
                }
                Ok(judged.reply)
            }
            "lease_read" => {
                let key = req.field("key")?;
                let value = self.kv.get(key).cloned().unwrap_or(Value::Null);
                Ok(body(
                    "lease_read_ok",
                    [
                        ("value", value),
                        ("lease_valid", true.into()),
                        ("network_round_trips", 0.into()),
                    ],
                ))
            }
            "read" if owner == Owner::Kv => self.kv.read(req),
            "write" => self.kv.write(req),
            "cas" => self.kv.cas(req),
            "heartbeat" => self.master.heartbeat(req, now),
            "server_status" => Ok(self.master.status(now)),
            "add" => {
                let reply = self.counter.add(req, &membership.id, &membership.peers)?;
                self.save_counter()?;
                Ok(reply)
            }
            "read" => Ok(self.counter.read()),
            "replicate" => self.counter.replicate(req, &membership.peers),
            "gossip_status" => Ok(self.counter.status(&membership.peers)),
            _ => Err(RpcError::not_supported(kind)),
        }
    }

    fn init(&mut self, req: &Envelope) -> Result<Map<String, Value>, RpcError> {
        let id = req.string("node_id")?.to_owned();
        let ids = req.string_list("node_ids")?;
        if id.is_empty() {
            return Err(RpcError::malformed("field `node_id` must not be empty"));
        }
        let peers: Vec<String> = ids.iter().filter(|n| **n != id).cloned().collect();
        self.out.set_node_id(&id);
        if let Some(saved) = self.counter_data().and_then(|d| d.load(COUNTER_FILE)) {
            self.counter.restore(&saved, &peers);
        }
        let raft_runs = matches!(
            self.workload,
            Workload::Auto | Workload::Raft | Workload::LeaseRead
        ) && ids.len() > 1;
        let durable = if self.bug == Some(Bug::ForgetVote) {
            None
        } else {
            self.data.clone()
        };
        let bugs = RaftBugs {
            vote_twice: self.bug == Some(Bug::VoteTwice),
            vote_stale_log: self.bug == Some(Bug::VoteStaleLog),
            early_ack: self.bug == Some(Bug::EarlyAck),
            local_reads: self.bug == Some(Bug::LocalReads),
            expired_lease: self.bug == Some(Bug::ExpiredLease),
            hidden_round_trip: self.bug == Some(Bug::HiddenRoundTrip),
            ignore_leader_lease: self.bug == Some(Bug::IgnoreLeaderLease),
        };
        self.raft = raft_runs.then(|| {
            let mut raft = Raft::new(&id, &peers, durable, self.clock.clone());
            raft.set_bugs(bugs);
            raft
        });
        let saved_lease_config = self
            .data
            .as_ref()
            .and_then(|d| d.load(LEASE_CONFIG_FILE))
            .and_then(|saved| LeaseConfig::from_json(&saved));
        if let Some(raft) = &mut self.raft {
            if let Some(config) = saved_lease_config {
                raft.set_lease_config(config, &mut self.rng);
            }
            let pinned = matches!(self.workload, Workload::Raft | Workload::LeaseRead);
            if pinned || raft.has_history() {
                raft.wake(&mut self.rng);
            }
        }
        self.membership = Some(Membership { id, peers });
        Ok(body("init_ok", []))
    }

    fn serves(&self, owner: Owner) -> bool {
        matches!(
            (self.workload, owner),
            (Workload::Auto, _)
                | (Workload::Lease, Owner::Lease)
                | (Workload::LeaseRead, Owner::LeaseRead | Owner::Kv)
                | (Workload::Raft, Owner::Kv)
                | (Workload::Heartbeat, Owner::Heartbeat)
                | (Workload::PnCounter, Owner::Counter)
        )
    }
}

/// Where the PN-counter keeps its state in `NODE_DATA_DIR`.
const COUNTER_FILE: &str = "pn-counter.json";
/// Where an adopted lease configuration is kept in `NODE_DATA_DIR`.
const LEASE_CONFIG_FILE: &str = "lease-config.json";

impl<W: Write> Node<W> {
    /// Adopts a lease configuration: synced first, so that a restarted node keeps refusing
    /// votes the way its leader's lease counts on, then handed to Raft.
    fn adopt_lease_config(&mut self, config: LeaseConfig) -> Result<(), RpcError> {
        if let Some(data) = &self.data {
            data.save(LEASE_CONFIG_FILE, &config.to_json())
                .map_err(|e| RpcError {
                    code: 13,
                    text: format!("could not persist the lease configuration: {e}"),
                })?;
        }
        if let Some(raft) = &mut self.raft {
            raft.set_lease_config(config, &mut self.rng);
        }
        Ok(())
    }

    /// Where the counter is kept: nowhere under `--bug forget-increments`.
    fn counter_data(&self) -> Option<&DataDir> {
        self.data
            .as_ref()
            .filter(|_| self.bug != Some(Bug::ForgetIncrements))
    }

    /// Persists the counter before an add is acknowledged, so a restarted node never
    /// counts its own increments from zero again (peers' larger maximum would hide them).
    fn save_counter(&self) -> Result<(), RpcError> {
        match self.counter_data() {
            Some(data) => data
                .save(COUNTER_FILE, &self.counter.snapshot())
                .map_err(|e| RpcError {
                    code: 13,
                    text: format!("could not persist the counter: {e}"),
                }),
            None => Ok(()),
        }
    }
}

/// Which part of the node a message type belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Any,
    Lease,
    LeaseRead,
    Kv,
    Heartbeat,
    Counter,
}

/// The part of the node that serves `kind`. `read` is the one name two workloads share: a
/// node pinned to one workload reads its own way; an `auto` node goes by the `key` field.
fn owner_of(kind: &str, workload: Workload, has_key: bool) -> Option<Owner> {
    Some(match kind {
        "simulate_drift" => Owner::Any,
        "acquire_lease" | "check_lease" | "lease_request" | "lease_release" => Owner::Lease,
        "lease_read" | "lease_read_config" => Owner::LeaseRead,
        "read" if workload == Workload::PnCounter => Owner::Counter,
        "read" if has_key || workload != Workload::Auto => Owner::Kv,
        "write" | "cas" => Owner::Kv,
        "heartbeat" | "server_status" => Owner::Heartbeat,
        "add" | "read" | "replicate" | "gossip_status" => Owner::Counter,
        _ => return None,
    })
}

/// The membership `init` gave, or error 11 before `init`.
fn joined(membership: &Option<Membership>) -> Result<&Membership, RpcError> {
    membership
        .as_ref()
        .ok_or_else(|| RpcError::unavailable("not initialized: send init first"))
}

fn abbreviate(line: &str) -> String {
    const MAX: usize = 200;
    match line.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_owned(),
    }
}
