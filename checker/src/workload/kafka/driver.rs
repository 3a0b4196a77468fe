//! `kafka` in simulation: clients that send unique messages to a handful of keys, and poll,
//! commit and list committed offsets the way Maelstrom's kafka clients do. Each client keeps
//! its own position per key (the next offset it wants), advanced by what its polls return,
//! and takes a committed offset as its position for a key it has none for; now and then it
//! seeks back to the beginning. Commits per key only ever go up across all clients (see
//! [`Consumers::commit`]). The final phase polls every key from 0, and on from where each
//! answer ended, until an answer comes back empty past every acknowledged send.

use crate::sim::driver::{Driver, Next, Op};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long the final phase goes on polling keys that still hide acknowledged sends
/// (Maelstrom's final generator stops after 10 s too).
const FINAL_FOR: Duration = Duration::from_secs(10);

/// Time between two final polls of a key whose last answer was empty.
const FINAL_RETRY: Duration = Duration::from_millis(300);

/// The key names: Maelstrom's clients name keys by numbers written as strings.
pub fn key_name(i: usize) -> String {
    i.to_string()
}

/// One client's positions: the next offset it wants, per key.
#[derive(Debug, Default, Clone)]
struct Consumer {
    positions: BTreeMap<String, u64>,
}

/// Where the final phase is on one key.
#[derive(Debug, Default, Clone)]
struct FinalKey {
    /// The next offset to poll from.
    reach: u64,
    /// A poll of the key is in flight.
    in_flight: bool,
    /// The last answer returned nothing; when it came.
    empty_at: Option<Instant>,
    /// Caught up: an answer came back empty past every acknowledged send.
    done: bool,
}

/// The kafka clients.
pub struct Consumers {
    keys: Vec<String>,
    consumers: Vec<Consumer>,
    /// The next message value (unique across the run).
    next_msg: u64,
    /// The highest offset committed (asked for) per key, by any client.
    committed: BTreeMap<String, u64>,
    /// The highest offset an acknowledged send got, per key.
    acked: BTreeMap<String, u64>,
    /// The final phase, per key, and when it began.
    finals: BTreeMap<String, FinalKey>,
    final_began: Option<Instant>,
}

impl Consumers {
    /// Clients over `keys` keys.
    pub fn new(keys: usize) -> Consumers {
        Consumers {
            keys: (0..keys.max(1)).map(key_name).collect(),
            consumers: Vec::new(),
            next_msg: 1,
            committed: BTreeMap::new(),
            acked: BTreeMap::new(),
            finals: BTreeMap::new(),
            final_began: None,
        }
    }

    fn consumer(&mut self, client: usize) -> &mut Consumer {
        if self.consumers.len() <= client {
            self.consumers.resize(client + 1, Consumer::default());
        }
        &mut self.consumers[client]
    }

    /// A random non-empty subset of the keys.
    fn some_keys(&self, rng: &mut ChaCha8Rng) -> Vec<String> {
        let mut picked: Vec<String> = self
            .keys
            .iter()
            .filter(|_| rng.random_bool(0.5))
            .cloned()
            .collect();
        if picked.is_empty() {
            picked.push(self.keys[rng.random_range(0..self.keys.len())].clone());
        }
        picked
    }

    /// A commit of the highest offset `client` has polled on some keys, but only of keys
    /// where that is above every offset committed so far: commits per key go up, so a node
    /// that keeps the last commit and one that keeps the highest answer alike.
    fn commit(&mut self, client: usize) -> Option<Value> {
        let positions = self.consumer(client).positions.clone();
        let mut offsets = Map::new();
        for (key, next) in positions {
            let Some(polled) = next.checked_sub(1) else {
                continue;
            };
            if self.committed.get(&key).is_none_or(|&c| polled > c) {
                self.committed.insert(key.clone(), polled);
                offsets.insert(key, polled.into());
            }
        }
        (!offsets.is_empty()).then(|| json!({"type": "commit_offsets", "offsets": offsets}))
    }

    fn poll(&mut self, client: usize, keys: Vec<String>) -> Value {
        let consumer = self.consumer(client);
        let offsets: Map<String, Value> = keys
            .into_iter()
            .map(|k| {
                let at = *consumer.positions.get(&k).unwrap_or(&0);
                (k, at.into())
            })
            .collect();
        json!({"type": "poll", "offsets": offsets})
    }

    /// The highest offset of each key in a `poll_ok`'s `msgs`.
    fn highest_polled(reply: &Value) -> Vec<(String, u64)> {
        let Some(msgs) = reply["msgs"].as_object() else {
            return Vec::new();
        };
        msgs.iter()
            .filter_map(|(k, pairs)| {
                let top = pairs
                    .as_array()?
                    .iter()
                    .filter_map(|p| p.get(0)?.as_u64())
                    .max()?;
                Some((k.clone(), top))
            })
            .collect()
    }

