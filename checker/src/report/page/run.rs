//! A run folder as the page reads it: `results.json` (or the freshly judged document an
//! `eddy check` hands over), `history.jsonl`, the client operations and the faults.

use crate::check::CheckResult;
use crate::history::event::operations;
use crate::history::store::read_history;
use crate::history::{EventType, HistoryEvent};
use crate::report::failure::{first_failure, FirstFailure};
use crate::report::faults::{faults, Faults};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One client operation, as the charts draw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// The row of its client process (an index into [`Run::processes`]).
    pub row: usize,
    /// When it was invoked, in seconds.
    pub invoke_s: f64,
    /// When it completed; for an operation the run ended under, the end of the run.
    pub until_s: f64,
    /// Whether a completion was recorded (a reply, a definite error, a timeout).
    pub completed: bool,
    /// ok, fail or info (an operation without completion counts as info).
    pub outcome: EventType,
}

impl Op {
    /// Its latency in seconds, when it completed.
    pub fn latency_s(&self) -> Option<f64> {
        self.completed.then_some(self.until_s - self.invoke_s)
    }
}

/// Everything the page is drawn from.
pub struct Run {
    /// The run folder.
    pub dir: PathBuf,
    /// `results.json`, or the document that would be written there.
    pub results: Value,
    /// The checks in it.
    pub checks: Vec<CheckResult>,
    /// Node ids.
    pub nodes: Vec<String>,
    /// The client processes, one row each in the timeline (`c0`, `c1`, ...).
    pub processes: Vec<String>,
    /// The client operations, in invoke order.
    pub ops: Vec<Op>,
    /// When the record ends, in seconds.
    pub end_s: f64,
    /// The faults, and the nodes that exited unasked.
    pub faults: Faults,
    /// The first failure a witness of an invalid check names, if any has a time.
    pub first_failure: Option<FirstFailure>,
}

/// Reads a run folder's `results.json`; the error names the file.
pub fn read_results(dir: &Path) -> Result<Value, String> {
    let path = dir.join("results.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

impl Run {
    /// Reads the history of the run in `dir` judged as `results` says; the error names
    /// the file that could not be read.
    pub fn load(dir: &Path, results: Value) -> Result<Run, String> {
        let history = read_history(dir)?;
        Ok(Run::of(dir, results, &history))
    }

    /// The run of `history`, judged as `results` says.
    pub fn of(dir: &Path, results: Value, history: &[HistoryEvent]) -> Run {
        let checks: Vec<CheckResult> =
            serde_json::from_value(results["checks"].clone()).unwrap_or_default();
        let nodes: Vec<String> =
            serde_json::from_value(results["nodes"].clone()).unwrap_or_default();
        let end_s = history.last().map_or(1.0, |e| e.time as f64 / 1e9).max(0.1);
        let mut clients: Vec<u64> = history.iter().filter_map(HistoryEvent::client).collect();
        clients.sort_unstable();
        clients.dedup();
        let ops = operations(history)
            .iter()
            .filter_map(|op| {
                let client = op.invoke.client()?;
                let invoke_s = op.invoke.time as f64 / 1e9;
                Some(Op {
                    row: clients.binary_search(&client).ok()?,
                    invoke_s,
                    until_s: op.completion.map_or(end_s, |c| c.time as f64 / 1e9),
                    completed: op.completion.is_some(),
                    outcome: op.outcome(),
                })
            })
            .collect();
        Run {
            dir: dir.to_owned(),
            first_failure: first_failure(&checks),
            checks,
            processes: clients.iter().map(|c| format!("c{c}")).collect(),
            ops,
            end_s,
            faults: faults(history, &nodes, end_s),
            nodes,
            results,
        }
    }
}
