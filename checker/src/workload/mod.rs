//! The five workloads: their names, and for simulated runs (`eddy test`) what each one
//! generates and which checks judge it. Each workload that runs in simulation has a module
//! holding its generator beside its checks.

pub mod defaults;
pub mod lease;
pub mod lease_read;
pub mod pn_counter;
pub mod raft;
pub mod unique;

use crate::check::{CheckResult, Record};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::fmt;
use std::time::Duration;

/// A workload of SPEC section 3.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Time-based leases under clock drift (seed 000).
    Lease,
    /// Leader lease reads (seed 001).
    LeaseRead,
    /// Raft leader election and log replication (seed 002).
    Raft,
    /// GFS master failure detection (seed 003).
    Heartbeat,
    /// PN-counter replicated by gossip (seed 004).
    PnCounter,
}

impl Workload {
    /// Every workload, in seed order.
    pub const ALL: [Workload; 5] = [
        Workload::Lease,
        Workload::LeaseRead,
        Workload::Raft,
        Workload::Heartbeat,
        Workload::PnCounter,
    ];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Lease => "lease",
            Workload::LeaseRead => "lease-read",
            Workload::Raft => "raft",
            Workload::Heartbeat => "heartbeat",
            Workload::PnCounter => "pn-counter",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One client request: which node it goes to and its body (without `msg_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    /// Index of the node (0 is `n1`).
    pub node: usize,
    /// The request body.
    pub body: Value,
    /// Send it to the node eddy last saw acting as leader instead (`node` while none is
    /// known).
    pub to_leader: bool,
}

impl Op {
    /// A request for node `node`.
    pub fn at(node: usize, body: Value) -> Op {
        Op {
            node,
            body,
            to_leader: false,
        }
    }
}

/// What the generator wants next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Run this operation.
    Op(Op),
    /// A round is over: let operations in flight finish, then measure convergence.
    EndOfRound,
    /// The workload has run every operation it meant to.
    Done,
}

/// Settings of the workloads, stored with a run so `eddy check` judges it the same way.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorkloadOptions {
    /// pn-counter: adds in the run.
    pub adds: usize,
    /// pn-counter: adds per round; convergence is measured after each round.
    pub round_adds: usize,
    /// pn-counter: the longest acceptable convergence time, in ms.
    pub convergence_target_ms: f64,
    /// heartbeat: slack around the 15 s deadline and other timings, in ms.
    #[serde(default = "default_tolerance")]
    pub tolerance_ms: f64,
    /// raft: the longest acceptable time from the first request to the first leader, in ms.
    #[serde(default = "default_liveness_ms")]
    pub max_first_leader_ms: f64,
    /// raft: the longest acceptable time from losing the leader to the next one, in ms.
    #[serde(default = "default_liveness_ms")]
    pub max_failover_ms: f64,
    /// lease-read: the configuration every node is sent first (`lease_read_config`).
    #[serde(default)]
    pub lease: LeaseSettings,
    /// Every workload: the share of client operations that must succeed (`--availability`;
    /// 0 asks only that every kind succeed at least once).
    #[serde(default)]
    pub availability: f64,
    /// Every workload: the contract the node is judged under (which requests eddy sends and
    /// which checks demand the seeds' formats).
    #[serde(default)]
    pub contract: crate::contract::Contract,
}

/// lease-read: the `lease_read_config` eddy sends every node before any other request.
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

impl Default for LeaseSettings {
    fn default() -> Self {
        LeaseSettings {
            lease_duration_ms: 1400,
            election_timeout_ms: 1500,
            max_clock_skew_ms: 1000,
        }
    }
}

fn default_liveness_ms() -> f64 {
    3000.0
}

fn default_tolerance() -> f64 {
    1000.0
}

impl Default for WorkloadOptions {
    fn default() -> Self {
        WorkloadOptions {
            adds: 1000,
            round_adds: 100,
            convergence_target_ms: 1000.0,
            tolerance_ms: default_tolerance(),
            max_first_leader_ms: default_liveness_ms(),
            max_failover_ms: default_liveness_ms(),
            lease: LeaseSettings::default(),
            availability: 0.0,
            contract: crate::contract::Contract::default(),
        }
    }
}

/// What a workload does in a simulated run.
pub trait SimWorkload: Send {
    /// What comes next, drawn from the workload's own random stream.
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next;
    /// How long to wait after the last fault heals before the final phase.
    fn quiet_period(&self) -> Duration;
    /// The final phase's operations (for example one read on every node).
    fn final_ops(&self, nodes: usize) -> Vec<Op>;
    /// The request that asks a node for its value when measuring convergence, for
    /// workloads that converge.
    fn probe(&self) -> Option<Value> {
        None
    }
    /// True when faults should hit the current leader: a partition puts it on the minority
    /// side, a pause stops it.
    fn aim_at_leader(&self) -> bool {
        false
    }
    /// How long one convergence measurement may take before it counts as not converged.
    fn probe_timeout(&self) -> Duration {
        Duration::from_secs(10)
    }
}

impl Workload {
    /// The workload's simulated-run behaviour, when `eddy test` supports it yet.
    pub fn simulation(self, options: &WorkloadOptions) -> Option<Box<dyn SimWorkload>> {
        match self {
            Workload::PnCounter => Some(Box::new(pn_counter::PnCounter::new(options.clone()))),
            Workload::Raft => Some(Box::new(raft::RaftKv::new(options))),
            Workload::Lease => Some(Box::new(lease::Leases::default())),
            Workload::LeaseRead => Some(Box::new(lease_read::LeaseReads::new(options.lease))),
            Workload::Heartbeat => None,
        }
    }

    /// True when `eddy test` runs this workload.
    pub fn simulated(self) -> bool {
        matches!(
            self,
            Workload::PnCounter
                | Workload::Heartbeat
                | Workload::Raft
                | Workload::Lease
                | Workload::LeaseRead
        )
    }

    /// The workload's own checks over a run's record.
    pub fn checks(self, options: &WorkloadOptions, record: &Record) -> Vec<CheckResult> {
        match self {
            Workload::PnCounter => pn_counter::checks(options, record),
            Workload::Heartbeat => crate::check::failure::checks(options, record),
            Workload::Raft => raft::checks(options, record),
            Workload::Lease => lease::checks(record),
            Workload::LeaseRead => lease_read::checks(record, options.contract),
        }
    }
}
