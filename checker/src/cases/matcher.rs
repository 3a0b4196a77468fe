//! Matching an expected line against an actual one (SPEC section 2).
//!
//! Expected objects match when every field they name is present in the actual object with
//! a matching value; the actual object may carry more fields. Arrays match element by
//! element and must be the same length. Numbers compare by value (`1` equals `1.0`).
//! An expected value may instead be a matcher, an object whose first key starts with `$`:
//!
//! | matcher | matches |
//! |---|---|
//! | `{"$type": "integer"}` or `{"$type": ["integer", "null"]}` | a value of that JSON type (`integer`, `number`, `string`, `boolean`, `null`, `array`, `object`, `any`) |
//! | `{"$range": [lo, hi]}` | a number from `lo` to `hi` inclusive |
//! | `{"$clock": N, "$tol": T}` | an integer within `T` ms (default 1000) of the harness's wall clock, in ms since the epoch, when the line arrived, plus `N` |
//! | `{"$one_of": [a, b]}` | a value matching `a` or `b` |
//! | `{"$subset_of": [a, b]}` | an array each of whose items equals one of `a`, `b` |
//! | `{"$unordered": [a, b]}` | an array of the same length whose items match `a`, `b` in some order |
//!
//! [`validate`] refuses what cannot be meant: an unknown `$` name, a matcher with ill-formed
//! arguments, a `$` key that is not the first of its object. Case files are validated when
//! they are read, so such a mistake is the case's (exit 64), never the node's.

use serde_json::{Map, Value};

/// The matchers there are.
pub const MATCHERS: [&str; 6] = [
    "$type",
    "$range",
    "$clock",
    "$one_of",
    "$subset_of",
    "$unordered",
];

/// The type names `$type` knows.
const TYPES: [&str; 8] = [
    "integer", "number", "string", "boolean", "null", "array", "object", "any",
];

/// Checks that every matcher in an expected value is known and well-formed; the error
/// names the field (`` `body.n`: unknown matcher `$between` ``).
pub fn validate(expected: &Value) -> Result<(), String> {
    check_spec("", expected)
}

fn field(path: &str) -> String {
    if path.is_empty() {
        "line".to_owned()
    } else {
        format!("`{path}`")
    }
}

fn check_spec(path: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::Object(object) if is_matcher(object) => {
            check_matcher(object).map_err(|why| format!("{}: {why}", field(path)))
        }
        Value::Object(object) => {
            for (key, child) in object {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.starts_with('$') {
                    return Err(format!(
                        "{}: `{key}` must be the first key of its object (a matcher is an object whose first key starts with `$`)",
                        field(path)
                    ));
                }
                check_spec(&child_path, child)?;
            }
            Ok(())
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| check_spec(&format!("{path}[{i}]"), item)),
        _ => Ok(()),
    }
}

fn check_matcher(spec: &Map<String, Value>) -> Result<(), String> {
    let (name, arg) = spec.iter().next().expect("a matcher has a key");
    let allowed_extra: &[&str] = if name == "$clock" { &["$tol"] } else { &[] };
    if let Some(extra) = spec
        .keys()
        .skip(1)
        .find(|k| !allowed_extra.contains(&k.as_str()))
    {
        return Err(format!("`{name}` takes no other key, found `{extra}`"));
    }
    let list = || {
        arg.as_array()
            .ok_or_else(|| format!("`{name}` takes a list, found {}", short(arg)))
    };
    match name.as_str() {
        "$type" => {
            let names: Vec<&Value> = match arg {
                Value::Array(items) if !items.is_empty() => items.iter().collect(),
                Value::String(_) => vec![arg],
                _ => {
                    return Err(format!(
                        "`$type` takes a type name or a list of them, found {}",
                        short(arg)
                    ))
                }
            };
            match names
                .iter()
                .find(|n| !n.as_str().is_some_and(|n| TYPES.contains(&n)))
            {
                Some(bad) => Err(format!(
                    "unknown type {} (known: {})",
                    short(bad),
                    TYPES.join(", ")
                )),
                None => Ok(()),
            }
        }
        "$range" => match arg
            .as_array()
            .map(|b| b.iter().map(Value::as_f64).collect::<Vec<_>>())
        {
            Some(bounds) if matches!(bounds[..], [Some(lo), Some(hi)] if lo <= hi) => Ok(()),
            _ => Err(format!(
                "`$range` takes [lo, hi], two numbers with lo <= hi, found {}",
                short(arg)
            )),
        },
        "$clock" => {
            if !(arg.is_i64() || arg.is_u64()) {
                return Err(format!("`$clock` takes an integer, found {}", short(arg)));
            }
            match spec.get("$tol") {
                Some(tol) if !tol.is_u64() => Err(format!(
                    "`$tol` takes a non-negative integer, found {}",
                    short(tol)
                )),
                _ => Ok(()),
            }
        }
        "$one_of" | "$unordered" => list()?.iter().enumerate().try_for_each(|(i, item)| {
            check_spec("", item).map_err(|why| format!("in `{name}` item {}: {why}", i + 1))
        }),
        "$subset_of" => {
            for item in list()? {
                if item.is_object() || item.is_array() {
                    check_spec("", item)?;
                    if contains_matcher(item) {
                        return Err(
                            "`$subset_of` compares items by value; it cannot hold matchers".into(),
                        );
                    }
                }
            }
            Ok(())
        }
        other => Err(format!(
            "unknown matcher `{other}` (known: {})",
            MATCHERS.join(", ")
        )),
    }
}

