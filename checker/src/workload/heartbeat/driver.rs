//! heartbeat in simulation (SPEC 3.4, seed 003): one real node, the master `n1`; eddy plays
//! the chunk servers `n2`.. and a client `c1` ([`Peers`]), and its own clients send nothing.
//!
//! Every server heartbeats every 5 s (each with its own phase) with the chunks it holds;
//! every chunk starts on 3 servers. During the run some servers fall silent, briefly (9 s:
//! they must stay alive) or long (23 s: they must be declared dead, then come back and be
//! alive again); chunks are added and dropped every 4 s; servers obey the master's orders
//! (a chunk to copy appears in their next heartbeat, a chunk to delete disappears). The
//! client asks for `server_status` every second. Everything goes to the history: heartbeats
//! as operations of process N (server `nN`), status queries as client 1, silences as
//! `nemesis` events. A crash of the master ends the running phase.

use crate::history::{EventType, HistoryEvent, Process};
use crate::protocol::Message;
use crate::sim::driver::{Driver, Next, Op, Peers, Wire};
use rand::seq::SliceRandom;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
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

/// The client that asks for `server_status`.
const CLIENT: &str = "c1";

/// heartbeat's driver: no operations for eddy's clients; the servers and the status client
/// are played peers.
pub struct Servers;

impl Driver for Servers {
    fn next_op(&mut self, _rng: &mut ChaCha8Rng, _nodes: usize) -> Next {
        Next::Idle
    }
    /// None: the run ends with the running phase.
    fn quiet_period(&self) -> Duration {
        Duration::ZERO
    }
    fn final_ops(&self, _nodes: usize) -> Vec<Op> {
        Vec::new()
    }
    fn peers(&mut self, ids: &[String]) -> Option<Box<dyn Peers>> {
        let (master, servers) = ids.split_first()?;
        Some(Box::new(Played::new(master, servers)))
    }
}

/// What a played peer does at a moment; ordered as timers due at one instant fire
/// (heartbeats, silences and returns, the status query, churn, then timeouts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    /// Server `s` heartbeats.
    Heartbeat(usize),
    /// Server `s` falls silent (true) or returns (false).
    Silence(usize, bool),
    /// The client asks for `server_status`.
    Poll,
    /// A chunk is added or dropped.
    Churn,
    /// The request with this `msg_id` is still unanswered.
    Timeout(u64),
}

/// Bits of a token below its kind.
const KIND_SHIFT: u32 = 56;

impl Event {
    /// The timer token: the kind in the top byte, so that tokens sort as events do.
    fn token(self) -> u64 {
        let (kind, rest) = match self {
            Event::Heartbeat(s) => (0, s as u64),
            Event::Silence(s, silent) => (1, (s as u64) << 1 | u64::from(silent)),
            Event::Poll => (2, 0),
            Event::Churn => (3, 0),
            Event::Timeout(id) => (4, id),
        };
        kind << KIND_SHIFT | rest
    }

    /// The event of a token made by [`Event::token`].
    fn of(token: u64) -> Event {
        let rest = token & ((1 << KIND_SHIFT) - 1);
        match token >> KIND_SHIFT {
            0 => Event::Heartbeat(rest as usize),
            1 => Event::Silence((rest >> 1) as usize, rest & 1 == 1),
            2 => Event::Poll,
            3 => Event::Churn,
            _ => Event::Timeout(rest),
        }
    }
}

/// One chunk server as eddy plays it.
struct Server {
    id: String,
    chunks: BTreeSet<String>,
    silent: bool,
    to_add: BTreeSet<String>,
    to_drop: BTreeSet<String>,
}

/// A request of a played peer in flight.
struct Pending {
    process: u64,
    f: &'static str,
    server: Option<usize>,
}

/// The chunk servers and the status client.
struct Played {
    master: String,
    ids: Vec<String>,
    servers: Vec<Server>,
    pending: HashMap<u64, Pending>,
    next_chunk: usize,
}

