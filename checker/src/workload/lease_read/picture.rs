//! The lease-read timeline (see [`crate::report::timeline`] for the frame).

use crate::check::{CheckResult, Record};
use crate::history::event::operations;
use crate::report::timeline::{
    fits, record_end_s, timeline, Frame, Mark, CHECK, CONFIRMED, HELD, SPLIT,
};
use crate::workload::raft::wire as raft;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::HashMap;
use std::path::Path;

/// A leadership: the lease colour, paler, so a term's label reads on it.
const PALE: RGBColor = RGBColor(162, 187, 227);

/// Draws the lease-read timeline of `record` to `path`, with the stale reads that the
/// `linearizable` check among `checks` found; an error says what failed.
pub fn lease_read_timeline(
    record: &Record,
    checks: &[CheckResult],
    path: &Path,
) -> Result<(), String> {
    let led = raft::leaderships(&record.net_lines(raft::Wire::is_raft).lines);
    let ops = operations(&record.history);
    let node_of: HashMap<u64, &str> = ops
        .iter()
        .filter_map(|op| Some((op.invoke.index, op.invoke.node.as_deref()?)))
        .collect();
    // The leases as the nodes believed them: from each lease read's answer for the
    // `lease_remaining_ms` it claimed (local time, drawn as if clocks held still), joined
    // per node where they overlap.
    let mut believed: Vec<(&str, f64, f64)> = ops
        .iter()
        .filter(|op| op.invoke.f == "lease_read")
        .filter_map(|op| {
            let done = op.completion?;
            let left = done.body["lease_remaining_ms"]
                .as_f64()
                .filter(|l| *l > 0.0)?;
            let at = done.time as f64 / 1e9;
            Some((op.invoke.node.as_deref()?, at, at + left / 1000.0))
        })
        .collect();
    believed.sort_by(|a, b| a.0.cmp(b.0).then(a.1.total_cmp(&b.1)));
    let believed = believed
        .into_iter()
        .fold(Vec::new(), |mut joined: Vec<(&str, f64, f64)>, b| {
            match joined.last_mut() {
                Some(last) if last.0 == b.0 && b.1 <= last.2 => last.2 = last.2.max(b.2),
                _ => joined.push(b),
            }
            joined
        });
    // Lease reads answered: (node, time, confirmed by a round trip).
    let reads: Vec<(&str, f64, bool)> = ops
        .iter()
        .filter(|op| op.invoke.f == "lease_read")
        .filter_map(|op| {
            let done = op
                .completion
                .filter(|c| c.kind == crate::history::EventType::Ok)?;
            let trips = done.body["network_round_trips"].as_u64().unwrap_or(0);
            Some((
                op.invoke.node.as_deref()?,
                done.time as f64 / 1e9,
                trips > 0,
            ))
        })
        .collect();
    // Stale reads: (read's node, read at, missed write's node, write completed at).
    let stale: Vec<(&str, f64, Option<&str>, Option<f64>)> = checks
        .iter()
        .filter(|c| c.name == "linearizable")
        .flat_map(|c| &c.witnesses)
        .filter(|w| w["kind"] == "stale-read")
        .filter_map(|w| {
            let read = node_of.get(&w["read"]["index"].as_u64()?)?;
            let at = w["read"]["completed_s"].as_f64()?;
            let missed = w["missed"]["index"]
                .as_u64()
                .and_then(|i| node_of.get(&i).copied());
            Some((*read, at, missed, w["missed"]["completed_s"].as_f64()))
        })
        .collect();
    let end_s = record_end_s(record);
    let title = if stale.is_empty() {
        format!(
            "lease reads in real time: {} answered, none stale",
            reads.len()
        )
    } else {
        format!(
            "lease reads in real time: {} stale read(s) in red, each joined to the write it missed",
            stale.len()
        )
    };
    let mut frame = Frame::nodes(record, title, end_s)
        .key("leader of a term (from append_entries)", PALE, Mark::Bar)
        .key("lease the leader believed it held", HELD, Mark::Line)
        .key("lease read, local", CHECK, Mark::Tick)
        .key(
            "lease read, confirmed by a round trip",
            CONFIRMED,
            Mark::Tick,
        );
    if !stale.is_empty() {
        frame = frame.key(
            "stale read, joined to the write it missed",
            SPLIT,
            Mark::Dot,
        );
    }
    timeline(record, path, frame, |chart, rows| {
        chart.draw_series(led.iter().filter_map(|(from, until, _, node)| {
            let r = rows.of(node)?;
            Some(Rectangle::new(
                [(*from, r - 0.2), (until + 0.01, r + 0.2)],
                PALE.filled(),
            ))
        }))?;
        // Term labels inside their bars, only where the bar has room for them.
        let terms: Vec<_> = led
            .iter()
            .filter_map(|(from, until, term, node)| {
                let r = rows.of(node)?;
                let words = format!("term {term}");
                fits(chart, *from, *until, &words, 11.0).then(|| {
                    Text::new(
                        words,
                        (*from, r),
                        ("sans-serif", 11)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )
                })
            })
            .collect();
        chart.draw_series(terms)?;
        chart.draw_series(believed.iter().filter_map(|(node, from, until)| {
            let r = rows.of(node)?;
            Some(Rectangle::new(
                [(*from, r + 0.2), (*until, r + 0.26)],
                HELD.filled(),
            ))
        }))?;
        chart.draw_series(reads.iter().filter_map(|(node, t, confirmed)| {
            let r = rows.of(node)?;
            let colour = if *confirmed { CONFIRMED } else { CHECK };
            Some(PathElement::new(
                vec![(*t, r - 0.3), (*t, r - 0.22)],
                colour.stroke_width(1),
            ))
        }))?;
        chart.draw_series(stale.iter().filter_map(|(node, t, missed, wrote)| {
            let r = rows.of(node)?;
            let from = match (missed.and_then(|m| rows.of(m)), wrote) {
                (Some(w), Some(at)) => (*at, w),
                _ => (*t, r),
            };
            Some(PathElement::new(vec![from, (*t, r)], SPLIT.stroke_width(2)))
        }))?;
        chart.draw_series(stale.iter().filter_map(|(node, t, _, _)| {
            Some(Circle::new((*t, rows.of(node)?), 5, SPLIT.filled()))
        }))?;
        Ok(())
    })
}
