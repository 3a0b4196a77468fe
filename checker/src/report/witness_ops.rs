//! Pictures of the operations a witness names, so that a stale read and the write it missed
//! are visible at a glance: one row per client, a bar from each operation's invocation to
//! its completion, coloured by the part it plays in the witness.
//!
//! Any witness qualifies: an operation is any JSON object in it with a `process` and an
//! `invoked_s` (and `completed_s`, null when it never completed), as the linearizability
//! check writes them; its part is the key it sits under (`read`, `missed`, `source`,
//! `cannot_place`, `must_follow`, `in_its_way`, `its_stretch`, `evidence`, `piece`, or any
//! other a check chooses).

use super::svg::{cut, escape, legend_entry, seconds, ticks, PALETTE, RED};
use serde_json::Value;
use std::fmt::Write;

/// One operation named in a witness.
#[derive(Debug, Clone)]
pub struct Op {
    /// The key it sits under in the witness: `read`, `missed`, `source`, ...
    pub part: String,
    index: Option<u64>,
    process: String,
    /// When it was invoked, in seconds.
    pub invoked: f64,
    /// When it completed, in seconds; `None` when it never did.
    pub completed: Option<f64>,
    text: String,
}

/// What each part is called in the legend and how it is drawn, the first parts first
/// (an operation named under two parts is drawn as the first).
const PARTS: [(&str, &str, &str); 9] = [
    ("read", "the stale read", RED),
    ("cannot_place", "the operation no order can place", RED),
    ("missed", "the write it missed", "#1f77b4"),
    ("must_follow", "the operation it must follow", "#1f77b4"),
    (
        "in_its_way",
        "an operation of the stretch in its way",
        "#1f77b4",
    ),
    ("source", "the write whose value it returned", "#2ca02c"),
    ("its_stretch", "an operation of its own stretch", "#2ca02c"),
    (
        "evidence",
        "the operation that shows it took effect",
        "#2ca02c",
    ),
    (
        "piece",
        "another operation in the piece searched",
        "#9a9a9a",
    ),
];

/// A picture of the operations `witness` names; `None` when it names none.
pub fn picture(witness: &Value) -> Option<String> {
    let ops = operations(witness);
    (!ops.is_empty()).then(|| draw(&ops))
}

/// The operations in `witness`, each once, in the order first met.
pub fn operations(witness: &Value) -> Vec<Op> {
    let mut found = Vec::new();
    collect(witness, "", &mut found);
    let rank = |part: &str| {
        PARTS
            .iter()
            .position(|p| p.0 == part)
            .unwrap_or(PARTS.len())
    };
    let mut unique: Vec<Op> = Vec::new();
    for op in found {
        match unique
            .iter_mut()
            .find(|o| o.index.is_some() && o.index == op.index)
        {
            Some(seen) if rank(&op.part) < rank(&seen.part) => seen.part = op.part,
            Some(_) => {}
            None => unique.push(op),
        }
    }
    unique
}

fn collect(value: &Value, part: &str, found: &mut Vec<Op>) {
    match value {
        Value::Object(map) => {
            if let (Some(process), Some(invoked)) = (
                map.get("process"),
                map.get("invoked_s").and_then(Value::as_f64),
            ) {
                found.push(Op {
                    part: part.to_owned(),
                    index: map.get("index").and_then(Value::as_u64),
                    process: match process {
                        Value::String(s) => s.clone(),
                        other => format!("client {other}"),
                    },
                    invoked,
                    completed: map.get("completed_s").and_then(Value::as_f64),
                    text: map
                        .get("op")
                        .and_then(Value::as_str)
                        .or_else(|| map.get("f").and_then(Value::as_str))
                        .unwrap_or("operation")
                        .to_owned(),
                });
                return;
            }
            for (key, v) in map {
                collect(v, key, found);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, part, found)),
        _ => {}
    }
}

fn style(part: &str) -> (&'static str, String) {
    match PARTS.iter().find(|p| p.0 == part) {
        Some((_, label, colour)) => (colour, (*label).to_owned()),
        None => (PALETTE[3], format!("named as {part}")),
    }
}

