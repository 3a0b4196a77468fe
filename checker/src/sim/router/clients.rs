//! eddy's clients `c1`..: the workload's operations sent at `--rate` as clients free up,
//! each with at most one request in flight; replies, timeouts and requests a node that
//! was killed or exited can no longer answer completing them; rounds; and the final phase, whose kinds of
//! request none of which was served go out again for a while.

use super::Router;
use crate::history::{EventType, Process};
use crate::protocol::Message;
use crate::sim::driver::{LeaderSign, Next, Op};
use rand::RngExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long the final phase keeps sending again the kinds of request none of which was
/// served.
const FINAL_RETRIES_FOR: Duration = Duration::from_secs(5);

/// Time between two such rounds.
const FINAL_RETRY_EVERY: Duration = Duration::from_millis(500);

/// A client's request in flight.
struct Pending {
    msg_id: u64,
    op: Op,
    f: String,
    final_phase: bool,
}

/// The clients and the operations to come.
pub(super) struct Clients {
    /// Each client's request in flight.
    slots: Vec<Option<Pending>>,
    /// When the next operation goes out.
    pub(super) next_op_at: Instant,
    /// True while a round's operations finish before a convergence measurement.
    pub(super) draining: bool,
    /// The workload's setup requests not sent yet, last first ([`Driver::setup_ops`]);
    /// its own operations wait until these are sent and every client is idle.
    ///
    /// [`Driver::setup_ops`]: crate::sim::driver::Driver::setup_ops
    pub(super) setup: Vec<Op>,
    /// True until the setup requests have all completed.
    pub(super) in_setup: bool,
    /// The final phase's operations not sent yet, last first.
    final_ops: Vec<Op>,
    /// Kinds of final-phase request none of which was served yet.
    final_unserved: BTreeSet<String>,
    /// When the final phase stops sending again the kinds not served.
    final_deadline: Instant,
    /// When the kinds not served go out again.
    pub(super) final_retry_at: Option<Instant>,
}

impl Clients {
    /// `count` idle clients.
    pub(super) fn new(count: usize, now: Instant) -> Clients {
        Clients {
            slots: (0..count).map(|_| None).collect(),
            next_op_at: now,
            draining: false,
            setup: Vec::new(),
            in_setup: false,
            final_ops: Vec::new(),
            final_unserved: BTreeSet::new(),
            final_deadline: now,
            final_retry_at: None,
        }
    }

    /// True when no client has a request in flight.
    pub(super) fn idle(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    /// The first client with nothing in flight.
    fn free(&self) -> Option<usize> {
        self.slots.iter().position(Option::is_none)
    }

    /// The index of client `dest` (`c1` is 0), if it is one of eddy's.
    pub(super) fn index_of(&self, dest: &str) -> Option<usize> {
        dest.strip_prefix('c')
            .and_then(|n| n.parse::<usize>().ok())
            .filter(|&n| n >= 1 && n <= self.slots.len())
            .map(|n| n - 1)
    }
}

/// A request body's type.
fn op_kind(body: &Value) -> String {
    body["type"].as_str().unwrap_or("?").to_owned()
}

impl Router<'_> {
    /// The running phase's clients at `now`: a convergence measurement in progress, a round
    /// draining, or the next operations as clients free up.
    pub(super) fn run_clients(&mut self, now: Instant) {
        if self.convergence.measuring() {
            return self.drive_probe(now);
        }
        if self.clients.in_setup {
            return self.run_setup(now);
        }
        if self.clients.draining {
            if self.clients.idle() {
                self.clients.draining = false;
                self.start_probe("round");
            }
            return;
        }
        while now >= self.clients.next_op_at {
            let Some(client) = self.clients.free() else {
                break;
            };
            match self
                .workload
                .next_op_for(client, &mut self.workload_rng, self.cfg.node_count)
            {
                Next::Op(op) => self.invoke(client, op, false),
                Next::EndOfRound => {
                    self.clients.draining = true;
                    break;
                }
                Next::Idle => {
                    self.clients.next_op_at = self.end_of_running();
                    break;
                }
                Next::Done => return self.end_running(now),
            }
            let gap = -(1.0 - self.workload_rng.random::<f64>()).ln() / self.cfg.rate.max(1e-9);
            self.clients.next_op_at += Duration::from_secs_f64(gap);
            if self.clients.next_op_at < now {
                // Do not make up for time lost waiting on a free client.
                self.clients.next_op_at = now;
            }
        }
    }

    /// The setup requests as clients free up; once all completed, the workload's own
    /// operations start at `now`.
    fn run_setup(&mut self, now: Instant) {
        while !self.clients.setup.is_empty() {
            let Some(client) = self.clients.free() else {
                return;
            };
            let op = self.clients.setup.pop().expect("not empty");
            self.invoke(client, op, false);
        }
        if self.clients.idle() {
            self.clients.in_setup = false;
            self.clients.next_op_at = now;
        }
    }

