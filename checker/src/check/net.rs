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
}

impl NetSummary {
    /// Counts one line written by node `writer` at `time` ns.
    pub fn add(&mut self, writer: &str, time: u64, fate: NetFate) {
        match fate {
            NetFate::Delivered => self.delivered += 1,
            NetFate::Dropped(reason) => *self.dropped.entry(reason.to_owned()).or_insert(0) += 1,
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

    /// Messages the nodes sent to each other (delivered or dropped by the network).
    pub fn sent(&self) -> u64 {
        self.delivered
            + self
                .dropped
                .iter()
                .filter(|(r, _)| r.as_str() != "unknown destination")
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
        } else if let Some(reason) = &line.drop {
            self.add(writer, line.send, NetFate::Dropped(reason));
        } else {
            self.add(writer, line.send, NetFate::Delivered);
        }
    }

    /// Reads and sums a run folder's `net.jsonl`.
    pub fn read(dir: &std::path::Path) -> Result<NetSummary, String> {
        use std::io::BufRead;
        let path = dir.join("net.jsonl");
        let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut summary = NetSummary::default();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
            // A torn last line (eddy was killed mid-write) is skipped.
            if let Ok(line) = serde_json::from_str::<NetLine>(&line) {
                summary.add_parsed(&line);
            }
        }
        Ok(summary)
    }
}