fn contains_matcher(value: &Value) -> bool {
    match value {
        Value::Object(object) => is_matcher(object) || object.values().any(contains_matcher),
        Value::Array(items) => items.iter().any(contains_matcher),
        _ => false,
    }
}

/// The default tolerance of `$clock`, in milliseconds.
pub const DEFAULT_CLOCK_TOLERANCE_MS: i64 = 1000;

/// What a matcher may need to know about the moment a line arrived.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// Wall-clock milliseconds since the Unix epoch when the harness read the line.
    pub wall_ms: i64,
}

/// Every difference between `expected` and `actual`, as `path: what` strings; empty when
/// they match.
pub fn differences(expected: &Value, actual: &Value, arrival: Arrival) -> Vec<String> {
    let mut out = Vec::new();
    compare("", expected, actual, arrival, &mut out);
    out
}

/// True when `actual` matches `expected`: the same answer as [`differences`] being empty,
/// without building a single string (the verdict tries every expected line against every
/// output line, so this runs thousands of times a case).
pub fn matches(expected: &Value, actual: &Value, arrival: Arrival) -> bool {
    match expected {
        Value::Object(exp) if is_matcher(exp) => matcher_holds(exp, actual, arrival),
        Value::Object(exp) => actual.as_object().is_some_and(|act| {
            exp.iter()
                .all(|(key, want)| act.get(key).is_some_and(|got| matches(want, got, arrival)))
        }),
        Value::Array(exp) => actual.as_array().is_some_and(|act| {
            exp.len() == act.len()
                && exp
                    .iter()
                    .zip(act)
                    .all(|(want, got)| matches(want, got, arrival))
        }),
        _ => scalar_equal(expected, actual),
    }
}

/// [`apply_matcher`] returning `Ok`, without the explanation.
fn matcher_holds(spec: &Map<String, Value>, actual: &Value, arrival: Arrival) -> bool {
    let (name, arg) = spec.iter().next().expect("a matcher has a key");
    match name.as_str() {
        "$type" => match arg {
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .any(|n| has_type(n, actual)),
            other => other.as_str().is_some_and(|n| has_type(n, actual)),
        },
        "$range" => match range_bounds(arg) {
            Some((lo, hi)) => actual.as_f64().is_some_and(|v| (lo..=hi).contains(&v)),
            None => false,
        },
        "$clock" => match (arg.as_i64(), actual.as_i64()) {
            (Some(offset), Some(v)) => {
                clock_off_by(v, arrival.wall_ms.saturating_add(offset)) <= clock_tol(spec)
            }
            _ => false,
        },
        "$one_of" => arg
            .as_array()
            .is_some_and(|options| options.iter().any(|o| matches(o, actual, arrival))),
        "$subset_of" => match (arg.as_array(), actual.as_array()) {
            (Some(allowed), Some(items)) => items
                .iter()
                .all(|item| allowed.iter().any(|a| scalar_equal(a, item))),
            _ => false,
        },
        "$unordered" => match (arg.as_array(), actual.as_array()) {
            (Some(wanted), Some(items)) if wanted.len() == items.len() => {
                unordered_pairs(wanted, items, arrival).is_ok()
            }
            _ => false,
        },
        _ => false,
    }
}

/// The bounds of `{"$range": [lo, hi]}`, when there are exactly two numbers.
fn range_bounds(arg: &Value) -> Option<(f64, f64)> {
    let bounds = arg
        .as_array()
        .map(|b| b.iter().filter_map(Value::as_f64).collect::<Vec<_>>())
        .unwrap_or_default();
    match bounds[..] {
        [lo, hi] => Some((lo, hi)),
        _ => None,
    }
}

