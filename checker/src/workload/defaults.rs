//! What `eddy test` does when a flag is not given: each workload's run shape and the fault
//! mix that provokes its classic bugs. A check can only catch a bug the run provoked, so
//! these are chosen for bug-finding power (measured by `cargo bench -p eddy --bench
//! catch_rate`), within what the contract promises the node: under Maelstrom's contract
//! the workloads Maelstrom also has get only the faults Maelstrom injects (partitions) and
//! Maelstrom's gentler timing; under the seeds' contract, and for the seed-only workloads,
//! every fault SPEC section 3 allows.

use super::Workload;
use crate::contract::Contract;
use crate::sim::nemesis::FaultKind;

/// A workload's defaults under one contract.
#[derive(Debug, Clone, PartialEq)]
pub struct RunDefaults {
    /// Nodes in the cluster (`--node-count`).
    pub node_count: usize,
    /// Seconds of client operations (`--time-limit`).
    pub time_limit: f64,
    /// Operations per second over all clients (`--rate`).
    pub rate: f64,
    /// Mean one-way latency between nodes, in ms (`--latency`).
    pub latency_ms: f64,
    /// Faults (`--nemesis`).
    pub faults: Vec<FaultKind>,
    /// Seconds between nemesis actions (`--nemesis-interval`).
    pub nemesis_interval: f64,
    /// Seconds a client waits for a reply (`--timeout`).
    pub timeout: f64,
}

impl Workload {
    /// The workload's defaults under `contract`.
    ///
    /// - lease: a holder cut off or stopped, and clock steps against the holder while it
    ///   holds (split-brain needs a holder that outlives its grant).
    /// - lease-read: a deposed leader that clients still reach (cut off, stopped, killed)
    ///   and clock steps against the leader while it holds its lease. Faults last 3 s, so a
    ///   cut-off leader is replaced (1.5-2.25 s elections) while it still believes in its
    ///   lease; clients wait 1 s, so that they are not all stuck on the cut-off leader when
    ///   the new one writes.
    /// - raft: partitions of every shape, which make candidates compete (double votes,
    ///   stale logs elected). Under the seeds' contract also kills of the leader and of a
    ///   majority (state lost across restarts) and a paused leader, on 5 nodes 10 ms apart
    ///   with a fault every second: candidates collide only when their requests cross
    ///   (0 ms and 3 nodes caught a double vote in 1 run of 6; 10 ms and 5 nodes in 5 of 6).
    /// - pn-counter: partitions of every shape (lost or double-counted gossip); under the
    ///   seeds' contract also kills of one node and of a majority (increments forgotten
    ///   across restarts) and pauses.
    /// - heartbeat: the master (n1) and five chunk servers; no faults beyond the servers'
    ///   silences, which every run has; 35 s is one silence past the 15 s deadline and a
    ///   return.
    pub fn defaults(self, contract: Contract) -> RunDefaults {
        use FaultKind::*;
        let seed = contract == Contract::Seed;
        let partitions = [Partition, PartitionHalves, PartitionRing, PartitionBridge];
        let mut run = RunDefaults {
            node_count: 3,
            time_limit: 10.0,
            rate: 50.0,
            latency_ms: 0.0,
            faults: Vec::new(),
            nemesis_interval: 2.0,
            timeout: 5.0,
        };
        match self {
            Workload::Heartbeat => {
                run.node_count = 6;
                run.time_limit = 35.0;
            }
            Workload::Lease => {
                run.faults = vec![Partition, PartitionLeader, PauseLeader, Drift, DriftLeader];
            }
            Workload::LeaseRead => {
                run.faults = vec![
                    Partition,
                    PartitionLeader,
                    PauseLeader,
                    KillLeader,
                    Drift,
                    DriftLeader,
                ];
                run.nemesis_interval = 3.0;
                run.timeout = 1.0;
            }
            Workload::Raft if seed => {
                run.faults = [
                    &partitions[..],
                    &[PartitionLeader, PauseLeader, Kill, KillLeader, KillMajority],
                ]
                .concat();
                run.node_count = 5;
                run.latency_ms = 10.0;
                run.nemesis_interval = 1.0;
                run.timeout = 1.0;
            }
            Workload::Raft => {
                run.faults = [&partitions[..], &[PartitionLeader]].concat();
                run.node_count = 5;
            }
            Workload::PnCounter => {
                run.faults = if seed {
                    [&partitions[..], &[Pause, Kill, KillMajority]].concat()
                } else {
                    partitions.to_vec()
                };
                // 1000 adds (and the reads between them) fit in the default 10 s.
                run.rate = 150.0;
            }
        }
        run.faults.sort_unstable();
        run
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maelstrom_workloads_get_only_partitions_under_maelstrom_contract() {
        for workload in [Workload::Raft, Workload::PnCounter] {
            let faults = workload.defaults(Contract::Maelstrom).faults;
            assert!(!faults.is_empty());
            assert!(
                faults.iter().all(|k| k.name().starts_with("partition")),
                "{workload}: {faults:?}"
            );
            let seed = workload.defaults(Contract::Seed).faults;
            assert!(
                seed.contains(&FaultKind::KillMajority),
                "{workload}: {seed:?}"
            );
        }
        for workload in [Workload::Lease, Workload::LeaseRead] {
            assert_eq!(
                workload.defaults(Contract::Maelstrom),
                workload.defaults(Contract::Seed),
                "{workload} is seed-only: one mix"
            );
            assert!(workload
                .defaults(Contract::Seed)
                .faults
                .contains(&FaultKind::DriftLeader));
        }
        assert!(Workload::Heartbeat
            .defaults(Contract::Seed)
            .faults
            .is_empty());
    }
}
