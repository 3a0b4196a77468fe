//! Turning a history (SPEC section 4) into operations per key.
//!
//! `ok` operations took effect between invoke and completion; `fail` never took effect,
//! except that a read answered with error 20 observed the key absent; `info` may take
//! effect at any time after its invoke, or never. An invoke with no completion is `info`.
//! `lease_read` is a read. Client operations of other kinds are not about the register:
//! they are left out, and counted by kind. Nemesis and harness events (`process` is a
//! name) are left out.
//!
//! Nothing the register needs is skipped in silence: a register operation missing a field
//! the model needs (no `key`; a `write` without `value`; a `cas` without `from` or `to`;
//! an `ok` read without `value`), or with a field of the wrong type, and a completion that
//! completes no operation of its client, are [`Problem`]s. [`from_events`] collects them
//! (the check turns them into witnesses); [`read`] refuses a file at the first one.

use super::model::{Interner, Kind, LinOp, Names, Noted, ABSENT, NEVER};
use crate::history::{EventType, HistoryEvent};
use rustc_hash::FxHashMap;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

mod reader;
pub use reader::{read, ReadError};

/// How the register operations (`read`, `lease_read`, `write`, `cas`) of a history ended,
/// each counted once; an operation with no completion (or abandoned by its client) is
/// `info`. Operations with a [`Problem`] are not counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Outcomes {
    /// Completed `ok`.
    pub ok: u64,
    /// Completed `fail` (a definite error).
    pub fail: u64,
    /// Outcome unknown.
    pub info: u64,
}

impl Outcomes {
    /// Every register operation counted.
    pub fn total(&self) -> u64 {
        self.ok + self.fail + self.info
    }
}

/// A history event the conversion could not interpret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The event's history index.
    pub index: u64,
    /// The event in words, e.g. "`read_ok` from n2 to client 3 at 1.204 s".
    pub event: String,
    /// What is wrong with it, e.g. "has no `value`".
    pub why: String,
}

impl Problem {
    /// The problem as a sentence: "history event 12 (`read_ok` from n2 to client 3 at
    /// 1.204 s) has no `value`: cannot judge it".
    pub fn sentence(&self) -> String {
        format!(
            "history event {} ({}) {}: cannot judge it",
            self.index, self.event, self.why
        )
    }

    /// The problem as a witness of the `linearizable` check.
    pub fn witness(&self) -> Value {
        json!({"kind": "unreadable-event", "index": self.index, "event": self.event, "why": self.sentence()})
    }
}

/// Operations grouped by key, with the interned values, and what was left out.
#[derive(Debug, Default)]
pub struct KvHistory {
    /// Each key (as JSON text) with its operations, in invoke order.
    pub keys: Vec<(String, Vec<LinOp>)>,
    /// Values by id.
    pub values: Interner,
    /// How the register operations ended.
    pub outcomes: Outcomes,
    /// Client operations of other kinds (not about the register), left out: invokes by `f`.
    pub skipped: BTreeMap<String, u64>,
    /// Events that could not be interpreted, in history order; their operations are not
    /// judged, and any of them makes the history invalid.
    pub problems: Vec<Problem>,
    /// Events read (client, nemesis and harness).
    pub events: u64,
    /// [`read`] only: the number of a torn last line (no newline at its end, not an
    /// event), which was skipped.
    pub torn_line: Option<u64>,
}

