//! Deciding a key whose every value is written at most once, without a search (issue 18).
//!
//! With unique values the read-from relation is known: every read and every cas names the
//! one write it follows. A successful `cas(v -> u)` ends the stretch of time `v` holds and
//! starts `u`'s, so the writes and cases form chains: a plain write (or the initial absent
//! value) followed by cas-linked values, each value with its reads. In any order a chain is
//! one contiguous block, and (Gibbons and Korach's clusters) it behaves like an interval:
//! `L`, the earliest completion of its operations, and `E`, the latest invocation. A chain
//! with `L < E` must hold across the open "forward zone" `(L, E)`; one with `E <= L` can be
//! placed at any point of `[E, L]`. The history is linearizable exactly when every chain is
//! feasible on its own (no operation of a later value completed before one of an earlier
//! value was invoked), no two forward zones overlap, and no backward zone lies inside a
//! forward zone. That takes a sort and binary searches, not a search over interleavings.
//!
//! An indefinite operation (`info`) happened exactly when something needed observes the
//! value only it writes; one nothing needs is dropped. A value written twice (or a
//! `cas(v -> v)`) makes the read-from relation unknown: [`decide`] says so and the caller
//! searches.

use super::model::{Kind, LinOp, ValueId, ABSENT};
use std::collections::HashMap;

/// Why a unique-value history is not linearizable; operations are indices into the ops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// `op` observes a value nothing writes.
    Unwritten { op: usize },
    /// Two cases both take the key from the same value, which never returns.
    TwoCas { first: usize, second: usize },
    /// Cases lead from value to value in a circle that no write starts.
    Cycle { op: usize },
    /// `late` belongs after `early` (a later value of the same chain, or the same value
    /// after its write) but completed before `early` was invoked.
    ChainOrder { late: usize, early: usize },
    /// Two chains must each hold across a stretch of time, and the stretches overlap.
    Overlap { first: Stretch, second: Stretch },
    /// The chain `inner` lies within the stretch the chain `outer` must hold across.
    Inside { inner: Stretch, outer: Stretch },
}

/// A chain, named by its operations: neither of two chains can come first when each has
/// an operation that completed before the other's latest was invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch {
    /// Its first operation: its write, or the first to see the initial value.
    pub first: usize,
    /// The operation that completed earliest; `None` for the initial value, which holds
    /// from the start.
    pub earliest_done: Option<usize>,
    /// The operation invoked latest.
    pub latest_call: usize,
}

/// What [`decide`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// A value is written more than once: the search must decide.
    NotUnique,
    /// Linearizable: the operations that took effect, in a legal order.
    Valid(Vec<usize>),
    /// Not linearizable.
    Invalid(Conflict),
}

/// A time: invocations and completions, [`NEVER`](super::model::NEVER) as the latest,
/// and the initial value's write as the earliest.
type Time = i128;

/// The operations of one chain, value by value: its write (none for the initial value),
/// then each value's reads, then the cas that ends it.
struct Chain {
    levels: Vec<Vec<usize>>,
    /// Earliest completion (and the operation); `Time::MIN` for the initial value's.
    l: (Time, usize),
    /// Latest invocation (and the operation).
    e: (Time, usize),
}

