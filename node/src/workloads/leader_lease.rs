//! The Raft leader's lease (seed 001, SPEC 3.2).
//!
//! Every heartbeat round the leader sends is numbered, with its send time on the node's
//! clock. When a majority (the leader included) has answered a round in the leader's term,
//! every one of those followers reset its election timer after the round was sent, and
//! none of them grants a vote until the minimum election timeout has passed since (they
//! refuse votes while they have heard from a leader that recently). So no other leader can
//! exist until `sent + election_timeout` in real time, and the leader holds its lease until
//! `sent + effective_lease` on its own clock. That is safe while
//! `effective_lease + (how much the leader's clock loses during the lease) <= election_timeout`.
//!
//! A lease read that finds no valid lease waits for a round sent after it arrived: once a
//! majority answers that round, the node was still leader after the read began, and its
//! state holds every write that completed before.

use super::lease_read::LeaseConfig;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Rounds remembered at most (older unanswered rounds are forgotten).
const MAX_ROUNDS: usize = 256;

/// One heartbeat round.
#[derive(Debug)]
struct Round {
    /// When it was sent, on the node's clock (ms).
    sent_ms: i64,
    /// The peers that answered it in the leader's term.
    answered: BTreeSet<String>,
    /// The `msg_id`s of its messages.
    msg_ids: Vec<u64>,
}

/// A lease read waiting for the leader to confirm it still leads.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingRead {
    /// Who asked.
    pub client: String,
    /// The request's `msg_id`.
    pub msg_id: Value,
    /// The key to read.
    pub key: Value,
    /// The first round sent after the read arrived.
    round: u64,
    /// When it arrived.
    asked: Instant,
}

/// The leader's lease: its configuration, its heartbeat rounds and the reads waiting on one.
#[derive(Debug, Default)]
pub struct LeaderLease {
    config: Option<LeaseConfig>,
    rounds: BTreeMap<u64, Round>,
    round_of: HashMap<u64, u64>,
    next_round: u64,
    confirmed: u64,
    until_ms: Option<i64>,
    waiting: Vec<WaitingRead>,
}

impl LeaderLease {
    /// The configuration in force; without one the leader holds no lease and every lease
    /// read confirms leadership first.
    pub fn config(&self) -> Option<LeaseConfig> {
        self.config
    }

    /// Adopts a configuration.
    pub fn adopt(&mut self, config: LeaseConfig) {
        self.config = Some(config);
        self.until_ms = None;
    }

    /// Starts a heartbeat round sent now (`now_ms` on the node's clock); returns its number.
    pub fn begin_round(&mut self, now_ms: i64) -> u64 {
        self.next_round += 1;
        let round = self.next_round;
        self.rounds.insert(
            round,
            Round {
                sent_ms: now_ms,
                answered: BTreeSet::new(),
                msg_ids: Vec::new(),
            },
        );
        while self.rounds.len() > MAX_ROUNDS {
            if let Some((_, old)) = self.rounds.pop_first() {
                for id in old.msg_ids {
                    self.round_of.remove(&id);
                }
            }
        }
        round
    }

    /// Message `msg_id` belongs to `round`.
    pub fn sent(&mut self, round: u64, msg_id: u64) {
        if let Some(r) = self.rounds.get_mut(&round) {
            r.msg_ids.push(msg_id);
            self.round_of.insert(msg_id, round);
        }
    }

    /// `peer` answered message `msg_id` in the leader's term; true when that completes a
    /// majority for a round not confirmed before (`majority` counts the leader itself).
    pub fn answered(&mut self, msg_id: u64, peer: &str, majority: usize) -> bool {
        let Some(&round) = self.round_of.get(&msg_id) else {
            return false;
        };
        let Some(r) = self.rounds.get_mut(&round) else {
            return false;
        };
        r.answered.insert(peer.to_owned());
        if round <= self.confirmed || r.answered.len() + 1 < majority {
            return false;
        }
        self.confirmed = round;
        if let Some(config) = self.config {
            let until = r.sent_ms.saturating_add(config.effective_lease_ms);
            self.until_ms = Some(self.until_ms.map_or(until, |u| u.max(until)));
        }
        // Older rounds can neither extend the lease nor confirm anything newer.
        let newer = self.rounds.split_off(&(round + 1));
        for old in std::mem::replace(&mut self.rounds, newer).into_values() {
            for id in old.msg_ids {
                self.round_of.remove(&id);
            }
        }
        true
    }

