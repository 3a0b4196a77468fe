//! Raft's safety as seen on the wire (SPEC 3.3): no two nodes send `append_entries` for one
//! term (election safety), no voter grants two candidates in one term, no node's term goes
//! backwards in what it sends, and a node killed and started again keeps its term and its
//! votes (durable state); plus liveness figures and a leader timeline. Both reply naming
//! conventions (`_res` and `_ok`) are recognized.
//!
//! One job a module: `safety.rs` (election safety, one vote per term, terms), `durable.rs`
//! (term and votes across restarts), `liveness.rs` (first leader and failovers) and
//! `timeline.rs` (who led which term when, for the liveness check and the pictures); this
//! one reads the lines they share and runs them all.

mod durable;
mod liveness;
mod safety;
mod timeline;

pub use durable::durable_state;
pub use safety::safety;
pub use timeline::{leader_starts, leaderships};

use crate::check::{CheckResult, Record, Validity};
use crate::contract::Contract;
use crate::history::{HistoryEvent, Process};

/// The fields of a `net.jsonl` line that the wire checks read (the rest, `entries` above
/// all, is skipped while parsing).
#[derive(Debug, serde::Deserialize)]
pub struct Wire {
    /// When the writer wrote it, ns.
    #[serde(default)]
    pub send: u64,
    /// When it was delivered, ns (`None` when dropped).
    pub deliver: Option<u64>,
    /// The process that wrote it.
    #[serde(default)]
    pub writer: String,
    /// Where it went.
    #[serde(default)]
    pub dest: String,
    /// The body's fields the checks read.
    #[serde(default)]
    pub body: WireBody,
}

/// The body fields of a [`Wire`] line.
#[derive(Debug, Default, serde::Deserialize)]
pub struct WireBody {
    /// `type`.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A Raft term.
    pub term: Option<u64>,
    /// A vote's answer.
    pub vote_granted: Option<bool>,
    /// The message's own id.
    pub msg_id: Option<u64>,
    /// The id of the message it answers.
    pub in_reply_to: Option<u64>,
}

impl Wire {
    /// True for Raft's own messages (both reply naming conventions).
    pub fn is_raft(&self) -> bool {
        matches!(
            self.body.kind.as_str(),
            "append_entries"
                | "request_vote"
                | "request_vote_res"
                | "request_vote_ok"
                | "append_entries_res"
                | "append_entries_ok"
        )
    }
}

/// Every Raft check, from `net.jsonl` and the history; liveness is judged against
/// `max_first_leader_ms` and `max_failover_ms`.
pub fn checks(
    record: &Record,
    contract: Contract,
    max_first_leader_ms: f64,
    max_failover_ms: f64,
) -> Vec<CheckResult> {
    let wire = record.net_lines(Wire::is_raft);
    let mut results = safety(record, &wire, contract);
    results.push(durable_state(record, &wire.lines, contract));
    results.push(liveness::liveness(
        record,
        &wire.lines,
        max_first_leader_ms,
        max_failover_ms,
    ));
    results
}

/// The verdict of every wire check when no Raft message is on the wire: not applicable
/// (the node uses names of its own), or, under the seed contract with several nodes,
/// invalid (the contract asks for Raft's names). `None` when Raft's messages are there.
fn without_raft_names(
    record: &Record,
    lines: &[Wire],
    contract: Contract,
) -> Option<(Validity, &'static str)> {
    if lines.iter().any(Wire::is_raft) {
        None
    } else if contract == Contract::Seed && record.nodes.len() > 1 {
        Some((Validity::Invalid, "the seed contract asks for Raft's messages (`request_vote`, `append_entries`), and none was on the wire (--contract maelstrom leaves the names to the node)"))
    } else {
        Some((Validity::NotApplicable, "not applicable: no `request_vote` or `append_entries` on the wire (safety is judged from what clients saw)"))
    }
}

/// The nemesis's events in the history (faults, restarts, heals), in order.
fn nemesis_events(record: &Record) -> impl Iterator<Item = &HistoryEvent> {
    record
        .history
        .iter()
        .filter(|e| e.process == Process::Named("nemesis".into()))
}

/// `ns` nanoseconds in seconds.
fn seconds_of(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// When `line` was sent, in seconds.
fn seconds(line: &Wire) -> f64 {
    line.send as f64 / 1e9
}

/// What the tests of every wire check build their records from.
#[cfg(test)]
mod test_support {
    use crate::check::traffic::NetSummary;
    use crate::check::{CheckResult, Record};
    use crate::contract::Contract;
    use crate::history::event::{EventType, HistoryEvent};
    use crate::history::Process;
    use serde_json::{json, Value};

    /// A record whose `net.jsonl` holds `lines` (in the returned folder), with no history
    /// and no nodes.
    pub fn record(lines: &[Value]) -> (tempfile::TempDir, Record) {
        let dir = tempfile::tempdir().unwrap();
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(dir.path().join("net.jsonl"), text).unwrap();
        let record = Record {
            history: Vec::new(),
            net: NetSummary::default(),
            nodes: vec![],
            dir: Some(dir.path().to_owned()),
        };
        (dir, record)
    }

    /// A `net.jsonl` line sent by `writer` to `dest` at `send` ns and delivered 1 ns later.
    pub fn line(send: u64, writer: &str, dest: &str, body: Value) -> Value {
        json!({"send": send, "deliver": send + 1, "writer": writer, "src": writer, "dest": dest, "body": body})
    }

    /// A nemesis event at `ms` for `node` (none when empty).
    pub fn nemesis_at(ms: u64, node: &str, f: &str, body: Value) -> HistoryEvent {
        let nemesis = Process::Named("nemesis".into());
        let mut e = HistoryEvent::at_ms(ms, nemesis, node, EventType::Info, f, body);
        e.node = e.node.filter(|n| !n.is_empty());
        e
    }

    /// The check called `name` among every wire check of `record` under `contract`, with a
    /// first leader due within 3 s and failovers within `max_failover_ms`.
    pub fn named_check(
        record: &Record,
        contract: Contract,
        max_failover_ms: f64,
        name: &str,
    ) -> CheckResult {
        super::checks(record, contract, 3000.0, max_failover_ms)
            .into_iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no check named {name}"))
    }
}
