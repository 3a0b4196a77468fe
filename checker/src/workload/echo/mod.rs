//! `echo` (Maelstrom's first workload, and Gossip Glomers' first challenge): clients send
//! `echo` requests carrying a payload to random nodes; each must come back as `echo_ok`
//! with the same payload. No faults by default, as in Maelstrom.

mod check;

use super::{Context, NoOptions, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty};
use crate::sim::driver::{Driver, Next, Op};
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use std::time::Duration;

/// The echo workload.
pub struct Echo;

/// echo has no flags of its own.
#[derive(clap::Args, Debug)]
pub struct EchoFlags {}

/// An echo reply carries the payload back.
const SCHEMAS: &[Schema] = &[Schema::of("echo_ok", &[("echo", Ty::Any)])];

impl Spec for Echo {
    type Flags = EchoFlags;
    type Options = NoOptions;

    fn name(&self) -> &'static str {
        "echo"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's echo: every request answered with its own payload"
    }

    /// Maelstrom's run shape, nodes numbered from `n0` as Maelstrom numbers them.
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            first_node: 0,
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    /// `ops` echoes of varied payloads (strings as Maelstrom sends them, and other JSON
    /// values a node must carry back untouched).
    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        let mut script = Script::new(&["n1"], contract);
        for _ in 0..ops {
            let echo = payload(rng);
            script.request(
                "c1",
                json!({"type": "echo", "echo": echo}),
                json!({"type": "echo_ok", "echo": echo}),
            );
        }
        script
    }

    fn options(&self, _flags: EchoFlags, _context: &Context) -> Result<NoOptions, String> {
        Ok(NoOptions {})
    }

    fn driver(&self, _options: &NoOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(Echoes)
    }

    fn checks(
        &self,
        _options: &NoOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        vec![check::echoes(record)]
    }

    fn reproduce(&self, _options: &NoOptions, _cfg: &SimConfig) -> Vec<String> {
        Vec::new()
    }
}

/// A payload: mostly Maelstrom's `Please echo N`, sometimes another JSON value.
fn payload(rng: &mut ChaCha8Rng) -> Value {
    match rng.random_range(0..10) {
        0 => json!(rng.random_range(-1000..1000)),
        1 => json!({"nested": [rng.random_range(0..100), "x"]}),
        _ => json!(format!("Please echo {}", rng.random_range(0..128))),
    }
}

/// Echo requests to random nodes, then one to every node.
struct Echoes;

impl Driver for Echoes {
    fn next_op(&mut self, rng: &mut ChaCha8Rng, nodes: usize) -> Next {
        let node = rng.random_range(0..nodes);
        Next::Op(Op::at(node, json!({"type": "echo", "echo": payload(rng)})))
    }

    fn quiet_period(&self) -> Duration {
        Duration::ZERO
    }

    fn final_ops(&self, nodes: usize) -> Vec<Op> {
        (0..nodes)
            .map(|node| {
                Op::at(
                    node,
                    json!({"type": "echo", "echo": format!("final {node}")}),
                )
            })
            .collect()
    }
}
