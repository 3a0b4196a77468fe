//! Small pieces of hand-written SVG the report's diagrams share: text escaping and the
//! palette of message and operation kinds.

use std::fmt::Write;

/// Colours for kinds drawn side by side (message types, operation roles), in order of use;
/// what runs past the end is drawn in [`OTHER`].
pub const PALETTE: [&str; 9] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
    "#7f7f7f",
];

/// The colour of kinds beyond the palette.
pub const OTHER: &str = "#b0b0b0";

/// The red of a failure: a stale read, a dropped message.
pub const RED: &str = "#d62728";

/// `text` escaped for SVG text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// A legend row at (`x`, `y`): a swatch drawn by `swatch` (SVG for a 24x10 box at the
/// origin) and its label. Returns the width it took.
pub fn legend_entry(out: &mut String, x: f64, y: f64, swatch: &str, label: &str) -> f64 {
    let _ = write!(
        out,
        r#"<g transform="translate({x:.1},{y:.1})">{swatch}<text x="30" y="10" font-size="12">{}</text></g>"#,
        escape(label)
    );
    36.0 + 7.0 * label.chars().count() as f64
}

/// Seconds as a label: milliseconds below 10 s, else tenths.
pub fn seconds(s: f64) -> String {
    if s.abs() < 10.0 {
        format!("{s:.3} s")
    } else {
        format!("{s:.1} s")
    }
}

/// Round instants between `from` and `to` for the time axis: about `count` of them.
pub fn ticks(from: f64, to: f64, count: usize) -> Vec<f64> {
    let span = (to - from).max(1e-6);
    let raw = span / count.max(2) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|k| k * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (from / step - 1e-9).ceil() as i64;
    let last = (to / step + 1e-9).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_cutting_keep_svg_well_formed() {
        assert_eq!(
            escape(r#"<a href="x">&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(escape("a\nb"), "a b");
        assert_eq!(cut("abcdef", 3), "abc…");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("ééé", 2), "éé…");
        assert_eq!(seconds(1.23456), "1.235 s");
        assert_eq!(seconds(12.34), "12.3 s");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.0, 1.0, 10).len(), 11);
        let t = ticks(0.05, 0.3, 10);
        assert_eq!(t.len(), 6);
        assert!((t[0] - 0.05).abs() < 1e-9 && (t[5] - 0.3).abs() < 1e-9);
    }
}
