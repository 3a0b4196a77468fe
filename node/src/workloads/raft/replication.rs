//! Log replication: `append_entries` out and in (consistency check, conflict repair),
//! the answers to it and to `request_vote`, commitment by majority and applying committed
//! entries to the key/value state machine.

use super::{Entry, Raft, Role, BATCH};
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Outbox;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::time::Instant;

impl Raft {
    /// Sends every peer what it lacks (or an empty heartbeat): one numbered lease round.
    pub(super) fn replicate<W: Write + ?Sized>(&mut self, out: &mut Outbox<W>) -> u64 {
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

    /// `append_entries`: check the previous entry, repair conflicts, append, commit.
    pub fn append_entries<W: Write + ?Sized>(
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
    pub fn reply<W: Write + ?Sized>(&mut self, msg: &Envelope, out: &mut Outbox<W>) {
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
    pub(super) fn advance_commit<W: Write + ?Sized>(&mut self, out: &mut Outbox<W>) {
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
    fn apply<W: Write + ?Sized>(&mut self, out: &mut Outbox<W>) {
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
}
