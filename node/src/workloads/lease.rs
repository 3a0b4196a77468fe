//! `lease` (seed 000): one exclusive, time-based lease per cluster, granted by a majority.
//!
//! A node asked to acquire promises the lease to itself and sends `lease_request {round,
//! duration_ms}` to every peer. A peer grants (`lease_request_ok {round, granted: true}`)
//! unless it has promised the lease to another node and that promise has not run out on its
//! own clock; a grant is a promise not to grant anyone else until `duration_ms` plus the
//! drift guard has passed on the granter's clock. Once a majority (itself included) granted,
//! the node holds until the moment it asked plus `duration_ms`, on its own clock; if a
//! majority refuses or does not answer in time, it answers error 11, holds nothing, and
//! releases the promises made for that round.
//!
//! Why it is safe: the holder's lease ends `duration_ms` after it asked; every granter's
//! promise ends `duration_ms + guard` after it granted, which was later. Two majorities
//! share a node, so a second holder can only start once that node's promise ran out. Clocks
//! that move apart during a lease eat into the guard: it is safe while the granter's clock
//! gains plus the holder's clock loses no more than the guard (with every offset within
//! `±B`, a guard of `4B` covers every case).
//!
//! A one-node cluster grants locally.

use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::outbox::Outbox;
use crate::service::{Answer, Context, Service, Setup, Shared};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::io::Write;
use std::time::{Duration, Instant};

/// The drift guard used unless `--lease-guard-ms` says otherwise: four times eddy's default
/// drift bound of 500 ms.
pub const DEFAULT_GUARD_MS: i64 = 2000;

/// The longest a node waits for grants before it gives up.
const MAX_WAIT: Duration = Duration::from_millis(1000);

/// A promise not to grant the lease to anyone but `holder` until `until` (local ms).
#[derive(Debug, Clone)]
struct Promise {
    holder: String,
    round: u64,
    until: i64,
}

/// An acquisition waiting for grants.
#[derive(Debug)]
struct Pending {
    round: u64,
    client: String,
    msg_id: Value,
    asked_at: i64,
    duration: i64,
    granted: BTreeSet<String>,
    refused: BTreeSet<String>,
    deadline: Instant,
}

/// The lease as this node holds it and promises it, in local-clock milliseconds.
#[derive(Debug)]
pub struct Lease {
    guard_ms: i64,
    local_grant: bool,
    renew_alone: bool,
    stretch_check_ms: i64,
    expires_at: Option<i64>,
    promise: Option<Promise>,
    pending: Option<Pending>,
    next_round: u64,
}

impl Default for Lease {
    fn default() -> Self {
        Lease {
            guard_ms: DEFAULT_GUARD_MS,
            local_grant: false,
            renew_alone: false,
            stretch_check_ms: 0,
            expires_at: None,
            promise: None,
            pending: None,
            next_round: 0,
        }
    }
}

/// Who this node is and who its peers are.
pub struct Cluster<'a> {
    /// This node's id.
    pub me: &'a str,
    /// Every other node.
    pub peers: &'a [String],
}

impl Lease {
    /// Sets the drift guard (ms) that grants add to every promise.
    pub fn set_guard_ms(&mut self, guard_ms: i64) {
        self.guard_ms = guard_ms;
    }

    /// A deliberate defect: grant every acquisition locally, asking nobody.
    pub fn set_local_grant(&mut self, on: bool) {
        self.local_grant = on;
    }

    /// A deliberate defect: a node that holds the lease renews it on its own, asking nobody,
    /// so the promises of the majority that granted it run out while it still holds.
    pub fn set_renew_alone(&mut self, on: bool) {
        self.renew_alone = on;
    }

    /// A deliberate defect: `check_lease` claims `ms` more than the lease holds.
    pub fn set_stretch_check_ms(&mut self, ms: i64) {
        self.stretch_check_ms = ms;
    }

