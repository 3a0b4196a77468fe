//! Shrinking a key's operations soundly before any search.
//!
//! - An indefinite read was already left out (it changes nothing).
//! - An indefinite write or cas whose value nothing that is kept ever observes (no definite
//!   read, no definite or kept cas `from`) is treated as never having happened, repeated
//!   until nothing more goes: wherever it took effect, nothing could tell.
//! - An indefinite write or cas that is the only writer of a value a definite operation
//!   observed certainly took effect, and before that observer completed: it becomes a
//!   definite operation completing at the first such observer's completion.
//! - The operations are split wherever no operation spans the cut (see [`segments`]).

use super::model::{LinOp, ValueId, ABSENT, NEVER};
use std::collections::HashMap;

/// What shrinking did to one key.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ShrinkStats {
    /// Indefinite operations dropped as unobservable.
    pub dropped: usize,
    /// Indefinite operations found to have taken effect, given a completion.
    pub resolved: usize,
}

/// Shrinks `ops` (sorted by invoke) in place.
pub fn shrink(ops: &mut Vec<LinOp>) -> ShrinkStats {
    let mut stats = ShrinkStats::default();
    let mut observers: HashMap<ValueId, usize> = HashMap::new();
    for op in ops.iter() {
        if let Some(v) = op.kind.observes() {
            *observers.entry(v).or_insert(0) += 1;
        }
    }
    let mut keep = vec![true; ops.len()];
    loop {
        let mut changed = false;
        for (i, op) in ops.iter().enumerate() {
            if !keep[i] || op.definite {
                continue;
            }
            let written = op.kind.writes().expect("indefinite reads were left out");
            if observers.get(&written).copied().unwrap_or(0) == 0 {
                keep[i] = false;
                changed = true;
                stats.dropped += 1;
                if let Some(v) = op.kind.observes() {
                    *observers.get_mut(&v).expect("counted above") -= 1;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut i = 0;
    ops.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    let mut writers: HashMap<ValueId, usize> = HashMap::new();
    let mut first_seen: HashMap<ValueId, u64> = HashMap::new();
    for op in ops.iter() {
        if let Some(v) = op.kind.writes() {
            *writers.entry(v).or_insert(0) += 1;
        }
        if let (true, Some(v)) = (op.definite, op.kind.observes()) {
            let seen = first_seen.entry(v).or_insert(NEVER);
            *seen = (*seen).min(op.ret);
        }
    }
    for op in ops.iter_mut().filter(|op| !op.definite) {
        let v = op.kind.writes().expect("only writes are indefinite");
        let seen = first_seen.get(&v).copied().unwrap_or(NEVER);
        if v != ABSENT && writers[&v] == 1 && seen != NEVER && seen >= op.call {
            op.definite = true;
            op.ret = seen;
            op.resolved = true;
            stats.resolved += 1;
        }
    }
    stats
}

/// Splits sorted `ops` into ranges with no operation spanning a boundary: every operation
/// of one range completed before any of the next was invoked.
pub fn segments(ops: &[LinOp]) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut reach = 0u64;
    for (i, op) in ops.iter().enumerate() {
        if i > start && op.call > reach {
            ranges.push(start..i);
            start = i;
        }
        reach = if i == start {
            op.ret
        } else {
            reach.max(op.ret)
        };
    }
    if start < ops.len() {
        ranges.push(start..ops.len());
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::super::model::Kind;
    use super::*;

    fn op(kind: Kind, call: u64, ret: u64, definite: bool) -> LinOp {
        LinOp {
            kind,
            call,
            ret,
            definite,
            process: 0,
            index: call,
            f: "x",
            resolved: false,
        }
    }

    #[test]
    fn unobserved_indefinite_writes_go_and_observed_ones_resolve() {
        let mut ops = vec![
            op(Kind::Write(1), 0, NEVER, false),  // nobody reads 1: dropped
            op(Kind::Write(2), 5, NEVER, false),  // read at 20..30: resolved to end by 30
            op(Kind::Cas(9, 3), 6, NEVER, false), // writes 3, which only an unobserved cas reads
            op(Kind::Cas(3, 4), 7, NEVER, false), // writes 4, never read: dropped, then 3 is unobserved
            op(Kind::Read(2), 20, 30, true),
        ];
        let stats = shrink(&mut ops);
        assert_eq!(
            stats,
            ShrinkStats {
                dropped: 3,
                resolved: 1
            }
        );
        assert_eq!(ops.len(), 2);
        assert_eq!((ops[0].definite, ops[0].ret), (true, 30));
    }

    #[test]
    fn cuts_fall_where_nothing_is_in_flight() {
        let ops = vec![
            op(Kind::Write(1), 0, 10, true),
            op(Kind::Read(1), 5, 12, true),
            op(Kind::Read(1), 13, 14, true),
            op(Kind::Write(2), 15, NEVER, false),
            op(Kind::Read(2), 20, 21, true),
        ];
        assert_eq!(segments(&ops), vec![0..2, 2..3, 3..5]);
    }
}
