//! Benchmark: how good eddy is at catching bugs. Every deliberate `--bug` mode of the
//! reference node runs under its workload's default faults (no `--nemesis`: the mix each
//! workload declares) over K consecutive seeds, and so does the correct reference, under the
//! seeds' contract (the reference is written to it). For each bug the table gives the share
//! of single default-length runs that ended invalid, the share of groups of five
//! consecutive seeds (what `eddy test --test-count 5` runs) with at least one invalid run,
//! the median time to the first witness (in each run, the earliest of the first moments the
//! failed checks' first witnesses name), and the checks that caught it; for the reference,
//! its false alarms.
//!
//! Run with `cargo bench -p eddy --bench catch_rate`; options after `--`:
//! `--seeds K` (default 10), `--jobs J` runs at once (default 1: timing verdicts are at
//! their most honest on an otherwise idle machine), `--only TEXT` keeps the rows whose
//! workload or bug contains TEXT.

use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Every bug mode of the reference node, by workload; `None` is the correct reference.
const ROWS: &[(&str, Option<&str>)] = &[
    ("lease", None),
    ("lease", Some("local-grant")),
    ("lease", Some("stretch-check")),
    ("lease", Some("renew-alone")),
    ("lease-read", None),
    ("lease-read", Some("expired-lease")),
    ("lease-read", Some("unsafe-lease")),
    ("lease-read", Some("hidden-round-trip")),
    ("lease-read", Some("ignore-leader-lease")),
    ("raft", None),
    ("raft", Some("vote-twice")),
    ("raft", Some("forget-vote")),
    ("raft", Some("early-ack")),
    ("raft", Some("local-reads")),
    ("raft", Some("vote-stale-log")),
    ("heartbeat", None),
    ("heartbeat", Some("never-dead")),
    ("heartbeat", Some("hasty-death")),
    ("heartbeat", Some("delete-needed")),
    ("heartbeat", Some("count-dead-chunks")),
    ("heartbeat", Some("never-revive")),
    ("pn-counter", None),
    ("pn-counter", Some("overwrite-merge")),
    ("pn-counter", Some("double-count")),
    ("pn-counter", Some("no-gossip")),
    ("pn-counter", Some("forget-increments")),
];

/// What one run showed.
#[derive(Debug, Clone)]
struct Outcome {
    /// `valid` of results.json: true, false or "unknown"; None when the run did not finish.
    valid: Option<Value>,
    /// The checks that failed.
    failed: Vec<String>,
    /// The earliest run time (s) that a failed check's witness names.
    first_witness_s: Option<f64>,
}

struct Options {
    seeds: u64,
    jobs: usize,
    only: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        seeds: 10,
        jobs: 1,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--seeds" => options.seeds = value().parse().expect("--seeds takes a number"),
            "--jobs" => options.jobs = value().parse().expect("--jobs takes a number"),
            "--only" => options.only = Some(value()),
            _ => {} // `--bench`, which cargo passes
        }
    }
    options
}

/// Runs one seed of one row in a fresh store.
fn run(workload: &str, bug: Option<&str>, seed: u64) -> Outcome {
    let eddy = env!("CARGO_BIN_EXE_eddy");
    let store = tempfile::tempdir().expect("a temporary store");
    let node = match bug {
        Some(bug) => format!("{eddy} node --bug {bug}"),
        None => format!("{eddy} node"),
    };
    let status = Command::new(eddy)
        .args(["test", "-w", workload, "--contract", "seed", "--bin", &node])
        .args(["--seed", &seed.to_string(), "--store"])
        .arg(store.path())
        .output()
        .expect("eddy runs");
    let results: Option<Value> = std::fs::read_to_string(store.path().join("latest/results.json"))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok());
    let Some(results) = results.filter(|_| matches!(status.status.code(), Some(0..=2))) else {
        return Outcome {
            valid: None,
            failed: vec![format!(
                "did not run: {}",
                String::from_utf8_lossy(&status.stderr).trim()
            )],
            first_witness_s: None,
        };
    };
    let failed: Vec<&Value> = results["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["valid"] == false)
        .collect();
    let first_witness_s = failed
        .iter()
        .filter_map(|c| c["witnesses"][0]["why"].as_str())
        .filter_map(first_time_named)
        .reduce(f64::min);
    Outcome {
        valid: Some(results["valid"].clone()),
        failed: failed
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_owned))
            .collect(),
        first_witness_s,
    }
}

