//! `raft` (seed 002, SPEC 3.3): leader election with randomized timeouts, log replication
//! with consistency checks and conflict repair, commitment by majority (only entries of the
//! leader's own term, as in the paper), and a key/value state machine. Reads go through
//! the log too, so every answer is linearizable. A new leader appends a no-op to commit what
//! earlier terms left. Followers forward a client's request to the leader with the client's
//! `src` kept, so the leader answers the client directly (Maelstrom's convention), or answer
//! error 11 when no leader is known or it has missed a few heartbeats (a request forwarded
//! to a leader that is cut off would be lost, its client left waiting). Term, vote and log are synced to `NODE_DATA_DIR`
//! before any message that depends on them is sent. Logs are 1-indexed.
//!
//! With a lease configuration (seed 001) the leader also holds a lease
//! ([`super::leader_lease`]) and serves `lease_read` from its own state while it holds;
//! every node then refuses votes while it has heard from a leader within the minimum
//! election timeout, which is what the lease counts on.
//!
//! This module holds the state, its timers and `raft_status`; the rest is split by concern:
//! elections and votes in `election.rs`, replication and commitment in `replication.rs`,
//! client requests in `client.rs`, lease reads in `lease_reads.rs`, durable state in
//! `persistence.rs`. The `raft` service is in `service.rs`; the store it shares with
//! `lease-read` (this Raft, or a local register on one node) in `replica.rs`.

mod client;
mod election;
mod lease_reads;
mod persistence;
mod replica;
mod replication;
mod service;
#[cfg(test)]
mod tests;

pub use replica::Replica;
pub use service::RaftService;

use super::kv::KvStore;
use super::leader_lease::{LeaderLease, WaitingRead};
use super::lease_read::LeaseConfig;
use crate::clock::Clock;
use crate::message::{body, RpcError};
use crate::outbox::Outbox;
use crate::persist::DataDir;
use rand::{Rng, RngExt};
use serde_json::{json, Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

/// Time between a leader's heartbeats.
pub const HEARTBEAT: Duration = Duration::from_millis(50);
/// Heartbeats a follower may miss before it stops forwarding requests to its leader.
const FRESH_HEARTBEATS: u32 = 3;
/// Entries sent in one `append_entries` at most.
const BATCH: usize = 256;

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Follows a leader.
    Follower,
    /// Asks for votes.
    Candidate,
    /// Leads its term.
    Leader,
}

/// One log entry: its term and the client request it carries (`null` for a no-op).
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    term: u64,
    op: Value,
}

/// Deliberate defects, for proving that eddy's checks catch them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RaftBugs {
    /// Grant every candidate whose log is up to date, even after voting in the term.
    pub vote_twice: bool,
    /// Grant votes without checking that the candidate's log is at least as up to date.
    pub vote_stale_log: bool,
    /// Acknowledge a write or cas as soon as the leader logs it, before a majority has it.
    pub early_ack: bool,
    /// Answer reads from the leader's own state without confirming it is still leader.
    pub local_reads: bool,
    /// Serve lease reads from the leader's own state whether or not it holds a lease.
    pub expired_lease: bool,
    /// Confirm leadership with a heartbeat round on every lease read, yet claim zero round
    /// trips.
    pub hidden_round_trip: bool,
    /// Under a lease configuration, neither refuse votes after hearing from a leader nor
    /// wait the configured minimum election timeout: the leader's lease is not kept.
    pub ignore_leader_lease: bool,
}

impl RaftBugs {
    /// Every defect that is on in either.
    pub fn or(self, other: RaftBugs) -> RaftBugs {
        RaftBugs {
            vote_twice: self.vote_twice || other.vote_twice,
            vote_stale_log: self.vote_stale_log || other.vote_stale_log,
            early_ack: self.early_ack || other.early_ack,
            local_reads: self.local_reads || other.local_reads,
            expired_lease: self.expired_lease || other.expired_lease,
            hidden_round_trip: self.hidden_round_trip || other.hidden_round_trip,
            ignore_leader_lease: self.ignore_leader_lease || other.ignore_leader_lease,
        }
    }
}

/// One node's Raft state.
pub struct Raft {
    bugs: RaftBugs,
    me: String,
    peers: Vec<String>,
    term: u64,
    voted_for: Option<String>,
    log: Vec<Entry>,
    commit: usize,
    applied: usize,
    role: Role,
    leader: Option<String>,
    votes: BTreeSet<String>,
    next_index: HashMap<String, usize>,
    match_index: HashMap<String, usize>,
    election_due: Option<Instant>,
    heartbeat_due: Option<Instant>,
    timeout_ms: (u64, u64),
    kv: KvStore,
    waiting: HashMap<usize, (String, Value)>,
    data: Option<DataDir>,
    clock: Clock,
    lease: LeaderLease,
    last_contact: Option<Instant>,
    term_start: usize,
    orphaned_reads: Vec<WaitingRead>,
    /// Clients whose writes were waiting to commit when this node stopped leading: told at
    /// the next tick that the outcome is unknown (the entry may still commit under the next
    /// leader), instead of being left to time out.
    abandoned: Vec<(String, Value)>,
}

