//! The lease timeline (see [`crate::report::timeline`] for the frame): leases, check
//! windows, and each overlap of two holders in red, at least 6 px wide whatever its length,
//! joined across its two rows and labelled with its length and nodes.

use super::check::{holdings, overlaps, Clocks};
use crate::check::Record;
use crate::report::timeline::{
    at_least, record_end_s, text_width, timeline, Frame, Labels, Mark, CHECK, HELD, SPLIT,
};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
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
    let mut frame = Frame::nodes(record, title, end_s)
        .key("lease granted (acquire_lease_ok)", HELD, Mark::Bar)
        .key("check_lease window answered valid", CHECK, Mark::Bar);
    if !split.is_empty() {
        frame = frame.key("two holders at once (split-brain)", SPLIT, Mark::Bar);
    }
    timeline(record, path, frame, |chart, rows| {
        // Leases, then check windows as ticks.
        chart.draw_series(held.iter().filter(|h| !h.window).filter_map(|h| {
            let r = rows.of(&h.node)?;
            Some(Rectangle::new(
                [(h.from / 1000.0, r - 0.2), (h.until / 1000.0, r + 0.2)],
                HELD.filled(),
            ))
        }))?;
        let windows: Vec<_> = held
            .iter()
            .filter(|h| h.window)
            .filter_map(|h| {
                let (from, until) = at_least(chart, h.from / 1000.0, h.until / 1000.0, 2.0);
                let r = rows.of(&h.node)?;
                Some(Rectangle::new(
                    [(from, r - 0.3), (until, r - 0.22)],
                    CHECK.filled(),
                ))
            })
            .collect();
        chart.draw_series(windows)?;

        // Split-brain: red across both rows, at least 6 px wide, joined by a red line.
        let marks: Vec<(f64, f64, f64, f64, String)> = split
            .iter()
            .filter_map(|o| {
                let (a, b) = (&held[o.a], &held[o.b]);
                let (ra, rb) = (rows.of(&a.node)?, rows.of(&b.node)?);
                let (from, until) = at_least(chart, o.from / 1000.0, o.until / 1000.0, 6.0);
                let (first, second) = if ra <= rb { (a, b) } else { (b, a) };
                let words = format!("{:.0} ms {}+{}", o.until - o.from, first.node, second.node);
                Some((from, until, ra.min(rb), ra.max(rb), words))
            })
            .collect();
        chart.draw_series(marks.iter().flat_map(|(from, until, low, high, _)| {
            [*low, *high]
                .map(|r| Rectangle::new([(*from, r - 0.3), (*until, r + 0.3)], SPLIT.filled()))
        }))?;
        chart.draw_series(marks.iter().map(|(from, until, low, high, _)| {
            let mid = (from + until) / 2.0;
            PathElement::new(vec![(mid, *low), (mid, *high)], SPLIT.stroke_width(2))
        }))?;
        // Each overlap's length and nodes above its upper row, where the last left room.
        let mut labels = Labels::default();
        let texts: Vec<_> = marks
            .iter()
            .filter_map(|(from, _, _, high, words)| {
                let (x, _) = chart.backend_coord(&(*from, *high));
                let w = text_width(words, 12.0) as i32;
                labels.take(*high as i64, x, x + w).then(|| {
                    Text::new(
                        words.clone(),
                        (*from, high + 0.31),
                        ("sans-serif", 12)
                            .into_font()
                            .color(&SPLIT)
                            .pos(Pos::new(HPos::Left, VPos::Bottom)),
                    )
                })
            })
            .collect();
        chart.draw_series(texts)?;
        Ok(())
    })
}
