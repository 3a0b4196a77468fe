//! The message diagram of a run (Lamport's space-time diagram, as Maelstrom draws it): one
//! column per node (and per service the nodes talked to), time flowing down, an arrow from
//! each message's send to its delivery, coloured by message type; a dropped message ends
//! in a red cross partway, with why it was dropped; the nemesis's faults as labelled
//! lines across, a node that exited unasked as a red line across, the first failure as a
//! red dashed one. Hovering an arrow shows the message.
//!
//! Client requests and replies are on the operations timeline, not here. A run with more
//! than [`MAX_DRAWN`] such messages is drawn in a window: the one asked for
//! (`eddy report --from --to`), else one around the focus the page gives (the first
//! failure's operations, else the first fault), else the start.

use super::svg::{cut, escape, legend_entry, seconds, ticks, OTHER, PALETTE, RED};
use crate::check::Record;
use crate::report::failure::FirstFailure;
use crate::report::faults::Faults;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// The most messages one diagram draws; more would be ink, not information.
pub const MAX_DRAWN: usize = 1500;

/// Which part of the run to draw.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WindowChoice {
    /// Draw the messages sent in this span (seconds since the run started), at most
    /// [`MAX_DRAWN`] of them.
    pub requested: Option<(f64, f64)>,
    /// When the window is eddy's to choose: start it a little before this instant.
    pub focus_s: Option<f64>,
}

/// A drawn diagram.
#[derive(Debug, Clone)]
pub struct Diagram {
    /// The SVG element.
    pub svg: String,
    /// One sentence saying what is drawn: how many of how many messages, which span, and
    /// how to draw another.
    pub caption: String,
}

/// One `net.jsonl` message line, as much as the diagram needs.
#[derive(Deserialize)]
struct Line {
    send: Option<u64>,
    deliver: Option<u64>,
    /// Why the network dropped it (`net.jsonl`'s `drop`).
    #[serde(rename = "drop")]
    dropped: Option<String>,
    src: Option<String>,
    dest: Option<String>,
    body: Option<Box<RawValue>>,
}

/// A message between two columns.
struct Message {
    send: f64,
    deliver: Option<f64>,
    dropped: Option<String>,
    from: usize,
    to: usize,
    body: Box<RawValue>,
}

/// The type of a message body, read alone.
#[derive(Deserialize)]
struct Typed<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
}

