//! Checkers: pure functions from a run's record to verdicts with witnesses, so that
//! `eddy check STORE` reaches the same verdict as the run that wrote the store.

pub mod availability;
pub mod convergence;
pub mod counter;
pub mod generic;
pub mod json;
pub mod lag;
pub mod linear;
pub mod measure;
pub mod replies;
pub mod traffic;

use crate::history::HistoryEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A verdict: valid, invalid, undecided, or not applicable. Merging: false > unknown >
/// true, and "not applicable" neither passes nor fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// The property holds, and the run showed evidence of it.
    Valid,
    /// The property is violated; the witnesses show how.
    Invalid,
    /// The record cannot decide (for example: the evidence never appeared).
    Unknown,
    /// The check does not apply to this node (a wire check on a node whose node-to-node
    /// messages use names the checker does not know): it neither passes nor fails the run.
    NotApplicable,
}

impl Validity {
    /// The worse of two verdicts; "not applicable" leaves the other one as it is.
    pub fn merge(self, other: Validity) -> Validity {
        match (self, other) {
            (Validity::Invalid, _) | (_, Validity::Invalid) => Validity::Invalid,
            (Validity::Unknown, _) | (_, Validity::Unknown) => Validity::Unknown,
            (Validity::NotApplicable, v) | (v, Validity::NotApplicable) => v,
            _ => Validity::Valid,
        }
    }

    /// The verdict in one word, as the terminal shows it.
    pub fn word(self) -> &'static str {
        match self {
            Validity::Valid => "valid",
            Validity::Invalid => "INVALID",
            Validity::Unknown => "unknown",
            Validity::NotApplicable => "n/a",
        }
    }

    /// The exit outcome of this verdict.
    pub fn outcome(self) -> crate::exit::Outcome {
        match self {
            Validity::Valid | Validity::NotApplicable => crate::exit::Outcome::Valid,
            Validity::Invalid => crate::exit::Outcome::Invalid,
            Validity::Unknown => crate::exit::Outcome::Unknown,
        }
    }
}

impl Serialize for Validity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Validity::Valid => s.serialize_bool(true),
            Validity::Invalid => s.serialize_bool(false),
            Validity::Unknown => s.serialize_str("unknown"),
            Validity::NotApplicable => s.serialize_str("not-applicable"),
        }
    }
}

impl<'de> Deserialize<'de> for Validity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(true) => Ok(Validity::Valid),
            Value::Bool(false) => Ok(Validity::Invalid),
            Value::String(s) if s == "unknown" => Ok(Validity::Unknown),
            Value::String(s) if s == "not-applicable" => Ok(Validity::NotApplicable),
            other => Err(serde::de::Error::custom(format!("not a verdict: {other}"))),
        }
    }
}

/// What a check is about (SPEC section 6 keeps safety and liveness apart).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// Nothing bad happened: a property of what the nodes answered.
    #[default]
    Safety,
    /// Something good happened, in time: service, leaders, convergence.
    Liveness,
    /// The protocol was kept: replies fit their schemas, output lines were messages, no
    /// node crashed, messages went to nodes that exist.
    Protocol,
    /// Figures only, never a verdict.
    Stats,
}

impl CheckKind {
    /// The kind of the generic check named `name`; any other check is about safety unless
    /// it says otherwise ([`CheckResult::about`]).
    pub fn of(name: &str) -> CheckKind {
        match name {
            "availability" => CheckKind::Liveness,
            "reply-schema" | "protocol" | "crashes" | "destinations" => CheckKind::Protocol,
            "stats" => CheckKind::Stats,
            _ => CheckKind::Safety,
        }
    }

    /// The kind in one word.
    pub fn word(self) -> &'static str {
        match self {
            CheckKind::Safety => "safety",
            CheckKind::Liveness => "liveness",
            CheckKind::Protocol => "protocol",
            CheckKind::Stats => "stats",
        }
    }
}

/// One check's verdict, what it measured, and the evidence for a violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
    /// What it is about.
    #[serde(default)]
    pub kind: CheckKind,
    /// Its verdict.
    pub valid: Validity,
    /// One line a person reads first.
    pub summary: String,
    /// Evidence: each witness stands on its own.
    pub witnesses: Vec<Value>,
    /// Figures the check measured.
    pub figures: Value,
}

impl CheckResult {
    /// Invalid when there are witnesses (the first one's `why` is the summary, at most 20
    /// are kept), else valid with `ok_summary`.
    pub fn from_witnesses(
        name: &str,
        mut witnesses: Vec<Value>,
        figures: Value,
        ok_summary: String,
    ) -> CheckResult {
        let (valid, summary) = match witnesses.first() {
            Some(first) if witnesses.len() > 1 => (
                Validity::Invalid,
                format!(
                    "{} violations; first: {}",
                    witnesses.len(),
                    first["why"].as_str().unwrap_or_default()
                ),
            ),
            Some(first) => (
                Validity::Invalid,
                first["why"].as_str().unwrap_or_default().to_owned(),
            ),
            None => (Validity::Valid, ok_summary),
        };
        witnesses.truncate(20);
        CheckResult {
            name: name.into(),
            kind: CheckKind::of(name),
            valid,
            summary,
            witnesses,
            figures,
        }
    }

