//! JSON values compared as values: Maelstrom's ids and set elements may be any JSON value,
//! and eddy keeps the order of object keys as a node wrote them, so `{"a":1,"b":2}` and
//! `{"b":2,"a":1}` must be made one text before they are compared.

use serde_json::Value;

/// The value's JSON text with every object's keys sorted: equal values, equal texts.
/// `1` and `"1"` (and `1` and `1.0`) stay different, as they are different JSON values.
pub fn canonical(value: &Value) -> String {
    sorted(value).to_string()
}

/// The value with every object's keys sorted, recursively.
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
}