/// A field of a body: a parsed value, or JSON text already in the compact, canonical form
/// of [`canonical`](crate::check::json::canonical) (as [`read`]'s scan keeps it).
#[derive(Debug, Clone, Copy)]
enum Json<'a> {
    Parsed(&'a Value),
    Text(&'a str),
}

impl<'a> Json<'a> {
    /// The compact JSON text.
    fn text(self) -> Cow<'a, str> {
        match self {
            Json::Parsed(value) => Cow::Owned(crate::check::json::canonical(value)),
            Json::Text(text) => Cow::Borrowed(text),
        }
    }

    fn is_null(self) -> bool {
        match self {
            Json::Parsed(value) => value.is_null(),
            Json::Text(text) => text == "null",
        }
    }

    /// A string or a number.
    fn is_key(self) -> bool {
        match self {
            Json::Parsed(value) => value.is_string() || value.is_number(),
            Json::Text(text) => {
                text.starts_with(['"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
            }
        }
    }

    fn as_u64(self) -> Option<u64> {
        match self {
            Json::Parsed(value) => value.as_u64(),
            Json::Text(text) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
            Json::Text(_) => None,
        }
    }
}

/// What the register looks at in the body of an event.
#[derive(Debug, Default, Clone)]
pub struct Fields<'a> {
    object: bool,
    /// The body's `type`, when it is a string.
    kind: Option<&'a str>,
    key: Option<Json<'a>>,
    value: Option<Json<'a>>,
    from: Option<Json<'a>>,
    to: Option<Json<'a>>,
    code: Option<Json<'a>>,
}

impl<'a> Fields<'a> {
    /// The fields of a parsed body.
    pub fn of(body: &'a Value) -> Fields<'a> {
        let field = |name| body.get(name).map(Json::Parsed);
        Fields {
            object: body.is_object(),
            kind: body.get("type").and_then(Value::as_str),
            key: field("key"),
            value: field("value"),
            from: field("from"),
            to: field("to"),
            code: field("code"),
        }
    }
}

/// One event, as [`Builder::event`] takes it.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a> {
    /// The client number; `None` for nemesis and harness events.
    pub process: Option<u64>,
    /// invoke, ok, fail or info.
    pub kind: EventType,
    /// The request's type.
    pub f: &'a str,
    /// History index.
    pub index: u64,
    /// ns since the run started.
    pub time: u64,
    /// The node the request went to, if known.
    pub node: Option<&'a str>,
    /// The request (invoke) or the reply (completion).
    pub body: &'a Fields<'a>,
}

impl<'a> Event<'a> {
    /// An in-memory event with the fields of its body.
    pub fn new(e: &'a HistoryEvent, body: &'a Fields<'a>) -> Event<'a> {
        Event {
            process: e.client(),
            kind: e.kind,
            f: &e.f,
            index: e.index,
            time: e.time,
            node: e.node.as_deref(),
            body,
        }
    }
}

/// What a register operation would do, its values noted.
#[derive(Debug, Clone, Copy)]
enum Effect {
    Read,
    Write(Noted),
    Cas(Noted, Noted),
}

/// A register invoke waiting for its completion.
struct Open {
    key: Noted,
    f: &'static str,
    effect: Effect,
    call: u64,
    index: u64,
}

/// What a client has in flight.
enum InFlight {
    /// A register operation.
    Register(Open),
    /// An operation of another kind (its `f`), not judged.
    Other(String),
    /// A register operation whose invoke was a [`Problem`] (already reported).
    Unreadable,
}

/// Builds a [`KvHistory`] from events fed in order.
#[derive(Default)]
pub struct Builder {
    open: FxHashMap<u64, InFlight>,
    /// Keys by their JSON text, numbered by their place in [`KvHistory::keys`].
    keys: Names,
    history: KvHistory,
}

fn register_f(f: &str) -> Option<&'static str> {
    Some(match f {
        "read" => "read",
        "lease_read" => "lease_read",
        "write" => "write",
        "cas" => "cas",
        _ => return None,
    })
}

fn is_read(f: &str) -> bool {
    matches!(f, "read" | "lease_read")
}

/// What is wrong with the request of a register invoke, if anything.
fn invoke_problem(f: &str, body: &Fields) -> Option<String> {
    if !body.object {
        return Some("has a body that is not a JSON object".into());
    }
    let needs: &[(&str, Option<Json>)] = match f {
        "write" => &[("key", body.key), ("value", body.value)],
        "cas" => &[("key", body.key), ("from", body.from), ("to", body.to)],
        _ => &[("key", body.key)],
    };
    for &(field, value) in needs {
        let Some(value) = value else {
            return Some(format!("has no `{field}`"));
        };
        match field {
            "key" if !value.is_key() => {
                return Some(format!(
                    "has a `key` that is {}, not a string or a number",
                    short(value)
                ))
            }
            "value" | "to" if value.is_null() => {
                return Some(format!(
                    "has `{field}` null, which a read cannot tell from an absent key"
                ))
            }
            _ => {}
        }
    }
    None
}

/// What is wrong with the reply completing register operation `f`, if anything.
fn completion_problem(f: &str, kind: EventType, body: &Fields) -> Option<String> {
    if !is_read(f) {
        return None;
    }
    match kind {
        EventType::Ok if !body.object => Some("has a body that is not a JSON object".into()),
        EventType::Ok if body.value.is_none() => Some("has no `value`".into()),
        EventType::Fail | EventType::Info => match body.code {
            Some(code) if code.as_u64().is_none() => Some(format!(
                "has a `code` that is {}, not an error code",
                short(code)
            )),
            _ => None,
        },
        _ => None,
    }
}

/// A JSON value in a few characters.
fn short(value: Json) -> String {
    let text = value.text();
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(37).collect::<String>())
    } else {
        text.into_owned()
    }
}

