//! The router: one thread that owns the network, the clients, the nemesis, the peers eddy
//! plays, the timers and the record, and moves every line between processes. This module is
//! the event loop and the phases; each of its other jobs has a module of its own.
//!
//! Node output arrives on one shared channel (a reader thread per node feeds it); lines go
//! out through each node's writer thread, so a slow or stopped node never stalls the router.
//! Lines are routed by `dest` as written (`routing`): to a peer eddy plays (`peers`), to
//! another node through the network model, to a client directly (`clients`), to `c0` (the
//! harness), to one of Maelstrom's services through the network model (`services`, which
//! answer); anything else is recorded and dropped.

mod bench;
mod clients;
mod convergence;
mod faults;
mod peers;
mod record;
mod routing;
mod services;
mod timers;

pub use bench::relay_benchmark;
pub use record::Progress;

use super::cluster::Cluster;
use super::driver::Driver;
use super::nemesis::{self, Planned};
use super::network::Network;
use super::services::Services;
use super::{sub_seed, SimConfig};
use crate::history::{HistoryEvent, Store};
use crate::process::TaggedOutput;
use clients::Clients;
use convergence::Convergence;
use faults::{Faults, Leader};
use peers::Played;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use record::Recorder;
use serde_json::json;
use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};
use timers::{Timer, Timers};

/// How a simulated run ended, before checking.
#[derive(Debug)]
pub enum RunEnd {
    /// The run went through all its phases.
    Finished,
    /// Ctrl-C or SIGTERM stopped it.
    Interrupted,
    /// The cluster never came up: a node could not be spawned, exited before answering
    /// init, or did not answer it in time. The reason does not name the command.
    NotStarted(String),
    /// A node killed by the nemesis could not be started again.
    NodeError(String),
    /// Every real node exited by itself and none is due to be restarted: the run ended
    /// early, for this reason (each node, how and when it exited).
    AllExited(String),
}

/// What a run leaves for the checks and the report.
pub struct RunOutput {
    /// How it ended.
    pub end: RunEnd,
    /// The history, as written to the store.
    pub history: Vec<HistoryEvent>,
    /// The routed traffic, summed.
    pub net: crate::check::traffic::NetSummary,
    /// The store.
    pub store: Store,
}

/// What the run is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for every real node's `init_ok`.
    Init,
    /// Clients run operations, played peers act and the nemesis injects faults.
    Running,
    /// Faults are healed; waiting for in-flight operations and the quiet period.
    Quiet,
    /// The workload's final operations run.
    Final,
}

/// The router's state, grouped by job; each group's module has the methods that do it.
struct Router<'a> {
    cfg: &'a SimConfig,
    phase: Phase,
    /// When the running phase began.
    t0: Instant,
    /// When the quiet period ends.
    quiet_until: Instant,
    /// History, `net.jsonl`, progress counts, stalls.
    rec: Recorder,
    /// The network model between real nodes.
    net: Network,
    /// The real nodes' processes.
    cluster: Cluster,
    /// Every real node's output.
    inbox: Receiver<TaggedOutput>,
    /// Deliveries, client timeouts, nemesis actions.
    timers: Timers,
    /// The workload's client side.
    workload: Box<dyn Driver>,
    /// The workload's random stream.
    workload_rng: ChaCha8Rng,
    /// eddy's clients and the final phase.
    clients: Clients,
    /// Convergence measurements.
    convergence: Convergence,
    /// The nemesis plan and the faults in force.
    faults: Faults,
    /// Who eddy last saw leading.
    leader: Leader,
    /// `init` requests not answered yet, by `msg_id`: the node.
    awaiting_init: HashMap<u64, usize>,
    /// The next `msg_id` of any message eddy writes.
    next_msg_id: u64,
    /// The peers eddy plays.
    played: Played,
    /// Maelstrom's services.
    services: Services,
}

