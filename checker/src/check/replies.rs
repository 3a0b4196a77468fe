//! Client replies against their schemas (SPEC section 3, the tables of `eddy cases`): every
//! reply a node sent a client must be of a type that answers the request and carry the
//! fields of that type with the right types. A reply that does not is a witness here, and
//! the workload checks that would read it count it as a record they could not judge.

use super::{CheckResult, Record};
use crate::history::event::{operations, Operation};
use crate::schema::Catalogue;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// What is wrong with the reply of `op`, if the node answered and the answer breaks its
/// schema. Replies eddy made up itself (a timeout, a node that was down) carry no
/// `in_reply_to` and are not judged.
pub fn problem(op: &Operation, schemas: &Catalogue) -> Option<String> {
    let reply = op.completion?;
    reply.body.get("in_reply_to")?;
    let kind = reply.body["type"].as_str().unwrap_or_default();
    if !crate::protocol::reply_types(&op.invoke.f)
        .iter()
        .any(|t| t == kind)
    {
        return Some(format!(
            "`{kind}`, which does not answer `{}` (expected `{}_ok` or `error`)",
            op.invoke.f, op.invoke.f
        ));
    }
    schemas.check_body(&reply.body, Some(&op.invoke.body)).err()
}

/// One witness in words for an op whose reply has `problem`.
fn describe(op: &Operation, problem: &str) -> Value {
    let reply = op.completion.expect("a judged reply has a completion");
    let node = op.invoke.node.as_deref().unwrap_or("?");
    json!({
        "node": node, "at_s": reply.time as f64 / 1e9, "index": reply.index, "reply": reply.body,
        "why": format!(
            "{node} answered `{}` at {:.3} s with {problem}: {}",
            op.invoke.f, reply.time as f64 / 1e9, crate::cases::matcher::short(&reply.body)
        ),
    })
}

/// The witnesses a workload check adds for the successful replies to requests of `kinds`
/// that it could not read (it judges the rest): "a check never drops a record in silence".
pub fn unjudged(schemas: &Catalogue, ops: &[Operation], kinds: &[&str]) -> Vec<Value> {
    ops.iter()
        .filter(|op| kinds.contains(&op.invoke.f.as_str()))
        .filter(|op| op.completion.is_some_and(|c| c.body["type"] != "error"))
        .filter_map(|op| {
            let problem = problem(op, schemas)?;
            let mut witness = describe(op, &problem);
            witness["why"] = format!(
                "cannot judge {}",
                witness["why"].as_str().unwrap_or_default()
            )
            .into();
            Some(witness)
        })
        .collect()
}

/// The `reply-schema` check: every client reply of every kind, with counts by kind.
pub fn reply_schema(record: &Record, schemas: &Catalogue) -> CheckResult {
    let ops = operations(&record.history);
    let mut judged: BTreeMap<&str, u64> = BTreeMap::new();
    let mut witnesses = Vec::new();
    for op in &ops {
        if op
            .completion
            .is_some_and(|c| c.body.get("in_reply_to").is_some())
        {
            *judged.entry(op.invoke.f.as_str()).or_insert(0) += 1;
        }
        if let Some(problem) = problem(op, schemas) {
            witnesses.push(describe(op, &problem));
        }
    }
    let total: u64 = judged.values().sum();
    let bad = witnesses.len();
    let figures = json!({"replies": total, "by_f": judged, "bad_replies": bad});
    if total == 0 {
        return CheckResult::new(
            "reply-schema",
            super::Validity::Unknown,
            "not observed: no node answered a client request",
            figures,
        );
    }
    let mut result = CheckResult::from_witnesses(
        "reply-schema",
        witnesses,
        figures,
        format!(
            "{total} client replies of {} kinds fit their schemas",
            judged.len()
        ),
    );
    if let Some(first) = result.witnesses.first() {
        result.summary = format!(
            "{bad} of {total} replies break their schema; first: {}",
            first["why"].as_str().unwrap_or_default()
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Schema, Ty};

    /// A lease grant must say when it expires.
    fn schemas() -> Catalogue {
        const GRANT: &[Schema] = &[Schema::of("acquire_lease_ok", &[("expires_at", Ty::Int)])];
        Catalogue::new([&GRANT])
    }
    use crate::check::traffic::NetSummary;
    use crate::history::{EventType, HistoryEvent, Process};

    fn record(request: Value, reply: Value) -> Record {
        let f = request["type"].as_str().unwrap().to_owned();
        let invoke = HistoryEvent::new(
            Process::Client(1),
            Some("n2".into()),
            EventType::Invoke,
            &f,
            request,
        );
        let mut done = HistoryEvent::new(
            Process::Client(1),
            Some("n2".into()),
            EventType::of_reply(&reply),
            &f,
            reply,
        );
        done.time = 1_204_000_000;
        Record {
            history: vec![invoke, done],
            net: NetSummary::default(),
            nodes: vec!["n1".into(), "n2".into()],
            dir: None,
        }
    }

    #[test]
    fn replies_must_answer_their_request_with_well_typed_fields() {
        let acquire = json!({"type": "acquire_lease", "duration_ms": 100});
        let fine = record(
            acquire.clone(),
            json!({"type": "acquire_lease_ok", "expires_at": 5, "in_reply_to": 1}),
        );
        assert_eq!(
            reply_schema(&fine, &schemas()).valid,
            super::super::Validity::Valid
        );
        let string = record(
            acquire.clone(),
            json!({"type": "acquire_lease_ok", "expires_at": "5", "in_reply_to": 1}),
        );
        let result = reply_schema(&string, &schemas());
        assert_eq!(result.valid, super::super::Validity::Invalid);
        let why = result.witnesses[0]["why"].as_str().unwrap();
        assert!(why.starts_with("n2 answered `acquire_lease` at 1.204 s with `acquire_lease_ok` field `expires_at` must be an integer"), "{why}");
        let ops = operations(&string.history);
        assert!(unjudged(&schemas(), &ops, &["acquire_lease"])[0]["why"]
            .as_str()
            .unwrap()
            .starts_with("cannot judge n2 answered"));
        assert!(unjudged(&schemas(), &ops, &["check_lease"]).is_empty());
        let wrong_type = record(acquire, json!({"type": "write_ok", "in_reply_to": 1}));
        assert!(reply_schema(&wrong_type, &schemas())
            .summary
            .contains("does not answer `acquire_lease`"));
        // eddy's own timeouts are not the node's replies.
        let timeout = record(
            json!({"type": "read"}),
            json!({"type": "error", "code": 0, "text": "eddy: no reply within 5000 ms"}),
        );
        assert_eq!(
            reply_schema(&timeout, &schemas()).valid,
            super::super::Validity::Unknown
        );
    }
}
