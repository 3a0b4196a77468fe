//! What every chart of the page shares: its width, the outcome colours, a chart drawn into
//! a `String` with plotters' SVG backend, and the run's faults drawn on it (partitions,
//! pauses and kills shaded across the whole chart, clock steps as marked lines), read by
//! [`crate::report::faults`] exactly as the SVG timelines read them.

use crate::history::EventType;
use crate::report::faults::Faults;
use crate::report::timeline::{DrawError, DRIFT, FAULT};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// The width of every chart, in pixels; decimation works to this many columns.
pub const WIDTH: u32 = 1200;

/// The colour of an operation that succeeded.
pub const OK: RGBColor = RGBColor(60, 150, 90);
/// The colour of an operation that certainly failed.
pub const FAIL: RGBColor = RGBColor(215, 50, 60);
/// The colour of an operation whose outcome is unknown.
pub const INFO: RGBColor = RGBColor(120, 120, 130);

/// The colour of the fine grid lines.
pub const LIGHT: RGBColor = RGBColor(242, 243, 245);

/// The colour of an outcome.
pub fn colour(outcome: EventType) -> RGBColor {
    match outcome {
        EventType::Fail => FAIL,
        EventType::Info | EventType::Invoke => INFO,
        EventType::Ok => OK,
    }
}

/// How bad an outcome is, for keeping the worst of several in one pixel: ok, then fail,
/// then info (unknown is the worst: the checker cannot tell what happened).
pub fn badness(outcome: EventType) -> u8 {
    match outcome {
        EventType::Ok => 0,
        EventType::Fail => 1,
        EventType::Info | EventType::Invoke => 2,
    }
}

/// The chart a page's drawing works on: seconds across, `Y` up.
pub type Chart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;

/// Draws one chart of `height` pixels into an SVG string: a caption, the axes with their
/// descriptions, then `draw` on the chart. `x` is seconds, `y` the chart's own range.
pub fn svg<Y>(
    height: u32,
    caption: &str,
    end_s: f64,
    y: Y,
    axes: impl FnOnce(&mut Chart<'_, '_, Y::CoordDescType>) -> Result<(), DrawError>,
    draw: impl FnOnce(&mut Chart<'_, '_, Y::CoordDescType>) -> Result<(), DrawError>,
) -> Result<String, String>
where
    Y: AsRangedCoord,
{
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        let fail = |e: DrawError| e.to_string();
        root.fill(&WHITE).map_err(fail)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..end_s.max(0.1), y)
            .map_err(fail)?;
        axes(&mut chart).map_err(fail)?;
        draw(&mut chart).map_err(fail)?;
        root.present().map_err(fail)?;
    }
    Ok(out)
}

/// The pixel width of a chart's plotting area.
pub fn plot_width<Y: Ranged>(chart: &Chart<'_, '_, Y>) -> u32 {
    chart.plotting_area().dim_in_pixel().0.max(1)
}

/// Shades every fault span from `low` to `high` on the y axis, labelled at `high` with
/// what it was and whom it hit, and marks every clock step with a line and the node's new
/// offset, labelled at `low`. Labels are staggered over three lines so that close faults
/// stay readable.
pub fn draw_faults<Y>(
    chart: &mut Chart<'_, '_, Y>,
    faults: &Faults,
    low: Y::ValueType,
    high: Y::ValueType,
) -> Result<(), DrawError>
where
    Y: Ranged,
    Y::ValueType: Clone + 'static,
{
    chart.draw_series(faults.spans.iter().map(|s| {
        Rectangle::new(
            [(s.from_s, low.clone()), (s.until_s, high.clone())],
            FAULT.mix(0.3).filled(),
        )
    }))?;
    chart.draw_series(faults.spans.iter().enumerate().map(|(i, s)| {
        let label = match &s.node {
            Some(node) => format!("{} {node}", s.label),
            None => s.label.clone(),
        };
        let font = ("sans-serif", 13).into_font().color(&RGBColor(120, 90, 0));
        EmptyElement::at((s.from_s, high.clone()))
            + Text::new(label, (2, 2 + 14 * (i % 3) as i32), font)
    }))?;
    chart.draw_series(faults.marks.iter().map(|m| {
        PathElement::new(
            vec![(m.at_s, low.clone()), (m.at_s, high.clone())],
            DRIFT.mix(0.8).stroke_width(1),
        )
    }))?;
    chart.draw_series(faults.marks.iter().enumerate().map(|(i, m)| {
        let font = ("sans-serif", 12).into_font().color(&DRIFT);
        EmptyElement::at((m.at_s, low.clone()))
            + Text::new(
                format!("{} {:+} ms", m.node, m.offset_ms),
                (2, -16 - 14 * (i % 3) as i32),
                font,
            )
    }))?;
    Ok(())
}

/// An SVG drawn elsewhere, ready to inline in HTML: anything before its `<svg` tag (an XML
/// prolog, a doctype) dropped. plotters writes a `viewBox`, so the page's CSS scales it.
pub fn inline(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(at) => &svg[at..],
        None => svg,
    }
}
