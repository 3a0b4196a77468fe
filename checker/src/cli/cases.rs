//! `eddy cases`: scripted single-node cases against any node.

use super::sandbox::SandboxArgs;
use super::Partition;
use crate::cases::bundled;
use crate::cases::format::{load, to_case_text};
use crate::cases::runner::Limits;
use crate::cases::shard;
use crate::cases::suite::{run_each_unless_unstartable, CaseResult};
use crate::cases::verdict::Status;
use crate::cases::{Case, NEEDS_SEED};
use crate::contract::Contract;
use crate::error::Error;
use crate::exit::Outcome;
use crate::process::NodeCommand;
use crate::report::{json, junit, terminal, Tally};
use crate::workload::generated::{generate_one, generated_source};
use crate::workload::Workload;
use indicatif::{ProgressBar, ProgressStyle};
use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Options of `eddy cases`.
#[derive(clap::Args, Debug)]
pub struct CasesArgs {
    /// Case files or folders (searched recursively for `.case` files and
    /// `input.jsonl`/`expected.txt` pairs). Default: ./cases when it exists, else the
    /// bundled cases built into eddy (none with --generate).
    pub paths: Vec<PathBuf>,
    /// The node's command line, split like a shell would ("python3 main.py"). Default:
    /// the bundled reference node.
    #[arg(help_heading = "Node", long = "bin", value_name = "COMMAND")]
    pub bin: Option<String>,
    /// The contract the node is judged under. maelstrom: a reply's own `msg_id` is not
    /// compared, and cases and generated steps that test seed-only rules (errors 10 and
    /// 12, `gossip_status`, injected `replicate`, `msg_id` numbering from 0) are skipped or
    /// left out; seed: everything, as written.
    #[arg(help_heading = "Node", long, value_enum, value_name = "CONTRACT", default_value_t = Contract::Maelstrom)]
    pub contract: Contract,
    /// Generate N random cases per workload (with expectations from eddy's own models);
    /// named PATHs run too.
    #[arg(help_heading = "Which cases", long, value_name = "N")]
    pub generate: Option<usize>,
    /// Seed for --generate. Default: random (always printed).
    #[arg(help_heading = "Which cases", long, value_name = "S")]
    pub seed: Option<u64>,
    /// Only this workload's cases: its bundled ones (seed samples included) or those of
    /// the named PATHs (a case belongs to the workload its `workload:` header, a folder of
    /// its path or its file name names: `cases/pn-counter/`, `004-pn-counter-1.case`), and
    /// with --generate only its generated ones.
    #[arg(help_heading = "Which cases", long, short = 'w', value_parser = Workload::parser())]
    pub workload: Option<Workload>,
    /// Write the generated cases to DIR as `.case` files, one per workload.
    #[arg(help_heading = "Which cases", long, value_name = "DIR")]
    pub save_generated: Option<PathBuf>,
    /// Cases to run at once. Default: twice the number of cores (a case spends most of
    /// its time waiting for its node to start and to answer, so two per core keep every
    /// core busy).
    #[arg(
        help_heading = "Running and output",
        long,
        short = 'j',
        value_name = "N"
    )]
    pub jobs: Option<usize>,
    /// Write JUnit XML (one testcase per case) to FILE.
    #[arg(help_heading = "Running and output", long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a machine-readable JSON record to FILE.
    #[arg(help_heading = "Running and output", long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write an HTML summary (counts, each case with its failures and transcript) to FILE.
    #[arg(help_heading = "Running and output", long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Use this timeout (ms) for every case instead of the case's own.
    #[arg(help_heading = "Node", long, value_name = "MS")]
    pub timeout: Option<u64>,
    /// Print every case, not only failures (always on for 100 cases or fewer).
    #[arg(help_heading = "Running and output", long, short = 'v')]
    pub verbose: bool,
    /// Run only shard K of N (cargo-nextest's `--partition`: `count:K/N`, or plain `K/N`):
    /// the cases sorted by source, dealt round-robin. The N shards together run every case
    /// once. With --generate it needs --seed, so that every shard generates the same cases.
    #[arg(help_heading = "Which cases", long, value_name = "K/N")]
    pub partition: Option<String>,
    /// The sandbox for untrusted nodes.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
}

