//! Wing & Gong's search with Lowe's memoization, as Porcupine does it: operations as call
//! and return entries in a doubly linked list; linearize a pending call when the model
//! allows and the configuration (set of linearized operations, state) is new, else try the
//! next call; reaching a return means its operation could not be placed: backtrack.
//!
//! One refinement: a pending read that observes the current state is placed at once and
//! never branched on. A read changes nothing, and every pending operation is still open
//! when the read's call entry is reached, so any legal order from here can be rearranged to
//! put that read first; if placing it first fails, so does everything from here.
//!
//! Another: a definite write whose value no operation of the key ever observes (a blind
//! write) can only be followed by another write or by nothing, so it is never tried on
//! its own. Before a plain write is placed, every blind write that can go is placed just
//! before it (their values are overwritten at once, so any legal order can be rearranged
//! that way); a blind write still pending at its own deadline is placed there, since every
//! other choice from that configuration was already tried.
//!
//! Configurations are remembered by a 128-bit Zobrist hash of the linearized set plus the
//! state (a collision, about one chance in 2^100 for a billion configurations, could only
//! prune a path that was not explored). The cache is bounded; a full cache only stops
//! remembering. A deadline or a cancel flag stops the search with `Stopped`.

use super::model::{Kind, LinOp, ValueId};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Limits of one key's search.
pub struct Budget<'a> {
    /// When to give up.
    pub deadline: Instant,
    /// Most configurations remembered.
    pub max_cache: usize,
    /// Set when another key already proved the history invalid.
    pub cancel: &'a AtomicBool,
}

/// Why a search stopped before deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The time budget ran out.
    Timeout,
    /// Another key decided the verdict.
    Cancelled,
}

/// What a segment's search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// States the segment can end in (with `all_ends`; else the first one found).
    pub ends: Vec<ValueId>,
    /// The operation that could not be placed when the search got deepest, and how many
    /// operations were placed then.
    pub stuck: Option<(usize, usize)>,
}

/// A placed operation: its call entry, the state and hashes before it, whether it was
/// forced (nothing else needs trying in its place), and how many blind writes were placed
/// just before it, to be undone with it.
struct Frame {
    call: usize,
    state: ValueId,
    h1: u64,
    h2: u64,
    forced: bool,
    group: usize,
}

const HEAD: usize = usize::MAX - 1;
const NIL: usize = usize::MAX;

struct Entry {
    op: usize,
    call: bool,
}

