//! `lease-read` (seed 001): the lease configuration and its safety rule (SPEC 3.2).
//!
//! Reads themselves are served by [`crate::dispatch`] from the key/value store; on a
//! one-node cluster the node is trivially the leader and its lease always holds.

use crate::message::{body, Envelope, RpcError};
use serde_json::{Map, Value};

/// The lease configuration in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseConfig {
    /// The lease a leader may use, already shortened by the clock-skew bound.
    pub effective_lease_ms: i64,
    /// The minimum election timeout.
    pub election_timeout_ms: i64,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        // The seed sample's configuration: 3000 ms lease, 500 ms skew, 5000 ms elections.
        LeaseConfig {
            effective_lease_ms: 2_500,
            election_timeout_ms: 5_000,
        }
    }
}

impl LeaseConfig {
    /// `lease_read_config {lease_duration_ms, election_timeout_ms, max_clock_skew_ms}`:
    /// judges the configuration and adopts it when the seed's rule calls it safe.
    ///
    /// `safe` is the seed's rule, `lease - skew < election_timeout`. `textbook_safe` is the
    /// stricter condition from the Raft thesis: a lease counted from the heartbeat's send
    /// time must not outlast the election timeout even on a clock that runs `skew` fast,
    /// so `lease_duration_ms <= election_timeout_ms`.
    pub fn configure(&mut self, req: &Envelope) -> Result<Map<String, Value>, RpcError> {
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
        let effective = lease - skew;
        let safe = effective < election;
        let reason = if safe {
            "lease - clock_skew < election_timeout"
        } else {
            "lease - clock_skew >= election_timeout"
        };
        if safe {
            *self = LeaseConfig {
                effective_lease_ms: effective,
                election_timeout_ms: election,
            };
        }
        Ok(body(
            "lease_read_config_ok",
            [
                ("safe", safe.into()),
                ("effective_lease_ms", effective.into()),
                ("reason", reason.into()),
                ("textbook_safe", (lease <= election).into()),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(lease: i64, election: i64, skew: i64) -> Result<Map<String, Value>, RpcError> {
        let line = format!(
            r#"{{"src":"c1","dest":"n1","body":{{"type":"lease_read_config","msg_id":2,"lease_duration_ms":{lease},"election_timeout_ms":{election},"max_clock_skew_ms":{skew}}}}}"#
        );
        let mut cfg = LeaseConfig {
            effective_lease_ms: 1,
            election_timeout_ms: 1,
        };
        cfg.configure(&Envelope::parse(&line).unwrap())
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
}
