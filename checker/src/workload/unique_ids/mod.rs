//! `unique-ids` (Maelstrom's workload, Gossip Glomers' challenge 2): clients ask random
//! nodes to `generate` an id; every id acknowledged across the cluster must be distinct.
//! Ids may be any JSON value. Maelstrom runs it with `--availability total --nemesis
//! partition`: a correct node asks nobody, so partitions must not stop it.

mod check;

use super::{Context, NoOptions, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty};
use crate::sim::driver::{Driver, Next, Op};
use crate::sim::nemesis::FaultKind;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::time::Duration;

/// The unique-ids workload.
pub struct UniqueIds;

/// unique-ids has no flags of its own.
#[derive(clap::Args, Debug)]
pub struct UniqueIdsFlags {}

/// A `generate_ok` carries an id of any JSON type.
const SCHEMAS: &[Schema] = &[Schema::of("generate_ok", &[("id", Ty::Any)])];

impl Spec for UniqueIds {
    type Flags = UniqueIdsFlags;
    type Options = NoOptions;

    fn name(&self) -> &'static str {
        "unique-ids"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's unique-ids: every id generated across the cluster is distinct"
    }

    /// Maelstrom's run shape for Gossip Glomers' challenge (`--nemesis partition`), nodes
    /// from `n0`, 200 ids a second (Maelstrom's 1000 is a lot for a loaded 2-core machine;
    /// `--rate` sets it).
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            first_node: 0,
            rate: 200.0,
            faults: vec![FaultKind::Partition],
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    /// `ops` generates; the model knows only that each is answered with some id (the
    /// `unique-ids` check, not a case, judges them distinct).
    fn script(&self, _rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        let mut script = Script::new(&["n0", "n1", "n2"], contract);
        for _ in 0..ops {
            script.request(
                "c1",
                json!({"type": "generate"}),
                json!({"type": "generate_ok", "id": {"$type": "any"}}),
            );
        }
        script
    }

    fn options(&self, _flags: UniqueIdsFlags, _context: &Context) -> Result<NoOptions, String> {
        Ok(NoOptions {})
    }

    fn driver(&self, _options: &NoOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(Generates)
    }

    fn checks(
        &self,
        _options: &NoOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        vec![check::unique_ids(record, &self.catalogue())]
    }

    fn reproduce(&self, _options: &NoOptions, _cfg: &SimConfig) -> Vec<String> {
        Vec::new()
    }
}

/// `generate` to random nodes, then one to every node once every fault healed.
struct Generates;

impl Driver for Generates {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        Next::Op(Op::at(
            rng.random_range(0..nodes),
            json!({"type": "generate"}),
        ))
    }

    fn quiet_period(&self) -> Duration {
        Duration::ZERO
    }

    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        Op::to_every_node(nodes, &json!({"type": "generate"}))
    }
}
