//! `pn-counter` (SPEC 3.5, seed 004): a PN-counter replicated by gossip. `--adds` random
//! adds of both signs spread over all nodes, with reads (and `gossip_status` queries under
//! the seed contract) along the way, in rounds of `--round-adds`; after each round and
//! after the last add eddy measures convergence itself. The checks: the final value, the
//! convergence time, and under the seed contract the `replicate` gossip and
//! `gossip_status` answers.

pub(super) mod driver;
mod generate;
mod gossip;
pub mod picture;

use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty, When};
use crate::sim::driver::Driver;
use crate::sim::nemesis::FaultKind::*;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;

/// The pn-counter workload.
pub struct PnCounter;

/// pn-counter's flags.
#[derive(clap::Args, Debug)]
pub struct PnCounterFlags {
    /// Adds in the run (it ends when they are done or the time is up).
    #[arg(long, default_value_t = 1000)]
    pub adds: usize,
    /// Adds per round; eddy measures convergence after each round.
    #[arg(long, default_value_t = 100)]
    pub round_adds: usize,
    /// The convergence target in ms; a slower convergence fails the liveness check.
    /// Default: 1000 (the seed's) under the seed contract, 10000 under Maelstrom's (its
    /// demos gossip every 5 s).
    #[arg(long)]
    pub convergence_target_ms: Option<f64>,
}

/// pn-counter's options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PnCounterOptions {
    /// Adds in the run.
    pub adds: usize,
    /// Adds per round; convergence is measured after each round.
    pub round_adds: usize,
    /// The longest acceptable convergence time, in ms.
    pub convergence_target_ms: f64,
}

/// The counter's read (a `read` without `key`), its status and its gossip.
const SCHEMAS: &[Schema] = &[
    Schema {
        kind: "read_ok",
        when: When::RequestWithout("key"),
        fields: &[("value", Ty::Int)],
    },
    Schema::of(
        "gossip_status_ok",
        &[
            ("local_value", Ty::Int),
            ("gossip_rounds", Ty::Count),
            ("peers_synced", Ty::Count),
            ("convergence_ms", Ty::CountOrNull),
        ],
    ),
    Schema::of(
        "replicate",
        &[("p_counters", Ty::Counts), ("n_counters", Ty::Counts)],
    ),
];

impl Spec for PnCounter {
    type Flags = PnCounterFlags;
    type Options = PnCounterOptions;

    fn name(&self) -> &'static str {
        "pn-counter"
    }

    fn about(&self) -> &'static str {
        "PN-counter replicated by gossip (seed 004)"
    }

    /// Partitions of every shape (lost or double-counted gossip); under the seeds'
    /// contract also kills of one node and of a majority (increments forgotten across
    /// restarts) and pauses. 1000 adds (and the reads between them) fit in the default
    /// 10 s at 150 operations a second. Nodes are numbered from `n1` as seed 004 does, or
    /// from `n0` under Maelstrom's contract, as Maelstrom's own pn-counter workload does.
    fn defaults(&self, contract: Contract) -> RunDefaults {
        let partitions = [Partition, PartitionHalves, PartitionRing, PartitionBridge];
        RunDefaults {
            faults: if contract == Contract::Seed {
                [&partitions[..], &[Pause, Kill, KillMajority]].concat()
            } else {
                partitions.to_vec()
            },
            rate: 150.0,
            first_node: if contract == Contract::Seed { 1 } else { 0 },
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        generate::script(rng, ops, contract)
    }

    fn options(
        &self,
        flags: PnCounterFlags,
        context: &Context,
    ) -> Result<PnCounterOptions, String> {
        if flags.round_adds == 0 {
            return Err("--round-adds must be at least 1".into());
        }
        let seed = context.contract == Contract::Seed;
        let convergence_target_ms =
            flags
                .convergence_target_ms
                .unwrap_or(if seed { 1000.0 } else { 10_000.0 });
        if !(convergence_target_ms.is_finite() && convergence_target_ms > 0.0) {
            return Err("--convergence-target-ms must be positive".into());
        }
        Ok(PnCounterOptions {
            adds: flags.adds,
            round_adds: flags.round_adds,
            convergence_target_ms,
        })
    }

    fn driver(&self, options: &PnCounterOptions, run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(driver::Adds::new(
            *options,
            driver::Deltas::BothSigns,
            run.contract == Contract::Seed,
        ))
    }

    fn checks(
        &self,
        options: &PnCounterOptions,
        run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        vec![
            crate::check::counter::final_value(record, &self.catalogue()),
            crate::check::convergence::convergence(record, options.convergence_target_ms),
            gossip::replicate_wire(record, run.contract),
            gossip::gossip_status(record, run.contract),
        ]
    }

    fn pictures(
        &self,
        record: &Record,
        _checks: &[CheckResult],
        dir: &std::path::Path,
    ) -> Vec<String> {
        crate::report::timeline::draw(&dir.join("convergence.svg"), |path| {
            picture::counter_convergence(record, path)
        })
    }

    fn reproduce(&self, options: &PnCounterOptions, _cfg: &SimConfig) -> Vec<String> {
        vec![
            "--adds".into(),
            options.adds.to_string(),
            "--round-adds".into(),
            options.round_adds.to_string(),
            "--convergence-target-ms".into(),
            options.convergence_target_ms.to_string(),
        ]
    }
}