    /// Sends `op` from `client`, recording its invoke.
    fn invoke(&mut self, client: usize, mut op: Op, final_phase: bool) {
        if op.to_leader {
            // A leader eddy killed cannot answer: until a new one shows itself, the request
            // goes where the workload drew it (a follower forwards it or says who leads).
            op.node = self
                .leader
                .hint
                .filter(|&l| self.cluster.is_up(l))
                .unwrap_or(op.node);
        }
        let msg_id = self.msg_id();
        let node_id = self.cluster.ids()[op.node].clone();
        let f = op_kind(&op.body);
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
            self.clients.slots[client] = Some(pending);
            self.timers.schedule(
                Instant::now() + self.cfg.request_timeout,
                super::Timer::ClientTimeout { client, msg_id },
            );
        } else {
            // The node is down: the request certainly never reached it.
            let reply =
                json!({"type": "error", "code": 1, "text": format!("eddy: {node_id} is down")});
            self.clients.slots[client] = Some(pending);
            self.complete(client, EventType::Fail, reply);
        }
    }

    /// Completes `client`'s request with `reply`.
    pub(super) fn complete(&mut self, client: usize, kind: EventType, reply: Value) {
        let Some(pending) = self.clients.slots[client].take() else {
            return;
        };
        let node = self.cluster.ids()[pending.op.node].clone();
        self.workload
            .on_complete(client, &pending.op.body, &reply, pending.final_phase);
        if pending.final_phase && crate::check::availability::served(&pending.f, kind, &reply) {
            self.clients.final_unserved.remove(&pending.f);
        }
        self.record(
            Process::Client(client as u64 + 1),
            Some(node),
            kind,
            &pending.f,
            reply,
            pending.final_phase,
        );
    }

    /// `client`'s request `msg_id` timed out, if it is still in flight.
    pub(super) fn client_timeout(&mut self, client: usize, msg_id: u64) {
        if self.clients.slots[client]
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

    /// Node `node` stopped while clients waited on it (`how`: "was killed", "exited with
    /// code 4"). Like a client whose connection to a crashed server breaks, each learns at
    /// once that the outcome of its request is unknown (`info`: the node may have applied
    /// it before it stopped), instead of waiting for its timeout.
    pub(super) fn release_clients_on(&mut self, node: usize, how: &str) {
        let waiting: Vec<usize> = (0..self.clients.slots.len())
            .filter(|&c| {
                self.clients.slots[c]
                    .as_ref()
                    .is_some_and(|p| p.op.node == node)
            })
            .collect();
        let text = format!(
            "eddy: {} {how} {}",
            self.cluster.ids()[node],
            crate::check::availability::IN_FLIGHT
        );
        for client in waiting {
            self.complete(
                client,
                EventType::Info,
                json!({"type": "error", "code": 0, "text": text}),
            );
        }
    }

    /// Node `writer` wrote `message` to `client`: a reply to its request in flight completes
    /// it; anything else is ignored.
    pub(super) fn on_client_message(&mut self, client: usize, writer: usize, message: &Message) {
        let answers = self.clients.slots[client]
            .as_ref()
            .is_some_and(|p| message.in_reply_to().and_then(Value::as_u64) == Some(p.msg_id));
        if !answers {
            return;
        }
        let body = message.body().clone();
        let kind = EventType::of_reply(&body);
        // Without a certain sign on the wire, the node that gave an answer only a leader
        // gives (a write served) is the best evidence of who leads.
        let likely = self.workload.leader_sign(message) == Some(LeaderSign::Likely);
        if !self.leader.on_wire && kind == EventType::Ok && likely {
            self.leader.hint = Some(writer);
        }
        self.complete(client, kind, body);
    }

    /// Begins the final phase: the workload's final operations, once each.
    pub(super) fn begin_final(&mut self) {
        self.phase = super::Phase::Final;
        let mut ops = self.workload.final_ops(self.cfg.node_count);
        ops.reverse();
        self.clients.final_unserved = ops.iter().map(|op| op_kind(&op.body)).collect();
        self.clients.final_ops = ops;
        self.clients.final_deadline = Instant::now() + FINAL_RETRIES_FOR;
    }

    /// The final phase at `now`: its operations as clients free up; true once it is over.
    pub(super) fn final_step(&mut self, now: Instant) -> bool {
        while !self.clients.final_ops.is_empty() {
            let Some(client) = self.clients.free() else {
                break;
            };
            let op = self.clients.final_ops.pop().expect("not empty");
            self.invoke(client, op, true);
        }
        if !self.clients.final_ops.is_empty() || !self.clients.idle() {
            return false;
        }
        if let Some(mut more) = self.workload.more_final_ops(self.cfg.node_count) {
            more.reverse();
            self.clients.final_ops = more;
            return false;
        }
        self.final_round_over(now)
    }

    /// True when the final phase is over: every kind of its requests was served once, or
    /// [`FINAL_RETRIES_FOR`] has passed. Until then the requests of a kind none of which
    /// was served go out again every [`FINAL_RETRY_EVERY`]: a cluster that is electing a
    /// leader at the moment the final reads go out (on a busy machine, say) is not judged
    /// unavailable for it.
    fn final_round_over(&mut self, now: Instant) -> bool {
        let clients = &mut self.clients;
        if clients.final_unserved.is_empty() || now >= clients.final_deadline {
            return true;
        }
        match clients.final_retry_at {
            None => clients.final_retry_at = Some(now + FINAL_RETRY_EVERY),
            Some(at) if now >= at => {
                clients.final_retry_at = None;
                let unserved = &clients.final_unserved;
                clients.final_ops = self
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
}
