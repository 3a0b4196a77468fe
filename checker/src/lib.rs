//! `eddy`: a test harness and conformance checker for distributed-systems node programs
//! that speak Maelstrom's JSON-lines protocol.
//!
//! The binary only wires these pieces together; each module has one job.

pub mod cases;
pub mod check;
pub mod cli;
pub mod contract;
pub mod error;
pub mod exit;
pub mod history;
pub mod judge;
pub mod process;
pub mod protocol;
pub mod report;
pub mod sandbox;
pub mod schema;
pub mod sim;
pub mod vfork;
pub mod workload;
