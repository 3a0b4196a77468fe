//! Random key/value histories for the linearizability tests and benchmark: executed
//! sequentially at hidden linearization points (so known linearizable), optionally with
//! one read made stale.

#![allow(dead_code)] // each test file uses its own subset

use eddy::history::{EventType, HistoryEvent, Process};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::HashMap;

/// How to generate.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub ops: usize,
    pub keys: usize,
    pub clients: usize,
    /// Share of operations whose outcome is unknown.
    pub indefinite: f64,
}

struct Planned {
    client: usize,
    key: usize,
    call: u64,
    ret: u64,
    at: u64,
    body: Value,
    info: bool,
    effect: bool,
}

/// A linearizable history: each client runs operations back to back with random gaps and
/// durations; each takes effect at a random point inside its interval (an indefinite one
/// half the time, at a point that may lie after the client gave up on it).
pub fn linearizable(shape: Shape, seed: u64) -> Vec<HistoryEvent> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut planned = Vec::with_capacity(shape.ops);
    let mut clock = vec![0u64; shape.clients];
    let mut next_value = 1u64;
    for _ in 0..shape.ops {
        let client = rng.random_range(0..shape.clients);
        let call = clock[client] + rng.random_range(0..2_000_000);
        let ret = call + rng.random_range(100_000..5_000_000);
        // A client's next operation starts strictly after its last one completed.
        clock[client] = ret + 1;
        let key = rng.random_range(0..shape.keys);
        let info = rng.random_bool(shape.indefinite);
        let at = if info {
            call + rng.random_range(0..20_000_000)
        } else {
            rng.random_range(call..=ret)
        };
        let body = match rng.random_range(0..10) {
            0..=3 => json!({"type": "read", "key": key}),
            4..=7 => {
                next_value += 1;
                json!({"type": "write", "key": key, "value": next_value})
            }
            _ => json!({"type": "cas", "key": key, "from": 0, "to": 0}),
        };
        planned.push(Planned {
            client,
            key,
            call,
            ret,
            at,
            body,
            info,
            effect: !info || rng.random_bool(0.5),
        });
    }
    // Execute in linearization order; a cas asks for the current value most of the time.
    let mut order: Vec<usize> = (0..planned.len()).collect();
    order.sort_by_key(|&i| planned[i].at);
    let mut state: HashMap<usize, u64> = HashMap::new();
    let mut replies: Vec<Value> = vec![Value::Null; planned.len()];
    for &i in &order {
        let p = &mut planned[i];
        let current = state.get(&p.key).copied();
        replies[i] = match p.body["type"].as_str().unwrap() {
            "read" => match current {
                Some(v) => json!({"type": "read_ok", "value": v}),
                None => json!({"type": "error", "code": 20}),
            },
            "write" => {
                if p.effect {
                    state.insert(p.key, p.body["value"].as_u64().unwrap());
                }
                json!({"type": "write_ok"})
            }
            _ => {
                next_value += 1;
                let from = if rng.random_bool(0.8) {
                    current.unwrap_or(1)
                } else {
                    next_value + 1_000_000
                };
                p.body["from"] = json!(from);
                p.body["to"] = json!(next_value);
                match current {
                    Some(v) if v == from => {
                        if p.effect {
                            state.insert(p.key, next_value);
                        }
                        json!({"type": "cas_ok"})
                    }
                    Some(_) => json!({"type": "error", "code": 22}),
                    None => json!({"type": "error", "code": 20}),
                }
            }
        };
    }
    let mut events: Vec<(u64, u8, HistoryEvent)> = Vec::with_capacity(2 * planned.len());
    for (i, p) in planned.iter().enumerate() {
        let f = p.body["type"].as_str().unwrap().to_owned();
        let event = |kind, body: Value| HistoryEvent {
            index: 0,
            time: 0,
            process: Process::Client(p.client as u64 + 1),
            node: Some("n1".into()),
            kind,
            f: f.clone(),
            body,
            phase: None,
        };
        let mut invoke = event(EventType::Invoke, p.body.clone());
        invoke.time = p.call;
        let reply = &replies[i];
        let (kind, body) = if p.info {
            (EventType::Info, json!({"type": "error", "code": 0}))
        } else if reply["type"] == "error" {
            (EventType::Fail, reply.clone())
        } else {
            (EventType::Ok, reply.clone())
        };
        let mut done = event(kind, body);
        done.time = p.ret;
        events.push((p.call, 0, invoke));
        events.push((p.ret, 1, done));
    }
    events.sort_by_key(|(t, phase, _)| (*t, *phase));
    events
        .into_iter()
        .enumerate()
        .map(|(i, (_, _, mut e))| {
            e.index = i as u64;
            e
        })
        .collect()
}

