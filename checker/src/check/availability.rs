//! The availability floor (Jepsen's stats rule, SPEC section 6): every kind of client
//! operation the workload issued must be served at least once (succeed, or be decided on
//! its merits: a read of an absent key, a cas whose precondition failed), and so must every kind issued
//! in the final phase, after every fault healed; a run where the cluster never did its job
//! is not valid, whatever the other checks say. A reply that breaks its schema is no
//! success. On top, `--availability FRACTION` (in
//! Maelstrom's spirit) asks that a share of all operations succeed.

use super::{CheckResult, Record, Validity};
use crate::history::event::{operations, EventType, Operation};
use serde_json::json;
use std::collections::BTreeMap;

/// How the text eddy completes a request with ends when the node stopped (killed, or exited
/// by itself) while the request was in flight.
pub const IN_FLIGHT: &str = "while this request was in flight";

/// How an operation that did not succeed ended, in words: the error's code and name, or
/// what eddy saw (no reply, the node down, the node stopped with the request in flight, the
/// run over).
fn how_it_ended(op: &Operation) -> String {
    let Some(done) = op.completion else {
        return "no reply before the run ended".into();
    };
    let body = &done.body;
    let eddy_said = body.get("in_reply_to").is_none()
        && body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("eddy: "));
    match body["code"].as_u64() {
        Some(0)
            if eddy_said
                && body["text"]
                    .as_str()
                    .is_some_and(|t| t.ends_with(IN_FLIGHT)) =>
        {
            "node stopped mid-request".into()
        }
        Some(0) if eddy_said => "no reply (timeout)".into(),
        Some(1) if eddy_said => "node down".into(),
        Some(code) => {
            let name = crate::protocol::ERROR_CODES
                .iter()
                .find(|(c, _, _)| *c == code)
                .map_or("the node's own", |(_, name, _)| name);
            format!("error {code} {name}")
        }
        None => format!(
            "`{}`",
            body["type"].as_str().unwrap_or("a reply without a type")
        ),
    }
}

/// True when a definite error answers an operation on the data's merits, so the cluster
/// served it: a read of a key that does not exist (20), a cas whose key is absent (20) or
/// holds another value (22). A node that answers everything with these still fails the
/// floor, on its writes.
fn decided_on_merits(f: &str, reply: &serde_json::Value) -> bool {
    let code = reply["code"].as_u64();
    match f {
        "read" | "lease_read" => code == Some(20),
        "cas" => matches!(code, Some(20 | 22)),
        _ => false,
    }
}

/// True when a request of type `f` that completed as `kind` with `reply` was served: it
/// succeeded, or was decided on its merits (see [`decided_on_merits`]).
pub fn served(f: &str, kind: EventType, reply: &serde_json::Value) -> bool {
    match kind {
        EventType::Ok => true,
        EventType::Fail => decided_on_merits(f, reply),
        _ => false,
    }
}

