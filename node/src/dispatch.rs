//! The node: membership from `init`, routing each message to the service that owns it (the
//! registry decides which: [`crate::services`]), replies, and the timers of its services
//! and of the parts they share.

use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Outbox;
use crate::persist::DataDir;
use crate::service::{Answer, Setup, Shared};
use crate::services::{Services, UnknownWorkload};
use crate::workloads::lease::DEFAULT_GUARD_MS;
use serde_json::{Map, Value};
use std::io::Write;
use std::time::Instant;

/// The node id and the cluster it belongs to, as `init` said.
#[derive(Debug, Clone)]
struct Membership {
    id: String,
    peers: Vec<String>,
}

/// A reference node: membership, outbox, its services and what they share.
pub struct Node<W: Write> {
    services: Services,
    membership: Option<Membership>,
    shared: Shared,
    out: Outbox<W>,
    bug: Option<Bug>,
    lease_guard_ms: i64,
}

impl<W: Write> Node<W> {
    /// A node serving `workload` (`auto` or a name of [`crate::services::names`]) that
    /// writes its messages to `out`.
    pub fn new(workload: &str, out: W) -> Result<Self, UnknownWorkload> {
        Ok(Node {
            services: Services::select(workload)?,
            membership: None,
            shared: Shared::default(),
            out: Outbox::new(out),
            bug: None,
            lease_guard_ms: DEFAULT_GUARD_MS,
        })
    }

    /// Turns a deliberate defect on; the service it belongs to reads it at `init`.
    pub fn set_bug(&mut self, bug: Option<Bug>) {
        self.bug = bug;
    }

    /// Sets the lease's drift guard in ms (see [`crate::workloads::lease`]), read at `init`.
    pub fn set_lease_guard_ms(&mut self, guard_ms: i64) {
        self.lease_guard_ms = guard_ms;
    }

