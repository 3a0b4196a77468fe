//! The deliberate defects of `--bug`, each read by one workload's service.

/// A deliberate defect, so that a check can be shown to catch what it guards against.
///
/// One enum for every workload, so that `--bug` keeps one list of names; the second
/// paragraph of each variant (not shown by `--help`) names the workload whose service reads
/// it, as [`Bug::workload`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bug {
    /// PN-counter: merge gossip by overwriting each count instead of taking the maximum,
    /// so stale gossip loses increments.
    ///
    /// Workload: `pn-counter` (`g-counter` runs the same counter, so it reads this too).
    OverwriteMerge,
    /// PN-counter: merge gossip by adding counts, so repeated gossip counts twice.
    ///
    /// Workload: `pn-counter` (`g-counter` runs the same counter, so it reads this too).
    DoubleCount,
    /// PN-counter: never send gossip, so replicas never converge.
    ///
    /// Workload: `pn-counter` (`g-counter` runs the same counter, so it reads this too).
    NoGossip,
    /// GFS master: never declare a server dead.
    ///
    /// Workload: `heartbeat`.
    NeverDead,
    /// GFS master: declare a server dead after one missed heartbeat.
    ///
    /// Workload: `heartbeat`.
    HastyDeath,
    /// GFS master: order deletion of replicas that are still needed.
    ///
    /// Workload: `heartbeat`.
    DeleteNeeded,
    /// GFS master: keep counting a dead server's chunks.
    ///
    /// Workload: `heartbeat`.
    CountDeadChunks,
    /// GFS master: a server once declared dead stays dead, even when it heartbeats again
    /// (SPEC 3.4: "a dead server that heartbeats again is alive again").
    ///
    /// Workload: `heartbeat`.
    NeverRevive,
    /// Raft: vote for every up-to-date candidate, even twice in a term.
    ///
    /// Workload: `raft` (`lease-read` runs Raft, so it reads this too).
    VoteTwice,
    /// Raft: grant votes without the log up-to-date check, so a candidate with a shorter
    /// or older log can win and overwrite entries a majority had committed.
    ///
    /// Workload: `raft` (`lease-read` runs Raft, so it reads this too).
    VoteStaleLog,
    /// Raft: keep nothing in NODE_DATA_DIR, so a restarted node forgets its term and vote.
    ///
    /// Workload: `raft` (`lease-read` runs Raft, so it reads this too).
    ForgetVote,
    /// Raft: acknowledge writes before a majority holds them.
    ///
    /// Workload: `raft` (`lease-read` runs Raft, so it reads this too).
    EarlyAck,
    /// Raft: the leader answers reads from its own state without confirming leadership.
    ///
    /// Workload: `raft` (`lease-read` runs Raft, so it reads this too).
    LocalReads,
    /// lease: grant every acquisition locally, asking no other node.
    ///
    /// Workload: `lease`.
    LocalGrant,
    /// lease: `check_lease` claims a second more than the lease holds.
    ///
    /// Workload: `lease`.
    StretchCheck,
    /// lease: acquiring while already holding renews locally, asking no other node, so the
    /// granters' promises run out while the holder still holds and another node is granted.
    ///
    /// Workload: `lease`.
    RenewAlone,
    /// lease-read: the leader serves lease reads from its own state whether or not it
    /// holds a lease (after it ran out, or before a new leader caught up).
    ///
    /// Workload: `lease-read`.
    ExpiredLease,
    /// lease-read: adopt a lease configuration even when the seed's rule calls it unsafe.
    ///
    /// Workload: `lease-read`.
    UnsafeLease,
    /// lease-read: confirm leadership with a heartbeat round on every lease read, yet
    /// claim zero round trips.
    ///
    /// Workload: `lease-read`.
    HiddenRoundTrip,
    /// lease-read: a node makes none of the promises a leader's lease counts on. It grants
    /// votes (and adopts the candidate's term) although it heard from a leader within the
    /// election timeout, and its election timer keeps Raft's 150-300 ms instead of the
    /// configured minimum, so a new leader is elected while a deposed one still serves lease
    /// reads from its lease.
    ///
    /// Workload: `lease-read`.
    IgnoreLeaderLease,
    /// PN-counter: keep nothing in NODE_DATA_DIR, so a restarted node forgets its own
    /// increments (peers that heard them by gossip may bring them back; a cluster killed at
    /// once loses them all, and adds served before the first gossip arrives are hidden).
    ///
    /// Workload: `pn-counter` (`g-counter` runs the same counter, so it reads this too).
    ForgetIncrements,
    /// kafka: every node gives out offsets and keeps logs of its own, instead of the key's
    /// owner, so two nodes put different messages at one offset of a key.
    ///
    /// Workload: `kafka`.
    LocalOffsets,
    /// kafka: a poll answer of more than one message leaves out the first, the message at
    /// the offset asked for.
    ///
    /// Workload: `kafka`.
    SkipPoll,
    /// kafka: every fifth send is acknowledged with an offset but its message is not kept.
    ///
    /// Workload: `kafka`.
    LoseWrites,
    /// kafka: poll answers list their messages newest first.
    ///
    /// Workload: `kafka`.
    NewestFirst,
    /// kafka: a listing names the end of each key's log (the next offset the owner would
    /// give out) as its committed offset, so a consumer resuming there skips every message
    /// no one processed yet.
    ///
    /// Workload: `kafka`.
    ListLogEnd,
    /// unique-ids: ids are a bare counter without the node id, so every node hands out 0,
    /// 1, 2, ... and ids collide across nodes.
    ///
    /// Workload: `unique-ids`.
    NoNodeId,
    /// g-set: each new element is sent to every peer once, with no acknowledgement and no
    /// later anti-entropy round, so an element whose gossip a partition drops never
    /// reaches that peer.
    ///
    /// Workload: `g-set`.
    GossipOnce,
    /// broadcast: never send a message to another node, so each message stays on the node
    /// a client gave it to.
    ///
    /// Workload: `broadcast`.
    KeepToSelf,
    /// broadcast: keep only the 20 largest messages, forgetting older ones a read had
    /// returned.
    ///
    /// Workload: `broadcast`.
    ForgetMessages,
    /// broadcast: every read returns one message no client broadcast.
    ///
    /// Workload: `broadcast`.
    InventMessage,
}

impl Bug {
    /// The workload whose service reads this defect: one of [`crate::services::names`].
    pub fn workload(self) -> &'static str {
        match self {
            Bug::OverwriteMerge | Bug::DoubleCount | Bug::NoGossip | Bug::ForgetIncrements => {
                "pn-counter"
            }
            Bug::NeverDead
            | Bug::HastyDeath
            | Bug::DeleteNeeded
            | Bug::CountDeadChunks
            | Bug::NeverRevive => "heartbeat",
            Bug::VoteTwice
            | Bug::VoteStaleLog
            | Bug::ForgetVote
            | Bug::EarlyAck
            | Bug::LocalReads => "raft",
            Bug::LocalGrant | Bug::StretchCheck | Bug::RenewAlone => "lease",
            Bug::ExpiredLease
            | Bug::UnsafeLease
            | Bug::HiddenRoundTrip
            | Bug::IgnoreLeaderLease => "lease-read",
            Bug::LocalOffsets
            | Bug::SkipPoll
            | Bug::LoseWrites
            | Bug::NewestFirst
            | Bug::ListLogEnd => "kafka",
            Bug::NoNodeId => "unique-ids",
            Bug::GossipOnce => "g-set",
            Bug::KeepToSelf | Bug::ForgetMessages | Bug::InventMessage => "broadcast",
        }
    }
}
