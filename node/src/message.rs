//! The wire format: envelopes, request field access with typed errors, and error codes.

use serde_json::{Map, Value};

/// Maelstrom's error code for an operation whose outcome is unknown (indefinite: it may or
/// may not take effect).
pub const TIMEOUT: u32 = 0;
/// Maelstrom's error code for an operation the node does not support.
pub const NOT_SUPPORTED: u32 = 10;
/// Maelstrom's error code for "try again later" (no leader, no majority, lease held elsewhere).
pub const TEMPORARILY_UNAVAILABLE: u32 = 11;
/// Maelstrom's error code for a request that is missing a field or has one of the wrong type.
pub const MALFORMED_REQUEST: u32 = 12;
/// Maelstrom's error code for a read or cas of a key that does not exist.
pub const KEY_DOES_NOT_EXIST: u32 = 20;
/// Maelstrom's error code for a cas whose `from` does not match.
pub const PRECONDITION_FAILED: u32 = 22;

/// One line of the protocol: `{"src", "dest", "body"}`.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Who sent it.
    pub src: String,
    /// Who it is for.
    pub dest: String,
    /// The message body; always an object with a string `type`.
    pub body: Map<String, Value>,
}

impl Envelope {
    /// Parses one input line; `Err` says why the line is not an envelope.
    pub fn parse(line: &str) -> Result<Envelope, String> {
        let value: Value = serde_json::from_str(line).map_err(|e| format!("not JSON: {e}"))?;
        let Value::Object(mut object) = value else {
            return Err("not a JSON object".into());
        };
        let src = take_string(&mut object, "src")?;
        let dest = take_string(&mut object, "dest")?;
        let Some(Value::Object(body)) = object.remove("body") else {
            return Err("missing object field `body`".into());
        };
        if !matches!(body.get("type"), Some(Value::String(_))) {
            return Err("body has no string `type`".into());
        }
        Ok(Envelope { src, dest, body })
    }

    /// The body's `type`.
    pub fn kind(&self) -> &str {
        self.body.get("type").and_then(Value::as_str).unwrap_or("")
    }

    /// The request's `msg_id`, when it carries one (only then is a reply owed).
    pub fn msg_id(&self) -> Option<&Value> {
        self.body.get("msg_id").filter(|id| !id.is_null())
    }

    /// True when the message answers an earlier one (it carries `in_reply_to`).
    pub fn is_reply(&self) -> bool {
        self.body.contains_key("in_reply_to")
    }

    /// A present field of any JSON type (null counts as present).
    pub fn field(&self, name: &str) -> Result<&Value, RpcError> {
        self.body
            .get(name)
            .ok_or_else(|| RpcError::malformed(format!("missing field `{name}`")))
    }

    /// An integer field that fits in an i64.
    pub fn int(&self, name: &str) -> Result<i64, RpcError> {
        self.field(name)?
            .as_i64()
            .ok_or_else(|| RpcError::malformed(format!("field `{name}` must be an integer")))
    }

    /// A string field.
    pub fn string(&self, name: &str) -> Result<&str, RpcError> {
        self.field(name)?
            .as_str()
            .ok_or_else(|| RpcError::malformed(format!("field `{name}` must be a string")))
    }

    /// A field holding a list of strings.
    pub fn string_list(&self, name: &str) -> Result<Vec<String>, RpcError> {
        let wrong = || RpcError::malformed(format!("field `{name}` must be a list of strings"));
        self.field(name)?
            .as_array()
            .ok_or_else(wrong)?
            .iter()
            .map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong))
            .collect()
    }
}

fn take_string(object: &mut Map<String, Value>, name: &str) -> Result<String, String> {
    match object.remove(name) {
        Some(Value::String(s)) => Ok(s),
        _ => Err(format!("missing string field `{name}`")),
    }
}

/// A definite or indefinite error returned to the requester as an `error` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// Maelstrom's error code.
    pub code: u32,
    /// A human-readable explanation.
    pub text: String,
}

impl RpcError {
    /// Error 12: the request is missing a field or has one of the wrong type or range.
    pub fn malformed(text: impl Into<String>) -> Self {
        RpcError {
            code: MALFORMED_REQUEST,
            text: text.into(),
        }
    }

    /// Error 11: the request may succeed later.
    pub fn unavailable(text: impl Into<String>) -> Self {
        RpcError {
            code: TEMPORARILY_UNAVAILABLE,
            text: text.into(),
        }
    }

    /// Error 0: the outcome is unknown; the operation may still take effect.
    pub fn indefinite(text: impl Into<String>) -> Self {
        RpcError {
            code: TIMEOUT,
            text: text.into(),
        }
    }

    /// Error 10: the node does not serve this message type.
    pub fn not_supported(kind: &str) -> Self {
        RpcError {
            code: NOT_SUPPORTED,
            text: format!("unsupported message type `{kind}`"),
        }
    }

    /// The error body (without `in_reply_to`, which the outbox adds).
    pub fn to_body(&self) -> Map<String, Value> {
        let mut body = Map::new();
        body.insert("type".into(), "error".into());
        body.insert("code".into(), self.code.into());
        body.insert("text".into(), self.text.clone().into());
        body
    }
}

/// Builds a body object from a type and `(field, value)` pairs.
pub fn body(
    kind: &str,
    fields: impl IntoIterator<Item = (&'static str, Value)>,
) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("type".into(), kind.into());
    for (name, value) in fields {
        body.insert(name.into(), value);
    }
    body
}
