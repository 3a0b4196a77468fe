//! The counter picture (`convergence.svg`, pn-counter's and g-counter's): the value each
//! node read over time against the value expected from the acknowledged adds (with the
//! range adds of unknown outcome allow), and each convergence measurement after a round:
//! converged on the expected value (green), never converged or converged off it (red,
//! with the values last read), skipped during a fault (grey). Reads are thinned to one per
//! node per pixel column, so a long run draws as fast and as small as a short one.

use crate::check::Record;
use crate::history::event::{operations, EventType};
use crate::history::HistoryEvent;
use crate::report::timeline::{draw_legend, legend_height, record_end_s, DrawError, Key, Mark};
use crate::report::timeline::{CONFIRMED, SPLIT};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// The picture's width in px; reads are thinned to one per node per column of it.
const WIDTH: u32 = 1200;
/// The expected value, and the unknown adds' range about it.
const EXPECTED: RGBColor = RGBColor(30, 30, 30);
/// The nodes' colours: neither the measurements' green nor the violations' red.
const NODES: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
];
/// Measurements skipped during a fault.
const SKIPPED: RGBColor = RGBColor(150, 150, 150);

/// One convergence measurement: when it ended, and what it found.
enum Measured {
    /// The nodes agreed on `value`; `expected` when it lay in the expected range.
    Agreed { value: f64, expected: bool },
    /// They never agreed; their last reads.
    Never { last: Vec<f64> },
    /// Not measured (a fault was in force).
    Skipped,
}

/// The expected value over time as `(t, low, acked, high)` steps: acknowledged adds from
/// their answer; adds of unknown outcome widen the range from their invocation.
fn expected(history: &[HistoryEvent]) -> Vec<(f64, f64, f64, f64)> {
    let mut changes: Vec<(f64, f64, f64)> = Vec::new(); // (t, acked delta, unknown delta)
    for op in operations(history).iter().filter(|op| op.invoke.f == "add") {
        let delta = op.invoke.body["delta"].as_f64().unwrap_or(0.0);
        match (op.outcome(), op.completion) {
            (EventType::Ok, Some(done)) => changes.push((done.time as f64 / 1e9, delta, 0.0)),
            (EventType::Fail, _) => {}
            _ => changes.push((op.invoke.time as f64 / 1e9, 0.0, delta)),
        }
    }
    changes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut acked, mut low, mut high) = (0.0, 0.0, 0.0);
    let mut steps = vec![(0.0, 0.0, 0.0, 0.0)];
    for (t, ok, unknown) in changes {
        acked += ok;
        if unknown < 0.0 {
            low += unknown;
        } else {
            high += unknown;
        }
        steps.push((t, acked + low, acked, acked + high));
    }
    steps
}

/// The expected range at `t`.
fn range_at(steps: &[(f64, f64, f64, f64)], t: f64) -> (f64, f64) {
    let at = steps.partition_point(|s| s.0 <= t).saturating_sub(1);
    (steps[at].1, steps[at].3)
}

