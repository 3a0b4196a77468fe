//! The router: one thread that owns the network, the clients, the nemesis, the timers and
//! the record, and moves every line between processes.
//!
//! Node output arrives on one shared channel (a reader thread per node feeds it); lines go
//! out through each node's writer thread, so a slow or stopped node never stalls the router.
//! Lines are routed by `dest` as written: to another node through the network model, to a
//! client directly, to `c0` (the harness); anything else is recorded and dropped.

use super::cluster::Cluster;
use super::driver::{Driver, LeaderSign, Next, Op};
use super::nemesis::{self, Action, Aim, Planned, Shape};
use super::network::{Fate, Network};
use super::probe::{Probe, ProbeEnd};
use super::{sub_seed, SimConfig};
use crate::check::net::{NetFate, NetSummary, UNKNOWN_DESTINATION};
use crate::history::{EventType, HistoryEvent, Process, Store};
use crate::process::{OutputEvent, RawLine, TaggedOutput, MAX_LINE_BYTES};
use crate::protocol::Message;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How a simulated run ended, before checking.
#[derive(Debug)]
pub enum RunEnd {
    /// The run went through all its phases.
    Finished,
    /// Ctrl-C or SIGTERM stopped it.
    Interrupted,
    /// The cluster could not start: a node could not be spawned, exited, or did not answer init.
    NodeError(String),
}

/// What a run leaves for the checks and the report.
pub struct RunOutput {
    /// How it ended.
    pub end: RunEnd,
    /// The history, as written to the store.
    pub history: Vec<HistoryEvent>,
    /// The routed traffic, summed.
    pub net: NetSummary,
    /// The store.
    pub store: Store,
}

/// What the run is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for every node's `init_ok`.
    Init,
    /// Clients run operations and the nemesis injects faults.
    Running,
    /// Faults are healed; waiting for in-flight operations and the quiet period.
    Quiet,
    /// The workload's final operations run.
    Final,
}

enum Timer {
    Deliver {
        to: usize,
        writer: usize,
        sent: u64,
        line: String,
    },
    ClientTimeout {
        client: usize,
        msg_id: u64,
    },
    Nemesis(usize),
}

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

struct Pending {
    msg_id: u64,
    op: Op,
    f: String,
    final_phase: bool,
}

/// Progress as the terminal shows it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Seconds since clients started.
    pub elapsed_s: f64,
    /// Operations completed.
    pub completed: u64,
    /// Faults in force, in words.
    pub faults: String,
    /// The phase, in words.
    pub phase: &'static str,
}

struct Router<'a> {
    cfg: &'a SimConfig,
    start: Instant,
    t0: Instant,
    store: Store,
    history: Vec<HistoryEvent>,
    net_summary: NetSummary,
    net: Network,
    cluster: Cluster,
    inbox: Receiver<TaggedOutput>,
    workload: Box<dyn Driver>,
    workload_rng: ChaCha8Rng,
    timers: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
    clients: Vec<Option<Pending>>,
    next_msg_id: u64,
    phase: Phase,
    awaiting_init: HashMap<u64, usize>,
    next_op_at: Instant,
    plan: Vec<Planned>,
    final_ops: Vec<Op>,
    completed: u64,
    faults: Vec<String>,
    killed: std::collections::BTreeSet<usize>,
    probe: Option<Probe>,
    draining: bool,
    leader_hint: Option<usize>,
    /// True once a node sent a message only a leader sends (the driver's certain sign, Raft's
    /// `append_entries`): the hint then follows the wire alone.
    leader_on_wire: bool,
    /// True once convergence after the last operation was measured (or skipped).
    probed_end: bool,
    /// How long the machine kept eddy and the nodes waiting for a core.
    lag: super::lag::LagMeter,
    /// Kinds of final-phase request none of which was served yet.
    final_unserved: std::collections::BTreeSet<String>,
    /// When the final phase stops sending again the kinds not served.
    final_deadline: Instant,
    /// When the kinds not served go out again.
    final_retry_at: Option<Instant>,
    quiet_until: Instant,
    offsets: Vec<i64>,
    /// Pauses and kills aimed at the leader: the action's name and the planned node, and
    /// the node actually hit (its resume or restart goes there too).
    aimed_instead: HashMap<(&'static str, usize), usize>,
}

/// Creates the run folder; until the run ends well its results say "unknown", so that is
/// what stays if eddy itself dies.
pub fn open_store(cfg: &SimConfig) -> std::io::Result<Store> {
    let mut store = Store::create(&cfg.store_root, cfg.workload, cfg.seed)?;
    // Until the run ends well, the store says its verdict is unknown: if eddy itself dies,
    // that is what stays.
    store.write_results(&json!({
        "valid": "unknown", "workload": cfg.workload, "seed": cfg.seed,
        "nodes": (1..=cfg.node_count).map(|i| format!("n{i}")).collect::<Vec<_>>(),
        "stopped_early": "eddy did not finish this run", "options": cfg,
    }))?;
    Ok(store)
}

