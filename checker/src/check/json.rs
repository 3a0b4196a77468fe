//! JSON values compared as values: Maelstrom's ids and set elements may be any JSON value,
//! and eddy keeps the order of object keys as a node wrote them, so `{"a":1,"b":2}` and
//! `{"b":2,"a":1}` must be made one text before they are compared.

use serde_json::Value;

/// The value's JSON text with every object's keys sorted and `-0.0` written `0.0`: equal
/// values, equal texts. `1` and `"1"` (and `1` and `1.0`) stay different, as they are
/// different JSON values to most decoders.
pub fn canonical(value: &Value) -> String {
    if plain(value) {
        value.to_string()
    } else {
        sorted(value).to_string()
    }
}

/// True when the value's compact text is already canonical: no object, no `-0.0`.
fn plain(value: &Value) -> bool {
    match value {
        Value::Object(_) => false,
        Value::Number(n) => n.as_f64().is_none_or(|f| f != 0.0 || f.is_sign_positive()),
        Value::Array(items) => items.iter().all(plain),
        _ => true,
    }
}

/// The value with every object's keys sorted, recursively, and `-0.0` as `0.0`.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        Value::Number(n) if n.is_f64() && n.as_f64() == Some(0.0) => serde_json::json!(0.0),
        other => other.clone(),
    }
}

/// A set's members as one answer, whatever their order: the canonical texts, sorted (used
/// to compare sets read from different nodes).
pub fn as_set(items: &[Value]) -> Vec<String> {
    let mut texts: Vec<String> = items.iter().map(canonical).collect();
    texts.sort_unstable();
    texts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_matter_but_types_do() {
        let a: Value = serde_json::from_str(r#"{"b": [1, {"d": 1, "c": 2}], "a": 1}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a": 1, "b": [1, {"c": 2, "d": 1}]}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
        assert_ne!(canonical(&json!(1)), canonical(&json!("1")));
        assert_eq!(as_set(&[json!(2), json!(1)]), as_set(&[json!(1), json!(2)]));
    }

    #[test]
    fn equal_json_values_have_one_text() {
        let text = |v: Value| canonical(&v);
        assert_eq!(
            text(json!({"b": 2, "a": [{"d": 1, "c": -0.0}]})),
            text(json!({"a": [{"c": 0.0, "d": 1}], "b": 2}))
        );
        assert_eq!(text(json!({"b": 2, "a": 1})), r#"{"a":1,"b":2}"#);
        assert_eq!(text(json!(-0.0)), "0.0");
        assert_eq!(text(json!(-1.5)), "-1.5");
        assert_ne!(text(json!(1)), text(json!(1.0)));
        assert_eq!(text(json!("x")), "\"x\"");
    }
}
