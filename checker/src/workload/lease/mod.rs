//! `lease` (SPEC 3.1, seed 000): time-based leases under clock drift. Clients ask random
//! nodes to acquire the cluster's lease for varied durations and to check it; the checks
//! map every node's holding through the clock offsets eddy applied and look for two
//! holders at once.

mod check;
mod driver;
mod generate;
mod picture;

use super::{Context, NoOptions, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty};
use crate::sim::driver::Driver;
use crate::sim::nemesis::FaultKind::*;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The lease workload.
pub struct Lease;

/// lease has no flags of its own.
#[derive(clap::Args, Debug)]
pub struct LeaseFlags {}

/// The replies of this workload's requests.
const SCHEMAS: &[Schema] = &[
    Schema::of("acquire_lease_ok", &[("expires_at", Ty::Int)]),
    Schema::of(
        "check_lease_ok",
        &[("valid", Ty::Bool), ("remaining_ms", Ty::Count)],
    ),
];

impl Spec for Lease {
    type Flags = LeaseFlags;
    type Options = NoOptions;

    fn name(&self) -> &'static str {
        "lease"
    }

    fn about(&self) -> &'static str {
        "Time-based leases under clock drift (seed 000)"
    }

    /// A holder cut off or stopped, and clock steps against the holder while it holds
    /// (split-brain needs a holder that outlives its grant); the same under both contracts.
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            faults: vec![Partition, PartitionLeader, PauseLeader, Drift, DriftLeader],
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        generate::script(rng, ops, contract)
    }

    fn options(&self, _flags: LeaseFlags, _context: &Context) -> Result<NoOptions, String> {
        Ok(NoOptions {})
    }

    fn driver(&self, _options: &NoOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(driver::Leases::default())
    }

    /// No two holders at one real instant, and `check_lease` answers that agree with the
    /// leases granted.
    fn checks(
        &self,
        _options: &NoOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        check::checks(record)
    }

    fn pictures(&self, record: &Record, _checks: &[CheckResult], dir: &Path) -> Vec<String> {
        crate::report::timeline::draw(&dir.join("timeline.svg"), |path| {
            picture::lease_timeline(record, path)
        })
    }

    fn reproduce(&self, _options: &NoOptions, _cfg: &SimConfig) -> Vec<String> {
        Vec::new()
    }
}
