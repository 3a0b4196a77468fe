//! Client requests: the leader logs `read`, `write` and `cas` and answers once they are
//! committed; a follower forwards them to a leader it heard from lately.

use super::{Entry, Raft, Role, FRESH_HEARTBEATS, HEARTBEAT};
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Outbox;
use serde_json::{json, Map, Value};
use std::io::Write;

impl Raft {
    /// A client's `read`, `write` or `cas`: the leader logs it and answers once it is
    /// committed and applied; a follower forwards it to the leader it knows.
    pub fn client<W: Write + ?Sized>(
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

    /// True when the leader was heard from within a few heartbeats: a request forwarded to a
    /// leader that has gone quiet would be lost, and its client left waiting.
    fn leader_is_fresh(&self) -> bool {
        self.last_contact
            .is_some_and(|t| t.elapsed() < HEARTBEAT * FRESH_HEARTBEATS)
    }
}
