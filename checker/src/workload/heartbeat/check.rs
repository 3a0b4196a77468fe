//! The heartbeat workload's checks (SPEC 3.4): is every server declared dead exactly when
//! it should be, are chunk counts and ages consistent with what eddy sent, are
//! re-replication orders complete and well aimed, and is no needed replica deleted.
//!
//! The master saw a heartbeat at some moment between eddy sending it and eddy receiving
//! the answer, and built a `server_status` between that query's send and answer; every
//! judgement below allows for that, plus `--tolerance-ms`, and flags only what no such
//! timing can explain.

use crate::check::{CheckResult, Record};
use crate::history::event::{operations, EventType};
use crate::workload::Spec;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// Silence after which a server is dead, in ms.
const DEAD_AFTER_MS: f64 = 15_000.0;
/// Time between heartbeats, in ms.
const INTERVAL_MS: f64 = 5_000.0;
/// Replicas every chunk should have.
const TARGET: usize = 3;

/// One heartbeat as eddy sent it: times in ms since the run started.
#[derive(Debug, Clone)]
struct Beat {
    sent: f64,
    answered: Option<f64>,
    chunks: BTreeSet<String>,
    reply: Option<Value>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Heartbeats by server, in the order sent.
fn beats(record: &Record) -> BTreeMap<String, Vec<Beat>> {
    let mut by_server: BTreeMap<String, Vec<Beat>> = BTreeMap::new();
    for op in operations(&record.history)
        .iter()
        .filter(|op| op.invoke.f == "heartbeat")
    {
        let Some(server) = op.invoke.body["server"].as_str() else {
            continue;
        };
        let chunks = op.invoke.body["chunks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        let ok = op.outcome() == EventType::Ok;
        by_server.entry(server.to_owned()).or_default().push(Beat {
            sent: ms(op.invoke.time),
            answered: op.completion.map(|c| ms(c.time)),
            chunks,
            reply: op.completion.filter(|_| ok).map(|c| c.body.clone()),
        });
    }
    by_server
}

/// What can be said about one server at moment `t` (ms) as the master sees it.
struct View<'a> {
    /// The heartbeats the master may have seen last (the last surely seen, and any later).
    candidates: Vec<&'a Beat>,
    /// The least silence possible at `t` (a later heartbeat seen as late as possible).
    age_min: f64,
    /// The most silence possible at `t`; None when no heartbeat was surely seen.
    age_max: Option<f64>,
}

fn view(beats: &[Beat], from: f64, to: f64) -> View<'_> {
    let sure = beats
        .iter()
        .filter(|b| b.answered.is_some_and(|a| a <= from))
        .max_by(|a, b| a.sent.total_cmp(&b.sent));
    let candidates: Vec<&Beat> = beats
        .iter()
        .filter(|b| b.sent < to && sure.is_none_or(|s| b.sent >= s.sent))
        .collect();
    let latest = candidates
        .iter()
        .map(|b| b.answered.unwrap_or(to).min(to))
        .fold(f64::NEG_INFINITY, f64::max);
    View {
        candidates,
        age_min: (from - latest).max(0.0),
        age_max: sure.map(|s| to - s.sent),
    }
}

/// Every heartbeat check.
pub fn checks(tolerance_ms: f64, record: &Record) -> Vec<CheckResult> {
    let beats = beats(record);
    let ops = operations(&record.history);
    let unjudged =
        |kind: &str| crate::check::replies::unjudged(&super::Heartbeat.catalogue(), &ops, &[kind]);
    vec![
        detection(&beats, record, tolerance_ms).and_unjudged(unjudged("server_status")),
        orders(&beats, record, tolerance_ms).and_unjudged(unjudged("heartbeat")),
    ]
}