fn is_client(id: &str) -> bool {
    id.strip_prefix('c')
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Draws the diagram of the node-to-node traffic in the run folder `dir` (`nodes` its node
/// ids, `faults` its faults and crashes, `failure` its first failure) in the window
/// `choice` leads to; `None` when nodes sent one another nothing (or the run folder has no
/// `net.jsonl`).
pub fn message_diagram(
    dir: &Path,
    nodes: &[String],
    faults: &Faults,
    failure: Option<&FirstFailure>,
    choice: WindowChoice,
) -> Option<Diagram> {
    let mut columns: Vec<String> = nodes.to_vec();
    let record = Record {
        history: Vec::new(),
        net: Default::default(),
        nodes: columns.clone(),
        dir: Some(dir.to_path_buf()),
    };
    let lines = record.net_lines::<Line>(|l| {
        l.send.is_some()
            && l.body.is_some()
            && matches!((&l.src, &l.dest), (Some(s), Some(d)) if !is_client(s) && !is_client(d))
    });
    let mut column = |id: &str| match columns.iter().position(|c| c == id) {
        Some(i) => i,
        None => {
            columns.push(id.to_owned());
            columns.len() - 1
        }
    };
    let mut messages: Vec<Message> = lines
        .lines
        .into_iter()
        .map(|l| Message {
            send: l.send.unwrap_or(0) as f64 / 1e9,
            deliver: l.deliver.map(|d| d as f64 / 1e9),
            dropped: l.dropped,
            from: column(l.src.as_deref().unwrap_or("")),
            to: column(l.dest.as_deref().unwrap_or("")),
            body: l.body.expect("kept lines have a body"),
        })
        .collect();
    if messages.is_empty() {
        return None;
    }
    messages.sort_by(|a, b| a.send.total_cmp(&b.send));
    let total = messages.len();
    let (range, chosen) = window(&messages, choice);
    let shown = &messages[range.clone()];
    let from_s = choice
        .requested
        .map_or(shown.first().map_or(0.0, |m| m.send), |(f, _)| f);
    let to_s = choice
        .requested
        .map_or(shown.last().map_or(0.0, |m| m.send), |(_, t)| t);
    // A little room below the last send; later deliveries run off the bottom edge.
    let to_s = (to_s + (to_s - from_s) * 0.03).max(from_s + 0.001);
    let faults = faults_within(faults, failure, from_s, to_s);
    let svg = draw(&columns, shown, &faults, from_s, to_s);
    let caption = caption(total, range, chosen, from_s, to_s, &lines.first_unreadable);
    Some(Diagram { svg, caption })
}

/// How the window was chosen, for the caption.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Chosen {
    All,
    Requested,
    Focus,
    Start,
}

/// The messages to draw, as a range of `messages` (sorted by send time).
fn window(messages: &[Message], choice: WindowChoice) -> (std::ops::Range<usize>, Chosen) {
    if let Some((from, to)) = choice.requested {
        let start = messages.partition_point(|m| m.send < from);
        let end = messages.partition_point(|m| m.send <= to);
        let end = end.max(start).min(start + MAX_DRAWN);
        return (start..end, Chosen::Requested);
    }
    if messages.len() <= MAX_DRAWN {
        return (0..messages.len(), Chosen::All);
    }
    match choice.focus_s {
        Some(focus) => {
            let at = messages.partition_point(|m| m.send < focus);
            let start = at
                .saturating_sub(MAX_DRAWN / 4)
                .min(messages.len() - MAX_DRAWN);
            (start..start + MAX_DRAWN, Chosen::Focus)
        }
        None => (0..MAX_DRAWN, Chosen::Start),
    }
}

fn caption(
    total: usize,
    range: std::ops::Range<usize>,
    chosen: Chosen,
    from_s: f64,
    to_s: f64,
    unreadable: &Option<String>,
) -> String {
    let drawn = range.len();
    let mut text = match chosen {
        Chosen::All => format!("All {total} messages between nodes and services."),
        _ => format!(
            "Messages {} to {} of {total} between nodes and services ({} to {}), {}.",
            range.start + 1,
            range.start + drawn,
            seconds(from_s),
            seconds(to_s),
            match chosen {
                Chosen::Requested if drawn == MAX_DRAWN =>
                    format!("the first {MAX_DRAWN} sent in the window asked for"),
                Chosen::Requested => "the window asked for".to_owned(),
                Chosen::Focus => "a window around the first failure or fault".to_owned(),
                _ => "the start of the run".to_owned(),
            }
        ),
    };
    if chosen != Chosen::All {
        text.push_str(" `eddy report STORE --from SECONDS --to SECONDS` draws another window.");
    }
    if let Some(first) = unreadable {
        let _ = write!(
            text,
            " Some net.jsonl lines could not be read; first: {first}."
        );
    }
    text
}

/// What a line across the diagram marks.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Across {
    /// A fault beginning or ending, or a clock step.
    Fault,
    /// A node exiting unasked.
    Crash,
    /// The first failure.
    Failure,
}

