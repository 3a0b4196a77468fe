//! `lease-read` (seed 001): the lease configuration and its safety rule (SPEC 3.2).
//!
//! A multi-node cluster serves lease reads from its Raft leader
//! ([`crate::workloads::leader_lease`]); on a one-node cluster the node is trivially the
//! leader and its lease always holds. The service serves Raft's key/value store too, on the
//! [`Replica`](super::raft::Replica) it shares with `raft`.

use super::raft::{RaftBugs, RaftService};
use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::service::{Answer, Context, Service, Setup, Shared};
use serde_json::{json, Map, Value};

/// The `lease-read` workload (seed 001): `lease_read_config`, `lease_read`, and everything
/// the `raft` workload serves.
#[derive(Debug, Default)]
pub struct LeaseReadService {
    /// `--bug unsafe-lease`: adopt a configuration the seed's rule calls unsafe.
    unsafe_lease: bool,
}

impl Service for LeaseReadService {
    fn name(&self) -> &'static str {
        "lease-read"
    }

    fn about(&self) -> &'static str {
        "Leader lease reads (seed 001)"
    }

    fn serves(&self, kind: &str, shared: &Shared) -> bool {
        matches!(kind, "lease_read" | "lease_read_config") || shared.replica.serves(kind)
    }

    /// Reads its own defects and, since it runs Raft, Raft's.
    fn init(&mut self, setup: &Setup, ctx: &mut Context) {
        let bug = setup.bug("lease-read");
        self.unsafe_lease = bug == Some(Bug::UnsafeLease);
        let own = RaftBugs {
            expired_lease: bug == Some(Bug::ExpiredLease),
            hidden_round_trip: bug == Some(Bug::HiddenRoundTrip),
            ignore_leader_lease: bug == Some(Bug::IgnoreLeaderLease),
            ..RaftBugs::default()
        };
        let (raft, forget_state) = RaftService::bugs(setup);
        ctx.replica.want(raft.or(own), forget_state, setup.pinned);
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        match req.kind() {
            "lease_read_config" => {
                let judged = LeaseConfig::judge(req)?;
                if judged.safe || self.unsafe_lease {
                    ctx.replica
                        .adopt_lease_config(judged.config, ctx.data, ctx.rng)?;
                }
                Ok(Some(judged.reply))
            }
            "lease_read" => ctx.replica.lease_read(req, ctx.out, ctx.rng),
            _ => ctx.replica.handle(req, ctx.out, ctx.rng),
        }
    }
}

/// A lease configuration: what a leader may count on and what the cluster promises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseConfig {
    /// The lease a leader may use, already shortened by the clock-skew bound.
    pub effective_lease_ms: i64,
    /// The minimum election timeout.
    pub election_timeout_ms: i64,
}

/// What `lease_read_config` decided.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The reply to send.
    pub reply: Map<String, Value>,
    /// The configuration asked for.
    pub config: LeaseConfig,
    /// True when the seed's rule calls it safe (only then is it adopted).
    pub safe: bool,
}

impl LeaseConfig {
    /// `lease_read_config {lease_duration_ms, election_timeout_ms, max_clock_skew_ms}`:
    /// judges the configuration; the caller adopts it when it is safe.
    ///
    /// `safe` is the seed's rule, `lease - skew < election_timeout`. `textbook_safe` is the
    /// stricter condition from the Raft thesis: a lease counted from the heartbeat's send
    /// time must not outlast the election timeout even on a clock that runs `skew` slow,
    /// so `lease_duration_ms <= election_timeout_ms`.
    pub fn judge(req: &Envelope) -> Result<Judgement, RpcError> {
        let lease = req.int("lease_duration_ms")?;
        let election = req.int("election_timeout_ms")?;
        let skew = req.int("max_clock_skew_ms")?;
        if lease <= 0 || election <= 0 {
            return Err(RpcError::malformed(
                "lease_duration_ms and election_timeout_ms must be positive",
            ));
        }
        if skew < 0 {
            return Err(RpcError::malformed(
                "max_clock_skew_ms must not be negative",
            ));
        }
        let effective = lease.saturating_sub(skew);
        let safe = effective < election;
        let reason = if safe {
            "lease - clock_skew < election_timeout"
        } else {
            "lease - clock_skew >= election_timeout"
        };
        Ok(Judgement {
            reply: body(
                "lease_read_config_ok",
                [
                    ("safe", safe.into()),
                    ("effective_lease_ms", effective.into()),
                    ("reason", reason.into()),
                    ("textbook_safe", (lease <= election).into()),
                ],
            ),
            config: LeaseConfig {
                effective_lease_ms: effective,
                election_timeout_ms: election,
            },
            safe,
        })
    }

    /// The configuration as saved in `NODE_DATA_DIR`.
    pub fn to_json(self) -> Value {
        json!({"effective_lease_ms": self.effective_lease_ms, "election_timeout_ms": self.election_timeout_ms})
    }

    /// A configuration saved by [`LeaseConfig::to_json`].
    pub fn from_json(saved: &Value) -> Option<LeaseConfig> {
        Some(LeaseConfig {
            effective_lease_ms: saved["effective_lease_ms"].as_i64()?,
            election_timeout_ms: saved["election_timeout_ms"].as_i64().filter(|&e| e > 0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lease: i64, election: i64, skew: i64) -> Result<Map<String, Value>, RpcError> {
        let line = format!(
            r#"{{"src":"c1","dest":"n1","body":{{"type":"lease_read_config","msg_id":2,"lease_duration_ms":{lease},"election_timeout_ms":{election},"max_clock_skew_ms":{skew}}}}}"#
        );
        LeaseConfig::judge(&Envelope::parse(&line).unwrap()).map(|j| j.reply)
    }

    #[test]
    fn seed_sample_and_edges() {
        let ok = config(3000, 5000, 500).unwrap();
        assert_eq!(
            (ok["safe"].clone(), ok["effective_lease_ms"].clone()),
            (true.into(), 2500.into())
        );
        assert_eq!(config(6000, 5000, 500).unwrap()["safe"], false);
        assert_eq!(config(5500, 5000, 500).unwrap()["safe"], false);
        assert_eq!(config(5400, 5000, 500).unwrap()["textbook_safe"], false);
        assert_eq!(config(0, 5000, 0).unwrap_err().code, 12);
        assert_eq!(config(10, 5000, -1).unwrap_err().code, 12);
    }

    #[test]
    fn a_saved_configuration_reads_back() {
        let config = LeaseConfig {
            effective_lease_ms: 600,
            election_timeout_ms: 1000,
        };
        assert_eq!(LeaseConfig::from_json(&config.to_json()), Some(config));
        assert_eq!(
            LeaseConfig::from_json(&json!({"effective_lease_ms": 1})),
            None
        );
    }
}
