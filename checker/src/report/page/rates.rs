//! Latency and throughput over time, faults shaded. Latency: each completed operation's
//! latency at its completion, coloured by outcome, on a log axis; decimated per bin of
//! three pixel columns and outcome to its minimum, quantiles (median, 90th, 99th) and
//! maximum when a bin holds more than five. Throughput: operations completed per second in
//! bins of a round width, one line per outcome: about ten completions a bin on average, at
//! most a hundred bins a run, so that one operation never reads as a rate of hundreds per
//! second; a run of fewer than [`FEW`] completions shows counts per bin instead.

use super::frame::{self, colour, plot_width};
use super::run::{Op, Run};
use crate::history::EventType;
use plotters::prelude::*;

/// The outcomes, in the order they are drawn and listed.
const OUTCOMES: [EventType; 3] = [EventType::Ok, EventType::Fail, EventType::Info];

/// The points of the latency chart: (completion time in s, latency in ms, outcome), at
/// most seven per bin and outcome.
pub fn latency_points(ops: &[Op], end_s: f64, bins: usize) -> Vec<(f64, f64, EventType)> {
    let bins = bins.max(1);
    let mut binned: Vec<Vec<f64>> = vec![Vec::new(); bins * OUTCOMES.len()];
    let mut times: Vec<f64> = vec![0.0; bins];
    for op in ops {
        let Some(latency) = op.latency_s() else {
            continue;
        };
        let bin = ((op.until_s / end_s * bins as f64) as usize).min(bins - 1);
        let kind = OUTCOMES.iter().position(|o| *o == op.outcome).unwrap_or(2);
        binned[bin * OUTCOMES.len() + kind].push(latency * 1e3);
    }
    for (bin, t) in times.iter_mut().enumerate() {
        *t = (bin as f64 + 0.5) * end_s / bins as f64;
    }
    let mut points = Vec::new();
    for (at, mut values) in binned.into_iter().enumerate() {
        let (bin, kind) = (at / OUTCOMES.len(), at % OUTCOMES.len());
        values.sort_by(f64::total_cmp);
        let kept: Vec<f64> = if values.len() <= 5 {
            values
        } else {
            let q = |p: f64| values[((values.len() - 1) as f64 * p).round() as usize];
            vec![q(0.0), q(0.5), q(0.9), q(0.99), q(1.0)]
        };
        points.extend(kept.into_iter().map(|v| (times[bin], v, OUTCOMES[kind])));
    }
    points
}

/// A round bin width giving about `bins` bins over `end_s`: 1, 2 or 5 times a power of 10.
pub fn bin_width(end_s: f64, bins: f64) -> f64 {
    let raw = (end_s / bins).max(1e-3);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|w| *w >= raw)
        .unwrap_or(10.0 * power)
}

/// Below this many completions, the throughput chart counts per bin instead of per second.
pub const FEW: usize = 50;

/// The throughput bins for `completed` completions over `end_s`: their width (about ten
/// completions a bin on average, at most a hundred bins), and whether to show a rate
/// (else counts per bin, when there are fewer than [`FEW`]).
pub fn throughput_bins(completed: usize, end_s: f64) -> (f64, bool) {
    let bins = (completed as f64 / 10.0).clamp(1.0, 100.0);
    (bin_width(end_s, bins), completed >= FEW)
}

/// Completions per second (or per bin, when `rate` is false) in bins of `width` s, per
/// outcome (in [`OUTCOMES`] order).
pub fn throughput(ops: &[Op], end_s: f64, width: f64, rate: bool) -> Vec<Vec<(f64, f64)>> {
    let bins = (end_s / width).ceil().max(1.0) as usize;
    let mut counts = vec![vec![0u64; bins]; OUTCOMES.len()];
    for op in ops.iter().filter(|op| op.completed) {
        let bin = ((op.until_s / width) as usize).min(bins - 1);
        let kind = OUTCOMES.iter().position(|o| *o == op.outcome).unwrap_or(2);
        counts[kind][bin] += 1;
    }
    counts
        .into_iter()
        .map(|line| {
            line.into_iter()
                .enumerate()
                .map(|(bin, n)| {
                    let per = if rate { width } else { 1.0 };
                    ((bin as f64 + 0.5) * width, n as f64 / per)
                })
                .collect()
        })
        .collect()
}

