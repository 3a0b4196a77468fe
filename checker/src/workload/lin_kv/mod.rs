//! `lin-kv` (Maelstrom's workload of that name): a linearizable key/value register.
//! Clients send `read {key}`, `write {key, value}` and `cas {key, from, to}` to random
//! nodes, exactly as `raft`'s clients do (written values are unique); the check is that the
//! history is linearizable. Unlike `raft`, nothing is asked of the node-to-node traffic: a
//! node may replicate any way it likes, or keep the register in Maelstrom's `lin-kv`
//! service.

use super::raft::{linearizable, register_script, RaftKv, REGISTER_READ_OK};
use super::{Context, NoOptions, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::Schema;
use crate::sim::driver::Driver;
use crate::sim::nemesis::FaultKind::*;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;

/// The lin-kv workload.
pub struct LinKv;

/// lin-kv has no flags of its own.
#[derive(clap::Args, Debug)]
pub struct LinKvFlags {}

/// A read answers with the value.
const SCHEMAS: &[Schema] = &[REGISTER_READ_OK];

/// How long a leader may take to appear after the last fault heals, in ms: Maelstrom's Raft
/// tutorial elects in 2-4 s.
const FAILOVER_MS: f64 = 4000.0;

impl Spec for LinKv {
    type Flags = LinKvFlags;
    type Options = NoOptions;

    fn name(&self) -> &'static str {
        "lin-kv"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's linearizable key/value store: read, write, cas on a few keys"
    }

    /// Nodes from `n0` as Maelstrom numbers them; partitions of every shape, as for `raft`
    /// under Maelstrom's contract (a linearizable store must stay linearizable when split,
    /// and may refuse or time out the minority side's operations).
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            faults: vec![
                Partition,
                PartitionHalves,
                PartitionRing,
                PartitionBridge,
                PartitionLeader,
            ],
            first_node: 0,
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        register_script(rng, ops, false, contract)
    }

    fn options(&self, _flags: LinKvFlags, _context: &Context) -> Result<NoOptions, String> {
        Ok(NoOptions {})
    }

    fn driver(&self, _options: &NoOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(RaftKv::new(FAILOVER_MS))
    }

    fn checks(
        &self,
        _options: &NoOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        vec![linearizable(record)]
    }

    fn reproduce(&self, _options: &NoOptions, _cfg: &SimConfig) -> Vec<String> {
        Vec::new()
    }
}