impl Played {
    /// Servers `ids` (their chunks are drawn when the run starts) reporting to `master`.
    fn new(master: &str, ids: &[String]) -> Played {
        Played {
            master: master.to_owned(),
            ids: ids.to_vec(),
            servers: Vec::new(),
            pending: HashMap::new(),
            next_chunk: 0,
        }
    }
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

impl Peers for Played {
    fn played(&self) -> Vec<String> {
        let mut played = self.ids.clone();
        played.push(CLIENT.to_owned());
        played
    }

    /// Draws the chunks, each server's phase and the silences, then starts the status
    /// queries and the churn.
    fn start(&mut self, wire: &mut dyn Wire) {
        self.servers = initial_servers(&self.ids, wire.rng());
        self.next_chunk = self
            .servers
            .iter()
            .flat_map(|s| s.chunks.iter())
            .collect::<BTreeSet<_>>()
            .len();
        let t0 = wire.t0();
        for s in 0..self.servers.len() {
            let phase = Duration::from_millis(wire.rng().random_range(0..5_000));
            wire.at(t0 + phase, Event::Heartbeat(s).token());
        }
        self.plan_silences(wire);
        wire.at(t0 + POLL_INTERVAL, Event::Poll.token());
        wire.at(t0 + CHURN_INTERVAL, Event::Churn.token());
    }

    fn on_timer(&mut self, at: Instant, token: u64, wire: &mut dyn Wire) {
        match Event::of(token) {
            Event::Heartbeat(s) => {
                self.heartbeat(s, wire);
                wire.at(at + HEARTBEAT_INTERVAL, token);
            }
            Event::Silence(s, silent) => self.set_silent(s, silent, wire),
            Event::Poll => {
                let body = json!({"type": "server_status"});
                self.request(1, None, "server_status", body, CLIENT, wire);
                wire.at(at + POLL_INTERVAL, token);
            }
            Event::Churn => {
                self.churn(wire.rng());
                wire.at(at + CHURN_INTERVAL, token);
            }
            Event::Timeout(id) => self.expire(id, wire),
        }
    }

    /// A reply to a heartbeat or a status query completes it; a heartbeat's orders go into
    /// the server's next heartbeat. Anything else is ignored.
    fn on_message(&mut self, message: &Message, wire: &mut dyn Wire) {
        let Some(p) = message
            .in_reply_to()
            .and_then(Value::as_u64)
            .and_then(|id| self.pending.remove(&id))
        else {
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
        let master = Some(self.master.clone());
        wire.record(HistoryEvent::new(
            Process::Client(p.process),
            master,
            kind,
            p.f,
            body,
        ));
    }

    /// A master that crashed takes no more heartbeats: the run ends.
    fn on_crash(&mut self, _node: &str, wire: &mut dyn Wire) {
        wire.end_running();
    }

    fn faults(&self) -> Vec<String> {
        let silent: Vec<&str> = self
            .servers
            .iter()
            .filter(|s| s.silent)
            .map(|s| s.id.as_str())
            .collect();
        if silent.is_empty() {
            Vec::new()
        } else {
            vec![format!("silent {}", silent.join(", "))]
        }
    }
}

impl Played {
    /// One long silence (from 6 s) and one short (from 10 s) on different servers every
    /// 35 s of the run.
    fn plan_silences(&mut self, wire: &mut dyn Wire) {
        let n = self.servers.len();
        let t0 = wire.t0();
        let mut base = t0;
        while base + SILENCE_START < t0 + wire.time_limit() && n > 0 {
            let long = wire.rng().random_range(0..n);
            wire.at(base + SILENCE_START, Event::Silence(long, true).token());
            wire.at(
                base + SILENCE_START + LONG_SILENCE,
                Event::Silence(long, false).token(),
            );
            if n > 1 {
                let short = (long + wire.rng().random_range(1..n)) % n;
                wire.at(
                    base + SHORT_SILENCE_START,
                    Event::Silence(short, true).token(),
                );
                wire.at(
                    base + SHORT_SILENCE_START + SHORT_SILENCE,
                    Event::Silence(short, false).token(),
                );
            }
            base += CYCLE;
        }
    }

