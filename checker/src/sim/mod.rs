//! Simulated clusters (`eddy test`): node processes behind a network the harness controls,
//! clients driven by a workload, a nemesis injecting faults, and a complete record.

pub mod cluster;
pub mod lag;
pub mod nemesis;
pub mod network;
pub mod probe;
pub mod router;
pub mod servers;

use crate::process::NodeCommand;
use crate::workload::Workload;
use nemesis::NemesisConfig;
use network::NetworkConfig;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Duration;

/// Everything that defines a simulated run.
#[derive(Debug, Clone, Serialize)]
pub struct SimConfig {
    /// The workload.
    pub workload: Workload,
    /// The workload's own settings.
    pub workload_options: crate::workload::WorkloadOptions,
    /// The node's command line.
    #[serde(serialize_with = "serialize_command")]
    pub command: NodeCommand,
    /// Nodes in the cluster (`n1`..).
    pub node_count: usize,
    /// How long clients run operations, after every node answered `init`.
    pub time_limit: Duration,
    /// Operations per second, over all clients.
    pub rate: f64,
    /// Clients, each with at most one request in flight.
    pub concurrency: usize,
    /// Latency, loss.
    pub network: NetworkConfig,
    /// Faults.
    pub nemesis: NemesisConfig,
    /// The seed of every random choice.
    pub seed: u64,
    /// Where run folders go.
    pub store_root: PathBuf,
    /// How long a client waits for a reply before the operation completes as `info`.
    pub request_timeout: Duration,
    /// How long every node has to answer `init`.
    pub init_timeout: Duration,
}

fn serialize_command<S: serde::Serializer>(command: &NodeCommand, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&command.display())
}

impl SimConfig {
    /// The `eddy test` command line that runs the same schedule again.
    pub fn reproduce(&self, bin: Option<&str>) -> String {
        let mut words = vec![
            "eddy".to_owned(),
            "test".into(),
            "-w".into(),
            self.workload.name().into(),
        ];
        if let Some(bin) = bin {
            words.extend(["--bin".into(), bin.to_owned()]);
        }
        let nemesis: Vec<&str> = self.nemesis.kinds.iter().map(|k| k.name()).collect();
        words.extend([
            "--node-count".into(),
            self.node_count.to_string(),
            "--time-limit".into(),
            self.time_limit.as_secs_f64().to_string(),
            "--rate".into(),
            self.rate.to_string(),
            "--concurrency".into(),
            self.concurrency.to_string(),
            "--latency".into(),
            self.network.latency_ms.to_string(),
            "--latency-dist".into(),
            format!("{:?}", self.network.dist).to_lowercase(),
            "--loss".into(),
            self.network.loss.to_string(),
            "--timeout".into(),
            self.request_timeout.as_secs_f64().to_string(),
            "--contract".into(),
            self.workload_options.contract.name().into(),
        ]);
        if nemesis.is_empty() {
            words.extend(["--nemesis".into(), "none".into()]);
        } else {
            words.extend([
                "--nemesis".into(),
                nemesis.join(","),
                "--nemesis-interval".into(),
                self.nemesis.interval.as_secs_f64().to_string(),
                "--max-drift-ms".into(),
                self.nemesis.max_drift_ms.to_string(),
            ]);
        }
        if self.workload_options.availability > 0.0 {
            words.extend([
                "--availability".into(),
                self.workload_options.availability.to_string(),
            ]);
        }
        if self.workload == Workload::Raft {
            words.extend([
                "--max-first-leader-ms".into(),
                self.workload_options.max_first_leader_ms.to_string(),
                "--max-failover-ms".into(),
                self.workload_options.max_failover_ms.to_string(),
            ]);
        }
        if self.workload == Workload::LeaseRead {
            let lease = &self.workload_options.lease;
            words.extend([
                "--lease-ms".into(),
                lease.lease_duration_ms.to_string(),
                "--election-ms".into(),
                lease.election_timeout_ms.to_string(),
            ]);
            if nemesis.is_empty() {
                // The skew eddy announces follows the drift bound even without faults.
                words.extend([
                    "--max-drift-ms".into(),
                    self.nemesis.max_drift_ms.to_string(),
                ]);
            }
        }
        if self.workload == Workload::Heartbeat {
            words.extend([
                "--tolerance-ms".into(),
                self.workload_options.tolerance_ms.to_string(),
            ]);
        }
        if self.workload == Workload::PnCounter {
            let o = &self.workload_options;
            words.extend([
                "--adds".into(),
                o.adds.to_string(),
                "--round-adds".into(),
                o.round_adds.to_string(),
                "--convergence-target-ms".into(),
                o.convergence_target_ms.to_string(),
            ]);
        }
        words.extend(["--seed".into(), self.seed.to_string()]);
        shell_words::join(words)
    }
}

/// Derives independent seeds for the workload, the network and the nemesis from one seed
/// (splitmix64), so that changing one concern's settings never shifts another's choices.
pub fn sub_seed(seed: u64, concern: u64) -> u64 {
    let mut z = seed.wrapping_add(concern.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
