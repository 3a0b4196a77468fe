//! `heartbeat` (seed 003): a GFS master that learns chunk locations from heartbeats,
//! declares silent servers dead and orders re-replication and deletion (SPEC 3.4).
//!
//! Liveness is judged lazily on the node's local clock, so no timer is needed: a server is
//! dead once [`DEAD_AFTER_MS`] have passed since its last heartbeat, and alive again as soon
//! as it heartbeats. Orders are remembered while pending so that one death does not send
//! every live server after the same chunk, and so that deletions never take a chunk below
//! its target.

use crate::bug::Bug;
use crate::message::{body, Envelope, RpcError};
use crate::service::{Answer, Context, Service, Setup, Shared};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Silence after which a server is dead: three missed 5 s heartbeats.
pub const DEAD_AFTER_MS: i64 = 15_000;
/// How many live replicas every chunk should have.
pub const REPLICATION_TARGET: usize = 3;
/// How long an order stays pending before the master may give it again (three heartbeats).
pub const ORDER_TTL_MS: i64 = 15_000;

#[derive(Debug)]
struct ServerRecord {
    last_heartbeat_ms: i64,
    /// Declared dead for good (only under the `never_revive` defect).
    buried: bool,
    chunks: BTreeSet<String>,
    disk_usage_pct: f64,
}

/// A replication or deletion order still awaiting its effect.
#[derive(Debug, Clone, PartialEq)]
struct Order {
    chunk: String,
    server: String,
    issued_ms: i64,
}

/// Deliberate defects of a master, for proving that eddy's checks catch them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MasterBugs {
    /// Never declare a server dead.
    pub never_dead: bool,
    /// Declare a server dead after one missed heartbeat (6 s) instead of three (15 s).
    pub hasty_death: bool,
    /// Order deletion of a replica even when that leaves the chunk at its target minus one.
    pub delete_needed: bool,
    /// Keep counting a dead server's chunks (in the replica counts and in `server_status`).
    pub count_dead_chunks: bool,
    /// Keep a server that was dead when it heartbeated again dead for good: its chunks stop
    /// counting, it is reported dead with `chunks: 0`, and it is given no orders.
    pub never_revive: bool,
}

impl MasterBugs {
    /// Silence after which a server is dead, if ever.
    fn dead_after(self) -> Option<i64> {
        match (self.never_dead, self.hasty_death) {
            (true, _) => None,
            (false, true) => Some(6_000),
            (false, false) => Some(DEAD_AFTER_MS),
        }
    }
}

/// The master's state: what each server last reported, and the orders in flight.
#[derive(Debug, Default)]
pub struct Master {
    bugs: MasterBugs,
    servers: BTreeMap<String, ServerRecord>,
    replications: Vec<Order>,
    deletions: Vec<Order>,
}

impl Master {
    /// `heartbeat {server, chunks, disk_usage_pct}`: records the report and answers with
    /// the chunks this server should copy in and the ones it may drop.
    pub fn heartbeat(
        &mut self,
        req: &Envelope,
        now_ms: i64,
    ) -> Result<Map<String, Value>, RpcError> {
        let server = req.string("server")?.to_owned();
        if server.is_empty() {
            return Err(RpcError::malformed("field `server` must not be empty"));
        }
        let chunks: BTreeSet<String> = req.string_list("chunks")?.into_iter().collect();
        let disk_usage_pct = req
            .field("disk_usage_pct")?
            .as_f64()
            .filter(|pct| (0.0..=100.0).contains(pct))
            .ok_or_else(|| {
                RpcError::malformed("field `disk_usage_pct` must be a number from 0 to 100")
            })?;
        let buried = self.bugs.never_revive
            && self
                .servers
                .get(&server)
                .is_some_and(|record| !is_alive(record, now_ms, self.bugs));
        self.servers.insert(
            server.clone(),
            ServerRecord {
                last_heartbeat_ms: now_ms,
                buried,
                chunks,
                disk_usage_pct,
            },
        );
        self.forget_settled_orders(now_ms);
        // A server the master holds dead (only ever under `never_revive`) gets no orders.
        let (to_replicate, to_delete) = if buried {
            (Vec::new(), Vec::new())
        } else {
            (
                self.order_replications(&server, now_ms),
                self.order_deletions(&server, now_ms),
            )
        };
        Ok(body(
            "heartbeat_ok",
            [
                ("status", "alive".into()),
                ("chunks_to_delete", json!(to_delete)),
                ("chunks_to_replicate", json!(to_replicate)),
            ],
        ))
    }

    /// `server_status`: every server that has ever heartbeated, by name.
    pub fn status(&self, now_ms: i64) -> Map<String, Value> {
        let servers: Vec<Value> = self
            .servers
            .iter()
            .map(|(name, record)| {
                let alive = is_alive(record, now_ms, self.bugs);
                json!({
                    "server": name,
                    "status": if alive { "alive" } else { "dead" },
                    "chunks": if alive || self.bugs.count_dead_chunks { record.chunks.len() } else { 0 },
                    "last_heartbeat_ms_ago": (now_ms - record.last_heartbeat_ms).max(0),
                    "disk_usage_pct": record.disk_usage_pct,
                })
            })
            .collect();
        body("server_status_ok", [("servers", servers.into())])
    }

