//! `g-counter` (Maelstrom's workload, Gossip Glomers' challenge 4): a grow-only counter.
//! `add {delta}` with a non-negative delta -> `add_ok`; `read` -> `read_ok {value}`. It is
//! pn-counter without decrements, and eddy runs and judges it the same way: adds in rounds
//! with reads along the way, convergence measured after every round and at the end, and
//! the final reads of every node judged against the acknowledged adds
//! ([`crate::check::counter`], [`crate::check::convergence`]). Under either contract it
//! asks nothing but `add` and `read` (there is no seed for it).

use super::pn_counter::driver::{Adds, Deltas};
use super::pn_counter::PnCounterOptions;
use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty, When};
use crate::sim::driver::Driver;
use crate::sim::nemesis::FaultKind::*;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;

/// The g-counter workload.
pub struct GCounter;

/// Adds per round; eddy measures convergence after each.
const ROUND_ADDS: usize = 100;

/// g-counter's flags.
#[derive(clap::Args, Debug)]
pub struct GCounterFlags {
    /// g-counter's convergence target in ms; a slower convergence fails the liveness
    /// check. Default 10000 (Maelstrom's demos gossip every 5 s).
    #[arg(long, default_value_t = 10_000.0)]
    pub g_counter_target_ms: f64,
}

/// The counter's read: a `read` without `key`, answered with an integer.
const SCHEMAS: &[Schema] = &[Schema {
    kind: "read_ok",
    when: When::RequestWithout("key"),
    fields: &[("value", Ty::Int)],
}];

impl Spec for GCounter {
    type Flags = GCounterFlags;
    type Options = PnCounterOptions;

    fn name(&self) -> &'static str {
        "g-counter"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's g-counter: a grow-only counter; final reads sum the acknowledged adds"
    }

    /// Gossip Glomers' run shape (`--rate 100 --nemesis partition`), nodes from `n0`, with
    /// partitions of every shape as for pn-counter.
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            first_node: 0,
            rate: 100.0,
            faults: vec![Partition, PartitionHalves, PartitionRing, PartitionBridge],
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    /// Adds of 0..4 and reads on one node, which must read the sum of its adds.
    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        let mut script = Script::new(&["n0"], contract);
        let mut sum = 0i64;
        for _ in 0..ops {
            if rng.random_bool(0.6) {
                let delta = rng.random_range(0..=4i64);
                sum += delta;
                script.request(
                    "c1",
                    json!({"type": "add", "delta": delta}),
                    json!({"type": "add_ok"}),
                );
            } else {
                script.request(
                    "c1",
                    json!({"type": "read"}),
                    json!({"type": "read_ok", "value": sum}),
                );
            }
        }
        script
    }

    fn options(
        &self,
        flags: GCounterFlags,
        _context: &Context,
    ) -> Result<PnCounterOptions, String> {
        let target = flags.g_counter_target_ms;
        if !(target.is_finite() && target > 0.0) {
            return Err("--g-counter-target-ms must be positive".into());
        }
        Ok(PnCounterOptions {
            adds: usize::MAX,
            round_adds: ROUND_ADDS,
            convergence_target_ms: target,
        })
    }

    fn driver(&self, options: &PnCounterOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(Adds::new(*options, Deltas::NonNegative, false))
    }

    fn checks(
        &self,
        options: &PnCounterOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        vec![
            crate::check::counter::final_value(record, &self.catalogue()),
            crate::check::convergence::convergence(record, options.convergence_target_ms),
        ]
    }

    fn pictures(
        &self,
        record: &Record,
        _checks: &[CheckResult],
        dir: &std::path::Path,
    ) -> Vec<String> {
        crate::report::timeline::draw(&dir.join("convergence.svg"), |path| {
            super::pn_counter::picture::counter_convergence(record, path)
        })
    }

    fn reproduce(&self, options: &PnCounterOptions, _cfg: &SimConfig) -> Vec<String> {
        vec![
            "--g-counter-target-ms".into(),
            options.convergence_target_ms.to_string(),
        ]
    }
}
