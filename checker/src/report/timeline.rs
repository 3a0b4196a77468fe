//! Runs as pictures (`timeline.svg`), one row per node in real time, with the run's faults
//! drawn the same way on every picture: drift steps marked on their node with the new
//! offset, partitions, pauses and kills as shaded spans.
//!
//! - lease: every lease a node held, check windows as ticks, and the time two nodes held at
//!   once in red across both rows.
//! - lease-read: each node's leadership of each term, the lease it believed it held (from
//!   the `lease_remaining_ms` its lease reads claimed), its lease reads as ticks, and every
//!   stale read in red, joined by a line to the write it missed.

use crate::check::lease::{holdings, overlaps, Clocks};
use crate::check::{raft, CheckResult, Record};
use crate::history::event::operations;
use crate::history::Process;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::collections::HashMap;
use std::path::Path;

const LEASE: RGBColor = RGBColor(70, 120, 200);
const CHECK: RGBColor = RGBColor(40, 40, 40);
const SPLIT: RGBColor = RGBColor(220, 30, 30);
const FAULT: RGBColor = RGBColor(240, 200, 80);
const DRIFT: RGBColor = RGBColor(140, 60, 160);
const CONFIRMED: RGBColor = RGBColor(60, 150, 90);

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type DrawError = DrawingAreaErrorKind<std::io::Error>;

/// Row positions of the nodes.
struct Rows<'a> {
    nodes: &'a [String],
}

impl Rows<'_> {
    fn of(&self, node: &str) -> Option<f64> {
        self.nodes.iter().position(|n| n == node).map(|i| i as f64)
    }
}

/// Draws a timeline of `record` to `path`: the frame and the faults, with `layers` drawn
/// between the fault shading and the drift marks.
fn timeline(
    record: &Record,
    path: &Path,
    title: String,
    end_s: f64,
    layers: impl FnOnce(&mut Chart, &Rows) -> Result<(), DrawError>,
) -> Result<(), String> {
    let end_s = end_s.max(0.1);
    let nodes = &record.nodes;
    let rows = Rows { nodes };
    let row = |node: &str| rows.of(node);
    let height = 120 + 50 * nodes.len() as u32;
    let root = SVGBackend::new(path, (1200, height)).into_drawing_area();
    let fail = |e: DrawError| e.to_string();
    root.fill(&WHITE).map_err(fail)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..end_s, -0.5..nodes.len() as f64 - 0.5)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the run started")
        .y_labels(nodes.len())
        .y_label_formatter(&|y| {
            nodes
                .get(y.round().max(0.0) as usize)
                .cloned()
                .unwrap_or_default()
        })
        .disable_y_mesh()
        .draw()
        .map_err(fail)?;

    // Faults with a duration: shaded from start to end on the rows they touch.
    let mut open: Vec<(String, f64, Option<f64>)> = Vec::new();
    let mut spans: Vec<(f64, f64, Option<f64>, String)> = Vec::new();
    let mut marks: Vec<(f64, f64, String)> = Vec::new();
    let nemesis = record
        .history
        .iter()
        .filter(|e| e.process == Process::Named("nemesis".into()));
    for e in nemesis {
        let t = e.time as f64 / 1e9;
        let node_row = e.node.as_deref().and_then(row);
        match e.f.as_str() {
            "partition" if e.body.get("sees").is_some() => {
                let kind = e.body["kind"].as_str().unwrap_or("partial");
                open.push((format!("partition ({kind})"), t, None));
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
                open.push((format!("partition {}", sides.join(" | ")), t, None));
            }
            "pause" | "kill" => open.push((e.f.clone(), t, node_row)),
            "heal" | "resume" | "restart" => {
                let started = match e.f.as_str() {
                    "heal" => "partition",
                    "resume" => "pause",
                    _ => "kill",
                };
                if let Some(at) = open.iter().position(|(f, _, r)| {
                    f.starts_with(started) && (started == "partition" || *r == node_row)
                }) {
                    let (f, from, r) = open.remove(at);
                    spans.push((from, t, r, f));
                }
            }
            "drift" => {
                if let (Some(r), Some(node)) = (node_row, e.node.as_deref()) {
                    let offset = e.body["offsets_ms"][node].as_i64().unwrap_or(0);
                    marks.push((t, r, format!("{offset:+} ms")));
                }
            }
            _ => {}
        }
    }
    spans.extend(open.into_iter().map(|(f, from, r)| (from, end_s, r, f)));
    let top = nodes.len() as f64 - 0.5;
    chart
        .draw_series(spans.iter().map(|(from, until, r, _)| {
            let (low, high) = r.map_or((-0.5, top), |r| (r - 0.45, r + 0.45));
            Rectangle::new([(*from, low), (*until, high)], FAULT.mix(0.35).filled())
        }))
        .map_err(fail)?;
    chart
        .draw_series(spans.iter().map(|(from, _, r, f)| {
            let y = r.map_or(top - 0.1, |r| r + 0.42);
            Text::new(f.clone(), (*from, y), ("sans-serif", 11).into_font())
        }))
        .map_err(fail)?;

    layers(&mut chart, &rows).map_err(fail)?;

    // Drift steps.
    chart
        .draw_series(marks.iter().map(|(t, r, _)| {
            PathElement::new(vec![(*t, r - 0.4), (*t, r + 0.4)], DRIFT.stroke_width(2))
        }))
        .map_err(fail)?;
    chart
        .draw_series(marks.iter().map(|(t, r, label)| {
            Text::new(
                label.clone(),
                (*t + end_s * 0.003, r - 0.32),
                ("sans-serif", 11).into_font().color(&DRIFT),
            )
        }))
        .map_err(fail)?;
    root.present().map_err(fail)
}