/// Runs `eddy cases`.
pub fn run_cases(args: CasesArgs) -> Result<Outcome, Error> {
    let command = match &args.bin {
        Some(line) => NodeCommand::parse(line).map_err(Error::Usage)?,
        None => NodeCommand::reference(),
    };
    if args.generate.is_none() && (args.seed.is_some() || args.save_generated.is_some()) {
        return Err(Error::Usage(
            "--seed and --save-generated go with --generate".into(),
        ));
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| 2 * std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    let partition = match &args.partition {
        Some(text) => Some(text.parse::<Partition>().map_err(Error::Usage)?),
        None => None,
    };
    if partition.is_some() && args.generate.is_some() && args.seed.is_none() {
        return Err(Error::Usage(
            "--partition with --generate needs --seed, so that every shard generates the same cases"
                .into(),
        ));
    }
    let plan = collect_plan(&args)?;
    let command = command.sandboxed(args.sandbox.sandbox(None)?);
    if plan.len() == 0 {
        return Err(Error::Usage("no cases found".into()));
    }
    if !(0..plan.len()).any(|i| plan.runs(i)) {
        return Err(Error::Usage(format!(
            "all {} cases test seed-only rules and {NEEDS_SEED}; nothing would run under --contract {}",
            plan.len(),
            args.contract.name()
        )));
    }
    let chosen = match partition {
        Some(p) => {
            let sources: Vec<Cow<str>> = (0..plan.len()).map(|i| plan.source(i)).collect();
            Chosen::Shard(shard::members(&sources, p.shard, p.total))
        }
        None => Chosen::All(plan.len()),
    };
    let shard_line =
        partition.map(|p| format!("shard {p}: {} of {} cases", chosen.len(), plan.len()));
    let verbose = args.verbose || chosen.len() <= 100;
    let of = args.workload.map(|w| format!(" {w}")).unwrap_or_default();
    println!(
        "eddy cases: {}{} against {} ({} at a time), --contract {}",
        shard_line
            .clone()
            .unwrap_or_else(|| format!("{}{of} cases", chosen.len())),
        plan.from.map(|from| format!(" {from}")).unwrap_or_default(),
        command.display(),
        jobs,
        args.contract.name()
    );
    if let Some(sandbox) = &command.sandbox {
        println!("eddy cases: {}", sandbox.summary_line());
    }
    // Results are kept (compacted) only when a report lists every case; otherwise only the
    // counts.
    let keep_all = args.json.is_some() || args.junit.is_some() || args.html.is_some();
    // The HTML summary shows the transcripts of cases that did not pass: those are kept whole.
    let whole = args.html.is_some();
    let started = Instant::now();
    let (tally, results) =
        run_with_progress(&plan, &chosen, &command, jobs, verbose, (keep_all, whole))?;
    let elapsed = started.elapsed();
    if let Some(line) = &shard_line {
        println!("{line}");
    }
    print!("{}", terminal::summary(&tally, elapsed));
    if let Some(path) = &args.json {
        write_file(
            path,
            &json::render(
                &results,
                &command.display(),
                args.contract,
                elapsed,
                command.sandbox.as_ref().map(|s| s.to_json()),
            ),
        )?;
    }
    if let Some(path) = &args.junit {
        write_file(path, &junit::render(&results, elapsed))?;
    }
    if let Some(path) = &args.html {
        let sandbox = command.sandbox.as_ref().map(|s| s.to_json());
        let html = crate::report::page::cases::render(
            &results,
            &command.display(),
            sandbox.as_ref(),
            elapsed,
        );
        write_file(path, &html)?;
    }
    Ok(tally.outcome())
}

/// What `eddy cases` runs: generated cases, each made only when it is about to run (so
/// however many are asked for, few are in memory at once), then the cases read from files.
/// Case `i` of the plan is case `i % per_workload` of workload `i / per_workload` while
/// there are generated cases, a loaded one after.
struct Plan {
    contract: Contract,
    seed: u64,
    timeout: Option<Duration>,
    workloads: Vec<Workload>,
    per_workload: usize,
    loaded: Vec<Case>,
    /// Where the loaded cases came from when no path was named (`from ./cases`, `built
    /// into eddy`), for the first line.
    from: Option<&'static str>,
}

/// Case `i` of a plan: generated (workload, number), or loaded.
enum Planned<'a> {
    Generated(Workload, usize),
    Loaded(&'a Case),
}

impl Plan {
    fn generated(&self) -> usize {
        self.workloads.len() * self.per_workload
    }

    fn len(&self) -> usize {
        self.generated() + self.loaded.len()
    }

    fn item(&self, i: usize) -> Planned<'_> {
        match i.checked_sub(self.generated()) {
            Some(loaded) => Planned::Loaded(&self.loaded[loaded]),
            None => {
                Planned::Generated(self.workloads[i / self.per_workload], i % self.per_workload)
            }
        }
    }

    /// Case `i`'s `source`, without making it.
    fn source(&self, i: usize) -> Cow<'_, str> {
        match self.item(i) {
            Planned::Loaded(case) => Cow::Borrowed(&case.source),
            Planned::Generated(workload, index) => {
                Cow::Owned(generated_source(workload, self.seed, index))
            }
        }
    }

    /// True when case `i` runs under the contract (generated cases always do).
    fn runs(&self, i: usize) -> bool {
        match self.item(i) {
            Planned::Loaded(case) => case.runs_under(self.contract),
            Planned::Generated(..) => true,
        }
    }

    /// Case `i`, made now, with `--timeout` applied.
    fn case(&self, i: usize) -> Case {
        let mut case = match self.item(i) {
            Planned::Loaded(case) => case.clone(),
            Planned::Generated(workload, index) => {
                generate_one(workload, self.seed, index, self.contract)
            }
        };
        if let Some(timeout) = self.timeout {
            case.timeout = timeout;
        }
        case
    }
}

