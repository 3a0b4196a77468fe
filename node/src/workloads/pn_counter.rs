//! `pn-counter` (seed 004): a PN-counter CRDT replicated by anti-entropy gossip (SPEC 3.5).
//!
//! Each node counts its own increments in `p[self]` and decrements in `n[self]`; merging
//! takes the per-node maximum, so gossip can be lost, repeated and reordered. Gossip starts
//! once the node has any state to share (peers with state gossip to it anyway), which keeps a
//! node that serves another workload silent.

use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::persist::DataDir;
use crate::service::{Answer, Context, Service, Setup, Shared};
use rand::seq::index::sample;
use rand::Rng;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Time between gossip rounds.
pub const GOSSIP_INTERVAL: Duration = Duration::from_millis(100);
/// Peers contacted per round.
pub const GOSSIP_FANOUT: usize = 2;
/// Where the counter keeps its state in `NODE_DATA_DIR`.
const COUNTER_FILE: &str = "pn-counter.json";

/// Grow-only counts per node id.
type Counts = BTreeMap<String, u64>;

/// Both halves of the counter.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CounterState {
    p: Counts,
    n: Counts,
}

impl CounterState {
    /// The counter's value: all increments minus all decrements.
    pub fn value(&self) -> i64 {
        let sum = |c: &Counts| c.values().fold(0i128, |acc, v| acc + i128::from(*v));
        (sum(&self.p) - sum(&self.n)).clamp(i64::MIN.into(), i64::MAX.into()) as i64
    }

    /// Merges by `mode` (the per-node maximum, unless a deliberate bug is on); true when
    /// anything changed.
    fn merge(&mut self, other: &CounterState, mode: Merge) -> bool {
        let mut changed = false;
        for (mine, theirs) in [(&mut self.p, &other.p), (&mut self.n, &other.n)] {
            for (id, &count) in theirs {
                let slot = mine.entry(id.clone()).or_insert(0);
                let merged = match mode {
                    Merge::Maximum => (*slot).max(count),
                    Merge::Overwrite => count,
                    Merge::Sum => slot.saturating_add(count),
                };
                if merged != *slot {
                    *slot = merged;
                    changed = true;
                }
            }
        }
        changed
    }

    fn is_empty(&self) -> bool {
        self.p.values().chain(self.n.values()).all(|&c| c == 0)
    }

    fn to_gossip(&self) -> Map<String, Value> {
        body(
            "replicate",
            [("p_counters", json!(self.p)), ("n_counters", json!(self.n))],
        )
    }
}

/// How incoming gossip is merged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Merge {
    /// Per-node maximum: the correct CRDT merge.
    #[default]
    Maximum,
    /// Bug: take theirs, so stale gossip loses increments.
    Overwrite,
    /// Bug: add theirs, so every repeated gossip counts again.
    Sum,
}

/// One node's replica, its gossip schedule and what it knows of its peers.
#[derive(Debug, Default)]
pub struct PnCounter {
    state: CounterState,
    gossip_rounds: u64,
    next_gossip: Option<Instant>,
    /// The last state each peer gossiped to us.
    peer_states: HashMap<String, CounterState>,
    /// When our state last changed, while we have not yet seen every peer catch up.
    unconverged_since: Option<Instant>,
    /// Our latest estimate of how long the last change took to reach every peer.
    convergence_ms: Option<u64>,
    /// How gossip is merged (a deliberate bug may change it).
    merge: Merge,
    /// The `no-gossip` bug: never send gossip.
    silent: bool,
}

impl PnCounter {
    /// `add {delta}` -> `add_ok`.
    pub fn add(
        &mut self,
        req: &Envelope,
        me: &str,
        peers: &[String],
    ) -> Result<Map<String, Value>, RpcError> {
        let delta = req.int("delta")?;
        let half = if delta >= 0 {
            &mut self.state.p
        } else {
            &mut self.state.n
        };
        let slot = half.entry(me.to_owned()).or_insert(0);
        *slot = slot
            .checked_add(delta.unsigned_abs())
            .ok_or_else(|| RpcError::malformed("counter would overflow"))?;
        if delta != 0 {
            self.changed(peers);
        }
        Ok(body("add_ok", []))
    }