fn seconds(ns: u64) -> String {
    format!("{:.3} s", ns as f64 / 1e9)
}

/// An event in words: "`read_ok` from n2 to client 3 at 1.204 s".
fn describe(e: &Event, client: u64) -> String {
    let what = match e.body.kind {
        Some(t) => format!("`{t}`"),
        None => {
            let kind = match e.kind {
                EventType::Invoke => "invoke",
                EventType::Ok => "ok",
                EventType::Fail => "fail",
                EventType::Info => "info",
            };
            format!("`{}` {kind}", e.f)
        }
    };
    let client = format!("client {client}");
    let node = e.node.unwrap_or("?");
    let (from, to) = if e.kind == EventType::Invoke {
        (client.as_str(), node)
    } else {
        (node, client.as_str())
    };
    match e.node {
        Some(_) => format!("{what} from {from} to {to} at {}", seconds(e.time)),
        None if e.kind == EventType::Invoke => {
            format!("{what} from {client} at {}", seconds(e.time))
        }
        None => format!("{what} to {client} at {}", seconds(e.time)),
    }
}

impl Builder {
    /// Feeds one event; only client events (`process` is a number) count, and of those
    /// only the register's. An event that cannot be interpreted is returned as a
    /// [`Problem`] (and its operation left out); the builder stays usable.
    pub fn event(&mut self, e: Event) -> Result<(), Problem> {
        self.history.events += 1;
        let Some(process) = e.process else {
            return Ok(());
        };
        let problem = |why: String| Problem {
            index: e.index,
            event: describe(&e, process),
            why,
        };
        if e.kind == EventType::Invoke {
            // A client invoking again while its last operation is open gave up on it.
            if let Some(InFlight::Register(abandoned)) = self.open.remove(&process) {
                self.complete(process, abandoned, EventType::Info, NEVER, None);
            }
            let Some(f) = register_f(e.f) else {
                match self.history.skipped.get_mut(e.f) {
                    Some(n) => *n += 1,
                    None => {
                        self.history.skipped.insert(e.f.to_owned(), 1);
                    }
                }
                self.open.insert(process, InFlight::Other(e.f.to_owned()));
                return Ok(());
            };
            if let Some(why) = invoke_problem(f, e.body) {
                self.open.insert(process, InFlight::Unreadable);
                return Err(problem(why));
            }
            let values = &mut self.history.values;
            let mut note =
                |field: Option<Json>| values.note(&field.map_or(Cow::Borrowed("null"), Json::text));
            let effect = match f {
                "write" => Effect::Write(note(e.body.value)),
                "cas" => Effect::Cas(note(e.body.from), note(e.body.to)),
                _ => Effect::Read,
            };
            let key = self
                .keys
                .note(&e.body.key.map(Json::text).unwrap_or_default());
            self.open.insert(
                process,
                InFlight::Register(Open {
                    key,
                    f,
                    effect,
                    call: e.time,
                    index: e.index,
                }),
            );
            return Ok(());
        }
        let register = register_f(e.f);
        match (self.open.remove(&process), register) {
            // Completions of operations that are not about the register.
            (None | Some(InFlight::Other(_)), None) | (Some(InFlight::Unreadable), _) => Ok(()),
            (None, Some(_)) => Err(problem(format!(
                "completes nothing: client {process} has no operation in flight"
            ))),
            (Some(InFlight::Other(open_f)), Some(_)) => Err(problem(format!(
                "does not match client {process}'s operation in flight, a `{open_f}`"
            ))),
            (Some(InFlight::Register(open)), _) if open.f != e.f => {
                let why = format!(
                    "does not match client {process}'s operation in flight, the `{}` of event {}",
                    open.f, open.index
                );
                self.complete(process, open, EventType::Info, NEVER, None);
                Err(problem(why))
            }
            (Some(InFlight::Register(open)), _) => {
                if let Some(why) = completion_problem(open.f, e.kind, e.body) {
                    return Err(problem(why));
                }
                self.complete(process, open, e.kind, e.time, Some(e.body));
                Ok(())
            }
        }
    }

