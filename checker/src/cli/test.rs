//! `eddy test`: a simulated cluster under a workload and faults, recorded and checked.

use super::sandbox::SandboxArgs;
use super::Partition;
use crate::contract::Contract;
use crate::error::Error;
use crate::exit::Outcome;
use crate::judge::{judge, Stop, Trial};
use crate::process::NodeCommand;
use crate::report::junit;
use crate::report::run::RunSummary;
use crate::report::terminal::{self, plural};
use crate::sim::nemesis::{FaultKind, NemesisConfig};
use crate::sim::network::{LatencyDist, NetworkConfig};
use crate::sim::router::{run, Progress, RunEnd};
use crate::sim::SimConfig;
use crate::sim::WorkloadOptions;
use crate::workload::{default_help, Context, Workload, WorkloadFlags};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Options of `eddy test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// The workload.
    #[arg(help_heading = "Node", long, short = 'w', value_parser = Workload::parser())]
    pub workload: Workload,
    /// The node's command line, split like a shell would. Default: the bundled reference node,
    /// serving only this workload (`eddy node --workload NAME`).
    #[arg(help_heading = "Node", long = "bin", value_name = "COMMAND")]
    pub bin: Option<String>,
    /// Nodes in the cluster (ids n1.., or n0.. for Maelstrom's own workloads). Default: the workload's (see --help).
    #[arg(help_heading = "Cluster and clients", long, long_help = default_help("Nodes in the cluster (ids n1.., or n0.. for Maelstrom's own workloads)", |d| d.node_count as f64))]
    pub node_count: Option<usize>,
    /// Seconds of client operations (after every node answered init). Default: the
    /// workload's (see --help).
    #[arg(help_heading = "Cluster and clients", long, long_help = default_help("Seconds of client operations (after every node answered init)", |d| d.time_limit))]
    pub time_limit: Option<f64>,
    /// Operations per second over all clients. Default: the workload's (see --help).
    #[arg(help_heading = "Cluster and clients", long, long_help = default_help("Operations per second over all clients", |d| d.rate))]
    pub rate: Option<f64>,
    /// Simulated clients, each with at most one request in flight: a number, or `Nn` for N
    /// per node (Maelstrom's and Jepsen's `2n`).
    #[arg(help_heading = "Cluster and clients", long, value_name = "N|Nn", value_parser = parse_concurrency, default_value = "5")]
    pub concurrency: Concurrency,
    /// Mean one-way latency between nodes, in ms. Default: the workload's (see --help).
    #[arg(help_heading = "Network", long, long_help = default_help("Mean one-way latency between nodes, in ms", |d| d.latency_ms))]
    pub latency: Option<f64>,
    /// How latency is distributed around the mean.
    #[arg(
        help_heading = "Network",
        long,
        value_enum,
        default_value = "exponential"
    )]
    pub latency_dist: LatencyDist,
    /// Probability that a node-to-node message is lost.
    #[arg(help_heading = "Network", long, default_value_t = 0.0)]
    pub loss: f64,
    /// Faults to inject, as a comma list of fault kinds, or `none` for no faults (`none`
    /// goes alone). Default: the workload's own mix, aimed at its classic bugs (under
    /// Maelstrom's contract, only the faults Maelstrom injects for workloads it also has).
    #[arg(help_heading = "Faults", long, value_name = "KINDS", value_delimiter = ',', value_parser = nemesis_words())]
    pub nemesis: Option<Vec<NemesisWord>>,
    /// Seconds between nemesis actions (a fault, then its healing, and so on). Default: the
    /// workload's (see --help).
    #[arg(help_heading = "Faults", long, long_help = default_help("Seconds between nemesis actions (a fault, then its healing, and so on)", |d| d.nemesis_interval))]
    pub nemesis_interval: Option<f64>,
    /// Bound on every node's total clock offset under the drift fault, in ms.
    #[arg(help_heading = "Faults", long, default_value_t = 500)]
    pub max_drift_ms: i64,
    /// Seconds a client waits for a reply before its operation completes as `info`.
    /// Default: the workload's (see --help).
    #[arg(help_heading = "Cluster and clients", long, long_help = default_help("Seconds a client waits for a reply before its operation completes as `info`", |d| d.timeout))]
    pub timeout: Option<f64>,
    /// The seed of every random choice. Default: random (always printed and stored).
    #[arg(help_heading = "Run and output", long)]
    pub seed: Option<u64>,
    /// The share of client operations that must succeed, from 0 to 1, or `total` (every
    /// one). Whatever it is, every kind of operation must succeed at least once, and so
    /// must every kind in the final phase.
    #[arg(help_heading = "Cluster and clients", long, value_name = "FRACTION", value_parser = parse_availability, default_value = "0")]
    pub availability: f64,
    /// The contract the node is judged under: `maelstrom` (client operations only; node-to-node
    /// messages are the node's own) or `seed` (everything of the problem statements, eddy-only
    /// requests such as `gossip_status` and the seeds' message formats included).
    #[arg(help_heading = "Node", long, value_enum, default_value = "maelstrom")]
    pub contract: Contract,
    /// Folder for run folders (and the `latest` link).
    #[arg(help_heading = "Run and output", long, default_value = crate::sim::DEFAULT_STORE)]
    pub store: PathBuf,
    /// Runs N schedules, from consecutive seeds starting at --seed (or a random one,
    /// printed), each in its own run folder, and ends with a table of them; the exit status
    /// is the worst verdict: interrupted (130) > node could not be run (3) > invalid (1) >
    /// unknown (2) > valid (0).
    #[arg(
        help_heading = "Run and output",
        long,
        value_name = "N",
        default_value_t = 1
    )]
    pub test_count: u64,
    /// With --test-count: start no run after the first invalid one, or after one whose
    /// node could not be run (runs already going finish).
    #[arg(help_heading = "Run and output", long, alias = "stop-on-invalid")]
    pub fail_fast: bool,
    /// With --test-count: runs at once. Default 1, because two clusters compete for the
    /// cores (two on the project's machine) and a timing verdict could suffer; eddy measures
    /// the time every node and its own router waited for a core and excuses those stalls in
    /// every liveness check, which is why more is allowed. Runs start one at a time.
    #[arg(
        help_heading = "Run and output",
        long,
        value_name = "J",
        default_value_t = 1
    )]
    pub jobs: usize,
    /// With --test-count: run only shard K of N (cargo-nextest's `count:K/N`, or plain
    /// `K/N`): the runs whose position i (from 0) among the --test-count satisfies
    /// i % N == K-1. Needs --seed, so that every shard numbers the same seeds.
    #[arg(help_heading = "Run and output", long, value_name = "K/N")]
    pub partition: Option<String>,
    /// Write a JUnit XML report to FILE: one test case per run (`<workload> seed <seed>`),
    /// failures with the failed checks and their first witnesses, the store folder and the
    /// command that reproduces the run in system-out.
    #[arg(help_heading = "Run and output", long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also print every line a node writes to stderr, after its id, as it comes (Maelstrom's
    /// flag). Every node's stderr is kept in the run folder's `node-logs/` either way.
    #[arg(help_heading = "Run and output", long)]
    pub log_stderr: bool,
    /// Accepted for Maelstrom's command lines; eddy records every message sent and received
    /// in the run folder's `net.jsonl` either way.
    #[arg(help_heading = "Run and output", long)]
    pub log_net_send: bool,
    /// Accepted for Maelstrom's command lines, as --log-net-send.
    #[arg(help_heading = "Run and output", long)]
    pub log_net_recv: bool,
    /// The sandbox for untrusted nodes.
    #[command(flatten)]
    pub sandbox: SandboxArgs,
    /// Every workload's own flags, each under its workload's heading.
    #[command(flatten)]
    pub workload_flags: WorkloadFlags,
}

/// One word of `--nemesis`: a fault kind, or `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NemesisWord {
    /// No faults at all.
    None,
    /// This kind of fault.
    Fault(FaultKind),
}

