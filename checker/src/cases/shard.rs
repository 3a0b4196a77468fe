//! Which cases one shard of `eddy cases --partition K/N` runs, with cargo-nextest's counted
//! partitions: the cases sorted by their `source` (numbers inside compared as numbers, so
//! `generated/raft/seed-1/9` comes before `.../10`), then dealt round-robin, the case at
//! sorted position p going to shard `p % N + 1`. Every shard sorts the same names the same
//! way, so the N shards together run each case exactly once, and shard sizes differ by at
//! most one.

use std::cmp::Ordering;

/// The positions (into `sources`, ascending) of the cases shard `shard` of `total` runs
/// (`shard` from 1 to `total`). Equal sources keep their order in `sources`.
pub fn members<S: AsRef<str>>(sources: &[S], shard: u64, total: u64) -> Vec<usize> {
    assert!(
        (1..=total).contains(&shard),
        "shard {shard} of {total} is not a shard"
    );
    let mut sorted: Vec<usize> = (0..sources.len()).collect();
    sorted.sort_by(|&a, &b| natural_cmp(sources[a].as_ref(), sources[b].as_ref()));
    let mut mine: Vec<usize> = sorted
        .into_iter()
        .enumerate()
        .filter(|(p, _)| *p as u64 % total == shard - 1)
        .map(|(_, i)| i)
        .collect();
    mine.sort_unstable();
    mine
}

/// Compares two names with runs of ASCII digits compared as numbers.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let (x_digits, x_rest) = split_digits(a);
                let (y_digits, y_rest) = split_digits(b);
                let x_value = trim_zeros(x_digits);
                let y_value = trim_zeros(y_digits);
                let order = x_value
                    .len()
                    .cmp(&y_value.len())
                    .then_with(|| x_value.cmp(y_value))
                    .then_with(|| x_digits.len().cmp(&y_digits.len()));
                if order != Ordering::Equal {
                    return order;
                }
                (a, b) = (x_rest, y_rest);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                (a, b) = (&a[1..], &b[1..]);
            }
        }
    }
}

fn split_digits(text: &[u8]) -> (&[u8], &[u8]) {
    let end = text
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(text.len());
    text.split_at(end)
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&c| c != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_inside_names_compare_as_numbers() {
        let mut names = vec![
            "generated/raft/seed-1/10",
            "generated/raft/seed-1/9",
            "generated/lease/seed-1/2",
            "cases/seed/000-lease-2.case",
            "cases/seed/000-lease-1.case",
            "cases/lease/lease.case#10",
            "cases/lease/lease.case#2",
            "a007",
            "a7",
            "a",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            [
                "a",
                "a7",
                "a007",
                "cases/lease/lease.case#2",
                "cases/lease/lease.case#10",
                "cases/seed/000-lease-1.case",
                "cases/seed/000-lease-2.case",
                "generated/lease/seed-1/2",
                "generated/raft/seed-1/9",
                "generated/raft/seed-1/10",
            ]
        );
        assert_eq!(natural_cmp("x10y", "x10y"), Ordering::Equal);
        assert_eq!(natural_cmp("x10y", "x10z"), Ordering::Less);
    }

    #[test]
    fn shards_deal_the_sorted_cases_round_robin_and_cover_each_once() {
        let sources = ["c#3", "c#1", "b", "c#2", "a", "c#10", "c#1"];
        // Sorted: a(4) b(2) c#1(1) c#1(6) c#2(3) c#3(0) c#10(5).
        assert_eq!(members(&sources, 1, 3), [4, 5, 6]);
        assert_eq!(members(&sources, 2, 3), [2, 3]);
        assert_eq!(members(&sources, 3, 3), [0, 1]);
        assert_eq!(members(&sources, 1, 1), [0, 1, 2, 3, 4, 5, 6]);
        for total in 1..=9 {
            let mut all: Vec<usize> = (1..=total)
                .flat_map(|k| members(&sources, k, total))
                .collect();
            let sizes: Vec<usize> = (1..=total)
                .map(|k| members(&sources, k, total).len())
                .collect();
            all.sort_unstable();
            assert_eq!(all, (0..sources.len()).collect::<Vec<_>>(), "{total}");
            assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        }
        assert!(members(&sources[..0], 2, 2).is_empty());
    }
}