    /// Every operation still open becomes indefinite; returns the operations by key.
    pub fn finish(mut self) -> KvHistory {
        let mut open: Vec<(u64, Open)> = self
            .open
            .drain()
            .filter_map(|(process, o)| match o {
                InFlight::Register(o) => Some((process, o)),
                _ => None,
            })
            .collect();
        open.sort_by_key(|(_, o)| o.index);
        for (process, op) in open {
            self.complete(process, op, EventType::Info, NEVER, None);
        }
        for (_, ops) in &mut self.history.keys {
            ops.sort_by_key(|op| (op.call, op.index));
        }
        self.history
    }

    fn complete(
        &mut self,
        process: u64,
        open: Open,
        outcome: EventType,
        time: u64,
        reply: Option<&Fields>,
    ) {
        let counts = &mut self.history.outcomes;
        match outcome {
            EventType::Ok => counts.ok += 1,
            EventType::Fail => counts.fail += 1,
            EventType::Info | EventType::Invoke => counts.info += 1,
        }
        let values = &mut self.history.values;
        let written = match open.effect {
            Effect::Read => None,
            Effect::Write(value) => Some(Kind::Write(values.id(value))),
            Effect::Cas(from, to) => {
                let from = values.id(from);
                Some(Kind::Cas(from, values.id(to)))
            }
        };
        let (kind, definite, ret) = match (written, outcome) {
            (None, EventType::Ok) => {
                let value = reply.and_then(|r| r.value).map(Json::text);
                let noted = values.note(&value.unwrap_or(Cow::Borrowed("null")));
                (Kind::Read(values.id(noted)), true, time)
            }
            (None, EventType::Fail)
                if reply.and_then(|r| r.code).and_then(Json::as_u64) == Some(20) =>
            {
                (Kind::Read(ABSENT), true, time)
            }
            // A read that failed or whose outcome is unknown tells nothing.
            (None, _) => return,
            (Some(effect), EventType::Ok) => (effect, true, time),
            (Some(_), EventType::Fail) => return,
            (Some(effect), EventType::Info | EventType::Invoke) => (effect, false, NEVER),
        };
        let slot = self.keys.number(open.key) as usize;
        if slot == self.history.keys.len() {
            let key = self.keys.text(slot as u32).to_owned();
            self.history.keys.push((key, Vec::new()));
        }
        let op = LinOp {
            kind,
            call: open.call,
            ret: ret.max(open.call),
            definite,
            process,
            index: open.index,
            f: open.f,
            resolved: false,
        };
        self.history.keys[slot].1.push(op);
    }
}

