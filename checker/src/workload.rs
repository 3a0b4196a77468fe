//! The five workloads by name.

use std::fmt;

/// A workload of SPEC section 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
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
