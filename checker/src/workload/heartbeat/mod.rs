//! `heartbeat` (SPEC 3.4, seed 003): a GFS master tracking chunk-server heartbeats. One
//! real node, the master `n1`; eddy plays the chunk servers (silences past the 15 s
//! deadline, returns) and a client asking `server_status`. The checks: failure detection
//! within the deadline and tolerance, and replication and deletion orders a correct master
//! may give.

mod check;
mod driver;
mod generate;
mod picture;

use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty};
use crate::sim::driver::Driver;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;

/// The heartbeat workload.
pub struct Heartbeat;

/// heartbeat's flags.
#[derive(clap::Args, Debug)]
pub struct HeartbeatFlags {
    /// Slack around the 15 s deadline and the other timings, in ms.
    #[arg(long, default_value_t = 1000.0)]
    pub tolerance_ms: f64,
}

/// heartbeat's options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HeartbeatOptions {
    /// Slack around the 15 s deadline and other timings, in ms.
    #[serde(default = "default_tolerance")]
    pub tolerance_ms: f64,
}

fn default_tolerance() -> f64 {
    1000.0
}

const SERVER_ENTRY: &[(&str, Ty)] = &[
    ("server", Ty::Str),
    ("status", Ty::OneOf(&["alive", "dead"])),
    ("chunks", Ty::Count),
    ("last_heartbeat_ms_ago", Ty::Count),
];

/// The replies of this workload's requests.
const SCHEMAS: &[Schema] = &[
    Schema::of(
        "heartbeat_ok",
        &[
            ("status", Ty::OneOf(&["alive"])),
            ("chunks_to_delete", Ty::Strings),
            ("chunks_to_replicate", Ty::Strings),
        ],
    ),
    Schema::of("server_status_ok", &[("servers", Ty::ListOf(SERVER_ENTRY))]),
];

impl Spec for Heartbeat {
    type Flags = HeartbeatFlags;
    type Options = HeartbeatOptions;

    fn name(&self) -> &'static str {
        "heartbeat"
    }

    fn about(&self) -> &'static str {
        "GFS master failure detection (seed 003)"
    }

    /// The master (n1) and five chunk servers; no faults beyond the servers' silences,
    /// which every run has; 35 s is one silence past the 15 s deadline and a return.
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            node_count: 6,
            time_limit: 35.0,
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
        flags: HeartbeatFlags,
        _context: &Context,
    ) -> Result<HeartbeatOptions, String> {
        Ok(HeartbeatOptions {
            tolerance_ms: flags.tolerance_ms,
        })
    }

    fn driver(&self, _options: &HeartbeatOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(driver::Servers)
    }

    fn checks(
        &self,
        options: &HeartbeatOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        check::checks(options.tolerance_ms, record)
    }

    fn pictures(
        &self,
        record: &Record,
        checks: &[CheckResult],
        dir: &std::path::Path,
    ) -> Vec<String> {
        crate::report::timeline::draw(&dir.join("liveness.svg"), |path| {
            picture::liveness_timeline(record, checks, path)
        })
    }

    fn reproduce(&self, options: &HeartbeatOptions, _cfg: &SimConfig) -> Vec<String> {
        vec!["--tolerance-ms".into(), options.tolerance_ms.to_string()]
    }
}
