//! Judging a transcript against its case (SPEC section 2): the expected lines (in any
//! order, or as an ordered subsequence for `ordered: true`), the schema of every reply,
//! exactly one reply per request, and whether the node ran at all; under a contract.

use super::matcher::{differences, matches, short};
use super::runner::{requests, Ending, Output, Request, Transcript};
use super::{Case, Rules, NEEDS_SEED};
use crate::contract::Contract;
use crate::protocol::{reply_types, Message};
use serde::Serialize;
use serde_json::Value;

/// The outcome of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every rule held.
    Pass,
    /// A rule was broken.
    Fail,
    /// The node could not be run: not found, crashed before answering init, or never
    /// answered init.
    NodeError,
    /// Not run: the case needs another contract (`needs --contract seed`).
    Skipped,
}

/// Which rule a failure broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// An expected line was not matched (by an output line of its own; in order, for
    /// `ordered: true`).
    ExpectedLine,
    /// A reply or node message broke its schema, or a request was answered with the wrong type.
    Schema,
    /// A request got no reply or more than one, or a reply answered no request.
    OneReply,
    /// An output line was not a well-formed message.
    Output,
    /// The node exited, hung, or flooded.
    Node,
}

impl Rule {
    /// The rule's name as printed and stored.
    pub fn name(self) -> &'static str {
        match self {
            Rule::ExpectedLine => "expected-line",
            Rule::Schema => "schema",
            Rule::OneReply => "one-reply",
            Rule::Output => "output",
            Rule::Node => "node",
        }
    }
}

/// One broken rule, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The rule.
    pub rule: Rule,
    /// One line saying what went wrong.
    pub summary: String,
    /// Further lines: what was expected, what came.
    pub detail: Vec<String>,
    /// True when this follows from the node's crash (it exited or flooded before
    /// answering every request): a reply or expected line that never came. Such failures
    /// come after the crash, which comes first, and are summarised in one line each.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub follow_on: bool,
}

/// The verdict on one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Pass, fail, or node error.
    pub status: Status,
    /// Expected lines matched.
    pub matched: usize,
    /// Expected lines in all.
    pub expected: usize,
    /// Every broken rule.
    pub failures: Vec<Failure>,
    /// Remarks that do not fail the case (a node that ignored stdin closing).
    pub notes: Vec<String>,
}

/// The verdict on a case that was not run under `contract`.
pub fn skipped(case: &Case) -> Verdict {
    Verdict {
        status: Status::Skipped,
        matched: 0,
        expected: case.expected.len(),
        failures: Vec::new(),
        notes: vec![NEEDS_SEED.into()],
    }
}

/// An expected line as `contract` reads it: under Maelstrom's, the node's own `msg_id` is
/// not compared (a node may number its messages from anywhere; `in_reply_to` still is).
pub fn expected_under(expected: &Value, contract: Contract) -> Value {
    let mut line = expected.clone();
    if contract == Contract::Maelstrom {
        if let Some(body) = line.get_mut("body").and_then(Value::as_object_mut) {
            body.remove("msg_id");
        }
    }
    line
}