/// `--nemesis` words: `none` and every fault kind (shown as the possible values).
fn nemesis_words() -> impl clap::builder::TypedValueParser<Value = NemesisWord> {
    use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
    use clap::ValueEnum;
    let kinds = FaultKind::value_variants()
        .iter()
        .filter_map(ValueEnum::to_possible_value);
    PossibleValuesParser::new(
        std::iter::once(PossibleValue::new("none").help("No faults at all")).chain(kinds),
    )
    .map(|word: String| match word.as_str() {
        "none" => NemesisWord::None,
        kind => NemesisWord::Fault(
            FaultKind::from_str(kind, false).expect("a possible value is a fault kind"),
        ),
    })
}

/// `--concurrency`: a number of clients, or a number per node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// This many clients.
    Clients(usize),
    /// This many clients per node (`2n`).
    PerNode(usize),
}

impl Concurrency {
    /// The number of clients for a cluster of `nodes` nodes.
    pub fn clients(self, nodes: usize) -> usize {
        match self {
            Concurrency::Clients(n) => n,
            Concurrency::PerNode(n) => n.saturating_mul(nodes),
        }
    }
}

/// `--concurrency`: `5`, or `2n` for two clients per node.
fn parse_concurrency(text: &str) -> Result<Concurrency, String> {
    let (digits, per_node) = match text.strip_suffix('n') {
        Some(digits) => (digits, true),
        None => (text, false),
    };
    match digits.parse::<usize>() {
        Ok(n) if per_node => Ok(Concurrency::PerNode(n)),
        Ok(n) => Ok(Concurrency::Clients(n)),
        Err(_) => Err(format!(
            "expected a number of clients or `Nn` (N per node, as in `2n`), got `{text}`"
        )),
    }
}

