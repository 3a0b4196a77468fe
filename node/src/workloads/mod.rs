//! One module per workload; each holds its state and its [`crate::service::Service`], which
//! answers its own messages. `kv` and `leader_lease` are parts `raft` and `lease-read` use.

pub mod broadcast;
pub mod echo;
pub mod g_set;
pub mod heartbeat;
pub mod kafka;
pub mod kv;
pub mod leader_lease;
pub mod lease;
pub mod lease_read;
pub mod lin_kv;
pub mod pn_counter;
pub mod raft;
pub mod unique_ids;