/// Decides one key's operations (see the module's doc).
pub fn decide(ops: &[LinOp]) -> Decided {
    let call = |i: usize| ops[i].call as Time;
    let ret = |i: usize| ops[i].ret as Time;
    // Who writes each value: at most one operation, never the initial value.
    let mut writer: HashMap<ValueId, usize> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(v) = op.kind.writes() {
            if v == ABSENT || op.kind.observes() == Some(v) || writer.insert(v, i).is_some() {
                return Decided::NotUnique;
            }
        }
    }
    // What took effect: every definite operation, and the writer of every value one of
    // those observes.
    let mut needed: Vec<bool> = ops.iter().map(|op| op.definite).collect();
    let mut work: Vec<usize> = (0..ops.len()).filter(|&i| needed[i]).collect();
    while let Some(i) = work.pop() {
        let Some(v) = ops[i].kind.observes().filter(|&v| v != ABSENT) else {
            continue;
        };
        match writer.get(&v) {
            None => return Decided::Invalid(Conflict::Unwritten { op: i }),
            Some(&w) if !needed[w] => {
                needed[w] = true;
                work.push(w);
            }
            Some(_) => {}
        }
    }
    let mut reads: HashMap<ValueId, Vec<usize>> = HashMap::new();
    let mut out: HashMap<ValueId, usize> = HashMap::new();
    for i in (0..ops.len()).filter(|&i| needed[i]) {
        match ops[i].kind {
            Kind::Read(v) => reads.entry(v).or_default().push(i),
            Kind::Cas(from, _) => {
                if let Some(&first) = out.get(&from) {
                    return Decided::Invalid(Conflict::TwoCas { first, second: i });
                }
                out.insert(from, i);
            }
            Kind::Write(_) => {}
        }
    }
    // The chains: from the initial value, and from every plain write that took effect.
    let mut heads: Vec<(ValueId, Option<usize>)> = Vec::new();
    if reads.contains_key(&ABSENT) || out.contains_key(&ABSENT) {
        heads.push((ABSENT, None));
    }
    for i in (0..ops.len()).filter(|&i| needed[i]) {
        if let Kind::Write(v) = ops[i].kind {
            heads.push((v, Some(i)));
        }
    }
    let mut chains = Vec::new();
    let mut placed = vec![false; ops.len()];
    for (head, write) in heads {
        let mut levels: Vec<Vec<usize>> = vec![write.into_iter().collect()];
        let mut value = head;
        loop {
            levels.push(reads.remove(&value).unwrap_or_default());
            match out.remove(&value) {
                Some(cas) => {
                    levels.push(vec![cas]);
                    value = ops[cas].kind.writes().expect("a cas writes");
                }
                None => break,
            }
        }
        // Within the chain: nothing of a later level completed before something of an
        // earlier level was invoked.
        let mut latest_call: Option<(Time, usize)> = None;
        for level in &levels {
            for &i in level {
                if let Some((at, early)) = latest_call {
                    if ret(i) < at {
                        return Decided::Invalid(Conflict::ChainOrder { late: i, early });
                    }
                }
            }
            for &i in level {
                if latest_call.is_none_or(|(at, _)| call(i) > at) {
                    latest_call = Some((call(i), i));
                }
            }
        }
        let all = || levels.iter().flatten().copied();
        let first = all().next();
        let l = match write {
            None if head == ABSENT => (Time::MIN, first.unwrap_or(0)),
            _ => all()
                .map(|i| (ret(i), i))
                .min()
                .expect("a chain has its write"),
        };
        let e = all().map(|i| (call(i), i)).max().unwrap_or((Time::MIN, 0));
        for i in all() {
            placed[i] = true;
        }
        chains.push(Chain { levels, l, e });
    }
    // A cas whose value no chain reached is on a circle of cases.
    if let Some(op) = (0..ops.len()).find(|&i| needed[i] && !placed[i]) {
        return Decided::Invalid(Conflict::Cycle { op });
    }
    // Forward zones, by start: none may overlap the next.
    let mut forward: Vec<usize> = (0..chains.len())
        .filter(|&c| chains[c].l.0 < chains[c].e.0)
        .collect();
    forward.sort_by_key(|&c| chains[c].l);
    for pair in forward.windows(2) {
        let (a, b) = (&chains[pair[0]], &chains[pair[1]]);
        if b.l.0 < a.e.0 {
            return Decided::Invalid(Conflict::Overlap {
                first: a.stretch(),
                second: b.stretch(),
            });
        }
    }
    // Backward zones: none may lie within a forward zone. Each is placed at its start, or
    // at the end of the forward zone its start falls in.
    let mut keyed: Vec<((Time, u8), usize)> = Vec::with_capacity(chains.len());
    for (c, chain) in chains.iter().enumerate() {
        if chain.l.0 < chain.e.0 {
            keyed.push(((chain.l.0, 1), c));
            continue;
        }
        let before = forward.partition_point(|&f| chains[f].l.0 < chain.e.0);
        let around = before.checked_sub(1).map(|k| &chains[forward[k]]);
        let at = match around {
            Some(f) if chain.l.0 < f.e.0 => {
                return Decided::Invalid(Conflict::Inside {
                    inner: chain.stretch(),
                    outer: f.stretch(),
                })
            }
            Some(f) if chain.e.0 > f.l.0 && chain.e.0 < f.e.0 => f.e.0,
            _ => chain.e.0,
        };
        keyed.push(((at, 0), c));
    }
    keyed.sort();
    let mut order = Vec::new();
    for (_, c) in keyed {
        for level in &chains[c].levels {
            let mut level = level.clone();
            level.sort_by_key(|&i| (ops[i].call, ops[i].index));
            order.extend(level);
        }
    }
    debug_assert!(replays(ops, &order), "the order found must replay");
    Decided::Valid(order)
}

