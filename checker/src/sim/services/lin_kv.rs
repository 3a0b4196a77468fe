//! `lin-kv`: Maelstrom's linearizable key/value store. One map, and every request applied
//! to it as it arrives: each operation takes effect at the instant the service handles it,
//! between the node sending it and receiving the answer, so the store is linearizable.

use super::kv::{self, KV_TYPES};
use super::Model;
use serde_json::Value;
use std::collections::HashMap;

/// The store: each key's JSON text to its value.
#[derive(Debug, Default)]
pub struct LinKv {
    map: HashMap<String, Value>,
}

impl Model for LinKv {
    fn serves(&self) -> &'static [&'static str] {
        KV_TYPES
    }

    fn handle(&mut self, _client: &str, body: &Value) -> Value {
        let request = match kv::parse(body) {
            Ok(request) => request,
            Err(reply) => return reply,
        };
        let step = kv::step(self.map.get(&request.key), &request.op);
        if let Some(value) = step.set {
            self.map.insert(request.key, value);
        }
        step.reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_client_sees_the_latest_value_at_once() {
        let mut kv = LinKv::default();
        let mut values = Vec::new();
        for i in 0..100u64 {
            let writer = format!("n{}", i % 3);
            let reader = format!("n{}", (i + 1) % 3);
            kv.handle(&writer, &json!({"type": "write", "key": "k", "value": i}));
            values.push(kv.handle(&reader, &json!({"type": "read", "key": "k"}))["value"].clone());
            let cas = json!({"type": "cas", "key": "k", "from": i, "to": i + 1000});
            assert_eq!(kv.handle(&reader, &cas)["type"], "cas_ok");
            let stale = json!({"type": "cas", "key": "k", "from": i, "to": 0});
            assert_eq!(kv.handle(&writer, &stale)["code"], 22);
        }
        // Every read returned the write just before it: no stale read, ever.
        assert_eq!(values, (0..100u64).map(|i| json!(i)).collect::<Vec<_>>());
    }
}
