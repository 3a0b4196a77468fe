//! The heartbeat timeline (`liveness.svg`; see [`crate::report::timeline`] for the frame):
//! one row per chunk server (and the master's), with when eddy kept the server silent, when
//! the 15 s rule says it was dead, what the master reported of it in each `server_status`
//! (alive or dead, thinned to one per server per pixel column), and the reports the
//! `failure-detection` check found wrong, in red.

use crate::check::{CheckResult, Record};
use crate::history::event::{operations, EventType};
use crate::history::Process;
use crate::report::timeline::{
    record_end_s, timeline, Frame, Mark, CHECK, CONFIRMED, HELD, KILL, SPLIT,
};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Silence after which a server is dead, in seconds (the check's rule).
const DEAD_AFTER_S: f64 = 15.0;

/// Draws the heartbeat timeline of `record` to `path`, with the wrong reports the
/// `failure-detection` check among `checks` found; an error says what failed.
pub fn liveness_timeline(
    record: &Record,
    checks: &[CheckResult],
    path: &Path,
) -> Result<(), String> {
    let end_s = record_end_s(record);
    let ops = operations(&record.history);
    let secs = |ns: u64| ns as f64 / 1e9;
    // Heartbeats sent, per server.
    let mut beats: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for op in ops.iter().filter(|op| op.invoke.f == "heartbeat") {
        if let Some(server) = op.invoke.body["server"].as_str() {
            beats.entry(server).or_default().push(secs(op.invoke.time));
        }
    }
    // Silences eddy imposed: (server, from, until).
    let mut silent: Vec<(&str, f64, f64)> = Vec::new();
    let mut open: BTreeMap<&str, f64> = BTreeMap::new();
    for e in record
        .history
        .iter()
        .filter(|e| e.process == Process::Named("nemesis".into()))
    {
        let Some(node) = e.node.as_deref() else {
            continue;
        };
        match e.f.as_str() {
            "silence" => {
                open.insert(node, secs(e.time));
            }
            "resume" => {
                if let Some(from) = open.remove(node) {
                    silent.push((node, from, secs(e.time)));
                }
            }
            _ => {}
        }
    }
    silent.extend(open.into_iter().map(|(n, from)| (n, from, end_s)));
    // Dead by the rule: from the last heartbeat before a silence plus 15 s to its end.
    let dead: Vec<(&str, f64, f64)> = silent
        .iter()
        .filter_map(|(server, from, until)| {
            let last = beats
                .get(server)?
                .iter()
                .copied()
                .filter(|t| t <= from)
                .reduce(f64::max)?;
            let dies = last + DEAD_AFTER_S;
            (dies < *until).then_some((*server, dies, *until))
        })
        .collect();
    // The master's reports, one per server per pixel column: (server, at, dead).
    let per_px = end_s.max(0.1) / 1200.0;
    let mut reports: BTreeMap<(&str, i64), (f64, bool)> = BTreeMap::new();
    for op in ops
        .iter()
        .filter(|op| op.invoke.f == "server_status" && op.outcome() == EventType::Ok)
    {
        let done = op.completion.expect("ok has a completion");
        let t = secs(done.time);
        for entry in done.body["servers"].as_array().into_iter().flatten() {
            if let Some(server) = entry["server"].as_str() {
                reports.insert(
                    (server, (t / per_px) as i64),
                    (t, entry["status"] == "dead"),
                );
            }
        }
    }
    let wrong: Vec<(String, f64, String)> = checks
        .iter()
        .filter(|c| c.name == "failure-detection")
        .flat_map(|c| &c.witnesses)
        .filter_map(|w| {
            Some((
                w["server"].as_str()?.to_owned(),
                w["at_s"].as_f64()?,
                w["reported"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let title = if wrong.is_empty() {
        format!(
            "failure detection: {} server(s), every alive/dead report right",
            beats.len()
        )
    } else {
        format!(
            "failure detection: {} wrong alive/dead report(s), in red",
            wrong.len()
        )
    };
    // One row per chunk server: the master (a node of the run that sends no heartbeat)
    // has nothing to draw on a row of its own.
    let mut rows: Vec<String> = record
        .nodes
        .iter()
        .filter(|n| beats.contains_key(n.as_str()))
        .cloned()
        .collect();
    for server in beats.keys() {
        if !rows.iter().any(|r| r == server) {
            rows.push((*server).to_owned());
        }
    }
    let mut frame = Frame::nodes(record, title, end_s)
        .key("heartbeat sent", HELD, Mark::Tick)
        .key("kept silent by eddy", KILL, Mark::Shade)
        .key("dead by the 15 s rule", CHECK, Mark::Line)
        .key("master reports alive", CONFIRMED, Mark::Tick)
        .key("master reports dead", CHECK, Mark::Tick);
    frame.rows = rows;
    if !wrong.is_empty() {
        frame = frame.key("wrong report (failure-detection)", SPLIT, Mark::Dot);
    }
    timeline(record, path, frame, |chart, rows| {
        chart.draw_series(silent.iter().filter_map(|(server, from, until)| {
            let r = rows.of(server)?;
            Some(Rectangle::new(
                [(*from, r - 0.35), (*until, r + 0.35)],
                KILL.mix(0.35).filled(),
            ))
        }))?;
        chart.draw_series(dead.iter().filter_map(|(server, from, until)| {
            let r = rows.of(server)?;
            Some(Rectangle::new(
                [(*from, r - 0.04), (*until, r + 0.04)],
                CHECK.filled(),
            ))
        }))?;
        chart.draw_series(beats.iter().flat_map(|(server, sent)| {
            let r = rows.of(server);
            sent.iter().filter_map(move |t| {
                let r = r?;
                Some(PathElement::new(
                    vec![(*t, r + 0.05), (*t, r + 0.3)],
                    HELD.stroke_width(2),
                ))
            })
        }))?;
        chart.draw_series(reports.iter().filter_map(|((server, _), (t, dead))| {
            let r = rows.of(server)?;
            let c = if *dead { CHECK } else { CONFIRMED };
            Some(PathElement::new(
                vec![(*t, r - 0.3), (*t, r - 0.08)],
                c.stroke_width(1),
            ))
        }))?;
        chart.draw_series(wrong.iter().filter_map(|(server, t, _)| {
            Some(Circle::new(
                (*t, rows.of(server)? - 0.19),
                5,
                SPLIT.filled(),
            ))
        }))?;
        Ok(())
    })
}
