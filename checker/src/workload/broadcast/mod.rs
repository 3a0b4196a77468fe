//! `broadcast` (Maelstrom's, Gossip Glomers' challenges 3a-3e): every node is told a
//! `topology` first; then clients `broadcast` unique integers to random nodes and `read`
//! the set a node holds; after the faults heal and a recovery wait, every node is read a
//! last time. The checks follow Jepsen's set-full checker, judged per node, and report
//! Maelstrom's figures (messages per operation, stable latencies).

mod check;
mod driver;
mod figures;
mod history;
mod topology;

use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty};
use crate::sim::driver::Driver;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::time::Duration;
use topology::Shape;

/// The broadcast workload.
pub struct Broadcast;

/// broadcast's flags.
#[derive(clap::Args, Debug)]
pub struct BroadcastFlags {
    /// The neighbours eddy suggests to every node in `topology`, as Maelstrom's
    /// `--topology` shapes them from the node ids in order.
    #[arg(long, value_enum, default_value = "grid")]
    pub topology: Shape,
    /// Seconds to wait after the faults heal before the final reads (Maelstrom waits 10).
    #[arg(long, default_value_t = 10.0)]
    pub recovery_s: f64,
}

/// broadcast's options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BroadcastOptions {
    /// The topology's shape.
    pub topology: Shape,
    /// Seconds between the healing and the final reads.
    pub recovery_s: f64,
}

/// A read answers with the list of messages (the checks also read its items, and a reply
/// without a list of integers there is their witness too). Judging a node whose workload
/// is not known, a reply must fit some one workload's schemas, so the counter's
/// `read_ok {value}` and this one do not clash.
const SCHEMAS: &[Schema] = &[
    Schema::of("topology_ok", &[]),
    Schema::of("broadcast_ok", &[]),
    Schema::of("read_ok", &[("messages", Ty::List)]),
];

impl Spec for Broadcast {
    type Flags = BroadcastFlags;
    type Options = BroadcastOptions;

    fn name(&self) -> &'static str {
        "broadcast"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's broadcast: every broadcast message reaches every node's reads (Gossip Glomers 3a-3e)"
    }

    /// The run of challenge 3b (5 nodes from `n0`, 20 s at 10 operations a second), without
    /// faults as Maelstrom runs it unless asked (3c asks `--nemesis partition`), so that the
    /// Gossip Glomers commands run here as they do there.
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            node_count: 5,
            time_limit: 20.0,
            rate: 10.0,
            first_node: 0,
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    /// One node told it has no neighbours, then broadcasts of unique integers and reads
    /// that must return exactly the messages broadcast so far, in any order.
    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        let mut script = Script::new(&["n0"], contract);
        script.request(
            "c1",
            json!({"type": "topology", "topology": {"n0": []}}),
            json!({"type": "topology_ok"}),
        );
        let mut sent: Vec<i64> = Vec::new();
        let mut next = rng.random_range(0..100i64);
        for _ in 0..ops {
            if rng.random_bool(0.5) {
                script.request(
                    "c1",
                    json!({"type": "broadcast", "message": next}),
                    json!({"type": "broadcast_ok"}),
                );
                sent.push(next);
                next += rng.random_range(1..5i64);
            } else {
                script.request(
                    "c1",
                    json!({"type": "read"}),
                    json!({"type": "read_ok", "messages": {"$unordered": sent}}),
                );
            }
        }
        script
    }

    fn options(
        &self,
        flags: BroadcastFlags,
        _context: &Context,
    ) -> Result<BroadcastOptions, String> {
        if !(flags.recovery_s.is_finite() && flags.recovery_s >= 0.0) {
            return Err("--recovery-s must be a number of seconds, 0 or more".into());
        }
        Ok(BroadcastOptions {
            topology: flags.topology,
            recovery_s: flags.recovery_s,
        })
    }

    fn driver(&self, options: &BroadcastOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(driver::Broadcasts::new(
            options.topology,
            Duration::from_secs_f64(options.recovery_s),
        ))
    }

    fn checks(
        &self,
        options: &BroadcastOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        let sets = history::Sets::of(record);
        vec![
            check::safety(&sets),
            check::delivery(&sets, record, options.recovery_s),
            figures::figures(&sets, record),
        ]
    }

    fn reproduce(&self, options: &BroadcastOptions, _cfg: &SimConfig) -> Vec<String> {
        vec![
            "--topology".into(),
            options.topology.name().into(),
            "--recovery-s".into(),
            options.recovery_s.to_string(),
        ]
    }
}
