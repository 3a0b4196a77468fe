//! A lease run as a picture (`timeline.svg`): one row per node, every lease it held in real
//! time, check windows as ticks, the time two nodes held at once in red across both rows,
//! and the faults: drift steps marked on their node with the new offset, partitions, pauses
//! and kills as shaded spans.

use crate::check::lease::{holdings, overlaps, Clocks};
use crate::check::Record;
use crate::history::Process;
use plotters::prelude::*;
use std::path::Path;

const LEASE: RGBColor = RGBColor(70, 120, 200);
const CHECK: RGBColor = RGBColor(40, 40, 40);
const SPLIT: RGBColor = RGBColor(220, 30, 30);
const FAULT: RGBColor = RGBColor(240, 200, 80);
const DRIFT: RGBColor = RGBColor(140, 60, 160);

/// Draws the lease timeline of `record` to `path`; an error says what failed.
pub fn lease_timeline(record: &Record, path: &Path) -> Result<(), String> {
    let clocks = Clocks::from_history(&record.history)
        .ok_or("the history has no clock event to map lease times")?;
    let held = holdings(record, &clocks);
    let split = overlaps(&held);
    let end_s = record
        .history
        .last()
        .map_or(1.0, |e| e.time as f64 / 1e9)
        .max(held.iter().map(|h| h.until / 1000.0).fold(0.0, f64::max))
        .max(0.1);
    let nodes = &record.nodes;
    let row = |node: &str| nodes.iter().position(|n| n == node).map(|i| i as f64);
    let height = 120 + 50 * nodes.len() as u32;
    let root = SVGBackend::new(path, (1200, height)).into_drawing_area();
    let fail = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
    root.fill(&WHITE).map_err(fail)?;
    let title = if split.is_empty() {
        "leases in real time: no two holders at once".to_owned()
    } else {
        format!(
            "leases in real time: {} overlap(s) of two holders, in red",
            split.len()
        )
    };
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
            "partition" | "pause" | "kill" => open.push((e.f.clone(), t, node_row)),
            "heal" | "resume" | "restart" => {
                let started = match e.f.as_str() {
                    "heal" => "partition",
                    "resume" => "pause",
                    _ => "kill",
                };
                if let Some(at) = open.iter().position(|(f, _, r)| {
                    f == started && (started == "partition" || *r == node_row)
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

    // Leases, then check windows as ticks.
    chart
        .draw_series(held.iter().filter(|h| !h.window).filter_map(|h| {
            let r = row(&h.node)?;
            Some(Rectangle::new(
                [(h.from / 1000.0, r - 0.2), (h.until / 1000.0, r + 0.2)],
                LEASE.filled(),
            ))
        }))
        .map_err(fail)?;
    chart
        .draw_series(held.iter().filter(|h| h.window).filter_map(|h| {
            let r = row(&h.node)?;
            Some(Rectangle::new(
                [
                    (h.from / 1000.0, r - 0.3),
                    (h.until / 1000.0 + 0.004, r - 0.22),
                ],
                CHECK.filled(),
            ))
        }))
        .map_err(fail)?;

    // Split-brain: red across both rows.
    chart
        .draw_series(split.iter().flat_map(|o| {
            [&held[o.a], &held[o.b]].into_iter().filter_map(move |h| {
                let r = row(&h.node)?;
                Some(Rectangle::new(
                    [
                        (o.from / 1000.0, r - 0.3),
                        (o.until / 1000.0 + 0.002, r + 0.3),
                    ],
                    SPLIT.filled(),
                ))
            })
        }))
        .map_err(fail)?;

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