/// `--availability`: a fraction from 0 to 1, or `total` for 1 (Maelstrom's word).
fn parse_availability(text: &str) -> Result<f64, String> {
    if text == "total" {
        return Ok(1.0);
    }
    match text.parse::<f64>() {
        Ok(share) if (0.0..=1.0).contains(&share) => Ok(share),
        _ => Err(format!(
            "expected a fraction from 0 to 1 or `total`, got `{text}`"
        )),
    }
}

fn seconds(value: f64, name: &str) -> Result<Duration, Error> {
    if value.is_finite() && value > 0.0 && value < 1e7 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(Error::Usage(format!(
            "--{name} must be a positive number of seconds, got {value}"
        )))
    }
}

impl TestArgs {
    /// The faults of the run: `--nemesis`'s, none for `none`, or the workload's default mix.
    fn fault_kinds(&self) -> Result<Vec<FaultKind>, Error> {
        let mut kinds = match &self.nemesis {
            None => self.workload.defaults(self.contract).faults,
            Some(words) if words.contains(&NemesisWord::None) => {
                if words.iter().any(|w| *w != NemesisWord::None) {
                    return Err(Error::Usage(
                        "--nemesis none turns faults off and goes alone, not with fault kinds"
                            .into(),
                    ));
                }
                Vec::new()
            }
            Some(words) => words
                .iter()
                .filter_map(|w| match w {
                    NemesisWord::Fault(kind) => Some(*kind),
                    NemesisWord::None => None,
                })
                .collect(),
        };
        kinds.sort_unstable();
        kinds.dedup();
        Ok(kinds)
    }

    fn config(&self) -> Result<SimConfig, Error> {
        let command = match &self.bin {
            Some(line) => NodeCommand::parse(line).map_err(Error::Usage)?,
            None => NodeCommand::reference_for(self.workload.name()),
        };
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(Error::Usage(what.into()))
            }
        };
        let defaults = self.workload.defaults(self.contract);
        let node_count = self.node_count.unwrap_or(defaults.node_count);
        check(
            (1..=100).contains(&node_count),
            "--node-count must be from 1 to 100",
        )?;
        let rate = self.rate.unwrap_or(defaults.rate);
        let latency = self.latency.unwrap_or(defaults.latency_ms);
        check(rate.is_finite() && rate > 0.0, "--rate must be positive")?;
        let concurrency = self.concurrency.clients(node_count);
        check(
            (1..=10_000).contains(&concurrency),
            "--concurrency must come to 1 to 10000 clients",
        )?;
        check(
            latency.is_finite() && latency >= 0.0,
            "--latency must not be negative",
        )?;
        check(
            (0.0..=1.0).contains(&self.loss),
            "--loss must be a probability from 0 to 1",
        )?;
        check(
            (0..=3_600_000).contains(&self.max_drift_ms),
            "--max-drift-ms must be from 0 to 3600000 (an hour)",
        )?;
        let context = Context {
            contract: self.contract,
            max_drift_ms: self.max_drift_ms,
        };
        let own = self
            .workload
            .options(&self.workload_flags, &context)
            .map_err(Error::Usage)?;
        let kinds = self.fault_kinds()?;
        let length = self.time_limit.unwrap_or(defaults.time_limit);
        let command = command.sandboxed(self.sandbox.sandbox(Some(length))?);
        Ok(SimConfig {
            workload: self.workload.name(),
            workload_options: WorkloadOptions {
                own,
                availability: self.availability,
                contract: self.contract,
            },
            command,
            node_count,
            first_node: defaults.first_node,
            time_limit: seconds(self.time_limit.unwrap_or(defaults.time_limit), "time-limit")?,
            rate,
            concurrency,
            network: NetworkConfig {
                latency_ms: latency,
                dist: self.latency_dist,
                loss: self.loss,
            },
            nemesis: NemesisConfig {
                kinds,
                interval: seconds(
                    self.nemesis_interval.unwrap_or(defaults.nemesis_interval),
                    "nemesis-interval",
                )?,
                max_drift_ms: self.max_drift_ms,
            },
            seed: self.seed.unwrap_or_else(rand::random),
            store_root: self.store.clone(),
            request_timeout: seconds(self.timeout.unwrap_or(defaults.timeout), "timeout")?,
            init_timeout: Duration::from_secs(10),
            log_stderr: self.log_stderr,
        })
    }
}