    /// `acquire_lease {duration_ms}`: grants at once on a one-node cluster; otherwise asks
    /// the peers and answers later (`Ok(None)`).
    pub fn acquire<W: Write + ?Sized>(
        &mut self,
        req: &Envelope,
        now_ms: i64,
        cluster: &Cluster,
        out: &mut Outbox<W>,
    ) -> Result<Option<Map<String, Value>>, RpcError> {
        let duration = req.int("duration_ms")?;
        if duration <= 0 {
            return Err(RpcError::malformed("field `duration_ms` must be positive"));
        }
        let expires_at = now_ms
            .checked_add(duration)
            .filter(|e| e.checked_add(self.guard_ms).is_some())
            .ok_or_else(|| RpcError::malformed("field `duration_ms` is too large"))?;
        let holds = self.expires_at.is_some_and(|at| at > now_ms);
        if cluster.peers.is_empty() || self.local_grant || (self.renew_alone && holds) {
            self.expires_at = Some(expires_at);
            return Ok(Some(granted(expires_at)));
        }
        if let Some(other) = self.promised_elsewhere(cluster.me, now_ms) {
            return Err(RpcError::unavailable(format!(
                "the lease is promised to {other}"
            )));
        }
        if self.pending.is_some() {
            return Err(RpcError::unavailable(
                "another acquisition is in progress on this node",
            ));
        }
        let round = self.next_round;
        self.next_round += 1;
        self.promise_to(cluster.me, round, now_ms + duration + self.guard_ms);
        for peer in cluster.peers {
            out.send(
                peer,
                body(
                    "lease_request",
                    [("round", round.into()), ("duration_ms", duration.into())],
                ),
            );
        }
        self.pending = Some(Pending {
            round,
            client: req.src.clone(),
            msg_id: req.msg_id().cloned().unwrap_or(Value::Null),
            asked_at: now_ms,
            duration,
            granted: BTreeSet::new(),
            refused: BTreeSet::new(),
            deadline: Instant::now() + MAX_WAIT.min(Duration::from_millis(duration as u64)),
        });
        Ok(None)
    }

    /// `lease_request {round, duration_ms}` from a peer: grant unless promised elsewhere.
    pub fn request(&mut self, req: &Envelope, now_ms: i64) -> Result<Map<String, Value>, RpcError> {
        let round = req.int("round")?;
        let duration = req.int("duration_ms")?;
        if duration <= 0 || round < 0 {
            return Err(RpcError::malformed(
                "`duration_ms` must be positive and `round` not negative",
            ));
        }
        let mut reply = body("lease_request_ok", [("round", round.into())]);
        if let Some(other) = self.promised_elsewhere(&req.src, now_ms) {
            reply.insert("granted".into(), false.into());
            reply.insert("holder".into(), other.into());
            return Ok(reply);
        }
        let until = now_ms
            .saturating_add(duration)
            .saturating_add(self.guard_ms);
        self.promise_to(&req.src, round as u64, until);
        reply.insert("granted".into(), true.into());
        Ok(reply)
    }