/// Which cases of a plan run: every one, or a shard's (positions in the plan, ascending).
enum Chosen {
    All(usize),
    Shard(Vec<usize>),
}

impl Chosen {
    fn len(&self) -> usize {
        match self {
            Chosen::All(n) => *n,
            Chosen::Shard(members) => members.len(),
        }
    }

    /// The plan position of the `k`-th case to run.
    fn get(&self, k: usize) -> usize {
        match self {
            Chosen::All(_) => k,
            Chosen::Shard(members) => members[k],
        }
    }
}

fn collect_plan(args: &CasesArgs) -> Result<Plan, Error> {
    let mut plan = Plan {
        contract: args.contract,
        seed: 0,
        timeout: args.timeout.map(Duration::from_millis),
        workloads: Vec::new(),
        per_workload: 0,
        loaded: Vec::new(),
        from: None,
    };
    if let Some(count) = args.generate {
        let seed = args.seed.unwrap_or_else(rand::random);
        let workloads = args.workload.map_or(Workload::all().collect(), |w| vec![w]);
        println!("eddy cases: generating {count} cases per workload with --seed {seed}");
        if let Some(dir) = &args.save_generated {
            save_generated(dir, &workloads, count, seed, args.contract)?;
        }
        plan.seed = seed;
        plan.per_workload = count;
        plan.workloads = workloads;
    }
    let local = Path::new("cases");
    let loaded = if !args.paths.is_empty() {
        load(&args.paths)
    } else if args.generate.is_some() {
        Ok(Vec::new())
    } else if local.is_dir() {
        plan.from = Some("from ./cases");
        load(&[local.to_path_buf()])
    } else {
        plan.from = Some("built into eddy");
        bundled::load()
    };
    plan.loaded = loaded.map_err(|e| Error::Usage(e.to_string()))?;
    if let Some(workload) = args.workload {
        plan.loaded.retain(|case| case.is_of(workload.name()));
        if plan.len() == 0 {
            return Err(Error::Usage(format!(
                "no {workload} cases {}; --generate N makes some",
                plan.from.unwrap_or("in the named paths")
            )));
        }
    }
    Ok(plan)
}

