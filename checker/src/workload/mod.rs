//! Workloads, and their registry. Each workload is one folder behind [`Spec`] (its name,
//! client message schemas, options, case generator and model, simulation driver, checks,
//! pictures, and the arguments that reproduce a run), declared and listed here once, in
//! [`ALL`]. Nothing outside a folder and this file names a workload: everything else
//! handles a [`Workload`]. Adding a workload is a folder beside this file, a `mod` line and
//! an entry in [`ALL`].

mod broadcast;
mod echo;
mod g_counter;
mod g_set;
mod heartbeat;
mod kafka;
mod lease;
mod lease_read;
mod lin_kv;
mod pn_counter;
mod raft;
mod unique_ids;

pub mod generated;
mod handle;
mod spec;

pub use handle::{Workload, WorkloadFlags};
pub use spec::{run_checks, Context, NoOptions, Spec};

use crate::cases::Rules;
use crate::contract::Contract;
use crate::schema::Catalogue;
use handle::Erased;

/// Every workload: the seeds' five in seed order, then Maelstrom's.
pub static ALL: &[&dyn Erased] = &[
    &lease::Lease,
    &lease_read::LeaseRead,
    &raft::Raft,
    &heartbeat::Heartbeat,
    &pn_counter::PnCounter,
    &echo::Echo,
    &lin_kv::LinKv,
    &kafka::Kafka,
    &unique_ids::UniqueIds,
    &g_set::GSet,
    &g_counter::GCounter,
    &broadcast::Broadcast,
];

/// The schemas of every workload's messages, for judging a node whose workload is not
/// known (a case): a body must fit the schemas of its type of some one workload (a g-set's
/// `read_ok` lists its elements where a counter's carries an integer).
pub fn catalogue() -> Catalogue {
    Catalogue::any_of(ALL.iter().map(|w| w.schemas()))
}

/// How `eddy cases` judges cases under `contract`: against every workload's schemas.
pub fn rules(contract: Contract) -> Rules {
    Rules {
        contract,
        schemas: catalogue(),
    }
}

/// The long `--help` of a run-shape flag of `eddy test`: `what`, then the default most
/// workloads share and every workload's own (`value` reads it from a workload's
/// [`RunDefaults`](crate::sim::RunDefaults)), under each contract where they differ. Read
/// from the registry, so it stays true as workloads come and go.
pub fn default_help(what: &str, value: impl Fn(&crate::sim::RunDefaults) -> f64) -> String {
    let base = value(&crate::sim::RunDefaults::default());
    let own: Vec<String> = Workload::all()
        .filter_map(|w| {
            let maelstrom = value(&w.defaults(Contract::Maelstrom));
            let seed = value(&w.defaults(Contract::Seed));
            match (maelstrom == base && seed == base, maelstrom == seed) {
                (true, _) => None,
                (false, true) => Some(format!("{w} {maelstrom}")),
                (false, false) => Some(format!("{w} {maelstrom} ({seed} under --contract seed)")),
            }
        })
        .collect();
    if own.is_empty() {
        format!("{what}. Default: {base}.")
    } else {
        format!("{what}. Default: {base}; each workload's own where it differs (chosen to provoke its classic bugs, see docs/workloads.md): {}.", own.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_catch_missing_and_mistyped_fields() {
        let schemas = catalogue();
        let check = |body: serde_json::Value, request: Option<serde_json::Value>| {
            schemas.check_body(&body, request.as_ref())
        };
        assert!(check(
            json!({"type": "check_lease_ok", "valid": true, "remaining_ms": 5}),
            None
        )
        .is_ok());
        let err = check(
            json!({"type": "check_lease_ok", "valid": "yes", "remaining_ms": 5}),
            None,
        )
        .unwrap_err();
        assert_eq!(
            err,
            "`check_lease_ok` field `valid` must be a boolean, got \"yes\""
        );
        assert!(check(
            json!({"type": "read_ok", "value": "x"}),
            Some(json!({"type": "read"}))
        )
        .is_err());
        assert!(check(
            json!({"type": "read_ok", "value": "x"}),
            Some(json!({"type": "read", "key": 1}))
        )
        .is_ok());
        let bad_server = json!({"type": "server_status_ok", "servers": [{"server": "a", "status": "gone", "chunks": 0, "last_heartbeat_ms_ago": 1}]});
        assert!(check(bad_server, None).is_err());
        assert!(check(json!({"type": "unknown_thing"}), None).is_ok());
        assert!(check(json!({"type": "error"}), None).is_err());
    }

    #[test]
    fn maelstrom_workloads_get_only_partitions_under_maelstrom_contract() {
        use crate::sim::nemesis::FaultKind;
        let named = |name| crate::workload::Workload::named(name).unwrap();
        for workload in [named("raft"), named("pn-counter")] {
            let faults = workload.defaults(Contract::Maelstrom).faults;
            assert!(!faults.is_empty());
            assert!(
                faults.iter().all(|k| k.name().starts_with("partition")),
                "{workload}: {faults:?}"
            );
            let seed = workload.defaults(Contract::Seed).faults;
            assert!(
                seed.contains(&FaultKind::KillMajority),
                "{workload}: {seed:?}"
            );
        }
        for workload in [named("lease"), named("lease-read")] {
            assert_eq!(
                workload.defaults(Contract::Maelstrom),
                workload.defaults(Contract::Seed),
                "{workload} is seed-only: one mix"
            );
            assert!(workload
                .defaults(Contract::Seed)
                .faults
                .contains(&FaultKind::DriftLeader));
        }
        assert!(named("heartbeat")
            .defaults(Contract::Seed)
            .faults
            .is_empty());
    }

    #[test]
    fn the_reference_node_serves_every_workload_by_the_same_name() {
        let checker: Vec<&str> = ALL.iter().map(|w| w.name()).collect();
        assert_eq!(eddy_node::services::names(), checker);
    }

    #[test]
    fn run_shape_help_names_each_workload_whose_default_differs() {
        let nodes = default_help("Nodes", |d| d.node_count as f64);
        assert!(nodes.starts_with("Nodes. Default: 3;"), "{nodes}");
        assert!(
            nodes.contains("heartbeat 6") && !nodes.contains("echo"),
            "{nodes}"
        );
        let latency = default_help("Latency", |d| d.latency_ms);
        assert!(
            latency.contains("raft 0 (10 under --contract seed)"),
            "{latency}"
        );
    }

    #[test]
    fn names_are_unique_and_flags_do_not_clash() {
        let names: std::collections::BTreeSet<&str> = ALL.iter().map(|w| w.name()).collect();
        assert_eq!(names.len(), ALL.len());
        // clap checks, in debug builds, that no two arguments share a name.
        let command = ALL
            .iter()
            .fold(clap::Command::new("eddy"), |c, w| w.augment(c));
        command.debug_assert();
    }
}
