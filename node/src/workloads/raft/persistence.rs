//! Raft's durable state: term and vote in `raft-meta.json`, the log in `raft-log.json`,
//! both in `NODE_DATA_DIR` and synced before any message that depends on them is sent.

use super::{Entry, Raft};
use crate::message::RpcError;
use serde_json::{json, Value};

impl Raft {
    /// Reads back what an earlier run of this node saved, if anything.
    pub(super) fn restore(&mut self) {
        if let Some(data) = &self.data {
            if let Some(meta) = data.load(META) {
                self.term = meta["term"].as_u64().unwrap_or(0);
                self.voted_for = meta["voted_for"].as_str().map(str::to_owned);
            }
            if let Some(Value::Array(entries)) = data.load(LOG) {
                self.log.extend(entries.iter().map(|e| Entry {
                    term: e["term"].as_u64().unwrap_or(0),
                    op: e["op"].clone(),
                }));
            }
        }
    }

    pub(super) fn persist_meta(&self) -> Result<(), RpcError> {
        match &self.data {
            Some(data) => data
                .save(
                    META,
                    &json!({"term": self.term, "voted_for": self.voted_for}),
                )
                .map_err(crash),
            None => Ok(()),
        }
    }

    pub(super) fn persist_log(&self) -> Result<(), RpcError> {
        match &self.data {
            Some(data) => {
                let entries: Vec<Value> = self.log[1..]
                    .iter()
                    .map(|e| json!({"term": e.term, "op": e.op}))
                    .collect();
                data.save(LOG, &Value::Array(entries)).map_err(crash)
            }
            None => Ok(()),
        }
    }
}

const META: &str = "raft-meta.json";
const LOG: &str = "raft-log.json";

fn crash(e: std::io::Error) -> RpcError {
    RpcError {
        code: 13,
        text: format!("could not persist Raft state: {e}"),
    }
}