/// The tolerance of a `$clock` matcher, in milliseconds.
fn clock_tol(spec: &Map<String, Value>) -> i128 {
    spec.get("$tol")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_CLOCK_TOLERANCE_MS)
        .into()
}

/// How far `value` is from `want`, without overflowing.
fn clock_off_by(value: i64, want: i64) -> i128 {
    (i128::from(value) - i128::from(want)).abs()
}

/// Gives each of `wanted` an item of `items` (the same length) of its own, first fit in
/// order; `Err` names the first wanted item left without one, and the items taken so far.
fn unordered_pairs(
    wanted: &[Value],
    items: &[Value],
    arrival: Arrival,
) -> Result<(), (usize, Vec<bool>)> {
    let mut used = vec![false; items.len()];
    for (k, want) in wanted.iter().enumerate() {
        match (0..items.len()).find(|&i| !used[i] && matches(want, &items[i], arrival)) {
            Some(i) => used[i] = true,
            None => return Err((k, used)),
        }
    }
    Ok(())
}

fn compare(path: &str, expected: &Value, actual: &Value, arrival: Arrival, out: &mut Vec<String>) {
    let at = |p: &str| {
        if p.is_empty() {
            "line".to_owned()
        } else {
            format!("`{p}`")
        }
    };
    match expected {
        Value::Object(exp) if is_matcher(exp) => {
            if let Err(why) = apply_matcher(exp, actual, arrival) {
                out.push(format!("{}: {why}", at(path)));
            }
        }
        Value::Object(exp) => {
            let Some(act) = actual.as_object() else {
                out.push(format!(
                    "{}: expected an object, got {}",
                    at(path),
                    short(actual)
                ));
                return;
            };
            for (key, want) in exp {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match act.get(key) {
                    Some(got) => compare(&child, want, got, arrival, out),
                    None => out.push(format!(
                        "{}: missing (expected {})",
                        at(&child),
                        short(want)
                    )),
                }
            }
        }
        Value::Array(exp) => {
            let Some(act) = actual.as_array() else {
                out.push(format!(
                    "{}: expected {}, got {}",
                    at(path),
                    short(expected),
                    short(actual)
                ));
                return;
            };
            if exp.len() != act.len() {
                out.push(format!(
                    "{}: expected {} items {}, got {} items {}",
                    at(path),
                    exp.len(),
                    short(expected),
                    act.len(),
                    short(actual)
                ));
                return;
            }
            for (i, (want, got)) in exp.iter().zip(act).enumerate() {
                compare(&format!("{path}[{i}]"), want, got, arrival, out);
            }
        }
        _ if !scalar_equal(expected, actual) => {
            out.push(format!(
                "{}: expected {}, got {}",
                at(path),
                short(expected),
                short(actual)
            ));
        }
        _ => {}
    }
}

fn is_matcher(object: &Map<String, Value>) -> bool {
    object.keys().next().is_some_and(|k| k.starts_with('$'))
}

fn apply_matcher(
    spec: &Map<String, Value>,
    actual: &Value,
    arrival: Arrival,
) -> Result<(), String> {
    let (name, arg) = spec.iter().next().expect("a matcher has a key");
    let got = short(actual);
    match name.as_str() {
        "$type" => {
            let names: Vec<&str> = match arg {
                Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                other => other.as_str().into_iter().collect(),
            };
            names
                .iter()
                .any(|n| has_type(n, actual))
                .then_some(())
                .ok_or_else(|| format!("expected {}, got {got}", names.join(" or ")))
        }
        "$range" => {
            let Some((lo, hi)) = range_bounds(arg) else {
                return Err(format!("bad matcher {arg}: `$range` takes [lo, hi]"));
            };
            match actual.as_f64() {
                Some(v) if (lo..=hi).contains(&v) => Ok(()),
                _ => Err(format!("expected a number from {lo} to {hi}, got {got}")),
            }
        }
        "$clock" => {
            let offset = arg
                .as_i64()
                .ok_or_else(|| format!("bad matcher: `$clock` takes an integer, got {arg}"))?;
            let tol = clock_tol(spec);
            let want = arrival.wall_ms.saturating_add(offset);
            match actual.as_i64() {
                Some(v) if clock_off_by(v, want) <= tol => Ok(()),
                Some(v) => Err(format!("expected about {want} (arrival time {:+} ms, within {tol} ms), got {v}, off by {} ms", offset, i128::from(v) - i128::from(want))),
                None => Err(format!("expected an integer time, got {got}")),
            }
        }
        "$one_of" => {
            let options = arg
                .as_array()
                .ok_or("bad matcher: `$one_of` takes a list")?;
            options
                .iter()
                .any(|o| matches(o, actual, arrival))
                .then_some(())
                .ok_or_else(|| format!("expected one of {}, got {got}", short(arg)))
        }
        "$subset_of" => {
            let allowed = arg
                .as_array()
                .ok_or("bad matcher: `$subset_of` takes a list")?;
            let items = actual
                .as_array()
                .ok_or_else(|| format!("expected a list, got {got}"))?;
            match items
                .iter()
                .find(|item| !allowed.iter().any(|a| scalar_equal(a, item)))
            {
                Some(stray) => Err(format!(
                    "{} is not allowed here (allowed: {})",
                    short(stray),
                    short(arg)
                )),
                None => Ok(()),
            }
        }
        "$unordered" => {
            let wanted = arg
                .as_array()
                .ok_or("bad matcher: `$unordered` takes a list")?;
            let items = actual
                .as_array()
                .ok_or_else(|| format!("expected a list, got {got}"))?;
            if items.len() != wanted.len() {
                return Err(format!(
                    "expected {} items, got {} items {got}",
                    wanted.len(),
                    items.len()
                ));
            }
            let Err((k, used)) = unordered_pairs(wanted, items, arrival) else {
                return Ok(());
            };
            let want = &wanted[k];
            let nearest = items
                .iter()
                .zip(&used)
                .filter(|(_, u)| !**u)
                .map(|(item, _)| differences(want, item, arrival).join("; "))
                .min_by_key(String::len);
            Err(format!(
                "no item matches {} ({})",
                short(want),
                nearest.unwrap_or_default()
            ))
        }
        other => Err(format!("unknown matcher `{other}`")),
    }
}

