//! Benchmark: what `--sandbox` costs (issue 17), on the release `eddy` run as a process of
//! its own, each measurement with and without `--sandbox`, interleaved (plain, sandbox,
//! plain, sandbox, ...) so that a change in the machine's load lands on both alike.
//!
//! 1. `eddy cases` over the repository's `cases/` folder plus `--generate 200 --seed 42`
//!    (about 2,400 cases, a few seconds), 5 runs each: wall and CPU time (eddy and every node
//!    it ran, from `getrusage(RUSAGE_CHILDREN)`; not the kernel's own threads, which tear
//!    down each node's network namespace after it), both per case, and from the `--json`
//!    record the median over cases of `init_answered_ms` (from eddy starting to spawn the
//!    node, its sandbox prepared included, to the node's `init_ok`) and of a case's
//!    `elapsed_ms`. Each case starts one node, so the per-case difference is the cost of
//!    sandboxing one node start.
//! 2. `eddy test -w pn-counter --time-limit 10 --seed 42` (the reference node, every other
//!    option its default, a store of its own), 3 runs each: wall and CPU time, and the run's
//!    own figures from `results.json` (operations, latency percentiles of the `stats`
//!    check, the `convergence` check's p50, and the time the machine stalled eddy or a node,
//!    which tells a busy machine), so that an overhead on the run itself shows, not only on
//!    the wall time (the fixed 10 s dominate it).
//!
//! Each section prints every run, then the medians, their difference and their ratio. The
//! load average is printed before and after: on a shared machine a high one means noisy
//! figures. Run with `cargo bench -p eddy --bench sandbox`; `EDDY_BENCH_QUICK=1` (or the
//! argument `quick`) smoke-runs it in a few seconds: 20 cases per workload, a 2 s test,
//! one run of each.

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// How much of each section to run.
struct Plan {
    /// `--generate` for `eddy cases`: cases per workload.
    generate: usize,
    /// Runs of `eddy cases`, each with and without the sandbox.
    case_runs: usize,
    /// `--time-limit` for `eddy test`, seconds.
    time_limit: u64,
    /// Runs of `eddy test`, each with and without the sandbox.
    test_runs: usize,
}

const FULL: Plan = Plan {
    generate: 200,
    case_runs: 5,
    time_limit: 10,
    test_runs: 3,
};
const QUICK: Plan = Plan {
    generate: 20,
    case_runs: 1,
    time_limit: 2,
    test_runs: 1,
};

fn main() {
    let quick = std::env::var_os("EDDY_BENCH_QUICK").is_some()
        || std::env::args().skip(1).any(|a| a == "quick");
    let plan = if quick { QUICK } else { FULL };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "eddy --sandbox against no sandbox, release build, {cores} cores, load average {}",
        load_average()
    );
    cases(&plan);
    test(&plan);
    println!("load average after: {}", load_average());
}

/// Section 1: `eddy cases`.
fn cases(plan: &Plan) {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/../cases");
    let generate = plan.generate.to_string();
    println!(
        "\neddy cases cases/ --generate {generate} --seed 42, {} runs each; medians over cases of init answered and case time",
        plan.case_runs
    );
    let columns = [
        ("cases", 0),
        ("wall s", 2),
        ("wall ms/case", 3),
        ("CPU s", 2),
        ("CPU ms/case", 3),
        ("init answered ms", 2),
        ("case ms", 1),
    ];
    compare(&columns, plan.case_runs, |sandbox| {
        let dir = tempfile::tempdir().expect("a temp folder");
        let json = dir.path().join("cases.json");
        let mut args = vec!["cases", folder, "--generate", &generate, "--seed", "42"];
        args.extend(["--json", json.to_str().expect("a UTF-8 temp path")]);
        let ran = run(&args, sandbox, dir.path())?;
        let record: Value = read_json(&json)?;
        let summary = &record["summary"];
        let (count, failed) = (summary["cases"].as_f64(), summary["failed"].as_u64());
        let Some(count) = count.filter(|_| failed == Some(0)) else {
            println!("  not every case passed: {summary}");
            return None;
        };
        let count = count - summary["skipped"].as_f64().unwrap_or(0.0);
        let per_case = |key: &str| {
            median(
                record["cases"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c[key].as_f64())
                    .collect(),
            )
        };
        Some(vec![
            count,
            ran.wall,
            ran.wall * 1000.0 / count,
            ran.cpu,
            ran.cpu * 1000.0 / count,
            per_case("init_answered_ms"),
            per_case("elapsed_ms"),
        ])
    });
}