/// Judges `transcript` against `case` under `contract`.
pub fn judge(case: &Case, transcript: &Transcript, rules: &Rules) -> Verdict {
    let contract = rules.contract;
    if transcript.ending == Ending::NotRun {
        return skipped(case);
    }
    let all_requests = requests(case);
    // Requests that were never written (they waited for a reply that never came) are not
    // charged with having no reply: the node failure below names them.
    let requests: Vec<Request> = all_requests
        .iter()
        .filter(|r| r.line <= transcript.sent)
        .cloned()
        .collect();
    let messages: Vec<(usize, &Message)> = transcript
        .outputs
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.line.as_ref().ok().map(|m| (i, m)))
        .collect();
    let mut failures = Vec::new();
    let mut notes = Vec::new();

    if let Some(failure) = node_could_not_run(&requests, &messages, transcript) {
        return Verdict {
            status: Status::NodeError,
            matched: 0,
            expected: case.expected.len(),
            failures: vec![failure],
            notes,
        };
    }
    for (i, output) in transcript.outputs.iter().enumerate() {
        if let Err(problem) = &output.line {
            failures.push(failure(
                Rule::Output,
                format!("output line {} is {problem}", i + 1),
                vec![],
            ));
        }
    }
    let expected: Vec<Value> = case
        .expected
        .iter()
        .map(|line| expected_under(line, contract))
        .collect();
    let matched = if case.ordered {
        match_ordered(&expected, &transcript.outputs, &mut failures)
    } else {
        match_any_order(&expected, &transcript.outputs, &mut failures)
    };
    check_replies(&requests, &messages, rules, &mut failures);
    let unsent = unsent_detail(case, &all_requests, transcript);
    if let Some(crash) = crash(&transcript.ending) {
        // The cause first (how the node ended, its stderr), then what followed from it.
        let cause = failure(
            Rule::Node,
            crash,
            [stderr_detail(transcript), unsent].concat(),
        );
        failures.sort_by_key(|f| f.follow_on);
        failures.insert(0, cause);
        return verdict(case, matched, failures, notes);
    }
    for failure in &mut failures {
        failure.follow_on = false;
    }
    match &transcript.ending {
        Ending::Answered { lingered: true, .. } => {
            notes.push("the node did not exit after stdin closed; it was killed".into());
        }
        Ending::Answered { .. } | Ending::SpawnFailed(_) | Ending::NotRun => {}
        Ending::TimedOut => failures.push(failure(
            Rule::Node,
            format!(
                "timed out after {} ms waiting for replies",
                case.timeout.as_millis()
            ),
            [unsent, stderr_detail(transcript)].concat(),
        )),
        Ending::Exited(_) | Ending::Flooded(_) => unreachable!("a crash is judged above"),
    }
    verdict(case, matched, failures, notes)
}

/// How the node crashed, in words, when it exited or flooded before answering every
/// request.
fn crash(ending: &Ending) -> Option<String> {
    match ending {
        Ending::Exited(how) => Some(format!("the node {how} before answering every request")),
        Ending::Flooded(how) => Some(format!("output flood: the node {how}; it was killed")),
        _ => None,
    }
}

/// The verdict: a pass when nothing failed.
fn verdict(case: &Case, matched: usize, failures: Vec<Failure>, notes: Vec<String>) -> Verdict {
    Verdict {
        status: if failures.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        },
        matched,
        expected: case.expected.len(),
        failures,
        notes,
    }
}

fn failure(rule: Rule, summary: String, detail: Vec<String>) -> Failure {
    Failure {
        rule,
        summary,
        detail,
        follow_on: false,
    }
}

/// A failure for something that never came (a reply, an expected line): a follow-on
/// failure if the node crashed ([`Failure::follow_on`]; [`judge`] clears the mark when it
/// did not).
fn absent(rule: Rule, summary: String, detail: Vec<String>) -> Failure {
    Failure {
        follow_on: true,
        ..failure(rule, summary, detail)
    }
}

/// Which input lines were never written and what they waited for.
fn unsent_detail(case: &Case, requests: &[Request], transcript: &Transcript) -> Vec<String> {
    let total = case.input_lines().count();
    if transcript.sent >= total {
        return Vec::new();
    }
    let lines = if transcript.sent + 1 == total {
        format!("input line {total} was")
    } else {
        format!("input lines {} to {total} were", transcript.sent + 1)
    };
    let waited: Vec<String> = transcript
        .waiting_for
        .iter()
        .filter_map(|line| requests.iter().find(|r| r.line == *line))
        .map(|r| {
            format!(
                "input line {} (`{}`, msg_id {} from {})",
                r.line,
                r.kind(),
                r.msg_id,
                r.src
            )
        })
        .collect();
    vec![if waited.is_empty() {
        format!("{lines} not written: the case ended during a `sleep`")
    } else {
        format!(
            "{lines} not written: a line waits for the replies to earlier requests, and {} got none",
            waited.join(", ")
        )
    }]
}

fn stderr_detail(transcript: &Transcript) -> Vec<String> {
    let tail = &transcript.stderr_tail;
    let shown = &tail[tail.len().saturating_sub(5)..];
    shown.iter().map(|line| format!("stderr: {line}")).collect()
}