/// Held from the moment a run is chosen until its progress reports that the cluster is up
/// (every node answered `init`; or the run ended): runs start one at a time, so two
/// clusters never compete for the cores while starting and two run folders are never
/// created at the same moment.
static STARTING: Mutex<()> = Mutex::new(());

fn start_turn() -> MutexGuard<'static, ()> {
    STARTING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs one configured schedule, then judges it ([`judge`]: the checks, the pictures and
/// `results.json` into its run folder). `turn` (see [`STARTING`]) is let go once the
/// cluster is up. Prints nothing; the summary holds the text a single run prints.
pub fn run_one(
    cfg: &SimConfig,
    bin: Option<&str>,
    show: &dyn Fn(&Progress),
    turn: Option<MutexGuard<'static, ()>>,
) -> Result<RunSummary, Error> {
    let started = Instant::now();
    let workload = Workload::named(cfg.workload).expect("a run's workload is registered");
    let reproduce = cfg.reproduce(bin, workload.reproduce(cfg));
    let turn = std::cell::RefCell::new(turn);
    let show = |p: &Progress| {
        if p.phase != "starting" {
            turn.borrow_mut().take();
        }
        show(p);
    };
    let driver = workload
        .driver(&cfg.workload_options)
        .map_err(Error::Usage)?;
    let output =
        run(cfg, driver, &show).map_err(|e| Error::Io(format!("cannot write the store: {e}")))?;
    turn.borrow_mut().take();
    let mut store = output.store;
    let stop = match output.end {
        RunEnd::Finished => Stop::Finished,
        RunEnd::Interrupted => Stop::Interrupted,
        RunEnd::NodeError(why) => Stop::NodeError(why),
        RunEnd::AllExited(why) => Stop::Early(why),
        RunEnd::NotStarted(why) => {
            // Nothing ran, so nothing is kept: the one line says what the folder would.
            let _ = store.discard();
            return Err(Error::Node(format!(
                "the node `{}` did not start: {why}",
                cfg.command.display()
            )));
        }
    };
    let trial = Trial {
        workload,
        options: &cfg.workload_options,
        history: output.history,
        net: output.net,
        nodes: cfg.node_ids(),
        dir: store.dir().to_owned(),
        stop,
        seed: cfg.seed,
        stored_options: serde_json::to_value(cfg).expect("the options serialize"),
        sandbox: cfg
            .command
            .sandbox
            .as_ref()
            .map_or(serde_json::Value::Null, |s| s.to_json()),
        reproduce,
        started,
        command: "eddy test",
    };
    judge(trial, Some(&mut store))
}

/// Runs `eddy test`: one run, or `--test-count` of them.
pub fn run_test(args: TestArgs) -> Result<Outcome, Error> {
    let cfg = args.config()?;
    if !(1..=1_000_000).contains(&args.test_count) {
        return Err(Error::Usage(
            "--test-count must be from 1 to 1000000".into(),
        ));
    }
    if args.jobs == 0 {
        return Err(Error::Usage("--jobs must be at least 1".into()));
    }
    let partition = match &args.partition {
        Some(text) => {
            let partition: Partition = text.parse().map_err(Error::Usage)?;
            if args.seed.is_none() {
                return Err(Error::Usage(
                    "--partition needs --seed, so that every shard numbers the same seeds".into(),
                ));
            }
            Some(partition)
        }
        None => None,
    };
    crate::process::stop_gracefully_on_interrupt();
    let started = Instant::now();
    let runs = if args.test_count == 1 && partition.is_none() {
        vec![single(&args, &cfg)?]
    } else {
        many(&args, &cfg, partition)?
    };
    if let Some(path) = &args.junit {
        super::cases::write_file(
            path,
            &junit::render_runs(cfg.workload, &runs, started.elapsed()),
        )?;
    }
    if crate::process::interrupted() {
        return Ok(Outcome::Interrupted);
    }
    Ok(runs
        .iter()
        .fold(Outcome::Valid, |worst, r| worst.worst(r.outcome)))
}

/// One run, shown as it always was: a progress bar, then the summary.
fn single(args: &TestArgs, cfg: &SimConfig) -> Result<RunSummary, Error> {
    println!(
        "eddy test: {} on {} nodes, seed {}",
        cfg.workload, cfg.node_count, cfg.seed
    );
    let bar = ProgressBar::new(cfg.time_limit.as_millis() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {msg}").expect("the template is valid"));
    let show = progress_shower(&bar, cfg.time_limit.as_secs_f64());
    let result = run_one(cfg, args.bin.as_deref(), &show, None);
    bar.finish_and_clear();
    let run = result?;
    print!("{}", run.text);
    Ok(run)
}

/// What a progress bar shows of a running schedule.
fn progress_shower(bar: &ProgressBar, limit: f64) -> impl Fn(&Progress) + '_ {
    move |p: &Progress| {
        bar.set_position((p.elapsed_s * 1000.0) as u64);
        let faults = if p.faults.is_empty() {
            "none".into()
        } else {
            p.faults.clone()
        };
        bar.set_message(format!(
            "{}: {:.0}/{limit:.0} s, {} ops done, faults: {faults}",
            p.phase,
            p.elapsed_s.min(limit),
            p.completed
        ));
    }
}

/// `--test-count` runs (those of this `--partition` shard), up to `--jobs` at once: a
/// line per finished run (with the failed checks of one that is not valid), then the table.
fn many(
    args: &TestArgs,
    base: &SimConfig,
    partition: Option<Partition>,
) -> Result<Vec<RunSummary>, Error> {
    let first = base.seed;
    let count = args.test_count;
    let seeds = match count {
        1 => format!("seed {first}"),
        _ => format!("seeds {first} to {}", first.wrapping_add(count - 1)),
    };
    let positions: Vec<u64> = (0..count)
        .filter(|&i| partition.is_none_or(|p| p.contains(i)))
        .collect();
    let random = if args.seed.is_none() {
        format!(" (a random start: --seed {first} runs them again)")
    } else {
        String::new()
    };
    let jobs = args.jobs.min(positions.len()).max(1);
    let shard = partition.map_or_else(String::new, |p| {
        format!("shard {p}: {} of ", positions.len())
    });
    println!(
        "eddy test: {shard}{count} run{} of {} on {} nodes, {seeds}{random}, {jobs} at a time",
        plural(count as usize),
        base.workload,
        base.node_count
    );
    if let Some(sandbox) = &base.command.sandbox {
        println!("eddy test: {}", sandbox.summary_line());
    }
    if positions.is_empty() {
        println!("eddy test: shard has no runs");
        return Ok(Vec::new());
    }
    let multi = MultiProgress::new();
    let style =
        ProgressStyle::with_template("{prefix} {bar:30} {msg}").expect("the template is valid");
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let total = positions.len();
    let (sender, receiver) = std::sync::mpsc::channel::<(usize, Result<RunSummary, Error>)>();
    let mut runs: Vec<Option<RunSummary>> = vec![None; total];
    let mut error = None;
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let (next, stop, positions, multi, style) = (&next, &stop, &positions, &multi, &style);
            scope.spawn(move || loop {
                let turn = start_turn();
                if stop.load(Ordering::SeqCst) || crate::process::interrupted() {
                    return;
                }
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(&position) = positions.get(index) else {
                    return;
                };
                let mut cfg = base.clone();
                cfg.seed = first.wrapping_add(position);
                let bar = multi.add(ProgressBar::new(cfg.time_limit.as_millis() as u64));
                bar.set_style(style.clone());
                bar.set_prefix(format!("seed {}", cfg.seed));
                let show = progress_shower(&bar, cfg.time_limit.as_secs_f64());
                let result = run_one(&cfg, args.bin.as_deref(), &show, Some(turn));
                bar.finish_and_clear();
                multi.remove(&bar);
                let failed = match &result {
                    Ok(run) => matches!(run.outcome, Outcome::Invalid | Outcome::NodeError),
                    Err(_) => true,
                };
                if failed && (args.fail_fast || result.is_err()) {
                    stop.store(true, Ordering::SeqCst);
                }
                if sender.send((index, result)).is_err() {
                    return;
                }
            });
        }
        drop(sender);
        for (done, (index, result)) in (1..).zip(receiver) {
            match result {
                Ok(run) => {
                    multi.suspend(|| print!("{}", terminal::run_block(&run, done, total)));
                    runs[index] = Some(run);
                }
                Err(e) => error = Some(e),
            }
        }
    });
    if let Some(error) = error {
        return Err(error);
    }
    let runs: Vec<RunSummary> = runs.into_iter().flatten().collect();
    print!("{}", terminal::runs_table(&runs));
    let not_run = total - runs.len();
    if not_run > 0 && !crate::process::interrupted() {
        println!(
            "  {not_run} of {total} runs not started: --fail-fast stopped after the first run that failed"
        );
    }
    Ok(runs)
}