    /// `lease_request_ok` from a peer: counts it, and answers the client once a majority
    /// granted or refused.
    pub fn answer<W: Write + ?Sized>(
        &mut self,
        msg: &Envelope,
        cluster: &Cluster,
        out: &mut Outbox<W>,
    ) {
        let (Some(pending), Ok(round)) = (&mut self.pending, msg.int("round")) else {
            return;
        };
        if pending.round != round as u64 {
            return;
        }
        if msg.body.get("granted") == Some(&Value::Bool(true)) {
            pending.granted.insert(msg.src.clone());
        } else {
            pending.refused.insert(msg.src.clone());
        }
        let size = cluster.peers.len() + 1;
        let majority = size / 2 + 1;
        if pending.granted.len() + 1 >= majority {
            let pending = self.pending.take().expect("pending");
            // A renewal counts from its own asking, as SPEC 3.1 has it; the granters'
            // promises never shrink, so a shorter renewal is safe.
            let expires_at = pending.asked_at + pending.duration;
            self.expires_at = Some(expires_at);
            out.reply_to(&pending.client, &pending.msg_id, granted(expires_at));
        } else if pending.refused.len() > size - majority {
            let why = format!(
                "refused by {} of {size} nodes",
                pending
                    .refused
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.give_up(&why, out);
        }
    }

    /// `lease_release {round}`: forget a promise made for that round (its acquisition failed).
    pub fn release(&mut self, msg: &Envelope) {
        let round = msg.int("round").ok();
        if self
            .promise
            .as_ref()
            .is_some_and(|p| p.holder == msg.src && Some(p.round as i64) == round)
        {
            self.promise = None;
        }
    }

    /// `check_lease`: whether the lease is held now and for how much longer.
    pub fn check(&self, now_ms: i64) -> Map<String, Value> {
        let remaining = self.expires_at.map_or(0, |at| (at - now_ms).max(0));
        let remaining = if remaining > 0 {
            remaining + self.stretch_check_ms
        } else {
            0
        };
        body(
            "check_lease_ok",
            [
                ("valid", (remaining > 0).into()),
                ("remaining_ms", remaining.into()),
            ],
        )
    }

    /// When [`Lease::tick`] is next due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.pending.as_ref().map(|p| p.deadline)
    }

    /// Gives up an acquisition whose grants did not come in time.
    pub fn tick<W: Write + ?Sized>(&mut self, now: Instant, out: &mut Outbox<W>) {
        if self.pending.as_ref().is_some_and(|p| p.deadline <= now) {
            self.give_up("a majority did not answer in time", out);
        }
    }

    fn give_up<W: Write + ?Sized>(&mut self, why: &str, out: &mut Outbox<W>) {
        let Some(pending) = self.pending.take() else {
            return;
        };
        let error = RpcError::unavailable(format!("no lease: {why}"));
        out.reply_to(&pending.client, &pending.msg_id, error.to_body());
        // Promises made for this round protect nothing this node holds; a lease it still
        // holds from an earlier round keeps its own promises.
        if self.expires_at.is_none_or(|at| at <= pending.asked_at) {
            if self
                .promise
                .as_ref()
                .is_some_and(|p| p.round == pending.round)
            {
                self.promise = None;
            }
            for peer in &pending.granted {
                out.send_unnumbered(
                    peer,
                    body("lease_release", [("round", pending.round.into())]),
                );
            }
        }
    }

    fn promised_elsewhere(&self, asker: &str, now_ms: i64) -> Option<String> {
        self.promise
            .as_ref()
            .filter(|p| p.holder != asker && p.until > now_ms)
            .map(|p| p.holder.clone())
    }

    fn promise_to(&mut self, holder: &str, round: u64, until: i64) {
        let until = match &self.promise {
            Some(p) if p.holder == holder => p.until.max(until),
            _ => until,
        };
        self.promise = Some(Promise {
            holder: holder.to_owned(),
            round,
            until,
        });
    }
}

/// The `lease` workload (seed 000): `acquire_lease`, `check_lease`, and the grants between
/// nodes (`lease_request`, its `lease_request_ok`, `lease_release`).
#[derive(Debug, Default)]
pub struct LeaseService {
    lease: Lease,
}

