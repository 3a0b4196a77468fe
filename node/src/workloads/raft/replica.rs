//! The replicated key/value store that the `raft` and `lease-read` services share: one Raft
//! instance on a cluster of more than one node, a local register on a one-node cluster
//! (which is trivially the leader, its lease always holding). It also keeps the adopted
//! lease configuration in `NODE_DATA_DIR`, so a restarted node keeps the promises a leader's
//! lease counts on.
//!
//! During `init` each service that uses the store asks for it ([`Replica::want`]), with the
//! Raft defects it reads; the node then starts it once ([`Replica::start`]).

use super::{Raft, RaftBugs};
use crate::clock::Clock;
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Out;
use crate::persist::DataDir;
use crate::service::Answer;
use crate::workloads::kv::KvStore;
use crate::workloads::lease_read::LeaseConfig;
use rand::rngs::StdRng;
use serde_json::Value;
use std::time::Instant;

/// Raft's own messages: served only while Raft runs.
pub const RAFT_MESSAGES: [&str; 3] = ["request_vote", "append_entries", "raft_status"];
/// The client requests of the key/value store.
pub const KV_REQUESTS: [&str; 3] = ["read", "write", "cas"];

/// Where an adopted lease configuration is kept in `NODE_DATA_DIR`.
const LEASE_CONFIG_FILE: &str = "lease-config.json";

/// What the services asked of the store during one `init`.
#[derive(Debug, Clone, Copy, Default)]
struct Wanted {
    bugs: RaftBugs,
    forget_state: bool,
    wake: bool,
}

/// The key/value store, as Raft or as a local register.
#[derive(Default)]
pub struct Replica {
    raft: Option<Raft>,
    local: KvStore,
    wanted: Option<Wanted>,
}

impl Replica {
    /// A service needs the store: with Raft's defects `bugs` on, keeping nothing in
    /// `NODE_DATA_DIR` when `forget_state`, its election timer started at once when `wake`
    /// (a node pinned to a Raft workload; an `auto` node waits for a first Raft message
    /// unless it has Raft history). Several services' asks add up.
    pub fn want(&mut self, bugs: RaftBugs, forget_state: bool, wake: bool) {
        let wanted = self.wanted.get_or_insert_with(Wanted::default);
        wanted.bugs = wanted.bugs.or(bugs);
        wanted.forget_state |= forget_state;
        wanted.wake |= wake;
    }

    /// Starts Raft if a service asked for it during this `init` and the cluster
    /// (`cluster_size` node ids) has more than one node; otherwise stops it. A saved lease
    /// configuration is adopted again.
    pub fn start(
        &mut self,
        me: &str,
        peers: &[String],
        cluster_size: usize,
        data: Option<&DataDir>,
        clock: &Clock,
        rng: &mut StdRng,
    ) {
        let wanted = self.wanted.take().filter(|_| cluster_size > 1);
        self.raft = wanted.map(|wanted| {
            let durable = if wanted.forget_state {
                None
            } else {
                data.cloned()
            };
            let mut raft = Raft::new(me, peers, durable, clock.clone());
            raft.set_bugs(wanted.bugs);
            let saved = data
                .and_then(|d| d.load(LEASE_CONFIG_FILE))
                .and_then(|saved| LeaseConfig::from_json(&saved));
            if let Some(config) = saved {
                raft.set_lease_config(config, rng);
            }
            if wanted.wake || raft.has_history() {
                raft.wake(rng);
            }
            raft
        });
    }

    /// True while Raft runs (a cluster of more than one node, after `init`).
    pub fn runs_raft(&self) -> bool {
        self.raft.is_some()
    }

    /// Whether the store answers requests of type `kind` now: the key/value requests
    /// always, Raft's own messages while Raft runs.
    pub fn serves(&self, kind: &str) -> bool {
        KV_REQUESTS.contains(&kind) || (RAFT_MESSAGES.contains(&kind) && self.runs_raft())
    }

    /// `read`, `write`, `cas` and Raft's own messages. Raft wakes on any of them.
    pub fn handle(&mut self, req: &Envelope, out: &mut Out, rng: &mut StdRng) -> Answer {
        let kind = req.kind();
        let Some(raft) = &mut self.raft else {
            // One node: it is the leader, and its register the state.
            return match kind {
                "read" => self.local.read(req),
                "write" => self.local.write(req),
                "cas" => self.local.cas(req),
                _ => Err(RpcError::not_supported(kind)),
            }
            .map(Some);
        };
        raft.wake(rng);
        match kind {
            "request_vote" => raft.request_vote(req, rng).map(Some),
            "append_entries" => raft.append_entries(req, out, rng).map(Some),
            "raft_status" => Ok(Some(raft.status())),
            _ => raft.client(req, out),
        }
    }

    /// `lease_read {key}`: from the Raft leader (which wakes Raft), or on one node from the
    /// local register with the lease always valid and no round trip.
    pub fn lease_read(&mut self, req: &Envelope, out: &mut Out, rng: &mut StdRng) -> Answer {
        if let Some(raft) = &mut self.raft {
            raft.wake(rng);
            return raft.lease_read(req, out);
        }
        let key = req.field("key")?;
        let value = self.local.get(key).cloned().unwrap_or(Value::Null);
        Ok(Some(body(
            "lease_read_ok",
            [
                ("value", value),
                ("lease_valid", true.into()),
                ("network_round_trips", 0.into()),
            ],
        )))
    }

    /// Adopts a lease configuration: synced first, so that a restarted node keeps refusing
    /// votes the way its leader's lease counts on, then handed to Raft.
    pub fn adopt_lease_config(
        &mut self,
        config: LeaseConfig,
        data: Option<&DataDir>,
        rng: &mut StdRng,
    ) -> Result<(), RpcError> {
        if let Some(data) = data {
            data.save(LEASE_CONFIG_FILE, &config.to_json())
                .map_err(|e| RpcError {
                    code: 13,
                    text: format!("could not persist the lease configuration: {e}"),
                })?;
        }
        if let Some(raft) = &mut self.raft {
            raft.set_lease_config(config, rng);
        }
        Ok(())
    }

    /// When Raft's timer is next due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.raft.as_ref().and_then(Raft::next_deadline)
    }

    /// Runs Raft's due timers.
    pub fn tick(&mut self, now: Instant, out: &mut Out, rng: &mut StdRng) {
        if let Some(raft) = &mut self.raft {
            raft.tick(now, out, rng);
        }
    }

    /// A reply addressed to this node: Raft's, if it runs.
    pub fn reply(&mut self, msg: &Envelope, out: &mut Out) {
        if let Some(raft) = &mut self.raft {
            raft.reply(msg, out);
        }
    }
}
