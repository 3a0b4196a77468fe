//! Runs as pictures (`timeline.svg`), one row per node in real time, with the run's faults
//! drawn the same way on every picture: drift steps marked on their node with the new
//! offset, partitions, pauses and kills as shaded spans, each kind in its own colour.
//!
//! This module draws the frame and a legend under it; each workload that has a timeline
//! draws its own layers on it (its folder's `picture.rs`) and names them in the legend
//! ([`Key`]). Labels go where they cover nothing: fault and partition labels in a band
//! above the rows, drift labels under their row's bars, right-aligned near the right edge,
//! and left out where they would run into the previous one ([`Labels`]).

use crate::check::Record;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// A colour of the timelines.
pub const HELD: RGBColor = RGBColor(70, 120, 200);
/// A colour of the timelines.
pub const CHECK: RGBColor = RGBColor(40, 40, 40);
/// A colour of the timelines.
pub const SPLIT: RGBColor = RGBColor(220, 30, 30);
/// A colour of the timelines: partitions.
pub const FAULT: RGBColor = RGBColor(240, 200, 80);
/// A colour of the timelines: pauses.
pub const PAUSE: RGBColor = RGBColor(250, 140, 60);
/// A colour of the timelines: kills.
pub const KILL: RGBColor = RGBColor(130, 130, 130);
/// A colour of the timelines.
pub const DRIFT: RGBColor = RGBColor(140, 60, 160);
/// A colour of the timelines.
pub const CONFIRMED: RGBColor = RGBColor(60, 150, 90);

/// The chart the layers draw on.
pub type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
/// What drawing can fail with.
pub type DrawError = DrawingAreaErrorKind<std::io::Error>;

/// The chart's drawing area, where the legend goes too.
pub type Area<'b> = DrawingArea<SVGBackend<'b>, plotters::coord::Shift>;

/// How a legend entry shows its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// A filled bar (a lease, a leadership).
    Bar,
    /// A pale shaded span (a fault).
    Shade,
    /// A short vertical stroke (a clock step, a read).
    Tick,
    /// A filled circle (a violation, a measurement).
    Dot,
    /// A line (a value over time).
    Line,
    /// A filled triangle (a value beyond the axis, drawn at its edge).
    Triangle,
}

/// One entry of a picture's legend: its colour shown as `mark`, then `label`.
#[derive(Debug, Clone)]
pub struct Key {
    /// The words after the swatch.
    pub label: String,
    /// The colour of the swatch.
    pub colour: RGBColor,
    /// How the swatch is drawn.
    pub mark: Mark,
}

impl Key {
    /// An entry saying what `colour` drawn as `mark` means.
    pub fn new(label: impl Into<String>, colour: RGBColor, mark: Mark) -> Key {
        Key {
            label: label.into(),
            colour,
            mark,
        }
    }
}

/// Legend text size, in px.
const LEGEND_FONT: f64 = 12.0;
/// Height of one line of the legend, in px.
const LEGEND_LINE: u32 = 20;

/// The width `text` takes at `size` px, estimated (no font metrics in the SVG backend).
pub fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.56
}

/// Each key's `(x, line)` in a legend `width` px wide, and the number of lines.
fn legend_layout(keys: &[Key], width: u32) -> (Vec<(i32, i32)>, u32) {
    let (mut x, mut line) = (12.0, 0);
    let mut at = Vec::new();
    for key in keys {
        let w = 30.0 + text_width(&key.label, LEGEND_FONT) + 18.0;
        if x + w > f64::from(width) - 12.0 && x > 12.0 {
            (x, line) = (12.0, line + 1);
        }
        at.push((x as i32, line));
        x += w;
    }
    (at, if keys.is_empty() { 0 } else { line as u32 + 1 })
}

/// The height in px a legend of `keys` takes on a picture `width` px wide.
pub fn legend_height(keys: &[Key], width: u32) -> u32 {
    let (_, lines) = legend_layout(keys, width);
    if lines == 0 {
        0
    } else {
        8 + LEGEND_LINE * lines
    }
}