fn has_type(name: &str, value: &Value) -> bool {
    match name {
        "any" => true,
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        _ => false,
    }
}

fn scalar_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        _ => a == b,
    }
}

/// A value as compact JSON, cut to a readable length.
pub fn short(value: &Value) -> String {
    const MAX: usize = 120;
    let text = value.to_string();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: Arrival = Arrival { wall_ms: 1_000_000 };

    #[test]
    fn subset_semantics_and_numbers() {
        let expected = json!({"src": "n1", "body": {"type": "x", "n": 1}});
        assert!(matches(
            &expected,
            &json!({"src": "n1", "dest": "c1", "body": {"type": "x", "n": 1.0, "extra": 2}}),
            NOW
        ));
        let diffs = differences(&expected, &json!({"src": "n2", "body": {"type": "x"}}), NOW);
        assert_eq!(
            diffs,
            vec![
                "`src`: expected \"n1\", got \"n2\"",
                "`body.n`: missing (expected 1)"
            ]
        );
        assert!(!matches(&json!([1, 2]), &json!([1, 2, 3]), NOW));
    }

    #[test]
    fn matchers() {
        assert!(matches(
            &json!({"$type": ["integer", "null"]}),
            &json!(null),
            NOW
        ));
        assert!(!matches(&json!({"$type": "integer"}), &json!(1.5), NOW));
        assert!(matches(&json!({"$range": [0, 10]}), &json!(10), NOW));
        assert!(!matches(&json!({"$range": [0, 10]}), &json!(11), NOW));
        assert!(matches(
            &json!({"$clock": 5000, "$tol": 10}),
            &json!(1_005_009),
            NOW
        ));
        assert!(!matches(
            &json!({"$clock": 5000, "$tol": 10}),
            &json!(1_005_011),
            NOW
        ));
        assert!(matches(&json!({"$one_of": [1, "a"]}), &json!("a"), NOW));
        assert!(matches(
            &json!({"$subset_of": ["a", "b"]}),
            &json!(["b"]),
            NOW
        ));
        assert!(!matches(&json!({"$subset_of": ["a"]}), &json!(["c"]), NOW));
        let servers =
            json!({"$unordered": [{"server": "a"}, {"server": "b", "n": {"$range": [1, 2]}}]});
        assert!(matches(
            &servers,
            &json!([{"server": "b", "n": 2}, {"server": "a"}]),
            NOW
        ));
        assert!(!matches(
            &servers,
            &json!([{"server": "b", "n": 3}, {"server": "a"}]),
            NOW
        ));
        assert!(!matches(&json!({"$bogus": 1}), &json!(1), NOW));
    }

    #[test]
    fn the_quick_answer_agrees_with_the_explained_one() {
        let expected = [
            json!({"src": "n1", "body": {"type": "x", "n": 1}}),
            json!([1, 2]),
            json!({"$type": ["integer", "null"]}),
            json!({"$type": "string"}),
            json!({"$type": 3}),
            json!({"$range": [0, 10]}),
            json!({"$range": [0]}),
            json!({"$clock": 5000, "$tol": 10}),
            json!({"$clock": -5000}),
            json!({"$clock": "soon"}),
            json!({"$one_of": [1, "a", {"$range": [20, 30]}]}),
            json!({"$one_of": 1}),
            json!({"$subset_of": ["a", "b", 1]}),
            json!({"$subset_of": "a"}),
            json!({"$unordered": [{"server": "a"}, {"server": "b", "n": {"$range": [1, 2]}}]}),
            json!({"$unordered": [1, {"$type": "integer"}]}),
            json!({"$unordered": 1}),
            json!({"$bogus": 1}),
            json!({"body": {"items": [{"n": {"$range": [1, 2]}}, "x"]}}),
            json!(null),
            json!(1.0),
        ];
        let actual = [
            json!({"src": "n1", "dest": "c1", "body": {"type": "x", "n": 1.0, "extra": 2}}),
            json!({"src": "n2", "body": {"type": "x"}}),
            json!([1, 2]),
            json!([1, 2, 3]),
            json!(null),
            json!(1),
            json!(1.5),
            json!(10),
            json!(11),
            json!(25),
            json!("a"),
            json!(["a", 1]),
            json!(["c"]),
            json!(1_005_009),
            json!(1_005_011),
            json!(995_000),
            json!(i64::MIN),
            json!(u64::MAX),
            json!([{"server": "b", "n": 2}, {"server": "a"}]),
            json!([{"server": "b", "n": 3}, {"server": "a"}]),
            json!([1, 2.5]),
            json!([2.5, 1]),
            json!({"body": {"items": [{"n": 2}, "x"]}}),
            json!({"body": {"items": [{"n": 3}, "x"]}}),
            json!({"body": "flat"}),
        ];
        let mut agreed = (0, 0);
        for want in &expected {
            for got in &actual {
                let quick = matches(want, got, NOW);
                let explained = differences(want, got, NOW);
                assert_eq!(
                    quick,
                    explained.is_empty(),
                    "{want} vs {got}: {explained:?}"
                );
                if quick {
                    agreed.0 += 1;
                } else {
                    agreed.1 += 1;
                }
            }
        }
        assert!(agreed.0 > 15 && agreed.1 > 15, "{agreed:?}");
    }

    #[test]
    fn validation_refuses_what_cannot_be_meant() {
        for good in [
            json!({"body": {"n": {"$range": [1, 2]}, "t": {"$clock": 5, "$tol": 10}}}),
            json!({"x": {"$type": ["integer", "null"]}, "y": {"$one_of": [1, {"$type": "string"}]}}),
            json!({"s": {"$subset_of": ["a", 1]}, "u": {"$unordered": [{"n": {"$range": [0, 1]}}]}}),
        ] {
            assert_eq!(validate(&good), Ok(()), "{good}");
        }
        for (bad, why) in [
            (
                json!({"body": {"n": {"$between": [1, 2]}}}),
                "`body.n`: unknown matcher `$between`",
            ),
            (
                json!({"n": {"$range": [2, 1]}}),
                "`n`: `$range` takes [lo, hi]",
            ),
            (json!({"n": {"$range": 3}}), "`n`: `$range` takes [lo, hi]"),
            (
                json!({"n": {"$type": "float"}}),
                "`n`: unknown type \"float\"",
            ),
            (
                json!({"n": {"$clock": 1.5}}),
                "`n`: `$clock` takes an integer",
            ),
            (
                json!({"n": {"$clock": 1, "$tol": -1}}),
                "`n`: `$tol` takes a non-negative",
            ),
            (
                json!({"n": {"$range": [1, 2], "$tol": 1}}),
                "`n`: `$range` takes no other key",
            ),
            (json!({"n": {"$one_of": 1}}), "`n`: `$one_of` takes a list"),
            (
                json!({"n": {"$one_of": [{"$nope": 1}]}}),
                "`n`: in `$one_of` item 1: line: unknown matcher `$nope`",
            ),
            (
                json!({"n": {"$subset_of": [{"$type": "any"}]}}),
                "`n`: `$subset_of` compares items by value",
            ),
            (
                json!({"n": {"a": 1, "$range": [1, 2]}}),
                "`n`: `$range` must be the first key",
            ),
            (
                json!({"items": [1, {"$x": 1}]}),
                "`items[1]`: unknown matcher `$x`",
            ),
        ] {
            let err = validate(&bad).unwrap_err();
            assert!(err.starts_with(why), "{bad}: {err}");
        }
    }
}
