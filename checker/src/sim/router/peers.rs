//! The peers eddy plays ([`Peers`]): which endpoints they are, their timers (fired in the
//! running phase only, in instant then token order), the messages real nodes write to them,
//! and the [`Wire`] through which they write, record and ask for timers.

use super::{Phase, Router};
use crate::history::HistoryEvent;
use crate::protocol::Message;
use crate::sim::driver::{Peers, Wire};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

/// The played peers of a run, if any, and their timers.
pub(super) struct Played {
    /// The workload's peers (taken while one of their methods runs).
    hook: Option<Box<dyn Peers>>,
    /// The endpoints they play.
    names: Vec<String>,
    /// For each node of the run, true when it is played.
    nodes: Vec<bool>,
    /// Their timers: instant and token.
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
}

impl Played {
    /// The peers `hook` plays among the run's node ids `ids`.
    pub(super) fn new(hook: Option<Box<dyn Peers>>, ids: &[String]) -> Played {
        let names = hook.as_ref().map_or_else(Vec::new, |h| h.played());
        let nodes = ids.iter().map(|id| names.contains(id)).collect();
        Played {
            hook,
            names,
            nodes,
            timers: BinaryHeap::new(),
        }
    }

    /// True when node `i` is played: no process runs for it.
    pub(super) fn is_node(&self, i: usize) -> bool {
        self.nodes[i]
    }

    /// True when messages to `dest` go to the played peers.
    pub(super) fn plays(&self, dest: &str) -> bool {
        self.names.iter().any(|n| n == dest)
    }

    /// When their first timer is due.
    pub(super) fn next_at(&self) -> Option<Instant> {
        self.timers.peek().map(|t| t.0 .0)
    }

    /// Their faults in force, in words.
    pub(super) fn faults(&self) -> Vec<String> {
        self.hook.as_ref().map_or_else(Vec::new, |h| h.faults())
    }
}

impl Router<'_> {
    /// Runs `f` on the played peers, with the router as their wire.
    fn with_peers(&mut self, f: impl FnOnce(&mut dyn Peers, &mut dyn Wire)) {
        if let Some(mut hook) = self.played.hook.take() {
            f(hook.as_mut(), self);
            self.played.hook = Some(hook);
        }
    }

    /// The running phase began: the peers plan their timers.
    pub(super) fn start_peers(&mut self) {
        self.with_peers(|peers, wire| peers.start(wire));
    }

    /// Fires the peers' timers due at `now`, while the running phase lasts.
    pub(super) fn fire_peer_timers(&mut self, now: Instant) {
        while self.phase == Phase::Running && now < self.end_of_running() {
            let Some(&Reverse((at, token))) = self.played.timers.peek() else {
                break;
            };
            if at > now {
                break;
            }
            self.played.timers.pop();
            self.with_peers(|peers, wire| peers.on_timer(at, token, wire));
        }
    }

    /// A real node wrote `message` to a played endpoint.
    pub(super) fn hand_to_peers(&mut self, message: &Message) {
        self.with_peers(|peers, wire| peers.on_message(message, wire));
    }

    /// Real node `node` crashed.
    pub(super) fn peers_crash(&mut self, node: &str) {
        self.with_peers(|peers, wire| peers.on_crash(node, wire));
    }
}

impl Wire for Router<'_> {
    fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.workload_rng
    }

    fn t0(&self) -> Instant {
        self.t0
    }

    fn time_limit(&self) -> Duration {
        self.cfg.time_limit
    }

    fn request_timeout(&self) -> Duration {
        self.cfg.request_timeout
    }

    fn msg_id(&mut self) -> u64 {
        Router::msg_id(self)
    }

    fn send(&mut self, src: &str, dest: &str, body: Value) -> bool {
        let Some(to) = self.cluster.ids().iter().position(|id| id == dest) else {
            return false;
        };
        if self.played.is_node(to) {
            return false;
        }
        let line = json!({"src": src, "dest": dest, "body": body});
        self.cluster.send(to, &line.to_string())
    }

    fn at(&mut self, at: Instant, token: u64) {
        self.played.timers.push(Reverse((at, token)));
    }

    fn record(&mut self, event: HistoryEvent) {
        self.rec.append(event);
    }

    fn end_running(&mut self) {
        if self.phase == Phase::Running {
            Router::end_running(self, Instant::now());
        }
    }
}
