//! The `echo` check: every `echo_ok` carries back exactly the payload its request sent.

use crate::check::{CheckResult, Record};
use crate::history::event::{operations, EventType};
use crate::workload::Spec;
use serde_json::json;

/// Every answered echo came back unchanged; unknown when no echo was answered at all.
pub fn echoes(record: &Record) -> CheckResult {
    let ops = operations(&record.history);
    let echoes: Vec<_> = ops.iter().filter(|op| op.invoke.f == "echo").collect();
    let mut answered = 0;
    let mut witnesses = Vec::new();
    for op in &echoes {
        let Some(done) = op.completion.filter(|c| c.kind == EventType::Ok) else {
            continue;
        };
        if done.body["type"] != "echo_ok" {
            continue;
        }
        answered += 1;
        let sent = &op.invoke.body["echo"];
        let back = done.body.get("echo");
        if back != Some(sent) {
            let node = op.invoke.node.as_deref().unwrap_or("?");
            let back = back.map_or_else(|| "no `echo` field".to_owned(), |b| b.to_string());
            witnesses.push(json!({
                "node": node, "index": done.index, "at_s": done.time as f64 / 1e9,
                "why": format!(
                    "{node} answered the echo of {sent} at {:.3} s with {back}",
                    done.time as f64 / 1e9
                ),
            }));
        }
    }
    let figures = json!({"echoes": echoes.len(), "answered": answered, "wrong": witnesses.len()});
    if answered == 0 {
        return CheckResult::not_observed(
            "echo",
            &format!("no echo was answered ({} sent)", echoes.len()),
            figures,
        );
    }
    let ops_for_schema = crate::check::replies::unjudged(&super::Echo.catalogue(), &ops, &["echo"]);
    CheckResult::from_witnesses(
        "echo",
        witnesses,
        figures,
        format!("all {answered} answered echoes came back unchanged"),
    )
    .and_unjudged(ops_for_schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::traffic::NetSummary;
    use crate::check::Validity;
    use crate::history::{HistoryEvent, Process};
    use serde_json::Value;

    fn record(pairs: &[(Value, Value)]) -> Record {
        let client = || Process::Client(1);
        let history = pairs
            .iter()
            .enumerate()
            .flat_map(|(i, (sent, back))| {
                let at = 2 * i as u64;
                let request = json!({"type": "echo", "echo": sent, "msg_id": i});
                let reply = json!({"type": "echo_ok", "echo": back, "in_reply_to": i});
                [
                    HistoryEvent::at_ms(at, client(), "n1", EventType::Invoke, "echo", request),
                    HistoryEvent::at_ms(at + 1, client(), "n1", EventType::Ok, "echo", reply),
                ]
            })
            .collect();
        Record {
            history,
            net: NetSummary::default(),
            nodes: vec!["n1".into()],
            dir: None,
        }
    }

    #[test]
    fn a_changed_payload_is_a_witness_and_the_same_one_passes() {
        let fine = record(&[(json!("Please echo 1"), json!("Please echo 1"))]);
        assert_eq!(echoes(&fine).valid, Validity::Valid);
        let wrong = record(&[
            (json!("Please echo 1"), json!("Please echo 1")),
            (json!("Please echo 2"), json!("Please echo 3")),
        ]);
        let result = echoes(&wrong);
        assert_eq!(result.valid, Validity::Invalid);
        assert_eq!(
            result.witnesses[0]["why"],
            "n1 answered the echo of \"Please echo 2\" at 0.003 s with \"Please echo 3\""
        );
        assert_eq!(echoes(&record(&[])).valid, Validity::Unknown);
    }
}
