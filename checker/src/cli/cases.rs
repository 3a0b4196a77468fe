//! `eddy cases`: scripted single-node cases against any node.

use super::UsageError;
use crate::cases::format::{load, to_case_text};
use crate::cases::generate::generate;
use crate::cases::runner::Limits;
use crate::cases::suite::{run_all_under, CaseResult};
use crate::cases::verdict::Status;
use crate::cases::{Case, NEEDS_SEED};
use crate::contract::Contract;
use crate::exit::Outcome;
use crate::process::NodeCommand;
use crate::report::{json, junit, terminal, Tally};
use crate::workload::Workload;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Options of `eddy cases`.
#[derive(clap::Args, Debug)]
pub struct CasesArgs {
    /// Case files or folders (searched recursively for `.case` files and
    /// `input.jsonl`/`expected.txt` pairs). Default: ./cases, or the bundled cases.
    pub paths: Vec<PathBuf>,
    /// The node's command line, split like a shell would ("python3 main.py"). Default:
    /// the bundled reference node.
    #[arg(long = "bin", value_name = "COMMAND")]
    pub bin: Option<String>,
    /// The contract the node is judged under. maelstrom: a reply's own `msg_id` is not
    /// compared, and cases and generated steps that test seed-only rules (errors 10 and
    /// 12, `gossip_status`, injected `replicate`, `msg_id` numbering from 0) are skipped or
    /// left out; seed: everything, as written.
    #[arg(long, value_enum, value_name = "CONTRACT", default_value_t = Contract::Maelstrom)]
    pub contract: Contract,
    /// Cases to run at once. Default: the number of cores.
    #[arg(long, short = 'j', value_name = "N")]
    pub jobs: Option<usize>,
    /// Generate N random cases per workload (with expectations from eddy's own models);
    /// named PATHs run too.
    #[arg(long, value_name = "N")]
    pub generate: Option<usize>,
    /// Seed for --generate. Default: random (always printed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// With --generate, only this workload.
    #[arg(long, short = 'w', value_enum)]
    pub workload: Option<Workload>,
    /// Write the generated cases to DIR as `.case` files, one per workload.
    #[arg(long, value_name = "DIR")]
    pub save_generated: Option<PathBuf>,
    /// Write JUnit XML (one testcase per case) to FILE.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a machine-readable JSON record to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Use this timeout (ms) for every case instead of the case's own.
    #[arg(long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// Print every case, not only failures (always on for 100 cases or fewer).
    #[arg(long, short = 'v')]
    pub verbose: bool,
}

/// Runs `eddy cases`.
pub fn run_cases(args: CasesArgs) -> Result<Outcome, UsageError> {
    let command = match &args.bin {
        Some(line) => NodeCommand::parse(line).map_err(UsageError)?,
        None => NodeCommand::reference(),
    };
    if args.generate.is_none()
        && (args.seed.is_some() || args.workload.is_some() || args.save_generated.is_some())
    {
        return Err(UsageError(
            "--seed, --workload and --save-generated go with --generate".into(),
        ));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    if jobs == 0 {
        return Err(UsageError("--jobs must be at least 1".into()));
    }
    let cases = collect_cases(&args)?;
    if cases.is_empty() {
        return Err(UsageError("no cases found".into()));
    }
    if !cases.iter().any(|case| case.runs_under(args.contract)) {
        return Err(UsageError(format!(
            "all {} cases test seed-only rules and {NEEDS_SEED}; nothing would run under --contract {}",
            cases.len(),
            args.contract.name()
        )));
    }
    let verbose = args.verbose || cases.len() <= 100;
    println!(
        "eddy cases: {} cases against {} ({} at a time), --contract {}",
        cases.len(),
        command.display(),
        jobs,
        args.contract.name()
    );
    let started = Instant::now();
    let results = run_with_progress(args.contract, cases, &command, jobs, verbose);
    let elapsed = started.elapsed();
    let tally = Tally::of(&results);
    print!("{}", terminal::summary(&tally, &results, elapsed));
    if let Some(path) = &args.json {
        write_file(
            path,
            &json::render(&results, &command.display(), args.contract, elapsed),
        )?;
    }
    if let Some(path) = &args.junit {
        write_file(path, &junit::render(&results, elapsed))?;
    }
    Ok(tally.outcome())
}

fn collect_cases(args: &CasesArgs) -> Result<Vec<Case>, UsageError> {
    let mut cases = Vec::new();
    if let Some(count) = args.generate {
        let seed = args.seed.unwrap_or_else(rand::random);
        let workloads = args.workload.map_or(Workload::ALL.to_vec(), |w| vec![w]);
        println!("eddy cases: generating {count} cases per workload with --seed {seed}");
        let generated = generate(&workloads, count, seed, args.contract);
        if let Some(dir) = &args.save_generated {
            save_generated(dir, &workloads, &generated)?;
        }
        cases.extend(generated);
    }
    let paths = if args.paths.is_empty() && args.generate.is_none() {
        vec![default_cases_dir()?]
    } else {
        args.paths.clone()
    };
    cases.extend(load(&paths).map_err(|e| UsageError(e.to_string()))?);
    if let Some(ms) = args.timeout {
        cases
            .iter_mut()
            .for_each(|case| case.timeout = Duration::from_millis(ms));
    }
    Ok(cases)
}

/// `./cases` when it exists, else the cases shipped in this repository.
fn default_cases_dir() -> Result<PathBuf, UsageError> {
    let local = PathBuf::from("cases");
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    [local, bundled]
        .into_iter()
        .find(|p| p.is_dir())
        .ok_or_else(|| {
            UsageError("no ./cases folder here; name the case files or folders to run".into())
        })
}

fn save_generated(dir: &Path, workloads: &[Workload], cases: &[Case]) -> Result<(), UsageError> {
    std::fs::create_dir_all(dir).map_err(|e| UsageError(format!("{}: {e}", dir.display())))?;
    for workload in workloads {
        let prefix = format!("generated/{workload}/");
        let mine: Vec<Case> = cases
            .iter()
            .filter(|c| c.source.starts_with(&prefix))
            .cloned()
            .collect();
        write_file(&dir.join(format!("{workload}.case")), &to_case_text(&mine))?;
    }
    Ok(())
}

/// Writes a report file; a failure is a usage error naming the path.
pub fn write_file(path: &Path, text: &str) -> Result<(), UsageError> {
    std::fs::write(path, text)
        .map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))
}

fn run_with_progress(
    contract: Contract,
    cases: Vec<Case>,
    command: &NodeCommand,
    jobs: usize,
    verbose: bool,
) -> Vec<CaseResult> {
    let bar = ProgressBar::new(cases.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {msg} failed, {elapsed}")
            .expect("the template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let on_done = |result: &CaseResult| {
        let status = result.verdict.status;
        let passed = matches!(status, Status::Pass | Status::Skipped);
        if !passed {
            let n = failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(n.to_string());
        }
        if verbose || !passed {
            let block = terminal::case_block(result);
            bar.suspend(|| print!("{block}"));
        }
        bar.inc(1);
    };
    bar.set_message("0");
    let results = run_all_under(contract, cases, command, jobs, Limits::default(), &on_done);
    bar.finish_and_clear();
    results
}
