//! The heartbeat workload's driver (SPEC 3.4, seed 003): one real node, the master `n1`;
//! eddy plays the chunk servers `n2`.. and a client `c1`.
//!
//! Every server heartbeats every 5 s (each with its own phase) with the chunks it holds;
//! every chunk starts on 3 servers. During the run some servers fall silent, briefly (9 s:
//! they must stay alive) or long (23 s: they must be declared dead, then come back and be
//! alive again); chunks are added and dropped every 4 s; servers obey the master's orders
//! (a chunk to copy appears in their next heartbeat, a chunk to delete disappears). The
//! client asks for `server_status` every second. Everything goes to the history: heartbeats
//! as operations of process N (server `nN`), status queries as client 1, silences as
//! `nemesis` events.

use super::router::{Progress, RunEnd, RunOutput};
use super::{sub_seed, SimConfig};
use crate::check::net::{NetFate, NetSummary, UNKNOWN_DESTINATION};
use crate::history::{EventType, HistoryEvent, Process, Store};
use crate::process::{NodeProcess, OutputEvent, RawLine, SpawnOptions};
use crate::protocol::Message;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap};
use std::time::{Duration, Instant};

/// Time between two heartbeats of one server.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);
/// A long silence: past the 15 s deadline plus a heartbeat round (so re-replication orders
/// can be judged before the server returns), so the server must be declared dead.
pub const LONG_SILENCE: Duration = Duration::from_secs(23);
/// When the silences of a cycle start: after every server heartbeated once (phases are
/// under 5 s).
pub const SILENCE_START: Duration = Duration::from_secs(6);
/// When the short silence of a cycle starts.
pub const SHORT_SILENCE_START: Duration = Duration::from_secs(10);
/// Length of one cycle of silences.
pub const CYCLE: Duration = Duration::from_secs(35);
/// A short silence: under the deadline, so the server must stay alive.
pub const SHORT_SILENCE: Duration = Duration::from_secs(9);
/// Time between two `server_status` queries.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Time between two changes of the chunk set.
pub const CHURN_INTERVAL: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Heartbeat(usize),
    Silence(usize, bool),
    Poll,
    Churn,
}

struct Server {
    id: String,
    chunks: BTreeSet<String>,
    silent: bool,
    to_add: BTreeSet<String>,
    to_drop: BTreeSet<String>,
}

struct Pending {
    process: u64,
    f: &'static str,
    server: Option<usize>,
    deadline: Instant,
}

struct Driver<'a> {
    cfg: &'a SimConfig,
    start: Instant,
    store: Store,
    history: Vec<HistoryEvent>,
    net: NetSummary,
    node: NodeProcess,
    servers: Vec<Server>,
    pending: HashMap<u64, Pending>,
    next_msg_id: u64,
    rng: ChaCha8Rng,
    next_chunk: usize,
    completed: u64,
}

/// Runs the heartbeat workload described by `cfg`.
pub fn run(cfg: &SimConfig, progress: &dyn Fn(&Progress)) -> std::io::Result<RunOutput> {
    let store = super::router::open_store(cfg)?;
    let ids: Vec<String> = (1..=cfg.node_count).map(|i| format!("n{i}")).collect();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(store.dir().join("node-logs/n1.log"))
        .ok();
    let data = store.dir().join("data/n1");
    let _ = std::fs::create_dir_all(&data);
    let options = SpawnOptions {
        env: vec![("NODE_DATA_DIR".into(), data.display().to_string())],
        stderr_log: log,
        shared_output: None,
    };
    let node = match NodeProcess::spawn(&cfg.command, options) {
        Ok(node) => node,
        Err(e) => {
            return Ok(RunOutput {
                end: RunEnd::NodeError(e.to_string()),
                history: Vec::new(),
                net: NetSummary::default(),
                store,
            })
        }
    };
    let mut rng = ChaCha8Rng::seed_from_u64(sub_seed(cfg.seed, 1));
    let servers = initial_servers(&ids[1..], &mut rng);
    let mut driver = Driver {
        cfg,
        start: Instant::now(),
        store,
        history: Vec::new(),
        net: NetSummary::default(),
        node,
        servers,
        pending: HashMap::new(),
        next_msg_id: 1,
        rng,
        next_chunk: 0,
        completed: 0,
    };
    driver.next_chunk = driver
        .servers
        .iter()
        .flat_map(|s| s.chunks.iter())
        .collect::<BTreeSet<_>>()
        .len();
    let end = driver.run(&ids, progress);
    driver.node.kill();
    driver.store.flush()?;
    Ok(RunOutput {
        end,
        history: driver.history,
        net: driver.net,
        store: driver.store,
    })
}