/// Searches `ops` from every state in `starts`; with `all_ends`, collects every state a
/// full linearization of the definite operations can end in, else stops at the first.
pub fn search(
    ops: &[LinOp],
    blind: &[bool],
    starts: &[ValueId],
    all_ends: bool,
    budget: &Budget,
) -> Result<Found, Stopped> {
    let n = ops.len();
    let mut order: Vec<(u64, bool, usize)> = Vec::with_capacity(2 * n);
    for (i, op) in ops.iter().enumerate() {
        order.push((op.call, false, i));
        order.push((op.ret, true, i));
    }
    // At equal times calls come first: operations that touch are concurrent.
    order.sort_unstable();
    let entries: Vec<Entry> = order
        .iter()
        .map(|&(_, is_return, op)| Entry {
            op,
            call: !is_return,
        })
        .collect();
    let (mut call_entry, mut ret_entry) = (vec![0; n], vec![0; n]);
    for (e, entry) in entries.iter().enumerate() {
        if entry.call {
            call_entry[entry.op] = e;
        } else {
            ret_entry[entry.op] = e;
        }
    }
    let zobrist: Vec<(u64, u64)> = (0..n as u64)
        .map(|i| (mix(i.wrapping_mul(2) + 1), mix(i.wrapping_mul(2) + 2)))
        .collect();
    let definite = ops.iter().filter(|op| op.definite).count();
    let mut next: Vec<usize> = (1..=entries.len())
        .map(|e| if e == entries.len() { NIL } else { e })
        .collect();
    let mut prev: Vec<usize> = (0..entries.len())
        .map(|e| if e == 0 { HEAD } else { e - 1 })
        .collect();
    let mut head_next = if entries.is_empty() { NIL } else { 0 };
    let mut cache: HashSet<(u64, u64, ValueId)> = HashSet::new();
    let mut found = Found {
        ends: Vec::new(),
        stuck: None,
    };
    let mut deepest = 0usize;
    let mut steps = 0u64;

    macro_rules! unlink {
        ($e:expr) => {{
            let (p, q) = (prev[$e], next[$e]);
            if p == HEAD {
                head_next = q
            } else {
                next[p] = q
            }
            if q != NIL {
                prev[q] = p
            }
        }};
    }
    macro_rules! relink {
        ($e:expr) => {{
            let (p, q) = (prev[$e], next[$e]);
            if p == HEAD {
                head_next = $e
            } else {
                next[p] = $e
            }
            if q != NIL {
                prev[q] = $e
            }
        }};
    }

    for &start in starts {
        let mut stack: Vec<Frame> = Vec::new();
        let (mut state, mut h1, mut h2) = (start, 0u64, 0u64);
        let mut remaining = definite;
        let mut entry = head_next;

        // Places the operation whose call entry is `$e`.
        macro_rules! place {
            ($e:expr, $forced:expr, $group:expr) => {{
                let e = $e;
                let i = entries[e].op;
                stack.push(Frame {
                    call: e,
                    state,
                    h1,
                    h2,
                    forced: $forced,
                    group: $group,
                });
                state = ops[i].kind.step(state).expect("placed only where legal");
                h1 ^= zobrist[i].0;
                h2 ^= zobrist[i].1;
                if ops[i].definite {
                    remaining -= 1;
                }
                unlink!(e);
                unlink!(ret_entry[i]);
            }};
        }
        // Undoes the last placement (and the blind writes placed with it); returns it.
        macro_rules! undo {
            () => {{
                let top = stack.pop();
                if let Some(frame) = &top {
                    let mut undo_one = |f: &Frame| {
                        let i = entries[f.call].op;
                        (state, h1, h2) = (f.state, f.h1, f.h2);
                        if ops[i].definite {
                            remaining += 1;
                        }
                        relink!(ret_entry[i]);
                        relink!(f.call);
                    };
                    undo_one(frame);
                    for _ in 0..frame.group {
                        let blind_frame = stack.pop().expect("grouped frames are on the stack");
                        undo_one(&blind_frame);
                    }
                }
                top
            }};
        }
        // True when the configuration after placing `i` from here is new (and remembers it).
        macro_rules! fresh {
            ($g1:expr, $g2:expr, $after:expr) => {{
                let key = ($g1, $g2, $after);
                if cache.contains(&key) {
                    false
                } else {
                    if cache.len() < budget.max_cache {
                        cache.insert(key);
                    }
                    true
                }
            }};
        }

        loop {
            steps += 1;
            if steps.is_multiple_of(4096) {
                if budget.cancel.load(Ordering::Relaxed) {
                    return Err(Stopped::Cancelled);
                }
                if Instant::now() >= budget.deadline {
                    return Err(Stopped::Timeout);
                }
            }
            let must_backtrack = if remaining == 0 {
                if !found.ends.contains(&state) {
                    found.ends.push(state);
                }
                if !all_ends {
                    break;
                }
                true
            } else if entry == NIL {
                true
            } else if entries[entry].call {
                let mut forced = false;
                if entry == head_next {
                    // Starting a scan: look for a read of the current state to place first.
                    let mut e = head_next;
                    while e != NIL && entries[e].call {
                        if ops[entries[e].op].kind == Kind::Read(state) {
                            entry = e;
                            forced = true;
                            break;
                        }
                        e = next[e];
                    }
                }
                let i = entries[entry].op;
                match ops[i].kind.step(state) {
                    _ if blind[i] => {
                        // Never tried on its own: see the module's notes.
                        entry = next[entry];
                        false
                    }
                    Some(after) => {
                        // Before a plain write, every blind write that can go goes.
                        let mut group = 0;
                        if matches!(ops[i].kind, Kind::Write(_)) {
                            loop {
                                let mut e = head_next;
                                while e != NIL && entries[e].call && !blind[entries[e].op] {
                                    e = next[e];
                                }
                                if e == NIL || !entries[e].call {
                                    break;
                                }
                                place!(e, true, 0);
                                group += 1;
                            }
                        }
                        let (g1, g2) = (h1 ^ zobrist[i].0, h2 ^ zobrist[i].1);
                        if fresh!(g1, g2, after) {
                            place!(entry, forced, group);
                            entry = head_next;
                            continue;
                        }
                        for _ in 0..group {
                            undo!();
                        }
                        if forced {
                            // Placing the read here was explored before and failed, so
                            // everything from the configuration before it fails too.
                            true
                        } else {
                            entry = next[entry];
                            false
                        }
                    }
                    None if forced => true,
                    None => {
                        entry = next[entry];
                        false
                    }
                }
            } else {
                let i = entries[entry].op;
                let written = ops[i].kind.writes();
                if blind[i]
                    && fresh!(
                        h1 ^ zobrist[i].0,
                        h2 ^ zobrist[i].1,
                        written.expect("blind ops write")
                    )
                {
                    // A blind write at its deadline goes now: nothing else was possible.
                    place!(call_entry[i], true, 0);
                    entry = head_next;
                    continue;
                }
                if !blind[i] && stack.len() >= deepest {
                    deepest = stack.len();
                    found.stuck = Some((i, deepest));
                }
                true
            };
            if must_backtrack {
                // Undo placements; a forced one has no alternative, so keep undoing.
                let mut resumed = false;
                while let Some(frame) = undo!() {
                    if !frame.forced {
                        entry = next[frame.call];
                        resumed = true;
                        break;
                    }
                }
                if !resumed {
                    break;
                }
            }
        }
        if !all_ends && !found.ends.is_empty() {
            break;
        }
    }
    Ok(found)
}