impl Raft {
    /// A follower of a cluster of `me` and `peers`, restored from `data` when it holds
    /// state; leases are measured on `clock`.
    pub fn new(me: &str, peers: &[String], data: Option<DataDir>, clock: Clock) -> Raft {
        let mut raft = Raft {
            bugs: RaftBugs::default(),
            me: me.into(),
            peers: peers.to_vec(),
            term: 0,
            voted_for: None,
            log: vec![Entry {
                term: 0,
                op: Value::Null,
            }],
            commit: 0,
            applied: 0,
            role: Role::Follower,
            leader: None,
            votes: BTreeSet::new(),
            next_index: HashMap::new(),
            match_index: HashMap::new(),
            election_due: None,
            heartbeat_due: None,
            timeout_ms: (150, 300),
            kv: KvStore::default(),
            waiting: HashMap::new(),
            data,
            clock,
            lease: LeaderLease::default(),
            last_contact: None,
            term_start: usize::MAX,
            orphaned_reads: Vec::new(),
            abandoned: Vec::new(),
        };
        raft.restore();
        raft
    }

    /// True when this node took part in Raft before a restart (its saved term or log say
    /// so): such a node rejoins at once instead of waiting for a first message.
    pub fn has_history(&self) -> bool {
        self.term > 0 || self.log.len() > 1
    }

    /// Turns deliberate defects on.
    pub fn set_bugs(&mut self, bugs: RaftBugs) {
        self.bugs = bugs;
    }

    /// True once the election timer runs (Raft wakes on its first message).
    pub fn is_awake(&self) -> bool {
        self.election_due.is_some() || self.role == Role::Leader
    }

    /// Starts the election timer if it is not running.
    pub fn wake(&mut self, rng: &mut impl Rng) {
        if !self.is_awake() {
            self.reset_election(rng);
        }
    }

    /// Adopts a lease configuration: leases of `effective_lease_ms`, election timeouts
    /// from `election_timeout_ms` to half as much again, and votes refused while a leader
    /// was heard from within `election_timeout_ms`.
    pub fn set_lease_config(&mut self, config: LeaseConfig, rng: &mut impl Rng) {
        let min = config.election_timeout_ms.max(1) as u64;
        if !self.bugs.ignore_leader_lease {
            self.timeout_ms = (min, min + (min / 2).max(1));
        }
        self.lease.adopt(config);
        if self.election_due.is_some() {
            self.reset_election(rng);
        }
    }

    fn reset_election(&mut self, rng: &mut impl Rng) {
        let ms = rng.random_range(self.timeout_ms.0..self.timeout_ms.1);
        self.election_due = Some(Instant::now() + Duration::from_millis(ms));
    }

    fn last_index(&self) -> usize {
        self.log.len() - 1
    }

    fn majority(&self) -> usize {
        self.peers.len().div_ceil(2) + 1
    }

    /// Adopts a newer term as a follower.
    fn step_down(&mut self, term: u64) -> Result<(), RpcError> {
        if term > self.term {
            self.term = term;
            self.voted_for = None;
            self.persist_meta()?;
        }
        if self.role == Role::Leader {
            self.abandoned
                .extend(self.waiting.drain().map(|(_, client)| client));
            let left = self.lease.end_term();
            self.orphaned_reads.extend(left);
        }
        self.role = Role::Follower;
        self.heartbeat_due = None;
        Ok(())
    }

    /// When a timer is next due.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.role {
            Role::Leader => self.heartbeat_due,
            _ => self.election_due,
        }
    }

    /// Runs due timers: an election when the leader went quiet, heartbeats when leading.
    pub fn tick<W: Write + ?Sized>(
        &mut self,
        now: Instant,
        out: &mut Outbox<W>,
        rng: &mut impl Rng,
    ) {
        for (client, msg_id) in std::mem::take(&mut self.abandoned) {
            let error = RpcError::indefinite(
                "lost leadership before this committed; it may still take effect",
            );
            out.reply_to(&client, &msg_id, error.to_body());
        }
        let orphaned = std::mem::take(&mut self.orphaned_reads);
        self.answer_reads(orphaned, out, |_, _| {
            Err(RpcError::unavailable(
                "lost leadership before confirming the read",
            ))
        });
        match self.role {
            Role::Leader if self.heartbeat_due.is_some_and(|d| d <= now) => {
                self.replicate(out);
                self.heartbeat_due = Some(now + HEARTBEAT);
                let limit = Duration::from_millis(self.timeout_ms.0);
                let overdue = self.lease.overdue_reads(now, limit);
                self.answer_reads(overdue, out, |_, _| {
                    Err(RpcError::unavailable(
                        "could not confirm leadership: no majority answered",
                    ))
                });
            }
            Role::Follower | Role::Candidate if self.election_due.is_some_and(|d| d <= now) => {
                self.campaign(out, rng)
            }
            _ => {}
        }
    }

    /// `raft_status`.
    pub fn status(&self) -> Map<String, Value> {
        let role = match self.role {
            Role::Follower => "follower",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
        };
        body(
            "raft_status_ok",
            [
                ("term", self.term.into()),
                ("role", role.into()),
                ("leader", json!(self.leader)),
                ("commit_index", self.commit.into()),
                ("log_len", self.last_index().into()),
            ],
        )
    }
}