impl Chain {
    /// The chain named by its operations.
    fn stretch(&self) -> Stretch {
        Stretch {
            first: self.levels.iter().flatten().copied().next().unwrap_or(0),
            earliest_done: (self.l.0 != Time::MIN).then_some(self.l.1),
            latest_call: self.e.1,
        }
    }
}

/// True when `order` is a legal sequence of the register from the initial value that
/// respects real time (nothing placed later completed before something placed earlier was
/// invoked).
pub fn replays(ops: &[LinOp], order: &[usize]) -> bool {
    let mut state = ABSENT;
    let mut latest_call = 0u64;
    for &i in order {
        let op = &ops[i];
        if op.ret < latest_call {
            return false;
        }
        latest_call = latest_call.max(op.call);
        match op.kind.step(state) {
            Some(next) => state = next,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linear::model::{test_op, NEVER};
    use rand::{RngExt, SeedableRng};

    /// Every subset of the indefinite operations with every definite one, in every order:
    /// is one of them legal and in real-time order?
    fn brute_force(ops: &[LinOp]) -> bool {
        let indefinite: Vec<usize> = (0..ops.len()).filter(|&i| !ops[i].definite).collect();
        (0..1u32 << indefinite.len()).any(|mask| {
            let chosen: Vec<usize> = (0..ops.len())
                .filter(|&i| {
                    ops[i].definite
                        || indefinite
                            .iter()
                            .position(|&j| j == i)
                            .is_some_and(|k| mask >> k & 1 == 1)
                })
                .collect();
            permutations(&chosen).into_iter().any(|p| replays(ops, &p))
        })
    }

    fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
        if items.is_empty() {
            return vec![Vec::new()];
        }
        let mut all = Vec::new();
        for k in 0..items.len() {
            let mut rest = items.to_vec();
            let first = rest.remove(k);
            for mut tail in permutations(&rest) {
                tail.insert(0, first);
                all.push(tail);
            }
        }
        all
    }

    /// A value to observe: one written so far (or the initial one), or now and then one
    /// never written.
    fn seen(rng: &mut impl RngExt, written: &[ValueId], next: ValueId) -> ValueId {
        if rng.random_bool(0.1) {
            next + 7
        } else {
            written[rng.random_range(0..written.len())]
        }
    }

    /// A random unique-value history of up to 6 operations, with ties, absent reads,
    /// indefinite writes and cases, and values never written.
    fn random_history(rng: &mut impl RngExt) -> Vec<LinOp> {
        let n = rng.random_range(1..=6);
        let mut next_value: ValueId = 1;
        let mut written: Vec<ValueId> = vec![ABSENT];
        let mut ops = Vec::new();
        for _ in 0..n {
            let call = rng.random_range(0..8u64);
            let ret = call + rng.random_range(0..5u64);
            let kind = match rng.random_range(0..3) {
                0 => Kind::Read(seen(rng, &written, next_value)),
                1 => {
                    let v = next_value;
                    next_value += 1;
                    written.push(v);
                    Kind::Write(v)
                }
                _ => {
                    let from = seen(rng, &written, next_value);
                    let to = next_value;
                    next_value += 1;
                    written.push(to);
                    Kind::Cas(from, to)
                }
            };
            let indefinite = !matches!(kind, Kind::Read(_)) && rng.random_bool(0.3);
            ops.push(test_op(kind, call, if indefinite { NEVER } else { ret }));
        }
        ops
    }

    #[test]
    fn the_direct_decision_agrees_with_trying_every_order() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(18);
        for case in 0..20_000 {
            let ops = random_history(&mut rng);
            let expected = brute_force(&ops);
            match decide(&ops) {
                Decided::NotUnique => panic!("case {case}: values are unique: {ops:?}"),
                Decided::Valid(order) => {
                    assert!(expected, "case {case}: said valid: {ops:?} {order:?}");
                    assert!(replays(&ops, &order), "case {case}: {ops:?} {order:?}");
                    for (i, op) in ops.iter().enumerate() {
                        if op.definite {
                            assert!(order.contains(&i), "case {case}: {i} missing");
                        }
                    }
                }
                Decided::Invalid(conflict) => {
                    assert!(!expected, "case {case}: said {conflict:?}: {ops:?}")
                }
            }
        }
    }

    /// A chain's stretch, named by its first operation, the one that completed earliest
    /// and the one invoked latest.
    fn stretch(first: usize, earliest_done: usize, latest_call: usize) -> Stretch {
        Stretch {
            first,
            earliest_done: Some(earliest_done),
            latest_call,
        }
    }

    #[test]
    fn each_conflict_is_named() {
        use Kind::*;
        let op = test_op;
        assert_eq!(
            decide(&[op(Read(5), 0, 1)]),
            Decided::Invalid(Conflict::Unwritten { op: 0 })
        );
        assert_eq!(
            decide(&[op(Write(1), 0, 1), op(Cas(1, 2), 2, 3), op(Cas(1, 3), 4, 5)]),
            Decided::Invalid(Conflict::TwoCas {
                first: 1,
                second: 2
            })
        );
        assert_eq!(
            decide(&[op(Cas(1, 2), 0, 1), op(Cas(2, 1), 2, 3)]),
            Decided::Invalid(Conflict::Cycle { op: 0 })
        );
        // The read of 1 began after the cas from 1 to 2 completed.
        assert_eq!(
            decide(&[op(Write(1), 0, 1), op(Cas(1, 2), 2, 3), op(Read(1), 4, 5)]),
            Decided::Invalid(Conflict::ChainOrder { late: 1, early: 2 })
        );
        // 1 held from 1 to 6 and 2 from 3 to 8: both cannot hold across 3..6.
        assert_eq!(
            decide(&[
                op(Write(1), 0, 1),
                op(Write(2), 2, 3),
                op(Read(1), 6, 7),
                op(Read(2), 8, 9),
            ]),
            Decided::Invalid(Conflict::Overlap {
                first: stretch(0, 0, 2),
                second: stretch(1, 1, 3)
            })
        );
        // 2 was written and read within the time 1 must hold.
        assert_eq!(
            decide(&[
                op(Write(1), 0, 1),
                op(Write(2), 2, 3),
                op(Read(2), 2, 4),
                op(Read(1), 6, 7),
            ]),
            Decided::Invalid(Conflict::Inside {
                inner: stretch(1, 1, 2),
                outer: stretch(0, 0, 3)
            })
        );
        assert_eq!(
            decide(&[op(Write(1), 0, 1), op(Write(1), 2, 3)]),
            Decided::NotUnique
        );
        assert_eq!(
            decide(&[op(Write(1), 0, 1), op(Read(1), 2, 3)]),
            Decided::Valid(vec![0, 1])
        );
    }
}