    /// Sends `body` from `src` to the master as an operation of client `process`, recording
    /// its invoke; it times out after `--timeout`.
    fn request(
        &mut self,
        process: u64,
        server: Option<usize>,
        f: &'static str,
        body: Value,
        src: &str,
        wire: &mut dyn Wire,
    ) {
        let id = wire.msg_id();
        wire.record(HistoryEvent::new(
            Process::Client(process),
            Some(self.master.clone()),
            EventType::Invoke,
            f,
            body.clone(),
        ));
        let mut body = body;
        body["msg_id"] = id.into();
        wire.send(src, &self.master, body);
        self.pending.insert(id, Pending { process, f, server });
        let deadline = Instant::now() + wire.request_timeout();
        wire.at(deadline, Event::Timeout(id).token());
    }

    /// Server `s` heartbeats, unless it is silent, with the chunks it holds after obeying
    /// the master's last orders.
    fn heartbeat(&mut self, s: usize, wire: &mut dyn Wire) {
        if self.servers[s].silent {
            return;
        }
        let server = &mut self.servers[s];
        let to_add = std::mem::take(&mut server.to_add);
        let to_drop = std::mem::take(&mut server.to_drop);
        server.chunks.extend(to_add);
        server.chunks.retain(|c| !to_drop.contains(c));
        let pct = wire.rng().random_range(5..95);
        let (id, chunks) = (self.servers[s].id.clone(), self.servers[s].chunks.clone());
        let body =
            json!({"type": "heartbeat", "server": id, "chunks": chunks, "disk_usage_pct": pct});
        self.request(s as u64 + 2, Some(s), "heartbeat", body, &id, wire);
    }

    /// Server `s` falls silent or returns (and heartbeats at once).
    fn set_silent(&mut self, s: usize, silent: bool, wire: &mut dyn Wire) {
        self.servers[s].silent = silent;
        let id = self.servers[s].id.clone();
        wire.record(HistoryEvent::new(
            Process::Named("nemesis".into()),
            Some(id),
            EventType::Info,
            if silent { "silence" } else { "resume" },
            json!({}),
        ));
        if !silent {
            self.heartbeat(s, wire);
        }
    }

    /// Adds a chunk on 3 servers that are heard from, or drops one everywhere.
    fn churn(&mut self, rng: &mut ChaCha8Rng) {
        let speaking: Vec<usize> = (0..self.servers.len())
            .filter(|&s| !self.servers[s].silent)
            .collect();
        if rng.random_bool(0.5) && speaking.len() >= 3 {
            self.next_chunk += 1;
            let chunk = format!("ch_{:03}", self.next_chunk);
            let mut chosen = speaking.clone();
            chosen.shuffle(rng);
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
            if let Some(chunk) = all.get(rng.random_range(0..all.len().max(1))) {
                for server in &mut self.servers {
                    server.to_drop.insert(chunk.clone());
                }
            }
        }
    }

    /// The request `id`, if still unanswered, completes as `info`: no reply in time.
    fn expire(&mut self, id: u64, wire: &mut dyn Wire) {
        let Some(p) = self.pending.remove(&id) else {
            return;
        };
        let text = format!(
            "eddy: no reply within {} ms",
            wire.request_timeout().as_millis()
        );
        wire.record(HistoryEvent::new(
            Process::Client(p.process),
            Some(self.master.clone()),
            EventType::Info,
            p.f,
            json!({"type": "error", "code": 0, "text": text}),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_sort_as_events_do_and_read_back() {
        let events = [
            Event::Heartbeat(0),
            Event::Heartbeat(4),
            Event::Silence(0, false),
            Event::Silence(0, true),
            Event::Silence(3, false),
            Event::Poll,
            Event::Churn,
            Event::Timeout(1),
            Event::Timeout(900),
        ];
        for pair in events.windows(2) {
            assert!(pair[0] < pair[1] && pair[0].token() < pair[1].token());
        }
        for event in events {
            assert_eq!(Event::of(event.token()), event);
        }
    }
}
