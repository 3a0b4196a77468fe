//! `eddy report STORE`: the report page of a stored run written again from its files
//! (`results.json`, `history.jsonl`, `net.jsonl`), without judging anything.

use crate::error::Error;
use crate::exit::Outcome;
use crate::report::page::{self, run::Run, Window};
use std::path::PathBuf;

/// Options of `eddy report`.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// A run folder (holding results.json and history.jsonl), or a store folder whose
    /// `latest` run is meant.
    pub store: PathBuf,
    /// Write the page here instead of `report.html` in the run folder.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The message diagram starts here (seconds since the run started; default: the start).
    #[arg(long, value_name = "SECONDS")]
    pub from: Option<f64>,
    /// The message diagram ends here (seconds since the run started; default: the end).
    #[arg(long, value_name = "SECONDS")]
    pub to: Option<f64>,
}

/// Runs `eddy report`: prints the page's path. A store that is not there or not a run is
/// a usage error (64), one that cannot be read or a page that cannot be written an I/O
/// error (74).
pub fn run_report(args: ReportArgs) -> Result<Outcome, Error> {
    let window = Window {
        from_s: args.from,
        to_s: args.to,
    };
    for (flag, value) in [("--from", args.from), ("--to", args.to)] {
        if value.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
            return Err(Error::Usage(format!(
                "{flag} must be a number of seconds, 0 or more"
            )));
        }
    }
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from >= to {
            return Err(Error::Usage(format!(
                "--from {from} must come before --to {to}"
            )));
        }
    }
    let (dir, text) = super::check::stored_results(&args.store)?;
    let path = dir.join("results.json");
    let results: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not a results.json: {e}", path.display())))?;
    let run = Run::load(&dir, results).map_err(Error::Usage)?;
    let written = page::write(&run, window, args.out.as_deref()).map_err(Error::Io)?;
    println!("{}", written.display());
    Ok(Outcome::Valid)
}
