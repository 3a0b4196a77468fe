//! Raft seen from one node, its peers played by hand.

use super::*;
use crate::message::Envelope;
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
fn follower_with(bugs: RaftBugs, config: Option<LeaseConfig>, entries: Value) -> (Raft, StdRng) {
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
    let read =
        json!({"src": "c1", "dest": "n2", "body": {"type": "lease_read", "key": "x", "msg_id": 3}});
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
