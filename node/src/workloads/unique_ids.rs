//! Maelstrom's `unique-ids` (Gossip Glomers' challenge 2): `generate` is answered with
//! `generate_ok {id}`, an id no other `generate` of the cluster ever gets. Totally
//! available: a node asks nobody, so partitions never stop it.
//!
//! An id is `"<node>-<incarnation>-<counter>"`: the node id keeps nodes apart, the counter
//! keeps one process's ids apart, and the incarnation keeps a restarted node from handing
//! out its old ids again (it counts starts in `NODE_DATA_DIR`, synced before the first id;
//! without a data folder it is the wall-clock millisecond the node started at).

use crate::bug::Bug;
use crate::message::{body, Envelope};
use crate::service::{Answer, Context, Service, Setup, Shared};
use serde_json::{json, Value};

/// Where the node counts its starts in `NODE_DATA_DIR`.
const STARTS_FILE: &str = "unique-ids.json";

/// The id generator of one node.
#[derive(Debug, Default)]
pub struct UniqueIdsService {
    /// This process's incarnation (see the module's documentation).
    incarnation: u64,
    /// Ids handed out by this process.
    counter: u64,
    /// `--bug no-node-id`: ids are the bare counter, so every node hands out 0, 1, 2, ...
    bare: bool,
}

impl UniqueIdsService {
    /// The next id.
    fn next_id(&mut self, me: &str) -> Value {
        let n = self.counter;
        self.counter += 1;
        if self.bare {
            json!(n)
        } else {
            json!(format!("{me}-{}-{n}", self.incarnation))
        }
    }
}

/// The incarnation of a node starting now: one more than the last one saved in `ctx.data`
/// (saved again before this returns), or the wall-clock millisecond without a data folder
/// (or when it cannot be saved).
fn incarnation(ctx: &Context) -> u64 {
    let wall_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64)
    };
    let Some(data) = ctx.data else {
        return wall_ms();
    };
    let next = data
        .load(STARTS_FILE)
        .and_then(|saved| saved["starts"].as_u64())
        .map_or(0, |starts| starts + 1);
    match data.save(STARTS_FILE, &json!({ "starts": next })) {
        Ok(()) => next,
        Err(_) => wall_ms(),
    }
}

impl Service for UniqueIdsService {
    fn name(&self) -> &'static str {
        "unique-ids"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's unique-ids: globally unique ids, totally available"
    }

    fn serves(&self, kind: &str, _shared: &Shared) -> bool {
        kind == "generate"
    }

    /// Maelstrom's workload: served only by a node pinned to it.
    fn in_auto(&self) -> bool {
        false
    }

    fn init(&mut self, setup: &Setup, ctx: &mut Context) {
        self.bare = setup.bug("unique-ids") == Some(Bug::NoNodeId);
        self.incarnation = incarnation(ctx);
        self.counter = 0;
    }

    fn handle(&mut self, _req: &Envelope, ctx: &mut Context) -> Answer {
        let id = self.next_id(ctx.me);
        Ok(Some(body("generate_ok", [("id", id)])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_differ_across_nodes_and_restarts_unless_the_node_id_is_left_out() {
        let mut a = UniqueIdsService::default();
        let mut b = UniqueIdsService {
            incarnation: 1,
            ..UniqueIdsService::default()
        };
        let ids: Vec<Value> = (0..3)
            .flat_map(|_| [a.next_id("n0"), a.next_id("n1"), b.next_id("n0")])
            .collect();
        let unique: std::collections::BTreeSet<String> = ids.iter().map(Value::to_string).collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        let mut bare = UniqueIdsService {
            bare: true,
            ..UniqueIdsService::default()
        };
        let mut other = UniqueIdsService {
            bare: true,
            ..UniqueIdsService::default()
        };
        assert_eq!(bare.next_id("n0"), other.next_id("n1"));
    }
}
