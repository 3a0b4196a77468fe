//! The registry: every workload the reference node serves, the values `--workload` accepts,
//! and which service owns a message.
//!
//! Requests. A node pinned to one workload runs that one service, and a request is that
//! service's when the service serves its type ([`Service::serves`]); anything else gets
//! error 10. An `auto` node (the default) runs every service that takes part in `auto`
//! ([`Service::in_auto`]: the seed workloads and echo, not Maelstrom's workloads that give
//! `read` and `add` meanings of their own) at once, and a request goes to the first of them
//! in [`SERVICES`] order that serves its type. Only two kinds of type are
//! served by more than one service (a test keeps it so):
//! - the shared key/value store's (`read`, `write`, `cas`, Raft's own messages), served by
//!   `lease-read` and `raft` alike from their one Raft, so either answers the same;
//! - `read`, the one type two workloads give different meanings, decided by its `key` field
//!   ([`auto_read_owner`]): with one it is a key/value read (`raft`), without one a counter
//!   read (`pn-counter`).
//!
//! Replies. A message with `in_reply_to`, of type `error`, or of a type a registered
//! service lists in [`Service::replies`] is a reply: it goes to the running service that
//! lists its type, or else to the shared store (Raft), and is never answered.

use crate::message::Envelope;
use crate::service::{Service, Shared};
use crate::workloads::{
    broadcast::BroadcastService, echo::EchoService, g_set::GSetService,
    heartbeat::HeartbeatService, kafka::KafkaService, lease::LeaseService,
    lease_read::LeaseReadService, lin_kv::LinKvService, pn_counter::CounterService,
    raft::RaftService, unique_ids::UniqueIdsService,
};
use clap::builder::{PossibleValue, PossibleValuesParser};
use std::fmt;

/// `--workload auto`: every workload at once.
pub const AUTO: &str = "auto";

/// What `auto` means, for `--help`.
const AUTO_ABOUT: &str =
    "Every workload at once; `read` with a `key` is a key/value read, without one a counter read";

/// Every service, one line each, in the order `--help` lists them and `auto` asks them.
/// Their names are the checker's workload names.
pub const SERVICES: &[fn() -> Box<dyn Service>] = &[
    || Box::new(LeaseService::default()),
    || Box::new(LeaseReadService::default()),
    || Box::new(RaftService),
    || Box::new(HeartbeatService::default()),
    || Box::new(CounterService::default()),
    || Box::new(EchoService),
    || Box::new(LinKvService::default()),
    || Box::new(KafkaService::default()),
    || Box::new(UniqueIdsService::default()),
    || Box::new(GSetService::default()),
    || Box::new(CounterService::grow_only()),
    || Box::new(BroadcastService::default()),
];

/// The names of every workload the reference node serves, in registry order (`lease`,
/// `lease-read`, `raft`, `heartbeat`, `pn-counter`).
pub fn names() -> Vec<&'static str> {
    SERVICES.iter().map(|build| build().name()).collect()
}

/// A fresh service for workload `name`, if the node serves it.
pub fn lookup(name: &str) -> Option<Box<dyn Service>> {
    SERVICES
        .iter()
        .map(|build| build())
        .find(|service| service.name() == name)
}

/// The values `--workload` accepts: `auto`, then every registered name, each with its
/// line of help.
pub fn workload_values() -> PossibleValuesParser {
    let auto = PossibleValue::new(AUTO).help(AUTO_ABOUT);
    let each = SERVICES.iter().map(|build| {
        let service = build();
        PossibleValue::new(service.name()).help(service.about())
    });
    PossibleValuesParser::new(std::iter::once(auto).chain(each))
}

/// In `auto` mode, the workload whose `read` `req` is: with a `key` field it is a
/// key/value read (`raft`'s; `lease-read` serves the same store), without one a counter
/// read (`pn-counter`'s).
pub fn auto_read_owner(req: &Envelope) -> &'static str {
    if req.body.contains_key("key") {
        "raft"
    } else {
        "pn-counter"
    }
}

/// A `--workload` value that is neither `auto` nor a registered name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWorkload(pub String);

impl fmt::Display for UnknownWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown workload `{}` (expected {AUTO} or one of {})",
            self.0,
            names().join(", ")
        )
    }
}

impl std::error::Error for UnknownWorkload {}

/// The services one node runs: every registered one (`auto`), or the one it is pinned to.
pub struct Services {
    list: Vec<Box<dyn Service>>,
    auto: bool,
    /// The reply types of every registered service.
    reply_types: Vec<&'static str>,
}

impl Services {
    /// The services for `--workload workload`.
    pub fn select(workload: &str) -> Result<Services, UnknownWorkload> {
        let all: Vec<Box<dyn Service>> = SERVICES.iter().map(|build| build()).collect();
        let reply_types = all.iter().flat_map(|s| s.replies()).copied().collect();
        let auto = workload == AUTO;
        let list = if auto {
            all.into_iter()
                .filter(|service| service.in_auto())
                .collect()
        } else {
            let pinned = all.into_iter().find(|service| service.name() == workload);
            vec![pinned.ok_or_else(|| UnknownWorkload(workload.to_owned()))?]
        };
        Ok(Services {
            list,
            auto,
            reply_types,
        })
    }