impl Service for LeaseService {
    fn name(&self) -> &'static str {
        "lease"
    }

    fn about(&self) -> &'static str {
        "Time-based leases (seed 000)"
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        matches!(
            kind,
            "acquire_lease" | "check_lease" | "lease_request" | "lease_release"
        )
    }

    fn replies(&self) -> &'static [&'static str] {
        &["lease_request_ok"]
    }

    fn init(&mut self, setup: &Setup, _ctx: &mut Context) {
        let bug = setup.bug("lease");
        self.lease.set_guard_ms(setup.lease_guard_ms);
        self.lease.set_local_grant(bug == Some(Bug::LocalGrant));
        self.lease.set_renew_alone(bug == Some(Bug::RenewAlone));
        self.lease
            .set_stretch_check_ms(if bug == Some(Bug::StretchCheck) {
                1000
            } else {
                0
            });
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        let now = ctx.clock.now_ms();
        match req.kind() {
            "acquire_lease" => {
                let cluster = Cluster {
                    me: ctx.me,
                    peers: ctx.peers,
                };
                self.lease.acquire(req, now, &cluster, ctx.out)
            }
            "lease_release" => {
                self.lease.release(req);
                Ok(None)
            }
            "check_lease" => Ok(Some(self.lease.check(now))),
            _ => self.lease.request(req, now).map(Some),
        }
    }

    fn reply(&mut self, msg: &Envelope, ctx: &mut Context) {
        let cluster = Cluster {
            me: ctx.me,
            peers: ctx.peers,
        };
        self.lease.answer(msg, &cluster, ctx.out);
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.lease.next_deadline()
    }

    fn tick(&mut self, now: Instant, ctx: &mut Context) {
        self.lease.tick(now, ctx.out);
    }
}