    /// Where durable state lives (`NODE_DATA_DIR`); without one nothing is persisted.
    pub fn set_data_dir(&mut self, data: Option<DataDir>) {
        self.shared.data = data;
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

    /// Handles one message: a reply (it has `in_reply_to`, is an `error`, or has a reply
    /// type of [`crate::service::Service::replies`]) goes to the service that takes its
    /// type, or else to the shared store, and is dropped before `init`; a request is
    /// answered.
    pub fn handle(&mut self, message: &Envelope) {
        let kind = message.kind();
        if self.services.is_reply_type(kind) || message.is_reply() || kind == "error" {
            let Some(membership) = &self.membership else {
                return;
            };
            match self.services.reply_owner(kind) {
                Some(index) => {
                    let mut ctx =
                        self.shared
                            .context(&membership.id, &membership.peers, &mut self.out);
                    self.services.get_mut(index).reply(message, &mut ctx);
                }
                None => self.shared.reply(message, &mut self.out),
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
        let services = self.services.iter().map(|service| service.next_deadline());
        std::iter::once(self.shared.next_deadline())
            .chain(services)
            .flatten()
            .min()
    }

    /// Runs every timer that is due: the shared parts' first, then each service's in
    /// registry order.
    pub fn tick(&mut self, now: Instant) {
        let Some(membership) = &self.membership else {
            return;
        };
        self.shared.tick(now, &mut self.out);
        let mut ctx = self
            .shared
            .context(&membership.id, &membership.peers, &mut self.out);
        for service in self.services.iter_mut() {
            service.tick(now, &mut ctx);
        }
    }

    /// Flushes the outbox.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// What has been written so far (for tests with an in-memory writer).
    pub fn output(&self) -> &W {
        self.out.writer()
    }

    /// The answer to a request. `init` and `simulate_drift` belong to every workload;
    /// anything else goes to the service that owns it, error 10 when none does, error 11
    /// before `init`.
    fn answer(&mut self, req: &Envelope) -> Answer {
        let kind = req.kind();
        if kind == "init" {
            return self.init(req).map(Some);
        }
        if kind == "simulate_drift" {
            joined(&self.membership)?;
            self.shared
                .clock
                .drift(req.int("offset_ms")?)
                .map_err(RpcError::malformed)?;
            return Ok(Some(body("simulate_drift_ok", [])));
        }
        let owner = self
            .services
            .owner(req, &self.shared)
            .ok_or_else(|| RpcError::not_supported(kind))?;
        let membership = joined(&self.membership)?;
        let mut ctx = self
            .shared
            .context(&membership.id, &membership.peers, &mut self.out);
        self.services.get_mut(owner).handle(req, &mut ctx)
    }

    /// `init {node_id, node_ids}`: learns the cluster, starts every service, then the
    /// shared parts they asked for.
    fn init(&mut self, req: &Envelope) -> Result<Map<String, Value>, RpcError> {
        let id = req.string("node_id")?.to_owned();
        let ids = req.string_list("node_ids")?;
        if id.is_empty() {
            return Err(RpcError::malformed("field `node_id` must not be empty"));
        }
        let peers: Vec<String> = ids.iter().filter(|n| **n != id).cloned().collect();
        self.out.set_node_id(&id);
        let membership = self.membership.insert(Membership { id, peers });
        let setup = Setup::new(self.bug, self.lease_guard_ms, !self.services.is_auto());
        let mut ctx = self
            .shared
            .context(&membership.id, &membership.peers, &mut self.out);
        for service in self.services.iter_mut() {
            service.init(&setup, &mut ctx);
        }
        self.shared
            .start(&membership.id, &membership.peers, ids.len());
        Ok(body("init_ok", []))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Feeds `bodies` (from `c1`) to a fresh node serving `workload`; returns the bodies it
    /// wrote, `init_ok` included.
    fn exchange(workload: &str, ids: &[&str], before: &[Value], after: &[Value]) -> Vec<Value> {
        let mut node = Node::new(workload, Vec::new()).unwrap();
        let send = |node: &mut Node<Vec<u8>>, body: &Value| {
            node.handle_line(&json!({"src": "c1", "dest": "n1", "body": body}).to_string());
        };
        for body in before {
            send(&mut node, body);
        }
        let init = json!({"type": "init", "msg_id": 0, "node_id": "n1", "node_ids": ids});
        send(&mut node, &init);
        for body in after {
            send(&mut node, body);
        }
        String::from_utf8(node.output().clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["body"].clone())
            .collect()
    }

    fn codes(bodies: &[Value]) -> Vec<Value> {
        bodies
            .iter()
            .map(|b| b.get("code").cloned().unwrap_or_else(|| b["type"].clone()))
            .collect()
    }

    #[test]
    fn before_init_owned_requests_wait_for_init_and_raft_messages_are_unknown() {
        let before = [
            json!({"type": "read", "key": 1, "msg_id": 1}),
            json!({"type": "simulate_drift", "offset_ms": 1, "msg_id": 2}),
            json!({"type": "raft_status", "msg_id": 3}),
            json!({"type": "lease_request_ok", "round": 0, "granted": true, "msg_id": 4}),
        ];
        let written = exchange("auto", &["n1", "n2"], &before, &[]);
        assert_eq!(
            codes(&written),
            [json!(11), json!(11), json!(10), json!("init_ok")]
        );
    }

    #[test]
    fn auto_reads_by_key_and_pinned_nodes_serve_only_their_workload() {
        let reads = [
            json!({"type": "read", "msg_id": 1}),
            json!({"type": "read", "key": 1, "msg_id": 2}),
        ];
        let auto = exchange("auto", &["n1"], &[], &reads);
        assert_eq!(
            codes(&auto),
            [json!("init_ok"), json!("read_ok"), json!(20)]
        );
        let raft = exchange(
            "raft",
            &["n1"],
            &[],
            &[
                reads[0].clone(),
                json!({"type": "lease_read", "key": 1, "msg_id": 3}),
                json!({"type": "add", "delta": 1, "msg_id": 4}),
                json!({"type": "raft_status", "msg_id": 5}),
            ],
        );
        assert_eq!(
            codes(&raft),
            [json!("init_ok"), json!(12), json!(10), json!(10), json!(10)]
        );
        let counter = exchange("pn-counter", &["n1"], &[], &reads[1..]);
        assert_eq!(codes(&counter), [json!("init_ok"), json!("read_ok")]);
    }

    #[test]
    fn another_workloads_reply_type_is_never_answered_as_a_request() {
        let stray = [json!({"type": "lease_request_ok", "round": 0, "msg_id": 1})];
        let written = exchange("pn-counter", &["n1", "n2"], &[], &stray);
        assert_eq!(codes(&written), [json!("init_ok")]);
    }
}
