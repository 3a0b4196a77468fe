//! Convergence measurements, for workloads that converge: after a round and at the end of
//! the running phase, every node is asked for its value until they agree
//! ([`crate::sim::probe`]); the measurement, or why it was skipped, goes to the history.

use super::Router;
use crate::sim::probe::{Probe, ProbeEnd};
use serde_json::json;
use std::time::Instant;

/// The measurement in progress, if any.
#[derive(Default)]
pub(super) struct Convergence {
    /// The measurement in progress.
    pub(super) probe: Option<Probe>,
    /// True once convergence after the last operation was measured (or skipped).
    pub(super) probed_end: bool,
}

impl Convergence {
    /// True while a measurement runs.
    pub(super) fn measuring(&self) -> bool {
        self.probe.is_some()
    }

    /// When the measurement wants to act next.
    pub(super) fn next_wake(&self) -> Option<Instant> {
        self.probe.as_ref().map(Probe::next_wake)
    }
}

impl Router<'_> {
    /// Starts measuring convergence, unless a fault makes agreement impossible.
    pub(super) fn start_probe(&mut self, reason: &str) {
        let Some(request) = self.workload.probe() else {
            return;
        };
        let faults = self.faults_in_force();
        if !faults.is_empty() {
            let body = json!({"reason": reason, "skipped": faults.join(", ")});
            self.harness(None, "convergence", body);
            return;
        }
        self.convergence.probe = Some(Probe::new(
            reason,
            request,
            self.cfg.node_count,
            self.workload.probe_timeout(),
        ));
    }

    /// Sends due probes and records the measurement once it ends.
    pub(super) fn drive_probe(&mut self, now: Instant) {
        let up: Vec<bool> = (0..self.cfg.node_count)
            .map(|n| self.cluster.is_up(n))
            .collect();
        let Some(probe) = self.convergence.probe.as_mut() else {
            return;
        };
        let mut next_id = self.next_msg_id;
        let requests = probe.poll(now, &up, || {
            next_id += 1;
            next_id - 1
        });
        self.next_msg_id = next_id;
        for (node, body) in requests {
            let line = json!({"src": "c0", "dest": self.cluster.ids()[node], "body": body});
            self.cluster.send(node, &line.to_string());
        }
        let Some(end) = self
            .convergence
            .probe
            .as_ref()
            .and_then(|p| p.end(now, &up))
        else {
            return;
        };
        let reason = self.convergence.probe.take().expect("probing").reason;
        let body = match end {
            ProbeEnd::Converged { ms, value } => {
                json!({"reason": reason, "ms": (ms * 1000.0).round() / 1000.0, "value": value})
            }
            ProbeEnd::TimedOut { ms, last } => {
                json!({"reason": reason, "timed_out": true, "ms": (ms * 1000.0).round() / 1000.0, "last_values": last})
            }
        };
        self.harness(None, "convergence", body);
    }

    /// A fault named `fault` begins: a measurement it interrupts would charge the fault's
    /// length to the nodes, so it is recorded as skipped, with the reason.
    pub(super) fn interrupt_probe(&mut self, fault: &str) {
        if let Some(probe) = self.convergence.probe.take() {
            let body = json!({"reason": probe.reason, "skipped": format!("a {fault} began during the measurement")});
            self.harness(None, "convergence", body);
        }
    }

    /// Takes a reply to `c0` that answers `in_reply_to`; false when it is no probe's.
    pub(super) fn probe_reply(&mut self, in_reply_to: u64, body: &serde_json::Value) -> bool {
        self.convergence
            .probe
            .as_mut()
            .is_some_and(|p| p.on_reply(in_reply_to, body))
    }
}
