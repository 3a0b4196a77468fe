//! The router's timer queue: deliveries the network model delayed, client timeouts and
//! planned nemesis actions, each due at an instant; timers due at one instant fire in the
//! order they were set.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Something the router does at a set time.
pub(super) enum Timer {
    /// Hand a message to its destination: a node, or a service (network endpoints after
    /// the nodes).
    Deliver {
        /// The destination endpoint.
        to: usize,
        /// The endpoint that wrote it.
        writer: usize,
        /// When it was written, in ns of the run.
        sent: u64,
        /// The message as written.
        line: String,
    },
    /// A client's request goes unanswered too long.
    ClientTimeout {
        /// The client.
        client: usize,
        /// The request.
        msg_id: u64,
    },
    /// The nemesis plan's action of this index.
    Nemesis(usize),
}

/// A timer with its instant and the order it was set in.
struct Scheduled {
    at: Instant,
    seq: u64,
    timer: Timer,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Timers by due instant, then by the order they were set.
#[derive(Default)]
pub(super) struct Timers {
    heap: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
}

impl Timers {
    /// Sets `timer` for `at`.
    pub(super) fn schedule(&mut self, at: Instant, timer: Timer) {
        self.seq += 1;
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            timer,
        }));
    }

    /// When the first timer is due.
    pub(super) fn next_at(&self) -> Option<Instant> {
        self.heap.peek().map(|t| t.0.at)
    }

    /// The first timer, if it is due at `now`.
    pub(super) fn pop_due(&mut self, now: Instant) -> Option<Timer> {
        if self.heap.peek()?.0.at > now {
            return None;
        }
        self.heap.pop().map(|t| t.0.timer)
    }

    /// Every timer left, in the order they would have fired.
    pub(super) fn drain(&mut self) -> Vec<Timer> {
        std::iter::from_fn(|| self.heap.pop().map(|t| t.0.timer)).collect()
    }
}
