//! The run's faults as the nemesis recorded them in the history: spans with a duration
//! (partitions, pauses, kills) and clock steps (drift), in seconds since the run started.
//! Every picture of a run draws them from here, so they read the same everywhere. Nodes
//! that exited unasked (the harness's `crash` events) are read here too.

use crate::history::{HistoryEvent, Process};

/// A fault with a duration: from its start to its end (heal, resume, restart), or to the
/// end of the run when it never ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpan {
    /// When it started, in seconds.
    pub from_s: f64,
    /// When it ended, in seconds.
    pub until_s: f64,
    /// The row of the node it hit (its index in the run's nodes); `None` for partitions,
    /// which touch the whole cluster.
    pub row: Option<usize>,
    /// The node it hit, if one.
    pub node: Option<String>,
    /// What it was: `partition n1 n2 | n3`, `partition (ring)`, `pause`, `kill`.
    pub label: String,
}

/// A step of one node's clock.
#[derive(Debug, Clone, PartialEq)]
pub struct DriftMark {
    /// When, in seconds.
    pub at_s: f64,
    /// The row of the node (its index in the run's nodes).
    pub row: usize,
    /// The node.
    pub node: String,
    /// The node's clock offset after the step, in milliseconds.
    pub offset_ms: i64,
}

/// A node that exited without being asked (the harness's `crash` event).
#[derive(Debug, Clone, PartialEq)]
pub struct Crash {
    /// When, in seconds.
    pub at_s: f64,
    /// The node, when the harness named one.
    pub node: Option<String>,
    /// How it exited (`exited with code 4`), when recorded.
    pub exit: Option<String>,
}

impl Crash {
    /// The crash in two words: `n0 exited`.
    pub fn label(&self) -> String {
        format!("{} exited", self.node.as_deref().unwrap_or("a node"))
    }
}

/// The faults of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Partitions, pauses and kills.
    pub spans: Vec<FaultSpan>,
    /// Clock steps.
    pub marks: Vec<DriftMark>,
    /// Nodes that exited unasked.
    pub crashes: Vec<Crash>,
}

/// The faults in `history`, rows taken from `nodes`; a fault still open at the end of the
/// history lasts until `end_s`.
pub fn faults(history: &[HistoryEvent], nodes: &[String], end_s: f64) -> Faults {
    let row = |node: &str| nodes.iter().position(|n| n == node);
    let mut open: Vec<FaultSpan> = Vec::new();
    let mut found = Faults::default();
    let harness = Process::Named("harness".into());
    found.crashes = history
        .iter()
        .filter(|e| e.process == harness && e.f == "crash")
        .map(|e| Crash {
            at_s: e.time as f64 / 1e9,
            node: e.node.clone(),
            exit: e.body["exit"].as_str().map(str::to_owned),
        })
        .collect();
    let nemesis = history
        .iter()
        .filter(|e| e.process == Process::Named("nemesis".into()));
    for e in nemesis {
        let t = e.time as f64 / 1e9;
        let node_row = e.node.as_deref().and_then(row);
        let span = |label: String, row: Option<usize>| FaultSpan {
            from_s: t,
            until_s: end_s,
            row,
            node: row.and(e.node.clone()),
            label,
        };
        match e.f.as_str() {
            "partition" if e.body.get("sees").is_some() => {
                let kind = e.body["kind"].as_str().unwrap_or("partial");
                open.push(span(format!("partition ({kind})"), None));
            }
            "partition" => {
                let sides: Vec<String> = e.body["groups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|g| {
                        let names: Vec<&str> =
                            g.as_array()?.iter().filter_map(|n| n.as_str()).collect();
                        Some(names.join(" "))
                    })
                    .collect();
                open.push(span(format!("partition {}", sides.join(" | ")), None));
            }
            "pause" | "kill" => open.push(span(e.f.clone(), node_row)),
            "heal" | "resume" | "restart" => {
                let started = match e.f.as_str() {
                    "heal" => "partition",
                    "resume" => "pause",
                    _ => "kill",
                };
                if let Some(at) = open.iter().position(|s| {
                    s.label.starts_with(started) && (started == "partition" || s.row == node_row)
                }) {
                    let mut ended = open.remove(at);
                    ended.until_s = t;
                    found.spans.push(ended);
                }
            }
            "drift" => {
                if let (Some(row), Some(node)) = (node_row, e.node.as_deref()) {
                    found.marks.push(DriftMark {
                        at_s: t,
                        row,
                        node: node.to_owned(),
                        offset_ms: e.body["offsets_ms"][node].as_i64().unwrap_or(0),
                    });
                }
            }
            _ => {}
        }
    }
    found.spans.extend(open);
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::event::EventType;
    use serde_json::json;

    fn nemesis(ms: u64, f: &str, node: Option<&str>, body: serde_json::Value) -> HistoryEvent {
        let mut e = HistoryEvent::new(
            Process::Named("nemesis".into()),
            node.map(str::to_owned),
            EventType::Info,
            f,
            body,
        );
        e.time = ms * 1_000_000;
        e
    }

    #[test]
    fn spans_close_on_their_end_and_open_ones_last_to_the_end() {
        let nodes = vec!["n1".to_owned(), "n2".to_owned()];
        let history = vec![
            nemesis(1000, "partition", None, json!({"groups": [["n1"], ["n2"]]})),
            nemesis(1500, "pause", Some("n2"), json!({})),
            nemesis(2000, "heal", None, json!({})),
            nemesis(
                2500,
                "drift",
                Some("n1"),
                json!({"offsets_ms": {"n1": -40}}),
            ),
            nemesis(3000, "kill", Some("n1"), json!({})),
            nemesis(3500, "resume", Some("n2"), json!({})),
            HistoryEvent {
                time: 4_000_000_000,
                ..HistoryEvent::new(
                    Process::Named("harness".into()),
                    Some("n2".into()),
                    EventType::Info,
                    "crash",
                    json!({"exit": "exited with code 4", "stderr": []}),
                )
            },
        ];
        let found = faults(&history, &nodes, 9.0);
        let spans: Vec<(f64, f64, Option<usize>, &str)> = found
            .spans
            .iter()
            .map(|s| (s.from_s, s.until_s, s.row, s.label.as_str()))
            .collect();
        assert_eq!(
            spans,
            [
                (1.0, 2.0, None, "partition n1 | n2"),
                (1.5, 3.5, Some(1), "pause"),
                (3.0, 9.0, Some(0), "kill"),
            ]
        );
        assert_eq!(found.marks.len(), 1);
        assert_eq!((found.marks[0].row, found.marks[0].offset_ms), (0, -40));
        let crash = &found.crashes[..];
        assert_eq!(crash.len(), 1, "the harness's crash is read");
        assert_eq!(
            (crash[0].at_s, crash[0].label()),
            (4.0, "n2 exited".to_owned())
        );
        assert_eq!(crash[0].exit.as_deref(), Some("exited with code 4"));
    }
}
