//! Benchmark: `eddy check --model kv` on generated histories (10 clients unless said, 10% of
//! operations indefinite), each also with one stale read injected, and with one read of the
//! future (a value written only after the read completed), which no stale-read scan sees. Wall time includes
//! parsing; memory is the checking process's peak resident size. Targets (issues 4 and 18)
//! are printed beside each figure; the single-key histories with 50 and 100 clients are
//! generated from five seeds each. Run with `cargo bench -p eddy --bench linearizability`;
//! `EDDY_BENCH_QUICK=1` skips the million-operation case.

#[path = "support/child.rs"]
mod child;
#[path = "../tests/support/histories.rs"]
mod histories;

use histories::{linearizable, make_one_read_future, make_one_read_stale, to_jsonl, Shape};
use std::time::Duration;

struct Case {
    name: &'static str,
    shape: Shape,
    /// The generator's seeds, one history each.
    seeds: &'static [u64],
    target: &'static str,
}

/// The seed of the histories measured once.
const ONE: &[u64] = &[42];
/// The seeds of the histories every client hammers.
const FIVE: &[u64] = &[1, 2, 3, 4, 5];

/// Runs `eddy check --model kv FILE`; returns wall time, peak RSS in MiB, exit code and the
/// first line of output.
fn measure(file: &std::path::Path) -> (Duration, f64, i32, String) {
    let run = child::measure(
        env!("CARGO_BIN_EXE_eddy"),
        &[
            "check",
            "--model",
            "kv",
            "--lin-timeout",
            "50",
            file.to_str().unwrap(),
        ],
    );
    (
        run.wall,
        run.peak_mib,
        run.code,
        run.stdout.lines().next().unwrap_or_default().to_owned(),
    )
}

/// What is done to a generated (linearizable) history before it is checked.
#[derive(Clone, Copy)]
enum Change {
    /// Nothing: it must pass.
    None,
    /// One read made stale: the stale-read scan refutes it.
    Stale,
    /// One read made to return a value written only later: only an order refutes it.
    Future,
}

impl Change {
    fn suffix(self) -> &'static str {
        match self {
            Change::None => "",
            Change::Stale => " + 1 stale",
            Change::Future => " + 1 future read",
        }
    }
}

fn main() {
    let quick = std::env::var_os("EDDY_BENCH_QUICK").is_some();
    let cases = [
        Case {
            name: "10,000 ops / 100 keys",
            shape: Shape {
                ops: 10_000,
                keys: 100,
                clients: 10,
                indefinite: 0.1,
            },
            seeds: ONE,
            target: "< 0.05 s",
        },
        Case {
            name: "100,000 ops / 100 keys",
            shape: Shape {
                ops: 100_000,
                keys: 100,
                clients: 10,
                indefinite: 0.1,
            },
            seeds: ONE,
            target: "< 0.5 s",
        },
        Case {
            name: "1,000,000 ops / 100 keys",
            shape: Shape {
                ops: 1_000_000,
                keys: 100,
                clients: 10,
                indefinite: 0.1,
            },
            seeds: ONE,
            target: "< 1 s, < 200 MiB",
        },
        Case {
            name: "10,000 ops / 1 key / 10 clients",
            shape: Shape {
                ops: 10_000,
                keys: 1,
                clients: 10,
                indefinite: 0.1,
            },
            seeds: ONE,
            target: "< 0.5 s",
        },
        Case {
            name: "10,000 ops / 1 key / 50 clients",
            shape: Shape {
                ops: 10_000,
                keys: 1,
                clients: 50,
                indefinite: 0.1,
            },
            seeds: FIVE,
            target: "< 1 s",
        },
        Case {
            name: "10,000 ops / 1 key / 100 clients",
            shape: Shape {
                ops: 10_000,
                keys: 1,
                clients: 100,
                indefinite: 0.1,
            },
            seeds: FIVE,
            target: "< 1 s",
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{:<50} {:>9} {:>9} {:>7}  {:<26} verdict",
        "history", "wall", "peak", "exit", "target"
    );
    for case in &cases {
        if quick && case.shape.ops >= 1_000_000 {
            continue;
        }
        for &seed in case.seeds {
            let valid = linearizable(case.shape, seed);
            for change in [Change::None, Change::Stale, Change::Future] {
                let mut events = valid.clone();
                let changed = match change {
                    Change::None => Some(0),
                    Change::Stale => make_one_read_stale(&mut events),
                    Change::Future => make_one_read_future(&mut events),
                };
                if changed.is_none() {
                    continue;
                }
                let file = dir.path().join("history.jsonl");
                std::fs::write(&file, to_jsonl(&events)).unwrap();
                let (wall, mib, code, first) = measure(&file);
                let verdict = first.split(": ").nth(1).unwrap_or("?").to_owned();
                let seeded = match case.seeds.len() {
                    1 => String::new(),
                    _ => format!(", seed {seed}"),
                };
                let name = format!("{}{seeded}{}", case.name, change.suffix());
                let target = match change {
                    Change::None => case.target,
                    _ => "invalid, < 1 s",
                };
                println!(
                    "{name:<50} {:>7.3} s {:>5.0} MiB {code:>7}  {target:<26} {verdict}",
                    wall.as_secs_f64(),
                    mib
                );
            }
        }
    }
}