/// The first run time a witness names in words ("... at 4.057 s ..."): a number with a
/// fraction followed by " s". Witnesses name the moment of the violation first.
fn first_time_named(text: &str) -> Option<f64> {
    text.split(" s").find_map(|before| {
        let number = before
            .rsplit(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()?;
        number.contains('.').then(|| number.parse().ok()).flatten()
    })
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

fn main() {
    let options = options();
    let rows: Vec<(&str, Option<&str>)> = ROWS
        .iter()
        .copied()
        .filter(|(w, b)| {
            options
                .only
                .as_deref()
                .is_none_or(|only| w.contains(only) || b.is_some_and(|b| b.contains(only)))
        })
        .collect();
    let work: Vec<(usize, u64)> = (0..rows.len())
        .flat_map(|row| (1..=options.seeds).map(move |seed| (row, seed)))
        .collect();
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<BTreeMap<(usize, u64), Outcome>> = Mutex::new(BTreeMap::new());
    let started = std::time::Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                while let Some(&(row, seed)) = work.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let (workload, bug) = rows[row];
                    let outcome = run(workload, bug, seed);
                    eprintln!(
                        "{workload} {} seed {seed}: {:?} {:?}",
                        bug.unwrap_or("reference"),
                        outcome.valid,
                        outcome.failed
                    );
                    outcomes.lock().unwrap().insert((row, seed), outcome);
                }
            });
        }
    });
    let outcomes = outcomes.into_inner().unwrap();
    println!(
        "catch rate: {} seeds per row (1..={}), default faults, --contract seed, {} at once, {:.0} s",
        options.seeds,
        options.seeds,
        options.jobs,
        started.elapsed().as_secs_f64()
    );
    println!("| workload | node | single runs caught | groups of 5 caught | median first witness | caught by |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (row, (workload, bug)) in rows.iter().enumerate() {
        let runs: Vec<&Outcome> = (1..=options.seeds).map(|s| &outcomes[&(row, s)]).collect();
        let invalid = |o: &Outcome| o.valid == Some(Value::Bool(false));
        let caught = runs.iter().filter(|o| invalid(o)).count();
        let groups: Vec<bool> = runs
            .chunks(5)
            .map(|g| g.iter().any(|o| invalid(o)))
            .collect();
        let unfinished = runs.iter().filter(|o| o.valid.is_none()).count();
        let unknown = runs
            .iter()
            .filter(|o| o.valid.as_ref().is_some_and(Value::is_string))
            .count();
        let mut checks: BTreeMap<&str, usize> = BTreeMap::new();
        for name in runs
            .iter()
            .filter(|o| o.valid.is_some())
            .flat_map(|o| &o.failed)
        {
            *checks.entry(name.as_str()).or_default() += 1;
        }
        let by: Vec<String> = checks.iter().map(|(c, n)| format!("{c} ({n})")).collect();
        let mut notes = Vec::new();
        if unknown > 0 {
            notes.push(format!("{unknown} unknown"));
        }
        if let Some(why) = runs.iter().find(|o| o.valid.is_none()) {
            let why: String = why.failed.concat().chars().take(80).collect();
            notes.push(format!(
                "{unfinished} did not run: {}",
                why.replace('\n', " ")
            ));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        };
        let first = median(runs.iter().filter_map(|o| o.first_witness_s).collect())
            .map_or("-".to_owned(), |s| format!("{s:.1} s"));
        match bug {
            None => println!(
                "| {workload} | reference | false alarms: {caught}/{}{notes} | | {first} | {} |",
                runs.len(),
                by.join(", ")
            ),
            Some(bug) => println!(
                "| {workload} | `{bug}` | {caught}/{} ({:.0}%){notes} | {}/{} | {first} | {} |",
                runs.len(),
                100.0 * caught as f64 / runs.len() as f64,
                groups.iter().filter(|g| **g).count(),
                groups.len(),
                by.join(", ")
            ),
        }
    }
}
