//! The `raft` workload's service: a key/value store replicated by Raft, on the
//! [`Replica`](super::Replica) it shares with `lease-read`.

use super::RaftBugs;
use crate::bug::Bug;
use crate::message::Envelope;
use crate::service::{Answer, Context, Service, Setup, Shared};

/// The `raft` workload (seed 002): `read`, `write`, `cas` and Raft's own messages.
#[derive(Debug, Default)]
pub struct RaftService;

impl RaftService {
    /// The Raft defects `setup` turns on, and whether Raft keeps nothing in
    /// `NODE_DATA_DIR` (`--bug forget-vote`). `lease-read` runs Raft too and reads these.
    pub fn bugs(setup: &Setup) -> (RaftBugs, bool) {
        let bug = setup.bug("raft");
        let bugs = RaftBugs {
            vote_twice: bug == Some(Bug::VoteTwice),
            vote_stale_log: bug == Some(Bug::VoteStaleLog),
            early_ack: bug == Some(Bug::EarlyAck),
            local_reads: bug == Some(Bug::LocalReads),
            ..RaftBugs::default()
        };
        (bugs, bug == Some(Bug::ForgetVote))
    }
}

impl Service for RaftService {
    fn name(&self) -> &'static str {
        "raft"
    }

    fn about(&self) -> &'static str {
        "Raft key/value store (seed 002)"
    }

    fn serves(&self, kind: &str, shared: &Shared) -> bool {
        shared.replica.serves(kind)
    }

    fn init(&mut self, setup: &Setup, ctx: &mut Context) {
        let (bugs, forget_state) = RaftService::bugs(setup);
        ctx.replica.want(bugs, forget_state, setup.pinned);
    }

    fn handle(&mut self, req: &Envelope, ctx: &mut Context) -> Answer {
        ctx.replica.handle(req, ctx.out, ctx.rng)
    }
}