/// Makes one ok read return a value that was overwritten before it began; returns the
/// index of the read's completion, or `None` when no read qualifies.
pub fn make_one_read_stale(events: &mut [HistoryEvent]) -> Option<usize> {
    // Completed writes per key: (call, ret, value), and ok reads: (completion index, call).
    let mut open: HashMap<u64, (usize, u64)> = HashMap::new();
    let mut writes: HashMap<String, Vec<(u64, u64, Value)>> = HashMap::new();
    let mut reads: Vec<(usize, u64, String)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let client = e.client()?;
        if e.kind == EventType::Invoke {
            open.insert(client, (i, e.time));
            continue;
        }
        let (inv, call) = open.remove(&client)?;
        let key = events[inv].body["key"].to_string();
        match (e.kind, e.f.as_str()) {
            (EventType::Ok, "write") => writes.entry(key).or_default().push((
                call,
                e.time,
                events[inv].body["value"].clone(),
            )),
            (EventType::Ok, "cas") => {
                writes
                    .entry(key)
                    .or_default()
                    .push((call, e.time, events[inv].body["to"].clone()))
            }
            (EventType::Ok, "read") => reads.push((i, call, key)),
            _ => {}
        }
    }
    for (i, call, key) in reads.iter().rev() {
        let Some(ws) = writes.get(key) else { continue };
        // X completed before W began, and W completed before the read began.
        for x in ws {
            if ws.iter().any(|w| x.1 < w.0 && w.1 < *call && w.2 != x.2) {
                events[*i].body["value"] = x.2.clone();
                return Some(*i);
            }
        }
    }
    None
}

/// Makes one ok read return a value whose write began only after the read completed (a
/// read of the future, which no stale-read scan sees: only an order can refute it); returns
/// the index of the read's completion, or `None` when no read qualifies.
pub fn make_one_read_future(events: &mut [HistoryEvent]) -> Option<usize> {
    let mut open: HashMap<u64, usize> = HashMap::new();
    // Invokes of writes, by key: (time, value); ok reads: (completion index, time, key).
    let mut writes: HashMap<String, Vec<(u64, Value)>> = HashMap::new();
    let mut reads: Vec<(usize, u64, String)> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let client = e.client()?;
        if e.kind == EventType::Invoke {
            open.insert(client, i);
            if e.f == "write" {
                let key = e.body["key"].to_string();
                writes
                    .entry(key)
                    .or_default()
                    .push((e.time, e.body["value"].clone()));
            }
            continue;
        }
        let invoke = open.remove(&client)?;
        if e.kind == EventType::Ok && e.f == "read" {
            reads.push((i, e.time, events[invoke].body["key"].to_string()));
        }
    }
    let (read, value) = reads.iter().find_map(|(i, done, key)| {
        let later = writes.get(key)?.iter().find(|(at, _)| at > done)?;
        Some((*i, later.1.clone()))
    })?;
    events[read].body["value"] = value;
    Some(read)
}

/// The history as `history.jsonl` text.
pub fn to_jsonl(events: &[HistoryEvent]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&serde_json::to_string(e).unwrap());
        out.push('\n');
    }
    out
}

