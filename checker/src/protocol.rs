//! The wire protocol as the harness sees it: envelopes written by nodes, error codes, and
//! which reply types answer which request types.

use serde_json::Value;

/// A parsed output line: `{"src", "dest", "body"}` with a string `body.type`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The line as parsed.
    pub value: Value,
}

impl Message {
    /// Checks the envelope shape; `Err` names what is wrong.
    pub fn from_value(value: Value) -> Result<Message, String> {
        let object = value.as_object().ok_or("not a JSON object")?;
        for field in ["src", "dest"] {
            if !object.get(field).is_some_and(Value::is_string) {
                return Err(format!("envelope has no string `{field}`"));
            }
        }
        let body = object
            .get("body")
            .and_then(Value::as_object)
            .ok_or("envelope has no object `body`")?;
        if !body.get("type").is_some_and(Value::is_string) {
            return Err("body has no string `type`".into());
        }
        Ok(Message { value })
    }

    /// Who wrote it (as the line says).
    pub fn src(&self) -> &str {
        self.value["src"].as_str().unwrap_or_default()
    }

    /// Who it is addressed to.
    pub fn dest(&self) -> &str {
        self.value["dest"].as_str().unwrap_or_default()
    }

    /// The body object.
    pub fn body(&self) -> &Value {
        &self.value["body"]
    }

    /// `body.type`.
    pub fn kind(&self) -> &str {
        self.body()["type"].as_str().unwrap_or_default()
    }

    /// `body.msg_id`, when present and not null.
    pub fn msg_id(&self) -> Option<&Value> {
        self.body().get("msg_id").filter(|v| !v.is_null())
    }

    /// `body.in_reply_to`, when present and not null.
    pub fn in_reply_to(&self) -> Option<&Value> {
        self.body().get("in_reply_to").filter(|v| !v.is_null())
    }
}

/// Maelstrom's services: node ids a node may send requests to without their being nodes of
/// the run (its doc/services.md); eddy provides them in every simulated run (`sim::services`).
pub const MAELSTROM_SERVICES: &[&str] = &["lin-kv", "seq-kv", "lww-kv", "lin-tso"];

/// Maelstrom's error codes and their names (SPEC section 1).
pub const ERROR_CODES: &[(u64, &str, bool)] = &[
    (0, "timeout", false),
    (1, "node-not-found", true),
    (10, "not-supported", true),
    (11, "temporarily-unavailable", true),
    (12, "malformed-request", true),
    (13, "crash", false),
    (14, "abort", true),
    (20, "key-does-not-exist", true),
    (21, "key-already-exists", true),
    (22, "precondition-failed", true),
    (30, "txn-conflict", true),
];

/// True when an error code says the operation certainly did not happen; codes 0, 13 and
/// 1000 and above (the node's own) are indefinite.
pub fn is_definite_error(code: u64) -> bool {
    ERROR_CODES
        .iter()
        .any(|&(c, _, definite)| c == code && definite)
}

/// The reply types that may answer a request of type `request`: `<type>_ok` and `error`,
/// plus the other common Raft reply names.
pub fn reply_types(request: &str) -> Vec<String> {
    let mut types = vec![format!("{request}_ok"), "error".to_owned()];
    if matches!(request, "request_vote" | "append_entries") {
        types.push(format!("{request}_res"));
    }
    types
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_shape_is_checked() {
        assert!(
            Message::from_value(json!({"src": "n1", "dest": "c1", "body": {"type": "x"}})).is_ok()
        );
        assert!(Message::from_value(json!({"src": "n1", "dest": "c1", "body": {}})).is_err());
        assert!(
            Message::from_value(json!({"src": 1, "dest": "c1", "body": {"type": "x"}})).is_err()
        );
        assert!(Message::from_value(json!([1])).is_err());
        assert!(is_definite_error(20) && !is_definite_error(0) && !is_definite_error(1001));
        assert!(reply_types("append_entries").contains(&"append_entries_res".to_owned()));
    }
}
