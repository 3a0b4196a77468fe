//! Turning a history (SPEC section 4) into operations per key.
//!
//! `ok` operations took effect between invoke and completion; `fail` never took effect,
//! except that a read answered with error 20 observed the key absent; `info` may take
//! effect at any time after its invoke, or never. An invoke with no completion is `info`.
//! `lease_read` is a read; other operation types are not about the register and are left
//! out.

use super::model::{Interner, Kind, LinOp, ABSENT, NEVER};
use crate::history::{EventType, HistoryEvent, Process};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::BufRead;

/// Operations grouped by key, with the interned values.
#[derive(Debug, Default)]
pub struct KvHistory {
    /// Each key (as JSON text) with its operations, in invoke order.
    pub keys: Vec<(String, Vec<LinOp>)>,
    /// Values by id.
    pub values: Interner,
}

/// An invoke waiting for its completion.
struct Open {
    key: String,
    f: &'static str,
    body: Value,
    call: u64,
    index: u64,
}

/// Builds a [`KvHistory`] from events fed in order.
pub struct Builder {
    open: HashMap<u64, Open>,
    by_key: HashMap<String, usize>,
    history: KvHistory,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            open: HashMap::new(),
            by_key: HashMap::new(),
            history: KvHistory {
                keys: Vec::new(),
                values: Interner::new(),
            },
        }
    }
}

fn register_f(f: &str) -> Option<&'static str> {
    Some(match f {
        "read" => "read",
        "lease_read" => "lease_read",
        "write" => "write",
        "cas" => "cas",
        _ => return None,
    })
}

impl Builder {
    /// Feeds one event; only client events (`process` is a number) about the register count.
    pub fn event(
        &mut self,
        process: Option<u64>,
        kind: EventType,
        f: &str,
        index: u64,
        time: u64,
        body: &Value,
    ) {
        let (Some(process), Some(f)) = (process, register_f(f)) else {
            return;
        };
        if kind == EventType::Invoke {
            // A client invoking again while its last operation is open gave up on it.
            if let Some(abandoned) = self.open.remove(&process) {
                self.complete(process, abandoned, EventType::Info, NEVER, &Value::Null);
            }
            let Some(key) = body.get("key") else { return };
            self.open.insert(
                process,
                Open {
                    key: key.to_string(),
                    f,
                    body: body.clone(),
                    call: time,
                    index,
                },
            );
        } else if let Some(open) = self.open.remove(&process) {
            self.complete(process, open, kind, time, body);
        }
    }

    /// Every operation still open becomes indefinite; returns the operations by key.
    pub fn finish(mut self) -> KvHistory {
        let mut open: Vec<(u64, Open)> = self.open.drain().collect();
        open.sort_by_key(|(_, o)| o.index);
        for (process, op) in open {
            self.complete(process, op, EventType::Info, NEVER, &Value::Null);
        }
        for (_, ops) in &mut self.history.keys {
            ops.sort_by_key(|op| (op.call, op.index));
        }
        self.history
    }

    fn complete(&mut self, process: u64, open: Open, outcome: EventType, time: u64, reply: &Value) {
        let values = &mut self.history.values;
        let (kind, definite, ret) = match open.f {
            "read" | "lease_read" => match outcome {
                EventType::Ok => (
                    Kind::Read(values.id(reply.get("value").unwrap_or(&Value::Null))),
                    true,
                    time,
                ),
                EventType::Fail if reply.get("code").and_then(Value::as_u64) == Some(20) => {
                    (Kind::Read(ABSENT), true, time)
                }
                // A read that failed or whose outcome is unknown tells nothing.
                _ => return,
            },
            _ => {
                let effect = match open.f {
                    "write" => open.body.get("value").map(|v| Kind::Write(values.id(v))),
                    _ => match (open.body.get("from"), open.body.get("to")) {
                        (Some(from), Some(to)) => Some(Kind::Cas(values.id(from), values.id(to))),
                        _ => None,
                    },
                };
                let Some(effect) = effect else { return };
                match outcome {
                    EventType::Ok => (effect, true, time),
                    EventType::Fail => return,
                    EventType::Info | EventType::Invoke => (effect, false, NEVER),
                }
            }
        };
        let slot = *self.by_key.entry(open.key.clone()).or_insert_with(|| {
            self.history.keys.push((open.key.clone(), Vec::new()));
            self.history.keys.len() - 1
        });
        let op = LinOp {
            kind,
            call: open.call,
            ret: ret.max(open.call),
            definite,
            process,
            index: open.index,
            f: open.f,
        };
        self.history.keys[slot].1.push(op);
    }
}