    fn final_answer(&mut self, request: &Value, reply: &Value) {
        let polled: BTreeMap<String, u64> = Self::highest_polled(reply).into_iter().collect();
        let Some(asked) = request["offsets"].as_object() else {
            return;
        };
        for key in asked.keys() {
            let acked = self.acked.get(key).copied();
            let state = self.finals.entry(key.clone()).or_default();
            state.in_flight = false;
            match polled.get(key) {
                Some(&top) if top + 1 > state.reach => {
                    state.reach = top + 1;
                    state.empty_at = None;
                }
                _ if reply["type"] == "poll_ok" => {
                    state.empty_at = Some(Instant::now());
                    state.done = acked.is_none_or(|a| a < state.reach);
                }
                _ => state.empty_at = Some(Instant::now()),
            }
        }
    }
}

impl Driver for Consumers {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        self.next_op_for(0, rng, nodes)
    }

    fn next_op_for(&mut self, client: usize, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        let node = rng.random_range(0..nodes);
        let body = match rng.random_range(0..100) {
            0..=44 => {
                let key = self.keys[rng.random_range(0..self.keys.len())].clone();
                let msg = self.next_msg;
                self.next_msg += 1;
                json!({"type": "send", "key": key, "msg": msg})
            }
            45..=79 => {
                let keys = self.some_keys(rng);
                self.poll(client, keys)
            }
            80..=89 => match self.commit(client) {
                Some(commit) => commit,
                None => {
                    let keys = self.some_keys(rng);
                    self.poll(client, keys)
                }
            },
            90..=97 => json!({"type": "list_committed_offsets", "keys": self.some_keys(rng)}),
            _ => {
                // Seek to the beginning, as Maelstrom's clients sometimes do on assign.
                let keys = self.some_keys(rng);
                let consumer = self.consumer(client);
                for key in &keys {
                    consumer.positions.insert(key.clone(), 0);
                }
                self.poll(client, keys)
            }
        };
        Next::Op(Op::at(node, body))
    }

    fn on_complete(&mut self, client: usize, request: &Value, reply: &Value, final_phase: bool) {
        match (request["type"].as_str(), reply["type"].as_str()) {
            (Some("send"), Some("send_ok")) => {
                if let (Some(key), Some(offset)) =
                    (request["key"].as_str(), reply["offset"].as_u64())
                {
                    let top = self.acked.entry(key.to_owned()).or_insert(offset);
                    *top = (*top).max(offset);
                }
            }
            (Some("poll"), _) if final_phase => self.final_answer(request, reply),
            (Some("poll"), Some("poll_ok")) => {
                let consumer = self.consumer(client);
                for (key, top) in Self::highest_polled(reply) {
                    let position = consumer.positions.entry(key).or_insert(0);
                    *position = (*position).max(top + 1);
                }
            }
            (Some("list_committed_offsets"), Some("list_committed_offsets_ok")) => {
                let Some(offsets) = reply["offsets"].as_object() else {
                    return;
                };
                let consumer = self.consumer(client);
                for (key, offset) in offsets {
                    if let Some(offset) = offset.as_u64() {
                        consumer.positions.entry(key.clone()).or_insert(offset);
                    }
                }
            }
            _ => {}
        }
    }

    fn quiet_period(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// A poll of every key from 0, each key on another node.
    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, key)| {
                Op::at(
                    i % nodes.max(1),
                    json!({"type": "poll", "offsets": {key.as_str(): 0}}),
                )
            })
            .collect()
    }

    fn more_final_ops(&mut self, nodes: usize) -> Option<Vec<Op>> {
        let now = Instant::now();
        let began = *self.final_began.get_or_insert(now);
        for key in &self.keys {
            self.finals.entry(key.clone()).or_default();
        }
        if now >= began + FINAL_FOR || self.finals.values().all(|f| f.done) {
            return None;
        }
        let mut ops = Vec::new();
        for (i, key) in self.keys.iter().enumerate() {
            let state = self.finals.get_mut(key).expect("every key has a state");
            let due = state.empty_at.is_none_or(|at| now >= at + FINAL_RETRY);
            if state.done || state.in_flight || !due {
                continue;
            }
            state.in_flight = true;
            ops.push(Op::at(
                i % nodes.max(1),
                json!({"type": "poll", "offsets": {key.as_str(): state.reach}}),
            ));
        }
        Some(ops)
    }
}