/// Node errors: not started, or gone or silent before answering `init`.
fn node_could_not_run(
    requests: &[Request],
    messages: &[(usize, &Message)],
    transcript: &Transcript,
) -> Option<Failure> {
    if let Ending::SpawnFailed(why) = &transcript.ending {
        return Some(failure(
            Rule::Node,
            format!("the node did not start: {why}"),
            vec![],
        ));
    }
    let init = requests.iter().find(|r| r.kind() == "init")?;
    if messages.iter().any(|(_, m)| init.is_answered_by(m)) {
        return None;
    }
    let summary = match &transcript.ending {
        Ending::Exited(how) => format!("the node {how} before answering init"),
        Ending::TimedOut => format!(
            "the node never answered init (waited {} ms)",
            transcript.elapsed.as_millis()
        ),
        Ending::Flooded(how) => format!("the node {how} without answering init"),
        Ending::Answered { .. } | Ending::SpawnFailed(_) | Ending::NotRun => return None,
    };
    let mut detail: Vec<String> = messages
        .iter()
        .take(2)
        .map(|(i, m)| format!("output line {}: {}", i + 1, short(&m.value)))
        .collect();
    detail.extend(stderr_detail(transcript));
    Some(failure(Rule::Node, summary, detail))
}

/// Greedy ordered-subsequence matching (`ordered: true`); every unmatched expected line is
/// a failure that shows the closest output line after the last match. Returns how many
/// expected lines matched.
fn match_ordered(expected: &[Value], outputs: &[Output], failures: &mut Vec<Failure>) -> usize {
    let mut next = 0;
    let mut matched = 0;
    for (k, line) in expected.iter().enumerate() {
        let found = (next..outputs.len()).find(|&i| matches_output(line, &outputs[i]));
        match found {
            Some(i) => {
                matched += 1;
                next = i + 1;
            }
            None => failures.push(explain_missing(k, line, outputs, next, &[])),
        }
    }
    matched
}

/// Matching in any order: the largest set of pairs (expected line, output line) that gives
/// every expected line an output line of its own (a maximum bipartite matching, so the
/// result depends neither on the order of the lines nor on a greedy choice). Every
/// unmatched expected line is a failure that shows the closest output line. Returns how
/// many expected lines matched.
fn match_any_order(expected: &[Value], outputs: &[Output], failures: &mut Vec<Failure>) -> usize {
    let candidates: Vec<Vec<usize>> = expected
        .iter()
        .map(|line| {
            (0..outputs.len())
                .filter(|&i| matches_output(line, &outputs[i]))
                .collect()
        })
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; outputs.len()];
    for k in 0..expected.len() {
        let mut seen = vec![false; outputs.len()];
        augment(k, &candidates, &mut owner, &mut seen);
    }
    let mut matched = 0;
    for (k, line) in expected.iter().enumerate() {
        if owner.contains(&Some(k)) {
            matched += 1;
        } else {
            failures.push(explain_missing(k, line, outputs, 0, &owner));
        }
    }
    matched
}

/// Kuhn's augmenting path from expected line `k`: true when it got an output line.
fn augment(
    k: usize,
    candidates: &[Vec<usize>],
    owner: &mut [Option<usize>],
    seen: &mut [bool],
) -> bool {
    for &i in &candidates[k] {
        if seen[i] {
            continue;
        }
        seen[i] = true;
        if owner[i].is_none_or(|other| augment(other, candidates, owner, seen)) {
            owner[i] = Some(k);
            return true;
        }
    }
    false
}

fn matches_output(expected: &Value, output: &Output) -> bool {
    output
        .line
        .as_ref()
        .is_ok_and(|m| matches(expected, &m.value, output.arrival))
}