/// The operations of an in-memory history (eddy's own record). Events that cannot be
/// interpreted are not dropped in silence: they are listed in [`KvHistory::problems`].
pub fn from_events(events: &[HistoryEvent]) -> KvHistory {
    let mut builder = Builder::default();
    let mut problems = Vec::new();
    for e in events {
        let body = Fields::of(&e.body);
        if let Err(problem) = builder.event(Event::new(e, &body)) {
            problems.push(problem);
        }
    }
    let mut history = builder.finish();
    history.problems = problems;
    history
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Process;

    fn read_text(text: &str) -> Result<KvHistory, ReadError> {
        read(std::io::Cursor::new(text.to_owned()))
    }

    #[test]
    fn outcomes_become_operations() {
        let text = r#"{"index":0,"time":10,"process":1,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":1}}
{"index":1,"time":20,"process":1,"type":"ok","f":"write","body":{"type":"write_ok"}}
{"index":2,"time":30,"process":2,"type":"invoke","f":"read","body":{"type":"read","key":"y"}}
{"index":3,"time":40,"process":2,"type":"fail","f":"read","body":{"type":"error","code":20}}
{"index":4,"time":50,"process":1,"type":"invoke","f":"cas","body":{"type":"cas","key":"x","from":1,"to":2}}
{"index":5,"time":60,"process":1,"type":"info","f":"cas","body":{"type":"error","code":0}}
{"index":6,"time":70,"process":3,"type":"invoke","f":"read","body":{"type":"read","key":"x"}}
{"index":7,"time":80,"process":"nemesis","type":"info","f":"kill","body":{}}
{"index":8,"time":90,"process":2,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":3}}
{"index":9,"time":95,"process":2,"type":"fail","f":"write","body":{"type":"error","code":11}}
{"index":10,"time":96,"process":5,"type":"invoke","f":"add","body":{"type":"add","delta":1}}
{"index":11,"time":97,"process":5,"type":"ok","f":"add","body":{"type":"add_ok"}}
{"index":12,"time":99,"process":4,"type":"invoke","f":"write","body":{"type":"write","key":"x","val"#;
        let history = read_text(text).unwrap();
        let x = &history.keys.iter().find(|(k, _)| k == "\"x\"").unwrap().1;
        assert_eq!(
            x.len(),
            2,
            "the unfinished read tells nothing; the failed write never happened"
        );
        assert_eq!((x[0].definite, x[0].ret), (true, 20));
        assert_eq!((x[1].definite, x[1].ret), (false, NEVER));
        let y = &history.keys.iter().find(|(k, _)| k == "\"y\"").unwrap().1;
        assert_eq!(y[0].kind, Kind::Read(ABSENT));
        assert_eq!(
            history.outcomes,
            Outcomes {
                ok: 1,
                fail: 2,
                info: 2
            }
        );
        assert_eq!(history.skipped.get("add"), Some(&1));
        assert_eq!(history.torn_line, Some(13));
        assert_eq!(history.events, 12);
    }

    #[test]
    fn lines_that_are_not_events_are_refused_by_number() {
        let error = read_text("{oops\n{}\n").unwrap_err();
        assert_eq!(error.line, 1);
        assert!(error.why.starts_with("not JSON: "), "{error}");
        let event = r#"{"index":0,"time":10,"process":1,"type":"invoke","f":"read","body":{"type":"read","key":"x"}}"#;
        let error = read_text(&format!("{event}\n{{}}\n{event}\n")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: not a history event: missing field `index`"
        );
        let no_f = r#"{"index":0,"time":10,"process":1,"type":"invoke","body":{}}"#;
        assert_eq!(
            read_text(&format!("{no_f}\n")).unwrap_err().why,
            "not a history event: missing field `f`"
        );
        let bad_type = r#"{"index":0,"time":10,"process":1,"type":"done","f":"read","body":{}}"#;
        assert!(read_text(bad_type)
            .unwrap_err()
            .why
            .contains("`type` is \"done\""));
        let no_body = r#"{"index":0,"time":10,"process":1,"type":"invoke","f":"read"}"#;
        assert!(read_text(no_body).unwrap_err().why.contains("`body`"));
        // A torn line that is still JSON is not torn: it is refused.
        assert!(read_text(&format!("{event}\n[1]")).is_err());
    }

    #[test]
    fn register_operations_missing_what_the_model_needs_are_refused() {
        let line = |i: u64, kind: &str, f: &str, body: &str| {
            format!(
                r#"{{"index":{i},"time":{t},"process":1,"node":"n2","type":"{kind}","f":"{f}","body":{body}}}"#,
                t = i * 1_000_000
            )
        };
        let cases = [
            (
                vec![line(0, "invoke", "write", r#"{"type":"write","k":1,"value":2}"#)],
                "history event 0 (`write` from client 1 to n2 at 0.000 s) has no `key`: cannot judge it",
            ),
            (
                vec![line(0, "invoke", "write", r#"{"type":"write","key":1}"#)],
                "has no `value`",
            ),
            (
                vec![line(0, "invoke", "cas", r#"{"type":"cas","key":1,"from":1}"#)],
                "has no `to`",
            ),
            (
                vec![line(0, "invoke", "read", r#"{"type":"read","key":[1]}"#)],
                "has a `key` that is [1], not a string or a number",
            ),
            (
                vec![
                    line(0, "invoke", "read", r#"{"type":"read","key":1}"#),
                    line(1, "ok", "read", r#"{"type":"read_ok","val":3}"#),
                ],
                "history event 1 (`read_ok` from n2 to client 1 at 0.001 s) has no `value`: cannot judge it",
            ),
            (
                vec![line(0, "ok", "write", r#"{"type":"write_ok"}"#)],
                "completes nothing",
            ),
        ];
        for (lines, expected) in cases {
            let error = read_text(&(lines.join("\n") + "\n")).unwrap_err();
            assert_eq!(error.line, lines.len() as u64);
            assert!(error.why.contains(expected), "{error} lacks {expected}");
        }
    }

    #[test]
    fn in_memory_problems_are_listed_not_dropped() {
        let event = |index, kind, f: &str, body: Value| HistoryEvent {
            index,
            time: index * 100_000_000,
            process: Process::Client(3),
            node: Some("n2".into()),
            kind,
            f: f.into(),
            body,
            phase: None,
        };
        let events = [
            event(
                11,
                EventType::Invoke,
                "read",
                json!({"type": "read", "key": 1}),
            ),
            event(12, EventType::Ok, "read", json!({"type": "read_ok"})),
            event(
                13,
                EventType::Invoke,
                "write",
                json!({"type": "write", "key": 1, "value": 4}),
            ),
            event(14, EventType::Ok, "write", json!({"type": "write_ok"})),
        ];
        let history = from_events(&events);
        assert_eq!(history.problems.len(), 1);
        assert_eq!(
            history.problems[0].sentence(),
            "history event 12 (`read_ok` from n2 to client 3 at 1.200 s) has no `value`: cannot judge it"
        );
        assert_eq!(history.keys[0].1.len(), 1, "the write is still judged");
        assert_eq!(history.outcomes.ok, 1);
    }

    #[test]
    fn an_invoke_over_an_open_operation_makes_it_indefinite() {
        let text = r#"{"index":0,"time":10,"process":1,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":1}}
{"index":1,"time":20,"process":1,"type":"invoke","f":"write","body":{"type":"write","key":"x","value":2}}
{"index":2,"time":30,"process":1,"type":"ok","f":"write","body":{"type":"write_ok"}}"#;
        let ops = read_text(text).unwrap().keys.remove(0).1;
        assert_eq!(
            (ops[0].kind, ops[0].definite, ops[0].ret),
            (Kind::Write(1), false, NEVER)
        );
        assert_eq!(
            (ops[1].kind, ops[1].definite, ops[1].ret),
            (Kind::Write(2), true, 30)
        );
    }
}