/// Runs the simulation described by `cfg`, recording into a new store; `progress` is
/// called about ten times a second.
pub fn run(
    cfg: &SimConfig,
    workload: Box<dyn Driver>,
    progress: &dyn Fn(&Progress),
) -> std::io::Result<RunOutput> {
    let store = open_store(cfg)?;
    let mut nemesis_rng = ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 3));
    let plan = nemesis::plan(
        &cfg.nemesis,
        cfg.node_count,
        cfg.time_limit,
        &mut nemesis_rng,
    );
    let mut router = Router::new(cfg, workload, store, plan);
    let end = router.run(progress);
    router.finish();
    router.store.flush()?;
    Ok(RunOutput {
        end,
        history: router.history,
        net: router.net_summary,
        store: router.store,
    })
}

/// For the router benchmark: starts `cfg.node_count` nodes, writes `messages` requests
/// into them that each make a node answer another node (a `replicate` that names another
/// node as its sender), and routes the answers through the network model and the store
/// exactly as a run does. Returns how long routing all of them took.
pub fn relay_benchmark(cfg: &SimConfig, messages: usize) -> std::io::Result<Duration> {
    let idle = Box::new(super::driver::Idle);
    let store = Store::create(&cfg.store_root, "relay", cfg.seed)?;
    let mut router = Router::new(cfg, idle, store, Vec::new());
    let ids = router.cluster.ids().to_vec();
    for i in 0..cfg.node_count {
        router.start_node(i).map_err(std::io::Error::other)?;
    }
    while !router.awaiting_init.is_empty() {
        let output = router
            .inbox
            .recv_timeout(cfg.init_timeout)
            .map_err(std::io::Error::other)?;
        router.on_output(output);
    }
    let n = cfg.node_count;
    let requests: Vec<(usize, String)> = (0..messages)
        .map(|k| {
            let (to, from) = (k % n, (k + 1 + k / n % (n - 1).max(1)) % n);
            let line = json!({"src": ids[from], "dest": ids[to], "body": {"type": "replicate", "msg_id": k, "p_counters": {}, "n_counters": {}}});
            (to, line.to_string())
        })
        .collect();
    let started = Instant::now();
    for (to, line) in &requests {
        router.cluster.send(*to, line);
    }
    while router.net_summary.sent() < messages as u64 {
        let output = router
            .inbox
            .recv_timeout(Duration::from_secs(10))
            .map_err(std::io::Error::other)?;
        router.on_output(output);
        router.fire_due_timers(Instant::now());
    }
    let elapsed = started.elapsed();
    router.finish();
    Ok(elapsed)
}