/// Servers with two chunks each on average, every chunk on 3 distinct servers (or on all
/// of them, when there are fewer).
fn initial_servers(ids: &[String], rng: &mut ChaCha8Rng) -> Vec<Server> {
    let mut servers: Vec<Server> = ids
        .iter()
        .map(|id| Server {
            id: id.clone(),
            chunks: BTreeSet::new(),
            silent: false,
            to_add: BTreeSet::new(),
            to_drop: BTreeSet::new(),
        })
        .collect();
    let mut order: Vec<usize> = (0..servers.len()).collect();
    for c in 0..(2 * servers.len()) {
        order.shuffle(rng);
        for &s in order.iter().take(3) {
            servers[s].chunks.insert(format!("ch_{:03}", c + 1));
        }
    }
    servers
}

impl Driver<'_> {
    fn run(&mut self, ids: &[String], progress: &dyn Fn(&Progress)) -> RunEnd {
        let init_id = self.msg_id();
        self.node.send(&json!({"src": "c0", "dest": "n1", "body": {"type": "init", "msg_id": init_id, "node_id": "n1", "node_ids": ids}}).to_string());
        let deadline = Instant::now() + self.cfg.init_timeout;
        loop {
            match self
                .node
                .next_output(deadline.saturating_duration_since(Instant::now()))
            {
                Some(OutputEvent::Line(_, RawLine::Text(text))) if text.contains("init_ok") => {
                    break
                }
                Some(OutputEvent::Line(..)) => {}
                Some(OutputEvent::Closed) => {
                    let exit = self
                        .node
                        .wait_exit(Duration::from_millis(200))
                        .map_or("closed its stdout".into(), crate::process::describe_exit);
                    return RunEnd::NodeError(format!("n1 {exit} before answering init"));
                }
                None => {
                    return RunEnd::NodeError(format!(
                        "n1 never answered init within {} s",
                        self.cfg.init_timeout.as_secs_f64()
                    ))
                }
            }
        }
        let t0 = Instant::now();
        let end = t0 + self.cfg.time_limit;
        let mut timers: BinaryHeap<Reverse<(Instant, Event)>> = BinaryHeap::new();
        for s in 0..self.servers.len() {
            let phase = Duration::from_millis(self.rng.random_range(0..5_000));
            timers.push(Reverse((t0 + phase, Event::Heartbeat(s))));
        }
        self.plan_silences(t0, &mut timers);
        timers.push(Reverse((t0 + POLL_INTERVAL, Event::Poll)));
        timers.push(Reverse((t0 + CHURN_INTERVAL, Event::Churn)));
        let mut last_progress = Instant::now();
        let mut lag = super::lag::LagMeter::new(1);
        loop {
            if crate::process::interrupted() {
                return RunEnd::Interrupted;
            }
            let now = Instant::now();
            if now >= end {
                return RunEnd::Finished;
            }
            while timers.peek().is_some_and(|t| t.0 .0 <= now) {
                let Reverse((at, event)) = timers.pop().expect("peeked");
                match event {
                    Event::Heartbeat(s) => {
                        self.heartbeat(s);
                        timers.push(Reverse((at + HEARTBEAT_INTERVAL, Event::Heartbeat(s))));
                    }
                    Event::Silence(s, silent) => self.set_silent(s, silent),
                    Event::Poll => {
                        self.request(
                            1,
                            None,
                            "server_status",
                            json!({"type": "server_status"}),
                            "c1",
                        );
                        timers.push(Reverse((at + POLL_INTERVAL, Event::Poll)));
                    }
                    Event::Churn => {
                        self.churn();
                        timers.push(Reverse((at + CHURN_INTERVAL, Event::Churn)));
                    }
                }
            }
            self.expire(now);
            for stall in lag.sample(now, &[Some(self.node.pid())]) {
                let (node, body) = stall.event(&ids[..1]);
                let harness = Process::Named("harness".into());
                self.record(harness, node, EventType::Info, "stall", body);
            }
            if now.duration_since(last_progress) >= Duration::from_millis(100) {
                last_progress = now;
                let silent: Vec<&str> = self
                    .servers
                    .iter()
                    .filter(|s| s.silent)
                    .map(|s| s.id.as_str())
                    .collect();
                let faults = if silent.is_empty() {
                    String::new()
                } else {
                    format!("silent {}", silent.join(", "))
                };
                progress(&Progress {
                    elapsed_s: t0.elapsed().as_secs_f64(),
                    completed: self.completed,
                    faults,
                    phase: "running",
                });
                if self.store.flush().is_err() {
                    return RunEnd::Interrupted;
                }
            }
            let wake = timers
                .peek()
                .map_or(end, |t| t.0 .0)
                .min(end)
                .min(now + Duration::from_millis(100));
            match self
                .node
                .next_output(wake.saturating_duration_since(Instant::now()))
            {
                Some(OutputEvent::Line(at, raw)) => self.on_line(at, raw),
                Some(OutputEvent::Closed) => {
                    let exit = self
                        .node
                        .wait_exit(Duration::from_millis(200))
                        .map_or("closed its stdout".into(), crate::process::describe_exit);
                    let stderr = self.node.stderr_tail();
                    self.record(
                        Process::Named("harness".into()),
                        Some("n1".into()),
                        EventType::Info,
                        "crash",
                        json!({"exit": exit, "stderr": stderr}),
                    );
                    return RunEnd::Finished;
                }
                None => {}
            }
        }
    }

    /// One long silence (from 6 s) and one short (from 10 s) on different servers every
    /// 35 s of the run.
    fn plan_silences(&mut self, t0: Instant, timers: &mut BinaryHeap<Reverse<(Instant, Event)>>) {
        let n = self.servers.len();
        let mut base = t0;
        while base + SILENCE_START < t0 + self.cfg.time_limit && n > 0 {
            let long = self.rng.random_range(0..n);
            timers.push(Reverse((base + SILENCE_START, Event::Silence(long, true))));
            timers.push(Reverse((
                base + SILENCE_START + LONG_SILENCE,
                Event::Silence(long, false),
            )));
            if n > 1 {
                let short = (long + self.rng.random_range(1..n)) % n;
                timers.push(Reverse((
                    base + SHORT_SILENCE_START,
                    Event::Silence(short, true),
                )));
                timers.push(Reverse((
                    base + SHORT_SILENCE_START + SHORT_SILENCE,
                    Event::Silence(short, false),
                )));
            }
            base += CYCLE;
        }
    }

    fn msg_id(&mut self) -> u64 {
        self.next_msg_id += 1;
        self.next_msg_id - 1
    }

    fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_nanos() as u64
    }

    fn record(
        &mut self,
        process: Process,
        node: Option<String>,
        kind: EventType,
        f: &str,
        body: Value,
    ) {
        let time = self.ns(Instant::now());
        self.store.append(
            &mut self.history,
            HistoryEvent::new(process, node, kind, f, body),
            time,
        );
    }

    fn request(
        &mut self,
        process: u64,
        server: Option<usize>,
        f: &'static str,
        body: Value,
        src: &str,
    ) {
        let id = self.msg_id();
        self.record(
            Process::Client(process),
            Some("n1".into()),
            EventType::Invoke,
            f,
            body.clone(),
        );
        let mut body = body;
        body["msg_id"] = id.into();
        self.node
            .send(&json!({"src": src, "dest": "n1", "body": body}).to_string());
        self.pending.insert(
            id,
            Pending {
                process,
                f,
                server,
                deadline: Instant::now() + self.cfg.request_timeout,
            },
        );
    }

    fn heartbeat(&mut self, s: usize) {
        if self.servers[s].silent {
            return;
        }
        let server = &mut self.servers[s];
        let to_add = std::mem::take(&mut server.to_add);
        let to_drop = std::mem::take(&mut server.to_drop);
        server.chunks.extend(to_add);
        server.chunks.retain(|c| !to_drop.contains(c));
        let pct = self.rng.random_range(5..95);
        let (id, chunks) = (self.servers[s].id.clone(), self.servers[s].chunks.clone());
        let body =
            json!({"type": "heartbeat", "server": id, "chunks": chunks, "disk_usage_pct": pct});
        self.request(s as u64 + 2, Some(s), "heartbeat", body, &id);
    }

    fn set_silent(&mut self, s: usize, silent: bool) {
        self.servers[s].silent = silent;
        let id = self.servers[s].id.clone();
        self.record(
            Process::Named("nemesis".into()),
            Some(id),
            EventType::Info,
            if silent { "silence" } else { "resume" },
            json!({}),
        );
        if !silent {
            self.heartbeat(s);
        }
    }

    /// Adds a chunk on 3 servers that are heard from, or drops one everywhere.
    fn churn(&mut self) {
        let speaking: Vec<usize> = (0..self.servers.len())
            .filter(|&s| !self.servers[s].silent)
            .collect();
        if self.rng.random_bool(0.5) && speaking.len() >= 3 {
            self.next_chunk += 1;
            let chunk = format!("ch_{:03}", self.next_chunk);
            let mut chosen = speaking.clone();
            chosen.shuffle(&mut self.rng);
            for &s in chosen.iter().take(3) {
                self.servers[s].to_add.insert(chunk.clone());
            }
        } else {
            let all: Vec<String> = self
                .servers
                .iter()
                .flat_map(|s| s.chunks.iter().cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if let Some(chunk) = all.get(self.rng.random_range(0..all.len().max(1))) {
                for server in &mut self.servers {
                    server.to_drop.insert(chunk.clone());
                }
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        let late: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in late {
            let p = self.pending.remove(&id).expect("listed");
            let body = json!({"type": "error", "code": 0, "text": format!("eddy: no reply within {} ms", self.cfg.request_timeout.as_millis())});
            self.record(
                Process::Client(p.process),
                Some("n1".into()),
                EventType::Info,
                p.f,
                body,
            );
            self.completed += 1;
        }
    }

    /// Counts and records an output line of the master that was not a message.
    fn invalid(&mut self, sent: u64, problem: &str, text: &str) {
        let excerpt = crate::cases::matcher::short(&Value::String(text.to_owned()));
        self.store.net_invalid("n1", sent, problem, &excerpt);
        self.net
            .add("n1", sent, NetFate::Invalid(problem, &excerpt));
    }

    fn on_line(&mut self, at: Instant, raw: RawLine) {
        let sent = self.ns(at);
        let text = match raw {
            RawLine::Text(text) => text,
            RawLine::NotUtf8(len) => {
                return self.invalid(sent, &format!("not UTF-8 ({len} bytes)"), "")
            }
            RawLine::TooLong(len) => {
                return self.invalid(sent, &format!("a line of {len} bytes"), "")
            }
        };
        let message = match serde_json::from_str::<Value>(&text)
            .map_err(|e| format!("not JSON: {e}"))
            .and_then(Message::from_value)
        {
            Ok(m) => m,
            Err(problem) => return self.invalid(sent, &problem, &text),
        };
        let Some(p) = message
            .in_reply_to()
            .and_then(Value::as_u64)
            .and_then(|id| self.pending.remove(&id))
        else {
            // The servers and clients eddy plays take no other messages; one to a
            // destination that does not exist is recorded.
            let dest = message.dest();
            let known = dest == "n1"
                || self.servers.iter().any(|s| s.id == dest)
                || dest
                    .strip_prefix('c')
                    .is_some_and(|n| n.parse::<u64>().is_ok());
            if !known {
                let dest = dest.to_owned();
                self.store
                    .net_message("n1", sent, None, Some(UNKNOWN_DESTINATION), &text);
                self.net.add("n1", sent, NetFate::Unaddressed(&dest));
            }
            return;
        };
        let body = message.body().clone();
        let kind = EventType::of_reply(&body);
        if let (Some(s), EventType::Ok) = (p.server, kind) {
            let server = &mut self.servers[s];
            let chunks = |field: &str| -> Vec<String> {
                body[field]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            };
            server.to_add.extend(chunks("chunks_to_replicate"));
            server.to_drop.extend(chunks("chunks_to_delete"));
        }
        self.record(
            Process::Client(p.process),
            Some("n1".into()),
            kind,
            p.f,
            body,
        );
        self.completed += 1;
    }
}
