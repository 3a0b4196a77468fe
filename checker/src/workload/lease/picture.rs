//! The lease timeline (see [`crate::report::timeline`] for the frame).

use super::check::{holdings, overlaps, Clocks};
use crate::check::Record;
use crate::report::timeline::{record_end_s, timeline, CHECK, HELD, SPLIT};
use plotters::prelude::*;
use std::path::Path;

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
                HELD.filled(),
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
