//! Checkers: pure functions from a run's record to verdicts with witnesses, so that
//! `eddy check STORE` reaches the same verdict as the run that wrote the store.

pub mod counter;
pub mod failure;
pub mod generic;
pub mod gossip;
pub mod lease;
pub mod lease_read;
pub mod linear;
pub mod net;
pub mod raft;

use crate::history::HistoryEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A verdict: valid, invalid, or undecided. Merging: false > unknown > true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// The property holds.
    Valid,
    /// The property is violated; the witnesses show how.
    Invalid,
    /// The record cannot decide.
    Unknown,
}

impl Validity {
    /// The worse of two verdicts.
    pub fn merge(self, other: Validity) -> Validity {
        match (self, other) {
            (Validity::Invalid, _) | (_, Validity::Invalid) => Validity::Invalid,
            (Validity::Unknown, _) | (_, Validity::Unknown) => Validity::Unknown,
            _ => Validity::Valid,
        }
    }

    /// The exit outcome of this verdict.
    pub fn outcome(self) -> crate::exit::Outcome {
        match self {
            Validity::Valid => crate::exit::Outcome::Valid,
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
        }
    }
}

impl<'de> Deserialize<'de> for Validity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(true) => Ok(Validity::Valid),
            Value::Bool(false) => Ok(Validity::Invalid),
            Value::String(s) if s == "unknown" => Ok(Validity::Unknown),
            other => Err(serde::de::Error::custom(format!("not a verdict: {other}"))),
        }
    }
}

/// One check's verdict, what it measured, and the evidence for a violation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: String,
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
            valid,
            summary,
            witnesses,
            figures,
        }
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
    pub net: net::NetSummary,
    /// Node ids, `n1`..
    pub nodes: Vec<String>,
    /// The run folder, for checks that read `net.jsonl` message by message.
    pub dir: Option<std::path::PathBuf>,
}

impl Record {
    /// The `net.jsonl` lines that `keep` accepts, parsed as `T` (a small struct parses only
    /// the fields it names); none without a run folder; a torn last line is skipped.
    pub fn net_lines<T: serde::de::DeserializeOwned>(&self, keep: impl Fn(&T) -> bool) -> Vec<T> {
        use std::io::BufRead;
        let Some(dir) = &self.dir else {
            return Vec::new();
        };
        let Ok(file) = std::fs::File::open(dir.join("net.jsonl")) else {
            return Vec::new();
        };
        std::io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<T>(&line).ok())
            .filter(|v| keep(v))
            .collect()
    }
}

/// The merged verdict of several checks.
pub fn merged(results: &[CheckResult]) -> Validity {
    results
        .iter()
        .fold(Validity::Valid, |acc, r| acc.merge(r.valid))
}

/// Every check of a run: the workload's own, then the generic ones.
pub fn run_checks(
    workload: crate::workload::Workload,
    options: &crate::workload::WorkloadOptions,
    record: &Record,
) -> Vec<CheckResult> {
    let mut results = workload.checks(options, record);
    results.extend(generic::check(record));
    results
}