impl<'a> Router<'a> {
    fn new(
        cfg: &'a SimConfig,
        workload: Box<dyn Driver>,
        store: Store,
        plan: Vec<Planned>,
    ) -> Router<'a> {
        let ids: Vec<String> = (1..=cfg.node_count).map(|i| format!("n{i}")).collect();
        let (tx, inbox) = mpsc::sync_channel(65_536);
        let cluster = Cluster::new(
            cfg.command.clone(),
            ids,
            tx,
            store.dir().join("node-logs"),
            store.dir().join("data"),
        );
        let now = Instant::now();
        Router {
            cfg,
            start: now,
            t0: now,
            store,
            history: Vec::new(),
            net_summary: NetSummary::default(),
            net: Network::new(cfg.network, sub_seed(cfg.seed, 2)),
            cluster,
            inbox,
            workload,
            workload_rng: ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 1)),
            timers: BinaryHeap::new(),
            seq: 0,
            clients: (0..cfg.concurrency).map(|_| None).collect(),
            next_msg_id: 1,
            phase: Phase::Init,
            awaiting_init: HashMap::new(),
            next_op_at: now,
            plan,
            final_ops: Vec::new(),
            completed: 0,
            faults: Vec::new(),
            killed: std::collections::BTreeSet::new(),
            probe: None,
            draining: false,
            leader_hint: None,
            leader_on_wire: false,
            probed_end: false,
            lag: super::lag::LagMeter::new(cfg.node_count),
            final_unserved: std::collections::BTreeSet::new(),
            final_deadline: now,
            final_retry_at: None,
            quiet_until: now,
            offsets: vec![0; cfg.node_count],
            aimed_instead: HashMap::new(),
        }
    }
    fn run(&mut self, progress: &dyn Fn(&Progress)) -> RunEnd {
        for i in 0..self.cfg.node_count {
            if let Err(error) = self.start_node(i) {
                return RunEnd::NodeError(error.to_string());
            }
        }
        let init_deadline = Instant::now() + self.cfg.init_timeout;
        let mut last_progress = Instant::now();
        loop {
            if crate::process::interrupted() {
                return RunEnd::Interrupted;
            }
            let now = Instant::now();
            if self.phase == Phase::Init {
                if self.awaiting_init.is_empty() {
                    self.begin_running();
                } else if now >= init_deadline {
                    let mut late: Vec<&str> = self
                        .awaiting_init
                        .values()
                        .map(|&i| self.cluster.ids()[i].as_str())
                        .collect();
                    late.sort_unstable();
                    return RunEnd::NodeError(format!(
                        "{} never answered init within {} s",
                        late.join(", "),
                        self.cfg.init_timeout.as_secs_f64()
                    ));
                }
            }
            if let Some(error) = self.fire_due_timers(now) {
                return error;
            }
            if self.advance_phase(now) {
                return RunEnd::Finished;
            }
            self.note_stalls(now);
            if now.duration_since(last_progress) >= Duration::from_millis(100) {
                last_progress = now;
                progress(&self.progress());
                if self.store.flush().is_err() {
                    return RunEnd::Interrupted;
                }
            }
            let wake = self
                .next_wake(init_deadline)
                .min(now + Duration::from_millis(100));
            match self
                .inbox
                .recv_timeout(wake.saturating_duration_since(Instant::now()))
            {
                Ok(output) => {
                    if let Some(error) = self.on_output(output) {
                        return error;
                    }
                    for _ in 0..4096 {
                        match self.inbox.try_recv() {
                            Ok(output) => {
                                if let Some(error) = self.on_output(output) {
                                    return error;
                                }
                            }
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("the router holds a sender through the cluster")
                }
            }
        }
    }

    fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_nanos() as u64
    }

    fn next_wake(&self, init_deadline: Instant) -> Instant {
        let mut wake = self
            .timers
            .peek()
            .map_or(Instant::now() + Duration::from_secs(1), |t| t.0.at);
        match self.phase {
            Phase::Init => wake = wake.min(init_deadline),
            Phase::Running => wake = wake.min(self.next_op_at).min(self.t0 + self.cfg.time_limit),
            Phase::Quiet => wake = wake.min(self.quiet_until),
            Phase::Final => {
                if let Some(at) = self.final_retry_at {
                    wake = wake.min(at);
                }
            }
        }
        if let Some(probe) = &self.probe {
            wake = wake.min(probe.next_wake());
        }
        wake
    }

    fn schedule(&mut self, at: Instant, timer: Timer) {
        self.seq += 1;
        self.timers.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            timer,
        }));
    }

    fn msg_id(&mut self) -> u64 {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        id
    }

    fn start_node(&mut self, i: usize) -> Result<(), crate::process::SpawnError> {
        let msg_id = self.msg_id();
        let id = &self.cluster.ids()[i];
        let init = json!({"src": "c0", "dest": id, "body": {"type": "init", "msg_id": msg_id, "node_id": id, "node_ids": self.cluster.ids()}});
        self.awaiting_init.insert(msg_id, i);
        self.cluster.start(i, &init.to_string())
    }

    fn begin_running(&mut self) {
        self.phase = Phase::Running;
        self.t0 = Instant::now();
        self.next_op_at = self.t0;
        // Where history time 0 falls on the wall clock that nodes read, so that a node's
        // local time (wall clock plus the offsets eddy applied) can be mapped to run time.
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(self.start.elapsed());
        self.harness(
            None,
            "clock",
            json!({"unix_ms_at_zero": wall.as_micros() as f64 / 1000.0}),
        );
        for (i, p) in self.plan.iter().enumerate() {
            self.seq += 1;
            self.timers.push(Reverse(Scheduled {
                at: self.t0 + p.at,
                seq: self.seq,
                timer: Timer::Nemesis(i),
            }));
        }
    }

    /// Moves between phases and dispatches operations; true when the run is over.
    fn advance_phase(&mut self, now: Instant) -> bool {
        let end_of_ops = self.t0 + self.cfg.time_limit;
        match self.phase {
            Phase::Init => {}
            Phase::Running if now >= end_of_ops => self.end_running(now),
            Phase::Running if self.probe.is_some() => self.drive_probe(now),
            Phase::Running if self.draining => {
                if self.clients.iter().all(Option::is_none) {
                    self.draining = false;
                    self.start_probe("round");
                }
            }
            Phase::Running => {
                while now >= self.next_op_at {
                    let Some(client) = self.free_client() else {
                        break;
                    };
                    match self
                        .workload
                        .next_op(&mut self.workload_rng, self.cfg.node_count)
                    {
                        Next::Op(op) => self.invoke(client, op, false),
                        Next::EndOfRound => {
                            self.draining = true;
                            break;
                        }
                        Next::Done => {
                            self.end_running(now);
                            return false;
                        }
                    }
                    let gap =
                        -(1.0 - self.workload_rng.random::<f64>()).ln() / self.cfg.rate.max(1e-9);
                    self.next_op_at += Duration::from_secs_f64(gap);
                    if self.next_op_at < now {
                        // Do not make up for time lost waiting on a free client.
                        self.next_op_at = now;
                    }
                }
            }
            Phase::Quiet if self.probe.is_some() => self.drive_probe(now),
            Phase::Quiet => {
                let idle = self.clients.iter().all(Option::is_none);
                if idle && !self.probed_end && self.workload.probe().is_some() {
                    self.probed_end = true;
                    self.start_probe("end");
                } else if idle && now >= self.quiet_until {
                    self.begin_final();
                }
            }
            Phase::Final => {
                while !self.final_ops.is_empty() {
                    let Some(client) = self.free_client() else {
                        break;
                    };
                    let op = self.final_ops.pop().expect("not empty");
                    self.invoke(client, op, true);
                }
                if !self.final_ops.is_empty() || self.clients.iter().any(Option::is_some) {
                    return false;
                }
                return self.final_round_over(now);
            }
        }
        false
    }

    /// Ends the running phase: no more operations, every fault healed, every clock offset
    /// stepped back to zero.
    fn end_running(&mut self, now: Instant) {
        self.phase = Phase::Quiet;
        self.probe = None;
        self.draining = false;
        self.quiet_until = now + self.workload.quiet_period();
        let mut heals = Vec::new();
        if self.faults.iter().any(|f| f.starts_with("partition")) {
            heals.push(Action::Heal);
        }
        heals.extend(
            (0..self.cfg.node_count)
                .filter(|&n| self.cluster.is_paused(n))
                .map(|node| Action::Resume { node }),
        );
        heals.extend(self.killed.iter().map(|&node| Action::Restart { node }));
        heals.extend(
            self.offsets
                .iter()
                .enumerate()
                .filter(|(_, o)| **o != 0)
                .map(|(node, _)| Action::Drift { node, offset_ms: 0 }),
        );
        for action in heals {
            if let Some(RunEnd::NodeError(why)) = self.apply(action) {
                self.harness(None, "crash", json!({"exit": why}));
            }
        }
    }

    fn begin_final(&mut self) {
        self.phase = Phase::Final;
        self.final_ops = self.workload.final_ops(self.cfg.node_count);
        self.final_ops.reverse();
        self.final_unserved = self.final_ops.iter().map(|op| op_kind(&op.body)).collect();
        self.final_deadline = Instant::now() + FINAL_RETRIES_FOR;
    }

    /// True when the final phase is over: every kind of its requests was served once, or
    /// [`FINAL_RETRIES_FOR`] has passed. Until then the requests of a kind none of which
    /// was served go out again every [`FINAL_RETRY_EVERY`]: a cluster that is electing a
    /// leader at the moment the final reads go out (on a busy machine, say) is not judged
    /// unavailable for it.
    fn final_round_over(&mut self, now: Instant) -> bool {
        if self.final_unserved.is_empty() || now >= self.final_deadline {
            return true;
        }
        match self.final_retry_at {
            None => self.final_retry_at = Some(now + FINAL_RETRY_EVERY),
            Some(at) if now >= at => {
                self.final_retry_at = None;
                let unserved = &self.final_unserved;
                self.final_ops = self
                    .workload
                    .final_ops(self.cfg.node_count)
                    .into_iter()
                    .filter(|op| unserved.contains(&op_kind(&op.body)))
                    .rev()
                    .collect();
            }
            Some(_) => {}
        }
        false
    }

    /// For workloads with a leader, every partition puts the node that last sent
    /// `append_entries` on the minority side (swapping it with a minority member): cutting
    /// the leader off is the fault that matters.
    fn aim_at_leader(&self, groups: &[Vec<usize>]) -> Vec<Vec<usize>> {
        let (true, Some(leader), [a, b]) =
            (self.workload.aim_at_leader(), self.leader_hint, groups)
        else {
            return groups.to_vec();
        };
        let (mut minority, mut majority) = if a.len() <= b.len() {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        if let Some(at) = majority.iter().position(|&n| n == leader) {
            majority[at] = minority[0];
            minority[0] = leader;
        }
        minority.sort_unstable();
        majority.sort_unstable();
        vec![minority, majority]
    }

    /// A planned fault as it lands. Faults aimed at the leader hit the leader eddy last saw
    /// (when it is up and running): a `...-leader` partition cuts it off alone, a pause or a
    /// kill stops it (and its resume or restart follows it), and a clock step against the
    /// leader sets its offset to the planned one (minus the bound) and every other node's
    /// to the opposite. For workloads with a leader, the plain partition also puts the
    /// leader on the minority side, and the plain pause and drift step hit the leader:
    /// cutting off, stopping or skewing the leader is the fault that matters. Healing at the
    /// end of the run is never aimed.
    fn aim(&mut self, planned: &Planned) -> Vec<Action> {
        let leader = match planned.aim {
            Aim::Leader => self.leader_up(),
            Aim::AsPlanned => None,
        };
        let action = match planned.action.clone() {
            Action::Partition {
                shape: Shape::Leader,
                groups,
            } => Action::Partition {
                shape: Shape::Leader,
                groups: match leader {
                    Some(l) => vec![
                        vec![l],
                        (0..self.cfg.node_count).filter(|&n| n != l).collect(),
                    ],
                    None => groups,
                },
            },
            Action::Partition {
                shape: Shape::Minority,
                groups,
            } => Action::Partition {
                shape: Shape::Minority,
                groups: self.aim_at_leader(&groups),
            },
            Action::Pause { node } => {
                let aimed = leader.unwrap_or_else(|| self.fault_target(node));
                self.aimed_instead.insert(("pause", node), aimed);
                Action::Pause { node: aimed }
            }
            Action::Resume { node } => Action::Resume {
                node: self.aimed_instead.remove(&("pause", node)).unwrap_or(node),
            },
            Action::Kill { node } => {
                let aimed = leader.unwrap_or(node);
                self.aimed_instead.insert(("kill", node), aimed);
                Action::Kill { node: aimed }
            }
            Action::Restart { node } => Action::Restart {
                node: self.aimed_instead.remove(&("kill", node)).unwrap_or(node),
            },
            Action::Drift { node, offset_ms } if planned.aim == Aim::Leader => {
                let holder = leader.unwrap_or(node);
                return (0..self.cfg.node_count)
                    .map(|n| Action::Drift {
                        node: n,
                        offset_ms: if n == holder { offset_ms } else { -offset_ms },
                    })
                    .collect();
            }
            Action::Drift { node, offset_ms } => Action::Drift {
                node: self.fault_target(node),
                offset_ms,
            },
            other => other,
        };
        vec![action]
    }

    /// The leader eddy last saw, when it is up and not paused.
    fn leader_up(&self) -> Option<usize> {
        self.leader_hint
            .filter(|&l| self.cluster.is_up(l) && !self.cluster.is_paused(l))
    }

    /// The node a fault planned for `planned` hits: the leader eddy last saw when the
    /// workload aims at the leader and that node is up and running, else `planned`.
    fn fault_target(&self, planned: usize) -> usize {
        self.leader_up()
            .filter(|_| self.workload.aim_at_leader())
            .unwrap_or(planned)
    }

    /// Starts measuring convergence, unless a fault makes agreement impossible.
    fn start_probe(&mut self, reason: &str) {
        let Some(request) = self.workload.probe() else {
            return;
        };
        if !self.faults.is_empty() {
            let body = json!({"reason": reason, "skipped": self.faults.join(", ")});
            self.harness(None, "convergence", body);
            return;
        }
        self.probe = Some(Probe::new(
            reason,
            request,
            self.cfg.node_count,
            self.workload.probe_timeout(),
        ));
    }

    /// Sends due probes and records the measurement once it ends.
    fn drive_probe(&mut self, now: Instant) {
        let up: Vec<bool> = (0..self.cfg.node_count)
            .map(|n| self.cluster.is_up(n))
            .collect();
        let Some(probe) = self.probe.as_mut() else {
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
        let Some(end) = self.probe.as_ref().and_then(|p| p.end(now, &up)) else {
            return;
        };
        let reason = self.probe.take().expect("probing").reason;
        let body = match end {
            ProbeEnd::Converged { ms, value } => {
                json!({"reason": reason, "ms": (ms * 1000.0).round() / 1000.0, "value": value})
            }
            ProbeEnd::TimedOut { last } => {
                json!({"reason": reason, "timed_out": true, "last_values": last})
            }
        };
        self.harness(None, "convergence", body);
    }

    /// Records, as harness `stall` events, how long eddy's router and each node waited
    /// for a core since the last sample, where that was long (see `sim::lag`).
    fn note_stalls(&mut self, now: Instant) {
        let pids: Vec<Option<u32>> = (0..self.cfg.node_count)
            .map(|i| self.cluster.pid(i))
            .collect();
        for stall in self.lag.sample(now, &pids) {
            let (node, body) = stall.event(self.cluster.ids());
            self.harness(node, "stall", body);
        }
    }

    fn free_client(&self) -> Option<usize> {
        self.clients.iter().position(Option::is_none)
    }

    fn record(
        &mut self,
        process: Process,
        node: Option<String>,
        kind: EventType,
        f: &str,
        body: Value,
        final_phase: bool,
    ) {
        let mut event = HistoryEvent::new(process, node, kind, f, body);
        event.phase = final_phase.then(|| "final".to_owned());
        let time = self.ns(Instant::now());
        self.store.append(&mut self.history, event, time);
    }

    /// Records something eddy itself saw or measured (process `harness`).
    fn harness(&mut self, node: Option<String>, f: &str, body: Value) {
        self.record(
            Process::Named("harness".into()),
            node,
            EventType::Info,
            f,
            body,
            false,
        );
    }

    fn invoke(&mut self, client: usize, mut op: Op, final_phase: bool) {
        if op.to_leader {
            // A leader eddy killed cannot answer: until a new one shows itself, the request
            // goes where the workload drew it (a follower forwards it or says who leads).
            op.node = self
                .leader_hint
                .filter(|&l| self.cluster.is_up(l))
                .unwrap_or(op.node);
        }
        let msg_id = self.msg_id();
        let node_id = self.cluster.ids()[op.node].clone();
        let f = op.body["type"].as_str().unwrap_or("?").to_owned();
        self.record(
            Process::Client(client as u64 + 1),
            Some(node_id.clone()),
            EventType::Invoke,
            &f,
            op.body.clone(),
            final_phase,
        );
        let mut body = op.body.clone();
        body["msg_id"] = msg_id.into();
        let line =
            json!({"src": format!("c{}", client + 1), "dest": node_id, "body": body}).to_string();
        let pending = Pending {
            msg_id,
            op,
            f,
            final_phase,
        };
        if self.cluster.send(pending.op.node, &line) {
            self.clients[client] = Some(pending);
            self.schedule(
                Instant::now() + self.cfg.request_timeout,
                Timer::ClientTimeout { client, msg_id },
            );
        } else {
            // The node is down: the request certainly never reached it.
            let reply =
                json!({"type": "error", "code": 1, "text": format!("eddy: {node_id} is down")});
            self.clients[client] = Some(pending);
            self.complete(client, EventType::Fail, reply);
        }
    }

    fn complete(&mut self, client: usize, kind: EventType, reply: Value) {
        let Some(pending) = self.clients[client].take() else {
            return;
        };
        let node = self.cluster.ids()[pending.op.node].clone();
        if pending.final_phase && crate::check::availability::served(&pending.f, kind, &reply) {
            self.final_unserved.remove(&pending.f);
        }
        self.record(
            Process::Client(client as u64 + 1),
            Some(node),
            kind,
            &pending.f,
            reply,
            pending.final_phase,
        );
        self.completed += 1;
    }

    fn fire_due_timers(&mut self, now: Instant) -> Option<RunEnd> {
        while self.timers.peek().is_some_and(|t| t.0.at <= now) {
            let Reverse(Scheduled { timer, .. }) = self.timers.pop().expect("peeked");
            match timer {
                Timer::Deliver {
                    to,
                    writer,
                    sent,
                    line,
                } => self.deliver(to, writer, sent, &line),
                Timer::ClientTimeout { client, msg_id } => {
                    if self.clients[client]
                        .as_ref()
                        .is_some_and(|p| p.msg_id == msg_id)
                    {
                        let text = format!(
                            "eddy: no reply within {} ms",
                            self.cfg.request_timeout.as_millis()
                        );
                        self.complete(
                            client,
                            EventType::Info,
                            json!({"type": "error", "code": 0, "text": text}),
                        );
                    }
                }
                // Faults belong to the running phase; its end heals whatever is in force.
                Timer::Nemesis(_) if self.phase != Phase::Running => {}
                Timer::Nemesis(i) => {
                    for action in self.aim(&self.plan[i].clone()) {
                        if let Some(error) = self.apply(action) {
                            return Some(error);
                        }
                    }
                }
            }
        }
        None
    }

    fn apply(&mut self, action: Action) -> Option<RunEnd> {
        let ids = self.cluster.ids().to_vec();
        let begins_a_fault = matches!(
            action,
            Action::Partition { .. }
                | Action::Reach { .. }
                | Action::Pause { .. }
                | Action::Kill { .. }
        );
        if begins_a_fault {
            // A convergence measurement that a fault interrupts would charge the fault's
            // length to the nodes: it is recorded as skipped, with the reason.
            if let Some(probe) = self.probe.take() {
                let body = json!({"reason": probe.reason, "skipped": format!("a {} began during the measurement", action.name())});
                self.harness(None, "convergence", body);
            }
        }
        // Clients waiting on a node that is killed: their requests can have no answer now.
        let mut orphaned: Vec<usize> = Vec::new();
        let (node, body) = match &action {
            Action::Partition { shape, groups } => {
                self.net.partition(groups);
                let named: Vec<Vec<&str>> = groups
                    .iter()
                    .map(|g| g.iter().map(|&i| ids[i].as_str()).collect())
                    .collect();
                self.faults.push(format!("partition {named:?}"));
                (None, json!({"kind": shape.name(), "groups": named}))
            }
            Action::Reach { shape, sees } => {
                self.net.reach(sees);
                let named: serde_json::Map<String, Value> = sees
                    .iter()
                    .enumerate()
                    .map(|(to, view)| {
                        let from: Vec<&str> = view.iter().map(|&i| ids[i].as_str()).collect();
                        (ids[to].clone(), json!(from))
                    })
                    .collect();
                self.faults.push(format!("partition ({})", shape.name()));
                (None, json!({"kind": shape.name(), "sees": named}))
            }
            Action::Heal => {
                self.net.heal();
                self.faults.retain(|f| !f.starts_with("partition"));
                (None, json!({}))
            }
            Action::Pause { node } => {
                self.cluster.set_paused(*node, true);
                self.faults.push(format!("pause {}", ids[*node]));
                (Some(*node), json!({}))
            }
            Action::Resume { node } => {
                self.cluster.set_paused(*node, false);
                self.faults
                    .retain(|f| *f != format!("pause {}", ids[*node]));
                (Some(*node), json!({}))
            }
            Action::Kill { node } => {
                self.cluster.kill(*node);
                self.killed.insert(*node);
                orphaned = (0..self.clients.len())
                    .filter(|&c| self.clients[c].as_ref().is_some_and(|p| p.op.node == *node))
                    .collect();
                self.faults.push(format!("kill {}", ids[*node]));
                (Some(*node), json!({}))
            }
            Action::Restart { node } => {
                self.killed.remove(node);
                self.faults.retain(|f| *f != format!("kill {}", ids[*node]));
                if let Err(error) = self.start_node(*node) {
                    return Some(RunEnd::NodeError(format!(
                        "restarting {}: {error}",
                        ids[*node]
                    )));
                }
                // A fresh process starts from offset 0: put back the offset in force, so
                // that what the history says of its clock stays true.
                if self.offsets[*node] != 0 {
                    let msg_id = self.msg_id();
                    let line = json!({"src": "c0", "dest": ids[*node], "body": {"type": "simulate_drift", "msg_id": msg_id, "offset_ms": self.offsets[*node]}});
                    self.cluster.send(*node, &line.to_string());
                }
                (Some(*node), json!({}))
            }
            Action::Drift { node, offset_ms } => {
                let node = *node;
                let step_ms = offset_ms - self.offsets[node];
                let msg_id = self.msg_id();
                let line = json!({"src": "c0", "dest": ids[node], "body": {"type": "simulate_drift", "msg_id": msg_id, "offset_ms": step_ms}});
                self.cluster.send(node, &line.to_string());
                self.offsets[node] = *offset_ms;
                let in_force: serde_json::Map<String, Value> = ids
                    .iter()
                    .cloned()
                    .zip(self.offsets.iter().map(|&o| Value::from(o)))
                    .collect();
                (
                    Some(node),
                    json!({"step_ms": step_ms, "offsets_ms": in_force}),
                )
            }
        };
        self.record(
            Process::Named("nemesis".into()),
            node.map(|i| ids[i].clone()),
            EventType::Info,
            action.name(),
            body,
            false,
        );
        // Like a client whose connection to a crashed server breaks, each learns at once
        // that the outcome of its request is unknown, instead of waiting for its timeout.
        for client in orphaned {
            let text = format!(
                "eddy: {} was killed while this request was in flight",
                node.map_or("the node", |i| ids[i].as_str())
            );
            self.complete(
                client,
                EventType::Info,
                json!({"type": "error", "code": 0, "text": text}),
            );
        }
        None
    }

    fn on_output(&mut self, output: TaggedOutput) -> Option<RunEnd> {
        let node = output.tag.node;
        if output.tag.incarnation != self.cluster.incarnation(node) || !self.cluster.is_up(node) {
            return None;
        }
        match output.event {
            OutputEvent::Line(at, raw) => {
                self.route(node, self.ns(at), raw);
                None
            }
            OutputEvent::Closed => self.on_exit(node),
        }
    }

    fn on_exit(&mut self, node: usize) -> Option<RunEnd> {
        if crate::process::interrupted() {
            return None;
        }
        let id = self.cluster.ids()[node].clone();
        let (exit, stderr) = self.cluster.reap(node)?;
        if self.phase == Phase::Init && self.awaiting_init.values().any(|&i| i == node) {
            let tail = stderr
                .last()
                .map(|l| format!("; stderr: {l}"))
                .unwrap_or_default();
            return Some(RunEnd::NodeError(format!(
                "{id} {exit} before answering init{tail}"
            )));
        }
        self.harness(Some(id), "crash", json!({"exit": exit, "stderr": stderr}));
        None
    }

    fn route(&mut self, writer: usize, sent: u64, raw: RawLine) {
        let writer_id = self.cluster.ids()[writer].clone();
        let text = match raw {
            RawLine::Text(text) => text,
            RawLine::NotUtf8(len) => {
                return self.invalid(&writer_id, sent, &format!("not UTF-8 ({len} bytes)"), "")
            }
            RawLine::TooLong(len) => {
                return self.invalid(
                    &writer_id,
                    sent,
                    &format!("longer than {} MiB ({len} bytes)", MAX_LINE_BYTES >> 20),
                    "",
                )
            }
        };
        let message = match serde_json::from_str::<Value>(&text)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(Message::from_value)
        {
            Ok(message) => message,
            Err(problem) => return self.invalid(&writer_id, sent, &problem, &text),
        };
        if self.workload.leader_sign(&message) == Some(LeaderSign::Certain) {
            self.leader_hint = Some(writer);
            self.leader_on_wire = true;
        }
        let dest = message.dest();
        if let Some(to) = self.cluster.ids().iter().position(|id| id == dest) {
            match self.net.fate(writer, to) {
                Fate::Drop(reason) => self.net_line(&writer_id, sent, None, Some(reason), &text),
                Fate::Deliver(delay) if delay.is_zero() => self.deliver(to, writer, sent, &text),
                Fate::Deliver(delay) => {
                    let at = self.start + Duration::from_nanos(sent) + delay;
                    self.schedule(
                        at,
                        Timer::Deliver {
                            to,
                            writer,
                            sent,
                            line: text,
                        },
                    );
                }
            }
        } else if dest == "c0" {
            if let Some(id) = message.in_reply_to().and_then(Value::as_u64) {
                let probed = self
                    .probe
                    .as_mut()
                    .is_some_and(|p| p.on_reply(id, message.body()));
                if !probed {
                    self.awaiting_init.remove(&id);
                }
            }
        } else if let Some(client) = dest
            .strip_prefix('c')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1 && n <= self.clients.len())
        {
            let answers = self.clients[client - 1]
                .as_ref()
                .is_some_and(|p| message.in_reply_to().and_then(Value::as_u64) == Some(p.msg_id));
            if answers {
                let body = message.body().clone();
                let kind = EventType::of_reply(&body);
                // Without a certain sign on the wire, the node that gave an answer only a
                // leader gives (a write served) is the best evidence of who leads.
                let likely = self.workload.leader_sign(&message) == Some(LeaderSign::Likely);
                if !self.leader_on_wire && kind == EventType::Ok && likely {
                    self.leader_hint = Some(writer);
                }
                self.complete(client - 1, kind, body);
            }
        } else {
            let dest = dest.to_owned();
            self.store
                .net_message(&writer_id, sent, None, Some(UNKNOWN_DESTINATION), &text);
            self.net_summary
                .add(&writer_id, sent, NetFate::Unaddressed(&dest));
        }
    }

    fn deliver(&mut self, to: usize, writer: usize, sent: u64, line: &str) {
        let writer_id = self.cluster.ids()[writer].clone();
        let reason = if !self.cluster.is_up(to) {
            Some("node down")
        } else if self.net.is_cut(writer, to) {
            Some("partition")
        } else {
            None
        };
        match reason {
            Some(reason) => self.net_line(&writer_id, sent, None, Some(reason), line),
            None if !self.cluster.send(to, line) => {
                self.net_line(&writer_id, sent, None, Some("inbox full"), line)
            }
            None => {
                let now = self.ns(Instant::now());
                self.net_line(&writer_id, sent, Some(now), None, line);
            }
        }
    }

    /// One `net.jsonl` line: the message's own fields with send time, delivery time or
    /// drop reason, and the process that wrote it.
    fn net_line(
        &mut self,
        writer: &str,
        sent: u64,
        delivered: Option<u64>,
        dropped: Option<&str>,
        line: &str,
    ) {
        self.store
            .net_message(writer, sent, delivered, dropped, line);
        let net_fate = match dropped {
            Some(reason) => NetFate::Dropped(reason),
            None => NetFate::Delivered,
        };
        self.net_summary.add(writer, sent, net_fate);
    }

    fn invalid(&mut self, writer: &str, sent: u64, problem: &str, text: &str) {
        let excerpt = crate::cases::matcher::short(&Value::String(text.to_owned()));
        self.store.net_invalid(writer, sent, problem, &excerpt);
        self.net_summary
            .add(writer, sent, NetFate::Invalid(problem, &excerpt));
    }

    fn progress(&self) -> Progress {
        let phase = match self.phase {
            Phase::Init => "starting",
            Phase::Running => "running",
            Phase::Quiet => "healed, quiet",
            Phase::Final => "final reads",
        };
        let elapsed_s = if self.phase == Phase::Init {
            0.0
        } else {
            self.t0.elapsed().as_secs_f64()
        };
        Progress {
            elapsed_s,
            completed: self.completed,
            faults: self.faults.join(", "),
            phase,
        }
    }

    /// Records messages still in flight as dropped, kills every node, flushes the store.
    fn finish(&mut self) {
        while let Some(Reverse(Scheduled { timer, .. })) = self.timers.pop() {
            if let Timer::Deliver {
                writer, sent, line, ..
            } = timer
            {
                let writer_id = self.cluster.ids()[writer].clone();
                self.net_line(&writer_id, sent, None, Some("run ended"), &line);
            }
        }
        self.cluster.shutdown();
    }
}

/// How long the final phase keeps sending again the kinds of request none of which was
/// served.
const FINAL_RETRIES_FOR: Duration = Duration::from_secs(5);

/// Time between two such rounds.
const FINAL_RETRY_EVERY: Duration = Duration::from_millis(500);

/// A request body's type.
fn op_kind(body: &Value) -> String {
    body["type"].as_str().unwrap_or("?").to_owned()
}
