//! `g-set` (Maelstrom's workload): a grow-only set. `add {element}` -> `add_ok`; `read` ->
//! `read_ok {value: [elements]}`. Clients add unique integers and read, half and half (as
//! Maelstrom mixes them), at random nodes. After the last add and the healing of every
//! fault eddy measures convergence (every node reads the same set, in any order), then
//! after a quiet period reads every node. Checked as Maelstrom does (Jepsen's `set-full`),
//! more strictly: see [`check`].

mod check;

use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty, When};
use crate::sim::driver::{Driver, Next, Op};
use crate::sim::nemesis::FaultKind::*;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

/// The g-set workload.
pub struct GSet;

/// g-set's flags.
#[derive(clap::Args, Debug)]
pub struct GSetFlags {
    /// g-set's convergence target in ms: the time from the last add and the final healing
    /// until every node reads the same set; slower fails the liveness check. Default 10000
    /// (Maelstrom's CRDT demos gossip every 5 s).
    #[arg(long, default_value_t = 10_000.0)]
    pub g_set_target_ms: f64,
}

/// g-set's options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GSetOptions {
    /// The longest acceptable convergence time, in ms.
    pub convergence_target_ms: f64,
}

/// The set's read: a `read` without `key`, answered with a list.
const SCHEMAS: &[Schema] = &[Schema {
    kind: "read_ok",
    when: When::RequestWithout("key"),
    fields: &[("value", Ty::List)],
}];

impl Spec for GSet {
    type Flags = GSetFlags;
    type Options = GSetOptions;

    fn name(&self) -> &'static str {
        "g-set"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's g-set: a grow-only set; every acknowledged add in every node's final read"
    }

    /// Maelstrom's CRDT tutorial runs it under `--nemesis partition`: partitions of every
    /// shape, nodes from `n0`.
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            first_node: 0,
            faults: vec![Partition, PartitionHalves, PartitionRing, PartitionBridge],
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    /// Adds of unique integers and reads on one node, which must read exactly what was
    /// added, in any order.
    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        let mut script = Script::new(&["n0"], contract);
        let mut added: Vec<Value> = Vec::new();
        for i in 0..ops {
            if rng.random_bool(0.5) {
                added.push(json!(i));
                script.request(
                    "c1",
                    json!({"type": "add", "element": i}),
                    json!({"type": "add_ok"}),
                );
            } else {
                script.request(
                    "c1",
                    json!({"type": "read"}),
                    json!({"type": "read_ok", "value": {"$unordered": added}}),
                );
            }
        }
        script
    }

    fn options(&self, flags: GSetFlags, _context: &Context) -> Result<GSetOptions, String> {
        let target = flags.g_set_target_ms;
        if !(target.is_finite() && target > 0.0) {
            return Err("--g-set-target-ms must be positive".into());
        }
        Ok(GSetOptions {
            convergence_target_ms: target,
        })
    }

    fn driver(&self, options: &GSetOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(Elements {
            next: 0,
            target_ms: options.convergence_target_ms,
        })
    }

    fn checks(
        &self,
        options: &GSetOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        vec![
            check::set_full(record, &self.catalogue()),
            crate::check::convergence::convergence(record, options.convergence_target_ms),
        ]
    }

    fn reproduce(&self, options: &GSetOptions, _cfg: &SimConfig) -> Vec<String> {
        vec![
            "--g-set-target-ms".into(),
            options.convergence_target_ms.to_string(),
        ]
    }
}

/// Adds of 0, 1, 2, ... and reads, half and half, then a read on every node.
struct Elements {
    next: u64,
    target_ms: f64,
}

impl Driver for Elements {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        let node = rng.random_range(0..nodes);
        let body = if rng.random_bool(0.5) {
            self.next += 1;
            json!({"type": "add", "element": self.next - 1})
        } else {
            json!({"type": "read"})
        };
        Next::Op(Op::at(node, body))
    }

    fn quiet_period(&self) -> Duration {
        Duration::from_secs(2)
    }

    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        Op::to_every_node(nodes, &json!({"type": "read"}))
    }

    fn probe(&self) -> Option<Value> {
        Some(json!({"type": "read"}))
    }

    fn probe_timeout(&self) -> Duration {
        crate::sim::probe::timeout_for(self.target_ms)
    }
}