/// Creates the run folder; until the run ends well its results say "unknown", so that is
/// what stays if eddy itself dies.
pub fn open_store(cfg: &SimConfig) -> std::io::Result<Store> {
    let mut store = Store::create(&cfg.store_root, cfg.workload, cfg.seed)?;
    store.write_results(&json!({
        "valid": "unknown", "workload": cfg.workload, "seed": cfg.seed,
        "nodes": cfg.node_ids(),
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
    let Recorder {
        mut store,
        history,
        net,
        ..
    } = router.rec;
    store.flush()?;
    Ok(RunOutput {
        end,
        history,
        net,
        store,
    })
}

impl<'a> Router<'a> {
    /// A router for `cfg` with the workload's driver, recording into `store`, with the
    /// nemesis plan `plan`; nothing started yet.
    fn new(
        cfg: &'a SimConfig,
        mut workload: Box<dyn Driver>,
        store: Store,
        plan: Vec<Planned>,
    ) -> Router<'a> {
        let ids = cfg.node_ids();
        let played = Played::new(workload.peers(&ids), &ids);
        let (tx, inbox) = mpsc::sync_channel(65_536);
        let cluster = Cluster::new(
            cfg.command.clone(),
            ids,
            tx,
            store.dir().join("node-logs"),
            store.dir().join("data"),
        )
        .echo_stderr(cfg.log_stderr);
        let now = Instant::now();
        Router {
            cfg,
            phase: Phase::Init,
            t0: now,
            quiet_until: now,
            rec: Recorder::new(now, store, cfg.node_count),
            net: Network::new(cfg.network, sub_seed(cfg.seed, 2)),
            cluster,
            inbox,
            timers: Timers::default(),
            workload,
            workload_rng: ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 1)),
            clients: Clients::new(cfg.concurrency, now),
            convergence: Convergence::default(),
            faults: Faults::new(plan, cfg.node_count),
            leader: Leader::default(),
            awaiting_init: HashMap::new(),
            next_msg_id: 1,
            played,
            services: Services::new(sub_seed(cfg.seed, 4)),
        }
    }

    /// The event loop: starts the real nodes, then fires timers, moves between phases,
    /// samples stalls, reports progress and routes output until the run is over.
    fn run(&mut self, progress: &dyn Fn(&Progress)) -> RunEnd {
        if let Err(error) = self.start_cluster() {
            return RunEnd::NotStarted(error.reason);
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
                    return RunEnd::NotStarted(format!(
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
                if self.rec.store.flush().is_err() {
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

    /// The end of the running phase's time.
    fn end_of_running(&self) -> Instant {
        self.t0 + self.cfg.time_limit
    }

    /// When the loop next has something to do, besides output arriving.
    fn next_wake(&self, init_deadline: Instant) -> Instant {
        let mut wake = self
            .timers
            .next_at()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        match self.phase {
            Phase::Init => wake = wake.min(init_deadline),
            Phase::Running => {
                wake = wake.min(self.clients.next_op_at).min(self.end_of_running());
                if let Some(at) = self.played.next_at() {
                    wake = wake.min(at);
                }
            }
            Phase::Quiet => wake = wake.min(self.quiet_until),
            Phase::Final => {
                if let Some(at) = self.clients.final_retry_at {
                    wake = wake.min(at);
                }
            }
        }
        if let Some(at) = self.convergence.next_wake() {
            wake = wake.min(at);
        }
        wake
    }

    /// A fresh `msg_id`.
    fn msg_id(&mut self) -> u64 {
        let id = self.next_msg_id;
        self.next_msg_id += 1;
        id
    }

    /// Starts every real node (none is started for a played one).
    fn start_cluster(&mut self) -> Result<(), crate::process::SpawnError> {
        for i in 0..self.cfg.node_count {
            if !self.played.is_node(i) {
                self.start_node(i)?;
            }
        }
        Ok(())
    }

    /// Starts node `i` (again) with its `init`, which it must answer.
    fn start_node(&mut self, i: usize) -> Result<(), crate::process::SpawnError> {
        let msg_id = self.msg_id();
        let id = &self.cluster.ids()[i];
        let init = json!({"src": "c0", "dest": id, "body": {"type": "init", "msg_id": msg_id, "node_id": id, "node_ids": self.cluster.ids()}});
        self.awaiting_init.insert(msg_id, i);
        self.cluster.start(i, &init.to_string())
    }

    /// Every real node answered `init`: the running phase begins, the clock is recorded,
    /// the nemesis plan is set, and the played peers start.
    fn begin_running(&mut self) {
        self.phase = Phase::Running;
        self.t0 = Instant::now();
        self.clients.next_op_at = self.t0;
        let mut setup = self.workload.setup_ops(self.cluster.ids());
        setup.reverse();
        self.clients.in_setup = !setup.is_empty();
        self.clients.setup = setup;
        // Where history time 0 falls on the wall clock that nodes read, so that a node's
        // local time (wall clock plus the offsets eddy applied) can be mapped to run time.
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .saturating_sub(self.rec.start().elapsed());
        self.harness(
            None,
            "clock",
            json!({"unix_ms_at_zero": wall.as_micros() as f64 / 1000.0}),
        );
        for (i, at) in self.faults.plan_times().enumerate() {
            self.timers.schedule(self.t0 + at, Timer::Nemesis(i));
        }
        self.start_peers();
    }

    /// Fires every timer due at `now`, the played peers' last; an error when a restart
    /// failed.
    fn fire_due_timers(&mut self, now: Instant) -> Option<RunEnd> {
        while let Some(timer) = self.timers.pop_due(now) {
            match timer {
                Timer::Deliver {
                    to,
                    writer,
                    sent,
                    line,
                } => self.deliver(to, writer, sent, &line),
                Timer::ClientTimeout { client, msg_id } => self.client_timeout(client, msg_id),
                // Faults belong to the running phase; its end heals whatever is in force.
                Timer::Nemesis(_) if self.phase != Phase::Running => {}
                Timer::Nemesis(i) => {
                    if let Some(error) = self.nemesis(i) {
                        return Some(error);
                    }
                }
            }
        }
        self.fire_peer_timers(now);
        None
    }

    /// Moves between phases (as many as are due at `now`) and dispatches operations; true
    /// when the run is over.
    fn advance_phase(&mut self, now: Instant) -> bool {
        loop {
            let phase = self.phase;
            if self.step_phase(now) {
                return true;
            }
            if self.phase == phase {
                return false;
            }
        }
    }

    /// One phase's work at `now`; true when the run is over.
    fn step_phase(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Init => {}
            Phase::Running if now >= self.end_of_running() => self.end_running(now),
            Phase::Running => self.run_clients(now),
            Phase::Quiet if self.convergence.measuring() => self.drive_probe(now),
            Phase::Quiet => {
                let idle = self.clients.idle();
                if idle && !self.convergence.probed_end && self.workload.probe().is_some() {
                    self.convergence.probed_end = true;
                    self.start_probe("end");
                } else if idle && now >= self.quiet_until {
                    self.begin_final();
                }
            }
            Phase::Final => return self.final_step(now),
        }
        false
    }

    /// Ends the running phase: no more operations, every fault healed, every clock offset
    /// stepped back to zero.
    fn end_running(&mut self, now: Instant) {
        self.phase = Phase::Quiet;
        self.convergence.probe = None;
        self.clients.draining = false;
        self.quiet_until = now + self.workload.quiet_period();
        for action in self.heals() {
            if let Some(RunEnd::NodeError(why)) = self.apply(action) {
                self.harness(None, "crash", json!({"exit": why}));
            }
        }
    }

    /// Records messages still in flight as dropped, kills every node.
    fn finish(&mut self) {
        for timer in self.timers.drain() {
            if let Timer::Deliver {
                writer, sent, line, ..
            } = timer
            {
                let writer_id = self.endpoint_id(writer);
                self.rec
                    .net_line(&writer_id, sent, None, Some("run ended"), &line);
            }
        }
        self.cluster.shutdown();
    }
}
