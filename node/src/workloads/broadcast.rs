//! Maelstrom's `broadcast` (Gossip Glomers 3a-3e): `topology` (answered, and otherwise
//! unused), `broadcast {message}`, `read` (every message the node holds).
//!
//! Each node sends the messages its clients gave it straight to every other node, ignoring
//! the suggested topology (one hop of latency instead of a grid's 2 * sqrt(n)). Sends are
//! batched: the first new message starts a [`BATCH_WINDOW`], and everything that arrived
//! in it goes to each peer in one `broadcast_gossip`. A peer answers `broadcast_gossip_ok`;
//! what a peer has not acknowledged goes to it again, with whatever is new, every
//! [`RETRY_AFTER`], so a partition delays messages but loses none. Received gossip is not
//! passed on: its origin keeps sending until each peer has it. With 25 nodes, 50 broadcasts
//! a second and 100 ms of latency that is about 17 node messages per operation and a
//! message everywhere within the window plus one hop.

use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::service::{Answer, Context, Service, Setup, Shared};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// How long new messages gather before they are sent.
pub const BATCH_WINDOW: Duration = Duration::from_millis(200);
/// How long a peer may leave a send unacknowledged before everything it lacks goes again.
pub const RETRY_AFTER: Duration = Duration::from_millis(1000);
/// How many messages a node keeps under the `forget-messages` bug.
const FORGETFUL_KEEPS: usize = 20;

/// What one peer still needs from this node.
#[derive(Debug, Default)]
struct Peer {
    /// Messages it has not acknowledged.
    unacked: BTreeSet<i64>,
    /// True when some of them were never sent.
    fresh: bool,
    /// When the last send to it went.
    last_sent: Option<Instant>,
    /// Sends not yet acknowledged: what each carried, and when it went.
    in_flight: HashMap<u64, (Vec<i64>, Instant)>,
}

/// The broadcast service.
#[derive(Debug, Default)]
pub struct BroadcastService {
    messages: BTreeSet<i64>,
    peers: BTreeMap<String, Peer>,
    /// When the current batch goes out.
    flush_at: Option<Instant>,
    bug: Option<Bug>,
}

impl BroadcastService {
    /// Takes `message` from a client: kept, and queued for every peer if it is new.
    fn accept(&mut self, message: i64, now: Instant) {
        if !self.keep(message) || self.bug == Some(Bug::KeepToSelf) {
            return;
        }
        for peer in self.peers.values_mut() {
            peer.unacked.insert(message);
            peer.fresh = true;
        }
        self.flush_at.get_or_insert(now + BATCH_WINDOW);
    }

    /// Adds `message` to the set; false when it was there already.
    fn keep(&mut self, message: i64) -> bool {
        let new = self.messages.insert(message);
        if self.bug == Some(Bug::ForgetMessages) {
            while self.messages.len() > FORGETFUL_KEEPS {
                self.messages.pop_first();
            }
        }
        new
    }

    /// The messages a `read` returns.
    fn read(&self) -> Vec<i64> {
        let mut all: Vec<i64> = self.messages.iter().copied().collect();
        if self.bug == Some(Bug::InventMessage) {
            all.push(1_000_000_000 + all.len() as i64);
        }
        all
    }
}

/// The integers of list field `name`.
fn integers(req: &Envelope, name: &str) -> Result<Vec<i64>, RpcError> {
    let wrong = || RpcError::malformed(format!("field `{name}` must be a list of integers"));
    req.field(name)?
        .as_array()
        .ok_or_else(wrong)?
        .iter()
        .map(|v| v.as_i64().ok_or_else(wrong))
        .collect()
}

impl Service for BroadcastService {
    fn name(&self) -> &'static str {
        "broadcast"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's broadcast: messages sent to every node in batches, resent until acknowledged"
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        matches!(kind, "topology" | "broadcast" | "read" | "broadcast_gossip")
    }

    /// `read` is the counter's in `auto` mode.
    fn in_auto(&self) -> bool {
        false
    }

    fn replies(&self) -> &'static [&'static str] {
        &["broadcast_gossip_ok"]
    }

    fn init(&mut self, setup: &Setup, ctx: &mut Context) {
        self.bug = setup.bug("broadcast");
        self.peers = ctx
            .peers
            .iter()
            .map(|p| (p.clone(), Peer::default()))
            .collect();
    }

    fn handle(&mut self, req: &Envelope, _ctx: &mut Context) -> Answer {
        match req.kind() {
            "topology" => {
                if !req.field("topology")?.is_object() {
                    return Err(RpcError::malformed(
                        "field `topology` must map node ids to lists of node ids",
                    ));
                }
                Ok(Some(body("topology_ok", [])))
            }
            "broadcast" => {
                let message = req.int("message")?;
                self.accept(message, Instant::now());
                Ok(Some(body("broadcast_ok", [])))
            }
            "broadcast_gossip" => {
                for message in integers(req, "messages")? {
                    self.keep(message);
                }
                Ok(Some(body("broadcast_gossip_ok", [])))
            }
            _ => Ok(Some(body("read_ok", [("messages", json!(self.read()))]))),
        }
    }

    /// An acknowledged send: its messages are the peer's now.
    fn reply(&mut self, msg: &Envelope, _ctx: &mut Context) {
        let Some(peer) = self.peers.get_mut(&msg.src) else {
            return;
        };
        let Some(id) = msg.body.get("in_reply_to").and_then(Value::as_u64) else {
            return;
        };
        if let Some((sent, _)) = peer.in_flight.remove(&id) {
            for message in sent {
                peer.unacked.remove(&message);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let retries = self
            .peers
            .values()
            .filter(|p| !p.unacked.is_empty())
            .filter_map(|p| p.last_sent.map(|t| t + RETRY_AFTER));
        self.flush_at.into_iter().chain(retries).min()
    }

    /// Sends each peer what it lacks when the batch is due, or when its last send went
    /// unacknowledged for [`RETRY_AFTER`].
    fn tick(&mut self, now: Instant, ctx: &mut Context) {
        let batch_due = self.flush_at.is_some_and(|t| now >= t);
        if batch_due {
            self.flush_at = None;
        }
        for (id, peer) in &mut self.peers {
            if peer.unacked.is_empty() {
                continue;
            }
            let retry_due = peer.last_sent.is_some_and(|t| now >= t + RETRY_AFTER);
            if !(retry_due || batch_due && peer.fresh) {
                continue;
            }
            let sent: Vec<i64> = peer.unacked.iter().copied().collect();
            let msg_id = ctx
                .out
                .send(id, body("broadcast_gossip", [("messages", json!(sent))]));
            peer.in_flight
                .retain(|_, (_, at)| now.duration_since(*at) < 10 * RETRY_AFTER);
            peer.in_flight.insert(msg_id, (sent, now));
            peer.fresh = false;
            peer.last_sent = Some(now);
        }
    }
}