    /// Sets the merge rule and whether gossip is sent (deliberate bugs).
    pub fn set_behaviour(&mut self, merge: Merge, gossip: bool) {
        self.merge = merge;
        self.silent = !gossip;
    }

    /// The state as JSON, for persisting.
    pub fn snapshot(&self) -> Value {
        json!({"p": self.state.p, "n": self.state.n})
    }

    /// Merges a persisted snapshot back in (a malformed one is ignored) and, when it holds
    /// counts, starts gossiping them: peers restarted at the same moment may hold nothing,
    /// and only gossip brings them back.
    pub fn restore(&mut self, saved: &Value, peers: &[String]) {
        let counts = |v: &Value| -> Counts {
            v.as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, c)| Some((k.clone(), c.as_u64()?)))
                        .collect()
                })
                .unwrap_or_default()
        };
        let saved = CounterState {
            p: counts(&saved["p"]),
            n: counts(&saved["n"]),
        };
        self.state.merge(&saved, Merge::Maximum);
        if !self.state.is_empty() {
            self.changed(peers);
        }
    }

    /// `read` -> `read_ok {value}`.
    pub fn read(&self) -> Map<String, Value> {
        body("read_ok", [("value", self.state.value().into())])
    }

    /// `replicate {p_counters, n_counters}`: merges a peer's state. The reply (sent only
    /// when the message carries a `msg_id`) is `replicate_ok`.
    pub fn replicate(
        &mut self,
        req: &Envelope,
        peers: &[String],
    ) -> Result<Map<String, Value>, RpcError> {
        let incoming = CounterState {
            p: counts(req, "p_counters")?,
            n: counts(req, "n_counters")?,
        };
        if self.state.merge(&incoming, self.merge) {
            self.changed(peers);
        }
        if peers.contains(&req.src) {
            self.peer_states.insert(req.src.clone(), incoming);
        }
        self.note_convergence(peers);
        Ok(body("replicate_ok", []))
    }

    /// `gossip_status` -> `gossip_status_ok {local_value, gossip_rounds, peers_synced, convergence_ms}`.
    pub fn status(&self, peers: &[String]) -> Map<String, Value> {
        body(
            "gossip_status_ok",
            [
                ("local_value", self.state.value().into()),
                ("gossip_rounds", self.gossip_rounds.into()),
                ("peers_synced", self.peers_synced(peers).into()),
                ("convergence_ms", json!(self.convergence_ms)),
            ],
        )
    }

    /// When the next gossip round is due, if gossip is running.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.next_gossip
    }

    /// Runs a gossip round if one is due: full state to up to [`GOSSIP_FANOUT`] random peers.
    /// Returns the messages to send (fire and forget: no `msg_id`).
    pub fn tick(
        &mut self,
        now: Instant,
        peers: &[String],
        rng: &mut impl Rng,
    ) -> Vec<(String, Map<String, Value>)> {
        if self.silent {
            return Vec::new();
        }
        match self.next_gossip {
            Some(due) if due <= now => {
                // Keep the cadence, but never try to catch up on missed rounds.
                self.next_gossip = Some((due + GOSSIP_INTERVAL).max(now));
            }
            _ => return Vec::new(),
        }
        self.gossip_rounds += 1;
        let chosen = sample(rng, peers.len(), GOSSIP_FANOUT.min(peers.len()));
        chosen
            .into_iter()
            .map(|i| (peers[i].clone(), self.state.to_gossip()))
            .collect()
    }

    fn changed(&mut self, peers: &[String]) {
        self.unconverged_since.get_or_insert_with(Instant::now);
        if self.next_gossip.is_none() && !peers.is_empty() && !self.state.is_empty() {
            self.next_gossip = Some(Instant::now() + GOSSIP_INTERVAL);
        }
        self.note_convergence(peers);
    }

    fn peers_synced(&self, peers: &[String]) -> usize {
        peers
            .iter()
            .filter(|p| self.peer_states.get(*p) == Some(&self.state))
            .count()
    }

    fn note_convergence(&mut self, peers: &[String]) {
        if let Some(since) = self.unconverged_since {
            if self.peers_synced(peers) == peers.len() {
                self.convergence_ms = Some(since.elapsed().as_millis() as u64);
                self.unconverged_since = None;
            }
        }
    }
}

