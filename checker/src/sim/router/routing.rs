//! Routing every line a real node writes by its `dest`: to a peer eddy plays, to another
//! node or to one of Maelstrom's services through the network model (at once, or later by
//! a delivery timer), to one of eddy's clients, to `c0` (init and probe replies), or, for
//! any other destination, recorded and dropped; lines that are no message are recorded as such. Also what the
//! wire says of leadership, and node exits.

use super::timers::Timer;
use super::{Phase, Router, RunEnd};
use crate::process::{OutputEvent, RawLine, TaggedOutput, MAX_LINE_BYTES};
use crate::protocol::Message;
use crate::sim::driver::LeaderSign;
use crate::sim::network::Fate;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

impl Router<'_> {
    /// One event of a real node's output: a line to route, or its exit. Output of an
    /// incarnation that was killed since is stale and ignored.
    pub(super) fn on_output(&mut self, output: TaggedOutput) -> Option<RunEnd> {
        let node = output.tag.node;
        if output.tag.incarnation != self.cluster.incarnation(node) || !self.cluster.is_up(node) {
            return None;
        }
        match output.event {
            OutputEvent::Line(at, raw) => {
                self.route(node, self.rec.ns(at), raw);
                None
            }
            OutputEvent::Closed => self.on_exit(node),
        }
    }

    /// Node `node` closed its stdout on its own: before answering init the run cannot go
    /// on; later it is a crash, recorded (the requests in flight to it completed as `info`
    /// at once, as a kill does, and the played peers told), and when it was the last real
    /// node standing, with no restart due, the run ends early.
    fn on_exit(&mut self, node: usize) -> Option<RunEnd> {
        if crate::process::interrupted() {
            return None;
        }
        let id = self.cluster.ids()[node].clone();
        let (end, stderr) = self.cluster.reap(node)?;
        let exit = end.words;
        if self.phase == Phase::Init && self.awaiting_init.values().any(|&i| i == node) {
            let tail = stderr
                .last()
                .map(|l| format!("; its last stderr line: {l}"))
                .unwrap_or_default();
            return Some(RunEnd::NotStarted(format!(
                "{id} {exit} before answering init{tail}"
            )));
        }
        let mut detail = json!({"exit": exit, "stderr": stderr});
        if end.stopped {
            detail["stopped_by_sandbox"] = true.into();
        }
        self.harness(Some(id.clone()), "crash", detail);
        self.release_clients_on(node, &exit);
        self.peers_crash(&id);
        self.all_exited()
    }

    /// When every real node has exited by itself and the nemesis is due to restart none of
    /// them, nothing more can happen: the run ends early, naming how and when each exited.
    fn all_exited(&self) -> Option<RunEnd> {
        let ids = self.cluster.ids();
        let real: Vec<usize> = (0..ids.len())
            .filter(|&i| !self.played.is_node(i))
            .collect();
        if real.is_empty()
            || real.iter().any(|&i| self.cluster.is_up(i))
            || self.restart_due(Instant::now())
        {
            return None;
        }
        let exits: Vec<String> =
            real.iter()
                .filter_map(|&i| {
                    let crash =
                        self.rec.history.iter().rev().find(|e| {
                            e.f == "crash" && e.node.as_deref() == Some(ids[i].as_str())
                        })?;
                    let exit = crash.body["exit"].as_str().unwrap_or("exited");
                    Some(format!(
                        "{} {exit} at {:.1} s",
                        ids[i],
                        crash.time as f64 / 1e9
                    ))
                })
                .collect();
        Some(RunEnd::AllExited(format!(
            "every node has exited: {}",
            exits.join(", ")
        )))
    }

    /// Routes one line node `writer` wrote at `sent` (ns of the run).
    fn route(&mut self, writer: usize, sent: u64, raw: RawLine) {
        let writer_id = self.cluster.ids()[writer].clone();
        let text = match raw {
            RawLine::Text(text) => text,
            RawLine::NotUtf8(len) => {
                return self
                    .rec
                    .invalid(&writer_id, sent, &format!("not UTF-8 ({len} bytes)"), "")
            }
            RawLine::TooLong(len) => {
                return self.rec.invalid(
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
            Err(problem) => return self.rec.invalid(&writer_id, sent, &problem, &text),
        };
        if self.workload.leader_sign(&message) == Some(LeaderSign::Certain) {
            self.leader.hint = Some(writer);
            self.leader.on_wire = true;
        }
        let dest = message.dest();
        if self.played.plays(dest) {
            self.hand_to_peers(&message);
        } else if let Some(to) = self.cluster.ids().iter().position(|id| id == dest) {
            self.transmit(writer, to, sent, text);
        } else if dest == "c0" {
            if let Some(id) = message.in_reply_to().and_then(Value::as_u64) {
                if !self.probe_reply(id, message.body()) {
                    self.awaiting_init.remove(&id);
                }
            }
        } else if let Some(client) = self.clients.index_of(dest) {
            self.on_client_message(client, writer, &message);
        } else if let Some(service) = self.services.index_of(dest) {
            self.transmit(writer, self.service_endpoint(service), sent, text);
        } else {
            let dest = dest.to_owned();
            self.rec.unaddressed(&writer_id, sent, &dest, &text);
        }
    }

    /// Sends `line`, written at `sent` by network endpoint `writer`, to endpoint `to`
    /// through the network model: lost (recorded), or delivered at once or by a timer.
    pub(super) fn transmit(&mut self, writer: usize, to: usize, sent: u64, line: String) {
        match self.net.fate(writer, to) {
            Fate::Drop(reason) => {
                let writer_id = self.endpoint_id(writer);
                self.rec
                    .net_line(&writer_id, sent, None, Some(reason), &line)
            }
            Fate::Deliver(delay) if delay.is_zero() => self.deliver(to, writer, sent, &line),
            Fate::Deliver(delay) => {
                let at = self.rec.start() + Duration::from_nanos(sent) + delay;
                let timer = Timer::Deliver {
                    to,
                    writer,
                    sent,
                    line,
                };
                self.timers.schedule(at, timer);
            }
        }
    }

    /// Hands a message from endpoint `writer` to endpoint `to`: to a service, which
    /// answers it; to a node, unless it is down or cut off from `writer` by now. Either way
    /// it goes to `net.jsonl`.
    pub(super) fn deliver(&mut self, to: usize, writer: usize, sent: u64, line: &str) {
        if let Some(service) = self.service_at(to) {
            return self.serve(service, writer, sent, line);
        }
        let writer_id = self.endpoint_id(writer);
        let reason = if !self.cluster.is_up(to) {
            Some("node down")
        } else if self.net.is_cut(writer, to) {
            Some("partition")
        } else {
            None
        };
        match reason {
            Some(reason) => self
                .rec
                .net_line(&writer_id, sent, None, Some(reason), line),
            None if !self.cluster.send(to, line) => {
                self.rec
                    .net_line(&writer_id, sent, None, Some("inbox full"), line)
            }
            None => {
                let now = self.rec.ns(Instant::now());
                self.rec.net_line(&writer_id, sent, Some(now), None, line);
            }
        }
    }
}