/// When the record ends, in seconds.
fn record_end_s(record: &Record) -> f64 {
    record.history.last().map_or(1.0, |e| e.time as f64 / 1e9)
}

/// Draws the lease timeline of `record` to `path`; an error says what failed.
pub fn lease_timeline(record: &Record, path: &Path) -> Result<(), String> {
    let clocks = Clocks::from_history(&record.history)
        .ok_or("the history has no clock event to map lease times")?;
    let held = holdings(record, &clocks);
    let split = overlaps(&held);
    let end_s = record_end_s(record).max(held.iter().map(|h| h.until / 1000.0).fold(0.0, f64::max));
    let title = if split.is_empty() {
        "leases in real time: no two holders at once".to_owned()
    } else {
        format!(
            "leases in real time: {} overlap(s) of two holders, in red",
            split.len()
        )
    };
    timeline(record, path, title, end_s, |chart, rows| {
        // Leases, then check windows as ticks.
        chart.draw_series(held.iter().filter(|h| !h.window).filter_map(|h| {
            let r = rows.of(&h.node)?;
            Some(Rectangle::new(
                [(h.from / 1000.0, r - 0.2), (h.until / 1000.0, r + 0.2)],
                LEASE.filled(),
            ))
        }))?;
        chart.draw_series(held.iter().filter(|h| h.window).filter_map(|h| {
            let r = rows.of(&h.node)?;
            Some(Rectangle::new(
                [
                    (h.from / 1000.0, r - 0.3),
                    (h.until / 1000.0 + 0.004, r - 0.22),
                ],
                CHECK.filled(),
            ))
        }))?;

        // Split-brain: red across both rows.
        chart.draw_series(split.iter().flat_map(|o| {
            [&held[o.a], &held[o.b]].into_iter().filter_map(move |h| {
                let r = rows.of(&h.node)?;
                Some(Rectangle::new(
                    [
                        (o.from / 1000.0, r - 0.3),
                        (o.until / 1000.0 + 0.002, r + 0.3),
                    ],
                    SPLIT.filled(),
                ))
            })
        }))?;

        Ok(())
    })
}

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
    timeline(record, path, title, end_s, |chart, rows| {
        chart.draw_series(led.iter().filter_map(|(from, until, _, node)| {
            let r = rows.of(node)?;
            Some(Rectangle::new(
                [(*from, r - 0.2), (until + 0.01, r + 0.2)],
                LEASE.mix(0.5).filled(),
            ))
        }))?;
        chart.draw_series(led.iter().filter_map(|(from, _, term, node)| {
            let r = rows.of(node)?;
            Some(Text::new(
                format!("term {term}"),
                (*from, r + 0.32),
                ("sans-serif", 11).into_font(),
            ))
        }))?;
        chart.draw_series(believed.iter().filter_map(|(node, from, until)| {
            let r = rows.of(node)?;
            Some(Rectangle::new(
                [(*from, r + 0.2), (*until, r + 0.26)],
                LEASE.filled(),
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