/// The `pn-counter` workload (seed 004): `add`, `read`, `gossip_status`, and `replicate`
/// gossip between nodes; the counter is kept in `NODE_DATA_DIR`. The same service is
/// Maelstrom's `g-counter` ([`CounterService::grow_only`]).
#[derive(Debug, Default)]
pub struct CounterService {
    counter: PnCounter,
    /// Where the counter is kept: nowhere without a data folder or under
    /// `--bug forget-increments`.
    data: Option<DataDir>,
    /// Maelstrom's `g-counter`: a negative delta is refused (error 12), the service is
    /// served only when pinned, and it keeps its counter in a file of its own.
    grow_only: bool,
}

impl CounterService {
    /// Maelstrom's `g-counter`: this counter with non-negative deltas only (a G-counter is
    /// a PN-counter whose decrements stay zero). It reads pn-counter's `--bug` modes.
    pub fn grow_only() -> CounterService {
        CounterService {
            grow_only: true,
            ..CounterService::default()
        }
    }

    fn file(&self) -> &'static str {
        if self.grow_only {
            "g-counter.json"
        } else {
            COUNTER_FILE
        }
    }

    /// Persists the counter before an add is acknowledged, so a restarted node never
    /// counts its own increments from zero again (peers' larger maximum would hide them).
    fn save(&self) -> Result<(), RpcError> {
        match &self.data {
            Some(data) => data
                .save(self.file(), &self.counter.snapshot())
                .map_err(|e| RpcError {
                    code: 13,
                    text: format!("could not persist the counter: {e}"),
                }),
            None => Ok(()),
        }
    }
}

impl Service for CounterService {
    fn name(&self) -> &'static str {
        if self.grow_only {
            "g-counter"
        } else {
            "pn-counter"
        }
    }

    fn about(&self) -> &'static str {
        if self.grow_only {
            "Maelstrom's g-counter: the PN-counter with non-negative deltas only"
        } else {
            "PN-counter replicated by gossip (seed 004)"
        }
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        matches!(kind, "add" | "read" | "replicate" | "gossip_status")
    }

    /// pn-counter runs in `auto`; g-counter, whose `add` and `read` pn-counter serves
    /// there, only when pinned.
    fn in_auto(&self) -> bool {
        !self.grow_only
    }

    /// Reads its defects (g-counter reads pn-counter's) and merges back the counter an
    /// earlier run saved.
    fn init(&mut self, setup: &Setup, ctx: &mut Context) {
        let bug = setup.bug("pn-counter");
        let merge = match bug {
            Some(Bug::OverwriteMerge) => Merge::Overwrite,
            Some(Bug::DoubleCount) => Merge::Sum,
            _ => Merge::Maximum,
        };
        self.counter
            .set_behaviour(merge, bug != Some(Bug::NoGossip));
        self.data = ctx
            .data
            .filter(|_| bug != Some(Bug::ForgetIncrements))
            .cloned();
        if let Some(saved) = self.data.as_ref().and_then(|d| d.load(self.file())) {
            self.counter.restore(&saved, ctx.peers);
        }
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        match req.kind() {
            "add" => {
                if self.grow_only && req.int("delta")? < 0 {
                    return Err(RpcError::malformed("a g-counter's delta must be >= 0"));
                }
                let reply = self.counter.add(req, ctx.me, ctx.peers)?;
                self.save()?;
                Ok(Some(reply))
            }
            "read" => Ok(Some(self.counter.read())),
            "replicate" => self.counter.replicate(req, ctx.peers).map(Some),
            _ => Ok(Some(self.counter.status(ctx.peers))),
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.counter.next_deadline()
    }

    /// Gossips (fire and forget: no `msg_id`) when a round is due.
    fn tick(&mut self, now: Instant, ctx: &mut Context) {
        for (peer, gossip) in self.counter.tick(now, ctx.peers, ctx.rng) {
            ctx.out.send_unnumbered(&peer, gossip);
        }
    }
}

