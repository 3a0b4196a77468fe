//! What the key/value services share: Maelstrom's lin-kv requests (`read {key}`, `write
//! {key, value}`, `cas {key, from, to, create_if_not_exists?}`), parsed, and one request
//! applied to the value a key has in some state of the store.
//!
//! Keys and values are any JSON; keys are compared by their JSON text, values by JSON
//! equality. A missing key is error 20 (key-does-not-exist), a `cas` whose `from` is not
//! the value error 22 (precondition-failed); `cas` with `create_if_not_exists: true`
//! creates a missing key. A request without the fields its type needs is error 12.

use super::error;
use serde_json::{json, Value};

/// The request types a key/value service serves.
pub const KV_TYPES: &[&str] = &["read", "write", "cas"];

/// A key/value request.
#[derive(Debug, Clone, PartialEq)]
pub enum KvOp {
    /// Read a key.
    Read,
    /// Set a key.
    Write(Value),
    /// Set a key to `to` if it is `from` (or missing and `create`).
    Cas {
        /// The value expected.
        from: Value,
        /// The value set.
        to: Value,
        /// Create the key when it is missing.
        create: bool,
    },
}

/// A parsed request: the key (as its JSON text) and the operation.
#[derive(Debug, Clone, PartialEq)]
pub struct KvRequest {
    /// The key's JSON text.
    pub key: String,
    /// What to do with it.
    pub op: KvOp,
}

/// What a request does to the value of its key: the reply, and the new value when it sets
/// one (a write always does, even to the value the key has).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The reply body.
    pub reply: Value,
    /// The key's new value, when the request sets it.
    pub set: Option<Value>,
}

impl Step {
    /// True when the request leaves the key as `current` has it.
    pub fn leaves(&self, current: Option<&Value>) -> bool {
        match &self.set {
            None => true,
            Some(new) => current == Some(new),
        }
    }
}

/// Reads a key/value request from `body`; `Err` is the error 12 reply.
pub fn parse(body: &Value) -> Result<KvRequest, Value> {
    let kind = body["type"].as_str().unwrap_or_default();
    let field = |name: &str| {
        body.get(name)
            .cloned()
            .ok_or_else(|| error(12, format!("{kind} has no `{name}`")))
    };
    // One key however its object fields are ordered (eddy keeps a node's order).
    let key = crate::check::json::canonical(&field("key")?);
    let op = match kind {
        "read" => KvOp::Read,
        "write" => KvOp::Write(field("value")?),
        "cas" => KvOp::Cas {
            from: field("from")?,
            to: field("to")?,
            create: body["create_if_not_exists"] == true,
        },
        other => return Err(error(10, format!("{other} is no key/value request"))),
    };
    Ok(KvRequest { key, op })
}

/// `op` applied to a key whose value is `current` (`None`: missing).
pub fn step(current: Option<&Value>, op: &KvOp) -> Step {
    let done = |reply: Value, set: Option<Value>| Step { reply, set };
    match (op, current) {
        (KvOp::Read, Some(value)) => done(json!({"type": "read_ok", "value": value}), None),
        (KvOp::Write(value), _) => done(json!({"type": "write_ok"}), Some(value.clone())),
        (KvOp::Cas { from, to, .. }, Some(value)) if value == from => {
            done(json!({"type": "cas_ok"}), Some(to.clone()))
        }
        (KvOp::Cas { from, .. }, Some(value)) => done(
            error(22, format!("current value {value} is not {from}")),
            None,
        ),
        (
            KvOp::Cas {
                to, create: true, ..
            },
            None,
        ) => done(json!({"type": "cas_ok"}), Some(to.clone())),
        (_, None) => done(error(20, "key does not exist"), None),
    }
}

/// What the key/value models' tests do to key `k`.
#[cfg(test)]
pub mod testing {
    use super::super::Model;
    use serde_json::json;

    /// `client` writes `value` to `k`, which must be acknowledged.
    pub fn write(kv: &mut impl Model, client: &str, value: u64) {
        let reply = kv.handle(
            client,
            &json!({"type": "write", "key": "k", "value": value}),
        );
        assert_eq!(reply["type"], "write_ok");
    }

    /// What `client` reads of `k` (`None` when it is missing).
    pub fn read(kv: &mut impl Model, client: &str) -> Option<u64> {
        kv.handle(client, &json!({"type": "read", "key": "k"}))["value"].as_u64()
    }

    /// What n2 reads after each of 200 writes by n1: a model's answers, to compare
    /// between seeds.
    pub fn answers(mut kv: impl Model) -> Vec<Option<u64>> {
        (0..200)
            .map(|i| {
                write(&mut kv, "n1", i);
                read(&mut kv, "n2")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(body: Value) -> KvOp {
        parse(&body).unwrap().op
    }

    #[test]
    fn requests_follow_maelstrom_lin_kv() {
        let read = op(json!({"type": "read", "key": "x"}));
        assert_eq!(step(None, &read).reply["code"], 20);
        assert_eq!(step(Some(&json!(3)), &read).reply["value"], 3);
        let cas = op(json!({"type": "cas", "key": "x", "from": 3, "to": 4}));
        assert_eq!(step(None, &cas).reply["code"], 20);
        assert_eq!(step(Some(&json!(2)), &cas).reply["code"], 22);
        assert_eq!(step(Some(&json!(3)), &cas).set, Some(json!(4)));
        let create = op(json!({"type": "cas", "key": "x", "from": 3, "to": 4,
                               "create_if_not_exists": true}));
        assert_eq!(step(None, &create).reply["type"], "cas_ok");
        let write = op(json!({"type": "write", "key": "x", "value": 5}));
        assert!(step(Some(&json!(5)), &write).leaves(Some(&json!(5))));
        assert!(!step(Some(&json!(4)), &write).leaves(Some(&json!(4))));
        for bad in [
            json!({"type": "read"}),
            json!({"type": "write", "key": 1}),
            json!({"type": "cas", "key": 1, "to": 2}),
        ] {
            assert_eq!(parse(&bad).unwrap_err()["code"], 12, "{bad}");
        }
        // Keys are compared by their JSON text: 1 and "1" are different keys.
        assert_ne!(
            parse(&json!({"type": "read", "key": 1})).unwrap().key,
            parse(&json!({"type": "read", "key": "1"})).unwrap().key
        );
    }
}
