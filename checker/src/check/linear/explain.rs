//! Witnesses in words: each names the operations it is about, with their clients and
//! times, so that a person can find them in the history and see why no order works.

use super::direct::{Conflict, Stretch};
use super::model::{self, Interner, LinOp, ValueId, ABSENT, NEVER};
use super::witness;
use serde_json::{json, Value};

/// Words for one key's witnesses.
pub struct Explain<'a> {
    /// The key, as JSON text.
    pub key: &'a str,
    /// Its operations (after shrinking), which witnesses index.
    pub ops: &'a [LinOp],
    /// The interned values.
    pub values: &'a Interner,
}

fn seconds(ns: u64) -> String {
    if ns == NEVER {
        "never".into()
    } else {
        format!("{:.3} s", ns as f64 / 1e9)
    }
}

/// When an operation really completed: [`NEVER`] for one whose outcome was unknown, even
/// when shrinking found it took effect.
fn completed(op: &LinOp) -> u64 {
    if op.resolved {
        NEVER
    } else {
        op.ret
    }
}

/// Two instants in words, with microseconds when milliseconds would show them equal.
fn two_times(a: u64, b: u64) -> (String, String) {
    let (x, y) = (seconds(a), seconds(b));
    if x != y || a == b || a == NEVER || b == NEVER {
        return (x, y);
    }
    let fine = |ns: u64| format!("{:.6} s", ns as f64 / 1e9);
    (fine(a), fine(b))
}

