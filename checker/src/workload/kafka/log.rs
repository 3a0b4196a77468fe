//! What a kafka history says, read once for every check: the sends with the offsets they
//! were acknowledged at, the polls with what they asked for and returned, the commits and
//! the committed offsets listed. A successful reply that cannot be read is kept as a
//! witness ("a check never drops a record in silence").

use crate::check::measure;
use crate::history::event::{operations, EventType, Operation};
use crate::history::HistoryEvent;
use crate::schema::list_or_null;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Seconds, for witnesses: "1.204 s".
pub fn secs(ns: u64) -> String {
    format!("{:.3} s", measure::secs(ns))
}

/// A message as text, for maps and witnesses (messages are any JSON value).
pub type Msg = String;

/// One `send`.
#[derive(Debug, Clone)]
pub struct Send {
    /// The key it went to.
    pub key: String,
    /// The message, as JSON text.
    pub msg: Msg,
    /// The node it went to.
    pub node: String,
    /// When it was sent and answered (ns).
    pub invoked: u64,
    /// When it completed; `None` when it never did.
    pub completed: Option<u64>,
    /// The offset of its `send_ok`; `None` unless it succeeded.
    pub offset: Option<u64>,
}

/// One answered `poll`.
#[derive(Debug, Clone)]
pub struct Poll {
    /// The node that answered it.
    pub node: String,
    /// When it was answered (ns).
    pub completed: u64,
    /// The offsets it asked for, per key.
    pub asked: BTreeMap<String, u64>,
    /// What it returned per key, `(offset, message)` in the order given.
    pub got: BTreeMap<String, Vec<(u64, Msg)>>,
    /// True for the final phase's polls.
    pub final_phase: bool,
}

impl Poll {
    /// "poll of key 2 from offset 3 on n1 at 1.234 s".
    pub fn describe(&self, key: &str) -> String {
        let from = self.asked.get(key).map_or_else(
            || "(not asked for)".to_owned(),
            |o| format!("from offset {o}"),
        );
        let phase = if self.final_phase { "final " } else { "" };
        format!(
            "the {phase}poll of key {key} {from} on {} answered at {}",
            self.node,
            secs(self.completed)
        )
    }
}

/// One `commit_offsets`.
#[derive(Debug, Clone)]
pub struct Commit {
    /// The offsets it asked to commit.
    pub offsets: BTreeMap<String, u64>,
    /// When it was sent.
    pub invoked: u64,
    /// When it was acknowledged (`commit_offsets_ok`), if it was.
    pub acked: Option<u64>,
}

/// One answered `list_committed_offsets`.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The node that answered.
    pub node: String,
    /// When it was sent and answered.
    pub invoked: u64,
    /// When it was answered.
    pub completed: u64,
    /// The committed offsets it returned (a node may say -1 for a key nothing was
    /// committed on).
    pub offsets: BTreeMap<String, i64>,
}

/// Per key, per message, every `(offset, index of the poll)` it was polled at.
pub type Polled<'a> = BTreeMap<&'a str, BTreeMap<&'a str, Vec<(u64, usize)>>>;

/// Everything the kafka checks read.
#[derive(Debug, Default)]
pub struct KafkaLog {
    /// Every send, in invoke order.
    pub sends: Vec<Send>,
    /// Every answered poll, in invoke order.
    pub polls: Vec<Poll>,
    /// Every commit.
    pub commits: Vec<Commit>,
    /// Every answered listing.
    pub listings: Vec<Listing>,
    /// Successful replies that could not be read.
    pub unreadable: Vec<Value>,
}

impl KafkaLog {
    /// Reads `history`.
    pub fn read(history: &[HistoryEvent]) -> KafkaLog {
        let mut log = KafkaLog::default();
        for op in operations(history) {
            let ok = op.completion.filter(|c| c.kind == EventType::Ok);
            let result = match op.invoke.f.as_str() {
                "send" => log.send(&op, ok),
                "poll" => ok.map_or(Ok(()), |done| log.poll(&op, done)),
                "commit_offsets" => log.commit(&op, ok),
                "list_committed_offsets" => ok.map_or(Ok(()), |done| log.listing(&op, done)),
                _ => Ok(()),
            };
            if let Err(why) = result {
                let at = op.completion.map_or(op.invoke.time, |c| c.time);
                let node = op.invoke.node.clone().unwrap_or_default();
                log.unreadable.push(json!({
                    "node": node, "at_s": at as f64 / 1e9,
                    "why": format!("cannot judge the {} answered by {node} at {}: {why}", op.invoke.f, secs(at)),
                }));
            }
        }
        log
    }

