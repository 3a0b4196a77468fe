//! The record of a run as it happens: history events, `net.jsonl` lines and the traffic
//! summed, the machine's stalls, and progress as the terminal shows it.

use super::{Phase, Router};
use crate::check::traffic::{NetFate, NetSummary, UNKNOWN_DESTINATION};
use crate::history::{EventType, HistoryEvent, Process, Store};
use crate::sim::lag::LagMeter;
use serde_json::Value;
use std::time::Instant;

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

/// The store and what was written to it so far.
pub(super) struct Recorder {
    /// Time 0 of the history and of `net.jsonl`.
    start: Instant,
    /// The run folder.
    pub(super) store: Store,
    /// The history, as written.
    pub(super) history: Vec<HistoryEvent>,
    /// The routed traffic, summed.
    pub(super) net: NetSummary,
    /// Operations completed.
    completed: u64,
    /// How long the machine kept eddy and the nodes waiting for a core.
    lag: LagMeter,
}

impl Recorder {
    /// A record starting at `start` into `store`, for `nodes` nodes.
    pub(super) fn new(start: Instant, store: Store, nodes: usize) -> Recorder {
        Recorder {
            start,
            store,
            history: Vec::new(),
            net: NetSummary::default(),
            completed: 0,
            lag: LagMeter::new(nodes),
        }
    }

    /// Time 0 of the record.
    pub(super) fn start(&self) -> Instant {
        self.start
    }

    /// `at` in ns of the run.
    pub(super) fn ns(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.start).as_nanos() as u64
    }

    /// Appends `event`, stamped now. An event of a client process other than its invoke
    /// completes an operation.
    pub(super) fn append(&mut self, event: HistoryEvent) {
        if matches!(event.process, Process::Client(_)) && event.kind != EventType::Invoke {
            self.completed += 1;
        }
        let time = self.ns(Instant::now());
        self.store.append(&mut self.history, event, time);
    }

    /// One `net.jsonl` line: the message's own fields with send time, delivery time or
    /// drop reason, and the process that wrote it.
    pub(super) fn net_line(
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
        self.net.add(writer, sent, net_fate);
    }

    /// A line that was not a message: `problem`, with an excerpt of `text`.
    pub(super) fn invalid(&mut self, writer: &str, sent: u64, problem: &str, text: &str) {
        let excerpt = crate::cases::matcher::short(&Value::String(text.to_owned()));
        self.store.net_invalid(writer, sent, problem, &excerpt);
        self.net
            .add(writer, sent, NetFate::Invalid(problem, &excerpt));
    }

    /// A message to `dest`, which is no node, client or played peer of the run.
    pub(super) fn unaddressed(&mut self, writer: &str, sent: u64, dest: &str, text: &str) {
        self.store
            .net_message(writer, sent, None, Some(UNKNOWN_DESTINATION), text);
        self.net.add(writer, sent, NetFate::Unaddressed(dest));
    }
}

impl Router<'_> {
    /// Appends an event to the history, marked as the final phase's when `final_phase`.
    pub(super) fn record(
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
        self.rec.append(event);
    }

    /// Records something eddy itself saw or measured (process `harness`).
    pub(super) fn harness(&mut self, node: Option<String>, f: &str, body: Value) {
        self.record(
            Process::Named("harness".into()),
            node,
            EventType::Info,
            f,
            body,
            false,
        );
    }

    /// Records, as harness `stall` events, how long eddy's router and each node waited
    /// for a core since the last sample, where that was long (see `sim::lag`).
    pub(super) fn note_stalls(&mut self, now: Instant) {
        let pids: Vec<Option<u32>> = (0..self.cfg.node_count)
            .map(|i| self.cluster.pid(i))
            .collect();
        for stall in self.rec.lag.sample(now, &pids) {
            let (node, body) = stall.event(self.cluster.ids());
            self.harness(node, "stall", body);
        }
    }

    /// The phase, the operations completed and the faults in force.
    pub(super) fn progress(&self) -> Progress {
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
            completed: self.rec.completed,
            faults: self.faults_in_force().join(", "),
            phase,
        }
    }
}