/// Writes the generated cases to `DIR/<workload>.case`, a few at a time.
fn save_generated(
    dir: &Path,
    workloads: &[Workload],
    count: usize,
    seed: u64,
    contract: Contract,
) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Io(format!("{}: {e}", dir.display())))?;
    for &workload in workloads {
        let path = dir.join(format!("{workload}.case"));
        let cannot = |e: std::io::Error| Error::Io(format!("cannot write {}: {e}", path.display()));
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).map_err(cannot)?);
        let mut start = 0;
        while start < count {
            let end = count.min(start + 256);
            let chunk: Vec<Case> = (start..end)
                .map(|index| generate_one(workload, seed, index, contract))
                .collect();
            file.write_all(to_case_text(&chunk).as_bytes())
                .map_err(cannot)?;
            start = end;
        }
        file.flush().map_err(cannot)?;
    }
    Ok(())
}

/// Writes a report file; a failure is an I/O error naming the path.
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text)
        .map_err(|e| Error::Io(format!("cannot write {}: {e}", path.display())))
}

/// What a run keeps: the counts, and the results (compacted) the reports need.
struct Collected {
    tally: Tally,
    kept: Vec<(usize, CaseResult)>,
}

/// Runs the `chosen` items of `plan` with a progress bar, printing failures (and, when
/// `verbose`, every case) as they finish. Returns the counts and, in the order of
/// `chosen`, every result when `keep_all` (else none), compacted except those that did
/// not pass when `whole_failures`; or, when the node cannot start, the node error that
/// stops `eddy cases` before any case is printed.
fn run_with_progress(
    plan: &Plan,
    chosen: &Chosen,
    command: &NodeCommand,
    jobs: usize,
    verbose: bool,
    (keep_all, whole_failures): (bool, bool),
) -> Result<(Tally, Vec<CaseResult>), Error> {
    let bar = ProgressBar::new(chosen.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} cases, {msg} failed, {elapsed}")
            .expect("the template is valid"),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    let failed = std::sync::atomic::AtomicUsize::new(0);
    let collected = Mutex::new(Collected {
        tally: Tally::default(),
        kept: Vec::new(),
    });
    let case_at = |k: usize| plan.case(chosen.get(k));
    let on_done = |i: usize, result: CaseResult| {
        let status = result.verdict.status;
        let passed = matches!(status, Status::Pass | Status::Skipped);
        if !passed {
            let n = failed.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(n.to_string());
        }
        if verbose || !passed {
            let block = terminal::case_block(&result);
            bar.suspend(|| print!("{block}"));
        }
        bar.inc(1);
        let mut collected = collected.lock().unwrap_or_else(|e| e.into_inner());
        collected.tally.add(status);
        if keep_all {
            let kept = if whole_failures && !passed {
                result
            } else {
                result.compact()
            };
            collected.kept.push((i, kept));
        }
    };
    bar.set_message("0");
    let ran = run_each_unless_unstartable(
        &crate::workload::rules(plan.contract),
        chosen.len(),
        &case_at,
        command,
        jobs,
        Limits::default(),
        &on_done,
    );
    bar.finish_and_clear();
    ran.map_err(Error::Node)?;
    let Collected { tally, mut kept } = collected.into_inner().unwrap_or_else(|e| e.into_inner());
    kept.sort_unstable_by_key(|(i, _)| *i);
    Ok((tally, kept.into_iter().map(|(_, result)| result).collect()))
}
