//! `lease` (seed 000): one exclusive, time-based lease per cluster.
//!
//! A one-node cluster grants locally. In a larger cluster a lease needs grants from a
//! majority; that protocol is not built yet, so such a node refuses with error 11 (which is
//! what a node that cannot reach a majority must answer anyway) rather than grant unsafely.

use crate::message::{Envelope, RpcError};
use serde_json::{Map, Value};

/// The lease as this node holds it, in local-clock milliseconds.
#[derive(Debug, Default)]
pub struct Lease {
    expires_at: Option<i64>,
}

impl Lease {
    /// `acquire_lease {duration_ms}`: grant (or renew) until `now + duration_ms`.
    pub fn acquire(
        &mut self,
        req: &Envelope,
        now_ms: i64,
        cluster_size: usize,
    ) -> Result<Map<String, Value>, RpcError> {
        let duration = req.int("duration_ms")?;
        if duration <= 0 {
            return Err(RpcError::malformed("field `duration_ms` must be positive"));
        }
        let expires_at = now_ms
            .checked_add(duration)
            .ok_or_else(|| RpcError::malformed("field `duration_ms` is too large"))?;
        if cluster_size > 1 {
            return Err(RpcError::unavailable(format!(
                "a lease needs grants from a majority of {cluster_size} nodes and this node cannot obtain them"
            )));
        }
        self.expires_at = Some(expires_at);
        Ok(crate::message::body(
            "acquire_lease_ok",
            [("expires_at", expires_at.into())],
        ))
    }

    /// `check_lease`: whether the lease is held now and for how much longer.
    pub fn check(&self, now_ms: i64) -> Map<String, Value> {
        let remaining = self.expires_at.map_or(0, |at| (at - now_ms).max(0));
        crate::message::body(
            "check_lease_ok",
            [
                ("valid", (remaining > 0).into()),
                ("remaining_ms", remaining.into()),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Envelope {
        Envelope::parse(json).unwrap()
    }

    #[test]
    fn grants_renews_and_expires_on_the_local_clock() {
        let mut lease = Lease::default();
        let acquire = request(
            r#"{"src":"c1","dest":"n1","body":{"type":"acquire_lease","msg_id":1,"duration_ms":5000}}"#,
        );
        let ok = lease.acquire(&acquire, 1_000, 1).unwrap();
        assert_eq!(ok["expires_at"], 6_000);
        assert_eq!(lease.check(2_000)["remaining_ms"], 4_000);
        assert_eq!(lease.check(6_000)["valid"], false);
        lease.acquire(&acquire, 5_000, 1).unwrap();
        assert_eq!(lease.check(6_000)["remaining_ms"], 4_000);
    }

    #[test]
    fn refuses_bad_durations_and_multi_node_clusters() {
        let mut lease = Lease::default();
        let zero = request(
            r#"{"src":"c1","dest":"n1","body":{"type":"acquire_lease","msg_id":1,"duration_ms":0}}"#,
        );
        assert_eq!(lease.acquire(&zero, 0, 1).unwrap_err().code, 12);
        let ok = request(
            r#"{"src":"c1","dest":"n1","body":{"type":"acquire_lease","msg_id":1,"duration_ms":10}}"#,
        );
        assert_eq!(lease.acquire(&ok, 0, 3).unwrap_err().code, 11);
        assert_eq!(lease.check(0)["valid"], false);
    }
}
