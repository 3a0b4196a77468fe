//! One line of `history.jsonl`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What an event says about its operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
    /// A request was sent.
    Invoke,
    /// It succeeded.
    Ok,
    /// It certainly did not take effect (a definite error).
    Fail,
    /// Its outcome is unknown (timeout, indefinite error, crashed node); also used for
    /// nemesis and harness events.
    Info,
}

impl EventType {
    /// How a client's operation completed, from the node's reply: `fail` for an error that
    /// certainly means it did not happen, `info` for any other error, else `ok`.
    pub fn of_reply(reply: &Value) -> EventType {
        match reply["type"].as_str() {
            Some("error")
                if reply["code"]
                    .as_u64()
                    .is_some_and(crate::protocol::is_definite_error) =>
            {
                EventType::Fail
            }
            Some("error") => EventType::Info,
            _ => EventType::Ok,
        }
    }
}

/// Who an event belongs to: a client (by number) or a named actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Process {
    /// Client `cN`.
    Client(u64),
    /// `"nemesis"` (faults) or `"harness"` (what eddy saw happen to a node unasked).
    Named(String),
}

/// One client-operation, nemesis or harness event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Position in the history, from 0.
    pub index: u64,
    /// Nanoseconds since the run started.
    pub time: u64,
    /// Whose event.
    pub process: Process,
    /// The node the request went to (or the fault's target), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// invoke, ok, fail or info.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// The request's body type, or the fault's name.
    pub f: String,
    /// The request body on invoke, the reply body on completion, the fault's details.
    pub body: Value,
    /// `"final"` for operations of the workload's final phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

impl HistoryEvent {
    /// An event `ms` milliseconds into the run from `process` about `node`, for tests that
    /// build histories by hand.
    #[cfg(test)]
    pub fn at_ms(
        ms: u64,
        process: Process,
        node: &str,
        kind: EventType,
        f: &str,
        body: Value,
    ) -> HistoryEvent {
        let mut e = HistoryEvent::new(process, Some(node.to_owned()), kind, f, body);
        e.time = ms * 1_000_000;
        e
    }

    /// An event not yet numbered or stamped (see `Store::append`).
    pub fn new(
        process: Process,
        node: Option<String>,
        kind: EventType,
        f: &str,
        body: Value,
    ) -> HistoryEvent {
        HistoryEvent {
            index: 0,
            time: 0,
            process,
            node,
            kind,
            f: f.to_owned(),
            body,
            phase: None,
        }
    }

    /// The client number, for client events.
    pub fn client(&self) -> Option<u64> {
        match self.process {
            Process::Client(n) => Some(n),
            Process::Named(_) => None,
        }
    }
}

/// A client operation: its invoke and its completion (if it completed).
#[derive(Debug, Clone, PartialEq)]
pub struct Operation<'a> {
    /// The invoke event.
    pub invoke: &'a HistoryEvent,
    /// The completion, `None` when the run ended first.
    pub completion: Option<&'a HistoryEvent>,
}

impl Operation<'_> {
    /// The completion's type; `Info` when there is none.
    pub fn outcome(&self) -> EventType {
        self.completion.map_or(EventType::Info, |c| c.kind)
    }
}

/// Pairs every client's invokes with their completions (each client has at most one
/// operation in flight), in invoke order.
pub fn operations(history: &[HistoryEvent]) -> Vec<Operation<'_>> {
    let mut open: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let mut ops: Vec<Operation> = Vec::new();
    for event in history {
        let Some(client) = event.client() else {
            continue;
        };
        if event.kind == EventType::Invoke {
            open.insert(client, ops.len());
            ops.push(Operation {
                invoke: event,
                completion: None,
            });
        } else if let Some(i) = open.remove(&client) {
            ops[i].completion = Some(event);
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_reply_decides_how_its_operation_completed() {
        assert_eq!(
            EventType::of_reply(&json!({"type": "read_ok"})),
            EventType::Ok
        );
        assert_eq!(
            EventType::of_reply(&json!({"type": "error", "code": 20})),
            EventType::Fail
        );
        assert_eq!(
            EventType::of_reply(&json!({"type": "error", "code": 13})),
            EventType::Info
        );
        assert_eq!(
            EventType::of_reply(&json!({"type": "error"})),
            EventType::Info
        );
    }

    #[test]
    fn events_round_trip_in_the_spec_shape() {
        let line = r#"{"index":3,"time":1500,"process":2,"node":"n1","type":"invoke","f":"add","body":{"type":"add","delta":1}}"#;
        let event: HistoryEvent = serde_json::from_str(line).unwrap();
        assert_eq!(event.client(), Some(2));
        assert_eq!(serde_json::to_string(&event).unwrap(), line);
        let nemesis = json!({"index": 4, "time": 9, "process": "nemesis", "type": "info", "f": "heal", "body": {}});
        let event: HistoryEvent = serde_json::from_value(nemesis).unwrap();
        assert_eq!(event.process, Process::Named("nemesis".into()));
    }
}
