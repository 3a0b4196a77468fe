//! Maelstrom's `g-set`: a grow-only set replicated by anti-entropy gossip. `add {element}`
//! -> `add_ok`, `read` -> `read_ok {value: [elements]}`.
//!
//! Every [`GOSSIP_INTERVAL`] a node sends each peer the elements that peer is not known to
//! hold (`g_set_gossip {elements}`, numbered); the peer merges them and answers
//! `g_set_gossip_ok`, and only then are they known to it (so gossip lost to a partition is
//! sent again once it heals). Elements a peer gossiped are known to it too. Every
//! [`FULL_EVERY`]-th round forgets what peers are known to hold and sends everything, so a
//! peer that lost its state is refilled. Elements a node acknowledged are kept in
//! `NODE_DATA_DIR` before the `add_ok`.

use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::persist::DataDir;
use crate::service::{Answer, Context, Service, Setup, Shared};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Time between gossip rounds.
pub const GOSSIP_INTERVAL: Duration = Duration::from_millis(100);
/// Every this many rounds, every peer gets the whole set.
pub const FULL_EVERY: u64 = 10;
/// Where the set is kept in `NODE_DATA_DIR`.
const SET_FILE: &str = "g-set.json";

/// The gossip between nodes.
const GOSSIP: &str = "g_set_gossip";
/// Its acknowledgement.
const GOSSIP_OK: &str = "g_set_gossip_ok";

/// The set: elements by their JSON text, so that equal values are one element.
type Elements = BTreeMap<String, Value>;

/// One node's replica of the set and its gossip.
#[derive(Debug, Default)]
pub struct GSetService {
    elements: Elements,
    /// Per peer, the elements it is known to hold.
    known: HashMap<String, BTreeSet<String>>,
    /// Gossip sent and not yet acknowledged: msg_id -> (round, peer, elements).
    in_flight: HashMap<u64, (u64, String, Vec<String>)>,
    next_gossip: Option<Instant>,
    rounds: u64,
    /// `--bug gossip-once`: each new element is sent to every peer once, without
    /// acknowledgement or any later round.
    once: bool,
    data: Option<DataDir>,
}

impl GSetService {
    /// Adds `elements`; the texts of those that are new.
    fn merge(&mut self, elements: impl IntoIterator<Item = Value>) -> Vec<String> {
        let mut new = Vec::new();
        for element in elements {
            let text = element.to_string();
            if !self.elements.contains_key(&text) {
                self.elements.insert(text.clone(), element);
                new.push(text);
            }
        }
        new
    }

    /// The gossip body carrying the elements `texts`.
    fn gossip(&self, texts: &[String]) -> Map<String, Value> {
        let elements: Vec<Value> = texts.iter().map(|t| self.elements[t].clone()).collect();
        body(GOSSIP, [("elements", Value::from(elements))])
    }

    /// `add {element}` -> `add_ok`, once the set is saved.
    fn add(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        let element = req.field("element")?.clone();
        let new = self.merge([element]);
        if !new.is_empty() {
            self.save()?;
            if self.once {
                let gossip = self.gossip(&new);
                for peer in ctx.peers {
                    ctx.out.send_unnumbered(peer, gossip.clone());
                }
            }
        }
        Ok(Some(body("add_ok", [])))
    }

    /// Keeps the set in the data folder, if any.
    fn save(&self) -> Result<(), RpcError> {
        let Some(data) = &self.data else {
            return Ok(());
        };
        let all: Vec<&Value> = self.elements.values().collect();
        data.save(SET_FILE, &json!(all)).map_err(|e| RpcError {
            code: 13,
            text: format!("could not persist the set: {e}"),
        })
    }

    /// A peer's gossip: merge it, and count its elements as known to it.
    fn take_gossip(&mut self, req: &Envelope) -> Answer {
        let elements = req
            .field("elements")?
            .as_array()
            .ok_or_else(|| RpcError::malformed("field `elements` must be a list"))?
            .clone();
        let texts: Vec<String> = elements.iter().map(Value::to_string).collect();
        self.merge(elements);
        self.known.entry(req.src.clone()).or_default().extend(texts);
        Ok(Some(body(GOSSIP_OK, [])))
    }
}

