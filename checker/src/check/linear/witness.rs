//! The direct witness search: stale reads found without any search, in O(n log n).
//!
//! A read that returned `v` is stale when some operation `W` that certainly set another
//! value completed before the read began, and every operation that could have set `v`
//! (and, for an absent key, the initial state) completed before `W` began: whatever order
//! the rest takes, the read comes after `W`, `W` after every writer of `v`, and nothing can
//! set `v` again in between.

use super::model::{LinOp, ValueId, ABSENT, NEVER};
use std::collections::HashMap;

/// A read proven stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleRead {
    /// The read (index into the key's operations).
    pub read: usize,
    /// The write it missed: it completed before the read began. `None` when nothing ever
    /// wrote the value the read returned.
    pub missed: Option<usize>,
    /// The last operation that could have set the value the read returned, if any.
    pub source: Option<usize>,
}

/// Every stale read among `ops`, in invoke order.
pub fn stale_reads(ops: &[LinOp]) -> Vec<StaleRead> {
    // When the last writer of each value completed (None: only the initial state wrote it).
    let mut last_writer: HashMap<ValueId, usize> = HashMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(v) = op.kind.writes() {
            let slot = last_writer.entry(v).or_insert(i);
            if op.ret > ops[*slot].ret {
                *slot = i;
            }
        }
    }
    // Definite writers ordered by completion, with the latest invoke among them so far.
    let mut done: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].definite && ops[i].kind.writes().is_some())
        .collect();
    done.sort_by_key(|&i| ops[i].ret);
    let mut latest_call: Vec<usize> = Vec::with_capacity(done.len());
    for (k, &i) in done.iter().enumerate() {
        let best = if k == 0 || ops[i].call > ops[latest_call[k - 1]].call {
            i
        } else {
            latest_call[k - 1]
        };
        latest_call.push(best);
    }
    let mut stale = Vec::new();
    for (r, op) in ops.iter().enumerate() {
        let (true, super::model::Kind::Read(v)) = (op.definite, op.kind) else {
            continue;
        };
        let source = last_writer.get(&v).copied();
        // Every writer of `v` completed by this time (None: only the initial state, or
        // nothing at all, could have produced `v`).
        let must_follow = match source {
            Some(w) if ops[w].ret == NEVER => continue,
            Some(w) => Some(ops[w].ret),
            None => None,
        };
        let finished = done.partition_point(|&i| ops[i].ret < op.call);
        if finished == 0 {
            if source.is_none() && v != ABSENT {
                stale.push(StaleRead {
                    read: r,
                    missed: None,
                    source: None,
                });
            }
            continue;
        }
        let w = latest_call[finished - 1];
        if must_follow.is_none_or(|t| ops[w].call > t) {
            stale.push(StaleRead {
                read: r,
                missed: Some(w),
                source,
            });
        }
    }
    stale
}

#[cfg(test)]
mod tests {
    use super::super::model::Kind;
    use super::*;

    use super::super::model::test_op as op;

    #[test]
    fn finds_reads_of_overwritten_values() {
        let ops = vec![
            op(Kind::Write(1), 0, 10),
            op(Kind::Write(2), 20, 30),
            op(Kind::Read(1), 40, 50), // stale: 1 was overwritten by 2 before it began
            op(Kind::Read(2), 40, 50), // fine
            op(Kind::Read(ABSENT), 60, 70), // stale: written keys are never absent again
        ];
        let stale = stale_reads(&ops);
        assert_eq!(
            stale.iter().map(|s| (s.read, s.missed)).collect::<Vec<_>>(),
            vec![(2, Some(1)), (4, Some(1))]
        );
        let never_written = stale_reads(&[op(Kind::Read(7), 0, 1)]);
        assert_eq!(never_written[0].missed, None);
        assert_eq!(stale[0].source, Some(0));
    }

    #[test]
    fn concurrency_or_an_unknown_writer_excuses_a_read() {
        let ops = vec![
            op(Kind::Write(1), 0, 25), // overlaps the write of 2: may come after it
            op(Kind::Write(2), 20, 30),
            op(Kind::Read(1), 40, 50),
            op(Kind::Write(3), 0, NEVER), // unknown outcome: may land any time
            op(Kind::Read(3), 60, 70),
        ];
        assert!(stale_reads(&ops).is_empty());
    }
}