/// Explains expected line `k`, unmatched, with the closest output line from `offset` on;
/// `owner` tells which expected line took each output line (any-order matching).
fn explain_missing(
    k: usize,
    expected: &Value,
    outputs: &[Output],
    offset: usize,
    owner: &[Option<usize>],
) -> Failure {
    let kind = expected["body"]["type"].as_str().unwrap_or("?");
    let summary = format!(
        "expected line {} (`{kind}`) not found{}",
        k + 1,
        if offset > 0 {
            format!(" after output line {offset}")
        } else {
            String::new()
        }
    );
    let rest = &outputs[offset..];
    let mut detail = vec![format!("expected: {}", short(expected))];
    let closest = rest
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.line.as_ref().ok().map(|m| (i, o, m)))
        .filter(|(_, _, m)| {
            m.kind() == kind
                || (m.kind() == "error"
                    && expected["body"]["in_reply_to"] == m.body()["in_reply_to"])
        })
        .map(|(i, o, m)| (i, m, differences(expected, &m.value, o.arrival)))
        .min_by_key(|(_, _, diffs)| diffs.len());
    match closest {
        Some((i, message, diffs)) => {
            detail.push(format!(
                "closest: output line {}: {}",
                offset + i + 1,
                short(&message.value)
            ));
            if diffs.is_empty() {
                if let Some(Some(other)) = owner.get(offset + i) {
                    detail.push(format!(
                        "  it matches, but expected line {} took it (each expected line needs an output line of its own)",
                        other + 1
                    ));
                }
            }
            detail.extend(diffs.into_iter().map(|d| format!("  {d}")));
        }
        None => {
            let kinds: Vec<String> = rest
                .iter()
                .filter_map(|o| o.line.as_ref().ok())
                .map(|m| m.kind().to_owned())
                .collect();
            detail.push(if kinds.is_empty() {
                if offset > 0 {
                    "got: no further output".into()
                } else {
                    "got: no output".into()
                }
            } else {
                format!("got types: {}", kinds.join(", "))
            });
            // Nothing of its type came: after a crash, that follows from the crash.
            return absent(Rule::ExpectedLine, summary, detail);
        }
    }
    failure(Rule::ExpectedLine, summary, detail)
}

/// Exactly one reply per request, of a type that answers it and well-formed; other
/// messages well-formed too, under the seed contract only (under Maelstrom's, node-to-node
/// bodies are the node's own business).
fn check_replies(
    requests: &[Request],
    messages: &[(usize, &Message)],
    rules: &Rules,
    failures: &mut Vec<Failure>,
) {
    let contract = rules.contract;
    for request in requests {
        let replies: Vec<&(usize, &Message)> = messages
            .iter()
            .filter(|(_, m)| request.is_answered_by(m))
            .collect();
        let what = format!(
            "request on input line {} (`{}`, msg_id {} from {})",
            request.line,
            request.kind(),
            request.msg_id,
            request.src
        );
        match replies.len() {
            0 => failures.push(absent(
                Rule::OneReply,
                format!("{what} got no reply"),
                vec![],
            )),
            1 => {}
            n => failures.push(failure(
                Rule::OneReply,
                format!("{what} got {n} replies"),
                replies
                    .iter()
                    .map(|(i, m)| format!("output line {}: {}", i + 1, short(&m.value)))
                    .collect(),
            )),
        }
        for (i, reply) in replies {
            let allowed = reply_types(request.kind());
            if !allowed.iter().any(|t| t == reply.kind()) {
                failures.push(failure(
                    Rule::Schema,
                    format!(
                        "{what} was answered with `{}` on output line {}; expected {}",
                        reply.kind(),
                        i + 1,
                        allowed.join(" or ")
                    ),
                    vec![],
                ));
            } else if let Err(why) = rules.schemas.check_body(reply.body(), Some(&request.body)) {
                failures.push(failure(
                    Rule::Schema,
                    format!("output line {}: {why}", i + 1),
                    vec![short(&reply.value)],
                ));
            }
        }
    }
    for (i, message) in messages {
        let Some(id) = message.in_reply_to() else {
            if contract == Contract::Maelstrom {
                continue;
            }
            if let Err(why) = rules.schemas.check_body(message.body(), None) {
                failures.push(failure(
                    Rule::Schema,
                    format!("output line {}: {why}", i + 1),
                    vec![short(&message.value)],
                ));
            }
            continue;
        };
        if !requests.iter().any(|r| r.is_answered_by(message)) {
            failures.push(failure(
                Rule::OneReply,
                format!(
                    "output line {} answers msg_id {id} from {}, which sent no such request",
                    i + 1,
                    message.dest()
                ),
                vec![short(&message.value)],
            ));
        }
    }
}