/// Draws the legend of `keys` on `area` (a strip under the chart): "legend:", then each
/// swatch and its words, wrapped to the width.
pub fn draw_legend(area: &Area, keys: &[Key]) -> Result<(), DrawError> {
    let (width, _) = area.dim_in_pixel();
    let (at, _) = legend_layout(keys, width);
    let font = ("sans-serif", LEGEND_FONT).into_font();
    for (key, (x, line)) in keys.iter().zip(at) {
        let y = 4 + line * LEGEND_LINE as i32 + LEGEND_LINE as i32 / 2;
        let c = key.colour;
        match key.mark {
            Mark::Bar => area.draw(&Rectangle::new([(x, y - 5), (x + 22, y + 5)], c.filled()))?,
            Mark::Shade => area.draw(&Rectangle::new(
                [(x, y - 8), (x + 22, y + 8)],
                c.mix(0.35).filled(),
            ))?,
            Mark::Tick => area.draw(&PathElement::new(
                vec![(x + 11, y - 8), (x + 11, y + 8)],
                c.stroke_width(2),
            ))?,
            Mark::Dot => area.draw(&Circle::new((x + 11, y), 5, c.filled()))?,
            Mark::Line => area.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                c.stroke_width(2),
            ))?,
            Mark::Triangle => area.draw(&Polygon::new(
                vec![(x + 11, y - 6), (x + 6, y + 5), (x + 16, y + 5)],
                c.filled(),
            ))?,
        }
        area.draw(&Text::new(
            key.label.clone(),
            (x + 30, y),
            TextStyle::from(font.clone()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Row positions of the rows (nodes, or what a workload draws a row for).
pub struct Rows<'a> {
    nodes: &'a [String],
}

impl Rows<'_> {
    /// The row of `node`.
    pub fn of(&self, node: &str) -> Option<f64> {
        self.nodes.iter().position(|n| n == node).map(|i| i as f64)
    }
}

/// Labels placed along bands (a row's, or the band above the rows) without running into
/// each other: a label whose pixels another already took is left out.
#[derive(Default)]
pub struct Labels {
    taken: Vec<(i64, i32, i32)>,
}

impl Labels {
    /// Takes pixels `from..to` of `band` if free; false (nothing taken) when not.
    pub fn take(&mut self, band: i64, from: i32, to: i32) -> bool {
        let free = self
            .taken
            .iter()
            .all(|&(b, f, t)| b != band || to + 4 <= f || t + 4 <= from);
        if free {
            self.taken.push((band, from, to));
        }
        free
    }
}

/// True when `text` at `size` px fits between times `from` and `until` on `chart`.
pub fn fits(chart: &Chart, from: f64, until: f64, text: &str, size: f64) -> bool {
    let (a, _) = chart.backend_coord(&(from, 0.0));
    let (b, _) = chart.backend_coord(&(until, 0.0));
    f64::from(b - a) >= text_width(text, size) + 4.0
}

/// The span `from..until` (seconds) widened about its middle to at least `px` pixels on
/// `chart`, so that a short one (100 ms in a long run) stays visible.
pub fn at_least(chart: &Chart, from: f64, until: f64, px: f64) -> (f64, f64) {
    let (a, _) = chart.backend_coord(&(0.0, 0.0));
    let (b, _) = chart.backend_coord(&(1.0, 0.0));
    let per_s = f64::from((b - a).max(1));
    let half = ((px / per_s) - (until - from)).max(0.0) / 2.0;
    (from - half, until + half)
}

/// What a picture on the frame shows besides the faults: its title, how long the run
/// was, its rows and the legend entries of its own layers.
pub struct Frame {
    /// The caption.
    pub title: String,
    /// The end of the time axis, in seconds.
    pub end_s: f64,
    /// The rows, bottom up: nodes, or what the workload draws a row for.
    pub rows: Vec<String>,
    /// The legend entries of the workload's layers (the frame adds its own).
    pub keys: Vec<Key>,
}

impl Frame {
    /// A frame with one row per node of `record`, no legend entries yet.
    pub fn nodes(record: &Record, title: String, end_s: f64) -> Frame {
        Frame {
            title,
            end_s,
            rows: record.nodes.clone(),
            keys: Vec::new(),
        }
    }

    /// The frame with one more legend entry.
    pub fn key(mut self, label: impl Into<String>, colour: RGBColor, mark: Mark) -> Frame {
        self.keys.push(Key::new(label, colour, mark));
        self
    }
}

/// The colour a fault span is shaded in, by the fault's words (`partition ...`, `pause`,
/// `kill`): partitions yellow, pauses peach, kills grey.
pub fn shade_of(fault: &str) -> RGBColor {
    match fault.split(' ').next() {
        Some("pause") => PAUSE,
        Some("kill") => KILL,
        _ => FAULT,
    }
}

/// Draws a timeline of `record` to `path`: the frame, the faults and the drift steps, then
/// `layers` on top (so a workload's marks are never covered), and the legend under it.
pub fn timeline(
    record: &Record,
    path: &Path,
    frame: Frame,
    layers: impl FnOnce(&mut Chart, &Rows) -> Result<(), DrawError>,
) -> Result<(), String> {
    let end_s = frame.end_s.max(0.1);
    let nodes = &frame.rows;
    let rows = Rows { nodes };
    // Faults with a duration: shaded from start to end on the rows they touch (a pause or
    // kill of a node that has no row here is left out).
    let found = super::faults::faults(&record.history, nodes, end_s);
    let spans: Vec<(f64, f64, Option<f64>, String)> = found
        .spans
        .into_iter()
        .filter(|s| s.row.is_some() || s.node.is_none() && s.label.starts_with("partition"))
        .map(|s| (s.from_s, s.until_s, s.row.map(|r| r as f64), s.label))
        .collect();
    let marks: Vec<(f64, f64, String)> = found
        .marks
        .into_iter()
        .map(|m| (m.at_s, m.row as f64, format!("{:+} ms", m.offset_ms)))
        .collect();

    // The legend: the workload's layers, then the faults this run had.
    let mut keys = frame.keys;
    for (kind, colour) in [("partition", FAULT), ("pause", PAUSE), ("kill", KILL)] {
        if spans.iter().any(|s| s.3.starts_with(kind)) {
            let words = if kind == "partition" {
                "partition (all rows)"
            } else {
                kind
            };
            keys.push(Key::new(words, colour, Mark::Shade));
        }
    }
    if !marks.is_empty() {
        keys.push(Key::new("clock step (new offset)", DRIFT, Mark::Tick));
    }

    let width = 1200;
    let legend = legend_height(&keys, width);
    let height = 130 + 60 * nodes.len() as u32 + legend;
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    let fail = |e: DrawError| e.to_string();
    root.fill(&WHITE).map_err(fail)?;
    let (plot, strip) = root.split_vertically(height - legend);
    // The rows, and a band above them for the partitions' labels.
    let top = nodes.len() as f64 - 0.5;
    let mut chart = ChartBuilder::on(&plot)
        .caption(frame.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(40)
        .build_cartesian_2d(0.0..end_s, -0.5..top + 0.4)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the run started")
        .y_labels(nodes.len() + 1)
        .y_label_formatter(&|y| {
            let at = y.round();
            if (y - at).abs() > 0.01 || at < 0.0 {
                return String::new();
            }
            nodes.get(at as usize).cloned().unwrap_or_default()
        })
        .disable_y_mesh()
        .draw()
        .map_err(fail)?;

    chart
        .draw_series(spans.iter().map(|(from, until, r, f)| {
            let (low, high) = r.map_or((-0.5, top), |r| (r - 0.45, r + 0.45));
            Rectangle::new(
                [(*from, low), (*until, high)],
                shade_of(f).mix(0.35).filled(),
            )
        }))
        .map_err(fail)?;
    // Partition labels above the rows, each where the one before left room.
    let mut labels = Labels::default();
    let font = ("sans-serif", 11).into_font();
    let partitions: Vec<Text<'_, (f64, f64), String>> = spans
        .iter()
        .filter(|s| s.2.is_none())
        .filter_map(|(from, _, _, f)| {
            let (x, _) = chart.backend_coord(&(*from, top));
            let w = text_width(f, 11.0) as i32;
            labels
                .take(-1, x, x + w)
                .then(|| Text::new(f.clone(), (*from, top + 0.3), font.clone()))
        })
        .collect();
    chart.draw_series(partitions).map_err(fail)?;

    // Drift steps, under the workload's layers, labelled under their row's bars: to the
    // right of the mark, or to its left near the right edge; left out where they would
    // run into the label before them on the row.
    chart
        .draw_series(marks.iter().map(|(t, r, _)| {
            PathElement::new(vec![(*t, r - 0.45), (*t, r + 0.3)], DRIFT.stroke_width(2))
        }))
        .map_err(fail)?;
    let right_edge = chart.backend_coord(&(end_s, 0.0)).0;
    let per_px = end_s / f64::from((right_edge - chart.backend_coord(&(0.0, 0.0)).0).max(1));
    let drift_labels: Vec<Text<'_, (f64, f64), String>> = marks
        .iter()
        .filter_map(|(t, r, label)| {
            let (x, _) = chart.backend_coord(&(*t, *r));
            let w = text_width(label, 11.0) as i32;
            let left = x + 4 + w > right_edge;
            let (from, to, pos) = if left {
                (x - 4 - w, x - 4, HPos::Right)
            } else {
                (x + 4, x + 4 + w, HPos::Left)
            };
            let style = font.clone().color(&DRIFT).pos(Pos::new(pos, VPos::Top));
            let shift = if left { -4 } else { 4 };
            labels.take(*r as i64, from, to).then(|| {
                Text::new(
                    label.clone(),
                    (t + f64::from(shift) * per_px, r - 0.28),
                    style,
                )
            })
        })
        .collect();
    chart.draw_series(drift_labels).map_err(fail)?;

    layers(&mut chart, &rows).map_err(fail)?;

    draw_legend(&strip, &keys).map_err(fail)?;
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
