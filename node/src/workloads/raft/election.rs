//! Leader election: campaigns on a silent leader, votes (one per term, only for an
//! up-to-date log, none while a leader's lease may hold), and taking the lead.

use super::{Entry, Raft, Role, HEARTBEAT};
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Outbox;
use rand::Rng;
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

impl Raft {
    pub(super) fn campaign<W: Write + ?Sized>(&mut self, out: &mut Outbox<W>, rng: &mut impl Rng) {
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

    pub(super) fn lead<W: Write + ?Sized>(&mut self, out: &mut Outbox<W>) {
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
}
