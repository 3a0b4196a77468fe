//! One module per workload; each holds its state and answers its own messages.

pub mod heartbeat;
pub mod kv;
pub mod leader_lease;
pub mod lease;
pub mod lease_read;
pub mod pn_counter;
pub mod raft;
