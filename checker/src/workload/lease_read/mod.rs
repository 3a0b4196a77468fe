//! `lease-read` (SPEC 3.2, seed 001): leader lease reads on Raft. Every node is first sent
//! the run's lease configuration, then one the seed's rule calls unsafe, which it must
//! refuse; then random `write`, `cas`, `read` and `lease_read` on a few keys, most lease
//! reads aimed at the node eddy last saw leading. The checks: every read linearizable,
//! zero-round-trip claims true to the traffic, configuration answers true to the formula,
//! and Raft's safety on the wire.

mod check;
mod driver;
mod picture;

use super::raft;
use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty};
use crate::sim::driver::Driver;
use crate::sim::nemesis::FaultKind::*;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;
use std::path::Path;

/// The lease-read workload.
pub struct LeaseRead;

/// lease-read's flags.
#[derive(clap::Args, Debug)]
pub struct LeaseReadFlags {
    /// The `lease_duration_ms` every node is configured with (the skew sent with it is
    /// twice --max-drift-ms).
    #[arg(long, default_value_t = 1400)]
    pub lease_ms: i64,
    /// The `election_timeout_ms` every node is configured with.
    #[arg(long, default_value_t = 1500)]
    pub election_ms: i64,
}

/// lease-read's options.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LeaseReadOptions {
    /// The configuration every node is sent first (`lease_read_config`).
    #[serde(default)]
    pub lease: LeaseSettings,
}

/// The `lease_read_config` eddy sends every node before any other request.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LeaseSettings {
    /// `lease_duration_ms`.
    pub lease_duration_ms: i64,
    /// `election_timeout_ms`.
    pub election_timeout_ms: i64,
    /// `max_clock_skew_ms`: twice `--max-drift-ms`, since no two clocks differ by more and
    /// no clock moves by more during a lease.
    pub max_clock_skew_ms: i64,
}

impl LeaseSettings {
    /// The seed's rule (SPEC 3.2): the lease less the skew is shorter than the election
    /// timeout.
    pub fn safe(&self) -> bool {
        self.lease_duration_ms
            .saturating_sub(self.max_clock_skew_ms)
            < self.election_timeout_ms
    }
}

impl Default for LeaseSettings {
    fn default() -> Self {
        LeaseSettings {
            lease_duration_ms: 1400,
            election_timeout_ms: 1500,
            max_clock_skew_ms: 1000,
        }
    }
}

/// lease-read's own replies.
const OWN_SCHEMAS: &[Schema] = &[
    Schema::of(
        "lease_read_ok",
        &[
            ("value", Ty::Any),
            ("lease_valid", Ty::Bool),
            ("network_round_trips", Ty::Count),
        ],
    ),
    Schema::of(
        "lease_read_config_ok",
        &[
            ("safe", Ty::Bool),
            ("effective_lease_ms", Ty::Int),
            ("reason", Ty::Str),
        ],
    ),
];

impl Spec for LeaseRead {
    type Flags = LeaseReadFlags;
    type Options = LeaseReadOptions;

    fn name(&self) -> &'static str {
        "lease-read"
    }

    fn about(&self) -> &'static str {
        "Leader lease reads (seed 001)"
    }

    /// A deposed leader that clients still reach (cut off, stopped, killed) and clock
    /// steps against the leader while it holds its lease. Faults last 3 s, so a cut-off
    /// leader is replaced (1.5-2.25 s elections) while it still believes in its lease;
    /// clients wait 1 s, so that they are not all stuck on the cut-off leader when the new
    /// one writes. The same under both contracts.
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            faults: vec![
                Partition,
                PartitionLeader,
                PauseLeader,
                KillLeader,
                Drift,
                DriftLeader,
            ],
            nemesis_interval: 3.0,
            timeout: 1.0,
            ..RunDefaults::default()
        }
    }

    /// Its own replies, and the register's and Raft's (`raft::SCHEMAS`).
    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[OWN_SCHEMAS, raft::SCHEMAS]
    }

    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        raft::register_script(rng, ops, true, contract)
    }

    fn options(
        &self,
        flags: LeaseReadFlags,
        context: &Context,
    ) -> Result<LeaseReadOptions, String> {
        if flags.lease_ms <= 0 || flags.election_ms <= 0 {
            return Err("--lease-ms and --election-ms must be positive".into());
        }
        Ok(LeaseReadOptions {
            lease: LeaseSettings {
                lease_duration_ms: flags.lease_ms,
                election_timeout_ms: flags.election_ms,
                max_clock_skew_ms: context.max_drift_ms.saturating_mul(2),
            },
        })
    }

    fn driver(&self, options: &LeaseReadOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(driver::LeaseReads::new(options.lease))
    }

    fn checks(
        &self,
        _options: &LeaseReadOptions,
        run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        check::checks(record, run.contract)
    }

    fn pictures(&self, record: &Record, checks: &[CheckResult], dir: &Path) -> Vec<String> {
        crate::report::timeline::draw(&dir.join("timeline.svg"), |path| {
            picture::lease_read_timeline(record, checks, path)
        })
    }

    fn reproduce(&self, options: &LeaseReadOptions, cfg: &SimConfig) -> Vec<String> {
        let mut words = vec![
            "--lease-ms".into(),
            options.lease.lease_duration_ms.to_string(),
            "--election-ms".into(),
            options.lease.election_timeout_ms.to_string(),
        ];
        if cfg.nemesis.kinds.is_empty() {
            // The skew eddy announces follows the drift bound even without faults.
            words.extend([
                "--max-drift-ms".into(),
                cfg.nemesis.max_drift_ms.to_string(),
            ]);
        }
        words
    }
}