    fn live_servers(&self, now_ms: i64) -> impl Iterator<Item = (&String, &ServerRecord)> {
        let bugs = self.bugs;
        self.servers
            .iter()
            .filter(move |(_, record)| is_alive(record, now_ms, bugs))
    }

    /// Turns deliberate defects on.
    pub fn set_bugs(&mut self, bugs: MasterBugs) {
        self.bugs = bugs;
    }

    /// Live holders of every chunk that some live server holds.
    fn live_holders(&self, now_ms: i64) -> BTreeMap<&str, usize> {
        let mut holders = BTreeMap::new();
        let counted: Vec<&ServerRecord> = if self.bugs.count_dead_chunks {
            self.servers.values().collect()
        } else {
            self.live_servers(now_ms).map(|(_, r)| r).collect()
        };
        for record in counted {
            for chunk in &record.chunks {
                *holders.entry(chunk.as_str()).or_insert(0) += 1;
            }
        }
        holders
    }

    fn target(&self, now_ms: i64) -> usize {
        REPLICATION_TARGET.min(self.live_servers(now_ms).count())
    }

    /// Drops orders that took effect, expired, or went to a server that died.
    fn forget_settled_orders(&mut self, now_ms: i64) {
        let servers = &self.servers;
        let bugs = self.bugs;
        let pending = |order: &Order, done: fn(bool) -> bool| {
            servers.get(&order.server).is_some_and(|record| {
                is_alive(record, now_ms, bugs)
                    && now_ms - order.issued_ms < ORDER_TTL_MS
                    && !done(record.chunks.contains(&order.chunk))
            })
        };
        self.replications
            .retain(|order| pending(order, |holds| holds));
        self.deletions
            .retain(|order| pending(order, |holds| !holds));
    }

    fn order_replications(&mut self, server: &str, now_ms: i64) -> Vec<String> {
        let target = self.target(now_ms);
        let holds = &self.servers[server].chunks;
        let mut orders = Vec::new();
        for (chunk, holders) in self.live_holders(now_ms) {
            let pending = self
                .replications
                .iter()
                .filter(|o| o.chunk == chunk)
                .count();
            let already = self
                .replications
                .iter()
                .any(|o| o.chunk == chunk && o.server == server);
            if !holds.contains(chunk) && !already && holders + pending < target {
                orders.push(chunk.to_owned());
            }
        }
        remember(&mut self.replications, &orders, server, now_ms);
        orders
    }

    fn order_deletions(&mut self, server: &str, now_ms: i64) -> Vec<String> {
        let target = self.target(now_ms);
        let holders = self.live_holders(now_ms);
        let mut orders = Vec::new();
        for chunk in &self.servers[server].chunks {
            let pending = self.deletions.iter().filter(|o| &o.chunk == chunk).count();
            let already = self
                .deletions
                .iter()
                .any(|o| &o.chunk == chunk && o.server == server);
            let spare = if self.bugs.delete_needed {
                target + pending
            } else {
                target + pending + 1
            };
            if !already && holders[chunk.as_str()] >= spare {
                orders.push(chunk.clone());
            }
        }
        remember(&mut self.deletions, &orders, server, now_ms);
        orders
    }
}

/// Records the orders just given to `server` as pending.
fn remember(pending: &mut Vec<Order>, chunks: &[String], server: &str, now_ms: i64) {
    pending.extend(chunks.iter().map(|chunk| Order {
        chunk: chunk.clone(),
        server: server.to_owned(),
        issued_ms: now_ms,
    }));
}

fn is_alive(record: &ServerRecord, now_ms: i64, bugs: MasterBugs) -> bool {
    !record.buried
        && bugs
            .dead_after()
            .is_none_or(|after| now_ms - record.last_heartbeat_ms < after)
}

/// The `heartbeat` workload (seed 003): a GFS master answering `heartbeat` and
/// `server_status`, on the node's (drifted) clock.
#[derive(Debug, Default)]
pub struct HeartbeatService {
    master: Master,
}

