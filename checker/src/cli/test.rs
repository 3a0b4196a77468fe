//! `eddy test`: a simulated cluster under a workload and faults, recorded and checked.

use super::UsageError;
use crate::check::{run_checks, Record};
use crate::contract::Contract;
use crate::exit::Outcome;
use crate::process::NodeCommand;
use crate::report::run::{draw_pictures, results_json, summary, verdict, RunFacts};
use crate::sim::nemesis::{FaultKind, NemesisConfig};
use crate::sim::network::{LatencyDist, NetworkConfig};
use crate::sim::router::{run, Progress, RunEnd};
use crate::sim::SimConfig;
use crate::workload::Workload;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::time::Duration;

/// Options of `eddy test`.
#[derive(clap::Args, Debug)]
pub struct TestArgs {
    /// The workload.
    #[arg(long, short = 'w', value_enum)]
    pub workload: Workload,
    /// The node's command line, split like a shell would. Default: the bundled reference node.
    #[arg(long = "bin", value_name = "COMMAND")]
    pub bin: Option<String>,
    /// Nodes in the cluster (ids n1..). Default: 6 for heartbeat (the master and five chunk
    /// servers), else 3.
    #[arg(long)]
    pub node_count: Option<usize>,
    /// Seconds of client operations (after every node answered init). Default: 35 for
    /// heartbeat (one silence past the 15 s deadline and a return), else 10.
    #[arg(long)]
    pub time_limit: Option<f64>,
    /// Operations per second over all clients. Default: 150 for pn-counter (its 1000 adds
    /// fit in 10 s), else 50.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Simulated clients, each with at most one request in flight.
    #[arg(long, default_value_t = 5)]
    pub concurrency: usize,
    /// Mean one-way latency between nodes, in ms.
    #[arg(long, default_value_t = 0.0)]
    pub latency: f64,
    /// How latency is distributed around the mean.
    #[arg(long, value_enum, default_value = "exponential")]
    pub latency_dist: LatencyDist,
    /// Probability that a node-to-node message is lost.
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Faults to inject, as a comma list.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub nemesis: Vec<FaultKind>,
    /// Seconds between nemesis actions (a fault, then its healing, and so on).
    #[arg(long, default_value_t = 2.0)]
    pub nemesis_interval: f64,
    /// Bound on every node's total clock offset under the drift fault, in ms.
    #[arg(long, default_value_t = 500)]
    pub max_drift_ms: i64,
    /// Seconds a client waits for a reply before its operation completes as `info`.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
    /// The seed of every random choice. Default: random (always printed and stored).
    #[arg(long)]
    pub seed: Option<u64>,
    /// pn-counter: adds in the run (it ends when they are done or the time is up).
    #[arg(long, default_value_t = 1000)]
    pub adds: usize,
    /// pn-counter: adds per round; eddy measures convergence after each round.
    #[arg(long, default_value_t = 100)]
    pub round_adds: usize,
    /// pn-counter: the convergence target in ms; a slower convergence fails the liveness
    /// check. Default: 1000 (the seed's) under the seed contract, 10000 under Maelstrom's
    /// (its demos gossip every 5 s).
    #[arg(long)]
    pub convergence_target_ms: Option<f64>,
    /// heartbeat: slack around the 15 s deadline and the other timings, in ms.
    #[arg(long, default_value_t = 1000.0)]
    pub tolerance_ms: f64,
    /// raft: the longest acceptable time to the first leader, in ms (a liveness check).
    /// Default: 3000 under the seed contract (150-300 ms elections), 10000 under
    /// Maelstrom's (its tutorial elects in 2-4 s).
    #[arg(long)]
    pub max_first_leader_ms: Option<f64>,
    /// raft: the longest acceptable time from losing the leader until clients are served
    /// again, in ms. Default: as --max-first-leader-ms.
    #[arg(long)]
    pub max_failover_ms: Option<f64>,
    /// lease-read: the `lease_duration_ms` every node is configured with (the skew sent
    /// with it is twice --max-drift-ms).
    #[arg(long, default_value_t = 1400)]
    pub lease_ms: i64,
    /// lease-read: the `election_timeout_ms` every node is configured with.
    #[arg(long, default_value_t = 1500)]
    pub election_ms: i64,
    /// The share of client operations that must succeed, from 0 to 1, or `total` (every
    /// one). Whatever it is, every kind of operation must succeed at least once, and so
    /// must every kind in the final phase.
    #[arg(long, value_name = "FRACTION", value_parser = parse_availability, default_value = "0")]
    pub availability: f64,
    /// The contract the node is judged under: `maelstrom` (client operations only; node-to-node
    /// messages are the node's own) or `seed` (everything of the problem statements, eddy-only
    /// requests such as `gossip_status` and the seeds' message formats included).
    #[arg(long, value_enum, default_value = "maelstrom")]
    pub contract: Contract,
    /// Folder for run folders (and the `latest` link).
    #[arg(long, default_value = "store")]
    pub store: PathBuf,
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

fn seconds(value: f64, name: &str) -> Result<Duration, UsageError> {
    if value.is_finite() && value > 0.0 && value < 1e7 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(UsageError(format!(
            "--{name} must be a positive number of seconds, got {value}"
        )))
    }
}

