//! `eddy check STORE`: the checks of a stored run, again, without running anything.

use super::UsageError;
use crate::check::net::NetSummary;
use crate::check::{run_checks, Record};
use crate::exit::Outcome;
use crate::history::store::read_history;
use crate::report::run::{summary, verdict, RunFacts};
use crate::workload::Workload;
use serde_json::Value;
use std::path::PathBuf;

/// Options of `eddy check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// A run folder (holding results.json, history.jsonl and net.jsonl), or a store folder
    /// whose `latest` run is meant.
    pub store: PathBuf,
}

/// Runs `eddy check`.
pub fn run_check(args: CheckArgs) -> Result<Outcome, UsageError> {
    let dir = if args.store.join("results.json").exists() {
        args.store.clone()
    } else {
        args.store.join("latest")
    };
    let results_path = dir.join("results.json");
    let text = std::fs::read_to_string(&results_path)
        .map_err(|e| UsageError(format!("{}: {e}", results_path.display())))?;
    let stored: Value = serde_json::from_str(&text)
        .map_err(|e| UsageError(format!("{}: {e}", results_path.display())))?;
    let workload: Workload = serde_json::from_value(stored["workload"].clone()).map_err(|e| {
        UsageError(format!(
            "{}: no known workload: {e}",
            results_path.display()
        ))
    })?;
    let nodes: Vec<String> = serde_json::from_value(stored["nodes"].clone()).unwrap_or_default();
    let simulation = workload
        .simulation()
        .ok_or_else(|| UsageError(format!("cannot check the {workload} workload yet")))?;
    let history = read_history(&dir).map_err(UsageError)?;
    let net = NetSummary::read(&dir).map_err(UsageError)?;
    let record = Record {
        history,
        net,
        nodes: nodes.clone(),
    };
    let checks = run_checks(simulation.as_ref(), &record);
    let stopped = stored["stopped_early"].as_str();
    let facts = RunFacts {
        workload: workload.name(),
        seed: stored["seed"].as_u64().unwrap_or_default(),
        nodes: &nodes,
        options: stored["options"].clone(),
        reproduce: stored["reproduce"].as_str().unwrap_or_default(),
        stopped,
    };
    print!("{}", summary(&facts, &checks, &dir.display().to_string()));
    Ok(verdict(&facts, &checks).outcome())
}
