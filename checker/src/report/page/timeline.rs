//! The timeline of every client operation: one row per client process, a bar from invoke
//! to completion coloured by outcome, faults shaded. Decimated to the pixel: each row is
//! cut into the plot's pixel columns, each column keeps the worst outcome of the
//! operations that touch it, and runs of equal columns become one bar, so the drawing has
//! at most one bar per column and row however many operations the run had.

use super::frame::{self, badness, colour, plot_width};
use super::run::{Op, Run};
use crate::history::EventType;
use plotters::prelude::*;

/// Consecutive pixel columns of one row with the same worst outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// The row.
    pub row: usize,
    /// The first column.
    pub first: u32,
    /// The last column (inclusive).
    pub last: u32,
    /// The worst outcome in them.
    pub outcome: EventType,
}

/// The bars of `ops` on `rows` rows over `columns` pixel columns spanning `0..end_s`.
pub fn decimate(ops: &[Op], rows: usize, end_s: f64, columns: u32) -> Vec<Bar> {
    const EMPTY: u8 = u8::MAX;
    let width = columns.max(1) as usize;
    let column = |t: f64| ((t / end_s * width as f64).floor().max(0.0) as usize).min(width - 1);
    let mut cells = vec![EMPTY; rows * width];
    for op in ops.iter().filter(|op| op.row < rows) {
        let worst = badness(op.outcome);
        let line = &mut cells[op.row * width..(op.row + 1) * width];
        for cell in &mut line[column(op.invoke_s)..=column(op.until_s)] {
            if *cell == EMPTY || *cell < worst {
                *cell = worst;
            }
        }
    }
    let outcome = |b: u8| match b {
        0 => EventType::Ok,
        1 => EventType::Fail,
        _ => EventType::Info,
    };
    let mut bars = Vec::new();
    for (row, line) in cells.chunks(width).enumerate() {
        let mut at = 0;
        while at < width {
            let b = line[at];
            let mut end = at;
            while end + 1 < width && line[end + 1] == b {
                end += 1;
            }
            if b != EMPTY {
                bars.push(Bar {
                    row,
                    first: at as u32,
                    last: end as u32,
                    outcome: outcome(b),
                });
            }
            at = end + 1;
        }
    }
    bars
}

/// The timeline as an SVG.
pub fn svg(run: &Run) -> Result<String, String> {
    let rows = run.processes.len().max(1);
    let top = rows as f64 - 0.5;
    let height = 150 + 26 * rows as u32;
    let caption = format!(
        "{} client operations of {} processes",
        run.ops.len(),
        run.processes.len()
    );
    // Row 0 at the top.
    let y = |row: usize| (rows - 1 - row) as f64;
    let labels = |v: &f64| {
        if (v - v.round()).abs() > 0.01 {
            return String::new();
        }
        let row = rows as i64 - 1 - v.round() as i64;
        usize::try_from(row)
            .ok()
            .and_then(|r| run.processes.get(r))
            .cloned()
            .unwrap_or_default()
    };
    frame::svg(
        height,
        &caption,
        run,
        -0.5..top,
        |chart| {
            frame::mesh(chart, "seconds since the run started", "client process")
                .y_labels(rows.min(40))
                .y_label_formatter(&labels)
                .disable_y_mesh()
                .draw()
        },
        |chart| {
            let columns = plot_width(chart);
            let step = run.end_s / columns as f64;
            let bars = decimate(&run.ops, rows, run.end_s, columns);
            chart.draw_series(bars.iter().map(|b| {
                let r = y(b.row);
                Rectangle::new(
                    [
                        (b.first as f64 * step, r - 0.34),
                        ((b.last + 1) as f64 * step, r + 0.34),
                    ],
                    colour(b.outcome).filled(),
                )
            }))?;
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(row: usize, from: f64, until: f64, outcome: EventType) -> Op {
        Op {
            row,
            invoke_s: from,
            until_s: until,
            completed: true,
            outcome,
        }
    }

    #[test]
    fn one_pixel_keeps_the_worst_outcome_and_runs_become_one_bar() {
        // 10 s over 10 columns: ops inside column 2 merge, the fail wins.
        let ops = [
            op(0, 2.1, 2.2, EventType::Ok),
            op(0, 2.3, 2.4, EventType::Fail),
            op(0, 2.5, 2.6, EventType::Ok),
            op(0, 5.0, 7.5, EventType::Ok),
            op(1, 0.0, 9.99, EventType::Info),
        ];
        let bars = decimate(&ops, 2, 10.0, 10);
        assert_eq!(
            bars,
            [
                Bar {
                    row: 0,
                    first: 2,
                    last: 2,
                    outcome: EventType::Fail
                },
                Bar {
                    row: 0,
                    first: 5,
                    last: 7,
                    outcome: EventType::Ok
                },
                Bar {
                    row: 1,
                    first: 0,
                    last: 9,
                    outcome: EventType::Info
                },
            ]
        );
    }

    #[test]
    fn bars_are_bounded_by_the_pixels_not_the_operations() {
        let ops: Vec<Op> = (0..100_000)
            .map(|i| {
                let t = i as f64 * 0.0006;
                let outcome = if i % 97 == 0 {
                    EventType::Fail
                } else {
                    EventType::Ok
                };
                op(i % 5, t, t + 0.0004, outcome)
            })
            .collect();
        let bars = decimate(&ops, 5, 60.0, 1000);
        assert!(bars.len() <= 5 * 1000, "{} bars", bars.len());
        assert!(bars.iter().any(|b| b.outcome == EventType::Fail));
    }
}
