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

use super::kv::KvStore;
use super::leader_lease::{LeaderLease, WaitingRead};
use super::lease_read::LeaseConfig;
use crate::clock::Clock;
use crate::message::{body, Envelope, RpcError};
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

const META: &str = "raft-meta.json";
const LOG: &str = "raft-log.json";

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
        if let Some(data) = &raft.data {
            if let Some(meta) = data.load(META) {
                raft.term = meta["term"].as_u64().unwrap_or(0);
                raft.voted_for = meta["voted_for"].as_str().map(str::to_owned);
            }
            if let Some(Value::Array(entries)) = data.load(LOG) {
                raft.log.extend(entries.iter().map(|e| Entry {
                    term: e["term"].as_u64().unwrap_or(0),
                    op: e["op"].clone(),
                }));
            }
        }
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

    fn persist_meta(&self) -> Result<(), RpcError> {
        match &self.data {
            Some(data) => data
                .save(
                    META,
                    &json!({"term": self.term, "voted_for": self.voted_for}),
                )
                .map_err(crash),
            None => Ok(()),
        }
    }

    fn persist_log(&self) -> Result<(), RpcError> {
        match &self.data {
            Some(data) => {
                let entries: Vec<Value> = self.log[1..]
                    .iter()
                    .map(|e| json!({"term": e.term, "op": e.op}))
                    .collect();
                data.save(LOG, &Value::Array(entries)).map_err(crash)
            }
            None => Ok(()),
        }
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
    pub fn tick<W: Write>(&mut self, now: Instant, out: &mut Outbox<W>, rng: &mut impl Rng) {
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

    fn campaign<W: Write>(&mut self, out: &mut Outbox<W>, rng: &mut impl Rng) {
        self.term += 1;
        self.role = Role::Candidate;
        self.voted_for = Some(self.me.clone());
        self.leader = None;
        self.votes = BTreeSet::from([self.me.clone()]);
        self.reset_election(rng);
        if self.persist_meta().is_err() {
            return;
        }
        if self.votes.len() >= self.majority() {
            return self.lead(out);
        }
        let last = self.last_index();
        for peer in self.peers.clone() {
            let req = body(
                "request_vote",
                [
                    ("term", self.term.into()),
                    ("candidate_id", self.me.clone().into()),
                    ("last_log_index", last.into()),
                    ("last_log_term", self.log[last].term.into()),
                ],
            );
            out.send(&peer, req);
        }
    }

    fn lead<W: Write>(&mut self, out: &mut Outbox<W>) {
        self.role = Role::Leader;
        self.leader = Some(self.me.clone());
        let left = self.lease.end_term();
        self.orphaned_reads.extend(left);
        self.log.push(Entry {
            term: self.term,
            op: Value::Null,
        });
        self.term_start = self.last_index();
        let _ = self.persist_log();
        for peer in &self.peers {
            self.next_index.insert(peer.clone(), self.last_index());
            self.match_index.insert(peer.clone(), 0);
        }
        self.replicate(out);
        self.heartbeat_due = Some(Instant::now() + HEARTBEAT);
        self.advance_commit(out);
    }

    /// Sends every peer what it lacks (or an empty heartbeat): one numbered lease round.
    fn replicate<W: Write>(&mut self, out: &mut Outbox<W>) -> u64 {
        let round = self.lease.begin_round(self.clock.now_ms());
        for peer in self.peers.clone() {
            let next = self
                .next_index
                .get(&peer)
                .copied()
                .unwrap_or(1)
                .clamp(1, self.last_index() + 1);
            let prev = next - 1;
            let entries: Vec<Value> = self.log[next..]
                .iter()
                .take(BATCH)
                .map(|e| json!({"term": e.term, "op": e.op}))
                .collect();
            let req = body(
                "append_entries",
                [
                    ("term", self.term.into()),
                    ("leader_id", self.me.clone().into()),
                    ("prev_log_index", prev.into()),
                    ("prev_log_term", self.log[prev].term.into()),
                    ("entries", entries.into()),
                    ("leader_commit", self.commit.into()),
                ],
            );
            let id = out.send(&peer, req);
            self.lease.sent(round, id);
        }
        round
    }

    /// A client's `read`, `write` or `cas`: the leader logs it and answers once it is
    /// committed and applied; a follower forwards it to the leader it knows.
    pub fn client<W: Write>(
        &mut self,
        req: &Envelope,
        out: &mut Outbox<W>,
    ) -> Result<Option<Map<String, Value>>, RpcError> {
        req.field("key")?;
        match (self.role, &self.leader) {
            (Role::Leader, _) if self.bugs.local_reads && req.kind() == "read" => {
                self.kv.read(req).map(Some)
            }
            (Role::Leader, _) => {
                let op = json!({"src": req.src, "body": req.body});
                if self.bugs.early_ack && req.kind() != "read" {
                    self.log.push(Entry {
                        term: self.term,
                        op,
                    });
                    self.persist_log()?;
                    self.replicate(out);
                    self.advance_commit(out);
                    return Ok(Some(body(&format!("{}_ok", req.kind()), [])));
                }
                self.log.push(Entry {
                    term: self.term,
                    op,
                });
                self.persist_log()?;
                self.waiting.insert(
                    self.last_index(),
                    (
                        req.src.clone(),
                        req.msg_id().cloned().unwrap_or(Value::Null),
                    ),
                );
                self.replicate(out);
                self.advance_commit(out);
                Ok(None)
            }
            (_, Some(leader)) if *leader != self.me && self.leader_is_fresh() => {
                out.forward(req, leader);
                Ok(None)
            }
            (_, Some(leader)) if *leader != self.me => Err(RpcError::unavailable(format!(
                "leader {leader} has been silent; try again"
            ))),
            _ => Err(RpcError::unavailable("no leader known; try again")),
        }
    }

    /// `request_vote`: grant at most one vote per term, and only to a candidate whose log is
    /// at least as up to date; the vote is synced before the answer.
    pub fn request_vote(
        &mut self,
        req: &Envelope,
        rng: &mut impl Rng,
    ) -> Result<Map<String, Value>, RpcError> {
        let term = req.int("term")? as u64;
        let candidate = req.string("candidate_id")?.to_owned();
        let (last_index, last_term) = (
            req.int("last_log_index")? as usize,
            req.int("last_log_term")? as u64,
        );
        if self.heard_from_leader_lately() {
            return Ok(body(
                "request_vote_res",
                [("term", self.term.into()), ("vote_granted", false.into())],
            ));
        }
        if term > self.term {
            self.step_down(term)?;
        }
        let mine = self.last_index();
        let up_to_date = self.bugs.vote_stale_log
            || last_term > self.log[mine].term
            || (last_term == self.log[mine].term && last_index >= mine);
        let free = self.bugs.vote_twice || self.voted_for.as_ref().is_none_or(|v| *v == candidate);
        let granted = term == self.term && free && up_to_date;
        if granted {
            self.voted_for = Some(candidate);
            self.persist_meta()?;
            self.reset_election(rng);
        }
        Ok(body(
            "request_vote_res",
            [("term", self.term.into()), ("vote_granted", granted.into())],
        ))
    }

    /// `append_entries`: check the previous entry, repair conflicts, append, commit.
    pub fn append_entries<W: Write>(
        &mut self,
        req: &Envelope,
        out: &mut Outbox<W>,
        rng: &mut impl Rng,
    ) -> Result<Map<String, Value>, RpcError> {
        let term = req.int("term")? as u64;
        let leader = req.string("leader_id")?.to_owned();
        let prev = req.int("prev_log_index")? as usize;
        let prev_term = req.int("prev_log_term")? as u64;
        let leader_commit = req.int("leader_commit")? as usize;
        let entries = req
            .field("entries")?
            .as_array()
            .cloned()
            .ok_or_else(|| RpcError::malformed("`entries` must be a list"))?;
        let refuse = |raft: &Raft, hint: usize| {
            body(
                "append_entries_res",
                [
                    ("term", raft.term.into()),
                    ("success", false.into()),
                    ("conflict_index", hint.into()),
                ],
            )
        };
        if term < self.term {
            return Ok(refuse(self, 0));
        }
        if term > self.term || self.role != Role::Follower {
            self.step_down(term)?;
        }
        self.leader = Some(leader);
        self.last_contact = Some(Instant::now());
        self.reset_election(rng);
        if prev > self.last_index() {
            return Ok(refuse(self, self.last_index() + 1));
        }
        if self.log[prev].term != prev_term {
            let bad = self.log[prev].term;
            let first = (1..=prev).find(|&i| self.log[i].term == bad).unwrap_or(1);
            return Ok(refuse(self, first));
        }
        let mut changed = false;
        for (k, e) in entries.iter().enumerate() {
            let index = prev + 1 + k;
            let entry = Entry {
                term: e["term"].as_u64().unwrap_or(0),
                op: e["op"].clone(),
            };
            if index <= self.last_index() && self.log[index].term != entry.term {
                self.log.truncate(index);
                changed = true;
            }
            if index > self.last_index() {
                self.log.push(entry);
                changed = true;
            }
        }
        if changed {
            self.persist_log()?;
        }
        let matched = prev + entries.len();
        if leader_commit > self.commit {
            self.commit = leader_commit.min(matched);
            self.apply(out);
        }
        Ok(body(
            "append_entries_res",
            [
                ("term", self.term.into()),
                ("success", true.into()),
                ("match_index", matched.into()),
            ],
        ))
    }

    /// A reply to one of our RPCs.
    pub fn reply<W: Write>(&mut self, msg: &Envelope, out: &mut Outbox<W>) {
        let term = msg.body.get("term").and_then(Value::as_u64).unwrap_or(0);
        if term > self.term {
            let _ = self.step_down(term);
            return;
        }
        match msg.kind() {
            "request_vote_res"
                if self.role == Role::Candidate
                    && term == self.term
                    && msg.body.get("vote_granted") == Some(&Value::Bool(true)) =>
            {
                self.votes.insert(msg.src.clone());
                if self.votes.len() >= self.majority() {
                    self.lead(out);
                }
            }
            "append_entries_res" if self.role == Role::Leader && term == self.term => {
                let peer = msg.src.clone();
                let answers = msg.body.get("in_reply_to").and_then(Value::as_u64);
                if let Some(id) = answers {
                    if self.lease.answered(id, &peer, self.majority()) {
                        self.serve_confirmed_reads(out);
                    }
                }
                if msg.body.get("success") == Some(&Value::Bool(true)) {
                    let matched = msg
                        .body
                        .get("match_index")
                        .and_then(Value::as_u64)
                        .unwrap_or(0) as usize;
                    let slot = self.match_index.entry(peer.clone()).or_insert(0);
                    *slot = (*slot).max(matched);
                    self.next_index.insert(peer, *slot + 1);
                    self.advance_commit(out);
                } else {
                    let hint = msg
                        .body
                        .get("conflict_index")
                        .and_then(Value::as_u64)
                        .map(|h| h as usize);
                    let next = self.next_index.get(&peer).copied().unwrap_or(1);
                    self.next_index.insert(
                        peer,
                        hint.filter(|&h| h >= 1)
                            .unwrap_or(next.saturating_sub(1))
                            .max(1),
                    );
                }
            }
            _ => {}
        }
    }

    /// Commits the highest index of our own term that a majority holds, then applies.
    fn advance_commit<W: Write>(&mut self, out: &mut Outbox<W>) {
        for n in (self.commit + 1..=self.last_index()).rev() {
            if self.log[n].term != self.term {
                break;
            }
            let holders = 1 + self.match_index.values().filter(|&&m| m >= n).count();
            if holders >= self.majority() {
                self.commit = n;
                break;
            }
        }
        self.apply(out);
        if self.role == Role::Leader {
            self.serve_confirmed_reads(out);
        }
    }

    /// Applies committed entries; the leader answers the clients that wait on them.
    fn apply<W: Write>(&mut self, out: &mut Outbox<W>) {
        while self.applied < self.commit {
            self.applied += 1;
            let op = self.log[self.applied].op.clone();
            if op.is_null() {
                continue;
            }
            let Ok(req) = serde_json::from_value::<Value>(op.clone())
                .map_err(|_| ())
                .and_then(|op| {
                    let line =
                        json!({"src": op["src"], "dest": self.me, "body": op["body"]}).to_string();
                    Envelope::parse(&line).map_err(|_| ())
                })
            else {
                continue;
            };
            let result = match req.kind() {
                "read" => self.kv.read(&req),
                "write" => self.kv.write(&req),
                "cas" => self.kv.cas(&req),
                other => Err(RpcError::not_supported(other)),
            };
            if let Some((client, msg_id)) = self.waiting.remove(&self.applied) {
                let reply = result.unwrap_or_else(|e| e.to_body());
                out.reply_to(&client, &msg_id, reply);
            }
        }
    }

    /// True when the leader was heard from within a few heartbeats: a request forwarded to a
    /// leader that has gone quiet would be lost, and its client left waiting.
    fn leader_is_fresh(&self) -> bool {
        self.last_contact
            .is_some_and(|t| t.elapsed() < HEARTBEAT * FRESH_HEARTBEATS)
    }

    /// True when a lease configuration is in force and this node leads, or heard from a
    /// leader within the minimum election timeout: then it grants no vote (and keeps its
    /// term), so no new leader can be elected while the current one may hold its lease.
    fn heard_from_leader_lately(&self) -> bool {
        let Some(config) = self
            .lease
            .config()
            .filter(|_| !self.bugs.ignore_leader_lease)
        else {
            return false;
        };
        let window = Duration::from_millis(config.election_timeout_ms.max(0) as u64);
        self.role == Role::Leader || self.last_contact.is_some_and(|t| t.elapsed() < window)
    }

    /// True when the leader has committed an entry of its own term, so its state holds
    /// every write committed before it was elected.
    fn caught_up(&self) -> bool {
        self.role == Role::Leader && self.commit >= self.term_start
    }

    /// `lease_read {key}`: the leader answers from its state while its lease holds
    /// (`network_round_trips: 0`); otherwise it sends a heartbeat round and answers once a
    /// majority has answered it (`lease_valid: false`, `network_round_trips: 1`). A
    /// follower answers error 11, naming the leader it knows.
    pub fn lease_read<W: Write>(
        &mut self,
        req: &Envelope,
        out: &mut Outbox<W>,
    ) -> Result<Option<Map<String, Value>>, RpcError> {
        let key = req.field("key")?.clone();
        if self.role != Role::Leader {
            return Err(RpcError::unavailable(match &self.leader {
                Some(leader) if *leader != self.me => format!("not the leader; {leader} is"),
                _ => "not the leader; no leader known".to_owned(),
            }));
        }
        let remaining = self.lease.remaining_ms(self.clock.now_ms());
        let holds = remaining.is_some_and(|r| r > 0) && self.caught_up();
        if (holds || self.bugs.expired_lease) && !self.bugs.hidden_round_trip {
            let mut reply = self.lease_read_ok(&key, true, 0);
            if let Some(r) = remaining {
                reply.insert("lease_remaining_ms".into(), r.into());
            }
            return Ok(Some(reply));
        }
        let msg_id = req.msg_id().cloned().unwrap_or(Value::Null);
        let round = self.replicate(out);
        self.lease.wait(req.src.clone(), msg_id, key, round);
        Ok(None)
    }

    fn lease_read_ok(
        &self,
        key: &Value,
        lease_valid: bool,
        round_trips: u64,
    ) -> Map<String, Value> {
        body(
            "lease_read_ok",
            [
                ("value", self.kv.get(key).cloned().unwrap_or(Value::Null)),
                ("lease_valid", lease_valid.into()),
                ("network_round_trips", round_trips.into()),
            ],
        )
    }

    /// Answers the lease reads whose confirming round a majority answered, once the
    /// leader's state is caught up.
    fn serve_confirmed_reads<W: Write>(&mut self, out: &mut Outbox<W>) {
        if !self.caught_up() {
            return;
        }
        let ready = self.lease.confirmed_reads();
        let claim = if self.bugs.hidden_round_trip {
            (true, 0)
        } else {
            (false, 1)
        };
        self.answer_reads(ready, out, |raft, key| {
            Ok(raft.lease_read_ok(key, claim.0, claim.1))
        });
    }

    fn answer_reads<W: Write>(
        &self,
        reads: Vec<WaitingRead>,
        out: &mut Outbox<W>,
        answer: impl Fn(&Raft, &Value) -> Result<Map<String, Value>, RpcError>,
    ) {
        for read in reads {
            let reply = answer(self, &read.key).unwrap_or_else(|e| e.to_body());
            out.reply_to(&read.client, &read.msg_id, reply);
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

fn crash(e: std::io::Error) -> RpcError {
    RpcError {
        code: 13,
        text: format!("could not persist Raft state: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// A two-node cluster seen from n1, with everything n1 writes kept.
    struct Harness {
        raft: Raft,
        out: Outbox<Vec<u8>>,
        rng: StdRng,
        read: usize,
    }

    impl Harness {
        fn new() -> Harness {
            let mut out = Outbox::new(Vec::new());
            out.set_node_id("n1");
            Harness {
                raft: Raft::new("n1", &["n2".to_owned()], None, Clock::new()),
                out,
                rng: StdRng::seed_from_u64(7),
                read: 0,
            }
        }

        /// The bodies n1 wrote since the last call.
        fn written(&mut self) -> Vec<Value> {
            let text = String::from_utf8(self.out.writer().clone()).unwrap();
            let lines: Vec<Value> = text
                .lines()
                .skip(self.read)
                .map(|l| serde_json::from_str::<Value>(l).unwrap()["body"].clone())
                .collect();
            self.read += lines.len();
            lines
        }

        fn hear_n2(&mut self, body: Value) {
            let line = json!({"src": "n2", "dest": "n1", "body": body}).to_string();
            self.raft
                .reply(&Envelope::parse(&line).unwrap(), &mut self.out);
        }

        /// n1 campaigns, wins n2's vote and commits its no-op.
        fn elected(mut self) -> Harness {
            self.raft.wake(&mut self.rng);
            let later = Instant::now() + Duration::from_secs(1);
            self.raft.tick(later, &mut self.out, &mut self.rng);
            let ask = self.written().remove(0);
            self.hear_n2(json!({"type": "request_vote_res", "term": 1, "vote_granted": true, "in_reply_to": ask["msg_id"]}));
            let heartbeat = self.written().remove(0);
            assert_eq!(heartbeat["type"], "append_entries");
            self.hear_n2(json!({"type": "append_entries_res", "term": 1, "success": true, "match_index": 1, "in_reply_to": heartbeat["msg_id"]}));
            assert!(self.raft.caught_up());
            self
        }

        fn lease_read(&mut self, msg_id: u64) -> Option<Map<String, Value>> {
            let line = json!({"src": "c1", "dest": "n1", "body": {"type": "lease_read", "key": "x", "msg_id": msg_id}}).to_string();
            self.raft
                .lease_read(&Envelope::parse(&line).unwrap(), &mut self.out)
                .unwrap()
        }
    }

    #[test]
    fn a_leader_that_steps_down_tells_its_waiting_clients_the_outcome_is_unknown() {
        let mut h = Harness::new().elected();
        let line = json!({"src": "c1", "dest": "n1", "body": {"type": "write", "key": "x", "value": 1, "msg_id": 9}}).to_string();
        let waiting = h
            .raft
            .client(&Envelope::parse(&line).unwrap(), &mut h.out)
            .unwrap();
        assert_eq!(waiting, None, "the write waits to commit");
        h.written();
        // A newer term arrives before n2 acknowledged the entry.
        h.hear_n2(json!({"type": "append_entries", "term": 5, "leader_id": "n2", "prev_log_index": 0, "prev_log_term": 0, "entries": [], "leader_commit": 0, "msg_id": 1}));
        h.raft.tick(Instant::now(), &mut h.out, &mut h.rng);
        let told = h.written();
        let answer = told
            .iter()
            .find(|b| b["in_reply_to"] == 9)
            .expect("the client is answered");
        assert_eq!(
            (&answer["type"], &answer["code"]),
            (&json!("error"), &json!(0))
        );
    }

    #[test]
    fn without_a_lease_a_read_waits_for_a_majority_to_confirm_a_new_round() {
        let mut h = Harness::new().elected();
        assert_eq!(h.lease_read(5), None, "no configuration, no lease");
        let round = h.written().remove(0);
        assert_eq!(round["type"], "append_entries");
        h.hear_n2(json!({"type": "append_entries_res", "term": 1, "success": true, "match_index": 1, "in_reply_to": round["msg_id"]}));
        let answer = h.written().remove(0);
        assert_eq!(
            (
                &answer["type"],
                &answer["lease_valid"],
                &answer["network_round_trips"],
                &answer["in_reply_to"]
            ),
            (&json!("lease_read_ok"), &json!(false), &json!(1), &json!(5))
        );
    }

    #[test]
    fn with_a_lease_reads_are_answered_locally_without_messages() {
        let mut h = Harness::new().elected();
        let config = LeaseConfig {
            effective_lease_ms: 60_000,
            election_timeout_ms: 120_000,
        };
        h.raft.set_lease_config(config, &mut h.rng);
        assert_eq!(
            h.lease_read(5),
            None,
            "the lease starts with a round sent under it"
        );
        let round = h.written().remove(0);
        h.hear_n2(json!({"type": "append_entries_res", "term": 1, "success": true, "match_index": 1, "in_reply_to": round["msg_id"]}));
        h.written();
        let local = h.lease_read(6).expect("answered at once");
        assert_eq!(
            (&local["lease_valid"], &local["network_round_trips"]),
            (&json!(true), &json!(0))
        );
        assert!(local["lease_remaining_ms"].as_i64().unwrap() > 59_000);
        assert!(h.written().is_empty(), "no message sent for a local read");
    }

    /// n2 of a cluster with n1 and n3, under `config`, after a heartbeat from leader n1.
    fn follower(config: Option<LeaseConfig>) -> (Raft, StdRng) {
        follower_with(RaftBugs::default(), config, json!([]))
    }

    /// n2 of a cluster with n1 and n3, with `bugs`, under `config`, after leader n1 of term
    /// 1 sent it `entries`.
    fn follower_with(
        bugs: RaftBugs,
        config: Option<LeaseConfig>,
        entries: Value,
    ) -> (Raft, StdRng) {
        let peers = ["n1".to_owned(), "n3".to_owned()];
        let mut raft = Raft::new("n2", &peers, None, Clock::new());
        raft.set_bugs(bugs);
        let mut rng = StdRng::seed_from_u64(1);
        if let Some(config) = config {
            raft.set_lease_config(config, &mut rng);
        }
        let beat = json!({"src": "n1", "dest": "n2", "body": {"type": "append_entries", "term": 1, "leader_id": "n1", "prev_log_index": 0, "prev_log_term": 0, "entries": entries, "leader_commit": 0, "msg_id": 1}});
        let beat = Envelope::parse(&beat.to_string()).unwrap();
        raft.append_entries(&beat, &mut Outbox::new(Vec::new()), &mut rng)
            .unwrap();
        (raft, rng)
    }

    #[test]
    fn under_a_lease_configuration_a_node_that_heard_from_its_leader_refuses_votes() {
        let config = LeaseConfig {
            effective_lease_ms: 600,
            election_timeout_ms: 60_000,
        };
        let ask = json!({"src": "n3", "dest": "n2", "body": {"type": "request_vote", "term": 2, "candidate_id": "n3", "last_log_index": 0, "last_log_term": 0, "msg_id": 1}});
        let ask = Envelope::parse(&ask.to_string()).unwrap();
        let (mut sticky, mut rng) = follower(Some(config));
        let answer = sticky.request_vote(&ask, &mut rng).unwrap();
        assert_eq!(
            (&answer["vote_granted"], &answer["term"]),
            (&json!(false), &json!(1))
        );
        // Without a lease configuration the same vote is granted.
        let (mut plain, mut rng) = follower(None);
        assert_eq!(
            plain.request_vote(&ask, &mut rng).unwrap()["vote_granted"],
            true
        );
    }

    /// n3 asks n2 for its vote in `term`, its log ending at index 0 of term 0.
    fn empty_candidate(term: u64) -> Envelope {
        let ask = json!({"src": "n3", "dest": "n2", "body": {"type": "request_vote", "term": term, "candidate_id": "n3", "last_log_index": 0, "last_log_term": 0, "msg_id": 1}});
        Envelope::parse(&ask.to_string()).unwrap()
    }

    #[test]
    fn vote_stale_log_grants_a_candidate_whose_log_is_behind() {
        let entry = json!([{"term": 1, "op": null}]);
        let (mut sound, mut rng) = follower_with(RaftBugs::default(), None, entry.clone());
        let refused = sound.request_vote(&empty_candidate(2), &mut rng).unwrap();
        assert_eq!(
            (&refused["vote_granted"], &refused["term"]),
            (&json!(false), &json!(2)),
            "the reference adopts the term but keeps its vote from a shorter log"
        );
        let bugs = RaftBugs {
            vote_stale_log: true,
            ..RaftBugs::default()
        };
        let (mut stale, mut rng) = follower_with(bugs, None, entry);
        assert_eq!(
            stale.request_vote(&empty_candidate(2), &mut rng).unwrap()["vote_granted"],
            true
        );
        // It still votes once per term.
        let other = json!({"src": "n1", "dest": "n2", "body": {"type": "request_vote", "term": 2, "candidate_id": "n1", "last_log_index": 1, "last_log_term": 1, "msg_id": 2}});
        let other = Envelope::parse(&other.to_string()).unwrap();
        assert_eq!(
            stale.request_vote(&other, &mut rng).unwrap()["vote_granted"],
            false
        );
    }

    #[test]
    fn ignore_leader_lease_votes_and_campaigns_while_the_leader_was_heard_lately() {
        let config = LeaseConfig {
            effective_lease_ms: 600,
            election_timeout_ms: 60_000,
        };
        let bugs = RaftBugs {
            ignore_leader_lease: true,
            ..RaftBugs::default()
        };
        let (mut raft, mut rng) = follower_with(bugs, Some(config), json!([]));
        let answer = raft.request_vote(&empty_candidate(2), &mut rng).unwrap();
        assert_eq!(
            (&answer["vote_granted"], &answer["term"]),
            (&json!(true), &json!(2)),
            "a vote granted right after the leader's heartbeat"
        );
        // Its election timer keeps Raft's 150-300 ms, not the configured 60 s.
        let due = raft.next_deadline().expect("the timer runs");
        assert!(
            due <= Instant::now() + Duration::from_millis(300),
            "{due:?}"
        );
        // The reference waits the configured minimum.
        let (sound, _) = follower(Some(config));
        let due = sound.next_deadline().expect("the timer runs");
        assert!(due >= Instant::now() + Duration::from_secs(50), "{due:?}");
    }

    #[test]
    fn a_follower_refuses_lease_reads_and_names_the_leader() {
        let (mut raft, _) = follower(None);
        let read = json!({"src": "c1", "dest": "n2", "body": {"type": "lease_read", "key": "x", "msg_id": 3}});
        let error = raft
            .lease_read(
                &Envelope::parse(&read.to_string()).unwrap(),
                &mut Outbox::new(Vec::new()),
            )
            .unwrap_err();
        assert_eq!(
            (error.code, error.text.as_str()),
            (11, "not the leader; n1 is")
        );
    }
}
