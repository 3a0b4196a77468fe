//! Who led which term when, from the `append_entries` on the wire: for the liveness check,
//! the lease-read checks and the pictures.

use super::{seconds, Wire};
use std::collections::BTreeMap;

/// Each node's leadership of each term as `(from, until, term, node)` in seconds: from its
/// first `append_entries` in the term to its last (a cut-off leader keeps sending), in
/// order of term and node.
pub fn leaderships(lines: &[Wire]) -> Vec<(f64, f64, u64, String)> {
    let mut spans: BTreeMap<(u64, String), (f64, f64)> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.body.kind == "append_entries") {
        let Some(term) = l.body.term else { continue };
        let t = seconds(l);
        let span = spans.entry((term, l.writer.clone())).or_insert((t, t));
        *span = (span.0.min(t), span.1.max(t));
    }
    spans
        .into_iter()
        .map(|((term, node), (from, until))| (from, until, term, node))
        .collect()
}

/// When each leader began, as `(seconds, term, leader)` in time order: a node leads a term
/// from its first `append_entries` in it.
pub fn leader_starts(lines: &[Wire]) -> Vec<(f64, u64, String)> {
    let mut starts: Vec<(f64, u64, String)> = leaderships(lines)
        .into_iter()
        .map(|(from, _, term, leader)| (from, term, leader))
        .collect();
    starts.sort_by(|a, b| a.0.total_cmp(&b.0));
    starts
}