impl Across {
    /// The line's stroke and its label's colour.
    fn style(self) -> (&'static str, &'static str) {
        match self {
            Across::Fault => (r##"stroke="#c89600" stroke-dasharray="6 3""##, "#8a6800"),
            Across::Crash => (r##"stroke="#b4001e" stroke-width="2""##, "#b4001e"),
            Across::Failure => (
                r##"stroke="#d7323c" stroke-width="2" stroke-dasharray="8 4""##,
                "#d7323c",
            ),
        }
    }
}

/// The starts and ends of `faults`, its crashes and the first failure between `from_s`
/// and `to_s`: when, what in words, and what kind of line.
fn faults_within(
    faults: &Faults,
    failure: Option<&FirstFailure>,
    from_s: f64,
    to_s: f64,
) -> Vec<(f64, String, Across)> {
    let within = |t: f64| (from_s..=to_s).contains(&t);
    let crashes = faults.crashes.iter().map(|c| {
        let how = c
            .exit
            .as_deref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        (c.at_s, format!("{}{how}", c.label()), Across::Crash)
    });
    let failure = failure.map(|f| {
        let what = format!("first failure: {}", f.check);
        (f.at_s, what, Across::Failure)
    });
    faults
        .spans
        .iter()
        .flat_map(|f| {
            let what = match &f.node {
                Some(node) => format!("{} {node}", f.label),
                None => f.label.clone(),
            };
            [
                (f.from_s, format!("{what} begins")),
                (f.until_s, format!("{what} ends")),
            ]
        })
        .chain(faults.marks.iter().map(|m| {
            (
                m.at_s,
                format!("{}'s clock steps to {:+} ms", m.node, m.offset_ms),
            )
        }))
        .map(|(t, what)| (t, what, Across::Fault))
        .chain(crashes)
        .chain(failure)
        .filter(|(t, _, _)| within(*t))
        .collect()
}

const LEFT: f64 = 90.0;
const TOP_PAD: f64 = 30.0;

fn draw(
    columns: &[String],
    shown: &[Message],
    faults: &[(f64, String, Across)],
    from_s: f64,
    to_s: f64,
) -> String {
    // Message types by count, most frequent first, each with its colour.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let types: Vec<String> = shown
        .iter()
        .map(|m| {
            let kind = serde_json::from_str::<Typed>(m.body.get())
                .ok()
                .and_then(|t| t.kind.map(|k| k.into_owned()))
                .unwrap_or_else(|| "(no type)".to_owned());
            *counts.entry(kind.clone()).or_default() += 1;
            kind
        })
        .collect();
    let mut ranked: Vec<(&String, &usize)> = counts.iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let colour_of = |kind: &str| {
        ranked
            .iter()
            .position(|(k, _)| *k == kind)
            .and_then(|i| PALETTE.get(i).copied())
            .unwrap_or(OTHER)
    };
    let col_w = (1100.0 / columns.len() as f64).clamp(70.0, 200.0);
    let width = LEFT + col_w * columns.len() as f64 + 40.0;
    let plot_h = (shown.len() as f64 * 3.0).clamp(360.0, 4000.0);
    let mut out = String::with_capacity(shown.len() * 260 + 4096);

    // The legend, wrapped to the width.
    let mut legend = String::new();
    let (mut x, mut y) = (10.0, 8.0);
    let mut entry = |swatch: String, label: String, legend: &mut String| {
        let w = 36.0 + 7.0 * label.chars().count() as f64;
        if x + w > width - 10.0 {
            x = 10.0;
            y += 18.0;
        }
        x += legend_entry(legend, x, y, &swatch, &label);
    };
    for (kind, n) in &ranked {
        let c = colour_of(kind);
        entry(
            format!(r#"<line x1="0" y1="5" x2="24" y2="5" stroke="{c}" stroke-width="2"/>"#),
            format!("{kind} ({n})"),
            &mut legend,
        );
    }
    let dropped = shown.iter().filter(|m| m.dropped.is_some()).count();
    if dropped > 0 {
        entry(
            format!(
                r#"<line x1="0" y1="5" x2="20" y2="5" stroke="{RED}" stroke-dasharray="4 3"/><text x="18" y="9" font-size="11" fill="{RED}">×</text>"#
            ),
            format!("dropped ({dropped}; hover for why)"),
            &mut legend,
        );
    }
    for (kind, words) in [
        (Across::Fault, "fault begins or ends"),
        (Across::Crash, "a node exited unasked"),
        (Across::Failure, "the first failure"),
    ] {
        if faults.iter().any(|f| f.2 == kind) {
            let (stroke, _) = kind.style();
            entry(
                format!(r#"<line x1="0" y1="5" x2="24" y2="5" {stroke}/>"#),
                words.to_owned(),
                &mut legend,
            );
        }
    }
    let top = y + 18.0 + TOP_PAD;
    let height = top + plot_h + 40.0;
    let ty = |t: f64| top + (t - from_s) / (to_s - from_s) * plot_h;
    let cx = |c: usize| LEFT + col_w * (c as f64 + 0.5);

    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="messages" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif"><defs>"#
    );
    for c in PALETTE.iter().chain([&OTHER]) {
        let id = &c[1..];
        let _ = write!(
            out,
            r#"<marker id="msg-{id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="{c}"/></marker>"#
        );
    }
    out.push_str("</defs>");
    out.push_str(&legend);

    // Columns and the time axis.
    for (i, name) in columns.iter().enumerate() {
        let x = cx(i);
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{:.1}" stroke="#999"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-weight="bold">{}</text><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"##,
            top + plot_h,
            top - 8.0,
            escape(name),
            top + plot_h + 18.0,
            escape(name)
        );
    }
    for t in ticks(from_s, to_s, (plot_h / 80.0) as usize) {
        let y = ty(t);
        let _ = write!(
            out,
            r##"<line x1="{:.1}" y1="{y:.1}" x2="{LEFT:.1}" y2="{y:.1}" stroke="#666"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"##,
            LEFT - 5.0,
            LEFT - 8.0,
            y + 4.0,
            seconds(t)
        );
    }

    for (t, what, kind) in faults {
        let y = ty(*t);
        let (stroke, ink) = kind.style();
        let _ = write!(
            out,
            r##"<line x1="{LEFT:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" {stroke}/><text x="{:.1}" y="{:.1}" font-size="11" fill="{ink}">{}</text>"##,
            width - 20.0,
            LEFT + 4.0,
            y - 3.0,
            escape(&format!("{} {what}", seconds(*t)))
        );
    }

    // Arrows, clipped to the plot: a delivery after the window runs off its bottom edge.
    let _ = write!(
        out,
        r#"<clipPath id="messages-plot"><rect x="0" y="{top:.1}" width="{width:.0}" height="{plot_h:.1}"/></clipPath><g clip-path="url(#messages-plot)">"#
    );
    for (m, kind) in shown.iter().zip(&types) {
        let (x1, y1) = (cx(m.from), ty(m.send));
        let title = escape(&format!(
            "{} → {} {kind}, sent {}{}: {}",
            columns[m.from],
            columns[m.to],
            seconds(m.send),
            match (&m.dropped, m.deliver) {
                (Some(why), _) => format!(", dropped ({why})"),
                (None, Some(d)) => format!(", delivered {}", seconds(d)),
                (None, None) => ", never delivered".to_owned(),
            },
            cut(m.body.get(), 300)
        ));
        match (&m.dropped, m.deliver) {
            (None, Some(d)) => {
                let c = colour_of(kind);
                let _ = write!(
                    out,
                    r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{:.1}" y2="{:.1}" stroke="{c}" marker-end="url(#msg-{})"><title>{title}</title></line>"#,
                    cx(m.to),
                    ty(d),
                    &c[1..]
                );
            }
            _ => {
                let x2 = x1 + (cx(m.to) - x1) * 0.4;
                let y2 = y1 + 8.0;
                let _ = write!(
                    out,
                    r#"<g><title>{title}</title><line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{RED}" stroke-dasharray="4 3"/><text x="{x2:.1}" y="{:.1}" font-size="12" fill="{RED}" text-anchor="middle">×</text></g>"#,
                    y2 + 4.0
                );
            }
        }
    }
    out.push_str("</g></svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::faults::FaultSpan;
    use serde_json::json;
    use std::io::Write as _;

    fn net_with(lines: &[serde_json::Value]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut net = std::fs::File::create(dir.path().join("net.jsonl")).unwrap();
        for l in lines {
            writeln!(net, "{l}").unwrap();
        }
        dir
    }

    fn draw_in(dir: &tempfile::TempDir, faults: &Faults, choice: WindowChoice) -> Option<Diagram> {
        let nodes = ["n0".to_owned(), "n1".to_owned()];
        message_diagram(dir.path(), &nodes, faults, None, choice)
    }

    fn sent(i: u64, src: &str, dest: &str, kind: &str) -> serde_json::Value {
        json!({"send": i * 1_000_000, "deliver": i * 1_000_000 + 500_000, "writer": src, "src": src, "dest": dest, "body": {"type": kind, "msg_id": i}})
    }

    #[test]
    fn draws_node_traffic_with_types_drops_faults_and_tooltips_but_not_clients() {
        let mut lines = vec![
            sent(1, "n0", "n1", "gossip"),
            sent(2, "n1", "n0", "gossip_ok"),
            sent(3, "n0", "c4", "read_ok"),
            sent(4, "n1", "lin-kv", "read"),
            json!({"send": 5_000_000, "drop": "partition", "writer": "n0", "src": "n0", "dest": "n1", "body": {"type": "gossip"}}),
            json!({"writer": "n1", "invalid": "not JSON", "excerpt": "hello"}),
        ];
        lines.push(json!({"send": 6_000_000, "deliver": 7_000_000, "src": "n0", "dest": "n1", "body": {"type": "<b>"}}));
        let faults = Faults {
            spans: vec![FaultSpan {
                from_s: 0.0045,
                until_s: 9.0,
                row: None,
                node: None,
                label: "partition n0 | n1".into(),
            }],
            marks: Vec::new(),
            crashes: vec![crate::report::faults::Crash {
                at_s: 0.0055,
                node: Some("n1".into()),
                exit: Some("exited with code 4".into()),
            }],
        };
        let dir = net_with(&lines);
        let failure = FirstFailure {
            at_s: 0.0058,
            from_s: 0.005,
            check: "crashes".into(),
        };
        let nodes = ["n0".to_owned(), "n1".to_owned()];
        let choice = WindowChoice::default();
        let d = message_diagram(dir.path(), &nodes, &faults, Some(&failure), choice)
            .expect("a diagram");
        assert!(d.caption.starts_with("All 5 messages"), "{}", d.caption);
        let svg = &d.svg;
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(">lin-kv<"), "services get a column");
        assert!(
            !svg.contains(">c4<") && !svg.contains("read_ok"),
            "clients are not drawn"
        );
        assert!(svg.contains("gossip (2)") && svg.contains("gossip_ok (1)"));
        assert!(svg.contains("dropped (1; hover for why)"));
        assert!(
            svg.contains("dropped (partition)"),
            "the reason is in the tooltip"
        );
        assert!(
            svg.contains("partition n0 | n1 begins"),
            "the fault is labelled"
        );
        assert!(!svg.contains("n1 ends"), "its end is after the window");
        assert!(
            svg.contains("n1 exited (exited with code 4)") && svg.contains("a node exited unasked"),
            "the crash is a labelled line across, in the key"
        );
        assert!(
            svg.contains("first failure: crashes") && svg.contains("the first failure"),
            "the first failure is a labelled line across, in the key"
        );
        assert!(
            svg.contains("&lt;b&gt;") && !svg.contains("<b>"),
            "types are escaped"
        );
        assert_eq!(svg.matches("<title>").count(), 5);
    }

    #[test]
    fn a_long_run_is_windowed_around_the_focus_or_where_asked() {
        let lines: Vec<_> = (0..4000).map(|i| sent(i, "n0", "n1", "ping")).collect();
        let dir = net_with(&lines);
        let none = Faults::default();
        let start = draw_in(&dir, &none, WindowChoice::default()).unwrap();
        assert!(
            start.caption.contains("Messages 1 to 1500 of 4000"),
            "{}",
            start.caption
        );
        let focused = draw_in(
            &dir,
            &none,
            WindowChoice {
                requested: None,
                focus_s: Some(2.0),
            },
        )
        .unwrap();
        assert!(
            focused.caption.contains("Messages 1626 to 3125 of 4000"),
            "{}",
            focused.caption
        );
        assert!(focused.caption.contains("--from SECONDS --to SECONDS"));
        let asked = draw_in(
            &dir,
            &none,
            WindowChoice {
                requested: Some((1.0, 1.1)),
                focus_s: Some(2.0),
            },
        )
        .unwrap();
        assert!(
            asked.caption.contains("Messages 1001 to 1101 of 4000"),
            "{}",
            asked.caption
        );
        assert_eq!(asked.svg.matches("<title>").count(), 101);
    }

    #[test]
    fn no_traffic_between_nodes_draws_nothing() {
        let dir = net_with(&[sent(1, "n0", "c1", "echo_ok")]);
        assert!(draw_in(&dir, &Faults::default(), WindowChoice::default()).is_none());
    }
}
