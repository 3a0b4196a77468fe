//! Benchmark: what a case costs as the count grows. Runs the release `eddy cases --generate
//! N --seed 42` (N per workload, so 12N cases, Maelstrom's contract, the default `--jobs`)
//! for 500, 1,000, 2,000, 5,000, 10,000 and 20,000 cases, each in a fresh child process, and
//! prints wall time, seconds per 1,000 cases, CPU time (eddy and every node it ran) and
//! eddy's peak resident memory. Flat cost means the last two columns per 1,000 cases stay
//! put from the first row to the last.
//!
//! `cargo bench -p eddy --bench case_throughput` runs every size; name sizes to run only
//! those: `cargo bench -p eddy --bench case_throughput -- 500 1000`, or
//! `EDDY_BENCH_CASES=500,1000`. Sizes are rounded down to a multiple of 5.
//!
//! Each size runs in a child of its own (this program again), which runs eddy and reads
//! `getrusage(RUSAGE_CHILDREN)`: the peak is the largest process among eddy and its nodes
//! (eddy's, in practice), and CPU time is the sum over all of them. A fresh child per size
//! keeps one size's peak out of the next one's.

use std::process::{Command, Stdio};
use std::time::Instant;

const SIZES: [usize; 6] = [500, 1_000, 2_000, 5_000, 10_000, 20_000];
/// Set in the child that measures one size: the number of cases.
const CHILD: &str = "EDDY_CASE_THROUGHPUT_CHILD";

fn main() {
    if let Ok(size) = std::env::var(CHILD) {
        measure_one(size.parse().expect("a number of cases"));
        return;
    }
    let sizes = sizes();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "eddy cases --generate N --seed 42 (N per workload, {} workloads), {cores} cores, release build",
        workloads()
    );
    println!(
        "{:>7} {:>8} {:>12} {:>8} {:>8} {:>12} {:>12}",
        "cases", "wall s", "s/1000 cases", "user s", "sys s", "CPU s/1000", "peak RSS MB"
    );
    for size in sizes {
        let out = Command::new(std::env::current_exe().expect("this benchmark's path"))
            .env(CHILD, size.to_string())
            .stderr(Stdio::inherit())
            .output()
            .expect("the measuring child runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(row) = text.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
            println!("{size:>7} failed: {text}");
            continue;
        };
        let v: Vec<f64> = row
            .split_whitespace()
            .map(|x| x.parse().expect("a figure"))
            .collect();
        let [wall, user, sys, peak_kib] = v[..] else {
            panic!("bad result line {row}")
        };
        let thousands = size as f64 / 1000.0;
        println!(
            "{size:>7} {wall:>8.2} {:>12.2} {user:>8.2} {sys:>8.2} {:>12.2} {:>12.1}",
            wall / thousands,
            (user + sys) / thousands,
            peak_kib / 1024.0
        );
    }
}

/// The sizes asked for (arguments, then `EDDY_BENCH_CASES`), else all of [`SIZES`].
fn sizes() -> Vec<usize> {
    let from_args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let from_env: Vec<usize> = std::env::var("EDDY_BENCH_CASES")
        .unwrap_or_default()
        .split([',', ' '])
        .filter_map(|a| a.trim().replace('_', "").parse().ok())
        .collect();
    let chosen = if !from_args.is_empty() {
        from_args
    } else if !from_env.is_empty() {
        from_env
    } else {
        SIZES.to_vec()
    };
    chosen
        .into_iter()
        .map(|n| n / workloads() * workloads())
        .filter(|&n| n > 0)
        .collect()
}

/// How many workloads `eddy cases --generate` generates for: every registered one.
fn workloads() -> usize {
    eddy::workload::Workload::all().count()
}

/// In the child: runs eddy over `size` cases and prints `RESULT wall user sys peak_kib`.
fn measure_one(size: usize) {
    let per_workload = (size / workloads()).to_string();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_eddy"))
        .args(["cases", "--generate", &per_workload, "--seed", "42"])
        .stderr(Stdio::null())
        .output()
        .expect("eddy runs");
    let wall = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let passed = format!("{size} passed, 0 failed, 0 skipped");
    if !out.status.success() || !stdout.contains(&passed) {
        println!("eddy did not pass every case ({}): {stdout}", out.status);
        return;
    }
    // SAFETY: getrusage(2) fills the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    println!(
        "RESULT {wall} {} {} {}",
        seconds(usage.ru_utime),
        seconds(usage.ru_stime),
        usage.ru_maxrss
    );
}