/// Deaths and recoveries, chunk counts and ages in every `server_status` answer.
fn detection(beats: &BTreeMap<String, Vec<Beat>>, record: &Record, tol: f64) -> CheckResult {
    let mut witnesses = Vec::new();
    let mut statuses = 0;
    for op in operations(&record.history)
        .iter()
        .filter(|op| op.invoke.f == "server_status" && op.outcome() == EventType::Ok)
    {
        let (from, to) = (
            ms(op.invoke.time),
            ms(op.completion.expect("ok has a completion").time),
        );
        statuses += 1;
        let listed: BTreeMap<&str, &Value> = op.completion.expect("ok").body["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| Some((e["server"].as_str()?, e)))
            .collect();
        let at = format!("server_status at {:.3} s", to / 1000.0);
        for (server, server_beats) in beats {
            let v = view(server_beats, from, to);
            let Some(entry) = listed.get(server.as_str()) else {
                if v.age_max.is_some() {
                    witnesses.push(json!({"why": format!("{at} does not list {server}, which had heartbeated")}));
                }
                continue;
            };
            let dead = entry["status"] == "dead";
            let chunks = entry["chunks"].as_u64().unwrap_or(u64::MAX) as usize;
            if dead && v.age_max.is_some_and(|a| a < DEAD_AFTER_MS - tol) {
                witnesses.push(json!({"server": server, "at_s": to / 1000.0, "reported": "dead", "why": format!("{at} reports {server} dead after at most {:.1} s of silence (dead means 15 s)", v.age_max.unwrap_or(0.0) / 1000.0)}));
            }
            // A master the machine kept from running could not notice a death: the time it
            // (or eddy) waited for a core within the silence is added to the deadline.
            let stalled = || {
                crate::check::lag::stalled_within(record, (to - v.age_min) / 1000.0, to / 1000.0)
                    * 1000.0
            };
            if !dead
                && v.age_min > DEAD_AFTER_MS + tol
                && v.age_min > DEAD_AFTER_MS + tol + stalled()
            {
                witnesses.push(json!({"server": server, "at_s": to / 1000.0, "reported": "alive", "why": format!("{at} reports {server} alive after at least {:.1} s of silence (dead means 15 s)", v.age_min / 1000.0)}));
            }
            if dead && chunks != 0 {
                witnesses.push(json!({"server": server, "why": format!("{at} reports dead {server} with {chunks} chunks: a dead server's replicas stop counting")}));
            }
            if !dead && !v.candidates.iter().any(|b| b.chunks.len() == chunks) {
                let sent: BTreeSet<usize> = v.candidates.iter().map(|b| b.chunks.len()).collect();
                witnesses.push(json!({"server": server, "why": format!("{at} reports {server} with {chunks} chunks, but its heartbeats listed {sent:?}")}));
            }
            if let Some(ago) = entry["last_heartbeat_ms_ago"].as_f64() {
                if ago < v.age_min - tol || v.age_max.is_some_and(|a| ago > a + tol) {
                    witnesses.push(json!({"server": server, "why": format!("{at} reports {server}'s last heartbeat {ago} ms ago; eddy's records allow {:.0} to {}", v.age_min, v.age_max.map_or("any".into(), |a| format!("{a:.0}")))}));
                }
            }
        }
        for name in listed.keys().filter(|n| !beats.contains_key(**n)) {
            witnesses.push(json!({"why": format!("{at} lists {name}, which never heartbeated")}));
        }
    }
    let figures = json!({"statuses": statuses, "servers": beats.len()});
    if statuses == 0 {
        return CheckResult::not_observed(
            "failure-detection",
            "no server_status was answered with server_status_ok, so no verdict on any server could be compared",
            figures,
        );
    }
    CheckResult::from_witnesses(
        "failure-detection",
        witnesses,
        figures,
        format!("{statuses} server_status answers agree with the heartbeats eddy sent"),
    )
}

/// Replication and deletion orders in every `heartbeat_ok`: aimed at non-holders, only for
/// chunks below target, complete after every death, and never deleting a needed replica.
fn orders(beats: &BTreeMap<String, Vec<Beat>>, record: &Record, tol: f64) -> CheckResult {
    let mut witnesses = Vec::new();
    let end = record.history.last().map_or(0.0, |e| ms(e.time));
    // How many servers surely / possibly hold `chunk` and are alive while the master
    // decides, between `from` and `to` (a heartbeat's send and answer).
    let holders = |chunk: &str, from: f64, to: f64, surely: bool| -> usize {
        beats
            .values()
            .filter(|b| {
                let v = view(b, from, to);
                let alive = if surely {
                    v.age_max.is_some_and(|a| a < DEAD_AFTER_MS - tol)
                } else {
                    v.age_min < DEAD_AFTER_MS + tol
                };
                alive
                    && if surely {
                        v.candidates.iter().all(|c| c.chunks.contains(chunk))
                    } else {
                        v.candidates.iter().any(|c| c.chunks.contains(chunk))
                    }
            })
            .count()
    };
    let live = |from: f64, to: f64| {
        beats
            .values()
            .filter(|b| view(b, from, to).age_min < DEAD_AFTER_MS + tol)
            .count()
    };
    let mut ordered: Vec<(String, String, f64, f64)> = Vec::new();
    let mut deletions: Vec<(String, String, f64)> = Vec::new();
    for (server, server_beats) in beats {
        for beat in server_beats {
            let Some(reply) = &beat.reply else { continue };
            let list = |name: &str| -> Vec<String> {
                reply[name]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect()
            };
            let (at, until) = (beat.sent, beat.answered.unwrap_or(beat.sent));
            for chunk in list("chunks_to_replicate") {
                let surely = holders(&chunk, at, until, true);
                if beat.chunks.contains(&chunk) {
                    witnesses.push(json!({"why": format!("{server} was told at {:.3} s to copy {chunk}, which its heartbeat listed", at / 1000.0)}));
                } else if surely >= TARGET {
                    witnesses.push(json!({"why": format!("{server} was told at {:.3} s to copy {chunk}, which already had {surely} live replicas", at / 1000.0)}));
                }
                ordered.push((chunk, server.clone(), at, beat.answered.unwrap_or(at)));
            }
            for chunk in list("chunks_to_delete") {
                let pending = deletions
                    .iter()
                    .filter(|(c, s, when)| {
                        *c == chunk
                            && s != server
                            && *when < at
                            && pending_delete(beats, s, *when, at)
                    })
                    .count();
                let left = holders(&chunk, at, until, false).saturating_sub(pending + 1);
                let target = TARGET.min(live(at, until));
                if left < target {
                    witnesses.push(json!({"why": format!("{server} was told at {:.3} s to delete {chunk}, leaving at most {left} live replicas (target {target})", at / 1000.0)}));
                }
                deletions.push((chunk, server.clone(), at));
            }
        }
    }
    // Completeness: a chunk that is short (even counting every holder the master may still
    // believe alive, it is below target), has a surely live non-holder, and is still short a
    // heartbeat round later, must have been ordered somewhere around that round.
    let round = INTERVAL_MS + tol;
    let surely_live = |t: f64| {
        beats
            .values()
            .filter(|b| {
                view(b, t, t)
                    .age_max
                    .is_some_and(|a| a < DEAD_AFTER_MS - tol)
            })
            .count()
    };
    let short = |chunk: &str, t: f64| -> bool {
        let may_hold = holders(chunk, t, t, false);
        let can_copy = beats.values().any(|b| {
            let v = view(b, t, t);
            v.age_max.is_some_and(|a| a < DEAD_AFTER_MS - tol)
                && !v.candidates.iter().any(|c| c.chunks.contains(chunk))
        });
        may_hold >= 1 && may_hold < TARGET.min(surely_live(t)) && can_copy
    };
    let chunks: BTreeSet<&String> = beats
        .values()
        .flatten()
        .flat_map(|b| b.chunks.iter())
        .collect();
    let mut moments: Vec<f64> = beats
        .values()
        .flatten()
        .map(|b| b.sent)
        .filter(|t| t + round <= end)
        .collect();
    moments.sort_by(f64::total_cmp);
    let mut reported: BTreeSet<&String> = BTreeSet::new();
    for &t in &moments {
        for &chunk in &chunks {
            if reported.contains(chunk) || !short(chunk, t) || !short(chunk, t + round) {
                continue;
            }
            if !ordered
                .iter()
                .any(|(c, _, at, _)| c == chunk && *at >= t - round && *at <= t + round)
            {
                let live_holders = holders(chunk, t, t, false);
                witnesses.push(json!({"why": format!("{chunk} had at most {live_holders} live replicas from {:.3} s to {:.3} s, but no server was told to copy it", t / 1000.0, (t + round) / 1000.0)}));
                reported.insert(chunk);
            }
        }
    }
    let answered = beats
        .values()
        .flatten()
        .filter(|b| b.reply.is_some())
        .count();
    let figures = json!({"replication_orders": ordered.len(), "deletion_orders": deletions.len(), "heartbeat_answers": answered});
    if answered == 0 {
        return CheckResult::not_observed(
            "replication",
            "no heartbeat was answered with heartbeat_ok, so no order could be judged",
            figures,
        );
    }
    let summary = format!(
        "{} replication and {} deletion orders in {answered} heartbeat answers, all complete and well aimed",
        ordered.len(),
        deletions.len()
    );
    CheckResult::from_witnesses("replication", witnesses, figures, summary)
}

/// True when `server`'s deletion order given at `when` may still be pending at `at`: the
/// server has not heartbeated since.
fn pending_delete(beats: &BTreeMap<String, Vec<Beat>>, server: &str, when: f64, at: f64) -> bool {
    !beats
        .get(server)
        .into_iter()
        .flatten()
        .any(|b| b.sent > when && b.sent < at)
}