fn counts(req: &Envelope, name: &str) -> Result<Counts, RpcError> {
    let wrong = || {
        RpcError::malformed(format!(
            "field `{name}` must map node ids to non-negative integers"
        ))
    };
    req.field(name)?
        .as_object()
        .ok_or_else(wrong)?
        .iter()
        .map(|(id, v)| v.as_u64().map(|c| (id.clone(), c)).ok_or_else(wrong))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn req(body: Value) -> Envelope {
        Envelope::parse(&json!({"src": "n2", "dest": "n1", "body": body}).to_string()).unwrap()
    }

    #[test]
    fn adds_merge_by_maximum_and_gossip_to_two_peers() {
        let peers: Vec<String> = vec!["n2".into(), "n3".into(), "n4".into()];
        let mut c = PnCounter::default();
        assert!(
            c.next_deadline().is_none(),
            "no gossip before there is state"
        );
        c.add(&req(json!({"type": "add", "delta": 5})), "n1", &peers)
            .unwrap();
        c.add(&req(json!({"type": "add", "delta": -2})), "n1", &peers)
            .unwrap();
        let gossip = json!({"type": "replicate", "p_counters": {"n1": 1, "n2": 10}, "n_counters": {"n2": 1}});
        c.replicate(&req(gossip.clone()), &peers).unwrap();
        c.replicate(&req(gossip), &peers).unwrap();
        assert_eq!(c.read()["value"], 5 - 2 + 10 - 1);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let due = c.next_deadline().unwrap();
        let sent = c.tick(due, &peers, &mut rng);
        assert_eq!(sent.len(), 2);
        assert_ne!(sent[0].0, sent[1].0);
        assert_eq!(sent[0].1["p_counters"], json!({"n1": 5, "n2": 10}));
        assert_eq!(c.status(&peers)["gossip_rounds"], 1);
    }

    #[test]
    fn a_restored_state_is_gossiped_again() {
        let peers = vec!["n2".to_owned(), "n3".to_owned()];
        let mut c = PnCounter::default();
        c.restore(&json!({"p": {"n1": 4}, "n": {}}), &peers);
        assert!(
            c.next_deadline().is_some(),
            "gossip restarts after a restore"
        );
        let mut empty = PnCounter::default();
        empty.restore(&json!({"p": {}, "n": {}}), &peers);
        assert!(empty.next_deadline().is_none(), "nothing to gossip");
    }

    #[test]
    fn rejects_negative_counts_without_merging() {
        let mut c = PnCounter::default();
        let bad = json!({"type": "replicate", "p_counters": {"n2": -1}, "n_counters": {}});
        assert_eq!(c.replicate(&req(bad), &[]).unwrap_err().code, 12);
        assert_eq!(c.read()["value"], 0);
    }

    #[test]
    fn convergence_is_estimated_once_every_peer_echoes_our_state() {
        let peers: Vec<String> = vec!["n2".into()];
        let mut c = PnCounter::default();
        c.add(&req(json!({"type": "add", "delta": 3})), "n1", &peers)
            .unwrap();
        assert_eq!(c.status(&peers)["convergence_ms"], Value::Null);
        c.replicate(
            &req(json!({"type": "replicate", "p_counters": {"n1": 3}, "n_counters": {}})),
            &peers,
        )
        .unwrap();
        assert!(c.status(&peers)["convergence_ms"].is_u64());
        assert_eq!(c.status(&peers)["peers_synced"], 1);
    }
}
