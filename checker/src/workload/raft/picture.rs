//! The raft timeline (see [`crate::report::timeline`] for the frame): who led which term
//! when, from the `append_entries` on the wire ([`wire::leaderships`]); a term two nodes
//! led (election safety broken) in red on both rows, joined, and named above them.

use super::wire;
use crate::check::Record;
use crate::report::timeline::{
    at_least, fits, record_end_s, text_width, timeline, Frame, Labels, Mark, HELD, SPLIT,
};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;
use std::path::Path;

/// Draws the leaders per term of `record` to `path`; an error says what failed.
pub fn raft_timeline(record: &Record, path: &Path) -> Result<(), String> {
    let led = wire::leaderships(&record.net_lines(wire::Wire::is_raft).lines);
    let mut leaders: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for (_, _, term, node) in &led {
        leaders.entry(*term).or_default().push(node);
    }
    // Terms with two (or more) leaders: election safety broken.
    let split: BTreeMap<u64, Vec<&str>> =
        leaders.into_iter().filter(|(_, n)| n.len() > 1).collect();
    let terms = led
        .iter()
        .map(|l| l.2)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let title = if split.is_empty() {
        format!("leaders per term: {terms} term(s) led, one leader each")
    } else {
        format!(
            "leaders per term: {} term(s) with two leaders, in red (election safety broken)",
            split.len()
        )
    };
    let mut frame = Frame::nodes(record, title, record_end_s(record)).key(
        "leader of a term (first to last append_entries)",
        HELD,
        Mark::Bar,
    );
    if !split.is_empty() {
        frame = frame.key("two leaders in one term (both in red)", SPLIT, Mark::Bar);
    }
    timeline(record, path, frame, |chart, rows| {
        let bars: Vec<_> = led
            .iter()
            .filter_map(|(from, until, term, node)| {
                let r = rows.of(node)?;
                let broken = split.contains_key(term);
                let (from, until) = at_least(chart, *from, *until, if broken { 6.0 } else { 3.0 });
                let colour = if broken { SPLIT } else { HELD };
                Some(Rectangle::new(
                    [(from, r - 0.2), (until, r + 0.2)],
                    colour.filled(),
                ))
            })
            .collect();
        chart.draw_series(bars)?;
        // Term numbers inside the bars that have room for them.
        let inside: Vec<_> = led
            .iter()
            .filter_map(|(from, until, term, node)| {
                let r = rows.of(node)?;
                let words = [format!("term {term}"), term.to_string()]
                    .into_iter()
                    .find(|w| fits(chart, *from, *until, w, 11.0))?;
                let (inset, _) = at_least(chart, *from, *from, 6.0);
                Some({
                    Text::new(
                        words,
                        (*from + (*from - inset), r),
                        ("sans-serif", 11)
                            .into_font()
                            .color(&WHITE)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )
                })
            })
            .collect();
        chart.draw_series(inside)?;
        // Each broken term: its leaders' rows joined at the second one's start, and named
        // above the upper row where the last label left room.
        let mut labels = Labels::default();
        let mut joins = Vec::new();
        let mut texts = Vec::new();
        for (term, nodes) in &split {
            let spans: Vec<(f64, f64)> = led
                .iter()
                .filter(|l| l.2 == *term)
                .filter_map(|l| Some((l.0, rows.of(&l.3)?)))
                .collect();
            let Some(at) = spans.iter().map(|s| s.0).reduce(f64::max) else {
                continue;
            };
            let low = spans.iter().map(|s| s.1).fold(f64::INFINITY, f64::min);
            let high = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
            joins.push(PathElement::new(
                vec![(at, low), (at, high)],
                SPLIT.stroke_width(2),
            ));
            let words = format!("term {term}: {}", nodes.join(" + "));
            let (x, _) = chart.backend_coord(&(at, high));
            if labels.take(high as i64, x, x + text_width(&words, 12.0) as i32) {
                texts.push(Text::new(
                    words,
                    (at, high + 0.24),
                    ("sans-serif", 12)
                        .into_font()
                        .color(&SPLIT)
                        .pos(Pos::new(HPos::Left, VPos::Bottom)),
                ));
            }
        }
        chart.draw_series(joins)?;
        chart.draw_series(texts)?;
        Ok(())
    })
}
