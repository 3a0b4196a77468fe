//! The one judging pipeline of a simulated run, for `eddy test` and `eddy check` alike:
//! record -> checks -> pictures -> facts -> `results.json` (when the run is this command's)
//! -> a [`RunSummary`] every reporter renders from.

use crate::check::traffic::NetSummary;
use crate::check::Record;
use crate::error::Error;
use crate::exit::Outcome;
use crate::history::event::HistoryEvent;
use crate::history::store::Store;
use crate::report::run::{failed_checks, results_json, summary, verdict, RunFacts, RunSummary};
use crate::sim::WorkloadOptions;
use crate::workload::{run_checks, Workload};
use std::path::PathBuf;
use std::time::Instant;

/// How the run being judged stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// It went through all its phases: the verdict is the checks'.
    Finished,
    /// Ctrl-C or SIGTERM stopped it as this command ran it: it is checked, its verdict is
    /// at most unknown, and the outcome is interrupted.
    Interrupted,
    /// Its cluster could not start (a node could not be spawned, exited, or did not answer
    /// init): nothing is checked, the verdict is unknown, and the outcome is a node error.
    NodeError(String),
    /// It ended before its phases were through because nothing more could happen (every
    /// node had exited, and none was due to be restarted), for this reason: it is checked
    /// like any other and its verdict is at most unknown, which is the outcome.
    Early(String),
    /// A stored run judged again (`eddy check`) that had stopped early, for this reason: it
    /// is checked like any other and its verdict is at most unknown, which is the outcome,
    /// since this command itself was neither interrupted nor ran a node.
    Recorded(String),
}

impl Stop {
    /// Why the run stopped early, as `results.json` and the summary say it; `None` when it
    /// finished.
    fn why(&self) -> Option<&str> {
        match self {
            Stop::Finished => None,
            Stop::Interrupted => Some("interrupted"),
            Stop::NodeError(why) | Stop::Early(why) | Stop::Recorded(why) => Some(why),
        }
    }
}

/// A run to judge: what it was, what it recorded, and how it stopped.
pub struct Trial<'a> {
    /// The workload.
    pub workload: Workload,
    /// Its options, as the checks read them.
    pub options: &'a WorkloadOptions,
    /// The history, as written to the run folder.
    pub history: Vec<HistoryEvent>,
    /// The routed traffic, summed.
    pub net: NetSummary,
    /// Node ids.
    pub nodes: Vec<String>,
    /// The run folder: pictures are drawn into it, and the summary names it.
    pub dir: PathBuf,
    /// How the run stopped.
    pub stop: Stop,
    /// The seed.
    pub seed: u64,
    /// Every option of the run, as `results.json` stores them.
    pub stored_options: serde_json::Value,
    /// The run's sandbox, as `results.json` stores it (null without one).
    pub sandbox: serde_json::Value,
    /// The command that runs the same schedule again.
    pub reproduce: String,
    /// When the run started, for the summary's wall time.
    pub started: Instant,
    /// The command judging it, which heads the summary: `eddy test` or `eddy check`.
    pub command: &'static str,
}

/// Judges a run: its checks (none when its cluster could not start), its pictures, its
/// facts; writes its `results.json` into `results` when given (`eddy test`; `eddy check`
/// only judges again); and sums it up, terminal text and outcome included. Errors are
/// options the workload cannot read (bad usage) and a `results.json` that cannot be
/// written (I/O).
pub fn judge(trial: Trial<'_>, results: Option<&mut Store>) -> Result<RunSummary, Error> {
    let Trial {
        workload,
        options,
        history,
        net,
        nodes,
        dir,
        stop,
        seed,
        stored_options,
        sandbox,
        reproduce,
        started,
        command,
    } = trial;
    let record = Record {
        history,
        net,
        nodes,
        dir: Some(dir.clone()),
    };
    let checks = match stop {
        Stop::NodeError(_) => Vec::new(),
        _ => run_checks(workload, options, &record).map_err(Error::Usage)?,
    };
    let facts = RunFacts {
        command,
        workload: workload.name(),
        seed,
        nodes: &record.nodes,
        options: stored_options,
        sandbox,
        reproduce: &reproduce,
        stopped: stop.why(),
        pictures: workload.pictures(&record, &checks, &dir),
    };
    let document = results_json(&facts, &checks);
    if let Some(store) = results {
        store
            .write_results(&document)
            .map_err(|e| Error::Io(format!("cannot write results.json: {e}")))?;
    }
    // The page shows the checks just computed (for `eddy check` too); one that cannot be
    // written is said on stderr and changes nothing else.
    let page = crate::report::page::write_or_warn(&dir, document, &record.history);
    let page = page.map(|p| p.display().to_string());
    let text = summary(&facts, &checks, &dir.display().to_string(), page.as_deref());
    let failed = failed_checks(&checks);
    let first = failed.first().map(|c| {
        c.witnesses
            .first()
            .cloned()
            .unwrap_or_else(|| c.summary.clone())
    });
    let verdict = verdict(&facts, &checks).outcome();
    let (outcome, first_witness) = match stop {
        Stop::NodeError(why) => (Outcome::NodeError, Some(why)),
        Stop::Interrupted => (Outcome::Interrupted, Some("interrupted".to_owned())),
        Stop::Finished | Stop::Early(_) | Stop::Recorded(_) => (verdict, first),
    };
    Ok(RunSummary {
        workload: workload.name(),
        seed,
        outcome,
        failed,
        first_witness,
        store: dir,
        reproduce,
        text,
        elapsed: started.elapsed(),
    })
}