/// The operations of an in-memory history.
pub fn from_events(events: &[HistoryEvent]) -> KvHistory {
    let mut builder = Builder::default();
    for e in events {
        builder.event(e.client(), e.kind, &e.f, e.index, e.time, &e.body);
    }
    builder.finish()
}

#[derive(Deserialize)]
struct Line<'a> {
    index: u64,
    time: u64,
    process: Process,
    #[serde(rename = "type")]
    kind: EventType,
    #[serde(borrow)]
    f: std::borrow::Cow<'a, str>,
    #[serde(default)]
    body: Value,
}

/// Reads a `history.jsonl` stream line by line; an unparseable line is an error naming
/// its number, except a torn last line, which is skipped.
pub fn read(input: impl BufRead) -> Result<KvHistory, String> {
    let mut builder = Builder::default();
    let mut pending_error: Option<String> = None;
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("line {}: {e}", n + 1))?;
        if let Some(error) = pending_error.take() {
            return Err(error);
        }
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(&line) {
            Ok(event) => {
                let process = match event.process {
                    Process::Client(n) => Some(n),
                    Process::Named(_) => None,
                };
                builder.event(
                    process,
                    event.kind,
                    &event.f,
                    event.index,
                    event.time,
                    &event.body,
                );
            }
            Err(e) => pending_error = Some(format!("line {}: not a history event: {e}", n + 1)),
        }
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_become_operations() {
        let text = r#"{"index":0,"time":10,"process":1,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":1}}
{"index":1,"time":20,"process":1,"type":"ok","f":"write","body":{"type":"write_ok"}}
{"index":2,"time":30,"process":2,"type":"invoke","f":"read","body":{"type":"read","key":"y"}}
{"index":3,"time":40,"process":2,"type":"fail","f":"read","body":{"type":"error","code":20}}
{"index":4,"time":50,"process":1,"type":"invoke","f":"cas","body":{"type":"cas","key":"x","from":1,"to":2}}
{"index":5,"time":60,"process":1,"type":"info","f":"cas","body":{"type":"error","code":0}}
{"index":6,"time":70,"process":3,"type":"invoke","f":"read","body":{"type":"read","key":"x"}}
{"index":7,"time":80,"process":"nemesis","type":"info","f":"kill","body":{}}
{"index":8,"time":90,"process":2,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":3}}
{"index":9,"time":95,"process":2,"type":"fail","f":"write","body":{"type":"error","code":11}}
{"index":10,"time":99,"process":4,"type":"invoke","f":"write","body":{"type":"write","key":"x","val"#;
        let history = read(std::io::Cursor::new(text)).unwrap();
        let x = &history.keys.iter().find(|(k, _)| k == "\"x\"").unwrap().1;
        assert_eq!(
            x.len(),
            2,
            "the unfinished read tells nothing; the failed write never happened"
        );
        assert_eq!((x[0].definite, x[0].ret), (true, 20));
        assert_eq!((x[1].definite, x[1].ret), (false, NEVER));
        let y = &history.keys.iter().find(|(k, _)| k == "\"y\"").unwrap().1;
        assert_eq!(y[0].kind, Kind::Read(ABSENT));
        assert!(read(std::io::Cursor::new("{oops\n{}\n"))
            .unwrap_err()
            .starts_with("line 1"));
    }

    #[test]
    fn an_invoke_over_an_open_operation_makes_it_indefinite() {
        let text = r#"{"index":0,"time":10,"process":1,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":1}}
{"index":1,"time":20,"process":1,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":2}}
{"index":2,"time":30,"process":1,"type":"ok","f":"write","body":{"type":"write_ok"}}"#;
        let ops = read(std::io::Cursor::new(text)).unwrap().keys.remove(0).1;
        assert_eq!(
            (ops[0].kind, ops[0].definite, ops[0].ret),
            (Kind::Write(1), false, NEVER)
        );
        assert_eq!(
            (ops[1].kind, ops[1].definite, ops[1].ret),
            (Kind::Write(2), true, 30)
        );
    }
}