/// splitmix64: well-spread 64-bit values from a counter.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::super::model::{Kind, ABSENT, NEVER};
    use super::*;
    use std::time::Duration;

    use super::super::model::test_op as op;

    fn run(ops: &[LinOp], all: bool) -> Found {
        let cancel = AtomicBool::new(false);
        let budget = Budget {
            deadline: Instant::now() + Duration::from_secs(5),
            max_cache: 1 << 20,
            cancel: &cancel,
        };
        search(ops, &vec![false; ops.len()], &[ABSENT], all, &budget).unwrap()
    }

    #[test]
    fn concurrent_writes_may_land_in_either_order() {
        let ops = [
            op(Kind::Write(1), 0, 10),
            op(Kind::Write(2), 0, 10),
            op(Kind::Read(1), 20, 30),
        ];
        assert_eq!(run(&ops, false).ends, vec![1]);
        let both = [op(Kind::Write(1), 0, 10), op(Kind::Write(2), 0, 10)];
        let mut ends = run(&both, true).ends;
        ends.sort();
        assert_eq!(ends, vec![1, 2]);
    }

    #[test]
    fn a_cas_chain_and_its_violation() {
        let good = [
            op(Kind::Write(1), 0, 1),
            op(Kind::Cas(1, 2), 2, 3),
            op(Kind::Cas(2, 3), 4, 5),
            op(Kind::Read(3), 6, 7),
        ];
        assert!(!run(&good, false).ends.is_empty());
        let bad = [op(Kind::Write(1), 0, 1), op(Kind::Cas(2, 3), 2, 3)];
        let found = run(&bad, false);
        assert!(found.ends.is_empty());
        assert_eq!(found.stuck.map(|s| s.0), Some(1));
    }

    #[test]
    fn an_indefinite_write_may_or_may_not_have_happened() {
        let happened = [
            op(Kind::Write(1), 0, 1),
            op(Kind::Write(2), 2, NEVER),
            op(Kind::Read(2), 5, 6),
        ];
        assert!(!run(&happened, false).ends.is_empty());
        let not = [
            op(Kind::Write(1), 0, 1),
            op(Kind::Write(2), 2, NEVER),
            op(Kind::Read(1), 5, 6),
        ];
        assert!(!run(&not, false).ends.is_empty());
        let too_early = [op(Kind::Read(2), 0, 1), op(Kind::Write(2), 2, NEVER)];
        assert!(run(&too_early, false).ends.is_empty());
    }
}