    /// True when every workload runs at once.
    pub fn is_auto(&self) -> bool {
        self.auto
    }

    /// The service that answers request `req`, by its index (see the module's rule).
    pub fn owner(&self, req: &Envelope, shared: &Shared) -> Option<usize> {
        let kind = req.kind();
        let read_owner = (self.auto && kind == "read").then(|| auto_read_owner(req));
        self.iter().position(|service| {
            service.serves(kind, shared) && read_owner.is_none_or(|name| service.name() == name)
        })
    }

    /// The service that takes a reply of type `kind` (see [`Service::replies`]).
    pub fn reply_owner(&self, kind: &str) -> Option<usize> {
        self.list
            .iter()
            .position(|service| service.replies().contains(&kind))
    }

    /// True when `kind` is a reply type of any registered workload, served here or not:
    /// such a message is never answered as a request, even by a node pinned elsewhere.
    pub fn is_reply_type(&self, kind: &str) -> bool {
        self.reply_types.contains(&kind)
    }

    /// The service at `index`.
    pub fn get_mut(&mut self, index: usize) -> &mut dyn Service {
        self.list[index].as_mut()
    }

    /// Every service, in registry order.
    pub fn iter(&self) -> impl Iterator<Item = &dyn Service> {
        self.list.iter().map(|service| service.as_ref())
    }

    /// Every service, in registry order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut (dyn Service + 'static)> {
        self.list.iter_mut().map(|service| service.as_mut())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bug::Bug;
    use clap::builder::TypedValueParser;
    use clap::ValueEnum;
    use serde_json::json;

    fn request(body: serde_json::Value) -> Envelope {
        Envelope::parse(&json!({"src": "c1", "dest": "n1", "body": body}).to_string()).unwrap()
    }

    fn owner_name(workload: &str, body: serde_json::Value, shared: &Shared) -> Option<String> {
        let services = Services::select(workload).unwrap();
        services
            .owner(&request(body), shared)
            .map(|i| services.list[i].name().to_owned())
    }

    #[test]
    fn names_are_unique_and_found_by_lookup() {
        let all = names();
        let unique: std::collections::BTreeSet<&str> = all.iter().copied().collect();
        assert_eq!(unique.len(), all.len(), "{all:?}");
        assert!(all.iter().all(|n| lookup(n).unwrap().name() == *n));
        assert_eq!(lookup("raft").unwrap().name(), "raft");
        assert!(lookup(AUTO).is_none());
        assert_eq!(
            Services::select("nope").err(),
            Some(UnknownWorkload("nope".into()))
        );
    }

    #[test]
    fn every_bug_belongs_to_a_registered_workload() {
        let names = names();
        for bug in Bug::value_variants() {
            assert!(names.contains(&bug.workload()), "{bug:?}");
        }
    }

    #[test]
    fn read_goes_by_its_key_in_auto_mode_and_to_the_pinned_workload_otherwise() {
        let shared = Shared::default();
        let keyed = json!({"type": "read", "key": 1});
        let bare = json!({"type": "read"});
        assert_eq!(owner_name(AUTO, keyed.clone(), &shared).unwrap(), "raft");
        assert_eq!(
            owner_name(AUTO, bare.clone(), &shared).unwrap(),
            "pn-counter"
        );
        for (workload, body) in [
            ("raft", &bare),
            ("lease-read", &bare),
            ("pn-counter", &keyed),
        ] {
            assert_eq!(
                owner_name(workload, body.clone(), &shared).as_deref(),
                Some(workload)
            );
        }
        assert_eq!(owner_name("lease", keyed, &shared), None);
        assert_eq!(owner_name("heartbeat", bare, &shared), None);
    }

    #[test]
    fn in_auto_mode_only_read_and_the_shared_store_have_several_servers() {
        let shared = Shared::default();
        let auto = Services::select(AUTO).unwrap();
        let kinds = [
            "acquire_lease",
            "check_lease",
            "lease_request",
            "lease_release",
            "lease_read",
            "lease_read_config",
            "read",
            "write",
            "cas",
            "heartbeat",
            "server_status",
            "add",
            "replicate",
            "gossip_status",
        ];
        for kind in kinds {
            let serving: Vec<&str> = auto
                .iter()
                .filter(|s| s.serves(kind, &shared))
                .map(|s| s.name())
                .collect();
            match serving.as_slice() {
                [_] => {}
                ["lease-read", "raft", "pn-counter"] if kind == "read" => {}
                ["lease-read", "raft"] => {}
                other => panic!("{kind} is served by {other:?}"),
            }
        }
        // Raft's own messages exist only while Raft runs (not before init, not on one node).
        assert_eq!(
            owner_name(AUTO, json!({"type": "raft_status"}), &shared),
            None
        );
    }

    #[test]
    fn workload_values_are_auto_then_the_registry() {
        let values: Vec<String> = workload_values()
            .possible_values()
            .unwrap()
            .map(|v| v.get_name().to_owned())
            .collect();
        assert_eq!(values[0], AUTO);
        assert_eq!(values[1..], names());
    }
}
