//! Measuring a command as its own process: wall time and peak resident memory. The peak
//! is the child's own `VmHWM` (fresh at exec), read every 2 ms while it runs; Linux's
//! `ru_maxrss` would carry the benchmark's own peak across the fork.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of a child cost.
pub struct Measured {
    /// Wall time from spawn to exit.
    pub wall: Duration,
    /// Peak resident memory, MiB.
    pub peak_mib: f64,
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Everything it wrote to stdout.
    pub stdout: String,
}

/// Runs `program` with `args` and measures it.
pub fn measure(program: &str, args: &[&str]) -> Measured {
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            let hwm = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok());
            peak_kib = peak_kib.max(hwm.unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    Measured {
        wall,
        peak_mib: peak_kib as f64 / 1024.0,
        code: status.code().unwrap_or(-1),
        stdout,
    }
}
