//! A running summary of routed traffic, built the same way while a run goes and when
//! `net.jsonl` is read back.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// How many witnesses of bad output lines are kept.
const MAX_WITNESSES: usize = 10;

/// What happened to one line a node wrote that was meant for another node.
#[derive(Debug, Clone, PartialEq)]
pub enum NetFate<'a> {
    /// Delivered.
    Delivered,
    /// Dropped by the network or the harness, for this reason.
    Dropped(&'a str),
    /// Addressed to this destination, which is no node, client or service of the run.
    Unaddressed(&'a str),
    /// Not a message at all: the reason and an excerpt.
    Invalid(&'a str, &'a str),
}

/// The fields of a `net.jsonl` line the summary needs; the message itself is skipped.
#[derive(serde::Deserialize)]
struct NetLine {
    #[serde(default)]
    send: u64,
    writer: Option<String>,
    invalid: Option<String>,
    line: Option<String>,
    drop: Option<String>,
    dest: Option<String>,
}

/// The reason `net.jsonl` gives for a message to a destination that does not exist.
pub const UNKNOWN_DESTINATION: &str = "unknown destination";

/// Messages to one destination that does not exist.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Unaddressed {
    /// How many were sent.
    pub count: u64,
    /// The node that sent the first.
    pub first_from: String,
    /// When, in seconds since the run started.
    pub first_at_s: f64,
}

/// Counts over the routed traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetSummary {
    /// Node-to-node messages delivered.
    pub delivered: u64,
    /// Node-to-node messages dropped, by reason.
    pub dropped: BTreeMap<String, u64>,
    /// Output lines that were not messages.
    pub invalid: u64,
    /// The first few of those, as witnesses.
    pub invalid_examples: Vec<Value>,
    /// Messages to destinations that do not exist (`lin-kv`, `n9` in a 3-node run), by
    /// destination.
    #[serde(default)]
    pub unknown_destinations: BTreeMap<String, Unaddressed>,
}

impl NetSummary {
    /// Counts one line written by node `writer` at `time` ns.
    pub fn add(&mut self, writer: &str, time: u64, fate: NetFate) {
        match fate {
            NetFate::Delivered => self.delivered += 1,
            NetFate::Dropped(reason) => *self.dropped.entry(reason.to_owned()).or_insert(0) += 1,
            NetFate::Unaddressed(dest) => {
                *self
                    .dropped
                    .entry(UNKNOWN_DESTINATION.to_owned())
                    .or_insert(0) += 1;
                let entry = self
                    .unknown_destinations
                    .entry(dest.to_owned())
                    .or_insert_with(|| Unaddressed {
                        count: 0,
                        first_from: writer.to_owned(),
                        first_at_s: time as f64 / 1e9,
                    });
                entry.count += 1;
            }
            NetFate::Invalid(problem, excerpt) => {
                self.invalid += 1;
                if self.invalid_examples.len() < MAX_WITNESSES {
                    self.invalid_examples.push(serde_json::json!({
                        "node": writer, "time_s": time as f64 / 1e9, "problem": problem, "line": excerpt,
                    }));
                }
            }
        }
    }

    /// Messages the nodes sent to each other, and to and from Maelstrom's services
    /// (delivered or dropped by the network).
    pub fn sent(&self) -> u64 {
        self.delivered
            + self
                .dropped
                .iter()
                .filter(|(r, _)| r.as_str() != UNKNOWN_DESTINATION)
                .map(|(_, n)| n)
                .sum::<u64>()
    }

    /// Counts one parsed line of `net.jsonl`.
    fn add_parsed(&mut self, line: &NetLine) {
        let writer = line.writer.as_deref().unwrap_or("?");
        if let Some(problem) = &line.invalid {
            self.add(
                writer,
                line.send,
                NetFate::Invalid(problem, line.line.as_deref().unwrap_or("")),
            );
        } else if line.drop.as_deref() == Some(UNKNOWN_DESTINATION) {
            let dest = line.dest.as_deref().unwrap_or("?");
            self.add(writer, line.send, NetFate::Unaddressed(dest));
        } else if let Some(reason) = &line.drop {
            self.add(writer, line.send, NetFate::Dropped(reason));
        } else {
            self.add(writer, line.send, NetFate::Delivered);
        }
    }

    /// Reads and sums a run folder's `net.jsonl`. A torn last line (eddy was killed
    /// mid-write) is skipped; any other line that is not a `net.jsonl` record is an error
    /// naming its line number.
    pub fn read(dir: &std::path::Path) -> Result<NetSummary, String> {
        use std::io::BufRead;
        let path = dir.join("net.jsonl");
        let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut summary = NetSummary::default();
        let mut lines = std::io::BufReader::new(file).lines();
        let mut next = lines.next();
        let mut number = 0;
        while let Some(line) = next {
            number += 1;
            let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
            next = lines.next();
            match serde_json::from_str::<NetLine>(&line) {
                Ok(parsed) => summary.add_parsed(&parsed),
                Err(_) if next.is_none() && !line.ends_with('}') => {}
                Err(e) => {
                    return Err(format!(
                        "{}:{number}: not a net.jsonl record: {e}",
                        path.display()
                    ))
                }
            }
        }
        Ok(summary)
    }
}