/// The latency chart as an SVG; `None` when no operation completed.
pub fn latency_svg(run: &Run) -> Result<Option<String>, String> {
    let latencies: Vec<f64> = run.ops.iter().filter_map(Op::latency_s).collect();
    if latencies.is_empty() {
        return Ok(None);
    }
    let low = latencies.iter().copied().fold(f64::MAX, f64::min) * 1e3;
    let high = latencies.iter().copied().fold(0.0, f64::max) * 1e3;
    let (low, high) = (
        (low * 0.7).max(1e-3),
        (high * 1.6).max(low * 10.0).max(1e-2),
    );
    let caption = format!("latency of {} completed operations", latencies.len());
    frame::svg(
        420,
        &caption,
        run,
        (low..high).log_scale(),
        |chart| {
            frame::mesh(
                chart,
                "seconds since the run started (at completion)",
                "latency (ms, log)",
            )
            .y_label_formatter(&|v| {
                format!("{v:.3}")
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_owned()
            })
            .draw()
        },
        |chart| {
            let bins = (plot_width(chart) / 3) as usize;
            let points = latency_points(&run.ops, run.end_s, bins);
            chart.draw_series(points.iter().map(|(t, ms, outcome)| {
                Circle::new((*t, *ms), 2, colour(*outcome).mix(0.8).filled())
            }))?;
            Ok(())
        },
    )
    .map(Some)
}

/// The throughput chart as an SVG; `None` when no operation completed.
pub fn throughput_svg(run: &Run) -> Result<Option<String>, String> {
    let completed = run.ops.iter().filter(|op| op.completed).count();
    if completed == 0 {
        return Ok(None);
    }
    let (width, rate) = throughput_bins(completed, run.end_s);
    let lines = throughput(&run.ops, run.end_s, width, rate);
    let high = lines.iter().flatten().map(|p| p.1).fold(1.0, f64::max) * 1.2;
    let (caption, y_desc) = if rate {
        (
            format!("operations completed per second (bins of {width} s)"),
            "completions per second",
        )
    } else {
        (
            format!("operations completed per bin of {width} s ({completed}: too few for a rate)"),
            "completions per bin",
        )
    };
    frame::svg(
        360,
        &caption,
        run,
        0.0..high,
        |chart| frame::mesh(chart, "seconds since the run started", y_desc).draw(),
        |chart| {
            for (line, outcome) in lines.iter().zip(OUTCOMES) {
                if line.iter().all(|p| p.1 == 0.0) {
                    continue;
                }
                chart.draw_series(std::iter::once(PathElement::new(
                    line.clone(),
                    colour(outcome).stroke_width(2),
                )))?;
            }
            Ok(())
        },
    )
    .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(until: f64, latency: f64, outcome: EventType) -> Op {
        Op {
            row: 0,
            invoke_s: until - latency,
            until_s: until,
            completed: true,
            outcome,
        }
    }

    #[test]
    fn a_crowded_bin_keeps_its_extremes_and_quantiles() {
        let ops: Vec<Op> = (1..=1000)
            .map(|i| op(5.0, i as f64 / 1000.0, EventType::Ok))
            .collect();
        let points = latency_points(&ops, 10.0, 10);
        let values: Vec<f64> = points.iter().map(|p| p.1).collect();
        assert_eq!(values.len(), 5);
        let near = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(
            near(values[0], 1.0) && near(values[4], 1000.0),
            "{values:?}"
        );
        assert!(
            near(values[1], 500.0) || near(values[1], 501.0),
            "{values:?}"
        );
        let few = latency_points(&ops[..3], 10.0, 10);
        assert_eq!(few.len(), 3, "a bin of few keeps them all");
    }

    #[test]
    fn throughput_counts_per_second_by_outcome() {
        let ops = [
            op(0.5, 0.1, EventType::Ok),
            op(0.7, 0.1, EventType::Ok),
            op(1.5, 0.1, EventType::Fail),
        ];
        let lines = throughput(&ops, 2.0, 1.0, true);
        assert_eq!(lines[0], [(0.5, 2.0), (1.5, 0.0)]);
        let counts = throughput(&ops, 2.0, 0.5, false);
        assert_eq!(counts[0][1], (0.75, 2.0), "a count, not 4/s");
        assert_eq!(lines[1], [(0.5, 0.0), (1.5, 1.0)]);
        assert_eq!(bin_width(60.0, 100.0), 1.0);
        assert_eq!(bin_width(3.0, 100.0), 0.05);
    }

    #[test]
    fn few_operations_get_wide_bins_and_counts() {
        // One completion in a 0.2 s run: one bin, a count of one (not "200/s").
        assert_eq!(throughput_bins(1, 0.2), (0.2, false));
        // 40 in 10 s: four bins of 5 s, still counts.
        assert_eq!(throughput_bins(40, 10.0), (5.0, false));
        // 6,000 in 60 s: a hundred bins, a rate.
        assert_eq!(throughput_bins(6000, 60.0), (1.0, true));
        assert_eq!(throughput_bins(243, 17.0), (1.0, true));
    }
}