/// Section 2: `eddy test -w pn-counter`.
fn test(plan: &Plan) {
    let time_limit = plan.time_limit.to_string();
    println!(
        "\neddy test -w pn-counter --time-limit {time_limit} --seed 42, {} runs each; latency and operations from results.json",
        plan.test_runs
    );
    let columns = [
        ("wall s", 2),
        ("CPU s", 2),
        ("operations", 0),
        ("ok %", 1),
        ("p50 ms", 3),
        ("p95 ms", 3),
        ("p99 ms", 3),
        ("max ms", 1),
        ("converge p50 ms", 1),
        ("stalled ms", 0),
    ];
    compare(&columns, plan.test_runs, |sandbox| {
        let dir = tempfile::tempdir().expect("a temp folder");
        let store = dir.path().to_str().expect("a UTF-8 temp path");
        let args = [
            "test",
            "-w",
            "pn-counter",
            "--time-limit",
            &time_limit,
            "--seed",
            "42",
            "--store",
            store,
        ];
        let ran = run(&args, sandbox, dir.path())?;
        let results = read_json(&dir.path().join("latest/results.json"))?;
        if results["valid"] != Value::Bool(true) {
            println!("  the run was not valid (its figures are kept)");
        }
        let figures = |name: &str| {
            results["checks"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["name"] == name)
                .map_or(Value::Null, |c| c["figures"].clone())
        };
        let (stats, convergence) = (figures("stats"), figures("convergence"));
        let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        let latency = |p: &str| number(&stats["latency_ms"][p]);
        Some(vec![
            ran.wall,
            ran.cpu,
            number(&stats["operations"]),
            number(&stats["availability"]) * 100.0,
            latency("p50"),
            latency("p95"),
            latency("p99"),
            latency("max"),
            number(&convergence["p50_ms"]),
            stats["stalls"]["stalled_ms"].as_f64().unwrap_or(0.0),
        ])
    });
}

/// Runs `measure` `runs` times without and with the sandbox, interleaved, and prints a row
/// of `columns` (name, decimals) for each run, then the medians of each side, their
/// difference and their ratio ("-" where the plain median is 0). `measure` returns `None`
/// (having said why) for a run that does not count.
fn compare(
    columns: &[(&str, usize)],
    runs: usize,
    mut measure: impl FnMut(bool) -> Option<Vec<f64>>,
) {
    let widths: Vec<usize> = columns.iter().map(|(name, _)| name.len().max(7)).collect();
    let row = |label: &str, figures: &[f64]| {
        let mut line = format!("{label:<16}");
        for ((figure, (_, decimals)), width) in figures.iter().zip(columns).zip(&widths) {
            line.push_str(&format!(" {figure:>width$.decimals$}"));
        }
        println!("{line}");
    };
    let mut header = format!("{:<16}", "");
    for ((name, _), width) in columns.iter().zip(&widths) {
        header.push_str(&format!(" {name:>width$}"));
    }
    println!("{header}");
    let mut kept: [Vec<Vec<f64>>; 2] = [Vec::new(), Vec::new()];
    for n in 1..=runs {
        for (side, sandbox) in [false, true].into_iter().enumerate() {
            let label = format!("{} {n}", if sandbox { "sandbox" } else { "plain" });
            if let Some(figures) = measure(sandbox) {
                row(&label, &figures);
                kept[side].push(figures);
            }
        }
    }
    if kept.iter().any(Vec::is_empty) {
        println!("no comparison: a side has no run that counts");
        return;
    }
    let medians: Vec<Vec<f64>> = kept
        .iter()
        .map(|side| {
            (0..columns.len())
                .map(|i| median(side.iter().map(|figures| figures[i]).collect()))
                .collect()
        })
        .collect();
    let (plain, sandbox) = (&medians[0], &medians[1]);
    row("median plain", plain);
    row("median sandbox", sandbox);
    let difference: Vec<f64> = sandbox.iter().zip(plain).map(|(s, p)| s - p).collect();
    row("sandbox - plain", &difference);
    let mut ratio = format!("{:<16}", "sandbox / plain");
    for ((s, p), width) in sandbox.iter().zip(plain).zip(&widths) {
        let times = if *p == 0.0 {
            "-".to_owned()
        } else {
            format!("{:.2}x", s / p)
        };
        ratio.push_str(&format!(" {times:>width$}"));
    }
    println!("{ratio}");
}

/// What one run of eddy cost.
struct Ran {
    /// Wall time, seconds.
    wall: f64,
    /// CPU time (user and system) of eddy and every process it waited for, seconds.
    cpu: f64,
}

/// Runs the release eddy with `args` (and `--sandbox` when `sandbox`) in `dir`; `None`
/// (having said why) when it failed.
fn run(args: &[&str], sandbox: bool, dir: &Path) -> Option<Ran> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eddy"));
    command.args(args).current_dir(dir).stderr(Stdio::null());
    if sandbox {
        command.arg("--sandbox");
    }
    let cpu_before = children_cpu();
    let started = Instant::now();
    let out = command.output().expect("eddy runs");
    let wall = started.elapsed().as_secs_f64();
    let cpu = children_cpu() - cpu_before;
    if !out.status.success() {
        let stdout = String::from_utf8_lossy(&out.stdout);
        let tail: Vec<&str> = stdout.lines().rev().take(5).collect();
        println!("  eddy {} failed ({}): {tail:?}", args[0], out.status);
        return None;
    }
    Some(Ran { wall, cpu })
}

/// CPU seconds (user and system) of every child this process has waited for, theirs
/// included.
fn children_cpu() -> f64 {
    // SAFETY: getrusage(2) fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// A JSON file eddy wrote; `None` (having said why) when it is missing or unreadable.
fn read_json(path: &Path) -> Option<Value> {
    let read = std::fs::read_to_string(path).map_err(|e| e.to_string());
    match read.and_then(|text| serde_json::from_str(&text).map_err(|e| e.to_string())) {
        Ok(value) => Some(value),
        Err(error) => {
            println!("  cannot read {}: {error}", path.display());
            None
        }
    }
}

/// The median (the mean of the middle two for an even count); NaN when empty.
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` has them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".into())
}
