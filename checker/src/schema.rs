//! The message schemas of SPEC section 3: required fields of every reply (and of the
//! node-to-node messages the harness can observe) and their types.

use serde_json::Value;

/// The type a field must have.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    /// Any JSON value, null included; the field must only be present.
    Any,
    /// An integer (no fraction).
    Int,
    /// An integer >= 0.
    Count,
    /// `true` or `false`.
    Bool,
    /// A string.
    Str,
    /// An integer >= 0, or null.
    CountOrNull,
    /// One of the given strings.
    OneOf(&'static [&'static str]),
    /// A list of strings.
    Strings,
    /// An object mapping strings to integers >= 0.
    Counts,
    /// A list of objects, each with these fields.
    ListOf(&'static [(&'static str, Ty)]),
    /// A string or null.
    StrOrNull,
}

impl Ty {
    fn accepts(self, value: &Value) -> bool {
        match self {
            Ty::Any => true,
            Ty::Int => value.is_i64() || value.is_u64(),
            Ty::Count => value.is_u64(),
            Ty::Bool => value.is_boolean(),
            Ty::Str => value.is_string(),
            Ty::CountOrNull => value.is_null() || value.is_u64(),
            Ty::StrOrNull => value.is_null() || value.is_string(),
            Ty::OneOf(options) => value.as_str().is_some_and(|s| options.contains(&s)),
            Ty::Strings => value
                .as_array()
                .is_some_and(|items| items.iter().all(Value::is_string)),
            Ty::Counts => value
                .as_object()
                .is_some_and(|o| o.values().all(Value::is_u64)),
            Ty::ListOf(fields) => value
                .as_array()
                .is_some_and(|items| items.iter().all(|item| check_fields(item, fields).is_ok())),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Ty::Any => "any value",
            Ty::Int => "an integer",
            Ty::Count => "a non-negative integer",
            Ty::Bool => "a boolean",
            Ty::Str => "a string",
            Ty::CountOrNull => "a non-negative integer or null",
            Ty::StrOrNull => "a string or null",
            Ty::OneOf(_) => "one of the allowed strings",
            Ty::Strings => "a list of strings",
            Ty::Counts => "an object of non-negative integers",
            Ty::ListOf(_) => "a list of well-formed objects",
        }
    }
}

const SERVER_ENTRY: &[(&str, Ty)] = &[
    ("server", Ty::Str),
    ("status", Ty::OneOf(&["alive", "dead"])),
    ("chunks", Ty::Count),
    ("last_heartbeat_ms_ago", Ty::Count),
];

/// Required fields of a message, by body type. `read_ok` depends on the request: a counter
/// read (no `key`) must return an integer, a key/value read any value.
pub fn fields_of(kind: &str, request: Option<&Value>) -> Option<&'static [(&'static str, Ty)]> {
    Some(match kind {
        "init_ok" | "simulate_drift_ok" | "write_ok" | "cas_ok" | "add_ok" | "replicate_ok" => &[],
        "error" => &[("code", Ty::Count)],
        "acquire_lease_ok" => &[("expires_at", Ty::Int)],
        "check_lease_ok" => &[("valid", Ty::Bool), ("remaining_ms", Ty::Count)],
        "lease_read_ok" => &[
            ("value", Ty::Any),
            ("lease_valid", Ty::Bool),
            ("network_round_trips", Ty::Count),
        ],
        "lease_read_config_ok" => &[
            ("safe", Ty::Bool),
            ("effective_lease_ms", Ty::Int),
            ("reason", Ty::Str),
        ],
        "read_ok" if request.is_some_and(|r| r.get("key").is_none()) => &[("value", Ty::Int)],
        "read_ok" => &[("value", Ty::Any)],
        "heartbeat_ok" => &[
            ("status", Ty::OneOf(&["alive"])),
            ("chunks_to_delete", Ty::Strings),
            ("chunks_to_replicate", Ty::Strings),
        ],
        "server_status_ok" => &[("servers", Ty::ListOf(SERVER_ENTRY))],
        "gossip_status_ok" => &[
            ("local_value", Ty::Int),
            ("gossip_rounds", Ty::Count),
            ("peers_synced", Ty::Count),
            ("convergence_ms", Ty::CountOrNull),
        ],
        "replicate" => &[("p_counters", Ty::Counts), ("n_counters", Ty::Counts)],
        "raft_status_ok" => &[
            ("term", Ty::Count),
            ("role", Ty::Str),
            ("leader", Ty::StrOrNull),
            ("commit_index", Ty::Count),
            ("log_len", Ty::Count),
        ],
        "request_vote" => &[
            ("term", Ty::Count),
            ("candidate_id", Ty::Str),
            ("last_log_index", Ty::Count),
            ("last_log_term", Ty::Count),
        ],
        "request_vote_res" | "request_vote_ok" => {
            &[("term", Ty::Count), ("vote_granted", Ty::Bool)]
        }
        "append_entries" => &[
            ("term", Ty::Count),
            ("leader_id", Ty::Str),
            ("prev_log_index", Ty::Count),
            ("prev_log_term", Ty::Count),
            ("entries", Ty::Any),
            ("leader_commit", Ty::Count),
        ],
        "append_entries_res" | "append_entries_ok" => &[("term", Ty::Count), ("success", Ty::Bool)],
        _ => return None,
    })
}

/// Checks a body against its schema; `Ok` for body types without one.
pub fn check_body(body: &Value, request: Option<&Value>) -> Result<(), String> {
    let kind = body["type"].as_str().unwrap_or_default();
    match fields_of(kind, request) {
        Some(fields) => check_fields(body, fields).map_err(|e| format!("`{kind}` {e}")),
        None => Ok(()),
    }
}

fn check_fields(object: &Value, fields: &[(&str, Ty)]) -> Result<(), String> {
    for &(name, ty) in fields {
        match object.get(name) {
            None => return Err(format!("is missing field `{name}`")),
            Some(value) if !ty.accepts(value) => {
                return Err(format!(
                    "field `{name}` must be {}, got {value}",
                    ty.describe()
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_catch_missing_and_mistyped_fields() {
        assert!(check_body(
            &json!({"type": "check_lease_ok", "valid": true, "remaining_ms": 5}),
            None
        )
        .is_ok());
        let err = check_body(
            &json!({"type": "check_lease_ok", "valid": "yes", "remaining_ms": 5}),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "`check_lease_ok` field `valid` must be a boolean, got \"yes\""
        );
        assert!(check_body(
            &json!({"type": "read_ok", "value": "x"}),
            Some(&json!({"type": "read"}))
        )
        .is_err());
        assert!(check_body(
            &json!({"type": "read_ok", "value": "x"}),
            Some(&json!({"type": "read", "key": 1}))
        )
        .is_ok());
        let bad_server = json!({"type": "server_status_ok", "servers": [{"server": "a", "status": "gone", "chunks": 0, "last_heartbeat_ms_ago": 1}]});
        assert!(check_body(&bad_server, None).is_err());
        assert!(check_body(&json!({"type": "unknown_thing"}), None).is_ok());
    }
}
