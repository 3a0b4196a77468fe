//! Lease reads (seed 001): answered from the leader's state while its lease holds,
//! otherwise once a majority has answered a heartbeat round sent after the read arrived.

use super::{Raft, Role};
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Outbox;
use crate::workloads::leader_lease::WaitingRead;
use serde_json::{Map, Value};
use std::io::Write;

impl Raft {
    /// True when the leader has committed an entry of its own term, so its state holds
    /// every write committed before it was elected.
    pub(super) fn caught_up(&self) -> bool {
        self.role == Role::Leader && self.commit >= self.term_start
    }

    /// `lease_read {key}`: the leader answers from its state while its lease holds
    /// (`network_round_trips: 0`); otherwise it sends a heartbeat round and answers once a
    /// majority has answered it (`lease_valid: false`, `network_round_trips: 1`). A
    /// follower answers error 11, naming the leader it knows.
    pub fn lease_read<W: Write + ?Sized>(
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
    pub(super) fn serve_confirmed_reads<W: Write + ?Sized>(&mut self, out: &mut Outbox<W>) {
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

    pub(super) fn answer_reads<W: Write + ?Sized>(
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
}
