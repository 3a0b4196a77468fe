//! Running one case: a fresh node process, the input fed step by step, the output
//! collected until every request is answered, the timeout runs out, the node exits, or it
//! floods. Whatever happens, the node's process group is killed before this returns.

use super::matcher::Arrival;
use super::{Case, Step};
use crate::process::{
    describe_exit, NodeCommand, NodeProcess, OutputEvent, RawLine, SpawnOptions, MAX_LINE_BYTES,
};
use crate::protocol::Message;
use serde_json::Value;
use std::collections::HashMap;
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
    /// The node could not be started.
    SpawnFailed(String),
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

/// Runs `case` against a fresh process of `command`.
pub fn run_case(case: &Case, command: &NodeCommand, limits: Limits) -> Transcript {
    let start = Instant::now();
    let mut node = match NodeProcess::spawn(command, SpawnOptions::default()) {
        Ok(node) => node,
        Err(error) => {
            return Transcript {
                outputs: Vec::new(),
                ending: Ending::SpawnFailed(error.to_string()),
                stderr_tail: Vec::new(),
                elapsed: start.elapsed(),
            }
        }
    };
    let requests = requests(case);
    let mut unanswered: HashMap<(String, String), usize> = requests
        .iter()
        .map(|r| ((r.src.clone(), r.msg_id.to_string()), 1))
        .collect();
    let deadline = start + case.timeout;
    let mut outputs = Vec::new();
    let mut bytes = 0usize;
    let mut steps = case.steps.iter();
    let mut next_step_at = start;
    let mut fed_all = false;
    let ending = loop {
        while !fed_all && Instant::now() >= next_step_at {
            match steps.next() {
                Some(Step::Send(line)) => {
                    node.send(line);
                }
                Some(Step::Sleep(pause)) => next_step_at = Instant::now() + *pause,
                None => fed_all = true,
            }
        }
        if fed_all && unanswered.is_empty() {
            break finish(&mut node, &mut outputs, start, limits);
        }
        let now = Instant::now();
        if now >= deadline {
            break Ending::TimedOut;
        }
        let wake = if fed_all {
            deadline
        } else {
            next_step_at.min(deadline)
        };
        match node.next_output(wake.saturating_duration_since(now)) {
            None => {}
            Some(OutputEvent::Closed) => {
                let exit = node
                    .wait_exit(Duration::from_millis(200))
                    .map_or("closed its stdout".into(), describe_exit);
                break Ending::Exited(exit);
            }
            Some(OutputEvent::Line(at, raw)) => {
                bytes += raw_len(&raw);
                let output = to_output(at, start, raw);
                if let Ok(message) = &output.line {
                    if let Some(id) = message.in_reply_to() {
                        unanswered.remove(&(message.dest().to_owned(), id.to_string()));
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
    node.kill();
    Transcript {
        outputs,
        ending,
        stderr_tail: node.stderr_tail(),
        elapsed: start.elapsed(),
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
                    exit: exit.map_or("did not exit".into(), describe_exit),
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
