//! `raft` (SPEC 3.3, seed 002): Raft leader election and log replication behind a
//! key/value register. Random `read`, `write` and `cas` on a few keys go to random nodes
//! (followers forward or refuse); written values are unique so the linearizability
//! checker can say which write a read saw. The checks: the register is linearizable, and
//! what the nodes said to each other obeys Raft's safety rules.

mod driver;
mod generate;
mod picture;
mod unique;
pub mod wire;

pub use driver::{leader_sign, RaftKv};
pub use generate::script as register_script;
pub use unique::UniqueWrites;

use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{linear, CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty, When};
use crate::sim::driver::Driver;
use crate::sim::nemesis::FaultKind::*;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;

/// The raft workload.
pub struct Raft;

/// raft's flags.
#[derive(clap::Args, Debug)]
pub struct RaftFlags {
    /// The longest acceptable time to the first leader, in ms (a liveness check).
    /// Default: 3000 under the seed contract (150-300 ms elections), 10000 under
    /// Maelstrom's (its tutorial elects in 2-4 s).
    #[arg(long)]
    pub max_first_leader_ms: Option<f64>,
    /// The longest acceptable time from losing the leader until clients are served
    /// again, in ms. Default: as --max-first-leader-ms.
    #[arg(long)]
    pub max_failover_ms: Option<f64>,
}

/// raft's options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RaftOptions {
    /// The longest acceptable time from the first request to the first leader, in ms.
    #[serde(default = "default_liveness_ms")]
    pub max_first_leader_ms: f64,
    /// The longest acceptable time from losing the leader to the next one, in ms.
    #[serde(default = "default_liveness_ms")]
    pub max_failover_ms: f64,
}

fn default_liveness_ms() -> f64 {
    3000.0
}

/// A register's read answers with its value; the read names its key (a counter's or a
/// set's, answered by other workloads, does not). `lin-kv`'s too.
pub const REGISTER_READ_OK: Schema = Schema {
    kind: "read_ok",
    when: When::RequestWith("key"),
    fields: &[("value", Ty::Any)],
};

/// The register's replies and Raft's messages on the wire (both reply naming conventions,
/// `_res` and `_ok`); lease-read shares them.
pub const SCHEMAS: &[Schema] = &[
    REGISTER_READ_OK,
    Schema::of(
        "raft_status_ok",
        &[
            ("term", Ty::Count),
            ("role", Ty::Str),
            ("leader", Ty::StrOrNull),
            ("commit_index", Ty::Count),
            ("log_len", Ty::Count),
        ],
    ),
    Schema::of(
        "request_vote",
        &[
            ("term", Ty::Count),
            ("candidate_id", Ty::Str),
            ("last_log_index", Ty::Count),
            ("last_log_term", Ty::Count),
        ],
    ),
    Schema::of("request_vote_res", VOTE_REPLY),
    Schema::of("request_vote_ok", VOTE_REPLY),
    Schema::of(
        "append_entries",
        &[
            ("term", Ty::Count),
            ("leader_id", Ty::Str),
            ("prev_log_index", Ty::Count),
            ("prev_log_term", Ty::Count),
            ("entries", Ty::Any),
            ("leader_commit", Ty::Count),
        ],
    ),
    Schema::of("append_entries_res", APPEND_REPLY),
    Schema::of("append_entries_ok", APPEND_REPLY),
];

const VOTE_REPLY: &[(&str, Ty)] = &[("term", Ty::Count), ("vote_granted", Ty::Bool)];
const APPEND_REPLY: &[(&str, Ty)] = &[("term", Ty::Count), ("success", Ty::Bool)];

/// The register's client history is linearizable (state machine safety): `raft`'s check,
/// and `lin-kv`'s.
pub fn linearizable(record: &Record) -> CheckResult {
    let report = linear::check(
        linear::history::from_events(&record.history),
        linear::Limits::default(),
    );
    linear::to_check_result(&report)
}

impl Spec for Raft {
    type Flags = RaftFlags;
    type Options = RaftOptions;

    fn name(&self) -> &'static str {
        "raft"
    }

    fn about(&self) -> &'static str {
        "Raft leader election and log replication (seed 002)"
    }

    /// Partitions of every shape, which make candidates compete (double votes, stale logs
    /// elected), on 5 nodes. Under the seeds' contract also kills of the leader and of a
    /// majority (state lost across restarts) and a paused leader, 10 ms apart with a fault
    /// every second and 1 s client timeouts: candidates collide only when their requests
    /// cross (0 ms and 3 nodes caught a double vote in 1 run of 6; 10 ms and 5 nodes in 5
    /// of 6).
    fn defaults(&self, contract: Contract) -> RunDefaults {
        let partitions = [
            Partition,
            PartitionHalves,
            PartitionRing,
            PartitionBridge,
            PartitionLeader,
        ];
        if contract == Contract::Seed {
            RunDefaults {
                faults: [
                    &partitions[..],
                    &[PauseLeader, Kill, KillLeader, KillMajority],
                ]
                .concat(),
                node_count: 5,
                latency_ms: 10.0,
                nemesis_interval: 1.0,
                timeout: 1.0,
                ..RunDefaults::default()
            }
        } else {
            RunDefaults {
                faults: partitions.to_vec(),
                node_count: 5,
                ..RunDefaults::default()
            }
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        generate::script(rng, ops, false, contract)
    }

    fn options(&self, flags: RaftFlags, context: &Context) -> Result<RaftOptions, String> {
        let seed = context.contract == Contract::Seed;
        let max_first_leader_ms =
            flags
                .max_first_leader_ms
                .unwrap_or(if seed { 3000.0 } else { 10_000.0 });
        let max_failover_ms = flags.max_failover_ms.unwrap_or(max_first_leader_ms);
        for (value, name) in [
            (max_first_leader_ms, "--max-first-leader-ms"),
            (max_failover_ms, "--max-failover-ms"),
        ] {
            if !(value.is_finite() && value > 0.0) {
                return Err(format!("{name} must be positive"));
            }
        }
        Ok(RaftOptions {
            max_first_leader_ms,
            max_failover_ms,
        })
    }

    fn driver(&self, options: &RaftOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(driver::RaftKv::new(options.max_failover_ms))
    }

    fn checks(
        &self,
        options: &RaftOptions,
        run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        let mut results = vec![linearizable(record)];
        results.extend(wire::checks(
            record,
            run.contract,
            options.max_first_leader_ms,
            options.max_failover_ms,
        ));
        results
    }

    fn pictures(
        &self,
        record: &Record,
        _checks: &[CheckResult],
        dir: &std::path::Path,
    ) -> Vec<String> {
        crate::report::timeline::draw(&dir.join("leaders.svg"), |path| {
            picture::raft_timeline(record, path)
        })
    }

    fn reproduce(&self, options: &RaftOptions, _cfg: &SimConfig) -> Vec<String> {
        vec![
            "--max-first-leader-ms".into(),
            options.max_first_leader_ms.to_string(),
            "--max-failover-ms".into(),
            options.max_failover_ms.to_string(),
        ]
    }
}
