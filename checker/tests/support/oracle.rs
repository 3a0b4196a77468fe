//! The reference checker for the property tests, written from the semantics in
//! docs/linearizability.md and sharing nothing with the engine: it reads the raw events,
//! pairs them itself, keeps its own register state (every key at once, not one key at a
//! time) and tries, plainly, every subset of the operations of unknown outcome in every
//! order that respects real time. Only for tiny histories.

use eddy::history::{EventType, HistoryEvent, Process};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// What is stored under a key; `None` when the key is absent (never written, or
/// `null`, which is how `lease_read` reports an absent key).
type Stored = Option<Value>;

fn stored(value: &Value) -> Stored {
    (!value.is_null()).then(|| value.clone())
}

/// What an operation did to its key, if it took effect.
#[derive(Debug, Clone, PartialEq)]
enum Effect {
    /// Saw this.
    Observe(Stored),
    /// Stored this, whatever was there.
    Store(Stored),
    /// Stored the second when the first was there (else could not have happened).
    Swap(Stored, Stored),
}

/// An operation that did, or may have, taken effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// The key, as JSON text (`1` and `"1"` are different keys).
    key: String,
    effect: Effect,
    /// When it was invoked.
    invoked: u64,
    /// When it completed, if it certainly took effect; `None` when it may have taken
    /// effect at any time after its invoke, or never.
    completed: Option<u64>,
}

/// Pairs each client's invoke with the event that follows it from the same client:
/// a completion ends it, and another invoke means the client gave up on it (its
/// outcome is then unknown, as is the outcome of one still open at the end). Events
/// of the nemesis and the harness are not operations.
fn pair(events: &[HistoryEvent]) -> Vec<(&HistoryEvent, Option<&HistoryEvent>)> {
    let mut pairs = Vec::new();
    let mut open: HashMap<u64, &HistoryEvent> = HashMap::new();
    for event in events {
        let Process::Client(client) = event.process else {
            continue;
        };
        if event.kind == EventType::Invoke {
            if let Some(abandoned) = open.insert(client, event) {
                pairs.push((abandoned, None));
            }
        } else if let Some(invoke) = open.remove(&client) {
            pairs.push((invoke, Some(event)));
        }
    }
    let mut still_open: Vec<&HistoryEvent> = open.into_values().collect();
    still_open.sort_by_key(|e| e.index);
    pairs.extend(still_open.into_iter().map(|invoke| (invoke, None)));
    pairs
}

/// What one invoke and its completion (if any) say about the register: `None` when
/// it certainly did not take effect, is not a register operation, or constrains
/// nothing (a read that did not answer).
fn interpret(invoke: &HistoryEvent, completion: Option<&HistoryEvent>) -> Option<Op> {
    let request = &invoke.body;
    let key = request.get("key")?.to_string();
    // No completion is as good as an `info` one.
    let outcome = completion.map_or(EventType::Info, |c| c.kind);
    let reply = completion.map_or(&Value::Null, |c| &c.body);
    let effect = match invoke.f.as_str() {
        "read" | "lease_read" => {
            let effect = match outcome {
                EventType::Ok => Effect::Observe(stored(reply.get("value")?)),
                // Error 20 (key-does-not-exist) answers "absent", for either read.
                EventType::Fail if reply.get("code").and_then(Value::as_u64) == Some(20) => {
                    Effect::Observe(None)
                }
                // A read that did not happen, or whose answer is unknown, tells nothing.
                _ => return None,
            };
            return Some(Op {
                key,
                effect,
                invoked: invoke.time,
                completed: Some(completion?.time),
            });
        }
        "write" => Effect::Store(stored(request.get("value")?)),
        "cas" => Effect::Swap(stored(request.get("from")?), stored(request.get("to")?)),
        _ => return None,
    };
    let completed = match outcome {
        EventType::Ok => Some(completion?.time),
        // A definite error: it never happened.
        EventType::Fail => return None,
        EventType::Info | EventType::Invoke => None,
    };
    Some(Op {
        key,
        effect,
        invoked: invoke.time,
        completed,
    })
}

/// The operations of a history that did, or may have, taken effect.
pub fn operations(events: &[HistoryEvent]) -> Vec<Op> {
    pair(events)
        .into_iter()
        .filter_map(|(invoke, completion)| interpret(invoke, completion))
        .collect()
}

/// True when some subset of the operations of unknown outcome, together with every
/// operation that certainly took effect, has an order that respects real time (an
/// operation completed before another was invoked comes first) in which every
/// operation is legal for registers that start out absent.
pub fn linearizable(events: &[HistoryEvent]) -> bool {
    let ops = operations(events);
    let unknown: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].completed.is_none())
        .collect();
    assert!(unknown.len() < 16, "the brute force is for tiny histories");
    (0..1u32 << unknown.len()).any(|subset| {
        let happened: Vec<&Op> = (0..ops.len())
            .filter(|i| match unknown.iter().position(|u| u == i) {
                Some(bit) => subset & (1 << bit) != 0,
                None => true,
            })
            .map(|i| &ops[i])
            .collect();
        let mut placed = vec![false; happened.len()];
        some_order(&happened, &mut placed, &mut BTreeMap::new())
    })
}

/// Tries every legal next operation, depth first.
fn some_order(ops: &[&Op], placed: &mut [bool], registers: &mut BTreeMap<String, Value>) -> bool {
    if placed.iter().all(|&p| p) {
        return true;
    }
    for i in 0..ops.len() {
        let op = ops[i];
        // Everything that completed before this one was invoked must already be placed.
        let must_wait = (0..ops.len())
            .any(|j| j != i && !placed[j] && ops[j].completed.is_some_and(|t| t < op.invoked));
        if placed[i] || must_wait {
            continue;
        }
        let before: Stored = registers.get(&op.key).cloned();
        let after = match &op.effect {
            Effect::Observe(seen) if *seen == before => before.clone(),
            Effect::Store(value) => value.clone(),
            Effect::Swap(from, to) if *from == before => to.clone(),
            Effect::Observe(_) | Effect::Swap(..) => continue,
        };
        set(registers, &op.key, after);
        placed[i] = true;
        let found = some_order(ops, placed, registers);
        placed[i] = false;
        set(registers, &op.key, before);
        if found {
            return true;
        }
    }
    false
}

fn set(registers: &mut BTreeMap<String, Value>, key: &str, value: Stored) {
    match value {
        Some(value) => registers.insert(key.to_owned(), value),
        None => registers.remove(key),
    };
}
