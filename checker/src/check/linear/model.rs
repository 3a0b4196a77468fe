//! The key/value register model (SPEC 3.2 and 3.3): operations on one key, and their
//! effect on its value. Values are interned: equal JSON values share an id, and the id of
//! an absent key (or a `null` value, which `lease_read` returns for one) is [`ABSENT`].

use std::collections::HashMap;

/// An interned value.
pub type ValueId = u32;
/// The value of a key that was never written.
pub const ABSENT: ValueId = 0;

/// What an operation does to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Observed this value (a read, a lease read, or a read that found no key).
    Read(ValueId),
    /// Set the value.
    Write(ValueId),
    /// Set `to` when the value was `from`.
    Cas(ValueId, ValueId),
}

impl Kind {
    /// The value this operation leaves behind when it takes effect, if it sets one.
    pub fn writes(self) -> Option<ValueId> {
        match self {
            Kind::Write(v) | Kind::Cas(_, v) => Some(v),
            Kind::Read(_) => None,
        }
    }

    /// The value this operation must see to take effect, if it looks.
    pub fn observes(self) -> Option<ValueId> {
        match self {
            Kind::Read(v) | Kind::Cas(v, _) => Some(v),
            Kind::Write(_) => None,
        }
    }

    /// The state after this operation from `state`, or `None` when it cannot happen there.
    pub fn step(self, state: ValueId) -> Option<ValueId> {
        match self {
            Kind::Read(v) => (v == state).then_some(state),
            Kind::Write(v) => Some(v),
            Kind::Cas(from, to) => (from == state).then_some(to),
        }
    }
}

/// When an indefinite operation completed: never, as far as anyone knows.
pub const NEVER: u64 = u64::MAX;

/// One operation on one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinOp {
    /// Its effect.
    pub kind: Kind,
    /// Invoked at, ns since the run started.
    pub call: u64,
    /// Completed at, ns; [`NEVER`] when its outcome is unknown.
    pub ret: u64,
    /// True when it certainly took effect (an `ok`, or a read that found no key);
    /// false when it may or may not have (`info`).
    pub definite: bool,
    /// The client that ran it.
    pub process: u64,
    /// The history index of its invoke.
    pub index: u64,
    /// The request's type (`read`, `lease_read`, `write`, `cas`).
    pub f: &'static str,
}

/// Interns JSON values (by their compact text) and keys.
#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<String, ValueId>,
    texts: Vec<String>,
}

impl Interner {
    /// An interner that knows only [`ABSENT`].
    pub fn new() -> Interner {
        Interner {
            ids: HashMap::new(),
            texts: vec!["absent".into()],
        }
    }

    /// The id of a JSON value; `null` is [`ABSENT`].
    pub fn id(&mut self, value: &serde_json::Value) -> ValueId {
        if value.is_null() {
            return ABSENT;
        }
        let text = value.to_string();
        if let Some(&id) = self.ids.get(&text) {
            return id;
        }
        let id = self.texts.len() as ValueId;
        self.ids.insert(text.clone(), id);
        self.texts.push(text);
        id
    }

    /// The JSON text of an id (`absent` for [`ABSENT`]).
    pub fn text(&self, id: ValueId) -> &str {
        &self.texts[id as usize]
    }
}

/// An operation for tests: definite unless it never completed.
#[cfg(test)]
pub fn test_op(kind: Kind, call: u64, ret: u64) -> LinOp {
    LinOp {
        kind,
        call,
        ret,
        definite: ret != NEVER,
        process: 0,
        index: call,
        f: "x",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_register_semantics() {
        assert_eq!(Kind::Read(3).step(3), Some(3));
        assert_eq!(Kind::Read(3).step(4), None);
        assert_eq!(Kind::Write(5).step(ABSENT), Some(5));
        assert_eq!(Kind::Cas(1, 2).step(1), Some(2));
        assert_eq!(Kind::Cas(1, 2).step(ABSENT), None);
        let mut values = Interner::new();
        assert_eq!(values.id(&serde_json::json!(null)), ABSENT);
        let a = values.id(&serde_json::json!("1"));
        assert_ne!(a, values.id(&serde_json::json!(1)));
        assert_eq!(values.text(a), "\"1\"");
    }
}