impl TestArgs {
    fn config(&self) -> Result<SimConfig, UsageError> {
        let command = match &self.bin {
            Some(line) => NodeCommand::parse(line).map_err(UsageError)?,
            None => NodeCommand::reference(),
        };
        let check = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(UsageError(what.into()))
            }
        };
        let node_count = self
            .node_count
            .unwrap_or_else(|| self.workload.default_node_count());
        check(
            (1..=100).contains(&node_count),
            "--node-count must be from 1 to 100",
        )?;
        let rate = self.rate.unwrap_or_else(|| self.workload.default_rate());
        check(rate.is_finite() && rate > 0.0, "--rate must be positive")?;
        check(self.round_adds > 0, "--round-adds must be at least 1")?;
        let seed = self.contract == Contract::Seed;
        let convergence_target_ms =
            self.convergence_target_ms
                .unwrap_or(if seed { 1000.0 } else { 10_000.0 });
        let max_first_leader_ms =
            self.max_first_leader_ms
                .unwrap_or(if seed { 3000.0 } else { 10_000.0 });
        let max_failover_ms = self.max_failover_ms.unwrap_or(max_first_leader_ms);
        for (value, name) in [
            (convergence_target_ms, "--convergence-target-ms"),
            (max_first_leader_ms, "--max-first-leader-ms"),
            (max_failover_ms, "--max-failover-ms"),
        ] {
            check(
                value.is_finite() && value > 0.0,
                &format!("{name} must be positive"),
            )?;
        }
        check(
            (1..=10_000).contains(&self.concurrency),
            "--concurrency must be from 1 to 10000",
        )?;
        check(
            self.latency.is_finite() && self.latency >= 0.0,
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
        check(
            self.lease_ms > 0 && self.election_ms > 0,
            "--lease-ms and --election-ms must be positive",
        )?;
        let mut kinds = self.nemesis.clone();
        kinds.sort_unstable();
        kinds.dedup();
        Ok(SimConfig {
            workload: self.workload,
            workload_options: crate::workload::WorkloadOptions {
                adds: self.adds,
                round_adds: self.round_adds,
                convergence_target_ms,
                tolerance_ms: self.tolerance_ms,
                max_first_leader_ms,
                max_failover_ms,
                lease: crate::workload::LeaseSettings {
                    lease_duration_ms: self.lease_ms,
                    election_timeout_ms: self.election_ms,
                    max_clock_skew_ms: self.max_drift_ms.saturating_mul(2),
                },
                availability: self.availability,
                contract: self.contract,
            },
            command,
            node_count,
            time_limit: seconds(
                self.time_limit
                    .unwrap_or_else(|| self.workload.default_time_limit()),
                "time-limit",
            )?,
            rate,
            concurrency: self.concurrency,
            network: NetworkConfig {
                latency_ms: self.latency,
                dist: self.latency_dist,
                loss: self.loss,
            },
            nemesis: NemesisConfig {
                kinds,
                interval: seconds(self.nemesis_interval, "nemesis-interval")?,
                max_drift_ms: self.max_drift_ms,
            },
            seed: self.seed.unwrap_or_else(rand::random),
            store_root: self.store.clone(),
            request_timeout: seconds(self.timeout, "timeout")?,
            init_timeout: Duration::from_secs(10),
        })
    }
}

/// Runs `eddy test`.
pub fn run_test(args: TestArgs) -> Result<Outcome, UsageError> {
    let cfg = args.config()?;
    if !cfg.workload.simulated() {
        return Err(UsageError(format!(
            "`eddy test` does not run the {} workload yet",
            cfg.workload
        )));
    }
    let reproduce = cfg.reproduce(args.bin.as_deref());
    println!(
        "eddy test: {} on {} nodes, seed {}",
        cfg.workload, cfg.node_count, cfg.seed
    );
    crate::process::stop_gracefully_on_interrupt();
    let bar = ProgressBar::new(cfg.time_limit.as_millis() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:30} {msg}").expect("the template is valid"));
    let limit = cfg.time_limit.as_secs_f64();
    let show = |p: &Progress| {
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
    };
    let output = match cfg.workload.simulation(&cfg.workload_options) {
        Some(workload) => run(&cfg, workload, &show),
        None => crate::sim::servers::run(&cfg, &show),
    }
    .map_err(|e| UsageError(format!("cannot write the store: {e}")))?;
    bar.finish_and_clear();
    let nodes: Vec<String> = (1..=cfg.node_count).map(|i| format!("n{i}")).collect();
    let record = Record {
        history: output.history,
        net: output.net,
        nodes: nodes.clone(),
        dir: Some(output.store.dir().to_owned()),
    };
    let stopped = match &output.end {
        RunEnd::Finished => None,
        RunEnd::Interrupted => Some("interrupted".to_owned()),
        RunEnd::NodeError(why) => Some(why.clone()),
    };
    let checks = match output.end {
        RunEnd::NodeError(_) => Vec::new(),
        _ => run_checks(cfg.workload, &cfg.workload_options, &record),
    };
    let options = serde_json::to_value(&cfg).expect("the options serialize");
    let facts = RunFacts {
        workload: cfg.workload.name(),
        seed: cfg.seed,
        nodes: &nodes,
        options,
        reproduce: &reproduce,
        stopped: stopped.as_deref(),
        pictures: draw_pictures(cfg.workload, &record, &checks, output.store.dir()),
    };
    let mut store = output.store;
    store
        .write_results(&results_json(&facts, &checks))
        .map_err(|e| UsageError(format!("cannot write results.json: {e}")))?;
    print!(
        "{}",
        summary(&facts, &checks, &store.dir().display().to_string())
    );
    Ok(match output.end {
        RunEnd::NodeError(why) => {
            eprintln!("eddy test: the node could not be run: {why}");
            Outcome::NodeError
        }
        RunEnd::Interrupted => std::process::exit(130),
        RunEnd::Finished => verdict(&facts, &checks).outcome(),
    })
}