impl Explain<'_> {
    /// An operation in words: "read of 1 returned 5 [client 3, 1.200 s to 1.204 s]".
    pub fn describe(&self, op: &LinOp) -> String {
        let outcome = match (op.definite, op.resolved) {
            (true, false) => String::new(),
            (true, true) => format!(
                " (outcome unknown; it took effect by {}, when its value was first seen)",
                seconds(op.ret)
            ),
            (false, _) => " (outcome unknown)".to_owned(),
        };
        format!(
            "{}{outcome} [client {}, {} to {}]",
            self.brief(op),
            op.process,
            seconds(op.call),
            seconds(completed(op))
        )
    }

    /// What an operation did, without its client and times: "read of 1 returned 5".
    fn brief(&self, op: &LinOp) -> String {
        let v = |id| self.values.text(id);
        match op.kind {
            model::Kind::Read(id) if id == ABSENT => {
                format!("{} of {} found it absent", op.f, self.key)
            }
            model::Kind::Read(id) => format!("{} of {} returned {}", op.f, self.key, v(id)),
            model::Kind::Write(id) => format!("write {}={}", self.key, v(id)),
            model::Kind::Cas(from, to) => format!("cas {} from {} to {}", self.key, v(from), v(to)),
        }
    }

    /// An operation as a witness names it (drawn by the report's witness pictures); one of
    /// unknown outcome that shrinking found took effect has `completed_s` null and
    /// `took_effect_by_s`.
    pub fn op_json(&self, op: &LinOp) -> Value {
        let done = completed(op);
        let mut named = json!({"index": op.index, "process": op.process, "f": op.f, "op": self.describe(op), "invoked_s": op.call as f64 / 1e9,
               "completed_s": if done == NEVER { Value::Null } else { json!(done as f64 / 1e9) }});
        if op.resolved {
            named["took_effect_by_s"] = json!(op.ret as f64 / 1e9);
        }
        named
    }

    /// The witness of a stale read.
    pub fn stale(&self, s: &witness::StaleRead) -> Value {
        let read = &self.ops[s.read];
        let returned = match read.kind {
            model::Kind::Read(id) => id,
            _ => unreachable!("stale reads are reads"),
        };
        let got = if returned == ABSENT {
            "found the key absent".to_owned()
        } else {
            format!("returned {}", self.values.text(returned))
        };
        let why = match s.missed {
            None => format!(
                "{} of {} {got} at {}, but nothing ever wrote {}",
                read.f,
                self.key,
                seconds(read.ret),
                self.values.text(returned)
            ),
            Some(m) => {
                let missed = &self.ops[m];
                let wrote = self.values.text(missed.kind.writes().expect("a writer"));
                let after = if returned == ABSENT {
                    "and keys are never deleted".to_owned()
                } else {
                    format!("and nothing wrote {} after it", self.values.text(returned))
                };
                let completed = match missed.resolved {
                    true => "took effect by",
                    false => "completed at",
                };
                format!(
                    "{} of {} {got} at {}, but {}={wrote} {completed} {} {after}",
                    read.f,
                    self.key,
                    seconds(read.ret),
                    if missed.f == "cas" {
                        format!("cas {}", self.key)
                    } else {
                        format!("write {}", self.key)
                    },
                    seconds(missed.ret)
                )
            }
        };
        json!({
            "kind": "stale-read", "key": self.key, "why": why, "read": self.op_json(read),
            "missed": s.missed.map(|m| self.op_json(&self.ops[m])), "source": s.source.map(|w| self.op_json(&self.ops[w])),
        })
    }

    /// The witness of a search that found no order for `piece` from the states `starts`.
    pub fn violation(
        &self,
        piece: &[LinOp],
        starts: &[model::ValueId],
        stuck: Option<(usize, usize)>,
    ) -> Value {
        let states: Vec<&str> = starts.iter().map(|&s| self.values.text(s)).collect();
        let (why, stuck_op) = match stuck {
            Some((i, placed)) => {
                let op = &piece[i];
                (format!("{} cannot be placed: no order of the {} operations from {} to {} that respects real time and starts from {} allows it (at best {placed} were placed before it)",
                    self.describe(op), piece.len(), seconds(piece[0].call), seconds(piece.iter().map(|o| o.ret).max().unwrap_or(0)), states.join(" or ")),
                 Some(self.op_json(op)))
            }
            None => ("no order of these operations is legal".into(), None),
        };
        const SHOWN: usize = 20;
        json!({
            "kind": "search", "key": self.key, "why": why, "cannot_place": stuck_op, "starting_states": states,
            "piece": piece.iter().take(SHOWN).map(|op| self.op_json(op)).collect::<Vec<_>>(), "piece_len": piece.len(),
        })
    }

    /// The witness of a conflict [`super::direct::decide`] found: the operation no order
    /// can place, why, and the operations that stand in its way.
    pub fn conflict(&self, conflict: &Conflict) -> Value {
        let op = |i: usize| &self.ops[i];
        let d = |i: usize| self.describe(&self.ops[i]);
        let key = self.key;
        let (name, placed, why, parts): (&str, usize, String, Vec<(&str, usize)>) =
            match *conflict {
                Conflict::Unwritten { op: i } => (
                    "unwritten",
                    i,
                    format!(
                        "{} cannot be placed: it needs {key} to hold {}, which nothing wrote",
                        d(i),
                        self.text(op(i).kind.observes().unwrap_or(ABSENT))
                    ),
                    vec![],
                ),
                Conflict::TwoCas { first, second } => {
                    let from = self.text(op(second).kind.observes().unwrap_or(ABSENT));
                    (
                        "two-cas",
                        second,
                        format!("{} cannot be placed: {} also changed {key} from {from}, and since no value is written twice, {key} held {from} only once", d(second), d(first)),
                        vec![("must_follow", first)],
                    )
                }
                Conflict::Cycle { op: i } => (
                    "cycle",
                    i,
                    format!("{} cannot be placed: the value it needs comes only from a circle of cas operations, which neither a write nor the initial value starts", d(i)),
                    vec![],
                ),
                Conflict::ChainOrder { late, early } => {
                    let (done, invoked) = two_times(op(late).ret, op(early).call);
                    let completed = match op(late).resolved {
                        true => "it took effect by",
                        false => "it completed at",
                    };
                    (
                        "chain-order",
                        late,
                        format!(
                            "{} cannot be placed: it must come after {}, {}, but {completed} {done}, before that was invoked at {invoked}",
                            d(late),
                            d(early),
                            self.reason_after(op(early).kind, op(late).kind),
                        ),
                        vec![("must_follow", early)],
                    )
                }
                Conflict::Overlap { first, second } => {
                    self.neither_first("overlap", first, second)
                }
                Conflict::Inside { inner, outer } => self.neither_first("inside", inner, outer),
            };
        let mut why = why;
        let mut parts = parts;
        if !op(placed).definite || op(placed).resolved {
            if let Some(seen) = self.evidence(placed) {
                why.push_str(&format!(
                    "; its outcome was unknown, but it took effect: {} depends on what it wrote",
                    d(seen)
                ));
                parts.push(("evidence", seen));
            }
        }
        let mut witness = json!({
            "kind": "order", "conflict": name, "key": key, "why": why,
            "cannot_place": self.op_json(op(placed)),
        });
        for (part, i) in parts {
            let named = self.op_json(op(i));
            match witness.get_mut(part).and_then(Value::as_array_mut) {
                Some(list) => list.push(named),
                None => witness[part] = json!([named]),
            }
        }
        witness
    }

    /// An operation that certainly took effect and depends on what indefinite operation
    /// `i` wrote: it saw its value, or saw a value that a chain of indefinite cas
    /// operations made from it.
    fn evidence(&self, i: usize) -> Option<usize> {
        /// Links followed at most (a witness is written once; chains are short).
        const MAX: usize = 100;
        let certain = |o: &LinOp| o.definite && !o.resolved;
        let mut at = i;
        for _ in 0..MAX {
            let v = self.ops[at].kind.writes()?;
            let sees = |o: &&LinOp| o.kind.observes() == Some(v);
            let next = self
                .ops
                .iter()
                .position(|o| sees(&o) && certain(o))
                .or_else(|| {
                    self.ops
                        .iter()
                        .position(|o| sees(&o) && o.kind.writes().is_some())
                })?;
            if certain(&self.ops[next]) {
                return Some(next);
            }
            at = next;
        }
        None
    }

    /// A value as witnesses name it: its JSON text, or "absent".
    fn text(&self, id: ValueId) -> &str {
        self.values.text(id)
    }

    /// Why an operation doing `late` must follow one doing `early` in the same chain.
    fn reason_after(&self, early: model::Kind, late: model::Kind) -> String {
        let needs = late.observes().unwrap_or(ABSENT);
        if early.writes() == Some(needs) {
            return format!("which wrote the {} it needs", self.text(needs));
        }
        let had = early.writes().or(early.observes()).unwrap_or(ABSENT);
        if had == needs {
            format!("which saw the {} it replaced", self.text(needs))
        } else {
            format!(
                "since {} held {} before {} (no value is written twice)",
                self.key,
                self.text(had),
                self.text(needs)
            )
        }
    }

    /// Two stretches of the key that cannot overlap, where neither can come first: `a`'s
    /// latest invoked operation cannot be placed.
    fn neither_first(
        &self,
        name: &'static str,
        a: Stretch,
        b: Stretch,
    ) -> (&'static str, usize, String, Vec<(&'static str, usize)>) {
        let op = |i: usize| &self.ops[i];
        let begins = |s: Stretch| match s.earliest_done {
            None => "is absent from the start".to_owned(),
            Some(_) => format!("begins with {}", self.describe(op(s.first))),
        };
        let before = |done: Option<usize>, latest: usize| match done {
            Some(done) => {
                let (at, invoked) = two_times(op(done).ret, op(latest).call);
                let completed = match op(done).resolved {
                    true => "took effect by",
                    false => "completed at",
                };
                format!(
                    "{} {completed} {at}, before {} was invoked at {invoked}",
                    self.brief(op(done)),
                    self.brief(op(latest)),
                )
            }
            None => format!("{} was absent at the start", self.key),
        };
        let why = format!(
            "{} cannot be placed: the stretch of {} that {} and the one that {} cannot overlap (no value is written twice), and neither can come first: {}; and {}",
            self.describe(op(a.latest_call)),
            self.key,
            begins(a),
            begins(b),
            before(b.earliest_done, a.latest_call),
            before(a.earliest_done, b.latest_call),
        );
        let mut parts: Vec<(&str, usize)> = Vec::new();
        parts.extend(b.earliest_done.map(|i| ("in_its_way", i)));
        parts.push(("in_its_way", b.latest_call));
        parts.extend(a.earliest_done.map(|i| ("its_stretch", i)));
        (name, a.latest_call, why, parts)
    }
}
