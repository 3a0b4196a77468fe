//! What every chart of the page shares: its width, the outcome colours, a chart drawn into
//! a `String` with plotters' SVG backend, and the run's faults drawn on it (partitions,
//! pauses and kills shaded across the whole chart in their kinds' colours, clock steps as
//! purple lines, nodes that exited unasked as red lines, the first failure as a red dashed
//! line), read by [`crate::report::faults`] exactly as the SVG timelines read them. Their
//! labels go in a band between the caption and the plot, each on the first of
//! [`BAND_LINES`] lines where it runs into no other ([`Labels`]); one that fits nowhere is
//! left out (its span stays shaded, and the page's legend names the colours).

use super::run::Run;
use crate::history::EventType;
use crate::report::timeline::{shade_of, text_width, DrawError, Labels, DRIFT};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The width of every chart, in pixels; decimation works to this many columns.
pub const WIDTH: u32 = 1200;

/// The colour of an operation that succeeded.
pub const OK: RGBColor = RGBColor(60, 150, 90);
/// The colour of an operation that certainly failed.
pub const FAIL: RGBColor = RGBColor(215, 50, 60);
/// The colour of an operation whose outcome is unknown.
pub const INFO: RGBColor = RGBColor(120, 120, 130);

/// The colour of a node that exited unasked, and of the first failure.
pub const CRASH: RGBColor = RGBColor(180, 0, 30);

/// How many lines the band of labels above a chart has.
pub const BAND_LINES: u32 = 4;
/// The height of one line of the band, in pixels.
const BAND_LINE: u32 = 15;
/// The height of the caption, in pixels.
const CAPTION: u32 = 30;
/// The size of the labels' text, in pixels.
const LABEL_FONT: f64 = 12.0;

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

/// The grid and axes every chart of the page starts from: the page's label sizes, the
/// light grid, and the axes' descriptions; each chart adds its own labels and draws it.
pub fn mesh<'c, 'a, 'b, Y>(
    chart: &'c mut Chart<'a, 'b, Y>,
    x_desc: &str,
    y_desc: &str,
) -> plotters::chart::MeshStyle<'a, 'c, RangedCoordf64, Y, SVGBackend<'b>>
where
    Y: Ranged + plotters::coord::ranged1d::ValueFormatter<<Y as Ranged>::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 15))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .light_line_style(LIGHT);
    mesh
}

/// Draws one chart of `height` pixels into an SVG string: a caption, the band of labels,
/// the axes with their descriptions, the run's faults shaded, then `draw` on the chart,
/// then the clock steps, crashes and the first failure on top. `x` is seconds over the
/// run, `y` the chart's own range.
pub fn svg<Y>(
    height: u32,
    caption: &str,
    run: &Run,
    y: Y,
    axes: impl FnOnce(&mut Chart<'_, '_, Y::CoordDescType>) -> Result<(), DrawError>,
    draw: impl FnOnce(&mut Chart<'_, '_, Y::CoordDescType>) -> Result<(), DrawError>,
) -> Result<String, String>
where
    Y: AsRangedCoord,
    <Y::CoordDescType as Ranged>::ValueType: Clone,
{
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        let fail = |e: DrawError| e.to_string();
        root.fill(&WHITE).map_err(fail)?;
        let title = ("sans-serif", 20).into_font();
        let centred = TextStyle::from(title).pos(Pos::new(HPos::Center, VPos::Top));
        root.draw(&Text::new(
            caption.to_owned(),
            (WIDTH as i32 / 2, 8),
            centred,
        ))
        .map_err(fail)?;
        let (_, body) = root.split_vertically(CAPTION + BAND_LINES * BAND_LINE);
        let mut chart = ChartBuilder::on(&body)
            .margin(10)
            .margin_top(4)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..run.end_s.max(0.1), y)
            .map_err(fail)?;
        axes(&mut chart).map_err(fail)?;
        let plot = Plot::of(&chart);
        shade_faults(&root, &plot, run).map_err(fail)?;
        draw(&mut chart).map_err(fail)?;
        mark_events(&root, &plot, run).map_err(fail)?;
        root.present().map_err(fail)?;
    }
    Ok(out)
}

/// Where a chart's plot is, in pixels of the whole picture, and how seconds map onto it.
struct Plot {
    left: i32,
    right: i32,
    top: i32,
    bottom: i32,
    /// The pixel of 0 s and of 1 s.
    zero: f64,
    per_s: f64,
}

