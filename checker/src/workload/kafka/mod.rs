//! `kafka` (Maelstrom's kafka workload, Gossip Glomers' challenges 5a-5c): append-only
//! logs named by string keys. `send {key, msg}` appends and answers `send_ok {offset}`;
//! `poll {offsets}` answers `poll_ok {msgs}` with `[offset, msg]` pairs from each asked
//! offset on; `commit_offsets {offsets}` answers `commit_offsets_ok`;
//! `list_committed_offsets {keys}` answers `list_committed_offsets_ok {offsets}`. The
//! checks follow Jepsen's kafka checker: lost and unseen writes, duplicate offsets,
//! reordering, poll skips, and committed offsets listed ahead of every commit.

mod commits;
mod driver;
mod generate;
mod log;
mod lost;
mod offsets;
mod skips;
#[cfg(test)]
mod tests;

use super::{Context, Spec};
use crate::cases::generate::Script;
use crate::check::{CheckResult, Record};
use crate::contract::Contract;
use crate::schema::{Schema, Ty};
use crate::sim::driver::Driver;
use crate::sim::{RunDefaults, SimConfig, WorkloadOptions};
use rand_chacha::ChaCha8Rng;

/// The kafka workload.
pub struct Kafka;

/// kafka's flags.
#[derive(clap::Args, Debug)]
pub struct KafkaFlags {
    /// Keys (logs) the clients send to and poll, named "0", "1", ... as Maelstrom names them
    /// (also Maelstrom's `--key-count`).
    #[arg(long, alias = "key-count", default_value_t = 5)]
    pub kafka_keys: usize,
}

/// kafka's options.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KafkaOptions {
    /// Keys the clients use.
    pub keys: usize,
}

/// The replies to clients. `msgs` and `offsets` are objects the checks read field by
/// field (a record they cannot read is a witness of theirs).
const SCHEMAS: &[Schema] = &[
    Schema::of("send_ok", &[("offset", Ty::Count)]),
    Schema::of("poll_ok", &[("msgs", Ty::Any)]),
    Schema::of("commit_offsets_ok", &[]),
    Schema::of("list_committed_offsets_ok", &[("offsets", Ty::Any)]),
];

impl Spec for Kafka {
    type Flags = KafkaFlags;
    type Options = KafkaOptions;

    fn name(&self) -> &'static str {
        "kafka"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's kafka: append-only logs with offsets, polls and committed offsets"
    }

    /// Maelstrom's run shape (nodes from `n0`) at 100 operations a second, no faults (the
    /// Gossip Glomers runs of 5a-5c inject none; `--nemesis partition` asks for them).
    fn defaults(&self, _contract: Contract) -> RunDefaults {
        RunDefaults {
            first_node: 0,
            rate: 100.0,
            faults: Vec::new(),
            ..RunDefaults::default()
        }
    }

    fn schemas(&self) -> &'static [&'static [Schema]] {
        &[SCHEMAS]
    }

    fn script(&self, rng: &mut ChaCha8Rng, ops: usize, contract: Contract) -> Script {
        generate::script(rng, ops, contract)
    }

    fn options(&self, flags: KafkaFlags, _context: &Context) -> Result<KafkaOptions, String> {
        if flags.kafka_keys == 0 {
            return Err("--kafka-keys must be at least 1".into());
        }
        Ok(KafkaOptions {
            keys: flags.kafka_keys,
        })
    }

    fn driver(&self, options: &KafkaOptions, _run: &WorkloadOptions) -> Box<dyn Driver> {
        Box::new(driver::Consumers::new(options.keys))
    }

    fn checks(
        &self,
        _options: &KafkaOptions,
        _run: &WorkloadOptions,
        record: &Record,
    ) -> Vec<CheckResult> {
        let log = log::KafkaLog::read(&record.history);
        let unreadable = log.unreadable.clone();
        vec![
            lost::lost_writes(&log).and_unjudged(unreadable),
            offsets::duplicate_offsets(&log),
            offsets::reordering(&log),
            skips::poll_skips(&log),
            commits::committed_offsets(&log),
        ]
    }

    fn reproduce(&self, options: &KafkaOptions, _cfg: &SimConfig) -> Vec<String> {
        vec!["--kafka-keys".into(), options.keys.to_string()]
    }
}