/// Draws the counter picture of `record` to `path`; an error says what failed.
pub fn counter_convergence(record: &Record, path: &Path) -> Result<(), String> {
    let end_s = record_end_s(record).max(0.1);
    let per_px = end_s / f64::from(WIDTH);
    let steps = expected(&record.history);
    // Reads: one per node per pixel column (the last).
    let mut reads: BTreeMap<(String, i64), (f64, f64)> = BTreeMap::new();
    for op in operations(&record.history)
        .iter()
        .filter(|op| op.invoke.f == "read")
    {
        let (Some(done), Some(node)) = (op.completion, op.invoke.node.as_deref()) else {
            continue;
        };
        let Some(value) = done.body["value"].as_f64() else {
            continue;
        };
        let t = done.time as f64 / 1e9;
        reads.insert((node.to_owned(), (t / per_px) as i64), (t, value));
    }
    let measured: Vec<(f64, Measured)> = record
        .history
        .iter()
        .filter(|e| e.f == "convergence")
        .map(|e| {
            let t = e.time as f64 / 1e9;
            let m = if e.body.get("skipped").is_some() {
                Measured::Skipped
            } else if let Some(value) = e.body["value"].as_f64() {
                let (low, high) = range_at(&steps, t);
                Measured::Agreed {
                    value,
                    expected: (low..=high).contains(&value),
                }
            } else {
                let last = e.body["last_values"].as_array().into_iter().flatten();
                Measured::Never {
                    last: last.filter_map(|v| v.as_f64()).collect(),
                }
            };
            (t, m)
        })
        .collect();
    let bad = measured
        .iter()
        .filter(|(_, m)| {
            matches!(
                m,
                Measured::Never { .. }
                    | Measured::Agreed {
                        expected: false,
                        ..
                    }
            )
        })
        .count();
    let agreed = measured
        .iter()
        .filter(|(_, m)| matches!(m, Measured::Agreed { .. }))
        .count();
    let title = if bad == 0 {
        format!("counter over time: {agreed} measurement(s) converged, none off the expected value")
    } else {
        format!("counter over time: {bad} measurement(s) never converged or converged off the expected value, in red")
    };

    // Every value drawn, for the y range.
    let values = steps
        .iter()
        .flat_map(|s| [s.1, s.3])
        .chain(reads.values().map(|r| r.1))
        .chain(measured.iter().flat_map(|(_, m)| match m {
            Measured::Agreed { value, .. } => vec![*value],
            Measured::Never { last } => last.clone(),
            Measured::Skipped => Vec::new(),
        }));
    // The axis is fitted to the expected range and the reads near it: a runaway read (a
    // counter that doubled itself a few dozen times) is drawn at the edge as a triangle, so
    // that the expected value and the failure stay readable.
    let (elo, ehi) = steps
        .iter()
        .flat_map(|s| [s.1, s.3])
        .fold((0.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let reach = 3.0 * (ehi - elo).max(ehi.abs()).max(elo.abs()).max(10.0);
    let near = |v: &f64| (elo - reach..=ehi + reach).contains(v);
    let (lo, hi) = values
        .filter(near)
        .fold((elo, ehi), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let pad = (hi - lo) * 0.08 + 1.0;
    let off_axis = reads.values().filter(|(_, v)| !near(v)).count()
        + measured
            .iter()
            .map(|(_, m)| match m {
                Measured::Agreed { value, .. } => usize::from(!near(value)),
                Measured::Never { last } => last.iter().filter(|v| !near(v)).count(),
                Measured::Skipped => 0,
            })
            .sum::<usize>();

    let nodes = &record.nodes;
    let colour = |node: &str| {
        let i = nodes.iter().position(|n| n == node).unwrap_or(0);
        NODES[i % NODES.len()]
    };
    let mut keys: Vec<Key> = vec![Key::new(
        "expected: the sum of acknowledged adds",
        EXPECTED,
        Mark::Line,
    )];
    if steps.iter().any(|s| s.1 != s.2 || s.3 != s.2) {
        keys.push(Key::new(
            "range adds of unknown outcome allow",
            SKIPPED,
            Mark::Shade,
        ));
    }
    for node in nodes {
        let c = colour(node);
        keys.push(Key::new(
            format!("read at {node}"),
            RGBColor(c.0, c.1, c.2),
            Mark::Dot,
        ));
    }
    keys.push(Key::new(
        "converged on the expected value",
        CONFIRMED,
        Mark::Tick,
    ));
    if off_axis > 0 {
        keys.push(Key::new(
            format!("{off_axis} value(s) beyond the axis, drawn at its edge"),
            EXPECTED,
            Mark::Triangle,
        ));
    }
    if bad > 0 {
        keys.push(Key::new(
            "never converged, or off the expected value",
            SPLIT,
            Mark::Tick,
        ));
    }
    if measured.iter().any(|(_, m)| matches!(m, Measured::Skipped)) {
        keys.push(Key::new(
            "not measured: a fault was in force",
            SKIPPED,
            Mark::Tick,
        ));
    }

    let legend = legend_height(&keys, WIDTH);
    let height = 460 + legend;
    let root = SVGBackend::new(path, (WIDTH, height)).into_drawing_area();
    let fail = |e: DrawError| e.to_string();
    root.fill(&WHITE).map_err(fail)?;
    let (plot, strip) = root.split_vertically(height - legend);
    let mut chart = ChartBuilder::on(&plot)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..end_s, (lo - pad)..(hi + pad))
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("seconds since the run started")
        .y_desc("counter value")
        .y_label_formatter(&|v| compact(*v))
        .draw()
        .map_err(fail)?;
    let (bottom, top) = (lo - pad, hi + pad);

    // Measurements as vertical marks behind the values.
    chart
        .draw_series(measured.iter().map(|(t, m)| {
            let (c, from) = match m {
                Measured::Agreed { expected: true, .. } => (CONFIRMED, bottom),
                Measured::Skipped => (SKIPPED, bottom),
                _ => (SPLIT, bottom),
            };
            let width = if matches!(c, SPLIT) { 3 } else { 1 };
            let to = if matches!(m, Measured::Skipped) {
                bottom + (top - bottom) * 0.05
            } else {
                top
            };
            PathElement::new(vec![(*t, from), (*t, to)], c.stroke_width(width))
        }))
        .map_err(fail)?;
    // The expected range (unknown adds), then the expected value as a step line.
    let mut band = Vec::new();
    let mut line = Vec::new();
    let mut last: Option<(f64, f64, f64, f64)> = None;
    for s in steps.iter().copied().chain([(end_s, 0.0, 0.0, 0.0)]) {
        if let Some(p) = last {
            if s.0 - p.0 >= per_px || s.0 >= end_s {
                if p.1 != p.2 || p.3 != p.2 {
                    band.push(Rectangle::new(
                        [(p.0, p.1), (s.0, p.3)],
                        SKIPPED.mix(0.3).filled(),
                    ));
                }
                line.push((p.0, p.2));
                line.push((s.0, p.2));
            } else {
                last = Some((p.0, s.1.min(p.1), s.2, s.3.max(p.3)));
                continue;
            }
        }
        last = Some(s);
    }
    chart.draw_series(band).map_err(fail)?;
    chart
        .draw_series([PathElement::new(line, EXPECTED.stroke_width(2))])
        .map_err(fail)?;
    // A value beyond the axis is drawn at its edge, as a triangle pointing out.
    let edge = |v: f64| v.clamp(bottom, top);
    let beyond = |t: f64, v: f64, c: RGBColor| {
        let (dy, y) = if v > top { (-6, top) } else { (6, bottom) };
        EmptyElement::at((t, y)) + Polygon::new(vec![(0, dy), (-5, -dy), (5, -dy)], c.filled())
    };
    chart
        .draw_series(
            reads
                .iter()
                .filter(|(_, (_, v))| near(v))
                .map(|((node, _), (t, v))| Circle::new((*t, *v), 2, colour(node).filled())),
        )
        .map_err(fail)?;
    chart
        .draw_series(
            reads
                .iter()
                .filter(|(_, (_, v))| !near(v))
                .map(|((node, _), (t, v))| beyond(*t, *v, colour(node))),
        )
        .map_err(fail)?;
    // What each measurement found: the agreed value, or the last reads in red.
    chart
        .draw_series(measured.iter().flat_map(|(t, m)| {
            match m {
                Measured::Agreed { value, expected } => {
                    let c = if *expected { CONFIRMED } else { SPLIT };
                    vec![Circle::new((*t, edge(*value)), 5, c.filled())]
                }
                Measured::Never { last } => last
                    .iter()
                    .map(|v| Circle::new((*t, edge(*v)), 5, SPLIT.filled()))
                    .collect(),
                Measured::Skipped => Vec::new(),
            }
        }))
        .map_err(fail)?;
    draw_legend(&strip, &keys).map_err(fail)?;
    root.present().map_err(fail)
}

/// A counter value as an axis label: whole numbers as they are up to six digits, larger
/// ones with k, M, G, T, P or E, so that a label never outgrows the axis.
fn compact(v: f64) -> String {
    let a = v.abs();
    let (scaled, unit) = match a {
        a if a >= 1e18 => (v / 1e18, "E"),
        a if a >= 1e15 => (v / 1e15, "P"),
        a if a >= 1e12 => (v / 1e12, "T"),
        a if a >= 1e9 => (v / 1e9, "G"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e5 => (v / 1e3, "k"),
        _ => return format!("{}", v.round() as i64),
    };
    format!("{scaled:.1}{unit}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn axis_labels_stay_short() {
        use super::compact;
        assert_eq!(compact(0.0), "0");
        assert_eq!(compact(-0.2), "0");
        assert_eq!(compact(99_999.0), "99999");
        assert_eq!(compact(-123_456.0), "-123.5k");
        assert_eq!(compact(8_000_000_000.0), "8.0G");
        assert_eq!(compact(8e18), "8.0E");
    }
}