    /// How long the lease still holds at `now_ms` on the node's clock (negative once it has
    /// run out), or `None` when the leader never held one in this term.
    pub fn remaining_ms(&self, now_ms: i64) -> Option<i64> {
        self.until_ms.map(|until| until - now_ms)
    }

    /// Parks a lease read until a majority answers `round` (sent after the read arrived).
    pub fn wait(&mut self, client: String, msg_id: Value, key: Value, round: u64) {
        self.waiting.push(WaitingRead {
            client,
            msg_id,
            key,
            round,
            asked: Instant::now(),
        });
    }

    /// The waiting reads whose round a majority has answered.
    pub fn confirmed_reads(&mut self) -> Vec<WaitingRead> {
        let confirmed = self.confirmed;
        let (ready, waiting) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| w.round <= confirmed);
        self.waiting = waiting;
        ready
    }

    /// The waiting reads that have waited `limit` or longer at `now`.
    pub fn overdue_reads(&mut self, now: Instant, limit: Duration) -> Vec<WaitingRead> {
        let (overdue, waiting) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| now.duration_since(w.asked) >= limit);
        self.waiting = waiting;
        overdue
    }

    /// The term ended (or began): no lease, no rounds; returns the reads left waiting.
    pub fn end_term(&mut self) -> Vec<WaitingRead> {
        self.rounds.clear();
        self.round_of.clear();
        self.confirmed = self.next_round;
        self.until_ms = None;
        std::mem::take(&mut self.waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configured(effective: i64) -> LeaderLease {
        let mut lease = LeaderLease::default();
        lease.adopt(LeaseConfig {
            effective_lease_ms: effective,
            election_timeout_ms: 1000,
        });
        lease
    }

    #[test]
    fn a_majority_answering_a_round_starts_the_lease_at_its_send_time() {
        let mut lease = configured(600);
        let r1 = lease.begin_round(10_000);
        lease.sent(r1, 1);
        lease.sent(r1, 2);
        let r2 = lease.begin_round(10_050);
        lease.sent(r2, 3);
        lease.sent(r2, 4);
        assert_eq!(lease.remaining_ms(10_100), None);
        // Five nodes: the leader and two peers make a majority.
        assert!(!lease.answered(3, "n2", 3));
        assert!(lease.answered(4, "n3", 3));
        assert_eq!(lease.remaining_ms(10_100), Some(550));
        // An older round answered late neither confirms again nor shortens the lease.
        assert!(!lease.answered(1, "n2", 3));
        assert!(!lease.answered(2, "n3", 3));
        assert_eq!(lease.remaining_ms(10_700), Some(-50));
    }

    #[test]
    fn an_unconfigured_leader_confirms_reads_but_holds_no_lease() {
        let mut lease = LeaderLease::default();
        let r = lease.begin_round(0);
        lease.sent(r, 7);
        lease.wait("c1".into(), 5.into(), "x".into(), r);
        assert!(lease.confirmed_reads().is_empty());
        assert!(lease.answered(7, "n2", 2));
        assert_eq!(lease.remaining_ms(1), None);
        let ready = lease.confirmed_reads();
        assert_eq!((ready.len(), &ready[0].client), (1, &"c1".to_owned()));
    }

    #[test]
    fn a_new_term_forgets_rounds_and_returns_waiting_reads() {
        let mut lease = configured(600);
        let r = lease.begin_round(0);
        lease.sent(r, 1);
        lease.wait("c1".into(), 1.into(), "x".into(), r);
        assert_eq!(lease.end_term().len(), 1);
        assert!(!lease.answered(1, "n2", 2), "a round of the old term");
        assert_eq!(lease.remaining_ms(0), None);
        let overdue = {
            lease.wait("c2".into(), 2.into(), "x".into(), lease.next_round + 1);
            lease.overdue_reads(
                Instant::now() + Duration::from_secs(2),
                Duration::from_secs(1),
            )
        };
        assert_eq!(overdue.len(), 1);
    }

    #[test]
    fn old_rounds_are_forgotten_beyond_the_cap() {
        let mut lease = configured(600);
        for i in 0..(MAX_ROUNDS as u64 + 10) {
            let r = lease.begin_round(i as i64);
            lease.sent(r, i);
        }
        assert_eq!(lease.rounds.len(), MAX_ROUNDS);
        assert_eq!(lease.round_of.len(), MAX_ROUNDS);
        assert!(!lease.answered(0, "n2", 2), "forgotten");
    }
}
