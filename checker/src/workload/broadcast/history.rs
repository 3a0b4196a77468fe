//! A broadcast run's client history, read once for every check: each broadcast by its
//! message, each successful read with the set it returned, and the replies that could not
//! be read (witnesses, never skipped in silence).

use crate::check::measure::{secs, ReadSpan};
use crate::check::Record;
use crate::history::event::{operations, EventType};
use crate::schema::list_or_null;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One `broadcast` request.
#[derive(Debug, Clone)]
pub struct Broadcast {
    /// The node it went to.
    pub node: String,
    /// When it was invoked (ns since the run began).
    pub invoked: u64,
    /// How it completed: ok, fail (a definite error), info (unknown).
    pub outcome: EventType,
    /// When it completed, if it did.
    pub done: Option<u64>,
    /// The error code of a failed or unknown one.
    pub code: Option<u64>,
}

/// One successful `read`.
#[derive(Debug, Clone)]
pub struct Read {
    /// The node read.
    pub node: String,
    /// Its invoke's history index (the order Jepsen's set-full compares reads by).
    pub index: u64,
    /// When it was invoked and completed (ns).
    pub invoked: u64,
    /// When it completed (ns).
    pub done: u64,
    /// True for a read of the final phase.
    pub is_final: bool,
    /// The messages it returned.
    pub messages: BTreeSet<i64>,
    /// True when some message appeared more than once in it.
    pub duplicates: bool,
}

/// The history as the checks see it.
#[derive(Debug, Default)]
pub struct Sets {
    /// Every broadcast by its message (a message sent twice keeps its first request).
    pub broadcasts: BTreeMap<i64, Broadcast>,
    /// Every successful read, in invoke order.
    pub reads: Vec<Read>,
    /// Replies that could not be read, in words.
    pub unreadable: Vec<Value>,
    /// Broadcast and read requests sent (the operations Maelstrom counts per message).
    pub operations: usize,
}

impl Read {
    /// When it happened, as set-full orders reads.
    pub fn span(&self) -> ReadSpan {
        ReadSpan {
            index: self.index,
            invoked: self.invoked,
            done: self.done,
        }
    }
}

impl Sets {
    /// Reads the record's history.
    pub fn of(record: &Record) -> Sets {
        let mut sets = Sets::default();
        for op in operations(&record.history) {
            let invoke = op.invoke;
            let node = invoke.node.clone().unwrap_or_else(|| "?".into());
            match invoke.f.as_str() {
                "broadcast" => {
                    sets.operations += 1;
                    let Some(message) = invoke.body["message"].as_i64() else {
                        continue;
                    };
                    let done = op.completion;
                    sets.broadcasts.entry(message).or_insert(Broadcast {
                        node,
                        invoked: invoke.time,
                        outcome: op.outcome(),
                        done: done.map(|d| d.time),
                        code: done.and_then(|d| d.body["code"].as_u64()),
                    });
                }
                "read" => {
                    sets.operations += 1;
                    let Some(done) = op.completion.filter(|c| c.kind == EventType::Ok) else {
                        continue;
                    };
                    let Some(list) = done.body.get("messages").and_then(list_or_null) else {
                        sets.unreadable.push(unreadable(
                            &node,
                            done.time,
                            "has no `messages` list",
                            &done.body,
                        ));
                        continue;
                    };
                    let values: Option<Vec<i64>> = list.iter().map(Value::as_i64).collect();
                    let Some(values) = values else {
                        let why = "has a message that is no integer in `messages`";
                        sets.unreadable
                            .push(unreadable(&node, done.time, why, &done.body));
                        continue;
                    };
                    let messages: BTreeSet<i64> = values.iter().copied().collect();
                    sets.reads.push(Read {
                        node,
                        index: invoke.index,
                        invoked: invoke.time,
                        done: done.time,
                        is_final: invoke.phase.as_deref() == Some("final"),
                        duplicates: messages.len() < values.len(),
                        messages,
                    });
                }
                _ => {}
            }
        }
        sets
    }

    /// When `message` was first known to be in the cluster: its acknowledgement, or the
    /// completion of the first read that returned it, whichever came first (Jepsen's
    /// "known time"); `None` while neither happened.
    pub fn known(&self, message: i64) -> Option<u64> {
        let acked = self
            .broadcasts
            .get(&message)
            .filter(|b| b.outcome == EventType::Ok)
            .and_then(|b| b.done);
        let seen = self
            .reads
            .iter()
            .filter(|r| r.messages.contains(&message))
            .map(|r| r.done)
            .min();
        acked.into_iter().chain(seen).min()
    }

    /// Each node's last successful read of the final phase.
    pub fn final_reads(&self) -> BTreeMap<&str, &Read> {
        let mut last: BTreeMap<&str, &Read> = BTreeMap::new();
        for read in self.reads.iter().filter(|r| r.is_final) {
            let entry = last.entry(read.node.as_str()).or_insert(read);
            if read.invoked >= entry.invoked {
                *entry = read;
            }
        }
        last
    }

    /// How `message`'s broadcast went, in words: "broadcast to n3 at 1.204 s, acknowledged
    /// at 1.205 s".
    pub fn story(&self, message: i64) -> String {
        let Some(b) = self.broadcasts.get(&message) else {
            return "never broadcast".into();
        };
        let at = format!("broadcast to {} at {:.3} s", b.node, secs(b.invoked));
        match (b.outcome, b.done) {
            (EventType::Ok, Some(done)) => format!("{at}, acknowledged at {:.3} s", secs(done)),
            (EventType::Fail, _) => format!("{at}, refused with error {}", b.code.unwrap_or(0)),
            _ => format!("{at}, outcome unknown"),
        }
    }
}

/// A witness for a read reply that cannot be judged.
fn unreadable(node: &str, at: u64, why: &str, body: &Value) -> Value {
    json!({
        "node": node, "at_s": secs(at),
        "why": format!("cannot judge {node}'s read_ok at {:.3} s: it {why} ({body})", secs(at)),
    })
}