impl Service for HeartbeatService {
    fn name(&self) -> &'static str {
        "heartbeat"
    }

    fn about(&self) -> &'static str {
        "GFS master failure detection (seed 003)"
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        matches!(kind, "heartbeat" | "server_status")
    }

    fn init(&mut self, setup: &Setup, _ctx: &mut Context) {
        let bug = setup.bug("heartbeat");
        self.master.set_bugs(MasterBugs {
            never_dead: bug == Some(Bug::NeverDead),
            hasty_death: bug == Some(Bug::HastyDeath),
            delete_needed: bug == Some(Bug::DeleteNeeded),
            count_dead_chunks: bug == Some(Bug::CountDeadChunks),
            never_revive: bug == Some(Bug::NeverRevive),
        });
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        let now = ctx.clock.now_ms();
        match req.kind() {
            "heartbeat" => self.master.heartbeat(req, now).map(Some),
            _ => Ok(Some(self.master.status(now))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(master: &mut Master, server: &str, chunks: &[&str], now: i64) -> Map<String, Value> {
        let line = json!({"src": server, "dest": "n1", "body": {"type": "heartbeat", "msg_id": 1,
            "server": server, "chunks": chunks, "disk_usage_pct": 10}});
        master
            .heartbeat(&Envelope::parse(&line.to_string()).unwrap(), now)
            .unwrap()
    }

    fn statuses(master: &Master, now: i64) -> Vec<(String, String, u64)> {
        master.status(now)["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["server"].as_str().unwrap().into(),
                    s["status"].as_str().unwrap().into(),
                    s["chunks"].as_u64().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn dies_after_fifteen_seconds_and_recovers() {
        let mut m = Master::default();
        beat(&mut m, "a", &["c1"], 0);
        assert_eq!(statuses(&m, 14_999)[0].1, "alive");
        assert_eq!(statuses(&m, 15_000)[0], ("a".into(), "dead".into(), 0));
        beat(&mut m, "a", &["c1"], 20_000);
        assert_eq!(statuses(&m, 20_001)[0], ("a".into(), "alive".into(), 1));
    }

    #[test]
    fn never_revive_keeps_a_returning_server_dead() {
        let mut m = Master::default();
        m.set_bugs(MasterBugs {
            never_revive: true,
            ..MasterBugs::default()
        });
        beat(&mut m, "a", &["c1"], 0);
        beat(&mut m, "b", &["c1"], 0);
        // A heartbeat inside the deadline keeps a server alive, as in the reference.
        beat(&mut m, "b", &["c1"], 10_000);
        beat(&mut m, "a", &["c1"], 20_000);
        beat(&mut m, "b", &["c1"], 20_000);
        assert_eq!(
            statuses(&m, 20_001),
            vec![
                ("a".into(), "dead".into(), 0),
                ("b".into(), "alive".into(), 1)
            ],
            "a was dead when it came back, and stays so"
        );
        // Even with a chunk no live server holds, it gets no orders (and no panic).
        let answer = beat(&mut m, "a", &["c1", "c9"], 25_000);
        assert_eq!(
            (&answer["chunks_to_replicate"], &answer["chunks_to_delete"]),
            (&json!([]), &json!([]))
        );
        assert_eq!(statuses(&m, 25_001)[0].1, "dead");
        assert_eq!(
            m.status(25_001)["servers"][0]["last_heartbeat_ms_ago"],
            1,
            "its heartbeats are still recorded"
        );
    }

    #[test]
    fn re_replicates_once_per_missing_replica_and_never_to_a_holder() {
        let mut m = Master::default();
        for s in ["a", "b", "c", "d", "e"] {
            let chunks: &[&str] = if s == "d" || s == "e" { &[] } else { &["x"] };
            assert_eq!(beat(&mut m, s, chunks, 0)["chunks_to_replicate"], json!([]));
        }
        // a dies; b and c keep x alive at 2 replicas, so exactly one of d/e is told to copy it.
        for s in ["b", "c"] {
            assert_eq!(
                beat(&mut m, s, &["x"], 16_000)["chunks_to_replicate"],
                json!([])
            );
        }
        assert_eq!(
            beat(&mut m, "d", &[], 16_000)["chunks_to_replicate"],
            json!(["x"])
        );
        assert_eq!(
            beat(&mut m, "e", &[], 16_000)["chunks_to_replicate"],
            json!([])
        );
        // Once d holds it, the order is settled; a returning a makes four replicas: one goes.
        assert_eq!(
            beat(&mut m, "d", &["x"], 20_000)["chunks_to_delete"],
            json!([])
        );
        assert_eq!(
            beat(&mut m, "a", &["x"], 21_000)["chunks_to_delete"],
            json!(["x"])
        );
        assert_eq!(
            beat(&mut m, "b", &["x"], 21_000)["chunks_to_delete"],
            json!([])
        );
    }

    #[test]
    fn bad_heartbeats_change_nothing() {
        let mut m = Master::default();
        for bad in [
            json!({"type": "heartbeat", "msg_id": 1, "chunks": [], "disk_usage_pct": 1}),
            json!({"type": "heartbeat", "msg_id": 1, "server": "a", "chunks": [1], "disk_usage_pct": 1}),
            json!({"type": "heartbeat", "msg_id": 1, "server": "a", "chunks": [], "disk_usage_pct": 101}),
        ] {
            let line = json!({"src": "a", "dest": "n1", "body": bad}).to_string();
            assert_eq!(
                m.heartbeat(&Envelope::parse(&line).unwrap(), 0)
                    .unwrap_err()
                    .code,
                12
            );
        }
        assert!(statuses(&m, 0).is_empty());
    }
}
