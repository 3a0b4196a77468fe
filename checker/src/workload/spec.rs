//! [`Spec`]: what one workload is, as its folder implements it; and [`run_checks`].

use super::Workload;
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::Schema;
use crate::sim::driver::Driver;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// What a workload's options are resolved against besides its own flags.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    /// The contract the node is judged under.
    pub contract: Contract,
    /// `--max-drift-ms`: the bound on every node's clock offset.
    pub max_drift_ms: i64,
}

/// One workload, as its folder implements it.
pub trait Spec: Send + Sync + 'static {
    /// Its command-line flags, shown under a heading of their own in `eddy test --help`.
    /// Flag names must differ from every other workload's.
    type Flags: clap::Args + clap::FromArgMatches;
    /// Its settings for one run, stored in `results.json` so `eddy check` judges the run
    /// the same way; fields missing from an older store take their defaults.
    type Options: serde::Serialize + serde::de::DeserializeOwned;

    /// The name used on the command line, in files and in generated-case seeds.
    fn name(&self) -> &'static str;
    /// One line for `--help`.
    fn about(&self) -> &'static str;
    /// The run shape and fault mix `eddy test` uses when a flag is not given.
    fn defaults(&self, contract: Contract) -> RunDefaults;
    /// Required fields of its messages (replies to clients, and node-to-node messages the
    /// harness can observe).
    /// Each list applies in full (lease-read's are its own and Raft's).
    fn schemas(&self) -> &'static [&'static [Schema]];
    /// The catalogue its replies are checked against: the protocol's schemas and its own.
    fn catalogue(&self) -> crate::schema::Catalogue {
        crate::schema::Catalogue::new(self.schemas())
    }
    /// A random single-node script of `ops` requests, with the replies its model expects.
    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script;
    /// The run's options from the flags.
    fn options(&self, flags: Self::Flags, context: &Context) -> Result<Self::Options, String>;
    /// The workload's side of a simulated run: its clients' operations, and the peers eddy
    /// plays for it, if any ([`Driver::peers`]).
    fn driver(&self, options: &Self::Options, run: &WorkloadOptions) -> Box<dyn Driver>;
    /// Its own checks over a run's record (the generic ones run besides).
    fn checks(
        &self,
        options: &Self::Options,
        run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult>;
    /// Draws its pictures into the run folder `dir`, returning their paths; a picture that
    /// cannot be drawn is reported on stderr and left out.
    fn pictures(&self, _record: &Record, _checks: &[CheckResult], _dir: &Path) -> Vec<String> {
        Vec::new()
    }
    /// Its flags that `eddy test` needs to run the same schedule again.
    fn reproduce(&self, options: &Self::Options, cfg: &SimConfig) -> Vec<String>;
}

/// Every check of a run: the workload's own, then the generic ones (its replies checked
/// against its schemas). An error names options that are not the workload's.
pub fn run_checks(
    workload: Workload,
    run: &WorkloadOptions,
    record: &Record,
) -> Result<Vec<CheckResult>, String> {
    let mut results = workload.checks(run, record)?;
    let schemas = crate::schema::Catalogue::new(workload.schemas());
    results.extend(crate::check::generic::check(
        record,
        run.availability,
        &schemas,
    ));
    Ok(results)
}

/// The options of a workload that has none of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NoOptions {}