const LEFT: f64 = 80.0;
const WIDTH: f64 = 960.0;
const RIGHT: f64 = 20.0;
const ROW: f64 = 22.0;

/// The parts a witness is about; the picture's time axis is fitted to these, and other
/// operations that began earlier are drawn from its left edge.
pub const FOCUS: [&str; 5] = [
    "read",
    "missed",
    "cannot_place",
    "must_follow",
    "in_its_way",
];

/// The parts that are the operation that went wrong (the others led to it).
pub const WRONG: [&str; 2] = ["read", "cannot_place"];

fn draw(ops: &[Op]) -> String {
    // One row per operation, in invocation order, so no two labels share a line.
    let mut rows: Vec<&Op> = ops.iter().collect();
    rows.sort_by(|a, b| a.invoked.total_cmp(&b.invoked));
    let focus: Vec<&Op> = match rows.iter().any(|o| FOCUS.contains(&o.part.as_str())) {
        true => rows
            .iter()
            .copied()
            .filter(|o| FOCUS.contains(&o.part.as_str()))
            .collect(),
        false => rows.clone(),
    };
    let start = focus
        .iter()
        .map(|o| o.invoked)
        .fold(f64::INFINITY, f64::min);
    let end = rows
        .iter()
        .map(|o| o.completed.unwrap_or(o.invoked))
        .fold(start, f64::max);
    let span = (end - start).max(0.001);
    // Room on the right for the labels of the last operations.
    let (from, to) = (start - span * 0.08, end + span * 0.6);
    let tx = |t: f64| LEFT + (t - from) / (to - from) * (WIDTH - LEFT - RIGHT);

    let mut legend = String::new();
    let mut x = 10.0;
    let mut shown_parts: Vec<&str> = Vec::new();
    for op in &rows {
        if shown_parts.contains(&op.part.as_str()) {
            continue;
        }
        shown_parts.push(&op.part);
    }
    shown_parts.sort_by_key(|p| PARTS.iter().position(|q| q.0 == *p).unwrap_or(PARTS.len()));
    for part in shown_parts {
        let (colour, label) = style(part);
        let swatch = format!(r#"<rect width="24" height="10" fill="{colour}"/>"#);
        x += legend_entry(&mut legend, x, 8.0, &swatch, &label);
    }
    if rows.iter().any(|o| o.completed.is_none()) {
        let swatch =
            r##"<rect width="24" height="10" fill="none" stroke="#555" stroke-dasharray="3 2"/>"##;
        x += legend_entry(&mut legend, x, 8.0, swatch, "never completed");
    }
    if rows.iter().any(|o| o.invoked < from) {
        let swatch = r##"<text x="0" y="10" font-size="12" fill="#555">◀</text>"##;
        legend_entry(&mut legend, x, 8.0, swatch, "began earlier");
    }
    let top = 34.0;
    let bottom = top + ROW * rows.len() as f64;
    let height = bottom + 26.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="witness" width="{WIDTH:.0}" height="{height:.0}" viewBox="0 0 {WIDTH:.0} {height:.0}" font-family="sans-serif">{legend}"#
    );
    for t in ticks(from.max(0.0), to, 6) {
        let x = tx(t);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#eee"/><text x="{x:.1}" y="{:.1}" font-size="10" fill="#555" text-anchor="middle">{}</text>"##,
            bottom + 14.0,
            seconds(t)
        );
    }
    for (row, op) in rows.iter().enumerate() {
        let y = top + ROW * row as f64 + 4.0;
        let (colour, _) = style(&op.part);
        let x1 = tx(op.invoked).max(LEFT);
        let x2 = tx(op.completed.unwrap_or(to)).max(x1 + 3.0);
        let outline = if op.completed.is_none() {
            r##" fill-opacity="0.35" stroke="#555" stroke-dasharray="3 2""##
        } else {
            ""
        };
        let earlier = if op.invoked < from {
            format!(
                r##"<text x="{:.1}" y="{:.1}" font-size="12" fill="#555">◀</text>"##,
                LEFT - 12.0,
                y + 11.0
            )
        } else {
            String::new()
        };
        let when = match op.completed {
            Some(c) => format!("{} to {}", seconds(op.invoked), seconds(c)),
            None => format!("from {}, never completed", seconds(op.invoked)),
        };
        let label = escape(&cut(&op.text, 90));
        // The label right of the bar, else left of it, else inside it.
        let wide = 5.5 * label.chars().count() as f64;
        let (lx, anchor) = if WIDTH - RIGHT - x2 - 6.0 > wide {
            (x2 + 6.0, "start")
        } else if x1 - 6.0 - LEFT > wide {
            (x1 - 6.0, "end")
        } else {
            (x1 + 4.0, "start")
        };
        let _ = write!(
            out,
            r##"<g><title>{}</title><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11" fill="#333">{}</text>{earlier}<rect x="{x1:.1}" y="{y:.1}" width="{:.1}" height="13" fill="{colour}"{outline}/><text x="{lx:.1}" y="{:.1}" font-size="11" text-anchor="{anchor}">{label}</text></g>"##,
            escape(&format!("{} ({when})", op.text)),
            LEFT - 16.0,
            y + 11.0,
            escape(&op.process),
            x2 - x1,
            y + 11.0,
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn op(index: u64, process: u64, text: &str, from: f64, to: Option<f64>) -> Value {
        json!({"index": index, "process": process, "f": "read", "op": text, "invoked_s": from, "completed_s": to})
    }

    #[test]
    fn a_stale_read_is_drawn_with_the_write_it_missed_and_a_legend() {
        let stale = json!({"kind": "stale-read", "why": "read of 1 returned 3...",
            "read": op(7, 2, "read of 1 returned 3 [client 2]", 1.5, Some(1.6)),
            "missed": op(5, 1, "write 1=4 [client 1]", 1.0, Some(1.2)),
            "source": op(3, 3, "write 1=3 (outcome unknown)", 0.5, None)});
        let svg = &picture(&stale).expect("a picture");
        for text in [
            "the stale read",
            "the write it missed",
            "the write whose value it returned",
            "never completed",
            "client 1",
            "client 2",
            "client 3",
            "write 1=4 [client 1]",
        ] {
            assert!(svg.contains(text), "{text} missing from {svg}");
        }
        assert!(svg.contains(RED));
    }

    #[test]
    fn an_order_witness_is_drawn_with_what_stands_in_its_way() {
        let order = json!({"kind": "order", "why": "read of 1 returned 1 ... cannot be placed",
            "cannot_place": op(7, 3, "read of 1 returned 1 [client 3]", 0.025, Some(0.04)),
            "in_its_way": [op(2, 2, "write 1=2 [client 2]", 0.005, Some(0.02)), op(8, 4, "read of 1 returned 2", 0.03, Some(0.05))],
            "its_stretch": [op(1, 1, "write 1=1 [client 1]", 0.0, Some(0.01))]});
        let parts: Vec<String> = operations(&order).into_iter().map(|o| o.part).collect();
        assert_eq!(
            parts,
            ["cannot_place", "in_its_way", "in_its_way", "its_stretch"]
        );
        let svg = &picture(&order).expect("a picture");
        for text in [
            "the operation no order can place",
            "an operation of the stretch in its way",
            "an operation of its own stretch",
        ] {
            assert!(svg.contains(text), "{text} missing from {svg}");
        }
        // It went wrong when the read completed; what led to it began with the write.
        assert_eq!(
            crate::report::failure::witness_time(&order),
            Some((0.04, 0.005))
        );
    }

    #[test]
    fn an_operation_named_twice_takes_its_first_part_and_a_witness_without_operations_draws_nothing(
    ) {
        let search = json!({"kind": "search", "why": "...",
            "cannot_place": op(4, 1, "cas", 2.0, Some(2.5)),
            "piece": [op(4, 1, "cas", 2.0, Some(2.5)), op(6, 2, "write", 1.9, Some(2.1))]});
        let ops = operations(&search);
        assert_eq!(ops.len(), 2);
        assert_eq!(ops[0].part, "cannot_place");
        assert_eq!(ops[1].part, "piece");
        assert!(picture(&json!({"why": "x", "node": "n1"})).is_none());
    }
}
