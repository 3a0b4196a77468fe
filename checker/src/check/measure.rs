//! Measures the workload checks share: history times in seconds (for witnesses in words),
//! Jepsen's quantiles, and the stable latency of Jepsen's `set-full` checker, which the set
//! workloads (`broadcast`, `g-set`) report as Maelstrom does.

/// Seconds from a history time in nanoseconds.
pub fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Jepsen's `frequency-distribution` at `q` (0 to 1): the value at index
/// `min(n - 1, floor(n * q))` of the `n` sorted values; `None` when there are none.
pub fn quantile(sorted: &[u64], q: f64) -> Option<u64> {
    let last = sorted.len().checked_sub(1)?;
    let i = ((sorted.len() as f64 * q).floor() as usize).min(last);
    Some(sorted[i])
}

/// When a successful read happened, as `set-full` orders reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadSpan {
    /// Its invoke's history index (Jepsen compares reads by it).
    pub index: u64,
    /// When it was invoked (ns).
    pub invoked: u64,
    /// When it completed (ns).
    pub done: u64,
}

/// The stable latency of one element, in ms, as Jepsen's `set-full` computes it: from
/// `known` (its add acknowledged, or a read first returned it) to just after the invocation
/// of the last read, in invoke order, that missed it; 0 when none did. Jepsen tracks an
/// element from its add's invocation (`added`), so a read that completed before then does
/// not count as missing it. `missed_by` are the successful reads that did not return it;
/// whether the element is stable at all (the final reads hold it) is the caller's rule.
pub fn stable_latency_ms(
    known: u64,
    added: u64,
    missed_by: impl IntoIterator<Item = ReadSpan>,
) -> u64 {
    let last_absent = missed_by
        .into_iter()
        .filter(|r| r.done >= added)
        .max_by_key(|r| r.index);
    let stable_at = last_absent.map_or(0, |r| r.invoked + 1);
    stable_at.saturating_sub(known) / 1_000_000
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn read(index: u64, invoked_ms: u64, done_ms: u64) -> ReadSpan {
        ReadSpan {
            index,
            invoked: invoked_ms * MS,
            done: done_ms * MS,
        }
    }

    #[test]
    fn quantiles_take_the_floor_index_as_jepsen_does() {
        let sorted = [1, 2, 3, 4];
        assert_eq!(quantile(&sorted, 0.0), Some(1));
        assert_eq!(quantile(&sorted, 0.5), Some(3));
        assert_eq!(quantile(&sorted, 0.99), Some(4));
        assert_eq!(quantile(&sorted, 1.0), Some(4));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn stable_latency_runs_to_the_last_read_that_missed_the_element() {
        // Added at 10 ms, known at 12 ms; missed by reads invoked at 20 and 15 ms (the one
        // invoked at 15 ms comes later in invoke order): stable just after 15 ms.
        let missed = [read(3, 20, 22), read(4, 15, 30)];
        assert_eq!(stable_latency_ms(12 * MS, 10 * MS, missed), 3);
        assert_eq!(stable_latency_ms(12 * MS, 10 * MS, []), 0);
    }

    #[test]
    fn a_read_over_before_the_add_was_invoked_does_not_count() {
        // A read that completed at 9 ms, before the add's invocation at 10 ms, says nothing
        // of the element, even when its element was known early (a read returned it).
        assert_eq!(stable_latency_ms(2 * MS, 10 * MS, [read(1, 8, 9)]), 0);
        assert_eq!(stable_latency_ms(2 * MS, 10 * MS, [read(1, 8, 10)]), 6);
    }
}