/// In [`events`], the completion time of an operation that never completed.
pub const NEVER: u64 = u64::MAX;

/// Builds events from `(client, call, ret, outcome, request, reply)`.
pub fn events(ops: &[(u64, u64, u64, EventType, Value, Value)]) -> Vec<HistoryEvent> {
    let mut all: Vec<(u64, u8, HistoryEvent)> = Vec::new();
    for (client, call, ret, outcome, request, reply) in ops {
        let f = request["type"].as_str().unwrap().to_owned();
        let make = |kind, time, body: &Value| HistoryEvent {
            index: 0,
            time,
            process: Process::Client(*client),
            node: None,
            kind,
            f: f.clone(),
            body: body.clone(),
            phase: None,
        };
        all.push((*call, 0, make(EventType::Invoke, *call, request)));
        if *ret != NEVER {
            all.push((*ret, 1, make(*outcome, *ret, reply)));
        }
    }
    all.sort_by_key(|(t, p, _)| (*t, *p));
    all.into_iter()
        .enumerate()
        .map(|(i, (_, _, mut e))| {
            e.index = i as u64;
            e
        })
        .collect()
}

/// One operation of a small random history: (client 0-2, key 0-1, kind (0 read, 1 write,
/// 2 cas), pick, gap, duration, outcome (0-1 done, 2 `info` with a completion, 3 none)).
pub type Raw = (u64, u8, u8, i64, u64, u64, u8);

/// How a small history's values are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// `pick` is the value (0 read as absent): 0 to 2, repeated; a cas goes from `pick` to
    /// `pick + 1` modulo 3.
    Repeating,
    /// Every write and cas writes a value never written before; a read or a cas's `from`
    /// names `pick` modulo the number of writes plus 2 (0 the initial, absent value; the
    /// last one never written), never the value the cas writes itself.
    Unique,
}

/// A small history of clients on keys "x" and "y", each client's operations one after
/// another with the gaps and durations given.
pub fn small_history(raw: &[Raw], values: Values) -> Vec<HistoryEvent> {
    let mut clock = [0u64; 3];
    let writes = raw.iter().filter(|r| r.2 != 0).count() as i64;
    let mut next = 0;
    let mut ops = Vec::new();
    for &(client, key, kind, pick, gap, dur, outcome) in raw {
        let call = clock[client as usize] + gap;
        let ret = call + dur;
        clock[client as usize] = ret + 1;
        let key = ["x", "y"][key as usize];
        let seen = match values {
            Values::Repeating => pick,
            Values::Unique => pick.rem_euclid(writes + 2),
        };
        let (request, reply) = match kind {
            0 if seen == 0 => (
                json!({"type": "read", "key": key}),
                json!({"type": "error", "code": 20}),
            ),
            0 => (
                json!({"type": "read", "key": key}),
                json!({"type": "read_ok", "value": seen}),
            ),
            _ => {
                next += 1;
                let written = match values {
                    Values::Repeating if kind == 1 => seen,
                    Values::Repeating => (seen + 1) % 3,
                    Values::Unique => next,
                };
                let from = match (values, seen) {
                    (Values::Unique, 0) => Value::Null,
                    (Values::Unique, _) if seen == written => json!(writes + 1),
                    _ => json!(seen),
                };
                match kind {
                    1 => (
                        json!({"type": "write", "key": key, "value": written}),
                        json!({"type": "write_ok"}),
                    ),
                    _ => (
                        json!({"type": "cas", "key": key, "from": from, "to": written}),
                        json!({"type": "cas_ok"}),
                    ),
                }
            }
        };
        let (outcome, ret) = match outcome {
            0 | 1 if kind == 0 && seen == 0 => (EventType::Fail, ret),
            0 | 1 => (EventType::Ok, ret),
            2 => (EventType::Info, ret),
            _ => (EventType::Info, NEVER),
        };
        ops.push((client + 1, call, ret, outcome, request, reply));
    }
    events(&ops)
}