    /// Unknown: the evidence the check needs never appeared (`what` says which, with
    /// counts). Never valid: a check that judged nothing has not passed.
    pub fn not_observed(name: &str, what: &str, figures: Value) -> CheckResult {
        CheckResult::new(
            name,
            Validity::Unknown,
            format!("not observed: {what}"),
            figures,
        )
    }

    /// Adds witnesses of records the check could not judge (see `replies::unjudged`):
    /// with any, the result is invalid, and its summary says so unless it was invalid
    /// already.
    pub fn and_unjudged(mut self, unjudged: Vec<Value>) -> CheckResult {
        let Some(first) = unjudged.first() else {
            return self;
        };
        self.figures["unjudged"] = unjudged.len().into();
        if self.valid != Validity::Invalid {
            self.summary = format!(
                "{} record(s) could not be judged; first: {}",
                unjudged.len(),
                first["why"].as_str().unwrap_or_default()
            );
            self.valid = Validity::Invalid;
        }
        self.witnesses.extend(unjudged);
        self.witnesses.truncate(20);
        self
    }

    /// The same result, about `kind` (a liveness check of a workload says so).
    pub fn about(mut self, kind: CheckKind) -> CheckResult {
        self.kind = kind;
        self
    }

    /// A result with no witnesses.
    pub fn new(
        name: &str,
        valid: Validity,
        summary: impl Into<String>,
        figures: Value,
    ) -> CheckResult {
        CheckResult {
            name: name.into(),
            kind: CheckKind::of(name),
            valid,
            summary: summary.into(),
            witnesses: Vec::new(),
            figures,
        }
    }
}

/// Everything a checker may look at: the history, a summary of the routed traffic, and
/// the cluster's node ids.
#[derive(Debug, Clone)]
pub struct Record {
    /// `history.jsonl`, in order.
    pub history: Vec<HistoryEvent>,
    /// What `net.jsonl` holds, summed up.
    pub net: traffic::NetSummary,
    /// Node ids, `n1`..
    pub nodes: Vec<String>,
    /// The run folder, for checks that read `net.jsonl` message by message.
    pub dir: Option<std::path::PathBuf>,
}

/// The `net.jsonl` lines a check asked for, and how many lines could not be read as such.
#[derive(Debug)]
pub struct NetLines<T> {
    /// The lines read and kept, in file order.
    pub lines: Vec<T>,
    /// Lines (a torn last line aside) that did not parse as `T`: never skipped in silence.
    pub unreadable: usize,
    /// The first of those: its line number and the parser's complaint.
    pub first_unreadable: Option<String>,
}

impl<T> NetLines<T> {
    /// A witness for the lines that could not be read, if any (`what` names what the check
    /// was reading them as).
    pub fn unreadable_witness(&self, what: &str) -> Option<Value> {
        self.first_unreadable.as_ref().map(|first| {
            serde_json::json!({"unreadable_lines": self.unreadable, "why": format!(
                "{} line(s) of net.jsonl could not be read as {what}, so they were not judged; first: {first}",
                self.unreadable
            )})
        })
    }
}

impl Record {
    /// The `net.jsonl` lines that `keep` accepts, parsed as `T` (a small struct parses only
    /// the fields it names); none without a run folder. A torn last line (eddy killed
    /// mid-write) is skipped; every other line that does not parse is counted.
    pub fn net_lines<T: serde::de::DeserializeOwned>(
        &self,
        keep: impl Fn(&T) -> bool,
    ) -> NetLines<T> {
        use std::io::BufRead;
        let mut found = NetLines {
            lines: Vec::new(),
            unreadable: 0,
            first_unreadable: None,
        };
        let Some(dir) = &self.dir else {
            return found;
        };
        let Ok(file) = std::fs::File::open(dir.join("net.jsonl")) else {
            return found;
        };
        let mut lines = std::io::BufReader::new(file).lines().map_while(Result::ok);
        let mut next = lines.next();
        let mut number = 0usize;
        while let Some(line) = next {
            number += 1;
            next = lines.next();
            match serde_json::from_str::<T>(&line) {
                Ok(v) if keep(&v) => found.lines.push(v),
                Ok(_) => {}
                Err(_) if next.is_none() && !line.ends_with('}') => {}
                Err(e) => {
                    found.unreadable += 1;
                    if found.first_unreadable.is_none() {
                        found.first_unreadable = Some(format!("line {number}: {e}"));
                    }
                }
            }
        }
        found
    }
}

/// The merged verdict of several checks.
pub fn merged(results: &[CheckResult]) -> Validity {
    results
        .iter()
        .fold(Validity::Valid, |acc, r| acc.merge(r.valid))
}

/// `s` for counts other than one.
pub fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}
