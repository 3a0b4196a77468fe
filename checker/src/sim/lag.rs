//! How long the machine kept eddy and the nodes from running (SPEC section 6: load is never
//! the node's fault). Linux counts, per thread, the time it was ready to run but waited for
//! a core (`/proc/<pid>/task/<tid>/schedstat`, second field). eddy samples that for its own
//! router thread and for every node process; a wait of [`STALL`] or more within one sample
//! is a stall, recorded in the history so that liveness checks leave it out of their
//! deadlines, in `eddy test` and `eddy check` alike.

use std::time::{Duration, Instant};

/// Time between two samples.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// Waiting for a core for this long within one sample is a stall.
pub const STALL: Duration = Duration::from_millis(20);

/// A stall: who waited (`None`: eddy itself, `Some(i)`: node `i`) and for how long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stall {
    /// Node index, or `None` for eddy.
    pub node: Option<usize>,
    /// How long it waited, in ms.
    pub ms: f64,
}

impl Stall {
    /// The node and body of its harness `stall` event, with node ids `ids`.
    pub fn event(&self, ids: &[String]) -> (Option<String>, serde_json::Value) {
        let node = self.node.and_then(|i| ids.get(i).cloned());
        let ms = (self.ms * 1000.0).round() / 1000.0;
        (node, serde_json::json!({ "ms": ms }))
    }
}

/// Samples of the run delays of eddy's calling thread and of the node processes.
pub struct LagMeter {
    next: Instant,
    eddy: Option<u64>,
    nodes: Vec<Option<(u32, u64)>>,
}

impl LagMeter {
    /// A meter for `nodes` nodes, sampling from now on.
    pub fn new(nodes: usize) -> LagMeter {
        LagMeter {
            next: Instant::now(),
            eddy: own_wait(),
            nodes: vec![None; nodes],
        }
    }

    /// When the next sample is due.
    pub fn next_due(&self) -> Instant {
        self.next
    }

    /// Samples if a sample is due; `pids` are the nodes' process ids (`None` while down).
    /// Returns the stalls since the last sample. Must be called from the thread to measure
    /// as eddy's own (the router's).
    pub fn sample(&mut self, now: Instant, pids: &[Option<u32>]) -> Vec<Stall> {
        if now < self.next {
            return Vec::new();
        }
        self.next = now + SAMPLE_EVERY;
        let mut stalls = Vec::new();
        let threshold = STALL.as_nanos() as u64;
        let mut note = |node, before: Option<u64>, after: Option<u64>| {
            if let (Some(b), Some(a)) = (before, after) {
                if a.saturating_sub(b) >= threshold {
                    stalls.push(Stall {
                        node,
                        ms: (a - b) as f64 / 1e6,
                    });
                }
            }
        };
        let eddy = own_wait();
        note(None, self.eddy, eddy);
        self.eddy = eddy;
        for (i, pid) in pids.iter().enumerate() {
            let wait = pid.and_then(process_wait);
            let before = match (self.nodes[i], pid) {
                (Some((was, w)), Some(p)) if was == *p => Some(w),
                _ => None,
            };
            note(Some(i), before, wait);
            self.nodes[i] = pid.zip(wait);
        }
        stalls
    }
}

/// The run delay (ns) of the calling thread.
fn own_wait() -> Option<u64> {
    wait_of(&std::fs::read_to_string("/proc/thread-self/schedstat").ok()?)
}

/// The run delay (ns) summed over every thread of process `pid`.
fn process_wait(pid: u32) -> Option<u64> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut total = 0;
    for task in tasks.flatten() {
        let text = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        total += wait_of(&text).unwrap_or(0);
    }
    Some(total)
}

/// The second field of a `schedstat` line.
fn wait_of(schedstat: &str) -> Option<u64> {
    schedstat.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_delays_are_read_from_schedstat() {
        assert_eq!(wait_of("147598 3263770 2\n"), Some(3_263_770));
        assert_eq!(wait_of(""), None);
        // Sampling works on this machine (Linux with schedstat).
        assert!(own_wait().is_some());
        assert!(process_wait(std::process::id()).is_some());
        assert_eq!(process_wait(u32::MAX), None);
        let mut meter = LagMeter::new(1);
        let now = Instant::now();
        meter.sample(now, &[None]);
        assert!(meter.next_due() >= now + SAMPLE_EVERY);
        assert!(meter.sample(now, &[None]).is_empty(), "not due yet");
    }
}
