//! Running one case: a fresh node process, the input fed step by step, the output
//! collected until every request is answered, the timeout runs out, the node exits, or it
//! floods. Whatever happens, the node's process group is killed before this returns.
//!
//! How the input is fed (docs/protocol.md section 2):
//! - A line (and a `sleep`) waits until every request written before it has been answered,
//!   so the node is never asked to serve two requests at once and a case means the same
//!   to a node that handles requests concurrently as to one that handles them in turn.
//!   With `concurrent: true`, a line waits only for `init` and for the earlier requests of
//!   its own client (`src`): different clients' requests are then in flight together.
//!   Lines are always written in the case's order.
//! - So nothing after `init` is written before `init` is answered, and every `sleep`
//!   starts after that answer: time windows are measured from `init_ok`, not from spawn.
//! - The timeout bounds the wait for the answer to `init`, and then, counted again from
//!   that answer, everything else.

use super::matcher::Arrival;
use super::{Case, Step};
use crate::process::{
    NodeCommand, NodeProcess, OutputEvent, RawLine, SpawnOptions, MAX_LINE_BYTES,
};
use crate::protocol::Message;
use serde_json::Value;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Limits that protect the harness from a misbehaving node.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// After every request is answered and stdin is closed, how long the node may take to exit.
    pub exit_grace: Duration,
    /// Output lines beyond which the node is judged to flood.
    pub max_output_lines: usize,
    /// Output bytes beyond which the node is judged to flood.
    pub max_output_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            exit_grace: Duration::from_secs(1),
            max_output_lines: 100_000,
            max_output_bytes: 64 << 20,
        }
    }
}

/// One line the node wrote.
#[derive(Debug, Clone)]
pub struct Output {
    /// Milliseconds since the case started.
    pub at_ms: f64,
    /// When it arrived, for time-dependent matchers.
    pub arrival: Arrival,
    /// The message, or why the line is not one.
    pub line: Result<Message, String>,
}

/// How a case run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Every request was answered. `lingered` when the node ignored stdin closing and had
    /// to be killed.
    Answered {
        /// The node's exit, in words (`exited with code 0`).
        exit: String,
        /// True when the node did not exit within the grace period after stdin closed.
        lingered: bool,
    },
    /// The case's timeout ran out first.
    TimedOut,
    /// The node exited (or closed stdout) before answering everything.
    Exited(String),
    /// The node wrote more than the limits allow.
    Flooded(String),
    /// The node could not be started, for this reason (the operating system's, in words).
    SpawnFailed(String),
    /// The case was not run (it needs another contract).
    NotRun,
}

/// Everything observed while running a case.
#[derive(Debug, Clone)]
pub struct Transcript {
    /// Output lines in order.
    pub outputs: Vec<Output>,
    /// How it ended.
    pub ending: Ending,
    /// The node's last stderr lines.
    pub stderr_tail: Vec<String>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// How many input lines were written; the rest were still waiting when the case ended.
    pub sent: usize,
    /// The input lines (1-based) of the unanswered requests the next unwritten step was
    /// waiting for when the case ended (empty when every line was written, or the case
    /// ended during a `sleep`).
    pub waiting_for: Vec<usize>,
    /// Milliseconds from spawn until the case's `init` was answered.
    pub init_answered_ms: Option<f64>,
}

impl Transcript {
    /// The transcript of a case that was not run.
    pub fn not_run() -> Transcript {
        Transcript {
            outputs: Vec::new(),
            ending: Ending::NotRun,
            stderr_tail: Vec::new(),
            elapsed: Duration::ZERO,
            sent: 0,
            waiting_for: Vec::new(),
            init_answered_ms: None,
        }
    }
}

/// A request the case fed (an input line with a `msg_id`), by position.
#[derive(Debug, Clone)]
pub struct Request {
    /// 1-based number among the case's input lines.
    pub line: usize,
    /// The requester (`src`).
    pub src: String,
    /// The request's `msg_id`.
    pub msg_id: Value,
    /// The request body.
    pub body: Value,
}

impl Request {
    /// `body.type`.
    pub fn kind(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }

    /// True when `reply` answers this request.
    pub fn is_answered_by(&self, reply: &Message) -> bool {
        reply.dest() == self.src && reply.in_reply_to() == Some(&self.msg_id)
    }
}

