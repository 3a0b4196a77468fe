//! A key/value register: the state machine behind `read`, `write` and `cas` (SPEC 3.2, 3.3).

use crate::message::{body, Envelope, RpcError, KEY_DOES_NOT_EXIST, PRECONDITION_FAILED};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Keys may be any JSON value (Maelstrom uses integers and strings); they are stored under
/// their canonical JSON text so that `1` and `"1"` are different keys.
#[derive(Debug, Default)]
pub struct KvStore {
    entries: HashMap<String, Value>,
}

impl KvStore {
    /// The value under `key`, if any.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        self.entries.get(&key.to_string())
    }

    /// `read {key}` -> `read_ok {value}`, error 20 when absent.
    pub fn read(&self, req: &Envelope) -> Result<Map<String, Value>, RpcError> {
        let key = req.field("key")?;
        let value = self.get(key).ok_or_else(|| missing(key))?;
        Ok(body("read_ok", [("value", value.clone())]))
    }

    /// `write {key, value}` -> `write_ok`.
    pub fn write(&mut self, req: &Envelope) -> Result<Map<String, Value>, RpcError> {
        let key = req.field("key")?.to_string();
        let value = req.field("value")?.clone();
        self.entries.insert(key, value);
        Ok(body("write_ok", []))
    }

    /// `cas {key, from, to}` -> `cas_ok`; error 20 when absent (unless
    /// `create_if_not_exists`, as in Maelstrom), 22 when the value is not `from`.
    pub fn cas(&mut self, req: &Envelope) -> Result<Map<String, Value>, RpcError> {
        let key = req.field("key")?;
        let from = req.field("from")?;
        let to = req.field("to")?.clone();
        let create = match req.body.get("create_if_not_exists") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(RpcError::malformed(
                    "field `create_if_not_exists` must be a boolean",
                ))
            }
        };
        match self.entries.get(&key.to_string()) {
            None if !create => return Err(missing(key)),
            Some(current) if current != from => {
                return Err(RpcError {
                    code: PRECONDITION_FAILED,
                    text: format!("expected {from}, but key {key} holds {current}"),
                })
            }
            _ => {}
        }
        self.entries.insert(key.to_string(), to);
        Ok(body("cas_ok", []))
    }
}

fn missing(key: &Value) -> RpcError {
    RpcError {
        code: KEY_DOES_NOT_EXIST,
        text: format!("key {key} does not exist"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> Envelope {
        Envelope::parse(&format!(r#"{{"src":"c1","dest":"n1","body":{body}}}"#)).unwrap()
    }

    #[test]
    fn register_semantics() {
        let mut kv = KvStore::default();
        assert_eq!(
            kv.read(&req(r#"{"type":"read","key":1}"#))
                .unwrap_err()
                .code,
            20
        );
        assert_eq!(
            kv.cas(&req(r#"{"type":"cas","key":1,"from":1,"to":2}"#))
                .unwrap_err()
                .code,
            20
        );
        kv.write(&req(r#"{"type":"write","key":1,"value":5}"#))
            .unwrap();
        assert_eq!(
            kv.read(&req(r#"{"type":"read","key":1}"#)).unwrap()["value"],
            5
        );
        assert_eq!(
            kv.read(&req(r#"{"type":"read","key":"1"}"#))
                .unwrap_err()
                .code,
            20
        );
        assert_eq!(
            kv.cas(&req(r#"{"type":"cas","key":1,"from":4,"to":6}"#))
                .unwrap_err()
                .code,
            22
        );
        kv.cas(&req(r#"{"type":"cas","key":1,"from":5,"to":6}"#))
            .unwrap();
        assert_eq!(
            kv.read(&req(r#"{"type":"read","key":1}"#)).unwrap()["value"],
            6
        );
        kv.cas(&req(
            r#"{"type":"cas","key":9,"from":0,"to":1,"create_if_not_exists":true}"#,
        ))
        .unwrap();
        assert_eq!(
            kv.read(&req(r#"{"type":"read","key":9}"#)).unwrap()["value"],
            1
        );
        assert_eq!(
            kv.write(&req(r#"{"type":"write","key":1}"#))
                .unwrap_err()
                .code,
            12
        );
    }
}
