//! The key/value register model (SPEC 3.2 and 3.3): operations on one key, and their
//! effect on its value. Values are interned: equal JSON values share an id, and the id of
//! an absent key (or a `null` value, which `lease_read` returns for one) is [`ABSENT`].

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;

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
    /// True when its outcome was unknown but shrinking found it took effect: `ret` is then
    /// the completion of the first operation that saw its value, not its own.
    pub resolved: bool,
}

/// A text [`Names::note`]d, not yet given a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Noted(u32);

/// Numbers texts densely, from 0, in the order they are first asked for
/// ([`Names::number`]), not the order they are first seen ([`Names::note`]): the history
/// builder notes a write's value at its invoke and numbers it when the write completes,
/// so values and keys are numbered in the order of completions, as they always were.
#[derive(Debug, Default)]
pub struct Names {
    /// Noted positions, found by the hash of their text.
    table: HashTable<u32>,
    /// Every noted text, one after another.
    texts: String,
    /// By noted position: where its text ends in `texts`.
    ends: Vec<usize>,
    /// By noted position: its number, if it has one.
    numbers: Vec<Option<u32>>,
    /// By number: the noted position.
    numbered: Vec<u32>,
}

/// The text noted at `position`.
fn noted_text<'t>(texts: &'t str, ends: &[usize], position: u32) -> &'t str {
    let n = position as usize;
    let start = if n == 0 { 0 } else { ends[n - 1] };
    &texts[start..ends[n]]
}

impl Names {
    /// Notes a text (without numbering it).
    pub fn note(&mut self, text: &str) -> Noted {
        let hash = FxBuildHasher.hash_one(text);
        let (texts, ends) = (&self.texts, &self.ends);
        if let Some(&position) = self
            .table
            .find(hash, |&p| noted_text(texts, ends, p) == text)
        {
            return Noted(position);
        }
        let position = self.ends.len() as u32;
        self.texts.push_str(text);
        self.ends.push(self.texts.len());
        self.numbers.push(None);
        let (texts, ends) = (&self.texts, &self.ends);
        self.table.insert_unique(hash, position, |&p| {
            FxBuildHasher.hash_one(noted_text(texts, ends, p))
        });
        Noted(position)
    }

    /// The number of a noted text, given now if it has none yet.
    pub fn number(&mut self, noted: Noted) -> u32 {
        *self.numbers[noted.0 as usize].get_or_insert_with(|| {
            self.numbered.push(noted.0);
            self.numbered.len() as u32 - 1
        })
    }

    /// The text numbered `number`.
    pub fn text(&self, number: u32) -> &str {
        noted_text(&self.texts, &self.ends, self.numbered[number as usize])
    }
}

/// Interns JSON values by their compact text (`Value::to_string`); ids are [`Names`]'
/// numbers. The id of `null` is [`ABSENT`].
#[derive(Debug)]
pub struct Interner {
    names: Names,
}

impl Default for Interner {
    fn default() -> Self {
        Interner::new()
    }
}

impl Interner {
    /// An interner that knows only [`ABSENT`].
    pub fn new() -> Interner {
        let mut names = Names::default();
        let null = names.note("null");
        names.number(null);
        Interner { names }
    }

    /// Notes a value by its compact JSON text (see [`Names::note`]).
    pub fn note(&mut self, text: &str) -> Noted {
        self.names.note(text)
    }

    /// The id of a noted value.
    pub fn id(&mut self, noted: Noted) -> ValueId {
        self.names.number(noted)
    }

    /// The JSON text of an id (`absent` for [`ABSENT`]).
    pub fn text(&self, id: ValueId) -> &str {
        match id {
            ABSENT => "absent",
            _ => self.names.text(id),
        }
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
        resolved: false,
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
        let null = values.note("null");
        assert_eq!(values.id(null), ABSENT);
        assert_eq!(values.text(ABSENT), "absent");
        let (one, text_one) = (values.note("1"), values.note("\"1\""));
        assert_eq!(values.id(text_one), 1, "numbered in the order of use");
        assert_eq!(values.id(one), 2);
        let again = values.note("\"1\"");
        assert_eq!(values.id(again), 1);
        assert_eq!(values.text(1), "\"1\"");
    }
}
