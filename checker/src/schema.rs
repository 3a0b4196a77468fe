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
    /// A list of any values (a g-set's elements), or `null` for an empty one (as Go
    /// encodes an empty slice).
    List,
}

/// The items of a list a node answered, `null` read as the empty list: Go's encoder writes
/// an empty slice (`var seen []int`) as `null`, and Maelstrom's checkers accept it. `None`
/// for anything else.
pub fn list_or_null(value: &Value) -> Option<&[Value]> {
    match value {
        Value::Null => Some(&[]),
        Value::Array(items) => Some(items),
        _ => None,
    }
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
            Ty::List => list_or_null(value).is_some(),
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
            Ty::List => "a list",
        }
    }
}

/// When a message schema applies.
#[derive(Debug, Clone, Copy)]
pub enum When {
    /// To every message of its type.
    Always,
    /// To a reply whose request has no field of this name (a counter's `read` has no
    /// `key`, a register's has one).
    RequestWithout(&'static str),
    /// To a reply whose request has a field of this name (a register's `read` has a `key`).
    RequestWith(&'static str),
}

/// The required fields of one message type, as a workload declares them.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// The body `type`.
    pub kind: &'static str,
    /// Which messages of that type it applies to.
    pub when: When,
    /// Required fields and their types.
    pub fields: &'static [(&'static str, Ty)],
}

impl Schema {
    /// A schema for every message of type `kind`.
    pub const fn of(kind: &'static str, fields: &'static [(&'static str, Ty)]) -> Schema {
        Schema {
            kind,
            when: When::Always,
            fields,
        }
    }

    fn applies(&self, kind: &str, request: Option<&Value>) -> bool {
        self.kind == kind
            && match self.when {
                When::Always => true,
                When::RequestWithout(field) => request.is_some_and(|r| r.get(field).is_none()),
                When::RequestWith(field) => request.is_some_and(|r| r.get(field).is_some()),
            }
    }
}

/// The messages of the protocol itself, whatever the workload.
pub const PROTOCOL: &[Schema] = &[
    Schema::of("init_ok", &[]),
    Schema::of("error", &[("code", Ty::Count)]),
];

/// The schemas a body is checked against: the protocol's and those of one workload, or of
/// several workloads when the workload is not known (a case), any one of which may hold.
#[derive(Debug, Clone)]
pub struct Catalogue(Vec<Vec<&'static Schema>>);

impl Catalogue {
    /// The protocol's schemas and those of one workload's lists (`workloads`: each list
    /// applies in full, as lease-read's own and Raft's both do).
    pub fn new<'a>(workloads: impl IntoIterator<Item = &'a &'static [Schema]>) -> Catalogue {
        let own = workloads.into_iter().flat_map(|list| list.iter());
        Catalogue(vec![PROTOCOL.iter().chain(own).collect()])
    }

    /// The schemas of several workloads (each given as its lists), for a body whose
    /// workload is not known: it must fit every schema of one workload that has any for
    /// its type (a g-set's `read_ok` lists elements, a counter's carries an integer).
    pub fn any_of(workloads: impl IntoIterator<Item = &'static [&'static [Schema]]>) -> Catalogue {
        Catalogue(
            workloads
                .into_iter()
                .map(|lists| Catalogue::new(lists).0.remove(0))
                .collect(),
        )
    }

    /// Checks a body against the schemas that apply to it (see [`Catalogue::any_of`]);
    /// `Ok` for body types without one. `request` is the body of the request a reply
    /// answers, when known. The error is the first workload's complaint.
    pub fn check_body(&self, body: &Value, request: Option<&Value>) -> Result<(), String> {
        let kind = body["type"].as_str().unwrap_or_default();
        let mut complaint = None;
        for group in &self.0 {
            let mut applying = group
                .iter()
                .filter(|schema| schema.applies(kind, request))
                .peekable();
            if applying.peek().is_none() {
                continue;
            }
            match applying.try_for_each(|schema| {
                check_fields(body, schema.fields).map_err(|e| format!("`{kind}` {e}"))
            }) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    complaint.get_or_insert(e);
                }
            }
        }
        complaint.map_or(Ok(()), Err)
    }
}

/// Checks `object` for `fields`: the first field missing or of the wrong type, in words.
pub fn check_fields(object: &Value, fields: &[(&str, Ty)]) -> Result<(), String> {
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
    fn null_is_an_empty_list_and_nothing_else_is_a_list() {
        assert_eq!(list_or_null(&json!(null)), Some(&[][..]));
        assert_eq!(list_or_null(&json!([1])).map(<[Value]>::len), Some(1));
        assert_eq!(list_or_null(&json!({})), None);
        assert_eq!(list_or_null(&json!(0)), None);
        assert!(Ty::List.accepts(&json!(null)) && !Ty::List.accepts(&json!("x")));
    }
}