impl Service for GSetService {
    fn name(&self) -> &'static str {
        "g-set"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's g-set: a grow-only set replicated by anti-entropy gossip"
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        matches!(kind, "add" | "read" | GOSSIP)
    }

    /// Maelstrom's workload, whose `add` and `read` mean other things than pn-counter's:
    /// served only by a node pinned to it.
    fn in_auto(&self) -> bool {
        false
    }

    fn replies(&self) -> &'static [&'static str] {
        &[GOSSIP_OK]
    }

    /// Reads its defect and the set an earlier run of the node saved.
    fn init(&mut self, setup: &Setup, ctx: &mut Context) {
        self.once = setup.bug("g-set") == Some(Bug::GossipOnce);
        self.data = ctx.data.cloned();
        if let Some(Value::Array(saved)) = self.data.as_ref().and_then(|d| d.load(SET_FILE)) {
            self.merge(saved);
        }
        self.known.clear();
        self.in_flight.clear();
        self.next_gossip = (!self.once && !ctx.peers.is_empty()).then(Instant::now);
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        match req.kind() {
            "add" => self.add(req, ctx),
            "read" => {
                let all: Vec<Value> = self.elements.values().cloned().collect();
                Ok(Some(body("read_ok", [("value", Value::from(all))])))
            }
            _ => self.take_gossip(req),
        }
    }

    /// An acknowledged gossip: its elements are known to the peer.
    fn reply(&mut self, msg: &Envelope, _ctx: &mut Context) {
        let Some(id) = msg.body.get("in_reply_to").and_then(Value::as_u64) else {
            return;
        };
        if let Some((_, peer, texts)) = self.in_flight.remove(&id) {
            if msg.kind() == GOSSIP_OK {
                self.known.entry(peer).or_default().extend(texts);
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.next_gossip
    }

    /// A gossip round: to every peer, what it is not known to hold (everything, every
    /// [`FULL_EVERY`]-th round).
    fn tick(&mut self, now: Instant, ctx: &mut Context) {
        let Some(due) = self.next_gossip.filter(|due| *due <= now) else {
            return;
        };
        self.next_gossip = Some((due + GOSSIP_INTERVAL).max(now));
        self.rounds += 1;
        if self.rounds.is_multiple_of(FULL_EVERY) {
            self.known.clear();
        }
        // Gossip unanswered for a full cycle is lost: forget it (its elements went out again
        // in every round since, being unknown to the peer).
        let rounds = self.rounds;
        self.in_flight
            .retain(|_, (sent, _, _)| rounds - *sent < FULL_EVERY);
        for peer in ctx.peers {
            let known = self.known.get(peer);
            let missing: Vec<String> = self
                .elements
                .keys()
                .filter(|t| known.is_none_or(|k| !k.contains(*t)))
                .cloned()
                .collect();
            if missing.is_empty() {
                continue;
            }
            let id = ctx.out.send(peer, self.gossip(&missing));
            self.in_flight.insert(id, (rounds, peer.clone(), missing));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(src: &str, body: Value) -> Envelope {
        Envelope::parse(&json!({"src": src, "dest": "n0", "body": body}).to_string()).unwrap()
    }

    #[test]
    fn equal_elements_are_one_and_gossip_counts_as_known() {
        let mut set = GSetService::default();
        assert_eq!(set.merge([json!(1), json!("1"), json!(1)]).len(), 2);
        let gossip = req(
            "n1",
            json!({"type": GOSSIP, "elements": [1, 2], "msg_id": 4}),
        );
        set.take_gossip(&gossip).unwrap();
        assert_eq!(set.elements.len(), 3);
        assert_eq!(set.known["n1"].len(), 2);
        let bad = req("n1", json!({"type": GOSSIP, "elements": 3, "msg_id": 5}));
        assert_eq!(set.take_gossip(&bad).unwrap_err().code, 12);
    }
}