impl Plot {
    fn of<Y: Ranged>(chart: &Chart<'_, '_, Y>) -> Plot
    where
        Y::ValueType: Clone,
    {
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let low = chart.y_range().start;
        let zero = chart.backend_coord(&(0.0, low.clone())).0;
        let one = chart.backend_coord(&(1.0, low)).0;
        Plot {
            left: xs.start,
            right: xs.end,
            top: ys.start,
            bottom: ys.end,
            zero: f64::from(zero),
            per_s: f64::from(one - zero),
        }
    }

    /// The pixel column of `t` seconds, kept on the plot.
    fn x(&self, t: f64) -> i32 {
        ((self.zero + t * self.per_s).round() as i32).clamp(self.left, self.right)
    }
}

/// A colour darkened for text on white.
fn ink(c: RGBColor) -> RGBColor {
    let dark = |v: u8| (u16::from(v) * 6 / 10) as u8;
    RGBColor(dark(c.0), dark(c.1), dark(c.2))
}

/// Shades every fault span of `run` across the whole plot, in its kind's colour.
fn shade_faults(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    plot: &Plot,
    run: &Run,
) -> Result<(), DrawError> {
    for s in &run.faults.spans {
        let (a, b) = (
            plot.x(s.from_s),
            plot.x(s.until_s).max(plot.x(s.from_s) + 1),
        );
        root.draw(&Rectangle::new(
            [(a, plot.top), (b, plot.bottom)],
            shade_of(&s.label).mix(0.3).filled(),
        ))?;
    }
    Ok(())
}

/// One label for the band: where (seconds), what, and in which colour; earlier entries
/// are placed first.
fn labels(run: &Run) -> Vec<(f64, String, RGBColor)> {
    let mut found = Vec::new();
    if let Some(f) = &run.first_failure {
        found.push((f.at_s, format!("first failure: {}", f.check), CRASH));
    }
    found.extend(
        run.faults
            .crashes
            .iter()
            .map(|c| (c.at_s, c.label(), CRASH)),
    );
    found.extend(run.faults.spans.iter().map(|s| {
        let label = match &s.node {
            Some(node) => format!("{} {node}", s.label),
            None => s.label.clone(),
        };
        (s.from_s, label, ink(shade_of(&s.label)))
    }));
    found.extend(
        run.faults
            .marks
            .iter()
            .map(|m| (m.at_s, format!("{} {:+} ms", m.node, m.offset_ms), DRIFT)),
    );
    found
}

/// Marks clock steps, crashes and the first failure with lines across the plot, and
/// writes every label in the band above it where it runs into no other.
fn mark_events(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    plot: &Plot,
    run: &Run,
) -> Result<(), DrawError> {
    let line = |t: f64| [(plot.x(t), plot.top), (plot.x(t), plot.bottom)];
    for m in &run.faults.marks {
        root.draw(&PathElement::new(
            line(m.at_s),
            DRIFT.mix(0.8).stroke_width(1),
        ))?;
    }
    for c in &run.faults.crashes {
        root.draw(&PathElement::new(line(c.at_s), CRASH.stroke_width(2)))?;
    }
    if let Some(f) = &run.first_failure {
        root.draw(&DashedPathElement::new(
            line(f.at_s),
            8,
            4,
            CRASH.stroke_width(2),
        ))?;
    }
    let mut taken = Labels::default();
    for (t, text, colour) in labels(run) {
        let x = plot.x(t);
        let w = text_width(&text, LABEL_FONT) as i32;
        // Right of its instant, or left of it near the right edge.
        let left = x + 3 + w > plot.right;
        let (from, to, pos) = if left {
            (x - 3 - w, x - 3, HPos::Right)
        } else {
            (x + 3, x + 3 + w, HPos::Left)
        };
        let Some(band) = (0..BAND_LINES).find(|&l| taken.take(i64::from(l), from, to)) else {
            continue;
        };
        // Line 0 is nearest the plot.
        let y = plot.top - 4 - (band * BAND_LINE) as i32;
        let style = ("sans-serif", LABEL_FONT)
            .into_font()
            .color(&colour)
            .pos(Pos::new(pos, VPos::Bottom));
        let at = if left { to } else { from };
        root.draw(&Text::new(text, (at, y), style))?;
    }
    Ok(())
}

/// The pixel width of a chart's plotting area.
pub fn plot_width<Y: Ranged>(chart: &Chart<'_, '_, Y>) -> u32 {
    chart.plotting_area().dim_in_pixel().0.max(1)
}

/// An SVG drawn elsewhere, ready to inline in HTML: anything before its `<svg` tag (an XML
/// prolog, a doctype) dropped. plotters writes a `viewBox`, so the page's CSS scales it.
pub fn inline(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(at) => &svg[at..],
        None => svg,
    }
}
