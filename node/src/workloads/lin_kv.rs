//! Maelstrom's `lin-kv` workload: the same linearizable key/value register the `raft`
//! workload's clients use (`read`, `write`, `cas`), served by the same Raft replica, under
//! Maelstrom's name. Raft's `--bug` modes apply to it as they do to `raft`.

use super::raft::RaftService;
use crate::message::Envelope;
use crate::service::{Answer, Context, Service, Setup, Shared};

/// The `lin-kv` service: [`RaftService`] under Maelstrom's workload name.
#[derive(Debug, Default)]
pub struct LinKvService(RaftService);

impl Service for LinKvService {
    fn name(&self) -> &'static str {
        "lin-kv"
    }

    fn about(&self) -> &'static str {
        "Maelstrom's linearizable key/value store, replicated by Raft"
    }

    fn in_auto(&self) -> bool {
        false
    }

    fn serves(&self, kind: &str, shared: &Shared) -> bool {
        self.0.serves(kind, shared)
    }

    fn init(&mut self, setup: &Setup, ctx: &mut Context) {
        self.0.init(setup, ctx)
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        self.0.handle(req, ctx)
    }
}
