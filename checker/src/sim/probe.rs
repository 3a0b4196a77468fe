//! Convergence probes: in a quiet moment the harness asks every node for its value (from
//! `c0`, every [`POLL_INTERVAL`]) until all nodes that are up answer the same, and records
//! how long that took. A list answer is a set (a g-set's elements): two nodes that list the
//! same elements in another order answer the same.

use serde_json::Value;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Time between two probes of one node.
pub const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// How long one measurement may take before it counts as not converged, for a target of
/// `target_ms`: long enough to tell slow from never, twice the target and at least four
/// seconds more than it.
pub fn timeout_for(target_ms: f64) -> Duration {
    Duration::from_secs_f64((target_ms * 2.0).max(target_ms + 4000.0) / 1000.0)
}

/// How a probe ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeEnd {
    /// Every node that is up answered this value, this long after the probe started.
    Converged {
        /// Milliseconds from the start of the probe.
        ms: f64,
        /// The value they agree on.
        value: Value,
    },
    /// The nodes did not agree before the timeout.
    TimedOut {
        /// Milliseconds from the start of the probe to the moment eddy stopped waiting.
        ms: f64,
        /// The last answer of each node (null when it never answered).
        last: Vec<Value>,
    },
}

/// One probe in progress.
pub struct Probe {
    /// Why it runs (`round`, `end`).
    pub reason: String,
    started: Instant,
    timeout: Duration,
    request: Value,
    /// Each node's latest answer and the poll round it answered.
    latest: Vec<Option<(u64, Value)>>,
    /// Requests in flight: the node asked and the round.
    asked: HashMap<u64, (usize, u64)>,
    round: u64,
    next_poll: Instant,
}

impl Probe {
    /// A probe of `nodes` nodes with `request` (a body without `msg_id`).
    pub fn new(reason: &str, request: Value, nodes: usize, timeout: Duration) -> Probe {
        let now = Instant::now();
        Probe {
            reason: reason.into(),
            started: now,
            timeout,
            request,
            latest: vec![None; nodes],
            asked: HashMap::new(),
            round: 0,
            next_poll: now,
        }
    }

    /// When the probe wants to act next.
    pub fn next_wake(&self) -> Instant {
        self.next_poll.min(self.started + self.timeout)
    }

    /// The requests to send now, as `(node, body)` with `msg_id`s from `msg_id`.
    pub fn poll(
        &mut self,
        now: Instant,
        up: &[bool],
        mut msg_id: impl FnMut() -> u64,
    ) -> Vec<(usize, Value)> {
        if now < self.next_poll {
            return Vec::new();
        }
        self.next_poll = now + POLL_INTERVAL;
        self.round += 1;
        let round = self.round;
        (0..self.latest.len())
            .filter(|&i| up[i])
            .map(|i| {
                let id = msg_id();
                self.asked.insert(id, (i, round));
                let mut body = self.request.clone();
                body["msg_id"] = id.into();
                (i, body)
            })
            .collect()
    }

    /// Takes a reply addressed to `c0`; false when it is not one of this probe's.
    pub fn on_reply(&mut self, in_reply_to: u64, body: &Value) -> bool {
        let Some((node, round)) = self.asked.remove(&in_reply_to) else {
            return false;
        };
        if let Some(value) = body.get("value") {
            if self.latest[node].as_ref().is_none_or(|(r, _)| *r <= round) {
                self.latest[node] = Some((round, as_answer(value)));
            }
        }
        true
    }

    /// The probe's end, once every node that is up answered the same value to one round
    /// of requests (answers from different moments agreeing prove nothing), or the time
    /// is up.
    pub fn end(&self, now: Instant, up: &[bool]) -> Option<ProbeEnd> {
        let answers: Vec<&Option<(u64, Value)>> = self
            .latest
            .iter()
            .zip(up)
            .filter(|(_, u)| **u)
            .map(|(v, _)| v)
            .collect();
        if let Some(Some(first)) = answers.first() {
            if answers.iter().all(|v| v.as_ref() == Some(first)) {
                return Some(ProbeEnd::Converged {
                    ms: now.duration_since(self.started).as_secs_f64() * 1000.0,
                    value: first.1.clone(),
                });
            }
        }
        (now >= self.started + self.timeout).then(|| ProbeEnd::TimedOut {
            ms: now.duration_since(self.started).as_secs_f64() * 1000.0,
            last: self
                .latest
                .iter()
                .map(|v| v.as_ref().map_or(Value::Null, |(_, v)| v.clone()))
                .collect(),
        })
    }
}

/// A node's answer as compared with the others': a list as its sorted canonical texts.
fn as_answer(value: &Value) -> Value {
    match value.as_array() {
        Some(items) => Value::from(crate::check::json::as_set(items)),
        None => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converges_when_every_live_node_agrees() {
        let mut probe = Probe::new("round", json!({"type": "read"}), 3, Duration::from_secs(1));
        let mut id = 0;
        let asked = probe.poll(Instant::now(), &[true, true, false], || {
            id += 1;
            id
        });
        assert_eq!(asked.len(), 2);
        assert!(probe.end(Instant::now(), &[true, true, false]).is_none());
        probe.on_reply(1, &json!({"type": "read_ok", "value": 5}));
        assert!(probe.end(Instant::now(), &[true, true, false]).is_none());
        assert!(!probe.on_reply(99, &json!({})));
        probe.on_reply(2, &json!({"type": "read_ok", "value": 5}));
        assert!(matches!(
            probe.end(Instant::now(), &[true, true, false]),
            Some(ProbeEnd::Converged { .. })
        ));
    }

    #[test]
    fn answers_from_different_rounds_do_not_make_agreement() {
        let mut probe = Probe::new("end", json!({"type": "read"}), 2, Duration::from_secs(1));
        let mut id = 0;
        let mut next = || {
            id += 1;
            id
        };
        let start = Instant::now();
        probe.poll(start, &[true, true], &mut next);
        probe.on_reply(1, &json!({"type": "read_ok", "value": 7}));
        probe.poll(start + POLL_INTERVAL, &[true, true], &mut next);
        probe.on_reply(4, &json!({"type": "read_ok", "value": 7}));
        probe.on_reply(2, &json!({"type": "read_ok", "value": 7}));
        // n1 answered 7 in round 1, n2 in round 2: not one moment.
        assert!(probe.end(Instant::now(), &[true, true]).is_none());
        probe.on_reply(3, &json!({"type": "read_ok", "value": 7}));
        assert!(matches!(
            probe.end(Instant::now(), &[true, true]),
            Some(ProbeEnd::Converged { .. })
        ));
    }

    #[test]
    fn sets_listed_in_another_order_agree() {
        let mut probe = Probe::new("end", json!({"type": "read"}), 2, Duration::from_secs(1));
        let mut id = 0;
        probe.poll(Instant::now(), &[true, true], || {
            id += 1;
            id
        });
        probe.on_reply(1, &json!({"type": "read_ok", "value": [3, 1, 2]}));
        probe.on_reply(2, &json!({"type": "read_ok", "value": [1, 2, 3]}));
        assert!(matches!(
            probe.end(Instant::now(), &[true, true]),
            Some(ProbeEnd::Converged { .. })
        ));
    }
}