/// Requests of one kind: how many, how many were served, and how the others ended.
#[derive(Default)]
struct Tally {
    requests: u64,
    /// Succeeded, or were decided on their merits (see [`decided_on_merits`]).
    ok: u64,
    others: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts `op`: a success only when its reply fits its schema (an ill-formed reply
    /// did not do the job, whatever its type says).
    fn add(&mut self, op: &Operation, schemas: &crate::schema::Catalogue) {
        self.requests += 1;
        let ill_formed = super::replies::problem(op, schemas).is_some();
        let served = op
            .completion
            .is_some_and(|done| served(&op.invoke.f, done.kind, &done.body));
        if served && !ill_formed {
            self.ok += 1;
        } else if ill_formed {
            let kind = op
                .completion
                .map_or("", |c| c.body["type"].as_str().unwrap_or(""));
            *self
                .others
                .entry(format!("ill-formed `{kind}`"))
                .or_insert(0) += 1;
        } else {
            *self.others.entry(how_it_ended(op)).or_insert(0) += 1;
        }
    }

    fn endings(&self) -> String {
        let mut endings: Vec<(&String, &u64)> = self.others.iter().collect();
        endings.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        endings
            .iter()
            .map(|(how, n)| format!("{how} ({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn tallies<'a>(
    ops: impl Iterator<Item = &'a Operation<'a>>,
    schemas: &crate::schema::Catalogue,
) -> BTreeMap<&'a str, Tally> {
    let mut by_kind: BTreeMap<&str, Tally> = BTreeMap::new();
    for op in ops {
        by_kind
            .entry(op.invoke.f.as_str())
            .or_default()
            .add(op, schemas);
    }
    by_kind
}

/// The `availability` check; `min_share` is the share of all operations that must
/// succeed (0 asks only for the floor).
pub fn availability(
    record: &Record,
    min_share: f64,
    schemas: &crate::schema::Catalogue,
) -> CheckResult {
    let ops = operations(&record.history);
    let all = tallies(ops.iter(), schemas);
    let finals = tallies(ops.iter().filter(|op| op.invoke.phase.is_some()), schemas);
    let mut witnesses = Vec::new();
    for (kind, tally) in &all {
        if tally.ok == 0 {
            witnesses.push(json!({"f": kind, "why": format!(
                "no `{kind}` was served: {} request{}; {}",
                tally.requests, super::plural(tally.requests as usize), tally.endings()
            )}));
        }
    }
    for (kind, tally) in &finals {
        if tally.ok == 0 && all[kind].ok > 0 {
            witnesses.push(json!({"f": kind, "phase": "final", "why": format!(
                "after every fault healed, no final-phase `{kind}` was served: {} request{}; {}",
                tally.requests, super::plural(tally.requests as usize), tally.endings()
            )}));
        }
    }
    let total = ops.len() as u64;
    let ok = ops
        .iter()
        .filter(|op| op.outcome() == EventType::Ok)
        .count() as u64;
    let share = if total == 0 {
        0.0
    } else {
        ok as f64 / total as f64
    };
    if total > 0 && share < min_share {
        witnesses.push(json!({"why": format!(
            "only {:.1}% of {total} operations succeeded; --availability asks for {:.1}%",
            share * 100.0, min_share * 100.0
        )}));
    }
    let counts = |t: &BTreeMap<&str, Tally>| -> serde_json::Value {
        t.iter()
            .map(|(k, t)| ((*k).to_owned(), json!({"requests": t.requests, "ok": t.ok})))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let figures = json!({
        "operations": total, "ok": ok, "share_ok": (share * 1000.0).round() / 1000.0,
        "min_share": min_share, "by_f": counts(&all), "final_by_f": counts(&finals),
    });
    if total == 0 {
        return CheckResult::new(
            "availability",
            Validity::Unknown,
            "not observed: no client operation was issued",
            figures,
        );
    }
    let per_kind: Vec<String> = all
        .iter()
        .map(|(k, t)| format!("{k} {}/{}", t.ok, t.requests))
        .collect();
    let final_ok: u64 = finals.values().map(|t| t.ok).sum();
    let final_total: u64 = finals.values().map(|t| t.requests).sum();
    let finals_text = if final_total > 0 {
        format!("; final phase {final_ok}/{final_total}")
    } else {
        String::new()
    };
    CheckResult::from_witnesses(
        "availability",
        witnesses,
        figures,
        format!(
            "every kind of operation was served: {} served{finals_text}",
            per_kind.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Catalogue, Schema, Ty};

    /// A register's read reply must hold its value.
    fn schemas() -> Catalogue {
        const READ: &[Schema] = &[Schema::of("read_ok", &[("value", Ty::Any)])];
        Catalogue::new([&READ])
    }
    use crate::check::traffic::NetSummary;
    use crate::history::{HistoryEvent, Process};
    use serde_json::{json, Value};

    /// A record of `(f, reply, final phase)` operations, one client each after the other.
    fn record(ops: &[(&str, Value, bool)]) -> Record {
        let mut history = Vec::new();
        for (i, (f, reply, last)) in ops.iter().enumerate() {
            let mut invoke = HistoryEvent::new(
                Process::Client(1),
                Some("n1".into()),
                EventType::Invoke,
                f,
                json!({"type": f, "key": 1, "value": 2}),
            );
            let mut done = HistoryEvent::new(
                Process::Client(1),
                Some("n1".into()),
                EventType::of_reply(reply),
                f,
                reply.clone(),
            );
            invoke.phase = last.then(|| "final".to_owned());
            done.phase = invoke.phase.clone();
            (invoke.time, done.time) = (i as u64 * 10, i as u64 * 10 + 5);
            history.extend([invoke, done]);
        }
        Record {
            history,
            net: NetSummary::default(),
            nodes: vec!["n1".into()],
            dir: None,
        }
    }

    fn refused() -> Value {
        json!({"type": "error", "code": 11, "in_reply_to": 1})
    }

    #[test]
    fn every_kind_must_succeed_once_and_in_the_final_phase() {
        let ok = json!({"type": "write_ok", "in_reply_to": 1});
        let read = json!({"type": "read_ok", "value": 2, "in_reply_to": 1});
        let good = record(&[("write", ok.clone(), false), ("read", read.clone(), true)]);
        let result = availability(&good, 0.0, &schemas());
        assert_eq!(result.valid, Validity::Valid, "{}", result.summary);
        assert!(result.summary.contains("read 1/1"), "{}", result.summary);

        let refusing = record(&[("write", refused(), false), ("read", read.clone(), false)]);
        let result = availability(&refusing, 0.0, &schemas());
        assert_eq!(result.valid, Validity::Invalid);
        assert_eq!(
            result.witnesses[0]["why"],
            "no `write` was served: 1 request; error 11 temporarily-unavailable (1)"
        );

        let stuck = record(&[("read", read.clone(), false), ("read", refused(), true)]);
        let result = availability(&stuck, 0.0, &schemas());
        assert_eq!(result.valid, Validity::Invalid);
        assert!(
            result.summary.contains("no final-phase `read`"),
            "{}",
            result.summary
        );

        // A cas refused on its merits was served; one refused for want of a leader was not.
        let mismatch = json!({"type": "error", "code": 22, "in_reply_to": 1});
        let decided = record(&[("cas", mismatch, false)]);
        assert_eq!(
            availability(&decided, 0.0, &schemas()).valid,
            Validity::Valid
        );
        let unavailable = record(&[("cas", refused(), false)]);
        assert_eq!(
            availability(&unavailable, 0.0, &schemas()).valid,
            Validity::Invalid
        );

        let ill_formed = record(&[("read", json!({"type": "read_ok", "in_reply_to": 1}), false)]);
        let result = availability(&ill_formed, 0.0, &schemas());
        assert!(
            result.summary.contains("ill-formed `read_ok`"),
            "{}",
            result.summary
        );

        let half = record(&[("write", ok, false), ("write", refused(), false)]);
        assert_eq!(availability(&half, 0.5, &schemas()).valid, Validity::Valid);
        let result = availability(&half, 0.75, &schemas());
        assert!(
            result.summary.contains("asks for 75.0%"),
            "{}",
            result.summary
        );

        let nothing = record(&[]);
        assert_eq!(
            availability(&nothing, 0.0, &schemas()).valid,
            Validity::Unknown
        );
    }

    #[test]
    fn eddy_s_own_endings_are_told_apart() {
        let eddy = |text: &str| json!({"type": "error", "code": 0, "text": text});
        let stopped = format!("eddy: n1 exited with code 4 {IN_FLIGHT}");
        let record = record(&[
            ("write", eddy(&stopped), false),
            ("write", eddy("eddy: no reply within 5000 ms"), false),
            ("write", eddy(&stopped), false),
        ]);
        assert_eq!(
            availability(&record, 0.0, &schemas()).witnesses[0]["why"],
            "no `write` was served: 3 requests; node stopped mid-request (2), no reply (timeout) (1)"
        );
    }
}
