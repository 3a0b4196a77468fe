//! `eddy check STORE`: the checks of a stored run, again, without running anything (the
//! same [`judge`] as `eddy test`, minus `results.json`); or `--model kv` on a bare history.

use crate::check::linear;
use crate::check::traffic::NetSummary;
use crate::error::Error;
use crate::exit::Outcome;
use crate::history::store::read_history;
use crate::judge::{judge, Stop, Trial};
use crate::workload::Workload;
use serde_json::Value;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Options of `eddy check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// A run folder (holding results.json, history.jsonl and net.jsonl), or a store folder
    /// whose `latest` run is meant; with --model, a history.jsonl file (or a folder holding one).
    pub store: PathBuf,
    /// Check a history recorded elsewhere against this model instead of re-checking a run.
    #[arg(long, value_enum)]
    pub model: Option<Model>,
    /// Seconds the linearizability search may take before the verdict is unknown.
    #[arg(long, default_value_t = 30.0)]
    pub lin_timeout: f64,
}

/// Models a bare history can be checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Model {
    /// A linearizable key/value register: read, lease_read, write, cas.
    Kv,
}

/// The run `store` names (itself when it holds a `results.json`, else its `latest`) and
/// that `results.json`'s text, for `eddy check` and `eddy report`. No run there is a usage
/// error (64) saying where eddy looked; one that cannot be read, an I/O error (74).
pub(super) fn stored_results(store: &Path) -> Result<(PathBuf, String), Error> {
    let dir = if store.join("results.json").exists() {
        store.to_path_buf()
    } else {
        store.join("latest")
    };
    let path = dir.join("results.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((dir, text)),
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            Err(Error::Usage(format!(
                "{}: no run here (neither {} nor {}/latest holds a results.json)",
                store.display(),
                store.display(),
                store.display()
            )))
        }
        Err(e) => Err(Error::Io(format!("{}: {e}", path.display()))),
    }
}

/// Runs `eddy check`.
pub fn run_check(args: CheckArgs) -> Result<Outcome, Error> {
    if args.model.is_some() {
        return check_history(&args);
    }
    let started = std::time::Instant::now();
    let (dir, text) = stored_results(&args.store)?;
    let results_path = dir.join("results.json");
    let stored: Value = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: {e}", results_path.display())))?;
    let workload: Workload = serde_json::from_value(stored["workload"].clone()).map_err(|e| {
        Error::Usage(format!(
            "{}: no known workload: {e}",
            results_path.display()
        ))
    })?;
    let nodes: Vec<String> = stored_field(&stored, &["nodes"], &results_path)?;
    if !stored["options"].is_object() {
        return Err(field_error(
            &stored,
            &["options"],
            &results_path,
            "not an object",
        ));
    }
    let options: crate::sim::WorkloadOptions =
        stored_field(&stored, &["options", "workload_options"], &results_path)?;
    let stop = match stored["stopped_early"].as_str() {
        Some(why) => Stop::Recorded(why.to_owned()),
        None => Stop::Finished,
    };
    let trial = Trial {
        workload,
        options: &options,
        history: read_history(&dir).map_err(Error::Usage)?,
        net: NetSummary::read(&dir).map_err(Error::Usage)?,
        nodes,
        dir,
        stop,
        seed: stored["seed"].as_u64().unwrap_or_default(),
        stored_options: stored["options"].clone(),
        sandbox: stored["sandbox"].clone(),
        reproduce: stored["reproduce"].as_str().unwrap_or_default().to_owned(),
        started,
        command: "eddy check",
    };
    let run = judge(trial, None)?;
    print!("{}", run.text);
    Ok(run.outcome)
}

/// `eddy check --model kv HISTORY`: is a bare history linearizable?
fn check_history(args: &CheckArgs) -> Result<Outcome, Error> {
    let path = if args.store.is_dir() {
        args.store.join("history.jsonl")
    } else {
        args.store.clone()
    };
    let file =
        std::fs::File::open(&path).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    if !(args.lin_timeout.is_finite() && args.lin_timeout > 0.0) {
        return Err(Error::Usage(
            "--lin-timeout must be a positive number of seconds".into(),
        ));
    }
    let started = std::time::Instant::now();
    let history = linear::history::read(std::io::BufReader::with_capacity(1 << 20, file))
        .map_err(|e| Error::Usage(format!("{}:{}: {}", path.display(), e.line, e.why)))?;
    if history.outcomes.total() == 0 {
        return Err(Error::Usage(format!(
            "no read, lease_read, write or cas operations in {} ({})",
            path.display(),
            what_was_there(&history)
        )));
    }
    let left_out = left_out(&history);
    let limits = linear::Limits {
        timeout: std::time::Duration::from_secs_f64(args.lin_timeout),
        ..linear::Limits::default()
    };
    let report = linear::check(history, limits);
    let result = linear::to_check_result(&report);
    let mut text = linear_summary(&path.display().to_string(), &result, started.elapsed());
    for line in left_out {
        text.push_str(&format!("  skipped: {line}\n"));
    }
    print!("{text}");
    Ok(result.valid.outcome())
}

/// A required field of `results.json` (`path` below the top), parsed; missing or ill-typed
/// is a usage error naming the file and the field.
fn stored_field<T: serde::de::DeserializeOwned>(
    stored: &Value,
    path: &[&str],
    file: &std::path::Path,
) -> Result<T, Error> {
    let value = path.iter().fold(stored, |v, key| &v[*key]);
    serde_json::from_value(value.clone())
        .map_err(|e| field_error(stored, path, file, &e.to_string()))
}

/// "results.json: field `options.workload_options` is missing" or "... is ill-typed: ...".
fn field_error(stored: &Value, path: &[&str], file: &std::path::Path, why: &str) -> Error {
    let present = path
        .iter()
        .try_fold(stored, |v, key| v.get(*key))
        .is_some_and(|v| !v.is_null());
    let what = if present {
        format!("is ill-typed: {why}")
    } else {
        "is missing".to_owned()
    };
    Error::Usage(format!(
        "{}: field `{}` {what}; a stored run needs it to be re-checked",
        file.display(),
        path.join(".")
    ))
}

/// What a history without register operations held, in a few words.
fn what_was_there(history: &linear::history::KvHistory) -> String {
    if history.events == 0 {
        return match history.torn_line {
            Some(n) => format!("only a torn line, line {n}"),
            None => "no events at all".to_owned(),
        };
    }
    let others: u64 = history.skipped.values().sum();
    if others == 0 {
        return format!("{} events, none of them a client operation", history.events);
    }
    format!(
        "{} events; client operations of other kinds only: {}",
        history.events,
        kinds(&history.skipped)
    )
}

/// "12 add, 3 lease_read_config".
fn kinds(skipped: &std::collections::BTreeMap<String, u64>) -> String {
    skipped
        .iter()
        .map(|(f, n)| format!("{n} {f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a check of a history left out, one line each: client operations that are not
/// about the register, and a torn last line.
fn left_out(history: &linear::history::KvHistory) -> Vec<String> {
    let mut lines = Vec::new();
    let others: u64 = history.skipped.values().sum();
    if others > 0 {
        lines.push(format!(
            "{others} client operation(s) not about the register ({})",
            kinds(&history.skipped)
        ));
    }
    if let Some(n) = history.torn_line {
        lines.push(format!(
            "1 torn last line (line {n}: no newline at its end and not a complete event)"
        ));
    }
    lines
}

/// The terminal text for a bare-history check: verdict, figures, stale reads, the witness.
fn linear_summary(
    path: &str,
    result: &crate::check::CheckResult,
    elapsed: std::time::Duration,
) -> String {
    use std::fmt::Write;
    let word = result.valid.word().to_uppercase();
    let f = &result.figures;
    let mut out = format!(
        "eddy check --model kv {path}: {word} ({} operations on {} keys, {} stale reads, {:.3} s)\n  {}\n",
        f["operations"], f["keys"], f["stale_reads"], elapsed.as_secs_f64(), result.summary
    );
    for witness in result.witnesses.iter().take(10) {
        let _ = writeln!(
            out,
            "  witness: {}",
            witness["why"].as_str().unwrap_or_default()
        );
        if let Some(piece) = witness["piece"].as_array() {
            for op in piece {
                let _ = writeln!(out, "      {}", op["op"].as_str().unwrap_or_default());
            }
        }
    }
    if result.witnesses.len() > 10 {
        let _ = writeln!(out, "  ... and {} more", result.witnesses.len() - 10);
    }
    out
}
