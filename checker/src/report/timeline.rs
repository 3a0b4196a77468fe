//! Runs as pictures (`timeline.svg`), one row per node in real time, with the run's faults
//! drawn the same way on every picture: drift steps marked on their node with the new
//! offset, partitions, pauses and kills as shaded spans.
//!
//!
//! This module draws the frame; each workload that has a timeline draws its own layers on it
//! (its folder's `picture.rs`).

use crate::check::Record;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use std::path::Path;

/// A colour of the timelines.
pub const HELD: RGBColor = RGBColor(70, 120, 200);
/// A colour of the timelines.
pub const CHECK: RGBColor = RGBColor(40, 40, 40);
/// A colour of the timelines.
pub const SPLIT: RGBColor = RGBColor(220, 30, 30);
/// A colour of the timelines.
pub const FAULT: RGBColor = RGBColor(240, 200, 80);
/// A colour of the timelines.
pub const DRIFT: RGBColor = RGBColor(140, 60, 160);
/// A colour of the timelines.
pub const CONFIRMED: RGBColor = RGBColor(60, 150, 90);

/// The chart the layers draw on.
pub type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
/// What drawing can fail with.
pub type DrawError = DrawingAreaErrorKind<std::io::Error>;

/// Row positions of the nodes.
pub struct Rows<'a> {
    nodes: &'a [String],
}

impl Rows<'_> {
    /// The row of `node`.
    pub fn of(&self, node: &str) -> Option<f64> {
        self.nodes.iter().position(|n| n == node).map(|i| i as f64)
    }
}

/// Draws a timeline of `record` to `path`: the frame and the faults, with `layers` drawn
/// between the fault shading and the drift marks.
pub fn timeline(
    record: &Record,
    path: &Path,
    title: String,
    end_s: f64,
    layers: impl FnOnce(&mut Chart, &Rows) -> Result<(), DrawError>,
) -> Result<(), String> {
    let end_s = end_s.max(0.1);
    let nodes = &record.nodes;
    let rows = Rows { nodes };
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
    let found = super::faults::faults(&record.history, nodes, end_s);
    let spans: Vec<(f64, f64, Option<f64>, String)> = found
        .spans
        .into_iter()
        .map(|s| (s.from_s, s.until_s, s.row.map(|r| r as f64), s.label))
        .collect();
    let marks: Vec<(f64, f64, String)> = found
        .marks
        .into_iter()
        .map(|m| (m.at_s, m.row as f64, format!("{:+} ms", m.offset_ms)))
        .collect();
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
pub fn record_end_s(record: &Record) -> f64 {
    record.history.last().map_or(1.0, |e| e.time as f64 / 1e9)
}

/// Draws one picture to `path` with `draw`: its path when drawn; when it cannot be, the
/// reason goes to stderr and nothing is returned, never failing the run.
pub fn draw(path: &Path, draw: impl FnOnce(&Path) -> Result<(), String>) -> Vec<String> {
    match draw(path) {
        Ok(()) => vec![path.display().to_string()],
        Err(why) => {
            eprintln!("eddy: could not draw {}: {why}", path.display());
            Vec::new()
        }
    }
}