/// The requests among a case's input lines (lines that parse as envelopes with a `msg_id`).
pub fn requests(case: &Case) -> Vec<Request> {
    case.input_lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let message = Message::from_value(serde_json::from_str(line).ok()?).ok()?;
            let msg_id = message.msg_id()?.clone();
            Some(Request {
                line: i + 1,
                src: message.src().to_owned(),
                msg_id,
                body: message.body().clone(),
            })
        })
        .collect()
}

/// What the runner knows about the requests it feeds.
struct Feed<'a> {
    case: &'a Case,
    requests: Vec<Request>,
    /// For each input line (0-based): its `src`, when it is JSON with one.
    line_src: Vec<Option<String>>,
    /// For each input line (0-based): the request it is, if any.
    line_request: Vec<Option<usize>>,
    /// The `init` request, if the case has one.
    init: Option<usize>,
    written: Vec<bool>,
    answered: Vec<bool>,
}

impl<'a> Feed<'a> {
    fn new(case: &'a Case) -> Feed<'a> {
        let requests = requests(case);
        let lines: Vec<&str> = case.input_lines().collect();
        let mut line_request = vec![None; lines.len()];
        for (i, request) in requests.iter().enumerate() {
            line_request[request.line - 1] = Some(i);
        }
        let line_src = lines
            .iter()
            .map(|line| {
                serde_json::from_str::<Value>(line)
                    .ok()
                    .and_then(|v| v["src"].as_str().map(str::to_owned))
            })
            .collect();
        let init = requests.iter().position(|r| r.kind() == "init");
        let n = requests.len();
        Feed {
            case,
            requests,
            line_src,
            line_request,
            init,
            written: vec![false; n],
            answered: vec![false; n],
        }
    }

    /// The input lines (1-based) of the unanswered requests that hold back the next step:
    /// input line `line` (0-based), or a `sleep` when `line` is `None`. Empty when it may go.
    fn blockers(&self, line: Option<usize>) -> Vec<usize> {
        let open = |i: &usize| self.written[*i] && !self.answered[*i];
        if let Some(init) = self.init.filter(open) {
            return vec![self.requests[init].line];
        }
        let src = line.and_then(|l| self.line_src[l].as_deref());
        (0..self.requests.len())
            .filter(open)
            .filter(|&i| !self.case.concurrent || src == Some(self.requests[i].src.as_str()))
            .map(|i| self.requests[i].line)
            .collect()
    }

    /// Records a reply; returns true when it answered `init`.
    fn record_reply(&mut self, reply: &Message) -> bool {
        let found = (0..self.requests.len()).find(|&i| {
            self.written[i] && !self.answered[i] && self.requests[i].is_answered_by(reply)
        });
        match found {
            Some(i) => {
                self.answered[i] = true;
                Some(i) == self.init
            }
            None => false,
        }
    }

    fn all_answered(&self) -> bool {
        self.answered.iter().all(|a| *a)
    }
}

/// Runs `case` against a fresh process of `command`.
pub fn run_case(case: &Case, command: &NodeCommand, limits: Limits) -> Transcript {
    let start = Instant::now();
    let mut node = match NodeProcess::spawn(
        command,
        SpawnOptions {
            label: "case".into(),
            ..SpawnOptions::default()
        },
    ) {
        Ok(node) => node,
        Err(error) => {
            return Transcript {
                ending: Ending::SpawnFailed(error.reason),
                elapsed: start.elapsed(),
                ..Transcript::not_run()
            }
        }
    };
    let mut feed = Feed::new(case);
    let mut deadline = start + case.timeout;
    let mut init_answered_ms = None;
    let mut outputs = Vec::new();
    let mut bytes = 0usize;
    let mut step = 0usize;
    let mut sent = 0usize;
    let mut sleep_until: Option<Instant> = None;
    let ending = loop {
        // Feed every step that may go now.
        while let Some(next) = case.steps.get(step) {
            match next {
                Step::Send(line) => {
                    if !feed.blockers(Some(sent)).is_empty() {
                        break;
                    }
                    node.send(line);
                    if let Some(i) = feed.line_request[sent] {
                        feed.written[i] = true;
                    }
                    sent += 1;
                    step += 1;
                }
                Step::Sleep(pause) => match sleep_until {
                    None if feed.blockers(None).is_empty() => {
                        sleep_until = Some(Instant::now() + *pause)
                    }
                    Some(until) if Instant::now() >= until => {
                        sleep_until = None;
                        step += 1;
                    }
                    _ => break,
                },
            }
        }
        if step == case.steps.len() && feed.all_answered() {
            break finish(&mut node, &mut outputs, start, limits);
        }
        let now = Instant::now();
        if now >= deadline {
            break Ending::TimedOut;
        }
        let wake = sleep_until.map_or(deadline, |until| until.min(deadline));
        match node.next_output(wake.saturating_duration_since(now)) {
            None => {}
            Some(OutputEvent::Closed) => {
                let exit = node
                    .wait_exit(Duration::from_millis(200))
                    .map_or("closed its stdout".into(), |status| {
                        node.describe_end(status).words
                    });
                break Ending::Exited(exit);
            }
            Some(OutputEvent::Line(at, raw)) => {
                bytes += raw_len(&raw);
                let output = to_output(at, start, raw);
                if let Ok(message) = &output.line {
                    if feed.record_reply(message) && init_answered_ms.is_none() {
                        init_answered_ms = Some(output.at_ms);
                        deadline = at + case.timeout;
                    }
                }
                outputs.push(output);
                if outputs.len() > limits.max_output_lines || bytes > limits.max_output_bytes {
                    break Ending::Flooded(format!(
                        "wrote more than {} lines or {} MiB",
                        limits.max_output_lines,
                        limits.max_output_bytes >> 20
                    ));
                }
            }
        }
    };
    let waiting_for = match case.steps.get(step) {
        Some(Step::Send(_)) => feed.blockers(Some(sent)),
        Some(Step::Sleep(_)) if sleep_until.is_none() => feed.blockers(None),
        _ => Vec::new(),
    };
    node.kill();
    Transcript {
        outputs,
        ending,
        stderr_tail: node.stderr_tail(),
        elapsed: start.elapsed(),
        sent,
        waiting_for,
        init_answered_ms,
    }
}

/// Closes stdin and collects what the node still writes until it exits or the grace ends.
fn finish(
    node: &mut NodeProcess,
    outputs: &mut Vec<Output>,
    start: Instant,
    limits: Limits,
) -> Ending {
    node.close_stdin();
    let grace_end = Instant::now() + limits.exit_grace;
    let mut extra = 0usize;
    loop {
        let left = grace_end.saturating_duration_since(Instant::now());
        match node.next_output(left) {
            Some(OutputEvent::Line(at, raw)) if extra < limits.max_output_lines => {
                extra += 1;
                outputs.push(to_output(at, start, raw));
            }
            Some(OutputEvent::Closed) => {
                let exit = node.wait_exit(left.max(Duration::from_millis(50)));
                return Ending::Answered {
                    lingered: exit.is_none(),
                    exit: exit.map_or("did not exit".into(), |status| {
                        node.describe_end(status).words
                    }),
                };
            }
            _ if Instant::now() < grace_end && extra < limits.max_output_lines => {}
            _ => {
                return Ending::Answered {
                    exit: "did not exit after stdin closed".into(),
                    lingered: true,
                }
            }
        }
    }
}

fn raw_len(raw: &RawLine) -> usize {
    match raw {
        RawLine::Text(text) => text.len() + 1,
        RawLine::NotUtf8(len) | RawLine::TooLong(len) => len + 1,
    }
}

fn to_output(at: Instant, start: Instant, raw: RawLine) -> Output {
    let wall_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as i64
        - at.elapsed().as_millis() as i64;
    let line = match raw {
        RawLine::Text(text) => match serde_json::from_str::<Value>(&text) {
            Ok(value) => Message::from_value(value),
            Err(e) => Err(format!("not JSON ({e}): {}", excerpt(&text))),
        },
        RawLine::NotUtf8(len) => Err(format!("not UTF-8 ({len} bytes)")),
        RawLine::TooLong(len) => Err(format!(
            "longer than {} MiB ({len} bytes)",
            MAX_LINE_BYTES >> 20
        )),
    };
    Output {
        at_ms: at.duration_since(start).as_secs_f64() * 1000.0,
        arrival: Arrival { wall_ms },
        line,
    }
}

fn excerpt(text: &str) -> String {
    crate::cases::matcher::short(&Value::String(text.to_owned()))
}