    /// Every message polled per key, with the offsets it was polled at and the polls.
    pub fn polled(&self) -> Polled<'_> {
        let mut seen: Polled = BTreeMap::new();
        for (i, poll) in self.polls.iter().enumerate() {
            for (key, pairs) in &poll.got {
                for (offset, msg) in pairs {
                    seen.entry(key)
                        .or_default()
                        .entry(msg)
                        .or_default()
                        .push((*offset, i));
                }
            }
        }
        seen
    }

    fn send(&mut self, op: &Operation, ok: Option<&HistoryEvent>) -> Result<(), String> {
        let body = &op.invoke.body;
        let (Some(key), Some(msg)) = (body["key"].as_str(), body.get("msg")) else {
            return Ok(()); // not a request eddy's clients send
        };
        let offset = match ok {
            Some(done) => Some(offset_of(&done.body["offset"]).ok_or("`offset` is not an offset")?),
            None => None,
        };
        self.sends.push(Send {
            key: key.to_owned(),
            msg: msg.to_string(),
            node: op.invoke.node.clone().unwrap_or_default(),
            invoked: op.invoke.time,
            completed: op.completion.map(|c| c.time),
            offset,
        });
        Ok(())
    }

    fn poll(&mut self, op: &Operation, done: &HistoryEvent) -> Result<(), String> {
        let asked = offsets(&op.invoke.body["offsets"]).unwrap_or_default();
        let no_msgs = serde_json::Map::new();
        let msgs = match &done.body["msgs"] {
            Value::Null => &no_msgs,
            Value::Object(msgs) => msgs,
            _ => return Err("`msgs` is not an object of keys".into()),
        };
        let mut got = BTreeMap::new();
        for (key, pairs) in msgs {
            let pairs =
                list_or_null(pairs).ok_or_else(|| format!("`msgs` of key {key} is not a list"))?;
            let read = pairs
                .iter()
                .map(|pair| match pair.as_array().map(Vec::as_slice) {
                    Some([offset, msg]) => Some((offset_of(offset)?, msg.to_string())),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| format!("`msgs` of key {key} is not a list of [offset, msg]"))?;
            got.insert(key.clone(), read);
        }
        self.polls.push(Poll {
            node: op.invoke.node.clone().unwrap_or_default(),
            completed: done.time,
            asked,
            got,
            final_phase: op.invoke.phase.as_deref() == Some("final"),
        });
        Ok(())
    }

    fn commit(&mut self, op: &Operation, ok: Option<&HistoryEvent>) -> Result<(), String> {
        let Some(offsets) = offsets(&op.invoke.body["offsets"]) else {
            return Ok(());
        };
        self.commits.push(Commit {
            offsets,
            invoked: op.invoke.time,
            acked: ok.map(|done| done.time),
        });
        Ok(())
    }

    fn listing(&mut self, op: &Operation, done: &HistoryEvent) -> Result<(), String> {
        let offsets = done.body["offsets"]
            .as_object()
            .and_then(|o| {
                o.iter()
                    .map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                    .collect::<Option<BTreeMap<_, _>>>()
            })
            .ok_or("`offsets` is not an object of integer offsets")?;
        self.listings.push(Listing {
            node: op.invoke.node.clone().unwrap_or_default(),
            invoked: op.invoke.time,
            completed: done.time,
            offsets,
        });
        Ok(())
    }
}

/// An offset: an integer >= 0.
fn offset_of(value: &Value) -> Option<u64> {
    value.as_u64()
}

/// An object of key -> offset.
fn offsets(value: &Value) -> Option<BTreeMap<String, u64>> {
    value
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), offset_of(v)?)))
        .collect()
}