fn granted(expires_at: i64) -> Map<String, Value> {
    body("acquire_lease_ok", [("expires_at", expires_at.into())])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: &str) -> Envelope {
        Envelope::parse(json).unwrap()
    }

    fn acquire(duration: i64) -> Envelope {
        request(&format!(
            r#"{{"src":"c1","dest":"n1","body":{{"type":"acquire_lease","msg_id":7,"duration_ms":{duration}}}}}"#
        ))
    }

    fn outbox() -> Outbox<Vec<u8>> {
        let mut out = Outbox::new(Vec::new());
        out.set_node_id("n1");
        out
    }

    fn written(out: &Outbox<Vec<u8>>) -> Vec<Value> {
        String::from_utf8_lossy(out.writer())
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    const PEERS: [&str; 2] = ["n2", "n3"];

    fn with_cluster<T>(f: impl FnOnce(&Cluster) -> T) -> T {
        let peers: Vec<String> = PEERS.map(String::from).to_vec();
        f(&Cluster {
            me: "n1",
            peers: &peers,
        })
    }

    #[test]
    fn a_single_node_grants_renews_and_expires_on_its_clock() {
        let mut lease = Lease::default();
        let mut out = outbox();
        let cluster = Cluster {
            me: "n1",
            peers: &[],
        };
        let ok = lease.acquire(&acquire(5000), 1_000, &cluster, &mut out);
        assert_eq!(ok.unwrap().unwrap()["expires_at"], 6_000);
        assert_eq!(lease.check(2_000)["remaining_ms"], 4_000);
        assert_eq!(lease.check(6_000)["valid"], false);
        lease
            .acquire(&acquire(5000), 5_000, &cluster, &mut out)
            .unwrap();
        assert_eq!(lease.check(6_000)["remaining_ms"], 4_000);
        let zero = lease.acquire(&acquire(0), 0, &cluster, &mut out);
        assert_eq!(zero.unwrap_err().code, 12);
    }

    #[test]
    fn a_majority_of_grants_makes_a_holder_counted_from_when_it_asked() {
        with_cluster(|cluster| {
            let mut lease = Lease::default();
            let mut out = outbox();
            assert_eq!(
                lease.acquire(&acquire(3000), 1_000, cluster, &mut out),
                Ok(None)
            );
            let asked = written(&out);
            assert_eq!(asked.len(), 2);
            assert_eq!(asked[0]["body"]["type"], "lease_request");
            assert_eq!(
                lease.check(1_500)["valid"],
                false,
                "nothing held before grants"
            );
            let grant = request(
                r#"{"src":"n2","dest":"n1","body":{"type":"lease_request_ok","in_reply_to":0,"round":0,"granted":true}}"#,
            );
            lease.answer(&grant, cluster, &mut out);
            let reply = written(&out).pop().unwrap();
            assert_eq!(reply["dest"], "c1");
            assert_eq!(reply["body"]["type"], "acquire_lease_ok");
            assert_eq!(reply["body"]["in_reply_to"], 7);
            assert_eq!(reply["body"]["expires_at"], 4_000);
            assert_eq!(lease.check(3_000)["remaining_ms"], 1_000);
        });
    }

    #[test]
    fn renew_alone_renews_a_held_lease_without_asking_the_peers() {
        with_cluster(|cluster| {
            let mut lease = Lease::default();
            lease.set_renew_alone(true);
            let mut out = outbox();
            assert_eq!(
                lease.acquire(&acquire(1000), 0, cluster, &mut out),
                Ok(None),
                "a first acquisition asks the peers"
            );
            let grant = request(
                r#"{"src":"n2","dest":"n1","body":{"type":"lease_request_ok","in_reply_to":0,"round":0,"granted":true}}"#,
            );
            lease.answer(&grant, cluster, &mut out);
            let sent = written(&out).len();
            let renewed = lease.acquire(&acquire(1000), 900, cluster, &mut out);
            assert_eq!(renewed.unwrap().unwrap()["expires_at"], 1_900);
            assert_eq!(written(&out).len(), sent, "no peer was asked");
            // Once the lease has run out, acquiring asks the peers again.
            assert_eq!(
                lease.acquire(&acquire(1000), 1_900, cluster, &mut out),
                Ok(None)
            );
            assert_eq!(written(&out).len(), sent + 2);
        });
    }

    #[test]
    fn a_granter_refuses_others_until_the_lease_and_its_guard_have_passed() {
        let mut lease = Lease::default();
        lease.set_guard_ms(500);
        let ask = |from: &str| {
            request(&format!(
                r#"{{"src":"{from}","dest":"n1","body":{{"type":"lease_request","msg_id":1,"round":0,"duration_ms":1000}}}}"#
            ))
        };
        assert_eq!(lease.request(&ask("n2"), 10_000).unwrap()["granted"], true);
        let refused = lease.request(&ask("n3"), 11_499).unwrap();
        assert_eq!(refused["granted"], false);
        assert_eq!(refused["holder"], "n2");
        assert_eq!(
            lease.request(&ask("n2"), 11_000).unwrap()["granted"],
            true,
            "renewal"
        );
        assert_eq!(lease.request(&ask("n3"), 12_499).unwrap()["granted"], false);
        assert_eq!(lease.request(&ask("n3"), 12_500).unwrap()["granted"], true);
    }

    #[test]
    fn refusals_or_silence_end_in_error_11_and_release_the_grants() {
        with_cluster(|cluster| {
            let mut lease = Lease::default();
            let mut out = outbox();
            lease.acquire(&acquire(3000), 0, cluster, &mut out).unwrap();
            for from in PEERS {
                let no = request(&format!(
                    r#"{{"src":"{from}","dest":"n1","body":{{"type":"lease_request_ok","in_reply_to":0,"round":0,"granted":false,"holder":"n9"}}}}"#
                ));
                lease.answer(&no, cluster, &mut out);
            }
            let reply = written(&out).pop().unwrap();
            assert_eq!(reply["body"]["code"], 11, "{reply}");
            assert_eq!(lease.check(1)["valid"], false);

            let mut out = outbox();
            lease.acquire(&acquire(3000), 0, cluster, &mut out).unwrap();
            let yes = request(
                r#"{"src":"n2","dest":"n1","body":{"type":"lease_request_ok","in_reply_to":0,"round":0,"granted":true}}"#,
            );
            lease.answer(&yes, cluster, &mut out);
            assert_eq!(
                written(&out).len(),
                2,
                "a grant for an old round counts for nothing"
            );
            lease.tick(Instant::now() + Duration::from_secs(2), &mut out);
            let lines = written(&out);
            assert_eq!(lines[2]["body"]["code"], 11);
            assert!(lines.iter().all(|l| l["body"]["type"] != "lease_release"));
        });
    }
}
